/*
 * controller.c - the Deployment controller and the pod-lifecycle queue.
 *
 * Store callbacks (store lock held) only mark work; a thread does it:
 * every pod that is not yet Running+Ready is advanced by lifecycle.c,
 * and every Deployment gets pods named <deploy>-<template hash>-<5 chars>
 * (labels from the template plus pod-template-hash, an ownerReference to
 * the ReplicaSet kube would create), surplus or outdated pods deleted
 * (not-ready and newest first), and its status counted.
 */
#include "test/kubesim/controller_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONTROLLER_TICK_MS 100
#define CONTROLLER_MAX_CREATE 500 /* pods created per deployment per pass */

/* ---- store callbacks --------------------------------------------------------------- */

static void on_pod(void *ud, enum sim_event ev, const char *resource, const json_t *obj)
{
	struct sim_controller *ctl = ud;
	const char *ns = jpath_str(obj, "metadata.namespace");
	const char *name = jpath_str(obj, "metadata.name");
	char key[512];

	COMMON_UNUSED(resource);
	if (!ns || !name)
		return;
	snprintf(key, sizeof(key), "%s/%s", ns, name);
	pthread_mutex_lock(&ctl->mu);
	if (ev != SIM_DELETED && sim_lifecycle_pending(obj))
		json_object_set_new(ctl->pods_in_flight, key, json_true());
	if (jpath_get(obj, "metadata.labels.pod-template-hash"))
		ctl->deployments_dirty = true;
	pthread_cond_signal(&ctl->wake);
	pthread_mutex_unlock(&ctl->mu);
}

static void on_other(void *ud, enum sim_event ev, const char *resource, const json_t *obj)
{
	struct sim_controller *ctl = ud;

	COMMON_UNUSED(obj);
	pthread_mutex_lock(&ctl->mu);
	ctl->deployments_dirty = true;
	if (ev == SIM_DELETED && strcmp(resource, "deployments") == 0)
		ctl->gc_needed = true;
	if (strcmp(resource, "nodes") == 0 && json_object_size(ctl->pods_in_flight))
		ctl->deployments_dirty = true; /* room may have appeared */
	pthread_cond_signal(&ctl->wake);
	pthread_mutex_unlock(&ctl->mu);
}

/* ---- deployment reconcile ------------------------------------------------------------ */

/* kube's pod-template-hash: a 32-bit FNV of the template, SafeEncodeString'd. */
static void template_hash(const json_t *tmpl, char *buf, size_t len)
{
	static const char alphanums[] = "bcdfghjklmnpqrstvwxz2456789";
	char *s = json_dumps(tmpl, JSON_COMPACT | JSON_SORT_KEYS), digits[16];
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; s && s[i]; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	free(s);
	snprintf(digits, sizeof(digits), "%u", h);
	for (i = 0; digits[i] && i + 1 < len; i++)
		buf[i] = alphanums[(unsigned char)digits[i] % (sizeof(alphanums) - 1)];
	buf[i] = '\0';
}

static json_t *pod_from_template(struct sim_controller *ctl, const json_t *d, const char *hash)
{
	const char *dname = jpath_str(d, "metadata.name");
	const char *ns = jpath_str(d, "metadata.namespace");
	json_t *tmpl = jpath_get(d, "spec.template");
	json_t *meta = json_deep_copy(json_object_get(tmpl, "metadata"));
	json_t *spec = json_deep_copy(json_object_get(tmpl, "spec"));
	char suffix[6], name[300], rs[280], uid[40];
	json_t *labels;

	if (!json_is_object(meta))
		meta = json_object();
	if (!json_is_object(spec))
		spec = json_object();
	sim_rand_suffix(&ctl->rng, suffix, 5);
	snprintf(rs, sizeof(rs), "%s-%s", dname, hash);
	snprintf(name, sizeof(name), "%s-%s", rs, suffix);
	sim_uid(sim_rand_next(&ctl->rng), uid, sizeof(uid));
	labels = json_object_get(meta, "labels");
	if (!json_is_object(labels)) {
		labels = json_object();
		json_object_set_new(meta, "labels", labels);
	}
	json_object_set_new(labels, "pod-template-hash", json_string(hash));
	json_object_set_new(meta, "name", json_string(name));
	json_object_set_new(meta, "generateName", json_sprintf("%s-", rs));
	json_object_set_new(meta, "namespace", json_string(ns));
	json_object_set_new(meta, "ownerReferences",
			    json_pack("[{s:s,s:s,s:s,s:s,s:b,s:b}]", "apiVersion", "apps/v1", "kind",
				      "ReplicaSet", "name", rs, "uid", uid, "controller", 1,
				      "blockOwnerDeletion", 1));
	if (!json_object_get(spec, "restartPolicy"))
		json_object_set_new(spec, "restartPolicy", json_string("Always"));
	if (!json_object_get(spec, "schedulerName"))
		json_object_set_new(spec, "schedulerName", json_string("default-scheduler"));
	return json_pack("{s:o,s:o,s:{s:s}}", "metadata", meta, "spec", spec, "status", "phase",
			 "Pending");
}

struct pod_view {
	struct sim_obj *obj;
	bool current;   /* has the deployment's current template hash */
	bool ready;
	int64_t created;
};

/* Deletion order: outdated first, then not ready, then newest. */
static int cmp_delete_order(const void *a, const void *b)
{
	const struct pod_view *x = a, *y = b;

	if (x->current != y->current)
		return x->current ? 1 : -1;
	if (x->ready != y->ready)
		return x->ready ? 1 : -1;
	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return strcmp(x->obj->name, y->obj->name);
}

static struct pod_view *owned_pods(struct sim_store *s, const json_t *d, const char *hash,
				   size_t *n)
{
	char *sel_text = sim_label_selector_string(jpath_get(d, "spec.selector"));
	char err[256];
	struct selector *sel = selector_parse(sel_text, err, sizeof(err));
	struct sim_query q = { .ns = jpath_str(d, "metadata.namespace"), .labels = sel };
	struct sim_snapshot snap;
	struct pod_view *v = NULL;
	size_t i;

	*n = 0;
	if (sel && !selector_empty(sel) &&
	    sim_store_query(s, "pods", &q, &snap, err, sizeof(err)) == ERR_OK) {
		v = xcalloc(snap.n ? snap.n : 1, sizeof(*v));
		for (i = 0; i < snap.n; i++) {
			json_t *pod = sim_obj_load(snap.objs[i]);
			const char *h = labels_get(&snap.objs[i]->labels, "pod-template-hash");
			const char *ready = sim_condition_status(pod, "Ready");
			const char *ts = jpath_str(pod, "metadata.creationTimestamp");

			v[i].obj = snap.objs[i];
			sim_obj_ref(v[i].obj);
			v[i].current = h && strcmp(h, hash) == 0;
			v[i].ready = ready && strcmp(ready, "True") == 0;
			if (!ts || parse_rfc3339(ts, &v[i].created))
				v[i].created = 0;
			json_decref(pod);
		}
		*n = snap.n;
		sim_snapshot_clear(&snap);
	}
	selector_free(sel);
	free(sel_text);
	return v;
}

struct status_counts {
	json_int_t replicas, updated, ready, generation;
};

static void set_deploy_condition(json_t *conds, json_t *old, const char *type, bool ok,
				 const char *reason, const char *msg, const char *ts)
{
	json_t *c;
	size_t i;

	json_array_foreach(old, i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *st = json_string_value(json_object_get(c, "status"));

		if (t && strcmp(t, type) == 0 && st && strcmp(st, ok ? "True" : "False") == 0) {
			json_array_append(conds, c);
			return;
		}
	}
	json_array_append_new(conds, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", type, "status",
					       ok ? "True" : "False", "lastUpdateTime", ts,
					       "lastTransitionTime", ts, "reason", reason, "message",
					       msg));
}

static int write_status(void *ud, json_t *d)
{
	const struct status_counts *n = ud;
	json_int_t want = json_integer_value(jpath_get(d, "spec.replicas"));
	json_t *old = jpath_get(d, "status.conditions"), *conds = json_array();
	char ts[40];

	fmt_rfc3339(clock_now_ns(), ts, sizeof(ts));
	set_deploy_condition(conds, old, "Available", n->ready >= want,
			     n->ready >= want ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
			     n->ready >= want ? "Deployment has minimum availability."
					      : "Deployment does not have minimum availability.", ts);
	set_deploy_condition(conds, old, "Progressing", true, "NewReplicaSetAvailable",
			     "ReplicaSet has successfully progressed.", ts);
	json_object_set_new(d, "status",
			    json_pack("{s:I,s:I,s:I,s:I,s:I,s:o}", "observedGeneration",
				      n->generation, "replicas", n->replicas, "updatedReplicas",
				      n->updated, "readyReplicas", n->ready, "availableReplicas",
				      n->ready, "conditions", conds));
	if (n->replicas - n->ready > 0)
		json_object_set_new(json_object_get(d, "status"), "unavailableReplicas",
				    json_integer(n->replicas - n->ready));
	if (!n->ready) {
		json_object_del(json_object_get(d, "status"), "readyReplicas");
		json_object_del(json_object_get(d, "status"), "availableReplicas");
	}
	return ERR_OK;
}

static void reconcile(struct sim_controller *ctl, const json_t *d)
{
	struct sim_store *s = ctl->c->store;
	const char *ns = jpath_str(d, "metadata.namespace");
	const char *name = jpath_str(d, "metadata.name");
	json_int_t want = json_integer_value(jpath_get(d, "spec.replicas"));
	struct status_counts counts = { .generation = json_integer_value(
						 jpath_get(d, "metadata.generation")) };
	struct pod_view *pods;
	size_t n, i, current = 0, extra;
	char hash[16];

	template_hash(jpath_get(d, "spec.template"), hash, sizeof(hash));
	pods = owned_pods(s, d, hash, &n);
	for (i = 0; i < n; i++)
		current += pods[i].current;
	qsort(pods, n, sizeof(*pods), cmp_delete_order);
	extra = n - current + (current > (size_t)want ? current - (size_t)want : 0);
	for (i = 0; i < n; i++) {
		if (i < extra) {
			(void)sim_store_delete(s, "pods", ns, pods[i].obj->name);
			continue;
		}
		counts.replicas++;
		counts.updated += pods[i].current;
		counts.ready += pods[i].ready;
	}
	for (i = current; (json_int_t)i < want && i - current < CONTROLLER_MAX_CREATE; i++) {
		json_t *pod = pod_from_template(ctl, d, hash);

		if (sim_store_create(s, "pods", pod) == ERR_OK)
			counts.replicas++, counts.updated++;
		json_decref(pod);
	}
	for (i = 0; i < n; i++)
		sim_obj_unref(pods[i].obj);
	free(pods);
	(void)sim_store_modify(s, "deployments", ns, name, write_status, &counts, NULL);
}

/* Deletes pods whose ReplicaSet owner names no existing deployment. */
static void collect_garbage(struct sim_controller *ctl)
{
	struct sim_store *s = ctl->c->store;
	char err[128];
	struct selector *sel = selector_parse("pod-template-hash", err, sizeof(err));
	struct sim_query q = { .labels = sel };
	struct sim_snapshot snap;
	size_t i;

	if (sim_store_query(s, "pods", &q, &snap, err, sizeof(err)) == ERR_OK) {
		for (i = 0; i < snap.n; i++) {
			json_t *pod = sim_obj_load(snap.objs[i]);
			const char *rs, *hash = labels_get(&snap.objs[i]->labels, "pod-template-hash");
			json_t *owner = json_array_get(jpath_get(pod, "metadata.ownerReferences"), 0);
			size_t len;
			char *dname;
			struct sim_obj *d;

			rs = json_string_value(json_object_get(owner, "name"));
			len = rs && hash ? strlen(rs) : 0;
			if (len > strlen(hash) + 1 && strcmp(rs + len - strlen(hash), hash) == 0) {
				dname = xstrndup(rs, len - strlen(hash) - 1);
				d = sim_store_get_obj(s, "deployments", snap.objs[i]->ns, dname);
				if (!d)
					(void)sim_store_delete(s, "pods", snap.objs[i]->ns,
							       snap.objs[i]->name);
				sim_obj_unref(d);
				free(dname);
			}
			json_decref(pod);
		}
		sim_snapshot_clear(&snap);
	}
	selector_free(sel);
}

/* ---- the loop ------------------------------------------------------------------------- */

/* Advances every pod in flight; drops the ones that are done. */
static void step_pods(struct sim_controller *ctl, json_t *keys)
{
	struct sim_sched_cache cache = { 0 };
	int64_t now = clock_now_ns();
	json_t *k;
	size_t i;

	json_array_foreach(keys, i, k) {
		const char *key = json_string_value(k), *slash = strchr(key, '/');
		char *ns = xstrndup(key, (size_t)(slash - key));
		bool more = sim_lifecycle_step(ctl, &cache, ns, slash + 1, now);

		if (!more) {
			pthread_mutex_lock(&ctl->mu);
			json_object_del(ctl->pods_in_flight, key);
			pthread_mutex_unlock(&ctl->mu);
		}
		free(ns);
	}
	sim_sched_cache_clear(&cache);
}

static void reconcile_all(struct sim_controller *ctl)
{
	json_t *list = sim_store_list(ctl->c->store, "deployments", NULL), *d;
	size_t i;

	json_array_foreach(list, i, d)
		reconcile(ctl, d);
	json_decref(list);
}

static void tick_deadline(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_nsec += CONTROLLER_TICK_MS * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *controller_main(void *arg)
{
	struct sim_controller *ctl = arg;
	int64_t last_full = 0;

	pthread_mutex_lock(&ctl->mu);
	while (!ctl->stop) {
		struct timespec ts;
		json_t *keys = json_array();
		bool dirty, gc;
		const char *key;
		json_t *v;

		tick_deadline(&ts);
		pthread_cond_timedwait(&ctl->wake, &ctl->mu, &ts);
		if (ctl->stop) {
			json_decref(keys);
			break;
		}
		json_object_foreach(ctl->pods_in_flight, key, v)
			json_array_append_new(keys, json_string(key));
		dirty = ctl->deployments_dirty || clock_mono_ns() - last_full > NS_PER_SEC;
		gc = ctl->gc_needed;
		ctl->deployments_dirty = ctl->gc_needed = false;
		pthread_mutex_unlock(&ctl->mu);
		step_pods(ctl, keys);
		json_decref(keys);
		if (dirty) {
			reconcile_all(ctl);
			last_full = clock_mono_ns();
		}
		if (gc)
			collect_garbage(ctl);
		pthread_mutex_lock(&ctl->mu);
	}
	pthread_mutex_unlock(&ctl->mu);
	return NULL;
}

/* Queues the pods that exist before the controller starts (generated
 * pods are Running and Ready: they are skipped without being parsed). */
static void adopt_existing(struct sim_controller *ctl)
{
	char err[128];
	struct selector *sel = selector_parse("!kubesim.io/generated", err, sizeof(err));
	struct sim_query q = { .labels = sel };
	struct sim_snapshot snap;
	size_t i;

	if (sim_store_query(ctl->c->store, "pods", &q, &snap, err, sizeof(err)) == ERR_OK) {
		for (i = 0; i < snap.n; i++) {
			json_t *p = sim_obj_load(snap.objs[i]);

			if (sim_lifecycle_pending(p))
				on_pod(ctl, SIM_ADDED, "pods", p);
			json_decref(p);
		}
		sim_snapshot_clear(&snap);
	}
	selector_free(sel);
}

struct sim_controller *sim_controller_start(struct sim_cluster *c)
{
	struct sim_controller *ctl = xcalloc(1, sizeof(*ctl));

	ctl->c = c;
	ctl->rng = c->cfg.seed * 0x2545f4914f6cdd1dULL + 7;
	ctl->pods_in_flight = json_object();
	ctl->deployments_dirty = true;
	pthread_mutex_init(&ctl->mu, NULL);
	pthread_cond_init(&ctl->wake, NULL);
	sim_store_subscribe(c->store, "pods", on_pod, ctl);
	sim_store_subscribe(c->store, "deployments", on_other, ctl);
	sim_store_subscribe(c->store, "nodes", on_other, ctl);
	adopt_existing(ctl);
	if (pthread_create(&ctl->thread, NULL, controller_main, ctl) != 0)
		xoom_abort("kubesim: pthread_create of the deployment controller");
	return ctl;
}

void sim_controller_stop(struct sim_controller *ctl)
{
	if (!ctl)
		return;
	pthread_mutex_lock(&ctl->mu);
	ctl->stop = true;
	pthread_cond_signal(&ctl->wake);
	pthread_mutex_unlock(&ctl->mu);
	pthread_join(ctl->thread, NULL);
	json_decref(ctl->pods_in_flight);
	pthread_cond_destroy(&ctl->wake);
	pthread_mutex_destroy(&ctl->mu);
	free(ctl);
}
