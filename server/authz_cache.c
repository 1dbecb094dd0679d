/*
 * authz_cache.c - the webhook authorizer's decision cache, as the Go
 * webhook's LRUExpireCache: at most N answers keyed by the review's spec,
 * each with its own expiry; a lookup of an expired answer drops it; when
 * full, the least recently used answer goes.  One mutex, held for a hash
 * lookup and a list splice.
 */
#include "server/authz_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

struct entry {
	struct entry *chain;        /* next in the bucket */
	struct entry *newer, *older; /* LRU list */
	uint64_t hash;
	int64_t expires;
	struct server__authz_answer a;
	size_t len;
	unsigned char key[];
};

struct server__authz_cache {
	pthread_mutex_t mu;
	struct entry **buckets;
	size_t nbuckets;            /* a power of two, >= 2 * max */
	size_t n, max;
	struct entry *newest, *oldest;
};

struct server__authz_cache *server__authz_cache_new(size_t max)
{
	struct server__authz_cache *c = xcalloc(1, sizeof(*c));

	c->max = max ? max : 1;
	c->nbuckets = 16;
	while (c->nbuckets < 2 * c->max)
		c->nbuckets *= 2;
	c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

void server__authz_cache_free(struct server__authz_cache *c)
{
	struct entry *e, *next;

	if (!c)
		return;
	for (e = c->newest; e; e = next) {
		next = e->older;
		free(e->a.reason);
		free(e);
	}
	pthread_mutex_destroy(&c->mu);
	free(c->buckets);
	free(c);
}

static struct entry **slot_of(struct server__authz_cache *c, const void *key, size_t len,
			      uint64_t h)
{
	struct entry **p = &c->buckets[h & (c->nbuckets - 1)];

	while (*p && !((*p)->hash == h && (*p)->len == len && memcmp((*p)->key, key, len) == 0))
		p = &(*p)->chain;
	return p;
}

static void unlink_lru(struct server__authz_cache *c, struct entry *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void push_newest(struct server__authz_cache *c, struct entry *e)
{
	e->older = c->newest;
	e->newer = NULL;
	if (c->newest)
		c->newest->newer = e;
	c->newest = e;
	if (!c->oldest)
		c->oldest = e;
}

/* Unlinks and frees the entry at *slot. */
static void drop(struct server__authz_cache *c, struct entry **slot)
{
	struct entry *e = *slot;

	*slot = e->chain;
	unlink_lru(c, e);
	c->n--;
	free(e->a.reason);
	free(e);
}

bool server__authz_cache_get(struct server__authz_cache *c, const void *key, size_t len,
			     int64_t now, struct server__authz_answer *out)
{
	uint64_t h = hash_bytes(HASH_FNV_OFFSET, key, len);
	struct entry **slot, *e;
	bool hit = false;

	pthread_mutex_lock(&c->mu);
	slot = slot_of(c, key, len, h);
	e = *slot;
	if (e && now > e->expires) {
		drop(c, slot);
	} else if (e) {
		unlink_lru(c, e);
		push_newest(c, e);
		out->allowed = e->a.allowed;
		out->denied = e->a.denied;
		out->reason = e->a.reason ? xstrdup(e->a.reason) : NULL;
		hit = true;
	}
	pthread_mutex_unlock(&c->mu);
	return hit;
}

void server__authz_cache_put(struct server__authz_cache *c, const void *key, size_t len,
			     const struct server__authz_answer *a, int64_t now, int64_t ttl)
{
	uint64_t h = hash_bytes(HASH_FNV_OFFSET, key, len);
	struct entry **slot, *e;

	if (ttl <= 0)
		return;
	e = xmalloc(sizeof(*e) + len);
	memset(e, 0, sizeof(*e));
	e->hash = h;
	e->expires = now + ttl;
	e->a.allowed = a->allowed;
	e->a.denied = a->denied;
	e->a.reason = a->reason ? xstrdup(a->reason) : NULL;
	e->len = len;
	memcpy(e->key, key, len);
	pthread_mutex_lock(&c->mu);
	slot = slot_of(c, key, len, h);
	if (*slot)
		drop(c, slot);
	if (c->n >= c->max) {
		struct entry *old = c->oldest;

		drop(c, slot_of(c, old->key, old->len, old->hash));
		slot = slot_of(c, key, len, h);
	}
	e->chain = *slot;
	*slot = e;
	push_newest(c, e);
	c->n++;
	pthread_mutex_unlock(&c->mu);
}
