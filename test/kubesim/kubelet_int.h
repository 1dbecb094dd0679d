/*
 * kubelet_int.h - internals of the simulated kubelets, shared by
 * kubelet*.c and the unit suites.  Not part of kubesim.h on purpose.
 *
 *   kubelet_map.c     string-keyed hash map
 *   kubelet_fmt.c     Go float formatting (strconv 'g', -1) for exposition
 *   kubelet_model.c   compact per-node state, fed by store events
 *   kubelet_pods.c    pod / deployment JSON -> compact structs
 *   kubelet_render.c  /metrics/resource body from the compact structs
 *   kubelet_tls.c     per-node serving certificates, one shared key
 *   kubelet_http.c    bounded HTTP/1.1 request parsing, response heads
 *   kubelet_loop.c    the epoll loop serving every node over TLS
 *   kubelet.c         sim_kubelets_start/stop, store wiring
 */
#ifndef KUBESIM_KUBELET_INT_H
#define KUBESIM_KUBELET_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>
#include <jansson.h>

#include "common/common.h"
#include "test/kubesim/kubesim.h"
#include "test/kubesim/workload.h"

/* Annotations read by the kubelets. */
#define SIM_ANN_CPU "kubesim.io/cpu"
#define SIM_ANN_MEMORY "kubesim.io/memory"
#define SIM_ANN_MEMORY_NOISE "kubesim.io/memory-noise"
#define SIM_ANN_RESTART_EVERY "kubesim.io/restart-every"
#define SIM_ANN_NO_METRICS "kubesim.io/no-metrics"
#define SIM_ANN_DEPLOYMENT "kubesim.io/deployment"
#define SIM_ANN_LOAD "kubesim.io/load"
#define SIM_ANN_FAULT "kubesim.io/fault"
#define SIM_ANN_CERT "kubesim.io/kubelet-cert"

/* ---- string map (kubelet_map.c) ------------------------------------------ */

struct sim_kl_map_entry;

struct sim_kl_map {
	struct sim_kl_map_entry **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
};

void sim_kl_map_init(struct sim_kl_map *m);
/* Borrowed value or NULL. */
void *sim_kl_map_get(const struct sim_kl_map *m, const char *key);
/* Sets key (copied) to val; returns the previous value or NULL. */
void *sim_kl_map_put(struct sim_kl_map *m, const char *key, void *val);
/* Removes key; returns its value or NULL. */
void *sim_kl_map_del(struct sim_kl_map *m, const char *key);
/* Calls fn on every value (may be NULL), then frees the map's storage. */
void sim_kl_map_clear(struct sim_kl_map *m, void (*fn)(void *val));

/* ---- Go float formatting (kubelet_fmt.c) ---------------------------------- */

#define SIM_KL_FLOAT_LEN 32

/* fmt_go_float's text (common/gofloat.c) for the double nearest to
 * mant / 10^frac, computed with integers on the render hot path (exact
 * while mant < 2^52 and frac <= 9).  Returns the length written
 * (buf >= SIM_KL_FLOAT_LEN). */
size_t sim_kl_fmt_decimal(uint64_t mant, int frac, char *buf);

/* ---- compact model (kubelet_model.c, kubelet_pods.c) ----------------------- */

struct sim_kl_fault {
	bool down;         /* reset connections */
	bool garbage;      /* invalid exposition text */
	bool http500;      /* HTTP 500 */
	bool notready;     /* nothing at kubelet level */
	int64_t slow_ns;   /* delay before answering */
	int64_t huge_bytes; /* stream a body this large (0 = off) */
	int64_t series;    /* stream this many extra series after the body (0 = off) */
};

/* series=<N>: at most this many (the line's 7-digit index). */
#define SIM_KL_MAX_FAULT_SERIES 10000000

struct sim_kl_container {
	char *name;
	char *labels;           /* {container="..",namespace="..",pod=".."} */
	struct sim_wl_profile cpu, mem;
	int64_t mem_noise;      /* bytes, 0 = none */
	uint64_t hash;          /* per container seed for noise */
	int64_t status_start_ns; /* state.running.startedAt, 0 = unknown */
	int64_t start_ns;       /* current incarnation, 0 = not yet seen */
	int64_t cpu_offset_ns;  /* keeps the counter continuous across edits */
	double load0;           /* deployment load integral at start */
	int64_t last_cpu_ns;    /* last reported: counters never go back */
	int64_t cur_cpu_ns, cur_mem; /* scratch for one render */
	char start_text[SIM_KL_FLOAT_LEN];
};

struct sim_kl_pod {
	char *ns, *name, *key;  /* key = ns/name */
	char *labels;           /* {namespace="..",pod=".."} */
	char *node_name;
	char *deploy_key;       /* ns/name of the owning Deployment or NULL */
	int64_t start_ns;
	int64_t restart_every_ns;
	uint64_t rv;            /* resourceVersion when numeric, else 0 */
	bool running;
	bool metrics;           /* false with kubesim.io/no-metrics */
	size_t ncont;
	struct sim_kl_container *cont;
};

/* One (pod, container) pair in exposition order. */
struct sim_kl_ref {
	struct sim_kl_pod *pod;
	struct sim_kl_container *cont;
};

struct sim_kl_node {
	char *name;
	char addr[16];          /* InternalIP or "" */
	bool present;           /* the Node object exists */
	int cert_mode;          /* enum sim_kubelet_cert_mode, -1 = cluster default */
	struct sim_kl_fault fault;
	struct sim_wl_profile cpu, mem; /* base usage besides pods */
	int64_t start_ns;
	int64_t cpu_offset_ns;
	int64_t retired_cpu_ns; /* CPU of containers that are gone */
	uint64_t rv;
	struct sim_kl_pod **pods; /* sorted by key */
	size_t npods, cap;
	struct sim_kl_ref *refs; /* reported containers, exposition order */
	size_t nrefs;
	bool dirty;             /* refs must be rebuilt */
};

struct sim_kl_deploy {
	char *key;
	int64_t load_milli;     /* kubesim.io/load x 1000 */
	int ready;              /* ready replicas, >= 1 */
	double acc;             /* load integral up to seg_start */
	int64_t seg_start_ns;
	uint64_t rv;
};

struct sim_pm_state;

struct sim_kl_model {
	pthread_mutex_t lock;
	uint64_t seed;
	struct sim_kl_map nodes;   /* name -> node */
	struct sim_kl_map by_addr; /* address -> node (borrowed) */
	struct sim_kl_map pods;    /* ns/name -> pod */
	struct sim_kl_map deploys; /* ns/name -> deploy */
	struct sim_pm_state *pm;   /* application targets (podmetrics.h) */
};

/* What the loop needs to know about the node behind an address. */
struct sim_kl_view {
	char name[256];
	int cert_mode;          /* -1 = cluster default */
	struct sim_kl_fault fault;
};

void sim_kl_model_init(struct sim_kl_model *m, uint64_t seed);
void sim_kl_model_clear(struct sim_kl_model *m);
/* Applies one store event ("nodes", "pods", "deployments", "configmaps";
 * others are ignored).  Bad objects are logged and skipped.  Takes the lock. */
void sim_kl_model_apply(struct sim_kl_model *m, enum sim_event ev, const char *resource,
			const json_t *obj);
/* "down", "slow=2s", "garbage", "huge[=100Mi]", "500", "notready",
 * comma-separated; unknown tokens are logged for who and ignored. */
void sim_kl_parse_fault(const char *s, const char *who, struct sim_kl_fault *f);
/* Fills v for the node serving addr; false when no node has it. */
bool sim_kl_model_lookup(struct sim_kl_model *m, const char *addr, struct sim_kl_view *v);
/* Appends the /metrics/resource body of the node at addr as of now_ns.
 * 0, ERR_NOTFOUND, or ERR_TOOBIG when out's cap is reached. */
int sim_kl_model_render(struct sim_kl_model *m, const char *addr, int64_t now_ns,
			struct dynbuf *out);

/* Internal to the model files (lock held). */
struct sim_kl_node *sim_kl_node_get(struct sim_kl_model *m, const char *name, bool create);
void sim_kl_node_maybe_free(struct sim_kl_model *m, struct sim_kl_node *n);
void sim_kl_node_attach(struct sim_kl_node *n, struct sim_kl_pod *p);
void sim_kl_node_detach(struct sim_kl_node *n, struct sim_kl_pod *p);
void sim_kl_pod_free(struct sim_kl_pod *p);
struct sim_kl_pod *sim_kl_pod_from_json(const json_t *obj, uint64_t seed);
void sim_kl_pod_apply(struct sim_kl_model *m, enum sim_event ev, const json_t *obj,
		      int64_t now_ns);
void sim_kl_deploy_apply(struct sim_kl_model *m, enum sim_event ev, const json_t *obj,
			 int64_t now_ns);
/* Load integral of a deployment up to t and its current per-replica load. */
double sim_kl_deploy_integral(const struct sim_kl_deploy *d, int64_t t_ns);
double sim_kl_deploy_load(const struct sim_kl_deploy *d);

/* Exposition label text for a container (or a pod when container is
 * NULL), escaped; new string. */
char *sim_kl_labels(const char *container, const char *ns, const char *pod);

/* Accounting (kubelet_render.c, lock held). */
/* The node's own CPU besides its pods, cumulative at now. */
int64_t sim_kl_node_base_cpu(const struct sim_kl_node *n, int64_t now_ns);
/* CPU of container c at now, refreshing its incarnation (restarts). */
int64_t sim_kl_container_cpu(struct sim_kl_model *m, struct sim_kl_node *n,
			     const struct sim_kl_pod *p, struct sim_kl_container *c,
			     int64_t now_ns);
int64_t sim_kl_container_mem(struct sim_kl_model *m, const struct sim_kl_pod *p,
			     const struct sim_kl_container *c, int64_t now_ns);
/* Moves the CPU of a pod's containers into its node's retired counter and
 * carries incarnations over to a replacement (newp may be NULL). */
void sim_kl_pod_retire(struct sim_kl_model *m, struct sim_kl_node *n, struct sim_kl_pod *oldp,
		       struct sim_kl_pod *newp, int64_t now_ns);

/* Small JSON helpers shared by the model files (over common's jpath_str):
 * RFC 3339 time at path in ns (0 when absent or bad); metadata.resourceVersion
 * as a number (0 when absent or not decimal). */
int64_t sim_kl_json_time(const json_t *obj, const char *path);
uint64_t sim_kl_json_rv(const json_t *obj);

/* ---- TLS material (kubelet_tls.c) ---------------------------------------- */

struct sim_kl_tls;

/* The node a TLS session belongs to: the loop passes one per session with
 * gnutls_session_set_ptr before the handshake; the certificate callback
 * reads it. */
struct sim_kl_tls_ident {
	char addr[16];
	char name[256];
	int mode;               /* -1 = cluster default */
	struct sim_kl_tls *tls; /* set by sim_kl_tls_setup */
};

/* Parses the CA, makes the shared key and the credentials (certificates
 * per node are made on first handshake, then cached by address).  NULL
 * with a message in err on failure. */
struct sim_kl_tls *sim_kl_tls_new(const struct certs_pair *ca, enum sim_kubelet_cert_mode mode,
				  bool client_auth, char *err, size_t errlen);
void sim_kl_tls_free(struct sim_kl_tls *t);
/* Sets credentials (and the client certificate request) on a session. 0 or ERR_TLS. */
int sim_kl_tls_setup(struct sim_kl_tls *t, gnutls_session_t s, struct sim_kl_tls_ident *id);
/* After a handshake: true when the client presented a certificate signed
 * by the cluster CA (always true without client auth). */
bool sim_kl_tls_client_ok(struct sim_kl_tls *t, gnutls_session_t s);

/* ---- HTTP (kubelet_http.c) ------------------------------------------------ */

#define SIM_KL_MAX_REQUEST 8192

struct sim_kl_request {
	char method[8];
	char path[256];
	bool keep_alive;
	bool has_body;
};

/* Parses one request head in buf[0..len).  Returns the head's length
 * (> 0), 0 when incomplete, ERR_TOOBIG past SIM_KL_MAX_REQUEST, or
 * ERR_PARSE for a malformed head. */
long sim_kl_http_parse(const char *buf, size_t len, struct sim_kl_request *req);
/* Appends a response head with Content-Length. 0 or ERR_TOOBIG. */
int sim_kl_http_head(struct dynbuf *out, int status, const char *content_type,
		     uint64_t content_length, bool keep_alive);

/* ---- answers (kubelet_respond.c) -------------------------------------------- */

struct sim_kl_reply {
	struct dynbuf out;      /* head and body (or its first part) */
	uint64_t stream_left;   /* padding still to send after out (huge) */
	uint64_t stream_pos;    /* padding already produced */
	bool stream_series;     /* the stream is series lines (series=<N>), not padding */
	bool close;             /* close after sending */
	bool reset;             /* close now without an answer (down, unknown) */
};

/*
 * Answers req for the node at addr into r->out (appended; the caller
 * resets it), faults included except `slow` (the loop delays the call).
 * authorized: the TLS client passed client-certificate checks.
 * scratch is a reusable buffer for the body.  Never fails: errors become
 * HTTP errors or r->reset.
 */
void sim_kl_respond(struct sim_kl_model *m, const char *addr, const struct sim_kl_request *req,
		    bool authorized, struct dynbuf *scratch, struct sim_kl_reply *r);
/* A complete small answer (status, content type, body). */
void sim_kl_reply_simple(struct sim_kl_reply *r, const struct sim_kl_request *req, int status,
			 const char *ct, const char *body);
/* A 200 exposition answer from the body rendered in scratch, with the
 * garbage and huge faults of f applied. */
void sim_kl_reply_metrics(struct sim_kl_reply *r, const struct sim_kl_request *req,
			  const struct sim_kl_fault *f, struct dynbuf *scratch);
/* Writes up to max bytes of the padding stream from position pos. */
size_t sim_kl_padding(char *buf, size_t max, uint64_t pos);
/* The same for the series stream of the series=<N> fault: line k (from 0)
 * is `kubesim_fault_series{k="<k, 7 digits>"} 1`, SIM_KL_SERIES_LINE_LEN
 * bytes with its LF, so any position maps to a line without state. */
#define SIM_KL_SERIES_LINE_LEN 36
size_t sim_kl_series_lines(char *buf, size_t max, uint64_t pos);
/* Appends invalid exposition text (a negative timestamp, stray bytes). */
int sim_kl_garbage(struct dynbuf *out, uint64_t h) COMMON_WUR;

/* ---- the loop (kubelet_loop.c) --------------------------------------------- */

struct sim_kl_loop;

struct sim_kl_loop_cfg {
	struct sim_kl_model *model;
	struct sim_kl_tls *tls;
	const char *bind;      /* "0.0.0.0" normally */
	int port;              /* 0 = pick one */
	int64_t idle_timeout_ns;
	int max_conns;
};

/* Binds, then runs the loop in its own thread.  NULL with a message in
 * err on failure. */
struct sim_kl_loop *sim_kl_loop_start(const struct sim_kl_loop_cfg *cfg, char *err,
				      size_t errlen);
int sim_kl_loop_port(const struct sim_kl_loop *l);
/* Stops the thread, closes every connection, frees l. */
void sim_kl_loop_stop(struct sim_kl_loop *l);

#endif
