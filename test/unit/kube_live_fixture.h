/*
 * kube_live_fixture.h - the fake kube-apiserver the check_kube_live_*
 * suites share (linked into each of them by the Makefile): libmicrohttpd
 * over TLS on 127.0.0.1 asking for client certificates of its own CA.
 *
 *   GET /api/v1/nodes, /api/v1/pods   list pages (page i answers
 *                                     continue=page-i, else 410) or, with
 *                                     watch=1, a stream of queued pieces
 *   /flaky                            503 while F.flaky_left > 0, then 200
 *   /ok, /echo (201, the body back), /text (not JSON), anything else 404
 *
 * fake_start()/fake_stop() are a checked fixture.  Every request records
 * its Authorization, Content-Type and client certificate CN in F.
 */
#ifndef TEST_UNIT_KUBE_LIVE_FIXTURE_H
#define TEST_UNIT_KUBE_LIVE_FIXTURE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "certs/certs.h"
#include "kube/kube.h"

#define WAIT_NS (10 * NS_PER_SEC)   /* every wait on the server fails after this */
#define MAX_PAGES 4
#define MAX_QUEUE 64

enum { R_NODES, R_PODS, R_N };

struct MHD_Daemon;

struct resource {
	char *pages[MAX_PAGES];     /* list pages; page i answers continue=page-i */
	int lists, watches;
	int next_watch_status;      /* 0 = stream */
	unsigned epoch;             /* bumped: open watch streams end */
	char last_rv[64], last_continue[64], last_limit[16];
	char *queue[MAX_QUEUE];     /* pieces of the watch stream, in order */
	size_t qhead, qtail;
};

struct fake {
	struct MHD_Daemon *d;
	uint16_t port;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
	struct resource res[R_N];
	char auth[128], client_cn[64], content_type[64];
	int flaky_left, hits;
};

/* The server's state; tests read what it recorded once a call returned. */
extern struct fake F;
/* The fake CA and a client certificate it signed (CN "metrics-apiserver"). */
extern struct certs_pair ca, client_pair;

/* Makes the certificates and starts the server; stops it and frees all. */
void fake_start(void);
void fake_stop(void);

/* Sets (json NULL: removes) list page i of resource res. */
void set_page(int res, int i, const char *json);
/* Queues text as the next piece of res's watch stream. */
void send_piece(int res, const char *text);
/* Ends res's open watch; the next watch answers next_status (0 = a stream). */
void end_watch(int res, int next_status);

/* WAIT_NS from now on CLOCK_REALTIME (for pthread_cond_timedwait). */
struct timespec deadline(void);
/* Wait until the server saw at least n watch requests / lists of res. */
void await_watches(int res, int n);
void await_lists(int res, int n);
/* Requests the server answered so far. */
int hits(void);

/* A client of the server trusting its CA, with a bearer token and/or a
 * token file (either may be NULL) and, when cert, the client certificate. */
struct kube_client *client_for(const char *token, const char *token_file, bool cert);

#endif
