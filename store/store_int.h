/*
 * store_int.h - declarations shared inside store/ only.
 *
 *   strpool   interned strings in arena chunks (no malloc per string)
 *   idxtab    open-addressing hash index: hash -> entry number
 *   batch     one scrape round, keyed by interned names
 *   snapshot  immutable result of store_apply(): last/prev points and the
 *             servable usages, looked up by hash
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* ---- hashing ------------------------------------------------------------ */

/* FNV-1a 64; store_hash_pod() hashes "ns" NUL "pod" as one key. */
uint64_t store_hash_str(const char *s);
uint64_t store_hash_pod(const char *ns, const char *pod);

/* ---- idxtab: hash -> uint32 entry index --------------------------------- */

struct idxtab_slot {
	uint64_t hash;
	uint32_t idx1;   /* entry index + 1; 0 = empty */
};

struct idxtab {
	struct idxtab_slot *slots;
	size_t cap;      /* power of two or 0 */
	size_t n;
};

/* Compares the caller's key with entry idx. */
typedef bool (*idxtab_eq_fn)(const void *ctx, uint32_t idx, const void *key);

void idxtab_init(struct idxtab *t, size_t expected);
void idxtab_release(struct idxtab *t);
/* Entry index for key, or -1. */
int64_t idxtab_find(const struct idxtab *t, uint64_t hash, idxtab_eq_fn eq, const void *ctx,
		    const void *key);
/* Adds idx under hash (the caller checked it is absent). */
void idxtab_insert(struct idxtab *t, uint64_t hash, uint32_t idx);

/* ---- strpool: interned strings --------------------------------------- */

struct strpool_chunk;

struct strpool {
	struct strpool_chunk *chunks;
	const char **strs;   /* interned strings, index = id */
	size_t n, cap;
	struct idxtab index;
};

void strpool_init(struct strpool *p);
/* As strpool_init, with an index sized for about `expected` strings. */
void strpool_init_sized(struct strpool *p, size_t expected);
/* The pool's copy of s (same pointer for equal strings); never NULL. */
const char *strpool_intern(struct strpool *p, const char *s, uint64_t hash);
void strpool_release(struct strpool *p);
/* A copy of s in the pool's storage, not indexed (for strings known to be
 * distinct, such as pod names: they need no lookup). */
const char *strpool_copy(struct strpool *p, const char *s);
/* Moves the strings of src into dst, dropping src's lookup index (dst can
 * no longer intern; its strings stay valid until strpool_release). */
void strpool_move_frozen(struct strpool *dst, struct strpool *src);

/* ---- batch ---------------------------------------------------------------- */

struct batch_node {
	const char *name;
	uint64_t hash;
	struct store_point point;
};

struct batch_container {
	const char *name;
	struct store_point point;
	uint32_t pod;        /* owning batch_pod */
	uint32_t next;       /* next container of the pod + 1, 0 = end */
};

struct batch_pod {
	const char *ns, *name;
	uint64_t hash;
	uint32_t first;      /* first container + 1 */
	uint32_t count;
};

#define BATCH_RECENT 8

struct store_batch {
	struct strpool pool;
	struct batch_node *nodes;
	size_t nnodes, cap_nodes;
	struct batch_pod *pods;
	size_t npods, cap_pods;
	struct batch_container *containers;
	size_t ncontainers, cap_containers;
	struct idxtab node_index, pod_index;
	/* the last few namespaces and container names interned: they repeat
	 * from one container to the next, so most never reach the pool index */
	struct { const char *s; uint64_t hash; } recent[BATCH_RECENT];
	unsigned recent_next;
};

/* ---- snapshot --------------------------------------------------------- */

struct snap_node {
	const char *name;
	uint64_t hash;
	struct store_point last, prev;
	bool has_prev;
	bool servable;           /* has_prev and the rate check passed */
	struct store_usage usage;
};

struct snap_container {
	const char *name;
	struct store_point last, prev;
	bool has_prev;
};

struct snap_pod {
	const char *ns, *name;
	uint64_t hash;
	uint32_t first, count;           /* into containers[], sorted by name */
	uint32_t first_used, nused;      /* into used[] (rate check passed) */
	bool in_prev;                    /* some container has prev */
	bool servable;                   /* every container has prev */
	struct store_usage time;         /* earliest used container */
};

struct store_snapshot {
	atomic_long refs;
	struct strpool pool;             /* owns every name below */
	struct snap_node *nodes;
	size_t nnodes;
	struct snap_pod *pods;
	size_t npods;
	struct snap_container *containers;
	size_t ncontainers;
	struct store_container_usage *used;
	size_t nused;
	struct idxtab node_index, pod_index;
	size_t node_prev, pod_prev, container_prev;
};

/* Lookups (NULL when absent). */
const struct snap_node *snapshot_find_node(const struct store_snapshot *s, const char *name,
					   uint64_t hash);
const struct snap_pod *snapshot_find_pod(const struct store_snapshot *s, const char *ns,
					 const char *pod, uint64_t hash);
/* An empty snapshot with one reference. */
struct store_snapshot *snapshot_new_empty(void);

/* ---- rules and rates (apply.c, rate.c) ------------------------------------ */

/* Builds the snapshot that follows `old` given batch b (consumes b). */
struct store_snapshot *store_build_snapshot(const struct store_snapshot *old,
					    struct store_batch *b, int64_t resolution_ns);

/* resourceUsage(last, prev): 0 and *out, or ERR_INVAL with a static
 * reason in *why on a decrease of the start time or of the cumulative CPU
 * (the point is then skipped). */
int store_rate(const struct store_point *last, const struct store_point *prev,
	       struct store_usage *out, const char **why);

#endif
