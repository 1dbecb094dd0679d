/*
 * check_store_snapshot.c - store/snapshot.c reuses a replaced snapshot's
 * memory for the next round (store_batch_begin, filled by batch.c over
 * intern.c's arenas): a steady round allocates nothing, a
 * snapshot a reader holds is never refilled under it, and nodes, pods and
 * containers that come, go, move or come apart are still served exactly.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "store/store_int.h"
#include "test/unit/unit.h"

#define SEC NS_PER_SEC
#define CORE_SECOND UINT64_C(1000000000)
#define MIB UINT64_C(1048576)
#define T0 (INT64_C(1700000000) * SEC)
#define STEP (15 * SEC)

static struct store *st;

static void setup(void)
{
	st = store_new(60 * SEC);
}

static void teardown(void)
{
	store_free(st);
}

/* Which entries a round holds, and in what order. */
struct shape {
	int nodes, pods, ctrs;
	int rot;                           /* rounds rotate the order by rot * r */
	bool (*present)(int i, int r);     /* NULL: every entry */
};

static bool has(const struct shape *sh, int i, int r)
{
	return r >= 0 && (!sh->present || sh->present(i, r));
}

/* Cumulative CPU of entry k at round r: the rate changes every round. */
static uint64_t cpu_at(int k, int r)
{
	return (uint64_t)k * CORE_SECOND * (uint64_t)((r + 1) * (r + 2) / 2);
}

static struct store_point point(int k, int r)
{
	return (struct store_point){ .ts_ns = T0 + r * STEP, .start_ns = T0 - 3600 * SEC,
				     .cpu_ns = cpu_at(k, r), .mem_bytes = (uint64_t)k * MIB + (uint64_t)r };
}

static void pod_names(int i, char *ns, char *pod)
{
	snprintf(ns, 32, "ns-%d", i % 3);
	snprintf(pod, 32, "pod-%d", i);
}

/* Round r of shape sh into the store, through a recycled batch;
 * containers are added in reverse name order. */
static void apply_round(const struct shape *sh, int r)
{
	struct store_batch *b = store_batch_begin(st);
	char name[32], ns[32], pod[32];

	for (int j = 0; j < sh->nodes; j++) {
		int n = (j + sh->rot * r) % sh->nodes;
		struct store_point p = point(n + 1, r);

		if (!has(sh, n, r))
			continue;
		snprintf(name, sizeof(name), "node-%d", n);
		store_batch_add_node(b, name, &p);
	}
	for (int j = 0; j < sh->pods; j++) {
		int i = (j + sh->rot * r) % sh->pods;

		if (!has(sh, i, r))
			continue;
		pod_names(i, ns, pod);
		for (int c = sh->ctrs - 1; c >= 0; c--) {
			struct store_point p = point(i * sh->ctrs + c + 1, r);

			snprintf(name, sizeof(name), "c%02d", c);
			store_batch_add_container(b, ns, pod, name, &p);
		}
	}
	store_apply(st, b);
}

static uint64_t rate(int k, int r)
{
	return (uint64_t)((double)(cpu_at(k, r) - cpu_at(k, r - 1)) / 15.0);
}

/* snap is exactly round r of sh: what was in rounds r-1 and r is served
 * with the rates between them, anything else is not. */
static void assert_round(const struct store_snapshot *snap, const struct shape *sh, int r)
{
	char name[32], ns[32], pod[32];
	size_t nodes = 0, ctrs = 0;

	for (int n = 0; n < sh->nodes; n++) {
		struct store_usage u;
		bool want = has(sh, n, r) && has(sh, n, r - 1);

		snprintf(name, sizeof(name), "node-%d", n);
		ck_assert_int_eq(store_node_usage(snap, name, &u), want ? ERR_OK : ERR_NOTFOUND);
		if (!want)
			continue;
		nodes++;
		ck_assert_int_eq(u.ts_ns, T0 + r * STEP);
		ck_assert_int_eq(u.window_ns, STEP);
		ck_assert_uint_eq(u.cpu_nanocores, rate(n + 1, r));
		ck_assert_uint_eq(u.mem_bytes, (uint64_t)(n + 1) * MIB + (uint64_t)r);
	}
	for (int i = 0; i < sh->pods; i++) {
		const struct store_container_usage *cs;
		struct store_usage t;
		size_t nc;
		bool want = has(sh, i, r) && has(sh, i, r - 1);

		pod_names(i, ns, pod);
		ck_assert_int_eq(store_pod_usage(snap, ns, pod, &cs, &nc, &t),
				 want ? ERR_OK : ERR_NOTFOUND);
		if (!want)
			continue;
		ctrs += nc;
		ck_assert_uint_eq(nc, (size_t)sh->ctrs);
		ck_assert_int_eq(t.ts_ns, T0 + r * STEP);
		ck_assert_int_eq(t.window_ns, STEP);
		for (int c = 0; c < sh->ctrs; c++) {
			int k = i * sh->ctrs + c + 1;

			snprintf(name, sizeof(name), "c%02d", c);
			ck_assert_str_eq(cs[c].name, name);
			ck_assert_uint_eq(cs[c].cpu_nanocores, rate(k, r));
			ck_assert_uint_eq(cs[c].mem_bytes, (uint64_t)k * MIB + (uint64_t)r);
		}
	}
	ck_assert_uint_eq(store_snapshot_node_points(snap), nodes);
	ck_assert_uint_eq(store_snapshot_container_points(snap), ctrs);
}

static void assert_current(const struct shape *sh, int r)
{
	struct store_snapshot *snap = store_acquire(st);

	assert_round(snap, sh, r);
	store_snapshot_unref(snap);
}

static size_t fresh_allocs(void)
{
	return atomic_load(&store__fresh_allocs);
}

START_TEST(test_steady_round_allocates_nothing)
{
	const struct shape sh = { .nodes = 50, .pods = 600, .ctrs = 2 };
	size_t before;

	for (int r = 0; r < 3; r++)
		apply_round(&sh, r);
	before = fresh_allocs();
	for (int r = 3; r < 8; r++) {
		apply_round(&sh, r);
		assert_current(&sh, r);
	}
	ck_assert_uint_eq(fresh_allocs(), before);
}
END_TEST

START_TEST(test_held_snapshot_is_not_recycled)
{
	const struct shape sh = { .nodes = 20, .pods = 300, .ctrs = 3 };
	struct store_snapshot *held, *brief;
	size_t before;

	apply_round(&sh, 0);
	apply_round(&sh, 1);
	held = store_acquire(st);
	apply_round(&sh, 2);
	brief = store_acquire(st);   /* released by the reader, below */
	before = fresh_allocs();
	for (int r = 3; r < 8; r++) {
		apply_round(&sh, r);
		assert_current(&sh, r);
		assert_round(held, &sh, 1);
		assert_round(brief, &sh, 2);
		if (r == 4) {
			store_snapshot_unref(brief);  /* the reader frees it: no spare then */
			brief = NULL;
			break;
		}
	}
	/* the held rounds could not be refilled: new memory was needed */
	ck_assert_uint_gt(fresh_allocs(), before);
	for (int r = 5; r < 9; r++) {
		apply_round(&sh, r);
		assert_current(&sh, r);
		assert_round(held, &sh, 1);
	}
	store_snapshot_unref(held);
	apply_round(&sh, 9);
	apply_round(&sh, 10);
	before = fresh_allocs();
	apply_round(&sh, 11);
	assert_current(&sh, 11);
	ck_assert_uint_eq(fresh_allocs(), before);
}
END_TEST

/* Every entry is missing one round in five, each in a different round. */
static bool churn(int i, int r)
{
	return (i + r) % 5 != 0;
}

START_TEST(test_entries_come_and_go)
{
	const struct shape sh = { .nodes = 40, .pods = 500, .ctrs = 2, .present = churn };

	for (int r = 0; r < 10; r++) {
		apply_round(&sh, r);
		assert_current(&sh, r);
	}
}
END_TEST

START_TEST(test_order_changes_every_round)
{
	const struct shape sh = { .nodes = 30, .pods = 400, .ctrs = 1, .rot = 37, .present = churn };

	for (int r = 0; r < 8; r++) {
		apply_round(&sh, r);
		assert_current(&sh, r);
	}
}
END_TEST

START_TEST(test_cluster_grows_and_shrinks)
{
	const struct shape sizes[] = {
		{ .nodes = 5, .pods = 40, .ctrs = 1 },
		{ .nodes = 100, .pods = 3000, .ctrs = 2 },
		{ .nodes = 3, .pods = 10, .ctrs = 2 },
	};
	int r = 0;

	for (size_t s = 0; s < COMMON_ARRAY_LEN(sizes); s++) {
		/* the first round of a size has no prev for the new entries */
		for (int k = 0; k < 4; k++, r++) {
			apply_round(&sizes[s], r);
			if (k > 0)
				assert_current(&sizes[s], r);
		}
	}
}
END_TEST

/* A pod whose containers come apart (listed twice), with a duplicate and
 * more containers than the small sort handles: grouped, sorted, first wins. */
static void scattered_round(int r)
{
	struct store_batch *b = store_batch_begin(st);
	struct store_point p = point(1, r), q = point(99, r);
	char name[32];

	store_batch_add_container(b, "ns", "a", "c2", &p);
	store_batch_add_container(b, "ns", "b", "c1", &p);
	store_batch_add_container(b, "ns", "a", "c1", &p);
	store_batch_add_container(b, "ns", "a", "c2", &q);   /* duplicate: ignored */
	for (int c = 40; c >= 3; c--) {
		snprintf(name, sizeof(name), "c%d", c);
		store_batch_add_container(b, "ns", c % 2 ? "a" : "big", name, &p);
	}
	store_batch_add_container(b, "ns", "big", "c4", &q);  /* duplicate: ignored */
	ck_assert_uint_eq(store_batch_pod_count(b), 3);
	store_apply(st, b);
}

START_TEST(test_scattered_pod_containers)
{
	const struct store_container_usage *cs;
	struct store_snapshot *snap;
	struct store_usage t;
	size_t n;

	for (int r = 0; r < 4; r++)
		scattered_round(r);
	snap = store_acquire(st);
	ck_assert_int_eq(store_pod_usage(snap, "ns", "a", &cs, &n, &t), ERR_OK);
	ck_assert_uint_eq(n, 2 + 19);   /* c1, c2 and the odd c3..c39 */
	for (size_t i = 1; i < n; i++)
		ck_assert_int_lt(strcmp(cs[i - 1].name, cs[i].name), 0);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(cs[i].cpu_nanocores, rate(1, 3));
		ck_assert_uint_eq(cs[i].mem_bytes, MIB + 3);
	}
	ck_assert_int_eq(store_pod_usage(snap, "ns", "big", &cs, &n, &t), ERR_OK);
	ck_assert_uint_eq(n, 19);       /* the even c4..c40 */
	ck_assert_str_eq(cs[0].name, "c10");
	ck_assert_uint_eq(cs[0].cpu_nanocores, rate(1, 3));
	ck_assert_int_eq(store_pod_usage(snap, "ns", "b", &cs, &n, &t), ERR_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(store_snapshot_container_points(snap), 21 + 19 + 1);
	store_snapshot_unref(snap);
}
END_TEST

/* Container "x" of ns/p goes back in CPU at round 2: the pod is served
 * without it that round (its usages then live apart), fully the next. */
static void two_ctr_round(int r)
{
	struct store_batch *b = store_batch_begin(st);
	struct store_point x = point(7, r), y = point(3, r);

	if (r == 2)
		x.cpu_ns = 1;
	store_batch_add_container(b, "ns", "p", "y", &y);
	store_batch_add_container(b, "ns", "p", "x", &x);
	store_batch_add_container(b, "ns", "q", "x", &x);
	store_apply(st, b);
}

START_TEST(test_failed_rate_leaves_other_containers)
{
	const struct store_container_usage *cs;
	struct store_snapshot *snap;
	struct store_usage t;
	size_t n;

	for (int r = 0; r < 6; r++) {
		two_ctr_round(r);
		snap = store_acquire(st);
		if (r == 0) {
			ck_assert_int_eq(store_pod_usage(snap, "ns", "p", &cs, &n, &t), ERR_NOTFOUND);
		} else {
			ck_assert_int_eq(store_pod_usage(snap, "ns", "p", &cs, &n, &t), ERR_OK);
			ck_assert_uint_eq(n, r == 2 ? 1 : 2);
			ck_assert_str_eq(cs[0].name, r == 2 ? "y" : "x");
			ck_assert_uint_eq(cs[n - 1].cpu_nanocores, rate(3, r));
			ck_assert_int_eq(t.ts_ns, T0 + r * STEP);
			/* q's only container failed: served, with no container */
			ck_assert_int_eq(store_pod_usage(snap, "ns", "q", &cs, &n, &t), ERR_OK);
			ck_assert_uint_eq(n, r == 2 ? 0 : 1);
			ck_assert_int_eq(t.ts_ns, r == 2 ? 0 : T0 + r * STEP);
		}
		store_snapshot_unref(snap);
	}
}
END_TEST

START_TEST(test_unapplied_batch_is_freed)
{
	const struct shape sh = { .nodes = 4, .pods = 20, .ctrs = 1 };
	struct store_batch *b;
	struct store_point p = point(1, 9);

	apply_round(&sh, 0);
	apply_round(&sh, 1);
	apply_round(&sh, 2);
	b = store_batch_begin(st);   /* on the spare; dropped, not applied */
	store_batch_add_node(b, "node-0", &p);
	store_batch_free(b);
	apply_round(&sh, 3);
	assert_current(&sh, 3);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_snapshot");
	TCase *tc = tcase_create("recycle");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_steady_round_allocates_nothing);
	tcase_add_test(tc, test_held_snapshot_is_not_recycled);
	tcase_add_test(tc, test_entries_come_and_go);
	tcase_add_test(tc, test_order_changes_every_round);
	tcase_add_test(tc, test_cluster_grows_and_shrinks);
	tcase_add_test(tc, test_scattered_pod_containers);
	tcase_add_test(tc, test_failed_rate_leaves_other_containers);
	tcase_add_test(tc, test_unapplied_batch_is_freed);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
