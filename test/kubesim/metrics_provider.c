/*
 * metrics_provider.c - a fake custom and external metrics provider (a tiny
 * KEDA / prometheus-adapter) driven by kubectl, for HPA tests.
 *
 * It is kubesim itself, reached the way a real provider is: an APIService
 * (v1beta1.external.metrics.k8s.io, v1beta2.custom.metrics.k8s.io) whose
 * kubesim.io/endpoint is kubesim's own address.  The aggregator probes and
 * proxies to it with the front-proxy client certificate; http.c turns
 * that into requestheader authentication (req->front_proxy) and the
 * router sends every such request here.  So availability, the 503 of an
 * unavailable APIService and discovery behave as with any backend.
 *
 *   external.metrics.k8s.io/v1beta1  namespaces/NS/METRIC?labelSelector=
 *       one ExternalMetricValue per ConfigMap of NS annotated
 *       kubesim.io/external-metric: METRIC whose labels match; the value
 *       is its kubesim.io/value (a Quantity), the metricLabels its labels
 *   custom.metrics.k8s.io/v1beta2    namespaces/NS/pods/{NAME|*}/METRIC
 *       ?labelSelector=&metricLabelSelector=
 *       one MetricValue per Running pod annotated
 *       kubesim.io/custom-metric.METRIC: <Quantity> (the series have no
 *       labels: a metricLabelSelector must accept an empty set)
 *
 * Bodies and errors follow custom-external.md: kind/apiVersion/metadata
 * then items in Go's field order; a metric no object of the cluster
 * carries is a 404 NotFound Status worded as prometheus-adapter words it
 * ("the server could not find the metric M for " - an empty group-resource
 * for namespaced external requests), a known one without matches is 200
 * with items []; custom metrics without any matching pod are a 404 "... for
 * pods" ("... for pods NAME" for a named pod), as prometheus-adapter
 * answers them; a bad selector is 400 BadRequest.
 * Authorization is not checked (a real provider asks a
 * SubjectAccessReview).
 */
#include "test/kubesim/apiserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXT_GROUP "external.metrics.k8s.io"
#define EXT_VERSION "v1beta1"
#define CUSTOM_GROUP "custom.metrics.k8s.io"
#define CUSTOM_VERSION "v1beta2"
#define ANN_EXTERNAL "kubesim.io/external-metric"
#define ANN_VALUE "kubesim.io/value"
#define ANN_POD_PREFIX "kubesim.io/custom-metric."

/* ---- small helpers ------------------------------------------------------------ */

static const char *annotation(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(jpath_get(obj, "metadata.annotations"), key));
}

/* A Quantity annotation in canonical form into buf; false if not a Quantity. */
static bool canonical_value(const char *s, char *buf, size_t len)
{
	struct quantity q;

	if (!s || quantity_parse(s, &q) != 0)
		return false;
	quantity_format(&q, buf, len);
	return true;
}

static void now_string(char *buf, size_t len)
{
	fmt_rfc3339(clock_now_ns(), buf, len); /* metav1.Time: whole seconds */
}

static json_t *labels_json(const json_t *obj)
{
	const json_t *l = jpath_get(obj, "metadata.labels");

	return json_is_object(l) ? json_deep_copy(l) : json_object();
}

/* The objects of resource in ns (NULL: all) matched by sel; caller releases. */
static void query(struct sim_cluster *c, const char *resource, const char *ns,
		  const struct selector *sel, struct sim_snapshot *snap)
{
	struct sim_query q = { .ns = ns, .labels = sel };
	char err[128];

	if (sim_store_query(c->store, resource, &q, snap, err, sizeof(err)) != 0)
		log_warn("kubesim metrics provider: %s", err);
}

/* Parses the selector argument `arg`; NULL after a 400 in resp. */
static struct selector *selector_arg(const struct sim_request *req, const char *arg,
				     struct sim_response *resp)
{
	const char *s = sim_request_arg(req, arg);
	char err[512];
	struct selector *sel = selector_parse(s ? s : "", err, sizeof(err));

	if (!sel)
		sim_response_status(resp, 400, "BadRequest", err);
	return sel;
}

static void metric_not_found(struct sim_response *resp, const char *metric, const char *gr,
			     const char *name)
{
	char *msg = xasprintf("the server could not find the metric %s for %s%s%s", metric, gr,
			      name ? " " : "", name ? name : "");

	sim_response_status(resp, 404, "NotFound", msg);
	free(msg);
}

static json_t *list_json(const char *kind, const char *group, const char *version,
			 json_t *items)
{
	char *gv = xasprintf("%s/%s", group, version);
	json_t *l = json_pack("{s:s,s:s,s:{},s:o}", "kind", kind, "apiVersion", gv, "metadata",
			      "items", items);

	free(gv);
	return l;
}

/* ---- external.metrics.k8s.io ---------------------------------------------------- */

/* Does any ConfigMap of the cluster carry metric (ns NULL) ? */
static bool external_known(struct sim_cluster *c, const char *metric)
{
	struct sim_snapshot snap;
	bool found = false;

	query(c, "configmaps", NULL, NULL, &snap);
	for (size_t i = 0; i < snap.n && !found; i++) {
		json_t *cm = sim_obj_load(snap.objs[i]);
		const char *m = annotation(cm, ANN_EXTERNAL);

		found = m && strcmp(m, metric) == 0;
		json_decref(cm);
	}
	sim_snapshot_clear(&snap);
	return found;
}

static void external_list(struct sim_cluster *c, const struct sim_request *req, const char *ns,
			  const char *metric, struct sim_response *resp)
{
	struct selector *sel = selector_arg(req, "labelSelector", resp);
	struct sim_snapshot snap;
	json_t *items;
	char ts[40], value[64];

	if (!sel)
		return;
	items = json_array();
	now_string(ts, sizeof(ts));
	query(c, "configmaps", ns, sel, &snap);
	for (size_t i = 0; i < snap.n; i++) {
		json_t *cm = sim_obj_load(snap.objs[i]);
		const char *m = annotation(cm, ANN_EXTERNAL);

		if (m && strcmp(m, metric) == 0) {
			if (canonical_value(annotation(cm, ANN_VALUE), value, sizeof(value)))
				json_array_append_new(
					items, json_pack("{s:s,s:o,s:s,s:s}", "metricName", metric,
							 "metricLabels", labels_json(cm), "timestamp",
							 ts, "value", value));
			else
				log_warn("kubesim metrics provider: ConfigMap %s/%s: %s is not a "
					 "Quantity",
					 ns, snap.objs[i]->name, ANN_VALUE);
		}
		json_decref(cm);
	}
	sim_snapshot_clear(&snap);
	selector_free(sel);
	if (json_array_size(items) == 0 && !external_known(c, metric)) {
		json_decref(items);
		metric_not_found(resp, metric, "", NULL);
		return;
	}
	sim_response_json(resp, 200, list_json("ExternalMetricValueList", EXT_GROUP, EXT_VERSION,
					       items));
}

/* ---- custom.metrics.k8s.io (pods) ---------------------------------------------------- */

/* The value of pod's metric annotation in canonical form, if it has one. */
static bool pod_value(const json_t *pod, const char *metric, char *buf, size_t len)
{
	char *key = xasprintf(ANN_POD_PREFIX "%s", metric);
	bool ok = canonical_value(annotation(pod, key), buf, len);

	free(key);
	return ok;
}

static json_t *pod_item(const json_t *pod, const char *metric, const char *ts, const char *value)
{
	return json_pack("{s:{s:s,s:s,s:s,s:s},s:{s:s,s:n},s:s,s:s}", "describedObject", "kind",
			 "Pod", "namespace", jpath_str(pod, "metadata.namespace"), "name",
			 jpath_str(pod, "metadata.name"), "apiVersion", "/v1", "metric",
			 "name", metric, "selector", "timestamp", ts, "value", value);
}

static void custom_pods(struct sim_cluster *c, const struct sim_request *req, const char *ns,
			const char *name, const char *metric, struct sim_response *resp)
{
	bool wildcard = strcmp(name, "*") == 0;
	char ts[40], value[64], err[64];
	/* labelSelector picks the objects of a wildcard, a name is one object */
	struct selector *sel = wildcard ? selector_arg(req, "labelSelector", resp)
					: selector_parse("", err, sizeof(err));
	struct selector *msel = sel ? selector_arg(req, "metricLabelSelector", resp) : NULL;
	struct labels none;
	struct sim_snapshot snap = { 0 };
	json_t *items;

	if (!msel) {
		selector_free(sel);
		return;
	}
	items = json_array();
	labels_init(&none);
	now_string(ts, sizeof(ts));
	if (selector_matches(msel, &none))
		query(c, "pods", ns, sel, &snap);
	for (size_t i = 0; i < snap.n; i++) {
		json_t *pod = sim_obj_load(snap.objs[i]);
		const char *phase = jpath_str(pod, "status.phase");

		if ((wildcard || strcmp(snap.objs[i]->name, name) == 0) && phase &&
		    strcmp(phase, "Running") == 0 && pod_value(pod, metric, value, sizeof(value)))
			json_array_append_new(items, pod_item(pod, metric, ts, value));
		json_decref(pod);
	}
	sim_snapshot_clear(&snap);
	labels_clear(&none);
	selector_free(msel);
	selector_free(sel);
	/* prometheus-adapter: no object with a value is a 404, a name is named. */
	if (json_array_size(items) == 0) {
		json_decref(items);
		metric_not_found(resp, metric, "pods", wildcard ? NULL : name);
		return;
	}
	sim_response_json(resp, 200, list_json("MetricValueList", CUSTOM_GROUP, CUSTOM_VERSION,
					       items));
}

/* ---- discovery ------------------------------------------------------------------------ */

static json_t *group_json(const char *group, const char *version)
{
	char *gv = xasprintf("%s/%s", group, version);
	json_t *g = json_pack("{s:s,s:[{s:s,s:s}],s:{s:s,s:s}}", "name", group, "versions",
			      "groupVersion", gv, "version", version, "preferredVersion",
			      "groupVersion", gv, "version", version);

	free(gv);
	return g;
}

static json_t *resource_json(const char *name, bool namespaced, const char *kind)
{
	return json_pack("{s:s,s:s,s:b,s:s,s:[s]}", "name", name, "singularName", "", "namespaced",
			 namespaced, "kind", kind, "verbs", "get");
}

/* One APIResourceList entry per metric name the objects carry (a
 * placeholder when none, as KEDA's: an empty list is not cached). */
static void resource_list(struct sim_cluster *c, bool external, struct sim_response *resp)
{
	struct sim_snapshot snap;
	json_t *names = json_object(), *resources = json_array(), *one;
	const char *kind = external ? "ExternalMetricValueList" : "MetricValueList";
	const char *name;
	char *gv;

	query(c, external ? "configmaps" : "pods", NULL, NULL, &snap);
	for (size_t i = 0; i < snap.n; i++) {
		json_t *obj = sim_obj_load(snap.objs[i]);
		const json_t *anns = jpath_get(obj, "metadata.annotations");
		const char *k, *m = annotation(obj, ANN_EXTERNAL);
		json_t *v;

		if (external && m)
			json_object_set_new(names, m, json_true());
		json_object_foreach((json_t *)(external ? NULL : anns), k, v) {
			if (strncmp(k, ANN_POD_PREFIX, strlen(ANN_POD_PREFIX)) == 0 &&
			    k[strlen(ANN_POD_PREFIX)]) {
				char *res = xasprintf("pods/%s", k + strlen(ANN_POD_PREFIX));

				json_object_set_new(names, res, json_true());
				free(res);
			}
		}
		json_decref(obj);
	}
	sim_snapshot_clear(&snap);
	json_object_foreach(names, name, one)
		json_array_append_new(resources, resource_json(name, true, kind));
	if (json_array_size(resources) == 0)
		json_array_append_new(resources, resource_json(external ? "externalmetrics"
									 : "custommetrics",
							       external, kind));
	gv = xasprintf("%s/%s", external ? EXT_GROUP : CUSTOM_GROUP,
		       external ? EXT_VERSION : CUSTOM_VERSION);
	sim_response_json(resp, 200, json_pack("{s:s,s:s,s:s,s:o}", "kind", "APIResourceList",
					       "apiVersion", "v1", "groupVersion", gv,
					       "resources", resources));
	free(gv);
	json_decref(names);
}

/* ---- routing --------------------------------------------------------------------------- */

static bool is(const struct sim_segments *s, size_t i, const char *v)
{
	return i < s->n && strcmp(s->v[i], v) == 0;
}

static void route(struct sim_cluster *c, const struct sim_request *req, const struct sim_segments *s,
		  struct sim_response *resp)
{
	bool ext = is(s, 1, EXT_GROUP) && is(s, 2, EXT_VERSION);
	bool custom = is(s, 1, CUSTOM_GROUP) && is(s, 2, CUSTOM_VERSION);

	if (s->n == 1 && is(s, 0, "apis")) {
		sim_response_json(resp, 200, json_pack("{s:s,s:s,s:[oo]}", "kind", "APIGroupList",
						       "apiVersion", "v1", "groups",
						       group_json(EXT_GROUP, EXT_VERSION),
						       group_json(CUSTOM_GROUP, CUSTOM_VERSION)));
	} else if (!is(s, 0, "apis") || !(ext || custom)) {
		sim_response_status(resp, 404, "NotFound",
				    "the server could not find the requested resource");
	} else if (s->n == 3) {
		resource_list(c, ext, resp);
	} else if (ext && s->n == 6 && is(s, 3, "namespaces")) {
		external_list(c, req, s->v[4], s->v[5], resp);
	} else if (custom && s->n == 8 && is(s, 3, "namespaces") && is(s, 5, "pods")) {
		custom_pods(c, req, s->v[4], s->v[6], s->v[7], resp);
	} else if (custom && s->n == 8 && is(s, 3, "namespaces")) { /* only pods carry values */
		metric_not_found(resp, s->v[7], s->v[5], strcmp(s->v[6], "*") ? s->v[6] : NULL);
	} else {
		sim_response_status(resp, 404, "NotFound",
				    "the server could not find the requested resource");
	}
}

void sim_provider_handle(struct sim_cluster *c, const struct sim_request *req,
			 struct sim_response *resp)
{
	struct sim_segments s;

	if (strcmp(req->method, "GET") != 0) {
		sim_response_status(resp, 405, "MethodNotAllowed",
				    "the server does not allow this method on the requested "
				    "resource");
		return;
	}
	sim_path_split(req->path, &s);
	if (s.too_many)
		sim_response_status(resp, 404, "NotFound",
				    "the server could not find the requested resource");
	else
		route(c, req, &s, resp);
	sim_path_segments_free(&s);
}
