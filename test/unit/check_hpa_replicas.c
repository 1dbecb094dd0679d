/*
 * check_hpa_replicas.c - the replica calculator (hpa/replicas.c, pods.c),
 * ported from upstream's pkg/controller/podautoscaler/replica_calculator_test.go.
 * Each case carries the name of the upstream test it reproduces.  Upstream's
 * fixture: every pod has two containers, each requesting `req` and using
 * `level`; tolerance 0.1, CPU initialization period 2m, readiness delay 10s;
 * "cool" pods started 3m ago, "hot" ones now; unset times are Go's zero time.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hpa/hpa_int.h"
#include "test/unit/unit.h"

#define NOW (INT64_C(1735732800) * NS_PER_SEC)
#define MAXP 16
#define F HPA_COND_FALSE
#define T HPA_COND_TRUE
#define HOT 2
#define COOL 1

enum kind { UTIL, PLAIN };

struct rc_case {
	const char *upstream;
	enum kind kind;
	int32_t current, expected;
	const char *error; /* substring of the expected error */
	int64_t req[MAXP];  /* per container (milli), 0 = none given */
	int64_t levels[MAXP];
	int n_levels;
	const char *names[MAXP]; /* metric pod names (default test-pod-<i>) */
	int64_t target;
	int64_t exp_util, exp_value;
	enum hpa__cond ready[MAXP]; /* 0 = True */
	int start[MAXP];           /* 0 = zero time, COOL, HOT */
	enum hpa__phase phase[MAXP];
	int n_phase;
	bool deleted[MAXP];
};

static char pod_names[MAXP][24];

static void build(const struct rc_case *tc, struct hpa__pods *pods, struct hpa__pod_metric *m)
{
	int n = tc->n_phase > tc->current ? tc->n_phase : tc->current;

	pods->n = (size_t)n;
	pods->v = calloc((size_t)n + 1, sizeof(*pods->v));
	for (int i = 0; i < n; i++) {
		struct hpa__pod *p = &pods->v[i];

		snprintf(pod_names[i], sizeof(pod_names[i]), "test-pod-%d", i);
		p->name = pod_names[i];
		p->phase = tc->n_phase ? tc->phase[i] : HPA_PHASE_RUNNING;
		p->deleted = tc->deleted[i];
		p->ready = tc->ready[i] ? tc->ready[i] : HPA_COND_TRUE;
		p->ready_ltt = HPA_TIME_ZERO;
		p->has_start = true;
		p->start = tc->start[i] == HOT	  ? NOW
			   : tc->start[i] == COOL ? NOW - 180 * NS_PER_SEC
						  : HPA_TIME_ZERO;
		p->request = 2 * tc->req[i];
	}
	for (int i = 0; i < tc->n_levels; i++) {
		if (!pod_names[i][0] || i >= n)
			snprintf(pod_names[i], sizeof(pod_names[i]), "test-pod-%d", i);
		m[i].pod = tc->names[i] ? tc->names[i] : pod_names[i];
		m[i].value = tc->kind == UTIL ? 2 * tc->levels[i] : tc->levels[i];
		m[i].ts = HPA_TIME_ZERO;
		m[i].window = 60 * NS_PER_SEC;
	}
}

static void run_case(const struct rc_case *tc)
{
	struct hpa__pods pods;
	struct hpa__pod_metric m[MAXP];
	struct hpa__calc c = { 0 };
	int rc;

	memset(pod_names, 0, sizeof(pod_names));
	build(tc, &pods, m);
	c.pods = &pods;
	c.metrics = m;
	c.n_metrics = (size_t)tc->n_levels;
	c.cpu = tc->kind == UTIL;
	c.now = NOW;
	c.cpu_init_ns = 120 * NS_PER_SEC;
	c.readiness_delay_ns = 10 * NS_PER_SEC;
	c.tol = (struct hpa__tol){ 0.1, 0.1 };
	c.current = tc->current;
	if (tc->kind == UTIL)
		rc = hpa__calc_utilization(&c, (int32_t)tc->target);
	else
		rc = hpa__calc_plain(&c, tc->target);
	if (tc->error) {
		ck_assert_msg(rc != 0, "%s: expected an error", tc->upstream);
		ck_assert_msg(strstr(c.error, tc->error), "%s: error [%s]", tc->upstream, c.error);
	} else {
		ck_assert_msg(rc == 0, "%s: %s", tc->upstream, c.error ? c.error : "");
		ck_assert_msg(c.replicas == tc->expected, "%s: replicas %d, want %d", tc->upstream,
			      c.replicas, tc->expected);
		if (tc->kind == UTIL) {
			ck_assert_msg(c.utilization == tc->exp_util, "%s: utilization %d, want %lld",
				      tc->upstream, c.utilization, (long long)tc->exp_util);
			ck_assert_msg(c.raw_average == tc->exp_value, "%s: raw %lld, want %lld",
				      tc->upstream, (long long)c.raw_average,
				      (long long)tc->exp_value);
		} else {
			ck_assert_msg(c.usage == tc->exp_util, "%s: usage %lld, want %lld",
				      tc->upstream, (long long)c.usage, (long long)tc->exp_util);
		}
	}
	hpa__calc_clear(&c);
	free(pods.v);
}

#define R1 1000
#define PH_R HPA_PHASE_RUNNING
#define PH_P HPA_PHASE_PENDING
#define PH_F HPA_PHASE_FAILED

#define U(name, cur, exp, tgt, eu, ev) .upstream = name, .kind = UTIL, .current = cur, \
	.expected = exp, .target = tgt, .exp_util = eu, .exp_value = ev
#define P(name, cur, exp, tgt, eu) .upstream = name, .kind = PLAIN, .current = cur, \
	.expected = exp, .target = tgt, .exp_util = eu
#define LV(...) .levels = { __VA_ARGS__ }, .n_levels = (int)(sizeof((int64_t[]){ __VA_ARGS__ }) / 8)
#define RQ(...) .req = { __VA_ARGS__ }
#define RD(...) .ready = { __VA_ARGS__ }
#define ST(...) .start = { __VA_ARGS__ }
#define PH(...) .phase = { __VA_ARGS__ }, .n_phase = (int)(sizeof((int[]){ __VA_ARGS__ }) / sizeof(int))

static const struct rc_case cases[] = {
	{ U("TestReplicaCalcScaleUp", 3, 5, 30, 50, 2 * 500), RQ(R1, R1, R1), LV(300, 500, 700) },
	{ U("TestReplicaCalcScaleUpUnreadyLessScale", 3, 4, 30, 60, 2 * 600), RQ(R1, R1, R1),
	  LV(300, 500, 700), RD(F, T, T) },
	{ U("TestReplicaCalcScaleUpHotCpuLessScale", 3, 4, 30, 60, 2 * 600), RQ(R1, R1, R1),
	  LV(300, 500, 700), ST(HOT, COOL, COOL) },
	{ U("TestReplicaCalcScaleUpUnreadyNoScale", 3, 3, 30, 40, 2 * 400), RQ(R1, R1, R1),
	  LV(400, 500, 700), RD(T, F, F) },
	{ U("TestReplicaCalcScaleHotCpuNoScale", 3, 3, 30, 40, 2 * 400), RQ(R1, R1, R1),
	  LV(400, 500, 700), RD(T, F, F), ST(COOL, HOT, HOT) },
	{ U("TestReplicaCalcScaleUpIgnoresFailedPods", 2, 4, 30, 60, 2 * 600), RQ(R1, R1, R1, R1),
	  LV(500, 700), RD(T, T, F, F), PH(PH_R, PH_R, PH_F, PH_F) },
	{ U("TestReplicaCalcScaleUpIgnoresDeletionPods", 2, 4, 30, 60, 2 * 600),
	  RQ(R1, R1, R1, R1), LV(500, 700), RD(T, T, F, F), PH(PH_R, PH_R, PH_R, PH_R),
	  .deleted = { false, false, true, true } },
	{ P("TestReplicaCalcScaleUpCM", 3, 4, 15000, 20000), LV(20000, 10000, 30000) },
	{ P("TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale", 3, 6, 15000, 30000),
	  LV(50000, 10000, 30000), RD(T, T, F), ST(COOL, COOL, HOT) },
	{ P("TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown", 3, 7, 15000, 31666),
	  LV(50000, 15000, 30000), RD(F, T, F), ST(HOT, COOL, HOT) },
	{ U("TestReplicaCalcScaleDown", 5, 3, 50, 28, 2 * 280), RQ(R1, R1, R1, R1, R1),
	  LV(100, 300, 500, 250, 250) },
	{ P("TestReplicaCalcScaleDownCM", 5, 3, 20000, 12000),
	  LV(12000, 12000, 12000, 12000, 12000) },
	{ U("TestReplicaCalcScaleDownIncludeUnreadyPods", 5, 2, 50, 30, 2 * 300),
	  RQ(R1, R1, R1, R1, R1), LV(100, 300, 500, 250, 250), RD(T, T, T, F, F) },
	{ U("TestReplicaCalcScaleDownExcludeUnscheduledPods", 5, 1, 50, 10, 2 * 100),
	  RQ(R1, R1, R1, R1, R1), LV(100), RD(T, F, F, F, F), PH(PH_R, PH_P, PH_P, PH_P, PH_P) },
	{ U("TestReplicaCalcScaleDownIgnoreHotCpuPods", 5, 2, 50, 30, 2 * 300),
	  RQ(R1, R1, R1, R1, R1), LV(100, 300, 500, 250, 250), ST(COOL, COOL, COOL, HOT, HOT) },
	{ U("TestReplicaCalcScaleDownIgnoresFailedPods", 5, 3, 50, 28, 2 * 280),
	  RQ(R1, R1, R1, R1, R1, R1, R1), LV(100, 300, 500, 250, 250), RD(T, T, T, T, T, F, F),
	  PH(PH_R, PH_R, PH_R, PH_R, PH_R, PH_F, PH_F) },
	{ U("TestReplicaCalcScaleDownIgnoresDeletionPods", 5, 3, 50, 28, 2 * 280),
	  RQ(R1, R1, R1, R1, R1, R1, R1), LV(100, 300, 500, 250, 250), RD(T, T, T, T, T, F, F),
	  PH(PH_R, PH_R, PH_R, PH_R, PH_R, PH_R, PH_R),
	  .deleted = { false, false, false, false, false, true, true } },
	{ U("TestReplicaCalcTolerance", 3, 3, 100, 102, 2 * 1020), RQ(900, 1000, 1100),
	  LV(1010, 1030, 1020) },
	{ P("TestReplicaCalcToleranceCM", 3, 3, 20000, 20666), LV(20000, 21000, 21000) },
	{ U("TestReplicaCalcSuperfluousMetrics", 4, 24, 100, 587, 2 * 5875), RQ(R1, R1, R1, R1),
	  LV(4000, 9500, 3000, 7000, 3200, 2000) },
	{ U("TestReplicaCalcMissingMetrics", 4, 3, 100, 24, 495), RQ(R1, R1, R1, R1), LV(400, 95) },
	/* the fetch half of TestReplicaCalcEmptyMetrics is in check_hpa_decide */
	{ U("TestReplicaCalcEmptyMetrics", 4, 0, 100, 0, 0), RQ(R1, R1, R1),
	  .error = "did not receive metrics for targeted pods (pods might be unready)" },
	{ U("TestReplicaCalcDisjointResourcesMetrics", 1, 0, 100, 0, 0), RQ(R1), LV(100),
	  .names = { "an-older-pod-name" }, .error = "no metrics returned matched known pods" },
	{ U("TestReplicaCalcMissingMetricsNoChangeEq", 2, 2, 100, 100, 2 * 1000), RQ(R1, R1),
	  LV(1000) },
	{ U("TestReplicaCalcMissingMetricsNoChangeGt", 2, 2, 100, 190, 2 * 1900), RQ(R1, R1),
	  LV(1900) },
	{ U("TestReplicaCalcMissingMetricsNoChangeLt", 2, 2, 100, 60, 2 * 600), RQ(R1, R1),
	  LV(600) },
	{ U("TestReplicaCalcMissingMetricsUnreadyChange", 3, 3, 50, 45, 2 * 450), RQ(R1, R1, R1),
	  LV(100, 450), RD(F, T, T) },
	{ U("TestReplicaCalcMissingMetricsHotCpuNoChange", 3, 3, 50, 45, 2 * 450), RQ(R1, R1, R1),
	  LV(100, 450), ST(HOT, COOL, COOL) },
	{ U("TestReplicaCalcMissingMetricsUnreadyScaleUp", 3, 4, 50, 200, 2 * 2000),
	  RQ(R1, R1, R1), LV(100, 2000), RD(F, T, T) },
	{ U("TestReplicaCalcMissingMetricsHotCpuScaleUp", 3, 4, 50, 200, 2 * 2000),
	  RQ(R1, R1, R1), LV(100, 2000), RD(F, T, T), ST(HOT, COOL, COOL) },
	{ U("TestReplicaCalcMissingMetricsUnreadyScaleDown", 4, 3, 50, 10, 2 * 100),
	  RQ(R1, R1, R1, R1), LV(100, 100, 100), RD(F, T, T, T) },
	{ U("TestReplicaCalcDuringRollingUpdateWithMaxSurge", 2, 2, 50, 10, 2 * 100),
	  RQ(R1, R1, R1), LV(100, 100), PH(PH_R, PH_R, PH_R) },
	/* TestReplicaCalcComputedToleranceAlgImplementation, both halves: requests around
	 * 300m, usage 150m, targets int32((1/(2*0.9) + .01) * 100) = 56 and (+.004) 55. */
	{ U("TestReplicaCalcComputedToleranceAlgImplementation/scale", 10, 9, 56, 50, 2 * 150),
	  RQ(400, 200, 310, 290, 302, 298, 301, 299, 300, 300),
	  LV(150, 150, 150, 150, 150, 150, 150, 150, 150, 150) },
	{ U("TestReplicaCalcComputedToleranceAlgImplementation/no-scale", 10, 10, 55, 50, 2 * 150),
	  RQ(400, 200, 310, 290, 302, 298, 301, 299, 300, 300),
	  LV(150, 150, 150, 150, 150, 150, 150, 150, 150, 150) },
};

START_TEST(test_calculator_cases)
{
	run_case(&cases[_i]);
}
END_TEST

/* Object / External cases: usage ratio with ready pods, and per-pod targets. */
struct ratio_case {
	const char *upstream;
	int32_t current, expected;
	int64_t usage, target;
	bool per_pod;
	int64_t exp_per_pod;
	enum hpa__cond ready[MAXP];
};

#define OB(name, cur, exp, use, tgt) .upstream = name, .current = cur, .expected = exp, \
	.usage = use, .target = tgt

static const struct ratio_case ratio_cases[] = {
	{ OB("TestReplicaCalcScaleUpCMObject", 3, 4, 20000, 15000) },
	{ OB("TestReplicaCalcScaleUpCMPerPodObject", 3, 4, 20000, 5000), .per_pod = true,
	  .exp_per_pod = 6667 },
	{ OB("TestReplicaCalcScaleUpCMObjectIgnoresUnreadyPods", 3, 5, 50000, 10000),
	  RD(F, T, F) },
	{ OB("TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods", 3, 2, 8600, 4400),
	  RD(F, T, F) },
	{ OB("TestReplicaCalcScaleUpPerPodCMExternal", 3, 4, 8600, 2150), .per_pod = true,
	  .exp_per_pod = 2867 },
	{ OB("TestReplicaCalcScaleDownCMObject", 5, 3, 12000, 20000) },
	{ OB("TestReplicaCalcScaleDownPerPodCMObject", 5, 3, 6000, 2000), .per_pod = true,
	  .exp_per_pod = 1200 },
	{ OB("TestReplicaCalcScaleDownCMExternal", 5, 3, 8600, 14334) },
	{ OB("TestReplicaCalcScaleDownPerPodCMExternal", 5, 3, 8600, 2867), .per_pod = true,
	  .exp_per_pod = 1720 },
	{ OB("TestReplicaCalcToleranceCMObject", 3, 3, 20666, 20000) },
	{ OB("TestReplicaCalcTolerancePerPodCMObject", 4, 4, 20166, 5000), .per_pod = true,
	  .exp_per_pod = 5042 },
	{ OB("TestReplicaCalcToleranceCMExternal", 3, 3, 8600, 8888) },
	{ OB("TestReplicaCalcTolerancePerPodCMExternal", 3, 3, 8600, 2900), .per_pod = true,
	  .exp_per_pod = 2867 },
};

START_TEST(test_object_external_cases)
{
	const struct ratio_case *tc = &ratio_cases[_i];
	struct hpa__tol tol = { 0.1, 0.1 };
	struct hpa__pod pv[MAXP];
	struct hpa__pods pods = { (size_t)tc->current, pv };
	struct hpa__calc c = { .pods = &pods, .tol = tol, .current = tc->current };
	int32_t replicas;
	int64_t per_pod;

	memset(pv, 0, sizeof(pv));
	for (int i = 0; i < tc->current; i++) {
		pv[i].name = "p";
		pv[i].phase = HPA_PHASE_RUNNING;
		pv[i].ready = tc->ready[i] ? tc->ready[i] : HPA_COND_TRUE;
	}
	if (tc->per_pod) {
		hpa__calc_per_pod(tc->usage, tc->target, tc->current, &tol, &replicas, &per_pod, NULL);
		ck_assert_msg(per_pod == tc->exp_per_pod, "%s: per-pod %lld", tc->upstream,
			      (long long)per_pod);
	} else {
		ck_assert_int_eq(hpa__calc_usage_ratio(&c, (double)tc->usage / (double)tc->target), 0);
		replicas = c.replicas;
	}
	ck_assert_msg(replicas == tc->expected, "%s: replicas %d, want %d", tc->upstream, replicas,
		      tc->expected);
	hpa__calc_clear(&c);
}
END_TEST

/* TestScaleUpFromZeroIgnoresToleranceCMObject (replica part): ceil(ratio), no pods, no tolerance. */
START_TEST(test_from_zero_ignores_tolerance)
{
	struct hpa__pods none = { 0 };
	struct hpa__calc c = { .pods = &none, .tol = { 0.1, 0.1 }, .current = 0 };

	ck_assert_int_eq(hpa__calc_usage_ratio(&c, 1.05), 0);
	ck_assert_int_eq(c.replicas, 2);
	hpa__calc_clear(&c);
	c = (struct hpa__calc){ .pods = &none, .tol = { 0.1, 0.1 }, .current = 3 };
	ck_assert_int_ne(hpa__calc_usage_ratio(&c, 2.0), 0);
	ck_assert_str_eq(c.error, "unable to calculate ready pods: no pods returned by selector "
				  "while calculating replica count");
	hpa__calc_clear(&c);
}
END_TEST

/* TestReplicaCalcEmptyCPURequest and calculateRequests' sidecar / pod-level rules. */
static struct hpa__pod parsed(const char *json, json_t **keep)
{
	struct hpa__pod p;

	*keep = json_loads(json, 0, NULL);
	ck_assert_ptr_nonnull(*keep);
	ck_assert_int_eq(hpa__pod_parse(*keep, &p), 0);
	return p;
}

START_TEST(test_requests)
{
	json_t *j;
	struct hpa__pod p;
	int64_t v = 0;
	char *err = NULL;

	p = parsed("{\"metadata\":{\"name\":\"test-pod-0\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
		   &j);
	ck_assert_int_ne(hpa__pod_request(&p, "cpu", "", true, &v, &err), 0);
	ck_assert_str_eq(err, "missing request for cpu in container a of Pod test-pod-0");
	free(err);
	json_decref(j);

	p = parsed("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\","
		   "\"resources\":{\"requests\":{\"cpu\":\"250m\"}}}],\"initContainers\":["
		   "{\"name\":\"side\",\"restartPolicy\":\"Always\",\"resources\":{\"requests\":"
		   "{\"cpu\":\"50m\"}}},{\"name\":\"init\"}]}}",
		   &j);
	ck_assert_int_eq(hpa__pod_request(&p, "cpu", "", true, &v, &err), 0);
	ck_assert_int_eq(v, 300);
	ck_assert_int_eq(hpa__pod_request(&p, "cpu", "side", true, &v, &err), 0);
	ck_assert_int_eq(v, 50);
	ck_assert_int_ne(hpa__pod_request(&p, "cpu", "nope", true, &v, &err), 0);
	ck_assert_str_eq(err, "container nope not found in Pod p");
	free(err);
	json_decref(j);

	p = parsed("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"resources\":{\"requests\":{\"cpu\":"
		   "\"2\"}},\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":"
		   "\"1\"}}}]}}",
		   &j);
	ck_assert_int_eq(hpa__pod_request(&p, "cpu", "", true, &v, &err), 0);
	ck_assert_int_eq(v, 2000);
	ck_assert_int_eq(hpa__pod_request(&p, "cpu", "", false, &v, &err), 0);
	ck_assert_int_eq(v, 1000);
	ck_assert_int_eq(hpa__pod_request(&p, "cpu", "a", true, &v, &err), 0);
	ck_assert_int_eq(v, 1000);
	json_decref(j);
}
END_TEST

/* TestGroupPods (subset): a terminal pod is ignored, memory ignores readiness. */
START_TEST(test_group_pods)
{
	struct hpa__pod pv[2] = { { .name = "bentham", .phase = HPA_PHASE_RUNNING },
				 { .name = "lucretius", .phase = HPA_PHASE_FAILED } };
	struct hpa__pods pods = { 2, pv };
	struct hpa__pod_metric m[2] = { { "bentham", 1000, NOW, 60 * NS_PER_SEC },
				       { "lucretius", 1000, NOW, 60 * NS_PER_SEC } };
	struct hpa__calc c = { .pods = &pods, .metrics = m, .n_metrics = 2, .now = NOW,
			      .tol = { 0.1, 0.1 }, .current = 1 };

	ck_assert_int_eq(hpa__calc_plain(&c, 1000), 0);
	ck_assert_int_eq(c.ready.n, 1);
	ck_assert_str_eq(c.ready.v[0], "bentham");
	ck_assert_int_eq(c.ignored.n, 1);
	ck_assert_str_eq(c.ignored.v[0], "lucretius");
	ck_assert_int_eq(c.replicas, 1);
	hpa__calc_clear(&c);

	/* "ignore a pod without ready condition - CPU" */
	c = (struct hpa__calc){ .pods = &pods, .metrics = m, .n_metrics = 1, .now = NOW, .cpu = true,
			       .tol = { 0.1, 0.1 }, .current = 1 };
	pods.n = 1;
	pv[0].has_start = true;
	pv[0].start = NOW;
	ck_assert_int_ne(hpa__calc_plain(&c, 1000), 0);
	ck_assert_int_eq(c.unready.n, 1);
	hpa__calc_clear(&c);
}
END_TEST

START_TEST(test_tolerance_bounds)
{
	struct hpa__tol t = { 0.05, 0.01 };

	/* doc example: down 5 %, up 1 %: inclusive on both ends */
	ck_assert(hpa__tol_within(&t, 0.95));
	ck_assert(hpa__tol_within(&t, 1.01));
	ck_assert(!hpa__tol_within(&t, 0.9499));
	ck_assert(!hpa__tol_within(&t, 1.0101));
}
END_TEST

static Suite *hpa_replicas_suite(void)
{
	Suite *s = suite_create("hpa_replicas");
	TCase *tc = tcase_create("calculator");

	tcase_set_timeout(tc, 10);
	tcase_add_loop_test(tc, test_calculator_cases, 0, (int)COMMON_ARRAY_LEN(cases));
	tcase_add_loop_test(tc, test_object_external_cases, 0, (int)COMMON_ARRAY_LEN(ratio_cases));
	tcase_add_test(tc, test_from_zero_ignores_tolerance);
	tcase_add_test(tc, test_requests);
	tcase_add_test(tc, test_group_pods);
	tcase_add_test(tc, test_tolerance_bounds);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(hpa_replicas_suite());
}
