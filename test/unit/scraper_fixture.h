/*
 * scraper_fixture.h - what the check_scraper_* suites share (linked into
 * each of them by the Makefile): a fake kubelet, a real HTTPS server
 * (libmicrohttpd + GnuTLS) on 127.0.0.1 with certificates made by
 * certs_create(), the nodes a round scrapes, and a "rig" of one scraper
 * against one fake kubelet.
 *
 * The server picks its behaviour from the path the node's
 * metrics.k8s.io/resource-metrics-path annotation asks for:
 *   /dyn              a node and one container whose cpu grows per request
 *   /fixture/<name>   test/data/kubelet/<name> (404 when missing)
 *   /garbage, /500    a body that is not Prometheus text, a 500
 *   /chunked          like /dyn (node series only), chunked in 7-byte pieces
 *   /close            the same with "Connection: close"
 *   /truncated        the same, promising 4096 bytes and closing before
 *   /drop             closes the connection without an answer
 *   /flaky            /dyn, except the server's 2nd request overall: /drop
 *   /slow             hangs until the kubelet is stopped (or 20 s)
 *   /auth             401 unless "Authorization: Bearer second", then /dyn
 *   /app              an application's /metrics (text 0.0.4, with its
 *                     Content-Type): hello_total{code="200"} 10 + n (n
 *                     advances per request), hello_total{code="500"} 1,
 *                     temp 21.5; /app/om the same counter in OpenMetrics;
 *                     /app/bad a parse error on line 2; /app/many 20 series
 *   /api/v1/...       a minimal kube-apiserver listing one node (sim-1)
 *                     whose kubelet is this server; watches hang
 *
 * It also decodes bodies into text for the decoder, promtext and
 * floatparse suites (see "decoding bodies" below).
 *
 * Nothing here runs unless called: a suite that only links the fixture
 * (check_scraper_floatparse) is not affected by it.
 */
#ifndef TEST_UNIT_SCRAPER_FIXTURE_H
#define TEST_UNIT_SCRAPER_FIXTURE_H

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "certs/certs.h"
#include "scraper/scraper_int.h"

#define FAKE_NOW (INT64_C(1700000000) * NS_PER_SEC)
#define DYN_BASE_MS INT64_C(1699999000000)

/* ---- the fake kubelet ------------------------------------------------------- */

struct MHD_Daemon;

struct kubelet {
	struct MHD_Daemon *d;
	uint16_t port;
	atomic_int dyn_round;     /* /dyn: advances per request */
	atomic_int connections;   /* TCP connections accepted */
	atomic_int requests;
	atomic_bool block_dyn;    /* /dyn hangs like /slow */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool release;             /* lets /slow answer */
	char auth[128];           /* last Authorization header */
	char accept[256];         /* last Accept header */
};

/* Starts a kubelet serving cert (NULL: plain HTTP) on an ephemeral port; stops it (letting
 * hung /slow requests answer) and frees it. */
struct kubelet *kubelet_start(const struct certs_pair *cert);
/* The same, closing connections idle for idle_timeout_s (0 = never). */
struct kubelet *kubelet_start_idle(const struct certs_pair *cert, unsigned idle_timeout_s);
void kubelet_stop(struct kubelet *k);
/* Blocks until the server saw `n` requests (the test timeout bounds it). */
void wait_requests(struct kubelet *k, int n);

/* ---- certificates and files ------------------------------------------------- */

/* Made by setup_certs(): a CA, a CA that signed nothing, a kubelet
 * certificate for 127.0.0.1 (and localhost) and one for kubelet.invalid
 * only, all signed by ca; the CAs as files in a temp dir, and the path a
 * test may write a bearer token to. */
extern struct certs_pair ca, other_ca, server, server_dns_only, server_other_ip;
extern char ca_path[256], other_ca_path[256], token_path[256];

/* An unchecked fixture: the above, and the fake clock at FAKE_NOW; then
 * removes the files and frees all. */
void setup_certs(void);
void teardown_certs(void);

/* Writes text to path (replacing it). */
void write_file(const char *path, const char *text);

/* ---- nodes, options ----------------------------------------------------------- */

#define MAX_NODES 100

struct cluster {
	struct kube_node nodes[MAX_NODES];
	struct kube_address addrs[MAX_NODES][2];
	const struct kube_node *ptrs[MAX_NODES];
	struct kube_snapshot snap;
};

/* Adds a Ready node at 127.0.0.1 (InternalIP) serving `path` (sorted
 * insertion is the caller's job: add names in order). */
struct kube_node *add_node(struct cluster *c, const char *name, const char *path);

/* Options for kubelet k (NULL: port 10250): 15 s resolution, 5 s request
 * timeout, InternalIP addresses, trusting ca_path. */
struct scraper_options options(const struct kubelet *k);

/* Fails the test unless the captured log contains needle. */
#define ck_assert_log(log, needle) \
	ck_assert_msg(strstr((log), (needle)) != NULL, "log lacks <%s>:\n%s", (needle), (log))

/* Captures stderr (the klog lines) until stderr_capture_end(), which
 * restores it and returns the text (caller frees). */
void stderr_capture_begin(void);
char *stderr_capture_end(void);

/* ---- one scraper against one fake kubelet ---------------------------------------- */

/* What a round test needs: the kubelet, a 15s store, the options (a test
 * changes them, then calls rig_scraper()), the scraper, the nodes and the
 * stats of the last round. */
struct rig {
	struct kubelet *k;
	struct store *st;
	struct scraper_options o;
	struct scraper *s;
	struct cluster c;
	struct scraper_round_stats rs;
};

/* A kubelet serving cert, a store and options(); no scraper yet. */
void rig_start(struct rig *r, const struct certs_pair *cert);
/* A scraper made from r->o, replacing (freeing) the previous one. */
void rig_scraper(struct rig *r);
/* One round over r->c into r->rs. */
void rig_round(struct rig *r);
/* rig_round() with stderr (the klog lines) captured; returns the captured
 * log (caller frees). */
char *rig_round_logged(struct rig *r);
/* Frees the scraper, the store, the nodes' labels and the kubelet. */
void rig_stop(struct rig *r);

/* ---- decoding bodies ---------------------------------------------------------- */

#define KUBELET_FIXTURES "test/data/kubelet/"
#define REQ_TS INT64_C(1633253900123456789) /* the request time decodes are given */

/* A sink that renders what survives as text (a dynbuf is its ud): one
 * line per point, "node NAME ts= start= cpu= mem=" and "container
 * NS/POD/NAME ts= ...", the format of test/data/kubelet/<name>.expected. */
extern const struct scraper__sink rec_sink;

/* Feeds body in chunks of `chunk` bytes (0 = random sizes 1..4096), then
 * emits into out; 0 or the decoder's error. */
int decode_chunked(struct scraper_decoder *d, const char *body, size_t len, size_t chunk,
		   struct dynbuf *out);
/* Decodes text whole as node1 at REQ_TS; returns the rendering (caller
 * frees) and *rc, the error text in err when err is not NULL. */
char *decode_text(const char *text, size_t len, int *rc, char *err, size_t errlen);
/* Reads test/data/kubelet/<name> into b (fails the test when it cannot). */
void load_fixture(const char *name, struct dynbuf *b);
/* decode_text() succeeds and renders want; fails and renders nothing with
 * want_rc and the error text want_err. */
void expect_text(const char *text, const char *want);
void expect_error(const char *text, size_t len, int want_rc, const char *want_err);

#endif
