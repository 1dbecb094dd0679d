/*
 * kube_live_fixture.c - the fake kube-apiserver of the check_kube_live_*
 * suites: libmicrohttpd over TLS on 127.0.0.1, with list pages, watch
 * streams the test feeds event by event, 410s, flaky endpoints and
 * client-certificate checks.
 */
#include "test/unit/kube_live_fixture.h"

#include <check.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/unit/testlib.h"

struct fake F;
struct certs_pair ca, client_pair;
static struct certs_pair server_pair;

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
	if (!strncmp(r->last_continue, "page-", 5)) {
		char *end;

		page = strtol(r->last_continue + 5, &end, 10);
		if (end == r->last_continue + 5 || *end != '\0')
			page = -1;
	}
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

void fake_start(void)
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

void fake_stop(void)
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
	certs_pair_clear(&ca);
	certs_pair_clear(&server_pair);
	certs_pair_clear(&client_pair);
	pthread_cond_destroy(&F.cv);
	pthread_mutex_destroy(&F.mu);
}

/* ---- driving it ---------------------------------------------------------- */

void set_page(int res, int i, const char *json)
{
	pthread_mutex_lock(&F.mu);
	free(F.res[res].pages[i]);
	F.res[res].pages[i] = json ? xstrdup(json) : NULL;
	pthread_mutex_unlock(&F.mu);
}

void send_piece(int res, const char *text)
{
	struct resource *r = &F.res[res];

	pthread_mutex_lock(&F.mu);
	ck_assert_uint_lt(r->qtail - r->qhead, MAX_QUEUE);
	r->queue[r->qtail++ % MAX_QUEUE] = xstrdup(text);
	pthread_cond_broadcast(&F.cv);
	pthread_mutex_unlock(&F.mu);
}

struct timespec deadline(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_NS / NS_PER_SEC;
	return ts;
}

/* Waits until the server saw at least n watch requests for res. */
void await_watches(int res, int n)
{
	struct timespec until = deadline();

	pthread_mutex_lock(&F.mu);
	while (F.res[res].watches < n)
		ck_assert_int_eq(pthread_cond_timedwait(&F.cv, &F.mu, &until), 0);
	pthread_mutex_unlock(&F.mu);
}

/* Waits until the server counted at least n lists of res. */
void await_lists(int res, int n)
{
	struct timespec until = deadline();

	pthread_mutex_lock(&F.mu);
	while (F.res[res].lists < n)
		ck_assert_int_eq(pthread_cond_timedwait(&F.cv, &F.mu, &until), 0);
	pthread_mutex_unlock(&F.mu);
}

void end_watch(int res, int next_status)
{
	pthread_mutex_lock(&F.mu);
	F.res[res].epoch++;
	F.res[res].next_watch_status = next_status;
	pthread_cond_broadcast(&F.cv);
	pthread_mutex_unlock(&F.mu);
}

int hits(void)
{
	int n;

	pthread_mutex_lock(&F.mu);
	n = F.hits;
	pthread_mutex_unlock(&F.mu);
	return n;
}

struct kube_client *client_for(const char *token, const char *token_file, bool cert)
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
