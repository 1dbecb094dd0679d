/*
 * loop_sync.c - one reconcile of one HPA against kube-apiserver, as
 * horizontal.go's reconcileAutoscaler does it around the pure decision:
 * GET the Scale, list the pods of its selector, read their usage from the
 * store snapshot, hpa_decide(), PUT the scale (re-GET on 409), PUT the
 * status when it changed (re-GET on 409), write the Events.
 */
#include "hpa/loop_int.h"
#include "kube/kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERRLEN 512

/* The inputs fetched for one pass (owned). */
struct fetched {
	char *scale_path;
	json_t *scale;
	json_t *pods;
	json_t *pod_metrics;
	json_t *others;
	char get_error[ERRLEN]; /* "" = the Scale was got */
};

/* A path segment we may paste into a URL: a DNS name, a kind, a version. */
static bool segment_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_'))
			return false;
	}
	return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* Percent-encodes everything but RFC 3986 unreserved characters. */
static char *query_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = xmalloc(3 * n + 1), *p = out;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return out;
}

/* client-go's error text for a failed request: the Status message, else its generic one. */
static void api_error(int rc, int status, const json_t *body, const char *transport, char *err,
		      size_t errlen)
{
	const char *msg = hpa_jstr(body, "message");

	if (rc != 0)
		snprintf(err, errlen, "%s", transport);
	else if (msg && *msg)
		snprintf(err, errlen, "%s", msg);
	else
		snprintf(err, errlen, "the server responded with the status code %d but did not "
				      "return more information", status);
}

/* One request; 0 with *out (new reference) on a 2xx, else the status
 * (or -1 for no response) with err set. */
static int call(const struct hpa_sync_ctx *x, const char *method, const char *path, json_t *body,
		json_t **out, char *err, size_t errlen)
{
	char why[ERRLEN] = "";
	json_t *resp = NULL;
	int status = 0;
	int rc = kube_request(x->client, method, path, body, &status, &resp, why, sizeof(why));

	*out = NULL;
	if (rc == 0 && status >= 200 && status < 300 && json_is_object(resp)) {
		*out = resp;
		return 0;
	}
	api_error(rc, status, resp, why, err, errlen);
	json_decref(resp);
	return rc != 0 ? -1 : (status ? status : -1);
}

/* /apis/<group>/<version>/namespaces/<ns>/<resource>/<name>/scale, or NULL. */
static char *scale_path(const json_t *hpa, const char *ns)
{
	const char *av = hpa_jstr(hpa, "spec.scaleTargetRef.apiVersion");
	const char *kind = hpa_jstr(hpa, "spec.scaleTargetRef.kind");
	const char *name = hpa_jstr(hpa, "spec.scaleTargetRef.name");
	const char *slash = av ? strchr(av, '/') : NULL;
	char *gr, *dot, *path;

	if (!av || !segment_ok(kind) || !segment_ok(name) || !segment_ok(slash ? slash + 1 : av) ||
	    (slash && (slash == av || strchr(slash + 1, '/'))))
		return NULL;
	if (slash) {
		char *group = xstrndup(av, (size_t)(slash - av));
		bool ok = segment_ok(group);

		free(group);
		if (!ok)
			return NULL;
	}
	gr = hpa_group_resource(av, kind);
	dot = strchr(gr, '.');
	if (dot)
		*dot = '\0';
	path = xasprintf("%s%s/namespaces/%s/%s/%s/scale", slash ? "/apis/" : "/api/", av, ns, gr,
			 name);
	free(gr);
	return path;
}

static int list_pods(const struct hpa_sync_ctx *x, const char *ns, const char *selector,
		     json_t **pods, char *err, size_t errlen)
{
	char *q = query_escape(selector);
	char *path = xasprintf("/api/v1/namespaces/%s/pods?labelSelector=%s", ns, q);
	json_t *list = NULL;
	const json_t *items;
	int rc = call(x, "GET", path, NULL, &list, err, errlen);

	free(q);
	free(path);
	*pods = NULL;
	if (rc != 0)
		return ERR_IO;
	items = json_object_get(list, "items");
	if (json_array_size(items) > HPA_LOOP_MAX_PODS) {
		snprintf(err, errlen, "more than %d pods match the selector", HPA_LOOP_MAX_PODS);
		json_decref(list);
		return ERR_TOOBIG;
	}
	*pods = json_is_array(items) ? json_incref((json_t *)items) : json_array();
	json_decref(list);
	return 0;
}

/* Scale, pods, their metrics and the other HPAs' selectors; ERR_IO when
 * the pods cannot be listed (the pass is skipped, nothing is decided). */
static int fetch(const struct hpa_sync_ctx *x, const json_t *hpa, const char *ns,
		 const char *name, struct hpa_state *st, struct fetched *f)
{
	const char *sel;
	char err[ERRLEN];

	f->scale_path = scale_path(hpa, ns);
	if (!f->scale_path)
		snprintf(f->get_error, sizeof(f->get_error), "invalid scale target reference");
	else if (call(x, "GET", f->scale_path, NULL, &f->scale, f->get_error,
		      sizeof(f->get_error)) == 0)
		f->get_error[0] = '\0';
	sel = f->scale ? hpa_jstr(f->scale, "status.selector") : NULL;
	if (f->scale) {
		free(st->selector);
		st->selector = sel && *sel ? xstrdup(sel) : NULL;
	}
	if (sel && *sel && list_pods(x, ns, sel, &f->pods, err, sizeof(err)) != 0) {
		log_warn("HPA %s/%s: cannot list the pods of selector %s: %s", ns, name, sel, err);
		return ERR_IO;
	}
	if (!f->pods)
		f->pods = json_array();
	f->pod_metrics = hpa_loop_pod_metrics(x->snap, f->pods);
	f->others = hpa_states_others(x->states, ns, name);
	return 0;
}

static void fetched_release(struct fetched *f)
{
	free(f->scale_path);
	json_decref(f->scale);
	json_decref(f->pods);
	json_decref(f->pod_metrics);
	json_decref(f->others);
}

/* PUT body with a fresh object from GET path on every 409; 0 or ERR_IO. */
typedef json_t *(*body_fn)(const json_t *current, const void *arg);

static int write_with_retry(const struct hpa_sync_ctx *x, const char *get_path,
			    const char *put_path, const json_t *first, body_fn make,
			    const void *arg, char *err, size_t errlen)
{
	json_t *cur = json_incref((json_t *)first), *body, *resp;
	int status = -1;

	for (int i = 0; i < HPA_LOOP_WRITE_TRIES && cur; i++) {
		body = make(cur, arg);
		status = call(x, "PUT", put_path, body, &resp, err, errlen);
		json_decref(body);
		json_decref(resp);
		json_decref(cur);
		cur = NULL;
		if (status != 409)
			break;
		log_v(2, "PUT %s: conflict, reading it again", put_path);
		if (call(x, "GET", get_path, NULL, &cur, err, errlen) != 0)
			status = -1;
	}
	json_decref(cur);
	return status == 0 ? 0 : ERR_IO;
}

static json_t *scale_body(const json_t *scale, const void *arg)
{
	json_t *b = json_deep_copy(scale);
	json_t *spec = json_object_get(b, "spec");

	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(b, "spec", spec);
	}
	json_object_set_new(spec, "replicas", json_integer(*(const int32_t *)arg));
	return b;
}

static json_t *status_body(const json_t *hpa, const void *arg)
{
	json_t *b = json_deep_copy(hpa);

	json_object_set_new(b, "apiVersion", json_string("autoscaling/v2"));
	json_object_set_new(b, "kind", json_string("HorizontalPodAutoscaler"));
	json_object_set(b, "status", (json_t *)arg);
	return b;
}

/* Creates the Event, or bumps the count of the same one written before. */
static void write_event(const struct hpa_sync_ctx *x, const json_t *hpa, struct hpa_state *st,
			const struct hpa_event *ev, int64_t when)
{
	const char *ns = hpa_jstr(hpa, "metadata.namespace");
	struct hpa_event_record *r = hpa_state_event_find(st, ev);
	char err[ERRLEN], *path = NULL;
	json_t *body, *resp = NULL;

	if (r && segment_ok(hpa_jstr(r->obj, "metadata.name"))) {
		path = xasprintf("/api/v1/namespaces/%s/events/%s", ns,
				 hpa_jstr(r->obj, "metadata.name"));
		body = hpa_loop_event_repeat(r->obj, when);
		if (call(x, "PUT", path, body, &resp, err, sizeof(err)) != 0)
			log_v(2, "Event %s cannot be updated (%s): creating a new one", path, err);
		json_decref(body);
		free(path);
	}
	if (!resp) {
		path = xasprintf("/api/v1/namespaces/%s/events", ns);
		body = hpa_loop_event_new(hpa, ev, when);
		if (call(x, "POST", path, body, &resp, err, sizeof(err)) != 0)
			log_warn("Server rejected event (will not retry!) reason=%s: %s", ev->reason,
				 err);
		json_decref(body);
		free(path);
	}
	if (resp)
		hpa_state_event_put(st, ev, resp, x->states->pass);
	json_decref(resp);
}

/* PUT .../status when the status changed; a failure is an Event as upstream. */
static void write_status(const struct hpa_sync_ctx *x, const json_t *hpa, struct hpa_state *st,
			 const struct hpa_result *r)
{
	const char *ns = hpa_jstr(hpa, "metadata.namespace"), *name = hpa_jstr(hpa, "metadata.name");
	char *get = xasprintf("/apis/autoscaling/v2/namespaces/%s/horizontalpodautoscalers/%s", ns,
			      name);
	char *put = xasprintf("%s/status", get);
	char err[ERRLEN];
	struct hpa_event ev = { "Warning", "FailedUpdateStatus", err };

	if (write_with_retry(x, get, put, hpa, status_body, r->status, err, sizeof(err)) != 0) {
		log_warn("failed to update status for %s/%s: %s", ns, name, err);
		write_event(x, hpa, st, &ev, x->now + (int64_t)r->n_events);
	}
	free(get);
	free(put);
}

/* --v=2: the decision with each metric's proposal and utilization. */
static void log_decision(const char *key, const struct hpa_result *r)
{
	struct dynbuf b;

	if (log_verbosity() < 2)
		return;
	dynbuf_init(&b, DYN_SMALL);
	for (size_t i = 0; i < r->n_metrics; i++) {
		const struct hpa_metric_detail *d = &r->metrics[i];

		(void)!dynbuf_printf(&b, "%s%s", i ? " " : "", d->type);
		if (d->has_utilization)
			(void)!dynbuf_printf(&b, ":%d%%", (int)d->utilization);
		if (d->has_proposed)
			(void)!dynbuf_printf(&b, "->%d", (int)d->proposed);
	}
	log_v(2, "\"HPA evaluated\" HPA=\"%s\" desiredReplicas=%d rescale=%s metrics=\"%s\"", key,
	      (int)r->desired, r->scale_updated ? "true" : "false", b.len ? b.buf : "");
	dynbuf_release(&b);
}

/* Writes what the decision says (Events, status) and keeps its history. */
static void apply_result(const struct hpa_sync_ctx *x, const json_t *hpa, struct hpa_state *st,
			 int32_t current, struct hpa_result *r)
{
	hpa_state_take_history(st, &r->history);
	log_decision(st->key, r);
	if (r->scale_updated)
		log_info("\"Successful rescale\" HPA=\"%s\" currentReplicas=%d desiredReplicas=%d",
			 st->key, (int)current, (int)r->desired);
	if (r->error)
		log_v(2, "HPA %s: %s", st->key, r->error);
	for (size_t i = 0; i < r->n_events; i++)
		write_event(x, hpa, st, &r->events[i], x->now + (int64_t)i);
	if (r->status_changed)
		write_status(x, hpa, st, r);
}

/* The decision with the scale write done for real: when the PUT fails the
 * pass is decided again with that failure, as upstream reports it. */
static int decide(const struct hpa_sync_ctx *x, struct hpa_input *in, const struct fetched *f,
		  const struct hpa_state *st, struct hpa_result *r)
{
	char err[ERRLEN], why[ERRLEN];
	int32_t desired;
	int rc;

	if (hpa_decide(in, &st->history, r, err, sizeof(err)) != 0) {
		log_warn("HPA %s cannot be evaluated: %s", st->key, err);
		return ERR_INVAL;
	}
	if (!r->scale_updated)
		return 0;
	desired = r->desired;
	if (write_with_retry(x, f->scale_path, f->scale_path, f->scale, scale_body, &desired, why,
			     sizeof(why)) == 0)
		return 0;
	log_warn("failed to rescale HPA=\"%s\" to %d: %s", st->key, (int)desired, why);
	hpa_result_release(r);
	in->scale_update_error = why;
	rc = hpa_decide(in, &st->history, r, err, sizeof(err));
	in->scale_update_error = NULL;
	if (rc != 0)
		log_warn("HPA %s cannot be evaluated: %s", st->key, err);
	return rc;
}

void hpa_sync_one(const struct hpa_sync_ctx *x, const json_t *hpa, struct hpa_state *st)
{
	const char *ns = hpa_jstr(hpa, "metadata.namespace"), *name = hpa_jstr(hpa, "metadata.name");
	struct fetched f = { 0 };
	struct hpa_input in = { .hpa = hpa, .now = x->now, .opts = *x->algo };
	struct hpa_result r;

	if (!segment_ok(ns) || !segment_ok(name)) {
		log_warn("HPA %s: namespace or name cannot be used in a URL", st->key);
		return;
	}
	if (fetch(x, hpa, ns, name, st, &f) != 0)
		goto out;
	in.scale = f.scale;
	in.scale_get_error = f.get_error[0] ? f.get_error : NULL;
	in.pods = f.pods;
	in.pod_metrics = f.pod_metrics;
	in.others = f.others;
	if (decide(x, &in, &f, st, &r) != 0)
		goto out;
	apply_result(x, hpa, st, hpa_sat_i32(hpa_jint(f.scale, "spec.replicas", 0)), &r);
	hpa_result_release(&r);
out:
	fetched_release(&f);
}
