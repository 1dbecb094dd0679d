/*
 * conn_dial.c - opening a kubelet connection, once per connection: the
 * addresses the lookup gave connected to one after another, the proxy's
 * CONNECT tunnel, the TLS handshake and the certificate check (before any
 * byte of the request, which carries the bearer token).  The states
 * RESOLVING (after the lookup) through HANDSHAKE; a connection that is
 * ready goes back to conn.c (scraper__conn_begin_request).
 */
#include "scraper/conn_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define KEEPALIVE_S 30                 /* Go's dialer: idle and interval */

/* ---- connecting ------------------------------------------------------------------------ */

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
		c->state = SCRAPER__C_CONNECTING;
		return;
	}
	scraper__conn_fail_dial(c);
}

/* An event while connecting: done, failed, or not yet. */
void scraper__conn_connect_event(struct scraper__conn *c)
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

void scraper__conn_resolved(void *ud, struct scraper__addrs *addrs, const char *err)
{
	struct scraper__conn *c = ud;

	c->lookup = NULL;
	if (!addrs) {
		scraper__conn_fail_lookup(c, err);
		return;
	}
	c->addrs = addrs;
	c->ai = 0;
	c->dial_errno = 0;
	try_connect(c);
}

/* ---- proxy tunnel ------------------------------------------------------------------- */

/* "CONNECT host:port" and its headers into buf; 0 when they do not fit. */
static size_t connect_head(const struct scraper__conn *c, char *buf, size_t cap)
{
	const struct scraper__request *req = c->req;
	size_t len = 0;
	bool ok = scraper__conn_put(buf, cap, &len, "CONNECT ") &&
		  scraper__conn_put(buf, cap, &len, req->hostport) &&
		  scraper__conn_put(buf, cap, &len, " HTTP/1.1\r\nHost: ") &&
		  scraper__conn_put(buf, cap, &len, req->hostport) &&
		  scraper__conn_put(buf, cap, &len, "\r\n");

	if (ok && req->proxy->auth)
		ok = scraper__conn_put(buf, cap, &len, "Proxy-Authorization: ") &&
		     scraper__conn_put(buf, cap, &len, req->proxy->auth) &&
		     scraper__conn_put(buf, cap, &len, "\r\n");
	return ok && scraper__conn_put(buf, cap, &len, "\r\n") ? len : 0;
}

void scraper__conn_proxy_send(struct scraper__conn *c)
{
	size_t cap, len;
	char *buf = scraper__driver_buffer(c->env->drv, &cap);

	len = connect_head(c, buf, cap);
	if (!len) {
		scraper__conn_fail_get(c, "proxyconnect: request head too large");
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
			scraper__conn_fail_sock(c, "write", errno);
		else if (scraper__driver_watch(c->env->drv, &c->w, c->fd, EPOLLOUT) != 0)
			scraper__conn_fail_sock(c, "write", errno);
		return;
	}
	c->state = SCRAPER__C_PROXY_RECV;
	scraper__http1_begin(&c->h, true);
	if (scraper__driver_watch(c->env->drv, &c->w, c->fd, EPOLLIN) != 0)
		scraper__conn_fail_sock(c, "read", errno);
}

static void tls_start(struct scraper__conn *c);

/* The proxy's answer: nothing may follow its head (the tunnel is ours). */
void scraper__conn_proxy_recv(struct scraper__conn *c)
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
			scraper__conn_fail_sock(c, "read", errno);
			return;
		}
		if (n == 0) {
			scraper__http1_eof(&c->h);
			scraper__conn_fail_get(c, c->h.err[0] ? c->h.err : "EOF");
			return;
		}
		if (scraper__http1_feed(&c->h, buf, (size_t)n, &used, NULL, NULL) != 0) {
			scraper__conn_fail_get(c, c->h.err);
			return;
		}
		if (c->h.done)
			break;
	}
	if (c->h.status != 200) {
		scraper__conn_fail_get(c, c->h.reason[0] ? c->h.reason : "unknown status code");
		return;
	}
	if (used != (size_t)n) {
		scraper__conn_fail_get(c, "proxyconnect: unexpected bytes after the proxy's answer");
		return;
	}
	if (c->req->plain)
		scraper__conn_begin_request(c);
	else
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
	scraper__conn_fail_sock(c, "read", errno);
	return false;
}

void scraper__conn_handshake(struct scraper__conn *c)
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
		scraper__conn_fail_tls(c, rc, e);
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
			scraper__conn_fail_get(c, what);
			return;
		}
	}
	scraper__conn_begin_request(c);
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
		scraper__conn_fail_tls(c, rc, 0);
		return;
	}
	gnutls_transport_set_int(c->tls, c->fd);
	c->state = SCRAPER__C_HANDSHAKE;
	scraper__conn_handshake(c);
}

static void connected(struct scraper__conn *c)
{
	free(c->addrs);
	c->addrs = NULL;
	c->sent = 0;
	if (c->req->proxy) {
		c->state = SCRAPER__C_PROXY_SEND;
		scraper__conn_proxy_send(c);
	} else if (c->req->plain) {
		scraper__conn_begin_request(c);
	} else {
		tls_start(c);
	}
}

