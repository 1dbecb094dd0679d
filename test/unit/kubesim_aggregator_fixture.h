/*
 * kubesim_aggregator_fixture.h - what the check_kubesim_aggregator_* suites
 * share (linked into each of them by the Makefile): kubesim's aggregation
 * layer in a bare cluster (a store, no apiserver), and fake backends.
 *
 * A backend is a libmicrohttpd HTTPS server on 127.0.0.1 with a serving
 * certificate for backend.ns1.svc signed by serving_ca.  It answers 401 to
 * a request without the front-proxy client certificate and records every
 * other request (URI and headers); it serves
 *   /apis                 aggregated discovery (when aggregated) or 404
 *   /apis/<gv>            an APIResourceList of widgets (probe_status)
 *   .../redirect          302
 *   anything else         {"path":"<path>"} with X-Test: yes
 */
#ifndef TEST_UNIT_KUBESIM_AGGREGATOR_FIXTURE_H
#define TEST_UNIT_KUBESIM_AGGREGATOR_FIXTURE_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "certs/certs.h"
#include "test/kubesim/aggregator_int.h"

#define MAX_RECS 16

struct MHD_Daemon;

struct rec {
	char uri[512];
	char headers[2048]; /* "Name: value\n" in arrival order */
};

struct backend {
	struct MHD_Daemon *d;
	uint16_t port;
	char endpoint[32];
	const char *gv;          /* "group/version" it serves */
	bool aggregated;         /* serve aggregated discovery at /apis */
	int probe_status;        /* status of /apis/<g>/<v> */
	pthread_mutex_t mu;
	struct rec recs[MAX_RECS];
	int nrecs;
};

/* Made by cluster_setup(): the front-proxy CA and the client certificate
 * the aggregator presents, the backends' CA and serving certificate, and
 * a CA that signed nothing. */
extern struct certs_pair fp_ca, fp_client, serving_ca, serving, other_ca;
/* The cluster: cl.store, and agg on it with a manual resync ("0s"). */
extern struct sim_cluster cl;
extern struct sim_aggregator *agg;

/* A checked fixture: certificates, store and aggregator; then frees all. */
void cluster_setup(void);
void cluster_teardown(void);

/* Starts a backend serving gv ("group/version"); stops it. */
void backend_start(struct backend *b, const char *gv, bool aggregated);
void backend_stop(struct backend *b);

/* How many times needle occurs in hay. */
int count(const char *hay, const char *needle);

/* An APIService "<v>.<g>" for gv ("g/v"); endpoint NULL = through a Service;
 * ca (base64) NULL = insecureSkipTLSVerify.  The caller owns the object. */
json_t *apiservice(const char *gv, const char *endpoint, const char *ca, int prio);
/* Creates that APIService in cl.store, trusting ca_pem (or insecure). */
void register_gv(const char *gv, const char *endpoint, const char *ca_pem, int prio);

/* The Available condition of APIService name as "status/reason/message"
 * (the caller frees); assert_condition() compares it with want. */
char *condition(const char *name);
void assert_condition(const char *name, const char *want);

/* Proxies GET path?query as user jane (groups dev, system:authenticated)
 * with spoofed identity headers and a bearer token the aggregator must
 * drop; false when the aggregator does not own path.  The caller releases
 * resp. */
bool do_proxy(const char *path, const char *query, struct sim_response *resp);

/* j as compact JSON (the caller frees). */
char *dump(const json_t *j);

#endif
