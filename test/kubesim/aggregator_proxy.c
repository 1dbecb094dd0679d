/*
 * aggregator_proxy.c - kube-aggregator's proxy handler (handler_proxy.go):
 * /apis/<group>/<version>[/...] of a registered, non-local APIService is
 * forwarded to its backend with the requesting user's identity in
 * X-Remote-* headers and the path and query re-encoded the way Go does.
 *
 * Differences from Go, on purpose: the response is buffered (bounded by
 * SIM_AGG_MAX_BODY, so watches cannot be proxied), Accept-Encoding is not
 * forwarded (responses stay identity-encoded), and X-Forwarded-For names
 * SIM_AGG_CLIENT_IP because sim_request carries no peer address.
 */
#include "test/kubesim/aggregator_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIM_AGG_CLIENT_IP "127.0.0.1"
#define DISCOVERY_TIMEOUT_MS 5000L
#define MAX_QUERY_PAIRS 4096
#define MAX_GROUP 253
#define MAX_VERSION 63

static const char *const forwarded_headers[] = {
	"Accept", "Accept-Language", "User-Agent", "Content-Type",
	"If-None-Match", "If-Match", "If-Modified-Since", "Audit-Id",
};

/* ---- escaping (Go net/url and client-go) --------------------------------- */

static bool is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

/* RFC 7230 tchar. */
static bool is_token_char(unsigned char c)
{
	return is_unreserved(c) || (c && strchr("!#$%&'*+^`|", c) != NULL);
}

static void add_pct(struct dynbuf *b, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char pct[3] = {'%', hex[c >> 4], hex[c & 15]};

	if (dynbuf_add(b, pct, 3))
		log_warn("aggregator: escaped string too long");
}

static void add_byte(struct dynbuf *b, char c)
{
	if (dynbuf_addch(b, c))
		log_warn("aggregator: escaped string too long");
}

/* Go url.QueryEscape (common/urlescape.c), logged once when too long. */
static void query_escape(struct dynbuf *b, const char *s, size_t n)
{
	if (url_escape_append(b, s, n, URL_ESCAPE_QUERY))
		log_warn("aggregator: escaped string too long");
}

/* Go escape(path, encodePath), as URL.EscapedPath without a RawPath. */
static void path_escape(struct dynbuf *b, const char *s)
{
	if (url_escape_append(b, s, strlen(s), URL_ESCAPE_PATH))
		log_warn("aggregator: escaped string too long");
}

char *sim_agg_header_key_escape(const char *key)
{
	struct dynbuf b;
	size_t len;

	dynbuf_init(&b, DYN_SMALL);
	for (; *key; key++) {
		unsigned char c = (unsigned char)*key;

		if (!is_token_char(c) || c == '%')
			add_pct(&b, c);
		else
			add_byte(&b, (char)c);
	}
	if (!b.buf)
		return xstrdup("");
	return dynbuf_take(&b, &len);
}

/* ---- query re-encoding ------------------------------------------------------ */

struct qpair {
	char *key;
	char *value;
	size_t order;
};

static int qpair_cmp(const void *x, const void *y)
{
	const struct qpair *p = x, *q = y;
	int c = strcmp(p->key, q->key);

	if (c)
		return c;
	return p->order < q->order ? -1 : p->order > q->order;
}

/* parseQuery: one "k=v" segment into pairs[*n]; bad segments are skipped. */
static void parse_segment(const char *seg, size_t len, struct qpair *pairs, size_t *n)
{
	const char *eq = memchr(seg, '=', len);
	size_t klen = eq ? (size_t)(eq - seg) : len;
	char *k, *v;

	if (len == 0 || memchr(seg, ';', len))
		return;
	k = url_unescape(seg, klen, true);
	v = eq ? url_unescape(eq + 1, len - klen - 1, true) : xstrdup("");
	if (!k || !v) {
		free(k);
		free(v);
		return;
	}
	pairs[*n].key = k;
	pairs[*n].value = v;
	pairs[*n].order = *n;
	(*n)++;
}

char *sim_agg_query_reencode(const char *raw)
{
	struct qpair *pairs = xcalloc(MAX_QUERY_PAIRS, sizeof(*pairs));
	const char *p = raw ? raw : "", *amp;
	struct dynbuf b;
	size_t n = 0, i, len;

	while (*p && n < MAX_QUERY_PAIRS) {
		amp = strchr(p, '&');
		len = amp ? (size_t)(amp - p) : strlen(p);
		parse_segment(p, len, pairs, &n);
		p += len + (amp ? 1 : 0);
	}
	qsort(pairs, n, sizeof(*pairs), qpair_cmp);
	dynbuf_init(&b, DYN_REQUEST_BODY);
	for (i = 0; i < n; i++) {
		if (i)
			add_byte(&b, '&');
		query_escape(&b, pairs[i].key, strlen(pairs[i].key));
		add_byte(&b, '=');
		query_escape(&b, pairs[i].value, strlen(pairs[i].value));
		free(pairs[i].key);
		free(pairs[i].value);
	}
	free(pairs);
	if (!b.buf)
		return xstrdup("");
	return dynbuf_take(&b, &len);
}

/* ---- identity headers --------------------------------------------------------- */

/* Go textproto.CanonicalMIMEHeaderKey for token-only names. */
static void canonical_header(char *s)
{
	bool upper = true;

	for (; *s; s++) {
		if (upper && *s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
		else if (!upper && *s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
		upper = *s == '-';
	}
}

static struct curl_slist *add_line(struct curl_slist *l, const char *name, const char *value)
{
	char *line = xasprintf("%s: %s", name, value);

	l = curl_slist_append(l, line);
	free(line);
	return l;
}

struct curl_slist *sim_agg_identity_headers(struct curl_slist *l, const char *user,
					    const char *const *groups, size_t ngroups,
					    const json_t *extra)
{
	const char *key;
	const json_t *vals, *v;
	char *esc, *name;
	size_t i;

	l = add_line(l, "X-Remote-User", user);
	for (i = 0; i < ngroups; i++)
		l = add_line(l, "X-Remote-Group", groups[i]);
	json_object_foreach((json_t *)extra, key, vals) {
		esc = sim_agg_header_key_escape(key);
		name = xasprintf("X-Remote-Extra-%s", esc);
		canonical_header(name);
		json_array_foreach(vals, i, v) {
			if (json_is_string(v))
				l = add_line(l, name, json_string_value(v));
		}
		free(name);
		free(esc);
	}
	return l;
}

static bool has_audit_id(const struct sim_request *req)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, "Audit-Id") == 0 && *req->headers[i].value)
			return true;
	return false;
}

/* Copies the forwarded request headers; X-Remote-* and the rest are dropped. */
static struct curl_slist *copy_headers(const struct sim_request *req)
{
	struct curl_slist *l = NULL;
	const char *xff = NULL;
	char *line;
	size_t i, j;

	for (i = 0; i < req->nheaders; i++) {
		const struct sim_header *h = &req->headers[i];

		if (strcasecmp(h->name, "X-Forwarded-For") == 0)
			xff = h->value;
		for (j = 0; j < COMMON_ARRAY_LEN(forwarded_headers); j++) {
			if (strcasecmp(h->name, forwarded_headers[j]) == 0)
				l = add_line(l, forwarded_headers[j], h->value);
		}
	}
	line = xff ? xasprintf("%s, %s", xff, SIM_AGG_CLIENT_IP) : xstrdup(SIM_AGG_CLIENT_IP);
	l = add_line(l, "X-Forwarded-For", line);
	free(line);
	if (!has_audit_id(req)) { /* NewRequestForProxy: the request's own audit ID */
		char id[37];

		uuid_new(id);
		l = add_line(l, "Audit-Id", id);
	}
	return l;
}

/* ---- the handler ---------------------------------------------------------------- */

/* Matches /apis/<group>/<version>[/...]; *discovery: nothing follows. */
static bool parse_gv(const char *path, char *group, char *version, bool *discovery)
{
	const char *g, *v, *end;

	if (strncmp(path, "/apis/", 6) != 0)
		return false;
	g = path + 6;
	v = strchr(g, '/');
	if (!v || v == g || (size_t)(v - g) > MAX_GROUP)
		return false;
	v++;
	end = strchr(v, '/');
	if (!end)
		end = v + strlen(v);
	if (end == v || (size_t)(end - v) > MAX_VERSION)
		return false;
	memcpy(group, g, (size_t)(v - 1 - g));
	group[v - 1 - g] = '\0';
	memcpy(version, v, (size_t)(end - v));
	version[end - v] = '\0';
	*discovery = *end == '\0' || strcmp(end, "/") == 0;
	return true;
}

/* http.Error: text/plain body with a newline, nosniff. */
static void text_response(struct sim_response *resp, int status, const char *text)
{
	resp->status = status;
	free(resp->content_type);
	resp->content_type = xstrdup("text/plain; charset=utf-8");
	sim_response_add_header(resp, "X-Content-Type-Options", "nosniff");
	dynbuf_reset(&resp->body);
	if (dynbuf_addstr(&resp->body, text))
		log_warn("aggregator: response text too long");
}

static const char *find_out_header(const struct agg_call *call, const char *name)
{
	size_t i;

	for (i = 0; i < call->nheaders_out; i++) {
		if (strcasecmp(call->headers_out[i].name, name) == 0)
			return call->headers_out[i].value;
	}
	return NULL;
}

static void copy_response(struct agg_call *call, struct sim_response *resp)
{
	size_t i;

	if (call->status >= 300 && call->status <= 399 && find_out_header(call, "Location")) {
		resp->status = 502;
		free(resp->content_type);
		resp->content_type = xstrdup("text/plain; charset=utf-8");
		dynbuf_reset(&resp->body);
		if (dynbuf_addstr(&resp->body, "the backend attempted to redirect this request, "
						"which is not permitted"))
			log_warn("aggregator: response text too long");
		return;
	}
	resp->status = (int)call->status;
	free(resp->content_type);
	resp->content_type = call->content_type;
	call->content_type = NULL;
	if (!resp->content_type && call->body_out.len)
		resp->content_type = xstrdup("text/plain; charset=utf-8");
	for (i = 0; i < call->nheaders_out; i++)
		sim_response_add_header(resp, call->headers_out[i].name,
					call->headers_out[i].value);
	dynbuf_clear(&resp->body);
	resp->body = call->body_out;
	dynbuf_init(&call->body_out, SIM_AGG_MAX_BODY);
}

static char *target_path(const struct sim_request *req)
{
	struct dynbuf b;
	char *q = req->query && *req->query ? sim_agg_query_reencode(req->query) : xstrdup("");
	size_t len;

	dynbuf_init(&b, DYN_REQUEST_BODY);
	path_escape(&b, req->path);
	if (*q) {
		add_byte(&b, '?');
		if (dynbuf_addstr(&b, q))
			log_warn("aggregator: query too long");
	}
	free(q);
	return dynbuf_take(&b, &len);
}

static void forward(struct sim_aggregator *a, const struct agg_target *t,
		    const struct sim_request *req, bool discovery, struct sim_response *resp)
{
	struct agg_call call;
	char *path = target_path(req), *msg;
	struct curl_slist *hdrs = copy_headers(req);
	int rc;

	hdrs = sim_agg_identity_headers(hdrs, req->user, req->groups, req->ngroups, NULL);
	sim_agg_call_init(&call);
	call.t = t;
	call.method = req->method;
	call.path = path;
	call.body = req->body;
	call.body_len = req->body_len;
	call.headers = hdrs;
	call.verify = true;
	call.timeout_ms = discovery ? DISCOVERY_TIMEOUT_MS : SIM_AGG_PROXY_TIMEOUT_MS;
	rc = sim_agg_perform(a, &call);
	if (rc == ERR_TOOBIG) {
		msg = xasprintf("%s\n", call.err);
		text_response(resp, 502, msg);
		free(msg);
	} else if (rc) {
		msg = xasprintf("%s\n", call.err);
		text_response(resp, 503, msg);
		free(msg);
	} else {
		copy_response(&call, resp);
	}
	sim_agg_call_clear(&call);
	curl_slist_free_all(hdrs);
	free(path);
}

bool sim_aggregator_proxy(struct sim_aggregator *a, const struct sim_request *req,
			  struct sim_response *resp)
{
	char group[MAX_GROUP + 1], version[MAX_VERSION + 1];
	struct agg_target t = {0};
	struct agg_entry *e;
	bool discovery;

	if (!a || !req->path || !parse_gv(req->path, group, version, &discovery))
		return false;
	pthread_mutex_lock(&a->mu);
	e = sim_agg_find(a, group, version);
	if (e && e->svc_name)
		sim_agg_target_from(&t, e);
	pthread_mutex_unlock(&a->mu);
	if (!t.name)
		return false; /* not registered, or Local: served by the apiserver */
	if (!t.available)
		text_response(resp, 503, "service unavailable\n");
	else if (!req->user)
		text_response(resp, 500, "missing user\n");
	else
		forward(a, &t, req, discovery, resp);
	sim_agg_target_clear(&t);
	return true;
}
