/*
 * metrics.c - metrics-server's own metric families that live in server/:
 * metrics_server_api_metric_freshness_seconds (histogram, buckets
 * ExponentialBuckets(1, 1.364, 20)) and metrics_server_storage_points.
 * Prometheus text exposition, numbers formatted as Go's strconv 'g', -1.
 */
#include "server/server.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define FRESHNESS_BUCKETS 20

struct server_metrics {
	pthread_mutex_t lock;
	double bounds[FRESHNESS_BUCKETS];
	uint64_t counts[FRESHNESS_BUCKETS];  /* per bucket, not cumulative */
	uint64_t count;
	double sum;
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
	size_t i = 0;

	while (i < FRESHNESS_BUCKETS && seconds > m->bounds[i])
		i++;
	pthread_mutex_lock(&m->lock);
	if (i < FRESHNESS_BUCKETS)
		m->counts[i]++;
	m->count++;
	m->sum += seconds;
	pthread_mutex_unlock(&m->lock);
}

/*
 * Go's strconv.FormatFloat(v, 'g', -1, 64), used by the Prometheus text
 * format: the shortest digits that read back as v, in %e form when the
 * decimal exponent is < -4 or >= 6 (Go's rule for shortest 'g').
 */
static void fmt_float(double v, char *buf, size_t len)
{
	char e[40];
	int prec = 1, exp;

	for (; prec <= 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	exp = (int)strtol(strchr(e, 'e') + 1, NULL, 10);
	if (v == 0 || (exp >= -4 && exp < 6))
		snprintf(buf, len, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, v);
	else
		snprintf(buf, len, "%s", e);
}

int server_metrics_write_freshness(struct server_metrics *m, struct dynbuf *out)
{
	static const char name[] = "metrics_server_api_metric_freshness_seconds";
	uint64_t counts[FRESHNESS_BUCKETS], count, cumulative = 0;
	char num[40];
	double sum;
	int rc;

	pthread_mutex_lock(&m->lock);
	memcpy(counts, m->counts, sizeof(counts));
	count = m->count;
	sum = m->sum;
	pthread_mutex_unlock(&m->lock);
	rc = dynbuf_printf(out, "# HELP %s [ALPHA] Freshness of metrics exported\n"
			   "# TYPE %s histogram\n", name, name);
	for (size_t i = 0; i < FRESHNESS_BUCKETS && rc == 0; i++) {
		cumulative += counts[i];
		fmt_float(m->bounds[i], num, sizeof(num));
		rc = dynbuf_printf(out, "%s_bucket{le=\"%s\"} %llu\n", name, num,
				   (unsigned long long)cumulative);
	}
	fmt_float(sum, num, sizeof(num));
	if (rc == 0)
		rc = dynbuf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %s\n%s_count %llu\n",
				   name, (unsigned long long)count, name, num, name,
				   (unsigned long long)count);
	return rc;
}

int server_metrics_write_storage_points(size_t node_points, size_t container_points,
					struct dynbuf *out)
{
	static const char name[] = "metrics_server_storage_points";

	return dynbuf_printf(out, "# HELP %s [ALPHA] Number of metrics points stored.\n"
			     "# TYPE %s gauge\n%s{type=\"container\"} %zu\n%s{type=\"node\"} %zu\n",
			     name, name, name, container_points, name, node_points);
}
