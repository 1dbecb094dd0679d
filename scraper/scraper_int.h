/*
 * scraper_int.h - declarations shared inside scraper/ only.
 *
 *   promtext     one exposition line -> tokens (no allocation)
 *   floatparse   Go ParseFloat-compatible decimal parser
 *   selfmetrics  metrics_server_kubelet_* / manager_tick_* families
 *   transfer     libcurl multi round over a set of nodes
 */
#ifndef SCRAPER_INT_H
#define SCRAPER_INT_H

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
