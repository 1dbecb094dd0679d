/*
 * store.h - the public face of store/: the windowed in-memory metrics store.
 *
 * The scraper is the only writer.  Each scrape round it fills a batch
 * (store_batch_*) and hands it to store_apply(), which applies the
 * metrics-server storage rules (two points per node and per container,
 * fresh-container and restart rules, prune what the batch lacks) and
 * publishes a new immutable snapshot.  Readers take a reference to the
 * current snapshot (store_acquire) and never wait on a scrape: the writer
 * swaps a pointer under a short lock.
 *
 * Threads: one writer (the scraper's thread, or a test) makes batches and
 * applies them; any number of reader threads (HTTP handlers, the HPA
 * loop) call store_acquire(), the store_snapshot_* and store_*_usage
 * queries and store_snapshot_unref() at the same time.  Nothing here fails for
 * lack of memory: allocation follows common/'s policy (abort with a
 * message), so no function returns NULL.
 */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One sample as decoded from a kubelet.  Zero means "absent". */
struct store_point {
	int64_t ts_ns;     /* sample time, ns since epoch */
	int64_t start_ns;  /* container start time (0 for nodes / unknown) */
	uint64_t cpu_ns;   /* cumulative CPU, nanocore-seconds */
	uint64_t mem_bytes; /* working set, bytes */
};

/* What a reader gets for a node or a container. */
struct store_usage {
	int64_t ts_ns;       /* time of the newer point */
	int64_t window_ns;   /* newer - older */
	uint64_t cpu_nanocores;
	uint64_t mem_bytes;
};

/* ---- batch: built by the scraper, one per round ---------------------- */

struct store_batch;

/*
 * A batch is owned by the thread that made it and used by that thread
 * only (no locking inside).  It ends in exactly one of store_apply()
 * (which takes it) or store_batch_free().
 */

/* A new, empty batch on fresh memory; never NULL. */
struct store_batch *store_batch_new(void);
/* As store_batch_new, sized for about this many entries (e.g. the last
 * round's counts) so a round does not regrow its arrays and indexes. */
struct store_batch *store_batch_new_sized(size_t nodes, size_t pods, size_t containers);
size_t store_batch_container_count(const struct store_batch *b);
/* Strings are copied (interned) and *p is copied: the caller keeps its
 * arguments.  First point for a key wins ("duplicate" points are logged
 * and ignored, as metrics-server); a point with a NULL or empty name, or
 * one over the store's limits, is logged and ignored.  No error return. */
void store_batch_add_node(struct store_batch *b, const char *node, const struct store_point *p);
void store_batch_add_container(struct store_batch *b, const char *ns, const char *pod,
			       const char *container, const struct store_point *p);
size_t store_batch_node_count(const struct store_batch *b);
size_t store_batch_pod_count(const struct store_batch *b);
/* Frees a batch that was not applied (and the memory it was filled on,
 * even when it came from store_batch_begin()).  NULL is ignored. */
void store_batch_free(struct store_batch *b);

/* ---- the store ------------------------------------------------------- */

struct store;

/* resolution_ns = --metric-resolution (the fresh-container upper bound).
 * Never NULL; the current snapshot starts empty (not ready). */
struct store *store_new(int64_t resolution_ns);
/*
 * The next round's batch, sized like the last round and filled on the
 * memory of a snapshot no reader holds any more (the "spare": the one
 * store_apply() replaced, kept when the writer dropped the last reference
 * to it), so that a round like the last one allocates nothing.  Without a
 * spare (a reader still held the replaced snapshot, or the cluster shrank
 * a lot) it is fresh memory.  The caller owns the batch: apply it (or
 * free it) like any batch.  Safe to call while readers run.
 */
struct store_batch *store_batch_begin(struct store *s);
/*
 * Takes ownership of b (b is invalid afterwards), builds the next snapshot
 * from it and the current one (metrics-server's rules, rates computed
 * here), and publishes it by pointer swap.  Cannot fail.  Calls are
 * serialised by a writer lock; readers are blocked only for the swap.
 * The store's reference to the replaced snapshot is dropped: if no reader
 * holds it, it becomes the spare (or is freed when there is one already);
 * otherwise the reader's last store_snapshot_unref() frees it.
 */
void store_apply(struct store *s, struct store_batch *b);
/*
 * Drops the store's reference to the current snapshot, frees the spare
 * and the store.  No other thread may use s during or after the call
 * (stop the scraper first).  Snapshots acquired earlier stay valid until
 * their holders release them (the last store_snapshot_unref() frees each); a
 * batch from store_batch_begin() not yet applied is still the caller's to
 * free.  NULL is ignored.
 */
void store_free(struct store *s);

/* ---- snapshots: immutable, reference counted ------------------------- */

struct store_snapshot;

/*
 * Snapshots never change once published, so every function below may run
 * on any thread, on a snapshot that thread holds, with no locking.
 */

/* A new reference to the current snapshot; never NULL.  Any thread; takes
 * the swap lock for a few instructions, never waits on a scrape.  The
 * caller must store_snapshot_unref() it exactly once. */
struct store_snapshot *store_acquire(struct store *s);
/* Drops one reference (any thread, NULL ignored); the last one frees the
 * snapshot, also after store_free().  Strings and arrays borrowed from it
 * are invalid afterwards. */
void store_snapshot_unref(struct store_snapshot *snap);

/* metrics-server v0.9 Ready(): some node and some pod can be served. */
bool store_snapshot_ready(const struct store_snapshot *snap);
/* Counts of servable points (metrics_server_storage_points). */
size_t store_snapshot_node_points(const struct store_snapshot *snap);
size_t store_snapshot_container_points(const struct store_snapshot *snap);

/* 0 and *out filled, or ERR_NOTFOUND when the node has no servable usage. */
int store_node_usage(const struct store_snapshot *snap, const char *node, struct store_usage *out);

struct store_container_usage {
	const char *name;   /* borrowed from the snapshot */
	uint64_t cpu_nanocores;
	uint64_t mem_bytes;
};

/*
 * Pod usage as metrics-server serves it: ERR_NOTFOUND unless every
 * container of the pod has two points.  On 0, *containers points into the
 * snapshot (borrowed; valid while the snapshot is held), sorted by
 * container name; *n may be 0 (all containers failed the rate check);
 * *time is the container with the earliest newer timestamp (all zero when
 * *n is 0: Go's zero TimeInfo, rendered as "timestamp":null).
 */
int store_pod_usage(const struct store_snapshot *snap, const char *ns, const char *pod,
		    const struct store_container_usage **containers, size_t *n,
		    struct store_usage *time);

#endif
