/*
 * intern.c - the store's hashing, its open-addressing index and interned
 * strings.  Strings live in arena chunks owned by the pool; a batch's pool
 * moves into the snapshot built from it, so names are copied once per
 * round and never freed one by one.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define CHUNK_SIZE (64u << 10)

struct strpool_chunk {
	struct strpool_chunk *next;
	size_t used, size;
	char data[];
};

/* ---- hashing ------------------------------------------------------------ */

#define FNV_OFFSET UINT64_C(14695981039346656037)
#define FNV_PRIME UINT64_C(1099511628211)

static uint64_t fnv_add(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * FNV_PRIME;
	return h;
}

uint64_t store_hash_str(const char *s)
{
	return fnv_add(FNV_OFFSET, s);
}

uint64_t store_hash_pod(const char *ns, const char *pod)
{
	/* The NUL separator keeps ("a","bc") and ("ab","c") apart. */
	return fnv_add(fnv_add(FNV_OFFSET, ns) * FNV_PRIME, pod);
}

/* ---- idxtab ------------------------------------------------------------- */

void idxtab_init(struct idxtab *t, size_t expected)
{
	size_t cap = 16;

	while (cap < expected * 2)
		cap *= 2;
	t->slots = xcalloc(cap, sizeof(*t->slots));
	t->cap = cap;
	t->n = 0;
}

void idxtab_release(struct idxtab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->n = 0;
}

static void idxtab_place(struct idxtab_slot *slots, size_t cap, uint64_t hash, uint32_t idx1)
{
	size_t i = (size_t)hash & (cap - 1);

	while (slots[i].idx1)
		i = (i + 1) & (cap - 1);
	slots[i].hash = hash;
	slots[i].idx1 = idx1;
}

static void idxtab_grow(struct idxtab *t)
{
	size_t cap = t->cap ? t->cap * 2 : 16;
	struct idxtab_slot *slots = xcalloc(cap, sizeof(*slots));

	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].idx1)
			idxtab_place(slots, cap, t->slots[i].hash, t->slots[i].idx1);
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
}

int64_t idxtab_find(const struct idxtab *t, uint64_t hash, idxtab_eq_fn eq, const void *ctx,
		    const void *key)
{
	size_t i;

	if (!t->cap)
		return -1;
	for (i = (size_t)hash & (t->cap - 1); t->slots[i].idx1; i = (i + 1) & (t->cap - 1)) {
		if (t->slots[i].hash == hash && eq(ctx, t->slots[i].idx1 - 1, key))
			return t->slots[i].idx1 - 1;
	}
	return -1;
}

void idxtab_insert(struct idxtab *t, uint64_t hash, uint32_t idx)
{
	if ((t->n + 1) * 4 > t->cap * 3)  /* load factor <= 3/4 */
		idxtab_grow(t);
	idxtab_place(t->slots, t->cap, hash, idx + 1);
	t->n++;
}

/* ---- strpool ------------------------------------------------------------ */

void strpool_init_sized(struct strpool *p, size_t expected)
{
	memset(p, 0, sizeof(*p));
	idxtab_init(&p->index, expected < 64 ? 64 : expected);
}

void strpool_init(struct strpool *p)
{
	strpool_init_sized(p, 64);
}

static char *strpool_alloc(struct strpool *p, size_t n)
{
	struct strpool_chunk *c = p->chunks;
	char *out;

	if (!c || c->size - c->used < n) {
		size_t size = n > CHUNK_SIZE ? n : CHUNK_SIZE;

		c = xmalloc(sizeof(*c) + size);
		c->used = 0;
		c->size = size;
		c->next = p->chunks;
		p->chunks = c;
	}
	out = c->data + c->used;
	c->used += n;
	return out;
}

static bool strpool_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct strpool *p = ctx;

	return strcmp(p->strs[idx], key) == 0;
}

const char *strpool_copy(struct strpool *p, const char *s)
{
	size_t len = strlen(s) + 1;
	char *copy = strpool_alloc(p, len);

	memcpy(copy, s, len);
	return copy;
}

const char *strpool_intern(struct strpool *p, const char *s, uint64_t hash)
{
	int64_t found = idxtab_find(&p->index, hash, strpool_eq, p, s);
	size_t len;
	char *copy;

	if (found >= 0)
		return p->strs[found];
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->strs = xrealloc(p->strs, p->cap * sizeof(*p->strs));
	}
	len = strlen(s) + 1;
	copy = strpool_alloc(p, len);
	memcpy(copy, s, len);
	p->strs[p->n] = copy;
	idxtab_insert(&p->index, hash, (uint32_t)p->n);
	p->n++;
	return copy;
}

void strpool_release(struct strpool *p)
{
	struct strpool_chunk *c = p->chunks, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	free(p->strs);
	idxtab_release(&p->index);
	memset(p, 0, sizeof(*p));
}

void strpool_move_frozen(struct strpool *dst, struct strpool *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->chunks = src->chunks;
	src->chunks = NULL;
	strpool_release(src);
}
