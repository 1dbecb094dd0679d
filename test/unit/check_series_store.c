/*
 * check_series_store.c - series/ through series.h (and the allocation
 * counter of series_int.h): appends and the window, the ring, duplicates,
 * staleness as the Prometheus docs ("Staleness") describe it, limits,
 * snapshot isolation, recycling, and a target exposing a million series
 * (matchers and discovery: check_series_select).  Expected values are worked out from those semantics.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "common/common.h"
#include "series/series_int.h"
#include "test/unit/series_fixture.h"
#include "test/unit/unit.h"

/* ---- appends, window, ring, duplicates --------------------------------- */

START_TEST(append_and_window)
{
	struct got g;

	for (int i = 0; i <= 10; i++) {
		struct series_scrape *sc = begin("a", T0 + i * RES);

		add1(sc, "m", NULL, NULL, i);
		commit(sc);
	}
	/* window 60 s at 150 s: 90, 105, 120, 135, 150 (t >= now - window) */
	points_of(&g, "m");
	ck_assert_uint_eq(g.s[0].np, 5);
	for (int k = 0; k < 5; k++) {
		ck_assert_int_eq(g.s[0].p[k].t_ms, T0 + (6 + k) * RES);
		ck_assert_double_eq(g.s[0].p[k].v, 6 + k);
	}
	ck_assert_str_eq(g.s[0].key, "__name__=m,namespace=ns,pod=a");
	/* a range inside */
	{
		struct series_matcher m = { "__name__", "m", SERIES_EQ };

		sel(&g, &m, 1, T0 + 7 * RES, T0 + 8 * RES);
		ck_assert_uint_eq(g.s[0].np, 2);
		ck_assert_double_eq(g.s[0].p[0].v, 7);
		sel(&g, &m, 1, T0 + 11 * RES, T0 + 20 * RES);
		ck_assert_uint_eq(g.n, 0);  /* no point in range: not passed */
	}
}
END_TEST

START_TEST(ring_wrap)
{
	struct series_matcher m = { "__name__", "m", SERIES_EQ };
	struct got g;

	series_free(st);
	st = mk(0, 0, 4);  /* 4 points although the window holds 5 */
	for (int i = 0; i < 11; i++) {
		struct series_scrape *sc = begin("a", T0 + i * RES);

		add1(sc, "m", NULL, NULL, 100 + i);
		commit(sc);
		/* every phase of the ring: ascending, newest last */
		sel(&g, &m, 1, INT64_MIN, INT64_MAX);
		ck_assert_uint_eq(g.s[0].np, i < 4 ? (size_t)i + 1 : 4);
		ck_assert_double_eq(g.s[0].p[g.s[0].np - 1].v, 100 + i);
		ck_assert_double_eq(g.s[0].p[0].v, 100 + (i < 4 ? 0 : i - 3));
	}
	/* 7 to 9 of 7..10 wraps in memory (positions 0..3 hold 8, 9, 10, 7) */
	sel(&g, &m, 1, T0 + 7 * RES, T0 + 9 * RES);
	ck_assert_uint_eq(g.s[0].np, 3);
	ck_assert_double_eq(g.s[0].p[0].v, 107);
	ck_assert_double_eq(g.s[0].p[2].v, 109);
}
END_TEST

START_TEST(duplicates_keep_first)
{
	struct series_scrape *sc = begin("a", T0);
	struct series_label ab[2] = { { "a", "1" }, { "b", "2" } }, ba[2] = { { "b", "2" }, { "a", "1" } };
	struct series_stats stats;
	struct got g;

	ck_assert_int_eq(series_scrape_add(sc, "m", ab, 2, 1, false, 0), 0);
	ck_assert_int_eq(series_scrape_add(sc, "m", ba, 2, 2, false, 0), 0);  /* same series */
	commit(sc);
	points_of(&g, "m");
	ck_assert_uint_eq(g.s[0].np, 1);
	ck_assert_double_eq(g.s[0].p[0].v, 1);
	series_stats(st, &stats);
	ck_assert_uint_eq(stats.duplicates, 1);
	ck_assert_uint_eq(stats.series, 1);
	/* an explicit timestamp not newer than the newest point is ignored */
	sc = begin("a", T0 + RES);
	ck_assert_int_eq(series_scrape_add(sc, "m", ab, 2, 5, true, T0), 0);
	commit(sc);
	points_of(&g, "m");
	ck_assert_uint_eq(g.s[0].np, 1);
	series_stats(st, &stats);
	ck_assert_uint_eq(stats.out_of_order, 1);
}
END_TEST

/* ---- staleness ---------------------------------------------------------- */

START_TEST(stale_on_absence)
{
	struct series_scrape *sc = begin("a", T0);
	struct got g;

	add1(sc, "a_m", NULL, NULL, 1);
	add1(sc, "b_m", NULL, NULL, 2);
	commit(sc);
	sc = begin("a", T0 + RES);
	add1(sc, "a_m", NULL, NULL, 1);
	commit(sc);
	points_of(&g, "b_m");
	ck_assert_uint_eq(g.s[0].np, 2);
	ck_assert_int_eq(g.s[0].p[1].t_ms, T0 + RES);
	ck_assert(prom_is_stale(g.s[0].p[1].v));
	ck_assert(!prom_is_stale(NAN));
	/* still absent: no second marker */
	sc = begin("a", T0 + 2 * RES);
	add1(sc, "a_m", NULL, NULL, 1);
	commit(sc);
	points_of(&g, "b_m");
	ck_assert_uint_eq(g.s[0].np, 2);
	/* back: a value after the marker */
	sc = begin("a", T0 + 3 * RES);
	add1(sc, "a_m", NULL, NULL, 1);
	add1(sc, "b_m", NULL, NULL, 7);
	commit(sc);
	points_of(&g, "b_m");
	ck_assert_uint_eq(g.s[0].np, 3);
	ck_assert_double_eq(g.s[0].p[2].v, 7);
	/* a_m: 0, 15, 30, 45 s, all inside the window at 45 s */
	points_of(&g, "a_m");
	ck_assert_uint_eq(g.s[0].np, 4);
}
END_TEST

START_TEST(stale_dropped_after_window)
{
	struct series_scrape *sc = begin("a", T0);
	struct series_matcher m = { "__name__", "b_m", SERIES_EQ };
	struct series_stats stats;
	struct got g;
	int i;

	add1(sc, "a_m", NULL, NULL, 1);
	add1(sc, "b_m", NULL, NULL, 2);
	commit(sc);
	/* b_m stale at 15 s; kept while 15 s >= now - 60 s, i.e. up to 75 s */
	for (i = 1; i <= 5; i++) {
		sc = begin("a", T0 + i * RES);
		add1(sc, "a_m", NULL, NULL, 1);
		commit(sc);
	}
	sel(&g, &m, 1, INT64_MIN, INT64_MAX);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_uint_eq(g.s[0].np, 1);  /* the marker alone */
	ck_assert(prom_is_stale(g.s[0].p[0].v));
	sc = begin("a", T0 + 6 * RES);
	add1(sc, "a_m", NULL, NULL, 1);
	commit(sc);
	sel(&g, &m, 1, INT64_MIN, INT64_MAX);
	ck_assert_uint_eq(g.n, 0);
	series_stats(st, &stats);
	ck_assert_uint_eq(stats.series, 1);
}
END_TEST

START_TEST(stale_on_failed_scrape)
{
	struct series_scrape *sc = begin("a", T0);
	struct got g;

	add1(sc, "a_m", NULL, NULL, 1);
	add1(sc, "b_m", NULL, NULL, 2);
	commit(sc);
	sc = begin("a", T0 + RES);
	add1(sc, "a_m", NULL, NULL, 5);   /* dropped with the failed scrape */
	add1(sc, "c_m", NULL, NULL, 5);   /* a new series of the failed scrape: never stored */
	series_scrape_abort(sc);
	points_of(&g, "a_m");
	ck_assert_uint_eq(g.s[0].np, 2);
	ck_assert_double_eq(g.s[0].p[0].v, 1);
	ck_assert(prom_is_stale(g.s[0].p[1].v));
	ck_assert_int_eq(g.s[0].p[1].t_ms, T0 + RES);
	points_of(&g, "b_m");
	ck_assert(prom_is_stale(g.s[0].p[1].v));
	{
		struct series_matcher m = { "__name__", "c_m", SERIES_EQ };

		sel(&g, &m, 1, INT64_MIN, INT64_MAX);
		ck_assert_uint_eq(g.n, 0);
	}
	/* a second failure adds no marker; the next success continues */
	sc = begin("a", T0 + 2 * RES);
	series_scrape_abort(sc);
	sc = begin("a", T0 + 3 * RES);
	add1(sc, "a_m", NULL, NULL, 3);
	commit(sc);
	points_of(&g, "a_m");
	ck_assert_uint_eq(g.s[0].np, 3);
	ck_assert_double_eq(g.s[0].p[2].v, 3);
}
END_TEST

START_TEST(stale_on_target_removal)
{
	struct series_scrape *sc = begin("a", T0);
	struct series_stats stats;
	struct got g;

	add1(sc, "a_m", NULL, NULL, 1);
	ck_assert_int_eq(series_scrape_add(sc, "ts_m", NULL, 0, 1, true, T0 - 1000), 0);
	commit(sc);
	sc = begin("b", T0);
	add1(sc, "a_m", NULL, NULL, 2);
	commit(sc);
	ck_assert_int_eq(series_target_remove(st, "ns/a", T0 + 10000), 0);
	ck_assert_int_eq(series_target_remove(st, "ns/x", T0 + 10000), ERR_NOTFOUND);
	{
		struct series_matcher m[2] = { { "__name__", "a_m", SERIES_EQ }, { "pod", "a", SERIES_EQ } };

		sel(&g, m, 2, INT64_MIN, INT64_MAX);
		ck_assert_uint_eq(g.n, 1);
		ck_assert_uint_eq(g.s[0].np, 2);
		ck_assert(prom_is_stale(g.s[0].p[1].v));
		ck_assert_int_eq(g.s[0].p[1].t_ms, T0 + 10000);
	}
	/* explicit timestamps are not tracked: no marker */
	points_of(&g, "ts_m");
	ck_assert_uint_eq(g.s[0].np, 1);
	series_expire(st, T0 + 10000 + WINDOW);  /* the marker is still inside */
	series_stats(st, &stats);
	ck_assert_uint_eq(stats.targets, 2);
	series_expire(st, T0 + 10000 + WINDOW + 1);
	series_stats(st, &stats);
	ck_assert_uint_eq(stats.targets, 1);
	ck_assert_uint_eq(stats.series, 1);
	points_of(&g, "a_m");
	ck_assert_str_eq(g.s[0].key, "__name__=a_m,namespace=ns,pod=b");
}
END_TEST

/* ---- limits -------------------------------------------------------------- */

static int add_n(struct series_scrape *sc, const char *name, int n)
{
	char v[32];
	int rc = 0;

	for (int i = 0; i < n; i++) {
		struct series_label l = { "i", v };

		snprintf(v, sizeof(v), "%d", i);
		rc = series_scrape_add(sc, name, &l, 1, i, false, 0);
	}
	return rc;
}

START_TEST(limit_per_target)
{
	struct series_scrape *sc;
	struct series_stats stats;
	char err[256];
	struct got g;

	series_free(st);
	st = mk(0, 3, 0);
	sc = begin("a", T0);
	ck_assert_int_eq(add_n(sc, "m", 2), 0);
	commit(sc);
	sc = begin("b", T0);
	ck_assert_int_eq(add_n(sc, "m", 3), 0);
	commit(sc);
	sc = begin("a", T0 + RES);
	ck_assert_int_eq(add_n(sc, "m", 5), ERR_TOOBIG);
	ck_assert_int_eq(series_scrape_commit(sc, err, sizeof(err)), ERR_TOOBIG);
	ck_assert_str_eq(err, "series limit exceeded: target ns/a would have 5 series, limit 3");
	series_stats(st, &stats);
	ck_assert_uint_eq(stats.refusals, 1);
	ck_assert_uint_eq(stats.series, 5);
	/* a's series went stale as on a failed scrape; b untouched */
	{
		struct series_matcher m[2] = { { "__name__", "m", SERIES_EQ }, { "pod", "a", SERIES_EQ } };

		sel(&g, m, 2, INT64_MIN, INT64_MAX);
		ck_assert_uint_eq(g.n, 2);
		ck_assert(prom_is_stale(g.s[0].p[1].v));
		m[1].value = "b";
		sel(&g, m, 2, INT64_MIN, INT64_MAX);
		ck_assert_uint_eq(g.n, 3);
		ck_assert_uint_eq(g.s[0].np, 1);
	}
}
END_TEST

START_TEST(limit_total)
{
	struct series_scrape *sc;
	struct series_stats stats;
	char err[256];

	series_free(st);
	st = mk(4, 0, 0);
	sc = begin("a", T0);
	ck_assert_int_eq(add_n(sc, "m", 2), 0);
	commit(sc);
	sc = begin("b", T0);
	ck_assert_int_eq(add_n(sc, "m", 2), 0);
	commit(sc);
	sc = begin("c", T0);
	ck_assert_int_eq(add_n(sc, "m", 1), ERR_TOOBIG);
	ck_assert_int_eq(series_scrape_commit(sc, err, sizeof(err)), ERR_TOOBIG);
	ck_assert_str_eq(err, "series limit exceeded: target ns/c would bring the store to 5 series, "
			      "limit 4 (--max-series)");
	/* a known series needs no room: a and b scrape on */
	sc = begin("a", T0 + RES);
	ck_assert_int_eq(add_n(sc, "m", 2), 0);
	commit(sc);
	series_stats(st, &stats);
	ck_assert_uint_eq(stats.series, 4);
	ck_assert_uint_eq(stats.refusals, 1);
}
END_TEST

START_TEST(million_series_target)
{
	struct rusage ru0, ru1;
	struct series_scrape *sc;
	struct series_stats stats;
	char err[256];
	struct got g;

	series_free(st);
	st = mk(0, 10000, 0);
	sc = begin("ok", T0);
	add1(sc, "m", NULL, NULL, 1);
	commit(sc);
	getrusage(RUSAGE_SELF, &ru0);
	sc = begin("big", T0);
	ck_assert_int_eq(add_n(sc, "m", 1000000), ERR_TOOBIG);
	ck_assert_int_eq(series_scrape_commit(sc, err, sizeof(err)), ERR_TOOBIG);
	ck_assert_str_eq(err, "series limit exceeded: target ns/big would have 1000000 series, limit 10000");
	getrusage(RUSAGE_SELF, &ru1);
	/* at most the limit's worth was ever held (about 2 MB), and it is given back */
	ck_assert_int_lt(ru1.ru_maxrss - ru0.ru_maxrss, 64 * 1024);
	series_stats(st, &stats);
	ck_assert_uint_eq(stats.series, 1);
	ck_assert_uint_lt(stats.bytes, 1u << 20);
	points_of(&g, "m");
	ck_assert_str_eq(g.s[0].key, "__name__=m,namespace=ns,pod=ok");
}
END_TEST

/* ---- snapshots and recycling --------------------------------------------- */

static void steady(int round, int nseries)
{
	struct series_scrape *sc = begin("a", T0 + round * RES);
	char v[32];

	for (int i = 0; i < nseries; i++) {
		struct series_label l = { "i", v };

		snprintf(v, sizeof(v), "%d", i);
		ck_assert_int_eq(series_scrape_add(sc, "m", &l, 1, round * 1000 + i, false, 0), 0);
	}
	commit(sc);
}

static void check_round(struct series_snapshot *snap, int round)
{
	struct series_matcher m[2] = { { "__name__", "m", SERIES_EQ }, { "i", "7", SERIES_EQ } };
	struct got g;

	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(series_select(snap, m, 2, INT64_MIN, INT64_MAX, collect, &g), 0);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_double_eq(g.s[0].p[g.s[0].np - 1].v, round * 1000 + 7);
	ck_assert_int_eq(g.s[0].p[g.s[0].np - 1].t_ms, T0 + round * RES);
}

START_TEST(snapshot_isolation)
{
	struct series_snapshot *held;

	steady(0, 50);
	steady(1, 50);
	held = series_acquire(st);
	for (int r = 2; r < 12; r++) {
		steady(r, r % 3 ? 50 : 20);  /* series come and go under the reader */
		check_round(held, 1);
	}
	series_snapshot_unref(held);
	held = series_acquire(st);
	check_round(held, 11);
	series_snapshot_unref(held);
}
END_TEST

START_TEST(steady_scrape_allocates_nothing)
{
	size_t before;

	for (int r = 0; r < 3; r++)
		steady(r, 50);
	before = atomic_load(&series__fresh_allocs);
	for (int r = 3; r < 13; r++)
		steady(r, 50);
	ck_assert_uint_eq(atomic_load(&series__fresh_allocs), before);
	/* a reader holding a snapshot costs copies, never correctness */
	{
		struct series_snapshot *held = series_acquire(st);

		steady(13, 50);
		steady(14, 50);
		check_round(held, 12);
		series_snapshot_unref(held);
	}
	for (int r = 15; r < 18; r++)
		steady(r, 50);
	before = atomic_load(&series__fresh_allocs);
	steady(18, 50);
	ck_assert_uint_eq(atomic_load(&series__fresh_allocs), before);
}
END_TEST

START_TEST(misuse)
{
	struct series_options o = { .window_ms = 0, .resolution_ms = RES };
	struct series_scrape *sc;
	char err[128];

	ck_assert_ptr_null(series_new(&o, err, sizeof(err)));
	ck_assert_str_eq(err, "series: window and resolution must be positive");
	sc = begin("a", T0);
	ck_assert_ptr_null(series_scrape_begin(st, "ns/a", NULL, T0));  /* open already */
	ck_assert_int_eq(series_target_remove(st, "ns/a", T0), ERR_AGAIN);
	ck_assert_int_eq(series_scrape_add(sc, "", NULL, 0, 1, false, 0), ERR_INVAL);
	series_scrape_abort(sc);
	ck_assert_ptr_null(series_scrape_begin(st, "", NULL, T0));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("series_store");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, append_and_window);
	tcase_add_test(tc, ring_wrap);
	tcase_add_test(tc, duplicates_keep_first);
	tcase_add_test(tc, stale_on_absence);
	tcase_add_test(tc, stale_dropped_after_window);
	tcase_add_test(tc, stale_on_failed_scrape);
	tcase_add_test(tc, stale_on_target_removal);
	tcase_add_test(tc, limit_per_target);
	tcase_add_test(tc, limit_total);
	tcase_add_test(tc, million_series_target);
	tcase_add_test(tc, snapshot_isolation);
	tcase_add_test(tc, steady_scrape_allocates_nothing);
	tcase_add_test(tc, misuse);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
