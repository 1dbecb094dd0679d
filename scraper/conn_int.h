/*
 * conn_int.h - a connection's internals, shared by scraper/conn.c,
 * conn_dial.c and conn_errors.c only; everyone else goes through the
 * scraper__conn functions of scraper_int.h.
 */
#ifndef SCRAPER_CONN_INT_H
#define SCRAPER_CONN_INT_H

#include <string.h>

#include "scraper/scraper_int.h"

/* A connection's states, in the order a new one goes through them. */
enum scraper__conn_state {
	SCRAPER__C_CLOSED, SCRAPER__C_RESOLVING, SCRAPER__C_CONNECTING, SCRAPER__C_PROXY_SEND,
	SCRAPER__C_PROXY_RECV, SCRAPER__C_HANDSHAKE, SCRAPER__C_SEND, SCRAPER__C_RECV,
	SCRAPER__C_IDLE,
};

/* One connection; its fields are private to scraper/conn*.c (everyone
 * else goes through the functions above). */
struct scraper__conn {
	const struct scraper__conn_env *env;
	const struct scraper__request *req; /* in flight, or NULL */
	struct scraper__watch w;
	enum scraper__conn_state state;
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

/* Appends s to the head being built in buf (capacity cap, *len used);
 * false when it does not fit. */
static inline bool scraper__conn_put(char *buf, size_t cap, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (n > cap - *len)
		return false;
	memcpy(buf + *len, s, n);
	*len += n;
	return true;
}

/* conn.c: hands the outcome to req->done; keeps the conn if it can carry another. */
void scraper__conn_finish(struct scraper__conn *c, enum scraper__outcome oc, const char *err);
/* conn.c: sends the request on a ready connection (TLS up, certificate checked). */
void scraper__conn_begin_request(struct scraper__conn *c);

/* conn_dial.c: the lookup's answer (scraper__resolved_fn, ud = c): dials, or fails. */
void scraper__conn_resolved(void *ud, struct scraper__addrs *addrs, const char *err);
/* conn_dial.c: an event while CONNECTING: on to tunnel/TLS, the next address, or wait. */
void scraper__conn_connect_event(struct scraper__conn *c);
/* conn_dial.c: writes the CONNECT head (PROXY_SEND), then waits for the answer. */
void scraper__conn_proxy_send(struct scraper__conn *c);
/* conn_dial.c: reads the proxy's answer (PROXY_RECV); a 200 starts TLS in the tunnel. */
void scraper__conn_proxy_recv(struct scraper__conn *c);
/* conn_dial.c: drives the handshake, checks the certificate, then begins the request. */
void scraper__conn_handshake(struct scraper__conn *c);

/* conn_errors.c: each ends the request in flight (scraper__conn_finish, SCRAPER__FAILED)
 * with Go's text. */
/* `Get "URL": <what>` (Go's url.Error). */
void scraper__conn_fail_get(struct scraper__conn *c, const char *what);
/* `Get "URL": <op> tcp L->R: <op>: <errno text>`, or a body read error as Go words it. */
void scraper__conn_fail_sock(struct scraper__conn *c, const char *op, int e);
/* A GnuTLS failure (rc < 0, e = errno right after it) in crypto/tls's words. */
void scraper__conn_fail_tls(struct scraper__conn *c, int rc, int e);
/* No address could be connected to: the first one's connect error. */
void scraper__conn_fail_dial(struct scraper__conn *c);
/* The host name did not resolve: `[proxyconnect tcp: ]dial tcp: <err>`. */
void scraper__conn_fail_lookup(struct scraper__conn *c, const char *err);

#endif
