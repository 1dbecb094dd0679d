/*
 * store.c - kubesim's object store: one table per resource, a global
 * resourceVersion, a bounded ring of recent events for watches, and
 * in-process subscribers.  One mutex guards everything; lists copy
 * references out and serialise after unlocking.
 */
#include "test/kubesim/store_int.h"

#include <stdlib.h>
#include <string.h>

struct sim_store *sim_store_new(size_t ring_size)
{
	struct sim_store *s = xcalloc(1, sizeof(*s));

	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->changed, NULL);
	s->ring_cap = ring_size ? ring_size : SIM_DEFAULT_RING;
	s->ring = xcalloc(s->ring_cap, sizeof(*s->ring));
	return s;
}

static void ring_entry_clear(struct sim_ring_entry *e)
{
	sim_obj_unref(e->obj);
	if (e->prev)
		sim_obj_unref(e->prev);
}

void sim_store_free(struct sim_store *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->ring_n; i++)
		ring_entry_clear(&s->ring[(s->ring_start + i) % s->ring_cap]);
	for (i = 0; i < s->ntables; i++) {
		sim_objmap_clear(&s->tables[i].map);
		free(s->tables[i].resource);
	}
	for (i = 0; i < s->nsubs; i++)
		free(s->subs[i].resource);
	free(s->ring);
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

uint64_t sim_store_rv(struct sim_store *s)
{
	uint64_t rv;

	pthread_mutex_lock(&s->mu);
	rv = s->rv;
	pthread_mutex_unlock(&s->mu);
	return rv;
}

void sim_store_subscribe(struct sim_store *s, const char *resource, sim_store_cb cb, void *ud)
{
	pthread_mutex_lock(&s->mu);
	if (s->nsubs < SIM_MAX_SUBSCRIBERS) {
		s->subs[s->nsubs].resource = xstrdup(resource);
		s->subs[s->nsubs].cb = cb;
		s->subs[s->nsubs].ud = ud;
		s->nsubs++;
	} else {
		log_error("kubesim store: too many subscribers, %s dropped", resource);
	}
	pthread_mutex_unlock(&s->mu);
}

struct sim_table *sim_store_table(struct sim_store *s, const char *resource)
{
	struct sim_table *t;
	size_t i;

	for (i = 0; i < s->ntables; i++)
		if (strcmp(s->tables[i].resource, resource) == 0)
			return &s->tables[i];
	if (s->ntables == SIM_MAX_RESOURCES)
		return NULL;
	t = &s->tables[s->ntables++];
	t->resource = xstrdup(resource);
	t->kind = sim_kind_by_resource(resource);
	sim_objmap_init(&t->map);
	return t;
}

/* Appends an event (takes the references), evicting the oldest. */
static void ring_push(struct sim_store *s, enum sim_event type, struct sim_table *t,
		      struct sim_obj *obj, struct sim_obj *prev)
{
	struct sim_ring_entry *e;

	if (s->ring_n == s->ring_cap) {
		e = &s->ring[s->ring_start];
		s->evicted_rv = e->rv;
		ring_entry_clear(e);
		s->ring_start = (s->ring_start + 1) % s->ring_cap;
		s->ring_n--;
	}
	e = &s->ring[(s->ring_start + s->ring_n) % s->ring_cap];
	e->rv = obj->rv;
	e->type = type;
	e->table = t;
	e->obj = obj;
	e->prev = prev;
	s->ring_n++;
	pthread_cond_broadcast(&s->changed);
}

static void notify(struct sim_store *s, enum sim_event ev, const char *resource,
		   const json_t *obj)
{
	size_t i;

	for (i = 0; i < s->nsubs; i++)
		if (strcmp(s->subs[i].resource, resource) == 0)
			s->subs[i].cb(s->subs[i].ud, ev, resource, obj);
}

/* Object key from metadata; ns is "" for cluster scope.  Lock held. */
static int object_key(const struct sim_table *t, json_t *obj, const char **ns,
		      const char **name)
{
	json_t *meta = json_object_get(obj, "metadata");

	if (!json_is_object(meta))
		return ERR_INVAL;
	if (t->kind && !t->kind->namespaced)
		json_object_del(meta, "namespace");
	*name = json_string_value(json_object_get(meta, "name"));
	*ns = json_string_value(json_object_get(meta, "namespace"));
	if (!*ns)
		*ns = "";
	if (!*name || !**name || (t->kind && t->kind->namespaced && !**ns))
		return ERR_INVAL;
	return ERR_OK;
}

/* metadata.generateName + 5 characters, unused in t.  Lock held. */
static void generate_name(struct sim_store *s, struct sim_table *t, json_t *meta)
{
	const char *base = json_string_value(json_object_get(meta, "generateName"));
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	uint64_t state = 0x9e3779b97f4a7c15ULL ^ (s->uid_seq + 1) ^ s->rv;
	char suffix[6], *name;

	if (!base || json_object_get(meta, "name"))
		return;
	for (;;) {
		sim_rand_suffix(&state, suffix, 5);
		name = xasprintf("%.58s%s", base, suffix);
		if (!sim_objmap_get(&t->map, ns ? ns : "", name))
			break;
		free(name);
	}
	json_object_set_new(meta, "name", json_string(name));
	free(name);
}

static void set_rv(json_t *meta, uint64_t rv)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)rv);
	json_object_set_new(meta, "resourceVersion", json_string(buf));
}

int sim_store_create(struct sim_store *s, const char *resource, json_t *obj)
{
	struct sim_table *t;
	struct sim_obj *o;
	const char *ns, *name;
	char ts[40], uid[40];
	json_t *meta;
	int rc = ERR_OK;

	pthread_mutex_lock(&s->mu);
	t = sim_store_table(s, resource);
	meta = json_object_get(obj, "metadata");
	if (!t || !json_is_object(meta)) {
		rc = ERR_INVAL;
		goto out;
	}
	generate_name(s, t, meta);
	rc = object_key(t, obj, &ns, &name);
	if (rc)
		goto out;
	if (sim_objmap_get(&t->map, ns, name)) {
		rc = ERR_CONFLICT;
		goto out;
	}
	json_object_del(obj, "kind");
	json_object_del(obj, "apiVersion");
	if (t->kind && t->kind->defaults)
		t->kind->defaults(obj, true);
	sim_uid(++s->uid_seq, uid, sizeof(uid));
	fmt_rfc3339(clock_now_ns(), ts, sizeof(ts));
	json_object_set_new(meta, "uid", json_string(uid));
	set_rv(meta, ++s->rv);
	if (t->kind && t->kind->generation)
		json_object_set_new(meta, "generation", json_integer(1));
	json_object_set_new(meta, "creationTimestamp", json_string(ts));
	o = sim_obj_new(t->kind, obj, s->rv);
	sim_objmap_put(&t->map, o);
	sim_obj_ref(o);
	ring_push(s, SIM_ADDED, t, o, NULL);
	notify(s, SIM_ADDED, resource, obj);
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* Carries server-owned metadata over from the stored version. */
static void keep_server_fields(const struct sim_table *t, json_t *obj, const json_t *oldj)
{
	json_t *meta = json_object_get(obj, "metadata");
	const json_t *ometa = json_object_get(oldj, "metadata");
	static const char *const keep[] = { "uid", "creationTimestamp", "generation",
					    "resourceVersion" };
	size_t i;

	for (i = 0; i < COMMON_ARRAY_LEN(keep); i++) {
		json_t *v = json_object_get(ometa, keep[i]);

		if (v)
			json_object_set(meta, keep[i], v);
		else
			json_object_del(meta, keep[i]);
	}
	if (t->kind && t->kind->generation &&
	    !json_equal(json_object_get(obj, "spec"), json_object_get(oldj, "spec")))
		json_object_set_new(meta, "generation",
				    json_integer(json_integer_value(
							 json_object_get(ometa, "generation")) + 1));
}

/* Replaces `old` (stored, borrowed) with obj.  Lock held. */
static int update_locked(struct sim_store *s, struct sim_table *t, struct sim_obj *old,
			 json_t *obj)
{
	json_t *oldj = sim_obj_load(old);
	struct sim_obj *o;
	int rc = ERR_OK;

	json_object_del(obj, "kind");
	json_object_del(obj, "apiVersion");
	if (t->kind && t->kind->defaults)
		t->kind->defaults(obj, false);
	keep_server_fields(t, obj, oldj);
	if (json_equal(obj, oldj))
		goto out; /* no change, no new resourceVersion (as kube-apiserver) */
	set_rv(json_object_get(obj, "metadata"), ++s->rv);
	o = sim_obj_new(t->kind, obj, s->rv);
	sim_obj_ref(o);
	old = sim_objmap_put(&t->map, o);
	ring_push(s, SIM_MODIFIED, t, o, old);
	notify(s, SIM_MODIFIED, t->resource, obj);
out:
	json_decref(oldj);
	return rc;
}

/* Stored object for obj's key; checks a given resourceVersion.  Lock held. */
static int find_for_update(struct sim_store *s, const char *resource, json_t *obj,
			   struct sim_table **t, struct sim_obj **old)
{
	const char *ns, *name, *rv;
	char buf[24];
	int rc;

	*t = sim_store_table(s, resource);
	if (!*t)
		return ERR_INVAL;
	rc = object_key(*t, obj, &ns, &name);
	if (rc)
		return rc;
	*old = sim_objmap_get(&(*t)->map, ns, name);
	if (!*old)
		return ERR_NOTFOUND;
	rv = json_string_value(json_object_get(json_object_get(obj, "metadata"),
					       "resourceVersion"));
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(*old)->rv);
	if (rv && *rv && strcmp(rv, buf) != 0)
		return ERR_CONFLICT;
	return ERR_OK;
}

int sim_store_update(struct sim_store *s, const char *resource, json_t *obj)
{
	struct sim_table *t;
	struct sim_obj *old;
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = find_for_update(s, resource, obj, &t, &old);
	if (rc == ERR_OK)
		rc = update_locked(s, t, old, obj);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int sim_store_modify(struct sim_store *s, const char *resource, const char *ns,
		     const char *name, sim_store_modify_fn fn, void *ud, json_t **out)
{
	struct sim_table *t;
	struct sim_obj *old;
	json_t *obj = NULL;
	int rc = ERR_NOTFOUND;

	pthread_mutex_lock(&s->mu);
	t = sim_store_table(s, resource);
	old = t ? sim_objmap_get(&t->map, ns ? ns : "", name) : NULL;
	if (!old)
		goto out;
	obj = sim_obj_load(old);
	rc = fn(ud, obj);
	if (rc)
		goto out;
	rc = find_for_update(s, resource, obj, &t, &old);
	if (rc == ERR_OK)
		rc = update_locked(s, t, old, obj);
out:
	pthread_mutex_unlock(&s->mu);
	if (rc == ERR_OK && out)
		*out = obj;
	else
		json_decref(obj);
	return rc;
}

int sim_store_delete(struct sim_store *s, const char *resource, const char *ns,
		     const char *name)
{
	struct sim_table *t;
	struct sim_obj *old, *o;
	json_t *oldj;
	int rc = ERR_NOTFOUND;

	pthread_mutex_lock(&s->mu);
	t = sim_store_table(s, resource);
	old = t ? sim_objmap_del(&t->map, ns ? ns : "", name) : NULL;
	if (!old)
		goto out;
	oldj = sim_obj_load(old);
	set_rv(json_object_get(oldj, "metadata"), ++s->rv);
	o = sim_obj_new(t->kind, oldj, s->rv);
	ring_push(s, SIM_DELETED, t, o, NULL);
	notify(s, SIM_DELETED, resource, oldj);
	json_decref(oldj);
	sim_obj_unref(old);
	rc = ERR_OK;
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

uint64_t sim_store_next_rv(struct sim_store *s)
{
	uint64_t rv;

	pthread_mutex_lock(&s->mu);
	rv = ++s->rv;
	pthread_mutex_unlock(&s->mu);
	return rv;
}

uint64_t sim_store_next_uid(struct sim_store *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->mu);
	n = ++s->uid_seq;
	pthread_mutex_unlock(&s->mu);
	return n;
}

static bool has_subscriber(const struct sim_store *s, const char *resource)
{
	size_t i;

	for (i = 0; i < s->nsubs; i++)
		if (strcmp(s->subs[i].resource, resource) == 0)
			return true;
	return false;
}

int sim_store_insert_prepared(struct sim_store *s, const char *resource, struct sim_obj *o)
{
	struct sim_table *t;
	int rc = ERR_OK;

	pthread_mutex_lock(&s->mu);
	t = sim_store_table(s, resource);
	if (!t || sim_objmap_get(&t->map, o->ns, o->name)) {
		rc = t ? ERR_CONFLICT : ERR_INVAL;
		sim_obj_unref(o);
		goto out;
	}
	sim_objmap_put(&t->map, o);
	sim_obj_ref(o);
	ring_push(s, SIM_ADDED, t, o, NULL);
	if (has_subscriber(s, resource)) {
		json_t *j = sim_obj_load(o);

		notify(s, SIM_ADDED, resource, j);
		json_decref(j);
	}
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

struct sim_obj *sim_store_get_obj(struct sim_store *s, const char *resource, const char *ns,
				  const char *name)
{
	struct sim_table *t;
	struct sim_obj *o = NULL;

	pthread_mutex_lock(&s->mu);
	t = sim_store_table(s, resource);
	if (t)
		o = sim_objmap_get(&t->map, ns ? ns : "", name);
	if (o)
		sim_obj_ref(o);
	pthread_mutex_unlock(&s->mu);
	return o;
}

json_t *sim_store_get(struct sim_store *s, const char *resource, const char *ns,
		      const char *name)
{
	struct sim_obj *o = sim_store_get_obj(s, resource, ns, name);
	json_t *j;

	if (!o)
		return NULL;
	j = sim_obj_load(o);
	sim_obj_unref(o);
	return j;
}

size_t sim_store_foreach(struct sim_store *s, const char *resource, const char *ns,
			 void (*fn)(void *ud, const json_t *obj), void *ud)
{
	struct sim_query q = { .ns = ns };
	struct sim_snapshot snap;
	char err[64];
	size_t i, n = 0;

	if (sim_store_query(s, resource, &q, &snap, err, sizeof(err)) != ERR_OK)
		return 0;
	for (i = 0; i < snap.n; i++) {
		json_t *j = sim_obj_load(snap.objs[i]);

		fn(ud, j);
		json_decref(j);
		/* Drop each version as soon as it is used. */
		sim_obj_unref(snap.objs[i]);
		snap.objs[i] = NULL;
	}
	n = snap.n;
	snap.n = 0;
	sim_snapshot_clear(&snap);
	return n;
}

json_t *sim_store_list(struct sim_store *s, const char *resource, const char *ns)
{
	struct sim_query q = { .ns = ns };
	struct sim_snapshot snap;
	json_t *arr = json_array();
	char err[64];
	size_t i;

	if (sim_store_query(s, resource, &q, &snap, err, sizeof(err)) == ERR_OK) {
		for (i = 0; i < snap.n; i++)
			json_array_append_new(arr, sim_obj_load(snap.objs[i]));
		sim_snapshot_clear(&snap);
	}
	return arr;
}
