/*
 * scraper_int.h - declarations shared inside scraper/ only.
 *
 *   promtext     one exposition line -> tokens (no allocation)
 *   floatparse   Go ParseFloat-compatible decimal parser
 *   selfmetrics  metrics_server_kubelet_* / manager_tick_* families
 *   driver       libcurl multi handles sharded over one epoll set
 *   transfer     one scrape round over a set of nodes
 */
#ifndef SCRAPER_INT_H
#define SCRAPER_INT_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scraper/scraper.h"

/* ---- promtext: one line of the text exposition format ----------------- */

/* The series metrics-server reads; everything else is SCRAPER__M_OTHER. */
enum scraper__metric {
	SCRAPER__M_OTHER,
	SCRAPER__M_NODE_CPU,
	SCRAPER__M_NODE_MEM,
	SCRAPER__M_CONT_CPU,
	SCRAPER__M_CONT_MEM,
	SCRAPER__M_CONT_START,
};

/* A label value as it appears in the line (escapes not yet applied). */
struct scraper__lval {
	const char *p;   /* NULL when the label is absent */
	uint32_t len;
	bool escaped;    /* contains a backslash escape */
};

struct scraper__sample {
	enum scraper__metric metric;
	struct scraper__lval container, pod, ns; /* filled for every series */
	double value;
	bool has_ts;
	int64_t ts_ms;
};

/*
 * Tokenizes one line (without its '\n').  Returns 1 and fills *s for a
 * sample, 0 for a blank or comment line, or ERR_PARSE with a message
 * (no "failed parsing metrics" prefix) in err.  Never allocates; the
 * label pointers point into line.
 */
int scraper__promtext_line(const char *line, size_t len, struct scraper__sample *s, char *err,
			   size_t errlen);

/* Writes value v of label lv, unescaped, into out (capacity >= lv->len + 1,
 * NUL-terminated); returns the length. */
size_t scraper__lval_unescape(const struct scraper__lval *lv, char *out);

/* ---- floatparse ------------------------------------------------------ */

/*
 * Parses a Prometheus sample value exactly as Go's strconv.ParseFloat
 * (decimal, "Inf"/"Infinity" with sign, "NaN"; no hex, no '_'):
 * correctly rounded.  0, or ERR_PARSE (also for overflow to infinity).
 */
int scraper__parse_float(const char *p, size_t n, double *out);

/* ---- decoder internals used by the round ----------------------------- */

/* Receives what survives the completeness rules; strings are borrowed
 * for the duration of the call. */
struct scraper__sink {
	void (*node)(void *ud, const char *node, const struct store_point *p);
	void (*container)(void *ud, const char *ns, const char *pod, const char *container,
			  const struct store_point *p);
};

/* As scraper_decoder_finish, but hands results to sink instead of a batch
 * (pods in first-seen order).  0 or the decoder's error. */
int scraper__decoder_emit(struct scraper_decoder *d, const struct scraper__sink *sink, void *ud);

/* ---- selfmetrics ----------------------------------------------------- */

struct scraper__metrics;
struct scraper__node_series;

/* resolution_ns picks the tick histogram's buckets. */
struct scraper__metrics *scraper__metrics_new(int64_t resolution_ns);
void scraper__metrics_free(struct scraper__metrics *m);
/* The per-node series of node (created on first use); the pointer is
 * stable until scraper__metrics_drop(). */
struct scraper__node_series *scraper__metrics_node(struct scraper__metrics *m, const char *node);
/* Removes a node's series (the node disappeared). */
void scraper__metrics_drop(struct scraper__metrics *m, struct scraper__node_series *ns);
/* One kubelet request: duration, outcome, wall-clock end (unix seconds). */
void scraper__metrics_request(struct scraper__metrics *m, struct scraper__node_series *ns,
			      double seconds, bool success, int64_t end_unix_s);
void scraper__metrics_tick(struct scraper__metrics *m, double seconds);
int scraper__metrics_write(struct scraper__metrics *m, struct dynbuf *out);

/* ---- driver ---------------------------------------------------------- */

struct scraper__driver;

/* A finished transfer (already removed from its shard). */
typedef void (*scraper__done_fn)(void *ud, CURL *e, CURLcode cc);

/* Never NULL (aborts when the kernel refuses an epoll set or eventfd). */
struct scraper__driver *scraper__driver_new(void);
/* Every easy handle must have been removed and cleaned up before. */
void scraper__driver_free(struct scraper__driver *d);
/* The shard a new easy handle uses for its whole life (its kept-alive
 * connection lives in that shard's cache); unassign when it is freed. */
uint32_t scraper__driver_assign(struct scraper__driver *d);
void scraper__driver_unassign(struct scraper__driver *d, uint32_t shard);
/* Starts / cancels a transfer on its shard.  add: 0 or ERR_INVAL. */
int scraper__driver_add(struct scraper__driver *d, uint32_t shard, CURL *e);
void scraper__driver_remove(struct scraper__driver *d, uint32_t shard, CURL *e);
/*
 * Waits at most max_ms (less when a libcurl timer is due) for socket
 * events, lets libcurl act on them and on due timers, and calls done for
 * every transfer that finished.  True when scraper__driver_wakeup() was
 * called since the last step.
 */
bool scraper__driver_step(struct scraper__driver *d, int max_ms, scraper__done_fn done, void *ud);
/* Makes a waiting (or the next) step return at once; thread-safe. */
void scraper__driver_wakeup(struct scraper__driver *d);

/* ---- tlsverify ------------------------------------------------------- */

/* One trust list for every kubelet connection. */
struct scraper__verifier;

/* The last leaf certificate that passed for one node, and for how long it
 * may be trusted again without a new check. */
struct scraper__tls_seen {
	unsigned char *der;
	size_t len;
	int64_t until_mono;
	char host[256];
};

/* Trusts ca_file, else ca_data (PEM), else the system store.  NULL with a
 * message in err when no certificate could be read. */
struct scraper__verifier *scraper__verifier_new(const char *ca_file, const char *ca_data,
						char *err, size_t errlen);
void scraper__verifier_free(struct scraper__verifier *v);
/*
 * Verifies the server certificate of e's connection (a GnuTLS session,
 * handshake done) for host (an IP literal without brackets, or a DNS
 * name), remembering a pass in seen.  0, or ERR_TLS with Go's text
 * ("x509: certificate signed by unknown authority", ...) in err.
 */
int scraper__verify_peer(struct scraper__verifier *v, CURL *e, const char *host,
			 struct scraper__tls_seen *seen, char *err, size_t errlen);
void scraper__tls_seen_release(struct scraper__tls_seen *seen);

/* ---- transfer -------------------------------------------------------- */

struct scraper__transfer;

struct scraper__round_result {
	size_t ok;
	size_t failed;
};

/* o and m are borrowed for the transfer's life. */
struct scraper__transfer *scraper__transfer_new(const struct scraper_options *o,
						struct scraper__metrics *m);
/*
 * Scrapes nodes (sorted by name, borrowed) concurrently and adds what
 * they report to batch.  Targets of nodes absent from the list are
 * dropped (with their self-metrics).  Returns when every node finished,
 * failed or the deadline (monotonic ns) passed.
 */
void scraper__transfer_round(struct scraper__transfer *t, const struct kube_node *const *nodes,
			     size_t n, int64_t deadline_mono_ns, struct store_batch *batch,
			     struct scraper__round_result *res);
/* Makes a running round return soon (thread-safe). */
void scraper__transfer_abort(struct scraper__transfer *t);
void scraper__transfer_free(struct scraper__transfer *t);

#endif
