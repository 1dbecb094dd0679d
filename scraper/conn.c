/*
 * conn.c - one kubelet connection: its life, the request and its answer,
 * the end of a request, and starting one; Go's net/http client (as
 * metrics-server uses it) in behaviour.  This file is the per-request
 * (hot) path; opening a connection is conn_dial.c, error texts are
 * conn_errors.c.  The struct and its states are in scraper_int.h.
 *
 *   CLOSED -> RESOLVING -> CONNECTING -> [PROXY_SEND -> PROXY_RECV] ->
 *   HANDSHAKE -> SEND -> RECV -> IDLE -> SEND -> ...
 *
 * Costs: per request one gnutls_record_send (one send), the reads the
 * response needs into the driver's shared buffer, no malloc of ours;
 * per idle connection this struct (the response parser is the bulk) and
 * a GnuTLS session.  A plain http:// request (application targets) takes
 * the same states minus HANDSHAKE and reads and writes the socket itself
 * (send_plain, recv_plain): the TLS path pays one branch for it.  The certificate is checked (tlsverify.c) after the
 * handshake and before the request, which carries the bearer token, is
 * written.  A reused connection that fails before any byte of the answer
 * arrived is redialed once (Go retries such idempotent requests); an idle
 * one the kubelet closes is closed at once (level-triggered EPOLLIN).
 */
#include "scraper/conn_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define IDLE_TIMEOUT_NS (90 * NS_PER_SEC) /* client-go's IdleConnTimeout */
#define DISCARD_MAX (64u << 10)        /* body of a non-200 answer read to reuse the conn */
#define USER_AGENT "metrics-apiserver (linux) scraper"
#define REFUSED_BY_BODY 1              /* body(): the caller's callback said no */
#define STOP_READING 2                 /* body(): over a limit */

static void dial(struct scraper__conn *c);

/* ---- life --------------------------------------------------------------------------- */

static void on_io(struct scraper__watch *w, uint32_t events);
static void on_timer(struct scraper__watch *w);

struct scraper__conn *scraper__conn_new(const struct scraper__conn_env *env)
{
	struct scraper__conn *c = xcalloc(1, sizeof(*c));

	c->env = env;
	c->fd = -1;
	scraper__watch_init(&c->w, on_io, on_timer, c);
	return c;
}

/* Closes the socket and session and forgets any dial in progress. */
static void close_conn(struct scraper__conn *c)
{
	if (c->lookup) {
		scraper__resolve_cancel(c->env->res, c->lookup);
		c->lookup = NULL;
	}
	free(c->addrs);
	c->addrs = NULL;
	if (c->tls) {
		gnutls_deinit(c->tls);
		c->tls = NULL;
	}
	if (c->fd >= 0) {
		scraper__driver_unwatch(c->env->drv, &c->w);
		close(c->fd);
		c->fd = -1;
	}
	c->state = SCRAPER__C_CLOSED;
}

void scraper__conn_cancel(struct scraper__conn *c)
{
	close_conn(c);
	scraper__driver_timer(c->env->drv, &c->w, -1);
	c->req = NULL;
}

void scraper__conn_free(struct scraper__conn *c)
{
	if (!c)
		return;
	scraper__conn_cancel(c);
	free(c);
}

bool scraper__conn_idle(const struct scraper__conn *c)
{
	return c->state == SCRAPER__C_IDLE;
}

unsigned scraper__conn_dials(const struct scraper__conn *c)
{
	return c->dials;
}

/* ---- ending a request ------------------------------------------------------------- */

/* Hands the outcome to the caller; keeps the connection when it can carry
 * the next request. */
void scraper__conn_finish(struct scraper__conn *c, enum scraper__outcome oc, const char *err)
{
	const struct scraper__request *req = c->req;
	bool keep = (oc == SCRAPER__OK || oc == SCRAPER__STATUS) && c->state == SCRAPER__C_RECV &&
		    c->h.done && c->h.keep_alive;

	if (keep && c->fd >= 0 && scraper__driver_watch(c->env->drv, &c->w, c->fd, EPOLLIN) == 0) {
		c->state = SCRAPER__C_IDLE;
		scraper__driver_timer(c->env->drv, &c->w, clock_mono_ns() + IDLE_TIMEOUT_NS);
	} else {
		close_conn(c);
		scraper__driver_timer(c->env->drv, &c->w, -1);
	}
	c->req = NULL;
	req->done(req->ud, oc, c->h.status, c->h.reason, err);
}

/* A reused connection died before any byte of the answer: true when the
 * request was sent again on a new one (once, as Go's transport). */
static bool retry(struct scraper__conn *c)
{
	if (!c->reused || c->retried || c->h.started || c->in_body)
		return false;
	close_conn(c);
	c->retried = true;
	c->reused = false;
	dial(c);
	return true;
}

static void on_timer(struct scraper__watch *w)
{
	struct scraper__conn *c = w->ud;
	const struct scraper__request *req;

	if (c->state == SCRAPER__C_IDLE || !c->req) {
		close_conn(c); /* idle too long, as Go's IdleConnTimeout */
		return;
	}
	req = c->req;
	close_conn(c);
	c->req = NULL;
	req->done(req->ud, SCRAPER__TIMEOUT, 0, "", NULL);
}

/* ---- dialing ------------------------------------------------------------------------ */

/* FNV-1a of where a request leads: kubelet host and port, and the proxy. */
static uint64_t dest_of(const struct scraper__request *req)
{
	uint64_t h = UINT64_C(14695981039346656037);
	char port[16];
	const char *parts[4] = {req->host, port, req->proxy ? req->proxy->host : "", ""};

	snprintf(port, sizeof(port), "%u/%u/%d", (unsigned)req->port,
		 req->proxy ? (unsigned)req->proxy->port : 0u, (int)req->plain);
	for (size_t i = 0; i < 3; i++)
		for (const char *p = parts[i];; p++) {
			h = (h ^ (unsigned char)*p) * UINT64_C(1099511628211);
			if (!*p)
				break;
		}
	return h;
}

static void dial(struct scraper__conn *c)
{
	const struct scraper__request *req = c->req;
	const struct scraper__proxy *px = req->proxy;
	char what[200];

	c->in_body = false;
	scraper__http1_begin(&c->h, false);
	if (px && strcmp(px->scheme, "http") != 0) {
		snprintf(what, sizeof(what), "proxy scheme \"%.40s\" is not supported", px->scheme);
		scraper__conn_fail_get(c, what);
		return;
	}
	c->dest = dest_of(req);
	c->state = SCRAPER__C_RESOLVING;
	/* may answer at once (an IP literal) */
	c->lookup = scraper__resolve(c->env->res, px ? px->host : req->host,
				     px ? px->port : req->port, scraper__conn_resolved, c);
}

/* ---- the request ---------------------------------------------------------------------- */

/* "GET path HTTP/1.1" and its headers into buf; 0 when they do not fit. */
static size_t request_head(const struct scraper__request *req, char *buf, size_t cap)
{
	size_t len = 0;
	bool ok = scraper__conn_put(buf, cap, &len, "GET ") &&
		  scraper__conn_put(buf, cap, &len, req->path) &&
		  scraper__conn_put(buf, cap, &len, " HTTP/1.1\r\nHost: ") &&
		  scraper__conn_put(buf, cap, &len, req->hostport) &&
		  scraper__conn_put(buf, cap, &len, "\r\nUser-Agent: " USER_AGENT "\r\n");

	if (ok && req->accept)
		ok = scraper__conn_put(buf, cap, &len, "Accept: ") &&
		     scraper__conn_put(buf, cap, &len, req->accept) &&
		     scraper__conn_put(buf, cap, &len, "\r\n");
	if (ok && req->token)
		ok = scraper__conn_put(buf, cap, &len, "Authorization: Bearer ") &&
		     scraper__conn_put(buf, cap, &len, req->token) &&
		     scraper__conn_put(buf, cap, &len, "\r\n");
	if (ok && req->headers)
		ok = scraper__conn_put(buf, cap, &len, req->headers);
	return ok && scraper__conn_put(buf, cap, &len, "\r\n") ? len : 0;
}

/* Writes the head (rebuilt identically into the shared buffer each time:
 * nothing of it is kept per connection). */
static void send_plain(struct scraper__conn *c, const char *buf, size_t len);

static void send_head(struct scraper__conn *c)
{
	size_t cap, len;
	char *buf = scraper__driver_buffer(c->env->drv, &cap);

	len = request_head(c->req, buf, cap);
	if (!len) {
		scraper__conn_fail_get(c, "net/http: request headers too large");
		return;
	}
	if (!c->tls) {
		send_plain(c, buf, len);
		return;
	}
	while (c->sent < len) {
		ssize_t n = c->send_pending ? gnutls_record_send(c->tls, NULL, 0)
					    : gnutls_record_send(c->tls, buf + c->sent, len - c->sent);
		int e = errno;

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			c->send_pending = true;
			if (scraper__driver_watch(c->env->drv, &c->w, c->fd, EPOLLOUT) != 0)
				scraper__conn_fail_sock(c, "write", errno);
			return;
		}
		c->send_pending = false;
		if (n < 0) {
			if (!retry(c))
				scraper__conn_fail_tls(c, (int)n, e);
			return;
		}
		c->sent += (size_t)n;
	}
	c->state = SCRAPER__C_RECV;
	if (scraper__driver_watch(c->env->drv, &c->w, c->fd, EPOLLIN) != 0)
		scraper__conn_fail_sock(c, "read", errno);
}

void scraper__conn_begin_request(struct scraper__conn *c)
{
	c->state = SCRAPER__C_SEND;
	c->sent = 0;
	c->send_pending = false;
	c->in_body = false;
	c->too_big = false;
	c->body_len = 0;
	scraper__http1_begin(&c->h, false);
	c->h.ctype = c->req->ctype;
	c->h.ctype_cap = c->req->ctype_cap;
	if (c->h.ctype)
		c->h.ctype[0] = '\0';
	send_head(c);
}

/* Body bytes from the parser: a 200's go to the caller, another status's
 * are read (up to DISCARD_MAX) only to keep the connection. */
static int on_body(void *ud, const char *p, size_t n)
{
	struct scraper__conn *c = ud;
	const struct scraper__request *req = c->req;

	c->in_body = true;
	if (c->h.status != 200) {
		c->body_len += n;
		return c->body_len > DISCARD_MAX ? STOP_READING : 0;
	}
	if (n > req->max_body - c->body_len) {
		c->too_big = true;
		return STOP_READING;
	}
	c->body_len += n;
	return req->body(req->ud, p, n) ? REFUSED_BY_BODY : 0;
}

/* The response is complete, or the parser stopped with rc. */
static void response_end(struct scraper__conn *c, int rc)
{
	char err[300];

	if (rc == REFUSED_BY_BODY) {
		scraper__conn_finish(c, SCRAPER__REFUSED, NULL);
	} else if (c->h.status && c->h.status != 200 && (c->h.done || c->in_body)) {
		scraper__conn_finish(c, SCRAPER__STATUS, NULL);
	} else if (c->too_big) {
		snprintf(err, sizeof(err), "failed to read response body - body exceeds %zu bytes",
			 c->req->max_body);
		scraper__conn_finish(c, SCRAPER__FAILED, err);
	} else if (rc != 0 && c->in_body) {
		snprintf(err, sizeof(err), "failed to read response body - %s", c->h.err);
		scraper__conn_finish(c, SCRAPER__FAILED, err);
	} else if (rc != 0) {
		scraper__conn_fail_get(c, c->h.err);
	} else {
		scraper__conn_finish(c, SCRAPER__OK, NULL);
	}
}

/* The peer closed: the end of a close-delimited body, or a failure. */
static void peer_eof(struct scraper__conn *c)
{
	if (scraper__http1_eof(&c->h) == 0) {
		response_end(c, 0);
		return;
	}
	if (!retry(c))
		response_end(c, ERR_PARSE);
}

static void recv_plain(struct scraper__conn *c, char *buf, size_t cap);

static void recv_response(struct scraper__conn *c)
{
	size_t cap, used;
	char *buf = scraper__driver_buffer(c->env->drv, &cap);

	if (!c->tls) {
		recv_plain(c, buf, cap);
		return;
	}
	for (;;) {
		ssize_t n = gnutls_record_recv(c->tls, buf, cap);
		int e = errno, rc;

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			return;
		if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION) {
			peer_eof(c);
			return;
		}
		if (n < 0) {
			if (!retry(c))
				scraper__conn_fail_tls(c, (int)n, e);
			return;
		}
		rc = scraper__http1_feed(&c->h, buf, (size_t)n, &used, on_body, c);
		if (rc != 0 || c->h.done) {
			/* bytes after the answer, unasked: the connection is not reusable */
			if (c->h.done && (used < (size_t)n || gnutls_record_check_pending(c->tls)))
				c->h.keep_alive = false;
			response_end(c, rc);
			return;
		}
	}
}

/* An idle connection became readable: the kubelet closed it (or sent
 * something unasked, or a TLS message such as a session ticket). */
static void idle_event(struct scraper__conn *c)
{
	size_t cap;
	char *buf = scraper__driver_buffer(c->env->drv, &cap);
	ssize_t n;

	if (!c->tls) {
		n = recv(c->fd, buf, cap, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		close_conn(c);
		scraper__driver_timer(c->env->drv, &c->w, -1);
		return;
	}
	n = gnutls_record_recv(c->tls, buf, cap);
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
		return;
	close_conn(c);
	scraper__driver_timer(c->env->drv, &c->w, -1);
}

static void on_io(struct scraper__watch *w, uint32_t events)
{
	struct scraper__conn *c = w->ud;

	(void)events; /* a hint only: the I/O itself says what happened */
	switch (c->state) {
	case SCRAPER__C_CONNECTING: scraper__conn_connect_event(c); break;
	case SCRAPER__C_PROXY_SEND: scraper__conn_proxy_send(c); break;
	case SCRAPER__C_PROXY_RECV: scraper__conn_proxy_recv(c); break;
	case SCRAPER__C_HANDSHAKE: scraper__conn_handshake(c); break;
	case SCRAPER__C_SEND: send_head(c); break;
	case SCRAPER__C_RECV: recv_response(c); break;
	case SCRAPER__C_IDLE: idle_event(c); break;
	default: break;
	}
}

/* ---- plain http:// (no TLS session: the socket itself) ------------------------------- */

static void send_plain(struct scraper__conn *c, const char *buf, size_t len)
{
	while (c->sent < len) {
		ssize_t n = send(c->fd, buf + c->sent, len - c->sent, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (scraper__driver_watch(c->env->drv, &c->w, c->fd, EPOLLOUT) != 0)
				scraper__conn_fail_sock(c, "write", errno);
			return;
		}
		if (n < 0) {
			int e = errno;

			if (!retry(c))
				scraper__conn_fail_sock(c, "write", e);
			return;
		}
		c->sent += (size_t)n;
	}
	c->state = SCRAPER__C_RECV;
	if (scraper__driver_watch(c->env->drv, &c->w, c->fd, EPOLLIN) != 0)
		scraper__conn_fail_sock(c, "read", errno);
}

static void recv_plain(struct scraper__conn *c, char *buf, size_t cap)
{
	size_t used;

	for (;;) {
		ssize_t n = recv(c->fd, buf, cap, 0);
		int rc;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n == 0) {
			peer_eof(c);
			return;
		}
		if (n < 0) {
			int e = errno;

			if (!retry(c))
				scraper__conn_fail_sock(c, "read", e);
			return;
		}
		rc = scraper__http1_feed(&c->h, buf, (size_t)n, &used, on_body, c);
		if (rc != 0 || c->h.done) {
			if (c->h.done && used < (size_t)n)
				c->h.keep_alive = false;
			response_end(c, rc);
			return;
		}
	}
}

/* ---- starting ------------------------------------------------------------------------ */

void scraper__conn_start(struct scraper__conn *c, const struct scraper__request *req)
{
	c->req = req;
	c->retried = false;
	scraper__driver_timer(c->env->drv, &c->w, req->deadline);
	if (c->env->creds_err) {
		char what[400];
		snprintf(what, sizeof(what), "tls: %s", c->env->creds_err);
		scraper__conn_fail_get(c, what);
		return;
	}
	if (c->state == SCRAPER__C_IDLE && c->dest == dest_of(req)) {
		c->reused = true;
		scraper__conn_begin_request(c);
		return;
	}
	close_conn(c);
	c->reused = false;
	dial(c);
}
