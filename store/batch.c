/*
 * batch.c - one scrape round's points, keyed by interned names.  The
 * first point for a node or a (namespace, pod, container) wins; later
 * duplicates are logged and ignored, as metrics-server's "Got duplicate
 * ... point".
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define BATCH_MAX_NAME 1024                  /* longer names are not Kubernetes names */
#define BATCH_MAX_ENTRIES (UINT32_MAX / 2)   /* indexes are uint32 */

struct pod_key {
	const char *ns;      /* interned: compared by pointer */
	const char *name;    /* not yet copied: compared by content */
};

#define BATCH_MIN_ENTRIES 64
#define BATCH_MAX_HINT (1u << 24) /* a hint never reserves more than this */

static size_t hint(size_t n)
{
	return n < BATCH_MIN_ENTRIES ? BATCH_MIN_ENTRIES : n > BATCH_MAX_HINT ? BATCH_MAX_HINT : n;
}

struct store_batch *store_batch_new_sized(size_t nodes, size_t pods, size_t containers)
{
	struct store_batch *b = xcalloc(1, sizeof(*b));

	b->cap_nodes = hint(nodes);
	b->cap_pods = hint(pods);
	b->cap_containers = hint(containers);
	/* node names are indexed; pod names are copied (distinct), namespaces
	 * and container names are few */
	strpool_init_sized(&b->pool, b->cap_nodes + 64);
	b->nodes = xmalloc(b->cap_nodes * sizeof(*b->nodes));
	b->pods = xmalloc(b->cap_pods * sizeof(*b->pods));
	b->containers = xmalloc(b->cap_containers * sizeof(*b->containers));
	idxtab_init(&b->node_index, b->cap_nodes);
	idxtab_init(&b->pod_index, b->cap_pods);
	return b;
}

struct store_batch *store_batch_new(void)
{
	return store_batch_new_sized(0, 0, 0);
}

void store_batch_free(struct store_batch *b)
{
	if (!b)
		return;
	strpool_release(&b->pool);
	free(b->nodes);
	free(b->pods);
	free(b->containers);
	idxtab_release(&b->node_index);
	idxtab_release(&b->pod_index);
	free(b);
}

/* Grows an array of `size`-byte elements so that one more fits. */
static void *grow(void *arr, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 64;
	return xrealloc(arr, *cap * size);
}

static bool name_ok(const char *s)
{
	return s && *s && strnlen(s, BATCH_MAX_NAME + 1) <= BATCH_MAX_NAME;
}

static bool node_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct store_batch *b = ctx;

	return b->nodes[idx].name == key;
}

void store_batch_add_node(struct store_batch *b, const char *node, const struct store_point *p)
{
	uint64_t hash;
	const char *name;

	if (!name_ok(node) || !p || b->nnodes >= BATCH_MAX_ENTRIES) {
		log_warn("store: ignoring node point with an invalid name or over the limit");
		return;
	}
	hash = store_hash_str(node);
	name = strpool_intern(&b->pool, node, hash);
	if (idxtab_find(&b->node_index, hash, node_eq, b, name) >= 0) {
		log_error("Got duplicate node point node=\"%s\"", node);
		return;
	}
	b->nodes = grow(b->nodes, b->nnodes, &b->cap_nodes, sizeof(*b->nodes));
	b->nodes[b->nnodes] = (struct batch_node){ .name = name, .hash = hash, .point = *p };
	idxtab_insert(&b->node_index, hash, (uint32_t)b->nnodes);
	b->nnodes++;
}

/* A namespace or container name, interned; repeats are found among the
 * recent ones before the pool's index. */
static const char *intern_recent(struct store_batch *b, const char *s)
{
	uint64_t hash = store_hash_str(s);
	const char *got;

	for (unsigned i = 0; i < BATCH_RECENT; i++)
		if (b->recent[i].s && b->recent[i].hash == hash && strcmp(b->recent[i].s, s) == 0)
			return b->recent[i].s;
	got = strpool_intern(&b->pool, s, hash);
	b->recent[b->recent_next].s = got;
	b->recent[b->recent_next].hash = hash;
	b->recent_next = (b->recent_next + 1) % BATCH_RECENT;
	return got;
}

static bool pod_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct store_batch *b = ctx;
	const struct pod_key *k = key;

	return b->pods[idx].ns == k->ns && strcmp(b->pods[idx].name, k->name) == 0;
}

/* The pod's entry: found (a pod with several containers), or new. */
static uint32_t batch_pod(struct store_batch *b, const char *ns, const char *pod)
{
	uint64_t hash = store_hash_pod(ns, pod);
	struct pod_key k = { .ns = intern_recent(b, ns), .name = pod };
	int64_t found;

	/* the pod of the previous container, most of the time */
	if (b->npods && b->pods[b->npods - 1].hash == hash && pod_eq(b, (uint32_t)b->npods - 1, &k))
		return (uint32_t)b->npods - 1;
	found = idxtab_find(&b->pod_index, hash, pod_eq, b, &k);
	if (found >= 0)
		return (uint32_t)found;
	b->pods = grow(b->pods, b->npods, &b->cap_pods, sizeof(*b->pods));
	b->pods[b->npods] = (struct batch_pod){
		.ns = k.ns, .name = strpool_copy(&b->pool, pod), .hash = hash
	};
	idxtab_insert(&b->pod_index, hash, (uint32_t)b->npods);
	return (uint32_t)b->npods++;
}

void store_batch_add_container(struct store_batch *b, const char *ns, const char *pod,
			       const char *container, const struct store_point *p)
{
	struct batch_container *c;
	const char *name;
	uint32_t pi;

	if (!name_ok(ns) || !name_ok(pod) || !name_ok(container) || !p ||
	    b->ncontainers >= BATCH_MAX_ENTRIES) {
		log_warn("store: ignoring container point with an invalid name or over the limit");
		return;
	}
	pi = batch_pod(b, ns, pod);
	name = intern_recent(b, container);
	/* a pod has a few containers: its own list finds a duplicate */
	for (uint32_t i = b->pods[pi].first; i; i = b->containers[i - 1].next) {
		if (b->containers[i - 1].name == name) {
			log_error("Got duplicate Container point container=\"%s\" pod=\"%s/%s\"",
				  container, ns, pod);
			return;
		}
	}
	b->containers = grow(b->containers, b->ncontainers, &b->cap_containers,
			     sizeof(*b->containers));
	c = &b->containers[b->ncontainers];
	*c = (struct batch_container){ .name = name, .point = *p, .pod = pi,
				       .next = b->pods[pi].first };
	b->pods[pi].first = (uint32_t)b->ncontainers + 1;
	b->pods[pi].count++;
	b->ncontainers++;
}

size_t store_batch_node_count(const struct store_batch *b)
{
	return b->nnodes;
}

size_t store_batch_pod_count(const struct store_batch *b)
{
	return b->npods;
}

size_t store_batch_container_count(const struct store_batch *b)
{
	return b->ncontainers;
}
