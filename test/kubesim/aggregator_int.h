/*
 * aggregator_int.h - private header shared by the aggregator's files
 * (aggregator*.c) and its unit suites (check_kubesim_aggregator_* over
 * kubesim_aggregator_fixture.c).  Nothing else includes it.
 *
 *   aggregator.c            registry of APIService objects (store events),
 *                           validation, configuration, new/free
 *   aggregator_loop.c       availability controller: endpoint resolution,
 *                           discovery probe, status.conditions[Available]
 *   aggregator_http.c       libcurl transfers to backends (handle pool, TLS,
 *                           client certificate, Go-style error texts)
 *   aggregator_proxy.c      /apis/<group>/<version>/... proxy, identity headers
 *   aggregator_discovery.c  per-APIService discovery cache, /apis merge
 *
 * Lock order: the store's lock may be held when the aggregator's lock is
 * taken (store callbacks), never the other way round: no sim_store_* call
 * is made while holding sim_aggregator.mu.
 */
#ifndef KUBESIM_AGGREGATOR_INT_H
#define KUBESIM_AGGREGATOR_INT_H

#include <pthread.h>

#include <curl/curl.h>

#include "test/kubesim/kubesim.h"

/* Annotation naming the backend address when no Service is used. */
#define SIM_AGG_ENDPOINT_ANNOTATION "kubesim.io/endpoint"
/* Environment override of the resync period (Go duration, "0s" = manual). */
#define SIM_AGG_RESYNC_ENV "KUBESIM_AGGREGATOR_RESYNC"

#define SIM_AGG_PROBE_TIMEOUT_MS 5000L
#define SIM_AGG_PROXY_TIMEOUT_MS 60000L
#define SIM_AGG_MAX_BODY (64u << 20)       /* one proxied or discovery body */
#define SIM_AGG_MAX_RESP_HEADERS 64
#define SIM_AGG_MAX_ENTRIES 1024           /* registered APIServices */
#define SIM_AGG_POOL_SIZE 8                /* idle curl handles kept */

/* What the aggregator keeps of one valid APIService object. */
struct agg_entry {
	char *name;                /* "<version>.<group>" */
	char *sig;                 /* spec + annotation, to detect changes */
	char *group;
	char *version;
	char *svc_ns;              /* NULL for a Local APIService */
	char *svc_name;
	int port;                  /* spec.service.port, default 443 */
	char *annotated_endpoint;  /* SIM_AGG_ENDPOINT_ANNOTATION or NULL */
	char *ca_path;             /* file holding the decoded caBundle, or NULL */
	bool insecure;             /* spec.insecureSkipTLSVerify */
	int group_priority;
	int version_priority;
	bool available;            /* status.conditions[Available] == True */
	char *endpoint;            /* resolved "host:port", NULL until resolved */
	uint64_t gen;              /* bumped when spec or annotation changes */
	int64_t next_probe_ns;     /* monotonic; 0 = as soon as possible */
	int64_t backoff_ns;        /* current failure backoff */
	json_t *disc_resources;    /* APIResourceDiscovery array, or NULL */
	bool disc_stale;
	int64_t disc_time_ns;      /* monotonic time of the last fetch attempt */
	uint64_t disc_gen;         /* gen the cache belongs to */
};

/* A copy of the fields a transfer needs; owned strings. */
struct agg_target {
	char *name;
	char *group;
	char *version;
	char *svc_ns;
	char *svc_name;
	int port;
	char *annotated_endpoint;
	char *endpoint;
	char *ca_path;
	bool insecure;
	bool available;
	uint64_t gen;
};

struct agg_pool {
	pthread_mutex_t mu;
	CURL *idle[SIM_AGG_POOL_SIZE];
	size_t n;
};

struct sim_aggregator {
	struct sim_cluster *c;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct agg_entry **entries;
	size_t nentries;
	size_t next_ca_file;       /* counter for CA file names */
	uint64_t next_gen;         /* generation of the next entry */
	bool stop;
	bool thread_started;
	pthread_t thread;
	int64_t resync_ns;         /* 0 = no background loop */
	int64_t discovery_ns;      /* discovery cache lifetime */
	char *tmpdir;              /* client cert, key, CA bundles */
	char *client_cert_path;
	char *client_key_path;
	struct agg_pool pool;
};

/* ---- aggregator.c ------------------------------------------------------ */

/*
 * Checks an APIService object as the API validation would: name ==
 * "<version>.<group>", group and version set, caBundle XOR
 * insecureSkipTLSVerify, caBundle valid base64, priorities in range.
 * 0, or ERR_INVAL with a field-path message in err.
 */
int sim_aggregator_validate(const json_t *obj, char *err, size_t errlen);
/* Copies the entry (caller holds a->mu) into t; release with the next. */
void sim_agg_target_from(struct agg_target *t, const struct agg_entry *e);
void sim_agg_target_clear(struct agg_target *t);
/* Finds the entry for group/version; caller holds a->mu.  NULL if none. */
struct agg_entry *sim_agg_find(struct sim_aggregator *a, const char *group, const char *version);

/* ---- aggregator_loop.c ------------------------------------------------- */

/* The availability controller thread (started by sim_aggregator_new when
 * the resync period is not 0). */
void *sim_agg_loop_main(void *arg);
/*
 * Runs the availability check for one APIService now: resolve the
 * endpoint, probe, fetch discovery, write the Available condition.
 * Returns true when the APIService is Available.
 */
bool sim_agg_check_one(struct sim_aggregator *a, const char *name);

/* ---- aggregator_http.c ------------------------------------------------- */

/* One request to a backend.  Fill the inputs, call sim_agg_perform, read
 * the outputs, then sim_agg_call_clear. */
struct agg_call {
	const struct agg_target *t;
	const char *method;          /* "GET" when NULL */
	const char *path;            /* escaped path with optional ?query */
	const char *body;
	size_t body_len;
	struct curl_slist *headers;  /* borrowed; identity and copied headers */
	bool verify;                 /* verify the serving cert and use SNI
				      * <svc>.<ns>.svc (proxy); false = probe */
	long timeout_ms;
	/* outputs */
	long status;                 /* 0 when the transfer failed */
	char *content_type;          /* owned or NULL */
	struct sim_header headers_out[SIM_AGG_MAX_RESP_HEADERS];
	size_t nheaders_out;
	struct dynbuf body_out;
	char url[512];               /* the URL as Go would print it */
	char err[512];               /* Go-style error text when status == 0 */
	bool too_large;
};

void sim_agg_call_init(struct agg_call *call);
/* Performs the call.  0 when a response arrived (any status), else ERR_IO /
 * ERR_TLS / ERR_TIMEOUT / ERR_TOOBIG with call->err set. */
int sim_agg_perform(struct sim_aggregator *a, struct agg_call *call);
void sim_agg_call_clear(struct agg_call *call);
void sim_agg_pool_init(struct agg_pool *p);
void sim_agg_pool_clear(struct agg_pool *p);

/* ---- aggregator_proxy.c ------------------------------------------------ */

/*
 * Appends the identity headers SetAuthProxyHeaders sets: one X-Remote-User,
 * one X-Remote-Group line per group, X-Remote-Extra-<escaped key> per value
 * (extra: object key -> array of strings, or NULL).  Returns the new list.
 */
struct curl_slist *sim_agg_identity_headers(struct curl_slist *l, const char *user,
					    const char *const *groups, size_t ngroups,
					    const json_t *extra);
/* headerKeyEscape: bytes that are not RFC 7230 token characters and '%'
 * become %XX (upper-case hex).  New string. */
char *sim_agg_header_key_escape(const char *key);
/* Go url.Values.Encode() of a raw query string: keys sorted, values in
 * order, QueryEscape'd.  Pairs with bad escapes are dropped.  New string
 * ("" for none). */
char *sim_agg_query_reencode(const char *raw);

/* ---- aggregator_discovery.c -------------------------------------------- */

/*
 * Fetches the discovery of t through the proxy transport (aggregated /apis
 * first, /apis/<g>/<v> as fallback).  Returns the APIResourceDiscovery
 * array (new reference) or NULL with a reason in err.
 */
json_t *sim_agg_fetch_discovery(struct sim_aggregator *a, const struct agg_target *t, char *err,
				size_t errlen);
/* endpoints.ConvertGroupVersionIntoToDiscovery for an APIResourceList's
 * `resources`: responseKind comes from each entry's group/version/kind, as
 * upstream.  New reference, never NULL. */
json_t *sim_agg_convert_resource_list(const json_t *resources);

#endif
