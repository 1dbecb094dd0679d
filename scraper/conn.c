/*
 * conn.c - one kubelet connection: dial, optional proxy tunnel, TLS,
 * one GET at a time, kept alive between rounds; Go's net/http client
 * (as metrics-server uses it) in behaviour and error words.
 *
 *   CLOSED -> RESOLVING -> CONNECTING -> [PROXY_SEND -> PROXY_RECV] ->
 *   HANDSHAKE -> SEND -> RECV -> IDLE -> SEND -> ...
 *
 * Costs: per request one gnutls_record_send (one send), the reads the
 * response needs into the driver's shared buffer, no malloc of ours;
 * per idle connection this struct (the response parser is the bulk) and
 * a GnuTLS session.  The certificate is checked (tlsverify.c) after the
 * handshake and before the request, which carries the bearer token, is
 * written.  A reused connection that fails before any byte of the answer
 * arrived is redialed once (Go retries such idempotent requests); an idle
 * one the kubelet closes is closed at once (level-triggered EPOLLIN).
 */
#include "scraper/scraper_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define KEEPALIVE_S 30                 /* Go's dialer: idle and interval */
#define IDLE_TIMEOUT_NS (90 * NS_PER_SEC) /* client-go's IdleConnTimeout */
#define DISCARD_MAX (64u << 10)        /* body of a non-200 answer read to reuse the conn */
#define USER_AGENT "metrics-apiserver (linux) scraper"
#define REFUSED_BY_BODY 1              /* body(): the caller's callback said no */
#define STOP_READING 2                 /* body(): over a limit */

enum cstate {
	C_CLOSED, C_RESOLVING, C_CONNECTING, C_PROXY_SEND, C_PROXY_RECV,
	C_HANDSHAKE, C_SEND, C_RECV, C_IDLE,
};

struct scraper__conn {
	const struct scraper__conn_env *env;
	const struct scraper__request *req; /* in flight, or NULL */
	struct scraper__watch w;
	enum cstate state;
	int fd;
	gnutls_session_t tls;
	uint64_t dest;                 /* where the connection leads (hash) */
	struct scraper__lookup *lookup;
	struct scraper__addrs *addrs;  /* while dialing */
	size_t ai;                     /* the address being dialed */
	int dial_errno;                /* the first dial error, of address dial_ai */
	size_t dial_ai;
	size_t sent;                   /* of the head being written */
	bool send_pending;             /* GnuTLS holds a record that EAGAINed */
	bool reused, retried, in_body, too_big;
	unsigned dials;
	uint64_t body_len;
	struct scraper__http1 h;
};

static void dial(struct scraper__conn *c);
static void begin_request(struct scraper__conn *c);

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
	c->state = C_CLOSED;
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
	return c->state == C_IDLE;
}

unsigned scraper__conn_dials(const struct scraper__conn *c)
{
	return c->dials;
}

/* ---- ending a request ------------------------------------------------------------- */

/* Hands the outcome to the caller; keeps the connection when it can carry
 * the next request. */
static void finish(struct scraper__conn *c, enum scraper__outcome oc, const char *err)
{
	const struct scraper__request *req = c->req;
	bool keep = (oc == SCRAPER__OK || oc == SCRAPER__STATUS) && c->state == C_RECV &&
		    c->h.done && c->h.keep_alive;

	if (keep && c->fd >= 0 && scraper__driver_watch(c->env->drv, &c->w, c->fd, EPOLLIN) == 0) {
		c->state = C_IDLE;
		scraper__driver_timer(c->env->drv, &c->w, clock_mono_ns() + IDLE_TIMEOUT_NS);
	} else {
		close_conn(c);
		scraper__driver_timer(c->env->drv, &c->w, -1);
	}
	c->req = NULL;
	req->done(req->ud, oc, c->h.status, c->h.reason, err);
}

/* Fails the request with `Get "URL": <what>` (Go's url.Error). */
static void fail_get(struct scraper__conn *c, const char *what)
{
	char err[1200];

	snprintf(err, sizeof(err), "Get \"%.400s\": %.760s", c->req->url, what);
	finish(c, SCRAPER__FAILED, err);
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

	if (c->state == C_IDLE || !c->req) {
		close_conn(c); /* idle too long, as Go's IdleConnTimeout */
		return;
	}
	req = c->req;
	close_conn(c);
	c->req = NULL;
	req->done(req->ud, SCRAPER__TIMEOUT, 0, "", NULL);
}

/* ---- Go's words for socket and TLS errors ----------------------------------------- */

static void addr_text(const struct sockaddr *sa, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		port = ntohs(in->sin_port);
		snprintf(out, len, "%s:%u", ip, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		port = ntohs(in6->sin6_port);
		snprintf(out, len, "[%s]:%u", ip, port);
	} else {
		snprintf(out, len, "?");
	}
}

/* strerror in Go's syscall spelling: lower case. */
static void errno_text(int e, char *out, size_t len)
{
	snprintf(out, len, "%s", COMMON_SYSERR(e));
	if (out[0])
		out[0] = (char)tolower((unsigned char)out[0]);
}

/* "proxyconnect tcp: " when the dial went to the proxy. */
static const char *dial_prefix(const struct scraper__conn *c)
{
	return c->req->proxy ? "proxyconnect tcp: " : "";
}

/* "read tcp 127.0.0.1:40000->127.0.0.1:10250: read: connection reset by peer" */
static void fail_sock(struct scraper__conn *c, const char *op, int e)
{
	struct sockaddr_storage l, r;
	socklen_t ll = sizeof(l), rl = sizeof(r);
	char ls[64] = "", rs[64] = "", es[128], what[400];

	if (getsockname(c->fd, (struct sockaddr *)&l, &ll) == 0)
		addr_text((struct sockaddr *)&l, ls, sizeof(ls));
	if (getpeername(c->fd, (struct sockaddr *)&r, &rl) == 0)
		addr_text((struct sockaddr *)&r, rs, sizeof(rs));
	errno_text(e, es, sizeof(es));
	snprintf(what, sizeof(what), "%s tcp %s->%s: %s: %s", op, ls, rs, op, es);
	if (c->in_body) {
		char err[500];
		snprintf(err, sizeof(err), "failed to read response body - %s", what);
		finish(c, SCRAPER__FAILED, err);
	} else {
		fail_get(c, what);
	}
}

static const char *alert_text(gnutls_alert_description_t a)
{
	switch (a) {
	case GNUTLS_A_HANDSHAKE_FAILURE: return "handshake failure";
	case GNUTLS_A_BAD_CERTIFICATE: return "bad certificate";
	case GNUTLS_A_UNKNOWN_CA: return "unknown certificate authority";
	case GNUTLS_A_CERTIFICATE_REQUIRED: return "certificate required";
	case GNUTLS_A_PROTOCOL_VERSION: return "protocol version not supported";
	case GNUTLS_A_INTERNAL_ERROR: return "internal error";
	case GNUTLS_A_ACCESS_DENIED: return "access denied";
	default: return gnutls_alert_get_name(a) ? gnutls_alert_get_name(a) : "alert";
	}
}

/* A GnuTLS failure (rc < 0, e = errno right after it) in Go's words. */
static void fail_tls(struct scraper__conn *c, int rc, int e)
{
	char what[300];

	if (rc == GNUTLS_E_PUSH_ERROR || rc == GNUTLS_E_PULL_ERROR) {
		fail_sock(c, rc == GNUTLS_E_PUSH_ERROR ? "write" : "read", e ? e : EIO);
		return;
	}
	if (rc == GNUTLS_E_PREMATURE_TERMINATION)
		snprintf(what, sizeof(what), "%s", c->in_body ? "unexpected EOF" : "EOF");
	else if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED)
		snprintf(what, sizeof(what), "remote error: tls: %s",
			 alert_text(gnutls_alert_get(c->tls)));
	else if (c->state == C_HANDSHAKE && (rc == GNUTLS_E_UNEXPECTED_PACKET_LENGTH ||
					     rc == GNUTLS_E_UNSUPPORTED_VERSION_PACKET ||
					     rc == GNUTLS_E_UNEXPECTED_PACKET))
		snprintf(what, sizeof(what), "tls: first record does not look like a TLS handshake");
	else
		snprintf(what, sizeof(what), "tls: %s", gnutls_strerror(rc));
	if (c->in_body) {
		char err[400];
		snprintf(err, sizeof(err), "failed to read response body - %s", what);
		finish(c, SCRAPER__FAILED, err);
	} else {
		fail_get(c, what);
	}
}

/* ---- dialing ------------------------------------------------------------------------ */

static void fail_dial(struct scraper__conn *c)
{
	char at[80], es[128], what[400];

	addr_text((struct sockaddr *)&c->addrs->a[c->dial_ai], at, sizeof(at));
	errno_text(c->dial_errno, es, sizeof(es));
	snprintf(what, sizeof(what), "%sdial tcp %s: connect: %s", dial_prefix(c), at, es);
	fail_get(c, what);
}

static void set_sockopts(int fd)
{
	int one = 1, ka = KEEPALIVE_S;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &ka, sizeof(ka));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &ka, sizeof(ka));
}

static void connected(struct scraper__conn *c);

static void dial_error(struct scraper__conn *c, int e)
{
	if (!c->dial_errno) {
		c->dial_errno = e;
		c->dial_ai = c->ai;
	}
}

/* Connects to c->addrs[c->ai], then the next ones, until one is under way. */
static void try_connect(struct scraper__conn *c)
{
	for (; c->ai < c->addrs->n; c->ai++) {
		const struct sockaddr *sa = (const struct sockaddr *)&c->addrs->a[c->ai];
		int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			dial_error(c, errno);
			continue;
		}
		set_sockopts(fd);
		if (connect(fd, sa, c->addrs->len[c->ai]) != 0 && errno != EINPROGRESS) {
			dial_error(c, errno);
			close(fd);
			continue;
		}
		c->fd = fd;
		if (scraper__driver_watch(c->env->drv, &c->w, fd, EPOLLOUT) != 0) {
			dial_error(c, errno);
			scraper__driver_unwatch(c->env->drv, &c->w);
			close(fd);
			c->fd = -1;
			continue;
		}
		c->dials++;
		c->state = C_CONNECTING;
		return;
	}
	fail_dial(c);
}

/* An event while connecting: done, failed, or not yet. */
static void connect_event(struct scraper__conn *c)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer), elen = sizeof(int);
	int e = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &elen) != 0)
		e = errno;
	if (e == 0 && getpeername(c->fd, (struct sockaddr *)&peer, &len) == 0) {
		connected(c);
		return;
	}
	if (e == 0)
		return; /* still under way (a stale event) */
	dial_error(c, e);
	scraper__driver_unwatch(c->env->drv, &c->w);
	close(c->fd);
	c->fd = -1;
	c->ai++;
	try_connect(c);
}

static void on_resolved(void *ud, struct scraper__addrs *addrs, const char *err)
{
	struct scraper__conn *c = ud;
	char what[400];

	c->lookup = NULL;
	if (!addrs) {
		snprintf(what, sizeof(what), "%sdial tcp: %s", dial_prefix(c), err);
		fail_get(c, what);
		return;
	}
	c->addrs = addrs;
	c->ai = 0;
	c->dial_errno = 0;
	try_connect(c);
}

/* FNV-1a of where a request leads: kubelet host and port, and the proxy. */
static uint64_t dest_of(const struct scraper__request *req)
{
	uint64_t h = UINT64_C(14695981039346656037);
	char port[16];
	const char *parts[4] = {req->host, port, req->proxy ? req->proxy->host : "", ""};

	snprintf(port, sizeof(port), "%u/%u", (unsigned)req->port,
		 req->proxy ? (unsigned)req->proxy->port : 0u);
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
		fail_get(c, what);
		return;
	}
	c->dest = dest_of(req);
	c->state = C_RESOLVING;
	/* may answer at once (an IP literal) */
	c->lookup = scraper__resolve(c->env->res, px ? px->host : req->host,
				     px ? px->port : req->port, on_resolved, c);
}

/* ---- proxy tunnel ------------------------------------------------------------------- */

/* Appends s to the head being built; false when it does not fit. */
static bool put(char *buf, size_t cap, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (n > cap - *len)
		return false;
	memcpy(buf + *len, s, n);
	*len += n;
	return true;
}

static size_t connect_head(const struct scraper__conn *c, char *buf, size_t cap)
{
	const struct scraper__request *req = c->req;
	size_t len = 0;
	bool ok = put(buf, cap, &len, "CONNECT ") && put(buf, cap, &len, req->hostport) &&
		  put(buf, cap, &len, " HTTP/1.1\r\nHost: ") &&
		  put(buf, cap, &len, req->hostport) && put(buf, cap, &len, "\r\n");

	if (ok && req->proxy->auth)
		ok = put(buf, cap, &len, "Proxy-Authorization: ") &&
		     put(buf, cap, &len, req->proxy->auth) && put(buf, cap, &len, "\r\n");
	return ok && put(buf, cap, &len, "\r\n") ? len : 0;
}

static void proxy_send(struct scraper__conn *c)
{
	size_t cap, len;
	char *buf = scraper__driver_buffer(c->env->drv, &cap);

	len = connect_head(c, buf, cap);
	if (!len) {
		fail_get(c, "proxyconnect: request head too large");
		return;
	}
	while (c->sent < len) {
		ssize_t n = send(c->fd, buf + c->sent, len - c->sent, MSG_NOSIGNAL);

		if (n >= 0) {
			c->sent += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			fail_sock(c, "write", errno);
		else if (scraper__driver_watch(c->env->drv, &c->w, c->fd, EPOLLOUT) != 0)
			fail_sock(c, "write", errno);
		return;
	}
	c->state = C_PROXY_RECV;
	scraper__http1_begin(&c->h, true);
	if (scraper__driver_watch(c->env->drv, &c->w, c->fd, EPOLLIN) != 0)
		fail_sock(c, "read", errno);
}

static void tls_start(struct scraper__conn *c);

/* The proxy's answer: nothing may follow its head (the tunnel is ours). */
static void proxy_recv(struct scraper__conn *c)
{
	size_t cap, used;
	char *buf = scraper__driver_buffer(c->env->drv, &cap);
	ssize_t n;

	for (;;) {
		n = recv(c->fd, buf, cap, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			fail_sock(c, "read", errno);
			return;
		}
		if (n == 0) {
			scraper__http1_eof(&c->h);
			fail_get(c, c->h.err[0] ? c->h.err : "EOF");
			return;
		}
		if (scraper__http1_feed(&c->h, buf, (size_t)n, &used, NULL, NULL) != 0) {
			fail_get(c, c->h.err);
			return;
		}
		if (c->h.done)
			break;
	}
	if (c->h.status != 200) {
		fail_get(c, c->h.reason[0] ? c->h.reason : "unknown status code");
		return;
	}
	if (used != (size_t)n) {
		fail_get(c, "proxyconnect: unexpected bytes after the proxy's answer");
		return;
	}
	tls_start(c);
}

/* ---- TLS ------------------------------------------------------------------------------ */

static bool is_ip(const char *host)
{
	unsigned char b[16];

	return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

/* Wait for what GnuTLS needs next (it was reading, or writing). */
static bool want(struct scraper__conn *c)
{
	uint32_t ev = gnutls_record_get_direction(c->tls) ? EPOLLOUT : EPOLLIN;

	if (scraper__driver_watch(c->env->drv, &c->w, c->fd, ev) == 0)
		return true;
	fail_sock(c, "read", errno);
	return false;
}

static void handshake(struct scraper__conn *c)
{
	const struct scraper__conn_env *env = c->env;
	const struct scraper__request *req = c->req;
	char err[700];
	int rc = gnutls_handshake(c->tls), e = errno;

	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
		want(c);
		return;
	}
	if (rc < 0) {
		fail_tls(c, rc, e);
		return;
	}
	/* the certificate, before any byte of the request (and its token) */
	if (!env->insecure) {
		err[0] = '\0';
		if (!env->verifier)
			snprintf(err, sizeof(err), "%s", env->verify_err ? env->verify_err : "no trust");
		else if (scraper__verify_peer(env->verifier, c->tls, req->host, req->seen, err,
					      sizeof(err)) == 0)
			err[0] = '\0';
		if (err[0]) {
			char what[760];
			snprintf(what, sizeof(what), "tls: failed to verify certificate: %s", err);
			fail_get(c, what);
			return;
		}
	}
	begin_request(c);
}

static void tls_start(struct scraper__conn *c)
{
	const struct scraper__request *req = c->req;
	int rc = gnutls_init(&c->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_TICKETS | GNUTLS_NO_SIGNAL);

	if (rc >= 0)
		rc = gnutls_priority_set(c->tls, c->env->prio);
	if (rc >= 0)
		rc = gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, c->env->creds);
	if (rc >= 0 && !is_ip(req->host)) /* SNI only for names, as Go */
		rc = gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS, req->host, strlen(req->host));
	if (rc < 0) {
		fail_tls(c, rc, 0);
		return;
	}
	gnutls_transport_set_int(c->tls, c->fd);
	c->state = C_HANDSHAKE;
	handshake(c);
}

static void connected(struct scraper__conn *c)
{
	free(c->addrs);
	c->addrs = NULL;
	c->sent = 0;
	if (c->req->proxy) {
		c->state = C_PROXY_SEND;
		proxy_send(c);
	} else {
		tls_start(c);
	}
}

/* ---- the request ---------------------------------------------------------------------- */

/* "GET path HTTP/1.1" and its headers into buf; 0 when they do not fit. */
static size_t request_head(const struct scraper__request *req, char *buf, size_t cap)
{
	size_t len = 0;
	bool ok = put(buf, cap, &len, "GET ") && put(buf, cap, &len, req->path) &&
		  put(buf, cap, &len, " HTTP/1.1\r\nHost: ") && put(buf, cap, &len, req->hostport) &&
		  put(buf, cap, &len, "\r\nUser-Agent: " USER_AGENT "\r\n");

	if (ok && req->token)
		ok = put(buf, cap, &len, "Authorization: Bearer ") &&
		     put(buf, cap, &len, req->token) && put(buf, cap, &len, "\r\n");
	return ok && put(buf, cap, &len, "\r\n") ? len : 0;
}

/* Writes the head (rebuilt identically into the shared buffer each time:
 * nothing of it is kept per connection). */
static void send_head(struct scraper__conn *c)
{
	size_t cap, len;
	char *buf = scraper__driver_buffer(c->env->drv, &cap);

	len = request_head(c->req, buf, cap);
	if (!len) {
		fail_get(c, "net/http: request headers too large");
		return;
	}
	while (c->sent < len) {
		ssize_t n = c->send_pending ? gnutls_record_send(c->tls, NULL, 0)
					    : gnutls_record_send(c->tls, buf + c->sent, len - c->sent);
		int e = errno;

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			c->send_pending = true;
			if (scraper__driver_watch(c->env->drv, &c->w, c->fd, EPOLLOUT) != 0)
				fail_sock(c, "write", errno);
			return;
		}
		c->send_pending = false;
		if (n < 0) {
			if (!retry(c))
				fail_tls(c, (int)n, e);
			return;
		}
		c->sent += (size_t)n;
	}
	c->state = C_RECV;
	if (scraper__driver_watch(c->env->drv, &c->w, c->fd, EPOLLIN) != 0)
		fail_sock(c, "read", errno);
}

static void begin_request(struct scraper__conn *c)
{
	c->state = C_SEND;
	c->sent = 0;
	c->send_pending = false;
	c->in_body = false;
	c->too_big = false;
	c->body_len = 0;
	scraper__http1_begin(&c->h, false);
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
		finish(c, SCRAPER__REFUSED, NULL);
	} else if (c->h.status && c->h.status != 200 && (c->h.done || c->in_body)) {
		finish(c, SCRAPER__STATUS, NULL);
	} else if (c->too_big) {
		snprintf(err, sizeof(err), "failed to read response body - body exceeds %zu bytes",
			 c->req->max_body);
		finish(c, SCRAPER__FAILED, err);
	} else if (rc != 0 && c->in_body) {
		snprintf(err, sizeof(err), "failed to read response body - %s", c->h.err);
		finish(c, SCRAPER__FAILED, err);
	} else if (rc != 0) {
		fail_get(c, c->h.err);
	} else {
		finish(c, SCRAPER__OK, NULL);
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

static void recv_response(struct scraper__conn *c)
{
	size_t cap, used;
	char *buf = scraper__driver_buffer(c->env->drv, &cap);

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
				fail_tls(c, (int)n, e);
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
	ssize_t n = gnutls_record_recv(c->tls, buf, cap);

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
	case C_CONNECTING: connect_event(c); break;
	case C_PROXY_SEND: proxy_send(c); break;
	case C_PROXY_RECV: proxy_recv(c); break;
	case C_HANDSHAKE: handshake(c); break;
	case C_SEND: send_head(c); break;
	case C_RECV: recv_response(c); break;
	case C_IDLE: idle_event(c); break;
	default: break;
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
		fail_get(c, what);
		return;
	}
	if (c->state == C_IDLE && c->dest == dest_of(req)) {
		c->reused = true;
		begin_request(c);
		return;
	}
	close_conn(c);
	c->reused = false;
	dial(c);
}
