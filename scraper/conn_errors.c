/*
 * conn_errors.c - a kubelet connection's failures in Go's words: the
 * url.Error wrapping (`Get "URL": ...`), socket errors with both
 * addresses, dial and lookup errors (with "proxyconnect tcp: " through a
 * proxy), and GnuTLS errors and alerts as crypto/tls words them.  Each
 * ends the request (scraper__conn_finish); only failures come here.
 */
#include "scraper/conn_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

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
void scraper__conn_fail_sock(struct scraper__conn *c, const char *op, int e)
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
		scraper__conn_finish(c, SCRAPER__FAILED, err);
	} else {
		scraper__conn_fail_get(c, what);
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
void scraper__conn_fail_tls(struct scraper__conn *c, int rc, int e)
{
	char what[300];

	if (rc == GNUTLS_E_PUSH_ERROR || rc == GNUTLS_E_PULL_ERROR) {
		scraper__conn_fail_sock(c, rc == GNUTLS_E_PUSH_ERROR ? "write" : "read", e ? e : EIO);
		return;
	}
	if (rc == GNUTLS_E_PREMATURE_TERMINATION)
		snprintf(what, sizeof(what), "%s", c->in_body ? "unexpected EOF" : "EOF");
	else if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED)
		snprintf(what, sizeof(what), "remote error: tls: %s",
			 alert_text(gnutls_alert_get(c->tls)));
	else if (c->state == SCRAPER__C_HANDSHAKE && (rc == GNUTLS_E_UNEXPECTED_PACKET_LENGTH ||
					     rc == GNUTLS_E_UNSUPPORTED_VERSION_PACKET ||
					     rc == GNUTLS_E_UNEXPECTED_PACKET))
		snprintf(what, sizeof(what), "tls: first record does not look like a TLS handshake");
	else
		snprintf(what, sizeof(what), "tls: %s", gnutls_strerror(rc));
	if (c->in_body) {
		char err[400];
		snprintf(err, sizeof(err), "failed to read response body - %s", what);
		scraper__conn_finish(c, SCRAPER__FAILED, err);
	} else {
		scraper__conn_fail_get(c, what);
	}
}
/* Fails the request with `Get "URL": <what>` (Go's url.Error). */
void scraper__conn_fail_get(struct scraper__conn *c, const char *what)
{
	char err[1200];

	snprintf(err, sizeof(err), "Get \"%.400s\": %.760s", c->req->url, what);
	scraper__conn_finish(c, SCRAPER__FAILED, err);
}
void scraper__conn_fail_dial(struct scraper__conn *c)
{
	char at[80], es[128], what[400];

	addr_text((struct sockaddr *)&c->addrs->a[c->dial_ai], at, sizeof(at));
	errno_text(c->dial_errno, es, sizeof(es));
	snprintf(what, sizeof(what), "%sdial tcp %s: connect: %s", dial_prefix(c), at, es);
	scraper__conn_fail_get(c, what);
}

void scraper__conn_fail_lookup(struct scraper__conn *c, const char *err)
{
	char what[400];

	snprintf(what, sizeof(what), "%sdial tcp: %s", dial_prefix(c), err);
	scraper__conn_fail_get(c, what);
}
