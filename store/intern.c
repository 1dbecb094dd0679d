/*
 * intern.c - the store's allocation helpers, hashing, open-addressing
 * index and interned strings.  Strings live in arena chunks owned by the
 * pool of the snapshot they name; a recycled snapshot refills its chunks,
 * so names are copied once per round and never freed one by one.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define CHUNK_SIZE (64u << 10)

atomic_size_t store__fresh_allocs;

struct strpool_chunk {
	struct strpool_chunk *next;
	size_t used, size;
	char data[];
};

/* ---- allocation ----------------------------------------------------------- */

void *store__alloc(size_t n)
{
	atomic_fetch_add_explicit(&store__fresh_allocs, 1, memory_order_relaxed);
	return xmalloc(n);
}

void *store__realloc(void *p, size_t n)
{
	atomic_fetch_add_explicit(&store__fresh_allocs, 1, memory_order_relaxed);
	return xrealloc(p, n);
}

void *store__reserve(void *arr, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 64;

	if (need <= *cap)
		return arr;
	while (c < need)
		c *= 2;
	*cap = c;
	return store__realloc(arr, c * size);
}

/* ---- hashing ------------------------------------------------------------ */

uint64_t store__hash_str(const char *s)
{
	return hash_str(HASH_FNV_OFFSET, s);
}

uint64_t store__hash_pod(const char *ns, const char *pod)
{
	return hash_str(hash_str(HASH_FNV_OFFSET, ns), pod);
}

/* ---- idxtab ------------------------------------------------------------- */

/* Slots for `expected` entries at a load factor of at most 3/4. */
static size_t idxtab_cap_for(size_t expected)
{
	size_t cap = 16;

	while (cap * 3 < expected * 4)
		cap *= 2;
	return cap;
}

static void idxtab_alloc(struct idxtab *t, size_t cap)
{
	t->slots = store__alloc(cap * sizeof(*t->slots));
	memset(t->slots, 0, cap * sizeof(*t->slots));
	t->cap = cap;
	t->n = 0;
}

void store__idxtab_init(struct idxtab *t, size_t expected)
{
	idxtab_alloc(t, idxtab_cap_for(expected));
}

void store__idxtab_reset(struct idxtab *t, size_t expected)
{
	size_t cap = idxtab_cap_for(expected);

	if (t->cap < cap || t->cap > cap * 4) {
		store__idxtab_clear(t);
		idxtab_alloc(t, cap);
		return;
	}
	memset(t->slots, 0, t->cap * sizeof(*t->slots));
	t->n = 0;
}

void store__idxtab_clear(struct idxtab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->n = 0;
}

static void idxtab_place(struct idxtab_slot *slots, size_t cap, uint32_t hash, uint32_t idx1)
{
	size_t i = hash & (cap - 1);

	while (slots[i].idx1)
		i = (i + 1) & (cap - 1);
	slots[i].hash = hash;
	slots[i].idx1 = idx1;
}

static void idxtab_grow(struct idxtab *t)
{
	struct idxtab old = *t;

	idxtab_alloc(t, old.cap ? old.cap * 2 : 16);
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].idx1)
			idxtab_place(t->slots, t->cap, old.slots[i].hash, old.slots[i].idx1);
	t->n = old.n;
	free(old.slots);
}

int64_t store__idxtab_find(const struct idxtab *t, uint64_t hash, idxtab_eq_fn eq, const void *ctx,
		    const void *key)
{
	uint32_t h = (uint32_t)hash;
	size_t i;

	if (!t->cap)
		return -1;
	for (i = h & (t->cap - 1); t->slots[i].idx1; i = (i + 1) & (t->cap - 1)) {
		if (t->slots[i].hash == h && eq(ctx, t->slots[i].idx1 - 1, key))
			return t->slots[i].idx1 - 1;
	}
	return -1;
}

int64_t store__idxtab_find_or_insert(struct idxtab *t, uint64_t hash, idxtab_eq_fn eq, const void *ctx,
			      const void *key, uint32_t idx)
{
	uint32_t h = (uint32_t)hash;
	size_t i;

	if ((t->n + 1) * 4 > t->cap * 3)  /* load factor <= 3/4 */
		idxtab_grow(t);
	for (i = h & (t->cap - 1); t->slots[i].idx1; i = (i + 1) & (t->cap - 1)) {
		if (t->slots[i].hash == h && eq(ctx, t->slots[i].idx1 - 1, key))
			return t->slots[i].idx1 - 1;
	}
	t->slots[i].hash = h;
	t->slots[i].idx1 = idx + 1;
	t->n++;
	return -1;
}

void store__idxtab_insert(struct idxtab *t, uint64_t hash, uint32_t idx)
{
	if ((t->n + 1) * 4 > t->cap * 3)  /* load factor <= 3/4 */
		idxtab_grow(t);
	idxtab_place(t->slots, t->cap, (uint32_t)hash, idx + 1);
	t->n++;
}

/* ---- strpool ------------------------------------------------------------ */

void store__strpool_init_sized(struct strpool *p, size_t expected)
{
	memset(p, 0, sizeof(*p));
	store__idxtab_init(&p->index, expected < 64 ? 64 : expected);
}

void store__strpool_reset(struct strpool *p, size_t expected)
{
	p->cur = p->chunks;
	if (p->cur)
		p->cur->used = 0;
	p->n = 0;
	store__idxtab_reset(&p->index, expected < 64 ? 64 : expected);
}

/* n bytes from the current chunk, else the next (reused) one, else a new
 * chunk appended to the list. */
static char *strpool_alloc(struct strpool *p, size_t n)
{
	struct strpool_chunk *c = p->cur;
	char *out;

	while (c && c->size - c->used < n) {
		c = c->next;
		if (c)
			c->used = 0;
	}
	if (!c) {
		size_t size = n > CHUNK_SIZE ? n : CHUNK_SIZE;

		c = store__alloc(sizeof(*c) + size);
		c->used = 0;
		c->size = size;
		c->next = NULL;
		if (p->cur) {
			/* after cur: the chunks past it were too small for n */
			c->next = p->cur->next;
			p->cur->next = c;
		} else {
			c->next = p->chunks;
			p->chunks = c;
		}
	}
	p->cur = c;
	out = c->data + c->used;
	c->used += n;
	return out;
}

static bool strpool_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct strpool *p = ctx;

	return strcmp(p->strs[idx], key) == 0;
}

const char *store__strpool_copy(struct strpool *p, const char *s)
{
	size_t len = strlen(s) + 1;
	char *copy = strpool_alloc(p, len);

	memcpy(copy, s, len);
	return copy;
}

const char *store__strpool_intern(struct strpool *p, const char *s, uint64_t hash)
{
	int64_t found = store__idxtab_find(&p->index, hash, strpool_eq, p, s);
	const char *copy;

	if (found >= 0)
		return p->strs[found];
	p->strs = store__reserve(p->strs, &p->cap, p->n + 1, sizeof(*p->strs));
	copy = store__strpool_copy(p, s);
	p->strs[p->n] = copy;
	store__idxtab_insert(&p->index, hash, (uint32_t)p->n);
	p->n++;
	return copy;
}

void store__strpool_clear(struct strpool *p)
{
	struct strpool_chunk *c = p->chunks, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	free(p->strs);
	store__idxtab_clear(&p->index);
	memset(p, 0, sizeof(*p));
}
