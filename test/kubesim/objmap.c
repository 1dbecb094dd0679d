/*
 * objmap.c - the objects of one resource: an open-addressing hash map
 * keyed by (namespace, name) with linear probing and backward-shift
 * deletion, plus a lazily sorted view for lists.
 */
#include "test/kubesim/store_int.h"

#include <stdlib.h>
#include <string.h>

#define OBJMAP_MIN_CAP 64

static uint64_t key_hash(const char *ns, const char *name)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *ns; ns++)
		h = (h ^ (unsigned char)*ns) * 1099511628211ULL;
	h = (h ^ '/') * 1099511628211ULL;
	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ULL;
	return h ? h : 1;
}

void sim_objmap_init(struct sim_objmap *m)
{
	memset(m, 0, sizeof(*m));
}

void sim_objmap_clear(struct sim_objmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		if (m->slots[i].obj)
			sim_obj_unref(m->slots[i].obj);
	free(m->slots);
	free(m->sorted);
	sim_objmap_init(m);
}

/* Slot holding (ns, name), or the empty slot where it would go. */
static size_t find_slot(const struct sim_objmap *m, uint64_t h, const char *ns,
			const char *name)
{
	size_t i = (size_t)h & (m->cap - 1);

	while (m->slots[i].obj) {
		const struct sim_obj *o = m->slots[i].obj;

		if (m->slots[i].hash == h && strcmp(o->name, name) == 0 && strcmp(o->ns, ns) == 0)
			break;
		i = (i + 1) & (m->cap - 1);
	}
	return i;
}

static void grow(struct sim_objmap *m)
{
	struct sim_objmap_slot *old = m->slots;
	size_t oldcap = m->cap, i;

	m->cap = m->cap ? m->cap * 2 : OBJMAP_MIN_CAP;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (i = 0; i < oldcap; i++) {
		if (old[i].obj) {
			size_t j = (size_t)old[i].hash & (m->cap - 1);

			while (m->slots[j].obj)
				j = (j + 1) & (m->cap - 1);
			m->slots[j] = old[i];
		}
	}
	free(old);
}

int sim_obj_key_cmp(const struct sim_obj *a, const struct sim_obj *b)
{
	int c = strcmp(a->ns, b->ns);

	return c ? c : strcmp(a->name, b->name);
}

static int cmp_objp(const void *a, const void *b)
{
	return sim_obj_key_cmp(*(struct sim_obj *const *)a, *(struct sim_obj *const *)b);
}

struct sim_obj *sim_objmap_get(const struct sim_objmap *m, const char *ns, const char *name)
{
	size_t i;

	if (!m->n)
		return NULL;
	i = find_slot(m, key_hash(ns, name), ns, name);
	return m->slots[i].obj;
}

struct sim_obj *sim_objmap_put(struct sim_objmap *m, struct sim_obj *o)
{
	uint64_t h = key_hash(o->ns, o->name);
	struct sim_obj *old;
	size_t i;

	if ((m->n + 1) * 4 > m->cap * 3)
		grow(m);
	i = find_slot(m, h, o->ns, o->name);
	old = m->slots[i].obj;
	m->slots[i].obj = o;
	m->slots[i].hash = h;
	if (!old) {
		m->n++;
		m->sorted_dirty = true;
	} else if (!m->sorted_dirty) {
		struct sim_obj **p = bsearch(&o, m->sorted, m->nsorted, sizeof(*m->sorted),
					     cmp_objp);

		if (p)
			*p = o;
	}
	return old;
}

struct sim_obj *sim_objmap_del(struct sim_objmap *m, const char *ns, const char *name)
{
	struct sim_obj *old;
	size_t i, j;

	if (!m->n)
		return NULL;
	i = find_slot(m, key_hash(ns, name), ns, name);
	old = m->slots[i].obj;
	if (!old)
		return NULL;
	m->slots[i].obj = NULL;
	/* Backward shift: pull later members of the cluster into the hole. */
	for (j = (i + 1) & (m->cap - 1); m->slots[j].obj; j = (j + 1) & (m->cap - 1)) {
		size_t home = (size_t)m->slots[j].hash & (m->cap - 1);
		bool movable = (j > i) ? (home <= i || home > j) : (home <= i && home > j);

		if (movable) {
			m->slots[i] = m->slots[j];
			m->slots[j].obj = NULL;
			i = j;
		}
	}
	m->n--;
	m->sorted_dirty = true;
	return old;
}

struct sim_obj *const *sim_objmap_sorted(struct sim_objmap *m, size_t *n)
{
	size_t i, k = 0;

	if (m->sorted_dirty || m->nsorted != m->n) {
		m->sorted = xrealloc(m->sorted, (m->n ? m->n : 1) * sizeof(*m->sorted));
		for (i = 0; i < m->cap; i++)
			if (m->slots[i].obj)
				m->sorted[k++] = m->slots[i].obj;
		qsort(m->sorted, k, sizeof(*m->sorted), cmp_objp);
		m->nsorted = k;
		m->sorted_dirty = false;
	}
	*n = m->nsorted;
	return m->sorted;
}
