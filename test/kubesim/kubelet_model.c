/*
 * kubelet_model.c - the compact state behind every simulated kubelet:
 * nodes (address, faults, base usage) and deployments (load), fed by the
 * store's events.  Pods are in kubelet_pods.c.  One mutex guards it all;
 * holders only touch memory (microseconds).
 */
#include "test/kubesim/podmetrics.h"

#include <stdlib.h>
#include <string.h>

/* ---- JSON helpers --------------------------------------------------------- */

int64_t sim_kl_json_time(const json_t *obj, const char *path)
{
	const char *s = jpath_str(obj, path);
	int64_t ns;

	if (!s || parse_rfc3339(s, &ns) != 0)
		return 0;
	return ns;
}

uint64_t sim_kl_json_rv(const json_t *obj)
{
	const char *s = jpath_str(obj, "metadata.resourceVersion");
	uint64_t v = 0;

	if (!s || !*s || strlen(s) > 19)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	return v;
}

/* ---- nodes ------------------------------------------------------------------ */

static void node_free(void *p)
{
	struct sim_kl_node *n = p;

	free(n->name);
	free(n->pods);
	free(n->refs);
	free(n);
}

struct sim_kl_node *sim_kl_node_get(struct sim_kl_model *m, const char *name, bool create)
{
	struct sim_kl_node *n = sim_kl_map_get(&m->nodes, name);

	if (n || !create)
		return n;
	n = xcalloc(1, sizeof(*n));
	n->name = xstrdup(name);
	n->cert_mode = -1;
	sim_wl_default(&n->cpu, sim_wl_hash(m->seed, name), 100, 400);
	sim_wl_default(&n->mem, sim_wl_hash(m->seed + 1, name), 512ll << 20, 1536ll << 20);
	sim_kl_map_put(&m->nodes, name, n);
	return n;
}

void sim_kl_node_maybe_free(struct sim_kl_model *m, struct sim_kl_node *n)
{
	if (n->present || n->npods > 0)
		return;
	sim_kl_map_del(&m->nodes, n->name);
	node_free(n);
}

static void node_set_addr(struct sim_kl_model *m, struct sim_kl_node *n, const char *addr)
{
	if (strcmp(n->addr, addr) == 0)
		return;
	if (n->addr[0] && sim_kl_map_get(&m->by_addr, n->addr) == n)
		sim_kl_map_del(&m->by_addr, n->addr);
	snprintf(n->addr, sizeof(n->addr), "%s", addr);
	if (n->addr[0])
		sim_kl_map_put(&m->by_addr, n->addr, n);
}

/* The first InternalIP of status.addresses, "" when none or too long. */
static const char *internal_ip(const json_t *node)
{
	const json_t *addrs = json_object_get(json_object_get(node, "status"), "addresses");
	size_t i;
	json_t *a;

	json_array_foreach(addrs, i, a) {
		const char *type = json_string_value(json_object_get(a, "type"));
		const char *ip = json_string_value(json_object_get(a, "address"));

		if (type && ip && strcmp(type, "InternalIP") == 0 && strlen(ip) < 16)
			return ip;
	}
	return "";
}

void sim_kl_parse_fault(const char *s, const char *node, struct sim_kl_fault *f)
{
	char tok[64];

	memset(f, 0, sizeof(*f));
	while (s && *s) {
		size_t n = strcspn(s, ",");
		struct quantity q;
		int64_t slow;

		snprintf(tok, sizeof(tok), "%.*s", (int)(n < sizeof(tok) ? n : sizeof(tok) - 1), s);
		s += n + (s[n] == ',');
		if (strcmp(tok, "down") == 0)
			f->down = true;
		else if (strcmp(tok, "garbage") == 0)
			f->garbage = true;
		else if (strcmp(tok, "500") == 0)
			f->http500 = true;
		else if (strcmp(tok, "notready") == 0)
			f->notready = true;
		else if (strcmp(tok, "huge") == 0)
			f->huge_bytes = 100ll << 20;
		else if (strncmp(tok, "huge=", 5) == 0 && quantity_parse(tok + 5, &q) == 0 &&
			 quantity_value(&q) > 0)
			f->huge_bytes = quantity_value(&q);
		else if (strncmp(tok, "series=", 7) == 0 && quantity_parse(tok + 7, &q) == 0 &&
			 quantity_value(&q) > 0 && quantity_value(&q) <= SIM_KL_MAX_FAULT_SERIES)
			f->series = quantity_value(&q);
		else if (strncmp(tok, "slow=", 5) != 0 || parse_go_duration(tok + 5, &slow) != 0 ||
			 slow < 0)
			log_warn("%s: ignoring unknown fault \"%s\"", node, tok);
		else
			f->slow_ns = slow;
	}
}

static int parse_cert_mode(const char *s)
{
	if (!s)
		return -1;
	if (strcmp(s, "no-ip-san") == 0)
		return SIM_CERT_NO_IP_SAN;
	if (strcmp(s, "self-signed") == 0)
		return SIM_CERT_SELF_SIGNED;
	if (strcmp(s, "cluster-ca") == 0)
		return SIM_CERT_CLUSTER_CA;
	return -1;
}

/* Replaces the base usage profiles from annotations, keeping the CPU
 * counter of a known node continuous. */
static void node_profiles(struct sim_kl_node *n, const json_t *ann, bool fresh, int64_t now_ns)
{
	const char *cpu = json_string_value(json_object_get(ann, SIM_ANN_CPU));
	const char *mem = json_string_value(json_object_get(ann, SIM_ANN_MEMORY));
	int64_t before = sim_kl_node_base_cpu(n, now_ns);
	char err[256];

	if (cpu && sim_wl_parse(cpu, false, &n->cpu, err, sizeof(err)) != 0)
		log_warn("node %s: %s", n->name, err);
	if (mem && sim_wl_parse(mem, true, &n->mem, err, sizeof(err)) != 0)
		log_warn("node %s: %s", n->name, err);
	n->cpu_offset_ns = 0;
	if (!fresh)
		n->cpu_offset_ns = before - sim_kl_node_base_cpu(n, now_ns);
}

static void node_apply(struct sim_kl_model *m, enum sim_event ev, const json_t *obj,
		       int64_t now_ns)
{
	const char *name = jpath_str(obj, "metadata.name");
	const json_t *ann = jpath_get(obj, "metadata.annotations");
	struct sim_kl_node *n;
	uint64_t rv = sim_kl_json_rv(obj);
	bool fresh;

	if (!name)
		return;
	n = sim_kl_node_get(m, name, ev != SIM_DELETED);
	if (!n || (rv && n->rv > rv))
		return;
	if (ev == SIM_DELETED) {
		node_set_addr(m, n, "");
		n->present = false;
		sim_kl_node_maybe_free(m, n);
		return;
	}
	n->rv = rv;
	fresh = !n->present;
	if (fresh) {
		n->start_ns = sim_kl_json_time(obj, "metadata.creationTimestamp");
		if (n->start_ns == 0 || n->start_ns > now_ns)
			n->start_ns = now_ns;
	}
	n->present = true;
	node_set_addr(m, n, internal_ip(obj));
	sim_kl_parse_fault(json_string_value(json_object_get(ann, SIM_ANN_FAULT)), name, &n->fault);
	n->cert_mode = parse_cert_mode(json_string_value(json_object_get(ann, SIM_ANN_CERT)));
	node_profiles(n, ann, fresh, now_ns);
}

/* ---- model ------------------------------------------------------------------ */

void sim_kl_model_init(struct sim_kl_model *m, uint64_t seed)
{
	pthread_mutex_init(&m->lock, NULL);
	m->seed = seed;
	sim_kl_map_init(&m->nodes);
	sim_kl_map_init(&m->by_addr);
	sim_kl_map_init(&m->pods);
	sim_kl_map_init(&m->deploys);
	m->pm = sim_pm_new();
}

static void pod_free_cb(void *p)
{
	sim_kl_pod_free(p);
}

static void deploy_free_cb(void *p)
{
	struct sim_kl_deploy *d = p;

	free(d->key);
	free(d);
}

void sim_kl_model_clear(struct sim_kl_model *m)
{
	sim_pm_free(m->pm);
	sim_kl_map_clear(&m->by_addr, NULL);
	sim_kl_map_clear(&m->pods, pod_free_cb);
	sim_kl_map_clear(&m->nodes, node_free);
	sim_kl_map_clear(&m->deploys, deploy_free_cb);
	pthread_mutex_destroy(&m->lock);
}

void sim_kl_model_apply(struct sim_kl_model *m, enum sim_event ev, const char *resource,
			const json_t *obj)
{
	int64_t now = clock_now_ns();

	pthread_mutex_lock(&m->lock);
	if (strcmp(resource, "nodes") == 0)
		node_apply(m, ev, obj, now);
	else if (strcmp(resource, "pods") == 0)
		sim_kl_pod_apply(m, ev, obj, now);
	if (strcmp(resource, "pods") == 0 || strcmp(resource, "configmaps") == 0)
		sim_pm_apply(m, ev, resource, obj, now);
	else if (strcmp(resource, "deployments") == 0)
		sim_kl_deploy_apply(m, ev, obj, now);
	pthread_mutex_unlock(&m->lock);
}

bool sim_kl_model_lookup(struct sim_kl_model *m, const char *addr, struct sim_kl_view *v)
{
	struct sim_kl_node *n;

	pthread_mutex_lock(&m->lock);
	n = sim_kl_map_get(&m->by_addr, addr);
	if (n) {
		snprintf(v->name, sizeof(v->name), "%s", n->name);
		v->cert_mode = n->cert_mode;
		v->fault = n->fault;
	}
	pthread_mutex_unlock(&m->lock);
	return n != NULL;
}

/* ---- deployments -------------------------------------------------------------- */

double sim_kl_deploy_load(const struct sim_kl_deploy *d)
{
	return (double)d->load_milli / d->ready;
}

double sim_kl_deploy_integral(const struct sim_kl_deploy *d, int64_t t_ns)
{
	if (t_ns <= d->seg_start_ns)
		return d->acc;
	return d->acc + sim_kl_deploy_load(d) * (double)(t_ns - d->seg_start_ns);
}

void sim_kl_deploy_apply(struct sim_kl_model *m, enum sim_event ev, const json_t *obj,
			 int64_t now_ns)
{
	const char *ns = jpath_str(obj, "metadata.namespace");
	const char *name = jpath_str(obj, "metadata.name");
	const json_t *ann = jpath_get(obj, "metadata.annotations");
	const char *load = json_string_value(json_object_get(ann, SIM_ANN_LOAD));
	uint64_t rv = sim_kl_json_rv(obj);
	struct sim_kl_deploy *d;
	struct quantity q;
	char key[512];

	if (!ns || !name)
		return;
	snprintf(key, sizeof(key), "%s/%s", ns, name);
	d = sim_kl_map_get(&m->deploys, key);
	if (ev == SIM_DELETED) {
		if (d)
			deploy_free_cb(sim_kl_map_del(&m->deploys, key));
		return;
	}
	if (!d) {
		d = xcalloc(1, sizeof(*d));
		d->key = xstrdup(key);
		d->ready = 1;
		d->seg_start_ns = now_ns;
		sim_kl_map_put(&m->deploys, key, d);
	} else if (rv && d->rv > rv) {
		return;
	}
	d->acc = sim_kl_deploy_integral(d, now_ns);
	d->seg_start_ns = now_ns;
	d->rv = rv;
	d->load_milli = 0;
	if (load && quantity_parse(load, &q) == 0 && quantity_milli_value(&q) > 0)
		d->load_milli = quantity_milli_value(&q);
	d->ready = (int)jpath_int(obj, "status.readyReplicas", jpath_int(obj, "spec.replicas", 1));
	if (d->ready < 1)
		d->ready = 1;
}
