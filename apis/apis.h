/*
 * apis.h - the public face of apis/: pure functions that turn a store
 * snapshot and a kube snapshot into the bytes Kubernetes clients parse
 * (metrics.k8s.io objects, lists, Tables, discovery, Status errors,
 * /version, /openapi/v2), and custom.metrics.k8s.io /
 * external.metrics.k8s.io from a custom/ provider.  No sockets, no threads, no clock reads: the
 * request carries "now".
 *
 * No global mutable state: every function may run on any number of
 * threads at once.  Inputs are borrowed for the call only; the caller
 * holds the store snapshot (store_acquire) and the kube snapshot across
 * it.  Output goes to the caller's dynbuf, whose cap bounds the body.
 */
#ifndef APIS_H
#define APIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "kube/kube.h"
#include "store/store.h"

struct apis_request {
	const char *method;          /* "GET", ... */
	const char *path;            /* URL path, already percent-decoded */
	const char *label_selector;  /* query labelSelector or NULL */
	const char *field_selector;  /* query fieldSelector or NULL */
	const char *metric_label_selector; /* query metricLabelSelector or NULL
					    * (custom.metrics.k8s.io) */
	const char *accept;          /* Accept header or NULL */
	const char *include_object;  /* query includeObject or NULL */
	bool watch;                  /* query watch is present and true */
	bool pretty;                 /* ?pretty=true or curl/Wget/Mozilla UA */
	int64_t now_ns;              /* creationTimestamp of served items */
};

struct custom_provider;

struct apis_sources {
	const struct store_snapshot *store;     /* must not be NULL */
	const struct kube_snapshot *kube;       /* NULL reads as empty */
	const struct selector *node_selector;   /* --node-selector, may be NULL */
	const char *git_version;                /* for /version */
	/* Called once per served item with its sample time (freshness
	 * histogram); may be NULL. */
	void (*observe_item)(void *ud, int64_t item_ts_ns);
	void *ud;
	/* custom.metrics.k8s.io (v1beta1, v1beta2) and external.metrics.k8s.io
	 * (v1beta1) from this provider (custom/custom.h); NULL: these groups
	 * are not served (plain "404 page not found", absent from /apis).  A
	 * catalog is acquired per request at req->now_ns. */
	struct custom_provider *custom;
};

struct apis_response {
	int status;                  /* HTTP status */
	const char *content_type;    /* static string */
	struct dynbuf body;          /* caller releases */
};

/* True when apis/ serves this path (/apis..., /version, /openapi/...);
 * false for NULL. */
bool apis_owns_path(const char *path);

/*
 * Renders the response for req.  resp->body must be initialised by the
 * caller (dynbuf_init); it is replaced (not appended to) and stays the
 * caller's to release.  Always fills status and content_type (a static
 * string); never fails as a call: errors are Status objects exactly as the
 * Go apiservers write them, a path it does not serve gets Go's plain
 * "404 page not found", and a body over the dynbuf's cap becomes a 500
 * InternalError Status (or, if even that does not fit, its bare message
 * as text/plain, possibly empty).  observe_item runs on the calling thread.
 */
void apis_handle(const struct apis_request *req, const struct apis_sources *src,
		 struct apis_response *resp);

/* A Status JSON body (kind Status, status Failure, compact, trailing
 * "\n") appended to out.  Each details field is omitted when NULL or "";
 * the whole details object is omitted only when all three are NULL (pass
 * "" to get the generic "details":{}).  0 or ERR_TOOBIG (out's cap; out
 * then ends in a partial body the caller should reset).  Strings are
 * only read. */
int apis_status_json(struct dynbuf *out, int code, const char *reason, const char *message,
		     const char *details_name, const char *details_group,
		     const char *details_kind) COMMON_WUR;

#endif
