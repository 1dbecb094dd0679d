/*
 * check_store_apply.c - metrics-server's storage rules (store/apply.c)
 * and rates (store/rate.c) through store.h, ported from
 * pkg/storage/node_test.go and pod_test.go (resolution 60s), plus the
 * decode-normal worked example of metrics-server.md §5.3; also Ready(),
 * first-wins duplicates in a batch (batch.c), a held snapshot outliving
 * the next apply and lookups among many pods (snapshot.c).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "store/store.h"
#include "test/unit/unit.h"

#define SEC NS_PER_SEC
#define CORE_SECOND UINT64_C(1000000000)
#define MIB UINT64_C(1048576)
#define T0 (INT64_C(1700000000) * SEC)   /* "containerStart := time.Now()" */

static struct store *st;

static void setup(void)
{
	st = store_new(60 * SEC);
}

static void teardown(void)
{
	store_free(st);
}

static struct store_point pt(int64_t start, int64_t ts, uint64_t cpu, uint64_t mem)
{
	return (struct store_point){ .start_ns = start, .ts_ns = ts, .cpu_ns = cpu, .mem_bytes = mem };
}

/* One scrape holding node name alone. */
static void store_node(const char *name, struct store_point p)
{
	struct store_batch *b = store_batch_new();

	store_batch_add_node(b, name, &p);
	store_apply(st, b);
}

/* One scrape holding ns1/pod1 with container c1 (and c2 unless NULL). */
static void store_pod1(const char *c1, struct store_point p1, const char *c2, struct store_point p2)
{
	struct store_batch *b = store_batch_new();

	store_batch_add_container(b, "ns1", "pod1", c1, &p1);
	if (c2)
		store_batch_add_container(b, "ns1", "pod1", c2, &p2);
	store_apply(st, b);
}

/* One scrape holding ns1/pod1 with the single container c. */
static void store_ctr(const char *c, struct store_point p)
{
	store_pod1(c, p, NULL, p);
}

static void store_empty(void)
{
	store_apply(st, store_batch_new());
}

/* Whether node name is served; its usage into *u unless u is NULL. */
static bool node_found(const char *name, struct store_usage *u)
{
	struct store_snapshot *snap = store_acquire(st);
	struct store_usage ignored;
	int rc = store_node_usage(snap, name, u ? u : &ignored);

	store_snapshot_unref(snap);
	return rc == ERR_OK;
}

/* What a served node reads. */
struct want_node {
	int64_t ts_ns, window_ns;
	uint64_t cpu, mem;
};

static void assert_node(const char *name, struct want_node w)
{
	struct store_usage u;

	ck_assert_msg(node_found(name, &u), "node %s is not served", name);
	ck_assert_int_eq(u.ts_ns, w.ts_ns);
	ck_assert_int_eq(u.window_ns, w.window_ns);
	ck_assert_uint_eq(u.cpu_nanocores, w.cpu);
	ck_assert_uint_eq(u.mem_bytes, w.mem);
}

struct pod_result {
	bool found;
	size_t n;
	struct store_container_usage c[4];
	struct store_usage time;
};

static struct pod_result pod_get(const char *ns, const char *name)
{
	struct pod_result r = { 0 };
	struct store_snapshot *snap = store_acquire(st);
	const struct store_container_usage *cs;

	if (store_pod_usage(snap, ns, name, &cs, &r.n, &r.time) == ERR_OK) {
		r.found = true;
		ck_assert_uint_le(r.n, 4);
		memcpy(r.c, cs, r.n * sizeof(*cs));
		for (size_t i = 0; i < r.n; i++)
			r.c[i].name = NULL;  /* borrowed; not valid after release */
	}
	store_snapshot_unref(snap);
	return r;
}

/* What a served pod reads: its time, and exactly n containers in name order. */
struct want_pod {
	int64_t ts_ns, window_ns;
	size_t n;
	struct { uint64_t cpu, mem; } c[2];
};

static void assert_pod(const char *ns, const char *name, struct want_pod w)
{
	struct pod_result r = pod_get(ns, name);

	ck_assert_msg(r.found, "pod %s/%s is not served", ns, name);
	ck_assert_int_eq(r.time.ts_ns, w.ts_ns);
	ck_assert_int_eq(r.time.window_ns, w.window_ns);
	ck_assert_uint_eq(r.n, w.n);
	ck_assert_uint_le(w.n, COMMON_ARRAY_LEN(w.c));
	for (size_t i = 0; i < w.n; i++) {
		ck_assert_uint_eq(r.c[i].cpu_nanocores, w.c[i].cpu);
		ck_assert_uint_eq(r.c[i].mem_bytes, w.c[i].mem);
	}
}

static bool ready(void)
{
	struct store_snapshot *snap = store_acquire(st);
	bool r = store_snapshot_ready(snap);

	store_snapshot_unref(snap);
	return r;
}

static size_t points(bool containers)
{
	struct store_snapshot *snap = store_acquire(st);
	size_t n = containers ? store_snapshot_container_points(snap) : store_snapshot_node_points(snap);

	store_snapshot_unref(snap);
	return n;
}

/* ---- node_test.go --------------------------------------------------- */

START_TEST(test_node_provides_metrics)
{
	store_node("node1", pt(T0, T0 + 10 * SEC, 10 * CORE_SECOND, 2 * MIB));
	ck_assert(!ready());
	ck_assert(!node_found("node1", NULL));
	store_node("node1", pt(T0, T0 + 20 * SEC, 20 * CORE_SECOND, 3 * MIB));
	assert_node("node1", (struct want_node){ T0 + 20 * SEC, 10 * SEC, CORE_SECOND, 3 * MIB });
	ck_assert(!node_found("node2", NULL));
	store_empty();
	ck_assert(!node_found("node1", NULL));
	ck_assert_uint_eq(points(false), 0);
}
END_TEST

START_TEST(test_node_repeated_point)
{
	struct store_point p = pt(T0, T0 + 10 * SEC, 10 * CORE_SECOND, 2 * MIB);

	store_node("node1", p);
	store_node("node1", p);
	ck_assert(!node_found("node1", NULL));
	ck_assert(!ready());
	ck_assert_uint_eq(points(false), 0);
}
END_TEST

START_TEST(test_node_points_gauge)
{
	ck_assert_uint_eq(points(false), 0);
	store_node("node1", pt(T0, T0 + 10 * SEC, 10 * CORE_SECOND, 2 * MIB));
	ck_assert_uint_eq(points(false), 0);
	ck_assert_uint_eq(points(true), 0);
	store_node("node1", pt(T0, T0 + 20 * SEC, 21 * CORE_SECOND, 3 * MIB));
	ck_assert_uint_eq(points(false), 1);
	ck_assert_uint_eq(points(true), 0);
}
END_TEST

START_TEST(test_node_restart_skipped)
{
	store_node("node1", pt(T0, T0 + 10 * SEC, 10 * CORE_SECOND, 2 * MIB));
	store_node("node1", pt(T0 + 15 * SEC, T0 + 20 * SEC, 5 * CORE_SECOND, 3 * MIB));
	ck_assert(!node_found("node1", NULL));
	ck_assert_uint_eq(points(false), 1);  /* stored, but the rate check fails */
}
END_TEST

START_TEST(test_node_cpu_decrease)
{
	store_node("node1", pt(T0, T0 + 15 * SEC, 50 * CORE_SECOND, 3 * MIB));
	store_node("node1", pt(T0, T0 + 25 * SEC, 10 * CORE_SECOND, 5 * MIB));
	ck_assert(!node_found("node1", NULL));
}
END_TEST

START_TEST(test_node_older_than_prev)
{
	store_node("node1", pt(T0, T0 + 15 * SEC, 10 * CORE_SECOND, 3 * MIB));
	store_node("node1", pt(T0, T0 + 35 * SEC, 50 * CORE_SECOND, 5 * MIB));
	store_node("node1", pt(T0, T0 + 5 * SEC, 6 * CORE_SECOND, 2 * MIB));
	ck_assert(!node_found("node1", NULL));
}
END_TEST

START_TEST(test_node_between_prev_and_last)
{
	store_node("node1", pt(T0, T0 + 15 * SEC, 10 * CORE_SECOND, 1 * MIB));
	store_node("node1", pt(T0, T0 + 35 * SEC, 50 * CORE_SECOND, 4 * MIB));
	store_node("node1", pt(T0, T0 + 25 * SEC, 35 * CORE_SECOND, 2 * MIB));
	assert_node("node1", (struct want_node){ T0 + 25 * SEC, 10 * SEC, 2500000000u, 2 * MIB });
}
END_TEST

START_TEST(test_node_zero_start_time)
{
	store_node("node1", pt(0, T0 + 10 * SEC, 10 * CORE_SECOND, 2 * MIB));
	ck_assert(!node_found("node1", NULL));
	store_node("node1", pt(0, T0 + 20 * SEC, 20 * CORE_SECOND, 3 * MIB));
	assert_node("node1", (struct want_node){ T0 + 20 * SEC, 10 * SEC, CORE_SECOND, 3 * MIB });
}
END_TEST

/* ---- pod_test.go ------------------------------------------------------ */

START_TEST(test_pod_provides_metrics)
{
	store_ctr("container1", pt(T0, T0 + 120 * SEC, 1 * CORE_SECOND, 4 * MIB));
	ck_assert(!pod_get("ns1", "pod1").found);
	store_ctr("container1", pt(T0, T0 + 125 * SEC, 6 * CORE_SECOND, 5 * MIB));
	assert_pod("ns1", "pod1", (struct want_pod){ T0 + 125 * SEC, 5 * SEC, 1,
						    { { CORE_SECOND, 5 * MIB } } });
	ck_assert(!pod_get("ns1", "pod2").found);
	ck_assert(!pod_get("ns2", "pod1").found);
	store_empty();
	ck_assert(!pod_get("ns1", "pod1").found);
}
END_TEST

START_TEST(test_pod_earliest_container)
{
	store_pod1("container1", pt(T0, T0 + 110 * SEC, 1 * CORE_SECOND, 4 * MIB),
		   "container2", pt(T0, T0 + 115 * SEC, 2 * CORE_SECOND, 5 * MIB));
	ck_assert_uint_eq(points(true), 0);
	store_pod1("container1", pt(T0, T0 + 120 * SEC, 6 * CORE_SECOND, 6 * MIB),
		   "container2", pt(T0, T0 + 125 * SEC, 7 * CORE_SECOND, 7 * MIB));
	ck_assert_uint_eq(points(true), 2);
	assert_pod("ns1", "pod1", (struct want_pod){ T0 + 120 * SEC, 10 * SEC, 2,
						    { { 500000000u, 6 * MIB }, { 500000000u, 7 * MIB } } });
}
END_TEST

START_TEST(test_pod_containers_sorted_by_name)
{
	struct store_snapshot *snap;
	const struct store_container_usage *cs;
	struct store_usage t;
	size_t n;

	store_pod1("zeta", pt(T0, T0 + 110 * SEC, 1, 1), "alpha", pt(T0, T0 + 110 * SEC, 1, 1));
	store_pod1("zeta", pt(T0, T0 + 120 * SEC, 2, 1), "alpha", pt(T0, T0 + 120 * SEC, 2, 1));
	snap = store_acquire(st);
	ck_assert_int_eq(store_pod_usage(snap, "ns1", "pod1", &cs, &n, &t), ERR_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(cs[0].name, "alpha");
	ck_assert_str_eq(cs[1].name, "zeta");
	store_snapshot_unref(snap);
}
END_TEST

START_TEST(test_pod_repeated_point)
{
	struct store_point p = pt(T0, T0 + 110 * SEC, 1 * CORE_SECOND, 4 * MIB);

	store_ctr("container1", p);
	store_ctr("container1", p);
	ck_assert(!pod_get("ns1", "pod1").found);
	ck_assert_uint_eq(points(true), 0);
}
END_TEST

START_TEST(test_pod_restart_window_from_start)
{
	store_ctr("container1", pt(T0, T0 + 10 * SEC, 1 * CORE_SECOND, 4 * MIB));
	store_ctr("container1", pt(T0 + 15 * SEC, T0 + 25 * SEC, 5 * CORE_SECOND, 5 * MIB));
	assert_pod("ns1", "pod1", (struct want_pod){ T0 + 25 * SEC, 10 * SEC, 1,
						    { { 500000000u, 5 * MIB } } });
}
END_TEST

START_TEST(test_pod_restart_without_fresh_window)
{
	/* Restarted 5s before the sample: no synthetic prev, and the restart
	 * rule forbids the stored point -> not served. */
	store_ctr("container1", pt(T0, T0 + 100 * SEC, 1 * CORE_SECOND, 4 * MIB));
	store_ctr("container1", pt(T0 + 110 * SEC, T0 + 115 * SEC, 5 * CORE_SECOND, 5 * MIB));
	ck_assert(!pod_get("ns1", "pod1").found);
	ck_assert_uint_eq(points(true), 0);
}
END_TEST

START_TEST(test_pod_cpu_decrease_empty_containers)
{
	store_ctr("container1", pt(T0, T0 + 110 * SEC, 20 * CORE_SECOND, 4 * MIB));
	store_ctr("container1", pt(T0, T0 + 120 * SEC, 10 * CORE_SECOND, 4 * MIB));
	/* served, with no containers and Go's zero TimeInfo */
	assert_pod("ns1", "pod1", (struct want_pod){ 0, 0, 0, { { 0, 0 } } });
}
END_TEST

START_TEST(test_pod_older_than_prev)
{
	store_ctr("container1", pt(T0, T0 + 1115 * SEC, 20 * CORE_SECOND, 4 * MIB));
	store_ctr("container1", pt(T0, T0 + 1125 * SEC, 40 * CORE_SECOND, 4 * MIB));
	ck_assert(pod_get("ns1", "pod1").found);
	store_ctr("container1", pt(T0, T0 + 115 * SEC, 10 * CORE_SECOND, 4 * MIB));
	ck_assert(!pod_get("ns1", "pod1").found);
}
END_TEST

START_TEST(test_pod_between_prev_and_last)
{
	store_ctr("container1", pt(T0, T0 + 115 * SEC, 10 * CORE_SECOND, 4 * MIB));
	store_ctr("container1", pt(T0, T0 + 125 * SEC, 50 * CORE_SECOND, 5 * MIB));
	store_ctr("container1", pt(T0, T0 + 120 * SEC, 35 * CORE_SECOND, 5 * MIB));
	assert_pod("ns1", "pod1", (struct want_pod){ T0 + 120 * SEC, 5 * SEC, 1,
						    { { 5 * CORE_SECOND, 5 * MIB } } });
}
END_TEST

START_TEST(test_pod_long_running_needs_two_cycles)
{
	store_ctr("container1", pt(T0, T0 + 120 * SEC, 1 * CORE_SECOND, 4 * MIB));
	ck_assert(!ready());
	ck_assert(!pod_get("ns1", "pod1").found);
}
END_TEST

START_TEST(test_pod_fresh_container_one_cycle)
{
	store_ctr("container1", pt(T0, T0 + 10 * SEC, 10 * CORE_SECOND, 4 * MIB));
	ck_assert_uint_eq(points(true), 1);
	assert_pod("ns1", "pod1", (struct want_pod){ T0 + 10 * SEC, 10 * SEC, 1,
						    { { CORE_SECOND, 4 * MIB } } });
}
END_TEST

START_TEST(test_pod_fresh_bounds)
{
	/* start after the timestamp, 9s old, and exactly the resolution old:
	 * none gets the shortcut. */
	store_ctr("c", pt(T0, T0 - 10 * SEC, 10 * CORE_SECOND, 4 * MIB));
	ck_assert(!pod_get("ns1", "pod1").found);
	store_ctr("c", pt(T0, T0 + 9 * SEC, 10 * CORE_SECOND, 4 * MIB));
	ck_assert(!pod_get("ns1", "pod1").found);
	store_empty();
	store_ctr("c", pt(T0, T0 + 60 * SEC, 10 * CORE_SECOND, 4 * MIB));
	ck_assert(!pod_get("ns1", "pod1").found);
	store_empty();
	store_ctr("c", pt(T0, T0 + 59 * SEC, 59 * CORE_SECOND, 4 * MIB));
	ck_assert(pod_get("ns1", "pod1").found);
}
END_TEST

START_TEST(test_pod_zero_start_time)
{
	store_ctr("container1", pt(0, T0 + 120 * SEC, 1 * CORE_SECOND, 4 * MIB));
	ck_assert(!pod_get("ns1", "pod1").found);
	store_ctr("container1", pt(0, T0 + 125 * SEC, 6 * CORE_SECOND, 5 * MIB));
	assert_pod("ns1", "pod1", (struct want_pod){ T0 + 125 * SEC, 5 * SEC, 1,
						    { { CORE_SECOND, 5 * MIB } } });
}
END_TEST

START_TEST(test_pod_new_container_hides_pod)
{
	store_ctr("container1", pt(T0, T0 + 110 * SEC, 1 * CORE_SECOND, 4 * MIB));
	store_pod1("container1", pt(T0, T0 + 120 * SEC, 6 * CORE_SECOND, 6 * MIB),
		   "container2", pt(T0, T0 + 120 * SEC, 8 * CORE_SECOND, 5 * MIB));
	ck_assert(!pod_get("ns1", "pod1").found);
	ck_assert_uint_eq(points(true), 1);
}
END_TEST

/* ---- readiness, duplicates, snapshots ------------------------------------ */

/* One scrape holding node at np and container ns/pod/c at cp. */
static void store_node_and_ctr(const char *node, struct store_point np, const char *ns,
			       const char *pod, const char *c, struct store_point cp)
{
	struct store_batch *b = store_batch_new();

	store_batch_add_node(b, node, &np);
	store_batch_add_container(b, ns, pod, c, &cp);
	store_apply(st, b);
}

/* node1 and ns1/pod1/c at the same point. */
static void store_both(int64_t ts, uint64_t cpu)
{
	struct store_point p = pt(T0, ts, cpu, MIB);

	store_node_and_ctr("node1", p, "ns1", "pod1", "c", p);
}

START_TEST(test_ready_needs_node_and_pod)
{
	store_node("node1", pt(0, T0 + 10 * SEC, 1, 1));
	store_node("node1", pt(0, T0 + 20 * SEC, 2, 1));
	ck_assert(!ready());  /* v0.9: nodes.prev && pods.prev */
	store_ctr("c", pt(T0, T0 + 10 * SEC, 10, 1));
	ck_assert(!ready());  /* the node is pruned by this pod-only batch */
	store_both(T0 + 100 * SEC, 10);
	store_both(T0 + 110 * SEC, 20);
	ck_assert(ready());
}
END_TEST

START_TEST(test_duplicates_first_wins)
{
	struct store_batch *b = store_batch_new();
	struct store_point p1 = pt(T0, T0 + 10 * SEC, 10 * CORE_SECOND, MIB);
	struct store_point p2 = pt(T0, T0 + 10 * SEC, 99 * CORE_SECOND, 9 * MIB);
	struct store_usage u;

	store_batch_add_node(b, "node1", &p1);
	store_batch_add_node(b, "node1", &p2);
	store_batch_add_container(b, "ns1", "pod1", "c", &p1);
	store_batch_add_container(b, "ns1", "pod1", "c", &p2);
	store_batch_add_container(b, "ns1", "pod2", "c", &p2);
	store_batch_add_node(b, "", &p2);            /* invalid names are ignored */
	store_batch_add_container(b, "ns1", NULL, "c", &p2);
	ck_assert_uint_eq(store_batch_node_count(b), 1);
	ck_assert_uint_eq(store_batch_pod_count(b), 2);
	store_apply(st, b);
	store_node("node1", pt(T0, T0 + 20 * SEC, 20 * CORE_SECOND, 2 * MIB));
	ck_assert(node_found("node1", &u));
	ck_assert_uint_eq(u.cpu_nanocores, CORE_SECOND);  /* (20-10)/10s: p1 was kept */
}
END_TEST

START_TEST(test_snapshot_outlives_apply)
{
	struct store_snapshot *old;
	struct store_usage u;

	store_both(T0 + 100 * SEC, 10 * CORE_SECOND);
	store_both(T0 + 110 * SEC, 20 * CORE_SECOND);
	old = store_acquire(st);
	store_empty();
	ck_assert(!node_found("node1", NULL));
	ck_assert_int_eq(store_node_usage(old, "node1", &u), ERR_OK);
	ck_assert_uint_eq(u.cpu_nanocores, CORE_SECOND);
	ck_assert(store_snapshot_ready(old));
	store_snapshot_unref(old);
}
END_TEST

START_TEST(test_many_pods_lookup)
{
	struct store_batch *b;
	char ns[32], name[32];
	struct store_point p;
	int round, i;

	for (round = 1; round <= 2; round++) {
		b = store_batch_new();
		for (i = 0; i < 5000; i++) {
			snprintf(ns, sizeof(ns), "ns%d", i % 7);
			snprintf(name, sizeof(name), "pod-%d", i);
			p = pt(T0, T0 + round * 15 * SEC, (uint64_t)(round * (i + 1)) * CORE_SECOND, MIB);
			store_batch_add_container(b, ns, name, "app", &p);
			store_batch_add_container(b, ns, name, "sidecar", &p);
		}
		store_apply(st, b);
	}
	ck_assert_uint_eq(points(true), 10000);
	for (i = 0; i < 5000; i += 499) {
		struct pod_result r;

		snprintf(ns, sizeof(ns), "ns%d", i % 7);
		snprintf(name, sizeof(name), "pod-%d", i);
		r = pod_get(ns, name);
		ck_assert(r.found);
		ck_assert_uint_eq(r.n, 2);
		/* (i+1) core-seconds over 15s */
		ck_assert_uint_eq(r.c[0].cpu_nanocores, (uint64_t)((double)((uint64_t)(i + 1) * CORE_SECOND) / 15.0));
	}
	ck_assert(!pod_get("ns1", "pod-0").found);  /* pod-0 lives in ns0 */
}
END_TEST

/* metrics-server.md §5.3: two scrapes of decode-normal-like data. */
START_TEST(test_worked_example_decode_normal)
{
	const int64_t ms = NS_PER_MS;
	int64_t start;

	ck_assert_int_eq(parse_rfc3339("2021-10-03T09:18:32Z", &start), ERR_OK);

	const struct { struct store_point node1, coredns; } scrapes[] = {
		{ pt(0, 1633253809720 * ms, 357354910000u, 1616273408u),
		  pt(start, 1633253812125 * ms, 4710169000u, 12533760u) },
		{ pt(0, 1633253824720 * ms, (uint64_t)(364.49548936 * 1e9), 2056949760u),
		  pt(start, 1633253827129 * ms, (uint64_t)(4.8612 * 1e9), 12582912u) },
	};

	for (size_t i = 0; i < COMMON_ARRAY_LEN(scrapes); i++)
		store_node_and_ctr("node1", scrapes[i].node1, "kube-system", "coredns-558bd4d5db-4dpjz",
				   "coredns", scrapes[i].coredns);
	ck_assert(ready());
	assert_node("node1", (struct want_node){ 1633253824720 * ms, 15 * SEC, 476038624u,
						 2056949760u });
	assert_pod("kube-system", "coredns-558bd4d5db-4dpjz",
		   (struct want_pod){ 1633253827129 * ms, 15004 * ms, 1, { { 10066049u, 12582912u } } });
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_apply");
	TCase *node = tcase_create("node");
	TCase *pod = tcase_create("pod");
	TCase *misc = tcase_create("misc");

	tcase_add_checked_fixture(node, setup, teardown);
	tcase_add_checked_fixture(pod, setup, teardown);
	tcase_add_checked_fixture(misc, setup, teardown);
	tcase_set_timeout(node, 10);
	tcase_set_timeout(pod, 10);
	tcase_set_timeout(misc, 60);
	tcase_add_test(node, test_node_provides_metrics);
	tcase_add_test(node, test_node_repeated_point);
	tcase_add_test(node, test_node_points_gauge);
	tcase_add_test(node, test_node_restart_skipped);
	tcase_add_test(node, test_node_cpu_decrease);
	tcase_add_test(node, test_node_older_than_prev);
	tcase_add_test(node, test_node_between_prev_and_last);
	tcase_add_test(node, test_node_zero_start_time);
	tcase_add_test(pod, test_pod_provides_metrics);
	tcase_add_test(pod, test_pod_earliest_container);
	tcase_add_test(pod, test_pod_containers_sorted_by_name);
	tcase_add_test(pod, test_pod_repeated_point);
	tcase_add_test(pod, test_pod_restart_window_from_start);
	tcase_add_test(pod, test_pod_restart_without_fresh_window);
	tcase_add_test(pod, test_pod_cpu_decrease_empty_containers);
	tcase_add_test(pod, test_pod_older_than_prev);
	tcase_add_test(pod, test_pod_between_prev_and_last);
	tcase_add_test(pod, test_pod_long_running_needs_two_cycles);
	tcase_add_test(pod, test_pod_fresh_container_one_cycle);
	tcase_add_test(pod, test_pod_fresh_bounds);
	tcase_add_test(pod, test_pod_zero_start_time);
	tcase_add_test(pod, test_pod_new_container_hides_pod);
	tcase_add_test(misc, test_ready_needs_node_and_pod);
	tcase_add_test(misc, test_duplicates_first_wins);
	tcase_add_test(misc, test_snapshot_outlives_apply);
	tcase_add_test(misc, test_many_pods_lookup);
	tcase_add_test(misc, test_worked_example_decode_normal);
	suite_add_tcase(s, node);
	suite_add_tcase(s, pod);
	suite_add_tcase(s, misc);
	return unit_run(s);
}
