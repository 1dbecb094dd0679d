/*
 * check_hpaloop_loop.c - the pure parts of the embedded HPA loop
 * (hpaloop/state.c, peers.c, objects.c): the per-HPA state (history
 * bookkeeping across passes,
 * uid changes, pruning, the other HPAs' selectors), PodMetrics built from a
 * store snapshot and fed to hpa_decide, and the Events with their counts.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpaloop/hpaloop_int.h"
#include "test/unit/unit.h"

#define SEC NS_PER_SEC
#define T0 (INT64_C(1700000000) * SEC) /* 2023-11-14T22:13:20Z */

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	ck_assert_msg(j != NULL, "bad test JSON: %s", e.text);
	return j;
}

/* ---- per-HPA state -------------------------------------------------------------- */

static void give_history(struct hpaloop__state *st, int32_t replicas, int64_t ts)
{
	struct hpa_history h = { .seen = true, .n_recs = 1 };

	h.recs = xmalloc(sizeof(*h.recs));
	h.recs[0] = (struct hpa_recommendation){ replicas, ts };
	hpaloop__state_take_history(st, &h);
	ck_assert_ptr_null(h.recs); /* moved */
	ck_assert(!h.seen);
}

START_TEST(test_states_keep_and_prune)
{
	struct hpaloop__states s = { 0 };
	struct hpaloop__state *a, *b;

	hpaloop__states_begin(&s);
	a = hpaloop__states_get(&s, "ns1", "web", "uid-a");
	b = hpaloop__states_get(&s, "ns1", "api", "uid-b");
	ck_assert(!a->history.seen);
	give_history(a, 6, T0);
	give_history(b, 2, T0);
	ck_assert_uint_eq(hpaloop__states_prune(&s), 0);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_str_eq(s.v[0]->key, "ns1/api"); /* sorted */

	hpaloop__states_begin(&s); /* the next pass sees web only */
	ck_assert_ptr_eq(hpaloop__states_get(&s, "ns1", "web", "uid-a"), a);
	ck_assert_uint_eq(hpaloop__states_prune(&s), 1);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_ptr_null(hpaloop__states_find(&s, "ns1", "api"));
	a = hpaloop__states_find(&s, "ns1", "web");
	ck_assert(a->history.seen);
	ck_assert_uint_eq(a->history.n_recs, 1);
	ck_assert_int_eq(a->history.recs[0].replicas, 6);
	hpaloop__states_clear(&s);
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

START_TEST(test_states_uid_change_resets_history)
{
	struct hpaloop__states s = { 0 };
	struct hpaloop__state *a;

	hpaloop__states_begin(&s);
	a = hpaloop__states_get(&s, "ns1", "web", "uid-1");
	give_history(a, 6, T0);
	a->selector = xstrdup("app=web");
	a = hpaloop__states_get(&s, "ns1", "web", "uid-2"); /* deleted and created again */
	ck_assert(!a->history.seen);
	ck_assert_uint_eq(a->history.n_recs, 0);
	ck_assert_ptr_null(a->selector);
	ck_assert_str_eq(a->uid, "uid-2");
	ck_assert_uint_eq(s.n, 1);
	hpaloop__states_clear(&s);
}
END_TEST

/* ---- the other HPAs of a namespace (peers.c) ------------------------------- */

/* The pass's HPA list: name, namespace, annotated?, in that order. */
static json_t *hpa_items(const char *const *spec)
{
	json_t *items = json_array();

	for (size_t i = 0; spec[i]; i += 3) {
		json_t *h = json_pack("{s:{s:s,s:s}}", "metadata", "name", spec[i], "namespace",
				      spec[i + 1]);

		if (spec[i + 2][0] == 'y')
			json_object_set_new(json_object_get(h, "metadata"), "annotations",
					    json_pack("{s:s}", HPALOOP_ANNOTATION, "true"));
		json_array_append_new(items, h);
	}
	return items;
}

/* A fake scale reader: "app=<name>" except for "broken" (no selector); counts calls. */
struct reads {
	int n;
	char last[64];
};

static char *fake_read(void *ud, const json_t *hpa)
{
	struct reads *r = ud;
	const char *name = jpath_str(hpa, "metadata.name");

	r->n++;
	snprintf(r->last, sizeof(r->last), "%s/%s", jpath_str(hpa, "metadata.namespace"), name);
	return strcmp(name, "broken") == 0 ? NULL : xasprintf("app=%s", name);
}

/* "name=selector ..." of an others array. */
static char *others_str(const json_t *others)
{
	struct dynbuf b;
	const json_t *e;
	size_t i;

	dynbuf_init(&b, DYN_SMALL);
	json_array_foreach(others, i, e) {
		ck_assert_ptr_nonnull(jpath_str(e, "horizontalPodAutoscaler.metadata.namespace"));
		ck_assert_int_eq(dynbuf_printf(&b, "%s%s=%s", i ? " " : "",
					       jpath_str(e, "horizontalPodAutoscaler.metadata.name"),
					       jpath_str(e, "scale.status.selector")),
				 0);
	}
	return dynbuf_take(&b, NULL);
}

static void expect_others(struct hpaloop__peers *p, const struct hpaloop__states *s, const char *ns,
			  const char *self, struct reads *r, const char *want)
{
	json_t *others = hpaloop__peers_others(p, s, ns, self, fake_read, r);
	char *got = others_str(others);

	ck_assert_str_eq(got, want);
	free(got);
	json_decref(others);
}

START_TEST(test_peers_others)
{
	static const char *const spec[] = {
		"web", "ns1", "y", "api", "ns1", "n", "shadow", "ns1", "n", "broken", "ns1", "n",
		"nosel", "ns1", "y", "gone", "ns1", "y", "web2", "ns10", "n", "x", "ns", "n", NULL,
	};
	json_t *items = hpa_items(spec);
	struct hpaloop__states s = { 0 };
	struct hpaloop__peers p;
	struct reads r = { 0 };

	hpaloop__states_begin(&s);
	hpaloop__states_get(&s, "ns1", "web", "u1")->selector = xstrdup("app=web");
	hpaloop__states_get(&s, "ns1", "nosel", "u3");
	/* a state whose HPA is no longer listed (deleted; pruned at the end of the pass) */
	hpaloop__states_get(&s, "ns1", "old", "u4")->selector = xstrdup("app=old");
	hpaloop__peers_init(&p, items, HPALOOP_MODE_ANNOTATED);
	ck_assert_uint_eq(p.n, 8);
	/* web's view: the acted-on ones from their state (nosel has no selector,
	 * gone no state yet), the others read once each; other namespaces untouched */
	expect_others(&p, &s, "ns1", "web", &r, "api=app=api shadow=app=shadow");
	ck_assert_int_eq(r.n, 3); /* api, broken, shadow */
	/* a second acted-on HPA of ns1 in the same pass: no read again */
	expect_others(&p, &s, "ns1", "nosel", &r, "api=app=api shadow=app=shadow web=app=web");
	ck_assert_int_eq(r.n, 3);
	/* an un-annotated HPA does not see itself */
	expect_others(&p, &s, "ns1", "api", &r, "shadow=app=shadow web=app=web");
	ck_assert_int_eq(r.n, 3);
	/* "ns" is not a prefix match of "ns1"/"ns10" */
	expect_others(&p, &s, "ns", "y", &r, "x=app=x");
	ck_assert_int_eq(r.n, 4);
	ck_assert_str_eq(r.last, "ns/x");
	expect_others(&p, &s, "ns2", "z", &r, "");
	hpaloop__peers_clear(&p);

	/* --hpa=all: every HPA is acted on, nothing is read */
	r.n = 0;
	hpaloop__peers_init(&p, items, HPALOOP_MODE_ALL);
	expect_others(&p, &s, "ns1", "nosel", &r, "web=app=web");
	ck_assert_int_eq(r.n, 0);
	hpaloop__peers_clear(&p);
	/* no state (explain --live): every other HPA is read */
	hpaloop__peers_init(&p, items, HPALOOP_MODE_OFF);
	expect_others(&p, NULL, "ns1", "web", &r,
		      "api=app=api gone=app=gone nosel=app=nosel shadow=app=shadow");
	ck_assert_int_eq(r.n, 5);
	hpaloop__peers_clear(&p);
	hpaloop__states_clear(&s);
	json_decref(items);
}
END_TEST

/* ---- PodMetrics from a store snapshot --------------------------------------------- */

/* One scrape round: each pod of pods[] (NULL-terminated) with cpu milli in
 * a container "app" (and the same in "sidecar" for pods[0] when asked). */
static void round_of(struct store *st, int64_t ts, const char *const *pods, const int *milli,
		     int round, bool sidecar)
{
	struct store_batch *b = store_batch_new();

	for (int i = 0; pods[i]; i++) {
		struct store_point p = {
			.ts_ns = ts,
			.start_ns = T0 - 600 * SEC,
			.cpu_ns = (uint64_t)milli[i] * 10 * NS_PER_MS * (uint64_t)round + 1000000000,
			.mem_bytes = 20u << 20,
		};

		store_batch_add_container(b, "default", pods[i], "app", &p);
		if (sidecar && i == 0)
			store_batch_add_container(b, "default", pods[i], "sidecar", &p);
	}
	store_apply(st, b);
}

static const char pods_json[] =
	"[{\"metadata\":{\"name\":\"web-%d\",\"namespace\":\"default\",\"labels\":{\"app\":"
	"\"web\"}},\"spec\":{\"containers\":[{\"name\":\"app\",\"resources\":{\"requests\":"
	"{\"cpu\":\"100m\"}}}]},\"status\":{\"phase\":\"Running\",\"startTime\":"
	"\"2023-11-14T22:00:00Z\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","
	"\"lastTransitionTime\":\"2023-11-14T22:00:10Z\"}]}}]";

static json_t *pods_list(int first, int n)
{
	json_t *all = json_array();
	char text[sizeof(pods_json) + 16];

	for (int i = first; i < first + n; i++) {
		json_t *one;

		snprintf(text, sizeof(text), pods_json, i);
		one = parse(text);
		json_array_extend(all, one);
		json_decref(one);
	}
	return all;
}

START_TEST(test_pod_metrics_from_snapshot)
{
	static const char *const first[] = { "web-1", "web-2", NULL };
	static const char *const second[] = { "web-1", "web-2", "web-3", NULL };
	static const int milli[] = { 145, 80, 80 };
	struct store *st = store_new(10 * SEC);
	struct store_snapshot *snap;
	json_t *pods = pods_list(1, 4), *pm, *want;

	round_of(st, T0, first, milli, 1, true);
	round_of(st, T0 + 10 * SEC, second, milli, 2, true); /* web-3: one point only */
	snap = store_acquire(st);
	pm = hpaloop__pod_metrics(snap, pods);
	/* web-1 (two containers) and web-2; web-3 has one point, web-4 none */
	want = parse("[{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\",\"labels\":"
		     "{\"app\":\"web\"}},\"containers\":[{\"name\":\"app\",\"usage\":{\"cpu\":"
		     "\"145000000n\",\"memory\":\"20971520\"}},{\"name\":\"sidecar\",\"usage\":"
		     "{\"cpu\":\"145000000n\",\"memory\":\"20971520\"}}],\"timestamp\":"
		     "\"2023-11-14T22:13:30Z\",\"window\":\"10s\"},"
		     "{\"metadata\":{\"name\":\"web-2\",\"namespace\":\"default\",\"labels\":"
		     "{\"app\":\"web\"}},\"containers\":[{\"name\":\"app\",\"usage\":{\"cpu\":"
		     "\"80000000n\",\"memory\":\"20971520\"}}],\"timestamp\":"
		     "\"2023-11-14T22:13:30Z\",\"window\":\"10s\"}]");
	ck_assert_msg(json_equal(pm, want), "got %s", json_dumps(pm, JSON_COMPACT));
	json_decref(want);
	json_decref(pm);
	store_snapshot_unref(snap);
	json_decref(pods);
	store_free(st);
}
END_TEST

static const char hpa_json[] =
	"{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"u-web\","
	"\"resourceVersion\":\"42\"},\"spec\":{\"scaleTargetRef\":{\"apiVersion\":\"apps/v1\","
	"\"kind\":\"Deployment\",\"name\":\"web\"},\"minReplicas\":1,\"maxReplicas\":10,"
	"\"metrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":{\"type\":"
	"\"Utilization\",\"averageUtilization\":50}}}]}}";

/* One pass of the loop's decision on `usage` (milli per pod) of n pods. */
static struct hpa_result decide_pass(struct hpaloop__state *st, int n, int usage, int64_t round_ts)
{
	static const char *const names[] = { "web-1", "web-2", "web-3", "web-4", NULL };
	const int milli[] = { usage, usage, usage, usage };
	const char *one_round[5] = { NULL };
	struct store *store = store_new(10 * SEC);
	struct store_snapshot *snap;
	json_t *hpa = parse(hpa_json), *pods = pods_list(1, n), *scale, *pm;
	struct hpa_input in = { .hpa = hpa, .now = round_ts + SEC };
	struct hpa_result r;
	char err[256];

	for (int i = 0; i < n; i++)
		one_round[i] = names[i];
	scale = json_pack("{s:{s:i},s:{s:i,s:s}}", "spec", "replicas", n, "status", "replicas", n,
			  "selector", "app=web");
	round_of(store, round_ts - 10 * SEC, one_round, milli, 1, false);
	round_of(store, round_ts, one_round, milli, 2, false);
	snap = store_acquire(store);
	pm = hpaloop__pod_metrics(snap, pods);
	hpa_options_default(&in.opts);
	in.scale = scale;
	in.pods = pods;
	in.pod_metrics = pm;
	ck_assert_int_eq(hpa_decide(&in, &st->history, &r, err, sizeof(err)), 0);
	hpaloop__state_take_history(st, &r.history);
	store_snapshot_unref(snap);
	store_free(store);
	json_decref(pm);
	json_decref(scale);
	json_decref(pods);
	json_decref(hpa);
	return r;
}

START_TEST(test_store_to_decision_and_history)
{
	struct hpaloop__states s = { 0 };
	struct hpaloop__state *st;
	struct hpa_result r;

	hpaloop__states_begin(&s);
	st = hpaloop__states_get(&s, "default", "web", "u-web");
	/* 1 pod at 290m of 100m = 290%, target 50%: ceil(5.8) = 6, and the
	 * legacy limit (no spec.behavior) max(2 * 1, 4) = 4 writes 4 */
	r = decide_pass(st, 1, 290, T0);
	ck_assert(r.scale_updated);
	ck_assert_int_eq(r.metrics[0].proposed, 6);
	ck_assert_int_eq(r.desired, 4);
	ck_assert(r.metrics[0].has_utilization);
	ck_assert_int_eq(r.metrics[0].utilization, 290);
	ck_assert_uint_eq(r.metrics[0].ready.n, 1);
	hpa_result_clear(&r);
	/* the history kept by the state: seed (1) then the proposal (6, not 4) */
	ck_assert(st->history.seen);
	ck_assert_uint_eq(st->history.n_recs, 2);
	ck_assert_int_eq(st->history.recs[0].replicas, 1);
	ck_assert_int_eq(st->history.recs[1].replicas, 6);
	ck_assert_int_eq(st->history.recs[1].ts, T0 + SEC);
	/* 60 s later, 4 pods at 10m: proposes 1, but the 5 min downscale
	 * stabilization (legacy path) takes the highest recommendation of the
	 * window, 6, and max(2 * 4, 4) = 8 lets it through: 6 */
	r = decide_pass(st, 4, 10, T0 + 60 * SEC);
	ck_assert_int_eq(r.metrics[0].proposed, 1);
	ck_assert(r.scale_updated);
	ck_assert_int_eq(r.desired, 6);
	hpa_result_clear(&r);
	ck_assert_uint_eq(st->history.n_recs, 3);
	ck_assert_int_eq(st->history.recs[2].replicas, 1);
	/* a fresh state (no history) is seeded with the current count instead */
	hpaloop__states_begin(&s);
	st = hpaloop__states_get(&s, "default", "web", "u-web-2");
	r = decide_pass(st, 3, 10, T0 + 60 * SEC);
	ck_assert_int_eq(r.desired, 3);
	ck_assert(!r.scale_updated);
	hpa_result_clear(&r);
	hpaloop__states_clear(&s);
}
END_TEST

/* A reader for which every HPA targets the pods app=web. */
static char *web_read(void *ud, const json_t *hpa)
{
	COMMON_UNUSED(hpa);
	(*(int *)ud)++;
	return xstrdup("app=web");
}

START_TEST(test_unacted_hpa_makes_selector_ambiguous)
{
	static const char *const spec[] = { "web", "default", "y", "shadow", "default", "n",
					    "elsewhere", "other", "n", NULL };
	json_t *items = hpa_items(spec), *hpa = parse(hpa_json), *pods = pods_list(1, 2), *others;
	json_t *scale = json_pack("{s:{s:i},s:{s:i,s:s}}", "spec", "replicas", 2, "status",
				  "replicas", 2, "selector", "app=web");
	const char *want = "pods by selector app=web are controlled by multiple HPAs: "
			   "[default/shadow default/web]";
	struct hpa_input in = { .hpa = hpa, .scale = scale, .pods = pods, .now = T0 };
	struct hpaloop__states s = { 0 };
	struct hpaloop__peers p;
	struct hpa_result r;
	char err[256], *status;
	int reads = 0;

	hpa_options_default(&in.opts);
	hpaloop__states_begin(&s);
	hpaloop__states_get(&s, "default", "web", "u-web")->selector = xstrdup("app=web");
	hpaloop__peers_init(&p, items, HPALOOP_MODE_ANNOTATED);
	others = hpaloop__peers_others(&p, &s, "default", "web", web_read, &reads);
	ck_assert_int_eq(reads, 1); /* shadow only: "other" has no acted-on HPA */
	in.others = others;
	ck_assert_int_eq(hpa_decide(&in, NULL, &r, err, sizeof(err)), 0);
	ck_assert(!r.scale_updated);
	ck_assert_ptr_nonnull(r.error);
	ck_assert_msg(strstr(r.error, want) != NULL, "error: %s", r.error);
	ck_assert_uint_ge(r.n_events, 1);
	ck_assert_str_eq(r.events[0].reason, "AmbiguousSelector");
	ck_assert_str_eq(r.events[0].message, want);
	status = json_dumps(r.status, JSON_COMPACT);
	ck_assert_msg(strstr(status, "\"type\":\"ScalingActive\",\"status\":\"False\"") &&
			      strstr(status, "\"reason\":\"AmbiguousSelector\""),
		      "status: %s", status);
	free(status);
	hpa_result_clear(&r);
	/* without the un-annotated HPA (the loop before): no ambiguity (the
	 * pass goes on to the metric, which has no values here) */
	in.others = NULL;
	ck_assert_int_eq(hpa_decide(&in, NULL, &r, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(r.error);
	ck_assert_msg(strstr(r.error, "controlled by multiple HPAs") == NULL, "%s", r.error);
	ck_assert_msg(strstr(r.error, "unable to get metrics for resource cpu") != NULL, "%s",
		      r.error);
	hpa_result_clear(&r);
	json_decref(others);
	hpaloop__peers_clear(&p);
	hpaloop__states_clear(&s);
	json_decref(scale);
	json_decref(pods);
	json_decref(hpa);
	json_decref(items);
}
END_TEST

/* ---- Events ------------------------------------------------------------------------ */

START_TEST(test_event_object)
{
	json_t *hpa = parse(hpa_json), *e, *want, *again;
	struct hpa_event ev = { "Normal", "SuccessfulRescale",
				"New size: 6; reason: cpu resource utilization (percentage of "
				"request) above target" };

	e = hpaloop__event_new(hpa, &ev, T0 + 255);
	want = parse("{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":"
		     "\"web.17979cfe362a00ff\",\"namespace\":\"default\"},\"involvedObject\":"
		     "{\"kind\":\"HorizontalPodAutoscaler\",\"namespace\":\"default\",\"name\":"
		     "\"web\",\"uid\":\"u-web\",\"apiVersion\":\"autoscaling/v2\","
		     "\"resourceVersion\":\"42\"},\"reason\":\"SuccessfulRescale\",\"message\":"
		     "\"New size: 6; reason: cpu resource utilization (percentage of request) above "
		     "target\",\"type\":\"Normal\",\"source\":{\"component\":"
		     "\"horizontal-pod-autoscaler\"},\"firstTimestamp\":\"2023-11-14T22:13:20Z\","
		     "\"lastTimestamp\":\"2023-11-14T22:13:20Z\",\"count\":1,\"eventTime\":null,"
		     "\"reportingComponent\":\"horizontal-pod-autoscaler\",\"reportingInstance\":"
		     "\"\"}");
	ck_assert_msg(json_equal(e, want), "got %s", json_dumps(e, JSON_COMPACT));
	again = hpaloop__event_repeat(e, T0 + 75 * SEC);
	ck_assert_int_eq(json_integer_value(json_object_get(again, "count")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(again, "lastTimestamp")),
			 "2023-11-14T22:14:35Z");
	ck_assert_str_eq(json_string_value(json_object_get(again, "firstTimestamp")),
			 "2023-11-14T22:13:20Z");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "count")), 1); /* a copy */
	json_decref(again);
	json_decref(want);
	json_decref(e);
	json_decref(hpa);
}
END_TEST

START_TEST(test_event_cache)
{
	struct hpaloop__states s = { 0 };
	struct hpaloop__state *st;
	char msg[32];

	hpaloop__states_begin(&s);
	st = hpaloop__states_get(&s, "default", "web", "u");
	for (int i = 0; i < HPALOOP_EVENT_CACHE; i++) {
		struct hpa_event ev = { "Warning", "FailedGetResourceMetric", msg };
		json_t *obj = json_pack("{s:i}", "n", i);

		snprintf(msg, sizeof(msg), "message %d", i);
		hpaloop__state_event_put(st, &ev, obj, (uint64_t)(100 + i));
		json_decref(obj);
	}
	ck_assert_uint_eq(st->n_events, HPALOOP_EVENT_CACHE);
	{
		struct hpa_event ev0 = { "Warning", "FailedGetResourceMetric", "message 0" };
		struct hpa_event ev0n = { "Normal", "FailedGetResourceMetric", "message 0" };
		struct hpa_event ev1 = { "Warning", "FailedGetResourceMetric", "message 1" };
		struct hpa_event fresh = { "Normal", "SuccessfulRescale", "New size: 2" };
		json_t *obj = json_pack("{s:s}", "n", "fresh");

		ck_assert_ptr_nonnull(hpaloop__state_event_find(st, &ev0));
		ck_assert_ptr_null(hpaloop__state_event_find(st, &ev0n)); /* the type counts */
		hpaloop__state_event_put(st, &ev0, hpaloop__state_event_find(st, &ev0)->obj, 200); /* used */
		hpaloop__state_event_put(st, &fresh, obj, 201); /* evicts message 1, the oldest use */
		json_decref(obj);
		ck_assert_uint_eq(st->n_events, HPALOOP_EVENT_CACHE);
		ck_assert_ptr_null(hpaloop__state_event_find(st, &ev1));
		ck_assert_ptr_nonnull(hpaloop__state_event_find(st, &ev0));
		ck_assert_str_eq(json_string_value(json_object_get(
					 hpaloop__state_event_find(st, &fresh)->obj, "n")),
				 "fresh");
	}
	hpaloop__states_clear(&s);
}
END_TEST

static Suite *loop_suite(void)
{
	Suite *s = suite_create("hpaloop_loop");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_states_keep_and_prune);
	tcase_add_test(tc, test_states_uid_change_resets_history);
	tcase_add_test(tc, test_peers_others);
	tcase_add_test(tc, test_pod_metrics_from_snapshot);
	tcase_add_test(tc, test_store_to_decision_and_history);
	tcase_add_test(tc, test_unacted_hpa_makes_selector_ambiguous);
	tcase_add_test(tc, test_event_object);
	tcase_add_test(tc, test_event_cache);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(loop_suite());
}
