/*
 * check_hpa_decide.c - one reconcile pass (hpa/decide.c, compute.c,
 * metrics.c, fetch.c, scenario.c) on scenarios built in memory, ported from
 * upstream's horizontal_test.go (each test names its upstream test).
 * Upstream's fixture: pods test-pod-<i> labelled name=test-pod, CPU request
 * 1.0 per pod, usage reportedLevels (milli), recommendations [] unless said.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpa/hpa_int.h"
#include "test/unit/unit.h"

#define NOW_S "2025-01-01T12:00:00Z"

struct hz {
	int min, max, spec;
	int cpu_target;          /* 0: metrics_json given */
	const char *metrics_json; /* spec.metrics, replaces the CPU target */
	int levels[8], n;        /* per-pod CPU usage (milli) */
	int request;             /* per-pod CPU request (milli), 1000 by default */
	const char *selector;    /* scale.status.selector */
	const char *extra;       /* more top-level scenario fields, ",\"k\":v" */
	const char *conditions;  /* status.conditions JSON */
	bool seen;               /* history.recommendations = [] */
};

struct run {
	struct hpa_scenario sc;
	struct hpa_result r;
};

static char *scenario_json(const struct hz *z)
{
	struct dynbuf b;
	char metrics[256];

	dynbuf_init(&b, DYN_SMALL * 4);
	if (z->cpu_target)
		snprintf(metrics, sizeof(metrics),
			 "[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":"
			 "{\"type\":\"Utilization\",\"averageUtilization\":%d}}}]",
			 z->cpu_target);
	ck_assert(dynbuf_printf(&b,
				"{\"now\":\"" NOW_S "\",\"horizontalPodAutoscaler\":{\"metadata\":"
				"{\"name\":\"test-hpa\",\"namespace\":\"test-namespace\"},\"spec\":"
				"{\"scaleTargetRef\":{\"apiVersion\":\"apps/v1\",\"kind\":"
				"\"ReplicationController\",\"name\":\"test-rc\"},\"minReplicas\":%d,"
				"\"maxReplicas\":%d,\"metrics\":%s},\"status\":{\"currentReplicas\":%d,"
				"\"desiredReplicas\":%d%s%s}},\"scale\":{\"spec\":{\"replicas\":%d},"
				"\"status\":{\"replicas\":%d,\"selector\":\"%s\"}}",
				z->min, z->max, z->cpu_target ? metrics : z->metrics_json, z->spec,
				z->spec, z->conditions ? ",\"conditions\":" : "",
				z->conditions ? z->conditions : "", z->spec, z->spec,
				z->selector ? z->selector : "name=test-pod") == 0);
	ck_assert(dynbuf_addstr(&b, ",\"pods\":[") == 0);
	for (int i = 0; i < z->n; i++)
		ck_assert(dynbuf_printf(&b,
					"%s{\"metadata\":{\"name\":\"test-pod-%d\",\"namespace\":"
					"\"test-namespace\",\"labels\":{\"name\":\"test-pod\"}},"
					"\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":"
					"{\"requests\":{\"cpu\":\"%dm\"}}}]},\"status\":{\"phase\":"
					"\"Running\",\"startTime\":\"2025-01-01T10:00:00Z\","
					"\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","
					"\"lastTransitionTime\":\"2025-01-01T10:00:05Z\"}]}}",
					i ? "," : "", i, z->request ? z->request : 1000) == 0);
	ck_assert(dynbuf_addstr(&b, "],\"podMetrics\":[") == 0);
	for (int i = 0; i < z->n; i++)
		ck_assert(dynbuf_printf(&b,
					"%s{\"metadata\":{\"name\":\"test-pod-%d\",\"namespace\":"
					"\"test-namespace\",\"labels\":{\"name\":\"test-pod\"}},"
					"\"timestamp\":\"2025-01-01T11:59:50Z\",\"window\":\"30s\","
					"\"containers\":[{\"name\":\"c\",\"usage\":{\"cpu\":\"%dm\"}}]}",
					i ? "," : "", i, z->levels[i]) == 0);
	ck_assert(dynbuf_printf(&b, "]%s%s}", z->seen ? ",\"history\":{\"recommendations\":[]}" : "",
				z->extra ? z->extra : "") == 0);
	return dynbuf_take(&b, NULL);
}

static void run(const struct hz *z, struct run *out)
{
	char err[256] = "", *text = scenario_json(z);
	int rc = hpa_scenario_parse(text, strlen(text), &out->sc, err, sizeof(err));

	ck_assert_msg(rc == 0, "scenario: %s", err);
	ck_assert_msg(hpa_decide(&out->sc.in, &out->sc.history, &out->r, err, sizeof(err)) == 0,
		      "decide: %s", err);
	free(text);
}

static void done(struct run *r)
{
	hpa_result_clear(&r->r);
	hpa_scenario_clear(&r->sc);
}

/* Reason of a condition type in the result status (NULL if absent). */
static const char *cond(const struct run *r, const char *type, const char **status)
{
	const json_t *c;
	size_t i;

	json_array_foreach(json_object_get(r->r.status, "conditions"), i, c) {
		if (strcmp(jpath_str(c, "type"), type) == 0) {
			if (status)
				*status = jpath_str(c, "status");
			return jpath_str(c, "reason");
		}
	}
	return NULL;
}

static bool has_event(const struct run *r, const char *reason, const char *message)
{
	for (size_t i = 0; i < r->r.n_events; i++) {
		if (strcmp(r->r.events[i].reason, reason) == 0 &&
		    (!message || strcmp(r->r.events[i].message, message) == 0))
			return true;
	}
	return false;
}

#define CPU_UP "cpu resource utilization (percentage of request) above target"

START_TEST(test_scale_up) /* TestScaleUp */
{
	struct hz z = { .min = 2, .max = 6, .spec = 3, .cpu_target = 30, .levels = { 300, 500, 700 },
			.n = 3, .seen = true };
	struct run r;

	run(&z, &r);
	ck_assert_int_eq(r.r.desired, 5);
	ck_assert(r.r.scale_updated);
	ck_assert(has_event(&r, "SuccessfulRescale", "New size: 5; reason: " CPU_UP));
	ck_assert_int_eq(json_integer_value(jpath_get(json_array_get(
				 json_object_get(r.r.status, "currentMetrics"), 0),
						     "resource.current.averageUtilization")),
			 50);
	done(&r);
}
END_TEST

START_TEST(test_scale_down) /* TestScaleDown */
{
	struct hz z = { .min = 2, .max = 6, .spec = 5, .cpu_target = 50,
			.levels = { 100, 300, 500, 250, 250 }, .n = 5, .seen = true };
	struct run r;

	run(&z, &r);
	ck_assert_int_eq(r.r.desired, 3);
	ck_assert(has_event(&r, "SuccessfulRescale", "New size: 3; reason: All metrics below target"));
	done(&r);
}
END_TEST

START_TEST(test_scale_down_stabilize_initial_size) /* TestScaleDownStabilizeInitialSize */
{
	struct hz z = { .min = 2, .max = 6, .spec = 5, .cpu_target = 50,
			.levels = { 100, 300, 500, 250, 250 }, .n = 5 };
	struct run r;

	run(&z, &r);
	ck_assert_int_eq(r.r.desired, 5);
	ck_assert(!r.r.scale_updated);
	ck_assert_str_eq(cond(&r, "AbleToScale", NULL), "ScaleDownStabilized");
	done(&r);
}
END_TEST

START_TEST(test_min_replicas) /* TestMinReplicas */
{
	struct hz z = { .min = 2, .max = 5, .spec = 3, .cpu_target = 90, .levels = { 10, 95, 10 },
			.n = 3, .seen = true };
	const char *st;
	struct run r;

	run(&z, &r);
	ck_assert_int_eq(r.r.desired, 2);
	ck_assert_str_eq(cond(&r, "ScalingLimited", &st), "TooFewReplicas");
	ck_assert_str_eq(st, "True");
	done(&r);
}
END_TEST

START_TEST(test_zero_min_replicas_desired_zero) /* TestZeroMinReplicasDesiredZero */
{
	struct hz z = { .min = 0, .max = 5, .spec = 3, .cpu_target = 90, .levels = { 0, 0, 0 },
			.n = 3, .seen = true };
	struct run r;

	run(&z, &r);
	ck_assert_int_eq(r.r.desired, 0);
	ck_assert(r.r.scale_updated);
	ck_assert_str_eq(cond(&r, "ScalingLimited", NULL), "DesiredWithinRange");
	/* CPU only: the HPA did not scale to zero in the KEP-2021 sense */
	ck_assert_str_eq(cond(&r, "ScaledToZero", NULL), "NotScaledToZero");
	done(&r);
}
END_TEST

START_TEST(test_too_few_and_too_many) /* TestTooFewReplicas, TestTooManyReplicas */
{
	struct hz few = { .min = 3, .max = 5, .spec = 2, .cpu_target = 90, .seen = true };
	struct hz many = { .min = 3, .max = 5, .spec = 10, .cpu_target = 90, .seen = true };
	struct run r;

	run(&few, &r);
	ck_assert_int_eq(r.r.desired, 3);
	ck_assert(has_event(&r, "SuccessfulRescale",
			    "New size: 3; reason: Current number of replicas below Spec.MinReplicas"));
	ck_assert_ptr_null(cond(&r, "ScalingActive", NULL));
	done(&r);
	run(&many, &r);
	ck_assert_int_eq(r.r.desired, 5);
	ck_assert(has_event(&r, "SuccessfulRescale",
			    "New size: 5; reason: Current number of replicas above Spec.MaxReplicas"));
	done(&r);
}
END_TEST

START_TEST(test_max_replicas) /* TestMaxReplicas */
{
	struct hz z = { .min = 2, .max = 5, .spec = 3, .cpu_target = 10,
			.levels = { 8000, 9500, 1000 }, .n = 3, .seen = true };
	struct run r;

	run(&z, &r);
	ck_assert_int_eq(r.r.desired, 5);
	ck_assert_str_eq(cond(&r, "ScalingLimited", NULL), "TooManyReplicas");
	done(&r);
}
END_TEST

START_TEST(test_upscale_cap) /* TestUpscaleCap, TestUpscaleCapGreaterThanMaxReplicas */
{
	struct hz z = { .min = 1, .max = 100, .spec = 3, .cpu_target = 10,
			.levels = { 100, 200, 300 }, .n = 3, .request = 100, .seen = true };
	struct run r;

	run(&z, &r);
	ck_assert_int_eq(r.r.desired, 6);
	ck_assert_str_eq(cond(&r, "ScalingLimited", NULL), "ScaleUpLimit");
	done(&r);
	z.max = 20;
	run(&z, &r);
	ck_assert_int_eq(r.r.desired, 6);
	done(&r);
}
END_TEST

START_TEST(test_empty_metrics) /* TestEmptyMetrics (and TestReplicaCalcEmptyMetrics' fetch half) */
{
	struct hz z = { .min = 2, .max = 6, .spec = 4, .cpu_target = 100, .n = 0, .seen = true };
	struct run r;

	run(&z, &r);
	ck_assert_int_eq(r.r.desired, 4);
	ck_assert_str_eq(r.r.metrics[0].error, "failed to get cpu utilization: unable to get metrics "
					       "for resource cpu: no metrics returned from resource "
					       "metrics API");
	ck_assert_str_eq(cond(&r, "ScalingActive", NULL), "FailedGetResourceMetric");
	done(&r);
}
END_TEST

START_TEST(test_invalid_selector_unparsable) /* TestConditionInvalidSelectorUnparsable */
{
	struct hz z = { .min = 1, .max = 5, .spec = 3, .cpu_target = 10, .selector = "cheese)",
			.seen = true };
	struct run r;

	run(&z, &r);
	ck_assert_str_eq(cond(&r, "ScalingActive", NULL), "InvalidSelector");
	ck_assert(has_event(&r, "InvalidSelector", NULL));
	ck_assert_ptr_nonnull(strstr(r.r.error, "couldn't convert selector into a corresponding "
						"internal selector object"));
	done(&r);
}
END_TEST

/* TestConditionNoAmbiguousSelectorWhenNoSelectorOverlapBetweenHPAs and the partial-overlap case */
START_TEST(test_selector_overlap)
{
	struct hz z = { .min = 1, .max = 5, .spec = 3, .cpu_target = 30, .levels = { 300, 500, 700 },
			.n = 3, .seen = true,
			.extra = ",\"otherHorizontalPodAutoscalers\":[{\"horizontalPodAutoscaler\":"
				 "{\"metadata\":{\"name\":\"test-hpa-2\",\"namespace\":"
				 "\"test-namespace\"}},\"scale\":{\"status\":{\"selector\":"
				 "\"cheddar=cheese\"}}}]" };
	struct run r;

	run(&z, &r);
	ck_assert_str_eq(cond(&r, "ScalingActive", NULL), "ValidMetricFound");
	done(&r);
	z.extra = ",\"otherHorizontalPodAutoscalers\":[{\"horizontalPodAutoscaler\":{\"metadata\":"
		  "{\"name\":\"test-hpa-2\",\"namespace\":\"test-namespace\"}},\"scale\":{\"status\":"
		  "{\"selector\":\"name in (test-pod,other)\"}}}]";
	run(&z, &r);
	ck_assert_str_eq(cond(&r, "ScalingActive", NULL), "AmbiguousSelector");
	ck_assert_str_eq(r.r.events[0].message,
			 "pods by selector name=test-pod are controlled by multiple HPAs: "
			 "[test-namespace/test-hpa test-namespace/test-hpa-2]");
	ck_assert(!r.r.scale_updated);
	done(&r);
}
END_TEST

/* TestConditionInvalidSourceType, TestNoScaleDownOneMetricInvalid */
START_TEST(test_invalid_source_type)
{
	struct hz z = { .min = 2, .max = 6, .spec = 5, .levels = { 100, 300, 500, 250, 250 }, .n = 5,
			.seen = true,
			.metrics_json = "[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\","
					"\"target\":{\"type\":\"Utilization\",\"averageUtilization\":"
					"50}}},{\"type\":\"CheddarCheese\"}]" };
	struct run r;

	run(&z, &r);
	ck_assert_int_eq(r.r.desired, 5);
	ck_assert(!r.r.scale_updated);
	ck_assert_str_eq(cond(&r, "ScalingActive", NULL), "InvalidMetricSourceType");
	ck_assert(has_event(&r, "InvalidMetricSourceType",
			    "unknown metric source type \"CheddarCheese\""));
	ck_assert_str_eq(r.r.metrics[1].error, "unknown metric source type \"CheddarCheese\"");
	done(&r);
}
END_TEST

#define SZ_TRUE "[{\"type\":\"ScaledToZero\",\"status\":\"True\",\"lastTransitionTime\":" \
		"\"2025-01-01T11:00:00Z\",\"reason\":\"ScaledToZero\",\"message\":\"m\"}]"
#define EXT_METRIC "[{\"type\":\"External\",\"external\":{\"metric\":{\"name\":\"qps\"}," \
		   "\"target\":{\"type\":\"Value\",\"value\":\"100\"}}}]"
#define EXT_VALUES ",\"externalMetrics\":[{\"metricName\":\"qps\",\"value\":\"250\"}]"

/* TestScaleToZeroBehavior "from zero without condition, FG on" and TestManualScaleToZeroDisablesHPA */
START_TEST(test_from_zero_without_condition)
{
	struct hz z = { .min = 0, .max = 5, .spec = 0, .metrics_json = EXT_METRIC,
			.extra = EXT_VALUES };
	struct run r;

	run(&z, &r);
	ck_assert_int_eq(r.r.desired, 0);
	ck_assert(!r.r.scale_updated);
	ck_assert_str_eq(cond(&r, "ScalingActive", NULL), "ScalingDisabled");
	done(&r);
}
END_TEST

/* TestScaleUpFromZeroCMObject-like, "minReplicas increased with ScaledToZero condition, FG on" */
START_TEST(test_from_zero_with_condition)
{
	struct hz z = { .min = 0, .max = 5, .spec = 0, .metrics_json = EXT_METRIC,
			.extra = EXT_VALUES, .conditions = SZ_TRUE };
	const char *st;
	struct run r;

	run(&z, &r);
	ck_assert_int_eq(r.r.desired, 3); /* ceil(250/100), no tolerance, no pods */
	ck_assert(r.r.scale_updated);
	ck_assert_str_eq(cond(&r, "ScaledToZero", &st), "NotScaledToZero");
	ck_assert_str_eq(st, "False");
	done(&r);
	z.min = 4;
	run(&z, &r);
	ck_assert_int_eq(r.r.desired, 4);
	done(&r);
}
END_TEST

/* "stale ScaledToZero condition removed on normal rescale, FG off" */
START_TEST(test_gate_off_removes_condition)
{
	struct hz z = { .min = 2, .max = 6, .spec = 3, .cpu_target = 30, .levels = { 300, 500, 700 },
			.n = 3, .seen = true, .conditions = SZ_TRUE,
			.extra = ",\"controller\":{\"featureGates\":{\"HPAScaleToZero\":false}}" };
	struct run r;

	run(&z, &r);
	ck_assert_int_eq(r.r.desired, 5);
	ck_assert_ptr_null(cond(&r, "ScaledToZero", NULL));
	done(&r);
}
END_TEST

/* TestAvoidUnnecessaryUpdates: a pass that changes nothing does not write the status. */
START_TEST(test_avoid_unnecessary_updates)
{
	struct hz z = { .min = 2, .max = 6, .spec = 3, .cpu_target = 50, .levels = { 480, 500, 520 },
			.n = 3, .seen = true };
	struct run a, b;
	char *text;

	run(&z, &a);
	ck_assert(a.r.status_changed); /* conditions appear */
	ck_assert(!a.r.scale_updated);
	text = scenario_json(&z);
	ck_assert_int_eq(hpa_scenario_parse(text, strlen(text), &b.sc, (char[64]){ 0 }, 64), 0);
	json_object_set((json_t *)b.sc.in.hpa, "status", a.r.status);
	ck_assert_int_eq(hpa_decide(&b.sc.in, &b.sc.history, &b.r, (char[64]){ 0 }, 64), 0);
	ck_assert(!b.r.status_changed);
	free(text);
	done(&a);
	done(&b);
}
END_TEST

/* TestEventNotCreated: no rescale, no event. */
START_TEST(test_event_not_created)
{
	struct hz z = { .min = 1, .max = 5, .spec = 1, .cpu_target = 50, .levels = { 400 }, .n = 1,
			.request = 800, .seen = true };
	struct run r;

	run(&z, &r);
	ck_assert_int_eq(r.r.desired, 1);
	ck_assert_int_eq(r.r.n_events, 0);
	done(&r);
}
END_TEST

START_TEST(test_yaml_scenario)
{
	static const char yaml[] =
		"now: 2025-01-01T12:00:00Z\n"
		"controller: {tolerance: 0.1, downscaleStabilizationWindowSeconds: 60}\n"
		"horizontalPodAutoscaler:\n"
		"  metadata: {name: web, namespace: default}\n"
		"  spec:\n"
		"    scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
		"    maxReplicas: 10\n"
		"    metrics:\n"
		"    - type: External\n"
		"      external:\n"
		"        metric: {name: queue}\n"
		"        target: {type: AverageValue, averageValue: 5}\n"
		"scale: {spec: {replicas: 2}, status: {replicas: 2, selector: app=web}}\n"
		"externalMetrics:\n"
		"- {metricName: queue, value: '30'}\n";
	struct hpa_scenario sc;
	struct hpa_result r;
	char err[128] = "";

	ck_assert_msg(hpa_scenario_parse(yaml, strlen(yaml), &sc, err, sizeof(err)) == 0, "%s", err);
	ck_assert(sc.in.opts.downscale_window_ns == 60 * NS_PER_SEC);
	ck_assert_int_eq(hpa_decide(&sc.in, &sc.history, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.desired, 4); /* ceil(30/5) = 6, legacy cap max(2*2, 4) = 4 */
	hpa_result_clear(&r);
	hpa_scenario_clear(&sc);
}
END_TEST

START_TEST(test_bad_scenarios)
{
	static const char *const bad[] = {
		"{\"now\":\"x\"}",
		"{\"now\":\"2025-01-01T12:00:00Z\",\"nope\":1}",
		("{\"now\":\"2025-01-01T12:00:00Z\",\"horizontalPodAutoscaler\":{},"
		 "\"failures\":{\"metricsAPIs\":[\"foo\"]}}"),
		"now: [unclosed",
	};
	struct hpa_scenario sc;
	char err[256];

	for (size_t i = 0; i < COMMON_ARRAY_LEN(bad); i++) {
		err[0] = '\0';
		ck_assert_int_ne(hpa_scenario_parse(bad[i], strlen(bad[i]), &sc, err, sizeof(err)), 0);
		ck_assert_msg(err[0], "no message for case %zu", i);
		hpa_scenario_clear(&sc);
	}
}
END_TEST

/* hpa_history_copy deep-copies, and into a filled dst releases the old
 * content first (valgrind: no leak). */
START_TEST(test_history_copy)
{
	struct hpa_recommendation recs[2] = { { 3, 10 }, { 5, 20 } };
	struct hpa_scale_event up[1] = { { 2, 15, true } };
	struct hpa_history src = { .seen = true, .n_recs = 2, .recs = recs, .n_up = 1, .up = up };
	struct hpa_history dst = { 0 };

	hpa_history_copy(&dst, &src);
	ck_assert(dst.seen);
	ck_assert_uint_eq(dst.n_recs, 2);
	ck_assert_ptr_ne(dst.recs, recs);
	ck_assert_int_eq(dst.recs[1].replicas, 5);
	ck_assert_int_eq(dst.up[0].ts, 15);
	ck_assert(dst.up[0].outdated);
	ck_assert_uint_eq(dst.n_down, 0);
	src.n_recs = 1;
	src.n_up = 0;
	hpa_history_copy(&dst, &src); /* dst filled: its arrays are released */
	ck_assert_uint_eq(dst.n_recs, 1);
	ck_assert_uint_eq(dst.n_up, 0);
	ck_assert_int_eq(dst.recs[0].replicas, 3);
	hpa_history_clear(&dst);
	ck_assert_ptr_null(dst.recs);
	ck_assert(!dst.seen);
}
END_TEST

static Suite *hpa_decide_suite(void)
{
	Suite *s = suite_create("hpa_decide");
	TCase *tc = tcase_create("reconcile");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_scale_up);
	tcase_add_test(tc, test_scale_down);
	tcase_add_test(tc, test_scale_down_stabilize_initial_size);
	tcase_add_test(tc, test_min_replicas);
	tcase_add_test(tc, test_zero_min_replicas_desired_zero);
	tcase_add_test(tc, test_too_few_and_too_many);
	tcase_add_test(tc, test_max_replicas);
	tcase_add_test(tc, test_upscale_cap);
	tcase_add_test(tc, test_empty_metrics);
	tcase_add_test(tc, test_invalid_selector_unparsable);
	tcase_add_test(tc, test_selector_overlap);
	tcase_add_test(tc, test_invalid_source_type);
	tcase_add_test(tc, test_from_zero_without_condition);
	tcase_add_test(tc, test_from_zero_with_condition);
	tcase_add_test(tc, test_gate_off_removes_condition);
	tcase_add_test(tc, test_avoid_unnecessary_updates);
	tcase_add_test(tc, test_event_not_created);
	tcase_add_test(tc, test_yaml_scenario);
	tcase_add_test(tc, test_bad_scenarios);
	tcase_add_test(tc, test_history_copy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(hpa_decide_suite());
}
