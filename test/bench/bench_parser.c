/*
 * bench_parser.c - decoder throughput on the kubelet fixtures.
 *
 *   build/test/bench_parser test/data/kubelet
 *
 * Decodes each *.txt file of the folder repeatedly (about 2 s in all,
 * split evenly), fed in 16 KiB chunks as libcurl would, and prints MB/s
 * per fixture and the median.  Rates use the thread's CPU time, so a busy
 * machine does not distort them.  Results go to a no-op sink so the
 * figure is the decoder's own cost.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scraper/scraper_int.h"

#define BENCH_TOTAL_NS (2 * NS_PER_SEC)
#define BENCH_CHUNK (16u << 10)
#define BENCH_MAX_FILES 256

static void null_node(void *ud, const char *node, const struct store_point *p)
{
	(void)ud, (void)node, (void)p;
}

static void null_container(void *ud, const char *ns, const char *pod, const char *c,
			   const struct store_point *p)
{
	(void)ud, (void)ns, (void)pod, (void)c, (void)p;
}

static const struct scraper__sink null_sink = {null_node, null_container};

static int decode_once(struct scraper_decoder *d, const char *body, size_t len)
{
	scraper_decoder_reset(d, "node1", 1);
	for (size_t off = 0; off < len; off += BENCH_CHUNK) {
		size_t n = len - off < BENCH_CHUNK ? len - off : BENCH_CHUNK;
		if (scraper_decoder_feed(d, body + off, n))
			break;
	}
	return scraper__decoder_emit(d, &null_sink, NULL);
}

static int64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* MB/s of CPU time for one body, running for budget_ns of wall time. */
static double bench_body(struct scraper_decoder *d, const char *body, size_t len, int64_t budget_ns,
			 unsigned long *runs, int *rc)
{
	int64_t start = clock_mono_ns(), cpu0;
	unsigned long n = 0;

	*rc = decode_once(d, body, len); /* warm-up */
	cpu0 = cpu_ns();
	do {
		for (int i = 0; i < 16; i++)
			decode_once(d, body, len);
		n += 16;
	} while (clock_mono_ns() - start < budget_ns);
	*runs = n;
	return (double)len * (double)n / ((double)(cpu_ns() - cpu0) / 1e9) / 1e6;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorted *.txt names of dir; returns the count (caller frees names). */
static size_t list_fixtures(const char *dir, char **names)
{
	DIR *dh = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (!dh)
		return 0;
	while ((e = readdir(dh)) && n < BENCH_MAX_FILES) {
		size_t l = strlen(e->d_name);
		if (l > 4 && strcmp(e->d_name + l - 4, ".txt") == 0)
			names[n++] = xstrdup(e->d_name);
	}
	closedir(dh);
	qsort(names, n, sizeof(*names), cmp_str);
	return n;
}

int main(int argc, char **argv)
{
	char *names[BENCH_MAX_FILES];
	double mbs[BENCH_MAX_FILES];
	struct scraper_decoder *d;
	size_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <fixture-dir>\n", argv[0]);
		return 2;
	}
	n = list_fixtures(argv[1], names);
	if (n == 0) {
		fprintf(stderr, "%s: no *.txt fixtures\n", argv[1]);
		return 1;
	}
	d = scraper_decoder_new("node1", 1);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct dynbuf body;
		unsigned long runs;
		int rc;

		snprintf(path, sizeof(path), "%s/%s", argv[1], names[i]);
		dynbuf_init(&body, DYN_KUBELET_BODY);
		if (dynbuf_read_file(&body, path)) {
			fprintf(stderr, "%s: cannot read\n", path);
			return 1;
		}
		mbs[i] = bench_body(d, body.buf, body.len, BENCH_TOTAL_NS / (int64_t)n, &runs, &rc);
		printf("%-40s %8zu B %10.1f MB/s %9lu runs%s\n", names[i], body.len, mbs[i], runs,
		       rc ? "  (body rejected)" : "");
		dynbuf_clear(&body);
		free(names[i]);
	}
	scraper_decoder_free(d);
	qsort(mbs, n, sizeof(*mbs), cmp_double);
	printf("median %.1f MB/s over %zu fixtures\n",
	       n % 2 ? mbs[n / 2] : (mbs[n / 2 - 1] + mbs[n / 2]) / 2, n);
	return 0;
}
