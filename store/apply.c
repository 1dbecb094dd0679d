/*
 * apply.c - metrics-server's storage rules (pkg/storage/node.go, pod.go):
 * the snapshot after a batch keeps exactly the batch's keys (anything
 * absent is pruned), each with its new point as `last` and a `prev` chosen
 * from the previous snapshot:
 *
 *   newer  new.ts > old.last.ts            -> prev = old.last
 *   keep   old.prev.ts < new.ts <= last.ts -> prev = old.prev
 *   drop   otherwise                       -> no prev
 *
 * Containers add the fresh-container shortcut (10s <= ts-start < resolution
 * gives a synthetic prev at the start time with zero CPU) and the restart
 * rule (start >= old.last.ts gives no prev).  Rates are computed here, once
 * per round, so readers only look things up.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define FRESH_MIN_NS (10 * NS_PER_SEC)  /* freshContainerMinMetricsResolution */

/* Go's Time.Sub: saturates instead of overflowing. */
static int64_t sub_sat(int64_t a, int64_t b)
{
	int64_t d;

	if (__builtin_sub_overflow(a, b, &d))
		return a > b ? INT64_MAX : INT64_MIN;
	return d;
}

/* The newer/keep/drop rule; old_prev may be NULL.  True when *prev set. */
static bool choose_prev(const struct store_point *newp, const struct store_point *old_last,
			const struct store_point *old_prev, struct store_point *prev)
{
	if (newp->ts_ns > old_last->ts_ns) {
		*prev = *old_last;
		return true;
	}
	if (old_prev && old_prev->ts_ns < newp->ts_ns) {
		*prev = *old_prev;
		return true;
	}
	log_v(2, "Found new metrics point is older than stored previous, drop previous");
	return false;
}

static void build_nodes(struct store_snapshot *s, const struct store_snapshot *old,
			const struct store_batch *b)
{
	const char *why = NULL;

	s->nnodes = b->nnodes;
	s->nodes = xcalloc(b->nnodes ? b->nnodes : 1, sizeof(*s->nodes));
	idxtab_init(&s->node_index, b->nnodes);
	for (size_t i = 0; i < b->nnodes; i++) {
		const struct batch_node *bn = &b->nodes[i];
		struct snap_node *n = &s->nodes[i];
		const struct snap_node *o = snapshot_find_node(old, bn->name, bn->hash);

		n->name = bn->name;
		n->hash = bn->hash;
		n->last = bn->point;
		if (o)
			n->has_prev = choose_prev(&n->last, &o->last, o->has_prev ? &o->prev : NULL,
						  &n->prev);
		if (n->has_prev) {
			s->node_prev++;
			n->servable = store_rate(&n->last, &n->prev, &n->usage, &why) == ERR_OK;
			if (!n->servable)
				log_error("Skipping node usage metric err=\"%s\" node=\"%s\"", why, n->name);
		}
		idxtab_insert(&s->node_index, n->hash, (uint32_t)i);
	}
}

/* The old pod's container `name` (containers are sorted by name). */
static const struct snap_container *old_container(const struct store_snapshot *old,
						  const struct snap_pod *o, const char *name)
{
	size_t lo = 0, hi = o->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct snap_container *c = &old->containers[o->first + mid];
		int cmp = strcmp(c->name, name);

		if (cmp == 0)
			return c;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Chooses c->prev for a container of pod o (NULL: pod not seen before). */
static bool container_prev(struct snap_container *c, const struct store_snapshot *old,
			   const struct snap_pod *o, int64_t resolution_ns)
{
	const struct store_point *np = &c->last;
	int64_t age = sub_sat(np->ts_ns, np->start_ns);
	const struct snap_container *oc;

	if (np->start_ns < np->ts_ns && age < resolution_ns && age >= FRESH_MIN_NS) {
		c->prev = *np;
		c->prev.ts_ns = np->start_ns;
		c->prev.cpu_ns = 0;
		return true;
	}
	if (!o)
		return false;
	oc = old_container(old, o, c->name);
	if (!oc || !(np->start_ns < oc->last.ts_ns))  /* unknown, or restarted */
		return false;
	return choose_prev(np, &oc->last, o->in_prev && oc->has_prev ? &oc->prev : NULL, &c->prev);
}

static int container_cmp(const void *a, const void *b)
{
	return strcmp(((const struct snap_container *)a)->name,
		      ((const struct snap_container *)b)->name);
}

/* Rates of a servable pod's containers into s->used; the pod's time is the
 * container with the earliest newer timestamp. */
static void pod_usage(struct store_snapshot *s, struct snap_pod *p)
{
	const char *why = NULL;

	p->first_used = (uint32_t)s->nused;
	for (uint32_t i = 0; i < p->count; i++) {
		const struct snap_container *c = &s->containers[p->first + i];
		struct store_usage u;

		if (store_rate(&c->last, &c->prev, &u, &why) != ERR_OK) {
			log_error("Skipping container usage metric err=\"%s\" container=\"%s\" pod=\"%s/%s\"",
				  why, c->name, p->ns, p->name);
			continue;
		}
		s->used[s->nused++] = (struct store_container_usage){
			.name = c->name, .cpu_nanocores = u.cpu_nanocores, .mem_bytes = u.mem_bytes
		};
		if (p->nused++ == 0 || u.ts_ns < p->time.ts_ns)
			p->time = u;
	}
}

/*
 * The old snapshot's entry for bp.  Pods come node by node in the order of
 * the kubelet's body, in both snapshots, so the one after the last match
 * (*next) is usually it: a sequential read instead of a hash probe into a
 * table of every pod of the cluster.
 */
static const struct snap_pod *old_pod(const struct store_snapshot *old,
				      const struct batch_pod *bp, size_t *next)
{
	const struct snap_pod *o = NULL;

	if (!old)
		return NULL;
	if (*next < old->npods && old->pods[*next].hash == bp->hash &&
	    strcmp(old->pods[*next].name, bp->name) == 0 && strcmp(old->pods[*next].ns, bp->ns) == 0)
		o = &old->pods[*next];
	else
		o = snapshot_find_pod(old, bp->ns, bp->name, bp->hash);
	if (o)
		*next = (size_t)(o - old->pods) + 1;
	return o;
}

static void build_pod(struct store_snapshot *s, const struct store_snapshot *old,
		      const struct store_batch *b, const struct batch_pod *bp, int64_t resolution_ns,
		      size_t *next_old)
{
	struct snap_pod *p = &s->pods[s->npods];
	const struct snap_pod *o = old_pod(old, bp, next_old);
	bool all = true;

	*p = (struct snap_pod){ .ns = bp->ns, .name = bp->name, .hash = bp->hash,
				.first = (uint32_t)s->ncontainers, .count = bp->count };
	for (uint32_t i = bp->first; i; i = b->containers[i - 1].next) {
		struct snap_container *c = &s->containers[s->ncontainers++];

		c->name = b->containers[i - 1].name;
		c->last = b->containers[i - 1].point;
	}
	qsort(&s->containers[p->first], p->count, sizeof(*s->containers), container_cmp);
	for (uint32_t i = 0; i < p->count; i++) {
		struct snap_container *c = &s->containers[p->first + i];

		c->has_prev = container_prev(c, old, o, resolution_ns);
		if (c->has_prev) {
			s->container_prev++;
			p->in_prev = true;
		} else {
			all = false;
		}
	}
	s->pod_prev += p->in_prev;
	p->servable = all && p->count > 0;
	if (p->servable)
		pod_usage(s, p);
	idxtab_insert(&s->pod_index, p->hash, (uint32_t)s->npods);
	s->npods++;
}

struct store_snapshot *store_build_snapshot(const struct store_snapshot *old,
					    struct store_batch *b, int64_t resolution_ns)
{
	struct store_snapshot *s = snapshot_new_empty();
	size_t n = b->ncontainers ? b->ncontainers : 1, next_old = 0;

	build_nodes(s, old, b);
	s->pods = xcalloc(b->npods ? b->npods : 1, sizeof(*s->pods));
	s->containers = xcalloc(n, sizeof(*s->containers));
	s->used = xcalloc(n, sizeof(*s->used));
	idxtab_init(&s->pod_index, b->npods);
	for (size_t i = 0; i < b->npods; i++)
		build_pod(s, old, b, &b->pods[i], resolution_ns, &next_old);
	/* The names point into the batch's chunks: hand them over. */
	strpool_move_frozen(&s->pool, &b->pool);
	store_batch_free(b);
	return s;
}
