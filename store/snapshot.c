/*
 * snapshot.c - the store object and its immutable, reference-counted
 * snapshots.  The single writer builds the next snapshot from the current
 * one without any lock held, then swaps the pointer under a mutex held for
 * a few instructions; readers take a reference under the same mutex and
 * never wait on a scrape.
 *
 * The writer keeps the snapshot it replaced as a spare when it drops the
 * last reference to it (no reader holds it), and the next batch fills the
 * spare's memory; a snapshot a reader still holds is freed by whoever
 * releases it last.
 */
#include "store/store_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

struct store {
	pthread_mutex_t mu;          /* guards cur (pointer swap / acquire) */
	pthread_mutex_t writer;      /* serialises store_apply */
	struct store_snapshot *cur;
	struct store_snapshot *spare;  /* memory for the next batch; under writer */
	int64_t resolution_ns;
};

/* ---- snapshots ------------------------------------------------------ */

#define MIN_ENTRIES 64
#define MAX_HINT (1u << 24)  /* a hint never reserves more than this */

static size_t hint(size_t n)
{
	return n < MIN_ENTRIES ? MIN_ENTRIES : n > MAX_HINT ? MAX_HINT : n;
}

/* Room for the hinted entries in every array of s. */
static void snapshot_reserve(struct store_snapshot *s, size_t nodes, size_t pods, size_t ctrs)
{
	size_t cap;

	s->nodes = store__reserve(s->nodes, &s->cap_nodes, hint(nodes), sizeof(*s->nodes));
	s->pods = store__reserve(s->pods, &s->cap_pods, hint(pods), sizeof(*s->pods));
	cap = s->cap_ctrs;
	s->ctrs = store__reserve(s->ctrs, &cap, hint(ctrs), sizeof(*s->ctrs));
	cap = s->cap_ctrs;
	s->usage = store__reserve(s->usage, &cap, hint(ctrs), sizeof(*s->usage));
	cap = s->cap_ctrs;
	s->link = store__reserve(s->link, &cap, hint(ctrs), sizeof(*s->link));
	s->cap_ctrs = cap;
}

struct store_snapshot *store__snapshot_new_sized(size_t nodes, size_t pods, size_t ctrs)
{
	struct store_snapshot *s = xcalloc(1, sizeof(*s));

	atomic_init(&s->refs, 1);
	/* node names are interned; pod names are copied (distinct), namespaces
	 * and container names are few */
	store__strpool_init_sized(&s->pool, hint(nodes) + 64);
	store__idxtab_init(&s->node_index, hint(nodes));
	store__idxtab_init(&s->pod_index, hint(pods));
	snapshot_reserve(s, nodes, pods, ctrs);
	return s;
}

void store__snapshot_reset(struct store_snapshot *s, size_t nodes, size_t pods, size_t ctrs)
{
	atomic_store(&s->refs, 1);
	store__strpool_reset(&s->pool, hint(nodes) + 64);
	store__idxtab_reset(&s->node_index, hint(nodes));
	store__idxtab_reset(&s->pod_index, hint(pods));
	snapshot_reserve(s, nodes, pods, ctrs);
	s->nnodes = s->npods = s->nctrs = s->nspill = 0;
	s->node_prev = s->pod_prev = s->container_prev = 0;
}

bool store__snapshot_oversized(const struct store_snapshot *s, size_t nodes, size_t pods, size_t ctrs)
{
	return s->cap_nodes > 2 * hint(nodes) || s->cap_pods > 2 * hint(pods) ||
	       s->cap_ctrs > 2 * hint(ctrs) || s->cap_spill > hint(ctrs) / 8;
}

void store__snapshot_free(struct store_snapshot *s)
{
	if (!s)
		return;
	store__strpool_clear(&s->pool);
	free(s->nodes);
	free(s->pods);
	free(s->ctrs);
	free(s->usage);
	free(s->link);
	free(s->spill);
	store__idxtab_clear(&s->node_index);
	store__idxtab_clear(&s->pod_index);
	free(s);
}

void store_snapshot_unref(struct store_snapshot *snap)
{
	if (snap && atomic_fetch_sub_explicit(&snap->refs, 1, memory_order_acq_rel) == 1)
		store__snapshot_free(snap);
}

static bool snap_node_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct store_snapshot *s = ctx;

	return strcmp(s->nodes[idx].name, key) == 0;
}

const struct snap_node *store__snapshot_find_node(const struct store_snapshot *s, const char *name,
					   uint64_t hash)
{
	int64_t i = store__idxtab_find(&s->node_index, hash, snap_node_eq, s, name);

	return i < 0 ? NULL : &s->nodes[i];
}

struct pod_name {
	const char *ns, *name;
};

static bool snap_pod_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct store_snapshot *s = ctx;
	const struct pod_name *k = key;

	return strcmp(s->pods[idx].name, k->name) == 0 && strcmp(s->pods[idx].ns, k->ns) == 0;
}

const struct snap_pod *store__snapshot_find_pod(const struct store_snapshot *s, const char *ns,
					 const char *pod, uint64_t hash)
{
	struct pod_name k = { ns, pod };
	int64_t i = store__idxtab_find(&s->pod_index, hash, snap_pod_eq, s, &k);

	return i < 0 ? NULL : &s->pods[i];
}

bool store_snapshot_ready(const struct store_snapshot *snap)
{
	return snap->node_prev > 0 && snap->pod_prev > 0;
}

size_t store_snapshot_node_points(const struct store_snapshot *snap)
{
	return snap->node_prev;
}

size_t store_snapshot_container_points(const struct store_snapshot *snap)
{
	return snap->container_prev;
}

int store_node_usage(const struct store_snapshot *snap, const char *node, struct store_usage *out)
{
	const struct snap_node *n;

	if (!node)
		return ERR_NOTFOUND;
	n = store__snapshot_find_node(snap, node, store__hash_str(node));
	if (!n || !n->servable)
		return ERR_NOTFOUND;
	*out = n->usage;
	return ERR_OK;
}

int store_pod_usage(const struct store_snapshot *snap, const char *ns, const char *pod,
		    const struct store_container_usage **containers, size_t *n,
		    struct store_usage *time)
{
	const struct snap_pod *p;

	if (!ns || !pod)
		return ERR_NOTFOUND;
	p = store__snapshot_find_pod(snap, ns, pod, store__hash_pod(ns, pod));
	if (!p || !(p->flags & POD_SERVABLE))
		return ERR_NOTFOUND;
	*n = p->nused;
	*time = (struct store_usage){ 0 };
	if (!p->nused) {
		*containers = snap->usage;
		return ERR_OK;
	}
	*containers = p->flags & POD_SPILLED ? &snap->spill[p->used] : &snap->usage[p->used];
	/* the usage of the time container, as store__rate gave it */
	{
		uint32_t k = p->first + p->time_off;
		const struct snap_ctr *c = &snap->ctrs[k];

		*time = (struct store_usage){ .ts_ns = c->last.ts_ns,
					      .window_ns = c->last.ts_ns - c->prev.ts_ns,
					      .cpu_nanocores = snap->usage[k].cpu_nanocores,
					      .mem_bytes = snap->usage[k].mem_bytes };
	}
	return ERR_OK;
}

/* ---- the store ------------------------------------------------------ */

struct store *store_new(int64_t resolution_ns)
{
	struct store *s = xcalloc(1, sizeof(*s));

	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->writer, NULL);
	s->cur = store__snapshot_new_sized(0, 0, 0);
	s->resolution_ns = resolution_ns;
	return s;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	store_snapshot_unref(s->cur);
	store__snapshot_free(s->spare);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->writer);
	free(s);
}

struct store_snapshot *store_acquire(struct store *s)
{
	struct store_snapshot *snap;

	pthread_mutex_lock(&s->mu);
	snap = s->cur;
	atomic_fetch_add_explicit(&snap->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&s->mu);
	return snap;
}

struct store_batch *store_batch_begin(struct store *s)
{
	struct store_snapshot *snap;
	size_t nodes, pods, ctrs;

	pthread_mutex_lock(&s->writer);
	/* sized like the last round, plus room to grow */
	nodes = s->cur->nnodes + s->cur->nnodes / 8;
	pods = s->cur->npods + s->cur->npods / 8;
	ctrs = s->cur->nctrs + s->cur->nctrs / 8;
	snap = s->spare;
	s->spare = NULL;
	pthread_mutex_unlock(&s->writer);
	if (snap && store__snapshot_oversized(snap, nodes, pods, ctrs)) {
		store__snapshot_free(snap);  /* the cluster shrank: give the memory back */
		snap = NULL;
	}
	if (snap)
		store__snapshot_reset(snap, nodes, pods, ctrs);
	else
		snap = store__snapshot_new_sized(nodes, pods, ctrs);
	return store__batch_wrap(snap);
}

void store_apply(struct store *s, struct store_batch *b)
{
	struct store_snapshot *old, *next = store__batch_finish(b), *drop = NULL;

	pthread_mutex_lock(&s->writer);
	old = s->cur;  /* only the writer replaces cur, so it stays valid */
	store__build_snapshot(next, old, s->resolution_ns);
	pthread_mutex_lock(&s->mu);
	s->cur = next;
	pthread_mutex_unlock(&s->mu);
	log_v(2, "store: applied nodes=%zu pods=%zu nodePoints=%zu containerPoints=%zu",
	      next->nnodes, next->npods, next->node_prev, next->container_prev);
	/* The last reference: nobody else can reach old any more. */
	if (atomic_fetch_sub_explicit(&old->refs, 1, memory_order_acq_rel) == 1) {
		if (s->spare)
			drop = old;
		else
			s->spare = old;
	}
	pthread_mutex_unlock(&s->writer);
	store__snapshot_free(drop);
}
