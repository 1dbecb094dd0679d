/*
 * fetch.c - what the metrics APIs would answer the controller, taken from
 * the values given in the input: PodMetrics filtered by the scale selector,
 * custom MetricValues for pods or one object, ExternalMetricValues filtered
 * by the metric selector, with the APIs' and metrics client's error texts.
 */
#include "hpa/hpa_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNAVAILABLE "the server is currently unable to handle the request"

/* The labels of the listed pod named `name`; false if no such pod is listed. */
static bool find_pod_labels(const struct hpa__pass *p, const char *name, const json_t **labels)
{
	const json_t *pod;
	size_t i;

	json_array_foreach(p->in->pods, i, pod) {
		const char *pns = jpath_str(pod, "metadata.namespace");
		const char *pn = jpath_str(pod, "metadata.name");

		if (pn && strcmp(pn, name) == 0 && (!pns || strcmp(pns, p->ns) == 0)) {
			*labels = jpath_get(pod, "metadata.labels");
			return true;
		}
	}
	return false;
}

/*
 * Would the API return the value for object `name` (labels, or NULL to use
 * the listed pod's)?  Values for pods the cache does not know are returned
 * (they become upstream's "superfluous" metrics).
 */
static bool labels_match(const struct hpa__pass *p, const char *name, const json_t *labels)
{
	struct labels l;
	bool ok;

	if (!labels && !find_pod_labels(p, name, &labels))
		return true;
	hpa_labels_from_json(labels, &l);
	ok = selector_matches(p->selector, &l);
	labels_clear(&l);
	return ok;
}

static bool ns_ok(const struct hpa__pass *p, const char *ns)
{
	return !ns || strcmp(ns, p->ns) == 0;
}

/* One PodMetrics item's value: the pod's sum, or one container's value. */
static bool pod_metrics_value(const json_t *item, const char *res, const char *container,
			      int64_t *v)
{
	const json_t *cs = jpath_array(item, "containers"), *c;
	size_t i;
	int64_t sum = 0, x;

	if (!cs || (json_array_size(cs) == 0 && !*container))
		return false;
	json_array_foreach(cs, i, c) {
		const char *n = jpath_str(c, "name");
		const json_t *q = json_object_get(jpath_get(c, "usage"), res);

		if (*container) {
			if (!n || strcmp(n, container) != 0)
				continue;
			if (!q || hpa__jmilli(q, &x) != 0)
				return false;
			*v = x;
			return true;
		}
		if (!q || hpa__jmilli(q, &x) != 0)
			return false;
		sum = (x > 0 && sum > INT64_MAX - x) ? INT64_MAX : sum + x;
	}
	if (*container)
		return false;
	*v = sum;
	return true;
}

int hpa__fetch_resource(const struct hpa__pass *p, const char *res, const char *container,
		       struct hpa__fetched *f, char **err)
{
	const json_t *item;
	size_t i, listed = 0;

	memset(f, 0, sizeof(*f));
	if (p->in->failing_apis & HPA_API_RESOURCE) {
		*err = xasprintf("unable to get metrics for resource %s: unable to fetch metrics "
				 "from resource metrics API: " UNAVAILABLE " (get pods.metrics.k8s.io)",
				 res);
		return ERR_IO;
	}
	f->v = xcalloc(json_array_size(p->in->pod_metrics) + 1, sizeof(*f->v));
	json_array_foreach(p->in->pod_metrics, i, item) {
		const char *name = jpath_str(item, "metadata.name");
		struct hpa__pod_metric *m = &f->v[f->n];

		if (!name || !ns_ok(p, jpath_str(item, "metadata.namespace")) ||
		    !labels_match(p, name, jpath_get(item, "metadata.labels")))
			continue;
		listed++;
		if (!pod_metrics_value(item, res, container, &m->value))
			continue;
		m->pod = name;
		if (hpa__jtime(item, "timestamp", &m->ts) != 0 || !jpath_str(item, "window") ||
		    parse_go_duration(jpath_str(item, "window"), &m->window) != 0)
			m->window = 0;
		f->n++;
	}
	if (listed == 0) {
		*err = xasprintf("unable to get metrics for resource %s: no metrics returned from "
				 "resource metrics API",
				 res);
		return ERR_NOTFOUND;
	}
	return 0;
}

/* A MetricValue's metric.selector must be the one asked for (when echoed). */
static bool metric_id_match(const json_t *item, const char *metric, const json_t *sel)
{
	const char *n = jpath_str(item, "metric.name");
	const json_t *isel = jpath_get(item, "metric.selector");

	if (!n)
		n = jpath_str(item, "metricName");
	if (!n || strcmp(n, metric) != 0)
		return false;
	if (!isel || json_is_null(isel))
		return true;
	if (!sel || json_is_null(sel))
		return json_object_size(isel) == 0;
	return json_equal((json_t *)isel, (json_t *)sel);
}

int hpa__fetch_pods(const struct hpa__pass *p, const char *metric, const json_t *msel,
		   struct hpa__fetched *f, char **err)
{
	const json_t *item;
	size_t i;

	memset(f, 0, sizeof(*f));
	if (p->in->failing_apis & HPA_API_CUSTOM) {
		*err = xasprintf("unable to get metric %s: unable to fetch metrics from custom "
				 "metrics API: " UNAVAILABLE " (get pods.custom.metrics.k8s.io *)",
				 metric);
		return ERR_IO;
	}
	f->v = xcalloc(json_array_size(p->in->custom_metrics) + 1, sizeof(*f->v));
	json_array_foreach(p->in->custom_metrics, i, item) {
		const char *kind = jpath_str(item, "describedObject.kind");
		const char *name = jpath_str(item, "describedObject.name");
		struct hpa__pod_metric *m = &f->v[f->n];

		if (!kind || strcmp(kind, "Pod") != 0 || !name ||
		    !ns_ok(p, jpath_str(item, "describedObject.namespace")) ||
		    !metric_id_match(item, metric, msel) || !labels_match(p, name, NULL) ||
		    hpa__jmilli(jpath_get(item, "value"), &m->value) != 0)
			continue;
		m->pod = name;
		if (hpa__jtime(item, "timestamp", &m->ts) != 0)
			m->ts = HPA_TIME_ZERO;
		m->window = jpath_int(item, "windowSeconds", 60) * NS_PER_SEC;
		f->n++;
	}
	if (f->n == 0) {
		*err = xasprintf("unable to get metric %s: no metrics returned from custom metrics "
				 "API",
				 metric);
		return ERR_NOTFOUND;
	}
	return 0;
}

char *hpa_group_resource(const char *api_version, const char *kind)
{
	const char *slash = api_version ? strchr(api_version, '/') : NULL;
	size_t n = strlen(kind);
	char *lower = xstrdup(kind), *plural, *gr;
	const char *suffix = "s";

	for (size_t i = 0; i < n; i++)
		lower[i] = (char)(lower[i] >= 'A' && lower[i] <= 'Z' ? lower[i] + 32 : lower[i]);
	if (n && (lower[n - 1] == 's' || lower[n - 1] == 'x' || lower[n - 1] == 'z' ||
		  (n > 1 && lower[n - 1] == 'h' && (lower[n - 2] == 'c' || lower[n - 2] == 's'))))
		suffix = "es";
	else if (n > 1 && lower[n - 1] == 'y' && !strchr("aeiou", lower[n - 2])) {
		lower[n - 1] = '\0';
		suffix = "ies";
	}
	plural = xasprintf("%s%s", lower, suffix);
	if (slash && slash != api_version)
		gr = xasprintf("%s.%.*s", plural, (int)(slash - api_version), api_version);
	else
		gr = xstrdup(plural);
	free(lower);
	free(plural);
	return gr;
}

/* The single MetricValue for the described object; ERR_NOTFOUND with a message. */
static int find_object_value(const struct hpa__pass *p, const json_t *obj, const char *metric,
			     const json_t *msel, const char *gr, int64_t *value, char **msg)
{
	const char *kind = jpath_str(obj, "kind"), *name = jpath_str(obj, "name");
	bool is_ns = kind && strcmp(kind, "Namespace") == 0;
	const json_t *item;
	size_t i, found = 0;

	if (is_ns)
		name = p->ns;
	json_array_foreach(p->in->custom_metrics, i, item) {
		const char *k = jpath_str(item, "describedObject.kind");
		const char *n = jpath_str(item, "describedObject.name");

		if (!k || !n || !kind || !name || strcmp(k, kind) != 0 || strcmp(n, name) != 0 ||
		    (!is_ns && !ns_ok(p, jpath_str(item, "describedObject.namespace"))) ||
		    !metric_id_match(item, metric, msel))
			continue;
		if (hpa__jmilli(jpath_get(item, "value"), value) != 0)
			continue;
		found++;
	}
	if (found == 1)
		return 0;
	if (found == 0)
		*msg = xasprintf("the server could not find the metric %s for %s %s", metric, gr,
				 name ? name : "");
	else
		*msg = xasprintf("the custom metrics API server returned %zu results when we asked "
				 "for exactly one",
				 found);
	return ERR_NOTFOUND;
}

int hpa__fetch_object(const struct hpa__pass *p, const json_t *obj, const char *metric,
		     const json_t *msel, int64_t *value, char **err)
{
	const char *kind = jpath_str(obj, "kind"), *name = jpath_str(obj, "name");
	char *gr = hpa_group_resource(jpath_str(obj, "apiVersion"), kind ? kind : "");
	char *msg = NULL;
	int rc = ERR_IO;

	if (p->in->failing_apis & HPA_API_CUSTOM)
		msg = xasprintf(UNAVAILABLE " (get %s.custom.metrics.k8s.io %s)", gr,
				name ? name : "");
	else
		rc = find_object_value(p, obj, metric, msel, gr, value, &msg);
	if (rc != 0)
		*err = xasprintf("unable to get metric %s on %s %s/%s: unable to fetch metrics from "
				 "custom metrics API: %s",
				 metric, kind ? kind : "", p->ns, name ? name : "", msg);
	free(gr);
	free(msg);
	return rc;
}

/* Sum with upstream's two overflow styles (Value: cap before adding; AverageValue: after). */
static int64_t add_usage(int64_t usage, int64_t v, bool per_pod, bool *capped)
{
	int64_t s;

	if (!per_pod && v > 0 && usage > INT64_MAX - v) {
		*capped = true;
		return INT64_MAX;
	}
	if (__builtin_add_overflow(usage, v, &s) || (per_pod && s < 0)) {
		*capped = true;
		return INT64_MAX;
	}
	return s;
}

int hpa__fetch_external(const struct hpa__pass *p, const char *metric, const json_t *msel,
		       bool per_pod, int64_t *usage, char **err)
{
	char serr[256], *gostr = hpa__label_selector_gostr(msel);
	struct selector *sel = hpa_label_selector(msel, serr, sizeof(serr));
	const json_t *item;
	size_t i, n = 0;
	bool capped = false;
	int rc = 0;

	*usage = 0;
	if (!sel) {
		*err = xstrdup(serr);
		rc = ERR_INVAL;
	} else if (p->in->failing_apis & HPA_API_EXTERNAL) {
		*err = xasprintf("unable to get external metric %s/%s/%s: unable to fetch metrics "
				 "from external metrics API: " UNAVAILABLE
				 " (get %s.external.metrics.k8s.io)",
				 p->ns, metric, gostr, metric);
		rc = ERR_IO;
	}
	json_array_foreach(rc == 0 ? p->in->external_metrics : NULL, i, item) {
		const char *mn = jpath_str(item, "metricName");
		struct labels l;
		bool match;
		int64_t v;

		if (!mn || strcmp(mn, metric) != 0 || hpa__jmilli(jpath_get(item, "value"), &v) != 0)
			continue;
		hpa_labels_from_json(jpath_get(item, "metricLabels"), &l);
		match = selector_matches(sel, &l);
		labels_clear(&l);
		if (match && ++n && !capped)
			*usage = add_usage(*usage, v, per_pod, &capped);
	}
	if (rc == 0 && n == 0) {
		*err = xasprintf("unable to get external metric %s/%s/%s: no metrics returned from "
				 "external metrics API",
				 p->ns, metric, gostr);
		rc = ERR_NOTFOUND;
	}
	selector_free(sel);
	free(gostr);
	return rc;
}

void hpa__fetched_clear(struct hpa__fetched *f)
{
	free(f->v);
	f->v = NULL;
	f->n = 0;
}
