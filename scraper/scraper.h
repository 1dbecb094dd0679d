/*
 * scraper.h - the public face of scraper/: the only writer of the store.
 *
 *   decoder   streaming /metrics/resource parser (Prometheus text) with
 *             metrics-server's exact decode rules; no whole-body copy, no
 *             per-sample malloc
 *   expfmt    streaming parser of any exporter's /metrics (text 0.0.4,
 *             OpenMetrics 1.0), one callback per sample
 *   targets   node -> kubelet URL (address-type preference, port choice)
 *   transfer  our own HTTP/1.1 client on GnuTLS (conn.c, driver.c):
 *             one thread and epoll set, every node concurrently,
 *             keep-alive, per-node timeout, jitter, body cap
 *   loop      one round every --metric-resolution -> store_apply()
 *   apps      application targets (issue 11): annotated pods and static
 *             targets (apptargets.c), a round of them on the same engine,
 *             plain http:// or https://, into series/ (appround.c), and
 *             their loop every --metric-resolution with its self-metrics
 *             (apploop.c)
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

/* ---- expfmt: any exporter's /metrics (text 0.0.4, OpenMetrics 1.0) ----- */

/*
 * A streaming parser of the Prometheus text format 0.0.4 and OpenMetrics
 * 1.0 text, as Prometheus reads a pod's or an exporter's /metrics (the
 * kubelet path keeps its own decoder above).  Bytes are fed in chunks of
 * any size; at most one unfinished line is kept.  Each sample goes to a
 * callback as it is read; nothing is allocated per sample (buffers grow
 * to the largest line and family table seen, and are reused by _reset).
 *
 * As Prometheus, the first malformed line fails the whole body: the
 * parser stops and keeps that line's number and reason (upstream's words;
 * see check_scraper_expfmt.c for the table of inputs).  Warnings (a
 * second HELP or TYPE line, a TYPE after the family's samples: the first
 * is kept) are counted, not fatal.  A series (name and label set) seen
 * twice in one body is passed on flagged `duplicate` and counted, so the
 * store keeps the first ("duplicate sample for timestamp" in Prometheus);
 * the check compares 64-bit hashes of the series.
 *
 * One parser is used by one thread at a time.
 */
#define SCRAPER_EXPFMT_ACCEPT                                                                       \
	"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"  \
	"q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

enum scraper_expfmt_format {
	SCRAPER_EXPFMT_TEXT,        /* text/plain; version=0.0.4 */
	SCRAPER_EXPFMT_OPENMETRICS, /* application/openmetrics-text */
};

enum scraper_expfmt_type {
	SCRAPER_EXPFMT_UNTYPED, /* no TYPE; "untyped" (text) or "unknown" (OpenMetrics) */
	SCRAPER_EXPFMT_COUNTER,
	SCRAPER_EXPFMT_GAUGE,
	SCRAPER_EXPFMT_HISTOGRAM,
	SCRAPER_EXPFMT_SUMMARY,
	SCRAPER_EXPFMT_GAUGEHISTOGRAM, /* OpenMetrics only */
	SCRAPER_EXPFMT_STATESET,       /* OpenMetrics only */
	SCRAPER_EXPFMT_INFO,           /* OpenMetrics only */
};

/* "counter", "gauge", ... ("untyped" for SCRAPER_EXPFMT_UNTYPED); static. */
const char *scraper_expfmt_type_name(enum scraper_expfmt_type t);

/*
 * The format of a scrape's response from its Content-Type header (NULL
 * when absent), as Prometheus 2 picks its parser: the media type
 * application/openmetrics-text (any case, any parameters) is OpenMetrics,
 * anything else text.  Returns 0 when the type is text/plain or
 * OpenMetrics, ERR_INVAL when it is missing, unparsable or another type
 * (*out is then SCRAPER_EXPFMT_TEXT, Prometheus 2's fallback; Prometheus 3
 * fails such scrapes unless told a fallback).  Any thread.
 */
int scraper_expfmt_format_of(const char *content_type, enum scraper_expfmt_format *out);

/* Prometheus' scrape-config limits; 0 = no limit. */
struct scraper_expfmt_limits {
	size_t sample_limit;             /* samples per body: "sample limit exceeded" */
	size_t label_limit;              /* labels per series, the name counted as __name__ */
	size_t label_value_length_limit; /* bytes of a label value (the name's too) */
	size_t body_size_limit;          /* bytes fed: "body size limit exceeded" */
	size_t line_limit;               /* bytes of one line; 0 = SCRAPER_MAX_LINE */
};

struct scraper_expfmt_label {
	const char *name, *value; /* unescaped, NUL-terminated */
	size_t name_len, value_len;
};

/* One sample; every pointer is borrowed for the duration of the callback. */
struct scraper_expfmt_sample {
	const char *name;   /* series name, e.g. "x_bucket" (NUL-terminated) */
	const char *family; /* its family, e.g. "x" */
	enum scraper_expfmt_type type;
	const struct scraper_expfmt_label *labels; /* exposition order, le/quantile included */
	size_t nlabels;
	double value;    /* NaN and +-Inf as read */
	bool has_ts;
	int64_t ts_ms;   /* text: as written (may be negative); OpenMetrics: seconds * 1000, truncated */
	bool created;    /* an OpenMetrics _created sample of a counter, histogram or summary */
	bool duplicate;  /* this series was already seen in this body */
	size_t line;     /* 1-based */
};

/* Nonzero stops the parse: feed/finish return that value and the parser
 * is failed with reason "stopped by the sample callback". */
typedef int (*scraper_expfmt_sample_fn)(void *ud, const struct scraper_expfmt_sample *s);

struct scraper_expfmt_stats {
	size_t lines, samples, duplicates, warnings;
};

struct scraper_expfmt;

/* lim may be NULL (no limits; copied otherwise); fn is required.  Never
 * NULL; free with scraper_expfmt_free(). */
struct scraper_expfmt *scraper_expfmt_new(enum scraper_expfmt_format f,
					  const struct scraper_expfmt_limits *lim,
					  scraper_expfmt_sample_fn fn, void *ud);
/* Starts another body (any format), keeping buffers and limits. */
void scraper_expfmt_reset(struct scraper_expfmt *p, enum scraper_expfmt_format f);
/* 0, or the first error: ERR_PARSE (malformed line, OpenMetrics framing),
 * ERR_TOOBIG (a limit), the callback's value; later feeds return it
 * again.  ERR_INVAL after _finish.  buf is only read during the call. */
int scraper_expfmt_feed(struct scraper_expfmt *p, const char *buf, size_t len);
/* Ends the body: parses a last line without '\n'; OpenMetrics must have
 * ended with "# EOF".  0 or the error as for feed.  Once per body. */
int scraper_expfmt_finish(struct scraper_expfmt *p);
/* "line N: reason", or "" without error; borrowed until the next reset. */
const char *scraper_expfmt_error(const struct scraper_expfmt *p);
/* The failing line (1-based; 0 without error) and its reason alone. */
size_t scraper_expfmt_error_line(const struct scraper_expfmt *p);
const char *scraper_expfmt_error_reason(const struct scraper_expfmt *p);
/* Counters of the current body. */
void scraper_expfmt_stats(const struct scraper_expfmt *p, struct scraper_expfmt_stats *out);
/* NULL is ignored. */
/* Bytes p holds for its buffers (they keep the size of the largest body
 * read so far; a pool of parsers drops a parser grown too big). */
size_t scraper_expfmt_footprint(const struct scraper_expfmt *p);
void scraper_expfmt_free(struct scraper_expfmt *p);

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

/* ---- application targets (issue 11): pods' and exporters' /metrics ------------------ */

/* One application target.  key names its series in the series store
 * ("ns/pod" for a pod, the static target's name); url is
 * http[s]://host:port/path; labels are its target labels. */
struct scraper_app_target {
	char *key;
	char *url;
	struct labels labels;
};

/*
 * The targets of a round (a pure function: any thread): every Running pod
 * of k with an IP and the annotation prometheus.io/scrape "true", at
 * prometheus.io/scheme (http or https; default http) :// podIP :
 * prometheus.io/port (required: 1..65535; container ports are not kept,
 * so a pod without the annotation is skipped) prometheus.io/path (default
 * /metrics), with the labels Prometheus' usual kubernetes-pods job gives
 * it: namespace, pod, job (pod_job, NULL = "kubernetes-pods"), instance
 * (podIP:port); then the static targets (copied; instance = the URL's
 * host:port and job = key unless their labels set them).  Sorted by key;
 * a key seen twice keeps the first (pods before static targets); a pod
 * with an unusable annotation is skipped.  *out (free with
 * scraper_app_targets_free) and its count.
 */
void scraper_app_targets(const struct kube_snapshot *k, const char *pod_job,
			 const struct scraper_app_target *statics, size_t nstatics,
			 struct scraper_app_target **out, size_t *nout);
/* Frees n targets made by scraper_app_targets, and the array.  NULL ignored. */
void scraper_app_targets_free(struct scraper_app_target *t, size_t n);

struct series;

/* The application scraper's options (copied by scraper_apps_new). */
struct scraper_app_options {
	int64_t timeout_ns;                  /* per target request; 0 = 10 s */
	struct scraper_expfmt_limits limits; /* Prometheus' target limits */
	const char *ca_file;                 /* https targets' CA (NULL: the system's) */
	bool insecure_tls;                   /* https targets unchecked */
	/* Which series to store (NULL: all): called once per run of samples
	 * with the same name on the rounds' thread; false drops them before
	 * the series store (they count for the parser's limits, not the
	 * store's).  The server passes rules_config_reads. */
	bool (*keep_series)(void *ud, const char *name);
	void *keep_ud;
};

/* Why a target's scrape failed: the `reason` label of
 * metrics_apiserver_app_scrape_failures_total (alphabetical order). */
enum scraper_app_fail {
	SCRAPER_APP_FAIL_ABORTED,      /* "aborted": the loop stopped mid-round */
	SCRAPER_APP_FAIL_CONNECTION,   /* "connection": resolve, dial, TLS, lost, bad URL */
	SCRAPER_APP_FAIL_HTTP_STATUS,  /* "http_status": an answer other than 200 */
	SCRAPER_APP_FAIL_PARSE,        /* "parse": a malformed line, OpenMetrics framing */
	SCRAPER_APP_FAIL_SERIES_LIMIT, /* "series_limit": the series store refused (limits) */
	SCRAPER_APP_FAIL_TARGET_LIMIT, /* "target_limit": sample, label, body size limits */
	SCRAPER_APP_FAIL_TIMEOUT,      /* "timeout": the request's deadline passed */
	SCRAPER_APP_NFAIL
};
/* The reason's label value ("parse"); static, "" out of range. */
const char *scraper_app_fail_reason(enum scraper_app_fail f);

struct scraper_app_round_stats {
	size_t targets; /* scraped */
	size_t failed;  /* of those, aborted or refused by the store */
	size_t removed; /* targets gone since the last round (series_target_remove) */
	size_t failed_by[SCRAPER_APP_NFAIL]; /* failed, by reason (they add up to failed) */
	int64_t duration_ns; /* of the round (monotonic) */
};

struct scraper_apps;

/* ser is borrowed (its writer is the thread running the rounds).  Never
 * NULL; free with scraper_apps_free(). */
struct scraper_apps *scraper_apps_new(const struct scraper_app_options *o, struct series *ser);
/*
 * One round over t (n targets sorted by key, as scraper_app_targets gives
 * them; borrowed for the call) on the calling thread, with the scraper's
 * engine (one kept-alive connection per target, deadlines, one epoll
 * set): per target one GET (Accept: SCRAPER_EXPFMT_ACCEPT), the body
 * streamed into the expfmt parser (format from its Content-Type) whose
 * samples go to the target's series session; committed on success,
 * aborted on any failure (connection, status, parse error, a limit),
 * which is logged with the target, the URL and the reason ("line N: ...").
 * Targets of the previous round missing from t are removed from the
 * series store.  out may be NULL.
 */
void scraper_apps_round(struct scraper_apps *a, const struct scraper_app_target *t, size_t n,
			struct scraper_app_round_stats *out);
/* Closes the connections and frees a (the series store is not touched).
 * NULL ignored. */
void scraper_apps_free(struct scraper_apps *a);

/* ---- the application loop: rounds every --metric-resolution ------------------------- */

struct scraper_apps_loop_options {
	int64_t resolution_ns;                    /* > 0: one round per resolution */
	struct scraper_app_options app;           /* for the rounds (scraper_apps_new) */
	const char *pod_job;                      /* scraper_app_targets' pod_job (NULL ok) */
	const struct scraper_app_target *statics; /* static targets (copied) */
	size_t nstatics;
};

struct scraper_apps_loop;

typedef void (*scraper_apps_round_fn)(void *ud, const struct scraper_app_round_stats *st);

/*
 * Starts rounds over application targets on a thread of their own, with
 * the kubelet loop's cadence: one round at once, then one per
 * resolution; rounds never overlap (a slow round delays the next, ticks
 * in between are dropped).  Each round's targets are
 * scraper_app_targets(the informer's snapshot, pod_job, statics), written
 * into ser (whose writer that thread becomes); between rounds the
 * kept-alive connections are watched.  on_round (may be NULL) is called
 * on that thread after each round.  o is copied; ser and inf are borrowed
 * until scraper_apps_stop().  0 with *out set, ERR_INVAL (resolution <= 0)
 * or ERR_AGAIN (no thread); *out is NULL on failure.
 */
int scraper_apps_start(const struct scraper_apps_loop_options *o, struct series *ser,
		       struct kube_informer *inf, scraper_apps_round_fn on_round, void *ud,
		       struct scraper_apps_loop **out) COMMON_WUR;
/*
 * Stops the loop: a round in flight is aborted at once (its unanswered
 * targets fail with reason "aborted", their sessions aborted), the thread
 * joined, the connections closed, l freed.  ser and inf are not touched.
 * Call from the thread that started l, once no other thread uses it
 * (e.g. scraper_apps_write_metrics).  NULL ignored.
 */
void scraper_apps_stop(struct scraper_apps_loop *l);
/*
 * Appends the metrics_apiserver_app_* families (round duration histogram,
 * failures by reason, targets, scrapes) and metrics_apiserver_series /
 * _series_limit_refusals_total (series_stats of ser), in name order, as
 * Prometheus text.  Any thread.  0 or ERR_TOOBIG (out's cap).
 */
int scraper_apps_write_metrics(struct scraper_apps_loop *l, struct dynbuf *out) COMMON_WUR;

#endif
