/*
 * index.c - sorted, refcounted arrays of immutable objects and the
 * snapshots built from them.
 *
 * A new array copies only pointers: merging k changes into n objects is
 * O(n + k log k), so 300,000 pods with churn stay cheap.  A snapshot
 * shares the array of the kind that did not change.
 */
#include "kube/kube_int.h"

#include <stdlib.h>
#include <string.h>

struct kube_objs {
	atomic_uint refs;
	enum kube_kind kind;
	size_t n;
	struct kube_obj **objs;           /* sorted, unique, one reference each */
	const struct kube_node **nodes;   /* typed view for KUBE_NODE, else NULL */
	const struct kube_pod **pods;     /* typed view for KUBE_POD, else NULL */
};

struct snap {
	struct kube_snapshot pub;         /* first: the public pointer is ours */
	atomic_uint refs;
	struct kube_objs *arr[KUBE_NKINDS];
};

/* A change tagged with its arrival order, so that sorting keeps the last. */
struct change {
	struct kube_obj *obj;
	size_t seq;
};

static int change_cmp(const void *pa, const void *pb)
{
	const struct change *a = pa, *b = pb;
	int c = kube__obj_cmp(a->obj, b->obj);

	if (c)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sorts changes and drops all but the last change of each key. */
static struct change *sorted_changes(struct kube_obj **changes, size_t n, size_t *out_n)
{
	struct change *cs = xcalloc(n, sizeof(*cs));
	size_t i, m = 0;
	bool sorted = true;

	for (i = 0; i < n; i++) {
		cs[i].obj = changes[i];
		cs[i].seq = i;
		if (i && sorted && kube__obj_cmp(changes[i - 1], changes[i]) >= 0)
			sorted = false;
	}
	if (!sorted) /* lists arrive sorted by key: skip the sort then */
		qsort(cs, n, sizeof(*cs), change_cmp);
	for (i = 0; i < n; i++) {
		if (i + 1 < n && !kube__obj_cmp(cs[i].obj, cs[i + 1].obj)) {
			kube__obj_unref(cs[i].obj); /* superseded */
			continue;
		}
		cs[m++] = cs[i];
	}
	*out_n = m;
	return cs;
}

static struct kube_objs *objs_alloc(enum kube_kind kind, size_t cap)
{
	struct kube_objs *a = xcalloc(1, sizeof(*a));

	atomic_init(&a->refs, 1);
	a->kind = kind;
	a->objs = xcalloc(cap, sizeof(*a->objs));
	return a;
}

static void objs_push(struct kube_objs *a, struct kube_obj *o)
{
	a->objs[a->n++] = o;
}

/* Fills the typed view the public snapshot exposes. */
static void objs_finish(struct kube_objs *a)
{
	size_t i;

	if (a->kind == KUBE_NODE) {
		a->nodes = xcalloc(a->n, sizeof(*a->nodes));
		for (i = 0; i < a->n; i++)
			a->nodes[i] = &a->objs[i]->u.node;
	} else {
		a->pods = xcalloc(a->n, sizeof(*a->pods));
		for (i = 0; i < a->n; i++)
			a->pods[i] = &a->objs[i]->u.pod;
	}
}

/* First index in [lo, n) of base whose key is >= o's. */
static size_t lower_bound(const struct kube_objs *base, size_t lo, const struct kube_obj *o)
{
	size_t hi = base->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (kube__obj_cmp(base->objs[mid], o) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Appends base[from, to) to a, one new reference each. */
static void copy_run(struct kube_objs *a, const struct kube_objs *base, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
		a->objs[a->n++] = kube__obj_ref(base->objs[i]);
}

/* Each change is placed by binary search; the runs of unchanged objects
 * between them are copied without comparing keys. */
struct kube_objs *kube__objs_merge(enum kube_kind kind, const struct kube_objs *base,
				  struct kube_obj **changes, size_t n)
{
	size_t nb = base ? base->n : 0, nc, i = 0, j, pos;
	struct change *cs = sorted_changes(changes, n, &nc);
	struct kube_objs *a = objs_alloc(kind, nb + nc);

	for (j = 0; j < nc; j++) {
		pos = base ? lower_bound(base, i, cs[j].obj) : 0;
		copy_run(a, base, i, pos);
		i = pos;
		if (i < nb && !kube__obj_cmp(base->objs[i], cs[j].obj))
			i++; /* replaced or deleted */
		if (cs[j].obj->tombstone)
			kube__obj_unref(cs[j].obj);
		else
			objs_push(a, cs[j].obj);
	}
	copy_run(a, base, i, nb);
	free(cs);
	objs_finish(a);
	return a;
}

struct kube_objs *kube__objs_ref(struct kube_objs *a)
{
	if (a)
		atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
	return a;
}

void kube__objs_unref(struct kube_objs *a)
{
	size_t i;

	if (!a || atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (i = 0; i < a->n; i++)
		kube__obj_unref(a->objs[i]);
	free(a->objs);
	free(a->nodes);
	free(a->pods);
	free(a);
}

size_t kube__objs_count(const struct kube_objs *a)
{
	return a ? a->n : 0;
}

/* ---- snapshots --------------------------------------------------------- */

struct kube_snapshot *kube__snapshot_new(struct kube_objs *nodes, struct kube_objs *pods,
					bool synced)
{
	struct snap *s = xcalloc(1, sizeof(*s));

	atomic_init(&s->refs, 1);
	s->arr[KUBE_NODE] = kube__objs_ref(nodes);
	s->arr[KUBE_POD] = kube__objs_ref(pods);
	if (nodes) {
		s->pub.nodes = nodes->nodes;
		s->pub.nnodes = nodes->n;
	}
	if (pods) {
		s->pub.pods = pods->pods;
		s->pub.npods = pods->n;
	}
	s->pub.synced = synced;
	return &s->pub;
}

struct kube_snapshot *kube__snapshot_ref(struct kube_snapshot *s)
{
	struct snap *in = (struct snap *)s;

	atomic_fetch_add_explicit(&in->refs, 1, memory_order_relaxed);
	return s;
}

void kube_snapshot_unref(struct kube_snapshot *s)
{
	struct snap *in = (struct snap *)s;

	if (!s || atomic_fetch_sub_explicit(&in->refs, 1, memory_order_acq_rel) != 1)
		return;
	kube__objs_unref(in->arr[KUBE_NODE]);
	kube__objs_unref(in->arr[KUBE_POD]);
	free(in);
}

/* ---- lookups ----------------------------------------------------------- */

static int pod_key_cmp(const struct kube_pod *p, const char *ns, const char *name)
{
	int c = strcmp(p->ns, ns);

	if (c || !name)
		return c;
	return strcmp(p->name, name);
}

/* First pod index whose (ns, name) is >= the key (name NULL = ns start). */
static size_t pod_lower_bound(const struct kube_snapshot *s, const char *ns, const char *name)
{
	size_t lo = 0, hi = s->npods, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (pod_key_cmp(s->pods[mid], ns, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct kube_node *kube_snapshot_node(const struct kube_snapshot *s, const char *name)
{
	size_t lo = 0, hi = s->nnodes, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(s->nodes[mid]->name, name);
		if (!c)
			return s->nodes[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct kube_pod *kube_snapshot_pod(const struct kube_snapshot *s, const char *ns,
					 const char *name)
{
	size_t i = pod_lower_bound(s, ns, name);

	if (i < s->npods && !pod_key_cmp(s->pods[i], ns, name))
		return s->pods[i];
	return NULL;
}

void kube_snapshot_ns_range(const struct kube_snapshot *s, const char *ns, size_t *first,
			    size_t *count)
{
	size_t i = pod_lower_bound(s, ns, NULL), j = i;

	while (j < s->npods && !strcmp(s->pods[j]->ns, ns))
		j++;
	*first = i;
	*count = j - i;
}

/* ---- from JSON lists --------------------------------------------------- */

static struct kube_objs *objs_from_list(enum kube_kind kind, json_t *list)
{
	json_t *items = json_object_get(list, "items");
	size_t i, n = 0, count = json_array_size(items);
	struct kube_obj **objs = xcalloc(count, sizeof(*objs));
	struct kube_objs *a;
	char err[256];

	for (i = 0; i < count; i++) {
		objs[n] = kube__obj_parse(kind, json_array_get(items, i), err, sizeof(err));
		if (objs[n])
			n++;
		else
			log_warn("skipping %s #%zu of the list: %s",
				 kind == KUBE_NODE ? "node" : "pod", i, err);
	}
	a = kube__objs_merge(kind, NULL, objs, n);
	free(objs);
	return a;
}

struct kube_snapshot *kube_snapshot_from_lists(json_t *nodes_list, json_t *pods_list)
{
	struct kube_objs *nodes = objs_from_list(KUBE_NODE, nodes_list);
	struct kube_objs *pods = objs_from_list(KUBE_POD, pods_list);
	struct kube_snapshot *s = kube__snapshot_new(nodes, pods, true);

	kube__objs_unref(nodes);
	kube__objs_unref(pods);
	return s;
}
