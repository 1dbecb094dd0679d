/*
 * store_int.h - declarations shared inside store/ only.
 *
 *   strpool   interned strings in arena chunks (no malloc per string)
 *   idxtab    open-addressing hash index: hash -> entry number
 *   snapshot  immutable result of store_apply(): last/prev points and the
 *             servable usages, looked up by hash
 *   batch     one scrape round, written straight into the arrays of the
 *             snapshot it becomes (no second copy of the round)
 *
 * Memory is recycled across rounds: when store_apply() drops the last
 * reference of the snapshot it replaced, that snapshot's arrays, indexes
 * and string chunks become the store's spare, and the next
 * store_batch_begin() fills them again, so a round like the last one
 * allocates nothing and touches no fresh page.
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_MAX_ENTRIES (UINT32_MAX / 2)  /* indexes are uint32 */
#define STORE_MAX_POD_CONTAINERS UINT16_MAX

/* ---- allocation ----------------------------------------------------------- */

/* Every array, index and string chunk of store/ comes from store__alloc /
 * store__realloc (xmalloc's policy); the counter lets tests check that a
 * steady round allocates nothing. */
extern atomic_size_t store__fresh_allocs;
void *store__alloc(size_t n);
void *store__realloc(void *p, size_t n);
/* arr (elements of `size` bytes, capacity *cap), grown to hold `need`. */
void *store__reserve(void *arr, size_t *cap, size_t need, size_t size);

/* ---- hashing ------------------------------------------------------------ */

/* FNV-1a 64; store__hash_pod() hashes "ns" NUL "pod" as one key. */
uint64_t store__hash_str(const char *s);
uint64_t store__hash_pod(const char *ns, const char *pod);

/* ---- idxtab: hash -> uint32 entry index --------------------------------- */

/* 8 bytes a slot: the low 32 bits of the hash place the slot and filter
 * the comparisons; the entry decides equality. */
struct idxtab_slot {
	uint32_t hash;
	uint32_t idx1;   /* entry index + 1; 0 = empty */
};

struct idxtab {
	struct idxtab_slot *slots;
	size_t cap;      /* power of two or 0 */
	size_t n;
};

/* Compares the caller's key with entry idx. */
typedef bool (*idxtab_eq_fn)(const void *ctx, uint32_t idx, const void *key);

void store__idxtab_init(struct idxtab *t, size_t expected);
/* Empties t, keeping its slots unless they are far more than `expected`
 * needs (or too few: then it is sized anew). */
void store__idxtab_reset(struct idxtab *t, size_t expected);
void store__idxtab_clear(struct idxtab *t);
/* Entry index for key, or -1. */
int64_t store__idxtab_find(const struct idxtab *t, uint64_t hash, idxtab_eq_fn eq, const void *ctx,
		    const void *key);
/* Adds idx under hash (the caller checked it is absent). */
void store__idxtab_insert(struct idxtab *t, uint64_t hash, uint32_t idx);
/* The entry for key if there is one; else adds idx under hash and returns
 * -1 (one probe sequence instead of a find and an insert). */
int64_t store__idxtab_find_or_insert(struct idxtab *t, uint64_t hash, idxtab_eq_fn eq, const void *ctx,
			      const void *key, uint32_t idx);

/* ---- strpool: interned strings --------------------------------------- */

struct strpool_chunk;

struct strpool {
	struct strpool_chunk *chunks;   /* first chunk; reused in order */
	struct strpool_chunk *cur;      /* the chunk being filled */
	const char **strs;              /* interned strings, index = id */
	size_t n, cap;
	struct idxtab index;
};

/* An empty pool; its index sized for about `expected` interned strings. */
void store__strpool_init_sized(struct strpool *p, size_t expected);
/* Forgets every string, keeping the chunks, array and index for reuse. */
void store__strpool_reset(struct strpool *p, size_t expected);
/* The pool's copy of s (same pointer for equal strings); never NULL. */
const char *store__strpool_intern(struct strpool *p, const char *s, uint64_t hash);
void store__strpool_clear(struct strpool *p);
/* A copy of s in the pool's storage, not indexed (for strings known to be
 * distinct, such as pod names: they need no lookup). */
const char *store__strpool_copy(struct strpool *p, const char *s);

/* ---- snapshot --------------------------------------------------------- */

/* A point as kept: the memory of a container's newest point lives in its
 * usage entry (memory is served from the newest point only). */
struct snap_point {
	int64_t ts_ns, start_ns;
	uint64_t cpu_ns;
};

struct snap_node {
	const char *name;
	uint64_t hash;
	struct snap_point last, prev;
	uint64_t mem_bytes;          /* of last */
	bool has_prev;
	bool servable;               /* has_prev and the rate check passed */
	struct store_usage usage;
};

/* A container's points; its name, rate and memory are in usage[] at the
 * same index, so a pod's usages are served from usage[] directly. */
struct snap_ctr {
	struct snap_point last, prev;
};

/* link[] of a container while the batch fills: next container of the same
 * pod + 1 (0 = end); after the build, flags: */
#define CTR_HAS_PREV 1u
#define CTR_RATE_FAILED 2u

enum {
	POD_IN_PREV = 1,     /* some container has prev */
	POD_SERVABLE = 2,    /* every container has prev */
	POD_SPILLED = 4,     /* some rate check failed: usages in spill[] */
};

struct snap_pod {
	const char *ns, *name;
	uint32_t first;      /* containers [first, first+count), sorted by name
			      * (while filling: the newest container + 1) */
	uint32_t used;       /* served usages: usage[used] or spill[used] */
	uint16_t count, nused;
	uint16_t time_off;   /* container first+time_off gives the pod's time */
	uint8_t flags;
};

struct store_snapshot {
	atomic_long refs;
	struct strpool pool;             /* owns every name below */
	struct snap_node *nodes;
	size_t nnodes, cap_nodes;
	struct snap_pod *pods;
	size_t npods, cap_pods;
	struct snap_ctr *ctrs;
	struct store_container_usage *usage;
	uint32_t *link;
	size_t nctrs, cap_ctrs;
	struct store_container_usage *spill;  /* usages of POD_SPILLED pods */
	size_t nspill, cap_spill;
	struct idxtab node_index, pod_index;
	size_t node_prev, pod_prev, container_prev;
};

/* Lookups (NULL when absent). */
const struct snap_node *store__snapshot_find_node(const struct store_snapshot *s, const char *name,
					   uint64_t hash);
const struct snap_pod *store__snapshot_find_pod(const struct store_snapshot *s, const char *ns,
					 const char *pod, uint64_t hash);
/* An empty snapshot with one reference, with room for about this many
 * entries. */
struct store_snapshot *store__snapshot_new_sized(size_t nodes, size_t pods, size_t ctrs);
/* Empties s (refs back to 1) for another round of about this many
 * entries, keeping its memory. */
void store__snapshot_reset(struct store_snapshot *s, size_t nodes, size_t pods, size_t ctrs);
/* Whether s holds far more memory than a round of this size needs. */
bool store__snapshot_oversized(const struct store_snapshot *s, size_t nodes, size_t pods, size_t ctrs);
void store__snapshot_free(struct store_snapshot *s);

/* ---- batch ---------------------------------------------------------------- */

#define BATCH_RECENT 8

struct store_batch {
	struct store_snapshot *snap;     /* filled in place */
	uint32_t last_ctr_pod;           /* pod of the newest container + 1 */
	bool scattered;                  /* some pod's containers are not adjacent */
	/* the last few namespaces and container names interned: they repeat
	 * from one container to the next, so most never reach the pool index */
	const char *recent[BATCH_RECENT];
	unsigned recent_next;
};

/* A batch filling snap (taken over). */
struct store_batch *store__batch_wrap(struct store_snapshot *snap);
/* The snapshot of b, its containers grouped by pod and sorted by name;
 * frees the batch shell. */
struct store_snapshot *store__batch_finish(struct store_batch *b);

/* ---- rules and rates (apply.c, rate.c) ------------------------------------ */

/* Applies the storage rules to s, a finished batch, given the previous
 * snapshot `old`: chooses every prev and computes the rates. */
void store__build_snapshot(struct store_snapshot *s, const struct store_snapshot *old,
			  int64_t resolution_ns);

/* resourceUsage(last, prev), mem_bytes being last's memory: 0 and *out,
 * or ERR_INVAL with a static reason in *why on a decrease of the start
 * time or of the cumulative CPU (the point is then skipped). */
int store__rate(const struct snap_point *last, uint64_t mem_bytes, const struct snap_point *prev,
	       struct store_usage *out, const char **why);

#endif
