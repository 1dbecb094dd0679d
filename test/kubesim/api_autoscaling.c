/*
 * api_autoscaling.c - autoscaling/v2 HorizontalPodAutoscalers: defaults
 * and the Table columns of `kubectl get hpa` (v1.32 printer).
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

/* "50%" / "200m" / "<unknown>" of a MetricTarget or MetricValueStatus. */
static void metric_value(const json_t *v, char *buf, size_t len)
{
	json_t *util = json_object_get(v, "averageUtilization");
	const char *avg = json_string_value(json_object_get(v, "averageValue"));
	const char *val = json_string_value(json_object_get(v, "value"));

	if (json_is_integer(util))
		snprintf(buf, len, "%lld%%", (long long)json_integer_value(util));
	else if (avg)
		snprintf(buf, len, "%s", avg);
	else if (val)
		snprintf(buf, len, "%s", val);
	else
		snprintf(buf, len, "<unknown>");
}

/* The current value reported for metric spec m, or NULL. */
static const json_t *current_for(const json_t *hpa, const json_t *m)
{
	const char *type = json_string_value(json_object_get(m, "type"));
	const char *name = sim_json_path_str(m, "resource.name");
	json_t *cur = sim_json_path(hpa, "status.currentMetrics"), *c;
	size_t i;

	json_array_foreach(cur, i, c) {
		const char *ct = json_string_value(json_object_get(c, "type"));
		const char *cn = sim_json_path_str(c, "resource.name");

		if (ct && type && strcmp(ct, type) == 0 && cn && name && strcmp(cn, name) == 0)
			return sim_json_path(c, "resource.current");
	}
	return NULL;
}

static void targets_cell(const json_t *hpa, json_t *cells)
{
	json_t *metrics = sim_json_path(hpa, "spec.metrics"), *m;
	struct dynbuf b;
	size_t i;

	dynbuf_init(&b, DYN_SMALL);
	json_array_foreach(metrics, i, m) {
		const char *name = sim_json_path_str(m, "resource.name");
		const json_t *cur = current_for(hpa, m);
		char want[64], have[64];

		metric_value(sim_json_path(m, "resource.target"), want, sizeof(want));
		if (cur)
			metric_value(cur, have, sizeof(have));
		else
			snprintf(have, sizeof(have), "<unknown>");
		if (dynbuf_printf(&b, "%s%s: %s/%s", i ? ", " : "", name ? name : "metric", have,
				  want))
			break;
	}
	sim_cell_str(cells, b.len ? b.buf : "<none>");
	dynbuf_release(&b);
}

static void hpa_cells(const json_t *obj, json_t *cells, int64_t now)
{
	char ref[300], min[24];

	sim_cell_name(cells, obj);
	snprintf(ref, sizeof(ref), "%s/%s", sim_json_path_str(obj, "spec.scaleTargetRef.kind") ?: "",
		 sim_json_path_str(obj, "spec.scaleTargetRef.name") ?: "");
	sim_cell_str(cells, ref);
	targets_cell(obj, cells);
	snprintf(min, sizeof(min), "%lld",
		 (long long)json_integer_value(sim_json_path(obj, "spec.minReplicas")));
	sim_cell_str(cells, min);
	sim_cell_int(cells, json_integer_value(sim_json_path(obj, "spec.maxReplicas")));
	sim_cell_int(cells, json_integer_value(sim_json_path(obj, "status.currentReplicas")));
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
