/*
 * kubelet_respond.c - what a simulated kubelet answers: /healthz,
 * /metrics/resource with the node's faults (500, garbage, huge, series), 401
 * without a valid client certificate when client auth is on, 404/405.
 */
#include "test/kubesim/kubelet_int.h"

#include <string.h>

#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CT_TEXT "text/plain; charset=utf-8"

static const char padding_line[] =
	"# kubesim: huge response padding, not a metric ..................\n";
#define PAD_LEN (sizeof(padding_line) - 1)

size_t sim_kl_padding(char *buf, size_t max, uint64_t pos)
{
	size_t n = 0;

	while (n < max) {
		size_t off = (size_t)((pos + n) % PAD_LEN);
		size_t k = PAD_LEN - off;

		if (k > max - n)
			k = max - n;
		memcpy(buf + n, padding_line + off, k);
		n += k;
	}
	return n;
}

size_t sim_kl_series_lines(char *buf, size_t max, uint64_t pos)
{
	char line[SIM_KL_SERIES_LINE_LEN + 1];
	size_t n = 0;

	while (n < max) {
		uint64_t k = (pos + n) / SIM_KL_SERIES_LINE_LEN;
		size_t off = (size_t)((pos + n) % SIM_KL_SERIES_LINE_LEN), len;

		snprintf(line, sizeof(line), "kubesim_fault_series{k=\"%07u\"} 1\n",
			 (unsigned)(k % SIM_KL_MAX_FAULT_SERIES));
		len = SIM_KL_SERIES_LINE_LEN - off;
		if (len > max - n)
			len = max - n;
		memcpy(buf + n, line + off, len);
		n += len;
	}
	return n;
}

int sim_kl_garbage(struct dynbuf *out, uint64_t h)
{
	/* the real kubelet bug of kubernetes#109679, then stray bytes */
	static const char neg[] =
		"container_start_time_seconds{container=\"x\",namespace=\"x\",pod=\"x\"} "
		"-6.7953645788713455e+09 -62135596800000\n";
	unsigned char junk[64];
	int rc;

	for (size_t i = 0; i < sizeof(junk); i++) {
		h = h * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
		junk[i] = (unsigned char)(h >> 56);
	}
	rc = dynbuf_add(out, neg, sizeof(neg) - 1);
	return rc ? rc : dynbuf_add(out, junk, sizeof(junk));
}

void sim_kl_reply_simple(struct sim_kl_reply *r, const struct sim_kl_request *req, int status,
			 const char *ct, const char *body)
{
	size_t n = strlen(body);
	bool head = strcmp(req->method, "HEAD") == 0;

	if (sim_kl_http_head(&r->out, status, ct, n, req->keep_alive && !r->close) != 0 ||
	    (!head && dynbuf_add(&r->out, body, n) != 0))
		r->reset = true;
	r->close |= !req->keep_alive;
}

void sim_kl_reply_metrics(struct sim_kl_reply *r, const struct sim_kl_request *req,
			  const struct sim_kl_fault *f, struct dynbuf *scratch)
{
	bool head = strcmp(req->method, "HEAD") == 0;
	uint64_t total;

	if (f->garbage && sim_kl_garbage(scratch, (uint64_t)clock_now_ns()) != 0) {
		sim_kl_reply_simple(r, req, 500, CT_TEXT, "Internal Server Error: rendering failed\n");
		return;
	}
	total = scratch->len;
	r->stream_series = f->series > 0;
	if (r->stream_series) {
		r->stream_left = (uint64_t)f->series * SIM_KL_SERIES_LINE_LEN;
		total += r->stream_left;
	} else if (f->huge_bytes > 0 && (uint64_t)f->huge_bytes > total) {
		r->stream_left = (uint64_t)f->huge_bytes - total;
		total = (uint64_t)f->huge_bytes;
	}
	r->close |= !req->keep_alive;
	if (head)
		r->stream_left = 0;
	if (sim_kl_http_head(&r->out, 200, CT_METRICS, total, !r->close) != 0 ||
	    (!head && dynbuf_add(&r->out, scratch->buf, scratch->len) != 0))
		r->reset = true;
}

static void metrics(struct sim_kl_model *m, const char *addr, const struct sim_kl_fault *f,
		    const struct sim_kl_request *req, struct dynbuf *scratch,
		    struct sim_kl_reply *r)
{
	dynbuf_reset(scratch);
	if (sim_kl_model_render(m, addr, clock_now_ns(), scratch) != 0) {
		sim_kl_reply_simple(r, req, 500, CT_TEXT, "Internal Server Error: rendering failed\n");
		return;
	}
	sim_kl_reply_metrics(r, req, f, scratch);
}

void sim_kl_respond(struct sim_kl_model *m, const char *addr, const struct sim_kl_request *req,
		    bool authorized, struct dynbuf *scratch, struct sim_kl_reply *r)
{
	struct sim_kl_view v;

	r->stream_left = 0;
	r->stream_pos = 0;
	if (!sim_kl_model_lookup(m, addr, &v) || v.fault.down) {
		r->reset = true;
		return;
	}
	if (req->has_body) {
		r->close = true;
		sim_kl_reply_simple(r, req, 400, CT_TEXT, "400 Bad Request: unexpected request body\n");
	} else if (!authorized) {
		sim_kl_reply_simple(r, req, 401, CT_TEXT, "Unauthorized\n");
	} else if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		sim_kl_reply_simple(r, req, 405, CT_TEXT, "405 method not allowed\n");
	} else if (strcmp(req->path, "/healthz") == 0) {
		sim_kl_reply_simple(r, req, 200, CT_TEXT, "ok");
	} else if (strcmp(req->path, "/metrics/resource") != 0) {
		sim_kl_reply_simple(r, req, 404, CT_TEXT, "404 page not found\n");
	} else if (v.fault.http500) {
		sim_kl_reply_simple(r, req, 500, CT_TEXT,
		       "Internal Server Error: \"/metrics/resource\": simulated kubelet fault\n");
	} else {
		metrics(m, addr, &v.fault, req, scratch, r);
	}
}
