/*
 * kubesim.h - internal face of test/kubesim, the simulated cluster.
 *
 * Three parts share this header:
 *   apiserver   (api_*.c, store*.c, controller.c, config.c, main.c and
 *               the rest listed in apiserver.h, its private header)
 *               a mini kube-apiserver over HTTPS: object store with
 *               resourceVersions and watch, REST, discovery, kubeconfig,
 *               Deployment controller, control endpoint
 *   aggregator  (aggregator*.c, reviews.c, rbac.c) APIService objects, the
 *               proxy to registered backends, availability probe, discovery
 *               merge, TokenReview / SubjectAccessReview with a policy and RBAC
 *   kubelets    (kubelet*.c, workload.c) one event loop serving every
 *               simulated node's /metrics/resource and /healthz over TLS
 *
 * Objects are JSON (jansson) in their real API form.  The store notifies
 * the kubelets of every node, pod and deployment change in-process.
 */
#ifndef KUBESIM_H
#define KUBESIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "certs/certs.h"
#include "common/common.h"

/* ---- configuration ---------------------------------------------------- */

enum sim_kubelet_cert_mode {
	SIM_CERT_CLUSTER_CA,  /* signed by the cluster CA, IP SAN = node address */
	SIM_CERT_NO_IP_SAN,   /* signed by the cluster CA, DNS SAN only */
	SIM_CERT_SELF_SIGNED, /* self-signed per node */
};

struct sim_config {
	char *dir;               /* working dir: certs, kubeconfig, state */
	char *bind;              /* apiserver address, default 127.0.0.1 */
	int port;                /* apiserver port, 0 = pick a free one */
	int kubelet_port;        /* one listener for every node address */
	int nodes;               /* generated nodes node-0..node-(N-1) */
	int pods_per_node;       /* generated pods per node */
	uint64_t seed;
	enum sim_kubelet_cert_mode kubelet_cert_mode;
	bool kubelet_client_auth; /* kubelets require a client certificate */
	int64_t pod_start_delay_ns;  /* Pending -> Running */
	int64_t pod_ready_delay_ns;  /* Running -> Ready */
	char *config_file;       /* YAML with extra objects/profiles, or NULL */
	char *token;             /* bearer token accepted for clients */
	char *rbac_enforce;      /* users with this prefix are authorized by RBAC, or NULL */
	int parent_pid;          /* exit when this process goes away, 0 = off */
	json_t *extra;           /* parsed config file (objects, policy, ...) or NULL */
	size_t watch_cache_size; /* retained watch events (0 = 10000) */
	int verbosity;           /* -v */
};

/* ---- JSON (util.c; paths and typed members are common's jpath_*) ------ */

/* The string at a dotted path (jpath_str), or "" when absent or not a
 * string; borrowed from obj. */
const char *sim_json_str(const json_t *obj, const char *path);

/* ---- HTTP plumbing shared by the apiserver's handlers ----------------- */

struct sim_header {
	char *name;
	char *value;
};

struct sim_request {
	const char *method;
	const char *path;           /* decoded path */
	const char *query;          /* raw query string or "" */
	json_t *query_args;         /* object: name -> string (decoded) */
	const char *body;
	size_t body_len;
	struct sim_header *headers; /* in arrival order, repeated names kept */
	size_t nheaders;
	const char *user;           /* authenticated user */
	const char *const *groups;
	size_t ngroups;
	bool front_proxy;           /* sent by the aggregation layer (front-proxy client
				     * certificate, X-Remote-* identity): kubesim then
				     * answers as an aggregated API server would
				     * (metrics_provider.c) */
};

struct sim_response {
	int status;
	char *content_type;         /* owned */
	struct dynbuf body;
	struct sim_header *headers; /* extra headers, owned */
	size_t nheaders;
	/* Streaming (watch): when set, the server calls it until it returns
	 * <0 (end); it writes at most max bytes into buf or returns 0 to wait. */
	long (*stream)(void *ud, char *buf, size_t max);
	void (*stream_free)(void *ud);
	void *stream_ud;
};

void sim_response_init(struct sim_response *r);
void sim_response_clear(struct sim_response *r);
void sim_response_json(struct sim_response *r, int status, json_t *body /* stolen */);
void sim_response_status(struct sim_response *r, int code, const char *reason,
			 const char *message);
void sim_response_add_header(struct sim_response *r, const char *name, const char *value);
const char *sim_request_header(const struct sim_request *req, const char *name);

/* ---- object store (store.c) ------------------------------------------- */

struct sim_store;

enum sim_event { SIM_ADDED, SIM_MODIFIED, SIM_DELETED };

/* Called with the store's lock held: copy what you need, do not call back. */
typedef void (*sim_store_cb)(void *ud, enum sim_event ev, const char *resource,
			     const json_t *obj);

/* resource is the plural lower-case name: "nodes", "pods", "deployments",
 * "horizontalpodautoscalers", "apiservices", "events", "configmaps",
 * "namespaces". */
void sim_store_subscribe(struct sim_store *s, const char *resource, sim_store_cb cb, void *ud);
/* New reference (a deep copy) or NULL. ns may be NULL for cluster scope. */
json_t *sim_store_get(struct sim_store *s, const char *resource, const char *ns,
		      const char *name);
/* Array of deep copies (new reference).  Every object is parsed at once:
 * for large resources prefer sim_store_foreach. */
json_t *sim_store_list(struct sim_store *s, const char *resource, const char *ns);
/* Calls fn once per object (sorted by namespace/name, ns NULL = all), each
 * parsed just for the call (borrowed; valid during the call), without the
 * store's lock held, so fn may call the store.  Returns the count. */
size_t sim_store_foreach(struct sim_store *s, const char *resource, const char *ns,
			 void (*fn)(void *ud, const json_t *obj), void *ud);
/* Create / replace.  obj is not stolen: the store keeps a serialised copy
 * and, on success, fills obj's metadata in place (uid, resourceVersion,
 * creationTimestamp, generation) so it equals the stored object.  kind and
 * apiVersion are not stored (lists omit them).  An update whose
 * metadata.resourceVersion is set and differs fails with ERR_CONFLICT.
 * 0, ERR_CONFLICT (exists / stale), ERR_NOTFOUND, ERR_INVAL (no name). */
int sim_store_create(struct sim_store *s, const char *resource, json_t *obj);
int sim_store_update(struct sim_store *s, const char *resource, json_t *obj);
int sim_store_delete(struct sim_store *s, const char *resource, const char *ns,
		     const char *name);

/* Read-modify-write under the store's lock: fn gets a private copy of the
 * stored object, changes it in place and returns 0 to store it (or an
 * error, which is returned and nothing changes).  fn must not call the
 * store.  On success *out (if not NULL) is the stored object (new
 * reference).  0, ERR_NOTFOUND, or fn's error. */
typedef int (*sim_store_modify_fn)(void *ud, json_t *obj);
int sim_store_modify(struct sim_store *s, const char *resource, const char *ns,
		     const char *name, sim_store_modify_fn fn, void *ud, json_t **out);

/* A store keeping ring_size watch events (0 = 10000); never NULL. */
struct sim_store *sim_store_new(size_t ring_size);
/* Frees every object; no subscriber is called. */
void sim_store_free(struct sim_store *s);

/* ---- the simulation as a whole (main.c wires it) ---------------------- */

struct sim_cluster {
	struct sim_config cfg;
	struct sim_store *store;
	struct certs_pair ca;           /* cluster CA (apiserver, kubelets, clients) */
	struct certs_pair front_proxy_ca;
	struct certs_pair front_proxy_client; /* CN front-proxy-client */
	struct certs_pair admin_client; /* CN kubesim-admin, O system:masters */
	struct sim_aggregator *agg;
	struct sim_kubelets *kubelets;
	char *server_url;               /* https://127.0.0.1:<port> */
	uint32_t pod_addr_seq;          /* loopback pod IPs handed out (lifecycle.c) */
};

/* ---- aggregator (aggregator*.c, reviews.c) ---------------------------- */

struct sim_aggregator;

struct sim_aggregator *sim_aggregator_new(struct sim_cluster *c);
void sim_aggregator_free(struct sim_aggregator *a);
/* True when /apis/<group>/<version>[/...] belongs to a registered
 * APIService; then the request was proxied and resp filled. */
bool sim_aggregator_proxy(struct sim_aggregator *a, const struct sim_request *req,
			  struct sim_response *resp);
/* Adds the registered groups to a discovery document being built:
 * legacy APIGroupList `groups` array, or aggregated v2 `items` array. */
void sim_aggregator_add_groups(struct sim_aggregator *a, json_t *legacy_groups,
			       json_t *aggregated_items);
/* POST tokenreviews / subjectaccessreviews: fills resp. */
void sim_reviews_token(struct sim_cluster *c, const struct sim_request *req,
		       struct sim_response *resp);
void sim_reviews_access(struct sim_cluster *c, const struct sim_request *req,
			struct sim_response *resp);
/* Reviews answered since start (GET /kubesim/v1/stats shows them). */
uint64_t sim_reviews_access_count(void);
uint64_t sim_reviews_token_count(void);

/* RBAC (rbac.c): the status of a SubjectAccessReview for user in groups
 * asking ra (resourceAttributes) or nra (nonResourceAttributes), from the
 * RBAC objects of c->store, or from the bootstrap policy when c has no
 * store.  {"allowed":true,"reason":"RBAC: allowed by ..."}, else
 * {"allowed":false} (with "reason":"RBAC: <errors>" when a roleRef is
 * missing).  New reference. */
json_t *sim_rbac_authorize(struct sim_cluster *c, const char *user, const json_t *groups,
			   const json_t *ra, const json_t *nra);
/* The bootstrap RBAC objects kube-apiserver creates, as
 * {"clusterroles":[...],"clusterrolebindings":[...],"roles":[...],
 * "rolebindings":[...]} (new reference). */
json_t *sim_rbac_bootstrap(void);

/* ---- kubelets (kubelet*.c, workload.c) -------------------------------- */

struct sim_kubelets;

/* Starts the kubelet event loop thread; subscribes to the store. */
struct sim_kubelets *sim_kubelets_start(struct sim_cluster *c);
void sim_kubelets_stop(struct sim_kubelets *k);
/* The address of node i (127.x.y.z), for generated nodes. */
void sim_node_address(int index, char *buf, size_t len);

#endif
