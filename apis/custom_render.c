/*
 * custom_render.c - the bodies of custom.metrics.k8s.io and
 * external.metrics.k8s.io (kubernetes/metrics pkg/apis/{custom,external}_
 * metrics/{v1beta1,v1beta2}/types.go field order; custom-external.md §1.4, §2):
 *
 *   v1beta1 item  describedObject, metricName, timestamp, value, selector
 *   v1beta2 item  describedObject, metric{name, selector}, timestamp, value
 *   external item metricName, metricLabels, timestamp, value
 *
 * No window field: the adapter sets none (§4.2).  The selector echo is
 * metav1.ParseToLabelSelector's LabelSelector (§4.2).
 */
#include "apis/apis_int.h"

#include <stdio.h>
#include <string.h>

#define VALUE_LEN 48

/* Kinds of the group-resources an HPA's Object metric usually names. */
static const struct known_kind {
	const char *group, *resource, *kind, *api_version;
} KNOWN_KINDS[] = {
	{ "", "configmaps", "ConfigMap", "v1" },
	{ "", "endpoints", "Endpoints", "v1" },
	{ "", "namespaces", "Namespace", "v1" },
	{ "", "nodes", "Node", "v1" },
	{ "", "persistentvolumeclaims", "PersistentVolumeClaim", "v1" },
	{ "", "persistentvolumes", "PersistentVolume", "v1" },
	{ "", "pods", "Pod", "v1" },
	{ "", "replicationcontrollers", "ReplicationController", "v1" },
	{ "", "secrets", "Secret", "v1" },
	{ "", "serviceaccounts", "ServiceAccount", "v1" },
	{ "", "services", "Service", "v1" },
	{ "apps", "daemonsets", "DaemonSet", "apps/v1" },
	{ "apps", "deployments", "Deployment", "apps/v1" },
	{ "apps", "replicasets", "ReplicaSet", "apps/v1" },
	{ "apps", "statefulsets", "StatefulSet", "apps/v1" },
	{ "autoscaling", "horizontalpodautoscalers", "HorizontalPodAutoscaler", "autoscaling/v2" },
	{ "batch", "cronjobs", "CronJob", "batch/v1" },
	{ "batch", "jobs", "Job", "batch/v1" },
	{ "networking.k8s.io", "ingresses", "Ingress", "networking.k8s.io/v1" },
	{ "policy", "poddisruptionbudgets", "PodDisruptionBudget", "policy/v1" },
};

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

void apis__described_kind(const char *group, const char *resource, char *kind, size_t len,
			 const char **api_version)
{
	size_t n = strlen(resource);

	for (size_t i = 0; i < COMMON_ARRAY_LEN(KNOWN_KINDS); i++) {
		const struct known_kind *k = &KNOWN_KINDS[i];

		if (strcmp(k->group, group) == 0 && strcmp(k->resource, resource) == 0) {
			snprintf(kind, len, "%s", k->kind);
			*api_version = k->api_version;
			return;
		}
	}
	/* Unknown (a CRD): its version cannot be known without discovery, so
	 * apiVersion is left out (omitempty); the kind is the singular. */
	*api_version = NULL;
	if (ends_with(resource, n, "ies") && n > 3)
		snprintf(kind, len, "%.*sy", (int)(n - 3), resource);
	else if (ends_with(resource, n, "sses") || ends_with(resource, n, "xes") ||
		 ends_with(resource, n, "ches") || ends_with(resource, n, "shes"))
		snprintf(kind, len, "%.*s", (int)(n - 2), resource);
	else if (ends_with(resource, n, "s") && n > 1)
		snprintf(kind, len, "%.*s", (int)(n - 1), resource);
	else
		snprintf(kind, len, "%s", resource);
	if (kind[0] >= 'a' && kind[0] <= 'z')
		kind[0] = (char)(kind[0] - 'a' + 'A');
}

/* ---- the selector echo ------------------------------------------------------- */

static const char *expression_op(enum selector_op op)
{
	switch (op) {
	case SELECTOR_IN: return "In";
	case SELECTOR_NOTIN: return "NotIn";
	case SELECTOR_EXISTS: return "Exists";
	case SELECTOR_NOTEXISTS: return "DoesNotExist";
	default: return NULL;
	}
}

/* ParseToLabelSelector's refusals, in requirement order. */
static bool echo_check(const struct selector *sel, char *err, size_t errlen)
{
	for (size_t i = 0; i < selector_count(sel); i++) {
		const char *const *vals;
		size_t nv;
		enum selector_op op;

		(void)selector_requirement(sel, i, &op, &vals, &nv);
		if (op == SELECTOR_NEQ) {
			snprintf(err, errlen, "\"!=\" is not a valid label selector operator");
			return false;
		}
		if (op == SELECTOR_GT || op == SELECTOR_LT) {
			snprintf(err, errlen, "\"%s\" isn't supported in label selectors",
				 op == SELECTOR_GT ? "gt" : "lt");
			return false;
		}
	}
	return true;
}

static bool is_label(enum selector_op op)
{
	return op == SELECTOR_EQ || op == SELECTOR_DEQ;
}

/* matchLabels: a map, so a key given twice keeps its last value. */
static int echo_labels(const struct selector *sel, struct dynbuf *out)
{
	size_t n = selector_count(sel);
	bool first = true;
	int rc = ERR_OK;

	for (size_t i = 0; !rc && i < n; i++) {
		const char *const *vals, *const *v2;
		size_t nv, nv2, j;
		enum selector_op op, op2;
		const char *key = selector_requirement(sel, i, &op, &vals, &nv);

		if (!is_label(op))
			continue;
		for (j = i + 1; j < n; j++)
			if (strcmp(selector_requirement(sel, j, &op2, &v2, &nv2), key) == 0 &&
			    is_label(op2))
				break;
		if (j < n)
			continue;
		rc = dynbuf_addstr(out, first ? "\"matchLabels\":{" : ",");
		first = false;
		if (!rc)
			rc = jsonw_key(out, key);
		if (!rc)
			rc = jsonw_string(out, nv ? vals[0] : "");
	}
	return rc || first ? rc : dynbuf_addch(out, '}');
}

static int echo_expressions(const struct selector *sel, struct dynbuf *out, bool after)
{
	bool first = true;
	int rc = ERR_OK;

	for (size_t i = 0; !rc && i < selector_count(sel); i++) {
		const char *const *vals;
		size_t nv;
		enum selector_op op;
		const char *key = selector_requirement(sel, i, &op, &vals, &nv);

		if (!expression_op(op))
			continue;
		rc = dynbuf_addstr(out, first ? (after ? ",\"matchExpressions\":[{\"key\":"
						     : "\"matchExpressions\":[{\"key\":")
					      : ",{\"key\":");
		first = false;
		if (!rc)
			rc = jsonw_string(out, key);
		if (!rc)
			rc = dynbuf_printf(out, ",\"operator\":\"%s\"", expression_op(op));
		for (size_t k = 0; !rc && k < nv; k++) {
			rc = dynbuf_addstr(out, k ? "," : ",\"values\":[");
			if (!rc)
				rc = jsonw_string(out, vals[k]);
		}
		if (!rc && nv)
			rc = dynbuf_addch(out, ']');
		if (!rc)
			rc = dynbuf_addch(out, '}');
	}
	return rc || first ? rc : dynbuf_addch(out, ']');
}

int apis__selector_echo(const struct selector *sel, struct dynbuf *out, char *err, size_t errlen)
{
	size_t before;
	int rc;

	if (!sel || selector_empty(sel))
		return dynbuf_addstr(out, "null");
	if (!echo_check(sel, err, errlen))
		return ERR_INVAL;
	rc = dynbuf_addch(out, '{');
	before = out->len;
	if (!rc)
		rc = echo_labels(sel, out);
	if (!rc)
		rc = echo_expressions(sel, out, out->len != before);
	return rc ? rc : dynbuf_addch(out, '}');
}

/* ---- MetricValueList ---------------------------------------------------------- */

/* The last timestamp formatted: every item of a list has the same one. */
struct ts_cache {
	int64_t t_ms;
	char text[40];
};

static int write_time_value(struct dynbuf *b, struct ts_cache *tc, int64_t t_ms, double v)
{
	char val[VALUE_LEN];
	int rc;

	if (!tc->text[0] || tc->t_ms != t_ms) {
		fmt_rfc3339(t_ms * NS_PER_MS, tc->text, sizeof(tc->text));
		tc->t_ms = t_ms;
	}
	custom_value_string(v, val, sizeof(val));
	if ((rc = dynbuf_addstr(b, ",\"timestamp\":\"")) || (rc = dynbuf_addstr(b, tc->text)) ||
	    (rc = dynbuf_addstr(b, "\",\"value\":\"")) || (rc = dynbuf_addstr(b, val)))
		return rc;
	return dynbuf_addch(b, '"');
}

static int write_described(struct dynbuf *b, const struct apis_cm_list *l, const char *name)
{
	int rc = dynbuf_addstr(b, "{\"describedObject\":{\"kind\":");

	if (!rc)
		rc = jsonw_string(b, l->kind);
	if (!rc && l->ns) {
		rc = dynbuf_addstr(b, ",\"namespace\":");
		if (!rc)
			rc = jsonw_string(b, l->ns);
	}
	if (!rc)
		rc = dynbuf_addstr(b, ",\"name\":");
	if (!rc)
		rc = jsonw_string(b, name);
	if (!rc && l->api_version) {
		rc = dynbuf_addstr(b, ",\"apiVersion\":");
		if (!rc)
			rc = jsonw_string(b, l->api_version);
	}
	return rc ? rc : dynbuf_addch(b, '}');
}

static int write_metric_value(struct dynbuf *b, const struct apis_cm_list *l,
			      const struct custom_object_value *v, struct ts_cache *tc)
{
	int rc = write_described(b, l, v->name);

	if (!rc)
		rc = dynbuf_addstr(b, l->version == CM_V1BETA1 ? ",\"metricName\":"
							     : ",\"metric\":{\"name\":");
	if (!rc)
		rc = jsonw_string(b, l->metric);
	if (!rc && l->version == CM_V1BETA2 && !(rc = dynbuf_addstr(b, ",\"selector\":")) &&
	    !(rc = dynbuf_addstr(b, l->selector)))
		rc = dynbuf_addch(b, '}');
	if (!rc)
		rc = write_time_value(b, tc, v->t_ms, v->value);
	if (!rc && l->version == CM_V1BETA1 && !(rc = dynbuf_addstr(b, ",\"selector\":")))
		rc = dynbuf_addstr(b, l->selector);
	return rc ? rc : dynbuf_addch(b, '}');
}

int apis__write_metric_values(struct dynbuf *b, const struct apis_cm_list *l)
{
	struct ts_cache tc = { 0, "" };
	int rc = dynbuf_printf(b, "{\"kind\":\"MetricValueList\",\"apiVersion\":\"" CM_GROUP
				  "/%s\",\"metadata\":{},\"items\":[",
			       l->version == CM_V1BETA1 ? "v1beta1" : "v1beta2");

	for (size_t i = 0; !rc && i < l->n; i++) {
		rc = i ? dynbuf_addch(b, ',') : ERR_OK;
		if (!rc)
			rc = write_metric_value(b, l, &l->v[i], &tc);
	}
	return rc ? rc : dynbuf_addstr(b, "]}");
}

/* ---- ExternalMetricValueList -------------------------------------------------- */

/* metricLabels: the adapter builds a non-nil map for every vector sample,
 * so no labels print as {} (custom.h gives a scalar as no labels too). */
static int write_labels(struct dynbuf *b, const struct labels *l)
{
	int rc = dynbuf_addstr(b, ",\"metricLabels\":{");

	for (size_t i = 0; !rc && i < l->n; i++) {
		rc = i ? dynbuf_addch(b, ',') : ERR_OK;
		if (!rc)
			rc = jsonw_key(b, l->items[i].key);
		if (!rc)
			rc = jsonw_string(b, l->items[i].value);
	}
	return rc ? rc : dynbuf_addch(b, '}');
}

int apis__write_external_values(struct dynbuf *b, const char *metric,
			       const struct custom_external_values *v)
{
	struct ts_cache tc = { 0, "" };
	int rc = dynbuf_addstr(b, "{\"kind\":\"ExternalMetricValueList\",\"apiVersion\":\"" EM_GV
				  "\",\"metadata\":{},\"items\":[");

	for (size_t i = 0; !rc && i < v->n; i++) {
		rc = dynbuf_addstr(b, i ? ",{\"metricName\":" : "{\"metricName\":");
		if (!rc)
			rc = jsonw_string(b, metric);
		if (!rc)
			rc = write_labels(b, &v->v[i].labels);
		if (!rc)
			rc = write_time_value(b, &tc, v->v[i].t_ms, v->v[i].value);
		if (!rc)
			rc = dynbuf_addch(b, '}');
	}
	return rc ? rc : dynbuf_addstr(b, "]}");
}
