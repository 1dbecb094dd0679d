/*
 * functions.c - the range-vector functions over one series' points in
 * [now - range, now], as Prometheus 2.42's promql/functions.go computes
 * them: rate/increase/delta through extrapolatedRate (counter resets,
 * extrapolation to the range's ends bounded by the counter's zero point),
 * irate through instantValue, and the *_over_time aggregates (avg as an
 * incremental Kahan mean, sum as a Kahan-Neumaier sum, min/max letting a
 * later value replace NaN).
 */
#include "promql/promql_int.h"

#include <math.h>

/* One step of Kahan-Neumaier summation: returns the new sum, updates *c. */
static double kahan_inc(double inc, double sum, double *c)
{
	double t = sum + inc;

	if (fabs(sum) >= fabs(inc))
		*c += (sum - t) + inc;
	else
		*c += (inc - t) + sum;
	return t;
}

static bool extrapolated_rate(const struct promql_point *p, size_t n, int64_t now,
			      int64_t range_ms, bool counter, bool per_second, double *out)
{
	int64_t range_start = now - range_ms, range_end = now;
	double result, prev, to_start, to_end, sampled, avg_step, threshold, interval, factor;

	if (n < 2)
		return false;
	result = p[n - 1].v - p[0].v;
	prev = p[0].v;
	if (counter) {
		for (size_t i = 1; i < n; i++) {
			if (p[i].v < prev)
				result += prev; /* a reset: the value before it was lost */
			prev = p[i].v;
		}
	}
	to_start = (double)(p[0].t_ms - range_start) / 1000;
	to_end = (double)(range_end - p[n - 1].t_ms) / 1000;
	sampled = (double)(p[n - 1].t_ms - p[0].t_ms) / 1000;
	avg_step = sampled / (double)(n - 1);
	if (counter && result > 0 && p[0].v >= 0) {
		/* do not extrapolate below the counter's zero point */
		double to_zero = sampled * (p[0].v / result);

		if (to_zero < to_start)
			to_start = to_zero;
	}
	threshold = avg_step * 1.1;
	interval = sampled;
	interval += to_start < threshold ? to_start : avg_step / 2;
	interval += to_end < threshold ? to_end : avg_step / 2;
	factor = interval / sampled;
	if (per_second)
		factor /= (double)range_ms / 1000;
	*out = result * factor;
	return true;
}

static bool instant_value(const struct promql_point *p, size_t n, double *out)
{
	const struct promql_point *last, *prev;
	double v;

	if (n < 2)
		return false;
	last = &p[n - 1];
	prev = &p[n - 2];
	v = last->v < prev->v ? last->v : last->v - prev->v; /* a reset: from zero */
	if (last->t_ms == prev->t_ms)
		return false;
	*out = v / ((double)(last->t_ms - prev->t_ms) / 1000);
	return true;
}

static double avg_over_time(const struct promql_point *p, size_t n)
{
	double mean = 0, count = 0, c = 0;

	for (size_t i = 0; i < n; i++) {
		double v = p[i].v;

		count++;
		if (isinf(mean)) {
			if (isinf(v) && (mean > 0) == (v > 0))
				continue; /* Inf of the same sign: the mean stays */
			if (!isinf(v) && !isnan(v))
				continue; /* a finite value cannot move an infinite mean */
		}
		mean = kahan_inc(v / count - mean / count, mean, &c);
	}
	return isinf(mean) ? mean : mean + c;
}

bool promql__range_fn(enum promql__func f, const struct promql_point *p, size_t n, int64_t now,
		      int64_t range_ms, double *out)
{
	double x, c = 0;

	switch (f) {
	case PROMQL__RATE:
		return extrapolated_rate(p, n, now, range_ms, true, true, out);
	case PROMQL__INCREASE:
		return extrapolated_rate(p, n, now, range_ms, true, false, out);
	case PROMQL__DELTA:
		return extrapolated_rate(p, n, now, range_ms, false, false, out);
	case PROMQL__IRATE:
		return instant_value(p, n, out);
	case PROMQL__AVG_OT:
		*out = avg_over_time(p, n);
		return true;
	case PROMQL__MIN_OT:
	case PROMQL__MAX_OT:
		x = p[0].v;
		for (size_t i = 0; i < n; i++)
			if ((f == PROMQL__MIN_OT ? p[i].v < x : p[i].v > x) || isnan(x))
				x = p[i].v;
		*out = x;
		return true;
	case PROMQL__SUM_OT:
		x = 0;
		for (size_t i = 0; i < n; i++)
			x = kahan_inc(p[i].v, x, &c);
		*out = isinf(x) ? x : x + c;
		return true;
	case PROMQL__COUNT_OT:
		*out = (double)n;
		return true;
	case PROMQL__LAST_OT:
		*out = p[n - 1].v;
		return true;
	case PROMQL__HQUANTILE:
		break;
	}
	return false;
}
