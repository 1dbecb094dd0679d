/*
 * check_hpa_scenario.c - hpa/scenario_write.c, the inverse of the scenario
 * loader (what `hpa explain --live --save-scenario` writes): every
 * scenario of test/data/hpa written back and loaded again decides the
 * same; options, nanosecond times, failures and history keep their exact
 * values.  (The command line: check_cmd_hpa_explain.c.)
 */
#include <check.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hpa/hpa_int.h"
#include "test/unit/unit.h"

#define SEC NS_PER_SEC

/* The `-o json` text of one decision on sc. */
static char *decide_json(const struct hpa_scenario *sc)
{
	struct hpa_result r;
	char err[256];
	json_t *doc;
	char *s;

	ck_assert_msg(hpa_decide(&sc->in, &sc->history, &r, err, sizeof(err)) == 0, "%s", err);
	doc = hpa_explain_json(&r);
	s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(doc);
	hpa_result_clear(&r);
	return s;
}

/* sc written out and loaded again into *back (release it). */
static void round_trip(const struct hpa_scenario *sc, struct hpa_scenario *back)
{
	json_t *doc = hpa_scenario_json(&sc->in, &sc->history);
	char *text = json_dumps(doc, JSON_INDENT(2));
	char err[256] = "";

	ck_assert_ptr_nonnull(text);
	ck_assert_msg(hpa_scenario_parse(text, strlen(text), back, err, sizeof(err)) == 0,
		      "written scenario does not load: %s\n%s", err, text);
	free(text);
	json_decref(doc);
}

START_TEST(test_every_scenario_replays)
{
	glob_t g;
	size_t n = 0;

	ck_assert_int_eq(glob("test/data/hpa/[0-9][0-9][0-9]-*/scenario.json", 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct hpa_scenario sc, back;
		char err[256] = "", *a, *b;

		ck_assert_msg(hpa_scenario_load(g.gl_pathv[i], &sc, err, sizeof(err)) == 0, "%s: %s",
			      g.gl_pathv[i], err);
		round_trip(&sc, &back);
		a = decide_json(&sc);
		b = decide_json(&back);
		ck_assert_msg(strcmp(a, b) == 0, "%s: the written scenario decides otherwise",
			      g.gl_pathv[i]);
		free(a);
		free(b);
		hpa_scenario_clear(&back);
		hpa_scenario_clear(&sc);
		n++;
	}
	globfree(&g);
	ck_assert_uint_ge(n, 20);
}
END_TEST

static const char minimal[] =
	"{\"now\":\"2025-01-01T12:00:00.000000250Z\","
	"\"horizontalPodAutoscaler\":{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},"
	"\"spec\":{\"scaleTargetRef\":{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
	"\"name\":\"web\"},\"maxReplicas\":5}},"
	"\"controller\":{\"tolerance\":0.15,\"downscaleStabilizationWindowSeconds\":\"1m30.5s\","
	"\"cpuInitializationPeriodSeconds\":7,\"initialReadinessDelaySeconds\":\"0s\","
	"\"scaleUpLimitFactor\":3,\"featureGates\":{\"HPAScaleToZero\":false,"
	"\"PodLevelResources\":false}},"
	"\"failures\":{\"scaleGet\":\"deployments.apps \\\"web\\\" not found\",\"scaleUpdate\":true,"
	"\"metricsAPIs\":[\"external.metrics.k8s.io\",\"metrics.k8s.io\"]},"
	"\"history\":{\"scaleDownEvents\":[{\"replicaChange\":2,"
	"\"timestamp\":\"2025-01-01T11:59:30.5Z\",\"outdated\":true}]}}";

START_TEST(test_exact_values_round_trip)
{
	struct hpa_scenario sc, back;
	char err[256] = "";
	json_t *doc;

	ck_assert_msg(hpa_scenario_parse(minimal, strlen(minimal), &sc, err, sizeof(err)) == 0,
		      "%s", err);
	round_trip(&sc, &back);
	ck_assert_int_eq(back.in.now, sc.in.now);
	ck_assert_int_eq(back.in.now % SEC, 250);
	ck_assert(back.in.opts.tolerance == 0.15);
	ck_assert_int_eq(back.in.opts.downscale_window_ns, 90 * SEC + SEC / 2);
	ck_assert_int_eq(back.in.opts.cpu_init_period_ns, 7 * SEC);
	ck_assert_int_eq(back.in.opts.readiness_delay_ns, 0);
	ck_assert(back.in.opts.scale_up_limit_factor == 3.0);
	ck_assert(back.in.opts.scale_up_limit_minimum == 4.0);
	ck_assert(!back.in.opts.gate_scale_to_zero);
	ck_assert(back.in.opts.gate_configurable_tolerance);
	ck_assert(!back.in.opts.gate_pod_level_resources);
	ck_assert_str_eq(back.in.scale_get_error, "deployments.apps \"web\" not found");
	ck_assert_str_eq(back.in.scale_update_error, sc.in.scale_update_error);
	ck_assert_uint_eq(back.in.failing_apis, HPA_API_RESOURCE | HPA_API_EXTERNAL);
	ck_assert(!back.history.seen); /* events but no recommendations */
	ck_assert_uint_eq(back.history.n_down, 1);
	ck_assert_int_eq(back.history.down[0].change, 2);
	ck_assert(back.history.down[0].outdated);
	ck_assert_int_eq(back.history.down[0].ts, sc.history.down[0].ts);
	ck_assert_uint_eq(back.history.n_up, 0);
	ck_assert_ptr_null(back.in.scale);
	ck_assert_ptr_null(back.in.pods);
	hpa_scenario_clear(&back);
	/* nothing known about the history, nothing failing: neither field is written */
	hpa_history_clear(&sc.history);
	sc.in.failing_apis = 0;
	sc.in.scale_get_error = sc.in.scale_update_error = NULL;
	doc = hpa_scenario_json(&sc.in, NULL);
	ck_assert_ptr_null(json_object_get(doc, "history"));
	ck_assert_ptr_null(json_object_get(doc, "failures"));
	ck_assert_str_eq(json_string_value(json_object_get(doc, "now")),
			 "2025-01-01T12:00:00.00000025Z");
	json_decref(doc);
	hpa_scenario_clear(&sc);
}
END_TEST

START_TEST(test_seen_history_round_trip)
{
	struct hpa_scenario sc = { 0 }, back;
	struct hpa_recommendation recs[2] = { { 3, 1735732800LL * SEC },
					      { 5, 1735732815LL * SEC + 1 } };
	struct hpa_scale_event up[1] = { { 2, 1735732810LL * SEC, false } };
	json_t *hpa = json_pack("{s:{s:s,s:s}}", "metadata", "name", "w", "namespace", "d");

	sc.in.hpa = hpa;
	sc.in.now = 1735732820LL * SEC;
	hpa_options_default(&sc.in.opts);
	sc.history.seen = true;
	sc.history.n_recs = 2;
	sc.history.recs = recs;
	sc.history.n_up = 1;
	sc.history.up = up;
	round_trip(&sc, &back);
	ck_assert(back.history.seen);
	ck_assert_uint_eq(back.history.n_recs, 2);
	ck_assert_int_eq(back.history.recs[1].replicas, 5);
	ck_assert_int_eq(back.history.recs[1].ts, recs[1].ts);
	ck_assert_uint_eq(back.history.n_up, 1);
	ck_assert(!back.history.up[0].outdated);
	ck_assert_int_eq(back.in.opts.downscale_window_ns, 300 * SEC);
	ck_assert(back.in.opts.tolerance == 0.1);
	hpa_scenario_clear(&back);
	json_decref(hpa);
}
END_TEST

static Suite *scenario_suite(void)
{
	Suite *s = suite_create("hpa_scenario");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_every_scenario_replays);
	tcase_add_test(tc, test_exact_values_round_trip);
	tcase_add_test(tc, test_seen_history_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(scenario_suite());
}
