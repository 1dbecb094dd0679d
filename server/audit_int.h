/*
 * audit_int.h - private to server/: the audit log (audit.c, audit_sink.c,
 * audit_policy.c) and what the request path (filters.c, http.c) hands it.
 */
#ifndef SERVER_AUDIT_INT_H
#define SERVER_AUDIT_INT_H

#include <stdint.h>

#include "server/server.h"

enum server__audit_level {
	SERVER__AUDIT_NONE,
	SERVER__AUDIT_METADATA,
	SERVER__AUDIT_REQUEST,
	SERVER__AUDIT_REQUEST_RESPONSE,
};

enum server__audit_stage {
	SERVER__AUDIT_RECEIVED,   /* RequestReceived */
	SERVER__AUDIT_STARTED,    /* ResponseStarted */
	SERVER__AUDIT_COMPLETE,   /* ResponseComplete */
	SERVER__AUDIT_PANIC,      /* Panic */
};

const char *server__audit_level_name(enum server__audit_level l);
const char *server__audit_stage_name(enum server__audit_stage s);

/* ---- audit_policy.c --------------------------------------------------------- */

struct server__audit_policy;
/* Reads and checks the policy file: NULL with apiserver's text in err
 * ("loading audit policy file: ..."). */
struct server__audit_policy *server__audit_policy_load(const char *path, char *err, size_t errlen);
void server__audit_policy_free(struct server__audit_policy *p);
/* The level for u (NULL: not authenticated) doing at; *omit gets the
 * stages to leave out (1 << stage bits). */
enum server__audit_level server__audit_policy_eval(const struct server__audit_policy *p,
						   const struct server_user *u,
						   const struct server_attrs *at, unsigned *omit);

/* ---- audit_sink.c ------------------------------------------------------------- */

struct server__audit_sink;
/* The log backend of the flags (path "-": stdout; maxsize MiB > 0: rotated
 * as lumberjack does, keeping maxbackup files for maxage days).  NULL with
 * err ("ensureLogFile: ...") when the file cannot be created. */
struct server__audit_sink *server__audit_sink_open(const struct server_audit_flags *f, char *err,
						   size_t errlen);
/* Appends one line (with its newline); false when it could not be written
 * (logged). */
bool server__audit_sink_write(struct server__audit_sink *s, const char *line, size_t len);
void server__audit_sink_close(struct server__audit_sink *s);

/* ---- audit_event.c ------------------------------------------------------------ */

/* JSON being written into b; the first failure (ERR_TOOBIG) sticks in rc
 * and the later writes do nothing. */
struct server__jout {
	struct dynbuf b;
	int rc;
};
void server__jout_raw(struct server__jout *o, const char *s);
/* s as a Go-escaped JSON string */
void server__jout_str(struct server__jout *o, const char *s);
/* ,"key":"value" (no comma when *first; clears it) */
void server__jout_member(struct server__jout *o, bool *first, const char *key, const char *value);

enum server__audit_format { SERVER__AUDIT_JSON, SERVER__AUDIT_LEGACY, SERVER__AUDIT_UNKNOWN };

struct server__audit_rec;

/* What one event says (borrowed pointers). */
struct server__audit_event {
	const struct server__audit_rec *r;
	enum server__audit_stage stage;
	const struct server_user *user;  /* NULL: none (401) */
	const struct server_attrs *at;
	struct MHD_Connection *conn;
	const char *raw_uri;
	const char *response_status;     /* JSON object, or NULL */
	bool annotations;
};

/* Appends e as one line (newline included) to b; *rc gets ERR_TOOBIG when
 * b's cap was reached. */
void server__audit_render(struct dynbuf *b, const struct server__audit_event *e, bool legacy,
			  int *rc);

/* ---- audit.c -------------------------------------------------------------------- */

/* One request's audit state, kept in the request (filters.c, http.c). */
struct server__audit_rec {
	char *id;                        /* Audit-ID (header's, or a new UUID) */
	enum server__audit_level level;  /* NONE: no event */
	unsigned omit;
	int64_t received_ns;
	const char *decision;            /* authorization.k8s.io/decision, or NULL */
	char *reason;                    /* authorization.k8s.io/reason, or NULL */
	char *response_status;           /* the event's responseStatus JSON, once answered */
	char *response_object;           /* the body (RequestResponse level, JSON only) */
};

/* Sets r's Audit-ID: the request's Audit-ID header or a new UUID (always,
 * also without auditing: every answer carries Audit-Id). */
void server__audit_init(struct server__audit_rec *r, struct MHD_Connection *c, int64_t now_ns);
/* After authentication: evaluates the policy and writes RequestReceived;
 * false when that failed and --audit-log-mode=blocking-strict (the
 * request then gets 500 "failed to store audit event"). */
bool server__audit_begin(const struct server_audit *a, struct server__audit_rec *r,
			 const struct server_exchange *x, const struct server_attrs *at,
			 const char *raw_uri);
/* A request that failed authentication (401): one ResponseStarted event. */
void server__audit_unauthenticated(const struct server_audit *a, struct server__audit_rec *r,
				   const struct server_exchange *x, const struct server_attrs *at,
				   const char *raw_uri);
/* The authorizer's decision ("allow", "forbid") and reason (copied). */
void server__audit_decision(struct server__audit_rec *r, const char *decision, const char *reason);
/* When the answer is queued (x->body still there): keeps what the
 * ResponseComplete event reports of it. */
void server__audit_response(const struct server_audit *a, struct server__audit_rec *r,
			    const struct server_exchange *x);
/* When the response was sent: ResponseComplete. */
void server__audit_complete(const struct server_audit *a, struct server__audit_rec *r,
			    const struct server_exchange *x, const struct server_attrs *at,
			    const char *raw_uri);
void server__audit_rec_clear(struct server__audit_rec *r);

#endif
