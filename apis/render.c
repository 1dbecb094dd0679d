/*
 * render.c - NodeMetrics / PodMetrics objects and lists, written straight
 * into the response buffer in Go struct field order (metrics.k8s.io
 * v1beta1 types): TypeMeta, metadata, timestamp, window, usage|containers.
 */
#include "apis/apis_int.h"

#include <stdio.h>
#include <string.h>

/* uint64Quantity: values past int64 lose one decimal digit. */
static void u64_quantity(uint64_t v, int32_t scale, enum quantity_format f, char *buf,
			 size_t len)
{
	struct quantity q = { (int64_t)v, scale, f };

	if (v > (uint64_t)INT64_MAX) {
		q.value = (int64_t)(v / 10);
		q.scale = scale + 1;
	}
	quantity_format(&q, buf, len);
}

void apis__cpu_string(uint64_t nanocores, char *buf, size_t len)
{
	u64_quantity(nanocores, -9, QF_DECIMAL_SI, buf, len);
}

void apis__mem_string(uint64_t bytes, char *buf, size_t len)
{
	u64_quantity(bytes, 0, QF_BINARY_SI, buf, len);
}

/* metav1.Time as a JSON value: "RFC 3339 seconds", or null when zero. */
static void time_value(int64_t ns, char *out, size_t len)
{
	char ts[32];

	if (ns == 0) {
		snprintf(out, len, "null");
		return;
	}
	fmt_rfc3339(ns, ts, sizeof(ts));
	snprintf(out, len, "\"%s\"", ts);
}

void apis__wctx_init(struct apis_wctx *w, int64_t now_ns)
{
	w->now_ns = now_ns;
	time_value(now_ns, w->now, sizeof(w->now));
	w->ts_ns = 0;
	time_value(0, w->ts, sizeof(w->ts));
}

static int write_time(struct dynbuf *b, struct apis_wctx *w, int64_t ns)
{
	if (ns / NS_PER_SEC != w->ts_ns / NS_PER_SEC || (ns == 0) != (w->ts_ns == 0)) {
		w->ts_ns = ns;
		time_value(ns, w->ts, sizeof(w->ts));
	}
	return dynbuf_addstr(b, w->ts);
}

static int write_labels(struct dynbuf *b, const struct labels *l)
{
	int rc;

	if (!l || l->n == 0)
		return ERR_OK;  /* omitempty */
	rc = dynbuf_addstr(b, ",\"labels\":{");
	for (size_t i = 0; !rc && i < l->n; i++) {
		if (i)
			rc = dynbuf_addch(b, ',');
		if (!rc)
			rc = jsonw_key(b, l->items[i].key);
		if (!rc)
			rc = jsonw_string(b, l->items[i].value);
	}
	return rc ? rc : dynbuf_addch(b, '}');
}

int apis__write_meta(struct dynbuf *b, const struct apis_item *it, struct apis_wctx *w)
{
	int rc = dynbuf_addstr(b, "{\"name\":");

	if (!rc)
		rc = jsonw_string(b, it->name);
	if (!rc && it->ns) {
		rc = dynbuf_addstr(b, ",\"namespace\":");
		if (!rc)
			rc = jsonw_string(b, it->ns);
	}
	if (!rc)
		rc = dynbuf_addstr(b, ",\"creationTimestamp\":");
	if (!rc)
		rc = dynbuf_addstr(b, w->now);
	if (!rc)
		rc = write_labels(b, it->labels);
	return rc ? rc : dynbuf_addch(b, '}');
}

static int write_usage(struct dynbuf *b, uint64_t cpu, uint64_t mem)
{
	char c[48], m[48];
	int rc;

	apis__cpu_string(cpu, c, sizeof(c));
	apis__mem_string(mem, m, sizeof(m));
	rc = dynbuf_addstr(b, "{\"cpu\":\"");
	if (!rc)
		rc = dynbuf_addstr(b, c);
	if (!rc)
		rc = dynbuf_addstr(b, "\",\"memory\":\"");
	if (!rc)
		rc = dynbuf_addstr(b, m);
	return rc ? rc : dynbuf_addstr(b, "\"}");
}

static int write_containers(struct dynbuf *b, const struct apis_item *it)
{
	int rc = dynbuf_addstr(b, ",\"containers\":[");

	for (size_t i = 0; !rc && i < it->ncontainers; i++) {
		const struct store_container_usage *c = &it->containers[i];

		rc = dynbuf_addstr(b, i ? ",{\"name\":" : "{\"name\":");
		if (!rc)
			rc = jsonw_string(b, c->name);
		if (!rc)
			rc = dynbuf_addstr(b, ",\"usage\":");
		if (!rc)
			rc = write_usage(b, c->cpu_nanocores, c->mem_bytes);
		if (!rc)
			rc = dynbuf_addch(b, '}');
	}
	return rc ? rc : dynbuf_addch(b, ']');
}

int apis__write_item(struct dynbuf *b, enum apis_kind kind, const struct apis_item *it,
		    struct apis_wctx *w, bool typemeta)
{
	char window[40];
	int rc = dynbuf_addch(b, '{');

	if (!rc && typemeta)
		rc = dynbuf_addstr(b, kind == KIND_NODES
					      ? "\"kind\":\"NodeMetrics\",\"apiVersion\":\"" APIS_GV "\","
					      : "\"kind\":\"PodMetrics\",\"apiVersion\":\"" APIS_GV "\",");
	if (!rc)
		rc = dynbuf_addstr(b, "\"metadata\":");
	if (!rc)
		rc = apis__write_meta(b, it, w);
	if (!rc)
		rc = dynbuf_addstr(b, ",\"timestamp\":");
	if (!rc)
		rc = write_time(b, w, it->usage.ts_ns);
	fmt_go_duration(it->usage.window_ns, window, sizeof(window));
	if (!rc)
		rc = dynbuf_addstr(b, ",\"window\":\"");
	if (!rc)
		rc = dynbuf_addstr(b, window);
	if (!rc)
		rc = dynbuf_addch(b, '"');
	if (!rc && kind == KIND_NODES) {
		rc = dynbuf_addstr(b, ",\"usage\":");
		if (!rc)
			rc = write_usage(b, it->usage.cpu_nanocores, it->usage.mem_bytes);
	} else if (!rc) {
		rc = write_containers(b, it);
	}
	return rc ? rc : dynbuf_addch(b, '}');
}

int apis__write_list(struct dynbuf *b, const struct apis_items *items, struct apis_wctx *w)
{
	int rc = dynbuf_addstr(b, items->kind == KIND_NODES
					  ? "{\"kind\":\"NodeMetricsList\",\"apiVersion\":\"" APIS_GV
					    "\",\"metadata\":{},\"items\":["
					  : "{\"kind\":\"PodMetricsList\",\"apiVersion\":\"" APIS_GV
					    "\",\"metadata\":{},\"items\":[");

	for (size_t i = 0; !rc && i < items->n; i++) {
		if (i)
			rc = dynbuf_addch(b, ',');
		if (!rc)
			rc = apis__write_item(b, items->kind, &items->v[i], w, false);
	}
	return rc ? rc : dynbuf_addstr(b, "]}");
}
