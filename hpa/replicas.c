/*
 * replicas.c - the replica calculator (replica_calculator.go and
 * metrics/utilization.go): pod grouping with the CPU readiness rules,
 * utilization and plain-value ratios, the missing / unready pod
 * adjustments with their direction guards, and the Object / External
 * count formulas.  Works on already-fetched values; no JSON here.
 */
#include "hpa/hpa_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One entry of upstream's PodMetricsInfo map. */
struct entry {
	const char *pod;
	int64_t value, ts, window;
	const struct hpa__pod *p; /* NULL: no such pod listed (superfluous) */
	bool gone;
};

struct work {
	struct entry *e;
	size_t n, cap, n_fetched;
	const struct hpa__pod **byname;
	size_t n_pods;
};

static int cmp_pod(const void *a, const void *b)
{
	return strcmp((*(const struct hpa__pod *const *)a)->name,
		      (*(const struct hpa__pod *const *)b)->name);
}

static const struct hpa__pod *find_pod(const struct work *w, const char *name)
{
	size_t lo = 0, hi = w->n_pods;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(w->byname[mid]->name, name);

		if (c == 0)
			return w->byname[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The live entry of a fetched metric (the sorted prefix), or NULL. */
static struct entry *find_entry(struct work *w, const char *pod)
{
	size_t lo = 0, hi = w->n_fetched;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(w->e[mid].pod, pod);

		if (c == 0)
			return w->e[mid].gone ? NULL : &w->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Adds a filled-in value for a listed pod whose fetched entry is absent or gone. */
static void put_entry(struct work *w, const struct hpa__pod *p, int64_t value)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 16;
		w->e = xrealloc(w->e, w->cap * sizeof(*w->e));
	}
	w->e[w->n++] = (struct entry){ .pod = p->name, .value = value, .p = p };
}

/* Index of metrics by pod name: sorted copy, later duplicates win. */
static int cmp_metric(const void *a, const void *b)
{
	const struct hpa__pod_metric *const *x = a, *const *y = b;
	int c = strcmp((*x)->pod, (*y)->pod);

	return c ? c : (*x < *y ? -1 : 1);
}

static void work_init(struct work *w, const struct hpa__calc *c)
{
	const struct hpa__pod_metric **m = xcalloc(c->n_metrics + 1, sizeof(*m));

	memset(w, 0, sizeof(*w));
	w->n_pods = c->pods->n;
	w->byname = xcalloc(w->n_pods + 1, sizeof(*w->byname));
	for (size_t i = 0; i < w->n_pods; i++)
		w->byname[i] = &c->pods->v[i];
	qsort(w->byname, w->n_pods, sizeof(*w->byname), cmp_pod);
	for (size_t i = 0; i < c->n_metrics; i++)
		m[i] = &c->metrics[i];
	qsort(m, c->n_metrics, sizeof(*m), cmp_metric);
	w->cap = c->n_metrics + c->pods->n + 1;
	w->e = xcalloc(w->cap, sizeof(*w->e));
	for (size_t i = 0; i < c->n_metrics; i++) {
		if (i + 1 < c->n_metrics && strcmp(m[i]->pod, m[i + 1]->pod) == 0)
			continue;
		w->e[w->n++] = (struct entry){ .pod = m[i]->pod, .value = m[i]->value,
					       .ts = m[i]->ts, .window = m[i]->window,
					       .p = find_pod(w, m[i]->pod) };
	}
	w->n_fetched = w->n;
	free(m);
}

static void work_clear(struct work *w)
{
	free(w->e);
	free(w->byname);
}

static size_t live_count(const struct work *w)
{
	size_t n = 0;

	for (size_t i = 0; i < w->n; i++)
		n += !w->e[i].gone;
	return n;
}

/* The CPU sample rule of groupPods: is this pod's sample "unready"? */
static bool cpu_unready(const struct hpa__calc *c, const struct hpa__pod *p, const struct entry *m)
{
	if (p->ready == HPA_COND_NONE || !p->has_start)
		return true;
	if (hpa__time_add(p->start, c->cpu_init_ns) > c->now)
		return p->ready == HPA_COND_FALSE || m->ts < hpa__time_add(p->ready_ltt, m->window);
	return p->ready == HPA_COND_FALSE &&
	       hpa__time_add(p->start, c->readiness_delay_ns) > p->ready_ltt;
}

/* groupPods + removeMetricsForPods; returns the ready pod count. */
static int64_t group_pods(struct hpa__calc *c, struct work *w)
{
	int64_t ready = 0;

	for (size_t i = 0; i < c->pods->n; i++) {
		const struct hpa__pod *p = &c->pods->v[i];
		struct entry *m;

		if (p->deleted || p->phase == HPA_PHASE_FAILED || p->phase == HPA_PHASE_SUCCEEDED) {
			hpa__names_add(&c->ignored, p->name);
			if ((m = find_entry(w, p->name)))
				m->gone = true;
			continue;
		}
		m = find_entry(w, p->name);
		if (p->phase == HPA_PHASE_PENDING || (m && c->cpu && cpu_unready(c, p, m))) {
			hpa__names_add(&c->unready, p->name);
			if (m)
				m->gone = true;
			continue;
		}
		if (!m) {
			hpa__names_add(&c->missing, p->name);
			continue;
		}
		hpa__names_add(&c->ready, p->name);
		ready++;
	}
	hpa__trace_add(c->trace, "pods: %zu ready, %zu unready, %zu missing, %zu ignored",
		      c->ready.n, c->unready.n, c->missing.n, c->ignored.n);
	return ready;
}

static int fail(struct hpa__calc *c, const char *msg)
{
	free(c->error);
	c->error = xstrdup(msg);
	hpa__trace_add(c->trace, "error: %s", msg);
	return ERR_INVAL;
}

/* GetResourceUtilizationRatio, with exact (128-bit) totals. */
static int util_ratio(struct hpa__calc *c, const struct work *w, int32_t target, double *ratio,
		      int32_t *util, int64_t *raw)
{
	__extension__ __int128 m = 0, r = 0, pct;
	int64_t n = 0;

	for (size_t i = 0; i < w->n; i++) {
		if (w->e[i].gone || !w->e[i].p)
			continue;
		m += w->e[i].value;
		r += w->e[i].p->request;
		n++;
	}
	if (r == 0)
		return fail(c, "no metrics returned matched known pods");
	pct = m * 100 / r;
	*util = pct > INT32_MAX ? INT32_MAX : pct < INT32_MIN ? INT32_MIN : (int32_t)pct;
	*raw = (int64_t)(m / n);
	*ratio = (double)*util / (double)target;
	hpa__trace_add(c->trace, "utilization %d%% (usage %lldm of request %lldm over %lld pods), "
				"target %d%% -> ratio %.4f",
		      (int)*util, (long long)(m > INT64_MAX ? INT64_MAX : (int64_t)m),
		      (long long)(r > INT64_MAX ? INT64_MAX : (int64_t)r), (long long)n,
		      (int)target, *ratio);
	return 0;
}

/* GetMetricUsageRatio: average over every live entry (superfluous ones too). */
static double usage_ratio(const struct work *w, int64_t target, int64_t *usage)
{
	__extension__ __int128 sum = 0, avg;
	int64_t n = 0;

	for (size_t i = 0; i < w->n; i++) {
		if (!w->e[i].gone) {
			sum += w->e[i].value;
			n++;
		}
	}
	avg = n ? sum / n : 0;
	*usage = avg > INT64_MAX ? INT64_MAX : avg < INT64_MIN ? INT64_MIN : (int64_t)avg;
	return (double)*usage / (double)target;
}

/* Missing / unready adjustments shared by both calculators. */
static void fill_pods(struct hpa__calc *c, struct work *w, double ratio, bool up_unready,
		      int32_t target_util, int64_t target_value, bool utilization)
{
	for (size_t i = 0; i < c->missing.n && ratio != 1.0; i++) {
		const struct hpa__pod *p = find_pod(w, c->missing.v[i]);
		int64_t v = 0;

		if (ratio < 1.0)
			v = utilization ? p->request * (int64_t)(target_util > 100 ? target_util : 100) /
						  100
					: target_value;
		put_entry(w, p, v);
	}
	if (c->missing.n && ratio < 1.0)
		hpa__trace_add(c->trace, "scale-down: %zu missing pods counted at %s", c->missing.n,
			      utilization ? "max(100%, target) of their request" : "the target value");
	else if (c->missing.n && ratio > 1.0)
		hpa__trace_add(c->trace, "scale-up: %zu missing pods counted at 0", c->missing.n);
	if (!up_unready)
		return;
	for (size_t i = 0; i < c->unready.n; i++)
		put_entry(w, find_pod(w, c->unready.v[i]), 0);
	hpa__trace_add(c->trace, "scale-up: %zu unready pods counted at 0", c->unready.n);
}

static void tol_trace(const struct hpa__calc *c, double ratio, bool within)
{
	hpa__trace_add(c->trace, "ratio %.4f %s tolerance [%.4f, %.4f]", ratio,
		      within ? "within" : "outside", 1.0 - c->tol.down, 1.0 + c->tol.up);
}

/* The second half of both calculators, after the first ratio. */
static int finish(struct hpa__calc *c, struct work *w, double ratio, double new_ratio)
{
	int32_t n;
	bool within = hpa__tol_within(&c->tol, new_ratio);

	hpa__trace_add(c->trace, "ratio recomputed with the adjusted pods: %.4f", new_ratio);
	tol_trace(c, new_ratio, within);
	if (within || (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0)) {
		hpa__trace_add(c->trace, "%s -> keep current %d",
			      within ? "within tolerance" : "direction would flip", (int)c->current);
		c->replicas = c->current;
		return 0;
	}
	n = hpa__ceil_i32(new_ratio * (double)live_count(w));
	if ((new_ratio < 1.0 && n > c->current) || (new_ratio > 1.0 && n < c->current)) {
		hpa__trace_add(c->trace, "ceil(%.4f x %zu) = %d would move the other way -> keep %d",
			      new_ratio, live_count(w), (int)n, (int)c->current);
		c->replicas = c->current;
		return 0;
	}
	hpa__trace_add(c->trace, "proposal ceil(%.4f x %zu pods) = %d", new_ratio, live_count(w),
		      (int)n);
	c->replicas = n;
	return 0;
}

/* Tolerance check and ceil(ratio x ready) when no pod needs adjusting. */
static int simple(struct hpa__calc *c, double ratio, int64_t ready)
{
	bool within = hpa__tol_within(&c->tol, ratio);

	tol_trace(c, ratio, within);
	if (within) {
		c->replicas = c->current;
		hpa__trace_add(c->trace, "within tolerance -> keep current %d", (int)c->current);
		return 0;
	}
	c->replicas = hpa__ceil_i32(ratio * (double)ready);
	hpa__trace_add(c->trace, "proposal ceil(%.4f x %lld ready pods) = %d", ratio,
		      (long long)ready, (int)c->replicas);
	return 0;
}

static int start(struct hpa__calc *c, struct work *w, int64_t *ready)
{
	if (c->pods->n == 0)
		return fail(c, "no pods returned by selector while calculating replica count");
	work_init(w, c);
	*ready = group_pods(c, w);
	hpa__names_sort(&c->ready);
	hpa__names_sort(&c->unready);
	hpa__names_sort(&c->missing);
	hpa__names_sort(&c->ignored);
	if (live_count(w) == 0)
		return fail(c, "did not receive metrics for targeted pods (pods might be unready)");
	return 0;
}

int hpa__calc_utilization(struct hpa__calc *c, int32_t target)
{
	struct work w = { 0 };
	int64_t ready;
	double ratio, new_ratio;
	int32_t u2;
	int64_t r2;
	int rc;
	bool up_unready;

	rc = start(c, &w, &ready);
	if (rc == 0 && c->request_error)
		rc = fail(c, c->request_error);
	if (rc == 0)
		rc = util_ratio(c, &w, target, &ratio, &c->utilization, &c->raw_average);
	if (rc != 0)
		goto out;
	up_unready = c->unready.n > 0 && ratio > 1.0;
	if (!up_unready && c->missing.n == 0) {
		rc = simple(c, ratio, ready);
		goto out;
	}
	fill_pods(c, &w, ratio, up_unready, target, 0, true);
	rc = util_ratio(c, &w, target, &new_ratio, &u2, &r2);
	if (rc == 0)
		rc = finish(c, &w, ratio, new_ratio);
out:
	work_clear(&w);
	return rc;
}

int hpa__calc_plain(struct hpa__calc *c, int64_t target)
{
	struct work w = { 0 };
	int64_t ready, u2;
	double ratio, new_ratio;
	int rc;
	bool up_unready;

	rc = start(c, &w, &ready);
	if (rc != 0)
		goto out;
	ratio = usage_ratio(&w, target, &c->usage);
	c->raw_average = c->usage;
	hpa__trace_add(c->trace, "average %lldm over %zu pods, target %lldm -> ratio %.4f",
		      (long long)c->usage, live_count(&w), (long long)target, ratio);
	up_unready = c->unready.n > 0 && ratio > 1.0;
	if (!up_unready && c->missing.n == 0) {
		rc = simple(c, ratio, ready);
		goto out;
	}
	fill_pods(c, &w, ratio, up_unready, 0, target, false);
	new_ratio = usage_ratio(&w, target, &u2);
	rc = finish(c, &w, ratio, new_ratio);
out:
	work_clear(&w);
	return rc;
}

int hpa__calc_usage_ratio(struct hpa__calc *c, double ratio)
{
	int64_t ready = 0;
	bool within;

	if (c->current == 0) {
		c->replicas = hpa__ceil_i32(ratio);
		hpa__trace_add(c->trace, "scaling from zero: ceil(ratio %.4f) = %d, no tolerance",
			      ratio, (int)c->replicas);
		return 0;
	}
	within = hpa__tol_within(&c->tol, ratio);
	tol_trace(c, ratio, within);
	if (within) {
		c->replicas = c->current;
		hpa__trace_add(c->trace, "within tolerance -> keep current %d", (int)c->current);
		return 0;
	}
	if (c->pods->n == 0)
		return fail(c, "unable to calculate ready pods: no pods returned by selector "
			       "while calculating replica count");
	for (size_t i = 0; i < c->pods->n; i++) {
		const struct hpa__pod *p = &c->pods->v[i];

		if (p->phase == HPA_PHASE_RUNNING && p->ready == HPA_COND_TRUE) {
			ready++;
			hpa__names_add(&c->ready, p->name);
		}
	}
	hpa__names_sort(&c->ready);
	c->replicas = hpa__ceil_i32(ratio * (double)ready);
	hpa__trace_add(c->trace, "proposal ceil(%.4f x %lld running and ready pods) = %d", ratio,
		      (long long)ready, (int)c->replicas);
	return 0;
}

void hpa__calc_per_pod(int64_t usage, int64_t target, int32_t status_replicas,
		      const struct hpa__tol *tol, int32_t *replicas, int64_t *per_pod,
		      struct hpa_trace *trace)
{
	double ratio = (double)usage / ((double)target * (double)status_replicas);
	bool within = hpa__tol_within(tol, ratio);

	*replicas = status_replicas;
	hpa__trace_add(trace, "usage %lldm / (target %lldm x %d status replicas) = ratio %.4f, %s "
			     "tolerance [%.4f, %.4f]",
		      (long long)usage, (long long)target, (int)status_replicas, ratio,
		      within ? "within" : "outside", 1.0 - tol->down, 1.0 + tol->up);
	if (!within) {
		*replicas = hpa__ceil_i32((double)usage / (double)target);
		hpa__trace_add(trace, "proposal ceil(%lldm / %lldm) = %d", (long long)usage,
			      (long long)target, (int)*replicas);
	} else {
		hpa__trace_add(trace, "within tolerance -> keep status replicas %d",
			      (int)status_replicas);
	}
	if ((double)usage >= (double)INT64_MAX)
		*per_pod = INT64_MAX;
	else if (status_replicas == 0)
		*per_pod = 0;
	else
		*per_pod = (int64_t)ceil((double)usage / (double)status_replicas);
}

bool hpa__tol_within(const struct hpa__tol *t, double ratio)
{
	return (1.0 - t->down) <= ratio && ratio <= (1.0 + t->up);
}

void hpa__calc_clear(struct hpa__calc *c)
{
	hpa__names_clear(&c->ready);
	hpa__names_clear(&c->unready);
	hpa__names_clear(&c->missing);
	hpa__names_clear(&c->ignored);
	free(c->error);
	c->error = NULL;
}
