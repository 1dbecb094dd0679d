/*
 * series_fixture.h - helpers of the check_series_* suites: a store `st`
 * (window 60 s, resolution 15 s), scrapes of target "ns/<pod>" (labels
 * namespace=ns, pod=<pod>) and a collector of series_select results.
 * Each helper fails the running test on error.
 */
#ifndef TEST_UNIT_SERIES_FIXTURE_H
#define TEST_UNIT_SERIES_FIXTURE_H

#include "series/series_int.h"

#define RES 15000
#define WINDOW 60000
#define T0 INT64_C(1700000000000)

extern struct series *st;

/* A store with these limits (0 = none) and ring size (0 = default). */
struct series *mk(size_t max_series, size_t per_target, size_t max_points);
/* Check fixture: st = mk(0, 0, 0); teardown frees it. */
void setup(void);
void teardown(void);
struct series_scrape *begin(const char *pod, int64_t t);
/* One sample, with one label when k is not NULL. */
void add1(struct series_scrape *sc, const char *name, const char *k, const char *v, double val);
void commit(struct series_scrape *sc);

#define MAXS 16
#define MAXP 16

struct got {
	size_t n;
	struct {
		char key[256]; /* k=v,k=v */
		size_t np;
		struct series_point p[MAXP];
	} s[MAXS];
};

/* series_each_fn filling a struct got (checks ascending times). */
void collect(void *ctx, const struct series_view *v);
/* series_select on a fresh snapshot of st into g; returns g. */
struct got *sel(struct got *g, const struct series_matcher *m, size_t n, int64_t from, int64_t to);
/* The one series of metric name. */
struct got *points_of(struct got *g, const char *name);

#endif
