/*
 * aggregate.c - sum, avg, min, max and count over an instant vector with
 * by/without, as Prometheus 2.42's evaluator.aggregation: the group's
 * labels are the `by` labels only, or all but the `without` ones and
 * __name__; values are combined in input order (plain += for sum, the
 * incremental mean for avg with its Inf rules, min/max letting a later
 * value replace NaN).
 */
#include "promql/promql_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct member {
	struct labels group;
	size_t idx;
};

static int member_cmp(const void *x, const void *y)
{
	const struct member *a = x, *b = y;
	int c = promql__labels_cmp(&a->group, &b->group);

	if (c)
		return c;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

static bool listed(const struct promql_expr *e, const char *key)
{
	for (size_t i = 0; i < e->ngrouping; i++)
		if (strcmp(e->grouping[i], key) == 0)
			return true;
	return false;
}

static void group_labels(const struct promql_expr *e, const struct labels *in, struct labels *out)
{
	labels_init(out);
	if (!e->without && e->ngrouping == 0)
		return;
	for (size_t i = 0; i < in->n; i++) {
		const char *k = in->items[i].key;
		bool keep = e->without ? !listed(e, k) && strcmp(k, "__name__") != 0 : listed(e, k);

		if (keep)
			labels_set(out, k, in->items[i].value);
	}
}

void promql__aggregate(const struct promql_expr *e, struct promql_value *in,
		       struct promql_value *out)
{
	struct member *m;
	size_t i = 0;

	out->type = PROMQL_VALUE_VECTOR;
	if (in->n == 0)
		return;
	m = xcalloc(in->n, sizeof(*m));
	for (size_t k = 0; k < in->n; k++) {
		group_labels(e, &in->samples[k].labels, &m[k].group);
		m[k].idx = k;
	}
	qsort(m, in->n, sizeof(*m), member_cmp);
	while (i < in->n) {
		size_t j = i;
		double first = in->samples[m[i].idx].v;
		double value = first, mean = first, count = 1;

		for (j = i + 1; j < in->n && promql__labels_cmp(&m[i].group, &m[j].group) == 0; j++) {
			double v = in->samples[m[j].idx].v;

			switch (e->agg) {
			case PROMQL__SUM:
				value += v;
				break;
			case PROMQL__AVG:
				count++;
				if (isinf(mean)) {
					if (isinf(v) && (mean > 0) == (v > 0))
						break;
					if (!isinf(v) && !isnan(v))
						break;
				}
				mean += v / count - mean / count;
				break;
			case PROMQL__MAX:
				if (value < v || isnan(value))
					value = v;
				break;
			case PROMQL__MIN:
				if (value > v || isnan(value))
					value = v;
				break;
			case PROMQL__COUNT:
				count++;
				break;
			}
		}
		if (e->agg == PROMQL__AVG)
			value = mean;
		else if (e->agg == PROMQL__COUNT)
			value = count;
		promql__vec_push(out, &m[i].group, value, in->samples[m[i].idx].t_ms);
		for (size_t k = i + 1; k < j; k++)
			labels_clear(&m[k].group);
		i = j;
	}
	free(m);
}
