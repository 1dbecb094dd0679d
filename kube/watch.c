/*
 * watch.c - list + watch of one resource (nodes or pods), as client-go's
 * reflector does it:
 *
 *   list  GET <path>?limit=500[&continue=...] page by page, then the
 *         whole result replaces the index at once and is published.
 *   watch GET <path>?watch=1&resourceVersion=<rv>&allowWatchBookmarks=true
 *         newline-delimited events parsed as the bytes arrive; changes are
 *         merged into the index at most every 100 ms.
 *   410   (HTTP status or an ERROR event) -> list again.
 *   other failures -> watch again from the last rv after a capped,
 *         jittered backoff.
 */
#include "kube/kube_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIST_PAGE 500
#define LIST_TIMEOUT_MS 60000L
#define LIST_MAX_RESTARTS 5
#define CONTINUE_MAX 8192
#define RV_MAX 128
#define WATCH_LINE_MAX (16u << 20)
#define WATCH_TIMEOUT_S 300         /* + up to 300 s of jitter, like client-go */
#define PUBLISH_EVERY_NS (100 * NS_PER_MS)
#define BACKOFF_FIRST_NS (250 * NS_PER_MS)
#define BACKOFF_MAX_NS (30 * NS_PER_SEC)
#define WATCH_HEALTHY_NS (30 * NS_PER_SEC)

struct kube_watcher {
	struct kube_informer *inf;
	enum kube_kind kind;
	const char *path;              /* "/api/v1/nodes" */
	const atomic_bool *stop;
	struct kube_stream stream;
	char rv[RV_MAX + 1];           /* last resourceVersion seen */

	struct kube_objs *base;        /* the last published array */
	struct kube_obj **pending;     /* changes since, in arrival order */
	size_t npending, cap;
	int64_t last_publish_ns;

	struct dynbuf body;            /* a list page, or a partial watch line */
	bool gone;                     /* the watch said 410 */
	bool got_event;
	unsigned seed;                 /* jitter */
};

static const char *kind_name(enum kube_kind k)
{
	return k == KUBE_NODE ? "nodes" : "pods";
}

static void push(struct kube_obj ***arr, size_t *n, size_t *cap, struct kube_obj *o)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*arr = xrealloc(*arr, *cap * sizeof(**arr));
	}
	(*arr)[(*n)++] = o;
}

static void drop_all(struct kube_obj **arr, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		kube__obj_unref(arr[i]);
	*n = 0;
}

/* Keeps a resourceVersion that is a bounded, printable string. */
static void set_rv(struct kube_watcher *w, json_t *obj)
{
	const char *rv = jpath_str(obj, "metadata.resourceVersion");
	size_t i, len = rv ? strlen(rv) : 0;

	if (!len || len > RV_MAX)
		return;
	for (i = 0; i < len; i++)
		if (rv[i] <= ' ' || rv[i] > '~')
			return;
	memcpy(w->rv, rv, len + 1);
}

/* Merges the pending changes into a new array and publishes it. */
static void flush(struct kube_watcher *w)
{
	struct kube_objs *next;

	if (!w->npending)
		return;
	next = kube__objs_merge(w->kind, w->base, w->pending, w->npending);
	w->npending = 0;
	kube__objs_unref(w->base);
	w->base = next;
	w->last_publish_ns = clock_mono_ns();
	kube__informer_publish(w->inf, w->kind, next, false);
}

/* ---- list ---------------------------------------------------------------- */

static bool on_page_data(void *ud, const char *p, size_t n)
{
	struct kube_watcher *w = ud;

	return dynbuf_add(&w->body, p, n) == 0;
}

static const char *status_message(json_t *status)
{
	const char *m = jpath_str(status, "message");

	return m ? m : "";
}

/* GETs one page into *page (new reference).  *gone on HTTP 410. */
static int get_page(struct kube_watcher *w, const char *cont, json_t **page, bool *gone)
{
	char *esc = cont ? curl_easy_escape(NULL, cont, 0) : NULL;
	char *path = xasprintf("%s?limit=%d%s%s", w->path, LIST_PAGE, esc ? "&continue=" : "",
			       esc ? esc : "");
	json_t *errbody = NULL;
	char err[512];
	int status, rc;

	curl_free(esc);
	dynbuf_init(&w->body, DYN_KUBE_RESPONSE);
	w->stream.on_data = on_page_data;
	w->stream.on_tick = NULL;
	w->stream.timeout_ms = LIST_TIMEOUT_MS;
	rc = kube__stream_get(&w->stream, path, &status, &errbody, err, sizeof(err));
	*gone = rc == 0 && status == 410;
	if (rc == 0 && status != 200) {
		snprintf(err, sizeof(err), "GET %s: HTTP %d: %s", path, status,
			 status_message(errbody));
		rc = ERR_HTTP;
	}
	if (rc == 0) {
		*page = json_loadb(w->body.buf ? w->body.buf : "", w->body.len, 0, NULL);
		if (!json_is_object(*page)) {
			json_decref(*page);
			snprintf(err, sizeof(err), "GET %s: the list is not a JSON object", path);
			rc = ERR_PARSE;
		}
	}
	if (rc && rc != ERR_AGAIN && !*gone)
		log_warn("listing %s failed: %s", kind_name(w->kind), err);
	json_decref(errbody);
	free(path);
	dynbuf_clear(&w->body);
	return rc;
}

/* Parses a page's items into objs; returns its continue token (new) or NULL. */
static char *take_page(struct kube_watcher *w, json_t *page, struct kube_obj ***objs,
		       size_t *n, size_t *cap)
{
	json_t *items = json_object_get(page, "items");
	const char *cont = jpath_str(page, "metadata.continue");
	struct kube_obj *o;
	char err[256];
	size_t i;

	for (i = 0; i < json_array_size(items); i++) {
		o = kube__obj_parse(w->kind, json_array_get(items, i), err, sizeof(err));
		if (o)
			push(objs, n, cap, o);
		else
			log_warn("skipping one of the %s listed: %s", kind_name(w->kind), err);
	}
	set_rv(w, page);
	if (!cont || !*cont || strlen(cont) > CONTINUE_MAX)
		return NULL;
	return xstrdup(cont);
}

/* A full list; on success it replaces the index and is published. */
static int list(struct kube_watcher *w)
{
	struct kube_obj **objs = NULL;
	size_t n = 0, cap = 0;
	char *cont = NULL, *next;
	int rc = 0, restarts = 0;
	json_t *page = NULL;
	bool gone;

	for (;;) {
		rc = get_page(w, cont, &page, &gone);
		if (gone && cont && restarts++ < LIST_MAX_RESTARTS) {
			log_info("list of %s expired between pages; listing again", kind_name(w->kind));
			drop_all(objs, &n);
			free(cont);
			cont = NULL;
			continue;
		}
		if (rc)
			break;
		next = take_page(w, page, &objs, &n, &cap);
		json_decref(page);
		free(cont);
		cont = next;
		if (!cont)
			break;
	}
	if (rc == 0) {
		drop_all(w->pending, &w->npending);
		kube__objs_unref(w->base);
		w->base = kube__objs_merge(w->kind, NULL, objs, n);
		n = 0;
		w->last_publish_ns = clock_mono_ns();
		log_v(1, "listed %zu %s at resourceVersion %s", kube__objs_count(w->base),
		      kind_name(w->kind), w->rv);
		kube__informer_publish(w->inf, w->kind, w->base, true);
	}
	drop_all(objs, &n);
	free(objs);
	free(cont);
	return rc;
}

/* ---- watch --------------------------------------------------------------- */

/* Applies one event.  false ends the stream (w->gone set on a 410). */
static bool apply_event(struct kube_watcher *w, json_t *ev)
{
	const char *type = jpath_str(ev, "type");
	json_t *obj = json_object_get(ev, "object");
	struct kube_obj *o;
	char err[256];

	w->got_event = true;
	if (!type || !json_is_object(obj)) {
		log_warn("watch of %s: malformed event ignored", kind_name(w->kind));
		return true;
	}
	if (!strcmp(type, "ERROR")) {
		w->gone = json_integer_value(json_object_get(obj, "code")) == 410;
		if (w->gone)
			log_info("watch of %s: resource version too old", kind_name(w->kind));
		else
			log_warn("watch of %s: error event: %s", kind_name(w->kind),
				 status_message(obj));
		return false;
	}
	set_rv(w, obj);
	if (!strcmp(type, "BOOKMARK"))
		return true;
	if (strcmp(type, "ADDED") && strcmp(type, "MODIFIED") && strcmp(type, "DELETED")) {
		log_warn("watch of %s: unknown event type %.32s ignored", kind_name(w->kind), type);
		return true;
	}
	o = kube__obj_parse(w->kind, obj, err, sizeof(err));
	if (!o) {
		log_warn("watch of %s: %s event ignored: %s", kind_name(w->kind), type, err);
		return true;
	}
	o->tombstone = !strcmp(type, "DELETED");
	push(&w->pending, &w->npending, &w->cap, o);
	return true;
}

static bool process_line(struct kube_watcher *w, const char *p, size_t n)
{
	json_error_t jerr;
	json_t *ev;
	bool more;

	while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	if (!n)
		return true;
	ev = json_loadb(p, n, 0, &jerr);
	if (!ev) {
		/* An event we cannot read is a change we lost: list again. */
		log_warn("watch of %s: bad event (%s); re-listing", kind_name(w->kind), jerr.text);
		w->gone = true;
		return false;
	}
	more = apply_event(w, ev);
	json_decref(ev);
	return more;
}

/* Splits the stream into lines; a line is parsed as soon as it is whole. */
static bool on_watch_data(void *ud, const char *p, size_t n)
{
	struct kube_watcher *w = ud;
	const char *nl;
	size_t seg;

	while (n) {
		nl = memchr(p, '\n', n);
		seg = nl ? (size_t)(nl - p) : n;
		if (w->body.len + seg > WATCH_LINE_MAX) {
			log_warn("watch of %s: event longer than %u bytes; re-listing",
				 kind_name(w->kind), WATCH_LINE_MAX);
			w->gone = true;
			return false;
		}
		if (!nl) /* cannot fail: bounded above */
			return dynbuf_add(&w->body, p, seg) == 0;
		if (w->body.len) {
			if (dynbuf_add(&w->body, p, seg) || !process_line(w, w->body.buf, w->body.len))
				return false;
			dynbuf_reset(&w->body);
		} else if (!process_line(w, p, seg)) {
			return false;
		}
		p += seg + 1;
		n -= seg + 1;
	}
	return true;
}

/* Publishes pending changes at most every PUBLISH_EVERY_NS. */
static long on_watch_tick(void *ud)
{
	struct kube_watcher *w = ud;
	int64_t wait;

	if (!w->npending)
		return 1000;
	wait = w->last_publish_ns + PUBLISH_EVERY_NS - clock_mono_ns();
	if (wait > 0)
		return (long)(wait / NS_PER_MS) + 1;
	flush(w);
	return 1000;
}

/* One watch from w->rv.  ERR_GONE means list again. */
static int watch(struct kube_watcher *w)
{
	char *esc = curl_easy_escape(NULL, w->rv, 0);
	char *path = xasprintf("%s?watch=1&resourceVersion=%s&allowWatchBookmarks=true"
			       "&timeoutSeconds=%d", w->path, esc ? esc : "",
			       WATCH_TIMEOUT_S + rand_r(&w->seed) % WATCH_TIMEOUT_S);
	json_t *errbody = NULL;
	char err[512];
	int status, rc;

	curl_free(esc);
	dynbuf_init(&w->body, WATCH_LINE_MAX);
	w->gone = w->got_event = false;
	w->stream.on_data = on_watch_data;
	w->stream.on_tick = on_watch_tick;
	w->stream.timeout_ms = 0;
	rc = kube__stream_get(&w->stream, path, &status, &errbody, err, sizeof(err));
	if (rc == 0 && status == 410)
		log_info("watch of %s: HTTP 410: %s", kind_name(w->kind), status_message(errbody));
	if (w->gone || (rc == 0 && status == 410)) {
		drop_all(w->pending, &w->npending);
		rc = ERR_GONE;
	} else {
		flush(w);
	}
	if (rc == 0 && status != 200) {
		snprintf(err, sizeof(err), "GET %s: HTTP %d: %s", path, status,
			 status_message(errbody));
		rc = ERR_HTTP;
	}
	if (rc && rc != ERR_GONE && rc != ERR_AGAIN)
		log_warn("watch of %s failed: %s", kind_name(w->kind), err);
	json_decref(errbody);
	dynbuf_clear(&w->body);
	free(path);
	return rc;
}

/* ---- the loop ------------------------------------------------------------ */

static int64_t jittered(struct kube_watcher *w, int64_t ns)
{
	/* 75% .. 125% of ns */
	return ns / 4 * 3 + (int64_t)((double)rand_r(&w->seed) / RAND_MAX * (double)(ns / 2));
}

void *kube__watcher_main(void *arg)
{
	struct kube_watcher *w = arg;
	int64_t backoff = BACKOFF_FIRST_NS, began;
	bool listed = false;
	int rc;

	while (!atomic_load(w->stop)) {
		if (!listed) {
			rc = list(w);
			listed = rc == 0;
			if (listed) {
				backoff = BACKOFF_FIRST_NS;
				continue;
			}
		} else {
			began = clock_mono_ns();
			rc = watch(w);
			if (rc == ERR_GONE) {
				log_info("re-listing %s", kind_name(w->kind));
				listed = false;
				continue;
			}
			if (w->got_event || clock_mono_ns() - began >= WATCH_HEALTHY_NS) {
				backoff = BACKOFF_FIRST_NS;
				if (rc == 0)
					continue; /* a normal end (timeoutSeconds) */
			}
		}
		if (rc == ERR_AGAIN || !kube__informer_pause(w->inf, jittered(w, backoff)))
			break;
		backoff = backoff * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : backoff * 2;
	}
	return NULL;
}

struct kube_watcher *kube__watcher_new(struct kube_informer *inf, struct kube_client *c,
				      enum kube_kind kind, const atomic_bool *stop)
{
	struct kube_watcher *w = xcalloc(1, sizeof(*w));

	w->inf = inf;
	w->kind = kind;
	w->path = kind == KUBE_NODE ? "/api/v1/nodes" : "/api/v1/pods";
	w->stop = stop;
	w->seed = (unsigned)clock_mono_ns() ^ (unsigned)kind;
	dynbuf_init(&w->body, DYN_KUBE_RESPONSE);
	w->stream.client = c;
	w->stream.stop = stop;
	w->stream.ud = w;
	w->stream.multi = xcheck(curl_multi_init(), "curl_multi_init");
	return w;
}

void kube__watcher_wake(struct kube_watcher *w)
{
	curl_multi_wakeup(w->stream.multi);
}

void kube__watcher_free(struct kube_watcher *w)
{
	if (!w)
		return;
	drop_all(w->pending, &w->npending);
	free(w->pending);
	kube__objs_unref(w->base);
	dynbuf_clear(&w->body);
	curl_multi_cleanup(w->stream.multi);
	free(w);
}
