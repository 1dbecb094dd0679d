/*
 * fetch.c - reading what one pass needs from kube-apiserver: the
 * target's Scale (scaleTargetRef -> /scale URL), the pods of its selector,
 * and the scale selectors of the other HPAs.  The embedded loop and
 * `hpa explain --live` both go through here, so the explanation is built
 * from the very requests (and error texts) the loop makes.
 */
#include "hpaloop/hpaloop_int.h"
#include "kube/kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool hpaloop_segment_ok(const char *s)
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

/* client-go's error text for a failed request: the Status message, else its generic one. */
static void api_error(int rc, int status, const json_t *body, const char *transport, char *err,
		      size_t errlen)
{
	const char *msg = jpath_str(body, "message");

	if (rc != 0)
		snprintf(err, errlen, "%s", transport);
	else if (msg && *msg)
		snprintf(err, errlen, "%s", msg);
	else
		snprintf(err, errlen, "the server responded with the status code %d but did not "
				      "return more information", status);
}

/* The outcome of a request as hpaloop__api_call returns it; takes resp. */
static int api_result(int rc, int status, json_t *resp, const char *why, json_t **out, char *err,
		      size_t errlen)
{
	*out = NULL;
	if (rc == 0 && status >= 200 && status < 300 && json_is_object(resp)) {
		*out = resp;
		return 0;
	}
	api_error(rc, status, resp, why, err, errlen);
	json_decref(resp);
	return rc != 0 ? -1 : (status ? status : -1);
}

int hpaloop__api_call(struct kube_client *c, const char *method, const char *path, json_t *body,
		 json_t **out, char *err, size_t errlen)
{
	char why[HPALOOP_ERRLEN] = "";
	json_t *resp = NULL;
	int status = 0;
	int rc = kube_request(c, method, path, body, &status, &resp, why, sizeof(why));

	rc = api_result(rc, status, resp, why, out, err, errlen);
	if (rc == 403)
		hpaloop__denied(method, path, err);
	return rc;
}

int hpaloop__api_get(const struct hpaloop_local_api *local, struct kube_client *c,
		     const char *path, json_t **out, char *err, size_t errlen)
{
	json_t *resp = NULL;
	int status = 0;

	if (local && local->get && local->get(local->ud, path, &status, &resp))
		return api_result(0, status, resp, "", out, err, errlen);
	return hpaloop__api_call(c, "GET", path, NULL, out, err, errlen);
}

char *hpaloop__scale_path(const json_t *hpa, const char *ns)
{
	const char *av = jpath_str(hpa, "spec.scaleTargetRef.apiVersion");
	const char *kind = jpath_str(hpa, "spec.scaleTargetRef.kind");
	const char *name = jpath_str(hpa, "spec.scaleTargetRef.name");
	const char *slash = av ? strchr(av, '/') : NULL;
	char *gr, *dot, *path;

	if (!av || !hpaloop_segment_ok(ns) || !hpaloop_segment_ok(kind) || !hpaloop_segment_ok(name) ||
	    !hpaloop_segment_ok(slash ? slash + 1 : av) ||
	    (slash && (slash == av || strchr(slash + 1, '/'))))
		return NULL;
	if (slash) {
		char *group = xstrndup(av, (size_t)(slash - av));
		bool ok = hpaloop_segment_ok(group);

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

/* GET the scale at t->scale_path; sets t->scale or t->get_error. */
static void get_scale(struct kube_client *c, const json_t *hpa, const char *ns,
		      struct hpaloop__target *t)
{
	t->scale_path = hpaloop__scale_path(hpa, ns);
	if (!t->scale_path)
		snprintf(t->get_error, sizeof(t->get_error), "invalid scale target reference");
	else if (hpaloop__api_call(c, "GET", t->scale_path, NULL, &t->scale, t->get_error,
			      sizeof(t->get_error)) == 0)
		t->get_error[0] = '\0';
}

static int list_pods(struct kube_client *c, const char *ns, const char *selector, json_t **pods,
		     char *err, size_t errlen)
{
	char *q = url_query_escape(selector);
	char *path = xasprintf("/api/v1/namespaces/%s/pods?labelSelector=%s", ns, q);
	json_t *list = NULL;
	const json_t *items;
	int rc = hpaloop__api_call(c, "GET", path, NULL, &list, err, errlen);

	free(q);
	free(path);
	*pods = NULL;
	if (rc != 0)
		return ERR_IO;
	items = json_object_get(list, "items");
	if (json_array_size(items) > HPALOOP_MAX_PODS) {
		snprintf(err, errlen, "more than %d pods match the selector", HPALOOP_MAX_PODS);
		json_decref(list);
		return ERR_TOOBIG;
	}
	*pods = json_is_array(items) ? json_incref((json_t *)items) : json_array();
	json_decref(list);
	return 0;
}

int hpaloop__target_fetch(struct kube_client *c, const json_t *hpa, const char *ns,
		     struct hpaloop__target *t, char *err, size_t errlen)
{
	const char *sel;
	char why[HPALOOP_ERRLEN];
	int rc;

	memset(t, 0, sizeof(*t));
	get_scale(c, hpa, ns, t);
	sel = jpath_str(t->scale, "status.selector");
	if (sel && *sel) {
		rc = list_pods(c, ns, sel, &t->pods, why, sizeof(why));
		if (rc != 0) {
			snprintf(err, errlen, "cannot list the pods of selector %s: %s", sel, why);
			return rc;
		}
	}
	if (!t->pods)
		t->pods = json_array();
	return 0;
}

void hpaloop__target_clear(struct hpaloop__target *t)
{
	free(t->scale_path);
	json_decref(t->scale);
	json_decref(t->pods);
	memset(t, 0, sizeof(*t));
}

char *hpaloop__scale_selector(struct kube_client *c, const json_t *hpa, char *err, size_t errlen)
{
	struct hpaloop__target t = { 0 };
	const char *ns = jpath_str(hpa, "metadata.namespace");
	const char *sel;
	char *out = NULL;

	get_scale(c, hpa, ns ? ns : "", &t);
	sel = jpath_str(t.scale, "status.selector");
	if (sel && *sel)
		out = xstrdup(sel);
	else if (!t.scale)
		snprintf(err, errlen, "%s", t.get_error);
	else
		snprintf(err, errlen, "the scale has no selector");
	hpaloop__target_clear(&t);
	return out;
}

json_t *hpaloop__other_entry(const char *ns, const char *name, const char *selector)
{
	return json_pack("{s:{s:{s:s,s:s}},s:{s:{s:s}}}", "horizontalPodAutoscaler", "metadata",
			 "name", name, "namespace", ns, "scale", "status", "selector", selector);
}
