/*
 * bench_series.c - series/ at scale: T targets x S series scraped for R
 * rounds (a steady store: the same series every round, one label each
 * besides the target's namespace and pod).  Prints the median ns per
 * sample appended (series_scrape_add + the commit's share) over the
 * rounds after the first two, the allocations of those rounds, and the
 * store's bytes and RSS.
 *
 *   bench_series [targets] [series-per-target] [rounds]   (default 10000 x 50, 8 rounds)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/common.h"
#include "series/series_int.h"

#define MAX_ROUNDS 100

static long arg(int argc, char **argv, int i, long def, long max)
{
	char *end;
	long v;

	if (argc <= i)
		return def;
	v = strtol(argv[i], &end, 10);
	if (*end || v < 1 || v > max) {
		fprintf(stderr, "bench_series: bad argument %s (1..%ld)\n", argv[i], max);
		exit(2);
	}
	return v;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long targets = arg(argc, argv, 1, 10000, 1000000), nser = arg(argc, argv, 2, 50, 100000);
	long rounds = arg(argc, argv, 3, 8, MAX_ROUNDS);
	struct series_options o = { .window_ms = 135000, .resolution_ms = 15000 };
	struct labels *tl = xcalloc((size_t)targets, sizeof(*tl));
	char (*keys)[72] = xcalloc((size_t)targets, sizeof(*keys));
	char (*vals)[24] = xcalloc((size_t)nser, sizeof(*vals));
	double per[MAX_ROUNDS];
	struct series_stats stats;
	struct rusage ru;
	size_t allocs = 0;
	char err[128];
	struct series *s = series_new(&o, err, sizeof(err));

	if (!s) {
		fprintf(stderr, "bench_series: %s\n", err);
		return 1;
	}
	for (long t = 0; t < targets; t++) {
		char pod[32], ns[32];

		snprintf(pod, sizeof(pod), "pod-%06ld", t);
		snprintf(ns, sizeof(ns), "ns-%ld", t % 10);
		snprintf(keys[t], sizeof(keys[t]), "%s/%s", ns, pod);
		labels_init(&tl[t]);
		labels_set(&tl[t], "namespace", ns);
		labels_set(&tl[t], "pod", pod);
	}
	for (long i = 0; i < nser; i++)
		snprintf(vals[i], sizeof(vals[i]), "%ld", i);
	for (long r = 0; r < rounds; r++) {
		int64_t now = INT64_C(1700000000000) + r * 15000, t0 = clock_mono_ns();
		size_t a0 = atomic_load(&series__fresh_allocs);

		for (long t = 0; t < targets; t++) {
			struct series_scrape *sc = series_scrape_begin(s, keys[t], &tl[t], now);

			for (long i = 0; i < nser; i++) {
				struct series_label l = { "code", vals[i] };

				series_scrape_add(sc, "http_requests_total", &l, 1, (double)(r * 10 + i), false, 0);
			}
			if (series_scrape_commit(sc, err, sizeof(err)) != 0) {
				fprintf(stderr, "bench_series: %s\n", err);
				return 1;
			}
		}
		per[r] = (double)(clock_mono_ns() - t0) / (double)(targets * nser);
		if (r >= 2)
			allocs += atomic_load(&series__fresh_allocs) - a0;
	}
	series_stats(s, &stats);
	getrusage(RUSAGE_SELF, &ru);
	if (rounds > 2)
		qsort(per + 2, (size_t)rounds - 2, sizeof(*per), cmp_d);
	printf("series: %ld targets x %ld series, %ld rounds\n", targets, nser, rounds);
	printf("append: %.1f ns/sample (median of steady rounds; first round %.1f)\n",
	       rounds > 2 ? per[2 + (rounds - 2) / 2] : per[rounds - 1], per[0]);
	printf("steady allocations: %zu\n", allocs);
	printf("store: %zu series, %zu points, %.1f MiB; RSS %.1f MiB\n", stats.series, stats.points,
	       (double)stats.bytes / 1048576.0, (double)ru.ru_maxrss / 1024.0);
	series_free(s);
	for (long t = 0; t < targets; t++)
		labels_clear(&tl[t]);
	free(tl);
	free(keys);
	free(vals);
	return 0;
}
