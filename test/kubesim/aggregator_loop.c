/*
 * aggregator_loop.c - the availability controller (kube-aggregator's
 * remote_available_controller.go) and the discovery refresh that rides on it.
 *
 * Each APIService is checked on add/change, every resync period after a
 * success, and after a failure with a backoff of 5ms doubling up to the
 * resync period.  A check resolves the endpoint (aggregator.c explains how),
 * probes GET https://<endpoint>/apis/<group>/<version> once (Go makes five
 * parallel attempts; one is enough on loopback), refreshes the discovery
 * cache before publishing Available=True (so a client that waited for
 * Available finds the group in /apis), then writes
 * status.conditions[type=Available] when it changed.
 */
#include "test/kubesim/aggregator_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIRST_BACKOFF_NS (5 * NS_PER_MS)

struct check_result {
	const char *status;        /* "True", "False" */
	const char *reason;
	char message[1024];
	char *endpoint;            /* resolved, owned, or NULL */
};

static void set_result(struct check_result *r, const char *status, const char *reason,
		       const char *fmt, ...) COMMON_PRINTF(4, 5);

static void set_result(struct check_result *r, const char *status, const char *reason,
		       const char *fmt, ...)
{
	va_list ap;

	r->status = status;
	r->reason = reason;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

/* ---- endpoint resolution ---------------------------------------------------- */

static const json_t *service_port(const json_t *svc, int port)
{
	const json_t *ports = json_object_get(json_object_get(svc, "spec"), "ports");
	const json_t *p;
	size_t i;

	json_array_foreach(ports, i, p) {
		if (json_integer_value(json_object_get(p, "port")) == port)
			return p;
	}
	return NULL;
}

/* Fills r->endpoint, or r with the failing condition.  true on success. */
static bool resolve(struct sim_aggregator *a, const struct agg_target *t, struct check_result *r)
{
	const json_t *p;
	const char *ip, *pname;
	json_t *svc;
	bool ok = false;

	if (t->annotated_endpoint) {
		r->endpoint = xstrdup(t->annotated_endpoint);
		return true;
	}
	svc = sim_store_get(a->c->store, "services", t->svc_ns, t->svc_name);
	if (!svc) {
		set_result(r, "False", "ServiceNotFound", "service/%s in \"%s\" is not present",
			   t->svc_name, t->svc_ns);
		return false;
	}
	p = service_port(svc, t->port);
	ip = json_string_value(json_object_get(json_object_get(svc, "spec"), "clusterIP"));
	pname = json_string_value(json_object_get(p, "name"));
	if (!p) {
		set_result(r, "False", "ServicePortError",
			   "service/%s in \"%s\" is not listening on port %d", t->svc_name,
			   t->svc_ns, t->port);
	} else if (!ip || !*ip || strcmp(ip, "None") == 0) {
		set_result(r, "False", "MissingEndpoints",
			   "endpoints for service/%s in \"%s\" have no addresses with port name \"%s\"",
			   t->svc_name, t->svc_ns, pname ? pname : "");
	} else {
		r->endpoint = strchr(ip, ':') ? xasprintf("[%s]:%d", ip, t->port)
					      : xasprintf("%s:%d", ip, t->port);
		ok = true;
	}
	json_decref(svc);
	return ok;
}

/* ---- the probe ----------------------------------------------------------------- */

static bool probe(struct sim_aggregator *a, const struct agg_target *t, struct check_result *r)
{
	static const char *const masters[] = {"system:masters"};
	struct agg_call call;
	struct curl_slist *hdrs;
	char *path = xasprintf("/apis/%s/%s", t->group, t->version);
	bool ok = false;

	hdrs = sim_agg_identity_headers(NULL, "system:kube-aggregator", masters, 1, NULL);
	sim_agg_call_init(&call);
	call.t = t;
	call.path = path;
	call.headers = hdrs;
	call.timeout_ms = SIM_AGG_PROBE_TIMEOUT_MS;
	if (sim_agg_perform(a, &call))
		set_result(r, "False", "FailedDiscoveryCheck",
			   "failing or missing response from %s: Get \"%s\": %s", call.url,
			   call.url, call.err);
	else if (call.status < 200 || call.status >= 300)
		set_result(r, "False", "FailedDiscoveryCheck",
			   "failing or missing response from %s: bad status from %s: %ld", call.url,
			   call.url, call.status);
	else
		ok = true;
	sim_agg_call_clear(&call);
	curl_slist_free_all(hdrs);
	free(path);
	return ok;
}

/* ---- the condition ------------------------------------------------------------- */

static json_t *find_condition(json_t *conds)
{
	json_t *c;
	size_t i;

	json_array_foreach(conds, i, c) {
		if (json_is_string(json_object_get(c, "type")) &&
		    strcmp(json_string_value(json_object_get(c, "type")), "Available") == 0)
			return c;
	}
	return NULL;
}

static bool same_str(const json_t *obj, const char *key, const char *want)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s && strcmp(s, want) == 0;
}

/* Sets the Available condition on obj; false when nothing changed. */
static bool apply_condition(json_t *obj, const struct check_result *r)
{
	json_t *status = json_object_get(obj, "status"), *conds, *old, *cond;
	char ts[32];

	if (!json_is_object(status)) {
		status = json_object();
		json_object_set_new(obj, "status", status);
	}
	conds = json_object_get(status, "conditions");
	if (!json_is_array(conds)) {
		conds = json_array();
		json_object_set_new(status, "conditions", conds);
	}
	old = find_condition(conds);
	if (old && same_str(old, "status", r->status) && same_str(old, "reason", r->reason) &&
	    same_str(old, "message", r->message))
		return false;
	fmt_rfc3339(clock_now_ns(), ts, sizeof(ts));
	cond = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "Available", "status", r->status,
			 "lastTransitionTime", ts, "reason", r->reason, "message", r->message);
	if (old && same_str(old, "status", r->status) &&
	    json_is_string(json_object_get(old, "lastTransitionTime")))
		json_object_set(cond, "lastTransitionTime",
				json_object_get(old, "lastTransitionTime"));
	if (old)
		json_object_update(old, cond);
	else
		json_array_append(conds, cond);
	json_decref(cond);
	return true;
}

/* sim_store_modify callback: ERR_AGAIN when the condition is unchanged. */
static int modify_condition(void *ud, json_t *obj)
{
	return apply_condition(obj, ud) ? 0 : ERR_AGAIN;
}

static void write_condition(struct sim_aggregator *a, const char *name,
			    const struct check_result *r)
{
	int rc = sim_store_modify(a->c->store, "apiservices", NULL, name, modify_condition,
				  (void *)r, NULL);

	if (rc && rc != ERR_AGAIN && rc != ERR_NOTFOUND)
		log_warn("aggregator: cannot update the status of APIService %s: %s", name,
			 err_str(rc));
}

/* ---- one check ------------------------------------------------------------------- */

static size_t index_of(struct sim_aggregator *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nentries; i++) {
		if (strcmp(a->entries[i]->name, name) == 0)
			return i;
	}
	return SIZE_MAX;
}

/* Stores what the check learned, if the entry is still the one checked. */
static void record(struct sim_aggregator *a, const struct agg_target *t, bool ok,
		   const struct check_result *r, json_t *disc, bool tried_disc)
{
	size_t i;
	struct agg_entry *e;
	int64_t now = clock_mono_ns();

	pthread_mutex_lock(&a->mu);
	i = index_of(a, t->name);
	if (i == SIZE_MAX || a->entries[i]->gen != t->gen) {
		pthread_mutex_unlock(&a->mu);
		json_decref(disc);
		return;
	}
	e = a->entries[i];
	free(e->endpoint);
	e->endpoint = r->endpoint ? xstrdup(r->endpoint) : NULL;
	if (ok) {
		e->backoff_ns = 0;
		e->next_probe_ns = a->resync_ns ? now + a->resync_ns : INT64_MAX;
	} else {
		e->backoff_ns = e->backoff_ns ? e->backoff_ns * 2 : FIRST_BACKOFF_NS;
		if (a->resync_ns && e->backoff_ns > a->resync_ns)
			e->backoff_ns = a->resync_ns;
		e->next_probe_ns = a->resync_ns ? now + e->backoff_ns : INT64_MAX;
	}
	if (disc) {
		json_decref(e->disc_resources);
		e->disc_resources = disc;
		e->disc_gen = t->gen;
	}
	if (tried_disc || !ok) {
		e->disc_stale = !disc;
		e->disc_time_ns = now;
	}
	pthread_mutex_unlock(&a->mu);
}

/* Copies the entry named `name`; *need_disc tells whether discovery is due. */
static bool snapshot(struct sim_aggregator *a, const char *name, struct agg_target *t,
		     bool *need_disc)
{
	size_t i;
	const struct agg_entry *e;

	pthread_mutex_lock(&a->mu);
	i = index_of(a, name);
	if (i != SIZE_MAX) {
		e = a->entries[i];
		sim_agg_target_from(t, e);
		*need_disc = !e->disc_resources || e->disc_stale || e->disc_gen != e->gen ||
			     clock_mono_ns() - e->disc_time_ns >= a->discovery_ns;
	}
	pthread_mutex_unlock(&a->mu);
	return i != SIZE_MAX;
}

bool sim_agg_check_one(struct sim_aggregator *a, const char *name)
{
	struct agg_target t = {0};
	struct check_result r = {0};
	char err[512];
	bool ok = false, need_disc = false;
	json_t *disc = NULL;

	if (!snapshot(a, name, &t, &need_disc))
		return false;
	if (!t.svc_name) {
		set_result(&r, "True", "Local", "Local APIServices are always available");
		ok = true;
		need_disc = false;
	} else if (resolve(a, &t, &r)) {
		free(t.endpoint);
		t.endpoint = xstrdup(r.endpoint);
		ok = probe(a, &t, &r);
	}
	if (ok && t.svc_name)
		set_result(&r, "True", "Passed", "all checks passed");
	if (ok && need_disc) {
		disc = sim_agg_fetch_discovery(a, &t, err, sizeof(err));
		if (!disc)
			log_warn("aggregator: discovery of %s/%s failed: %s", t.group, t.version,
				 err);
	}
	record(a, &t, ok, &r, disc, ok && need_disc);
	write_condition(a, name, &r);
	free(r.endpoint);
	sim_agg_target_clear(&t);
	return ok;
}

/* ---- the controller thread ------------------------------------------------------- */

/* The name of an entry whose check is due, or NULL and *wait_until. */
static char *next_due(struct sim_aggregator *a, int64_t *wait_until)
{
	int64_t now = clock_mono_ns();
	size_t i;

	*wait_until = now + a->resync_ns;
	for (i = 0; i < a->nentries; i++) {
		if (a->entries[i]->next_probe_ns <= now)
			return xstrdup(a->entries[i]->name);
		if (a->entries[i]->next_probe_ns < *wait_until)
			*wait_until = a->entries[i]->next_probe_ns;
	}
	return NULL;
}

void *sim_agg_loop_main(void *arg)
{
	struct sim_aggregator *a = arg;
	struct timespec ts;
	int64_t until;
	char *name;

	pthread_mutex_lock(&a->mu);
	while (!a->stop) {
		name = next_due(a, &until);
		if (name) {
			pthread_mutex_unlock(&a->mu);
			sim_agg_check_one(a, name);
			free(name);
			pthread_mutex_lock(&a->mu);
			continue;
		}
		ts.tv_sec = (time_t)(until / NS_PER_SEC);
		ts.tv_nsec = (long)(until % NS_PER_SEC);
		pthread_cond_timedwait(&a->cv, &a->mu, &ts);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}
