/*
 * batch.c - one scrape round's points, keyed by interned names, written
 * straight into the snapshot they become.  The first point for a node or
 * a (namespace, pod, container) wins; later duplicates are logged and
 * ignored, as metrics-server's "Got duplicate ... point".  The pod index
 * that finds duplicates is the snapshot's own lookup index.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define BATCH_MAX_NAME 1024   /* longer names are not Kubernetes names */
#define SORT_SMALL 16         /* pods with more containers are sorted by qsort */

struct pod_key {
	const char *ns;      /* interned: compared by pointer */
	const char *name;    /* not yet copied: compared by content */
};

struct store_batch *store__batch_wrap(struct store_snapshot *snap)
{
	struct store_batch *b = xcalloc(1, sizeof(*b));

	b->snap = snap;
	return b;
}

struct store_batch *store_batch_new_sized(size_t nodes, size_t pods, size_t containers)
{
	return store__batch_wrap(store__snapshot_new_sized(nodes, pods, containers));
}

struct store_batch *store_batch_new(void)
{
	return store_batch_new_sized(0, 0, 0);
}

void store_batch_free(struct store_batch *b)
{
	if (!b)
		return;
	store__snapshot_free(b->snap);
	free(b);
}

static bool name_ok(const char *s)
{
	return s && *s && strnlen(s, BATCH_MAX_NAME + 1) <= BATCH_MAX_NAME;
}

static bool node_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct store_snapshot *s = ctx;

	return s->nodes[idx].name == key;
}

void store_batch_add_node(struct store_batch *b, const char *node, const struct store_point *p)
{
	struct store_snapshot *s = b->snap;
	uint64_t hash;
	const char *name;

	if (!name_ok(node) || !p || s->nnodes >= STORE_MAX_ENTRIES) {
		log_warn("store: ignoring node point with an invalid name or over the limit");
		return;
	}
	hash = store__hash_str(node);
	name = store__strpool_intern(&s->pool, node, hash);
	if (store__idxtab_find(&s->node_index, hash, node_eq, s, name) >= 0) {
		log_error("Got duplicate node point node=\"%s\"", node);
		return;
	}
	s->nodes = store__reserve(s->nodes, &s->cap_nodes, s->nnodes + 1, sizeof(*s->nodes));
	s->nodes[s->nnodes] = (struct snap_node){
		.name = name, .hash = hash, .mem_bytes = p->mem_bytes,
		.last = { p->ts_ns, p->start_ns, p->cpu_ns },
	};
	store__idxtab_insert(&s->node_index, hash, (uint32_t)s->nnodes);
	s->nnodes++;
}

/* A namespace or container name, interned; repeats are found among the
 * recent ones (no hashing) before the pool's index. */
static const char *intern_recent(struct store_batch *b, const char *s)
{
	const char *got;

	for (unsigned i = 0; i < BATCH_RECENT; i++)
		if (b->recent[i] && strcmp(b->recent[i], s) == 0)
			return b->recent[i];
	got = store__strpool_intern(&b->snap->pool, s, store__hash_str(s));
	b->recent[b->recent_next] = got;
	b->recent_next = (b->recent_next + 1) % BATCH_RECENT;
	return got;
}

static bool pod_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct store_snapshot *s = ctx;
	const struct pod_key *k = key;

	return s->pods[idx].ns == k->ns && strcmp(s->pods[idx].name, k->name) == 0;
}

/* The pod's entry: found (a pod with several containers), or new. */
static uint32_t batch_pod(struct store_batch *b, const char *ns, const char *pod)
{
	struct store_snapshot *s = b->snap;
	struct pod_key k = { .ns = intern_recent(b, ns), .name = pod };
	uint64_t hash;
	int64_t found;

	/* the pod of the previous container, most of the time */
	if (s->npods && pod_eq(s, (uint32_t)s->npods - 1, &k))
		return (uint32_t)s->npods - 1;
	hash = store__hash_pod(ns, pod);
	found = store__idxtab_find_or_insert(&s->pod_index, hash, pod_eq, s, &k, (uint32_t)s->npods);
	if (found >= 0)
		return (uint32_t)found;
	s->pods = store__reserve(s->pods, &s->cap_pods, s->npods + 1, sizeof(*s->pods));
	s->pods[s->npods] = (struct snap_pod){ .ns = k.ns, .name = store__strpool_copy(&s->pool, pod) };
	return (uint32_t)s->npods++;
}

/* The three per-container arrays share one capacity. */
static void reserve_ctrs(struct store_snapshot *s, size_t need)
{
	size_t cap = s->cap_ctrs;

	s->ctrs = store__reserve(s->ctrs, &cap, need, sizeof(*s->ctrs));
	cap = s->cap_ctrs;
	s->usage = store__reserve(s->usage, &cap, need, sizeof(*s->usage));
	cap = s->cap_ctrs;
	s->link = store__reserve(s->link, &cap, need, sizeof(*s->link));
	s->cap_ctrs = cap;
}

void store_batch_add_container(struct store_batch *b, const char *ns, const char *pod,
			       const char *container, const struct store_point *p)
{
	struct store_snapshot *s = b->snap;
	struct snap_pod *sp;
	const char *name;
	uint32_t pi, k;

	if (!name_ok(ns) || !name_ok(pod) || !name_ok(container) || !p ||
	    s->nctrs >= STORE_MAX_ENTRIES) {
		log_warn("store: ignoring container point with an invalid name or over the limit");
		return;
	}
	pi = batch_pod(b, ns, pod);
	name = intern_recent(b, container);
	sp = &s->pods[pi];
	/* a pod has a few containers: its own list finds a duplicate */
	for (uint32_t i = sp->first; i; i = s->link[i - 1]) {
		if (s->usage[i - 1].name == name) {
			log_error("Got duplicate Container point container=\"%s\" pod=\"%s/%s\"",
				  container, ns, pod);
			return;
		}
	}
	if (sp->count == STORE_MAX_POD_CONTAINERS) {
		log_warn("store: ignoring container point over the limit of a pod");
		return;
	}
	reserve_ctrs(s, s->nctrs + 1);
	k = (uint32_t)s->nctrs++;
	s->ctrs[k].last = (struct snap_point){ p->ts_ns, p->start_ns, p->cpu_ns };
	s->usage[k] = (struct store_container_usage){ .name = name, .mem_bytes = p->mem_bytes };
	s->link[k] = sp->first;
	if (sp->count && b->last_ctr_pod != pi + 1)
		b->scattered = true;
	b->last_ctr_pod = pi + 1;
	sp->first = k + 1;
	sp->count++;
}

size_t store_batch_node_count(const struct store_batch *b)
{
	return b->snap->nnodes;
}

size_t store_batch_pod_count(const struct store_batch *b)
{
	return b->snap->npods;
}

size_t store_batch_container_count(const struct store_batch *b)
{
	return b->snap->nctrs;
}

/* ---- finishing: containers grouped by pod, sorted by name -------------- */

/*
 * Some pod's containers came apart (the pod was listed twice): copy every
 * pod's list into adjacent entries.  Rare, so it may allocate.
 */
static void regroup(struct store_snapshot *s)
{
	struct snap_ctr *ctrs = store__alloc(s->cap_ctrs * sizeof(*ctrs));
	struct store_container_usage *usage = store__alloc(s->cap_ctrs * sizeof(*usage));
	uint32_t pos = 0;

	for (size_t p = 0; p < s->npods; p++) {
		struct snap_pod *sp = &s->pods[p];
		uint32_t j = pos + sp->count;

		for (uint32_t i = sp->first; i; i = s->link[i - 1]) {
			j--;
			ctrs[j] = s->ctrs[i - 1];
			usage[j] = s->usage[i - 1];
		}
		sp->first = pos;
		pos += sp->count;
	}
	free(s->ctrs);
	free(s->usage);
	s->ctrs = ctrs;
	s->usage = usage;
}

struct ctr_pair {
	struct store_container_usage usage;
	struct snap_ctr ctr;
};

static int pair_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ctr_pair *)a)->usage.name,
		      ((const struct ctr_pair *)b)->usage.name);
}

/* Sorts a pod's containers by name: insertion sort for a few, else qsort
 * through a scratch array. */
static void sort_pod(struct store_snapshot *s, const struct snap_pod *sp)
{
	struct store_container_usage *u = &s->usage[sp->first];
	struct snap_ctr *c = &s->ctrs[sp->first];
	struct ctr_pair *tmp;

	if (sp->count <= SORT_SMALL) {
		for (uint32_t i = 1; i < sp->count; i++) {
			struct ctr_pair x = { u[i], c[i] };
			uint32_t j = i;

			for (; j > 0 && strcmp(u[j - 1].name, x.usage.name) > 0; j--) {
				u[j] = u[j - 1];
				c[j] = c[j - 1];
			}
			u[j] = x.usage;
			c[j] = x.ctr;
		}
		return;
	}
	tmp = xmalloc(sp->count * sizeof(*tmp));
	for (uint32_t i = 0; i < sp->count; i++)
		tmp[i] = (struct ctr_pair){ u[i], c[i] };
	qsort(tmp, sp->count, sizeof(*tmp), pair_cmp);
	for (uint32_t i = 0; i < sp->count; i++) {
		u[i] = tmp[i].usage;
		c[i] = tmp[i].ctr;
	}
	free(tmp);
}

struct store_snapshot *store__batch_finish(struct store_batch *b)
{
	struct store_snapshot *s = b->snap;

	if (b->scattered) {
		regroup(s);
	} else {
		/* each pod's containers are adjacent, ending at its newest */
		for (size_t p = 0; p < s->npods; p++)
			s->pods[p].first -= s->pods[p].count;
	}
	for (size_t p = 0; p < s->npods; p++)
		if (s->pods[p].count > 1)
			sort_pod(s, &s->pods[p]);
	free(b);
	return s;
}
