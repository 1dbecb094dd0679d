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
 *
 * Entries of the previous snapshot are found by a cursor first: nodes and
 * pods come in the order of the kubelets' bodies in both snapshots, so the
 * one after the last match is usually it (a sequential read instead of a
 * hash probe into a table of the whole cluster).
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
static bool choose_prev(const struct snap_point *newp, const struct snap_point *old_last,
			const struct snap_point *old_prev, struct snap_point *prev)
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

/* The old snapshot's entry for node n: the cursor's, or by hash. */
static const struct snap_node *old_node(const struct store_snapshot *old,
					const struct snap_node *n, size_t *next)
{
	const struct snap_node *o = NULL;

	if (*next < old->nnodes && old->nodes[*next].hash == n->hash &&
	    strcmp(old->nodes[*next].name, n->name) == 0)
		o = &old->nodes[*next];
	else
		o = store__snapshot_find_node(old, n->name, n->hash);
	if (o)
		*next = (size_t)(o - old->nodes) + 1;
	return o;
}

static void build_nodes(struct store_snapshot *s, const struct store_snapshot *old)
{
	const char *why = NULL;
	size_t next = 0;

	for (size_t i = 0; i < s->nnodes; i++) {
		struct snap_node *n = &s->nodes[i];
		const struct snap_node *o = old_node(old, n, &next);

		if (o)
			n->has_prev = choose_prev(&n->last, &o->last, o->has_prev ? &o->prev : NULL,
						  &n->prev);
		if (n->has_prev) {
			s->node_prev++;
			n->servable = store__rate(&n->last, n->mem_bytes, &n->prev, &n->usage, &why) ==
				      ERR_OK;
			if (!n->servable)
				log_error("Skipping node usage metric err=\"%s\" node=\"%s\"", why, n->name);
		}
	}
}

/* The old snapshot's entry for pod p: the cursor's, or by hash. */
static const struct snap_pod *old_pod(const struct store_snapshot *old, const struct snap_pod *p,
				      size_t *next)
{
	const struct snap_pod *o = NULL;

	if (*next < old->npods && strcmp(old->pods[*next].name, p->name) == 0 &&
	    strcmp(old->pods[*next].ns, p->ns) == 0)
		o = &old->pods[*next];
	else
		o = store__snapshot_find_pod(old, p->ns, p->name, store__hash_pod(p->ns, p->name));
	if (o)
		*next = (size_t)(o - old->pods) + 1;
	return o;
}

/* The old pod's container `name` (sorted by name), or -1. */
static int64_t old_container(const struct store_snapshot *old, const struct snap_pod *o,
			     const char *name)
{
	size_t lo = 0, hi = o->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(old->usage[o->first + mid].name, name);

		if (cmp == 0)
			return (int64_t)(o->first + mid);
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Chooses the prev of container k, of pod o before (NULL: pod not seen). */
static bool container_prev(struct store_snapshot *s, uint32_t k, const struct store_snapshot *old,
			   const struct snap_pod *o, int64_t resolution_ns)
{
	const struct snap_point *np = &s->ctrs[k].last;
	int64_t age = sub_sat(np->ts_ns, np->start_ns);
	int64_t oc;

	if (np->start_ns < np->ts_ns && age < resolution_ns && age >= FRESH_MIN_NS) {
		s->ctrs[k].prev = (struct snap_point){ np->start_ns, np->start_ns, 0 };
		return true;
	}
	if (!o)
		return false;
	oc = old_container(old, o, s->usage[k].name);
	if (oc < 0 || !(np->start_ns < old->ctrs[oc].last.ts_ns))  /* unknown, or restarted */
		return false;
	return choose_prev(np, &old->ctrs[oc].last,
			   (o->flags & POD_IN_PREV) && (old->link[oc] & CTR_HAS_PREV) ?
				   &old->ctrs[oc].prev : NULL,
			   &s->ctrs[k].prev);
}

/*
 * Rates of a servable pod's containers, in place in usage[]; the pod's
 * time is the container with the earliest newer timestamp.  When a rate
 * check fails the served usages are the others: copied to spill[].
 */
static void pod_usage(struct store_snapshot *s, struct snap_pod *p)
{
	const char *why = NULL;
	int64_t best = 0;

	p->used = p->first;
	for (uint32_t i = 0; i < p->count; i++) {
		uint32_t k = p->first + i;
		struct store_usage u;

		if (store__rate(&s->ctrs[k].last, s->usage[k].mem_bytes, &s->ctrs[k].prev, &u, &why) !=
		    ERR_OK) {
			log_error("Skipping container usage metric err=\"%s\" container=\"%s\" pod=\"%s/%s\"",
				  why, s->usage[k].name, p->ns, p->name);
			s->link[k] |= CTR_RATE_FAILED;
			p->flags |= POD_SPILLED;
			continue;
		}
		s->usage[k].cpu_nanocores = u.cpu_nanocores;
		if (p->nused++ == 0 || u.ts_ns < best) {
			best = u.ts_ns;
			p->time_off = (uint16_t)i;
		}
	}
	if (!(p->flags & POD_SPILLED))
		return;
	p->used = (uint32_t)s->nspill;
	s->spill = store__reserve(s->spill, &s->cap_spill, s->nspill + p->nused, sizeof(*s->spill));
	for (uint32_t k = p->first; k < p->first + p->count; k++)
		if (!(s->link[k] & CTR_RATE_FAILED))
			s->spill[s->nspill++] = s->usage[k];
}

static void build_pod(struct store_snapshot *s, struct snap_pod *p,
		      const struct store_snapshot *old, const struct snap_pod *o,
		      int64_t resolution_ns)
{
	bool all = true;

	for (uint32_t k = p->first; k < p->first + p->count; k++) {
		bool has_prev = container_prev(s, k, old, o, resolution_ns);

		s->link[k] = has_prev ? CTR_HAS_PREV : 0;
		if (has_prev) {
			s->container_prev++;
			p->flags |= POD_IN_PREV;
		} else {
			all = false;
		}
	}
	s->pod_prev += (p->flags & POD_IN_PREV) != 0;
	if (all && p->count > 0) {
		p->flags |= POD_SERVABLE;
		pod_usage(s, p);
	}
}

void store__build_snapshot(struct store_snapshot *s, const struct store_snapshot *old,
			  int64_t resolution_ns)
{
	size_t next = 0;

	build_nodes(s, old);
	for (size_t i = 0; i < s->npods; i++)
		build_pod(s, &s->pods[i], old, old_pod(old, &s->pods[i], &next), resolution_ns);
}
