/*
 * bench_store.c - store/ and apis/ at scale: N nodes x P pods x 2
 * containers.  Prints the time of one store_apply (build + publish) and
 * of rendering the all-namespaces pod list and the node list.
 *
 *   bench_store [nodes] [pods-per-node]     (default 10000 x 30)
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "apis/apis.h"
#include "common/common.h"
#include "kube/kube.h"
#include "store/store.h"

static double ms_since(int64_t t0)
{
	return (double)(clock_mono_ns() - t0) / 1e6;
}

static struct store_batch *make_batch(long nodes, long pods, int round)
{
	struct store_batch *b = store_batch_new();
	char node[64], ns[32], pod[64];
	int64_t ts = INT64_C(1700000000) * NS_PER_SEC + round * 15 * NS_PER_SEC;
	struct store_point p = { .ts_ns = ts, .start_ns = ts - 3600 * NS_PER_SEC,
				 .mem_bytes = 64u << 20 };

	for (long n = 0; n < nodes; n++) {
		snprintf(node, sizeof(node), "node-%05ld", n);
		p.cpu_ns = (uint64_t)(round + 1) * 15000000000u;
		store_batch_add_node(b, node, &p);
		for (long i = 0; i < pods; i++) {
			snprintf(ns, sizeof(ns), "ns-%ld", i % 10);
			snprintf(pod, sizeof(pod), "pod-%05ld-%02ld", n, i);
			p.cpu_ns = (uint64_t)(round + 1) * 1500000000u;
			store_batch_add_container(b, ns, pod, "app", &p);
			store_batch_add_container(b, ns, pod, "sidecar", &p);
		}
	}
	return b;
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
	dynbuf_release(&resp.body);
}

int main(int argc, char **argv)
{
	long nodes = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
	long pods = argc > 2 ? strtol(argv[2], NULL, 10) : 30;
	struct store *st = store_new(15 * NS_PER_SEC);
	struct store_snapshot *snap;
	struct kube_snapshot *kube;
	json_t *nl, *pl;
	int64_t t0;

	if (nodes <= 0 || pods < 0 || nodes > 100000 || pods > 1000) {
		fprintf(stderr, "usage: bench_store [nodes<=100000] [pods-per-node<=1000]\n");
		return 2;
	}
	for (int round = 0; round < 3; round++) {
		struct store_batch *b;

		t0 = clock_mono_ns();
		b = make_batch(nodes, pods, round);
		printf("batch  round %d  %ld nodes %ld pods     %8.1f ms\n", round, nodes, nodes * pods,
		       ms_since(t0));
		t0 = clock_mono_ns();
		store_apply(st, b);
		printf("apply  round %d                          %8.1f ms\n", round, ms_since(t0));
	}
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
	kube_snapshot_release(kube);
	store_release(snap);
	store_free(st);
	return 0;
}
