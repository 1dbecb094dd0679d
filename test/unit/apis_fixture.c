/*
 * apis_fixture.c - the store batches, kube lists, node selector and
 * request helpers the check_apis_* suites share; see apis_fixture.h.
 */
#include "test/unit/apis_fixture.h"

#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#define MS NS_PER_MS
#define SEC NS_PER_SEC
#define T1 (INT64_C(1633253812125) * MS)

static const char NODES[] =
	"{\"items\":["
	"{\"metadata\":{\"name\":\"node1\",\"labels\":{\"kubernetes.io/os\":\"linux\","
	"\"kubernetes.io/hostname\":\"node1\"}}},"
	"{\"metadata\":{\"name\":\"node3\",\"labels\":{\"metrics-server-skip\":\"true\"}}},"
	"{\"metadata\":{\"name\":\"node2\",\"labels\":{\"role\":\"<worker&>\"}}},"
	"{\"metadata\":{\"name\":\"node4\"}}]}";

static const char PODS[] =
	"{\"items\":["
	"{\"metadata\":{\"namespace\":\"kube-system\",\"name\":\"coredns-558bd4d5db-4dpjz\","
	"\"labels\":{\"pod-template-hash\":\"558bd4d5db\",\"k8s-app\":\"kube-dns\"}},"
	"\"status\":{\"phase\":\"Running\"}},"
	"{\"metadata\":{\"namespace\":\"default\",\"name\":\"web-1\",\"labels\":{\"app\":\"web\"}},"
	"\"status\":{\"phase\":\"Running\"}},"
	"{\"metadata\":{\"namespace\":\"default\",\"name\":\"web-2\",\"labels\":{\"app\":\"web\"}},"
	"\"status\":{\"phase\":\"Pending\"}},"
	"{\"metadata\":{\"namespace\":\"default\",\"name\":\"db-0\",\"labels\":{\"app\":\"db\"}},"
	"\"status\":{\"phase\":\"Running\"}}]}";

static struct store *st;
struct store_snapshot *snap;
struct kube_snapshot *kube;
struct selector *node_sel;
int observed;
struct apis_response resp;

static void observe(void *ud, int64_t ts)
{
	(void)ud;
	ck_assert_int_gt(ts, 0);
	observed++;
}

#define PT(start, ts, cpu, mem) \
	{ .start_ns = (start), .ts_ns = (ts), .cpu_ns = (cpu), .mem_bytes = (mem) }
#define START (T1 - 1100 * SEC)  /* the containers' start time */
#define MIB UINT64_C(1048576)
/* node2 and node3: 3.75 core-seconds in 15s (250m); web's containers 0.05 in 10s (5m). */
#define NODE_250M { PT(0, 1633253809720 * MS, 100000000000u, 1u << 30), \
		    PT(0, 1633253824720 * MS, 103750000000u, 1u << 30) }
#define WEB_5M(mem) { PT(START, T1, 1000000000u, mem), PT(START, T1 + 10 * SEC, 1050000000u, mem) }

/* The store's two scrape rounds, series by series in batch order: node1
 * and coredns are metrics-server.md §5.3's worked example. */
static const struct series {
	const char *node;                  /* a node's series, or */
	const char *ns, *pod, *container;  /* a container's */
	struct store_point round[2];
} SERIES[] = {
	{ "node1", .round = { PT(0, 1633253809720 * MS, 357354910000u, 1616273408u),
			      PT(0, 1633253824720 * MS, (uint64_t)(364.49548936 * 1e9), 2056949760u) } },
	{ "node2", .round = NODE_250M },
	{ "node3", .round = NODE_250M },
	{ NULL, "kube-system", "coredns-558bd4d5db-4dpjz", "coredns",
	  { PT(START, T1, 4710169000u, 12533760u),
	    PT(START, 1633253827129 * MS, (uint64_t)(4.8612 * 1e9), 12582912u) } },
	{ NULL, "default", "web-1", "sidecar", WEB_5M(3 * MIB) },
	{ NULL, "default", "web-1", "app", WEB_5M(2 * MIB) },
	{ NULL, "default", "web-2", "app", WEB_5M(2 * MIB) },
};

/* Scrape round r (0 or 1) of every series as one batch. */
static void add_round(int r)
{
	struct store_batch *b = store_batch_new();

	for (size_t i = 0; i < COMMON_ARRAY_LEN(SERIES); i++) {
		const struct series *s = &SERIES[i];

		if (s->node)
			store_batch_add_node(b, s->node, &s->round[r]);
		else
			store_batch_add_container(b, s->ns, s->pod, s->container, &s->round[r]);
	}
	store_apply(st, b);
}

void fixture_setup(void)
{
	json_t *n = json_loads(NODES, 0, NULL), *p = json_loads(PODS, 0, NULL);
	char err[256];

	ck_assert_ptr_nonnull(n);
	ck_assert_ptr_nonnull(p);
	kube = kube_snapshot_from_lists(n, p);
	json_decref(n);
	json_decref(p);
	st = store_new(15 * SEC);
	add_round(0);
	add_round(1);
	snap = store_acquire(st);
	node_sel = selector_parse("metrics-server-skip!=true", err, sizeof(err));
	ck_assert_ptr_nonnull(node_sel);
	observed = 0;
}

void fixture_teardown(void)
{
	resp_free();  /* a test that failed before its own resp_free() */
	selector_free(node_sel);
	store_snapshot_unref(snap);
	store_free(st);
	kube_snapshot_unref(kube);
}

const char *run(struct call c)
{
	struct apis_request req = {
		.method = c.method ? c.method : "GET", .path = c.path, .accept = c.accept,
		.label_selector = c.labels, .field_selector = c.fields,
		.include_object = c.include, .watch = c.watch, .pretty = c.pretty, .now_ns = NOW,
	};
	struct apis_sources src = { .store = snap, .kube = kube, .node_selector = node_sel,
				    .git_version = "v0.1.0", .observe_item = observe };

	dynbuf_clear(&resp.body);
	dynbuf_init(&resp.body, DYN_API_RESPONSE);
	apis_handle(&req, &src, &resp);
	ck_assert_ptr_nonnull(resp.content_type);
	return resp.body.buf ? resp.body.buf : "";
}

const char *get(const char *path)
{
	return run((struct call){ .path = path });
}

void resp_free(void)
{
	dynbuf_clear(&resp.body);
}

void assert_exchanges(const struct exchange *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(run(x[i].c), x[i].body);
		ck_assert_int_eq(resp.status, x[i].status);
	}
}
