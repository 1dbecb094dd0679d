/*
 * kubelet_render.c - a node's /metrics/resource body straight from the
 * compact structs, in the byte format of a 1.28-1.32 kubelet: families
 * in alphabetical order, series sorted by label values, ms timestamps
 * (none on container_start_time_seconds), Go float formatting.
 * Also the CPU accounting (restarts, retired containers).  Lock held.
 */
#include "test/kubesim/kubelet_int.h"

#include <stdlib.h>
#include <string.h>

#define NOISE_BUCKET_NS (15 * NS_PER_SEC)

/* ---- accounting ----------------------------------------------------------- */

int64_t sim_kl_node_base_cpu(const struct sim_kl_node *n, int64_t now_ns)
{
	return n->cpu_offset_ns + sim_wl_cpu_ns(&n->cpu, now_ns - n->start_ns, 0);
}

static struct sim_kl_deploy *pod_deploy(struct sim_kl_model *m, const struct sim_kl_pod *p)
{
	return p->deploy_key ? sim_kl_map_get(&m->deploys, p->deploy_key) : NULL;
}

/* Start of the container's current incarnation. */
static int64_t incarnation(const struct sim_kl_pod *p, const struct sim_kl_container *c,
			   int64_t now_ns)
{
	int64_t base = c->status_start_ns ? c->status_start_ns : p->start_ns;

	if (base == 0 || base > now_ns)
		base = now_ns;
	if (p->restart_every_ns > 0)
		base += (now_ns - base) / p->restart_every_ns * p->restart_every_ns;
	return base;
}

/* The counter of c's current incarnation at t (no clamping). */
static int64_t raw_cpu(struct sim_kl_model *m, const struct sim_kl_pod *p,
		       const struct sim_kl_container *c, int64_t t)
{
	struct sim_kl_deploy *d = c->cpu.kind == SIM_WL_LOAD ? pod_deploy(m, p) : NULL;
	double load = d ? sim_kl_deploy_integral(d, t) - c->load0 : 0;

	return c->cpu_offset_ns + sim_wl_cpu_ns(&c->cpu, t - c->start_ns, load > 0 ? load : 0);
}

static void new_incarnation(struct sim_kl_model *m, const struct sim_kl_pod *p,
			    struct sim_kl_container *c, int64_t start)
{
	struct sim_kl_deploy *d = pod_deploy(m, p);

	c->start_ns = start;
	c->cpu_offset_ns = 0;
	c->last_cpu_ns = 0;
	c->load0 = d ? sim_kl_deploy_integral(d, start) : 0;
	/* as the kubelet: float64(UnixNano) / 1e9 */
	fmt_go_float((double)start / 1e9, c->start_text, sizeof(c->start_text));
}

int64_t sim_kl_container_cpu(struct sim_kl_model *m, struct sim_kl_node *n,
			     const struct sim_kl_pod *p, struct sim_kl_container *c,
			     int64_t now_ns)
{
	int64_t start = incarnation(p, c, now_ns), cpu;

	if (c->start_ns == 0) {
		new_incarnation(m, p, c, start);
	} else if (start > c->start_ns) {
		cpu = raw_cpu(m, p, c, start);
		n->retired_cpu_ns += cpu > c->last_cpu_ns ? cpu : c->last_cpu_ns;
		new_incarnation(m, p, c, start);
	}
	cpu = raw_cpu(m, p, c, now_ns);
	if (cpu < c->last_cpu_ns)
		cpu = c->last_cpu_ns;
	c->last_cpu_ns = cpu;
	return cpu;
}

int64_t sim_kl_container_mem(struct sim_kl_model *m, const struct sim_kl_pod *p,
			     const struct sim_kl_container *c, int64_t now_ns)
{
	struct sim_kl_deploy *d = c->mem.kind == SIM_WL_LOAD ? pod_deploy(m, p) : NULL;
	int64_t v = sim_wl_usage(&c->mem, now_ns - c->start_ns, d ? sim_kl_deploy_load(d) : 0);

	v += sim_wl_noise(c->hash, now_ns / NOISE_BUCKET_NS, c->mem_noise);
	return v > 0 ? v : 1;
}

static struct sim_kl_container *find_container(struct sim_kl_pod *p, const char *name)
{
	for (size_t i = 0; p && i < p->ncont; i++)
		if (strcmp(p->cont[i].name, name) == 0)
			return &p->cont[i];
	return NULL;
}

void sim_kl_pod_retire(struct sim_kl_model *m, struct sim_kl_node *n, struct sim_kl_pod *oldp,
		       struct sim_kl_pod *newp, int64_t now_ns)
{
	if (!oldp->running)
		return;
	for (size_t i = 0; i < oldp->ncont; i++) {
		struct sim_kl_container *c = &oldp->cont[i];
		struct sim_kl_container *nc = newp && newp->running ? find_container(newp, c->name)
								     : NULL;
		int64_t cpu;

		if (c->start_ns == 0)
			continue; /* never reported */
		cpu = sim_kl_container_cpu(m, n, oldp, c, now_ns);
		if (!nc) {
			n->retired_cpu_ns += cpu;
			continue;
		}
		/* same container under a new spec: keep its incarnation and
		 * make the counter continue from where it is */
		nc->start_ns = c->start_ns;
		nc->load0 = c->load0;
		memcpy(nc->start_text, c->start_text, sizeof(nc->start_text));
		nc->cpu_offset_ns = 0;
		nc->cpu_offset_ns = cpu - raw_cpu(m, newp, nc, now_ns);
		nc->last_cpu_ns = cpu;
	}
}

/* ---- exposition order ------------------------------------------------------- */

static int ref_cmp(const void *a, const void *b)
{
	const struct sim_kl_ref *x = a, *y = b;
	int c = strcmp(x->cont->name, y->cont->name);

	if (c == 0)
		c = strcmp(x->pod->ns, y->pod->ns);
	return c ? c : strcmp(x->pod->name, y->pod->name);
}

static void rebuild_refs(struct sim_kl_node *n)
{
	size_t total = 0;

	for (size_t i = 0; i < n->npods; i++)
		total += n->pods[i]->ncont;
	free(n->refs);
	n->refs = xcalloc(total ? total : 1, sizeof(*n->refs));
	n->nrefs = 0;
	for (size_t i = 0; i < n->npods; i++) {
		struct sim_kl_pod *p = n->pods[i];

		if (!p->running || !p->metrics)
			continue;
		for (size_t j = 0; j < p->ncont; j++)
			n->refs[n->nrefs++] = (struct sim_kl_ref){p, &p->cont[j]};
	}
	qsort(n->refs, n->nrefs, sizeof(*n->refs), ref_cmp);
	n->dirty = false;
}

/* Computes every running container's usage at now; returns node totals. */
static void compute(struct sim_kl_model *m, struct sim_kl_node *n, int64_t now_ns,
		    int64_t *cpu, int64_t *mem)
{
	int64_t c_sum = 0, m_sum = 0;

	for (size_t i = 0; i < n->npods; i++) {
		struct sim_kl_pod *p = n->pods[i];

		for (size_t j = 0; p->running && j < p->ncont; j++) {
			struct sim_kl_container *c = &p->cont[j];

			c->cur_cpu_ns = sim_kl_container_cpu(m, n, p, c, now_ns);
			c->cur_mem = sim_kl_container_mem(m, p, c, now_ns);
			c_sum += c->cur_cpu_ns;
			m_sum += c->cur_mem;
		}
	}
	*cpu = sim_kl_node_base_cpu(n, now_ns) + n->retired_cpu_ns + c_sum;
	*mem = sim_wl_usage(&n->mem, now_ns - n->start_ns, 0) + m_sum;
}

/* ---- text ----------------------------------------------------------------------- */

/* Text is staged in a small buffer and handed to the dynbuf in blocks. */
#define STAGE 4096

struct out {
	struct dynbuf *b;
	int err;
	char ts[24];   /* " <ms>\n" */
	size_t tslen;
	size_t n;
	char stage[STAGE];
};

static void flush(struct out *o)
{
	if (o->err == 0 && o->n > 0)
		o->err = dynbuf_add(o->b, o->stage, o->n);
	o->n = 0;
}

static void put(struct out *o, const char *s, size_t n)
{
	if (o->n + n > STAGE)
		flush(o);
	if (n > STAGE) {
		if (o->err == 0)
			o->err = dynbuf_add(o->b, s, n);
		return;
	}
	memcpy(o->stage + o->n, s, n);
	o->n += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Appends name="value" with \\ " and newline escaped. */
static int add_label(struct dynbuf *b, const char *name, const char *v, bool first)
{
	int rc = dynbuf_printf(b, "%s%s=\"", first ? "{" : ",", name);

	for (const char *s = v; *s && rc == 0; s++) {
		size_t run = strcspn(s, "\\\"\n");

		rc = dynbuf_add(b, s, run);
		s += run;
		if (!*s || rc)
			break;
		rc = dynbuf_add(b, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" : "\\\\", 2);
	}
	return rc ? rc : dynbuf_addch(b, '"');
}

char *sim_kl_labels(const char *container, const char *ns, const char *pod)
{
	struct dynbuf b;
	int rc = 0;

	dynbuf_init(&b, DYN_SMALL);
	if (container)
		rc = add_label(&b, "container", container, true);
	if (rc == 0)
		rc = add_label(&b, "namespace", ns, !container);
	if (rc == 0)
		rc = add_label(&b, "pod", pod, false);
	if (rc == 0)
		rc = dynbuf_addch(&b, '}');
	if (rc != 0) {
		dynbuf_clear(&b);
		return xstrdup("{}");
	}
	return dynbuf_take(&b, NULL);
}

enum fam {
	F_CCPU, F_CMEM, F_CSTART, F_CSWAP, F_NCPU, F_NMEM, F_NSWAP,
	F_PCPU, F_PMEM, F_PSWAP, F_RSERR, F_SERR,
};

#define FAM(n, h, t) {n, sizeof(n) - 1, h, t}

static const struct {
	const char *name;
	size_t len;
	const char *help, *type;
} fams[] = {
	[F_CCPU] = FAM("container_cpu_usage_seconds_total",
		    "[STABLE] Cumulative cpu time consumed by the container in core-seconds", "counter"),
	[F_CMEM] = FAM("container_memory_working_set_bytes",
		    "[STABLE] Current working set of the container in bytes", "gauge"),
	[F_CSTART] = FAM("container_start_time_seconds",
		      "[STABLE] Start time of the container since unix epoch in seconds", "gauge"),
	[F_CSWAP] = FAM("container_swap_usage_bytes",
		     "[ALPHA] Current amount of the container swap usage in bytes. Reported only on "
		     "non-windows systems", "gauge"),
	[F_NCPU] = FAM("node_cpu_usage_seconds_total",
		    "[STABLE] Cumulative cpu time consumed by the node in core-seconds", "counter"),
	[F_NMEM] = FAM("node_memory_working_set_bytes",
		    "[STABLE] Current working set of the node in bytes", "gauge"),
	[F_NSWAP] = FAM("node_swap_usage_bytes",
		     "[ALPHA] Current swap usage of the node in bytes. Reported only on non-windows "
		     "systems", "gauge"),
	[F_PCPU] = FAM("pod_cpu_usage_seconds_total",
		    "[STABLE] Cumulative cpu time consumed by the pod in core-seconds", "counter"),
	[F_PMEM] = FAM("pod_memory_working_set_bytes",
		    "[STABLE] Current working set of the pod in bytes", "gauge"),
	[F_PSWAP] = FAM("pod_swap_usage_bytes",
		     "[ALPHA] Current amount of the pod swap usage in bytes. Reported only on "
		     "non-windows systems", "gauge"),
	[F_RSERR] = FAM("resource_scrape_error",
		     "[STABLE] 1 if there was an error while getting container metrics, 0 otherwise",
		     "gauge"),
	[F_SERR] = FAM("scrape_error",
		    "[ALPHA] 1 if there was an error while getting container metrics, 0 otherwise",
		    "gauge"),
};

static void family(struct out *o, enum fam f)
{
	puts_(o, "# HELP ");
	puts_(o, fams[f].name);
	put(o, " ", 1);
	puts_(o, fams[f].help);
	puts_(o, "\n# TYPE ");
	puts_(o, fams[f].name);
	put(o, " ", 1);
	puts_(o, fams[f].type);
	put(o, "\n", 1);
}

/* " <value>[ <ts>]\n" with value = mant / 10^frac */
static void value(struct out *o, uint64_t mant, int frac, bool ts)
{
	char v[SIM_KL_FLOAT_LEN + 1];
	size_t n;

	v[0] = ' ';
	n = sim_kl_fmt_decimal(mant, frac, v + 1);
	put(o, v, n + 1);
	if (ts)
		put(o, o->ts, o->tslen);
	else
		put(o, "\n", 1);
}

static void container_family(struct out *o, const struct sim_kl_node *n, enum fam f)
{
	family(o, f);
	for (size_t i = 0; i < n->nrefs; i++) {
		const struct sim_kl_ref *r = &n->refs[i];

		put(o, fams[f].name, fams[f].len);
		puts_(o, r->cont->labels);
		if (f == F_CCPU) {
			value(o, (uint64_t)r->cont->cur_cpu_ns, 9, true);
		} else if (f == F_CMEM) {
			value(o, (uint64_t)r->cont->cur_mem, 0, true);
		} else if (f == F_CSWAP) {
			value(o, 0, 0, true);
		} else {
			put(o, " ", 1);
			puts_(o, r->cont->start_text);
			put(o, "\n", 1);
		}
	}
}

static void pod_family(struct out *o, const struct sim_kl_node *n, enum fam f)
{
	family(o, f);
	for (size_t i = 0; i < n->npods; i++) {
		const struct sim_kl_pod *p = n->pods[i];
		int64_t sum = 0;

		if (!p->running || !p->metrics || p->ncont == 0)
			continue;
		for (size_t j = 0; j < p->ncont; j++)
			sum += f == F_PCPU ? p->cont[j].cur_cpu_ns : p->cont[j].cur_mem;
		put(o, fams[f].name, fams[f].len);
		puts_(o, p->labels);
		value(o, f == F_PSWAP ? 0 : (uint64_t)sum, f == F_PCPU ? 9 : 0, true);
	}
}

static void scalar(struct out *o, enum fam f, uint64_t mant, int frac, bool ts)
{
	family(o, f);
	put(o, fams[f].name, fams[f].len);
	value(o, mant, frac, ts);
}

static void render(struct sim_kl_model *m, struct sim_kl_node *n, int64_t ts_ms,
		   struct out *o)
{
	int64_t now = ts_ms * NS_PER_MS, cpu, mem;

	if (n->dirty)
		rebuild_refs(n);
	compute(m, n, now, &cpu, &mem);
	o->tslen = (size_t)snprintf(o->ts, sizeof(o->ts), " %lld\n", (long long)ts_ms);
	if (n->nrefs > 0) {
		container_family(o, n, F_CCPU);
		container_family(o, n, F_CMEM);
		container_family(o, n, F_CSTART);
		container_family(o, n, F_CSWAP);
	}
	scalar(o, F_NCPU, (uint64_t)cpu, 9, true);
	scalar(o, F_NMEM, (uint64_t)mem, 0, true);
	scalar(o, F_NSWAP, 0, 0, true);
	if (n->nrefs > 0) {
		pod_family(o, n, F_PCPU);
		pod_family(o, n, F_PMEM);
		pod_family(o, n, F_PSWAP);
	}
	scalar(o, F_RSERR, 0, 0, false);
	scalar(o, F_SERR, 0, 0, false);
	flush(o);
}

int sim_kl_model_render(struct sim_kl_model *m, const char *addr, int64_t now_ns,
			struct dynbuf *b)
{
	struct out o = {.b = b};
	struct sim_kl_node *n;
	size_t len0 = b->len;

	pthread_mutex_lock(&m->lock);
	n = sim_kl_map_get(&m->by_addr, addr);
	if (n)
		render(m, n, now_ns / NS_PER_MS, &o);
	pthread_mutex_unlock(&m->lock);
	if (!n)
		return ERR_NOTFOUND;
	if (o.err) {
		b->len = len0;
		if (b->buf)
			b->buf[len0] = '\0';
	}
	return o.err;
}
