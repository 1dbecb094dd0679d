/*
 * http.c - kubesim's HTTPS server (libmicrohttpd, a thread per
 * connection, GnuTLS): bounded request bodies, authentication by client
 * certificate (verified against the cluster CA) or bearer token, 401
 * Status for anyone else, streamed responses for watches, and the
 * sim_response_* helpers.  A client certificate of the front-proxy CA
 * (CN front-proxy-client, what kubesim's own aggregator presents) is
 * requestheader authentication as an aggregated API server does it: the
 * user and groups come from X-Remote-User / X-Remote-Group and the
 * request is marked front_proxy, so an APIService may point at kubesim
 * itself (the fake metrics provider of metrics_provider.c).
 */
#include "test/kubesim/apiserver.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_MAX_HEADERS 128
#define HTTP_MAX_CONNECTIONS 4000
#define HTTP_STREAM_BLOCK (64u << 10)
#define HTTP_MAX_GROUPS 16
#define FRONT_PROXY_CN "front-proxy-client" /* --requestheader-allowed-names */

struct sim_server {
	struct MHD_Daemon *daemon;
	struct sim_cluster *c;
	struct certs_pair tls;
	char *trust_pem;         /* cluster CA + front-proxy CA */
	gnutls_x509_crt_t fp_ca; /* the front-proxy CA, NULL if none */
};

static atomic_bool stopping;

bool sim_server_stopping(void)
{
	return atomic_load(&stopping);
}

void sim_server_shutdown_streams(void)
{
	atomic_store(&stopping, true);
}

/* ---- sim_response ---------------------------------------------------------------- */

void sim_response_init(struct sim_response *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
	dynbuf_init(&r->body, DYN_API_RESPONSE);
}

void sim_response_clear(struct sim_response *r)
{
	size_t i;

	free(r->content_type);
	dynbuf_clear(&r->body);
	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	if (r->stream_free)
		r->stream_free(r->stream_ud);
	memset(r, 0, sizeof(*r));
}

void sim_response_json(struct sim_response *r, int status, json_t *body)
{
	char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;

	json_decref(body);
	dynbuf_reset(&r->body);
	free(r->content_type);
	r->content_type = xstrdup("application/json");
	r->status = status;
	if (!s || dynbuf_addstr(&r->body, s)) {
		r->status = 500;
		dynbuf_reset(&r->body);
	}
	free(s);
}

void sim_response_status_details(struct sim_response *r, int code, const char *reason,
				 const char *message, json_t *details)
{
	json_t *st = json_pack("{s:s,s:s,s:{},s:s,s:s,s:s}", "kind", "Status", "apiVersion", "v1",
			       "metadata", "status", code < 400 ? "Success" : "Failure", "message",
			       message ? message : "", "reason", reason ? reason : "");

	if (details)
		json_object_set_new(st, "details", details);
	json_object_set_new(st, "code", json_integer(code));
	sim_response_json(r, code, st);
}

void sim_response_status(struct sim_response *r, int code, const char *reason,
			 const char *message)
{
	sim_response_status_details(r, code, reason, message, NULL);
}

void sim_response_add_header(struct sim_response *r, const char *name, const char *value)
{
	r->headers = xrealloc(r->headers, (r->nheaders + 1) * sizeof(*r->headers));
	r->headers[r->nheaders].name = xstrdup(name);
	r->headers[r->nheaders].value = xstrdup(value);
	r->nheaders++;
}

const char *sim_request_header(const struct sim_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

const char *sim_request_arg(const struct sim_request *req, const char *name)
{
	return json_string_value(json_object_get(req->query_args, name));
}

/* ---- request assembly ------------------------------------------------------------ */

struct req_ctx {
	struct dynbuf body;
	bool too_big;
	struct sim_header headers[HTTP_MAX_HEADERS];
	size_t nheaders;
	json_t *args;          /* first value of each argument */
	json_t *pairs;         /* [[k, v], ...] in arrival order */
	char *user;
	char *groups[HTTP_MAX_GROUPS];
	size_t ngroups;
	bool front_proxy;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	struct req_ctx *ctx = cls;

	COMMON_UNUSED(kind);
	if (ctx->nheaders < HTTP_MAX_HEADERS) {
		ctx->headers[ctx->nheaders].name = (char *)key;
		ctx->headers[ctx->nheaders].value = (char *)(value ? value : "");
		ctx->nheaders++;
	}
	return MHD_YES;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct req_ctx *ctx = cls;

	COMMON_UNUSED(kind);
	if (json_array_size(ctx->pairs) >= HTTP_MAX_HEADERS)
		return MHD_NO;
	if (!json_object_get(ctx->args, key))
		json_object_set_new(ctx->args, key, json_string(value ? value : ""));
	json_array_append_new(ctx->pairs, json_pack("[s,s]", key, value ? value : ""));
	return MHD_YES;
}

static int cmp_pair(const void *a, const void *b)
{
	return strcmp(json_string_value(json_array_get(*(json_t *const *)a, 0)),
		      json_string_value(json_array_get(*(json_t *const *)b, 0)));
}

static int add_escaped(struct dynbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (; *s && !rc; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.' || ch == '~')
			rc = dynbuf_addch(b, (char)ch);
		else if (ch == ' ')
			rc = dynbuf_addch(b, '+');
		else
			rc = dynbuf_printf(b, "%%%c%c", hex[ch >> 4], hex[ch & 15]);
	}
	return rc;
}

/* Go's url.Values.Encode(): keys sorted (stable), values escaped. */
static char *encode_query(json_t *pairs)
{
	size_t n = json_array_size(pairs), i, j;
	json_t **v = xcalloc(n ? n : 1, sizeof(*v));
	struct dynbuf b;

	dynbuf_init(&b, DYN_SMALL);
	for (i = 0; i < n; i++)
		v[i] = json_array_get(pairs, i);
	for (i = 1; i < n; i++) /* insertion sort keeps equal keys in order */
		for (j = i; j > 0 && cmp_pair(&v[j - 1], &v[j]) > 0; j--) {
			json_t *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	for (i = 0; i < n; i++) {
		if ((i && dynbuf_addch(&b, '&')) ||
		    add_escaped(&b, json_string_value(json_array_get(v[i], 0))) ||
		    dynbuf_addch(&b, '=') ||
		    add_escaped(&b, json_string_value(json_array_get(v[i], 1))))
			break;
	}
	free(v);
	return dynbuf_take(&b, NULL);
}

static void ctx_free(struct req_ctx *ctx)
{
	size_t i;

	dynbuf_clear(&ctx->body);
	json_decref(ctx->args);
	json_decref(ctx->pairs);
	free(ctx->user);
	for (i = 0; i < ctx->ngroups; i++)
		free(ctx->groups[i]);
	free(ctx);
}

/* ---- authentication ----------------------------------------------------------------- */

/* Subject attribute values (CN or O) of the peer's leaf certificate. */
static void cert_identity(gnutls_x509_crt_t crt, struct req_ctx *ctx)
{
	char buf[256];
	size_t len = sizeof(buf);
	unsigned i;

	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &len) == 0)
		ctx->user = xstrndup(buf, len);
	for (i = 0; ctx->ngroups < HTTP_MAX_GROUPS; i++) {
		len = sizeof(buf);
		if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, i, 0, buf,
						  &len) != 0)
			break;
		ctx->groups[ctx->ngroups++] = xstrndup(buf, len);
	}
}

/* Issued by the front-proxy CA? */
static bool from_front_proxy(const struct sim_server *srv, gnutls_x509_crt_t crt)
{
	unsigned int status = 1;

	return srv->fp_ca && gnutls_x509_crt_verify(crt, &srv->fp_ca, 1, 0, &status) == 0 &&
	       status == 0;
}

/* requestheader authentication: the identity the aggregator forwards. */
static int front_proxy_identity(const struct sim_request *req, struct req_ctx *ctx)
{
	const char *user = sim_request_header(req, "X-Remote-User");

	if (!ctx->user || strcmp(ctx->user, FRONT_PROXY_CN) != 0 || !user || !*user)
		return -1;
	for (size_t i = 0; i < ctx->ngroups; i++)
		free(ctx->groups[i]);
	ctx->ngroups = 0;
	free(ctx->user);
	ctx->user = xstrdup(user);
	for (size_t i = 0; i < req->nheaders && ctx->ngroups < HTTP_MAX_GROUPS; i++) {
		if (strcasecmp(req->headers[i].name, "X-Remote-Group") == 0)
			ctx->groups[ctx->ngroups++] = xstrdup(req->headers[i].value);
	}
	ctx->front_proxy = true;
	return 1;
}

/* 1 = authenticated, 0 = no credentials, -1 = bad credentials. */
static int auth_cert(const struct sim_server *srv, struct MHD_Connection *conn,
		     const struct sim_request *req, struct req_ctx *ctx)
{
	bool proxy = false;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t session = ci ? (gnutls_session_t)ci->tls_session : NULL;
	const gnutls_datum_t *peers;
	unsigned int npeers = 0, status = 0;
	gnutls_x509_crt_t crt;

	if (!session)
		return 0;
	peers = gnutls_certificate_get_peers(session, &npeers);
	if (!peers || !npeers)
		return 0;
	if (gnutls_certificate_verify_peers2(session, &status) != 0 || status != 0)
		return -1;
	if (gnutls_x509_crt_init(&crt) != 0)
		return -1;
	if (gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) == 0) {
		cert_identity(crt, ctx);
		proxy = from_front_proxy(srv, crt);
	}
	gnutls_x509_crt_deinit(crt);
	if (proxy)
		return front_proxy_identity(req, ctx);
	return ctx->user ? 1 : -1;
}

static int auth_token(const struct sim_cluster *c, const struct sim_request *req,
		      struct req_ctx *ctx)
{
	const char *h = sim_request_header(req, "Authorization");

	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	while (*h == ' ')
		h++;
	if (!*h)
		return 0;
	if (!c->cfg.token || strcmp(h, c->cfg.token) != 0)
		return -1;
	ctx->user = xstrdup("kubesim-admin");
	ctx->groups[ctx->ngroups++] = xstrdup("system:masters");
	return 1;
}

static bool anonymous_path(const char *p)
{
	return strcmp(p, "/healthz") == 0 || strcmp(p, "/livez") == 0 ||
	       strcmp(p, "/readyz") == 0 || strcmp(p, "/version") == 0;
}

static bool authenticate(struct sim_server *srv, struct MHD_Connection *conn,
			 struct sim_request *req, struct req_ctx *ctx)
{
	int rc = auth_cert(srv, conn, req, ctx);

	if (rc == 0)
		rc = auth_token(srv->c, req, ctx);
	if (rc == 1 && ctx->ngroups < HTTP_MAX_GROUPS)
		ctx->groups[ctx->ngroups++] = xstrdup("system:authenticated");
	if (rc != 1 && !anonymous_path(req->path))
		return false;
	req->user = ctx->user ? ctx->user : "system:anonymous";
	req->groups = (const char *const *)ctx->groups;
	req->ngroups = ctx->ngroups;
	req->front_proxy = ctx->front_proxy;
	return true;
}

/* ---- responses ------------------------------------------------------------------------ */

struct stream_ctx {
	long (*fn)(void *ud, char *buf, size_t max);
	void (*free_fn)(void *ud);
	void *ud;
};

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_ctx *s = cls;
	long n = s->fn(s->ud, buf, max);

	COMMON_UNUSED(pos);
	if (n < 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	return (ssize_t)n;
}

static void stream_done(void *cls)
{
	struct stream_ctx *s = cls;

	if (s->free_fn)
		s->free_fn(s->ud);
	free(s);
}

static enum MHD_Result queue(struct MHD_Connection *conn, struct sim_response *r)
{
	struct MHD_Response *mr;
	enum MHD_Result ret;
	size_t i, len;

	if (r->stream) {
		struct stream_ctx *s = xcalloc(1, sizeof(*s));

		s->fn = r->stream;
		s->free_fn = r->stream_free;
		s->ud = r->stream_ud;
		r->stream_free = NULL; /* owned by MHD now */
		mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, HTTP_STREAM_BLOCK,
						       stream_reader, s, stream_done);
	} else {
		char *body = dynbuf_take(&r->body, &len);

		mr = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
		if (!mr)
			free(body);
	}
	if (!mr)
		return MHD_NO;
	MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
				r->content_type ? r->content_type : "application/json");
	MHD_add_response_header(mr, "Cache-Control", "no-cache, private");
	for (i = 0; i < r->nheaders; i++)
		MHD_add_response_header(mr, r->headers[i].name, r->headers[i].value);
	ret = MHD_queue_response(conn, (unsigned)r->status, mr);
	MHD_destroy_response(mr);
	return ret;
}

static enum MHD_Result serve(struct sim_server *srv, struct MHD_Connection *conn,
			     const char *url, const char *method, struct req_ctx *ctx)
{
	struct sim_request req = { 0 };
	struct sim_response resp;
	enum MHD_Result ret;
	char *query;

	ctx->args = json_object();
	ctx->pairs = json_array();
	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, ctx);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, ctx);
	query = encode_query(ctx->pairs);
	req.method = method;
	req.path = url;
	req.query = query;
	req.query_args = ctx->args;
	req.body = ctx->body.buf ? ctx->body.buf : "";
	req.body_len = ctx->body.len;
	req.headers = ctx->headers;
	req.nheaders = ctx->nheaders;
	sim_response_init(&resp);
	if (ctx->too_big)
		sim_response_status(&resp, 413, "RequestEntityTooLarge",
				    "the request body exceeds the server's limit");
	else if (!authenticate(srv, conn, &req, ctx))
		sim_response_status(&resp, 401, "Unauthorized", "Unauthorized");
	else
		sim_route(srv->c, &req, &resp);
	log_v(4, "kubesim %s %s?%s %d user=%s", method, url, query, resp.status,
	      req.user ? req.user : "-");
	ret = queue(conn, &resp);
	sim_response_clear(&resp);
	free(query);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct req_ctx *ctx = *con_cls;

	COMMON_UNUSED(version);
	if (!ctx) {
		ctx = xcalloc(1, sizeof(*ctx));
		dynbuf_init(&ctx->body, DYN_REQUEST_BODY);
		*con_cls = ctx;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!ctx->too_big && dynbuf_add(&ctx->body, upload_data, *upload_size))
			ctx->too_big = true;
		*upload_size = 0;
		return MHD_YES;
	}
	return serve(cls, conn, url, method, ctx);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	COMMON_UNUSED(cls);
	COMMON_UNUSED(conn);
	COMMON_UNUSED(toe);
	if (*con_cls)
		ctx_free(*con_cls);
	*con_cls = NULL;
}

/* ---- daemon ---------------------------------------------------------------------------- */

/* Client certificates of the cluster CA and of the front-proxy CA are
 * accepted; the latter is kept to tell the aggregator's apart. */
static int trust_front_proxy(struct sim_server *srv, char *err, size_t errlen)
{
	const char *fp = srv->c->front_proxy_ca.cert_pem;
	gnutls_datum_t d;

	srv->trust_pem = xasprintf("%s%s", srv->c->ca.cert_pem, fp ? fp : "");
	if (!fp)
		return 0;
	d.data = (unsigned char *)fp;
	d.size = (unsigned int)strlen(fp);
	if (gnutls_x509_crt_init(&srv->fp_ca) != 0 ||
	    gnutls_x509_crt_import(srv->fp_ca, &d, GNUTLS_X509_FMT_PEM) != 0) {
		snprintf(err, errlen, "cannot read the front-proxy CA certificate");
		return ERR_TLS;
	}
	return 0;
}

static void server_free(struct sim_server *srv)
{
	certs_pair_clear(&srv->tls);
	if (srv->fp_ca)
		gnutls_x509_crt_deinit(srv->fp_ca);
	free(srv->trust_pem);
	free(srv);
}

struct sim_server *sim_server_start(struct sim_cluster *c, char *err, size_t errlen)
{
	struct sim_server *srv = xcalloc(1, sizeof(*srv));
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)c->cfg.port) };
	const union MHD_DaemonInfo *info;
	char cn[] = "kubesim-apiserver";
	const char *dns[] = { "localhost", "kubernetes", "kubernetes.default",
			      "kubernetes.default.svc" };
	const char *ips[] = { c->cfg.bind };
	struct certs_spec spec = { .cn = cn, .dns = dns, .ndns = 4, .ips = ips, .nips = 1,
				   .server_auth = true };

	srv->c = c;
	if (inet_pton(AF_INET, c->cfg.bind, &addr.sin_addr) != 1) {
		snprintf(err, errlen, "--bind %s is not an IPv4 address", c->cfg.bind);
		goto fail;
	}
	if (certs_create(&spec, &c->ca, &srv->tls, err, errlen))
		goto fail;
	if (trust_front_proxy(srv, err, errlen))
		goto fail;
	srv->daemon = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS |
			MHD_USE_ERROR_LOG,
		0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_HTTPS_MEM_KEY, srv->tls.key_pem, MHD_OPTION_HTTPS_MEM_CERT,
		srv->tls.cert_pem, MHD_OPTION_HTTPS_MEM_TRUST, srv->trust_pem,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)HTTP_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0,
		MHD_OPTION_THREAD_STACK_SIZE, (size_t)(512u << 10), MHD_OPTION_LISTEN_BACKLOG_SIZE,
		(unsigned)1024, MHD_OPTION_END);
	if (!srv->daemon) {
		snprintf(err, errlen, "cannot listen on %s:%d", c->cfg.bind, c->cfg.port);
		goto fail;
	}
	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	free(c->server_url);
	c->server_url = xasprintf("https://%s:%u", c->cfg.bind, info ? info->port : 0);
	return srv;
fail:
	server_free(srv);
	return NULL;
}

void sim_server_stop(struct sim_server *srv)
{
	if (!srv)
		return;
	sim_server_shutdown_streams();
	if (srv->c->store)
		sim_store_wake(srv->c->store);
	MHD_stop_daemon(srv->daemon);
	server_free(srv);
}
