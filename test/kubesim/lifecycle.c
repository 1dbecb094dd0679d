/*
 * lifecycle.c - what the scheduler and the kubelet would do to a pod:
 * bind it to a Ready node with room (allocatable pods and requested cpu,
 * most free cpu first), then Pending -> Running after --pod-start-delay,
 * then the Ready condition after --pod-ready-delay.
 */
#include "test/kubesim/controller_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sim_condition_status(const json_t *obj, const char *type)
{
	json_t *conds = jpath_get(obj, "status.conditions"), *c;
	size_t i;

	json_array_foreach(conds, i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));

		if (t && strcmp(t, type) == 0)
			return json_string_value(json_object_get(c, "status"));
	}
	return NULL;
}

bool sim_lifecycle_pending(const json_t *pod)
{
	const char *phase = jpath_str(pod, "status.phase");
	const char *ready = sim_condition_status(pod, "Ready");

	if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0))
		return false;
	return !phase || strcmp(phase, "Running") != 0 || !ready || strcmp(ready, "True") != 0;
}

/* Sets (or adds) condition type with status; keeps the transition time
 * when the status does not change. */
static void set_condition(json_t *pod, const char *type, const char *status, const char *ts,
			  const char *reason, const char *message)
{
	json_t *st = json_object_get(pod, "status"), *conds = json_object_get(st, "conditions");
	json_t *c, *nc;
	size_t i;

	if (!json_is_array(conds)) {
		conds = json_array();
		json_object_set_new(st, "conditions", conds);
	}
	json_array_foreach(conds, i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *s = json_string_value(json_object_get(c, "status"));

		if (t && strcmp(t, type) == 0) {
			if (s && strcmp(s, status) == 0)
				return;
			json_array_remove(conds, i);
			break;
		}
	}
	nc = json_pack("{s:s,s:s,s:n,s:s}", "type", type, "status", status, "lastProbeTime",
		       "lastTransitionTime", ts);
	if (reason)
		json_object_set_new(nc, "reason", json_string(reason));
	if (message)
		json_object_set_new(nc, "message", json_string(message));
	json_array_append_new(conds, nc);
}

/* ---- scheduling ---------------------------------------------------------------- */

struct sim_node_room {
	struct sim_obj *obj;
	int64_t cpu_free;   /* millicores */
	int64_t pods_free;
	bool schedulable;
};

static int64_t quantity_milli(const json_t *obj, const char *path)
{
	const char *s = jpath_str(obj, path);
	struct quantity q;

	return s && quantity_parse(s, &q) == ERR_OK ? quantity_milli_value(&q) : 0;
}

static int cmp_node_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct sim_node_room *)elem)->obj->name);
}

/* Every node with its free room, sorted by name (caller frees). */
static struct sim_node_room *node_rooms(struct sim_store *s, size_t *n)
{
	struct sim_query q = { 0 };
	struct sim_snapshot nodes, pods;
	struct sim_node_room *rooms;
	char err[64];
	size_t i;

	*n = 0;
	if (sim_store_query(s, "nodes", &q, &nodes, err, sizeof(err)))
		return NULL;
	rooms = xcalloc(nodes.n ? nodes.n : 1, sizeof(*rooms));
	for (i = 0; i < nodes.n; i++) {
		json_t *node = sim_obj_load(nodes.objs[i]);
		const char *ready = sim_condition_status(node, "Ready");

		rooms[i].obj = nodes.objs[i];
		sim_obj_ref(rooms[i].obj);
		rooms[i].cpu_free = quantity_milli(node, "status.allocatable.cpu");
		rooms[i].pods_free = quantity_milli(node, "status.allocatable.pods") / 1000;
		rooms[i].schedulable = ready && strcmp(ready, "True") == 0 &&
				       !json_is_true(jpath_get(node, "spec.unschedulable"));
		json_decref(node);
	}
	*n = nodes.n;
	sim_snapshot_clear(&nodes);
	if (sim_store_query(s, "pods", &q, &pods, err, sizeof(err)) == ERR_OK) {
		for (i = 0; i < pods.n; i++) {
			const char *node = sim_obj_field(&sim_kind_pods, pods.objs[i], "spec.nodeName");
			struct sim_node_room *r = node && *node ? bsearch(node, rooms, *n, sizeof(*rooms),
								      cmp_node_name) : NULL;

			if (r) {
				r->cpu_free -= pods.objs[i]->cpu_milli;
				r->pods_free--;
			}
		}
		sim_snapshot_clear(&pods);
	}
	return rooms;
}

/* Name of the node with the most free cpu (then pod slots) that fits
 * (borrowed), or NULL. */
static const char *pick_node(struct sim_node_room *rooms, size_t n, int64_t cpu)
{
	struct sim_node_room *best = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		struct sim_node_room *r = &rooms[i];

		if (!r->schedulable || r->pods_free < 1 || r->cpu_free < cpu)
			continue;
		if (!best || r->cpu_free > best->cpu_free ||
		    (r->cpu_free == best->cpu_free && r->pods_free > best->pods_free))
			best = r;
	}
	return best ? best->obj->name : NULL;
}

struct bind_ctx {
	const char *node;      /* NULL: unschedulable */
	size_t nnodes;
	const char *ts;
};

static int bind_pod(void *ud, json_t *pod)
{
	struct bind_ctx *b = ud;
	const char *bound = jpath_str(pod, "spec.nodeName");
	char msg[128];

	if (bound && *bound)
		return ERR_CONFLICT; /* bound meanwhile */
	if (!b->node) {
		snprintf(msg, sizeof(msg), "0/%zu nodes are available: insufficient cpu or pods.",
			 b->nnodes);
		set_condition(pod, "PodScheduled", "False", b->ts, "Unschedulable", msg);
		return ERR_OK;
	}
	json_object_set_new(json_object_get(pod, "spec"), "nodeName", json_string(b->node));
	set_condition(pod, "PodScheduled", "True", b->ts, NULL, NULL);
	return ERR_OK;
}

void sim_sched_cache_clear(struct sim_sched_cache *cache)
{
	size_t i;

	for (i = 0; i < cache->n; i++)
		sim_obj_unref(cache->rooms[i].obj);
	free(cache->rooms);
	memset(cache, 0, sizeof(*cache));
}

static void schedule(struct sim_controller *ctl, struct sim_sched_cache *cache, const char *ns,
		     const char *name, int64_t cpu, const char *ts)
{
	struct bind_ctx b = { .ts = ts };
	struct sim_node_room *r;

	if (!cache->built) {
		cache->rooms = node_rooms(ctl->c->store, &cache->n);
		cache->built = true;
	}
	b.nnodes = cache->n;
	b.node = pick_node(cache->rooms, cache->n, cpu);
	if (sim_store_modify(ctl->c->store, "pods", ns, name, bind_pod, &b, NULL) != ERR_OK ||
	    !b.node)
		return;
	r = bsearch(b.node, cache->rooms, cache->n, sizeof(*cache->rooms), cmp_node_name);
	if (r) {
		r->cpu_free -= cpu;
		r->pods_free--;
	}
	log_v(2, "kubesim: bound pod %s/%s to %s", ns, name, b.node);
}

/* ---- start and readiness --------------------------------------------------------- */

struct start_ctx {
	struct sim_cluster *c;
	const char *ts;
	char host[64];   /* the node's InternalIP */
};

static json_t *container_statuses(const json_t *pod, const char *ts, bool ready)
{
	json_t *cs = jpath_get(pod, "spec.containers"), *c, *out = json_array();
	size_t i;

	json_array_foreach(cs, i, c)
		json_array_append_new(out, json_pack("{s:O*,s:{s:{s:s}},s:b,s:i,s:O*,s:s,s:b}",
						     "name", json_object_get(c, "name"), "state",
						     "running", "startedAt", ts, "ready", ready,
						     "restartCount", 0, "image",
						     json_object_get(c, "image"), "imageID", "",
						     "started", 1));
	return out;
}

/* Pods annotated prometheus.io/scrape: "true" serve /metrics on a loopback
 * address of their own (podmetrics.c): 127.2.0.1 + n, up to 127.253.255.254,
 * never reused while kubesim runs.  Nodes are 127.1.x.y, exporters
 * 127.254.x.y by convention. */
static bool scrape_annotated(const json_t *pod)
{
	const json_t *ann = jpath_get(pod, "metadata.annotations");
	const char *v = json_string_value(json_object_get(ann, "prometheus.io/scrape"));

	return v && strcmp(v, "true") == 0;
}

static void pod_loopback_ip(struct sim_cluster *c, char *ip, size_t len)
{
	uint32_t n = __atomic_fetch_add(&c->pod_addr_seq, 1, __ATOMIC_RELAXED);
	uint32_t a = ((127u << 24) | (2u << 16) | 1u) + n % ((252u << 16) - 2);

	snprintf(ip, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static int start_pod(void *ud, json_t *pod)
{
	struct start_ctx *s = ud;
	json_t *st = json_object_get(pod, "status");
	const char *name = jpath_str(pod, "metadata.name");
	char ip[32];
	uint64_t h = 1469598103934665603ULL;
	const char *p;

	for (p = name; p && *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	snprintf(ip, sizeof(ip), "10.%d.%d.%d", 32 + (int)(h >> 8 & 31), (int)(h >> 16 & 255),
		 2 + (int)(h % 250));
	if (scrape_annotated(pod))
		pod_loopback_ip(s->c, ip, sizeof(ip));
	json_object_set_new(st, "phase", json_string("Running"));
	if (s->host[0]) {
		json_object_set_new(st, "hostIP", json_string(s->host));
		json_object_set_new(st, "hostIPs", json_pack("[{s:s}]", "ip", s->host));
	}
	json_object_set_new(st, "podIP", json_string(ip));
	json_object_set_new(st, "podIPs", json_pack("[{s:s}]", "ip", ip));
	json_object_set_new(st, "startTime", json_string(s->ts));
	json_object_set_new(st, "containerStatuses", container_statuses(pod, s->ts, false));
	set_condition(pod, "PodReadyToStartContainers", "True", s->ts, NULL, NULL);
	set_condition(pod, "Initialized", "True", s->ts, NULL, NULL);
	set_condition(pod, "Ready", "False", s->ts, "ContainersNotReady", NULL);
	set_condition(pod, "ContainersReady", "False", s->ts, "ContainersNotReady", NULL);
	return ERR_OK;
}

static int make_ready(void *ud, json_t *pod)
{
	struct start_ctx *s = ud;
	json_t *cs = jpath_get(pod, "status.containerStatuses"), *c;
	size_t i;

	json_array_foreach(cs, i, c)
		json_object_set_new(c, "ready", json_true());
	set_condition(pod, "Ready", "True", s->ts, NULL, NULL);
	set_condition(pod, "ContainersReady", "True", s->ts, NULL, NULL);
	return ERR_OK;
}

/* Time the last step happened (PodScheduled, startTime), ns, or 0. */
static int64_t step_time(const json_t *pod, const char *cond_type, const char *path)
{
	json_t *conds = jpath_get(pod, "status.conditions"), *c;
	const char *ts = path ? jpath_str(pod, path) : NULL;
	int64_t t;
	size_t i;

	json_array_foreach(conds, i, c) {
		const char *type = json_string_value(json_object_get(c, "type"));

		if (!ts && cond_type && type && strcmp(type, cond_type) == 0)
			ts = json_string_value(json_object_get(c, "lastTransitionTime"));
	}
	if (!ts)
		ts = jpath_str(pod, "metadata.creationTimestamp");
	return ts && parse_rfc3339(ts, &t) == ERR_OK ? t : 0;
}

/* The InternalIP of node `name` into buf ("" if unknown). */
static void node_ip(struct sim_store *store, const char *name, char *buf, size_t len)
{
	json_t *node = sim_store_get(store, "nodes", NULL, name);
	json_t *addrs = jpath_get(node, "status.addresses"), *a;
	size_t i;

	buf[0] = '\0';
	json_array_foreach(addrs, i, a) {
		const char *t = json_string_value(json_object_get(a, "type"));
		const char *v = json_string_value(json_object_get(a, "address"));

		if (t && v && strcmp(t, "InternalIP") == 0) {
			snprintf(buf, len, "%s", v);
			break;
		}
	}
	json_decref(node);
}

bool sim_lifecycle_step(struct sim_controller *ctl, struct sim_sched_cache *cache,
			const char *ns, const char *name, int64_t now_ns)
{
	struct sim_cluster *c = ctl->c;
	struct sim_obj *o = sim_store_get_obj(c->store, "pods", ns, name);
	json_t *pod = o ? sim_obj_load(o) : NULL;
	struct start_ctx s = { .c = ctl->c };
	const char *phase, *node;
	char ts[40];
	bool more;

	if (!pod)
		return false;
	fmt_rfc3339(now_ns, ts, sizeof(ts));
	s.ts = ts;
	phase = jpath_str(pod, "status.phase");
	node = jpath_str(pod, "spec.nodeName");
	if (!node || !*node) {
		schedule(ctl, cache, ns, name, o->cpu_milli, ts);
	} else if (phase && strcmp(phase, "Pending") == 0) {
		if (now_ns >= step_time(pod, "PodScheduled", NULL) + c->cfg.pod_start_delay_ns) {
			node_ip(c->store, node, s.host, sizeof(s.host));
			(void)sim_store_modify(c->store, "pods", ns, name, start_pod, &s, NULL);
		}
	} else if (phase && strcmp(phase, "Running") == 0) {
		if (now_ns >= step_time(pod, NULL, "status.startTime") + c->cfg.pod_ready_delay_ns)
			(void)sim_store_modify(c->store, "pods", ns, name, make_ready, &s, NULL);
	}
	json_decref(pod);
	sim_obj_unref(o);
	pod = sim_store_get(c->store, "pods", ns, name);
	more = pod && sim_lifecycle_pending(pod);
	json_decref(pod);
	return more;
}
