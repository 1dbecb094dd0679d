/*
 * util.c - small helpers for hpa/: traces and name lists, JSON values
 * access, Quantities, times and the controller history in JSON, and Go's
 * float-to-int32 conversions with the clamping upstream's overflow caps
 * imply.
 */
#include "hpa/hpa_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t hpa__time_add(int64_t t, int64_t d)
{
	if (d > 0 && t > INT64_MAX - d)
		return INT64_MAX;
	if (d < 0 && t < INT64_MIN + 1 - d)
		return INT64_MIN + 1;
	return t + d;
}

void hpa__trace_add(struct hpa_trace *t, const char *fmt, ...)
{
	va_list ap;
	char *line;

	if (!t)
		return;
	va_start(ap, fmt);
	line = xvasprintf(fmt, ap);
	va_end(ap);
	t->lines = xrealloc(t->lines, (t->n + 1) * sizeof(*t->lines));
	t->lines[t->n++] = line;
}

void hpa__trace_clear(struct hpa_trace *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->lines[i]);
	free(t->lines);
	t->lines = NULL;
	t->n = 0;
}

void hpa__names_add(struct hpa_names *n, const char *name)
{
	n->v = xrealloc(n->v, (n->n + 1) * sizeof(*n->v));
	n->v[n->n++] = xstrdup(name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void hpa__names_sort(struct hpa_names *n)
{
	if (n->n > 1)
		qsort(n->v, n->n, sizeof(*n->v), cmp_str);
}

void hpa__names_clear(struct hpa_names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	n->v = NULL;
	n->n = 0;
}

int hpa__jmilli(const json_t *v, int64_t *milli)
{
	struct quantity q;

	if (jpath_quantity(v, &q) != 0)
		return ERR_PARSE;
	*milli = quantity_milli_value(&q);
	return 0;
}

int hpa__jfloat(const json_t *v, double *out)
{
	struct quantity q;

	if (jpath_quantity(v, &q) != 0)
		return ERR_PARSE;
	*out = (double)q.value * pow(10.0, (double)q.scale);
	return 0;
}

int hpa__jtime(const json_t *o, const char *path, int64_t *ns)
{
	const json_t *v = jpath_get(o, path);

	if (!v || json_is_null(v)) {
		*ns = HPA_TIME_ZERO;
		return 0;
	}
	if (!json_is_string(v))
		return ERR_PARSE;
	return parse_rfc3339(json_string_value(v), ns);
}

void hpa__fmt_milli(int64_t milli, char *buf, size_t len)
{
	struct quantity q = { .value = milli, .scale = -3, .format = QF_DECIMAL_SI };

	quantity_format(&q, buf, len);
}

int32_t hpa__ceil_i32(double x)
{
	if (isnan(x))
		return 0;
	x = ceil(x);
	if (x >= (double)INT32_MAX)
		return INT32_MAX;
	if (x <= (double)INT32_MIN)
		return INT32_MIN;
	return (int32_t)x;
}

int32_t hpa__trunc_i32(double x)
{
	if (isnan(x))
		return 0;
	if (x >= (double)INT32_MAX)
		return INT32_MAX;
	if (x <= (double)INT32_MIN)
		return INT32_MIN;
	return (int32_t)x;
}

int32_t hpa_sat_i32(int64_t v)
{
	if (v > INT32_MAX)
		return INT32_MAX;
	if (v < INT32_MIN)
		return INT32_MIN;
	return (int32_t)v;
}

static json_t *events_json(const struct hpa_scale_event *ev, size_t n,
			   json_t *(*time_json)(int64_t ns))
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:i, s:o, s:b}", "replicaChange",
						   (json_int_t)ev[i].change, "timestamp",
						   time_json(ev[i].ts), "outdated", ev[i].outdated));
	return a;
}

json_t *hpa__history_json(const struct hpa_history *h, json_t *(*time_json)(int64_t ns),
			 bool omit_empty)
{
	json_t *o = json_object();

	if (h->seen) {
		json_t *recs = json_array();

		for (size_t i = 0; i < h->n_recs; i++)
			json_array_append_new(recs, json_pack("{s:i, s:o}", "replicas",
							      (json_int_t)h->recs[i].replicas,
							      "timestamp", time_json(h->recs[i].ts)));
		json_object_set_new(o, "recommendations", recs);
	}
	if (h->n_up || !omit_empty)
		json_object_set_new(o, "scaleUpEvents", events_json(h->up, h->n_up, time_json));
	if (h->n_down || !omit_empty)
		json_object_set_new(o, "scaleDownEvents", events_json(h->down, h->n_down, time_json));
	return o;
}
