/*
 * block.c - a target's published state: per slot a label set and a ring
 * of points, and the index of metric names.  A block is written by the
 * writer while it is private (new, or the spare no snapshot holds), then
 * published and never changed again.
 */
#include "series/series_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"

static void account(struct series__block *b)
{
	size_t bytes = sizeof(*b) + b->cap_slots * (sizeof(*b->slots) + b->ring * sizeof(*b->points)) +
		       b->cap_names * sizeof(*b->names) + b->cap_order * sizeof(*b->order);

	if (bytes > b->bytes)
		atomic_fetch_add_explicit(&series__bytes, bytes - b->bytes, memory_order_relaxed);
	else
		atomic_fetch_sub_explicit(&series__bytes, b->bytes - bytes, memory_order_relaxed);
	b->bytes = bytes;
}

struct series__block *series__block_new(struct series__labelset *target, uint32_t ring)
{
	struct series__block *b = series__alloc(sizeof(*b));

	memset(b, 0, sizeof(*b));
	atomic_init(&b->refs, 1);
	series__labelset_ref(target);
	b->target = target;
	b->ring = ring;
	b->layout = UINT64_MAX;
	account(b);
	return b;
}

void series__block_free(struct series__block *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nslots; i++)
		series__labelset_unref(b->slots[i].ls);
	series__labelset_unref(b->target);
	atomic_fetch_sub_explicit(&series__bytes, b->bytes, memory_order_relaxed);
	free(b->slots);
	free(b->points);
	free(b->names);
	free(b->order);
	free(b);
}

void series__block_unref(struct series__block *b)
{
	if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
		series__block_free(b);
}

void series__block_reserve(struct series__block *b, size_t n)
{
	size_t old = b->cap_slots;

	if (n <= old)
		return;
	b->slots = series__reserve(b->slots, &b->cap_slots, n, sizeof(*b->slots));
	memset(b->slots + old, 0, (b->cap_slots - old) * sizeof(*b->slots));
	b->points = series__realloc(b->points, b->cap_slots * b->ring * sizeof(*b->points));
	account(b);
}

void series__block_shrink(struct series__block *b)
{
	size_t cap = 1;

	while (cap < b->nslots)
		cap *= 2;
	if (b->cap_slots <= 4 * cap)
		return;
	b->cap_slots = cap;
	b->slots = series__realloc(b->slots, cap * sizeof(*b->slots));
	b->points = series__realloc(b->points, cap * b->ring * sizeof(*b->points));
	account(b);
}

static struct series_point *ring_of(const struct series__block *b, size_t i)
{
	return b->points + i * b->ring;
}

void series__block_drop(struct series__block *b, size_t i)
{
	series__labelset_unref(b->slots[i].ls);
	b->slots[i] = (struct series__slot){ NULL, 0, 0 };
}

void series__block_set(struct series__block *b, size_t i, struct series__labelset *ls)
{
	series__labelset_ref(ls);
	series__labelset_unref(b->slots[i].ls);
	b->slots[i] = (struct series__slot){ ls, 0, 0 };
}

void series__block_sync(struct series__block *b, const struct series__block *cur, size_t n)
{
	series__block_reserve(b, n);
	for (size_t i = 0; i < n; i++) {
		const struct series__slot *c = cur && i < cur->nslots ? &cur->slots[i] : NULL;
		struct series__slot *d = &b->slots[i];
		struct series_point *dst = ring_of(b, i);
		const struct series_point *src;
		uint64_t from;

		if (!c || !c->ls) {
			if (d->ls)
				series__block_drop(b, i);
			continue;
		}
		from = c->seq - c->n;
		if (d->ls == c->ls) {
			/* same series, older: its ring holds [d.start, d.seq) and
			 * starts never go back, so only [d.seq, c.seq) is missing */
			if (d->seq > from)
				from = d->seq;
		} else {
			series__block_set(b, i, c->ls);
		}
		src = ring_of(cur, i);
		for (uint64_t q = from; q < c->seq; q++)
			dst[q % b->ring] = src[q % b->ring];
		d->seq = c->seq;
		d->n = c->n;
	}
	for (size_t i = n; i < b->nslots; i++)
		if (b->slots[i].ls)
			series__block_drop(b, i);
	b->nslots = n;
}

const struct series_point *series__block_newest(const struct series__block *b, size_t i)
{
	const struct series__slot *s = &b->slots[i];

	return s->n ? &ring_of(b, i)[(s->seq - 1) % b->ring] : NULL;
}

void series__block_append(struct series__block *b, size_t i, struct series_point p)
{
	struct series__slot *s = &b->slots[i];

	ring_of(b, i)[s->seq % b->ring] = p;
	s->seq++;
	if (s->n < b->ring)
		s->n++;
}

uint32_t series__block_trim(struct series__block *b, size_t i, int64_t cutoff)
{
	struct series__slot *s = &b->slots[i];
	const struct series_point *r = ring_of(b, i);

	while (s->n && r[(s->seq - s->n) % b->ring].t_ms < cutoff)
		s->n--;
	return s->n;
}

/* ---- the name index ----------------------------------------------------- */

static int order_cmp(const void *a, const void *b, void *ctx)
{
	const struct series__block *blk = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(blk->slots[x].ls->name, blk->slots[y].ls->name);

	return c ? c : (x > y) - (x < y);
}

void series__block_index(struct series__block *b)
{
	size_t points = 0;

	b->order = series__reserve(b->order, &b->cap_order, b->nslots, sizeof(*b->order));
	b->norder = 0;
	for (size_t i = 0; i < b->nslots; i++) {
		if (!b->slots[i].ls)
			continue;
		b->order[b->norder++] = (uint32_t)i;
		points += b->slots[i].n;
	}
	b->nseries = b->norder;
	b->npoints = points;
	if (b->norder > 1) /* qsort_r wants a non-NULL base even for 0 elements */
		qsort_r(b->order, b->norder, sizeof(*b->order), order_cmp, b);
	b->nnames = 0;
	for (size_t k = 0; k < b->norder; k++) {
		const char *name = b->slots[b->order[k]].ls->name;

		if (b->nnames && strcmp(b->names[b->nnames - 1].name, name) == 0) {
			b->names[b->nnames - 1].count++;
			continue;
		}
		b->names = series__reserve(b->names, &b->cap_names, b->nnames + 1, sizeof(*b->names));
		b->names[b->nnames++] = (struct series__name){ name, (uint32_t)k, 1 };
	}
	account(b);
}

size_t series__block_range(const struct series__block *b, size_t i, int64_t from, int64_t to,
			   struct series_point *scratch, const struct series_point **out)
{
	const struct series__slot *s = &b->slots[i];
	const struct series_point *r = ring_of(b, i);
	uint64_t start = s->seq - s->n;
	size_t lo = 0, hi = s->n, first, end;

	/* first point with t >= from, then the first with t > to */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r[(start + mid) % b->ring].t_ms < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r[(start + mid) % b->ring].t_ms <= to)
			lo = mid + 1;
		else
			hi = mid;
	}
	end = lo;
	if (end <= first)
		return 0;
	if ((start + first) % b->ring + (end - first) <= b->ring) {
		*out = &r[(start + first) % b->ring];
		return end - first;
	}
	for (size_t k = first; k < end; k++)
		scratch[k - first] = r[(start + k) % b->ring];
	*out = scratch;
	return end - first;
}
