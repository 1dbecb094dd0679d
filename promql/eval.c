/*
 * eval.c - instant evaluation of a parsed query: selectors through the
 * source (matchers re-checked, series in label order as Prometheus'
 * storage hands them), lookback and staleness, range-function dispatch,
 * unary minus and arithmetic (scalar/vector, vector/vector one-to-one on
 * the label sets without __name__), with Prometheus 2.42's name dropping
 * and runtime errors.
 */
#include "promql/promql_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *alt_at(const void *base, size_t i)
{
	return ((char *const *)base)[i];
}

/* =~ (want true) or !~ (want false) of matcher m on v. */
static bool regex_ok(const struct promql__matcher *m, const char *v, bool want)
{
	bool found;

	if (m->alts)
		sorted_str_search(m->alts, m->nalts, alt_at, v, &found);
	else
		found = regexec(&m->re, v, 0, NULL, 0) == 0;
	return found == want;
}

bool promql__matches(const struct promql_expr *sel, const struct labels *l)
{
	for (size_t i = 0; i < sel->nmatchers; i++) {
		const struct promql__matcher *m = &sel->matchers[i];
		const char *v = labels_get(l, m->m.name);

		if (!v)
			v = "";
		switch (m->m.op) {
		case PROMQL_EQ:
			if (strcmp(v, m->m.value) != 0)
				return false;
			break;
		case PROMQL_NE:
			if (strcmp(v, m->m.value) == 0)
				return false;
			break;
		case PROMQL_RE:
			if (!regex_ok(m, v, true))
				return false;
			break;
		case PROMQL_NRE:
			if (!regex_ok(m, v, false))
				return false;
			break;
		}
	}
	return true;
}

struct collect {
	struct promql__ctx *c;
	const struct promql_expr *sel;
	int64_t from, to;
	struct promql__series *s;
	size_t n;
	int rc;
};

static void collect_one(void *ctx, const struct promql_series *in)
{
	struct collect *k = ctx;
	struct promql__series *s;
	size_t n = 0;

	if (k->rc || !promql__matches(k->sel, in->labels))
		return;
	if (++k->c->nseries > PROMQL_MAX_SERIES) {
		k->rc = ERR_TOOBIG;
		snprintf(k->c->err, k->c->errlen, "query selects more than %d series",
			 PROMQL_MAX_SERIES);
		return;
	}
	if (in->n > PROMQL_MAX_POINTS || (k->c->npoints += in->n) > PROMQL_MAX_POINTS) {
		k->rc = ERR_TOOBIG;
		snprintf(k->c->err, k->c->errlen, "query loads more than %d points",
			 PROMQL_MAX_POINTS);
		return;
	}
	if ((k->n & (k->n - 1)) == 0)
		k->s = xrealloc(k->s, (k->n ? k->n * 2 : 1) * sizeof(*k->s));
	s = &k->s[k->n++];
	labels_copy(&s->labels, in->labels);
	s->p = xmalloc((in->n ? in->n : 1) * sizeof(*s->p));
	for (size_t i = 0; i < in->n; i++)
		if (in->points[i].t_ms >= k->from && in->points[i].t_ms <= k->to)
			s->p[n++] = in->points[i];
	s->n = n;
}

static int series_cmp(const void *a, const void *b)
{
	return promql__labels_cmp(&((const struct promql__series *)a)->labels,
				  &((const struct promql__series *)b)->labels);
}

void promql__series_free(struct promql__series *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		labels_clear(&s[i].labels);
		free(s[i].p);
	}
	free(s);
}

int promql__select(struct promql__ctx *c, const struct promql_expr *sel, int64_t from,
		   struct promql__series **out, size_t *n)
{
	struct collect k = {.c = c, .sel = sel, .from = from, .to = c->now};
	int rc = c->src->select(c->src->ud, sel->plain, sel->nmatchers, from, c->now,
				collect_one, &k);

	if (rc == 0)
		rc = k.rc;
	else if (!k.rc)
		snprintf(c->err, c->errlen, "selecting series: %s", err_str(rc));
	if (rc) {
		promql__series_free(k.s, k.n);
		return rc;
	}
	if (k.n > 1)
		qsort(k.s, k.n, sizeof(*k.s), series_cmp);
	*out = k.s;
	*n = k.n;
	return 0;
}

static int eval(struct promql__ctx *c, const struct promql_expr *e, struct promql_value *out);

static int eval_selector(struct promql__ctx *c, const struct promql_expr *e,
			 struct promql_value *out)
{
	struct promql__series *s;
	size_t n;
	int rc = promql__select(c, e, c->now - PROMQL_LOOKBACK_MS, &s, &n);

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (s[i].n == 0 || prom_is_stale(s[i].p[s[i].n - 1].v))
			continue;
		promql__vec_push(out, &s[i].labels, s[i].p[s[i].n - 1].v, c->now);
	}
	promql__series_free(s, n);
	return 0;
}

static int eval_range_call(struct promql__ctx *c, const struct promql_expr *e,
			   struct promql_value *out)
{
	const struct promql_expr *m = e->a;
	struct promql__series *s;
	size_t n;
	int rc = promql__select(c, m, c->now - m->range_ms, &s, &n);

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		double v;

		for (size_t j = 0; j < s[i].n; j++) /* range functions skip stale points */
			if (!prom_is_stale(s[i].p[j].v))
				s[i].p[k++] = s[i].p[j];
		if (k == 0 || !promql__range_fn(e->func, s[i].p, k, c->now, m->range_ms, &v))
			continue;
		if (e->func != PROMQL__LAST_OT)
			promql__labels_del(&s[i].labels, "__name__");
		promql__vec_push(out, &s[i].labels, v, c->now);
	}
	promql__series_free(s, n);
	return promql__vec_check_unique(out, c->err, c->errlen);
}

static double arith(enum promql__tok op, double a, double b)
{
	switch (op) {
	case PROMQL__T_ADD: return a + b;
	case PROMQL__T_SUB: return a - b;
	case PROMQL__T_MUL: return a * b;
	case PROMQL__T_DIV: return a / b;
	case PROMQL__T_MOD: return fmod(a, b);
	default: return NAN;
	}
}

static int sample_cmp(const void *x, const void *y)
{
	return promql__labels_cmp(&((const struct promql_sample *)x)->labels,
				  &((const struct promql_sample *)y)->labels);
}

/* Vector op vector: one-to-one on the label sets without __name__ (the
 * right side sorted once, each left sample looked up). */
static int vector_vector(struct promql__ctx *c, enum promql__tok op, struct promql_value *l,
			 struct promql_value *r, struct promql_value *out)
{
	int rc;

	for (size_t i = 0; i < l->n; i++)
		promql__labels_del(&l->samples[i].labels, "__name__");
	for (size_t i = 0; i < r->n; i++)
		promql__labels_del(&r->samples[i].labels, "__name__");
	if (r->n > 1)
		qsort(r->samples, r->n, sizeof(*r->samples), sample_cmp);
	for (size_t i = 1; i < r->n; i++) {
		if (promql__labels_cmp(&r->samples[i - 1].labels, &r->samples[i].labels) == 0) {
			snprintf(c->err, c->errlen,
				 "found duplicate series for the match group on the right hand-side "
				 "of the operation; many-to-many matching not allowed: matching "
				 "labels must be unique on one side");
			return ERR_INVAL;
		}
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct promql_sample *m = r->n ? bsearch(&l->samples[i], r->samples, r->n,
							       sizeof(*r->samples), sample_cmp)
						     : NULL;

		if (m)
			promql__vec_push(out, &l->samples[i].labels, arith(op, l->samples[i].v, m->v),
					 c->now);
	}
	rc = promql__vec_check_unique(out, c->err, c->errlen);
	if (rc)
		snprintf(c->err, c->errlen,
			 "multiple matches for labels: many-to-one matching must be explicit "
			 "(group_left/group_right)");
	return rc;
}

static int eval_binary(struct promql__ctx *c, const struct promql_expr *e,
		       struct promql_value *out)
{
	struct promql_value l, r;
	int rc;

	promql_value_init(&l);
	promql_value_init(&r);
	rc = eval(c, e->a, &l);
	if (!rc)
		rc = eval(c, e->b, &r);
	if (rc)
		goto done;
	if (e->scalar) {
		out->type = PROMQL_VALUE_SCALAR;
		out->v = arith(e->op, l.v, r.v);
		out->t_ms = c->now;
	} else if (l.type == PROMQL_VALUE_VECTOR && r.type == PROMQL_VALUE_VECTOR) {
		rc = vector_vector(c, e->op, &l, &r, out);
	} else {
		struct promql_value *vec = l.type == PROMQL_VALUE_VECTOR ? &l : &r;

		for (size_t i = 0; i < vec->n; i++) {
			double a = vec == &l ? vec->samples[i].v : l.v;
			double b = vec == &r ? vec->samples[i].v : r.v;

			promql__labels_del(&vec->samples[i].labels, "__name__");
			promql__vec_push(out, &vec->samples[i].labels, arith(e->op, a, b), c->now);
		}
		rc = promql__vec_check_unique(out, c->err, c->errlen);
	}
done:
	promql_value_clear(&l);
	promql_value_clear(&r);
	return rc;
}

static int eval(struct promql__ctx *c, const struct promql_expr *e, struct promql_value *out)
{
	struct promql_value in;
	int rc = 0;

	switch (e->kind) {
	case PROMQL__NUMBER:
		out->type = PROMQL_VALUE_SCALAR;
		out->v = e->num;
		out->t_ms = c->now;
		return 0;
	case PROMQL__SELECTOR:
		return eval_selector(c, e, out);
	case PROMQL__MATRIX: /* the parser keeps these inside range functions */
		snprintf(c->err, c->errlen, "range vector outside a range function");
		return ERR_INVAL;
	case PROMQL__CALL:
		if (e->func != PROMQL__HQUANTILE)
			return eval_range_call(c, e, out);
		promql_value_init(&in);
		rc = eval(c, e->a, &in);
		if (!rc) {
			double q = in.v;

			promql_value_clear(&in);
			rc = eval(c, e->b, &in);
			if (!rc)
				promql__histogram_quantile(q, &in, out);
			if (!rc)
				rc = promql__vec_check_unique(out, c->err, c->errlen);
		}
		promql_value_clear(&in);
		return rc;
	case PROMQL__AGG:
		promql_value_init(&in);
		rc = eval(c, e->a, &in);
		if (!rc)
			promql__aggregate(e, &in, out);
		promql_value_clear(&in);
		return rc;
	case PROMQL__NEG:
		rc = eval(c, e->a, out);
		if (rc)
			return rc;
		if (out->type == PROMQL_VALUE_SCALAR) {
			out->v = -out->v;
			return 0;
		}
		for (size_t i = 0; i < out->n; i++) {
			out->samples[i].v = -out->samples[i].v;
			promql__labels_del(&out->samples[i].labels, "__name__");
		}
		return promql__vec_check_unique(out, c->err, c->errlen);
	case PROMQL__BINARY:
		return eval_binary(c, e, out);
	}
	return ERR_INVAL;
}

int promql_eval(const struct promql_expr *e, const struct promql_source *src, int64_t now_ms,
		struct promql_value *out, char *err, size_t errlen)
{
	struct promql__ctx c = {.src = src, .now = now_ms, .err = err, .errlen = errlen};
	int rc;

	promql_value_clear(out);
	if (err && errlen)
		err[0] = '\0';
	rc = eval(&c, e, out);
	if (rc)
		promql_value_clear(out);
	return rc;
}
