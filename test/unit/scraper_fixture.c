/*
 * scraper_fixture.c - the fake kubelet (libmicrohttpd + GnuTLS on
 * 127.0.0.1), its certificates and temp dir, the nodes, options and rig
 * the check_scraper_* suites share; see scraper_fixture.h.
 */
#include "test/unit/scraper_fixture.h"

#include <check.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test/unit/testlib.h"

/* ---- the fake kubelet ------------------------------------------------------- */

struct certs_pair ca, other_ca, server, server_dns_only, server_other_ip;
static char dir[] = "/tmp/check-scraper-XXXXXX";
char ca_path[256], other_ca_path[256], token_path[256];

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
	dynbuf_clear(&b);
	return ret;
}

/* The /dyn body handed out piecemeal from a callback of unknown size:
 * libmicrohttpd then sends it chunked (several chunks, small ones). */
struct piece_state {
	char body[1024];
	size_t len;
	size_t step;
};

static ssize_t read_piece(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct piece_state *ps = cls;
	size_t n = ps->len - (size_t)pos;

	if (pos >= ps->len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n > ps->step)
		n = ps->step;
	if (n > max)
		n = max;
	memcpy(buf, ps->body + pos, n);
	return (ssize_t)n;
}

/* A callback response that sends `len` (of a promised `size`) bytes of
 * the /dyn body, `step` at a time; size MHD_SIZE_UNKNOWN = chunked. */
static enum MHD_Result reply_pieces(struct kubelet *k, struct MHD_Connection *c, uint64_t size,
				    size_t step, bool close)
{
	struct piece_state *ps = xcalloc(1, sizeof(*ps));
	int r = atomic_fetch_add(&k->dyn_round, 1);
	long long ts = (long long)(DYN_BASE_MS + 10000 * r);
	struct MHD_Response *resp;
	enum MHD_Result ret;

	ps->len = (size_t)snprintf(ps->body, sizeof(ps->body),
				   "node_cpu_usage_seconds_total %d %lld\n"
				   "node_memory_working_set_bytes 2e9 %lld\n",
				   100 + 10 * r, ts, ts);
	ps->step = step;
	resp = MHD_create_response_from_callback(size, 64, read_piece, ps, free);
	if (close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
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

/* An application's /metrics (see scraper_fixture.h): what follows "/app". */
static enum MHD_Result reply_app(struct kubelet *k, struct MHD_Connection *c, const char *what)
{
	static const char text[] = "# TYPE hello_total counter\n"
				   "hello_total{code=\"200\"} %d\n"
				   "hello_total{code=\"500\"} 1\n"
				   "temp 21.5\n";
	static const char om[] = "# TYPE hello counter\nhello_total %d\n# EOF\n";
	const char *ctype = "text/plain; version=0.0.4; charset=utf-8";
	char body[1024];
	int n, r = atomic_fetch_add(&k->dyn_round, 1);
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (strcmp(what, "/bad") == 0) {
		n = snprintf(body, sizeof(body), "ok 1\nbad{ 2\n");
	} else if (strcmp(what, "/om") == 0) {
		n = snprintf(body, sizeof(body), om, 10 + r);
		ctype = "application/openmetrics-text; version=1.0.0; charset=utf-8";
	} else if (strcmp(what, "/many") == 0) {
		n = 0;
		for (int i = 0; i < 20; i++)
			n += snprintf(body + n, sizeof(body) - (size_t)n, "m{i=\"%d\"} 1\n", i);
	} else {
		n = snprintf(body, sizeof(body), text, 10 + r);
	}
	resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct kubelet *k = cls;
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");

	(void)method, (void)version, (void)upload, (void)upload_size;
	if (*state == NULL) { /* headers only: answer on the next call */
		*state = k;
		return MHD_YES;
	}
	pthread_mutex_lock(&k->mu);
	atomic_fetch_add(&k->requests, 1);
	snprintf(k->auth, sizeof(k->auth), "%s", auth ? auth : "");
	snprintf(k->accept, sizeof(k->accept), "%s", accept ? accept : "");
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
	if (strcmp(url, "/dyn") == 0 && atomic_load(&k->block_dyn))
		return reply_slow(k, c);
	if (strcmp(url, "/dyn") == 0)
		return reply_dyn(k, c);
	if (strncmp(url, "/fixture/", 9) == 0)
		return reply_file(c, url + 9);
	if (strcmp(url, "/chunked") == 0)
		return reply_pieces(k, c, MHD_SIZE_UNKNOWN, 7, false);
	if (strcmp(url, "/close") == 0)
		return reply_pieces(k, c, MHD_SIZE_UNKNOWN, 1024, true);
	if (strcmp(url, "/truncated") == 0)
		return reply_pieces(k, c, 4096, 1024, false); /* promises more than it has */
	if (strcmp(url, "/drop") == 0 ||
	    (strcmp(url, "/flaky") == 0 && atomic_load(&k->requests) == 2))
		return MHD_NO; /* closes the connection without an answer */
	if (strcmp(url, "/flaky") == 0)
		return reply_dyn(k, c);
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
	if (strncmp(url, "/app", 4) == 0)
		return reply_app(k, c, url + 4);
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

struct kubelet *kubelet_start_idle(const struct certs_pair *cert, unsigned idle_timeout_s)
{
	struct kubelet *k = xcalloc(1, sizeof(*k));
	const struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, k },
		{ MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)idle_timeout_s, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};

	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->cv, NULL);
	if (cert) {
		k->d = testlib_https_daemon(MHD_USE_THREAD_PER_CONNECTION |
						    MHD_USE_INTERNAL_POLLING_THREAD,
					    on_request, k, cert, NULL, opts, &k->port);
		return k;
	}
	/* plain HTTP (application targets' http://) */
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	const union MHD_DaemonInfo *info;

	k->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
					MHD_USE_ERROR_LOG,
				0, NULL, NULL, on_request, k, MHD_OPTION_SOCK_ADDR, &sa,
				MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	ck_assert_msg(k->d != NULL, "cannot start the HTTP test server");
	info = MHD_get_daemon_info(k->d, MHD_DAEMON_INFO_BIND_PORT);
	ck_assert_ptr_nonnull(info);
	k->port = info->port;
	return k;
}

struct kubelet *kubelet_start(const struct certs_pair *cert)
{
	return kubelet_start_idle(cert, 0);
}

/* Blocks until the server saw `n` requests (the test timeout bounds it). */
void wait_requests(struct kubelet *k, int n)
{
	pthread_mutex_lock(&k->mu);
	while (atomic_load(&k->requests) < n)
		pthread_cond_wait(&k->cv, &k->mu);
	pthread_mutex_unlock(&k->mu);
}

void kubelet_stop(struct kubelet *k)
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

void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	fclose(f);
}

void setup_certs(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check-scraper-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	make_pair("test-ca", true, NULL, NULL, NULL, &ca);
	make_pair("other-ca", true, NULL, NULL, NULL, &other_ca);
	make_pair("127.0.0.1", false, "127.0.0.1", "localhost", &ca, &server);
	make_pair("kubelet", false, NULL, "kubelet.invalid", &ca, &server_dns_only);
	make_pair("kubelet", false, "127.0.0.2", NULL, &ca, &server_other_ip);
	snprintf(ca_path, sizeof(ca_path), "%s/ca.crt", dir);
	snprintf(other_ca_path, sizeof(other_ca_path), "%s/other.crt", dir);
	snprintf(token_path, sizeof(token_path), "%s/token", dir);
	write_file(ca_path, ca.cert_pem);
	write_file(other_ca_path, other_ca.cert_pem);
	clock_set_fake_now(FAKE_NOW);
}

void teardown_certs(void)
{
	unlink(ca_path);
	unlink(other_ca_path);
	unlink(token_path);
	rmdir(dir);
	certs_pair_clear(&ca);
	certs_pair_clear(&other_ca);
	certs_pair_clear(&server);
	certs_pair_clear(&server_dns_only);
	certs_pair_clear(&server_other_ip);
	clock_set_fake_now(0);
}

/* ---- nodes, options ----------------------------------------------------------- */

/* Adds a Ready node at 127.0.0.1 (InternalIP) serving `path` (sorted
 * insertion is the caller's job: add names in order). */
struct kube_node *add_node(struct cluster *c, const char *name, const char *path)
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

static void cluster_clear(struct cluster *c)
{
	for (size_t i = 0; i < c->snap.nnodes; i++)
		labels_clear(&c->nodes[i].labels);
}

static char *internal_ip[] = {(char *)"InternalIP"};

struct scraper_options options(const struct kubelet *k)
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

void stderr_capture_begin(void)
{
	capture_begin();
}

char *stderr_capture_end(void)
{
	return capture_end();
}

/* ---- one scraper against one fake kubelet ---------------------------------------- */

void rig_start(struct rig *r, const struct certs_pair *cert)
{
	memset(r, 0, sizeof(*r));
	r->k = kubelet_start(cert);
	r->st = store_new(15 * NS_PER_SEC);
	r->o = options(r->k);
}

/* A scraper made from r->o, replacing (freeing) the previous one. */
void rig_scraper(struct rig *r)
{
	if (r->s)
		scraper_free(r->s);
	r->s = scraper_new(&r->o, r->st);
}

void rig_round(struct rig *r)
{
	scraper_round(r->s, &r->c.snap, &r->rs);
}

/* rig_round(); returns the captured log (caller frees). */
char *rig_round_logged(struct rig *r)
{
	capture_begin();
	rig_round(r);
	return capture_end();
}

void rig_stop(struct rig *r)
{
	if (r->s)
		scraper_free(r->s);
	store_free(r->st);
	cluster_clear(&r->c);
	kubelet_stop(r->k);
}

/* ---- decoding bodies ---------------------------------------------------------- */

static void rec_node(void *ud, const char *node, const struct store_point *p)
{
	ck_assert_int_eq(dynbuf_printf(ud, "node %s ts=%lld start=%lld cpu=%llu mem=%llu\n", node,
				       (long long)p->ts_ns, (long long)p->start_ns,
				       (unsigned long long)p->cpu_ns,
				       (unsigned long long)p->mem_bytes),
			 0);
}

static void rec_container(void *ud, const char *ns, const char *pod, const char *c,
			  const struct store_point *p)
{
	ck_assert_int_eq(dynbuf_printf(ud, "container %s/%s/%s ts=%lld start=%lld cpu=%llu mem=%llu\n",
				       ns, pod, c, (long long)p->ts_ns, (long long)p->start_ns,
				       (unsigned long long)p->cpu_ns,
				       (unsigned long long)p->mem_bytes),
			 0);
}

const struct scraper__sink rec_sink = {rec_node, rec_container};

int decode_chunked(struct scraper_decoder *d, const char *body, size_t len, size_t chunk,
		   struct dynbuf *out)
{
	size_t off = 0;
	unsigned seed = 12345;

	while (off < len) {
		size_t n = chunk;
		if (n == 0) {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 8) % 4096;
		}
		if (n > len - off)
			n = len - off;
		int rc = scraper_decoder_feed(d, body + off, n);
		if (rc)
			return rc;
		off += n;
	}
	return scraper__decoder_emit(d, &rec_sink, out);
}

char *decode_text(const char *text, size_t len, int *rc, char *err, size_t errlen)
{
	struct scraper_decoder *d = scraper_decoder_new("node1", REQ_TS);
	struct dynbuf out;

	dynbuf_init(&out, DYN_KUBELET_BODY);
	*rc = decode_chunked(d, text, len, len ? len : 1, &out);
	if (err)
		snprintf(err, errlen, "%s", scraper_decoder_error(d));
	scraper_decoder_free(d);
	return dynbuf_take(&out, NULL);
}

void load_fixture(const char *name, struct dynbuf *b)
{
	char path[256];

	snprintf(path, sizeof(path), KUBELET_FIXTURES "%s", name);
	dynbuf_init(b, DYN_KUBELET_BODY);
	ck_assert_msg(dynbuf_read_file(b, path) == 0, "cannot read %s", path);
}

void expect_text(const char *text, const char *want)
{
	char err[256];
	int rc;
	char *got = decode_text(text, strlen(text), &rc, err, sizeof(err));

	ck_assert_msg(rc == 0, "%s: %s", text, err);
	ck_assert_str_eq(got, want);
	free(got);
}

void expect_error(const char *text, size_t len, int want_rc, const char *want_err)
{
	char err[256];
	int rc;
	char *got = decode_text(text, len, &rc, err, sizeof(err));

	ck_assert_int_eq(rc, want_rc);
	ck_assert_str_eq(got, "");
	ck_assert_str_eq(err, want_err);
	free(got);
}
