/*
 * kube.h - the public face of kube/: the one place that talks to
 * kube-apiserver.
 *
 *   config    kubeconfig (libyaml) or in-cluster service-account config
 *   request   one-shot JSON requests (GET/POST/PUT) with retry policy
 *   informer  list + watch of nodes and pods, re-list on 410, backoff
 *   index     immutable snapshots of the node and pod objects we need
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
 * Relative paths in a kubeconfig start at its folder.  0 with cfg filled
 * (release it), or an error code with a message in err and cfg empty. */
int kube_config_load(const char *path, struct kube_config *cfg, char *err, size_t errlen) COMMON_WUR;
void kube_config_release(struct kube_config *cfg);

/* ---- client ---------------------------------------------------------- */

struct kube_client;

/* Copies what it needs of cfg.  PEM bytes are written to 0600 files in a
 * private temporary folder (libcurl+GnuTLS cannot take them as blobs),
 * removed by kube_client_free.  NULL when they cannot be written. */
struct kube_client *kube_client_new(const struct kube_config *cfg);
/* Frees c (NULL is fine); no request or informer may still use it. */
void kube_client_free(struct kube_client *c);

/*
 * A blocking JSON request (thread-safe; easy handles come from a pool of
 * the client, so connections are reused).  10 s per try; connection
 * errors, 5xx and 429 are tried again (5 tries, 0.5 s then x1.5).  The
 * response is capped at DYN_KUBE_RESPONSE.
 * method "GET"/"POST"/"PUT"/"PATCH"; body may be NULL.  On return *status
 * is the HTTP status (0 on transport error) and *out the parsed body (new
 * reference, or NULL).  Returns 0 when a response was received, else an
 * error code with text in err.
 */
int kube_request(struct kube_client *c, const char *method, const char *path, json_t *body,
		 int *status, json_t **out, char *err, size_t errlen) COMMON_WUR;

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
};

/* Immutable and reference counted; node and pod arrays are sorted (nodes by
 * name, pods by namespace then name).  Objects are borrowed from it. */
struct kube_snapshot {
	const struct kube_node *const *nodes;
	size_t nnodes;
	const struct kube_pod *const *pods;
	size_t npods;
	bool synced;     /* both informers completed their first list */
};

/* Binary searches; borrowed results (valid while s is held), or NULL. */
const struct kube_node *kube_snapshot_node(const struct kube_snapshot *s, const char *name);
const struct kube_pod *kube_snapshot_pod(const struct kube_snapshot *s, const char *ns,
					 const char *name);
/* [*first, *first + *count) are the pods of namespace ns. */
void kube_snapshot_ns_range(const struct kube_snapshot *s, const char *ns, size_t *first,
			    size_t *count);

/* ---- informers ------------------------------------------------------- */

struct kube_informer;

/*
 * Starts list+watch of nodes and pods (pods: all phases, the APIs filter)
 * on a thread each.  `on_change` (may be NULL) is called from those
 * threads (possibly both at once) after a new snapshot is published:
 * right after a list, then at most every ~100 ms while changes stream.
 * NULL only when a thread cannot be started.  c must outlive it.
 */
struct kube_informer *kube_informer_start(struct kube_client *c,
					  void (*on_change)(void *ud), void *ud);
/* A new reference to the latest snapshot (release it); never NULL (may be
 * empty). */
struct kube_snapshot *kube_informer_acquire(struct kube_informer *inf);
/* Drops a reference (NULL is fine); snapshots outlive their informer. */
void kube_snapshot_release(struct kube_snapshot *s);
/* Blocks up to timeout_ns for the first full list; true when synced. */
bool kube_informer_wait_synced(struct kube_informer *inf, int64_t timeout_ns);
/* Interrupts transfers and backoffs at once, joins the threads, frees. */
void kube_informer_stop(struct kube_informer *inf);

/* Tests and the index build snapshots from JSON lists too: NodeList and
 * PodList objects (either may be NULL), borrowed; items that are not
 * valid objects are skipped with a warning.  A synced snapshot, 1 ref. */
struct kube_snapshot *kube_snapshot_from_lists(json_t *nodes_list, json_t *pods_list);

#endif
