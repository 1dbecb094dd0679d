/*
 * http.c - the HTTPS daemon: libmicrohttpd with GnuTLS (TLS >= 1.2 unless
 * --tls-min-version says otherwise; --tls-* settings from flags_tls.c), an
 * internal pool of epoll threads, bounded connections, headers and bodies.
 *
 * Each request runs the generic apiserver's filter chain (filters.c) once
 * its body (if any, discarded) has been read, on the polling thread or, if
 * it must wait on a review, on a worker while its connection is suspended.
 * The handler fills a server_exchange; its on_done hook (releasing
 * snapshots) runs when libmicrohttpd reports the request complete.
 *
 * Certificates: GnuTLS asks for the serving pair on every handshake
 * (serving.c: the client's server name picks the default pair or a
 * --tls-sni-cert-key one; new connections get the newest files, open ones
 * keep the pair they started with).  Every connection is asked for a client
 * certificate with an empty list of CA names, so clients send theirs
 * whichever CA signed it, also after a CA rotation; authn.c verifies it
 * against the trust sets of the moment.
 */
#include "server/http_int.h"
#include "server/tls_int.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HTTP_TLS_PRIORITIES "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-SSL3.0"
#define HTTP_CONN_MEMORY (128u << 10)   /* headers + URL of one connection */
#define HTTP_MAX_BODY DYN_REQUEST_BODY
#define HTTP_MAX_RAW_URI 8192           /* of the request-target kept for texts */
/* Reviews waited on at once; more wait their turn (kube-apiserver answers
 * a review in milliseconds, its webhook timeouts bound the slow ones). */
#define HTTP_REVIEW_WORKERS 8
#define HTTP_STOP_FLUSH_NS (2 * NS_PER_SEC) /* for the answers left at stop */

/* ---- query access for handlers ------------------------------------------- */

const char *server_query(const struct server_exchange *x, const char *key, bool *present)
{
	const char *v = NULL;
	bool found = MHD_lookup_connection_value_n(x->conn, MHD_GET_ARGUMENT_KIND, key, strlen(key),
						   &v, NULL) == MHD_YES;

	if (present)
		*present = found;
	return found ? v : NULL;
}

struct query_scan {
	const char *key;
	const char **vals;
	size_t max, n;
};

static enum MHD_Result scan_query(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	struct query_scan *s = cls;

	(void)kind;
	if (key && strcmp(key, s->key) == 0 && value && s->n < s->max)
		s->vals[s->n++] = value;
	return s->n < s->max ? MHD_YES : MHD_NO;
}

size_t server_query_all(const struct server_exchange *x, const char *key, const char **vals,
			size_t max)
{
	struct query_scan s = { key, vals, max, 0 };

	if (max > 0)
		MHD_get_connection_values(x->conn, MHD_GET_ARGUMENT_KIND, scan_query, &s);
	return s.n;
}

/* ---- request lifecycle ----------------------------------------------------- */

/* apiserver isPrettyPrint: ?pretty=<bool> decides, else the User-Agent. */
static bool want_pretty(struct server_exchange *x)
{
	static const char *const agents[] = { "curl", "Wget", "Mozilla/5.0" };
	const char *p = server_query(x, "pretty", NULL);
	const char *ua = MHD_lookup_connection_value(x->conn, MHD_HEADER_KIND, "User-Agent");

	if (p && *p)
		return strcmp(p, "1") == 0 || strcasecmp(p, "t") == 0 || strcasecmp(p, "true") == 0;
	for (size_t i = 0; ua && i < COMMON_ARRAY_LEN(agents); i++)
		if (strncmp(ua, agents[i], strlen(agents[i])) == 0)
			return true;
	return false;
}

/* MHD_OPTION_URI_LOG_CALLBACK: the request-target before it is decoded
 * (RequestURI, quoted by the 500 of a failed authorization); the request's
 * state starts here. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct server__req *r = xcalloc(1, sizeof(*r));

	(void)cls;
	(void)c;
	r->raw_uri = xstrndup(uri, strnlen(uri, HTTP_MAX_RAW_URI));
	return r;
}

static struct server__req *req_start(struct server__req *r, struct MHD_Connection *c, const char *url,
				  const char *method)
{
	if (!r)
		r = xcalloc(1, sizeof(*r));
	r->started = true;
	r->x.conn = c;
	r->x.method = method;
	r->x.path = url;
	r->x.accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
	r->x.now_ns = clock_now_ns();
	r->start_mono_ns = clock_mono_ns();
	server__audit_init(&r->audit, c, r->x.now_ns);
	r->x.pretty = want_pretty(&r->x);
	r->x.status = 500;
	r->x.content_type = "text/plain; charset=utf-8";
	dynbuf_init(&r->x.body, DYN_API_RESPONSE);
	return r;
}

static enum MHD_Result queue(struct server__req *r)
{
	struct server_exchange *x = &r->x;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len;
	char *body;

	r->responded = true;
	server__audit_response(r->h->o.audit, &r->audit, x);
	body = dynbuf_take(&x->body, &len);
	resp = MHD_create_response_from_buffer_with_free_callback(len, body, free);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, x->content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache, private");
	if (strncmp(x->content_type, "text/plain", 10) == 0)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_X_CONTENT_TYPE_OPTIONS, "nosniff");
	if (r->retry_after)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, r->retry_after);
	if (r->close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	if (r->audit.id) /* WithAuditInit (Go writes the name Audit-Id) */
		MHD_add_response_header(resp, "Audit-Id", r->audit.id);
	if (r->h->o.hsts)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_STRICT_TRANSPORT_SECURITY, r->h->o.hsts);
	ret = MHD_queue_response(x->conn, (unsigned)x->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A declared or streamed body beyond HTTP_MAX_BODY is answered with 413. */
static bool body_too_large(struct server__req *r)
{
	const char *cl = MHD_lookup_connection_value(r->x.conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n;
	char *end;

	if (r->body_bytes > HTTP_MAX_BODY)
		return true;
	if (!cl)
		return false;
	if (strlen(cl) > 12)
		return true;
	n = strtoull(cl, &end, 10);
	return *end != '\0' || n > HTTP_MAX_BODY;
}

static enum MHD_Result reply_too_large(struct server__req *r)
{
	server_reply_status(&r->x, 413, "RequestEntityTooLarge", "the request body is too large",
			    NULL, NULL, NULL);
	return queue(r);
}

/* --tls-cipher-suites restricts TLS 1.2 and older connections to the suites
 * named; GnuTLS's priorities cannot say exactly that set (only its kx x
 * cipher x MAC product), so a connection that negotiated another one is
 * closed before its first request is served. */
static bool suite_refused(const struct server_http *h, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;
	gnutls_session_t s;

	if (!h->o.tls || !h->o.tls->restrict_suites)
		return false;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return true;
	s = ci->tls_session;
	if (gnutls_protocol_get_version(s) == GNUTLS_TLS1_3 ||
	    server__tls_suite_allowed(h->o.tls, (int)gnutls_kx_get(s), (int)gnutls_cipher_get(s),
				     (int)gnutls_mac_get(s)))
		return false;
	log_v(2, "\"Closing a connection whose cipher suite --tls-cipher-suites does not list\" "
		 "suite=\"%s\"", gnutls_cipher_suite_get_name(gnutls_kx_get(s), gnutls_cipher_get(s),
						      gnutls_mac_get(s)));
	return true;
}

/* Called for the headers, for each body chunk (counted, discarded) and once
 * more at the end, when the request is served. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct server_http *h = cls;
	struct server__req *r = *req_cls;

	(void)version;
	(void)upload_data;
	if (!r || !r->started) {
		if (suite_refused(h, c))
			return MHD_NO;
		r = req_start(r, c, url, method);
		r->h = h;
		*req_cls = r;
		return body_too_large(r) ? reply_too_large(r) : MHD_YES;
	}
	if (*upload_data_size > 0) {
		r->body_bytes += *upload_data_size;
		*upload_data_size = 0;
		if (r->responded || !body_too_large(r))
			return MHD_YES;
		return reply_too_large(r);
	}
	if (r->responded)
		return MHD_YES;
	if (r->answered || server__serve(h, r))
		return queue(r);
	return MHD_YES; /* suspended: a worker answers r, then resumes c */
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct server__req *r = *req_cls;

	(void)cls;
	(void)c;
	if (!r)
		return;
	if (!r->started) { /* MHD answered the request itself */
		free(r->raw_uri);
		free(r);
		*req_cls = NULL;
		return;
	}
	log_v(4, "\"HTTP\" verb=\"%s\" URI=\"%s\" latency=\"%.3fms\" resp=%d%s", r->x.method,
	      r->x.path, (double)(clock_now_ns() - r->x.now_ns) / 1e6, r->x.status,
	      toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=true");
	server__audit_finish(r->h, r);
	if (r->slot)
		atomic_fetch_sub(r->slot, 1);
	if (r->counted)
		atomic_fetch_sub(&r->h->active, 1);
	if (r->x.on_done)
		r->x.on_done(r->x.done_arg);
	if (r->have_user)
		server_user_clear(&r->user);
	server__audit_rec_clear(&r->audit);
	dynbuf_clear(&r->x.body);
	free(r->raw_uri);
	free(r);
	*req_cls = NULL;
}

/* A connection's life: its state (serving.c's server__conn: the
 * authenticator's verdicts, the serving pair its handshake took). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct server_http *h = cls;
	const union MHD_ConnectionInfo *info, *fd;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
		fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = server__conn_new(h->serving, info ? info->tls_session : NULL,
						   fd ? (int)fd->connect_fd : -1);
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		server__conn_free(*socket_context);
		*socket_context = NULL;
	}
}

static void reload_tick(void *ud)
{
	(void)server__serving_reload(ud);
}

bool server_http_reload_certs(struct server_http *h)
{
	return server__serving_reload(h->serving);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t len;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';
	log_v(2, "libmicrohttpd: %s", msg);
}

/* ---- the daemon --------------------------------------------------------------- */

union http_addr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

/* Fills addr from the bind address; *v6 tells the family. */
static int parse_bind(const char *bind, int port, union http_addr *addr, bool *v6)
{
	memset(addr, 0, sizeof(*addr));
	if (inet_pton(AF_INET, bind, &addr->v4.sin_addr) == 1) {
		addr->v4.sin_family = AF_INET;
		addr->v4.sin_port = htons((uint16_t)port);
		*v6 = false;
		return 0;
	}
	if (inet_pton(AF_INET6, bind, &addr->v6.sin6_addr) == 1) {
		addr->v6.sin6_family = AF_INET6;
		addr->v6.sin6_port = htons((uint16_t)port);
		*v6 = true;
		return 0;
	}
	return ERR_INVAL;
}

static struct MHD_Daemon *start_daemon(struct server_http *h, const union http_addr *addr,
				       unsigned flags)
{
	const struct server_http_options *o = &h->o;
	struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_SOCK_ADDR, 0, (void *)&addr->sa },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0,
		  (void *)(o->tls ? o->tls->priorities : HTTP_TLS_PRIORITIES) },
		{ MHD_OPTION_THREAD_POOL_SIZE, o->threads ? o->threads : 2, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, o->max_connections ? o->max_connections : 1024, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s ? o->timeout_s : 60, NULL },
		{ MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_CONN_MEMORY, NULL },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL },
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, h },
		{ MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, NULL },
		{ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL },
		/* SO_REUSEPORT too with --permit-port-sharing; else the timeout
		 * again (MHD's default already sets SO_REUSEADDR) */
		{ o->reuse_port ? MHD_OPTION_LISTENING_ADDRESS_REUSE : MHD_OPTION_CONNECTION_TIMEOUT,
		  o->reuse_port ? 1 : (o->timeout_s ? o->timeout_s : 60), NULL },
		/* Only makes GnuTLS ask for a client certificate; authn.c verifies it. */
		{ MHD_OPTION_HTTPS_MEM_TRUST, 0, h->trust_pem },
		{ MHD_OPTION_END, 0, NULL },
	};

	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_ARRAY, opts,
				MHD_OPTION_HTTPS_CERT_CALLBACK, server__serving_retrieve,
				MHD_OPTION_END);
}

struct server_http *server_http_start(const struct server_http_options *o, char *err,
				      size_t errlen)
{
	struct server_http *h = xcalloc(1, sizeof(*h));
	unsigned flags = MHD_USE_TLS | MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	const char *trust = server_authn_trust_pem(o->authn);
	const union MHD_DaemonInfo *info;
	union http_addr addr;
	bool v6;

	h->o = *o;
	h->workers = server__workers_start(HTTP_REVIEW_WORKERS); /* NULL: reviews inline */
	/* Any certificate will do (no names are sent): the serving one when no
	 * CA is configured yet, so a CA that comes later still gets certs. */
	h->trust_pem = xstrdup(trust ? trust : o->cert_pem);
	h->serving = server__serving_new(o->cert_pem, o->key_pem, o->cert_file, o->key_file,
					 o->sni_cert_keys, err, errlen);
	if (!h->serving)
		goto fail;
	if (parse_bind(o->bind_address, o->port, &addr, &v6) != 0) {
		snprintf(err, errlen, "invalid bind address %s", o->bind_address);
		goto fail;
	}
	/* Like Go, an unspecified IPv4 address listens on every family when the
	 * host has IPv6; plain IPv4 otherwise. */
	if (!v6 && addr.v4.sin_addr.s_addr == htonl(INADDR_ANY)) {
		union http_addr any6 = { .v6 = { .sin6_family = AF_INET6,
						 .sin6_port = addr.v4.sin_port,
						 .sin6_addr = IN6ADDR_ANY_INIT } };

		h->daemon = start_daemon(h, &any6, flags | MHD_USE_DUAL_STACK);
	}
	if (!h->daemon)
		h->daemon = start_daemon(h, &addr, flags | (v6 ? MHD_USE_IPv6 : 0));
	if (!h->daemon) {
		snprintf(err, errlen, "failed to listen on %s:%d (TLS material or port unusable)",
			 o->bind_address, o->port);
		goto fail;
	}
	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : o->port;
	if (((o->cert_file && *o->cert_file) || (o->sni_cert_keys && o->sni_cert_keys->n)) &&
	    o->reload_ns >= 0)
		h->reloader = server__ticker_start(o->reload_ns ? o->reload_ns : NS_PER_SEC,
						   reload_tick, h->serving);
	return h;
fail:
	server_http_stop(h);
	return NULL;
}

/* Waits until no request is being served; false when timeout_ns ran out. */
static bool wait_idle(struct server_http *h, int64_t timeout_ns)
{
	int64_t deadline = clock_now_ns() + timeout_ns;

	while (atomic_load(&h->active) > 0) {
		if (clock_now_ns() >= deadline)
			return false;
		nanosleep(&(struct timespec){ 0, 10 * NS_PER_MS }, NULL);
	}
	return true;
}

bool server_http_drain(struct server_http *h, bool retry_after, int64_t timeout_ns)
{
	if (!h)
		return true;
	atomic_store(&h->draining, retry_after);
	return wait_idle(h, timeout_ns);
}

int server_http_waiting(const struct server_http *h)
{
	return atomic_load(&h->waiting);
}

int server_http_port(const struct server_http *h)
{
	return h->port;
}

void server_http_stop(struct server_http *h)
{
	if (!h)
		return;
	server__ticker_stop(h->reloader);
	if (h->workers) {
		/* No connection may stay suspended; the answers the workers
		 * leave are sent before the connections close. */
		server__workers_stop(h->workers);
		(void)wait_idle(h, HTTP_STOP_FLUSH_NS);
	}
	if (h->daemon)
		MHD_stop_daemon(h->daemon);
	server__workers_free(h->workers);
	server__serving_free(h->serving); /* after every connection closed */
	free(h->trust_pem);
	free(h);
}
