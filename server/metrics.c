/*
 * metrics.c - metrics-server's own metric families that live in server/:
 * metrics_server_api_metric_freshness_seconds (histogram, buckets
 * ExponentialBuckets(1, 1.364, 20)) and metrics_server_storage_points.
 * Prometheus text written with common/ (prom_write_*).
 */
#include "server/server.h"

#include <pthread.h>
#include <stdlib.h>

#define FRESHNESS_BUCKETS 20

struct server_metrics {
	pthread_mutex_t lock;
	double bounds[FRESHNESS_BUCKETS];
	struct prom_histogram freshness;
};

struct server_metrics *server_metrics_new(void)
{
	struct server_metrics *m = xcalloc(1, sizeof(*m));
	double next = 1.0;

	pthread_mutex_init(&m->lock, NULL);
	/* prometheus.ExponentialBuckets: the same multiplications, in order. */
	for (size_t i = 0; i < FRESHNESS_BUCKETS; i++) {
		m->bounds[i] = next;
		next *= 1.364;
	}
	prom_histogram_init(&m->freshness, m->bounds, FRESHNESS_BUCKETS);
	return m;
}

void server_metrics_free(struct server_metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void server_metrics_observe_freshness(struct server_metrics *m, double seconds)
{
	pthread_mutex_lock(&m->lock);
	prom_histogram_observe(&m->freshness, seconds);
	pthread_mutex_unlock(&m->lock);
}

int server_metrics_write_freshness(struct server_metrics *m, struct dynbuf *out)
{
	static const char name[] = "metrics_server_api_metric_freshness_seconds";
	struct prom_histogram h;
	int rc;

	pthread_mutex_lock(&m->lock);
	h = m->freshness;
	pthread_mutex_unlock(&m->lock);
	rc = prom_write_help_type(out, name, "[ALPHA] Freshness of metrics exported", "histogram");
	return rc ? rc : prom_write_histogram(out, name, NULL, 0, &h);
}

int server_metrics_write_storage_points(size_t node_points, size_t container_points,
					struct dynbuf *out)
{
	static const char name[] = "metrics_server_storage_points";
	int rc = prom_write_help_type(out, name, "[ALPHA] Number of metrics points stored.",
				      "gauge");

	if (!rc)
		rc = prom_write_sample_uint(out, name, &(struct prom_label){ "type", "container" }, 1,
					    container_points);
	if (!rc)
		rc = prom_write_sample_uint(out, name, &(struct prom_label){ "type", "node" }, 1,
					    node_points);
	return rc;
}
