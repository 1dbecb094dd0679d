/*
 * store_int.h - private to store.c, store_query.c and objmap.c: the
 * layout of the object store and its watch-event ring.
 */
#ifndef KUBESIM_STORE_INT_H
#define KUBESIM_STORE_INT_H

#include <pthread.h>

#include "test/kubesim/apiserver.h"

#define SIM_MAX_RESOURCES 32
#define SIM_MAX_SUBSCRIBERS 32

struct sim_objmap_slot {
	uint64_t hash;
	struct sim_obj *obj; /* NULL = empty */
};

/* Objects of one resource by (namespace, name). */
struct sim_objmap {
	struct sim_objmap_slot *slots;
	size_t cap;              /* power of two */
	size_t n;
	struct sim_obj **sorted; /* view by key, rebuilt when dirty */
	size_t nsorted;
	bool sorted_dirty;
};

void sim_objmap_init(struct sim_objmap *m);
/* Drops the map's references. */
void sim_objmap_clear(struct sim_objmap *m);
/* Borrowed or NULL. */
struct sim_obj *sim_objmap_get(const struct sim_objmap *m, const char *ns, const char *name);
/* Takes o's reference; returns the replaced object (its reference) or NULL. */
struct sim_obj *sim_objmap_put(struct sim_objmap *m, struct sim_obj *o);
/* Removes and returns the object (its reference) or NULL. */
struct sim_obj *sim_objmap_del(struct sim_objmap *m, const char *ns, const char *name);
/* Borrowed sorted view, valid until the next change. */
struct sim_obj *const *sim_objmap_sorted(struct sim_objmap *m, size_t *n);
int sim_obj_key_cmp(const struct sim_obj *a, const struct sim_obj *b);

struct sim_table {
	char *resource;
	const struct sim_kind *kind; /* NULL: stored generically */
	struct sim_objmap map;
};

struct sim_ring_entry {
	uint64_t rv;
	enum sim_event type;
	struct sim_table *table;
	struct sim_obj *obj;
	struct sim_obj *prev;
};

struct sim_subscriber {
	char *resource;
	sim_store_cb cb;
	void *ud;
};

struct sim_store {
	pthread_mutex_t mu;
	pthread_cond_t changed;
	uint64_t rv;
	uint64_t uid_seq;
	struct sim_table tables[SIM_MAX_RESOURCES];
	size_t ntables;
	struct sim_ring_entry *ring;
	size_t ring_cap, ring_start, ring_n;
	uint64_t evicted_rv;     /* rv of the newest event pushed out */
	struct sim_subscriber subs[SIM_MAX_SUBSCRIBERS];
	size_t nsubs;
	bool waking;
};

/* Table for resource, created on first use (NULL when the table list is
 * full).  Lock held. */
struct sim_table *sim_store_table(struct sim_store *s, const char *resource);
/* Builds an object version from a JSON object (index fields copied). */
struct sim_obj *sim_obj_new(const struct sim_kind *k, json_t *obj, uint64_t rv);

#endif
