/*
 * authz_cache.h - private to server/authz*.c: the webhook authorizer's
 * decision cache (an LRU of answers that expire).
 */
#ifndef SERVER_AUTHZ_CACHE_H
#define SERVER_AUTHZ_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One SubjectAccessReview status as the cache keeps it. */
struct server__authz_answer {
	bool allowed, denied;
	char *reason;          /* NULL when none; owned by whoever holds the answer */
};

struct server__authz_cache;

/* Holds at most max answers (the least recently used go first). */
struct server__authz_cache *server__authz_cache_new(size_t max);
void server__authz_cache_free(struct server__authz_cache *c);
/* The live answer stored under key (copied into *out, reason duplicated)
 * or false; an expired one is dropped.  now: monotonic ns.  Thread-safe. */
bool server__authz_cache_get(struct server__authz_cache *c, const void *key, size_t len,
			     int64_t now, struct server__authz_answer *out);
/* Stores a copy of a under key until now + ttl (ttl <= 0: not stored). */
void server__authz_cache_put(struct server__authz_cache *c, const void *key, size_t len,
			     const struct server__authz_answer *a, int64_t now, int64_t ttl);

#endif
