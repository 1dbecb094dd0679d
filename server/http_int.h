/*
 * http_int.h - private to server/: what http.c (the daemon, a request's
 * life in libmicrohttpd) and filters.c (the generic apiserver's filter
 * chain run on each request) share.
 */
#ifndef SERVER_HTTP_INT_H
#define SERVER_HTTP_INT_H

#include "server/audit_int.h"
#include "server/authn_int.h"

struct server_http {
	struct MHD_Daemon *daemon;
	struct server_http_options o;
	char *trust_pem;                 /* makes GnuTLS request client certificates */
	struct server__serving *serving; /* the serving pair, reloaded */
	struct server__ticker *reloader;
	struct server__workers *workers; /* serve requests that wait on a review */
	int port;
	atomic_int inflight;             /* get, list, watch being served */
	atomic_int inflight_mutating;    /* the other verbs */
	atomic_int active;               /* every request being served */
	atomic_int waiting;              /* suspended, on or for a worker */
	atomic_bool draining;            /* server_http_drain: 429 to new requests */
};

/* How far a request went through the filters (each runs once). */
enum server__stage {
	SERVER__STAGE_START,   /* draining, URI length, authentication next */
	SERVER__STAGE_AUTHZ,   /* authenticated, holds its in-flight slot */
};

/* One request, from its first header to completion. */
struct server__req {
	struct server_exchange x;
	char *raw_uri;                   /* the request-target as received */
	bool started;
	enum server__stage stage;
	struct server_user user;
	bool have_user;
	struct server_attrs at;          /* its RequestInfo, once have_attrs */
	bool have_attrs;
	bool responded;
	bool answered;                   /* x is filled: queue it */
	const char *retry_after;         /* Retry-After of a 429, or NULL */
	bool close;                      /* Connection: close */
	bool counted;                    /* holds h->active */
	atomic_int *slot;                /* the in-flight count it holds, or NULL */
	struct server_http *h;
	uint64_t body_bytes;
	struct server__job job;          /* while a worker serves it */
	int64_t start_mono_ns;           /* when its headers were read */
	int64_t deadline_mono_ns;        /* --request-timeout or ?timeout= (0: none) */
	struct server__audit_rec audit;  /* its Audit-ID, and its events' state */
};

/*
 * Runs the filters (authenticate, limit, authorize, route, handler) on r,
 * called on a polling thread once the request is read: true when r->x is
 * filled (r->answered).  False when a review no cache answers is needed:
 * the connection is then suspended and r belongs to a worker, which goes
 * on from there, sets r->answered and resumes the connection (r must not
 * be touched meanwhile).
 */
bool server__serve(struct server_http *h, struct server__req *r);
/* Once r's answer was sent (or the request ended): its ResponseComplete
 * audit event, when it is audited. */
void server__audit_finish(struct server_http *h, struct server__req *r);

#endif
