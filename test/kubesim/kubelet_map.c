/*
 * kubelet_map.c - a small chained hash map from strings to pointers,
 * sized for 100,000s of pods.  Not thread-safe: the model's lock guards it.
 */
#include "test/kubesim/kubelet_int.h"

#include <stdlib.h>
#include <string.h>

struct sim_kl_map_entry {
	struct sim_kl_map_entry *next;
	void *val;
	char key[];
};

static size_t key_hash(const char *s)
{
	uint64_t h = hash_str(HASH_FNV_OFFSET, s);

	return (size_t)(h ^ (h >> 32));
}

void sim_kl_map_init(struct sim_kl_map *m)
{
	m->nbuckets = 64;
	m->buckets = xcalloc(m->nbuckets, sizeof(*m->buckets));
	m->count = 0;
}

static struct sim_kl_map_entry **slot(const struct sim_kl_map *m, const char *key)
{
	struct sim_kl_map_entry **e = &m->buckets[key_hash(key) & (m->nbuckets - 1)];

	while (*e && strcmp((*e)->key, key) != 0)
		e = &(*e)->next;
	return e;
}

static void grow(struct sim_kl_map *m)
{
	size_t n = m->nbuckets * 2;
	struct sim_kl_map_entry **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < m->nbuckets; i++) {
		struct sim_kl_map_entry *e = m->buckets[i], *next;

		for (; e; e = next) {
			size_t j = key_hash(e->key) & (n - 1);

			next = e->next;
			e->next = b[j];
			b[j] = e;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
}

void *sim_kl_map_get(const struct sim_kl_map *m, const char *key)
{
	struct sim_kl_map_entry *e = *slot(m, key);

	return e ? e->val : NULL;
}

void *sim_kl_map_put(struct sim_kl_map *m, const char *key, void *val)
{
	struct sim_kl_map_entry **s = slot(m, key);
	size_t klen;
	void *old;

	if (*s) {
		old = (*s)->val;
		(*s)->val = val;
		return old;
	}
	klen = strlen(key);
	*s = xmalloc(sizeof(**s) + klen + 1);
	(*s)->next = NULL;
	(*s)->val = val;
	memcpy((*s)->key, key, klen + 1);
	if (++m->count > m->nbuckets)
		grow(m);
	return NULL;
}

void *sim_kl_map_del(struct sim_kl_map *m, const char *key)
{
	struct sim_kl_map_entry **s = slot(m, key), *e = *s;
	void *val;

	if (!e)
		return NULL;
	val = e->val;
	*s = e->next;
	free(e);
	m->count--;
	return val;
}

void sim_kl_map_clear(struct sim_kl_map *m, void (*fn)(void *val))
{
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct sim_kl_map_entry *e = m->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			if (fn)
				fn(e->val);
			free(e);
		}
	}
	free(m->buckets);
	m->buckets = NULL;
	m->nbuckets = 0;
	m->count = 0;
}
