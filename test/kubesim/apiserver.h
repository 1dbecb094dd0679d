/*
 * apiserver.h - private header of kubesim's mini kube-apiserver
 * (store.c, http.c, router.c, rest.c, watch.c, table.c, discovery.c,
 * patch.c, api_*.c, rbac.c, controller.c, generate.c, control.c, config.c,
 * kubeconfig.c, metrics_provider.c, main.c).  The kubelet and aggregator
 * parts use only kubesim.h.
 */
#ifndef KUBESIM_APISERVER_H
#define KUBESIM_APISERVER_H

#include <stdatomic.h>

#include "test/kubesim/kubesim.h"

#define SIM_MAX_FIELDS 12          /* extra field-selector paths per kind */
#define SIM_DEFAULT_RING 10000     /* retained watch events */
#define SIM_MAX_LIMIT 100000       /* largest page a list returns */

/* ---- resource kinds (api_core.c, api_apps.c, api_autoscaling.c, ...) ---- */

enum sim_sub { SIM_SUB_STATUS = 1, SIM_SUB_SCALE = 2 };

struct sim_column {
	const char *name;
	const char *type;   /* "string", "integer", "date" */
	const char *format; /* "name" or "" */
	const char *description;
	int priority;       /* 1 = only with -o wide */
};

struct sim_kind {
	const char *group;  /* "" = core */
	const char *version;
	const char *resource;
	const char *kind;
	const char *singular;
	bool namespaced;
	const char *const *short_names; /* NULL-terminated or NULL */
	const char *const *categories;
	unsigned subresources;
	bool generation;                /* keeps metadata.generation */
	bool create_only;               /* reviews: verbs ["create"], not stored */
	const char *const *fields;      /* extra field-selector paths, NULL-terminated */
	const struct sim_column *columns; /* Table columns after Name, NULL-terminated by name */
	/* Appends one cell per column (after the name) to cells. */
	void (*cells)(const json_t *obj, json_t *cells, int64_t now_ns);
	/* Fills defaults on create (create=true) or update; NULL = none. */
	void (*defaults)(json_t *obj, bool create);
};

/* Every built-in kind; NULL-terminated. */
extern const struct sim_kind *const sim_kinds[];
/* Kind by plural resource name and group ("" = core), or NULL. */
const struct sim_kind *sim_kind_find(const char *group, const char *resource);
/* Kind by resource name alone (store-internal names are unique). */
const struct sim_kind *sim_kind_by_resource(const char *resource);
/* "v1" or "apps/v1"; static storage per kind, never NULL. */
const char *sim_kind_api_version(const struct sim_kind *k);

extern const struct sim_kind sim_kind_namespaces, sim_kind_nodes, sim_kind_pods,
	sim_kind_configmaps, sim_kind_events, sim_kind_services, sim_kind_endpoints,
	sim_kind_deployments, sim_kind_hpas, sim_kind_apiservices, sim_kind_roles,
	sim_kind_clusterroles, sim_kind_rolebindings, sim_kind_clusterrolebindings, sim_kind_leases,
	sim_kind_serviceaccounts, sim_kind_poddisruptionbudgets;

/* ---- stored objects (store.c) ------------------------------------------ */

/* One immutable version of an object; shared by the table and the watch
 * ring, freed when the last reference goes. */
struct sim_obj {
	atomic_int refs;
	uint64_t rv;
	char *ns;     /* "" for cluster scope */
	char *name;
	struct labels labels;
	char *fields[SIM_MAX_FIELDS]; /* values of kind->fields, NULL = absent */
	int64_t cpu_milli;            /* pods: requested cpu, summed */
	size_t len;
	char *json;   /* compact JSON without kind/apiVersion */
};

void sim_obj_ref(struct sim_obj *o);
void sim_obj_unref(struct sim_obj *o);
/* Value of a field-selector key for o (metadata.name, metadata.namespace
 * or one of kind->fields); borrowed; NULL when the key is not supported. */
const char *sim_obj_field(const struct sim_kind *k, const struct sim_obj *o, const char *key);
/* True when key may be used in a field selector on kind k. */
bool sim_kind_field_supported(const struct sim_kind *k, const char *key);
/* Parses o->json; new reference (never NULL for a stored object). */
json_t *sim_obj_load(const struct sim_obj *o);

/* Current (latest) resourceVersion. */
uint64_t sim_store_rv(struct sim_store *s);

struct sim_query {
	const char *ns;                      /* NULL = all namespaces */
	const struct selector *labels;       /* NULL = everything */
	const struct field_selector *fields; /* NULL = everything */
	const char *after;                   /* continue: start after this key */
	size_t limit;                        /* 0 = no limit */
};

/* The matching objects at one moment, sorted by namespace/name. */
struct sim_snapshot {
	struct sim_obj **objs; /* referenced; cleared by sim_snapshot_clear */
	size_t n;
	uint64_t rv;
	char *next_key;        /* "ns/name" of the last item when more remain */
	size_t remaining;      /* matching items after this page */
};

/* Fills snap (caller releases).  0, or ERR_INVAL when a field key is not
 * supported by the kind (err names it). */
int sim_store_query(struct sim_store *s, const char *resource, const struct sim_query *q,
		    struct sim_snapshot *snap, char *err, size_t errlen) COMMON_WUR;
void sim_snapshot_clear(struct sim_snapshot *snap);
/* True when o matches q's namespace and selectors (q->after ignored). */
bool sim_query_matches(const struct sim_kind *k, const struct sim_query *q,
		       const struct sim_obj *o);

/* ---- bulk loading (generated objects) ---------------------------------- */

/* Reserves the next resourceVersion and uid sequence number. */
uint64_t sim_store_next_rv(struct sim_store *s);
uint64_t sim_store_next_uid(struct sim_store *s);
/* An object version from ready JSON text (taken; metadata already holds
 * the reserved rv, uid and creationTimestamp); index fields are set by
 * the caller with labels_set and sim_obj_set_field. */
struct sim_obj *sim_obj_prepared(const char *ns, const char *name, char *json, size_t len,
				 uint64_t rv);
void sim_obj_set_field(const struct sim_kind *k, struct sim_obj *o, const char *key,
		       const char *value);
/* Inserts a prepared version (takes its reference), records an ADDED
 * event and notifies subscribers (parsing the text only if there are any).
 * 0, or ERR_CONFLICT when the key exists (o released). */
int sim_store_insert_prepared(struct sim_store *s, const char *resource, struct sim_obj *o);

/* Stored version of one object, referenced (unref it) or NULL. */
struct sim_obj *sim_store_get_obj(struct sim_store *s, const char *resource, const char *ns,
				  const char *name);

/* ---- watch ring (store.c) ---------------------------------------------- */

struct sim_watch_event {
	enum sim_event type;
	const struct sim_kind *kind; /* NULL for resources without a kind */
	const char *resource;        /* static name */
	struct sim_obj *obj;         /* referenced */
	struct sim_obj *prev;        /* MODIFIED: previous version, referenced */
};

/*
 * Copies up to max events with rv > after for resource into out (caller
 * clears each with sim_watch_event_clear), waiting up to wait_ms for
 * one to arrive.  Returns the count, or ERR_GONE when `after` is older
 * than the retained window (*oldest = oldest retained rv).  *last is set
 * to the rv of the last event examined (of any resource).
 */
int sim_store_events(struct sim_store *s, const char *resource, uint64_t after,
		     struct sim_watch_event *out, size_t max, int wait_ms, uint64_t *last,
		     uint64_t *oldest);
void sim_watch_event_clear(struct sim_watch_event *ev);
/* Wakes every waiting watcher (shutdown). */
void sim_store_wake(struct sim_store *s);

/* ---- HTTP side (http.c, router.c, rest.c, watch.c, table.c) ------------- */

struct sim_server;

/* Starts the HTTPS server on cfg.bind:cfg.port (port 0 = pick); fills
 * c->server_url.  NULL with a message in err. */
struct sim_server *sim_server_start(struct sim_cluster *c, char *err, size_t errlen);
void sim_server_stop(struct sim_server *srv);
/* Signals every open watch stream to end (before sim_server_stop). */
void sim_server_shutdown_streams(void);
bool sim_server_stopping(void);

/* Routes one authenticated request. */
void sim_route(struct sim_cluster *c, const struct sim_request *req, struct sim_response *resp);

/* Query argument or NULL (borrowed). */
const char *sim_request_arg(const struct sim_request *req, const char *name);

/* A parsed REST path below /api/v1 or /apis/<group>/<version>. */
struct sim_rest_target {
	const struct sim_kind *kind;
	char *ns;          /* NULL = all / cluster */
	char *name;        /* NULL = collection */
	char *subresource; /* NULL, "status", "scale" */
	bool watch_path;   /* deprecated /watch/ prefix */
};

void sim_rest_handle(struct sim_cluster *c, const struct sim_rest_target *t,
		     const struct sim_request *req, struct sim_response *resp);
void sim_watch_handle(struct sim_cluster *c, const struct sim_rest_target *t,
		      const struct sim_request *req, struct sim_response *resp);
void sim_discovery_handle(struct sim_cluster *c, const struct sim_request *req,
			  struct sim_response *resp, bool *handled);
/* /openapi/v3 documents (openapi.c); false when p is not one. */
bool sim_openapi_handle(const struct sim_request *req, struct sim_response *resp);
void sim_control_handle(struct sim_cluster *c, const struct sim_request *req,
			struct sim_response *resp);
/* The fake custom/external metrics provider (metrics_provider.c): every
 * request the aggregation layer forwards to kubesim itself. */
void sim_provider_handle(struct sim_cluster *c, const struct sim_request *req,
			 struct sim_response *resp);
/* Deployment scale subresource (api_apps.c). */
/* Successful Scale writes so far, per "ns/resource/name": {"writes": N,
 * "unchanged": M (spec.replicas left as it was), "byUser": {user: n}}
 * (new reference; api_apps.c). */
json_t *sim_scale_writes(void);
void sim_scale_handle(struct sim_cluster *c, const struct sim_rest_target *t,
		      const struct sim_request *req, struct sim_response *resp);

/* Status helpers shaped like apierrors (rest.c). */
void sim_response_not_found(struct sim_response *r, const struct sim_kind *k, const char *name);
void sim_response_status_details(struct sim_response *r, int code, const char *reason,
				 const char *message, json_t *details /* stolen, or NULL */);
void sim_response_store_error(struct sim_response *r, int err, const struct sim_kind *k,
			      const char *name);
/* Sends a single object with kind/apiVersion (rest.c). */
void sim_response_object(struct sim_response *r, int status, const struct sim_kind *k,
			 const char *json, size_t len);

/* Table output (table.c): when Accept asks for a Table, returns the
 * apiVersion to answer with ("meta.k8s.io/v1" or ".../v1beta1"). */
const char *sim_table_wanted(const struct sim_request *req);
int sim_table_write(struct dynbuf *out, const char *api_version, const struct sim_kind *k,
		    struct sim_obj *const *objs, size_t n, const char *list_meta,
		    const char *include) COMMON_WUR;
/* Cell appenders for kind->cells. */
void sim_cell_str(json_t *cells, const char *s); /* NULL -> "<none>" */
void sim_cell_int(json_t *cells, json_int_t v);
void sim_cell_age(json_t *cells, const json_t *obj, int64_t now_ns);
void sim_cell_name(json_t *cells, const json_t *obj);
/* duration.HumanDuration of now - creationTimestamp ("<unknown>" if none). */
void sim_table_age(const json_t *obj, int64_t now_ns, char *buf, size_t len);

/* The request body as a JSON object (new reference), or NULL after
 * filling resp with a 400 Status (rest.c). */
json_t *sim_request_json(const struct sim_request *req, struct sim_response *resp);

/* A protobuf request body (k8s envelope) of a Pod, Deployment, Namespace,
 * ConfigMap or Service as JSON (new reference), or NULL with a message
 * (protobuf.c). */
json_t *sim_protobuf_to_json(const void *body, size_t len, char *err, size_t errlen);

/* Applies a PATCH body to target by the request's Content-Type (merge and
 * strategic merge as RFC 7386, JSON patch as RFC 6902).  0, or an HTTP
 * status (400, 415, 422) with a message in err (patch.c). */
int sim_patch_apply(const struct sim_request *req, json_t *target, char *err, size_t errlen);
/* Canonical selector string of a metav1.LabelSelector (caller frees);
 * "" for an empty one. */
char *sim_label_selector_string(const json_t *sel);

/* JSON merge patch (RFC 7386) applied to target in place; depth-bounded.
 * 0 or ERR_INVAL. */
int sim_merge_patch(json_t *target, const json_t *patch) COMMON_WUR;
/* RFC 6902 JSON patch; 0 or ERR_INVAL with a message. */
int sim_json_patch(json_t *target, const json_t *ops, char *err, size_t errlen) COMMON_WUR;

/* ---- cluster parts ---------------------------------------------------- */

/* Parses argv into cfg (and loads --config).  0, or ERR_INVAL with a
 * message in err.  Clear with sim_config_clear. */
int sim_config_parse(struct sim_config *cfg, int argc, char **argv, char *err, size_t errlen)
	COMMON_WUR;
void sim_config_clear(struct sim_config *cfg);

/* Creates the cluster CA, the admin client cert (CN kubesim-admin, O
 * system:masters), the front-proxy CA and client, and the bearer token,
 * and writes them into cfg.dir (keys 0600).  0, or an error with text. */
int sim_kubeconfig_setup(struct sim_cluster *c, char *err, size_t errlen) COMMON_WUR;
/* Writes DIR/kubeconfig for c->server_url.  0 or ERR_IO. */
int sim_kubeconfig_write(const struct sim_cluster *c) COMMON_WUR;

/* Generated nodes, pods and the objects of --config (generate.c). */
int sim_generate(struct sim_cluster *c, char *err, size_t errlen) COMMON_WUR;

/* Deployment controller (controller.c). */
struct sim_controller;
struct sim_controller *sim_controller_start(struct sim_cluster *c);
void sim_controller_stop(struct sim_controller *ctl);

/* ---- small helpers (util.c) -------------------------------------------- */

/* Writes s as a JSON string literal (with quotes). */
int sim_json_quote(struct dynbuf *b, const char *s) COMMON_WUR;
/*
 * Content negotiation on the Accept header: the index in versions[0..n)
 * of the version named by the first clause that asks for as=<as> in group
 * g=<group>, or -1 when none does.  Versions are tried in order and matched
 * as substrings ("v=v2" is in "v=v2beta1"): list the longer one first.
 */
int sim_accept_version(const struct sim_request *req, const char *as, const char *group,
		       const char *const *versions, size_t nversions);
/* Deterministic generator (xorshift64*). */
uint64_t sim_rand_next(uint64_t *state);
/* n chars from the apimachinery "safe" alphabet (bcdfghjklmnpqrstvwxz2456789). */
void sim_rand_suffix(uint64_t *state, char *buf, size_t n);
/* 36-char UUID-looking id from a counter (deterministic). */
void sim_uid(uint64_t n, char *buf, size_t len);

/* ---- request paths (router.c) ------------------------------------------ */

#define SIM_MAX_SEGMENTS 10

/* A URL path split at '/' (empty segments dropped); too_many when it has
 * more than SIM_MAX_SEGMENTS (the caller answers 404). */
struct sim_segments {
	char *v[SIM_MAX_SEGMENTS];
	size_t n;
	bool too_many;
};

/* --rbac-enforce (authorize.c): true when the request may go on; else resp
 * holds kube-apiserver's 403 Forbidden Status. */
bool sim_authorize(struct sim_cluster *c, const struct sim_request *req,
		   struct sim_response *resp);

void sim_path_split(const char *p, struct sim_segments *s);
void sim_path_segments_free(struct sim_segments *s);

#endif
