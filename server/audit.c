/*
 * audit.c - audit events as kube-apiserver writes them (--audit-log-path
 * with --audit-policy-file): audit.k8s.io/v1 Event objects, one JSON line
 * each, in the Go field order and with Go's string escaping, at the level
 * the policy picks:
 *
 *   RequestReceived   once authenticated, before authorization
 *   ResponseStarted   only for a request that failed authentication (401),
 *                     with no user (WithFailedAuthenticationAudit)
 *   ResponseComplete  when the answer was sent, with responseStatus
 *                     (a Status answer's status, message, reason, details
 *                     and code; otherwise the code) and the authorizer's
 *                     decision and reason as annotations
 *
 * GET requests have no request body, so Request adds nothing to Metadata;
 * RequestResponse adds the JSON answer as responseObject.  Every answer,
 * audited or not, carries the Audit-Id header (WithAuditInit): the
 * request's Audit-ID when it has one (kube-apiserver's proxy sets it),
 * else a new random UUID.
 */
#include "server/audit_int.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUDIT_MAX_ID 1024               /* of a client's Audit-ID kept */

struct server_audit {
	struct server__audit_policy *policy;
	struct server__audit_sink *sink;
	bool strict;                     /* --audit-log-mode=blocking-strict */
	enum server__audit_format format;
};

int server_audit_new(const struct server_audit_flags *f, struct server_audit **out, char *err,
		     size_t errlen)
{
	struct server_audit *a;

	*out = NULL;
	if (!f->log_path || !*f->log_path)
		return 0;
	if (!f->policy_file || !*f->policy_file) {
		log_v(2, "No audit policy file provided, no events will be recorded for log backend");
		return 0;
	}
	a = xcalloc(1, sizeof(*a));
	a->policy = server__audit_policy_load(f->policy_file, err, errlen);
	if (!a->policy) {
		server_audit_free(a);
		return ERR_INVAL;
	}
	a->sink = server__audit_sink_open(f, err, errlen);
	if (!a->sink) {
		server_audit_free(a);
		return ERR_IO;
	}
	a->strict = f->log_mode && strcmp(f->log_mode, "blocking-strict") == 0;
	if (!f->log_format || strcmp(f->log_format, "json") == 0) {
		a->format = SERVER__AUDIT_JSON;
	} else if (strcmp(f->log_format, "legacy") == 0) {
		a->format = SERVER__AUDIT_LEGACY;
	} else { /* metrics-server never validates it: each event fails upstream */
		a->format = SERVER__AUDIT_UNKNOWN;
		log_error("\"Error in audit plugin 'log'\" err=\"log format \\\"%s\\\" is not in list "
			  "of known formats (legacy,json)\"", f->log_format);
	}
	log_v(2, "Using audit backend: log");
	*out = a;
	return 0;
}

void server_audit_free(struct server_audit *a)
{
	if (!a)
		return;
	server__audit_policy_free(a->policy);
	server__audit_sink_close(a->sink);
	free(a);
}

/* ---- the record ------------------------------------------------------------- */

void server__audit_init(struct server__audit_rec *r, struct MHD_Connection *c, int64_t now_ns)
{
	const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Audit-ID");
	char buf[37];

	memset(r, 0, sizeof(*r));
	r->received_ns = now_ns;
	if (id && *id) {
		r->id = xstrndup(id, strnlen(id, AUDIT_MAX_ID));
		return;
	}
	uuid_new(buf);
	r->id = xstrdup(buf);
}

void server__audit_rec_clear(struct server__audit_rec *r)
{
	free(r->id);
	free(r->reason);
	free(r->response_status);
	free(r->response_object);
	memset(r, 0, sizeof(*r));
}

void server__audit_decision(struct server__audit_rec *r, const char *decision, const char *reason)
{
	if (r->level == SERVER__AUDIT_NONE)
		return;
	r->decision = decision;
	free(r->reason);
	r->reason = xstrdup(reason ? reason : "");
}

/* Writes one event: false when it could not be stored. */
static bool emit(const struct server_audit *a, const struct server__audit_event *e)
{
	struct server__jout o = { .rc = 0 };
	bool ok;

	if (e->r->omit & (1u << e->stage))
		return true;
	dynbuf_init(&o.b, DYN_API_RESPONSE);
	if (a->format == SERVER__AUDIT_UNKNOWN) {
		dynbuf_clear(&o.b);
		return !a->strict;
	}
	server__audit_render(&o.b, e, a->format == SERVER__AUDIT_LEGACY, &o.rc);
	if (o.rc != 0)
		log_error("\"Error in audit plugin 'log' affecting 1 audit events\" err=\"%s\" "
			  "auditID=\"%s\"", err_str(o.rc), e->r->id);
	ok = o.rc == 0 && server__audit_sink_write(a->sink, o.b.buf, o.b.len);
	dynbuf_clear(&o.b);
	return ok || !a->strict;
}

/* ---- the request's moments ------------------------------------------------------ */

bool server__audit_begin(const struct server_audit *a, struct server__audit_rec *r,
			 const struct server_exchange *x, const struct server_attrs *at,
			 const char *raw_uri)
{
	if (!a)
		return true;
	r->level = server__audit_policy_eval(a->policy, x->user, at, &r->omit);
	if (r->level == SERVER__AUDIT_NONE)
		return true;
	return emit(a, &(struct server__audit_event){ .r = r, .stage = SERVER__AUDIT_RECEIVED, .user = x->user,
					.at = at, .conn = x->conn, .raw_uri = raw_uri });
}

/* getAuthMethods: what the request tried, into buf. */
static void auth_methods(struct MHD_Connection *c, char *buf, size_t len)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	const char *token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "access_token");
	const char *m[4];
	size_t n = 0, used;
	unsigned npeers = 0;

	while (auth && (*auth == ' ' || *auth == '\t'))
		auth++;
	if (auth && strncasecmp(auth, "basic ", 6) == 0)
		m[n++] = "basic";
	if (auth && strncasecmp(auth, "bearer ", 7) == 0)
		m[n++] = "bearer";
	if (token && token[strspn(token, " \t")])
		m[n++] = "access_token";
	if (ci && ci->tls_session && gnutls_certificate_get_peers(ci->tls_session, &npeers) &&
	    npeers > 0)
		m[n++] = "x509";
	if (n == 0) {
		snprintf(buf, len, "Authentication failed, no credentials provided");
		return;
	}
	used = (size_t)snprintf(buf, len, "Authentication failed, attempted: ");
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", m[i]);
}

void server__audit_unauthenticated(const struct server_audit *a, struct server__audit_rec *r,
				   const struct server_exchange *x, const struct server_attrs *at,
				   const char *raw_uri)
{
	struct server__jout o = { .rc = 0 };
	char msg[160];

	if (!a)
		return;
	r->level = server__audit_policy_eval(a->policy, NULL, at, &r->omit);
	if (r->level == SERVER__AUDIT_NONE)
		return;
	auth_methods(x->conn, msg, sizeof(msg));
	dynbuf_init(&o.b, DYN_SMALL);
	server__jout_raw(&o, "{\"metadata\":{},\"message\":");
	server__jout_str(&o, msg);
	server__jout_raw(&o, ",\"code\":401}");
	if (o.rc == 0)
		(void)emit(a, &(struct server__audit_event){ .r = r, .stage = SERVER__AUDIT_STARTED, .at = at,
					       .conn = x->conn, .raw_uri = raw_uri,
					       .response_status = o.b.buf });
	dynbuf_clear(&o.b);
	r->level = SERVER__AUDIT_NONE; /* nothing more for it */
}

/* A Status answer's bounded fields (status, message, reason, details,
 * code) as the event's responseStatus, escaped as Go writes them. */
static void out_status(struct server__jout *o, json_t *st, int code)
{
	static const char *const strs[] = { "status", "message", "reason" };
	json_t *details = json_object_get(st, "details"), *v;
	const char *k;
	char num[32];

	server__jout_raw(o, "{\"metadata\":{}");
	for (size_t i = 0; i < COMMON_ARRAY_LEN(strs); i++) {
		const char *s = json_string_value(json_object_get(st, strs[i]));

		if (s && *s) {
			bool first = false;

			server__jout_member(o, &first, strs[i], s);
		}
	}
	if (json_is_object(details)) {
		bool first = true;

		server__jout_raw(o, ",\"details\":{");
		json_object_foreach(details, k, v) {
			if (json_is_string(v)) {
				server__jout_member(o, &first, k, json_string_value(v));
			} else if (json_is_integer(v)) {
				snprintf(num, sizeof(num), "%s\"%s\":%lld", first ? "" : ",", k,
					 (long long)json_integer_value(v));
				first = false;
				server__jout_raw(o, num);
			}
		}
		server__jout_raw(o, "}");
	}
	snprintf(num, sizeof(num), ",\"code\":%d}", code);
	server__jout_raw(o, num);
}

/* Compact JSON: the body without the whitespace outside its strings
 * (a ?pretty=true answer is indented; an event is one line). */
static char *compact(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *w = out;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			*w++ = c;
			if (c == '\\' && i + 1 < len)
				*w++ = s[++i];
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
			*w++ = c;
		} else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
			*w++ = c;
		}
	}
	*w = '\0';
	return out;
}

void server__audit_response(const struct server_audit *a, struct server__audit_rec *r,
			    const struct server_exchange *x)
{
	bool is_json = strncmp(x->content_type, "application/json", 16) == 0 && x->body.len > 0;
	json_t *st = NULL;
	struct server__jout o = { .rc = 0 };
	char code[48];

	if (!a || r->level == SERVER__AUDIT_NONE || r->response_status)
		return;
	if (is_json && x->status >= 300)
		st = json_loadb(x->body.buf, x->body.len, 0, NULL);
	if (st && !json_is_string(json_object_get(st, "kind"))) {
		json_decref(st);
		st = NULL;
	} else if (st && strcmp(json_string_value(json_object_get(st, "kind")), "Status") != 0) {
		json_decref(st);
		st = NULL;
	}
	dynbuf_init(&o.b, DYN_SMALL);
	if (st) {
		out_status(&o, st, x->status);
	} else {
		snprintf(code, sizeof(code), "{\"metadata\":{},\"code\":%d}", x->status);
		server__jout_raw(&o, code);
	}
	json_decref(st);
	r->response_status = o.rc == 0 ? dynbuf_take(&o.b, NULL) : NULL;
	dynbuf_clear(&o.b);
	if (r->level >= SERVER__AUDIT_REQUEST_RESPONSE && is_json)
		r->response_object = compact(x->body.buf, x->body.len);
}

void server__audit_complete(const struct server_audit *a, struct server__audit_rec *r,
			    const struct server_exchange *x, const struct server_attrs *at,
			    const char *raw_uri)
{
	if (!a || r->level == SERVER__AUDIT_NONE)
		return;
	(void)emit(a, &(struct server__audit_event){
		.r = r, .stage = SERVER__AUDIT_COMPLETE, .user = x->user, .at = at,
		.conn = x->conn, .raw_uri = raw_uri, .annotations = true,
		/* no answer was queued: WithAudit's faked success */
		.response_status = r->response_status
			? r->response_status
			: "{\"metadata\":{},\"status\":\"Success\",\"message\":\"Connection "
			  "closed early\",\"code\":200}" });
}
