/*
 * tindex.c - a snapshot's index of its targets by the value of one target
 * label (e.g. namespace), so a query for one namespace's pods visits that
 * namespace's targets instead of testing every target of the store.
 *
 * Built by the first reader that asks for the label (under the snapshot's
 * lock), then read lock-free; at most SERIES__TINDEX_MAX labels per
 * snapshot.  A snapshot the writer changes in place has no reader, so it
 * simply drops its indexes (series__tindex_drop); a copy starts without.
 * The values are borrowed from the blocks' target label sets, which the
 * snapshot keeps alive.
 */
#include "series/series_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"

struct entry {
	uint64_t hash;  /* of the value */
	uint32_t k;     /* block position in the snapshot */
	uint32_t next1; /* next entry of the bucket + 1, in ascending k; 0 = none */
};

struct series__tindex {
	char *label;
	size_t mask;        /* buckets - 1 (a power of two) */
	uint32_t *head1;    /* per bucket: its first entry + 1 */
	struct entry *e;
	uint32_t *without;  /* blocks without the label among their target labels, ascending */
	size_t nwithout;
};

static uint64_t value_hash(const char *v)
{
	return hash_str(HASH_FNV_OFFSET, v);
}

static struct series__tindex *build(const struct series_snapshot *snap, const char *label)
{
	struct series__tindex *x = xcalloc(1, sizeof(*x));
	size_t buckets = 16, ne = 0;

	while (buckets < snap->n)
		buckets *= 2;
	x->label = xstrdup(label);
	x->mask = buckets - 1;
	x->head1 = xcalloc(buckets, sizeof(*x->head1));
	x->e = xmalloc((snap->n ? snap->n : 1) * sizeof(*x->e));
	x->without = xmalloc((snap->n ? snap->n : 1) * sizeof(*x->without));
	/* from the last block down, each entry put at its bucket's front: the
	 * chains come out in ascending k */
	for (size_t k = snap->n; k-- > 0;) {
		const struct series__block *b = snap->blocks[k];
		const char *v = b ? series__label_get(&b->target->labels, label) : NULL;
		size_t bucket;

		if (!b)
			continue;
		if (!v) {
			x->without[x->nwithout++] = (uint32_t)k;
			continue;
		}
		x->e[ne] = (struct entry){ value_hash(v), (uint32_t)k, 0 };
		bucket = x->e[ne].hash & x->mask;
		x->e[ne].next1 = x->head1[bucket];
		x->head1[bucket] = (uint32_t)++ne;
	}
	/* without[] was filled from the end */
	for (size_t i = 0, j = x->nwithout; i + 1 < j; i++, j--) {
		uint32_t t = x->without[i];

		x->without[i] = x->without[j - 1];
		x->without[j - 1] = t;
	}
	return x;
}

static void index_free(struct series__tindex *x)
{
	free(x->label);
	free(x->head1);
	free(x->e);
	free(x->without);
	free(x);
}

/* The index of label in snap, built when missing; NULL when the snapshot
 * has indexes for SERIES__TINDEX_MAX other labels already. */
static const struct series__tindex *index_of(struct series_snapshot *snap, const char *label)
{
	struct series__tindex *x;
	size_t i;

	for (i = 0; i < SERIES__TINDEX_MAX; i++) {
		x = atomic_load_explicit(&snap->tindex[i], memory_order_acquire);
		if (!x)
			break;
		if (strcmp(x->label, label) == 0)
			return x;
	}
	if (i == SERIES__TINDEX_MAX)
		return NULL;
	pthread_mutex_lock(&snap->tindex_mu);
	for (i = 0; i < SERIES__TINDEX_MAX; i++) { /* another reader may have built it */
		x = atomic_load_explicit(&snap->tindex[i], memory_order_acquire);
		if (!x || strcmp(x->label, label) == 0)
			break;
	}
	if (i < SERIES__TINDEX_MAX && !x) {
		x = build(snap, label);
		atomic_store_explicit(&snap->tindex[i], x, memory_order_release);
	}
	pthread_mutex_unlock(&snap->tindex_mu);
	return i < SERIES__TINDEX_MAX ? x : NULL;
}

size_t series__tindex_lookup(const struct series_snapshot *snap, const char *label,
			     const char *value, uint32_t **out)
{
	/* the index is a cache: building it does not change what snap shows */
	const struct series__tindex *x = index_of((struct series_snapshot *)snap, label);
	uint64_t h = value_hash(value);
	uint32_t *ks;
	size_t n = 0, w = 0;
	uint32_t e1;

	if (!x)
		return SIZE_MAX;
	ks = xmalloc((snap->n ? snap->n : 1) * sizeof(*ks));
	/* the matching chain entries and the blocks without the label, merged in
	 * ascending k (the order of a full scan) */
	for (e1 = x->head1[h & x->mask]; e1; e1 = x->e[e1 - 1].next1) {
		const struct entry *e = &x->e[e1 - 1];

		if (e->hash != h)
			continue;
		while (w < x->nwithout && x->without[w] < e->k)
			ks[n++] = x->without[w++];
		ks[n++] = e->k;
	}
	while (w < x->nwithout)
		ks[n++] = x->without[w++];
	*out = ks;
	return n;
}

void series__tindex_drop(struct series_snapshot *snap)
{
	for (size_t i = 0; i < SERIES__TINDEX_MAX; i++) {
		struct series__tindex *x = atomic_load_explicit(&snap->tindex[i], memory_order_relaxed);

		if (x)
			index_free(x);
		atomic_store_explicit(&snap->tindex[i], NULL, memory_order_relaxed);
	}
}
