/*
 * watch.c - ?watch=1 streams: synthetic ADDED events for the current
 * state (no resourceVersion, or "0"), then the ring's events after the
 * given resourceVersion, filtered by namespace and selectors (a MODIFIED
 * object entering or leaving the selection becomes ADDED or DELETED), an
 * ERROR event with a 410 Expired Status when the version is older than
 * the retained window, BOOKMARKs when allowed, and an end at
 * timeoutSeconds.
 */
#include "test/kubesim/apiserver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WATCH_BATCH 128
#define WATCH_WAIT_MS 1000
#define WATCH_MAX_TIMEOUT_S 3600
#define WATCH_DEFAULT_TIMEOUT_S 1800
#define WATCH_IDLE_NS (30 * NS_PER_SEC)   /* keep-alive newline or bookmark */
#define WATCH_PENDING_MAX (256u << 20)

struct watch {
	struct sim_store *store;
	const struct sim_kind *kind;
	struct sim_query q;
	struct selector *labels;
	struct field_selector fields;
	uint64_t rv;               /* last event considered */
	struct sim_snapshot initial;
	size_t initial_next;
	bool in_initial;           /* synthetic ADDED events still to send */
	bool initial_bookmark;     /* sendInitialEvents: mark the end */
	bool bookmarks;
	struct dynbuf pending;
	size_t sent;
	int64_t deadline_ns;
	int64_t last_write_ns;
	bool done;
};

static int put_event(struct dynbuf *b, const char *type, const struct sim_kind *k,
		     const struct sim_obj *o)
{
	int rc = dynbuf_printf(b, "{\"type\":\"%s\",\"object\":{\"kind\":\"%s\","
			       "\"apiVersion\":\"%s\",", type, k->kind, sim_kind_api_version(k));

	if (!rc)
		rc = dynbuf_add(b, o->json + 1, o->len - 1);
	return rc ? rc : dynbuf_addstr(b, "}\n");
}

static int put_bookmark(struct watch *w, bool initial_end)
{
	return dynbuf_printf(&w->pending,
			     "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":"
			     "\"%s\",\"metadata\":{\"resourceVersion\":\"%llu\"%s}}}\n",
			     w->kind->kind, sim_kind_api_version(w->kind),
			     (unsigned long long)w->rv,
			     initial_end ? ",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}"
					 : "");
}

static void put_gone(struct watch *w, uint64_t oldest)
{
	int rc = dynbuf_printf(&w->pending,
			       "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":"
			       "\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old "
			       "resource version: %llu (%llu)\",\"reason\":\"Expired\",\"code\":410}}\n",
			       (unsigned long long)w->rv, (unsigned long long)oldest);

	COMMON_UNUSED(rc);
	w->done = true;
}

/* Renders the next batch of synthetic ADDED events. */
static int fill_initial(struct watch *w)
{
	int rc = 0;

	while (w->initial_next < w->initial.n && w->pending.len < (1u << 20) && !rc)
		rc = put_event(&w->pending, "ADDED", w->kind, w->initial.objs[w->initial_next++]);
	if (w->initial_next == w->initial.n) {
		w->rv = w->initial.rv;
		if (w->initial_bookmark && !rc)
			rc = put_bookmark(w, true);
		sim_snapshot_clear(&w->initial);
		w->initial_next = 0;
		w->in_initial = false;
	}
	return rc;
}

/* One ring event, translated for the selection. */
static int render_event(struct watch *w, const struct sim_watch_event *ev)
{
	bool now = sim_query_matches(w->kind, &w->q, ev->obj);
	bool before = ev->prev && sim_query_matches(w->kind, &w->q, ev->prev);

	switch (ev->type) {
	case SIM_ADDED:
		return now ? put_event(&w->pending, "ADDED", w->kind, ev->obj) : 0;
	case SIM_DELETED:
		return now ? put_event(&w->pending, "DELETED", w->kind, ev->obj) : 0;
	case SIM_MODIFIED:
		if (now)
			return put_event(&w->pending, before ? "MODIFIED" : "ADDED", w->kind, ev->obj);
		return before ? put_event(&w->pending, "DELETED", w->kind, ev->obj) : 0;
	}
	return 0;
}

static void fill_events(struct watch *w)
{
	struct sim_watch_event evs[WATCH_BATCH];
	uint64_t last = w->rv, oldest = 0;
	int n, i, rc = 0;

	n = sim_store_events(w->store, w->kind->resource, w->rv, evs, WATCH_BATCH, WATCH_WAIT_MS,
			     &last, &oldest);
	if (n == ERR_GONE) {
		put_gone(w, oldest);
		return;
	}
	for (i = 0; i < n; i++) {
		if (!rc)
			rc = render_event(w, &evs[i]);
		sim_watch_event_clear(&evs[i]);
	}
	if (rc) {
		log_warn("kubesim watch: event too large, ending the stream");
		w->done = true;
	}
	w->rv = last;
}

static long watch_read(void *ud, char *buf, size_t max)
{
	struct watch *w = ud;
	int64_t now = clock_mono_ns();
	size_t n;

	if (w->pending.len == w->sent) {
		dynbuf_reset(&w->pending);
		w->sent = 0;
		if (w->done || sim_server_stopping() || now >= w->deadline_ns)
			return -1;
		if (w->in_initial) {
			if (fill_initial(w))
				return -1;
		} else {
			fill_events(w);
		}
		if (!w->pending.len && now - w->last_write_ns > WATCH_IDLE_NS) {
			if (w->bookmarks ? put_bookmark(w, false) : dynbuf_addch(&w->pending, '\n'))
				return -1;
		}
		if (!w->pending.len)
			return 0;
	}
	n = w->pending.len - w->sent;
	if (n > max)
		n = max;
	memcpy(buf, w->pending.buf + w->sent, n);
	w->sent += n;
	w->last_write_ns = now;
	return (long)n;
}

static void watch_free(void *ud)
{
	struct watch *w = ud;

	sim_snapshot_clear(&w->initial);
	selector_free(w->labels);
	field_selector_clear(&w->fields);
	dynbuf_clear(&w->pending);
	free((char *)w->q.ns);
	free(w);
}

static bool arg_true(const struct sim_request *req, const char *name)
{
	const char *v = sim_request_arg(req, name);

	return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static int64_t timeout_ns(const struct sim_request *req)
{
	const char *v = sim_request_arg(req, "timeoutSeconds");
	long long s = WATCH_DEFAULT_TIMEOUT_S;
	char *end;

	if (v && *v) {
		errno = 0;
		s = strtoll(v, &end, 10);
		if (errno || *end || s <= 0 || s > WATCH_MAX_TIMEOUT_S)
			s = WATCH_MAX_TIMEOUT_S;
	}
	return clock_mono_ns() + s * NS_PER_SEC;
}

/* Parses selectors and the start point; false with resp filled on error. */
static bool watch_setup(struct sim_cluster *c, struct watch *w, const struct sim_rest_target *t,
			const struct sim_request *req, struct sim_response *resp)
{
	const char *rv = sim_request_arg(req, "resourceVersion");
	char err[1024], *end;
	unsigned long long v;

	w->labels = selector_parse(sim_request_arg(req, "labelSelector"), err, sizeof(err));
	if (!w->labels ||
	    field_selector_parse(sim_request_arg(req, "fieldSelector"), &w->fields, err,
				 sizeof(err))) {
		sim_response_status(resp, 400, "BadRequest", err);
		return false;
	}
	for (size_t i = 0; i < w->fields.n; i++) {
		if (!sim_kind_field_supported(t->kind, w->fields.reqs[i].key)) {
			snprintf(err, sizeof(err), "field label not supported: %s",
				 w->fields.reqs[i].key);
			sim_response_status(resp, 400, "BadRequest", err);
			return false;
		}
	}
	if (t->name) {
		w->fields.reqs = xrealloc(w->fields.reqs, (w->fields.n + 1) * sizeof(*w->fields.reqs));
		w->fields.reqs[w->fields.n].key = xstrdup("metadata.name");
		w->fields.reqs[w->fields.n].value = xstrdup(t->name);
		w->fields.reqs[w->fields.n++].negate = false;
	}
	w->q.ns = t->ns ? xstrdup(t->ns) : NULL;
	w->q.labels = w->labels;
	w->q.fields = &w->fields;
	if (rv && *rv && strcmp(rv, "0") != 0) {
		errno = 0;
		v = strtoull(rv, &end, 10);
		if (errno || *end) {
			sim_response_status(resp, 400, "BadRequest", "invalid resourceVersion");
			return false;
		}
		w->rv = v;
		return true;
	}
	if (sim_store_query(c->store, t->kind->resource, &w->q, &w->initial, err, sizeof(err))) {
		sim_response_status(resp, 400, "BadRequest", err);
		return false;
	}
	w->rv = w->initial.rv;
	w->initial_bookmark = arg_true(req, "sendInitialEvents") && w->bookmarks;
	w->in_initial = w->initial.n || w->initial_bookmark;
	return true;
}

void sim_watch_handle(struct sim_cluster *c, const struct sim_rest_target *t,
		      const struct sim_request *req, struct sim_response *resp)
{
	struct watch *w = xcalloc(1, sizeof(*w));

	w->store = c->store;
	w->kind = t->kind;
	w->bookmarks = arg_true(req, "allowWatchBookmarks");
	dynbuf_init(&w->pending, WATCH_PENDING_MAX);
	if (!watch_setup(c, w, t, req, resp)) {
		watch_free(w);
		return;
	}
	w->deadline_ns = timeout_ns(req);
	w->last_write_ns = clock_mono_ns();
	resp->status = 200;
	free(resp->content_type);
	resp->content_type = xstrdup("application/json");
	resp->stream = watch_read;
	resp->stream_free = watch_free;
	resp->stream_ud = w;
}
