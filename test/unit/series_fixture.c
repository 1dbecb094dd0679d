/* series_fixture.c - see series_fixture.h. */
#include "test/unit/series_fixture.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"

struct series *st;

struct series *mk(size_t max_series, size_t per_target, size_t max_points)
{
	struct series_options o = { .window_ms = WINDOW, .resolution_ms = RES, .max_series = max_series,
				    .max_series_per_target = per_target, .max_points = max_points };
	char err[128];
	struct series *s = series_new(&o, err, sizeof(err));

	ck_assert_msg(s != NULL, "%s", err);
	return s;
}

void setup(void)
{
	st = mk(0, 0, 0);
}

void teardown(void)
{
	series_free(st);
	st = NULL;
}

/* Target "ns/<pod>" with labels namespace=ns, pod=<pod>. */
struct series_scrape *begin(const char *pod, int64_t t)
{
	struct labels tl;
	struct series_scrape *sc;
	char key[64];

	labels_init(&tl);
	labels_set(&tl, "namespace", "ns");
	labels_set(&tl, "pod", pod);
	snprintf(key, sizeof(key), "ns/%s", pod);
	sc = series_scrape_begin(st, key, &tl, t);
	labels_clear(&tl);
	ck_assert_ptr_nonnull(sc);
	return sc;
}

void add1(struct series_scrape *sc, const char *name, const char *k, const char *v, double val)
{
	struct series_label l = { k, v };

	ck_assert_int_eq(series_scrape_add(sc, name, k ? &l : NULL, k ? 1 : 0, val, false, 0), 0);
}

void commit(struct series_scrape *sc)
{
	char err[256] = "";

	ck_assert_msg(series_scrape_commit(sc, err, sizeof(err)) == 0, "%s", err);
}

/* ---- a collector of select results ------------------------------------- */



void collect(void *ctx, const struct series_view *v)
{
	struct got *g = ctx;
	size_t off = 0;

	ck_assert_uint_lt(g->n, MAXS);
	g->s[g->n].key[0] = '\0';
	for (size_t i = 0; i < v->labels->n; i++)
		off += (size_t)snprintf(g->s[g->n].key + off, sizeof(g->s[0].key) - off, "%s%s=%s",
					i ? "," : "", v->labels->items[i].key, v->labels->items[i].value);
	ck_assert_uint_le(v->n, MAXP);
	for (size_t i = 1; i < v->n; i++)
		ck_assert_int_lt(v->points[i - 1].t_ms, v->points[i].t_ms);
	memcpy(g->s[g->n].p, v->points, v->n * sizeof(*v->points));
	g->s[g->n].np = v->n;
	g->n++;
}

struct got *sel(struct got *g, const struct series_matcher *m, size_t n, int64_t from, int64_t to)
{
	struct series_snapshot *snap = series_acquire(st);

	memset(g, 0, sizeof(*g));
	ck_assert_int_eq(series_select(snap, m, n, from, to, collect, g), 0);
	series_snapshot_unref(snap);
	return g;
}

/* The points of metric `name` (one series expected). */
struct got *points_of(struct got *g, const char *name)
{
	struct series_matcher m = { "__name__", name, SERIES_EQ };

	sel(g, &m, 1, INT64_MIN, INT64_MAX);
	ck_assert_uint_eq(g->n, 1);
	return g;
}
