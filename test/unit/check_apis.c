/*
 * check_apis.c - apis/: byte-for-byte metrics.k8s.io objects, lists,
 * Tables, discovery and Status errors (metrics-server.md §5,
 * aggregation.md §3-§5), rendered from real store batches and a kube
 * snapshot built from JSON lists.
 */
#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "apis/apis.h"
#include "common/common.h"
#include "kube/kube.h"
#include "store/store.h"
#include "test/unit/unit.h"

#define MS NS_PER_MS
#define SEC NS_PER_SEC
#define NOW (INT64_C(1633253830) * SEC)  /* 2021-10-03T09:37:10Z */
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
static struct store_snapshot *snap;
static struct kube_snapshot *kube;
static struct selector *node_sel;
static int observed;

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

static void setup(void)
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

static void teardown(void)
{
	selector_free(node_sel);
	store_release(snap);
	store_free(st);
	kube_snapshot_release(kube);
}

struct call {
	const char *method, *path, *accept, *labels, *fields, *include;
	bool watch, pretty;
};

static struct apis_response resp;

static const char *run(struct call c)
{
	struct apis_request req = {
		.method = c.method ? c.method : "GET", .path = c.path, .accept = c.accept,
		.label_selector = c.labels, .field_selector = c.fields,
		.include_object = c.include, .watch = c.watch, .pretty = c.pretty, .now_ns = NOW,
	};
	struct apis_sources src = { .store = snap, .kube = kube, .node_selector = node_sel,
				    .git_version = "v0.1.0", .observe_item = observe };

	dynbuf_release(&resp.body);
	dynbuf_init(&resp.body, DYN_API_RESPONSE);
	apis_handle(&req, &src, &resp);
	ck_assert_ptr_nonnull(resp.content_type);
	return resp.body.buf ? resp.body.buf : "";
}

static const char *get(const char *path)
{
	return run((struct call){ .path = path });
}

static void resp_free(void)
{
	dynbuf_release(&resp.body);
}

#define NODE1_META                                                                      \
	"\"metadata\":{\"name\":\"node1\",\"creationTimestamp\":\"2021-10-03T09:37:10Z\"," \
	"\"labels\":{\"kubernetes.io/hostname\":\"node1\",\"kubernetes.io/os\":\"linux\"}}"
#define NODE1_REST "\"timestamp\":\"2021-10-03T09:37:04Z\",\"window\":\"15s\"," \
	"\"usage\":{\"cpu\":\"476038624n\",\"memory\":\"2008740Ki\"}"
#define NODE2_META                                                                      \
	"\"metadata\":{\"name\":\"node2\",\"creationTimestamp\":\"2021-10-03T09:37:10Z\"," \
	"\"labels\":{\"role\":\"\\u003cworker\\u0026\\u003e\"}}"
#define NODE2_REST "\"timestamp\":\"2021-10-03T09:37:04Z\",\"window\":\"15s\"," \
	"\"usage\":{\"cpu\":\"250m\",\"memory\":\"1Gi\"}"
#define COREDNS_META                                                                      \
	"\"metadata\":{\"name\":\"coredns-558bd4d5db-4dpjz\",\"namespace\":\"kube-system\","  \
	"\"creationTimestamp\":\"2021-10-03T09:37:10Z\",\"labels\":{\"k8s-app\":\"kube-dns\"," \
	"\"pod-template-hash\":\"558bd4d5db\"}}"
#define COREDNS_REST "\"timestamp\":\"2021-10-03T09:37:07Z\",\"window\":\"15.004s\"," \
	"\"containers\":[{\"name\":\"coredns\",\"usage\":{\"cpu\":\"10066049n\",\"memory\":\"12Mi\"}}]"
#define WEB1_META                                                                    \
	"\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\","                    \
	"\"creationTimestamp\":\"2021-10-03T09:37:10Z\",\"labels\":{\"app\":\"web\"}}"
#define WEB1_REST "\"timestamp\":\"2021-10-03T09:37:02Z\",\"window\":\"10s\",\"containers\":[" \
	"{\"name\":\"app\",\"usage\":{\"cpu\":\"5m\",\"memory\":\"2Mi\"}},"                  \
	"{\"name\":\"sidecar\",\"usage\":{\"cpu\":\"5m\",\"memory\":\"3Mi\"}}]"

/* List items, and the lists ("" = no items) as the server writes them. */
#define NODE1 "{" NODE1_META "," NODE1_REST "}"
#define NODE2 "{" NODE2_META "," NODE2_REST "}"
#define COREDNS "{" COREDNS_META "," COREDNS_REST "}"
#define WEB1 "{" WEB1_META "," WEB1_REST "}"
#define METRICS_LIST(kind, items)                                                        \
	"{\"kind\":\"" kind "\",\"apiVersion\":\"metrics.k8s.io/v1beta1\",\"metadata\":{}," \
	"\"items\":[" items "]}\n"
#define NODE_LIST(items) METRICS_LIST("NodeMetricsList", items)
#define POD_LIST(items) METRICS_LIST("PodMetricsList", items)

/* ---- objects and lists -------------------------------------------------- */

START_TEST(test_node_get_worked_example)
{
	ck_assert_str_eq(get("/apis/metrics.k8s.io/v1beta1/nodes/node1"),
			 "{\"kind\":\"NodeMetrics\",\"apiVersion\":\"metrics.k8s.io/v1beta1\","
			 NODE1_META "," NODE1_REST "}\n");
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(resp.content_type, "application/json");
	ck_assert_int_eq(observed, 1);
	resp_free();
}
END_TEST

START_TEST(test_pod_get_worked_example)
{
	ck_assert_str_eq(get("/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods/coredns-558bd4d5db-4dpjz"),
			 "{\"kind\":\"PodMetrics\",\"apiVersion\":\"metrics.k8s.io/v1beta1\","
			 COREDNS_META "," COREDNS_REST "}\n");
	ck_assert_int_eq(resp.status, 200);
	resp_free();
}
END_TEST

START_TEST(test_node_list_sorted_and_selected)
{
	/* node3 is excluded by --node-selector, node4 has no metrics. */
	ck_assert_str_eq(get("/apis/metrics.k8s.io/v1beta1/nodes"), NODE_LIST(NODE1 "," NODE2));
	ck_assert_int_eq(observed, 2);
	/* a named GET ignores --node-selector */
	run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/nodes/node3" });
	ck_assert_int_eq(resp.status, 200);
	/* label and field selectors */
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/nodes",
					    .labels = "kubernetes.io/os=linux" }),
			 NODE_LIST(NODE1));
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/nodes",
					    .fields = "metadata.name!=node1" }),
			 NODE_LIST(NODE2));
	/* nodes have no metadata.namespace field: it reads as "" */
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/nodes/",
					    .fields = "metadata.namespace=x" }),
			 NODE_LIST(""));
	resp_free();
}
END_TEST

START_TEST(test_pod_lists)
{
	/* web-2 is Pending, db-0 has no metrics. */
	ck_assert_str_eq(get("/apis/metrics.k8s.io/v1beta1/pods"), POD_LIST(WEB1 "," COREDNS));
	ck_assert_str_eq(get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods"), POD_LIST(WEB1));
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/pods",
					    .fields = "metadata.namespace=kube-system" }),
			 POD_LIST(COREDNS));
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/pods",
					    .labels = "app in (web,db)" }),
			 POD_LIST(WEB1));
	ck_assert_str_eq(get("/apis/metrics.k8s.io/v1beta1/namespaces/nope/pods"), POD_LIST(""));
	resp_free();
}
END_TEST

START_TEST(test_protobuf_accept_gets_json)
{
	run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/nodes/node1",
			   .accept = "application/vnd.kubernetes.protobuf, */*" });
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(resp.content_type, "application/json");
	ck_assert_int_eq(strncmp(resp.body.buf, "{\"kind\":\"NodeMetrics\"", 21), 0);
	resp_free();
}
END_TEST

START_TEST(test_pretty)
{
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/nodes/node2",
					    .pretty = true }),
			 "{\n"
			 "  \"kind\": \"NodeMetrics\",\n"
			 "  \"apiVersion\": \"metrics.k8s.io/v1beta1\",\n"
			 "  \"metadata\": {\n"
			 "    \"name\": \"node2\",\n"
			 "    \"creationTimestamp\": \"2021-10-03T09:37:10Z\",\n"
			 "    \"labels\": {\n"
			 "      \"role\": \"\\u003cworker\\u0026\\u003e\"\n"
			 "    }\n"
			 "  },\n"
			 "  \"timestamp\": \"2021-10-03T09:37:04Z\",\n"
			 "  \"window\": \"15s\",\n"
			 "  \"usage\": {\n"
			 "    \"cpu\": \"250m\",\n"
			 "    \"memory\": \"1Gi\"\n"
			 "  }\n"
			 "}");
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/namespaces/nope/pods",
					    .pretty = true }),
			 "{\n  \"kind\": \"PodMetricsList\",\n  \"apiVersion\": \"metrics.k8s.io/v1beta1\",\n"
			 "  \"metadata\": {},\n  \"items\": []\n}");
	resp_free();
}
END_TEST

/* ---- Table ---------------------------------------------------------------- */

#define TABLE_COLS                                                                              \
	"\"columnDefinitions\":[{\"name\":\"Name\",\"type\":\"string\",\"format\":\"name\","      \
	"\"description\":\"Name of the resource\",\"priority\":0},{\"name\":\"cpu\",\"type\":"    \
	"\"string\",\"format\":\"quantity\",\"description\":\"\",\"priority\":0},{\"name\":"      \
	"\"memory\",\"type\":\"string\",\"format\":\"quantity\",\"description\":\"\","            \
	"\"priority\":0},{\"name\":\"Window\",\"type\":\"string\",\"format\":\"duration\","       \
	"\"description\":\"\",\"priority\":0}]"
#define KUBECTL_GET_ACCEPT                                                                 \
	"application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;" \
	"g=meta.k8s.io,application/json"

START_TEST(test_table_nodes_metadata)
{
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/nodes",
					    .labels = "kubernetes.io/os=linux",
					    .accept = KUBECTL_GET_ACCEPT }),
			 "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":{},"
			 TABLE_COLS ",\"rows\":[{\"cells\":[\"node1\",\"476038624n\",\"2008740Ki\","
			 "\"15s\"],\"object\":{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":"
			 "\"meta.k8s.io/v1\"," NODE1_META "}}]}\n");
	ck_assert_str_eq(resp.content_type, "application/json");
	resp_free();
}
END_TEST

START_TEST(test_table_pods_sum_and_include)
{
	const char *accept = "application/json;as=Table;v=v1beta1;g=meta.k8s.io";

	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods",
					    .accept = accept, .include = "None" }),
			 "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1beta1\",\"metadata\":{},"
			 TABLE_COLS ",\"rows\":[{\"cells\":[\"web-1\",\"10m\",\"5Mi\",\"10s\"]}]}\n");
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web-1",
					    .accept = KUBECTL_GET_ACCEPT, .include = "Object" }),
			 "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":{},"
			 TABLE_COLS ",\"rows\":[{\"cells\":[\"web-1\",\"10m\",\"5Mi\",\"10s\"],"
			 "\"object\":{\"kind\":\"PodMetrics\",\"apiVersion\":\"metrics.k8s.io/v1beta1\","
			 WEB1_META "," WEB1_REST "}}]}\n");
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/namespaces/nope/pods",
					    .accept = KUBECTL_GET_ACCEPT }),
			 "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":{},"
			 "\"columnDefinitions\":null,\"rows\":null}\n");
	run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/nodes", .accept = KUBECTL_GET_ACCEPT,
			   .include = "Everything" });
	ck_assert_int_eq(resp.status, 400);
	ck_assert_str_eq(resp.body.buf,
			 "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
			 "\"message\":\"unrecognized includeObject value: \\\"Everything\\\"\","
			 "\"reason\":\"BadRequest\",\"code\":400}\n");
	resp_free();
}
END_TEST

/* ---- errors --------------------------------------------------------------- */

#define STATUS_HEAD "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","

/* A request, and the status and exact body it gets. */
struct exchange {
	struct call c;
	int status;
	const char *body;
};

static void assert_exchanges(const struct exchange *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(run(x[i].c), x[i].body);
		ck_assert_int_eq(resp.status, x[i].status);
	}
}

START_TEST(test_not_found_errors)
{
	const struct exchange x[] = {
		{ { .path = "/apis/metrics.k8s.io/v1beta1/nodes/node4" }, 404,
		  STATUS_HEAD "\"message\":\"nodemetrics.metrics.k8s.io \\\"node4\\\" not found\","
		  "\"reason\":\"NotFound\",\"details\":{\"name\":\"node4\",\"group\":"
		  "\"metrics.k8s.io\",\"kind\":\"nodemetrics\"},\"code\":404}\n" },
		{ { .path = "/apis/metrics.k8s.io/v1beta1/nodes/node5" }, 404,
		  STATUS_HEAD "\"message\":\"node \\\"node5\\\" not found\",\"reason\":\"NotFound\","
		  "\"details\":{\"name\":\"node5\",\"kind\":\"node\"},\"code\":404}\n" },
		{ { .path = "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/db-0" }, 404,
		  STATUS_HEAD "\"message\":\"podmetrics.metrics.k8s.io \\\"default/db-0\\\" not "
		  "found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"default/db-0\","
		  "\"group\":\"metrics.k8s.io\",\"kind\":\"podmetrics\"},\"code\":404}\n" },
		/* Pending pods are invisible even with metrics */
		{ { .path = "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web-2" }, 404,
		  STATUS_HEAD "\"message\":\"pods \\\"web-2\\\" not found\",\"reason\":\"NotFound\","
		  "\"details\":{\"name\":\"web-2\",\"kind\":\"pods\"},\"code\":404}\n" },
	};

	assert_exchanges(x, COMMON_ARRAY_LEN(x));
	ck_assert_str_eq(resp.content_type, "application/json");
	ck_assert_int_eq(observed, 0);
	resp_free();
}
END_TEST

START_TEST(test_request_errors)
{
	static const char generic404[] =
		STATUS_HEAD "\"message\":\"the server could not find the requested resource\","
		"\"reason\":\"NotFound\",\"details\":{},\"code\":404}\n";
	const struct exchange x[] = {
		{ { .path = "/apis/metrics.k8s.io/v1beta1/pods", .fields = "spec.nodeName=node1" }, 400,
		  STATUS_HEAD "\"message\":\"\\\"spec.nodeName\\\" is not a known field selector: "
		  "only \\\"metadata.name\\\", \\\"metadata.namespace\\\"\",\"reason\":"
		  "\"BadRequest\",\"code\":400}\n" },
		{ { .path = "/apis/metrics.k8s.io/v1beta1/nodes", .watch = true }, 405,
		  STATUS_HEAD "\"message\":\"watch is not supported on resources of kind "
		  "\\\"nodes.metrics.k8s.io\\\"\",\"reason\":\"MethodNotAllowed\",\"details\":"
		  "{\"group\":\"metrics.k8s.io\",\"kind\":\"nodes\"},\"code\":405}\n" },
		{ { .method = "POST", .path = "/apis/metrics.k8s.io/v1beta1/nodes" }, 405,
		  STATUS_HEAD "\"message\":\"the server does not allow this method on the "
		  "requested resource\",\"reason\":\"MethodNotAllowed\",\"details\":{},\"code\":405}\n" },
		{ { .path = "/apis/metrics.k8s.io/v1beta1/nodes",
		    .accept = "text/html, application/json;as=Other;g=x;v=v1, application/json;q=0" }, 406,
		  STATUS_HEAD "\"message\":\"only the following media types are accepted: "
		  "application/json, application/yaml, application/vnd.kubernetes.protobuf\","
		  "\"reason\":\"NotAcceptable\",\"code\":406}\n" },
		{ { .path = "/apis/metrics.k8s.io/v1beta1/services" }, 404, generic404 },
		{ { .path = "/apis/metrics.k8s.io/v1beta1/nodes/node1/status" }, 404, generic404 },
		{ { .path = "/apis/metrics.k8s.io/v1beta1/namespaces/default" }, 404, generic404 },
		{ { .path = "/apis/metrics.k8s.io/v1beta1/namespaces//pods" }, 404, generic404 },
		{ { .path = "/openapi/v3" }, 404, "404 page not found\n" },
		{ { .path = "/healthz" }, 404, "404 page not found\n" },
	};

	assert_exchanges(x, COMMON_ARRAY_LEN(x));
	ck_assert_str_eq(get("/apis/custom.metrics.k8s.io/v1beta2"), "404 page not found\n");
	ck_assert_str_eq(resp.content_type, "text/plain; charset=utf-8");
	/* an unparsable label selector: a 400 Status whose message is the parser's */
	run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/pods", .labels = "a in (" });
	ck_assert_int_eq(resp.status, 400);
	ck_assert_int_eq(strncmp(resp.body.buf, STATUS_HEAD "\"message\":", strlen(STATUS_HEAD) + 10), 0);
	ck_assert_ptr_nonnull(strstr(resp.body.buf, "\"reason\":\"BadRequest\",\"code\":400}\n"));
	run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/namespaces/a/pods", .watch = true });
	ck_assert_ptr_nonnull(strstr(resp.body.buf, "\\\"pods.metrics.k8s.io\\\""));
	run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/nodes",
			   .accept = "application/json;as=Table;v=v1;g=meta.k8s.io" });
	ck_assert_int_eq(resp.status, 200);  /* a Table-only Accept gets a Table */
	resp_free();
}
END_TEST

START_TEST(test_owns_path)
{
	ck_assert(apis_owns_path("/apis"));
	ck_assert(apis_owns_path("/apis/metrics.k8s.io/v1beta1/nodes"));
	ck_assert(apis_owns_path("/version"));
	ck_assert(apis_owns_path("/openapi/v2"));
	ck_assert(!apis_owns_path("/apisx"));
	ck_assert(!apis_owns_path("/healthz"));
	ck_assert(!apis_owns_path("/metrics"));
	ck_assert(!apis_owns_path(NULL));
}
END_TEST

/* ---- discovery -------------------------------------------------------- */

START_TEST(test_discovery)
{
	ck_assert_str_eq(get("/apis/metrics.k8s.io/v1beta1"),
			 "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":"
			 "\"metrics.k8s.io/v1beta1\",\"resources\":[{\"name\":\"nodes\",\"singularName\":"
			 "\"\",\"namespaced\":false,\"kind\":\"NodeMetrics\",\"verbs\":[\"get\",\"list\"]},"
			 "{\"name\":\"pods\",\"singularName\":\"\",\"namespaced\":true,\"kind\":"
			 "\"PodMetrics\",\"verbs\":[\"get\",\"list\"]}]}\n");
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(get("/apis"),
			 "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[{\"name\":"
			 "\"metrics.k8s.io\",\"versions\":[{\"groupVersion\":\"metrics.k8s.io/v1beta1\","
			 "\"version\":\"v1beta1\"}],\"preferredVersion\":{\"groupVersion\":"
			 "\"metrics.k8s.io/v1beta1\",\"version\":\"v1beta1\"}}]}\n");
	ck_assert_str_eq(resp.content_type, "application/json");
	ck_assert_str_eq(get("/apis/metrics.k8s.io"),
			 "{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\",\"name\":\"metrics.k8s.io\","
			 "\"versions\":[{\"groupVersion\":\"metrics.k8s.io/v1beta1\",\"version\":"
			 "\"v1beta1\"}],\"preferredVersion\":{\"groupVersion\":\"metrics.k8s.io/v1beta1\","
			 "\"version\":\"v1beta1\"}}\n");
	ck_assert_str_eq(run((struct call){ .path = "/apis",
					    .accept = "application/json;g=apidiscovery.k8s.io;v=v2;"
						      "as=APIGroupDiscoveryList,application/json;"
						      "g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList" }),
			 "{\"kind\":\"APIGroupDiscoveryList\",\"apiVersion\":\"apidiscovery.k8s.io/v2\","
			 "\"metadata\":{},\"items\":[{\"metadata\":{\"name\":\"metrics.k8s.io\","
			 "\"creationTimestamp\":null},\"versions\":[{\"version\":\"v1beta1\",\"resources\":"
			 "[{\"resource\":\"nodes\",\"responseKind\":{\"group\":\"metrics.k8s.io\","
			 "\"version\":\"v1beta1\",\"kind\":\"NodeMetrics\"},\"scope\":\"Cluster\","
			 "\"singularResource\":\"\",\"verbs\":[\"get\",\"list\"]},{\"resource\":\"pods\","
			 "\"responseKind\":{\"group\":\"metrics.k8s.io\",\"version\":\"v1beta1\",\"kind\":"
			 "\"PodMetrics\"},\"scope\":\"Namespaced\",\"singularResource\":\"\",\"verbs\":"
			 "[\"get\",\"list\"]}],\"freshness\":\"Current\"}]}]}\n");
	ck_assert_str_eq(resp.content_type,
			 "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
	/* only v2beta1 asked: the legacy list (the aggregator then falls back) */
	run((struct call){ .path = "/apis", .accept = "application/json;g=apidiscovery.k8s.io;"
						      "v=v2beta1;as=APIGroupDiscoveryList,application/json" });
	ck_assert_str_eq(resp.content_type, "application/json");
	ck_assert_int_eq(strncmp(resp.body.buf, "{\"kind\":\"APIGroupList\"", 22), 0);
	run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1",
			   .accept = "application/json;as=Table;v=v1;g=meta.k8s.io" });
	ck_assert_int_eq(resp.status, 406);
	run((struct call){ .method = "DELETE", .path = "/apis/metrics.k8s.io/v1beta1" });
	ck_assert_int_eq(resp.status, 405);
	resp_free();
}
END_TEST

START_TEST(test_version_and_openapi)
{
	ck_assert_str_eq(get("/version"),
			 "{\n  \"major\": \"0\",\n  \"minor\": \"1\",\n  \"gitVersion\": \"v0.1.0\",\n"
			 "  \"gitCommit\": \"\",\n  \"gitTreeState\": \"\",\n"
			 "  \"buildDate\": \"1970-01-01T00:00:00Z\",\n  \"goVersion\": \"\",\n"
#if defined(__clang__)
			 "  \"compiler\": \"clang\",\n"
#else
			 "  \"compiler\": \"gcc\",\n"
#endif
#if defined(__x86_64__)
			 "  \"platform\": \"linux/amd64\"\n}"
#else
			 "  \"platform\": \"linux/arm64\"\n}"
#endif
	);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(get("/openapi/v2"), "{\"swagger\":\"2.0\",\"info\":{\"title\":\"Kubernetes "
					     "metrics-server\",\"version\":\"v0.1.0\"},\"paths\":{}}");
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(resp.content_type, "application/json");
	resp_free();
}
END_TEST

START_TEST(test_status_json_helper)
{
	struct dynbuf b;

	dynbuf_init(&b, DYN_SMALL);
	ck_assert_int_eq(apis_status_json(&b, 401, "Unauthorized", "Unauthorized", NULL, NULL, NULL),
			 ERR_OK);
	ck_assert_str_eq(b.buf, STATUS_HEAD "\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\","
				"\"code\":401}\n");
	dynbuf_reset(&b);
	ck_assert_int_eq(apis_status_json(&b, 403, "Forbidden", "a <b> & \xe2\x80\xa8 \xff\n", NULL,
					  "metrics.k8s.io", "nodes"), ERR_OK);
	ck_assert_str_eq(b.buf, STATUS_HEAD "\"message\":\"a \\u003cb\\u003e \\u0026 \\u2028 \\ufffd\\n\","
				"\"reason\":\"Forbidden\",\"details\":{\"group\":\"metrics.k8s.io\","
				"\"kind\":\"nodes\"},\"code\":403}\n");
	dynbuf_release(&b);
	dynbuf_init(&b, 10);
	ck_assert_int_eq(apis_status_json(&b, 500, "x", "y", NULL, NULL, NULL), ERR_TOOBIG);
	dynbuf_release(&b);
}
END_TEST

START_TEST(test_response_cap)
{
	struct apis_request req = { .method = "GET", .path = "/apis/metrics.k8s.io/v1beta1/pods",
				    .now_ns = NOW };
	struct apis_sources src = { .store = snap, .kube = kube };
	struct apis_response r;

	dynbuf_init(&r.body, 300);
	apis_handle(&req, &src, &r);
	ck_assert_int_eq(r.status, 500);
	ck_assert_ptr_nonnull(strstr(r.body.buf, "\"reason\":\"InternalError\""));
	dynbuf_release(&r.body);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apis");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_node_get_worked_example);
	tcase_add_test(tc, test_pod_get_worked_example);
	tcase_add_test(tc, test_node_list_sorted_and_selected);
	tcase_add_test(tc, test_pod_lists);
	tcase_add_test(tc, test_protobuf_accept_gets_json);
	tcase_add_test(tc, test_pretty);
	tcase_add_test(tc, test_table_nodes_metadata);
	tcase_add_test(tc, test_table_pods_sum_and_include);
	tcase_add_test(tc, test_not_found_errors);
	tcase_add_test(tc, test_request_errors);
	tcase_add_test(tc, test_owns_path);
	tcase_add_test(tc, test_discovery);
	tcase_add_test(tc, test_version_and_openapi);
	tcase_add_test(tc, test_status_json_helper);
	tcase_add_test(tc, test_response_cap);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
