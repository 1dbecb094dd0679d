/*
 * check_kubesim_kubelet.c - the simulated kubelets: Go float formatting,
 * the exact /metrics/resource body (golden), restarts and load, the HTTP
 * parser, and the live TLS loop fetched with libcurl from several
 * 127.x addresses (per-node content, certificate modes, client auth,
 * faults, keep-alive).
 */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test/kubesim/kubelet_int.h"
#include "test/unit/unit.h"

#define T0 (INT64_C(1700000123) * NS_PER_SEC) /* 2023-11-14T22:15:23Z */
#define T0_TEXT "2023-11-14T22:15:23Z"

/* ---- helpers: objects ---------------------------------------------------------- */

static json_t *obj(const char *text)
{
	json_error_t e;
	json_t *o = json_loads(text, 0, &e);

	ck_assert_msg(o != NULL, "bad test JSON: %s", e.text);
	return o;
}

static void apply(struct sim_kl_model *m, enum sim_event ev, const char *res, const char *text)
{
	json_t *o = obj(text);

	sim_kl_model_apply(m, ev, res, o);
	json_decref(o);
}

static void add_node(struct sim_kl_model *m, const char *name, const char *addr,
		     const char *annotations)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"metadata\":{\"name\":\"%s\",\"creationTimestamp\":\"" T0_TEXT "\","
		 "\"annotations\":{%s}},\"status\":{\"addresses\":["
		 "{\"type\":\"Hostname\",\"address\":\"%s\"},"
		 "{\"type\":\"InternalIP\",\"address\":\"%s\"}]}}",
		 name, annotations, name, addr);
	apply(m, SIM_ADDED, "nodes", buf);
}

/* A Running pod with containers "a,b" and optional extra JSON members. */
static void add_pod(struct sim_kl_model *m, const char *ns, const char *name, const char *node,
		    const char *annotations, const char *containers, const char *phase)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
		 "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"annotations\":{%s}},"
		 "\"spec\":{\"nodeName\":\"%s\",%s},"
		 "\"status\":{\"phase\":\"%s\",\"startTime\":\"" T0_TEXT "\"}}",
		 ns, name, annotations, node, containers, phase);
	apply(m, SIM_ADDED, "pods", buf);
}

static char *render(struct sim_kl_model *m, const char *addr, int64_t now)
{
	struct dynbuf b;

	dynbuf_init(&b, DYN_KUBELET_BODY);
	ck_assert_int_eq(sim_kl_model_render(m, addr, now, &b), 0);
	return dynbuf_take(&b, NULL);
}

/* The value of the first sample line starting with prefix, as text. */
static char *sample(const char *body, const char *prefix)
{
	const char *p = strstr(body, prefix);
	const char *v, *end;

	ck_assert_msg(p != NULL, "no %s", prefix);
	v = p + strlen(prefix);
	end = strpbrk(v, " \n");
	return strndup(v, (size_t)(end - v));
}

static void expect_sample(const char *body, const char *prefix, const char *want)
{
	char *got = sample(body, prefix);

	ck_assert_msg(strcmp(got, want) == 0, "%s: got %s, want %s", prefix, got, want);
	free(got);
}

static double sample_num(const char *body, const char *prefix)
{
	char *s = sample(body, prefix), *end;
	double d = strtod(s, &end);

	ck_assert_msg(end != s && *end == '\0', "%s: %s is not a number", prefix, s);
	free(s);
	return d;
}

/* ---- Go float formatting ---------------------------------------------------------- */

START_TEST(test_fmt_decimal_matches_float)
{
	char a[SIM_KL_FLOAT_LEN], b[SIM_KL_FLOAT_LEN];
	uint64_t x = 88172645463325252ull;

	ck_assert_uint_eq(sim_kl_fmt_decimal(750000000, 9, a), 4);
	ck_assert_str_eq(a, "0.75");
	sim_kl_fmt_decimal(67108864, 0, a);
	ck_assert_str_eq(a, "6.7108864e+07");
	for (int i = 0; i < 20000; i++) {
		uint64_t mant;
		int frac = i % 2 ? 9 : 0;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		mant = (x >> 12) >> (x % 40); /* < 2^52, all magnitudes */
		sim_kl_fmt_decimal(mant, frac, a);
		fmt_go_float(frac ? (double)mant / 1e9 : (double)mant, b, sizeof(b));
		ck_assert_msg(strcmp(a, b) == 0, "%llu/10^%d: %s vs %s", (unsigned long long)mant,
			      frac, a, b);
	}
}
END_TEST

/* ---- rendering (golden) -------------------------------------------------------------- */

static void golden_cluster(struct sim_kl_model *m)
{
	sim_kl_model_init(m, 1);
	add_node(m, "node-0", "127.1.0.1",
		 "\"kubesim.io/cpu\":\"const:100m\",\"kubesim.io/memory\":\"const:512Mi\"");
	add_pod(m, "default", "web-1", "node-0",
		"\"kubesim.io/cpu\":\"const:50m\",\"kubesim.io/cpu.proxy\":\"const:10m\","
		"\"kubesim.io/memory\":\"const:64Mi\"",
		"\"containers\":[{\"name\":\"app\"},{\"name\":\"proxy\"}],"
		"\"initContainers\":[{\"name\":\"init\"},{\"name\":\"sidecar\",\"restartPolicy\":\"Always\"}]",
		"Running");
	add_pod(m, "default", "api-0", "node-0",
		"\"kubesim.io/cpu\":\"step:100m@30s:400m\",\"kubesim.io/memory\":\"const:32Mi\"",
		"\"containers\":[{\"name\":\"server\"}]", "Running");
	add_pod(m, "default", "pending-0", "node-0", "\"kubesim.io/cpu\":\"const:1\"",
		"\"containers\":[{\"name\":\"x\"}]", "Pending");
	add_pod(m, "kube-system", "hidden", "node-0",
		"\"kubesim.io/no-metrics\":\"true\",\"kubesim.io/cpu\":\"const:1\","
		"\"kubesim.io/memory\":\"const:1Mi\"",
		"\"containers\":[{\"name\":\"c\"}]", "Running");
	add_pod(m, "default", "elsewhere", "node-1", "", "\"containers\":[{\"name\":\"c\"}]",
		"Running");
}

static const char golden[] =
	"# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds\n"
	"# TYPE container_cpu_usage_seconds_total counter\n"
	"container_cpu_usage_seconds_total{container=\"app\",namespace=\"default\",pod=\"web-1\"} 2.25 1700000168000\n"
	"container_cpu_usage_seconds_total{container=\"proxy\",namespace=\"default\",pod=\"web-1\"} 0.45 1700000168000\n"
	"container_cpu_usage_seconds_total{container=\"server\",namespace=\"default\",pod=\"api-0\"} 9 1700000168000\n"
	"container_cpu_usage_seconds_total{container=\"sidecar\",namespace=\"default\",pod=\"web-1\"} 2.25 1700000168000\n"
	"# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes\n"
	"# TYPE container_memory_working_set_bytes gauge\n"
	"container_memory_working_set_bytes{container=\"app\",namespace=\"default\",pod=\"web-1\"} 6.7108864e+07 1700000168000\n"
	"container_memory_working_set_bytes{container=\"proxy\",namespace=\"default\",pod=\"web-1\"} 6.7108864e+07 1700000168000\n"
	"container_memory_working_set_bytes{container=\"server\",namespace=\"default\",pod=\"api-0\"} 3.3554432e+07 1700000168000\n"
	"container_memory_working_set_bytes{container=\"sidecar\",namespace=\"default\",pod=\"web-1\"} 6.7108864e+07 1700000168000\n"
	"# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds\n"
	"# TYPE container_start_time_seconds gauge\n"
	"container_start_time_seconds{container=\"app\",namespace=\"default\",pod=\"web-1\"} 1.700000123e+09\n"
	"container_start_time_seconds{container=\"proxy\",namespace=\"default\",pod=\"web-1\"} 1.700000123e+09\n"
	"container_start_time_seconds{container=\"server\",namespace=\"default\",pod=\"api-0\"} 1.700000123e+09\n"
	"container_start_time_seconds{container=\"sidecar\",namespace=\"default\",pod=\"web-1\"} 1.700000123e+09\n"
	"# HELP container_swap_usage_bytes [ALPHA] Current amount of the container swap usage in bytes. Reported only on non-windows systems\n"
	"# TYPE container_swap_usage_bytes gauge\n"
	"container_swap_usage_bytes{container=\"app\",namespace=\"default\",pod=\"web-1\"} 0 1700000168000\n"
	"container_swap_usage_bytes{container=\"proxy\",namespace=\"default\",pod=\"web-1\"} 0 1700000168000\n"
	"container_swap_usage_bytes{container=\"server\",namespace=\"default\",pod=\"api-0\"} 0 1700000168000\n"
	"container_swap_usage_bytes{container=\"sidecar\",namespace=\"default\",pod=\"web-1\"} 0 1700000168000\n"
	"# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds\n"
	"# TYPE node_cpu_usage_seconds_total counter\n"
	"node_cpu_usage_seconds_total 63.45 1700000168000\n"
	"# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes\n"
	"# TYPE node_memory_working_set_bytes gauge\n"
	"node_memory_working_set_bytes 7.72800512e+08 1700000168000\n"
	"# HELP node_swap_usage_bytes [ALPHA] Current swap usage of the node in bytes. Reported only on non-windows systems\n"
	"# TYPE node_swap_usage_bytes gauge\n"
	"node_swap_usage_bytes 0 1700000168000\n"
	"# HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod in core-seconds\n"
	"# TYPE pod_cpu_usage_seconds_total counter\n"
	"pod_cpu_usage_seconds_total{namespace=\"default\",pod=\"api-0\"} 9 1700000168000\n"
	"pod_cpu_usage_seconds_total{namespace=\"default\",pod=\"web-1\"} 4.95 1700000168000\n"
	"# HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in bytes\n"
	"# TYPE pod_memory_working_set_bytes gauge\n"
	"pod_memory_working_set_bytes{namespace=\"default\",pod=\"api-0\"} 3.3554432e+07 1700000168000\n"
	"pod_memory_working_set_bytes{namespace=\"default\",pod=\"web-1\"} 2.01326592e+08 1700000168000\n"
	"# HELP pod_swap_usage_bytes [ALPHA] Current amount of the pod swap usage in bytes. Reported only on non-windows systems\n"
	"# TYPE pod_swap_usage_bytes gauge\n"
	"pod_swap_usage_bytes{namespace=\"default\",pod=\"api-0\"} 0 1700000168000\n"
	"pod_swap_usage_bytes{namespace=\"default\",pod=\"web-1\"} 0 1700000168000\n"
	"# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise\n"
	"# TYPE resource_scrape_error gauge\n"
	"resource_scrape_error 0\n"
	"# HELP scrape_error [ALPHA] 1 if there was an error while getting container metrics, 0 otherwise\n"
	"# TYPE scrape_error gauge\n"
	"scrape_error 0\n";

/* One exposition line: "# HELP n ...", "# TYPE n counter|gauge" or
 * name{l="v",...} value [timestamp].  Returns the metric name's length. */
static size_t check_line(const char *line, size_t len)
{
	size_t i = 0, name;
	char *end;
	double v;

	if (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0)
		return 0;
	while (i < len && (line[i] == '_' || line[i] == ':' || (line[i] >= 'a' && line[i] <= 'z') ||
			   (line[i] >= 'A' && line[i] <= 'Z') || (i && line[i] >= '0' && line[i] <= '9')))
		i++;
	name = i;
	ck_assert_msg(name > 0, "no metric name: %.*s", (int)len, line);
	if (line[i] == '{') {
		const char *close = memchr(line + i, '}', len - i);

		ck_assert_msg(close != NULL, "unclosed labels: %.*s", (int)len, line);
		i = (size_t)(close - line) + 1;
	}
	ck_assert_msg(line[i] == ' ', "no value: %.*s", (int)len, line);
	v = strtod(line + i + 1, &end);
	ck_assert_msg(end > line + i + 1 && v >= 0, "bad value: %.*s", (int)len, line);
	if (*end == ' ') {
		long long ts = strtoll(end + 1, &end, 10);

		ck_assert_msg(ts > 0, "bad timestamp: %.*s", (int)len, line);
	}
	ck_assert_msg(end == line + len, "trailing bytes: %.*s", (int)len, line);
	return name;
}

START_TEST(test_render_golden)
{
	struct sim_kl_model m;
	char *body, prev[64] = "";

	golden_cluster(&m);
	body = render(&m, "127.1.0.1", T0 + 45 * NS_PER_SEC);
	ck_assert_str_eq(body, golden);
	/* every line parses, families in alphabetical order */
	for (const char *p = body; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n;

		ck_assert_ptr_nonnull(nl);
		if (strncmp(p, "# TYPE ", 7) == 0) {
			size_t k = strcspn(p + 7, " ");
			char fam[64];

			snprintf(fam, sizeof(fam), "%.*s", (int)k, p + 7);
			ck_assert_msg(strcmp(prev, fam) < 0, "%s after %s", fam, prev);
			memcpy(prev, fam, sizeof(prev));
		}
		n = check_line(p, (size_t)(nl - p));
		if (n)
			ck_assert_int_eq(strncmp(p, prev, n), 0);
		p = nl + 1;
	}
	free(body);
	sim_kl_model_clear(&m);
}
END_TEST

START_TEST(test_render_unknown_and_empty)
{
	struct sim_kl_model m;
	struct dynbuf b;
	char *body;

	golden_cluster(&m);
	dynbuf_init(&b, DYN_SMALL);
	ck_assert_int_eq(sim_kl_model_render(&m, "127.9.9.9", T0, &b), ERR_NOTFOUND);
	dynbuf_clear(&b);
	add_node(&m, "node-9", "127.1.0.9", "");
	body = render(&m, "127.1.0.9", T0 + NS_PER_SEC);
	ck_assert_ptr_null(strstr(body, "container_"));
	ck_assert_ptr_null(strstr(body, "pod_"));
	ck_assert_ptr_nonnull(strstr(body, "\nnode_cpu_usage_seconds_total "));
	free(body);
	/* the pod scheduled to a node that arrives later shows up */
	add_node(&m, "node-1", "127.1.0.2", "");
	body = render(&m, "127.1.0.2", T0 + NS_PER_SEC);
	ck_assert_ptr_nonnull(strstr(body, "pod=\"elsewhere\""));
	free(body);
	/* deleting a node stops its kubelet */
	apply(&m, SIM_DELETED, "nodes", "{\"metadata\":{\"name\":\"node-9\"}}");
	dynbuf_init(&b, DYN_SMALL);
	ck_assert_int_eq(sim_kl_model_render(&m, "127.1.0.9", T0, &b), ERR_NOTFOUND);
	dynbuf_clear(&b);
	sim_kl_model_clear(&m);
}
END_TEST

START_TEST(test_counters_monotonic_across_changes)
{
	struct sim_kl_model m;
	char *body;
	double node1, node2, app1, app2;

	golden_cluster(&m);
	body = render(&m, "127.1.0.1", T0 + 45 * NS_PER_SEC);
	node1 = sample_num(body, "\nnode_cpu_usage_seconds_total ");
	free(body);
	/* a profile edit keeps the counter continuous, a deleted pod's CPU stays
	 * in the node counter */
	clock_set_fake_now(T0 + 45 * NS_PER_SEC);
	add_pod(&m, "default", "web-1", "node-0", "\"kubesim.io/cpu\":\"const:1\"",
		"\"containers\":[{\"name\":\"app\"}]", "Running");
	apply(&m, SIM_DELETED, "pods", "{\"metadata\":{\"namespace\":\"default\",\"name\":\"api-0\"}}");
	clock_set_fake_now(0);
	body = render(&m, "127.1.0.1", T0 + 55 * NS_PER_SEC);
	app1 = sample_num(body, "container_cpu_usage_seconds_total{container=\"app\",namespace=\"default\",pod=\"web-1\"} ");
	node2 = sample_num(body, "\nnode_cpu_usage_seconds_total ");
	ck_assert_ptr_null(strstr(body, "api-0"));
	ck_assert_ptr_null(strstr(body, "proxy"));
	free(body);
	/* 2.25 at 45 s, then 1 core for 10 s */
	ck_assert_double_eq_tol(app1, 12.25, 1e-9);
	/* +1 s base, +10 s app, +10 s hidden, the rest frozen */
	ck_assert_double_eq_tol(node2, node1 + 1 + 10 + 10, 1e-6);
	body = render(&m, "127.1.0.1", T0 + 65 * NS_PER_SEC);
	app2 = sample_num(body, "container_cpu_usage_seconds_total{container=\"app\",namespace=\"default\",pod=\"web-1\"} ");
	ck_assert_double_eq_tol(app2 - app1, 10, 1e-9);
	free(body);
	sim_kl_model_clear(&m);
}
END_TEST

START_TEST(test_restart_every)
{
	struct sim_kl_model m;
	char *body;
	double node1, node2;

	sim_kl_model_init(&m, 7);
	add_node(&m, "n", "127.1.0.5", "\"kubesim.io/cpu\":\"const:0\"");
	add_pod(&m, "ns", "crash", "n",
		"\"kubesim.io/cpu\":\"const:100m\",\"kubesim.io/restart-every\":\"60s\"",
		"\"containers\":[{\"name\":\"c\"}]", "Running");
	body = render(&m, "127.1.0.5", T0 + 50 * NS_PER_SEC);
	expect_sample(body, "container_cpu_usage_seconds_total{container=\"c\",namespace=\"ns\",pod=\"crash\"} ", "5");
	node1 = sample_num(body, "\nnode_cpu_usage_seconds_total ");
	free(body);
	body = render(&m, "127.1.0.5", T0 + 70 * NS_PER_SEC);
	/* restarted at 60 s: the counter and the start time reset */
	expect_sample(body, "container_cpu_usage_seconds_total{container=\"c\",namespace=\"ns\",pod=\"crash\"} ", "1");
	expect_sample(body, "container_start_time_seconds{container=\"c\",namespace=\"ns\",pod=\"crash\"} ", "1.700000183e+09");
	node2 = sample_num(body, "\nnode_cpu_usage_seconds_total ");
	ck_assert_double_eq_tol(node1, 5, 1e-9);
	ck_assert_double_eq_tol(node2, 7, 1e-9); /* 6 retired + 1 */
	free(body);
	sim_kl_model_clear(&m);
}
END_TEST

START_TEST(test_deployment_load)
{
	struct sim_kl_model m;
	const char *ctr = "container_cpu_usage_seconds_total{container=\"c\",namespace=\"ns\",pod=\"web-abc-1\"} ";
	const char *mem = "container_memory_working_set_bytes{container=\"c\",namespace=\"ns\",pod=\"web-abc-1\"} ";
	char *body;

	sim_kl_model_init(&m, 7);
	clock_set_fake_now(T0);
	add_node(&m, "n", "127.1.0.6", "");
	apply(&m, SIM_ADDED, "deployments",
	      "{\"metadata\":{\"namespace\":\"ns\",\"name\":\"web\",\"annotations\":{\"kubesim.io/load\":\"400\"}},"
	      "\"spec\":{\"replicas\":2},\"status\":{\"readyReplicas\":2}}");
	apply(&m, SIM_ADDED, "pods",
	      "{\"metadata\":{\"namespace\":\"ns\",\"name\":\"web-abc-1\",\"annotations\":{"
	      "\"kubesim.io/cpu\":\"load:per=1m\",\"kubesim.io/memory\":\"load:per=1Mi,base=10Mi\"},"
	      "\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"web-abc\"}]},"
	      "\"spec\":{\"nodeName\":\"n\",\"containers\":[{\"name\":\"c\"}]},"
	      "\"status\":{\"phase\":\"Running\",\"startTime\":\"" T0_TEXT "\"}}");
	body = render(&m, "127.1.0.6", T0);
	free(body);
	body = render(&m, "127.1.0.6", T0 + 10 * NS_PER_SEC);
	/* 400 / 2 replicas x 1m = 200m for 10 s; memory 10Mi + 200Mi */
	expect_sample(body, ctr, "2");
	expect_sample(body, mem, "2.2020096e+08");
	free(body);
	/* the load doubles per replica (one replica left ready) at 10 s */
	clock_set_fake_now(T0 + 10 * NS_PER_SEC);
	apply(&m, SIM_MODIFIED, "deployments",
	      "{\"metadata\":{\"namespace\":\"ns\",\"name\":\"web\",\"annotations\":{\"kubesim.io/load\":\"400\"}},"
	      "\"spec\":{\"replicas\":2},\"status\":{\"readyReplicas\":1}}");
	clock_set_fake_now(0);
	body = render(&m, "127.1.0.6", T0 + 20 * NS_PER_SEC);
	expect_sample(body, ctr, "6");
	free(body);
	sim_kl_model_clear(&m);
}
END_TEST

START_TEST(test_http_parse)
{
	struct sim_kl_request r;
	static const char ok[] = "GET /metrics/resource?x=1 HTTP/1.1\r\nHost: a\r\n"
				 "Authorization: Bearer t\r\nConnection: close\r\n\r\nGET";
	char big[SIM_KL_MAX_REQUEST + 10];

	ck_assert_int_eq(sim_kl_http_parse(ok, sizeof(ok) - 1, &r), (long)sizeof(ok) - 4);
	ck_assert_str_eq(r.method, "GET");
	ck_assert_str_eq(r.path, "/metrics/resource");
	ck_assert(!r.keep_alive);
	ck_assert(!r.has_body);
	ck_assert_int_eq(sim_kl_http_parse(ok, 30, &r), 0);
	ck_assert_int_eq(sim_kl_http_parse("GET / HTTP/1.0\r\n\r\n", 18, &r), 18);
	ck_assert(!r.keep_alive);
	ck_assert_int_eq(sim_kl_http_parse("GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", 37, &r), 37);
	ck_assert(r.has_body);
	ck_assert(r.keep_alive);
	ck_assert_int_eq(sim_kl_http_parse("GET  / HTTP/1.1\r\n\r\n", 19, &r), ERR_PARSE);
	ck_assert_int_eq(sim_kl_http_parse("GET x HTTP/1.1\r\n\r\n", 18, &r), ERR_PARSE);
	ck_assert_int_eq(sim_kl_http_parse("GET / SPDY/3\r\n\r\n", 16, &r), ERR_PARSE);
	ck_assert_int_eq(sim_kl_http_parse("VERYLONGMETHOD / HTTP/1.1\r\n\r\n", 29, &r), ERR_PARSE);
	memset(big, 'a', sizeof(big));
	ck_assert_int_eq(sim_kl_http_parse(big, sizeof(big), &r), ERR_TOOBIG);
}
END_TEST

/* ---- live: the loop over TLS --------------------------------------------------------- */

struct live {
	struct sim_kl_model m;
	struct sim_kl_tls *tls;
	struct sim_kl_loop *loop;
	struct certs_pair ca, client;
	char dir[64], ca_file[128], cert_file[128], key_file[128];
	int port;
};

static void write_pem(const char *path, const char *pem)
{
	ck_assert_int_eq(certs_write_file(path, pem, 0600), 0);
}

static void live_certs(struct live *lv)
{
	struct certs_spec ca = {.cn = "kubesim-ca", .is_ca = true};
	struct certs_spec client = {.cn = "metrics-server", .client_auth = true};
	char err[256];

	snprintf(lv->dir, sizeof(lv->dir), "/tmp/check-kubelet-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(lv->dir));
	ck_assert_int_eq(certs_create(&ca, NULL, &lv->ca, err, sizeof(err)), 0);
	ck_assert_int_eq(certs_create(&client, &lv->ca, &lv->client, err, sizeof(err)), 0);
	snprintf(lv->ca_file, sizeof(lv->ca_file), "%s/ca.crt", lv->dir);
	snprintf(lv->cert_file, sizeof(lv->cert_file), "%s/client.crt", lv->dir);
	snprintf(lv->key_file, sizeof(lv->key_file), "%s/client.key", lv->dir);
	write_pem(lv->ca_file, lv->ca.cert_pem);
	write_pem(lv->cert_file, lv->client.cert_pem);
	write_pem(lv->key_file, lv->client.key_pem);
}

static void live_start(struct live *lv, bool client_auth)
{
	static const struct {
		const char *name, *addr, *ann;
	} nodes[] = {
		{"node-a", "127.1.0.1", ""},
		{"node-b", "127.1.0.2", ""},
		{"node-noip", "127.1.0.3", "\"kubesim.io/kubelet-cert\":\"no-ip-san\""},
		{"node-self", "127.1.0.4", "\"kubesim.io/kubelet-cert\":\"self-signed\""},
		{"node-down", "127.1.0.5", "\"kubesim.io/fault\":\"down\""},
		{"node-garbage", "127.1.0.6", "\"kubesim.io/fault\":\"garbage\""},
		{"node-500", "127.1.0.7", "\"kubesim.io/fault\":\"500\""},
		{"node-slow", "127.1.0.8", "\"kubesim.io/fault\":\"slow=300ms\""},
		{"node-huge", "127.1.0.9", "\"kubesim.io/fault\":\"huge=1Mi,notready\""},
	};
	struct sim_kl_loop_cfg cfg = {.bind = "0.0.0.0", .idle_timeout_ns = 30 * NS_PER_SEC,
				      .max_conns = 100};
	char err[256];

	memset(lv, 0, sizeof(*lv));
	live_certs(lv);
	sim_kl_model_init(&lv->m, 3);
	for (size_t i = 0; i < COMMON_ARRAY_LEN(nodes); i++)
		add_node(&lv->m, nodes[i].name, nodes[i].addr, nodes[i].ann);
	add_pod(&lv->m, "default", "a-pod", "node-a", "", "\"containers\":[{\"name\":\"c\"}]",
		"Running");
	add_pod(&lv->m, "default", "b-pod", "node-b", "", "\"containers\":[{\"name\":\"c\"}]",
		"Running");
	lv->tls = sim_kl_tls_new(&lv->ca, SIM_CERT_CLUSTER_CA, client_auth, err, sizeof(err));
	ck_assert_msg(lv->tls != NULL, "%s", err);
	cfg.model = &lv->m;
	cfg.tls = lv->tls;
	lv->loop = sim_kl_loop_start(&cfg, err, sizeof(err));
	ck_assert_msg(lv->loop != NULL, "%s", err);
	lv->port = sim_kl_loop_port(lv->loop);
	ck_assert_int_gt(lv->port, 0);
}

static void live_stop(struct live *lv)
{
	sim_kl_loop_stop(lv->loop);
	sim_kl_tls_free(lv->tls);
	sim_kl_model_clear(&lv->m);
	unlink(lv->ca_file);
	unlink(lv->cert_file);
	unlink(lv->key_file);
	rmdir(lv->dir);
	certs_pair_clear(&lv->ca);
	certs_pair_clear(&lv->client);
}

struct fetch {
	CURLcode rc;
	long status;
	long connects;
	curl_off_t total_us;
	struct dynbuf body;
	char err[CURL_ERROR_SIZE];
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct dynbuf *b = ud;

	return dynbuf_add(b, p, size * n) == 0 ? size * n : 0;
}

enum { VERIFY = 1, CLIENT_CERT = 2 };

/* GET https://addr:port/path on handle h (reused for keep-alive). */
static void fetch(struct live *lv, CURL *h, const char *addr, const char *path, int flags,
		  struct fetch *f)
{
	char url[256];

	memset(f, 0, sizeof(*f));
	dynbuf_init(&f->body, DYN_KUBELET_BODY);
	snprintf(url, sizeof(url), "https://%s:%d%s", addr, lv->port, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &f->body);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, f->err);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_CAINFO, lv->ca_file);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, (flags & VERIFY) ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, (flags & VERIFY) ? 2L : 0L);
	curl_easy_setopt(h, CURLOPT_SSLCERT, (flags & CLIENT_CERT) ? lv->cert_file : NULL);
	curl_easy_setopt(h, CURLOPT_SSLKEY, (flags & CLIENT_CERT) ? lv->key_file : NULL);
	f->rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &f->status);
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &f->connects);
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &f->total_us);
}

static void fetch_once(struct live *lv, const char *addr, const char *path, int flags,
		       struct fetch *f)
{
	CURL *h = curl_easy_init();

	fetch(lv, h, addr, path, flags, f);
	curl_easy_cleanup(h);
}

START_TEST(test_live_per_node)
{
	struct live lv;
	struct fetch f;
	CURL *h = curl_easy_init();

	live_start(&lv, false);
	fetch(&lv, h, "127.1.0.1", "/metrics/resource", VERIFY, &f);
	ck_assert_msg(f.rc == CURLE_OK, "%s", f.err);
	ck_assert_int_eq(f.status, 200);
	ck_assert_int_eq(f.connects, 1);
	ck_assert_ptr_nonnull(strstr(f.body.buf, "pod=\"a-pod\""));
	ck_assert_ptr_null(strstr(f.body.buf, "b-pod"));
	ck_assert_ptr_nonnull(strstr(f.body.buf, "\nscrape_error 0\n"));
	dynbuf_clear(&f.body);
	/* keep-alive: the same connection answers again */
	fetch(&lv, h, "127.1.0.1", "/healthz", VERIFY, &f);
	ck_assert_int_eq(f.status, 200);
	ck_assert_int_eq(f.connects, 0);
	ck_assert_str_eq(f.body.buf, "ok");
	dynbuf_clear(&f.body);
	fetch(&lv, h, "127.1.0.1", "/nope", VERIFY, &f);
	ck_assert_int_eq(f.status, 404);
	dynbuf_clear(&f.body);
	/* another address, another node */
	fetch(&lv, h, "127.1.0.2", "/metrics/resource", VERIFY, &f);
	ck_assert_int_eq(f.status, 200);
	ck_assert_ptr_nonnull(strstr(f.body.buf, "pod=\"b-pod\""));
	ck_assert_ptr_null(strstr(f.body.buf, "a-pod"));
	dynbuf_clear(&f.body);
	/* no node at this address: the connection is dropped */
	fetch(&lv, h, "127.1.0.200", "/healthz", 0, &f);
	ck_assert_int_ne(f.rc, CURLE_OK);
	dynbuf_clear(&f.body);
	curl_easy_cleanup(h);
	live_stop(&lv);
}
END_TEST

START_TEST(test_live_cert_modes)
{
	struct live lv;
	struct fetch f;

	live_start(&lv, false);
	fetch_once(&lv, "127.1.0.3", "/healthz", VERIFY, &f);
	ck_assert_int_eq(f.rc, CURLE_PEER_FAILED_VERIFICATION);
	ck_assert_msg(strstr(f.err, "127.1.0.3") != NULL, "%s", f.err);
	dynbuf_clear(&f.body);
	fetch_once(&lv, "127.1.0.3", "/healthz", 0, &f);
	ck_assert_int_eq(f.status, 200);
	dynbuf_clear(&f.body);
	fetch_once(&lv, "127.1.0.4", "/healthz", VERIFY, &f);
	ck_assert_int_eq(f.rc, CURLE_PEER_FAILED_VERIFICATION);
	dynbuf_clear(&f.body);
	fetch_once(&lv, "127.1.0.4", "/healthz", 0, &f);
	ck_assert_int_eq(f.status, 200);
	dynbuf_clear(&f.body);
	live_stop(&lv);
}
END_TEST

START_TEST(test_live_faults)
{
	struct live lv;
	struct fetch f;

	live_start(&lv, false);
	fetch_once(&lv, "127.1.0.5", "/metrics/resource", 0, &f);
	ck_assert_int_ne(f.rc, CURLE_OK);
	dynbuf_clear(&f.body);
	fetch_once(&lv, "127.1.0.6", "/metrics/resource", VERIFY, &f);
	ck_assert_int_eq(f.status, 200);
	ck_assert_ptr_nonnull(strstr(f.body.buf, "-6.7953645788713455e+09 -62135596800000\n"));
	dynbuf_clear(&f.body);
	fetch_once(&lv, "127.1.0.7", "/metrics/resource", VERIFY, &f);
	ck_assert_int_eq(f.status, 500);
	dynbuf_clear(&f.body);
	fetch_once(&lv, "127.1.0.7", "/healthz", VERIFY, &f);
	ck_assert_int_eq(f.status, 200);
	dynbuf_clear(&f.body);
	fetch_once(&lv, "127.1.0.8", "/metrics/resource", VERIFY, &f);
	ck_assert_int_eq(f.status, 200);
	ck_assert_int_ge(f.total_us, 300000);
	dynbuf_clear(&f.body);
	fetch_once(&lv, "127.1.0.9", "/metrics/resource", VERIFY, &f);
	ck_assert_int_eq(f.status, 200);
	ck_assert_uint_eq(f.body.len, 1048576);
	ck_assert_int_eq(strncmp(f.body.buf, "# HELP node_cpu_usage_seconds_total ", 36), 0);
	dynbuf_clear(&f.body);
	live_stop(&lv);
}
END_TEST

START_TEST(test_live_client_auth)
{
	struct live lv;
	struct fetch f;

	live_start(&lv, true);
	fetch_once(&lv, "127.1.0.1", "/metrics/resource", VERIFY, &f);
	ck_assert_int_eq(f.status, 401);
	dynbuf_clear(&f.body);
	fetch_once(&lv, "127.1.0.1", "/metrics/resource", VERIFY | CLIENT_CERT, &f);
	ck_assert_msg(f.rc == CURLE_OK, "%s", f.err);
	ck_assert_int_eq(f.status, 200);
	ck_assert_ptr_nonnull(strstr(f.body.buf, "pod=\"a-pod\""));
	dynbuf_clear(&f.body);
	live_stop(&lv);
}
END_TEST

START_TEST(test_node_address)
{
	char buf[32];

	sim_node_address(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "127.1.0.1");
	sim_node_address(254, buf, sizeof(buf));
	ck_assert_str_eq(buf, "127.1.0.255");
	sim_node_address(255, buf, sizeof(buf));
	ck_assert_str_eq(buf, "127.1.1.0");
	sim_node_address(64999, buf, sizeof(buf));
	ck_assert_str_eq(buf, "127.1.253.232");
	sim_node_address(-1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
}
END_TEST

static Suite *kubelet_suite(void)
{
	Suite *s = suite_create("kubesim_kubelet");
	TCase *tc = tcase_create("model");
	TCase *live = tcase_create("live");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_fmt_decimal_matches_float);
	tcase_add_test(tc, test_render_golden);
	tcase_add_test(tc, test_render_unknown_and_empty);
	tcase_add_test(tc, test_counters_monotonic_across_changes);
	tcase_add_test(tc, test_restart_every);
	tcase_add_test(tc, test_deployment_load);
	tcase_add_test(tc, test_http_parse);
	tcase_add_test(tc, test_node_address);
	suite_add_tcase(s, tc);
	tcase_set_timeout(live, 60);
	tcase_add_test(live, test_live_per_node);
	tcase_add_test(live, test_live_cert_modes);
	tcase_add_test(live, test_live_faults);
	tcase_add_test(live, test_live_client_auth);
	suite_add_tcase(s, live);
	return s;
}

int main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = unit_run(kubelet_suite());
	curl_global_cleanup();
	return rc;
}
