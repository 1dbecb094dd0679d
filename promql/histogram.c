/*
 * histogram.c - histogram_quantile over classic buckets, as Prometheus
 * 2.42's funcHistogramQuantile and bucketQuantile: samples grouped by
 * their labels without `le` (a missing or malformed `le` skips the
 * sample), the output without __name__ and le; per group: q < 0 -> -Inf,
 * q > 1 -> +Inf, NaN q -> NaN, no +Inf bucket -> NaN, buckets with equal
 * bounds summed, counts forced monotonic, fewer than two buckets or no
 * observations -> NaN, the rank past every finite bucket -> the highest
 * finite bound, a first bucket with bound <= 0 -> that bound, otherwise
 * linear interpolation inside the bucket (from 0 for the first).
 */
#include "promql/promql_int.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct bucket {
	double upper, count;
};

struct entry {
	struct labels key; /* labels without le */
	size_t idx;
	double upper;
};

static int entry_cmp(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	int c = promql__labels_cmp(&a->key, &b->key);

	if (c)
		return c;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

static int bucket_cmp(const void *x, const void *y)
{
	const struct bucket *a = x, *b = y;

	return (a->upper > b->upper) - (a->upper < b->upper);
}

/* strconv.ParseFloat: the whole text, no surrounding space. */
static bool parse_le(const char *s, double *out)
{
	char *end;

	if (!s || !*s || isspace((unsigned char)s[0]))
		return false;
	*out = strtod(s, &end);
	return *end == '\0';
}

static double bucket_quantile(double q, struct bucket *b, size_t n)
{
	size_t i = 0, k;
	double observations, rank, start = 0, end, count;

	if (isnan(q))
		return NAN;
	if (q < 0)
		return -INFINITY;
	if (q > 1)
		return INFINITY;
	qsort(b, n, sizeof(*b), bucket_cmp);
	if (!(isinf(b[n - 1].upper) && b[n - 1].upper > 0))
		return NAN;
	for (k = 1; k < n; k++) { /* coalesce equal bounds */
		if (b[k].upper == b[i].upper)
			b[i].count += b[k].count;
		else
			b[++i] = b[k];
	}
	n = i + 1;
	for (k = 1; k < n; k++) /* ensure monotonic counts */
		if (b[k].count < b[k - 1].count)
			b[k].count = b[k - 1].count;
	if (n < 2)
		return NAN;
	observations = b[n - 1].count;
	if (observations == 0)
		return NAN;
	rank = q * observations;
	for (k = 0; k < n - 1; k++) /* sort.Search over the first n-1 */
		if (b[k].count >= rank)
			break;
	if (k == n - 1)
		return b[n - 2].upper;
	if (k == 0 && b[0].upper <= 0)
		return b[0].upper;
	end = b[k].upper;
	count = b[k].count;
	if (k > 0) {
		start = b[k - 1].upper;
		count -= b[k - 1].count;
		rank -= b[k - 1].count;
	}
	return start + (end - start) * (rank / count);
}

void promql__histogram_quantile(double q, const struct promql_value *in,
				struct promql_value *out)
{
	struct entry *e;
	struct bucket *b;
	size_t n = 0, i = 0;

	out->type = PROMQL_VALUE_VECTOR;
	if (in->n == 0)
		return;
	e = xcalloc(in->n, sizeof(*e));
	b = xcalloc(in->n, sizeof(*b));
	for (size_t k = 0; k < in->n; k++) {
		double upper;

		if (!parse_le(labels_get(&in->samples[k].labels, "le"), &upper))
			continue;
		labels_copy(&e[n].key, &in->samples[k].labels);
		promql__labels_del(&e[n].key, "le");
		e[n].idx = k;
		e[n].upper = upper;
		n++;
	}
	qsort(e, n, sizeof(*e), entry_cmp);
	while (i < n) {
		size_t j = i, nb = 0;
		double v;

		for (; j < n && promql__labels_cmp(&e[i].key, &e[j].key) == 0; j++) {
			b[nb].upper = e[j].upper;
			b[nb].count = in->samples[e[j].idx].v;
			nb++;
		}
		v = bucket_quantile(q, b, nb);
		promql__labels_del(&e[i].key, "__name__");
		promql__vec_push(out, &e[i].key, v, in->samples[e[i].idx].t_ms);
		for (size_t k = i + 1; k < j; k++)
			labels_clear(&e[k].key);
		i = j;
	}
	free(e);
	free(b);
}
