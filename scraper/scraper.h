/*
 * scraper.h - the public face of scraper/: the only writer of the store.
 *
 *   decoder   streaming /metrics/resource parser (Prometheus text) with
 *             metrics-server's exact decode rules; no whole-body copy, no
 *             per-sample malloc
 *   targets   node -> kubelet URL (address-type preference, port choice)
 *   transfer  our own HTTP/1.1 client on GnuTLS (conn.c, driver.c):
 *             one thread and epoll set, every node concurrently,
 *             keep-alive, per-node timeout, jitter, body cap
 *   loop      one round every --metric-resolution -> store_apply()
 *
 * Allocation follows common/'s policy (abort with a message): nothing
 * here returns NULL.  A decoder is used by one thread at a time.
 */
#ifndef SCRAPER_H
#define SCRAPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "kube/kube.h"
#include "store/store.h"

/* ---- streaming decoder ----------------------------------------------- */

/*
 * Decodes one kubelet body fed in chunks of any size.  Series of the five
 * metrics metrics-server reads are kept; everything else is skipped.
 * A line longer than SCRAPER_MAX_LINE, or any exposition parse error
 * (e.g. a negative timestamp), fails the whole body.
 */
#define SCRAPER_MAX_LINE (64u << 10)

struct scraper_decoder;

/* default_ts_ns: used for samples without a timestamp (request start),
 * truncated to whole milliseconds as upstream.  node is copied.  Never
 * NULL; free with scraper_decoder_free(). */
struct scraper_decoder *scraper_decoder_new(const char *node, int64_t default_ts_ns);
/* 0, or ERR_PARSE / ERR_TOOBIG (then the decoder is failed; see _error,
 * and later feeds return the same error).  ERR_INVAL after _finish.  buf
 * is only read during the call. */
int scraper_decoder_feed(struct scraper_decoder *d, const char *buf, size_t len);
/*
 * Ends the body: applies the completeness rules (drop a node with zero or
 * missing cpu/memory/timestamp; drop a pod if any container is zero) and
 * adds what survives to batch (names and points are copied; batch stays
 * the caller's).  0, or the first error (nothing added).  Once per body:
 * a second call returns ERR_INVAL until scraper_decoder_reset().
 */
int scraper_decoder_finish(struct scraper_decoder *d, struct store_batch *batch);
/* Human text of the failure ("failed parsing metrics: line N: ..."), or "";
 * borrowed, valid until the next reset. */
const char *scraper_decoder_error(const struct scraper_decoder *d);
/* Reuse for another body without freeing its buffers (clears any error;
 * node is copied). */
void scraper_decoder_reset(struct scraper_decoder *d, const char *node, int64_t default_ts_ns);
/* NULL is ignored. */
void scraper_decoder_free(struct scraper_decoder *d);

/* ---- options --------------------------------------------------------- */

struct scraper_options {
	int64_t resolution_ns;          /* --metric-resolution */
	int64_t request_timeout_ns;     /* --kubelet-request-timeout */
	char **preferred_address_types; /* --kubelet-preferred-address-types */
	size_t npreferred;
	int kubelet_port;               /* --kubelet-port */
	bool use_node_status_port;      /* --kubelet-use-node-status-port */
	bool insecure_tls;              /* --kubelet-insecure-tls */
	const char *ca_file;            /* --kubelet-certificate-authority */
	const char *client_cert_file;   /* --kubelet-client-certificate */
	const char *client_key_file;    /* --kubelet-client-key */
	const char *ca_data;            /* CA PEM from the kube config when no ca_file */
	const char *bearer_token;       /* from the kube config, may be NULL */
	const char *bearer_token_file;  /* re-read each round, may be NULL */
	const struct selector *node_selector; /* --node-selector, borrowed */
	size_t max_concurrency;         /* 0 = all nodes at once */
};

/* Chooses the kubelet URL for a node into url (a pure function: any
 * thread).  0, or ERR_NOTFOUND with
 * text "no address matched types [..]" in err, ERR_INVAL for an address,
 * port or metrics path that cannot be used, ERR_TOOBIG when url is short. */
int scraper_node_url(const struct scraper_options *o, const struct kube_node *n, char *url,
		     size_t urllen, char *err, size_t errlen);

/* ---- the scraper ------------------------------------------------------ */

struct scraper;

struct scraper_round_stats {
	int64_t started_ns;      /* wall clock */
	int64_t duration_ns;
	size_t nodes;            /* scraped (after --node-selector) */
	size_t failed;           /* of those, contributed nothing */
	size_t pods;             /* pods stored */
};

/* Options are copied (strings too); store and node selector are borrowed
 * and must outlive the scraper.  Never NULL; free with scraper_free().
 * Loads the client certificate and key and the CA here, and reads
 * HTTPS_PROXY/NO_PROXY once: a file that cannot be used is logged once
 * and fails every request of every round (the bearer token file is
 * re-read per round). */
struct scraper *scraper_new(const struct scraper_options *o, struct store *st);
/* Runs one round over the snapshot's nodes on the calling thread
 * (blocking, at most one resolution) and applies it to the store (the
 * store's writer); a failed node only loses its points (logged as
 * metrics-server does), the round itself cannot fail.  k is only read
 * during the call.  out may be NULL.  Not while the loop runs, and from
 * one thread at a time. */
void scraper_round(struct scraper *s, const struct kube_snapshot *k, struct scraper_round_stats *out);
/*
 * Starts the loop on its own thread: one round immediately, then one per
 * resolution (rounds never overlap).  on_round (may be NULL) is called on
 * that thread after each store_apply().  inf is borrowed until
 * scraper_free().  0, ERR_INVAL (already started, or resolution <= 0) or
 * ERR_AGAIN (no thread; on_round is then never called).  Call from the
 * thread that owns s (not concurrently with scraper_round/_free).
 */
int scraper_start(struct scraper *s, struct kube_informer *inf,
		  void (*on_round)(void *ud, const struct scraper_round_stats *st), void *ud) COMMON_WUR;
/* Stops the loop (aborting a round in flight: its unanswered nodes fail
 * and what it has is still applied; joins the thread) and frees the scraper, its connections and decoders;
 * the store and the informer are not touched.  Call from the owning
 * thread once no other thread uses s (e.g. scraper_write_metrics).  NULL
 * is ignored. */
void scraper_free(struct scraper *s);

/* Wall-clock start of the last round (0 = none yet), for livez; any
 * thread (an atomic read). */
int64_t scraper_last_round_start_ns(struct scraper *s);
/* Appends the metrics_server_kubelet_* and metrics_server_manager_tick_*
 * families (Prometheus text) to out; any thread (under the metrics lock
 * the rounds also take, briefly).  0 or ERR_TOOBIG (out's
 * cap; what was appended before is left in out). */
int scraper_write_metrics(struct scraper *s, struct dynbuf *out) COMMON_WUR;

#endif
