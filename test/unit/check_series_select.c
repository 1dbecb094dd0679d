/*
 * check_series_select.c - series/select.c through series.h: every matcher
 * op as Prometheus defines it (anchored POSIX ERE, an absent label equal
 * to ""), the __name__ index and the scan, label collisions with target
 * labels (exported_), discovery's metric and label names.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "series/series.h"
#include "test/unit/series_fixture.h"
#include "test/unit/unit.h"

/* ---- select -------------------------------------------------------------- */

static void http_fixture(void)
{
	struct series_scrape *sc = begin("a", T0);
	struct series_label l1[2] = { { "code", "200" }, { "method", "GET" } };
	struct series_label l2[2] = { { "code", "500" }, { "method", "GET" } };
	struct series_label l3[3] = { { "code", "200" }, { "method", "POST" }, { "path", "" } };
	struct series_label l4[1] = { { "pod", "inner" } };

	ck_assert_int_eq(series_scrape_add(sc, "http_requests_total", l1, 2, 1, false, 0), 0);
	ck_assert_int_eq(series_scrape_add(sc, "http_requests_total", l2, 2, 2, false, 0), 0);
	ck_assert_int_eq(series_scrape_add(sc, "http_requests_total", l3, 3, 3, false, 0), 0);
	ck_assert_int_eq(series_scrape_add(sc, "up", l4, 1, 1, false, 0), 0);
	commit(sc);
}

static size_t count(const char *name, const char *value, enum series_match_op op)
{
	struct series_matcher m[2] = { { "__name__", "http_requests_total", SERIES_EQ },
				       { name, value, op } };
	struct got g;

	return sel(&g, m, 2, INT64_MIN, INT64_MAX)->n;
}

START_TEST(select_ops)
{
	struct series_snapshot *snap;
	struct got g;

	http_fixture();
	ck_assert_uint_eq(count("code", "200", SERIES_EQ), 2);
	ck_assert_uint_eq(count("code", "200", SERIES_NE), 1);
	ck_assert_uint_eq(count("code", "2..", SERIES_RE), 2);
	ck_assert_uint_eq(count("code", "2", SERIES_RE), 0);        /* anchored */
	ck_assert_uint_eq(count("code", "0", SERIES_NRE), 3);
	ck_assert_uint_eq(count("code", "5.*", SERIES_NRE), 2);
	ck_assert_uint_eq(count("method", "GET|POST", SERIES_RE), 3);
	/* an absent label matches "": path="" was dropped on the way in */
	ck_assert_uint_eq(count("path", "", SERIES_EQ), 3);
	ck_assert_uint_eq(count("path", "", SERIES_NE), 0);
	ck_assert_uint_eq(count("nope", ".*", SERIES_RE), 3);
	ck_assert_uint_eq(count("nope", ".+", SERIES_RE), 0);
	ck_assert_uint_eq(count("nope", "", SERIES_NRE), 0);
	ck_assert_uint_eq(count("namespace", "ns", SERIES_EQ), 3);
	/* without a name: a scan; the colliding scraped label is exported_pod */
	{
		struct series_matcher m[2] = { { "__name__", "http_.*", SERIES_NRE },
					       { "exported_pod", "inner", SERIES_EQ } };

		sel(&g, m, 2, INT64_MIN, INT64_MAX);
		ck_assert_uint_eq(g.n, 1);
		ck_assert_str_eq(g.s[0].key, "__name__=up,exported_pod=inner,namespace=ns,pod=a");
		sel(&g, NULL, 0, INT64_MIN, INT64_MAX);
		ck_assert_uint_eq(g.n, 4);
	}
	/* matchers on target labels, decided once per target: a second target,
	 * and the scraped pod label of "a" stays exported_pod */
	{
		struct series_scrape *sc = begin("b", T0);
		struct series_label l[1] = { { "code", "200" } };
		struct series_matcher m[3] = { { "__name__", "up", SERIES_NE },
					       { "pod", "b", SERIES_NE },
					       { "pod", "a|b", SERIES_RE } };

		ck_assert_int_eq(series_scrape_add(sc, "http_requests_total", l, 1, 9, false, 0), 0);
		commit(sc);
		ck_assert_uint_eq(sel(&g, m, 3, INT64_MIN, INT64_MAX)->n, 3); /* a's http series */
		m[1] = (struct series_matcher){ "pod", "a", SERIES_NE };
		ck_assert_uint_eq(sel(&g, m, 3, INT64_MIN, INT64_MAX)->n, 1); /* b's */
		ck_assert_str_eq(g.s[0].key, "__name__=http_requests_total,code=200,namespace=ns,pod=b");
		m[1] = (struct series_matcher){ "pod", "inner", SERIES_EQ };
		ck_assert_uint_eq(sel(&g, m, 2, INT64_MIN, INT64_MAX)->n, 0);
		m[1] = (struct series_matcher){ "namespace", "n.", SERIES_NRE };
		ck_assert_uint_eq(sel(&g, m, 2, INT64_MIN, INT64_MAX)->n, 0);
	}
	snap = series_acquire(st);
	{
		struct series_matcher bad = { "code", "(", SERIES_RE };

		ck_assert_int_eq(series_select(snap, &bad, 1, 0, 1, collect, &g), ERR_INVAL);
	}
	series_snapshot_unref(snap);
}
END_TEST

/* A scrape of target key with the target labels k1=v1 (and k2=v2 when k2). */
static struct series_scrape *begin_labels(const char *key, const char *k1, const char *v1,
					  const char *k2, const char *v2)
{
	struct labels tl;
	struct series_scrape *sc;

	labels_init(&tl);
	labels_set(&tl, k1, v1);
	if (k2)
		labels_set(&tl, k2, v2);
	sc = series_scrape_begin(st, key, &tl, T0);
	labels_clear(&tl);
	ck_assert_ptr_nonnull(sc);
	return sc;
}

static void one_target(const char *ns, const char *pod)
{
	char key[64];
	struct series_scrape *sc;

	snprintf(key, sizeof(key), "%s/%s", ns, pod);
	sc = begin_labels(key, "namespace", ns, "pod", pod);
	add1(sc, "m", NULL, NULL, 1);
	commit(sc);
}

static const char *select_ns(struct got *g, const char *ns)
{
	static char keys[MAXS * 64];
	struct series_matcher m[2] = { { "__name__", "m", SERIES_EQ }, { "namespace", ns, SERIES_EQ } };
	size_t off = 0;

	sel(g, m, 2, INT64_MIN, INT64_MAX);
	keys[0] = '\0';
	for (size_t i = 0; i < g->n; i++) {
		const char *pod = strstr(g->s[i].key, "pod=");

		off += (size_t)snprintf(keys + off, sizeof(keys) - off, "%s%s", i ? " " : "",
					pod ? pod + 4 : g->s[i].key);
	}
	return keys;
}

/* The snapshot's index of targets by a target label: the targets with the
 * value and those without the label (an exporter whose series carry it),
 * in the order of a full scan; rebuilt after the writer changes the
 * snapshot in place or on a copy; more labels than it indexes: a scan. */
START_TEST(target_index)
{
	struct series_snapshot *held;
	struct series_scrape *sc;
	struct got g;

	one_target("ns1", "a");
	one_target("ns2", "b");
	sc = begin_labels("exporter", "job", "queue", NULL, NULL);
	add1(sc, "m", "namespace", "ns1", 5);
	add1(sc, "m", "namespace", "ns2", 6);
	commit(sc);
	one_target("ns1", "c");
	ck_assert_str_eq(select_ns(&g, "ns1"), "a __name__=m,job=queue,namespace=ns1 c");
	ck_assert_str_eq(select_ns(&g, "ns2"), "b __name__=m,job=queue,namespace=ns2");
	ck_assert_str_eq(select_ns(&g, "ns9"), "");
	/* a reader holds the snapshot: the next commit publishes a copy */
	held = series_acquire(st);
	one_target("ns1", "d");
	ck_assert_str_eq(select_ns(&g, "ns1"), "a __name__=m,job=queue,namespace=ns1 c d");
	series_snapshot_unref(held);
	/* nobody holds it: changed in place, its index dropped */
	one_target("ns1", "e");
	ck_assert_str_eq(select_ns(&g, "ns1"), "a __name__=m,job=queue,namespace=ns1 c d e");
	/* indexes on other labels, past the most a snapshot keeps */
	{
		const char *labels[6] = { "pod", "job", "x1", "x2", "x3", "namespace" };
		const char *values[6] = { "c", "queue", "1", "2", "3", "ns2" };
		const size_t want[6] = { 1, 2, 0, 0, 0, 2 };

		for (size_t i = 0; i < 6; i++) {
			struct series_snapshot *snap = series_acquire(st);
			struct series_matcher m[2] = { { "__name__", "m", SERIES_EQ },
						       { labels[i], values[i], SERIES_EQ } };

			g.n = 0;
			ck_assert_int_eq(series_select(snap, m, 2, INT64_MIN, INT64_MAX, collect, &g), 0);
			ck_assert_uint_eq(g.n, want[i]);
			series_snapshot_unref(snap);
		}
	}
}
END_TEST

struct metrics_seen {
	char line[8][256];
	size_t n;
};

static void on_metric(void *ctx, const struct series_metric *m)
{
	struct metrics_seen *ms = ctx;
	size_t off;

	ck_assert_uint_lt(ms->n, 8);
	off = (size_t)snprintf(ms->line[ms->n], 256, "%s %s %zu:", m->target_key, m->name, m->nseries);
	for (size_t i = 0; i < m->nlabel_names; i++)
		off += (size_t)snprintf(ms->line[ms->n] + off, 256 - off, " %s", m->label_names[i]);
	ms->n++;
}

START_TEST(each_metric)
{
	struct metrics_seen ms = { .n = 0 };
	struct series_snapshot *snap;

	http_fixture();
	snap = series_acquire(st);
	series_each_metric(snap, on_metric, &ms);
	series_snapshot_unref(snap);
	ck_assert_uint_eq(ms.n, 2);
	ck_assert_str_eq(ms.line[0], "ns/a http_requests_total 3: code method namespace pod");
	ck_assert_str_eq(ms.line[1], "ns/a up 1: exported_pod namespace pod");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("series_select");
	TCase *tc = tcase_create("select");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, select_ops);
	tcase_add_test(tc, each_metric);
	tcase_add_test(tc, target_index);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
