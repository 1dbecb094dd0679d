/*
 * aggregator_http.c - libcurl transfers from the aggregator to backends.
 *
 * Handles come from a small pool so connections (and TLS sessions) are
 * kept alive between requests.  Two modes, as kube-aggregator:
 *   proxy (call->verify): URL host <svc>.<ns>.svc, connected to the
 *     resolved endpoint with CURLOPT_CONNECT_TO, so SNI and certificate
 *     verification use the service name; Host is the endpoint; the caBundle
 *     (or nothing when insecureSkipTLSVerify) is the trust.
 *   probe: https://<endpoint> directly, no verification.
 * Both present the front-proxy client certificate.  Transport errors are
 * worded like Go's net/http so messages match the real aggregator's.
 */
#include "test/kubesim/aggregator_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONNECT_TIMEOUT_MS 5000L

/* ---- handle pool ---------------------------------------------------------- */

void sim_agg_pool_init(struct agg_pool *p)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_mutex_init(&p->mu, NULL);
	p->n = 0;
}

void sim_agg_pool_clear(struct agg_pool *p)
{
	while (p->n)
		curl_easy_cleanup(p->idle[--p->n]);
	pthread_mutex_destroy(&p->mu);
	curl_global_cleanup();
}

static CURL *pool_get(struct agg_pool *p)
{
	CURL *h = NULL;

	pthread_mutex_lock(&p->mu);
	if (p->n)
		h = p->idle[--p->n];
	pthread_mutex_unlock(&p->mu);
	if (!h)
		h = xcheck(curl_easy_init(), "aggregator: curl_easy_init");
	return h;
}

/* Resets the options, keeps the live connections. */
static void pool_put(struct agg_pool *p, CURL *h)
{
	curl_easy_reset(h);
	pthread_mutex_lock(&p->mu);
	if (p->n < SIM_AGG_POOL_SIZE) {
		p->idle[p->n++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	if (h)
		curl_easy_cleanup(h);
}

/* ---- call state ----------------------------------------------------------- */

void sim_agg_call_init(struct agg_call *call)
{
	memset(call, 0, sizeof(*call));
	dynbuf_init(&call->body_out, SIM_AGG_MAX_BODY);
}

static void clear_headers_out(struct agg_call *call)
{
	size_t i;

	for (i = 0; i < call->nheaders_out; i++) {
		free(call->headers_out[i].name);
		free(call->headers_out[i].value);
	}
	call->nheaders_out = 0;
	free(call->content_type);
	call->content_type = NULL;
}

void sim_agg_call_clear(struct agg_call *call)
{
	clear_headers_out(call);
	dynbuf_clear(&call->body_out);
}

static bool hop_by_hop(const char *name, size_t len)
{
	static const char *const skip[] = {
		"connection", "keep-alive", "transfer-encoding", "content-length", "trailer",
		"upgrade", "proxy-connection", "proxy-authenticate", "date", "te",
	};
	size_t i;

	for (i = 0; i < COMMON_ARRAY_LEN(skip); i++) {
		if (strlen(skip[i]) == len && strncasecmp(name, skip[i], len) == 0)
			return true;
	}
	return false;
}

static size_t on_header(char *line, size_t size, size_t nitems, void *ud)
{
	struct agg_call *call = ud;
	size_t len = size * nitems, nlen;
	const char *colon, *v, *end = line + len;

	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) { /* a new response (1xx first) */
		clear_headers_out(call);
		return len;
	}
	colon = memchr(line, ':', len);
	if (!colon)
		return len;
	nlen = (size_t)(colon - line);
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	if (nlen == 12 && strncasecmp(line, "content-type", 12) == 0) {
		free(call->content_type);
		call->content_type = xstrndup(v, (size_t)(end - v));
	} else if (!hop_by_hop(line, nlen) && call->nheaders_out < SIM_AGG_MAX_RESP_HEADERS) {
		call->headers_out[call->nheaders_out].name = xstrndup(line, nlen);
		call->headers_out[call->nheaders_out].value = xstrndup(v, (size_t)(end - v));
		call->nheaders_out++;
	}
	return len;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct agg_call *call = ud;

	if (dynbuf_add(&call->body_out, data, size * nmemb)) {
		call->too_large = true;
		return 0;
	}
	return size * nmemb;
}

/* ---- errors ------------------------------------------------------------------ */

/* Go net/http wording for the common failures. Returns the error code. */
static int go_error(struct agg_call *call, CURLcode rc, const char *errbuf)
{
	const char *detail = *errbuf ? errbuf : curl_easy_strerror(rc);
	const char *ep = call->t->endpoint;

	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		snprintf(call->err, sizeof(call->err), "dial tcp %s: connect: connection refused",
			 ep);
		return ERR_IO;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(call->err, sizeof(call->err),
			 "context deadline exceeded (Client.Timeout exceeded while awaiting headers)");
		return ERR_TIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		snprintf(call->err, sizeof(call->err), "tls: failed to verify certificate: %s",
			 detail);
		return ERR_TLS;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
		snprintf(call->err, sizeof(call->err), "remote error: tls: %s", detail);
		return ERR_TLS;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		snprintf(call->err, sizeof(call->err), "EOF");
		return ERR_IO;
	case CURLE_WRITE_ERROR:
		if (call->too_large) {
			snprintf(call->err, sizeof(call->err),
				 "the backend response exceeds %u bytes", SIM_AGG_MAX_BODY);
			return ERR_TOOBIG;
		}
		break;
	default:
		break;
	}
	snprintf(call->err, sizeof(call->err), "%s", detail);
	return ERR_IO;
}

/* ---- one transfer ------------------------------------------------------------- */

/* Splits "host:port" / "[v6]:port" at the last colon. 0 or ERR_INVAL. */
static int split_endpoint(const char *ep, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon = strrchr(ep, ':');
	size_t n;

	if (!colon || colon == ep || !colon[1])
		return ERR_INVAL;
	n = (size_t)(colon - ep);
	if (n >= hlen || strlen(colon + 1) >= plen)
		return ERR_INVAL;
	memcpy(host, ep, n);
	host[n] = '\0';
	snprintf(port, plen, "%s", colon + 1);
	return 0;
}

static bool has_header(const struct curl_slist *l, const char *name)
{
	size_t n = strlen(name);

	for (; l; l = l->next) {
		if (strncasecmp(l->data, name, n) == 0 && l->data[n] == ':')
			return true;
	}
	return false;
}

/* The request headers: the caller's plus Host, and curl's defaults removed. */
static struct curl_slist *request_headers(const struct agg_call *call)
{
	struct curl_slist *out = NULL, *l;
	char *host;

	for (l = call->headers; l; l = l->next)
		out = curl_slist_append(out, l->data);
	if (!has_header(call->headers, "Accept"))
		out = curl_slist_append(out, "Accept:");
	out = curl_slist_append(out, "Expect:");
	if (call->verify) {
		host = xasprintf("Host: %s", call->t->endpoint);
		out = curl_slist_append(out, host);
		free(host);
	}
	return out;
}

static void set_method(CURL *h, const struct agg_call *call)
{
	const char *m = call->method ? call->method : "GET";

	if (strcmp(m, "GET") == 0) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		return;
	}
	if (strcmp(m, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		return;
	}
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, call->body ? call->body : "");
}

static void set_tls(CURL *h, struct sim_aggregator *a, const struct agg_call *call)
{
	bool verify = call->verify && !call->t->insecure;

	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
	if (verify && call->t->ca_path)
		curl_easy_setopt(h, CURLOPT_CAINFO, call->t->ca_path);
	if (a->client_cert_path) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, a->client_cert_path);
		curl_easy_setopt(h, CURLOPT_SSLKEY, a->client_key_path);
	}
}

int sim_agg_perform(struct sim_aggregator *a, struct agg_call *call)
{
	const struct agg_target *t = call->t;
	char host[256], port[16], errbuf[CURL_ERROR_SIZE] = "";
	char *url = NULL, *connect_to = NULL;
	struct curl_slist *hdrs = NULL, *conn = NULL;
	CURL *h = NULL;
	CURLcode rc;
	int ret = 0;

	if (!t->endpoint || split_endpoint(t->endpoint, host, sizeof(host), port, sizeof(port))) {
		snprintf(call->err, sizeof(call->err), "no endpoint for service/%s in \"%s\"",
			 t->svc_name ? t->svc_name : "", t->svc_ns ? t->svc_ns : "");
		return ERR_IO;
	}
	snprintf(call->url, sizeof(call->url), "https://%s%s", t->endpoint, call->path);
	h = pool_get(&a->pool);
	if (call->verify) {
		url = xasprintf("https://%s.%s.svc:%s%s", t->svc_name, t->svc_ns, port, call->path);
		connect_to = xasprintf("%s.%s.svc:%s:%s:%s", t->svc_name, t->svc_ns, port, host,
				       port);
		conn = curl_slist_append(NULL, connect_to);
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, conn);
	}
	hdrs = request_headers(call);
	curl_easy_setopt(h, CURLOPT_URL, url ? url : call->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, call->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, call);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, call);
	set_method(h, call);
	set_tls(h, a, call);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &call->status);
	else
		ret = go_error(call, rc, errbuf);
	pool_put(&a->pool, h);
	curl_slist_free_all(hdrs);
	curl_slist_free_all(conn);
	free(url);
	free(connect_to);
	return ret;
}
