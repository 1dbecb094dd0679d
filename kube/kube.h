/*
 * kube.h - the public face of kube/: the one place that talks to
 * kube-apiserver.
 *
 *   config    kubeconfig (libyaml) or in-cluster service-account config
 *   request   one-shot JSON requests (GET/POST/PUT) with retry policy
 *   review    TokenReview / SubjectAccessReview creation (webhook policy)
 *   informer  list + watch of nodes and pods, re-list on 410, backoff
 *   index     immutable snapshots of the node and pod objects we need
 *   lease     leader election on a coordination.k8s.io/v1 Lease
 *
 * Threads: a kube_config is plain data; a kube_client may be shared by
 * any number of threads; snapshots are immutable and reference counted,
 * so any thread may read one it holds a reference to.  Out of memory
 * aborts (common's xoom_abort): no function here returns it as an error.
 */
#ifndef KUBE_H
#define KUBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/common.h"

/* ---- config ---------------------------------------------------------- */

struct kube_config {
	char *server;          /* "https://127.0.0.1:6443" */
	char *ca_file;         /* PEM file, or NULL */
	char *ca_data;         /* PEM bytes (from certificate-authority-data), or NULL */
	char *client_cert_file, *client_key_file;
	char *client_cert_data, *client_key_data; /* PEM bytes, or NULL */
	char *token;           /* bearer token, or NULL */
	char *token_file;      /* re-read when it changes (in-cluster), or NULL */
	bool insecure_skip_tls_verify;
};

/* Loads `path` (kubeconfig, current-context) or, when path is NULL/"",
 * the in-cluster config (KUBERNETES_SERVICE_HOST/PORT, service-account
 * files in $KUBE_SA_DIR or /var/run/secrets/kubernetes.io/serviceaccount).
 * Relative paths in a kubeconfig start at its folder; *-data fields are
 * decoded (base64) into the PEM bytes.  0 with cfg filled (every string
 * is cfg's own: kube_config_clear it), or ERR_IO / ERR_TOOBIG /
 * ERR_PARSE / ERR_NOTFOUND / ERR_INVAL with a message in err and cfg
 * zeroed (nothing to release).  Reads files and the environment only;
 * any thread, one cfg per call. */
int kube_config_load(const char *path, struct kube_config *cfg, char *err, size_t errlen) COMMON_WUR;
/* Frees every string of cfg and zeroes it (the struct itself is the
 * caller's, so releasing twice is harmless). */
void kube_config_clear(struct kube_config *cfg);

/* ---- client ---------------------------------------------------------- */

struct kube_client;

/* A new client (kube_client_free it) with copies of what it needs of cfg
 * (cfg may be released at once).  PEM bytes are written to 0600 files in
 * a private temporary folder (libcurl+GnuTLS cannot take them as blobs),
 * removed by kube_client_free.  NULL, with the cause logged, when they
 * cannot be written.  Calls curl_global_init, which is not thread-safe:
 * create clients before other threads use libcurl. */
struct kube_client *kube_client_new(const struct kube_config *cfg);
/* Frees c, its pooled connections and its temporary PEM files (NULL is
 * fine).  No request may be running on c and no informer started on it
 * may still run (kube_informer_stop it first). */
void kube_client_free(struct kube_client *c);

/*
 * A blocking JSON request (thread-safe; easy handles come from a pool of
 * the client, so connections are reused).  10 s per try; connection
 * errors, 5xx and 429 are tried again (5 tries, 0.5 s then x1.5).  The
 * response is capped at DYN_KUBE_RESPONSE.
 * The caller blocks for up to 5 tries of 10 s plus ~4 s of waits.
 * method "GET"/"POST"/"PUT"/"PATCH"; body (borrowed, may be NULL) is sent
 * as compact JSON.  On return *status is the HTTP status of the last try
 * (0 on transport error) and *out the parsed body (new reference for the
 * caller to json_decref, or NULL when there was none or it was not JSON).
 * Returns 0 when a response was received, whatever its status (a 5xx
 * after the last try too); else ERR_IO / ERR_TIMEOUT / ERR_TLS /
 * ERR_TOOBIG (over the cap) / ERR_INVAL (bad path, unencodable body),
 * with text in err and *out NULL.
 */
int kube_request(struct kube_client *c, const char *method, const char *path, json_t *body,
		 int *status, json_t **out, char *err, size_t errlen) COMMON_WUR;
/* The same with a single try of at most timeout_ns (at least 1 ms) and no
 * retry: for callers with a deadline of their own (leader election). */
int kube_request_once(struct kube_client *c, const char *method, const char *path, json_t *body,
		      int64_t timeout_ns, int *status, json_t **out, char *err,
		      size_t errlen) COMMON_WUR;

/*
 * Creates a review (TokenReview, SubjectAccessReview) as the Go webhook
 * clients of the delegating authenticator and authorizer do: POST
 * /apis/<group>/v1/<resource>?timeout=10s with body (borrowed), 10 s per
 * try, tried again (0.5 s, then x1.5, 5 tries in all) only after a reset
 * connection or a 500, 504 or 429 answer; the answer is capped at 1 MiB.
 * 0 with *out the created object (new reference); else ERR_IO /
 * ERR_TIMEOUT / ERR_TLS / ERR_TOOBIG / ERR_INVAL and *out NULL, with
 * client-go's error text in err: `Post "https://host:port/apis/...":
 * dial tcp 127.0.0.1:1: connect: connection refused` when no answer came,
 * else the message of the Status answered (client-go's generic text for a
 * body that is no Status).  Thread-safe, as kube_request.
 */
int kube_review_create(struct kube_client *c, const char *group, const char *resource,
		       json_t *body, json_t **out, char *err, size_t errlen) COMMON_WUR;

/* ---- index: what the scraper and the APIs need of nodes and pods ------- */

struct kube_address {
	char *type;     /* "InternalIP", "Hostname", ... */
	char *address;
};

struct kube_node {
	char *name;
	int64_t created_ns;
	struct labels labels;
	struct kube_address *addresses;  /* status.addresses order */
	size_t naddresses;
	int kubelet_port;                /* status.daemonEndpoints.kubeletEndpoint.Port, 0 = unset */
	bool ready;                      /* Ready condition True */
	char *metrics_path;              /* annotation metrics.k8s.io/resource-metrics-path or NULL */
	uint64_t alloc_cpu_milli, alloc_mem_bytes; /* status.allocatable */
};

struct kube_pod {
	char *ns;
	char *name;
	int64_t created_ns;
	struct labels labels;
	char *node_name;                 /* spec.nodeName, "" when unscheduled */
	char *phase;                     /* "Running", ..., "" when unset */
	int64_t start_ns;                /* status.startTime, 0 if unset */
	char *ip;                        /* status.podIP, "" when unset */
	/* the prometheus.io/{scrape,port,path,scheme} annotations, NULL when
	 * absent (application targets: scraper_app_targets) */
	char *prom_scrape, *prom_port, *prom_path, *prom_scheme;
};

/* Immutable and reference counted; node and pod arrays are sorted (nodes by
 * name, pods by namespace then name).  Objects are borrowed from it and
 * live as long as the reference the reader holds (kube_informer_acquire,
 * kube_snapshot_from_lists; dropped with kube_snapshot_unref).  Any
 * thread may read a snapshot it holds; nothing ever changes one. */
struct kube_snapshot {
	const struct kube_node *const *nodes;
	size_t nnodes;
	const struct kube_pod *const *pods;
	size_t npods;
	bool synced;     /* both informers completed their first list */
};

/* Binary searches; borrowed results (valid while s is held), or NULL.
 * Pure reads: any thread. */
const struct kube_node *kube_snapshot_node(const struct kube_snapshot *s, const char *name);
const struct kube_pod *kube_snapshot_pod(const struct kube_snapshot *s, const char *ns,
					 const char *name);
/* [*first, *first + *count) are the pods of namespace ns (*count 0 when
 * it has none; *first is then where it would start). */
void kube_snapshot_ns_range(const struct kube_snapshot *s, const char *ns, size_t *first,
			    size_t *count);

/* ---- informers ------------------------------------------------------- */

struct kube_informer;

/*
 * Starts list+watch of nodes and pods (pods: all phases, the APIs filter)
 * on a thread each and returns at once (the first snapshot is empty and
 * not synced; see kube_informer_wait_synced).  Each publication builds a
 * new snapshot and swaps the informer's pointer to it under a mutex held
 * only for that; readers keep the old one until they release it.
 * `on_change` (may be NULL) is called from those threads (possibly both
 * at once), outside that mutex, after a new snapshot is published: right
 * after a list, then at most every ~100 ms while changes stream; it must
 * not call kube_informer_stop.  Failures of kube-apiserver are retried
 * forever with backoff and logged, never returned.  The result is the
 * caller's (kube_informer_stop it); NULL only when a thread cannot be
 * started.  c must outlive it.
 */
struct kube_informer *kube_informer_start(struct kube_client *c,
					  void (*on_change)(void *ud), void *ud);
/* A new reference to the latest snapshot (kube_snapshot_unref it);
 * never NULL (may be empty, before the first list).  Thread-safe, never
 * waits on I/O: a mutex held for a pointer copy and a reference count. */
struct kube_snapshot *kube_informer_acquire(struct kube_informer *inf);
/* Drops a reference (NULL is fine); the last one frees the snapshot.
 * Thread-safe (atomic count); snapshots outlive their informer. */
void kube_snapshot_unref(struct kube_snapshot *s);
/* Blocks up to timeout_ns for the first full list of both kinds; true when
 * synced, false on timeout or once the informer is stopping.  Thread-safe. */
bool kube_informer_wait_synced(struct kube_informer *inf, int64_t timeout_ns);
/* Interrupts transfers and backoffs at once, joins the threads and frees
 * inf (NULL is fine).  Snapshots acquired before stay valid.  Call once,
 * from a thread that is not one of the informer's (not from on_change). */
void kube_informer_stop(struct kube_informer *inf);

/* Tests and the index build snapshots from JSON lists too: NodeList and
 * PodList objects (either may be NULL), borrowed; items that are not
 * valid objects are skipped with a warning.  A synced snapshot with one
 * reference, the caller's (kube_snapshot_unref it); never NULL. */
struct kube_snapshot *kube_snapshot_from_lists(json_t *nodes_list, json_t *pods_list);

/* ---- leader election on a coordination.k8s.io/v1 Lease (lease.c) ------- */

/*
 * client-go's leaderelection with a LeaseLock, as kube-controller-manager
 * runs it: a candidate creates the Lease or takes it over once it has seen
 * no change to it for the holder's leaseDurationSeconds, measured on its
 * own monotonic clock from when it last observed the record change (clock
 * skew between hosts does not matter); the holder renews it every retry
 * period; every write carries the resourceVersion read, so of two
 * candidates racing for a Lease one gets 409 Conflict and loses.  The
 * holder stops leading when no renewal succeeded within the renew deadline
 * (kube_lease_leading turns false by itself at that instant, even while a
 * request hangs); it then tries to acquire again, as a new term.
 */
struct kube_lease_options {
	const char *ns, *name;       /* the Lease (--leader-elect-resource-namespace, -name) */
	const char *identity;        /* NULL: "<hostname>_<random UUID>", as client-go */
	int64_t lease_duration_ns;   /* --leader-elect-lease-duration (15s) */
	int64_t renew_deadline_ns;   /* --leader-elect-renew-deadline (10s) */
	int64_t retry_period_ns;     /* --leader-elect-retry-period (2s) */
	/* Told on the elector's thread after each change (may be NULL). */
	void (*on_change)(void *ud, bool leading);
	void *ud;
};

/* client-go's NewLeaderElector checks, in its order and words
 * ("leaseDuration must be greater than renewDeadline", ...), then the
 * Lease's namespace and name.  0, or ERR_INVAL with the text in err. */
int kube_lease_validate(const struct kube_lease_options *o, char *err, size_t errlen) COMMON_WUR;

struct kube_lease;

/* Validated o (copied) -> the elector, running on its own thread (logs
 * "attempting to acquire leader lease NS/NAME..." first).  NULL when the
 * thread cannot start (logged).  c must outlive it. */
struct kube_lease *kube_lease_start(struct kube_client *c, const struct kube_lease_options *o);
/* Whether this process leads now (thread-safe, no I/O).  *term (may be
 * NULL) numbers the leaderships of this process: a new term is a new
 * acquisition, whose holder must not trust what it kept from an older one. */
bool kube_lease_leading(struct kube_lease *l, uint64_t *term);
/* This candidate's identity (borrowed from l). */
const char *kube_lease_identity(const struct kube_lease *l);
/* Stops the thread; a leader gives the Lease up (holderIdentity "",
 * leaseDurationSeconds 1, as client-go's ReleaseOnCancel) so another
 * replica takes over at once.  Stop what the lease guards first.  NULL is
 * fine. */
void kube_lease_stop(struct kube_lease *l);

#endif
