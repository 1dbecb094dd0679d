/*
 * store_query.c - object versions (index fields + serialised JSON), list
 * snapshots with selectors and pagination, and reading the watch ring.
 */
#include "test/kubesim/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void sim_obj_ref(struct sim_obj *o)
{
	atomic_fetch_add(&o->refs, 1);
}

void sim_obj_unref(struct sim_obj *o)
{
	size_t i;

	if (!o || atomic_fetch_sub(&o->refs, 1) != 1)
		return;
	free(o->ns);
	free(o->name);
	labels_clear(&o->labels);
	for (i = 0; i < SIM_MAX_FIELDS; i++)
		free(o->fields[i]);
	free(o->json);
	free(o);
}

json_t *sim_obj_load(const struct sim_obj *o)
{
	json_t *j = json_loadb(o->json, o->len, 0, NULL);

	return j ? j : json_object();
}

/* Sum of the containers' cpu requests in millicores. */
static int64_t pod_cpu_milli(const json_t *pod)
{
	json_t *containers = jpath_get(pod, "spec.containers"), *c;
	int64_t sum = 0;
	size_t i;

	json_array_foreach(containers, i, c) {
		const char *cpu = jpath_str(c, "resources.requests.cpu");
		struct quantity q;

		if (cpu && quantity_parse(cpu, &q) == ERR_OK)
			sum += quantity_milli_value(&q);
	}
	return sum;
}

struct sim_obj *sim_obj_new(const struct sim_kind *k, json_t *obj, uint64_t rv)
{
	struct sim_obj *o = xcalloc(1, sizeof(*o));
	json_t *meta = json_object_get(obj, "metadata");
	json_t *labels = json_object_get(meta, "labels"), *v;
	const char *key, *ns = json_string_value(json_object_get(meta, "namespace"));
	size_t i;

	atomic_init(&o->refs, 1);
	o->rv = rv;
	o->ns = xstrdup(ns ? ns : "");
	o->name = xstrdup(json_string_value(json_object_get(meta, "name")));
	labels_init(&o->labels);
	json_object_foreach(labels, key, v)
		if (json_is_string(v))
			labels_set(&o->labels, key, json_string_value(v));
	for (i = 0; k && k->fields && k->fields[i] && i < SIM_MAX_FIELDS; i++) {
		const char *f = jpath_str(obj, k->fields[i]);

		o->fields[i] = f ? xstrdup(f) : NULL;
	}
	if (k == &sim_kind_pods)
		o->cpu_milli = pod_cpu_milli(obj);
	o->json = json_dumps(obj, JSON_COMPACT);
	if (!o->json) {
		log_error("kubesim: cannot serialise %s", o->name);
		o->json = xstrdup("{}");
	}
	o->len = strlen(o->json);
	return o;
}

struct sim_obj *sim_obj_prepared(const char *ns, const char *name, char *json, size_t len,
				 uint64_t rv)
{
	struct sim_obj *o = xcalloc(1, sizeof(*o));

	atomic_init(&o->refs, 1);
	o->rv = rv;
	o->ns = xstrdup(ns ? ns : "");
	o->name = xstrdup(name);
	labels_init(&o->labels);
	o->json = json;
	o->len = len;
	return o;
}

void sim_obj_set_field(const struct sim_kind *k, struct sim_obj *o, const char *key,
		       const char *value)
{
	size_t i;

	for (i = 0; k && k->fields && k->fields[i] && i < SIM_MAX_FIELDS; i++) {
		if (strcmp(k->fields[i], key) == 0) {
			free(o->fields[i]);
			o->fields[i] = xstrdup(value);
			return;
		}
	}
}

const char *sim_obj_field(const struct sim_kind *k, const struct sim_obj *o, const char *key)
{
	size_t i;

	if (strcmp(key, "metadata.name") == 0)
		return o->name;
	if (strcmp(key, "metadata.namespace") == 0)
		return o->ns;
	for (i = 0; k && k->fields && k->fields[i] && i < SIM_MAX_FIELDS; i++)
		if (strcmp(k->fields[i], key) == 0)
			return o->fields[i] ? o->fields[i] : "";
	return NULL;
}

bool sim_query_matches(const struct sim_kind *k, const struct sim_query *q,
		       const struct sim_obj *o)
{
	size_t i;

	if (q->ns && *q->ns && strcmp(q->ns, o->ns) != 0)
		return false;
	if (q->labels && !selector_matches(q->labels, &o->labels))
		return false;
	for (i = 0; q->fields && i < q->fields->n; i++) {
		const struct field_req *r = &q->fields->reqs[i];
		const char *v = sim_obj_field(k, o, r->key);

		if (!v || (strcmp(v, r->value) == 0) == r->negate)
			return false;
	}
	return true;
}

/* Index of the first object with key > after ("ns/name"). */
static size_t first_after(struct sim_obj *const *objs, size_t n, const char *after)
{
	const char *slash = after ? strchr(after, '/') : NULL;
	struct sim_obj key = { 0 };
	size_t lo = 0, hi = n;
	char *ns;

	if (!slash)
		return 0;
	ns = xstrndup(after, (size_t)(slash - after));
	key.ns = ns;
	key.name = (char *)(uintptr_t)(slash + 1);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sim_obj_key_cmp(objs[mid], &key) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	free(ns);
	return lo;
}

bool sim_kind_field_supported(const struct sim_kind *k, const char *key)
{
	size_t i;

	if (strcmp(key, "metadata.name") == 0 || strcmp(key, "metadata.namespace") == 0)
		return true;
	for (i = 0; k && k->fields && k->fields[i] && i < SIM_MAX_FIELDS; i++)
		if (strcmp(k->fields[i], key) == 0)
			return true;
	return false;
}

static int check_fields(const struct sim_kind *k, const struct field_selector *fs, char *err,
			size_t errlen)
{
	size_t i;

	for (i = 0; fs && i < fs->n; i++) {
		if (!sim_kind_field_supported(k, fs->reqs[i].key)) {
			snprintf(err, errlen, "field label not supported: %s", fs->reqs[i].key);
			return ERR_INVAL;
		}
	}
	return ERR_OK;
}

int sim_store_query(struct sim_store *s, const char *resource, const struct sim_query *q,
		    struct sim_snapshot *snap, char *err, size_t errlen)
{
	struct sim_obj *const *all;
	struct sim_table *t;
	size_t n = 0, i, cap = 0;
	int rc;

	memset(snap, 0, sizeof(*snap));
	pthread_mutex_lock(&s->mu);
	snap->rv = s->rv;
	t = sim_store_table(s, resource);
	rc = t ? check_fields(t->kind, q->fields, err, errlen) : ERR_INVAL;
	if (rc)
		goto out;
	all = sim_objmap_sorted(&t->map, &n);
	for (i = first_after(all, n, q->after); i < n; i++) {
		if (!sim_query_matches(t->kind, q, all[i]))
			continue;
		if (q->limit && snap->n == q->limit) {
			snap->remaining++;
			continue;
		}
		if (snap->n == cap) {
			cap = cap ? cap * 2 : 64;
			snap->objs = xrealloc(snap->objs, cap * sizeof(*snap->objs));
		}
		sim_obj_ref(all[i]);
		snap->objs[snap->n++] = all[i];
	}
	if (snap->remaining) {
		const struct sim_obj *last = snap->objs[snap->n - 1];

		snap->next_key = xasprintf("%s/%s", last->ns, last->name);
	}
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void sim_snapshot_clear(struct sim_snapshot *snap)
{
	size_t i;

	for (i = 0; i < snap->n; i++)
		sim_obj_unref(snap->objs[i]);
	free(snap->objs);
	free(snap->next_key);
	memset(snap, 0, sizeof(*snap));
}

/* ---- watch ring ----------------------------------------------------------- */

void sim_watch_event_clear(struct sim_watch_event *ev)
{
	sim_obj_unref(ev->obj);
	if (ev->prev)
		sim_obj_unref(ev->prev);
	ev->obj = ev->prev = NULL;
}

/* Ring position of the first event with rv > after.  Lock held. */
static size_t ring_first_after(const struct sim_store *s, uint64_t after)
{
	size_t lo = 0, hi = s->ring_n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->ring[(s->ring_start + mid) % s->ring_cap].rv <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Copies matching events after *after into out.  Lock held. */
static size_t collect(struct sim_store *s, const char *resource, uint64_t *after,
		      struct sim_watch_event *out, size_t max)
{
	size_t i, n = 0;

	for (i = ring_first_after(s, *after); i < s->ring_n && n < max; i++) {
		struct sim_ring_entry *e = &s->ring[(s->ring_start + i) % s->ring_cap];

		*after = e->rv;
		if (strcmp(e->table->resource, resource) != 0)
			continue;
		out[n].type = e->type;
		out[n].kind = e->table->kind;
		out[n].resource = e->table->resource;
		out[n].obj = e->obj;
		out[n].prev = e->prev;
		sim_obj_ref(e->obj);
		if (e->prev)
			sim_obj_ref(e->prev);
		n++;
	}
	return n;
}

static void deadline_after(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int sim_store_events(struct sim_store *s, const char *resource, uint64_t after,
		     struct sim_watch_event *out, size_t max, int wait_ms, uint64_t *last,
		     uint64_t *oldest)
{
	struct timespec deadline;
	size_t n = 0;
	int rc = 0;

	deadline_after(&deadline, wait_ms);
	pthread_mutex_lock(&s->mu);
	*last = after;
	for (;;) {
		if (after < s->evicted_rv) {
			*oldest = s->ring_n ? s->ring[s->ring_start].rv : s->rv;
			rc = ERR_GONE;
			break;
		}
		n = collect(s, resource, last, out, max);
		if (n || s->waking || wait_ms <= 0)
			break;
		if (pthread_cond_timedwait(&s->changed, &s->mu, &deadline) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&s->mu);
	return rc ? rc : (int)n;
}

void sim_store_wake(struct sim_store *s)
{
	pthread_mutex_lock(&s->mu);
	s->waking = true;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->mu);
}
