/*
 * metrics.c - the Pods, Object and External metric values of one HPA,
 * read through kube-apiserver as kube-controller-manager's REST metrics
 * client reads them (metrics/client.go: custom.metrics.k8s.io/v1beta2 and
 * external.metrics.k8s.io/v1beta1), so whichever provider is registered
 * for those groups answers: KEDA, prometheus-adapter, kubesim's fake one.
 * The embedded loop and `hpa explain --live` both read them here.
 *
 * hpa_decide takes the values as pools it filters the way the APIs would
 * (hpa/fetch.c); upstream instead takes whatever each request returned.
 * hpaloop__metric_collect bridges the two: every item gets the identity of the
 * request that returned it, so the filter keeps exactly those items.
 *
 * Differences from upstream, on purpose: the custom metrics version is
 * v1beta2 without discovery (the HPA's client picks the preferred one of
 * v1beta2, v1beta1), and a kind's resource is its lowercase plural
 * (hpa_group_resource, as for the Scale) instead of the RESTMapper's.
 */
#include "hpaloop/hpaloop_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CUSTOM_PREFIX "/apis/custom.metrics.k8s.io/v1beta2/namespaces/"
#define EXTERNAL_PREFIX "/apis/external.metrics.k8s.io/v1beta1/namespaces/"

/* ---- requests ------------------------------------------------------------------ */

/* IsValidPathSegmentName, as HPA validation applies it to metric names. */
static bool metric_name_ok(const char *s)
{
	return s && *s && strlen(s) <= 1024 && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
	       !strchr(s, '/') && !strchr(s, '%');
}

/* Canonical text of a metav1.LabelSelector (JSON) into *out; false if invalid. */
static bool metric_selector_string(const json_t *ls, char **out, char *err, size_t errlen)
{
	struct selector *sel = hpa_label_selector(ls, err, errlen);

	if (!sel)
		return false;
	*out = selector_string(sel);
	selector_free(sel);
	return true;
}

/* Appends "&key=escaped(value)" (or "?..." first) when value is not empty. */
static void add_param(struct dynbuf *b, const char *key, const char *value)
{
	char *q;

	if (!value || !*value)
		return;
	q = url_query_escape(value);
	(void)!dynbuf_printf(b, "%c%s=%s", memchr(b->buf, '?', b->len) ? '&' : '?', key, q);
	free(q);
}

/* The path of an Object metric's described object, without the metric. */
static char *object_base(const json_t *obj, const char *ns, char *err, size_t errlen)
{
	const char *av = jpath_str(obj, "apiVersion"), *kind = jpath_str(obj, "kind");
	const char *name = jpath_str(obj, "name");
	char *gr, *path;

	if (kind && strcmp(kind, "Namespace") == 0 && (!av || !strchr(av, '/')))
		return xasprintf(CUSTOM_PREFIX "%s/metrics", ns); /* getForNamespace */
	if (!hpaloop_segment_ok(kind) || !hpaloop_segment_ok(name)) {
		snprintf(err, errlen, "invalid object metric source: describedObject kind and name "
				      "must be set");
		return NULL;
	}
	gr = hpa_group_resource(av, kind);
	if (!hpaloop_segment_ok(gr)) {
		snprintf(err, errlen, "invalid object metric source: apiVersion %s", av);
		free(gr);
		return NULL;
	}
	path = xasprintf(CUSTOM_PREFIX "%s/%s/%s", ns, gr, name);
	free(gr);
	return path;
}

int hpaloop__metric_path(const json_t *spec, const char *ns, const char *scale_selector, char **path,
		    unsigned *api, char *err, size_t errlen)
{
	const char *type = jpath_str(spec, "type");
	const char *key = !type ? NULL
			  : strcmp(type, "Pods") == 0 ? "pods"
			  : strcmp(type, "Object") == 0 ? "object"
			  : strcmp(type, "External") == 0 ? "external"
							  : NULL;
	const json_t *src = key ? json_object_get(spec, key) : NULL;
	const char *metric = jpath_str(src, "metric.name");
	char *msel = NULL, *base = NULL, *name_esc, *canon = NULL, serr[256];
	struct selector *ps = NULL;
	struct dynbuf b;

	*path = NULL;
	*api = 0;
	err[0] = '\0';
	if (!key)
		return ERR_NOTFOUND; /* metrics.k8s.io: read elsewhere */
	if (!hpaloop_segment_ok(ns) || !metric_name_ok(metric)) {
		snprintf(err, errlen, "invalid %s metric source: metric.name must be a valid path "
				      "segment", type);
		return ERR_INVAL;
	}
	if (!metric_selector_string(jpath_get(src, "metric.selector"), &msel, err, errlen))
		return ERR_INVAL;
	if (key[0] == 'p') {
		if (!scale_selector || !*scale_selector ||
		    !(ps = selector_parse(scale_selector, serr, sizeof(serr)))) {
			free(msel);
			return ERR_NOTFOUND; /* upstream stops at the selector */
		}
		canon = selector_string(ps);
		selector_free(ps);
		base = xasprintf(CUSTOM_PREFIX "%s/pods/%%2A", ns);
	} else if (key[0] == 'o') {
		base = object_base(json_object_get(src, "describedObject"), ns, err, errlen);
	} else {
		base = xasprintf(EXTERNAL_PREFIX "%s", ns);
	}
	if (!base) {
		free(msel);
		return ERR_INVAL;
	}
	name_esc = url_path_escape(metric);
	dynbuf_init(&b, DYN_SMALL);
	(void)!dynbuf_printf(&b, "%s/%s", base, name_esc);
	if (key[0] == 'e') {
		add_param(&b, "labelSelector", msel);
	} else {
		add_param(&b, "labelSelector", canon);
		add_param(&b, "metricLabelSelector", msel);
	}
	*api = key[0] == 'e' ? HPA_API_EXTERNAL : HPA_API_CUSTOM;
	*path = dynbuf_take(&b, NULL);
	free(name_esc);
	free(base);
	free(canon);
	free(msel);
	return *path ? 0 : ERR_TOOBIG;
}

/* ---- collecting the answers ------------------------------------------------------ */

/* Labels that satisfy the LabelSelector ls, starting from have (an object or
 * null): only what a requirement needs is set or removed. */
static json_t *satisfying_labels(const json_t *ls, const json_t *have)
{
	json_t *l = json_is_object(have) ? json_deep_copy(have) : json_object();
	const json_t *e, *v, *vals;
	const char *k, *op, *cur;
	size_t i, j;
	bool in;

	json_object_foreach((json_t *)json_object_get(ls, "matchLabels"), k, v)
		json_object_set(l, k, (json_t *)v);
	json_array_foreach(jpath_array(ls, "matchExpressions"), i, e) {
		k = jpath_str(e, "key");
		op = jpath_str(e, "operator");
		vals = jpath_array(e, "values");
		if (!k || !op)
			continue;
		cur = json_string_value(json_object_get(l, k));
		in = false;
		json_array_foreach(vals, j, v)
			in = in || (cur && json_is_string(v) && strcmp(cur, json_string_value(v)) == 0);
		if (strcmp(op, "In") == 0 && !in && json_is_string(json_array_get(vals, 0)))
			json_object_set(l, k, json_array_get(vals, 0));
		else if ((strcmp(op, "NotIn") == 0 && in) || strcmp(op, "DoesNotExist") == 0)
			json_object_del(l, k);
		else if (strcmp(op, "Exists") == 0 && !cur)
			json_object_set_new(l, k, json_string(""));
	}
	return l;
}

static bool labels_satisfy(const json_t *ls, const json_t *labels)
{
	char err[256];
	struct selector *sel = hpa_label_selector(ls, err, sizeof(err));
	struct labels l;
	bool ok;

	if (!sel)
		return true; /* hpa_decide reports the selector itself */
	hpa_labels_from_json(labels, &l);
	ok = selector_matches(sel, &l);
	labels_clear(&l);
	selector_free(sel);
	return ok;
}

/* Copies item's members `keys` (those present) into a new object. */
static json_t *pick(const json_t *item, const char *const *keys)
{
	json_t *o = json_object();

	for (; *keys; keys++) {
		json_t *v = json_object_get(item, *keys);

		if (v)
			json_object_set(o, *keys, v);
	}
	return o;
}

/* MetricIdentifier of the request: {name, selector} ({} when none, so that
 * values of another selector never pass for these). */
static json_t *metric_id(const char *metric, const json_t *msel)
{
	return json_pack("{s:s,s:o}", "name", metric, "selector",
			 json_is_object(msel) ? json_deep_copy(msel) : json_object());
}

static void collect_custom(const json_t *src, bool pods, const char *ns, const json_t *items,
			   json_t *out)
{
	static const char *const keys[] = { "timestamp", "windowSeconds", "value", NULL };
	const json_t *obj = json_object_get(src, "describedObject"), *item;
	const char *metric = jpath_str(src, "metric.name");
	const char *kind = pods ? "Pod" : jpath_str(obj, "kind");
	bool is_ns = !pods && kind && strcmp(kind, "Namespace") == 0;
	size_t i;

	json_array_foreach(items, i, item) {
		const char *name = pods ? jpath_str(item, "describedObject.name")
				  : is_ns ? ns : jpath_str(obj, "name");
		json_t *v, *d;

		if (!name)
			continue; /* upstream keys Pods values by this name */
		v = pick(item, keys);
		d = json_pack("{s:s,s:s}", "kind", kind ? kind : "", "name", name);
		if (!is_ns)
			json_object_set_new(d, "namespace", json_string(ns));
		if (!pods && jpath_str(obj, "apiVersion"))
			json_object_set_new(d, "apiVersion", json_string(jpath_str(obj, "apiVersion")));
		json_object_set_new(v, "describedObject", d);
		json_object_set_new(v, "metric", metric_id(metric, jpath_get(src, "metric.selector")));
		json_array_append_new(out, v);
	}
}

static char *external_key(const json_t *v)
{
	char *labels = json_dumps(json_object_get(v, "metricLabels"), JSON_COMPACT | JSON_SORT_KEYS);
	char *key = xasprintf("%s\n%s", jpath_str(v, "metricName"), labels ? labels : "");

	free(labels);
	return key;
}

static void collect_external(const json_t *src, const json_t *items, struct hpaloop__metric_values *mv)
{
	static const char *const keys[] = { "timestamp", "window", "value", NULL };
	const json_t *msel = jpath_get(src, "metric.selector"), *item;
	json_t *mine = json_object(); /* keys of this answer */
	const char *k;
	json_t *one;
	size_t i;

	if (!mv->seen_ext)
		mv->seen_ext = json_object();
	json_array_foreach(items, i, item) {
		const json_t *have = json_object_get(item, "metricLabels");
		json_t *v = pick(item, keys);
		char *key;

		json_object_set_new(v, "metricName", json_string(jpath_str(src, "metric.name")));
		json_object_set_new(v, "metricLabels",
				    labels_satisfy(msel, have) && json_is_object(have)
					    ? json_deep_copy(have)
					    : satisfying_labels(msel, have));
		key = external_key(v);
		if (json_object_get(mv->seen_ext, key)) {
			json_decref(v); /* another request returned this one */
		} else {
			json_object_set_new(mine, key, json_true());
			json_array_append_new(mv->external, v);
		}
		free(key);
	}
	json_object_foreach(mine, k, one)
		json_object_set(mv->seen_ext, k, one);
	json_decref(mine);
}

int hpaloop__metric_collect(const json_t *spec, const char *ns, const json_t *body,
		       struct hpaloop__metric_values *v, char *err, size_t errlen)
{
	const char *type = jpath_str(spec, "type"), *kind = jpath_str(body, "kind");
	bool ext = type && strcmp(type, "External") == 0;
	bool pods = type && strcmp(type, "Pods") == 0;
	const char *want = ext ? "ExternalMetricValueList" : "MetricValueList";
	const json_t *items = json_object_get(body, "items");

	if (!kind || strcmp(kind, want) != 0 || (items && !json_is_null(items) &&
						 !json_is_array(items))) {
		snprintf(err, errlen, "the %s metrics API server didn't return %s, the type is %s",
			 ext ? "external" : "custom", want, kind ? kind : "unknown");
		return ERR_PARSE;
	}
	if (json_array_size(items) > HPALOOP_MAX_PODS) {
		snprintf(err, errlen, "more than %d metric values returned", HPALOOP_MAX_PODS);
		return ERR_TOOBIG;
	}
	if (ext) {
		if (!v->external)
			v->external = json_array();
		collect_external(json_object_get(spec, "external"), items, v);
	} else {
		if (!v->custom)
			v->custom = json_array();
		collect_custom(json_object_get(spec, pods ? "pods" : "object"), pods, ns, items,
			       v->custom);
	}
	return 0;
}

/* ---- the requests of one HPA ------------------------------------------------------- */

void hpaloop__metric_values_fetch(const struct hpaloop_local_api *local, struct kube_client *c,
				  const json_t *hpa, const char *ns, const json_t *scale,
				  struct hpaloop__metric_values *v, hpaloop__metric_fail_fn fail,
				  void *ud)
{
	const char *sel = jpath_str(scale, "status.selector");
	json_t *done = json_object(); /* path -> the API bit of a failed GET, or 0 */
	const json_t *spec;
	char err[HPALOOP_ERRLEN];
	size_t i;

	memset(v, 0, sizeof(*v));
	json_array_foreach(scale ? jpath_array(hpa, "spec.metrics") : NULL, i, spec) {
		json_t *body = NULL;
		unsigned api;
		char *path;

		if (hpaloop__metric_path(spec, ns, sel, &path, &api, err, sizeof(err)) != 0)
			continue;
		if (json_object_get(done, path)) {
			free(path); /* one GET per request and pass */
			continue;
		}
		if (json_object_size(done) == HPALOOP_MAX_METRIC_GETS) {
			log_warn("HPA %s/%s: more than %d metric requests, the rest are not read", ns,
				 jpath_str(hpa, "metadata.name"), HPALOOP_MAX_METRIC_GETS);
			free(path);
			break;
		}
		json_object_set_new(done, path, json_true());
		if (hpaloop__api_get(local, c, path, &body, err, sizeof(err)) != 0 ||
		    hpaloop__metric_collect(spec, ns, body, v, err, sizeof(err)) != 0) {
			v->failing |= api;
			if (fail)
				fail(ud, path, err);
		}
		json_decref(body);
		free(path);
	}
	json_decref(done);
}

void hpaloop__metric_values_clear(struct hpaloop__metric_values *v)
{
	json_decref(v->custom);
	json_decref(v->external);
	json_decref(v->seen_ext);
	memset(v, 0, sizeof(*v));
}
