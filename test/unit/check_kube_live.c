/*
 * check_kube_live.c - kube/request.c, client.c, stream.c, watch.c and
 * informer.c against a small fake kube-apiserver: libmicrohttpd over TLS
 * on 127.0.0.1, with list pages, watch streams the test feeds event by
 * event, 410s, flaky endpoints and client-certificate checks.
 */
#include <check.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "certs/certs.h"
#include "kube/kube.h"
#include "test/unit/testlib.h"
#include "test/unit/unit.h"

#define WAIT_NS (10 * NS_PER_SEC)
#define MAX_PAGES 4
#define MAX_QUEUE 64

enum { R_NODES, R_PODS, R_N };

struct resource {
	char *pages[MAX_PAGES];     /* list pages; page i answers continue=page-i */
	int lists, watches;
	int next_watch_status;      /* 0 = stream */
	unsigned epoch;             /* bumped: open watch streams end */
	char last_rv[64], last_continue[64], last_limit[16];
	char *queue[MAX_QUEUE];     /* pieces of the watch stream, in order */
	size_t qhead, qtail;
};

struct fake {
	struct MHD_Daemon *d;
	uint16_t port;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
	struct resource res[R_N];
	char auth[128], client_cn[64], content_type[64];
	int flaky_left, hits;
};

static struct fake F;
static struct certs_pair ca, server_pair, client_pair;

/* ---- the fake apiserver -------------------------------------------------- */

static void copy_arg(struct MHD_Connection *c, const char *key, char *dst, size_t len)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);

	snprintf(dst, len, "%s", v ? v : "");
}

/* The client certificate's CN into cn ("" without one). */
static void peer_cn(struct MHD_Connection *c, char *cn, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	const gnutls_datum_t *peers;
	gnutls_x509_crt_t crt;
	unsigned n = 0;

	cn[0] = '\0';
	if (!ci || !(peers = gnutls_certificate_get_peers(ci->tls_session, &n)) || !n)
		return;
	gnutls_x509_crt_init(&crt);
	if (gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) >= 0)
		gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &len);
	gnutls_x509_crt_deinit(crt);
}

struct stream_ctx {
	struct resource *r;
	unsigned epoch;
	char *cur;
	size_t off;
};

/* Hands out the queued pieces one per call; ends when the epoch moves. */
static ssize_t watch_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_ctx *s = cls;
	size_t n;

	pthread_mutex_lock(&F.mu);
	while (!s->cur) {
		if (F.stopping || s->epoch != s->r->epoch) {
			pthread_mutex_unlock(&F.mu);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		if (s->r->qhead < s->r->qtail) {
			s->cur = s->r->queue[s->r->qhead++ % MAX_QUEUE];
			s->off = 0;
			break;
		}
		pthread_cond_wait(&F.cv, &F.mu);
	}
	pthread_mutex_unlock(&F.mu);
	n = strlen(s->cur) - s->off;
	n = n < max ? n : max;
	memcpy(buf, s->cur + s->off, n);
	s->off += n;
	if (!s->cur[s->off]) {
		free(s->cur);
		s->cur = NULL;
	}
	return (ssize_t)n;
}

static void watch_free(void *cls)
{
	struct stream_ctx *s = cls;

	free(s->cur);
	free(s);
}

static const char GONE[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
			   "\"status\":\"Failure\",\"message\":\"too old resource version: 1 (30)\","
			   "\"reason\":\"Expired\",\"code\":410}";

/* What to send; built under F.mu, queued after it is released (MHD takes
 * its own locks in MHD_queue_response and around watch_reader). */
struct answer {
	unsigned status;
	char *body;                 /* or */
	struct stream_ctx *stream;
};

static void answer(struct answer *a, unsigned status, const char *body)
{
	a->status = status;
	a->body = xstrdup(body);
}

/* GET /api/v1/{nodes,pods}: a list page or a watch.  Locked. */
static void serve_resource(struct MHD_Connection *c, struct resource *r, struct answer *a)
{
	const char *watch = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "watch");
	long page = 0;

	if (watch && !strcmp(watch, "1")) {
		r->watches++;
		r->epoch++; /* one watch at a time: older streams end */
		copy_arg(c, "resourceVersion", r->last_rv, sizeof(r->last_rv));
		if (r->next_watch_status) {
			answer(a, (unsigned)r->next_watch_status, GONE);
			r->next_watch_status = 0;
			return;
		}
		a->status = MHD_HTTP_OK;
		a->stream = calloc(1, sizeof(*a->stream));
		a->stream->r = r;
		a->stream->epoch = r->epoch;
		return;
	}
	r->lists++;
	copy_arg(c, "continue", r->last_continue, sizeof(r->last_continue));
	copy_arg(c, "limit", r->last_limit, sizeof(r->last_limit));
	if (!strncmp(r->last_continue, "page-", 5))
		page = strtol(r->last_continue + 5, NULL, 10);
	if (page < 0 || page >= MAX_PAGES || !r->pages[page])
		answer(a, 410, GONE);
	else
		answer(a, 200, r->pages[page]);
}

static void route(struct MHD_Connection *c, const char *url, const char *body, struct answer *a)
{
	if (!strcmp(url, "/api/v1/nodes"))
		serve_resource(c, &F.res[R_NODES], a);
	else if (!strcmp(url, "/api/v1/pods"))
		serve_resource(c, &F.res[R_PODS], a);
	else if (!strcmp(url, "/flaky") && F.flaky_left-- > 0)
		answer(a, 503, "{\"code\":503}");
	else if (!strcmp(url, "/flaky") || !strcmp(url, "/ok"))
		answer(a, 200, "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"x\"}}");
	else if (!strcmp(url, "/echo"))
		answer(a, 201, body);
	else if (!strcmp(url, "/text"))
		answer(a, 200, "not json");
	else
		answer(a, 404, "{\"kind\":\"Status\",\"code\":404}");
}

static enum MHD_Result send_answer(struct MHD_Connection *c, struct answer *a)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (a->stream)
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, watch_reader,
						      a->stream, watch_free);
	else
		r = MHD_create_response_from_buffer(strlen(a->body), a->body,
						    MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(c, a->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **state)
{
	struct answer a = { 0 };
	const char *auth, *ctype;
	char *body, cn[64];

	if (!*state) { /* first call: headers only */
		*state = calloc(1, 1 << 16);
		return MHD_YES;
	}
	body = *state;
	if (*upload_size) {
		strncat(body, upload, *upload_size < 60000 ? *upload_size : 60000);
		*upload_size = 0;
		return MHD_YES;
	}
	auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	peer_cn(c, cn, sizeof(cn));
	pthread_mutex_lock(&F.mu);
	F.hits++;
	snprintf(F.auth, sizeof(F.auth), "%s", auth ? auth : "");
	snprintf(F.content_type, sizeof(F.content_type), "%s", ctype ? ctype : "");
	snprintf(F.client_cn, sizeof(F.client_cn), "%s", cn);
	route(c, url, body, &a);
	pthread_cond_broadcast(&F.cv);
	pthread_mutex_unlock(&F.mu);
	return send_answer(c, &a);
}

static void completed(void *cls, struct MHD_Connection *c, void **state,
		      enum MHD_RequestTerminationCode toe)
{
	free(*state);
	*state = NULL;
}

static void fake_start(void)
{
	static const char *const ips[] = { "127.0.0.1" };
	struct certs_spec ca_spec = { .cn = "fake-ca", .is_ca = true };
	struct certs_spec srv = { .cn = "apiserver", .ips = ips, .nips = 1, .server_auth = true };
	struct certs_spec cli = { .cn = "metrics-apiserver", .client_auth = true };
	const struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};

	memset(&F, 0, sizeof(F));
	pthread_mutex_init(&F.mu, NULL);
	pthread_cond_init(&F.cv, NULL);
	testlib_cert(&ca_spec, NULL, &ca);
	testlib_cert(&srv, &ca, &server_pair);
	testlib_cert(&cli, &ca, &client_pair);
	F.d = testlib_https_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
				   handler, NULL, &server_pair, ca.cert_pem, opts, &F.port);
}

static void fake_stop(void)
{
	size_t i, k;

	pthread_mutex_lock(&F.mu);
	F.stopping = true;
	pthread_cond_broadcast(&F.cv);
	pthread_mutex_unlock(&F.mu);
	MHD_stop_daemon(F.d);
	for (k = 0; k < R_N; k++) {
		for (i = 0; i < MAX_PAGES; i++)
			free(F.res[k].pages[i]);
		for (i = F.res[k].qhead; i < F.res[k].qtail; i++)
			free(F.res[k].queue[i % MAX_QUEUE]);
	}
	certs_pair_release(&ca);
	certs_pair_release(&server_pair);
	certs_pair_release(&client_pair);
	pthread_cond_destroy(&F.cv);
	pthread_mutex_destroy(&F.mu);
}

/* ---- driving it ---------------------------------------------------------- */

static void set_page(int res, int i, const char *json)
{
	pthread_mutex_lock(&F.mu);
	free(F.res[res].pages[i]);
	F.res[res].pages[i] = json ? xstrdup(json) : NULL;
	pthread_mutex_unlock(&F.mu);
}

static void send_piece(int res, const char *text)
{
	struct resource *r = &F.res[res];

	pthread_mutex_lock(&F.mu);
	ck_assert_uint_lt(r->qtail - r->qhead, MAX_QUEUE);
	r->queue[r->qtail++ % MAX_QUEUE] = xstrdup(text);
	pthread_cond_broadcast(&F.cv);
	pthread_mutex_unlock(&F.mu);
}

static struct timespec deadline(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_NS / NS_PER_SEC;
	return ts;
}

/* Waits until the server saw at least n watch requests for res. */
static void await_watches(int res, int n)
{
	struct timespec until = deadline();

	pthread_mutex_lock(&F.mu);
	while (F.res[res].watches < n)
		ck_assert_int_eq(pthread_cond_timedwait(&F.cv, &F.mu, &until), 0);
	pthread_mutex_unlock(&F.mu);
}

static void end_watch(int res, int next_status)
{
	pthread_mutex_lock(&F.mu);
	F.res[res].epoch++;
	F.res[res].next_watch_status = next_status;
	pthread_cond_broadcast(&F.cv);
	pthread_mutex_unlock(&F.mu);
}

static struct kube_client *client_for(const char *token, const char *token_file, bool cert)
{
	struct kube_config cfg = { 0 };
	struct kube_client *c;

	cfg.server = xasprintf("https://127.0.0.1:%d", F.port);
	cfg.ca_data = ca.cert_pem;
	cfg.token = (char *)token;
	cfg.token_file = (char *)token_file;
	if (cert) {
		cfg.client_cert_data = client_pair.cert_pem;
		cfg.client_key_data = client_pair.key_pem;
	}
	c = kube_client_new(&cfg);
	ck_assert_ptr_nonnull(c);
	free(cfg.server);
	return c;
}

/* ---- kube_request ------------------------------------------------------- */

static int hits(void)
{
	int n;

	pthread_mutex_lock(&F.mu);
	n = F.hits;
	pthread_mutex_unlock(&F.mu);
	return n;
}

START_TEST(test_request)
{
	struct kube_client *c = client_for("secret-token", NULL, false);
	json_t *out = NULL, *body = json_pack("{s:s,s:i}", "a", "b", "n", 3);
	char err[256] = "";
	int status = -1, before;

	ck_assert_int_eq(kube_request(c, "GET", "/ok", NULL, &status, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(out, "metadata"),
							   "name")), "x");
	ck_assert_str_eq(F.auth, "Bearer secret-token");
	ck_assert_str_eq(F.client_cn, "");
	json_decref(out);

	ck_assert_int_eq(kube_request(c, "POST", "/echo", body, &status, &out, err, sizeof(err)),
			 0);
	ck_assert_int_eq(status, 201);
	ck_assert(json_equal(out, body));
	ck_assert_str_eq(F.content_type, "application/json");
	json_decref(out);

	before = hits();
	ck_assert_int_eq(kube_request(c, "GET", "/missing", NULL, &status, &out, err, sizeof(err)),
			 0);
	ck_assert_int_eq(status, 404);
	ck_assert_int_eq(json_integer_value(json_object_get(out, "code")), 404);
	ck_assert_int_eq(hits(), before + 1); /* 4xx: no retry */
	json_decref(out);

	ck_assert_int_eq(kube_request(c, "GET", "/text", NULL, &status, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(status, 200);
	ck_assert_ptr_null(out);

	ck_assert_int_eq(kube_request(c, "GET", "relative", NULL, &status, &out, err, sizeof(err)),
			 ERR_INVAL);
	ck_assert_int_eq(status, 0);
	json_decref(body);
	kube_client_free(c);
}
END_TEST

START_TEST(test_request_retries)
{
	struct kube_client *c = client_for(NULL, NULL, false);
	json_t *out = NULL;
	char err[256] = "";
	int status = -1, before = hits();

	F.flaky_left = 2;
	ck_assert_int_eq(kube_request(c, "GET", "/flaky", NULL, &status, &out, err, sizeof(err)),
			 0);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(hits(), before + 3);
	ck_assert_str_eq(F.auth, "");
	json_decref(out);

	F.flaky_left = 100;
	before = hits();
	ck_assert_int_eq(kube_request(c, "GET", "/flaky", NULL, &status, &out, err, sizeof(err)),
			 0);
	ck_assert_int_eq(status, 503);
	ck_assert_int_eq(hits(), before + 5);
	json_decref(out);
	kube_client_free(c);
}
END_TEST

START_TEST(test_request_tls)
{
	struct kube_config cfg = { 0 };
	struct kube_client *c;
	json_t *out = NULL;
	char err[256] = "";
	int status = -1, before = hits();

	/* A server certificate that does not chain to the configured CA. */
	cfg.server = xasprintf("https://127.0.0.1:%d", F.port);
	cfg.ca_data = client_pair.cert_pem;
	c = kube_client_new(&cfg);
	ck_assert_int_eq(kube_request(c, "GET", "/ok", NULL, &status, &out, err, sizeof(err)),
			 ERR_TLS);
	ck_assert_int_eq(status, 0);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(hits(), before);
	kube_client_free(c);

	/* Insecure skips verification. */
	cfg.ca_data = NULL;
	cfg.insecure_skip_tls_verify = true;
	c = kube_client_new(&cfg);
	ck_assert_int_eq(kube_request(c, "GET", "/ok", NULL, &status, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(status, 200);
	json_decref(out);
	kube_client_free(c);
	free(cfg.server);

	/* Client certificate from PEM bytes. */
	c = client_for(NULL, NULL, true);
	ck_assert_int_eq(kube_request(c, "GET", "/ok", NULL, &status, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(F.client_cn, "metrics-apiserver");
	json_decref(out);
	kube_client_free(c);
}
END_TEST

static void write_token(const char *path, const char *text, time_t mtime)
{
	struct timespec times[2] = { { mtime, 0 }, { mtime, 0 } };
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(utimensat(AT_FDCWD, path, times, 0), 0);
}

START_TEST(test_token_file)
{
	char dir[] = "/tmp/check_kube_live_XXXXXX", *path;
	struct kube_client *c;
	json_t *out = NULL;
	char err[256] = "";
	int status;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = xasprintf("%s/token", dir);
	write_token(path, "t1\n", 1000);
	c = client_for("static", path, false);
	ck_assert_int_eq(kube_request(c, "GET", "/ok", NULL, &status, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(F.auth, "Bearer t1");
	json_decref(out);
	write_token(path, "t2", 2000); /* rotated: a new mtime */
	ck_assert_int_eq(kube_request(c, "GET", "/ok", NULL, &status, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(F.auth, "Bearer t2");
	json_decref(out);
	write_token(path, "bad token\n", 3000); /* rejected: the last good one stays */
	ck_assert_int_eq(kube_request(c, "GET", "/ok", NULL, &status, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(F.auth, "Bearer t2");
	json_decref(out);
	kube_client_free(c);
	unlink(path);
	rmdir(dir);
	free(path);
}
END_TEST

/* ---- the informer -------------------------------------------------------- */

static pthread_mutex_t chg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t chg_cv = PTHREAD_COND_INITIALIZER;

static void on_change(void *ud)
{
	int *changes = ud;

	pthread_mutex_lock(&chg_mu);
	(*changes)++;
	pthread_cond_broadcast(&chg_cv);
	pthread_mutex_unlock(&chg_mu);
}

static char *node_json(const char *name, bool ready, const char *rv)
{
	return xasprintf("{\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"resourceVersion\":"
			 "\"%s\"},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":"
			 "\"%s\"}]}}", name, rv, ready ? "True" : "False");
}

static char *pod_json(const char *ns, const char *name, const char *phase, const char *rv)
{
	return xasprintf("{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\""
			 "%s%s%s},\"spec\":{\"nodeName\":\"node-a\"},\"status\":{\"phase\":"
			 "\"%s\"}}", ns, name, rv ? ",\"resourceVersion\":\"" : "", rv ? rv : "",
			 rv ? "\"" : "", phase);
}

/* A list page of up to two items (each freed); cont may be NULL. */
static void page(int res, int i, const char *rv, const char *cont, char *a, char *b)
{
	char *json = xasprintf("{\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"%s\""
			       "%s%s%s},\"items\":[%s%s%s]}", rv, cont ? ",\"continue\":\"" : "",
			       cont ? cont : "", cont ? "\"" : "", a ? a : "", b ? "," : "",
			       b ? b : "");

	set_page(res, i, json);
	free(json);
	free(a);
	free(b);
}

static void event(int res, const char *type, char *obj)
{
	char *line = xasprintf("{\"type\":\"%s\",\"object\":%s}\n", type, obj);

	send_piece(res, line);
	free(line);
	free(obj);
}

/* "node-a+ node-b- | ns/name=Phase ..." */
static char *describe(const struct kube_snapshot *s)
{
	struct dynbuf b;
	size_t i;

	dynbuf_init(&b, DYN_SMALL);
	for (i = 0; i < s->nnodes; i++)
		ck_assert_int_eq(dynbuf_printf(&b, "%s%c ", s->nodes[i]->name,
					       s->nodes[i]->ready ? '+' : '-'), 0);
	ck_assert_int_eq(dynbuf_addch(&b, '|'), 0);
	for (i = 0; i < s->npods; i++)
		ck_assert_int_eq(dynbuf_printf(&b, " %s/%s=%s", s->pods[i]->ns, s->pods[i]->name,
					       s->pods[i]->phase), 0);
	return dynbuf_take(&b, NULL);
}

/* Waits (on on_change, no polling) until the snapshot reads want. */
static void await_snapshot(struct kube_informer *inf, const char *want)
{
	struct timespec until = deadline();
	struct kube_snapshot *s;
	char *got;
	int rc = 0;

	pthread_mutex_lock(&chg_mu);
	for (;;) {
		s = kube_informer_acquire(inf);
		got = describe(s);
		kube_snapshot_release(s);
		if (!strcmp(got, want))
			break;
		ck_assert_msg(rc == 0, "snapshot: want \"%s\", got \"%s\"", want, got);
		free(got);
		rc = pthread_cond_timedwait(&chg_cv, &chg_mu, &until);
	}
	pthread_mutex_unlock(&chg_mu);
	free(got);
}

/* Waits until the server counted at least n lists of res. */
static void await_lists(int res, int n)
{
	struct timespec until = deadline();

	pthread_mutex_lock(&F.mu);
	while (F.res[res].lists < n)
		ck_assert_int_eq(pthread_cond_timedwait(&F.cv, &F.mu, &until), 0);
	pthread_mutex_unlock(&F.mu);
}

static void start_informer(struct kube_client **c, struct kube_informer **inf, int *changes)
{
	page(R_NODES, 0, "10", NULL, node_json("node-b", false, "9"), node_json("node-a", true, "8"));
	page(R_PODS, 0, "19", "page-1", pod_json("default", "p1", "Running", "5"), NULL);
	page(R_PODS, 1, "20", NULL, pod_json("kube-system", "p2", "Pending", "6"), NULL);
	*c = client_for("tok", NULL, false);
	*inf = kube_informer_start(*c, on_change, changes);
	ck_assert_ptr_nonnull(*inf);
	ck_assert(kube_informer_wait_synced(*inf, WAIT_NS));
}

START_TEST(test_informer_list_and_watch)
{
	struct kube_client *c;
	struct kube_informer *inf;
	struct kube_snapshot *s;
	int changes = 0;
	char *line, *obj;

	start_informer(&c, &inf, &changes);
	s = kube_informer_acquire(inf);
	ck_assert(s->synced);
	kube_snapshot_release(s);
	await_snapshot(inf, "node-a+ node-b- | default/p1=Running kube-system/p2=Pending");
	ck_assert_int_eq(F.res[R_PODS].lists, 2);
	ck_assert_str_eq(F.res[R_PODS].last_continue, "page-1");
	ck_assert_str_eq(F.res[R_PODS].last_limit, "500");
	ck_assert_int_eq(F.res[R_NODES].lists, 1);
	ck_assert_str_eq(F.auth, "Bearer tok");

	await_watches(R_PODS, 1);
	await_watches(R_NODES, 1);
	ck_assert_str_eq(F.res[R_PODS].last_rv, "20");
	ck_assert_str_eq(F.res[R_NODES].last_rv, "10");

	/* An event split over two pieces, then two more in one piece. */
	obj = pod_json("default", "p0", "Running", "21");
	line = xasprintf("{\"type\":\"ADDED\",\"object\":%s}\n{\"type\":\"MODIFIED\",\"object\":",
			 obj);
	send_piece(R_PODS, line);
	free(line);
	free(obj);
	line = pod_json("default", "p1", "Succeeded", "22");
	send_piece(R_PODS, line);
	free(line);
	send_piece(R_PODS, "}\n");
	event(R_PODS, "DELETED", pod_json("kube-system", "p2", "Pending", "23"));
	event(R_NODES, "MODIFIED", node_json("node-b", true, "11"));
	await_snapshot(inf, "node-a+ node-b+ | default/p0=Running default/p1=Succeeded");

	/* A bookmark moves the rv; the next watch is told it is too old. */
	event(R_PODS, "BOOKMARK", xstrdup("{\"kind\":\"Pod\",\"metadata\":{\"resourceVersion\":"
					  "\"35\"}}"));
	event(R_PODS, "ADDED", pod_json("default", "p3", "Running", NULL));
	await_snapshot(inf,
		       "node-a+ node-b+ | default/p0=Running default/p1=Succeeded default/p3=Running");
	page(R_PODS, 0, "40", NULL, pod_json("ns2", "p9", "Running", "39"), NULL);
	set_page(R_PODS, 1, NULL);
	end_watch(R_PODS, 410);
	await_snapshot(inf, "node-a+ node-b+ | ns2/p9=Running");
	await_watches(R_PODS, 3);
	ck_assert_int_eq(F.res[R_PODS].lists, 3);
	ck_assert_str_eq(F.res[R_PODS].last_rv, "40");

	kube_informer_stop(inf);
	kube_client_free(c);
	ck_assert_int_ge(changes, 4);
}
END_TEST

START_TEST(test_informer_relist_on_error_event)
{
	struct kube_client *c;
	struct kube_informer *inf;
	struct kube_snapshot *s;
	int changes = 0;

	start_informer(&c, &inf, &changes);
	await_watches(R_NODES, 1);
	await_watches(R_PODS, 1);

	page(R_NODES, 0, "50", NULL, node_json("node-c", true, "49"), NULL);
	send_piece(R_NODES, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
			    "\"reason\":\"Expired\"}}\n");
	await_snapshot(inf, "node-c+ | default/p1=Running kube-system/p2=Pending");
	await_watches(R_NODES, 2);
	ck_assert_str_eq(F.res[R_NODES].last_rv, "50");

	/* A line that is not JSON is a lost change: list again. */
	page(R_PODS, 0, "60", NULL, pod_json("default", "p5", "Running", "59"), NULL);
	send_piece(R_PODS, "{not json\n");
	await_lists(R_PODS, 3);
	await_snapshot(inf, "node-c+ | default/p5=Running");

	/* A snapshot outlives the informer that published it. */
	s = kube_informer_acquire(inf);
	kube_informer_stop(inf);
	kube_client_free(c);
	ck_assert_uint_eq(s->npods, 1);
	ck_assert_str_eq(kube_snapshot_pod(s, "default", "p5")->node_name, "node-a");
	kube_snapshot_release(s);
}
END_TEST

START_TEST(test_informer_unreachable)
{
	struct kube_config cfg = { .server = (char *)"https://127.0.0.1:1" };
	struct kube_client *c = kube_client_new(&cfg);
	struct kube_informer *inf = kube_informer_start(c, NULL, NULL);
	struct kube_snapshot *s;

	ck_assert(!kube_informer_wait_synced(inf, 300 * NS_PER_MS));
	s = kube_informer_acquire(inf);
	ck_assert(!s->synced);
	ck_assert_uint_eq(s->nnodes, 0);
	kube_snapshot_release(s);
	kube_informer_stop(inf); /* while backing off */
	kube_client_free(c);
}
END_TEST

static Suite *live_suite(void)
{
	Suite *s = suite_create("kube_live");
	TCase *tc = tcase_create("client");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, fake_start, fake_stop);
	tcase_add_test(tc, test_request);
	tcase_add_test(tc, test_request_retries);
	tcase_add_test(tc, test_request_tls);
	tcase_add_test(tc, test_token_file);
	suite_add_tcase(s, tc);
	tc = tcase_create("informer");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, fake_start, fake_stop);
	tcase_add_test(tc, test_informer_list_and_watch);
	tcase_add_test(tc, test_informer_relist_on_error_event);
	tcase_add_test(tc, test_informer_unreachable);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(live_suite());
}
