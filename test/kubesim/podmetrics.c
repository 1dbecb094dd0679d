/*
 * podmetrics.c - the application targets kubesim serves besides the
 * kubelets: pods annotated prometheus.io/scrape: "true" (at
 * status.podIP:prometheus.io/port) and exporters (ConfigMaps annotated
 * kubesim.io/exporter: "<addr>:<port>").  Fed by the store events the
 * kubelet model already follows; lock held throughout (the model's).
 *
 * hello_counter_total integrates the pod's first container's CPU profile
 * (the kubelet model's, so kubesim.io/cpu drives both): one request per
 * SIM_PM_NS_PER_REQUEST core-ns.  It restarts from 0 when the pod object
 * is recreated (new uid), its status.startTime changes, the sum of its
 * restartCounts grows (at the time the update is seen), or
 * kubesim.io/restart-every elapses; other edits (a new profile) keep it
 * continuous.
 */
#include "test/kubesim/podmetrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sim_pm_state {
	struct sim_kl_map targets; /* key -> target */
	struct sim_kl_map owners;  /* owner -> target (borrowed) */
	int *ports;
	size_t nports, cap;
	unsigned gen;              /* __atomic */
	int wake_fd;
};

/* ---- the pure model -------------------------------------------------------------- */

int64_t sim_pm_incarnation(int64_t base_ns, int64_t restart_every_ns, int64_t t_ns)
{
	if (t_ns <= base_ns || restart_every_ns <= 0)
		return base_ns;
	return base_ns + (t_ns - base_ns) / restart_every_ns * restart_every_ns;
}

int64_t sim_pm_counter_at(const struct sim_wl_profile *cpu, int64_t base_ns,
			  int64_t restart_every_ns, int64_t t_ns, double load_integral)
{
	int64_t inc = sim_pm_incarnation(base_ns, restart_every_ns, t_ns);

	if (t_ns <= inc)
		return 0;
	return sim_wl_cpu_ns(cpu, t_ns - inc, load_integral) / SIM_PM_NS_PER_REQUEST;
}

/* ---- state ------------------------------------------------------------------------- */

static void target_free(void *p)
{
	struct sim_pm_target *t = p;

	if (!t)
		return;
	free(t->owner);
	free(t->path);
	free(t->uid);
	free(t->deploy_key);
	free(t->queue);
	free(t->depth);
	free(t);
}

struct sim_pm_state *sim_pm_new(void)
{
	struct sim_pm_state *s = xcalloc(1, sizeof(*s));

	sim_kl_map_init(&s->targets);
	sim_kl_map_init(&s->owners);
	s->wake_fd = -1;
	return s;
}

void sim_pm_free(struct sim_pm_state *s)
{
	if (!s)
		return;
	sim_kl_map_clear(&s->owners, NULL);
	sim_kl_map_clear(&s->targets, target_free);
	free(s->ports);
	free(s);
}

struct sim_pm_target *sim_pm_find(struct sim_kl_model *m, const char *key)
{
	return sim_kl_map_get(&m->pm->targets, key);
}

static void add_port(struct sim_pm_state *s, int port)
{
	uint64_t one = 1;

	for (size_t i = 0; i < s->nports; i++)
		if (s->ports[i] == port)
			return;
	if (s->nports == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->ports = xrealloc(s->ports, s->cap * sizeof(*s->ports));
	}
	s->ports[s->nports++] = port;
	__atomic_add_fetch(&s->gen, 1, __ATOMIC_RELEASE);
	if (s->wake_fd >= 0 && write(s->wake_fd, &one, sizeof(one)) < 0)
		log_warn("podmetrics: cannot wake the loop: %s", COMMON_SYSERR(errno));
}

unsigned sim_pm_ports_gen(struct sim_kl_model *m)
{
	return __atomic_load_n(&m->pm->gen, __ATOMIC_ACQUIRE);
}

size_t sim_pm_ports(struct sim_kl_model *m, int *out, size_t max, unsigned *gen)
{
	size_t n;

	pthread_mutex_lock(&m->lock);
	n = m->pm->nports;
	memcpy(out, m->pm->ports, (n < max ? n : max) * sizeof(*out));
	*gen = m->pm->gen;
	pthread_mutex_unlock(&m->lock);
	return n;
}

void sim_pm_set_wake(struct sim_kl_model *m, int wake_fd)
{
	pthread_mutex_lock(&m->lock);
	m->pm->wake_fd = wake_fd;
	pthread_mutex_unlock(&m->lock);
}

/* ---- counter accounting -------------------------------------------------------------- */

static struct sim_kl_deploy *target_deploy(struct sim_kl_model *m, const struct sim_pm_target *t)
{
	return t->deploy_key ? sim_kl_map_get(&m->deploys, t->deploy_key) : NULL;
}

static int64_t raw_cpu(struct sim_kl_model *m, const struct sim_pm_target *t, int64_t now_ns)
{
	struct sim_kl_deploy *d = t->cpu.kind == SIM_WL_LOAD ? target_deploy(m, t) : NULL;
	double load = d ? sim_kl_deploy_integral(d, now_ns) - t->load0 : 0;

	return t->offset_ns + sim_wl_cpu_ns(&t->cpu, now_ns - t->inc_ns, load > 0 ? load : 0);
}

/* Core-ns behind hello_counter_total at now, moving to a new incarnation
 * when one began. */
static int64_t target_cpu(struct sim_kl_model *m, struct sim_pm_target *t, int64_t now_ns)
{
	int64_t inc = sim_pm_incarnation(t->base_ns, t->every_ns, now_ns), cpu;

	if (inc != t->inc_ns) {
		struct sim_kl_deploy *d = target_deploy(m, t);

		t->inc_ns = inc;
		t->offset_ns = 0;
		t->last_ns = 0;
		t->load0 = d ? sim_kl_deploy_integral(d, inc) : 0;
	}
	cpu = now_ns > inc ? raw_cpu(m, t, now_ns) : 0;
	if (cpu < t->last_ns)
		cpu = t->last_ns;
	t->last_ns = cpu;
	return cpu;
}

void sim_pm_target_value(struct sim_kl_model *m, struct sim_pm_target *t, int64_t now_ns,
			int64_t *count, double *inflight)
{
	struct sim_kl_deploy *d = t->cpu.kind == SIM_WL_LOAD ? target_deploy(m, t) : NULL;
	int64_t cpu = target_cpu(m, t, now_ns);
	int64_t use = sim_wl_usage(&t->cpu, now_ns - t->inc_ns, d ? sim_kl_deploy_load(d) : 0);

	*count = cpu / SIM_PM_NS_PER_REQUEST;
	*inflight = (double)use / 1000.0 * (double)(NS_PER_SEC / SIM_PM_NS_PER_REQUEST) *
		    SIM_PM_MEAN_DURATION;
}

/* ---- JSON -> target ------------------------------------------------------------------- */

static const char *ann_str(const json_t *ann, const char *key)
{
	return json_string_value(json_object_get(ann, key));
}

/* "A.B.C.D" in 127/8 and port 1..65535 -> key; false otherwise. */
static bool make_key(const char *addr, size_t addrlen, const char *port, char *key,
		     int *port_out)
{
	struct in_addr a;
	char ip[16];
	char *end;
	long p;

	if (!addr || !port || addrlen == 0 || addrlen >= sizeof(ip))
		return false;
	memcpy(ip, addr, addrlen);
	ip[addrlen] = '\0';
	errno = 0;
	p = strtol(port, &end, 10);
	if (errno || end == port || *end || p < 1 || p > 65535 || inet_pton(AF_INET, ip, &a) != 1 ||
	    (ntohl(a.s_addr) >> 24) != 127)
		return false;
	snprintf(key, SIM_PM_KEY_LEN, "%s:%ld", ip, p);
	*port_out = (int)p;
	return true;
}

static struct sim_pm_target *target_new(const char *owner, const char *key, int port,
				       const json_t *ann)
{
	struct sim_pm_target *t = xcalloc(1, sizeof(*t));
	const char *path = ann_str(ann, SIM_ANN_PATH);
	const char *scheme = ann_str(ann, SIM_ANN_SCHEME);

	snprintf(t->key, sizeof(t->key), "%s", key);
	t->port = port;
	t->owner = xstrdup(owner);
	t->path = xstrdup(path && path[0] == '/' && strlen(path) < 200 ? path : "/metrics");
	t->https = scheme && strcmp(scheme, "https") == 0;
	sim_kl_parse_fault(ann_str(ann, SIM_ANN_FAULT), owner, &t->fault);
	return t;
}

static int64_t restart_sum(const json_t *obj)
{
	const json_t *cs = jpath_get(obj, "status.containerStatuses");
	int64_t sum = 0;
	size_t i;
	json_t *c;

	json_array_foreach(cs, i, c)
		sum += json_integer_value(json_object_get(c, "restartCount"));
	return sum;
}

/* Padding series asked by kubesim.io/metrics-series: 0 when absent, at or
 * under the base, or invalid (logged). */
static int padding(const char *owner, const json_t *ann)
{
	const char *v = ann_str(ann, SIM_ANN_SERIES);
	char *end;
	long n;

	if (!v)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 0 || n > SIM_PM_MAX_SERIES) {
		log_warn("pod %s: %s \"%s\" is not an integer in [0, %d]; no padding", owner + 5,
			 SIM_ANN_SERIES, v, SIM_PM_MAX_SERIES);
		return 0;
	}
	return n > SIM_PM_BASE_SERIES ? (int)n - SIM_PM_BASE_SERIES : 0;
}

static struct sim_pm_target *pod_target(struct sim_kl_model *m, const char *owner,
					const json_t *obj, int64_t now_ns)
{
	const json_t *ann = jpath_get(obj, "metadata.annotations");
	const char *scrape = ann_str(ann, SIM_ANN_SCRAPE);
	const char *ip = jpath_str(obj, "status.podIP");
	const char *phase = jpath_str(obj, "status.phase");
	const char *uid = jpath_str(obj, "metadata.uid");
	struct sim_kl_pod *p = sim_kl_map_get(&m->pods, owner + 5);
	struct sim_pm_target *t;
	char key[SIM_PM_KEY_LEN];
	int port;

	if (!scrape || strcmp(scrape, "true") != 0 || !phase || strcmp(phase, "Running") != 0 ||
	    !ip || !p || p->ncont == 0)
		return NULL;
	if (!make_key(ip, strlen(ip), ann_str(ann, SIM_ANN_PORT), key, &port)) {
		log_warn("pod %s: not served: podIP %s / %s not a 127/8 address and port", owner + 5,
			 ip, SIM_ANN_PORT);
		return NULL;
	}
	t = target_new(owner, key, port, ann);
	t->rv = sim_kl_json_rv(obj);
	t->uid = xstrdup(uid ? uid : "");
	t->deploy_key = p->deploy_key ? xstrdup(p->deploy_key) : NULL;
	t->cpu = p->cont[0].cpu;
	t->every_ns = p->restart_every_ns;
	t->restarts = restart_sum(obj);
	t->start_text_ns = sim_kl_json_time(obj, "status.startTime");
	t->pad = padding(owner, ann);
	t->close = ann_str(ann, SIM_ANN_KEEPALIVE) &&
		   strcmp(ann_str(ann, SIM_ANN_KEEPALIVE), "false") == 0;
	t->base_ns = p->start_ns && p->start_ns <= now_ns ? p->start_ns : now_ns;
	return t;
}

static struct sim_pm_target *exporter_target(const char *owner, const json_t *obj)
{
	const json_t *ann = jpath_get(obj, "metadata.annotations");
	const char *at = ann_str(ann, SIM_ANN_EXPORTER);
	const char *depth = ann_str(ann, SIM_ANN_QUEUE_DEPTH);
	const char *queue = ann_str(ann, SIM_ANN_QUEUE);
	const char *colon = at ? strrchr(at, ':') : NULL;
	struct sim_pm_target *t;
	char key[SIM_PM_KEY_LEN], num[SIM_KL_FLOAT_LEN];
	int port;

	if (!at)
		return NULL;
	if (!colon || !make_key(at, (size_t)(colon - at), colon + 1, key, &port)) {
		log_warn("configmap %s: %s \"%s\" is not <127/8 address>:<port>", owner + 11,
			 SIM_ANN_EXPORTER, at);
		return NULL;
	}
	t = target_new(owner, key, port, ann);
	t->exporter = true;
	if (queue && (!*queue || strpbrk(queue, "\"\\\n") || strlen(queue) > 200)) {
		log_warn("configmap %s: invalid %s \"%s\"", owner + 11, SIM_ANN_QUEUE, queue);
		queue = NULL;
	}
	t->queue = xstrdup(queue ? queue : "jobs");
	if (depth) {
		char *end;
		double v;

		errno = 0;
		v = strtod(depth, &end);
		if (end == depth || *end || errno == ERANGE) {
			log_warn("configmap %s: %s \"%s\" is not a number", owner + 11,
				 SIM_ANN_QUEUE_DEPTH, depth);
		} else {
			fmt_go_float(v, num, sizeof(num));
			t->depth = xstrdup(num);
		}
	}
	return t;
}

/* Same pod incarnation: carry the counter over to the new spec. */
static void carry(struct sim_kl_model *m, struct sim_pm_target *old, struct sim_pm_target *t,
		  int64_t now_ns)
{
	int64_t cpu;

	if (old->exporter || strcmp(old->uid, t->uid) != 0 ||
	    old->start_text_ns != t->start_text_ns)
		return;
	if (t->restarts > old->restarts) {
		t->base_ns = now_ns; /* a container restarted: the app starts over */
		return;
	}
	t->base_ns = old->base_ns;
	if (old->inc_ns == 0)
		return;
	cpu = target_cpu(m, old, now_ns);
	t->inc_ns = old->inc_ns;
	t->load0 = old->load0;
	t->offset_ns = 0;
	t->offset_ns = cpu - raw_cpu(m, t, now_ns);
	t->last_ns = cpu;
}

void sim_pm_apply(struct sim_kl_model *m, enum sim_event ev, const char *resource,
		  const json_t *obj, int64_t now_ns)
{
	const char *ns = jpath_str(obj, "metadata.namespace");
	const char *name = jpath_str(obj, "metadata.name");
	bool pods = strcmp(resource, "pods") == 0;
	struct sim_pm_target *old, *t = NULL, *other;
	char *owner;

	if (!ns || !name || (!pods && strcmp(resource, "configmaps") != 0))
		return;
	owner = xasprintf("%s/%s/%s", pods ? "pods" : "configmaps", ns, name);
	old = sim_kl_map_get(&m->pm->owners, owner);
	if (ev != SIM_DELETED)
		t = pods ? pod_target(m, owner, obj, now_ns) : exporter_target(owner, obj);
	if (old && t && pods && t->rv && old->rv > t->rv) {
		target_free(t); /* an older copy (the initial list after an event) */
		free(owner);
		return;
	}
	if (old && t)
		carry(m, old, t, now_ns);
	if (old) {
		sim_kl_map_del(&m->pm->owners, owner);
		sim_kl_map_del(&m->pm->targets, old->key);
		target_free(old);
	}
	other = t ? sim_kl_map_get(&m->pm->targets, t->key) : NULL;
	if (other) {
		log_warn("%s: %s is already served for %s; not serving it", owner, t->key,
			 other->owner);
		target_free(t);
		t = NULL;
	}
	if (t) {
		sim_kl_map_put(&m->pm->targets, t->key, t);
		sim_kl_map_put(&m->pm->owners, owner, t);
		add_port(m->pm, t->port);
	}
	free(owner);
}
