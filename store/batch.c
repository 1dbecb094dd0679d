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

struct container_key {
	uint32_t pod;
	const char *name;    /* interned: compared by pointer */
};

struct pod_key {
	const char *ns, *name;  /* interned */
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
	/* node and pod names are distinct; container names and namespaces repeat */
	strpool_init_sized(&b->pool, b->cap_nodes + b->cap_pods);
	b->nodes = xmalloc(b->cap_nodes * sizeof(*b->nodes));
	b->pods = xmalloc(b->cap_pods * sizeof(*b->pods));
	b->containers = xmalloc(b->cap_containers * sizeof(*b->containers));
	idxtab_init(&b->node_index, b->cap_nodes);
	idxtab_init(&b->pod_index, b->cap_pods);
	idxtab_init(&b->container_index, b->cap_containers);
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
	idxtab_release(&b->container_index);
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

static bool pod_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct store_batch *b = ctx;
	const struct pod_key *k = key;

	return b->pods[idx].ns == k->ns && b->pods[idx].name == k->name;
}

static uint32_t batch_pod(struct store_batch *b, const char *ns, const char *pod)
{
	uint64_t hash = store_hash_pod(ns, pod);
	struct pod_key k = {
		.ns = strpool_intern(&b->pool, ns, store_hash_str(ns)),
		.name = strpool_intern(&b->pool, pod, store_hash_str(pod)),
	};
	int64_t found = idxtab_find(&b->pod_index, hash, pod_eq, b, &k);

	if (found >= 0)
		return (uint32_t)found;
	b->pods = grow(b->pods, b->npods, &b->cap_pods, sizeof(*b->pods));
	b->pods[b->npods] = (struct batch_pod){ .ns = k.ns, .name = k.name, .hash = hash };
	idxtab_insert(&b->pod_index, hash, (uint32_t)b->npods);
	return (uint32_t)b->npods++;
}

static bool container_eq(const void *ctx, uint32_t idx, const void *key)
{
	const struct store_batch *b = ctx;
	const struct container_key *k = key;

	return b->containers[idx].pod == k->pod && b->containers[idx].name == k->name;
}

void store_batch_add_container(struct store_batch *b, const char *ns, const char *pod,
			       const char *container, const struct store_point *p)
{
	struct container_key k;
	struct batch_container *c;
	uint64_t name_hash, hash;

	if (!name_ok(ns) || !name_ok(pod) || !name_ok(container) || !p ||
	    b->ncontainers >= BATCH_MAX_ENTRIES) {
		log_warn("store: ignoring container point with an invalid name or over the limit");
		return;
	}
	k.pod = batch_pod(b, ns, pod);
	name_hash = store_hash_str(container);
	k.name = strpool_intern(&b->pool, container, name_hash);
	hash = b->pods[k.pod].hash ^ (name_hash * UINT64_C(0x9E3779B97F4A7C15));
	if (idxtab_find(&b->container_index, hash, container_eq, b, &k) >= 0) {
		log_error("Got duplicate Container point container=\"%s\" pod=\"%s/%s\"", container,
			  ns, pod);
		return;
	}
	b->containers = grow(b->containers, b->ncontainers, &b->cap_containers,
			     sizeof(*b->containers));
	c = &b->containers[b->ncontainers];
	*c = (struct batch_container){ .name = k.name, .point = *p, .pod = k.pod,
				       .next = b->pods[k.pod].first };
	b->pods[k.pod].first = (uint32_t)b->ncontainers + 1;
	b->pods[k.pod].count++;
	idxtab_insert(&b->container_index, hash, (uint32_t)b->ncontainers);
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
