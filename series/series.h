/*
 * series.h - the public face of series/: the windowed store of the samples
 * scraped from pods' and exporters' /metrics (custom and external metrics),
 * and its query side for the PromQL evaluator and discovery.
 *
 * Writer: one thread (the scraper's) opens a session per target scrape
 * (series_scrape_begin), adds the samples the parser calls back with, and
 * commits (or aborts) it; it also removes vanished targets and expires
 * them.  Sessions of different targets may be open at the same time
 * (the scraper interleaves bodies), all on that one thread.
 *
 * Readers: any number of threads take a reference to the current snapshot
 * (series_acquire), query it (series_select, series_each_metric) with no
 * lock, and drop it (series_snapshot_unref).  A snapshot is immutable:
 * every commit builds the target's next block (on the memory of the block
 * two commits old, when no reader holds it) and publishes it by pointer
 * swap under a lock held for a few instructions (or, while a reader holds
 * the current snapshot, a copy of its array of block pointers).
 *
 * Semantics follow Prometheus: a series is its label set, `__name__`
 * included, plus the target labels (a scraped label that collides with a
 * target label is renamed exported_<name>, honor_labels: false; labels
 * with an empty value are dropped); each series keeps a ring of at most
 * `max_points` points, those older than scrape time - window_ms dropped at
 * each commit; the first sample of a series in a scrape wins; a sample not
 * newer than the series' newest point is ignored (out of order).
 * Staleness (prometheus docs, "Staleness"): a series of the target's
 * previous successful scrape missing from this one, every such series of
 * a failed (aborted or refused) scrape, and every such series of a removed
 * target gets a stale marker (PROM_STALE_NAN_BITS) at that scrape's (or
 * removal's) time; a series sampled with an explicit timestamp is not
 * tracked for staleness (as Prometheus); a series whose points all fell
 * out of the window (a stale marker older than the window included) is
 * dropped.
 *
 * Memory: allocation follows common/'s policy (abort), so nothing returns
 * NULL for lack of memory.  Bounded by max_series (all targets), by
 * max_series_per_target and by max_label_bytes per series, each ring by
 * max_points; a scrape over a bound fails with a Prometheus-like text and
 * leaves the rest of the store untouched.
 */
#ifndef SERIES_H
#define SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* Stale markers are common's PROM_STALE_NAN_BITS (prom_is_stale, prom_stale_nan). */

struct series_options {
	int64_t window_ms;            /* longest rule range + one resolution; > 0 */
	int64_t resolution_ms;        /* scrape interval; > 0 */
	size_t max_series;            /* --max-series: all targets together; 0 = no limit */
	size_t max_series_per_target; /* 0 = no limit */
	size_t max_label_bytes;       /* names + values of one series; 0 = 16 KiB */
	size_t max_points;            /* ring size; 0 = window/resolution + 2 */
};

struct series_stats {
	size_t targets;      /* in the current snapshot, removed ones not yet expired included */
	size_t series;       /* in the current snapshot */
	size_t points;       /* in the current snapshot, stale markers included */
	size_t bytes;        /* blocks and label sets alive in the process (every store), held snapshots included */
	size_t refusals;     /* scrapes failed for a limit, since series_new */
	size_t out_of_order; /* samples ignored: not newer than their series' newest point */
	size_t duplicates;   /* samples ignored: their series was already in the scrape */
};

struct series;
struct series_snapshot;
struct series_scrape;

/* ---- the store ---------------------------------------------------------- */

/* A new, empty store; o is copied.  NULL (and a message in err, errlen
 * bytes, when err is not NULL) when window_ms or resolution_ms is not
 * positive, or max_points is over 65536.  Any thread. */
struct series *series_new(const struct series_options *o, char *err, size_t errlen);
/* Frees the store and its writer state.  No other thread may use s during
 * or after the call, and no session may be open.  Snapshots acquired
 * earlier stay valid until their last series_snapshot_unref().  NULL is
 * ignored. */
void series_free(struct series *s);
/* Counters (any thread; takes the swap lock for a few instructions). */
void series_stats(struct series *s, struct series_stats *out);

/* ---- writing: one session per target scrape (writer thread) ------------- */

/* A scraped label, as the parser gives it (both NUL-terminated). */
struct series_label {
	const char *name, *value;
};

/*
 * Opens the scrape of target_key (e.g. "ns/pod" or an exporter's name)
 * at scrape_time_ms (the time of samples without a timestamp, and of the
 * stale markers).  target_labels (namespace, pod, job, instance, ...; may
 * be NULL) are copied into every series of this scrape.  A removed target
 * scraped again is alive again.  Returns the session, owned by the store
 * until series_scrape_commit() or series_scrape_abort() ends it; NULL
 * when target_key is NULL or empty or the target has a session open.
 * Writer thread only.
 */
struct series_scrape *series_scrape_begin(struct series *s, const char *target_key,
					  const struct labels *target_labels, int64_t scrape_time_ms);
/*
 * One sample (name and labels are copied when the series is new, else
 * only compared).  0; or ERR_TOOBIG once the scrape is over a limit
 * (series count, label bytes): the scrape will fail, and later calls keep
 * counting samples (for the error's "would have N") and return ERR_TOOBIG
 * too; or ERR_INVAL for a NULL or empty name or a NULL label (the sample
 * is ignored).  No steady-state allocation: a series already known and
 * the session's buffers sized by earlier scrapes need no malloc.
 */
int series_scrape_add(struct series_scrape *sc, const char *name, const struct series_label *labels,
		      size_t nlabels, double value, bool has_ts, int64_t ts_ms);
/*
 * Ends the session: the samples go into the target's next block, series
 * absent from this scrape get stale markers, points older than the window
 * are dropped, and the block is published.  0; or ERR_TOOBIG when a limit
 * was passed: then the scrape counts as failed (its samples and new
 * series are discarded and the target's series get stale markers, as an
 * abort) and err (errlen bytes, may be NULL) holds the text, e.g.
 * "series limit exceeded: target ns/pod would have N series, limit M".
 * sc is invalid afterwards.
 */
int series_scrape_commit(struct series_scrape *sc, char *err, size_t errlen);
/* Ends a failed scrape (connection error, parse error, ...): as
 * Prometheus, nothing of it is kept and every series of the previous
 * successful scrape gets a stale marker at its time.  sc is invalid
 * afterwards. */
void series_scrape_abort(struct series_scrape *sc);
/*
 * The target vanished (pod deleted, exporter removed from the config):
 * its series get stale markers at now_ms and are kept until they fall out
 * of the window (series_expire).  0, ERR_NOTFOUND (unknown key) or
 * ERR_AGAIN (a session of that target is open).  Writer thread only.
 */
int series_target_remove(struct series *s, const char *target_key, int64_t now_ms);
/* Drops removed targets whose newest point is older than now_ms -
 * window_ms (also done by every commit at its scrape time).  Writer
 * thread only. */
void series_expire(struct series *s, int64_t now_ms);

/* ---- reading: snapshots (any thread) ------------------------------------ */

/* A new reference to the current snapshot; never NULL.  Takes the swap
 * lock for a few instructions, never waits on a commit.  Release it with
 * series_snapshot_unref() exactly once. */
struct series_snapshot *series_acquire(struct series *s);
/* Drops one reference; the last frees the snapshot (and the blocks no
 * other snapshot holds), also after series_free().  NULL ignored. */
void series_snapshot_unref(struct series_snapshot *snap);

enum series_match_op { SERIES_EQ, SERIES_NE, SERIES_RE, SERIES_NRE };
struct series_matcher {
	const char *name;
	const char *value;
	enum series_match_op op;
};
struct series_point {
	int64_t t_ms;
	double v;
};
struct series_view {
	const struct labels *labels;          /* sorted, __name__ included */
	const struct series_point *points;
	size_t n;
};
typedef void (*series_each_fn)(void *ctx, const struct series_view *s);

/* Every series of snap matching all matchers (regex ops fully anchored, POSIX ERE; a
 * matcher on an absent label matches the empty string, as Prometheus), with its points in
 * [from_ms, to_ms] ascending (stale markers included).  Borrowed for the call.  0 / ERR_*.
 * A series with no point in the range is not passed.  ERR_INVAL for a NULL matcher name or
 * value or a regex that does not compile.  A `__name__` equality matcher is looked up in
 * each target's name index; other queries scan every series.  Any thread holding snap. */
int series_select(const struct series_snapshot *snap, const struct series_matcher *m, size_t n,
		  int64_t from_ms, int64_t to_ms, series_each_fn each, void *ctx);

/* Discovery: one metric name of one target. */
struct series_metric {
	const char *target_key;
	const struct labels *target_labels;
	const char *name;
	const char *const *label_names; /* sorted, unique, without __name__ */
	size_t nlabel_names;
	size_t nseries;                 /* its series whose newest point is not stale */
};
typedef void (*series_metric_fn)(void *ctx, const struct series_metric *m);
/* Every (target, metric name) with at least one series whose newest point
 * is not a stale marker, names ascending within a target, with the label
 * names of those series.  Borrowed for the call.  Any thread holding snap. */
void series_each_metric(const struct series_snapshot *snap, series_metric_fn fn, void *ctx);

#endif
