/*
 * snapshot.c - the store object and its immutable, reference-counted
 * snapshots.  The single writer builds the next snapshot from the current
 * one without any lock held, then swaps the pointer under a mutex held for
 * a few instructions; readers take a reference under the same mutex and
 * never wait on a scrape.
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
	int64_t resolution_ns;
};

/* ---- snapshots ------------------------------------------------------ */

struct store_snapshot *snapshot_new_empty(void)
{
	struct store_snapshot *s = xcalloc(1, sizeof(*s));

	atomic_init(&s->refs, 1);
	return s;
}

static void snapshot_free(struct store_snapshot *s)
{
	strpool_release(&s->pool);
	free(s->nodes);
	free(s->pods);
	free(s->containers);
	free(s->used);
	idxtab_release(&s->node_index);
	idxtab_release(&s->pod_index);
	free(s);
}

void store_release(struct store_snapshot *snap)
{
	if (snap && atomic_fetch_sub_explicit(&snap->refs, 1, memory_order_acq_rel) == 1)
		snapshot_free(snap);
}

static bool snap_node_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct store_snapshot *s = ctx;

	return strcmp(s->nodes[idx].name, key) == 0;
}

const struct snap_node *snapshot_find_node(const struct store_snapshot *s, const char *name,
					   uint64_t hash)
{
	int64_t i = idxtab_find(&s->node_index, hash, snap_node_eq, s, name);

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

const struct snap_pod *snapshot_find_pod(const struct store_snapshot *s, const char *ns,
					 const char *pod, uint64_t hash)
{
	struct pod_name k = { ns, pod };
	int64_t i = idxtab_find(&s->pod_index, hash, snap_pod_eq, s, &k);

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
	n = snapshot_find_node(snap, node, store_hash_str(node));
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
	p = snapshot_find_pod(snap, ns, pod, store_hash_pod(ns, pod));
	if (!p || !p->servable)
		return ERR_NOTFOUND;
	*containers = &snap->used[p->first_used];
	*n = p->nused;
	*time = p->time;
	return ERR_OK;
}

/* ---- the store ------------------------------------------------------ */

struct store *store_new(int64_t resolution_ns)
{
	struct store *s = xcalloc(1, sizeof(*s));

	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->writer, NULL);
	s->cur = snapshot_new_empty();
	s->resolution_ns = resolution_ns;
	return s;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	store_release(s->cur);
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

void store_apply(struct store *s, struct store_batch *b)
{
	struct store_snapshot *old, *next;

	pthread_mutex_lock(&s->writer);
	old = s->cur;  /* only the writer replaces cur, so it stays valid */
	next = store_build_snapshot(old, b, s->resolution_ns);
	pthread_mutex_lock(&s->mu);
	s->cur = next;
	pthread_mutex_unlock(&s->mu);
	log_v(2, "store: applied nodes=%zu pods=%zu nodePoints=%zu containerPoints=%zu",
	      next->nnodes, next->npods, next->node_prev, next->container_prev);
	pthread_mutex_unlock(&s->writer);
	store_release(old);
}
