/*
 * podmetrics_render.c - what the application targets answer: their
 * Prometheus text 0.0.4 body on their path (faults as the kubelets':
 * down, slow, garbage, huge, 500), 404 elsewhere.
 */
#include "test/kubesim/podmetrics.h"

#include <string.h>

#define CT_TEXT "text/plain; charset=utf-8"

/* http_request_duration_seconds: bucket bounds and the share of requests
 * at or under each, in per mille (a fixed latency distribution). */
static const struct {
	const char *le;
	int per_mille;
} buckets[] = {
	{"0.005", 100}, {"0.01", 250}, {"0.025", 500}, {"0.05", 700}, {"0.1", 850},
	{"0.25", 950},  {"0.5", 990},  {"1", 1000},    {"+Inf", 1000},
};

/* The padding series of kubesim.io/metrics-series: counters first, then
 * gauges (each family contiguous), values that move with count. */
static int render_padding(const struct sim_pm_target *t, int64_t count, struct dynbuf *out)
{
	int counters = (t->pad + 1) / 2, rc;

	rc = dynbuf_addstr(out, "# HELP hello_padding_requests_total Padding series.\n"
				"# TYPE hello_padding_requests_total counter\n");
	for (int k = 0; k < counters && !rc; k++)
		rc = dynbuf_printf(out, "hello_padding_requests_total{series=\"%d\"} %lld\n", k,
				   (long long)(count / (k % 8 + 1)));
	if (!rc && t->pad > counters)
		rc = dynbuf_addstr(out, "# HELP hello_padding_level Padding series.\n"
					"# TYPE hello_padding_level gauge\n");
	for (int k = counters; k < t->pad && !rc; k++)
		rc = dynbuf_printf(out, "hello_padding_level{series=\"%d\"} %lld\n", k,
				   (long long)((count + k) % 1000));
	return rc;
}

static int render_pod(struct sim_kl_model *m, struct sim_pm_target *t, int64_t now_ns,
		      struct dynbuf *out)
{
	char inflight_text[SIM_KL_FLOAT_LEN], sum_text[SIM_KL_FLOAT_LEN];
	int64_t count;
	double inflight;
	int rc;

	sim_pm_target_value(m, t, now_ns, &count, &inflight);
	fmt_go_float(inflight, inflight_text, sizeof(inflight_text));
	fmt_go_float((double)count * SIM_PM_MEAN_DURATION, sum_text, sizeof(sum_text));
	rc = dynbuf_printf(out,
			   "# HELP hello_counter_total Requests served.\n"
			   "# TYPE hello_counter_total counter\n"
			   "hello_counter_total %lld\n"
			   "# HELP hello_inflight_requests Requests being served.\n"
			   "# TYPE hello_inflight_requests gauge\n"
			   "hello_inflight_requests %s\n"
			   "# HELP http_request_duration_seconds Request duration.\n"
			   "# TYPE http_request_duration_seconds histogram\n",
			   (long long)count, inflight_text);
	for (size_t i = 0; i < COMMON_ARRAY_LEN(buckets) && !rc; i++)
		rc = dynbuf_printf(out, "http_request_duration_seconds_bucket{le=\"%s\"} %lld\n",
				   buckets[i].le, (long long)(count * buckets[i].per_mille / 1000));
	if (!rc)
		rc = dynbuf_printf(out,
				   "http_request_duration_seconds_sum %s\n"
				   "http_request_duration_seconds_count %lld\n",
				   sum_text, (long long)count);
	if (!rc && t->pad > 0)
		rc = render_padding(t, count, out);
	return rc;
}

int sim_pm_render_target(struct sim_kl_model *m, struct sim_pm_target *t, int64_t now_ns,
			 struct dynbuf *out)
{
	if (!t->exporter)
		return render_pod(m, t, now_ns, out);
	if (dynbuf_addstr(out, "# HELP queue_depth Jobs waiting in the queue.\n"
			       "# TYPE queue_depth gauge\n") != 0)
		return ERR_TOOBIG;
	if (!t->depth)
		return 0;
	return dynbuf_printf(out, "queue_depth{queue=\"%s\"} %s\n", t->queue, t->depth);
}

bool sim_pm_lookup(struct sim_kl_model *m, const char *key, bool *https,
		   struct sim_kl_fault *fault)
{
	struct sim_pm_target *t;

	pthread_mutex_lock(&m->lock);
	t = sim_pm_find(m, key);
	if (t) {
		*https = t->https;
		*fault = t->fault;
	}
	pthread_mutex_unlock(&m->lock);
	return t != NULL;
}

int sim_pm_render(struct sim_kl_model *m, const char *key, int64_t now_ns, struct dynbuf *out)
{
	struct sim_pm_target *t;
	int rc = ERR_NOTFOUND;

	pthread_mutex_lock(&m->lock);
	t = sim_pm_find(m, key);
	if (t)
		rc = sim_pm_render_target(m, t, now_ns, out) ? ERR_TOOBIG : 0;
	pthread_mutex_unlock(&m->lock);
	return rc;
}

void sim_pm_respond(struct sim_kl_model *m, const char *key, const struct sim_kl_request *req,
		    struct dynbuf *scratch, struct sim_kl_reply *r)
{
	struct sim_pm_target *t;
	struct sim_kl_fault f;
	bool ours = false, close = false;
	int rc = ERR_NOTFOUND;

	r->stream_left = 0;
	r->stream_pos = 0;
	dynbuf_reset(scratch);
	pthread_mutex_lock(&m->lock);
	t = sim_pm_find(m, key);
	if (t) {
		f = t->fault;
		close = t->close;
		ours = strcmp(req->path, t->path) == 0;
		if (ours && !f.down && !f.http500)
			rc = sim_pm_render_target(m, t, clock_now_ns(), scratch) ? ERR_TOOBIG : 0;
	}
	pthread_mutex_unlock(&m->lock);
	r->close |= close; /* kubesim.io/metrics-keepalive: "false" */
	if (!t || f.down) {
		r->reset = true;
	} else if (req->has_body) {
		r->close = true;
		sim_kl_reply_simple(r, req, 400, CT_TEXT, "400 Bad Request: unexpected request body\n");
	} else if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		sim_kl_reply_simple(r, req, 405, CT_TEXT, "405 method not allowed\n");
	} else if (!ours) {
		sim_kl_reply_simple(r, req, 404, CT_TEXT, "404 page not found\n");
	} else if (f.http500) {
		sim_kl_reply_simple(r, req, 500, CT_TEXT,
				    "Internal Server Error: simulated application fault\n");
	} else if (rc != 0) {
		sim_kl_reply_simple(r, req, 500, CT_TEXT, "Internal Server Error: rendering failed\n");
	} else {
		sim_kl_reply_metrics(r, req, &f, scratch);
	}
}
