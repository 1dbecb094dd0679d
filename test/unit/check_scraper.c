/*
 * check_scraper.c - targets, transfer, round and self-metrics of
 * scraper/ against a real HTTPS server (libmicrohttpd + GnuTLS) on
 * 127.0.0.1 with certificates made by certs_create().
 *
 * The server picks its behaviour from the path the node's
 * metrics.k8s.io/resource-metrics-path annotation asks for.
 */
#include <check.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certs/certs.h"
#include "scraper/scraper.h"
#include "test/unit/testlib.h"
#include "test/unit/unit.h"

#define FAKE_NOW (INT64_C(1700000000) * NS_PER_SEC)
#define DYN_BASE_MS INT64_C(1699999000000)

/* ---- the fake kubelet ------------------------------------------------------- */

struct kubelet {
	struct MHD_Daemon *d;
	uint16_t port;
	atomic_int dyn_round;     /* /dyn: advances per request */
	atomic_int connections;   /* TCP connections accepted */
	atomic_int requests;
	atomic_bool block_dyn;    /* /dyn hangs like /slow */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool release;             /* lets /slow answer */
	char auth[128];           /* last Authorization header */
};

static struct certs_pair ca, other_ca, server, server_dns_only;
static char dir[] = "/tmp/check-scraper-XXXXXX";
static char ca_path[256], other_ca_path[256], token_path[256];

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *body,
			     size_t len)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret = MHD_queue_response(c, code, r);

	MHD_destroy_response(r);
	return ret;
}

/* Node cpu 100 s + 10 s per round, container 1 s + 0.5 s, 10 s apart. */
static enum MHD_Result reply_dyn(struct kubelet *k, struct MHD_Connection *c)
{
	int r = atomic_fetch_add(&k->dyn_round, 1);
	long long ts = (long long)(DYN_BASE_MS + 10000 * r);
	char body[1024];
	int n = snprintf(body, sizeof(body),
			 "container_cpu_usage_seconds_total{container=\"app\",namespace=\"ns\","
			 "pod=\"web\"} %g %lld\n"
			 "container_memory_working_set_bytes{container=\"app\",namespace=\"ns\","
			 "pod=\"web\"} 5e6 %lld\n"
			 "node_cpu_usage_seconds_total %d %lld\n"
			 "node_memory_working_set_bytes 2e9 %lld\n",
			 1 + 0.5 * r, ts, ts, 100 + 10 * r, ts, ts);

	return reply(c, 200, body, (size_t)n);
}

static enum MHD_Result reply_file(struct MHD_Connection *c, const char *name)
{
	char path[256];
	struct dynbuf b;
	enum MHD_Result ret;

	snprintf(path, sizeof(path), "test/data/kubelet/%s", name);
	dynbuf_init(&b, DYN_KUBELET_BODY);
	if (dynbuf_read_file(&b, path))
		return reply(c, 404, "no such fixture", 15);
	ret = reply(c, 200, b.buf, b.len);
	dynbuf_release(&b);
	return ret;
}

static enum MHD_Result reply_slow(struct kubelet *k, struct MHD_Connection *c)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	pthread_mutex_lock(&k->mu);
	while (!k->release)
		if (pthread_cond_timedwait(&k->cv, &k->mu, &until))
			break;
	pthread_mutex_unlock(&k->mu);
	return reply(c, 200, "node_cpu_usage_seconds_total 1\n", 31);
}

/* A minimal kube-apiserver for the informer: one node whose kubelet is
 * this same server (status port, /dyn path), no pods; watches hang. */
static enum MHD_Result reply_api(struct kubelet *k, struct MHD_Connection *c, const char *what)
{
	char body[1024];
	int n;

	if (MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "watch"))
		return reply_slow(k, c);
	if (strcmp(what, "pods") == 0)
		n = snprintf(body, sizeof(body), "{\"kind\":\"PodList\",\"apiVersion\":\"v1\","
			     "\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[]}");
	else
		n = snprintf(body, sizeof(body),
			     "{\"kind\":\"NodeList\",\"apiVersion\":\"v1\",\"metadata\":"
			     "{\"resourceVersion\":\"1\"},\"items\":[{\"metadata\":{\"name\":\"sim-1\","
			     "\"resourceVersion\":\"1\",\"creationTimestamp\":\"2023-11-14T22:13:20Z\","
			     "\"annotations\":{\"metrics.k8s.io/resource-metrics-path\":\"/dyn\"}},"
			     "\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":"
			     "\"127.0.0.1\"}],\"daemonEndpoints\":{\"kubeletEndpoint\":{\"Port\":%d}},"
			     "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}]}",
			     k->port);
	return reply(c, 200, body, (size_t)n);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct kubelet *k = cls;
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");

	(void)method, (void)version, (void)upload, (void)upload_size;
	if (*state == NULL) { /* headers only: answer on the next call */
		*state = k;
		return MHD_YES;
	}
	pthread_mutex_lock(&k->mu);
	atomic_fetch_add(&k->requests, 1);
	snprintf(k->auth, sizeof(k->auth), "%s", auth ? auth : "");
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
	if (strcmp(url, "/dyn") == 0 && atomic_load(&k->block_dyn))
		return reply_slow(k, c);
	if (strcmp(url, "/dyn") == 0)
		return reply_dyn(k, c);
	if (strncmp(url, "/fixture/", 9) == 0)
		return reply_file(c, url + 9);
	if (strcmp(url, "/garbage") == 0)
		return reply(c, 200, "this is not prometheus\n{{{\n", 27);
	if (strcmp(url, "/500") == 0)
		return reply(c, 500, "oops", 4);
	if (strcmp(url, "/slow") == 0)
		return reply_slow(k, c);
	if (strcmp(url, "/auth") == 0 && (!auth || strcmp(auth, "Bearer second") != 0))
		return reply(c, 401, "Unauthorized", 12);
	if (strcmp(url, "/auth") == 0)
		return reply_dyn(k, c);
	if (strncmp(url, "/api/v1/", 8) == 0)
		return reply_api(k, c, url + 8);
	return reply(c, 404, "not found", 9);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct kubelet *k = cls;

	(void)c, (void)socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&k->connections, 1);
}

static struct kubelet *kubelet_start(const struct certs_pair *cert)
{
	struct kubelet *k = xcalloc(1, sizeof(*k));
	const struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, k },
		{ MHD_OPTION_END, 0, NULL },
	};

	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->cv, NULL);
	k->d = testlib_https_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
				    on_request, k, cert, NULL, opts, &k->port);
	return k;
}

/* Blocks until the server saw `n` requests (the test timeout bounds it). */
static void wait_requests(struct kubelet *k, int n)
{
	pthread_mutex_lock(&k->mu);
	while (atomic_load(&k->requests) < n)
		pthread_cond_wait(&k->cv, &k->mu);
	pthread_mutex_unlock(&k->mu);
}

static void kubelet_stop(struct kubelet *k)
{
	pthread_mutex_lock(&k->mu);
	k->release = true;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
	MHD_stop_daemon(k->d);
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	free(k);
}

/* ---- certificates, made once ------------------------------------------------ */

static void make_pair(const char *cn, bool is_ca, const char *ip, const char *dns,
		      const struct certs_pair *issuer, struct certs_pair *out)
{
	const char *ips[] = {ip};
	const char *dnss[] = {dns};
	struct certs_spec spec = {
		.cn = cn, .ips = ips, .nips = ip ? 1 : 0, .dns = dnss, .ndns = dns ? 1 : 0,
		.is_ca = is_ca, .server_auth = !is_ca, .days = 2,
	};

	testlib_cert(&spec, issuer, out);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	fclose(f);
}

static void setup_certs(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check-scraper-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	make_pair("test-ca", true, NULL, NULL, NULL, &ca);
	make_pair("other-ca", true, NULL, NULL, NULL, &other_ca);
	make_pair("127.0.0.1", false, "127.0.0.1", "localhost", &ca, &server);
	make_pair("kubelet", false, NULL, "kubelet.invalid", &ca, &server_dns_only);
	snprintf(ca_path, sizeof(ca_path), "%s/ca.crt", dir);
	snprintf(other_ca_path, sizeof(other_ca_path), "%s/other.crt", dir);
	snprintf(token_path, sizeof(token_path), "%s/token", dir);
	write_file(ca_path, ca.cert_pem);
	write_file(other_ca_path, other_ca.cert_pem);
	clock_set_fake_now(FAKE_NOW);
}

static void teardown_certs(void)
{
	unlink(ca_path);
	unlink(other_ca_path);
	unlink(token_path);
	rmdir(dir);
	certs_pair_release(&ca);
	certs_pair_release(&other_ca);
	certs_pair_release(&server);
	certs_pair_release(&server_dns_only);
	clock_set_fake_now(0);
}

/* ---- nodes, snapshots, options ----------------------------------------------- */

#define MAX_NODES 100

struct cluster {
	struct kube_node nodes[MAX_NODES];
	struct kube_address addrs[MAX_NODES][2];
	const struct kube_node *ptrs[MAX_NODES];
	struct kube_snapshot snap;
};

/* Adds a Ready node at 127.0.0.1 (InternalIP) serving `path` (sorted
 * insertion is the caller's job: add names in order). */
static struct kube_node *add_node(struct cluster *c, const char *name, const char *path)
{
	size_t i = c->snap.nnodes++;
	struct kube_node *n = &c->nodes[i];

	ck_assert_uint_lt(i, MAX_NODES);
	n->name = (char *)name;
	labels_init(&n->labels);
	c->addrs[i][0] = (struct kube_address){(char *)"Hostname", (char *)name};
	c->addrs[i][1] = (struct kube_address){(char *)"InternalIP", (char *)"127.0.0.1"};
	n->addresses = c->addrs[i];
	n->naddresses = 2;
	n->ready = true;
	n->metrics_path = (char *)path;
	c->ptrs[i] = n;
	c->snap.nodes = c->ptrs;
	return n;
}

static void cluster_release(struct cluster *c)
{
	for (size_t i = 0; i < c->snap.nnodes; i++)
		labels_release(&c->nodes[i].labels);
}

static char *internal_ip[] = {(char *)"InternalIP"};

static struct scraper_options options(const struct kubelet *k)
{
	struct scraper_options o = {
		.resolution_ns = 15 * NS_PER_SEC,
		.request_timeout_ns = 5 * NS_PER_SEC,
		.preferred_address_types = internal_ip,
		.npreferred = 1,
		.kubelet_port = k ? k->port : 10250,
		.ca_file = ca_path,
	};
	return o;
}

/* ---- stderr capture (the klog lines) ----------------------------------------- */

static int saved_stderr = -1;
static char log_path[300];

static void capture_begin(void)
{
	snprintf(log_path, sizeof(log_path), "%s/stderr.log", dir);
	FILE *f = fopen(log_path, "w");
	ck_assert_ptr_nonnull(f);
	fflush(stderr);
	saved_stderr = dup(2);
	ck_assert_int_eq(dup2(fileno(f), 2), 2);
	fclose(f);
}

/* The captured text (caller frees); stderr is restored. */
static char *capture_end(void)
{
	struct dynbuf b;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	dynbuf_init(&b, DYN_SMALL * 16);
	ck_assert_int_eq(dynbuf_read_file(&b, log_path), 0);
	unlink(log_path);
	return dynbuf_take(&b, NULL);
}

#define ck_assert_log(log, needle) \
	ck_assert_msg(strstr((log), (needle)) != NULL, "log lacks <%s>:\n%s", (needle), (log))

/* ---- one scraper against one fake kubelet ---------------------------------------- */

/* What a round test needs: the kubelet, a 15s store, the options (a test
 * changes them, then calls rig_scraper()), the scraper, the nodes and the
 * stats of the last round. */
struct rig {
	struct kubelet *k;
	struct store *st;
	struct scraper_options o;
	struct scraper *s;
	struct cluster c;
	struct scraper_round_stats rs;
};

static void rig_start(struct rig *r, const struct certs_pair *cert)
{
	memset(r, 0, sizeof(*r));
	r->k = kubelet_start(cert);
	r->st = store_new(15 * NS_PER_SEC);
	r->o = options(r->k);
}

/* A scraper made from r->o, replacing (freeing) the previous one. */
static void rig_scraper(struct rig *r)
{
	if (r->s)
		scraper_free(r->s);
	r->s = scraper_new(&r->o, r->st);
}

static void rig_round(struct rig *r)
{
	scraper_round(r->s, &r->c.snap, &r->rs);
}

/* rig_round(); returns the captured log (caller frees). */
static char *rig_round_logged(struct rig *r)
{
	capture_begin();
	rig_round(r);
	return capture_end();
}

static void rig_stop(struct rig *r)
{
	if (r->s)
		scraper_free(r->s);
	store_free(r->st);
	cluster_release(&r->c);
	kubelet_stop(r->k);
}

/* ---- rounds -------------------------------------------------------------------- */

START_TEST(round_stores_node_and_reuses_connection)
{
	struct rig r;
	struct store_usage u;
	const struct store_container_usage *cu;
	size_t ncu;

	rig_start(&r, &server);
	rig_scraper(&r);
	add_node(&r.c, "node-a", "/dyn");
	for (int i = 0; i < 3; i++) {
		rig_round(&r);
		ck_assert_uint_eq(r.rs.nodes, 1);
		ck_assert_uint_eq(r.rs.failed, 0);
		ck_assert_uint_eq(r.rs.pods, 1);
		ck_assert_int_eq(r.rs.started_ns, FAKE_NOW);
		ck_assert_int_eq(scraper_last_round_start_ns(r.s), FAKE_NOW);
	}
	struct store_snapshot *snap = store_acquire(r.st);
	ck_assert_int_eq(store_node_usage(snap, "node-a", &u), 0);
	ck_assert_int_eq(u.ts_ns, (DYN_BASE_MS + 20000) * NS_PER_MS);
	ck_assert_int_eq(u.window_ns, 10 * NS_PER_SEC);
	ck_assert_uint_eq(u.cpu_nanocores, 1000000000u);
	ck_assert_uint_eq(u.mem_bytes, 2000000000u);
	ck_assert_int_eq(store_pod_usage(snap, "ns", "web", &cu, &ncu, &u), 0);
	ck_assert_uint_eq(ncu, 1);
	ck_assert_str_eq(cu[0].name, "app");
	ck_assert_uint_eq(cu[0].cpu_nanocores, 50000000u);
	ck_assert_uint_eq(cu[0].mem_bytes, 5000000u);
	store_release(snap);
	ck_assert_int_eq(atomic_load(&r.k->requests), 3);
	ck_assert_int_eq(atomic_load(&r.k->connections), 1); /* keep-alive */
	rig_stop(&r);
}
END_TEST

START_TEST(round_kind_fixture_70_pods)
{
	struct rig r;

	rig_start(&r, &server);
	rig_scraper(&r);
	add_node(&r.c, "node1", "/fixture/kind-e2e-70pods.txt");
	rig_round(&r);
	ck_assert_uint_eq(r.rs.failed, 0);
	ck_assert_uint_eq(r.rs.pods, 70);
	rig_stop(&r);
}
END_TEST

/* More nodes than one driver shard holds (64): every node answers in every
 * round and connections are reused (all nodes share one address here, so
 * idle connections are shared within a shard too: fewer than nodes). */
START_TEST(round_many_nodes_across_shards)
{
	enum { NODES = 100 };
	static char names[NODES][24]; /* borrowed by the cluster */
	struct rig r;
	int after_first;

	rig_start(&r, &server);
	/* valgrind makes the first round's handshakes slow */
	r.o.resolution_ns = 60 * NS_PER_SEC;
	r.o.request_timeout_ns = 50 * NS_PER_SEC;
	rig_scraper(&r);
	for (int i = 0; i < NODES; i++) {
		snprintf(names[i], sizeof(names[i]), "node-%03d", i);
		add_node(&r.c, names[i], "/fixture/decode-node-only.txt");
	}
	rig_round(&r);
	ck_assert_uint_eq(r.rs.nodes, NODES);
	ck_assert_uint_eq(r.rs.failed, 0);
	after_first = atomic_load(&r.k->connections);
	ck_assert_int_le(after_first, NODES);
	rig_round(&r);
	ck_assert_uint_eq(r.rs.nodes, NODES);
	ck_assert_uint_eq(r.rs.failed, 0);
	ck_assert_int_eq(atomic_load(&r.k->requests), 2 * NODES);
	ck_assert_int_lt(atomic_load(&r.k->connections), after_first + NODES);
	rig_stop(&r);
}
END_TEST

/* Garbage, 500, a slow kubelet, no address: only those nodes are lost. */
START_TEST(round_failures_are_per_node)
{
	static const char *const want_log[] = {
		"\"Failed to scrape node\" err=\"failed parsing metrics: line 1: expected float as "
		"value, got \\\"is\\\"\" node=\"b-garbage\"",
		"\"Failed to scrape node\" err=\"request failed, status: \\\"500 Internal Server "
		"Error\\\"\" node=\"c-500\"",
		"\"Failed to scrape node, timeout to access kubelet\" err=\"Get \\\"https://127.0.0.1:",
		"node=\"d-slow\" timeout=\"3s\"",
		"\"Failed to scrape node\" err=\"no address matched types [InternalIP]\" "
		"node=\"e-noaddr\"",
		"err=\"request failed, status: \\\"404 Not Found\\\"\" node=\"f-missing\"",
	};
	struct rig r;
	struct dynbuf m;
	char *log;

	rig_start(&r, &server);
	r.o.request_timeout_ns = 3 * NS_PER_SEC; /* ample even under valgrind */
	rig_scraper(&r);
	add_node(&r.c, "a-ok", "/dyn");
	add_node(&r.c, "b-garbage", "/garbage");
	add_node(&r.c, "c-500", "/500");
	add_node(&r.c, "d-slow", "/slow");
	add_node(&r.c, "e-noaddr", "/dyn")->naddresses = 1; /* Hostname only */
	add_node(&r.c, "f-missing", "/fixture/none.txt");
	log = rig_round_logged(&r);
	ck_assert_uint_eq(r.rs.nodes, 6);
	ck_assert_uint_eq(r.rs.failed, 5);
	ck_assert_uint_eq(r.rs.pods, 1);
	for (size_t i = 0; i < COMMON_ARRAY_LEN(want_log); i++)
		ck_assert_log(log, want_log[i]);
	free(log);
	dynbuf_init(&m, DYN_SMALL);
	ck_assert_int_eq(scraper_write_metrics(r.s, &m), 0);
	ck_assert_ptr_nonnull(strstr(m.buf, "metrics_server_kubelet_request_total{success=\"false\"} 5\n"
					    "metrics_server_kubelet_request_total{success=\"true\"} 1\n"));
	dynbuf_release(&m);
	rig_stop(&r);
}
END_TEST

/* A new scraper from r->o loses its one node on the certificate check:
 * the log says why, and no request reached the kubelet. */
static void assert_tls_refused(struct rig *r, const char *why)
{
	char *log;

	rig_scraper(r);
	log = rig_round_logged(r);
	ck_assert_uint_eq(r->rs.failed, 1);
	ck_assert_log(log, why);
	ck_assert_int_eq(atomic_load(&r->k->requests), 0);
	free(log);
}

/* Verification on with a CA that did not sign the kubelet: the node is
 * lost, the log says why in Go's words, and no request (with its bearer
 * token) reached the kubelet; --kubelet-insecure-tls or the right CA work,
 * also for a second round on the kept-alive connection. */
START_TEST(tls_verification)
{
	struct rig r;

	rig_start(&r, &server);
	add_node(&r.c, "node-a", "/dyn");
	r.o.ca_file = other_ca_path;
	assert_tls_refused(&r, "tls: failed to verify certificate: x509: certificate signed by "
			       "unknown authority\" node=\"node-a\"");
	r.o.ca_file = "/nonexistent/ca.crt";
	assert_tls_refused(&r, "tls: failed to verify certificate: no CA certificate could be read "
			       "from \\\"/nonexistent/ca.crt\\\"");

	r.o.ca_file = NULL;
	r.o.insecure_tls = true;
	rig_scraper(&r);
	rig_round(&r);
	ck_assert_uint_eq(r.rs.failed, 0);

	r.o.insecure_tls = false;
	r.o.ca_data = ca.cert_pem;
	rig_scraper(&r);
	rig_round(&r);
	ck_assert_uint_eq(r.rs.failed, 0);
	rig_round(&r);
	ck_assert_uint_eq(r.rs.failed, 0);
	rig_stop(&r);
}
END_TEST

/* The right CA but a certificate without the IP: the host check fails. */
START_TEST(tls_ip_not_in_certificate)
{
	struct rig r;

	rig_start(&r, &server_dns_only);
	add_node(&r.c, "node-a", "/dyn");
	assert_tls_refused(&r, "tls: failed to verify certificate: x509: cannot validate certificate "
			       "for 127.0.0.1 because it doesn't contain any IP SANs\" node=\"node-a\"");
	rig_stop(&r);
}
END_TEST

START_TEST(bearer_token_file_is_reread)
{
	struct rig r;
	char *log;

	rig_start(&r, &server);
	write_file(token_path, "first\n");
	r.o.bearer_token = "static-ignored";
	r.o.bearer_token_file = token_path;
	rig_scraper(&r);
	add_node(&r.c, "node-a", "/auth");
	log = rig_round_logged(&r);
	ck_assert_uint_eq(r.rs.failed, 1);
	ck_assert_str_eq(r.k->auth, "Bearer first");
	ck_assert_log(log, "err=\"request failed, status: \\\"401 Unauthorized\\\"\"");
	ck_assert_msg(strstr(log, "first") == NULL, "token leaked into the log: %s", log);
	free(log);
	write_file(token_path, "second\n");
	rig_round(&r);
	ck_assert_uint_eq(r.rs.failed, 0);
	ck_assert_str_eq(r.k->auth, "Bearer second");
	rig_stop(&r);
}
END_TEST

START_TEST(node_selector_and_concurrency_bound)
{
	struct rig r;
	char err[128];
	struct selector *sel = selector_parse("role=worker", err, sizeof(err));

	ck_assert_ptr_nonnull(sel);
	rig_start(&r, &server);
	r.o.node_selector = sel;
	r.o.max_concurrency = 1;
	rig_scraper(&r);
	labels_set(&add_node(&r.c, "m1", "/dyn")->labels, "role", "master");
	labels_set(&add_node(&r.c, "w1", "/fixture/decode-normal.txt")->labels, "role", "worker");
	labels_set(&add_node(&r.c, "w2", "/fixture/decode-node-only.txt")->labels, "role", "worker");
	rig_round(&r);
	ck_assert_uint_eq(r.rs.nodes, 2);
	ck_assert_uint_eq(r.rs.failed, 0);
	ck_assert_uint_eq(r.rs.pods, 1);
	ck_assert_int_eq(atomic_load(&r.k->requests), 2);
	rig_stop(&r);
	selector_free(sel);
}
END_TEST

/* Families as metrics-server's registry prints them; a vanished node's
 * series go away. */
START_TEST(self_metrics_text)
{
	struct rig r;
	struct dynbuf m;

	rig_start(&r, &server);
	rig_scraper(&r);
	dynbuf_init(&m, DYN_SMALL);
	ck_assert_int_eq(scraper_write_metrics(r.s, &m), 0);
	ck_assert_str_eq(m.buf,
		"# HELP metrics_server_manager_tick_duration_seconds [ALPHA] The total time spent "
		"collecting and storing metrics in seconds.\n"
		"# TYPE metrics_server_manager_tick_duration_seconds histogram\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"0.005\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"0.01\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"0.025\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"0.05\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"0.1\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"0.25\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"0.5\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"1\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"2.5\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"5\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"10\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"12.5\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"15\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"22.5\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"30\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"+Inf\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_sum 0\n"
		"metrics_server_manager_tick_duration_seconds_count 0\n");
	add_node(&r.c, "a", "/dyn");
	add_node(&r.c, "b", "/500");
	free(rig_round_logged(&r));
	dynbuf_reset(&m);
	ck_assert_int_eq(scraper_write_metrics(r.s, &m), 0);
	const char *want_head =
		"# HELP metrics_server_kubelet_last_request_time_seconds [ALPHA] Time of last request "
		"performed to Kubelet API since unix epoch in seconds\n"
		"# TYPE metrics_server_kubelet_last_request_time_seconds gauge\n"
		"metrics_server_kubelet_last_request_time_seconds{node=\"a\"} 1.7e+09\n"
		"metrics_server_kubelet_last_request_time_seconds{node=\"b\"} 1.7e+09\n"
		"# HELP metrics_server_kubelet_request_duration_seconds [ALPHA] Duration of requests to "
		"Kubelet API in seconds\n"
		"# TYPE metrics_server_kubelet_request_duration_seconds histogram\n"
		"metrics_server_kubelet_request_duration_seconds_bucket{node=\"a\",le=\"0.005\"} ";
	ck_assert_msg(strncmp(m.buf, want_head, strlen(want_head)) == 0, "%s", m.buf);
	ck_assert_log(m.buf, "metrics_server_kubelet_request_duration_seconds_bucket{node=\"a\",le=\"+Inf\"} 1\n"
			     "metrics_server_kubelet_request_duration_seconds_sum{node=\"a\"} ");
	ck_assert_log(m.buf, "metrics_server_kubelet_request_duration_seconds_count{node=\"b\"} 1\n"
			     "# HELP metrics_server_kubelet_request_total [ALPHA] Number of requests sent "
			     "to Kubelet API\n# TYPE metrics_server_kubelet_request_total counter\n"
			     "metrics_server_kubelet_request_total{success=\"false\"} 1\n"
			     "metrics_server_kubelet_request_total{success=\"true\"} 1\n"
			     "# HELP metrics_server_manager_tick_duration_seconds");
	ck_assert_log(m.buf, "metrics_server_manager_tick_duration_seconds_bucket{le=\"+Inf\"} 1\n");
	ck_assert_log(m.buf, "metrics_server_manager_tick_duration_seconds_count 1\n");
	r.c.snap.nnodes = 1; /* b is gone */
	rig_round(&r);
	dynbuf_reset(&m);
	ck_assert_int_eq(scraper_write_metrics(r.s, &m), 0);
	ck_assert_ptr_null(strstr(m.buf, "node=\"b\""));
	ck_assert_log(m.buf, "metrics_server_kubelet_request_duration_seconds_count{node=\"a\"} 2\n");
	r.c.snap.nnodes = 2;
	dynbuf_release(&m);
	rig_stop(&r);
}
END_TEST

/* ---- the loop ------------------------------------------------------------------ */

struct rounds {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int n;
	size_t pods;
};

static void on_round(void *ud, const struct scraper_round_stats *st)
{
	struct rounds *r = ud;

	pthread_mutex_lock(&r->mu);
	r->n++;
	r->pods = st->pods;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* Blocks until `want` rounds ran (the test's timeout bounds the wait). */
static void wait_rounds(struct rounds *r, int want)
{
	pthread_mutex_lock(&r->mu);
	while (r->n < want)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
}

/* Rounds run on their own thread from the informer's snapshot, one per
 * resolution, and scraper_free() stops the loop even mid-request. */
START_TEST(loop_runs_rounds_until_freed)
{
	struct kubelet *k = kubelet_start(&server);
	char server_url[64];
	struct kube_config cfg = {.server = server_url, .ca_file = ca_path};
	struct kube_client *kc;
	struct kube_informer *inf;
	struct store *st = store_new(NS_PER_SEC);
	struct scraper_options o = options(k);
	struct rounds r = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	struct scraper *s;
	struct store_usage u;

	snprintf(server_url, sizeof(server_url), "https://127.0.0.1:%d", k->port);
	kc = kube_client_new(&cfg);
	inf = kube_informer_start(kc, NULL, NULL);
	ck_assert(kube_informer_wait_synced(inf, 10 * NS_PER_SEC));
	o.resolution_ns = NS_PER_SEC;
	o.use_node_status_port = true;
	o.kubelet_port = 1; /* must not be used */
	s = scraper_new(&o, st);
	ck_assert_int_eq(scraper_last_round_start_ns(s), 0);
	ck_assert_int_eq(scraper_start(s, inf, on_round, &r), 0);
	ck_assert_int_eq(scraper_start(s, inf, on_round, &r), ERR_INVAL);
	wait_rounds(&r, 3);
	ck_assert_int_eq(scraper_last_round_start_ns(s), FAKE_NOW);
	ck_assert_uint_eq(r.pods, 1);
	struct store_snapshot *snap = store_acquire(st);
	ck_assert_int_eq(store_node_usage(snap, "sim-1", &u), 0);
	ck_assert_uint_eq(u.cpu_nanocores, 1000000000u);
	store_release(snap);
	scraper_free(s);
	ck_assert_int_ge(atomic_load(&k->requests), 3);

	/* a kubelet that never answers: free() must not wait for the timeout */
	int seen = atomic_load(&k->requests);
	atomic_store(&k->block_dyn, true);
	o.request_timeout_ns = 60 * NS_PER_SEC;
	o.resolution_ns = 120 * NS_PER_SEC;
	s = scraper_new(&o, st);
	ck_assert_int_eq(scraper_start(s, inf, NULL, NULL), 0);
	wait_requests(k, seen + 1);
	scraper_free(s);

	kube_informer_stop(inf);
	kube_client_free(kc);
	store_free(st);
	kubelet_stop(k);
}
END_TEST

/* ---- kubelet URLs ------------------------------------------------------------- */

static int url_of(const struct scraper_options *o, const struct kube_node *n, char *url,
		  char *err)
{
	return scraper_node_url(o, n, url, 256, err, 256);
}

START_TEST(url_address_priority)
{
	char *types[] = {(char *)"Hostname", (char *)"InternalDNS", (char *)"InternalIP"};
	struct kube_address addrs[] = {
		{(char *)"InternalIP", (char *)"10.0.0.1"}, {(char *)"InternalIP", (char *)"10.0.0.2"},
		{(char *)"ExternalIP", (char *)"1.2.3.4"}, {(char *)"Hostname", (char *)"node-1"},
	};
	struct kube_node n = {.name = (char *)"node-1", .addresses = addrs, .naddresses = 4,
			      .kubelet_port = 10255};
	struct scraper_options o = options(NULL);
	char url[256], err[256];

	o.preferred_address_types = types;
	o.npreferred = 3;
	ck_assert_int_eq(url_of(&o, &n, url, err), 0);
	ck_assert_str_eq(url, "https://node-1:10250/metrics/resource");
	o.preferred_address_types = types + 1; /* InternalDNS, InternalIP */
	o.npreferred = 2;
	ck_assert_int_eq(url_of(&o, &n, url, err), 0);
	ck_assert_str_eq(url, "https://10.0.0.1:10250/metrics/resource");
	o.use_node_status_port = true;
	ck_assert_int_eq(url_of(&o, &n, url, err), 0);
	ck_assert_str_eq(url, "https://10.0.0.1:10255/metrics/resource");
	n.kubelet_port = 0; /* unset: --kubelet-port */
	ck_assert_int_eq(url_of(&o, &n, url, err), 0);
	ck_assert_str_eq(url, "https://10.0.0.1:10250/metrics/resource");
	n.metrics_path = (char *)"/metrics/kwok/node-1";
	ck_assert_int_eq(url_of(&o, &n, url, err), 0);
	ck_assert_str_eq(url, "https://10.0.0.1:10250/metrics/kwok/node-1");
}
END_TEST

START_TEST(url_ipv6_and_errors)
{
	char *types[] = {(char *)"Hostname", (char *)"InternalIP"};
	struct kube_address v6[] = {{(char *)"InternalIP", (char *)"fd00::1"}};
	struct kube_address ext[] = {{(char *)"ExternalIP", (char *)"1.2.3.4"}};
	struct kube_address bad[] = {{(char *)"InternalIP", (char *)"1.2.3.4/x?"}};
	struct kube_node n = {.name = (char *)"n", .addresses = v6, .naddresses = 1};
	struct scraper_options o = options(NULL);
	char url[256], err[256];

	o.preferred_address_types = types;
	o.npreferred = 2;
	ck_assert_int_eq(url_of(&o, &n, url, err), 0);
	ck_assert_str_eq(url, "https://[fd00::1]:10250/metrics/resource");
	n.addresses = ext;
	ck_assert_int_eq(url_of(&o, &n, url, err), ERR_NOTFOUND);
	ck_assert_str_eq(err, "no address matched types [Hostname InternalIP]");
	o.npreferred = 0;
	ck_assert_int_eq(url_of(&o, &n, url, err), ERR_NOTFOUND);
	ck_assert_str_eq(err, "no address matched types []");
	o.npreferred = 2;
	n.addresses = bad;
	ck_assert_int_eq(url_of(&o, &n, url, err), ERR_INVAL);
	n.addresses = v6;
	n.metrics_path = (char *)"metrics";
	ck_assert_int_eq(url_of(&o, &n, url, err), ERR_INVAL);
	n.metrics_path = (char *)"/a b";
	ck_assert_int_eq(url_of(&o, &n, url, err), ERR_INVAL);
	n.metrics_path = NULL;
	o.kubelet_port = 70000;
	ck_assert_int_eq(url_of(&o, &n, url, err), ERR_INVAL);
	ck_assert_str_eq(err, "invalid kubelet port 70000");
	o.kubelet_port = 10250;
	ck_assert_int_eq(scraper_node_url(&o, &n, url, 20, err, sizeof(err)), ERR_TOOBIG);
}
END_TEST

static Suite *scraper_suite(void)
{
	Suite *s = suite_create("scraper");
	TCase *tc = tcase_create("targets");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, url_address_priority);
	tcase_add_test(tc, url_ipv6_and_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("transfer");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, setup_certs, teardown_certs);
	tcase_add_test(tc, round_stores_node_and_reuses_connection);
	tcase_add_test(tc, round_kind_fixture_70_pods);
	tcase_add_test(tc, round_many_nodes_across_shards);
	tcase_add_test(tc, round_failures_are_per_node);
	tcase_add_test(tc, tls_verification);
	tcase_add_test(tc, tls_ip_not_in_certificate);
	tcase_add_test(tc, bearer_token_file_is_reread);
	tcase_add_test(tc, node_selector_and_concurrency_bound);
	tcase_add_test(tc, self_metrics_text);
	tcase_add_test(tc, loop_runs_rounds_until_freed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(scraper_suite());
}
