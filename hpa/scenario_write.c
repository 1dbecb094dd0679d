/*
 * scenario_write.c - the inverse of scenario.c: an hpa_input (and the
 * controller history) as a scenario document, so `hpa explain --live
 * --save-scenario` can write what it read and `hpa explain -f` replays
 * it to the same decision.  Times keep their nanoseconds and options are
 * all written out, so loading the document gives back the same input.
 */
#include "hpa/hpa_int.h"

#include <stdio.h>
#include <string.h>

/* RFC 3339 with the fraction Go's RFC3339Nano writes (trailing zeros cut). */
static json_t *time_json(int64_t ns)
{
	int64_t frac = ns % NS_PER_SEC;
	char buf[64], digits[16];
	size_t n;

	if (frac < 0)
		frac += NS_PER_SEC;
	fmt_rfc3339(ns, buf, sizeof(buf));
	if (frac == 0)
		return json_string(buf);
	snprintf(digits, sizeof(digits), "%09lld", (long long)frac);
	for (n = strlen(digits); n > 0 && digits[n - 1] == '0'; n--)
		digits[n - 1] = '\0';
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == 'Z')
		buf[n - 1] = '\0';
	return json_sprintf("%s.%sZ", buf, digits);
}

static json_t *duration_json(int64_t ns)
{
	char buf[48];

	fmt_go_duration(ns, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *controller_json(const struct hpa_options *o)
{
	return json_pack("{s:f,s:o,s:o,s:o,s:f,s:f,s:{s:b,s:b,s:b}}", "tolerance", o->tolerance,
			 "downscaleStabilizationWindowSeconds",
			 duration_json(o->downscale_window_ns), "cpuInitializationPeriodSeconds",
			 duration_json(o->cpu_init_period_ns), "initialReadinessDelaySeconds",
			 duration_json(o->readiness_delay_ns), "scaleUpLimitFactor",
			 o->scale_up_limit_factor, "scaleUpLimitMinimum", o->scale_up_limit_minimum,
			 "featureGates", "HPAScaleToZero", o->gate_scale_to_zero,
			 "HPAConfigurableTolerance", o->gate_configurable_tolerance,
			 "PodLevelResources", o->gate_pod_level_resources);
}

/* NULL when there is nothing to say (never seen, no events): `history` is left out. */
static json_t *history_json(const struct hpa_history *h)
{
	if (!h || (!h->seen && h->n_up == 0 && h->n_down == 0))
		return NULL;
	return hpa__history_json(h, time_json, true);
}

/* NULL when nothing fails. */
static json_t *failures_json(const struct hpa_input *in)
{
	static const char *const groups[] = { "metrics.k8s.io", "custom.metrics.k8s.io",
					      "external.metrics.k8s.io" };
	json_t *f = json_object(), *apis = json_array();

	for (size_t k = 0; k < COMMON_ARRAY_LEN(groups); k++) {
		if (in->failing_apis & (1u << k))
			json_array_append_new(apis, json_string(groups[k]));
	}
	if (json_array_size(apis))
		json_object_set(f, "metricsAPIs", apis);
	json_decref(apis);
	if (in->scale_get_error)
		json_object_set_new(f, "scaleGet", json_string(in->scale_get_error));
	if (in->scale_update_error)
		json_object_set_new(f, "scaleUpdate", json_string(in->scale_update_error));
	if (json_object_size(f) == 0) {
		json_decref(f);
		return NULL;
	}
	return f;
}

/* Sets key to a deep copy of v when v is set. */
static void set_copy(json_t *doc, const char *key, const json_t *v)
{
	if (v)
		json_object_set_new(doc, key, json_deep_copy(v));
}

json_t *hpa_scenario_json(const struct hpa_input *in, const struct hpa_history *history)
{
	json_t *doc = json_object(), *v;

	json_object_set_new(doc, "now", time_json(in->now));
	json_object_set_new(doc, "controller", controller_json(&in->opts));
	set_copy(doc, "horizontalPodAutoscaler", in->hpa);
	set_copy(doc, "scale", in->scale);
	set_copy(doc, "pods", in->pods);
	set_copy(doc, "podMetrics", in->pod_metrics);
	set_copy(doc, "customMetrics", in->custom_metrics);
	set_copy(doc, "externalMetrics", in->external_metrics);
	if ((v = history_json(history)))
		json_object_set_new(doc, "history", v);
	if ((v = failures_json(in)))
		json_object_set_new(doc, "failures", v);
	set_copy(doc, "otherHorizontalPodAutoscalers", in->others);
	return doc;
}
