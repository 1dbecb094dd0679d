/*
 * sync.c - one reconcile of one HPA against kube-apiserver, as
 * horizontal.go's reconcileAutoscaler does it around the pure decision:
 * GET the Scale and list the pods of its selector (fetch.c), read
 * their usage from the store snapshot, GET the Pods, Object and External
 * metrics of its spec (metrics.c), gather the other HPAs' selectors
 * (peers.c), hpa_decide(), PUT the scale (re-GET on 409), PUT the
 * status when it changed (re-GET on 409), write the Events.
 */
#include "hpaloop/hpaloop_int.h"
#include "kube/kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The inputs fetched for one pass (owned). */
struct fetched {
	struct hpaloop__target t;
	json_t *pod_metrics;
	struct hpaloop__metric_values mv; /* Pods, Object, External metrics */
	json_t *others;
};

/* hpaloop__selector_fn for the HPAs the loop does not act on: GET only. */
static char *bystander_selector(void *ud, const json_t *hpa)
{
	const struct hpaloop__sync_ctx *x = ud;
	char err[HPALOOP_ERRLEN];
	char *sel = hpaloop__scale_selector(x->client, hpa, err, sizeof(err));

	if (!sel)
		log_v(3, "the scale of HPA %s/%s (not acted on) gives no selector for the "
			 "ambiguity check: %s",
		      jpath_str(hpa, "metadata.namespace"), jpath_str(hpa, "metadata.name"), err);
	return sel;
}

/* hpaloop__metric_fail_fn: the failing API is reported by hpa_decide in upstream's
 * words; the real error goes to the log. */
static void metric_failed(void *ud, const char *path, const char *err)
{
	log_v(1, "HPA %s: GET %s: %s", (const char *)ud, path, err);
}

/* Scale, pods, their metrics (from the store; Pods, Object and External
 * ones through kube-apiserver) and the other HPAs' selectors; ERR_IO when
 * the pods cannot be listed (the pass is skipped, nothing is decided). */
static int fetch(const struct hpaloop__sync_ctx *x, const json_t *hpa, const char *ns,
		 const char *name, struct hpaloop__state *st, struct fetched *f)
{
	char err[HPALOOP_ERRLEN];
	int rc = hpaloop__target_fetch(x->client, hpa, ns, &f->t, err, sizeof(err));
	const char *sel = jpath_str(f->t.scale, "status.selector");

	if (f->t.scale) {
		free(st->selector);
		st->selector = sel && *sel ? xstrdup(sel) : NULL;
	}
	if (rc != 0) {
		hpaloop__warn(err, "HPA %s/%s: %s", ns, name, err);
		return ERR_IO;
	}
	f->pod_metrics = hpaloop__pod_metrics(x->snap, f->t.pods);
	hpaloop__metric_values_fetch(x->local, x->client, hpa, ns, f->t.scale, &f->mv, metric_failed, st->key);
	f->others = x->peers ? hpaloop__peers_others(x->peers, x->states, ns, name, bystander_selector,
						(void *)x)
			     : json_array();
	return 0;
}

static void fetched_clear(struct fetched *f)
{
	hpaloop__target_clear(&f->t);
	json_decref(f->pod_metrics);
	hpaloop__metric_values_clear(&f->mv);
	json_decref(f->others);
}

/* One request with the pass's client (see hpaloop__api_call). */
static int call(const struct hpaloop__sync_ctx *x, const char *method, const char *path, json_t *body,
		json_t **out, char *err, size_t errlen)
{
	return hpaloop__api_call(x->client, method, path, body, out, err, errlen);
}

/* PUT body with a fresh object from GET path on every 409; 0 or ERR_IO. */
typedef json_t *(*body_fn)(const json_t *current, const void *arg);

static int write_with_retry(const struct hpaloop__sync_ctx *x, const char *get_path,
			    const char *put_path, const json_t *first, body_fn make,
			    const void *arg, char *err, size_t errlen)
{
	json_t *cur = json_incref((json_t *)first), *body, *resp;
	int status = -1;

	for (int i = 0; i < HPALOOP_WRITE_TRIES && cur; i++) {
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
static void write_event(const struct hpaloop__sync_ctx *x, const json_t *hpa, struct hpaloop__state *st,
			const struct hpa_event *ev, int64_t when)
{
	const char *ns = jpath_str(hpa, "metadata.namespace");
	struct hpaloop__event_record *r = hpaloop__state_event_find(st, ev);
	char err[HPALOOP_ERRLEN], *path = NULL;
	json_t *body, *resp = NULL;

	if (r && hpaloop_segment_ok(jpath_str(r->obj, "metadata.name"))) {
		path = xasprintf("/api/v1/namespaces/%s/events/%s", ns,
				 jpath_str(r->obj, "metadata.name"));
		body = hpaloop__event_repeat(r->obj, when);
		if (call(x, "PUT", path, body, &resp, err, sizeof(err)) != 0)
			log_v(2, "Event %s cannot be updated (%s): creating a new one", path, err);
		json_decref(body);
		free(path);
	}
	if (!resp) {
		path = xasprintf("/api/v1/namespaces/%s/events", ns);
		body = hpaloop__event_new(hpa, ev, when);
		if (call(x, "POST", path, body, &resp, err, sizeof(err)) != 0)
			hpaloop__warn(err, "Server rejected event (will not retry!) reason=%s: %s",
				      ev->reason, err);
		json_decref(body);
		free(path);
	}
	if (resp)
		hpaloop__state_event_put(st, ev, resp, x->states->pass);
	json_decref(resp);
}

/* False once this replica stopped leading: nothing more is written. */
static bool writable(const struct hpaloop__sync_ctx *x)
{
	return !x->may_write || x->may_write(x->may_write_ud);
}

/* PUT .../status when the status changed; a failure is an Event as upstream. */
static void write_status(const struct hpaloop__sync_ctx *x, const json_t *hpa, struct hpaloop__state *st,
			 const struct hpa_result *r)
{
	const char *ns = jpath_str(hpa, "metadata.namespace"), *name = jpath_str(hpa, "metadata.name");
	char *get = xasprintf("/apis/autoscaling/v2/namespaces/%s/horizontalpodautoscalers/%s", ns,
			      name);
	char *put = xasprintf("%s/status", get);
	char err[HPALOOP_ERRLEN];
	struct hpa_event ev = { "Warning", "FailedUpdateStatus", err };

	if (write_with_retry(x, get, put, hpa, status_body, r->status, err, sizeof(err)) != 0) {
		hpaloop__warn(err, "failed to update status for %s/%s: %s", ns, name, err);
		write_event(x, hpa, st, &ev, x->now + (int64_t)r->n_events);
	}
	free(get);
	free(put);
}

/* --v=2: the decision with each metric's proposal and utilization. */
static void log_decision(const char *key, const struct hpa_result *r)
{
	struct dynbuf b;

	if (!log_v_on(2))
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
	dynbuf_clear(&b);
}

/* Writes what the decision says (Events, status) and keeps its history. */
static void apply_result(const struct hpaloop__sync_ctx *x, const json_t *hpa, struct hpaloop__state *st,
			 int32_t current, struct hpa_result *r)
{
	hpaloop__state_take_history(st, &r->history);
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
static int decide(const struct hpaloop__sync_ctx *x, struct hpa_input *in, const struct fetched *f,
		  const struct hpaloop__state *st, struct hpa_result *r)
{
	char err[HPALOOP_ERRLEN], why[HPALOOP_ERRLEN];
	int32_t desired;
	int rc;

	if (hpa_decide(in, &st->history, r, err, sizeof(err)) != 0) {
		log_warn("HPA %s cannot be evaluated: %s", st->key, err);
		return ERR_INVAL;
	}
	if (!r->scale_updated)
		return 0;
	if (!writable(x)) { /* lost the lease while deciding: the next leader decides */
		log_v(2, "HPA %s: not the leader any more, scale not written", st->key);
		hpa_result_clear(r);
		return ERR_AGAIN;
	}
	desired = r->desired;
	if (write_with_retry(x, f->t.scale_path, f->t.scale_path, f->t.scale, scale_body, &desired,
			     why, sizeof(why)) == 0)
		return 0;
	hpaloop__warn(why, "failed to rescale HPA=\"%s\" to %d: %s", st->key, (int)desired, why);
	hpa_result_clear(r);
	in->scale_update_error = why;
	rc = hpa_decide(in, &st->history, r, err, sizeof(err));
	in->scale_update_error = NULL;
	if (rc != 0)
		log_warn("HPA %s cannot be evaluated: %s", st->key, err);
	return rc;
}

void hpaloop__sync_one(const struct hpaloop__sync_ctx *x, const json_t *hpa, struct hpaloop__state *st)
{
	const char *ns = jpath_str(hpa, "metadata.namespace"), *name = jpath_str(hpa, "metadata.name");
	struct fetched f = { 0 };
	struct hpa_input in = { .hpa = hpa, .now = x->now, .opts = *x->algo };
	struct hpa_result r;

	if (!hpaloop_segment_ok(ns) || !hpaloop_segment_ok(name)) {
		log_warn("HPA %s: namespace or name cannot be used in a URL", st->key);
		return;
	}
	if (fetch(x, hpa, ns, name, st, &f) != 0)
		goto out;
	in.scale = f.t.scale;
	in.scale_get_error = f.t.get_error[0] ? f.t.get_error : NULL;
	in.pods = f.t.pods;
	in.pod_metrics = f.pod_metrics;
	in.custom_metrics = f.mv.custom;
	in.external_metrics = f.mv.external;
	in.failing_apis = f.mv.failing;
	in.others = f.others;
	if (decide(x, &in, &f, st, &r) != 0)
		goto out;
	if (!r.scale_updated && !writable(x)) {
		hpa_result_clear(&r);
		goto out;
	}
	apply_result(x, hpa, st, hpa_sat_i32(jpath_int(f.t.scale, "spec.replicas", 0)), &r);
	hpa_result_clear(&r);
out:
	fetched_clear(&f);
}
