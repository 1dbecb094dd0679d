/*
 * intern.c - series/'s counted allocation, hashing, label sets (one
 * allocation each, reference counted, shared by the writer and every block
 * that shows the series) and the open-addressing map the writer finds
 * targets and series with.
 */
#include "series/series_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"

atomic_size_t series__fresh_allocs;
atomic_size_t series__bytes;

/* ---- allocation --------------------------------------------------------- */

void *series__alloc(size_t n)
{
	atomic_fetch_add_explicit(&series__fresh_allocs, 1, memory_order_relaxed);
	return xmalloc(n);
}

void *series__realloc(void *p, size_t n)
{
	atomic_fetch_add_explicit(&series__fresh_allocs, 1, memory_order_relaxed);
	return xrealloc(p, n);
}

void *series__reserve(void *arr, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : need; /* a first size that fits: most targets have few series */

	if (need <= *cap)
		return arr;
	while (c < need)
		c *= 2;
	*cap = c;
	return series__realloc(arr, c * size);
}

/* ---- label sets --------------------------------------------------------- */

uint64_t series__labels_hash(const struct label *items, size_t n)
{
	uint64_t h = HASH_FNV_OFFSET;

	for (size_t i = 0; i < n; i++)
		h = hash_str(hash_str(h, items[i].key), items[i].value);
	return h;
}

struct series__labelset *series__labelset_new(const char *name, bool name_is_key,
					     const struct label *items, size_t n, uint64_t hash)
{
	size_t bytes = sizeof(struct series__labelset) + n * sizeof(struct label);
	struct series__labelset *ls;
	char *p;

	for (size_t i = 0; i < n; i++)
		bytes += strlen(items[i].key) + strlen(items[i].value) + 2;
	if (name_is_key)
		bytes += strlen(name) + 1;
	ls = series__alloc(bytes);
	atomic_init(&ls->refs, 1);
	ls->hash = hash;
	ls->bytes = bytes;
	ls->name = NULL;
	ls->labels.n = n;
	ls->labels.items = (struct label *)(ls + 1);
	p = (char *)(ls->labels.items + n);
	for (size_t i = 0; i < n; i++) {
		size_t kl = strlen(items[i].key) + 1, vl = strlen(items[i].value) + 1;

		ls->labels.items[i].key = memcpy(p, items[i].key, kl);
		p += kl;
		ls->labels.items[i].value = memcpy(p, items[i].value, vl);
		p += vl;
		if (!name_is_key && strcmp(items[i].key, "__name__") == 0)
			ls->name = ls->labels.items[i].value;
	}
	if (name_is_key)
		ls->name = memcpy(p, name, strlen(name) + 1);
	else if (!ls->name)
		ls->name = "";
	atomic_fetch_add_explicit(&series__bytes, bytes, memory_order_relaxed);
	return ls;
}

void series__labelset_ref(struct series__labelset *ls)
{
	atomic_fetch_add_explicit(&ls->refs, 1, memory_order_relaxed);
}

void series__labelset_unref(struct series__labelset *ls)
{
	if (ls && atomic_fetch_sub_explicit(&ls->refs, 1, memory_order_acq_rel) == 1) {
		atomic_fetch_sub_explicit(&series__bytes, ls->bytes, memory_order_relaxed);
		free(ls);
	}
}

bool series__labelset_eq(const struct series__labelset *ls, const struct label *items, size_t n)
{
	if (ls->labels.n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(ls->labels.items[i].key, items[i].key) != 0 ||
		    strcmp(ls->labels.items[i].value, items[i].value) != 0)
			return false;
	return true;
}

const char *series__label_get(const struct labels *l, const char *key)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->items[mid].key, key);

		if (c == 0)
			return l->items[mid].value;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- map ---------------------------------------------------------------- */

static void map_place(struct series__map_slot *slots, size_t cap, uint32_t hash, uint32_t idx1)
{
	size_t i = hash & (cap - 1);

	while (slots[i].idx1)
		i = (i + 1) & (cap - 1);
	slots[i].hash = hash;
	slots[i].idx1 = idx1;
}

static void map_grow(struct series__map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	struct series__map_slot *slots = series__alloc(cap * sizeof(*slots));

	memset(slots, 0, cap * sizeof(*slots));
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].idx1)
			map_place(slots, cap, m->slots[i].hash, m->slots[i].idx1);
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
}

void series__map_clear(struct series__map *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}

int64_t series__map_find(const struct series__map *m, uint64_t hash, series__eq_fn eq,
			 const void *ctx, const void *key)
{
	uint32_t h = (uint32_t)hash;

	if (!m->cap)
		return -1;
	for (size_t i = h & (m->cap - 1); m->slots[i].idx1; i = (i + 1) & (m->cap - 1))
		if (m->slots[i].hash == h && eq(ctx, m->slots[i].idx1 - 1, key))
			return m->slots[i].idx1 - 1;
	return -1;
}

void series__map_insert(struct series__map *m, uint64_t hash, uint32_t idx)
{
	if ((m->n + 1) * 4 > m->cap * 3)
		map_grow(m);
	map_place(m->slots, m->cap, (uint32_t)hash, idx + 1);
	m->n++;
}

/* The slot holding idx under hash (it must be there). */
static size_t map_slot_of(const struct series__map *m, uint64_t hash, uint32_t idx)
{
	size_t i = (uint32_t)hash & (m->cap - 1);

	while (m->slots[i].idx1 != idx + 1)
		i = (i + 1) & (m->cap - 1);
	return i;
}

void series__map_remove(struct series__map *m, uint64_t hash, uint32_t idx)
{
	size_t mask = m->cap - 1, i = map_slot_of(m, hash, idx), j = i;

	/* backward-shift deletion: no tombstones */
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!m->slots[j].idx1)
			break;
		home = m->slots[j].hash & mask;
		/* j's entry may move to i when its home is not in (i, j] */
		if ((i < j) ? (home <= i || home > j) : (home <= i && home > j)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i] = (struct series__map_slot){ 0, 0 };
	m->n--;
}

void series__map_renumber(struct series__map *m, uint64_t hash, uint32_t from, uint32_t to)
{
	m->slots[map_slot_of(m, hash, from)].idx1 = to + 1;
}
