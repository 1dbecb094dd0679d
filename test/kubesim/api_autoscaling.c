/*
 * api_autoscaling.c - autoscaling/v2 HorizontalPodAutoscalers: defaults
 * and the Table columns of `kubectl get hpa` (v1.32 printer, every
 * metric source type).
 */
#include "test/kubesim/apiserver.h"

#include <stdio.h>
#include <string.h>

static void hpa_defaults(json_t *obj, bool create)
{
	json_t *spec = json_object_get(obj, "spec");

	if (json_is_object(spec) && !json_object_get(spec, "minReplicas"))
		json_object_set_new(spec, "minReplicas", json_integer(1));
	if (create && !json_object_get(obj, "status"))
		json_object_set_new(obj, "status", json_pack("{s:i}", "desiredReplicas", 0));
}

static const struct sim_column hpa_cols[] = {
	{ "Name", "string", "name", "Name must be unique within a namespace.", 0 },
	{ "Reference", "string", "", "reference to scaled resource", 0 },
	{ "Targets", "string", "", "the current and target metric values", 0 },
	{ "MinPods", "string", "", "Lower limit for the number of pods.", 0 },
	{ "MaxPods", "integer", "", "Upper limit for the number of pods.", 0 },
	{ "Replicas", "integer", "", "Current number of replicas.", 0 },
	{ "Age", "string", "", "CreationTimestamp is a timestamp.", 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

#define TARGETS_SHOWN 2 /* formatHPAMetrics' maximum */

/* Quantity.String() of the JSON Quantity at path in v into buf; false when absent. */
static bool quantity_at(const json_t *v, const char *path, char *buf, size_t len)
{
	const json_t *q = jpath_get(v, path);
	struct quantity parsed;

	if (json_is_string(q) && quantity_parse(json_string_value(q), &parsed) == 0)
		quantity_format(&parsed, buf, len);
	else if (json_is_string(q))
		snprintf(buf, len, "%s", json_string_value(q));
	else if (json_is_integer(q))
		snprintf(buf, len, "%lld", (long long)json_integer_value(q));
	else
		return false;
	return true;
}

/* "<have>/<want>" of Pods (AverageValue), Object and External (Value, or
 * AverageValue with " (avg)"): key is the source member, cur the status
 * entry at the metric's index or NULL. */
static void value_target(struct dynbuf *b, const json_t *m, const json_t *cur, const char *key)
{
	const json_t *src = jpath_get(m, key), *cs = cur ? jpath_get(cur, key) : NULL;
	bool pods = strcmp(key, "pods") == 0;
	bool avg = pods || jpath_get(src, "target.averageValue") != NULL;
	char want[64] = "", have[64] = "<unknown>";

	quantity_at(src, avg ? "target.averageValue" : "target.value", want, sizeof(want));
	if (cs)
		quantity_at(cs, avg ? "current.averageValue" : "current.value", have, sizeof(have));
	(void)!dynbuf_printf(b, "%s/%s%s", have, want, avg && !pods ? " (avg)" : "");
}

/* Resource / ContainerResource: "cpu: 40%/50%" or "memory: 300Mi/500Mi". */
static void resource_target(struct dynbuf *b, const json_t *m, const json_t *cur, const char *key)
{
	char want[64] = "<auto>", have[64] = "<unknown>";
	const json_t *util, *src = jpath_get(m, key), *cs = cur ? jpath_get(cur, key) : NULL;
	const char *name = jpath_str(src, "name");

	if (jpath_get(src, "target.averageValue")) {
		quantity_at(src, "target.averageValue", want, sizeof(want));
		if (cs)
			quantity_at(cs, "current.averageValue", have, sizeof(have));
	} else {
		util = jpath_get(src, "target.averageUtilization");
		if (json_is_integer(util))
			snprintf(want, sizeof(want), "%lld%%", (long long)json_integer_value(util));
		util = jpath_get(cs, "current.averageUtilization");
		if (json_is_integer(util))
			snprintf(have, sizeof(have), "%lld%%", (long long)json_integer_value(util));
	}
	(void)!dynbuf_printf(b, "%s: %s/%s", name ? name : "", have, want);
}

/* formatHPAMetrics (v1.32 printer): one entry per spec metric, its current
 * value from status.currentMetrics at the same index, at most two shown. */
static void targets_cell(const json_t *hpa, json_t *cells)
{
	json_t *metrics = jpath_get(hpa, "spec.metrics"), *m;
	const json_t *statuses = jpath_get(hpa, "status.currentMetrics");
	struct dynbuf b;
	size_t i, n = json_array_size(metrics);

	dynbuf_init(&b, DYN_SMALL);
	json_array_foreach(metrics, i, m) {
		const char *type = jpath_str(m, "type");
		const json_t *cur = json_array_get(statuses, i);

		if (i == TARGETS_SHOWN)
			break;
		if (i)
			(void)!dynbuf_addstr(&b, ", ");
		if (!type)
			(void)!dynbuf_addstr(&b, "<unknown type>");
		else if (strcmp(type, "Resource") == 0)
			resource_target(&b, m, cur, "resource");
		else if (strcmp(type, "ContainerResource") == 0)
			resource_target(&b, m, cur, "containerResource");
		else if (strcmp(type, "Pods") == 0)
			value_target(&b, m, cur, "pods");
		else if (strcmp(type, "Object") == 0)
			value_target(&b, m, cur, "object");
		else if (strcmp(type, "External") == 0)
			value_target(&b, m, cur, "external");
		else
			(void)!dynbuf_addstr(&b, "<unknown type>");
	}
	if (n > TARGETS_SHOWN)
		(void)!dynbuf_printf(&b, " + %zu more...", n - TARGETS_SHOWN);
	sim_cell_str(cells, b.len ? b.buf : "<none>");
	dynbuf_clear(&b);
}

static void hpa_cells(const json_t *obj, json_t *cells, int64_t now)
{
	char ref[300], min[24];

	sim_cell_name(cells, obj);
	snprintf(ref, sizeof(ref), "%s/%s", jpath_str(obj, "spec.scaleTargetRef.kind") ?: "",
		 jpath_str(obj, "spec.scaleTargetRef.name") ?: "");
	sim_cell_str(cells, ref);
	targets_cell(obj, cells);
	snprintf(min, sizeof(min), "%lld",
		 (long long)json_integer_value(jpath_get(obj, "spec.minReplicas")));
	sim_cell_str(cells, min);
	sim_cell_int(cells, json_integer_value(jpath_get(obj, "spec.maxReplicas")));
	sim_cell_int(cells, json_integer_value(jpath_get(obj, "status.currentReplicas")));
	sim_cell_age(cells, obj, now);
}

static const char *const hpa_short[] = { "hpa", NULL };
static const char *const hpa_categories[] = { "all", NULL };

const struct sim_kind sim_kind_hpas = {
	.group = "autoscaling", .version = "v2", .resource = "horizontalpodautoscalers",
	.kind = "HorizontalPodAutoscaler", .singular = "horizontalpodautoscaler",
	.namespaced = true, .short_names = hpa_short, .categories = hpa_categories,
	.subresources = SIM_SUB_STATUS, .generation = true, .columns = hpa_cols,
	.cells = hpa_cells, .defaults = hpa_defaults,
};
