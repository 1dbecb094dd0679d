/*
 * series_int.h - declarations shared inside series/ only.
 *
 *   labelset  one series' (or one target's) labels in one allocation,
 *             reference counted: the writer's slot and every block that
 *             shows the series hold a reference
 *   map       open-addressing index: 32-bit hash -> entry number
 *   block     one target's immutable published state: per slot a label
 *             set and a ring of points; the name index
 *   target    the writer's state of a target: slots, their index, the
 *             current and spare blocks, the open session
 *
 * Ring positions are global: the point of sequence number q (the q-th
 * point ever appended to the series) sits at q % ring in every block of
 * the target, so bringing the block two commits old up to date copies only
 * the points it lacks (usually one per series).
 */
#ifndef SERIES_INT_H
#define SERIES_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include "series/series.h"

/* ---- allocation --------------------------------------------------------- */

/* Counted allocations (xmalloc's policy): tests check that a steady
 * scrape allocates nothing; bytes counts live blocks and label sets. */
extern atomic_size_t series__fresh_allocs;
extern atomic_size_t series__bytes;
void *series__alloc(size_t n);
void *series__realloc(void *p, size_t n);
/* arr (elements of `size` bytes, capacity *cap), grown to hold `need`. */
void *series__reserve(void *arr, size_t *cap, size_t need, size_t size);

/* ---- label sets --------------------------------------------------------- */

struct series__labelset {
	atomic_long refs;
	uint64_t hash;
	const char *name;     /* __name__'s value, or the target key */
	size_t bytes;         /* of the allocation */
	struct labels labels; /* items and strings in the same allocation */
};

/* Hash of sorted items (key NUL value NUL ...). */
uint64_t series__labels_hash(const struct label *items, size_t n);
/* A set with one reference; items sorted, keys unique; name borrowed
 * from them (or copied when it is the target key: name_is_key). */
struct series__labelset *series__labelset_new(const char *name, bool name_is_key,
					     const struct label *items, size_t n, uint64_t hash);
void series__labelset_ref(struct series__labelset *ls);
void series__labelset_unref(struct series__labelset *ls);
bool series__labelset_eq(const struct series__labelset *ls, const struct label *items, size_t n);
/* Value of key in sorted labels, or NULL. */
const char *series__label_get(const struct labels *l, const char *key);

/* ---- map ---------------------------------------------------------------- */

struct series__map_slot {
	uint32_t hash;
	uint32_t idx1; /* entry + 1; 0 = empty */
};

struct series__map {
	struct series__map_slot *slots;
	size_t cap, n; /* cap: power of two or 0 */
};

typedef bool (*series__eq_fn)(const void *ctx, uint32_t idx, const void *key);

void series__map_clear(struct series__map *m);
int64_t series__map_find(const struct series__map *m, uint64_t hash, series__eq_fn eq,
			 const void *ctx, const void *key);
void series__map_insert(struct series__map *m, uint64_t hash, uint32_t idx);
/* Removes the entry idx filed under hash; renumber files entry `from` as `to`. */
void series__map_remove(struct series__map *m, uint64_t hash, uint32_t idx);
void series__map_renumber(struct series__map *m, uint64_t hash, uint32_t from, uint32_t to);

/* ---- blocks ------------------------------------------------------------- */

struct series__slot {
	struct series__labelset *ls; /* NULL: a hole */
	uint64_t seq;                /* points ever appended */
	uint32_t n;                  /* points kept: sequence numbers [seq - n, seq) */
};

struct series__name {
	const char *name;
	uint32_t first, count; /* in order[] */
};

struct series__block {
	atomic_long refs;
	struct series__labelset *target; /* name: the key; labels: target labels */
	uint32_t ring;
	size_t nslots, cap_slots;
	struct series__slot *slots;
	struct series_point *points;     /* cap_slots * ring */
	uint64_t layout;                 /* the writer's layout the index was built for */
	struct series__name *names;
	size_t nnames, cap_names;
	uint32_t *order;                 /* slots grouped by name */
	size_t norder, cap_order;
	size_t nseries, npoints, bytes;
};

struct series__block *series__block_new(struct series__labelset *target, uint32_t ring);
void series__block_free(struct series__block *b);
void series__block_unref(struct series__block *b);
/* Room for n slots (new ones are holes). */
void series__block_reserve(struct series__block *b, size_t n);
/* Gives back memory when b has far more slots than its nslots. */
void series__block_shrink(struct series__block *b);
/* Makes b (older, or new) show what cur shows, slot by slot, for the
 * first n slots (cur may be NULL: all holes). */
void series__block_sync(struct series__block *b, const struct series__block *cur, size_t n);
/* Sets slot i to a new series with no point. */
void series__block_set(struct series__block *b, size_t i, struct series__labelset *ls);
/* Empties slot i. */
void series__block_drop(struct series__block *b, size_t i);
/* The newest point of slot i, or NULL. */
const struct series_point *series__block_newest(const struct series__block *b, size_t i);
/* Appends p to slot i (the caller checked the order). */
void series__block_append(struct series__block *b, size_t i, struct series_point p);
/* Drops points older than cutoff from slot i; returns the points left. */
uint32_t series__block_trim(struct series__block *b, size_t i, int64_t cutoff);
/* Rebuilds the name index and the counts. */
void series__block_index(struct series__block *b);
/* Points of slot i with t in [from, to]: a pointer into the ring, or into
 * scratch (ring points) when they wrap. */
size_t series__block_range(const struct series__block *b, size_t i, int64_t from, int64_t to,
			   struct series_point *scratch, const struct series_point **out);

/* ---- snapshots, targets, the store -------------------------------------- */

#define SERIES__TINDEX_MAX 4

struct series__tindex;

struct series_snapshot {
	atomic_long refs;
	size_t n, cap;
	struct series__block **blocks;
	/* indexes of the targets by a target label's value (tindex.c) */
	struct series__tindex *_Atomic tindex[SERIES__TINDEX_MAX];
	pthread_mutex_t tindex_mu; /* builds them */
};

/* The positions (ascending) of the blocks of snap that may hold series
 * with label = value: those whose target labels have it, and those whose
 * target labels lack the label; a new array in *out (caller frees) and
 * its length.  SIZE_MAX (nothing in *out) when snap cannot index another
 * label.  Any reader holding snap. */
size_t series__tindex_lookup(const struct series_snapshot *snap, const char *label,
			     const char *value, uint32_t **out);
/* Frees snap's indexes: the writer, before changing snap in place (no
 * reader holds it), and on freeing it. */
void series__tindex_drop(struct series_snapshot *snap);

struct series__pending {
	uint32_t slot;
	struct series_point p;
};

#define SERIES__TRACKED 1u  /* in the last successful scrape, without a timestamp */
#define SERIES__TS 2u       /* sampled with a timestamp in this scrape */
#define SERIES__FRESH 4u    /* created by the open scrape */

struct series__wslot {
	struct series__labelset *ls; /* NULL: free */
	uint32_t gen;                /* the scrape that last saw it */
	uint8_t flags;
};

struct series_scrape {
	struct series *store;
	struct series__target *t;
	int64_t time_ms;
	uint32_t gen;
	bool open, failed;
	int fail_kind;               /* what failed it (scrape.c) */
	size_t would_have;           /* the target's series if it succeeds */
	size_t fail_n, fail_limit;   /* the error's N (later samples counted) and limit */
	struct series__pending *pend;
	size_t npend, cap_pend;
	uint32_t *fresh;
	size_t nfresh, cap_fresh;
	struct label *tmp;          /* the sample's merged labels */
	size_t cap_tmp;
	char *names;                /* exported_ names */
	size_t cap_names;
	char *err;                  /* FAIL_LABELS' text (SERIES__ERR_MAX), made on the first */
};

#define SERIES__ERR_MAX 512

struct series__target {
	struct series__labelset *info;
	size_t pos;                  /* in targets[] and the snapshot */
	struct series__block *cur;   /* borrowed from the current snapshot */
	struct series__block *spare; /* the writer's alone */
	struct series__wslot *slots;
	size_t nslots, cap_slots, nlive;
	uint32_t *free_slots;
	size_t nfree, cap_free;
	struct series__map index;
	uint64_t layout;
	int64_t newest_ms;
	bool removed;
	struct series_scrape sc;
};

struct series {
	pthread_mutex_t mu; /* guards cur (swap, acquire) */
	struct series_snapshot *cur;
	struct series_options opt;
	uint32_t ring;
	struct series__target **targets;
	size_t ntargets, cap_targets, nremoved;
	struct series__map tindex;
	size_t nseries;     /* the writer's live series, every target */
	uint32_t gen;
	atomic_size_t refusals, out_of_order, duplicates;
	atomic_size_t st_series, st_points;
};

/* Ends sc's scrape (store.c): ok false = failed (samples dropped). */
void series__commit(struct series_scrape *sc, bool ok);
/* Publishes t's new block b (t->cur becomes b). */
void series__publish(struct series *s, struct series__target *t, struct series__block *b);
/* Deletes target t (writer state, its slot in the snapshot). */
void series__target_delete(struct series *s, struct series__target *t);
/* The writer's target for key, or NULL. */
struct series__target *series__target_find(const struct series *s, const char *key, uint64_t hash);

#endif
