/*
 * selfmetrics.c - the scraper's families on /metrics, as metrics-server
 * registers them (pkg/scraper/scraper.go, pkg/server/server.go): names,
 * [ALPHA] help texts, DefBuckets, BucketsForScrapeDuration(resolution),
 * families and series sorted as the Go registry gathers them.  Per-node
 * series are dropped with their node (metrics-server PR #1877).
 */
#include "scraper/scraper_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BUCKETS 16

static const double def_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

struct hist {
	const double *bounds;
	size_t nb;
	uint64_t counts[MAX_BUCKETS]; /* per bucket, not cumulative */
	double sum;
	uint64_t count;
};

struct scraper__node_series {
	char *node;
	struct hist dur;
	int64_t last_unix_s;
};

struct scraper__metrics {
	pthread_mutex_t mu;
	uint64_t req_ok, req_fail;
	struct scraper__node_series **nodes; /* sorted by name */
	size_t n, cap;
	double tick_bounds[MAX_BUCKETS];
	struct hist tick;
};

static void hist_observe(struct hist *h, double v)
{
	size_t i = 0;

	while (i < h->nb && v > h->bounds[i])
		i++;
	if (i < h->nb)
		h->counts[i]++;
	h->sum += v;
	h->count++;
}

/* utils.BucketsForScrapeDuration; returns the bucket count. */
static size_t scrape_buckets(double t, double *out)
{
	size_t n = COMMON_ARRAY_LEN(def_buckets), i;
	double max = def_buckets[n - 1];

	memcpy(out, def_buckets, sizeof(def_buckets));
	if (t > max) {
		out[n++] = max + (t - max) / 2;
		out[n++] = t;
		out[n++] = t * 1.5;
		out[n++] = t * 2.0;
		return n;
	}
	if (t == max)
		return n;
	for (i = 0; i < n && out[i] <= t; i++)
		;
	if (out[i] - t < out[0] || (i > 0 && t - out[i - 1] < out[0]))
		return n;
	memmove(out + i + 1, out + i, (n - i) * sizeof(*out));
	out[i] = t;
	return n + 1;
}

struct scraper__metrics *scraper__metrics_new(int64_t resolution_ns)
{
	struct scraper__metrics *m = xcalloc(1, sizeof(*m));

	pthread_mutex_init(&m->mu, NULL);
	m->tick.nb = scrape_buckets((double)resolution_ns / 1e9, m->tick_bounds);
	m->tick.bounds = m->tick_bounds;
	return m;
}

void scraper__metrics_free(struct scraper__metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->nodes[i]->node);
		free(m->nodes[i]);
	}
	free(m->nodes);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

/* Index of the first series whose name is >= node. */
static size_t lower_bound(const struct scraper__metrics *m, const char *node)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(m->nodes[mid]->node, node) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct scraper__node_series *scraper__metrics_node(struct scraper__metrics *m, const char *node)
{
	struct scraper__node_series *s;
	size_t i;

	pthread_mutex_lock(&m->mu);
	i = lower_bound(m, node);
	if (i < m->n && strcmp(m->nodes[i]->node, node) == 0) {
		s = m->nodes[i];
	} else {
		s = xcalloc(1, sizeof(*s));
		s->node = xstrdup(node);
		s->dur.bounds = def_buckets;
		s->dur.nb = COMMON_ARRAY_LEN(def_buckets);
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 16;
			m->nodes = xrealloc(m->nodes, m->cap * sizeof(*m->nodes));
		}
		memmove(m->nodes + i + 1, m->nodes + i, (m->n - i) * sizeof(*m->nodes));
		m->nodes[i] = s;
		m->n++;
	}
	pthread_mutex_unlock(&m->mu);
	return s;
}

void scraper__metrics_drop(struct scraper__metrics *m, struct scraper__node_series *s)
{
	size_t i;

	pthread_mutex_lock(&m->mu);
	i = lower_bound(m, s->node);
	if (i < m->n && m->nodes[i] == s) {
		memmove(m->nodes + i, m->nodes + i + 1, (m->n - i - 1) * sizeof(*m->nodes));
		m->n--;
		free(s->node);
		free(s);
	}
	pthread_mutex_unlock(&m->mu);
}

void scraper__metrics_request(struct scraper__metrics *m, struct scraper__node_series *s,
			      double seconds, bool success, int64_t end_unix_s)
{
	pthread_mutex_lock(&m->mu);
	if (success)
		m->req_ok++;
	else
		m->req_fail++;
	hist_observe(&s->dur, seconds);
	s->last_unix_s = end_unix_s;
	pthread_mutex_unlock(&m->mu);
}

void scraper__metrics_tick(struct scraper__metrics *m, double seconds)
{
	pthread_mutex_lock(&m->mu);
	hist_observe(&m->tick, seconds);
	pthread_mutex_unlock(&m->mu);
}

/* ---- text output --------------------------------------------------------- */

#define PFX "metrics_server_"

static int family_head(struct dynbuf *out, const char *name, const char *help, const char *type)
{
	return dynbuf_printf(out, "# HELP " PFX "%s [ALPHA] %s\n# TYPE " PFX "%s %s\n", name, help,
			     name, type);
}

/* `key="value"` with the exposition escapes (names are DNS labels; a
 * longer value is cut at the buffer's end). */
static void label_pair(const char *key, const char *value, char *buf, size_t len)
{
	size_t j = (size_t)snprintf(buf, len, "%s=\"", key);

	for (const char *p = value; *p && j + 4 < len; p++) {
		if (*p == '\\' || *p == '"' || *p == '\n')
			buf[j++] = '\\';
		buf[j++] = *p == '\n' ? 'n' : *p;
	}
	buf[j++] = '"';
	buf[j] = '\0';
}

/* One histogram's series; labels is "" or `k="v"`. */
static int write_hist(struct dynbuf *out, const char *name, const char *labels,
		      const struct hist *h)
{
	const char *sep = *labels ? "," : "";
	char num[40];
	uint64_t cum = 0;
	int rc = 0;

	for (size_t i = 0; !rc && i < h->nb; i++) {
		cum += h->counts[i];
		scraper__format_float(h->bounds[i], num, sizeof(num));
		rc = dynbuf_printf(out, PFX "%s_bucket{%s%sle=\"%s\"} %llu\n", name, labels, sep, num,
				   (unsigned long long)cum);
	}
	scraper__format_float(h->sum, num, sizeof(num));
	if (!rc)
		rc = dynbuf_printf(out, PFX "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
				   (unsigned long long)h->count);
	if (!rc)
		rc = dynbuf_printf(out, PFX "%s_sum%s%s%s %s\n", name, *labels ? "{" : "", labels,
				   *labels ? "}" : "", num);
	if (!rc)
		rc = dynbuf_printf(out, PFX "%s_count%s%s%s %llu\n", name, *labels ? "{" : "", labels,
				   *labels ? "}" : "", (unsigned long long)h->count);
	return rc;
}

static int write_kubelet(const struct scraper__metrics *m, struct dynbuf *out)
{
	char num[40], lbl[600];
	size_t seen = 0;
	int rc = 0;

	for (size_t i = 0; i < m->n; i++)
		seen += m->nodes[i]->dur.count != 0;
	if (seen == 0)
		return 0; /* Go only shows a vector's children once observed */
	rc = family_head(out, "kubelet_last_request_time_seconds",
			 "Time of last request performed to Kubelet API since unix epoch in seconds",
			 "gauge");
	for (size_t i = 0; !rc && i < m->n; i++) {
		if (m->nodes[i]->dur.count == 0)
			continue;
		label_pair("node", m->nodes[i]->node, lbl, sizeof(lbl));
		scraper__format_float((double)m->nodes[i]->last_unix_s, num, sizeof(num));
		rc = dynbuf_printf(out, PFX "kubelet_last_request_time_seconds{%s} %s\n", lbl, num);
	}
	if (!rc)
		rc = family_head(out, "kubelet_request_duration_seconds",
				 "Duration of requests to Kubelet API in seconds", "histogram");
	for (size_t i = 0; !rc && i < m->n; i++) {
		if (m->nodes[i]->dur.count == 0)
			continue;
		label_pair("node", m->nodes[i]->node, lbl, sizeof(lbl));
		rc = write_hist(out, "kubelet_request_duration_seconds", lbl, &m->nodes[i]->dur);
	}
	return rc;
}

static int write_requests(const struct scraper__metrics *m, struct dynbuf *out)
{
	int rc = 0;

	if (m->req_ok == 0 && m->req_fail == 0)
		return 0;
	rc = family_head(out, "kubelet_request_total", "Number of requests sent to Kubelet API",
			 "counter");
	if (!rc && m->req_fail)
		rc = dynbuf_printf(out, PFX "kubelet_request_total{success=\"false\"} %llu\n",
				   (unsigned long long)m->req_fail);
	if (!rc && m->req_ok)
		rc = dynbuf_printf(out, PFX "kubelet_request_total{success=\"true\"} %llu\n",
				   (unsigned long long)m->req_ok);
	return rc;
}

int scraper__metrics_write(struct scraper__metrics *m, struct dynbuf *out)
{
	int rc;

	pthread_mutex_lock(&m->mu);
	rc = write_kubelet(m, out);
	if (!rc)
		rc = write_requests(m, out);
	if (!rc)
		rc = family_head(out, "manager_tick_duration_seconds",
				 "The total time spent collecting and storing metrics in seconds.",
				 "histogram");
	if (!rc)
		rc = write_hist(out, "manager_tick_duration_seconds", "", &m->tick);
	pthread_mutex_unlock(&m->mu);
	return rc;
}
