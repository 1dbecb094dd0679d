/*
 * store.c - the store, its snapshots and the commit of a scrape.
 *
 * A snapshot is an array of per-target block pointers.  The writer changes
 * the current snapshot in place, under the swap lock, when no reader holds
 * it (its count is 1: acquiring needs that lock); otherwise it copies the
 * array (taking a reference on each block), changes the copy and swaps it
 * in.  A block the writer unlinks with the last reference becomes its
 * target's spare, which the next commit of the target fills, so a scrape
 * like the last one allocates nothing.
 */
#include "series/series_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define MAX_RING 65536u
#define DEFAULT_LABEL_BYTES 16384u

/* ---- snapshots ---------------------------------------------------------- */

static void snapshot_free(struct series_snapshot *snap)
{
	for (size_t i = 0; i < snap->n; i++)
		series__block_unref(snap->blocks[i]);
	series__tindex_drop(snap);
	pthread_mutex_destroy(&snap->tindex_mu);
	free(snap->blocks);
	free(snap);
}

static struct series_snapshot *snapshot_new(void)
{
	struct series_snapshot *snap = xcalloc(1, sizeof(*snap));

	atomic_init(&snap->refs, 1);
	pthread_mutex_init(&snap->tindex_mu, NULL);
	return snap;
}

void series_snapshot_unref(struct series_snapshot *snap)
{
	if (snap && atomic_fetch_sub_explicit(&snap->refs, 1, memory_order_acq_rel) == 1)
		snapshot_free(snap);
}

struct series_snapshot *series_acquire(struct series *s)
{
	struct series_snapshot *snap;

	pthread_mutex_lock(&s->mu);
	snap = s->cur;
	atomic_fetch_add_explicit(&snap->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&s->mu);
	return snap;
}

enum edit { EDIT_SET, EDIT_APPEND, EDIT_REMOVE };

/* One change to a snapshot only the writer sees; the block it unlinks
 * (its reference is the caller's now), or NULL. */
static struct series__block *edit(struct series_snapshot *snap, enum edit op, size_t pos,
				  struct series__block *b)
{
	struct series__block *old = NULL;

	switch (op) {
	case EDIT_SET:
		old = snap->blocks[pos];
		snap->blocks[pos] = b;
		break;
	case EDIT_APPEND:
		snap->blocks = series__reserve(snap->blocks, &snap->cap, snap->n + 1, sizeof(*snap->blocks));
		snap->blocks[snap->n++] = b;
		break;
	case EDIT_REMOVE:
		old = snap->blocks[pos];
		snap->blocks[pos] = snap->blocks[snap->n - 1];
		snap->n--;
		break;
	}
	return old;
}

/* Applies op to the current snapshot, in place or on a copy (see above). */
static struct series__block *publish_edit(struct series *s, enum edit op, size_t pos,
					  struct series__block *b)
{
	struct series_snapshot *copy, *old;
	struct series__block *out;

	pthread_mutex_lock(&s->mu);
	if (atomic_load_explicit(&s->cur->refs, memory_order_acquire) == 1) {
		series__tindex_drop(s->cur);
		out = edit(s->cur, op, pos, b);
		pthread_mutex_unlock(&s->mu);
		return out;
	}
	pthread_mutex_unlock(&s->mu);
	/* only the writer changes cur: reading it unlocked is safe here */
	old = s->cur;
	copy = snapshot_new();
	copy->cap = old->n + 1;
	copy->blocks = series__alloc(copy->cap * sizeof(*copy->blocks));
	copy->n = old->n;
	for (size_t i = 0; i < old->n; i++) {
		copy->blocks[i] = old->blocks[i];
		if (copy->blocks[i])
			atomic_fetch_add_explicit(&copy->blocks[i]->refs, 1, memory_order_relaxed);
	}
	out = edit(copy, op, pos, b);
	pthread_mutex_lock(&s->mu);
	s->cur = copy;
	pthread_mutex_unlock(&s->mu);
	series_snapshot_unref(old);
	return out;
}

static void count_block(struct series *s, const struct series__block *b, bool add)
{
	if (!b)
		return;
	if (add) {
		atomic_fetch_add_explicit(&s->st_series, b->nseries, memory_order_relaxed);
		atomic_fetch_add_explicit(&s->st_points, b->npoints, memory_order_relaxed);
	} else {
		atomic_fetch_sub_explicit(&s->st_series, b->nseries, memory_order_relaxed);
		atomic_fetch_sub_explicit(&s->st_points, b->npoints, memory_order_relaxed);
	}
}

void series__publish(struct series *s, struct series__target *t, struct series__block *b)
{
	struct series__block *old;

	if (!b) { /* a new target: an empty place */
		publish_edit(s, EDIT_APPEND, t->pos, NULL);
		return;
	}
	atomic_store_explicit(&b->refs, 1, memory_order_relaxed);
	count_block(s, b, true);
	old = publish_edit(s, EDIT_SET, t->pos, b);
	count_block(s, old, false);
	t->cur = b;
	if (old && atomic_fetch_sub_explicit(&old->refs, 1, memory_order_acq_rel) == 1) {
		series__block_free(t->spare);
		t->spare = old;
	}
}

/* ---- commit --------------------------------------------------------------- */

static void release_slot(struct series *s, struct series__target *t, uint32_t i)
{
	struct series__wslot *ws = &t->slots[i];

	series__map_remove(&t->index, ws->ls->hash, i);
	series__labelset_unref(ws->ls);
	*ws = (struct series__wslot){ NULL, 0, 0 };
	t->free_slots = series__reserve(t->free_slots, &t->cap_free, t->nfree + 1, sizeof(*t->free_slots));
	t->free_slots[t->nfree++] = i;
	t->nlive--;
	s->nseries--;
	t->layout++;
}

/* Forgets the trailing free slots, and gives memory back when the target
 * holds far more than its slots need (a refused scrape's, a shrunk one's). */
static void target_shrink(struct series__target *t)
{
	size_t n = t->nslots, k = 0, cap = 1;

	while (n && !t->slots[n - 1].ls)
		n--;
	if (n == t->nslots)
		return;
	t->nslots = n;
	for (size_t i = 0; i < t->nfree; i++)
		if (t->free_slots[i] < n)
			t->free_slots[k++] = t->free_slots[i];
	t->nfree = k;
	while (cap < n)
		cap *= 2;
	if (t->cap_slots <= 4 * cap)
		return;
	t->cap_slots = cap;
	t->slots = series__realloc(t->slots, cap * sizeof(*t->slots));
	t->cap_free = k;
	t->free_slots = series__realloc(t->free_slots, (k ? k : 1) * sizeof(*t->free_slots));
	series__map_clear(&t->index);
	for (size_t i = 0; i < n; i++)
		if (t->slots[i].ls)
			series__map_insert(&t->index, t->slots[i].ls->hash, (uint32_t)i);
}

void series__commit(struct series_scrape *sc, bool ok)
{
	struct series *s = sc->store;
	struct series__target *t = sc->t;
	struct series__block *b = t->spare;
	int64_t cutoff = sc->time_ms - s->opt.window_ms, newest_ms = INT64_MIN;
	size_t nseries = 0, npoints = 0;

	if (!ok) /* nothing of a failed scrape is kept */
		for (size_t k = 0; k < sc->nfresh; k++)
			release_slot(s, t, sc->fresh[k]);
	target_shrink(t);
	t->spare = NULL;
	if (!b)
		b = series__block_new(t->info, s->ring);
	if (b->target != t->info) {
		series__labelset_ref(t->info);
		series__labelset_unref(b->target);
		b->target = t->info;
	}
	series__block_sync(b, t->cur, t->nslots);
	for (size_t k = 0; ok && k < sc->nfresh; k++)
		series__block_set(b, sc->fresh[k], t->slots[sc->fresh[k]].ls);
	for (size_t k = 0; ok && k < sc->npend; k++) {
		const struct series__pending *p = &sc->pend[k];
		const struct series_point *nw = series__block_newest(b, p->slot);

		if (nw && p->p.t_ms <= nw->t_ms) {
			atomic_fetch_add_explicit(&s->out_of_order, 1, memory_order_relaxed);
			continue;
		}
		series__block_append(b, p->slot, p->p);
	}
	for (size_t i = 0; i < t->nslots; i++) {
		struct series__wslot *ws = &t->slots[i];
		bool seen = ok && ws->gen == sc->gen;
		const struct series_point *nw;

		if (!ws->ls)
			continue;
		if (!seen && (ws->flags & SERIES__TRACKED)) {
			/* in the last successful scrape, not in this one: stale */
			nw = series__block_newest(b, i);
			if (!nw || (!prom_is_stale(nw->v) && nw->t_ms < sc->time_ms))
				series__block_append(b, i, (struct series_point){ sc->time_ms,
										  prom_stale_nan() });
		}
		ws->flags = seen && !(ws->flags & SERIES__TS) ? SERIES__TRACKED : 0;
		if (!series__block_trim(b, i, cutoff)) {
			series__block_drop(b, i);
			release_slot(s, t, (uint32_t)i);
			continue;
		}
		nw = series__block_newest(b, i);
		if (nw->t_ms > newest_ms)
			newest_ms = nw->t_ms;
		nseries++;
		npoints += b->slots[i].n;
	}
	target_shrink(t);
	b->nslots = t->nslots; /* the slots past it are holes */
	series__block_shrink(b);
	if (b->layout != t->layout) {
		series__block_index(b);
		b->layout = t->layout;
	}
	b->nseries = nseries;
	b->npoints = npoints;
	t->newest_ms = newest_ms;
	sc->open = false;
	sc->npend = sc->nfresh = 0;
	series__publish(s, t, b);
}

/* ---- targets ------------------------------------------------------------ */

static void target_free(struct series__target *t)
{
	for (size_t i = 0; i < t->nslots; i++)
		series__labelset_unref(t->slots[i].ls);
	free(t->slots);
	free(t->free_slots);
	series__map_clear(&t->index);
	series__block_free(t->spare);
	free(t->sc.pend);
	free(t->sc.fresh);
	free(t->sc.tmp);
	free(t->sc.names);
	free(t->sc.err);
	series__labelset_unref(t->info);
	free(t);
}

void series__target_delete(struct series *s, struct series__target *t)
{
	size_t pos = t->pos, last = s->ntargets - 1;
	struct series__block *old;

	series__map_remove(&s->tindex, hash_str(HASH_FNV_OFFSET, t->info->name),
			   (uint32_t)pos);
	if (pos != last) {
		struct series__target *moved = s->targets[last];

		series__map_renumber(&s->tindex, hash_str(HASH_FNV_OFFSET, moved->info->name),
				     (uint32_t)last, (uint32_t)pos);
		moved->pos = pos;
		s->targets[pos] = moved;
	}
	s->ntargets--;
	old = publish_edit(s, EDIT_REMOVE, pos, NULL);
	count_block(s, old, false);
	series__block_unref(old);
	s->nseries -= t->nlive;
	if (t->removed)
		s->nremoved--;
	target_free(t);
}

int series_target_remove(struct series *s, const char *target_key, int64_t now_ms)
{
	struct series__target *t;

	if (!s || !target_key)
		return ERR_NOTFOUND;
	t = series__target_find(s, target_key, hash_str(HASH_FNV_OFFSET, target_key));
	if (!t)
		return ERR_NOTFOUND;
	if (t->sc.open)
		return ERR_AGAIN;
	/* as a failed scrape at now_ms: every tracked series goes stale */
	t->sc.store = s;
	t->sc.t = t;
	t->sc.time_ms = now_ms;
	t->sc.npend = t->sc.nfresh = 0;
	series__commit(&t->sc, false);
	if (!t->removed) {
		t->removed = true;
		s->nremoved++;
	}
	series_expire(s, now_ms);
	return ERR_OK;
}

void series_expire(struct series *s, int64_t now_ms)
{
	int64_t cutoff = now_ms - s->opt.window_ms;

	for (size_t i = s->ntargets; s->nremoved && i-- > 0;) {
		struct series__target *t = s->targets[i];

		if (t->removed && (!t->nlive || t->newest_ms < cutoff))
			series__target_delete(s, t);
	}
}

/* ---- the store ---------------------------------------------------------- */

struct series *series_new(const struct series_options *o, char *err, size_t errlen)
{
	struct series *s;
	int64_t ring;

	if (!o || o->window_ms <= 0 || o->resolution_ms <= 0) {
		if (err && errlen)
			snprintf(err, errlen, "series: window and resolution must be positive");
		return NULL;
	}
	ring = o->max_points ? (int64_t)o->max_points : o->window_ms / o->resolution_ms + 2;
	if (ring > (int64_t)MAX_RING) {
		if (err && errlen)
			snprintf(err, errlen, "series: %lld points per series, at most %u",
				 (long long)ring, MAX_RING);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	s->opt = *o;
	if (!s->opt.max_label_bytes)
		s->opt.max_label_bytes = DEFAULT_LABEL_BYTES;
	s->ring = (uint32_t)ring;
	s->cur = snapshot_new();
	return s;
}

void series_free(struct series *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ntargets; i++)
		target_free(s->targets[i]);
	free(s->targets);
	series__map_clear(&s->tindex);
	series_snapshot_unref(s->cur);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void series_stats(struct series *s, struct series_stats *out)
{
	pthread_mutex_lock(&s->mu);
	out->targets = s->cur->n;
	pthread_mutex_unlock(&s->mu);
	out->series = atomic_load(&s->st_series);
	out->points = atomic_load(&s->st_points);
	out->bytes = atomic_load(&series__bytes);
	out->refusals = atomic_load(&s->refusals);
	out->out_of_order = atomic_load(&s->out_of_order);
	out->duplicates = atomic_load(&s->duplicates);
}
