/*
 * filters.c - the generic apiserver's filter chain, run once per request
 * after its body (if any, discarded) was read:
 *
 *   draining (429) -> authenticate (401) -> audit -> max in flight (429)
 *   -> authorize (403) -> route (404) -> method (405) -> handler
 *
 * Each request starts on one of libmicrohttpd's polling threads, which
 * serve every connection and so must never wait on kube-apiserver.  When
 * authentication needs a TokenReview, or authorization a
 * SubjectAccessReview, that no cache answers, the connection is suspended
 * and the request handed to a worker (workers.c), which makes the review,
 * runs the rest of the chain and resumes the connection.  A request that
 * waits keeps the in-flight slot it took, so --max-requests-inflight
 * counts it, as upstream's filter counts a goroutine blocked in its
 * authorizer.
 *
 * --request-timeout (or a shorter ?timeout=) is each request's deadline,
 * as WithRequestDeadline sets it: a request still waiting for a worker at
 * its deadline, or whose review returned after it, is answered 504 with
 * WithTimeoutForNonLongRunningRequests' Status (a review already under
 * way is not cut short: its own timeout bounds it).
 */
#include "server/http_int.h"

#include <microhttpd.h>
#include <string.h>

static const struct server_route *find_route(const struct server_http *h, const char *path)
{
	for (size_t i = 0; i < h->o.nroutes; i++) {
		const struct server_route *rt = &h->o.routes[i];
		size_t len = rt->path ? strlen(rt->path) : 0;

		if (rt->owns && rt->owns(path))
			return rt;
		if (rt->path && strncmp(path, rt->path, len) == 0 &&
		    (path[len] == '\0' || (rt->subtree && path[len] == '/')))
			return rt;
	}
	return NULL;
}

/* The authenticator's state of connection c (made when it opened). */
static struct server_authn_conn *conn_state(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci && ci->socket_context ? server__conn_authn(ci->socket_context) : NULL;
}

/*
 * WithMaxInFlightLimit: a request takes a slot of its kind (get, list and
 * watch, or the others) until it completes; when none is free it is
 * answered 429 with Retry-After: 1, unless its user is in system:masters.
 * Long-running (watch) requests are not counted.  False when refused.
 */
static bool take_slot(struct server_http *h, struct server__req *r, const struct server_attrs *at)
{
	bool ro = strcmp(at->verb, "get") == 0 || strcmp(at->verb, "list") == 0 ||
		  strcmp(at->verb, "watch") == 0;
	int limit = ro ? h->o.max_requests_inflight : h->o.max_mutating_requests_inflight;
	atomic_int *c = ro ? &h->inflight : &h->inflight_mutating;

	if (limit <= 0 || strcmp(at->verb, "watch") == 0)
		return true;
	if (atomic_fetch_add(c, 1) < limit) {
		r->slot = c;
		return true;
	}
	atomic_fetch_sub(c, 1);
	if (server_user_in_group(&r->user, "system:masters"))
		return true;
	r->retry_after = "1";
	server_reply_text(&r->x, 429, "Too many requests, please try again later.\n");
	return false;
}

/* The answer of a request refused because the server is shutting down. */
static void reply_shutting_down(struct server__req *r)
{
	r->retry_after = "5";
	r->close = true;
	server_reply_text(&r->x, 429, "The apiserver is shutting down, please try again later.\n");
}

/* WithRetryAfter (--shutdown-send-retry-after) once draining: 429 to every
 * request but the probes, /metrics and kube-apiserver's own. */
static bool refused_draining(struct server_http *h, struct server__req *r)
{
	static const char *const exempt[] = { "/readyz", "/livez", "/healthz", "/metrics" };
	const char *ua = MHD_lookup_connection_value(r->x.conn, MHD_HEADER_KIND, "User-Agent");

	if (!atomic_load(&h->draining) || (ua && strncmp(ua, "kube-apiserver/", 15) == 0))
		return false;
	for (size_t i = 0; i < COMMON_ARRAY_LEN(exempt); i++)
		if (strncmp(r->x.path, exempt[i], strlen(exempt[i])) == 0)
			return false;
	reply_shutting_down(r);
	return true;
}

/* WithRequestDeadline: r's deadline from --request-timeout and ?timeout=
 * (only a shorter one counts); false after answering 400 for a ?timeout=
 * that is no Go duration. */
static bool set_deadline(struct server_http *h, struct server__req *r)
{
	const char *q = server_query(&r->x, "timeout", NULL);
	int64_t timeout = h->o.request_timeout_ns, user;
	char why[256], *msg;

	if (q && *q && go_parse_duration(q, &user, why, sizeof(why)) != 0) {
		msg = xasprintf("invalid timeout specified in the request URL - %s", why);
		server_reply_status(&r->x, 400, "BadRequest", msg, NULL, NULL, NULL);
		free(msg);
		return false;
	}
	if (q && *q && user > 0 && (timeout <= 0 || user < timeout))
		timeout = user;
	if (timeout > 0 && strcmp(r->at.verb, "watch") != 0) /* watches run long */
		r->deadline_mono_ns = r->start_mono_ns + timeout;
	return true;
}

/* Past r's deadline: the timeout filter's 504 replaces any answer. */
static bool timed_out(struct server__req *r)
{
	if (r->deadline_mono_ns == 0 || clock_mono_ns() < r->deadline_mono_ns)
		return false;
	r->retry_after = NULL;
	server_reply_status(&r->x, 504, "Timeout",
			    "Timeout: request did not complete within the allotted timeout", "", "",
			    ""); /* NewTimeoutError: details {} */
	return true;
}

/* r->at, the request's RequestInfo, worked out once for every filter. */
static void parse_attrs(struct server__req *r)
{
	bool watch_present;
	const char *watch = server_query(&r->x, "watch", &watch_present);

	server_attrs_parse(&r->at, r->x.method, r->x.path, watch, watch_present,
			   server_query(&r->x, "fieldSelector", NULL));
	r->have_attrs = true;
}

/* Draining, URI length, authentication, in-flight slot: true when r is
 * answered or goes on to authorization (r->stage), false when a
 * TokenReview is needed and !may_block. */
static bool filter_start(struct server_http *h, struct server__req *r, bool may_block)
{
	struct server_exchange *x = &r->x;
	int rc;

	if (!r->counted) {
		atomic_fetch_add(&h->active, 1);
		r->counted = true;
	}
	if (refused_draining(h, r))
		return true;
	if (strlen(x->path) > SERVER_MAX_PATH) {
		server_reply_text(x, 414, "URI Too Long\n");
		return true;
	}
	if (!r->have_attrs) { /* (not again on a worker, after a TokenReview) */
		parse_attrs(r);
		if (!set_deadline(h, r))
			return true;
	}
	rc = server_authn_request(h->o.authn, x->conn, conn_state(x->conn), may_block, &r->user);
	if (rc == ERR_AGAIN)
		return false;
	if (rc != 0) {
		server__audit_unauthenticated(h->o.audit, &r->audit, x, &r->at, r->raw_uri);
		server_reply_status(x, 401, "Unauthorized", "Unauthorized", NULL, NULL, NULL);
		return true;
	}
	r->have_user = true;
	x->user = &r->user;
	if (!server__audit_begin(h->o.audit, &r->audit, x, &r->at, r->raw_uri)) {
		server_authz_fail(x, r->raw_uri, "failed to store audit event");
		return true;
	}
	if (take_slot(h, r, &r->at))
		r->stage = SERVER__STAGE_AUTHZ;
	return true;
}

/* Authorization, route, method, handler: false when a
 * SubjectAccessReview is needed and !may_block. */
static bool filter_rest(struct server_http *h, struct server__req *r, bool may_block)
{
	struct server_exchange *x = &r->x;
	const struct server_route *rt;
	char *why = NULL;

	switch (server_authz_decide(h->o.authz, &r->user, &r->at, may_block, &why)) {
	case SERVER_AUTHZ_PENDING:
		return false;
	case SERVER_AUTHZ_ALLOW:
		server__audit_decision(&r->audit, "allow", why);
		free(why);
		break;
	case SERVER_AUTHZ_DENY:
		server__audit_decision(&r->audit, "forbid", why);
		server_authz_forbid(x, &r->user, &r->at, why);
		free(why);
		return true;
	case SERVER_AUTHZ_ERROR:
		server__audit_decision(&r->audit, NULL, "internal error");
		server_authz_fail(x, r->raw_uri, why);
		free(why);
		return true;
	}
	rt = find_route(h, x->path);
	if (!rt)
		server_reply_text(x, 404, "404 page not found\n");
	else if (strcmp(x->method, "GET") != 0 && strcmp(x->method, "HEAD") != 0)
		server_reply_status(x, 405, "MethodNotAllowed",
				    "the server does not allow this method on the requested resource",
				    NULL, NULL, NULL);
	else
		rt->handler(rt->ud, x);
	return true;
}

/* The chain from where r stands; false when it has to wait (!may_block). */
static bool run_filters(struct server_http *h, struct server__req *r, bool may_block)
{
	if (r->stage == SERVER__STAGE_START) {
		if (!filter_start(h, r, may_block))
			return false;
		if (r->stage == SERVER__STAGE_START)
			return true; /* answered */
	}
	return filter_rest(h, r, may_block);
}

/* On a worker (or, cancelled, in server__workers_stop): the rest of the
 * chain, then the connection goes back to libmicrohttpd, which calls
 * on_request again and queues the answer. */
static void run_on_worker(struct server__job *j, bool cancelled)
{
	struct server__req *r = (struct server__req *)((char *)j - offsetof(struct server__req, job));
	struct MHD_Connection *c = r->x.conn;

	if (cancelled)
		reply_shutting_down(r);
	else if (!timed_out(r)) {
		(void)run_filters(r->h, r, true);
		(void)timed_out(r);
	}
	atomic_fetch_sub(&r->h->waiting, 1);
	r->answered = true;
	MHD_resume_connection(c); /* r is libmicrohttpd's again from here */
}

bool server__serve(struct server_http *h, struct server__req *r)
{
	if (run_filters(h, r, false)) {
		r->answered = true;
		return true;
	}
	MHD_suspend_connection(r->x.conn);
	atomic_fetch_add(&h->waiting, 1);
	r->job.run = run_on_worker;
	if (server__workers_submit(h->workers, &r->job))
		return false;
	/* no workers (stopping): wait here, then resume at once */
	run_on_worker(&r->job, false);
	return false;
}

void server__audit_finish(struct server_http *h, struct server__req *r)
{
	if (h->o.audit && r->audit.level != SERVER__AUDIT_NONE) /* only once r->at is known */
		server__audit_complete(h->o.audit, &r->audit, &r->x, &r->at, r->raw_uri);
}
