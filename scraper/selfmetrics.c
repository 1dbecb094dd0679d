/*
 * selfmetrics.c - the scraper's families on /metrics, as metrics-server
 * registers them (pkg/scraper/scraper.go, pkg/server/server.go): names,
 * [ALPHA] help texts, DefBuckets, BucketsForScrapeDuration(resolution),
 * families and series sorted as the Go registry gathers them.  Per-node
 * series are dropped with their node (metrics-server PR #1877).
 */
#include "scraper/scraper_int.h"
#include "scraper/apps_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* DefBuckets plus at most 4 from BucketsForScrapeDuration */
#define MAX_BUCKETS SCRAPER__SCRAPE_BUCKETS_MAX

static const double def_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

struct scraper__node_series {
	char *node;
	struct prom_histogram dur;
	int64_t last_unix_s;
};

struct scraper__metrics {
	pthread_mutex_t mu;
	uint64_t req_ok, req_fail;
	struct scraper__node_series **nodes; /* sorted by name */
	size_t n, cap;
	double tick_bounds[MAX_BUCKETS];
	struct prom_histogram tick;
};

/* utils.BucketsForScrapeDuration; returns the bucket count. */
size_t scraper__scrape_buckets(double t, double *out)
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
	prom_histogram_init(&m->tick, m->tick_bounds,
			    scraper__scrape_buckets((double)resolution_ns / 1e9, m->tick_bounds));
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
		prom_histogram_init(&s->dur, def_buckets, COMMON_ARRAY_LEN(def_buckets));
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
	prom_histogram_observe(&s->dur, seconds);
	s->last_unix_s = end_unix_s;
	pthread_mutex_unlock(&m->mu);
}

void scraper__metrics_tick(struct scraper__metrics *m, double seconds)
{
	pthread_mutex_lock(&m->mu);
	prom_histogram_observe(&m->tick, seconds);
	pthread_mutex_unlock(&m->mu);
}

/* ---- text output --------------------------------------------------------- */

#define PFX "metrics_server_"
#define LAST_REQUEST PFX "kubelet_last_request_time_seconds"
#define REQUEST_DURATION PFX "kubelet_request_duration_seconds"
#define REQUESTS PFX "kubelet_request_total"
#define TICK PFX "manager_tick_duration_seconds"

static int write_kubelet(const struct scraper__metrics *m, struct dynbuf *out)
{
	struct prom_label node = { "node", NULL };
	size_t seen = 0;
	int rc = 0;

	for (size_t i = 0; i < m->n; i++)
		seen += m->nodes[i]->dur.count != 0;
	if (seen == 0)
		return 0; /* Go only shows a vector's children once observed */
	rc = prom_write_help_type(out, LAST_REQUEST,
				  "[ALPHA] Time of last request performed to Kubelet API since unix "
				  "epoch in seconds", "gauge");
	for (size_t i = 0; !rc && i < m->n; i++) {
		if (m->nodes[i]->dur.count == 0)
			continue;
		node.value = m->nodes[i]->node;
		rc = prom_write_sample(out, LAST_REQUEST, &node, 1, (double)m->nodes[i]->last_unix_s);
	}
	if (!rc)
		rc = prom_write_help_type(out, REQUEST_DURATION,
					  "[ALPHA] Duration of requests to Kubelet API in seconds",
					  "histogram");
	for (size_t i = 0; !rc && i < m->n; i++) {
		if (m->nodes[i]->dur.count == 0)
			continue;
		node.value = m->nodes[i]->node;
		rc = prom_write_histogram(out, REQUEST_DURATION, &node, 1, &m->nodes[i]->dur);
	}
	return rc;
}

static int write_requests(const struct scraper__metrics *m, struct dynbuf *out)
{
	int rc = 0;

	if (m->req_ok == 0 && m->req_fail == 0)
		return 0;
	rc = prom_write_help_type(out, REQUESTS, "[ALPHA] Number of requests sent to Kubelet API",
				  "counter");
	if (!rc && m->req_fail)
		rc = prom_write_sample_uint(out, REQUESTS, &(struct prom_label){ "success", "false" },
					    1, m->req_fail);
	if (!rc && m->req_ok)
		rc = prom_write_sample_uint(out, REQUESTS, &(struct prom_label){ "success", "true" },
					    1, m->req_ok);
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
		rc = prom_write_help_type(out, TICK,
					  "[ALPHA] The total time spent collecting and storing "
					  "metrics in seconds.", "histogram");
	if (!rc)
		rc = prom_write_histogram(out, TICK, NULL, 0, &m->tick);
	pthread_mutex_unlock(&m->mu);
	return rc;
}
