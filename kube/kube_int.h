/*
 * kube_int.h - declarations shared inside kube/ only.
 *
 *   object.c    JSON Node / Pod -> immutable refcounted objects
 *   index.c     sorted refcounted object arrays, merges, snapshots
 *   client.c    curl handle pool, TLS material, bearer token
 *   request.c   one try of a request; the client's retry policy
 *   review.c    reviews created as Go's webhook clients create them
 *   stream.c    interruptible streaming transfers (lists and watches)
 *   watch.c     list + watch loop of one resource
 *   informer.c  the two watch threads and snapshot publication
 *   lease.c     leader election (the steps its unit suite drives)
 */
#ifndef KUBE_INT_H
#define KUBE_INT_H

#include <stdatomic.h>

#include <curl/curl.h>

#include "kube/kube.h"

enum kube_kind { KUBE_NODE, KUBE_POD, KUBE_NKINDS };

/* Immutable once shared; freed when the last reference is dropped. */
struct kube_obj {
	atomic_uint refs;
	enum kube_kind kind;
	bool tombstone; /* a DELETED event's key; only in change lists */
	union {
		struct kube_node node;
		struct kube_pod pod;
	} u;
};

/* ---- object.c ---- */

/* Parses one API object; a new object with one reference, or NULL with
 * the reason in err. */
struct kube_obj *kube__obj_parse(enum kube_kind kind, json_t *item, char *err, size_t errlen);
struct kube_obj *kube__obj_ref(struct kube_obj *o);
void kube__obj_unref(struct kube_obj *o);
/* Orders by namespace ("" for nodes), then name. */
int kube__obj_cmp(const struct kube_obj *a, const struct kube_obj *b);

/* ---- index.c ---- */

/* A sorted array of objects of one kind, unique keys, refcounted. */
struct kube_objs;

/* Merges changes[0..n) into base (NULL = empty; only read): tombstones
 * delete, a later change of a key wins.  Takes over the references held
 * by changes (the array itself stays the caller's).  New array, 1 ref. */
struct kube_objs *kube__objs_merge(enum kube_kind kind, const struct kube_objs *base,
				  struct kube_obj **changes, size_t n);
struct kube_objs *kube__objs_ref(struct kube_objs *a);
void kube__objs_unref(struct kube_objs *a);
size_t kube__objs_count(const struct kube_objs *a);

/* A snapshot taking one new reference on each array (NULL = empty). */
struct kube_snapshot *kube__snapshot_new(struct kube_objs *nodes, struct kube_objs *pods,
					bool synced);
struct kube_snapshot *kube__snapshot_ref(struct kube_snapshot *s);

/* ---- client.c ---- */

/* An easy handle from the pool (or a new one); give it back with put. */
CURL *kube__client_handle_get(struct kube_client *c);
void kube__client_handle_put(struct kube_client *c, CURL *h);
/*
 * Sets URL, TLS, timeouts and headers (Accept, Authorization, and
 * Content-Type when with_body) on h for server + path.  *hdrs receives
 * the header list to free with curl_slist_free_all after the transfer.
 * 0, or ERR_INVAL with text in err.
 */
int kube__client_setup(struct kube_client *c, CURL *h, const char *path, bool with_body,
		      struct curl_slist **hdrs, char *err, size_t errlen) COMMON_WUR;

/* ---- request.c ---- */

/* What one try of a request gave. */
struct kube__try {
	CURLcode cc;                 /* CURLE_OK: a response came */
	long status;                 /* its HTTP status (0 without one) */
	char cerr[CURL_ERROR_SIZE];  /* libcurl's text when cc != CURLE_OK */
	long os_errno;               /* errno of a failed connect, else 0 */
	char ip[64];                 /* the address tried ("" unknown) */
	long port;
	char url[512];               /* the URL requested (truncated) */
};

/* One try of method path on h (body: JSON text or NULL) within timeout_ms
 * (0: the default 10 s), the response body into b (reset first, capped by
 * b's max).  0 with *t filled, or ERR_INVAL
 * from the setup with text in err. */
int kube__try(struct kube_client *c, CURL *h, const char *method, const char *path,
	      const char *body, long timeout_ms, struct dynbuf *b, struct kube__try *t, char *err,
	      size_t errlen) COMMON_WUR;
/* The error code of a failed transfer (ERR_TOOBIG, ERR_TIMEOUT, ERR_TLS, ERR_IO). */
int kube__curl_err(CURLcode cc);
/* Sleeps ns (through signals). */
void kube__pause_ns(int64_t ns);

/* ---- stream.c ---- */

/* One transfer run on its own multi handle so that it can be interrupted. */
struct kube_stream {
	struct kube_client *client;
	CURLM *multi;                  /* owned by the caller; woken to stop */
	const atomic_bool *stop;       /* set -> the transfer ends (ERR_AGAIN) */
	long timeout_ms;               /* whole transfer; 0 = none (watches) */
	/* Body bytes of a 2xx response; false aborts the transfer. */
	bool (*on_data)(void *ud, const char *p, size_t n);
	/* Called after every poll; returns the ms until it wants the next call. */
	long (*on_tick)(void *ud);
	void *ud;
};

/*
 * GETs path.  *status is the HTTP status (0 when none).  The body of a
 * non-2xx response is parsed into *errbody (new reference or NULL).
 * 0 when the transfer completed, ERR_AGAIN when stopped, ERR_IO /
 * ERR_TIMEOUT / ERR_TLS with text in err otherwise (an on_data abort
 * returns ERR_IO).
 */
int kube__stream_get(struct kube_stream *s, const char *path, int *status, json_t **errbody,
		    char *err, size_t errlen) COMMON_WUR;

/* ---- watch.c ---- */

struct kube_watcher;

struct kube_watcher *kube__watcher_new(struct kube_informer *inf, struct kube_client *c,
				      enum kube_kind kind, const atomic_bool *stop);
void kube__watcher_free(struct kube_watcher *w);
/* Interrupts a blocking transfer of w (thread-safe). */
void kube__watcher_wake(struct kube_watcher *w);
/* Thread body: list, then watch, until *stop. */
void *kube__watcher_main(void *w);

/* ---- informer.c (called by watchers) ---- */

/* Publishes objs (a new reference is taken) as the current array of kind. */
void kube__informer_publish(struct kube_informer *inf, enum kube_kind kind, struct kube_objs *objs,
			   bool listed);
/* Waits up to ns or until stopped; false when stopping. */
bool kube__informer_pause(struct kube_informer *inf, int64_t ns);

/* ---- lease.c (the steps the unit suite drives with its own clock) ---- */

enum { KUBE__LEASE_OK, KUBE__LEASE_HELD, KUBE__LEASE_FAILED };

/* An elector without its thread (free it with kube_lease_stop: nothing is
 * released then). */
struct kube_lease *kube__lease_new(struct kube_client *c, const struct kube_lease_options *o);
/* One tryAcquireOrRenew at monotonic time now (see lease.c). */
int kube__lease_try(struct kube_lease *l, int64_t now);
/* Ends the leadership when another holder was observed or now passed its
 * renew deadline (logged, on_change told). */
void kube__lease_step_lost(struct kube_lease *l, int64_t now);
/* kube_lease_leading at monotonic time now. */
bool kube__lease_leading_at(struct kube_lease *l, int64_t now, uint64_t *term);

#endif
