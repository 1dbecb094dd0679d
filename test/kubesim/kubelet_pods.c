/*
 * kubelet_pods.c - pods in the kubelets' compact model: JSON -> struct
 * (profiles from annotations, containers that a kubelet reports) and the
 * node's sorted pod list.  Lock held by the caller throughout.
 */
#include "test/kubesim/kubelet_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_CONTAINERS 64
#define MAX_NAME 253

/* Default usage for a container without annotations (deterministic). */
#define DEFAULT_CPU_LO 10
#define DEFAULT_CPU_HI 250
#define DEFAULT_MEM_LO (20ll << 20)
#define DEFAULT_MEM_HI (200ll << 20)

void sim_kl_pod_free(struct sim_kl_pod *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ncont; i++) {
		free(p->cont[i].name);
		free(p->cont[i].labels);
	}
	free(p->cont);
	free(p->labels);
	free(p->ns);
	free(p->name);
	free(p->key);
	free(p->node_name);
	free(p->deploy_key);
	free(p);
}

/* ---- JSON -> pod ------------------------------------------------------------- */

/* The annotation "<base>.<container>", else "<base>", else NULL. */
static const char *container_ann(const json_t *ann, const char *base, const char *cont)
{
	char key[300];
	const char *v;

	snprintf(key, sizeof(key), "%s.%s", base, cont);
	v = json_string_value(json_object_get(ann, key));
	return v ? v : json_string_value(json_object_get(ann, base));
}

static void profile(const json_t *ann, const char *base, const char *cont, bool memory,
		    uint64_t h, struct sim_wl_profile *out, const char *pod)
{
	const char *text = container_ann(ann, base, cont);
	char err[300];

	if (memory)
		sim_wl_default(out, h, DEFAULT_MEM_LO, DEFAULT_MEM_HI);
	else
		sim_wl_default(out, h >> 1, DEFAULT_CPU_LO, DEFAULT_CPU_HI);
	if (text && sim_wl_parse(text, memory, out, err, sizeof(err)) != 0)
		log_warn("pod %s container %s: %s", pod, cont, err);
}

/* state.running.startedAt of the named container in a status list. */
static int64_t status_start(const json_t *statuses, const char *name)
{
	size_t i;
	json_t *st;

	json_array_foreach(statuses, i, st) {
		const char *n = json_string_value(json_object_get(st, "name"));

		if (n && strcmp(n, name) == 0)
			return sim_kl_json_time(st, "state.running.startedAt");
	}
	return 0;
}

static void add_container(struct sim_kl_pod *p, const json_t *spec, const json_t *statuses,
			  const json_t *ann, uint64_t seed)
{
	const char *name = json_string_value(json_object_get(spec, "name"));
	struct sim_kl_container *c;
	struct quantity q;
	char id[800];

	if (!name || !*name || strlen(name) > MAX_NAME || p->ncont >= MAX_CONTAINERS)
		return;
	c = &p->cont[p->ncont++];
	memset(c, 0, sizeof(*c));
	c->name = xstrdup(name);
	c->labels = sim_kl_labels(name, p->ns, p->name);
	snprintf(id, sizeof(id), "%s/%s", p->key, name);
	c->hash = sim_wl_hash(seed, id);
	profile(ann, SIM_ANN_CPU, name, false, c->hash, &c->cpu, p->key);
	profile(ann, SIM_ANN_MEMORY, name, true, c->hash, &c->mem, p->key);
	name = json_string_value(json_object_get(ann, SIM_ANN_MEMORY_NOISE));
	if (name && quantity_parse(name, &q) == 0 && quantity_value(&q) > 0)
		c->mem_noise = quantity_value(&q);
	c->status_start_ns = status_start(statuses, c->name);
}

static void add_containers(struct sim_kl_pod *p, const json_t *obj, const json_t *ann,
			   uint64_t seed)
{
	const json_t *spec = json_object_get(obj, "spec");
	const json_t *status = json_object_get(obj, "status");
	const json_t *init = json_object_get(spec, "initContainers");
	const json_t *regular = json_object_get(spec, "containers");
	size_t i, n = json_array_size(regular) + json_array_size(init);
	json_t *c;

	p->cont = xcalloc(n ? n : 1, sizeof(*p->cont));
	json_array_foreach(regular, i, c)
		add_container(p, c, json_object_get(status, "containerStatuses"), ann, seed);
	/* init containers are gone once the pod runs, except sidecars */
	json_array_foreach(init, i, c) {
		const char *policy = json_string_value(json_object_get(c, "restartPolicy"));

		if (policy && strcmp(policy, "Always") == 0)
			add_container(p, c, json_object_get(status, "initContainerStatuses"), ann,
				      seed);
	}
}

/* ns/<deployment>: kubesim.io/deployment, else the owner (a Deployment, or
 * a ReplicaSet "<deployment>-<hash>"). */
static char *deploy_key(const json_t *obj, const json_t *ann, const char *ns)
{
	const char *name = json_string_value(json_object_get(ann, SIM_ANN_DEPLOYMENT));
	const json_t *owners = json_object_get(json_object_get(obj, "metadata"), "ownerReferences");
	size_t i, n;
	json_t *o;

	if (name)
		return xasprintf("%s/%s", ns, name);
	json_array_foreach(owners, i, o) {
		const char *kind = json_string_value(json_object_get(o, "kind"));
		const char *on = json_string_value(json_object_get(o, "name"));
		const char *dash;

		if (!kind || !on)
			continue;
		if (strcmp(kind, "Deployment") == 0)
			return xasprintf("%s/%s", ns, on);
		dash = strrchr(on, '-');
		if (strcmp(kind, "ReplicaSet") == 0 && dash && dash != on) {
			n = (size_t)(dash - on);
			return xasprintf("%s/%.*s", ns, (int)n, on);
		}
	}
	return NULL;
}

struct sim_kl_pod *sim_kl_pod_from_json(const json_t *obj, uint64_t seed)
{
	const char *ns = jpath_str(obj, "metadata.namespace");
	const char *name = jpath_str(obj, "metadata.name");
	const char *node = jpath_str(obj, "spec.nodeName");
	const char *phase = jpath_str(obj, "status.phase");
	const json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
	const char *s;
	struct sim_kl_pod *p;

	if (!ns || !name || strlen(ns) > MAX_NAME || strlen(name) > MAX_NAME)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->ns = xstrdup(ns);
	p->name = xstrdup(name);
	p->key = xasprintf("%s/%s", ns, name);
	p->labels = sim_kl_labels(NULL, ns, name);
	p->node_name = xstrdup(node ? node : "");
	p->rv = sim_kl_json_rv(obj);
	p->running = phase && strcmp(phase, "Running") == 0;
	p->start_ns = sim_kl_json_time(obj, "status.startTime");
	if (p->start_ns == 0)
		p->start_ns = sim_kl_json_time(obj, "metadata.creationTimestamp");
	s = json_string_value(json_object_get(ann, SIM_ANN_NO_METRICS));
	p->metrics = !(s && strcmp(s, "true") == 0);
	s = json_string_value(json_object_get(ann, SIM_ANN_RESTART_EVERY));
	if (s && (parse_go_duration(s, &p->restart_every_ns) != 0 || p->restart_every_ns < 0)) {
		log_warn("pod %s: invalid %s \"%s\"", p->key, SIM_ANN_RESTART_EVERY, s);
		p->restart_every_ns = 0;
	}
	p->deploy_key = deploy_key(obj, ann, ns);
	add_containers(p, obj, ann, seed);
	return p;
}

/* ---- the node's pod list ----------------------------------------------------- */

static int pod_cmp(const struct sim_kl_pod *a, const struct sim_kl_pod *b)
{
	int c = strcmp(a->ns, b->ns);

	return c ? c : strcmp(a->name, b->name);
}

void sim_kl_node_attach(struct sim_kl_node *n, struct sim_kl_pod *p)
{
	size_t lo = 0, hi = n->npods;

	if (n->npods == n->cap) {
		n->cap = n->cap ? n->cap * 2 : 8;
		n->pods = xrealloc(n->pods, n->cap * sizeof(*n->pods));
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (pod_cmp(n->pods[mid], p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(n->pods + lo + 1, n->pods + lo, (n->npods - lo) * sizeof(*n->pods));
	n->pods[lo] = p;
	n->npods++;
	n->dirty = true;
}

void sim_kl_node_detach(struct sim_kl_node *n, struct sim_kl_pod *p)
{
	for (size_t i = 0; i < n->npods; i++) {
		if (n->pods[i] != p)
			continue;
		memmove(n->pods + i, n->pods + i + 1, (n->npods - i - 1) * sizeof(*n->pods));
		n->npods--;
		n->dirty = true;
		return;
	}
}

/* ---- events -------------------------------------------------------------------- */

static void pod_remove(struct sim_kl_model *m, struct sim_kl_pod *old, struct sim_kl_pod *newp,
		       int64_t now_ns)
{
	struct sim_kl_node *n = sim_kl_node_get(m, old->node_name, false);

	if (n) {
		bool same = newp && strcmp(newp->node_name, old->node_name) == 0;

		sim_kl_pod_retire(m, n, old, same ? newp : NULL, now_ns);
		sim_kl_node_detach(n, old);
	}
	sim_kl_map_del(&m->pods, old->key);
	sim_kl_pod_free(old);
	if (n)
		sim_kl_node_maybe_free(m, n);
}

void sim_kl_pod_apply(struct sim_kl_model *m, enum sim_event ev, const json_t *obj,
		      int64_t now_ns)
{
	struct sim_kl_pod *newp = NULL, *old;
	char key[2 * MAX_NAME + 2];
	const char *ns = jpath_str(obj, "metadata.namespace");
	const char *name = jpath_str(obj, "metadata.name");

	if (!ns || !name || strlen(ns) > MAX_NAME || strlen(name) > MAX_NAME)
		return;
	snprintf(key, sizeof(key), "%s/%s", ns, name);
	old = sim_kl_map_get(&m->pods, key);
	if (ev != SIM_DELETED) {
		newp = sim_kl_pod_from_json(obj, m->seed);
		if (old && newp->rv && old->rv > newp->rv) {
			sim_kl_pod_free(newp);
			return;
		}
	}
	if (old)
		pod_remove(m, old, newp, now_ns);
	if (!newp)
		return;
	sim_kl_map_put(&m->pods, newp->key, newp);
	if (newp->node_name[0])
		sim_kl_node_attach(sim_kl_node_get(m, newp->node_name, true), newp);
}
