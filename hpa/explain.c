/*
 * explain.c - renders an hpa_result: the `-o json` document of
 * `hpa explain` (desiredReplicas, scaleUpdated, error, status, metrics,
 * events, history) and the `-o text` account a person reads.
 */
#include "hpa/hpa_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *milli_or_null(bool has, int64_t milli)
{
	char buf[64];

	if (!has)
		return json_null();
	hpa__fmt_milli(milli, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *names_json(const struct hpa_names *n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n->n; i++)
		json_array_append_new(a, json_string(n->v[i]));
	return a;
}

static json_t *metric_json(const struct hpa_metric_detail *d)
{
	json_t *pods = json_pack("{s:o, s:o, s:o, s:o}", "ready", names_json(&d->ready), "unready",
				 names_json(&d->unready), "missing", names_json(&d->missing),
				 "ignored", names_json(&d->ignored));

	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "proposedReplicas",
			 d->has_proposed ? json_integer(d->proposed) : json_null(), "utilization",
			 d->has_utilization ? json_integer(d->utilization) : json_null(),
			 "rawAverageValue", milli_or_null(d->has_raw_average, d->raw_average),
			 "usage", milli_or_null(d->has_usage, d->usage), "error",
			 str_or_null(d->error), "pods", pods);
}

static json_t *time_json(int64_t ns)
{
	char buf[40];

	fmt_rfc3339(ns, buf, sizeof(buf));
	return json_string(buf);
}

json_t *hpa_explain_json(const struct hpa_result *r)
{
	json_t *metrics = json_array(), *events = json_array();

	for (size_t i = 0; i < r->n_metrics; i++)
		json_array_append_new(metrics, metric_json(&r->metrics[i]));
	for (size_t i = 0; i < r->n_events; i++)
		json_array_append_new(events, json_pack("{s:s, s:s, s:s}", "type",
							r->events[i].type, "reason",
							r->events[i].reason, "message",
							r->events[i].message));
	return json_pack("{s:i, s:b, s:o, s:O, s:o, s:o, s:o}", "desiredReplicas",
			 (json_int_t)r->desired, "scaleUpdated", r->scale_updated, "error",
			 str_or_null(r->error), "status", r->status, "metrics", metrics, "events",
			 events, "history", hpa__history_json(&r->history, time_json, false));
}

static void text_names(struct dynbuf *b, const char *label, const struct hpa_names *n)
{
	if (!n->n)
		return;
	(void)!dynbuf_printf(b, "    %-8s", label);
	for (size_t i = 0; i < n->n; i++)
		(void)!dynbuf_printf(b, " %s", n->v[i]);
	(void)!dynbuf_addch(b, '\n');
}

static void text_trace(struct dynbuf *b, const char *indent, const struct hpa_trace *t)
{
	for (size_t i = 0; i < t->n; i++)
		(void)!dynbuf_printf(b, "%s%s\n", indent, t->lines[i]);
}

static void text_metric(struct dynbuf *b, size_t i, const struct hpa_metric_detail *d)
{
	(void)!dynbuf_printf(b, "metric %zu: %s\n", i + 1, d->type);
	if (!d->evaluated) {
		(void)!dynbuf_addstr(b, "  not evaluated in this pass\n");
		return;
	}
	if (d->ready.n + d->unready.n + d->missing.n + d->ignored.n) {
		(void)!dynbuf_addstr(b, "  pods by group:\n");
		text_names(b, "ready", &d->ready);
		text_names(b, "unready", &d->unready);
		text_names(b, "missing", &d->missing);
		text_names(b, "ignored", &d->ignored);
	}
	text_trace(b, "  ", &d->trace);
}

char *hpa_explain_text(const struct hpa_input *in, const struct hpa_result *r)
{
	struct dynbuf b;
	const json_t *conds = json_object_get(r->status, "conditions"), *c;
	size_t i;

	dynbuf_init(&b, DYN_API_RESPONSE);
	(void)!dynbuf_printf(&b, "HorizontalPodAutoscaler %s/%s -> %s %s\n\n",
			     jpath_str(in->hpa, "metadata.namespace")
				     ? jpath_str(in->hpa, "metadata.namespace")
				     : "default",
			     jpath_str(in->hpa, "metadata.name"),
			     jpath_str(in->hpa, "spec.scaleTargetRef.kind")
				     ? jpath_str(in->hpa, "spec.scaleTargetRef.kind")
				     : "",
			     jpath_str(in->hpa, "spec.scaleTargetRef.name")
				     ? jpath_str(in->hpa, "spec.scaleTargetRef.name")
				     : "");
	for (i = 0; i < r->n_metrics; i++)
		text_metric(&b, i, &r->metrics[i]);
	(void)!dynbuf_addstr(&b, "\ndecision:\n");
	text_trace(&b, "  ", &r->trace);
	(void)!dynbuf_printf(&b, "\nresult: %d replicas, %s\n", (int)r->desired,
			     r->scale_updated ? "scale written" : "scale not written");
	if (r->error)
		(void)!dynbuf_printf(&b, "error: %s\n", r->error);
	if (r->n_events)
		(void)!dynbuf_addstr(&b, "\nevents:\n");
	for (i = 0; i < r->n_events; i++)
		(void)!dynbuf_printf(&b, "  %-7s %-28s %s\n", r->events[i].type, r->events[i].reason,
				     r->events[i].message);
	if (json_array_size(conds))
		(void)!dynbuf_addstr(&b, "\nconditions:\n");
	json_array_foreach(conds, i, c)
		(void)!dynbuf_printf(&b, "  %-15s %-6s %-28s %s\n", jpath_str(c, "type"),
				     jpath_str(c, "status"), jpath_str(c, "reason") ? jpath_str(c, "reason") : "",
				     jpath_str(c, "message") ? jpath_str(c, "message") : "");
	return dynbuf_take(&b, NULL);
}
