/*
 * bench_kube_index.c - what the pod index costs at scale: parsing N pods,
 * building the first sorted array, merging batches of watch changes
 * (what each ~100 ms publication does) and lookups.
 *
 *   bench_kube_index [pods=300000] [changes-per-batch=1000] [batches=50]
 */
#include <stdio.h>
#include <stdlib.h>

#include "kube/kube_int.h"

static long arg(int argc, char **argv, int i, long def)
{
	char *end;
	long v;

	if (argc <= i)
		return def;
	v = strtol(argv[i], &end, 10);
	if (*end || v <= 0) {
		fprintf(stderr, "bad argument %s\n", argv[i]);
		exit(2);
	}
	return v;
}

static struct kube_obj *make_pod(long i, const char *phase)
{
	char ns[32], name[64], err[128];
	json_t *j;
	struct kube_obj *o;

	snprintf(ns, sizeof(ns), "ns-%ld", i % 1000);
	snprintf(name, sizeof(name), "pod-%ld", i);
	j = json_pack("{s:{s:s,s:s,s:s,s:{s:s,s:s}},s:{s:s},s:{s:s,s:s}}", "metadata",
		      "namespace", ns, "name", name, "creationTimestamp", "2024-01-02T03:04:05Z",
		      "labels", "app", "web", "pod-template-hash", "5d8f9c7b6d", "spec",
		      "nodeName", "node-1", "status", "phase", phase, "startTime",
		      "2024-01-02T03:04:06Z");
	o = kube__obj_parse(KUBE_POD, j, err, sizeof(err));
	json_decref(j);
	if (!o) {
		fprintf(stderr, "parse: %s\n", err);
		exit(1);
	}
	return o;
}

static double ms_since(int64_t t0)
{
	return (double)(clock_mono_ns() - t0) / 1e6;
}

int main(int argc, char **argv)
{
	long n = arg(argc, argv, 1, 300000), k = arg(argc, argv, 2, 1000);
	long batches = arg(argc, argv, 3, 50), b, i, found = 0;
	struct kube_obj **objs = xcalloc((size_t)(n > k ? n : k), sizeof(*objs));
	struct kube_objs *arr, *next;
	struct kube_snapshot *s;
	int64_t t0 = clock_mono_ns();
	double merge_ms = 0;
	char name[64];

	for (i = 0; i < n; i++)
		objs[i] = make_pod(i, "Running");
	printf("parse %ld pods: %.1f ms\n", n, ms_since(t0));
	t0 = clock_mono_ns();
	arr = kube__objs_merge(KUBE_POD, NULL, objs, (size_t)n);
	printf("first sorted array: %.1f ms\n", ms_since(t0));
	for (b = 0; b < batches; b++) {
		for (i = 0; i < k; i++)
			objs[i] = make_pod((b * 7919 + i * 104729) % n, "Succeeded");
		t0 = clock_mono_ns();
		next = kube__objs_merge(KUBE_POD, arr, objs, (size_t)k);
		merge_ms += ms_since(t0);
		kube__objs_unref(arr);
		arr = next;
	}
	printf("merge %ld changes into %zu pods: %.2f ms per publication\n", k,
	       kube__objs_count(arr), merge_ms / (double)batches);
	s = kube__snapshot_new(NULL, arr, true);
	kube__objs_unref(arr);
	t0 = clock_mono_ns();
	for (i = 0; i < 1000000; i++) {
		snprintf(name, sizeof(name), "pod-%ld", (i * 7) % n);
		found += kube_snapshot_pod(s, s->pods[(size_t)i % s->npods]->ns, name) != NULL;
	}
	printf("1e6 pod lookups: %.1f ms (%ld found)\n", ms_since(t0), found);
	kube_snapshot_unref(s);
	free(objs);
	return 0;
}
