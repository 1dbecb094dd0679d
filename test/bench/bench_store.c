/*
 * bench_store.c - store/ and apis/ at scale: N nodes x P pods x C
 * containers, R scrape rounds.  For the steady rounds (every round after
 * the first two, same nodes and pods as the last) it prints the median
 * time per node of filling the batch + store_apply, the minor page faults
 * per round, and the RSS; then the time of rendering the all-namespaces
 * pod list and the node list.  malloc is tuned as server/main.c does, so
 * large arrays are mmapped as in the server.
 *
 *   bench_store [nodes] [pods-per-node] [containers-per-pod] [rounds]
 *   (default 10000 x 30 x 1, 8 rounds)
 */
#include <jansson.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "apis/apis.h"
#include "common/common.h"
#include "kube/kube.h"
#include "store/store.h"

#define NAME_LEN 32
#define MAX_ROUNDS 100

static double ms_since(int64_t t0)
{
	return (double)(clock_mono_ns() - t0) / 1e6;
}

/* The names a kubelet would send, made once so the rounds time the store only. */
struct names {
	long nodes, pods, ctrs;
	char *node, *pod;   /* NAME_LEN apart */
};

static void names_make(struct names *nm, long nodes, long pods, long ctrs)
{
	*nm = (struct names){ nodes, pods, ctrs, xcalloc((size_t)nodes, NAME_LEN),
			      xcalloc((size_t)(nodes * pods), NAME_LEN) };
	/* the arguments' ranges are checked in main(): the names fit */
	for (long n = 0; n < nodes; n++) {
		if (snprintf(nm->node + n * NAME_LEN, NAME_LEN, "node-%05ld", n) >= NAME_LEN)
			abort();
		for (long i = 0; i < pods; i++)
			if (snprintf(nm->pod + (n * pods + i) * NAME_LEN, NAME_LEN, "pod-%05ld-%02ld",
				     n, i) >= NAME_LEN)
				abort();
	}
}

static const char *const NS[] = { "ns-0", "ns-1", "ns-2", "ns-3", "ns-4",
				   "ns-5", "ns-6", "ns-7", "ns-8", "ns-9" };
static const char *const CTR[] = { "app", "sidecar", "proxy", "log" };

static void fill(struct store_batch *b, const struct names *nm, int round)
{
	int64_t ts = INT64_C(1700000000) * NS_PER_SEC + round * 15 * NS_PER_SEC;
	struct store_point p = { .ts_ns = ts, .start_ns = ts - 3600 * NS_PER_SEC,
				 .mem_bytes = 64u << 20 };

	for (long n = 0; n < nm->nodes; n++) {
		p.cpu_ns = (uint64_t)(round + 1) * 15000000000u;
		store_batch_add_node(b, nm->node + n * NAME_LEN, &p);
		for (long i = 0; i < nm->pods; i++) {
			p.cpu_ns = (uint64_t)(round + 1) * 1500000000u;
			for (long c = 0; c < nm->ctrs; c++)
				store_batch_add_container(b, NS[i % 10],
							  nm->pod + (n * nm->pods + i) * NAME_LEN,
							  CTR[c % 4], &p);
		}
	}
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* VmRSS or VmHWM of this process, in KiB. */
static long status_kb(const char *key)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *num = line + strlen(key) + 1;
		char *end;
		long v;

		if (strncmp(line, key, strlen(key)) != 0)
			continue;
		v = strtol(num, &end, 10);
		kb = end != num ? v : -1;
	}
	fclose(f);
	return kb;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The rounds, and their figures. */
static void run_rounds(struct store *st, const struct names *nm, int rounds)
{
	double per_node[MAX_ROUNDS], fill_ms[MAX_ROUNDS], apply_ms[MAX_ROUNDS];
	long faults[MAX_ROUNDS], rss[MAX_ROUNDS], base_rss = status_kb("VmRSS");
	size_t nodes = 0, pods = 0, ctrs = 0;

	for (int r = 0; r < rounds; r++) {
		long f0 = minflt();
		int64_t t0 = clock_mono_ns(), t1;
		struct store_batch *b = store_batch_begin(st);

		fill(b, nm, r);
		t1 = clock_mono_ns();
		nodes = store_batch_node_count(b);
		pods = store_batch_pod_count(b);
		ctrs = store_batch_container_count(b);
		store_apply(st, b);
		fill_ms[r] = (double)(t1 - t0) / 1e6;
		apply_ms[r] = ms_since(t1);
		per_node[r] = (fill_ms[r] + apply_ms[r]) * 1e3 / (double)nm->nodes;
		faults[r] = minflt() - f0;
		rss[r] = status_kb("VmRSS");
		printf("round %2d  fill %7.1f ms  apply %7.1f ms  %6.2f us/node  %7ld minflt  rss %ld KiB\n",
		       r, fill_ms[r], apply_ms[r], per_node[r], faults[r], rss[r]);
	}
	printf("stored %zu nodes %zu pods %zu containers\n", nodes, pods, ctrs);
	if (rounds > 2) {
		int n = rounds - 2;
		double sorted[MAX_ROUNDS];
		long fsum = 0;

		memcpy(sorted, per_node + 2, (size_t)n * sizeof(double));
		qsort(sorted, (size_t)n, sizeof(double), cmp_double);
		for (int r = 2; r < rounds; r++)
			fsum += faults[r];
		printf("steady rounds %d: median %.2f us/node (fill+apply), %.1f minflt/round (max %ld)\n",
		       n, sorted[n / 2], (double)fsum / n, faults[rounds - 1]);
		printf("rss: names %ld KiB, steady %ld KiB (store %.1f KB/node), peak %ld KiB\n",
		       base_rss, rss[rounds - 1],
		       (double)(rss[rounds - 1] - base_rss) * 1.024 / (double)nm->nodes,
		       status_kb("VmHWM"));
	}
}

static json_t *make_lists(long nodes, long pods, json_t **pod_list)
{
	json_t *nl = json_array(), *pl = json_array();
	char name[64], ns[32];

	for (long n = 0; n < nodes; n++) {
		snprintf(name, sizeof(name), "node-%05ld", n);
		json_array_append_new(nl, json_pack("{s:{s:s,s:{s:s}}}", "metadata", "name", name,
						    "labels", "kubernetes.io/hostname", name));
		for (long i = 0; i < pods; i++) {
			snprintf(ns, sizeof(ns), "ns-%ld", i % 10);
			snprintf(name, sizeof(name), "pod-%05ld-%02ld", n, i);
			json_array_append_new(pl, json_pack("{s:{s:s,s:s,s:{s:s}},s:{s:s}}", "metadata",
							    "name", name, "namespace", ns, "labels",
							    "app", "bench", "status", "phase",
							    "Running"));
		}
	}
	*pod_list = json_pack("{s:o}", "items", pl);
	return json_pack("{s:o}", "items", nl);
}

static void render(const char *what, const char *path, const struct apis_sources *src)
{
	struct apis_request req = { .method = "GET", .path = path, .now_ns = clock_now_ns() };
	struct apis_response resp;
	int64_t t0 = clock_mono_ns();

	dynbuf_init(&resp.body, DYN_API_RESPONSE);
	apis_handle(&req, src, &resp);
	printf("render %-10s status %d  %10zu bytes  %8.1f ms\n", what, resp.status, resp.body.len,
	       ms_since(t0));
	dynbuf_clear(&resp.body);
}

/* argv[i] as a positive count, def when absent; exits on anything else. */
static long arg_count(int argc, char **argv, int i, long def)
{
	char *end;
	long v;

	if (argc <= i)
		return def;
	v = strtol(argv[i], &end, 10);
	if (end == argv[i] || *end != '\0' || v <= 0) {
		fprintf(stderr, "usage: bench_store [nodes [pods [containers [rounds]]]]: bad count %s\n",
			argv[i]);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	long nodes = arg_count(argc, argv, 1, 10000);
	long pods = arg_count(argc, argv, 2, 30);
	long ctrs = arg_count(argc, argv, 3, 1);
	long rounds = arg_count(argc, argv, 4, 8);
	struct store *st;
	struct store_snapshot *snap;
	struct kube_snapshot *kube;
	struct names nm;
	json_t *nl, *pl;
	int64_t t0;

	if (nodes <= 0 || pods < 0 || ctrs < 1 || rounds < 1 || nodes > 100000 || pods > 1000 ||
	    ctrs > 4 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: bench_store [nodes<=100000] [pods-per-node<=1000] "
				"[containers-per-pod<=4] [rounds<=%d]\n", MAX_ROUNDS);
		return 2;
	}
	/* as server/main.c */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_ARENA_MAX, 2);
	names_make(&nm, nodes, pods, ctrs);
	st = store_new(15 * NS_PER_SEC);
	run_rounds(st, &nm, (int)rounds);
	free(nm.node);
	free(nm.pod);
	snap = store_acquire(st);
	printf("ready %d  node points %zu  container points %zu\n", store_snapshot_ready(snap),
	       store_snapshot_node_points(snap), store_snapshot_container_points(snap));
	nl = make_lists(nodes, pods, &pl);
	t0 = clock_mono_ns();
	kube = kube_snapshot_from_lists(nl, pl);
	printf("kube snapshot from lists                  %8.1f ms\n", ms_since(t0));
	json_decref(nl);
	json_decref(pl);
	{
		struct apis_sources src = { .store = snap, .kube = kube, .git_version = "bench" };

		render("nodes", "/apis/metrics.k8s.io/v1beta1/nodes", &src);
		render("pods", "/apis/metrics.k8s.io/v1beta1/pods", &src);
		render("ns pods", "/apis/metrics.k8s.io/v1beta1/namespaces/ns-3/pods", &src);
	}
	kube_snapshot_unref(kube);
	store_snapshot_unref(snap);
	store_free(st);
	return 0;
}
