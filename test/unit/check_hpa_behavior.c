/*
 * check_hpa_behavior.c - normalization (hpa/behavior.c): stabilization
 * windows, scaling policies and selectPolicy, the scale-event bookkeeping,
 * legacy limits, behavior defaults and tolerances.  Ported from upstream's
 * horizontal_test.go: TestScalingWithRules, TestStoreScaleEvents,
 * TestNormalizeDesiredReplicasWithBehavior (case names kept).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hpa/hpa_int.h"
#include "test/unit/unit.h"

#define NOW (INT64_C(1735732800) * NS_PER_SEC)
#define SEC(s) ((int64_t)(s) * NS_PER_SEC)
#define MAXE 8

/* upstream generateScalingRules(pods, podsPeriod, percent, percentPeriod, window) */
static struct hpa__rules rules(int32_t pods, int32_t pods_period, int32_t percent,
			      int32_t percent_period, int32_t window)
{
	struct hpa__rules r;

	memset(&r, 0, sizeof(r));
	r.window = window;
	r.select = HPA_SELECT_MAX;
	if (pods)
		r.policies[r.n_policies++] = (struct hpa__policy){ HPA_POLICY_PODS, pods, pods_period };
	if (percent)
		r.policies[r.n_policies++] =
			(struct hpa__policy){ HPA_POLICY_PERCENT, percent, percent_period };
	return r;
}

/* upstream generateEventsUniformDistribution(events, periodSeconds) */
static size_t uniform(const int *changes, size_t n, int period, struct hpa_scale_event *out)
{
	double seg = (double)period / (double)n;

	for (size_t i = 0; i < n; i++) {
		double back = (double)period - seg * (double)i - seg / 2;

		out[i] = (struct hpa_scale_event){ changes[i], NOW - (int64_t)(back * 1e9), false };
	}
	return n;
}

struct rule_case {
	const char *name;
	int up[MAXE], down[MAXE];
	size_t n_up, n_down;
	int32_t min, max;
	bool up_rules, down_rules;
	int32_t r[5]; /* generateScalingRules arguments for the rules given */
	int32_t current, desired, expected;
	const char *condition;
};

#define UP(...) .up = { __VA_ARGS__ }, .n_up = sizeof((int[]){ __VA_ARGS__ }) / sizeof(int)
#define DOWN(...) .down = { __VA_ARGS__ }, .n_down = sizeof((int[]){ __VA_ARGS__ }) / sizeof(int)
#define UPR(...) .up_rules = true, .r = { __VA_ARGS__ }
#define DOWNR(...) .down_rules = true, .r = { __VA_ARGS__ }

static const struct rule_case rule_cases[] = {
	{ "scaleUp with spec MaxReplicas limitation with large percent policy and events",
	  UP(1, 5, 9), .min = 1, .max = 200, UPR(0, 0, 10000, 60, 0), .current = 100,
	  .desired = 500, .expected = 200, .condition = "TooManyReplicas" },
	{ "scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent "
	  "scale up events",
	  UP(1, 5, 9), .min = 1, .max = 1000, UPR(5, 120, 0, 0, 0), .current = 100, .desired = 500,
	  .expected = 100, .condition = "ScaleUpLimit" },
	{ "scaleUp with pod policy and previous scale up events", UP(1, 5, 9), .min = 1,
	  .max = 1000, UPR(150, 120, 0, 0, 0), .current = 100, .desired = 500, .expected = 235,
	  .condition = "ScaleUpLimit" },
	{ "scaleUp with percent policy and previous scale up events", UP(1, 5, 9), .min = 1,
	  .max = 1000, UPR(0, 0, 200, 120, 0), .current = 100, .desired = 500, .expected = 255,
	  .condition = "ScaleUpLimit" },
	{ "scaleUp with percent policy and previous scale up and down events", UP(4), DOWN(2),
	  .min = 1, .max = 1000, UPR(0, 0, 300, 300, 0), .current = 6, .desired = 24,
	  .expected = 16, .condition = "ScaleUpLimit" },
	{ "scaleDown with default policy and previous events", DOWN(1, 5, 9), .min = 1,
	  .max = 1000, .current = 10, .desired = 5, .expected = 5,
	  .condition = "DesiredWithinRange" },
	{ "scaleDown with spec MinReplicas=nil limitation with large pod policy and previous "
	  "events",
	  DOWN(1, 5, 9), .min = 1, .max = 1000, DOWNR(115, 120, 0, 0, 300), .current = 100,
	  .desired = 0, .expected = 1, .condition = "TooFewReplicas" },
	{ "scaleDown with spec MinReplicas limitation with large pod policy and previous events",
	  DOWN(1, 5, 9), .min = 5, .max = 1000, DOWNR(130, 120, 0, 0, 300), .current = 100,
	  .desired = 0, .expected = 5, .condition = "TooFewReplicas" },
	{ "scaleDown with spec MinReplicas limitation with large percent policy and previous "
	  "events",
	  DOWN(1, 5, 9), .min = 5, .max = 1000, DOWNR(0, 0, 100, 120, 300), .current = 100,
	  .desired = 2, .expected = 5, .condition = "TooFewReplicas" },
	{ "scaleDown with pod policy limitation and previous events", DOWN(1, 5, 9), .min = 1,
	  .max = 1000, DOWNR(5, 120, 0, 0, 300), .current = 100, .desired = 2, .expected = 100,
	  .condition = "ScaleDownLimit" },
	{ "scaleDown with percent policy limitation and previous events", DOWN(2, 4, 6), .min = 1,
	  .max = 1000, DOWNR(0, 0, 50, 120, 300), .current = 100, .desired = 0, .expected = 56,
	  .condition = "ScaleDownLimit" },
	{ "scaleDown with percent policy and previous scale up and down events", UP(2), DOWN(4),
	  .min = 1, .max = 1000, DOWNR(0, 0, 50, 180, 0), .current = 10, .desired = 1,
	  .expected = 6, .condition = "ScaleDownLimit" },
	{ "scaleDown with previous events preventing further scale down", DOWN(10, 10, 10),
	  .min = 1, .max = 1000, DOWNR(0, 0, 10, 120, 300), .current = 100, .desired = 0,
	  .expected = 100, .condition = "ScaleDownLimit" },
	{ "scaleDown with with previous events still allowing more scale down", DOWN(10, 10, 10),
	  .min = 1, .max = 1000, DOWNR(0, 0, 1000, 120, 300), .current = 10, .desired = 5,
	  .expected = 5, .condition = "DesiredWithinRange" },
	{ "check 'outdated' flag for events for one behavior for up", UP(8, 12, 9, 11), .min = 1,
	  .max = 1000, UPR(1000, 60, 0, 0, 0), .current = 100, .desired = 200, .expected = 200,
	  .condition = "DesiredWithinRange" },
	{ "check that events were not marked 'outdated' for two different policies in the "
	  "behavior for up",
	  UP(8, 12, 9, 11), .min = 1, .max = 1000, UPR(1000, 120, 100, 60, 0), .current = 100,
	  .desired = 200, .expected = 200, .condition = "DesiredWithinRange" },
	{ "check that events were marked 'outdated' for two different policies in the behavior "
	  "for up",
	  UP(8, 12, 9, 11), .min = 1, .max = 1000, UPR(1000, 30, 100, 60, 0), .current = 100,
	  .desired = 200, .expected = 200, .condition = "DesiredWithinRange" },
	{ "check 'outdated' flag for events for one behavior for down", DOWN(8, 12, 9, 11),
	  .min = 1, .max = 1000, DOWNR(1000, 60, 0, 0, 300), .current = 100, .desired = 5,
	  .expected = 5, .condition = "DesiredWithinRange" },
};

static void default_behavior(struct hpa__behavior *b)
{
	struct hpa_options o;
	char err[64];
	json_t *none = json_object();

	hpa_options_default(&o);
	ck_assert_int_eq(hpa__behavior_load(none, &o, b, err, sizeof(err)), 0);
	json_decref(none);
	b->present = true;
}

/* TestScalingWithRules (convertDesiredReplicasWithBehaviorRate) */
START_TEST(test_scaling_with_rules)
{
	const struct rule_case *tc = &rule_cases[_i];
	struct hpa_scale_event up[MAXE], down[MAXE];
	struct hpa_history h = { .up = up, .down = down };
	struct hpa__behavior b;
	struct hpa__limit l;

	default_behavior(&b);
	h.n_up = uniform(tc->up, tc->n_up, 120, up);
	h.n_down = uniform(tc->down, tc->n_down, 120, down);
	if (tc->up_rules)
		b.up = rules(tc->r[0], tc->r[1], tc->r[2], tc->r[3], tc->r[4]);
	if (tc->down_rules)
		b.down = rules(tc->r[0], tc->r[1], tc->r[2], tc->r[3], tc->r[4]);
	l = hpa__limit_behavior(&h, NOW, &b, tc->current, tc->desired, tc->min, tc->max, NULL);
	ck_assert_msg(l.replicas == tc->expected, "%s: %d, want %d", tc->name, l.replicas,
		      tc->expected);
	ck_assert_msg(strcmp(l.reason, tc->condition) == 0, "%s: %s", tc->name, l.reason);
}
END_TEST

struct store_case {
	const char *name;
	bool behavior;
	int32_t r[5];
	struct hpa_scale_event prev[MAXE];
	size_t n_prev;
	struct {
		int32_t change;
		bool outdated;
	} want[MAXE];
	size_t n_want;
	int32_t expected_change;
};

static const struct store_case store_cases[] = {
	{ "empty entries with default behavior", false, { 0 }, { { 0 } }, 0, { { 0 } }, 0, 0 },
	{ "empty entries with two-policy-behavior", true, { 10, 60, 100, 60, 0 }, { { 0 } }, 0,
	  { { 5, false } }, 1, 0 },
	{ "one outdated entry to be kept untouched without behavior", false, { 0 },
	  { { 7, NOW - SEC(61), false } }, 1, { { 7, false } }, 1, 0 },
	{ "one outdated entry to be replaced with behavior", true, { 10, 60, 100, 60, 0 },
	  { { 7, NOW - SEC(61), false } }, 1, { { 5, false } }, 1, 0 },
	{ "one actual entry to be not touched with behavior", true, { 10, 60, 100, 60, 0 },
	  { { 7, NOW - SEC(58), false } }, 1, { { 7, false }, { 5, false } }, 2, 7 },
	{ "two entries, one of them to be replaced", true, { 10, 60, 0, 0, 0 },
	  { { 7, NOW - SEC(61), false }, { 6, NOW - SEC(59), false } }, 2,
	  { { 5, false }, { 6, false } }, 2, 6 },
	{ "replace one entry, use policies with different periods", true, { 10, 60, 100, 30, 0 },
	  { { 8, NOW - SEC(29), false },
	    { 6, NOW - SEC(59), false },
	    { 7, NOW - SEC(61), false },
	    { 9, NOW - SEC(61), false } },
	  4, { { 8, false }, { 6, false }, { 7, true }, { 5, false } }, 4, 14 },
	{ "two entries, both actual", true, { 10, 120, 100, 30, 0 },
	  { { 7, NOW - SEC(58), false }, { 6, NOW - SEC(59), false } }, 2,
	  { { 7, false }, { 6, false }, { 5, false } }, 3, 13 },
};

static void check_store(const struct store_case *tc, bool up)
{
	struct hpa_history h = { 0 };
	struct hpa__behavior b = { 0 };
	struct hpa__rules probe = rules(1000, 60, 0, 0, 0);
	struct hpa_scale_event **ev = up ? &h.up : &h.down;
	size_t *n = up ? &h.n_up : &h.n_down;
	int32_t lim;

	*ev = calloc(MAXE, sizeof(**ev));
	memcpy(*ev, tc->prev, tc->n_prev * sizeof(**ev));
	*n = tc->n_prev;
	/* getReplicasChangePerPeriod(60, events), seen through a Pods 1000/60s policy */
	lim = up ? hpa__scale_up_limit(&h, NOW, &probe, 10, NULL)
		 : hpa__scale_down_limit(&h, NOW, &probe, 10, NULL);
	ck_assert_int_eq(up ? 10 + 1000 - lim : lim - (10 - 1000), tc->expected_change);
	b.present = tc->behavior;
	b.up = b.down = rules(tc->r[0], tc->r[1], tc->r[2], tc->r[3], tc->r[4]);
	hpa__store_scale_event(&h, NOW, &b, 10, up ? 15 : 5);
	ck_assert_msg(*n == tc->n_want, "%s: %zu events", tc->name, *n);
	for (size_t i = 0; i < *n; i++) {
		ck_assert_msg((*ev)[i].change == tc->want[i].change, "%s: [%zu] change %d",
			      tc->name, i, (*ev)[i].change);
		ck_assert_msg((*ev)[i].outdated == tc->want[i].outdated, "%s: [%zu] outdated",
			      tc->name, i);
	}
	hpa_history_clear(&h);
}

/* TestStoreScaleEvents, for scale-up and scale-down events as upstream does */
START_TEST(test_store_scale_events)
{
	check_store(&store_cases[_i], true);
	check_store(&store_cases[_i], false);
}
END_TEST

struct stab_case {
	const char *name;
	struct hpa_recommendation recs[MAXE];
	size_t n_recs;
	int32_t current, desired, expected;
	int32_t want[MAXE];
	size_t n_want; /* 0: not checked */
	int32_t up_window, down_window;
};

#define M(m) (NOW - SEC(60 * (m)))

static const struct stab_case stab_cases[] = {
	{ "empty recommendations for scaling down", { { 0 } }, 0, 100, 5, 5, { 5 }, 1, 0, 0 },
	{ "simple scale down stabilization", { { 4, M(2) }, { 5, M(1) } }, 2, 100, 3, 5,
	  { 4, 5, 3 }, 3, 0, 180 },
	{ "simple scale up stabilization", { { 4, M(2) }, { 5, M(1) } }, 2, 1, 7, 4, { 4, 5, 7 }, 3,
	  300, 0 },
	{ "no scale down stabilization", { { 1, M(2) }, { 2, M(1) } }, 2, 100, 3, 3, { 1, 2, 3 }, 3,
	  300, 0 },
	{ "no scale up stabilization", { { 4, M(2) }, { 5, M(1) } }, 2, 1, 3, 3, { 4, 5, 3 }, 3, 0,
	  300 },
	{ "no scale down stabilization, reuse recommendation element",
	  { { 10, M(10) }, { 9, M(9) } }, 2, 100, 3, 3, { 10, 3 }, 2, 0, 0 },
	{ "no scale up stabilization, reuse recommendation element", { { 10, M(10) }, { 9, M(9) } },
	  2, 1, 100, 100, { 10, 100 }, 2, 0, 0 },
	{ "scale down stabilization, reuse one of obsolete recommendation element",
	  { { 10, M(10) }, { 4, M(1) }, { 5, M(2) }, { 9, M(9) } }, 4, 100, 3, 5, { 10, 4, 5, 3 },
	  4, 0, 180 },
	{ "scale up stabilization, reuse one of obsolete recommendation element",
	  { { 10, M(100) }, { 6, M(1) }, { 5, M(2) }, { 9, M(3) } }, 4, 1, 100, 5,
	  { 100, 6, 5, 9 }, 4, 300, 0 },
	{ "scale up and down stabilization, do not scale up when prenormalized rec goes down",
	  { { 2, M(100) }, { 3, M(3) } }, 2, 2, 1, 2, { 0 }, 0, 300, 300 },
	{ "scale up and down stabilization, do not scale down when prenormalized rec goes up",
	  { { 2, M(100) }, { 1, M(3) } }, 2, 2, 3, 2, { 0 }, 0, 300, 300 },
};

/* TestNormalizeDesiredReplicasWithBehavior (stabilizeRecommendationWithBehaviors) */
START_TEST(test_stabilize_with_behavior)
{
	const struct stab_case *tc = &stab_cases[_i];
	struct hpa_history h = { .seen = true };
	struct hpa__behavior b = { .present = true };
	const char *reason, *msg;
	int32_t got;

	h.recs = calloc(MAXE, sizeof(*h.recs));
	memcpy(h.recs, tc->recs, tc->n_recs * sizeof(*h.recs));
	h.n_recs = tc->n_recs;
	b.up.window = tc->up_window;
	b.down.window = tc->down_window;
	got = hpa__stabilize_behavior(&h, NOW, &b, tc->current, tc->desired, &reason, &msg, NULL);
	ck_assert_msg(got == tc->expected, "%s: %d, want %d", tc->name, got, tc->expected);
	if (tc->n_want) {
		ck_assert_msg(h.n_recs == tc->n_want, "%s: %zu recs", tc->name, h.n_recs);
		for (size_t i = 0; i < h.n_recs; i++)
			ck_assert_msg(h.recs[i].replicas == tc->want[i], "%s: rec %zu = %d", tc->name,
				      i, h.recs[i].replicas);
	}
	hpa_history_clear(&h);
}
END_TEST

/* Legacy path (convertDesiredReplicasWithRules / calculateScaleUpLimit): cap max(2c, 4). */
START_TEST(test_legacy_limits)
{
	struct hpa_options o;
	struct hpa__limit l;

	hpa_options_default(&o);
	l = hpa__limit_legacy(&o, 1, 10, 1, 100);
	ck_assert_int_eq(l.replicas, 4);
	ck_assert_str_eq(l.reason, "ScaleUpLimit");
	l = hpa__limit_legacy(&o, 10, 50, 1, 100);
	ck_assert_int_eq(l.replicas, 20);
	l = hpa__limit_legacy(&o, 0, 9, 0, 100);
	ck_assert_int_eq(l.replicas, 4);
	l = hpa__limit_legacy(&o, 10, 50, 1, 15);
	ck_assert_int_eq(l.replicas, 15);
	ck_assert_str_eq(l.reason, "TooManyReplicas");
	l = hpa__limit_legacy(&o, 10, 0, 2, 15);
	ck_assert_int_eq(l.replicas, 2);
	ck_assert_str_eq(l.reason, "TooFewReplicas");
	l = hpa__limit_legacy(&o, 10, 12, 2, 15);
	ck_assert_int_eq(l.replicas, 12);
	ck_assert_str_eq(l.reason, "DesiredWithinRange");
}
END_TEST

/* hz-030 / TestScaleDownStabilizeInitialSize: max over the legacy window, oldest slot reused. */
START_TEST(test_legacy_stabilization)
{
	struct hpa_history h = { .seen = true };
	int32_t got;

	h.recs = calloc(4, sizeof(*h.recs));
	h.recs[0] = (struct hpa_recommendation){ 9, NOW - SEC(400) };
	h.recs[1] = (struct hpa_recommendation){ 7, NOW - SEC(100) };
	h.n_recs = 2;
	got = hpa__stabilize_legacy(&h, NOW, SEC(300), 3, NULL);
	ck_assert_int_eq(got, 7);
	ck_assert_int_eq(h.n_recs, 2);
	ck_assert_int_eq(h.recs[0].replicas, 3);
	ck_assert(h.recs[0].ts == NOW);
	hpa_history_clear(&h);
}
END_TEST

/* API defaults and TestConfigurableTolerance's gate handling. */
START_TEST(test_defaults_and_tolerance)
{
	struct hpa_options o;
	struct hpa__behavior b;
	struct hpa__tol t;
	char err[128];
	json_t *hpa = json_loads("{\"spec\":{\"behavior\":{\"scaleUp\":{\"tolerance\":\"0.01\"},"
				 "\"scaleDown\":{\"selectPolicy\":\"Disabled\",\"tolerance\":0.9}}}}",
				 0, NULL);

	hpa_options_default(&o);
	ck_assert_int_eq(hpa__behavior_load(hpa, &o, &b, err, sizeof(err)), 0);
	ck_assert(b.present);
	ck_assert_int_eq(b.up.window, 0);
	ck_assert_int_eq(b.up.n_policies, 2);
	ck_assert_int_eq(b.up.policies[0].value, 4);
	ck_assert_int_eq(b.up.policies[1].value, 100);
	ck_assert_int_eq(b.down.window, 300);
	ck_assert_int_eq(b.down.select, HPA_SELECT_DISABLED);
	t = hpa__tolerances(&b, &o);
	ck_assert(t.up > 0.0099 && t.up < 0.0101);
	ck_assert(t.down > 0.899 && t.down < 0.901);
	o.gate_configurable_tolerance = false;
	t = hpa__tolerances(&b, &o);
	ck_assert(t.up == 0.1 && t.down == 0.1);
	json_decref(hpa);
}
END_TEST

static Suite *hpa_behavior_suite(void)
{
	Suite *s = suite_create("hpa_behavior");
	TCase *tc = tcase_create("behavior");

	tcase_set_timeout(tc, 10);
	tcase_add_loop_test(tc, test_scaling_with_rules, 0, (int)COMMON_ARRAY_LEN(rule_cases));
	tcase_add_loop_test(tc, test_store_scale_events, 0, (int)COMMON_ARRAY_LEN(store_cases));
	tcase_add_loop_test(tc, test_stabilize_with_behavior, 0, (int)COMMON_ARRAY_LEN(stab_cases));
	tcase_add_test(tc, test_legacy_limits);
	tcase_add_test(tc, test_legacy_stabilization);
	tcase_add_test(tc, test_defaults_and_tolerance);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(hpa_behavior_suite());
}
