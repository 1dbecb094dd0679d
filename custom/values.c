/*
 * values.c - one request's metricsQuery: the rule's template expanded with
 * the arguments prometheus-adapter passes (naming/metrics_query.go Build
 * and BuildExternal), parsed by promql/ and evaluated at now over a
 * snapshot of the series store; the samples matched back to the objects.
 */
#include "custom/custom_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct rules_group_resource NAMESPACES = { "", "namespaces" };

/* label="value" with Go's %q escapes of the characters a label value may
 * hold that PromQL strings treat specially. */
static int add_matcher(struct dynbuf *b, const char *label, const char *op, const char *value)
{
	int rc = dynbuf_printf(b, "%s%s%s\"", b->len ? "," : "", label, op);

	for (const char *s = value; rc == 0 && *s; s++)
		rc = (*s == '"' || *s == '\\') ? dynbuf_printf(b, "\\%c", *s) : dynbuf_addch(b, *s);
	return rc ? rc : dynbuf_addch(b, '"');
}

/* The metric selector as the adapter's first matchers ("" for none). */
static int selector_matchers(const struct selector *sel, struct dynbuf *b, char *err,
			     size_t errlen)
{
	char *s;
	int rc;

	if (!sel || selector_empty(sel))
		return 0;
	if (!(s = rules_selector_promql(sel, err, errlen)))
		return ERR_INVAL;
	rc = dynbuf_addstr(b, s);
	free(s);
	return rc;
}

/* Expands r's metricsQuery with a, parses it and evaluates it at now_ms
 * over the current series. */
static int evaluate(struct custom_provider *p, const struct rules_rule *r,
		    const struct rules_query_args *a, int64_t now_ms, struct promql_value *out,
		    char *err, size_t errlen)
{
	struct promql_expr *e = NULL;
	struct series_snapshot *snap;
	struct promql_source src;
	struct dynbuf q;
	int rc;

	dynbuf_init(&q, PROMQL_MAX_QUERY);
	if ((rc = rules_query_expand(r->query, a, &q)) != 0) {
		snprintf(err, errlen, "%s", rc == ERR_TOOBIG ? "query too long" : "query template failed");
		dynbuf_clear(&q);
		return rc;
	}
	rc = promql_parse(q.buf ? q.buf : "", &e, err, errlen);
	log_v(4, "custom metrics: query %s", q.buf ? q.buf : "");
	dynbuf_clear(&q);
	if (rc != 0)
		return rc;
	snap = series_acquire(p->ser);
	custom__source_init(&src, snap);
	rc = promql_eval(e, &src, now_ms, out, err, errlen);
	series_snapshot_unref(snap);
	promql_expr_free(e);
	return rc;
}

/* ---- custom.metrics.k8s.io ------------------------------------------------------------ */

static const char *name_at(const void *base, size_t i)
{
	return ((const char *const *)base)[i];
}

int custom_object_values(struct custom_provider *p, const struct custom_catalog *c,
			 const struct custom_object_query *q, struct custom_object_values *out,
			 char *err, size_t errlen)
{
	struct rules_group_resource gr = { (char *)q->group, (char *)q->resource };
	const struct custom__entry *ent;
	struct promql_value val;
	struct dynbuf m, names;
	char rlabel[256], nslabel[256];
	const char *vnames[2], *vvals[2], *slice[1];
	size_t idx, nv = 0;
	bool *have = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (q->nnames == 0 || q->nnames > CUSTOM_MAX_NAMES) {
		snprintf(err, errlen, "%zu objects asked for (1 to %d)", q->nnames, CUSTOM_MAX_NAMES);
		return q->nnames ? ERR_TOOBIG : ERR_INVAL;
	}
	ent = custom__catalog_find(c, q->group, q->resource, q->metric, &idx);
	if (!ent || c->pub[idx].namespaced != (q->ns != NULL)) {
		snprintf(err, errlen, "no rule gives %s for %s", q->metric, ent ? ent->gr : q->resource);
		return ERR_NOTFOUND;
	}
	if (rules_resource_label(ent->rule, &gr, rlabel, sizeof(rlabel)) != 0 ||
	    (q->ns && rules_resource_label(ent->rule, &NAMESPACES, nslabel, sizeof(nslabel)) != 0)) {
		snprintf(err, errlen, "no generic resource label form specified for this metric");
		return ERR_NOTFOUND;
	}
	dynbuf_init(&m, PROMQL_MAX_QUERY);
	dynbuf_init(&names, PROMQL_MAX_QUERY);
	for (size_t i = 0; i < q->nnames; i++)
		if ((rc = dynbuf_printf(&names, "%s%s", i ? "|" : "", q->names[i])) != 0)
			goto toobig;
	if ((rc = selector_matchers(q->metric_selector, &m, err, errlen)) == ERR_INVAL)
		goto done;
	if (rc || (q->ns && (rc = add_matcher(&m, nslabel, "=", q->ns)) != 0) ||
	    (rc = add_matcher(&m, rlabel, q->nnames > 1 ? "=~" : "=", names.buf)) != 0)
		goto toobig;
	/* .LabelValuesByName, its keys sorted */
	if (q->ns) {
		vnames[nv] = nslabel;
		vvals[nv++] = q->ns;
	}
	vnames[nv] = rlabel;
	vvals[nv++] = names.buf;
	if (nv == 2 && strcmp(vnames[0], vnames[1]) > 0) {
		const char *t = vnames[0], *u = vvals[0];

		vnames[0] = vnames[1], vvals[0] = vvals[1];
		vnames[1] = t, vvals[1] = u;
	}
	slice[0] = rlabel;
	{
		struct rules_query_args a = {
			.series = ent->series, .label_matchers = m.buf, .group_by = rlabel,
			.group_by_slice = slice, .n_group_by_slice = 1,
			.value_names = vnames, .values = vvals, .n_values = nv,
		};

		promql_value_init(&val);
		rc = evaluate(p, ent->rule, &a, q->now_ms, &val, err, errlen);
	}
	if (rc != 0)
		goto done;
	out->v = xcalloc(q->nnames, sizeof(*out->v));
	have = xcalloc(q->nnames, sizeof(*have));
	for (size_t i = 0; val.type == PROMQL_VALUE_VECTOR && i < val.n; i++) {
		const char *obj = labels_get(&val.samples[i].labels, rlabel);
		bool found;
		size_t at;

		if (!obj || !isfinite(val.samples[i].v))
			continue;
		at = sorted_str_search(q->names, q->nnames, name_at, obj, &found);
		if (found && !have[at]) {
			have[at] = true;
			out->v[at] = (struct custom_object_value){ q->names[at], val.samples[i].v,
								   q->now_ms };
		}
	}
	for (size_t i = 0; i < q->nnames; i++)
		if (have[i])
			out->v[out->n++] = out->v[i];
	free(have);
	promql_value_clear(&val);
	goto done;
toobig:
	snprintf(err, errlen, "query for %zu objects longer than %d bytes", q->nnames,
		 PROMQL_MAX_QUERY);
	rc = ERR_TOOBIG;
done:
	dynbuf_clear(&m);
	dynbuf_clear(&names);
	return rc;
}

void custom_object_values_clear(struct custom_object_values *v)
{
	free(v->v);
	memset(v, 0, sizeof(*v));
}

/* ---- external.metrics.k8s.io ---------------------------------------------------------- */

static int labels_cmp(const void *a, const void *b)
{
	const struct labels *x = &((const struct custom_external_value *)a)->labels;
	const struct labels *y = &((const struct custom_external_value *)b)->labels;

	for (size_t i = 0; i < x->n && i < y->n; i++) {
		int c = strcmp(x->items[i].key, y->items[i].key);

		if (c || (c = strcmp(x->items[i].value, y->items[i].value)))
			return c;
	}
	return (x->n > y->n) - (x->n < y->n);
}

int custom_external_values(struct custom_provider *p, const struct custom_catalog *c,
			   const struct custom_external_query *q,
			   struct custom_external_values *out, char *err, size_t errlen)
{
	const struct custom__external *ext = custom__catalog_external(c, q->metric);
	bool namespaced = ext && ext->rule->namespaced != 0 && q->ns && *q->ns;
	const char *vnames[1], *vvals[1];
	char nslabel[256];
	struct promql_value val;
	struct dynbuf m;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!ext) {
		snprintf(err, errlen, "no external rule gives %s", q->metric);
		return ERR_NOTFOUND;
	}
	if (namespaced &&
	    rules_resource_label(ext->rule, &NAMESPACES, nslabel, sizeof(nslabel)) != 0) {
		snprintf(err, errlen, "no generic resource label form specified for this metric");
		return ERR_NOTFOUND;
	}
	dynbuf_init(&m, PROMQL_MAX_QUERY);
	if ((rc = selector_matchers(q->selector, &m, err, errlen)) != 0 ||
	    (namespaced && (rc = add_matcher(&m, nslabel, "=", q->ns)) != 0)) {
		if (rc == ERR_TOOBIG)
			snprintf(err, errlen, "label selector too long");
		dynbuf_clear(&m);
		return rc;
	}
	vnames[0] = nslabel;
	vvals[0] = q->ns;
	{
		struct rules_query_args a = {
			.series = ext->series, .label_matchers = m.buf ? m.buf : "", .group_by = "",
			.value_names = vnames, .values = vvals, .n_values = namespaced ? 1 : 0,
		};

		promql_value_init(&val);
		rc = evaluate(p, ext->rule, &a, q->now_ms, &val, err, errlen);
	}
	dynbuf_clear(&m);
	if (rc != 0)
		return rc;
	if (val.type == PROMQL_VALUE_SCALAR) {
		if (isfinite(val.v)) {
			out->v = xcalloc(1, sizeof(*out->v));
			labels_init(&out->v[0].labels);
			out->v[0].value = val.v;
			out->v[0].t_ms = val.t_ms;
			out->n = 1;
		}
	} else {
		out->v = xcalloc(val.n ? val.n : 1, sizeof(*out->v));
		for (size_t i = 0; i < val.n; i++) {
			if (!isfinite(val.samples[i].v))
				continue;
			out->v[out->n].labels = val.samples[i].labels; /* moved */
			labels_init(&val.samples[i].labels);
			out->v[out->n].value = val.samples[i].v;
			out->v[out->n++].t_ms = val.samples[i].t_ms;
		}
		qsort(out->v, out->n, sizeof(*out->v), labels_cmp);
	}
	promql_value_clear(&val);
	return 0;
}

void custom_external_values_clear(struct custom_external_values *v)
{
	for (size_t i = 0; i < v->n; i++)
		labels_clear(&v->v[i].labels);
	free(v->v);
	memset(v, 0, sizeof(*v));
}

/* ---- quantities ------------------------------------------------------------------------- */

void custom_value_string(double v, char *buf, size_t len)
{
	struct quantity q = { 0, -3, QF_DECIMAL_SI };
	double milli = v * 1000.0;

	/* int64(v*1000) truncates; Go's conversion of out-of-range values is
	 * undefined, so clamp as the reference asks. */
	if (milli >= 9.2e18)
		q.value = INT64_MAX;
	else if (milli <= -9.2e18)
		q.value = INT64_MIN + 1;
	else if (!isnan(milli))
		q.value = (int64_t)milli;
	quantity_format(&q, buf, len);
}
