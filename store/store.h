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

struct store_batch *store_batch_new(void);
/* As store_batch_new, sized for about this many entries (e.g. the last
 * round's counts) so a round does not regrow its arrays and indexes. */
struct store_batch *store_batch_new_sized(size_t nodes, size_t pods, size_t containers);
size_t store_batch_container_count(const struct store_batch *b);
/* Strings are copied (interned); first point for a key wins ("duplicate"
 * points are logged and ignored, as metrics-server). */
void store_batch_add_node(struct store_batch *b, const char *node, const struct store_point *p);
void store_batch_add_container(struct store_batch *b, const char *ns, const char *pod,
			       const char *container, const struct store_point *p);
size_t store_batch_node_count(const struct store_batch *b);
size_t store_batch_pod_count(const struct store_batch *b);
/* Frees a batch that was not applied. */
void store_batch_free(struct store_batch *b);

/* ---- the store ------------------------------------------------------- */

struct store;

/* resolution_ns = --metric-resolution (the fresh-container upper bound).
 * Free with store_free() once no snapshot is in use by the caller's
 * threads (snapshots acquired earlier stay valid until released). */
struct store *store_new(int64_t resolution_ns);
/*
 * The next round's batch, sized like the last round and filled on the
 * memory of a snapshot no reader holds any more, so that a round like the
 * last one allocates nothing.  Apply it (or free it) like any batch.
 */
struct store_batch *store_batch_begin(struct store *s);
/* Takes ownership of b (frees it).  Publishes a new snapshot.  Calls are
 * serialised; the build runs without blocking readers. */
void store_apply(struct store *s, struct store_batch *b);
void store_free(struct store *s);

/* ---- snapshots: immutable, reference counted ------------------------- */

struct store_snapshot;

/* A new reference to the current snapshot; never NULL. */
struct store_snapshot *store_acquire(struct store *s);
void store_release(struct store_snapshot *snap);

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
