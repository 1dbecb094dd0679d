/*
 * promql.h - an in-process PromQL subset with Prometheus 2.42's semantics,
 * for the instant queries prometheus-adapter's metricsQuery templates
 * expand into.
 *
 * The subset: vector selectors (=, !=, =~, !~; regexes fully anchored,
 * RE2 syntax run on POSIX ERE, unsupported constructs refused), the
 * {__name__="x"} form, range selectors ([5m], Go/Prometheus durations
 * ms s m h d w y), rate irate increase delta and avg/min/max/sum/count/
 * last_over_time, aggregations sum avg min max count with by/without in
 * either position, + - * / % between scalars and vectors and between
 * vectors one-to-one on identical label sets (no on/ignoring/group_*),
 * unary minus, number literals, parentheses and histogram_quantile.
 * Anything else is refused when parsing, with its 1-based position:
 * "1:12: unsupported in this PromQL subset: offset modifier".
 *
 * Threads: a parsed expression is immutable; it may be evaluated from
 * several threads at once.  Values belong to the caller.
 */
#ifndef PROMQL_H
#define PROMQL_H

#include "common/common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dynbuf;

/* Bounds: a query longer, deeper or bigger, or an evaluation touching
 * more series or points, fails with ERR_TOOBIG. */
/* 2 MiB: the adapter's object matchers name up to thousands of pods
 * (pod=~"a|b|..."). */
#define PROMQL_MAX_QUERY (1 << 21)
#define PROMQL_MAX_DEPTH 64
#define PROMQL_MAX_NODES 512
#define PROMQL_MAX_SERIES 100000
#define PROMQL_MAX_POINTS 5000000
/* Prometheus' default lookback delta of instant selectors. */
#define PROMQL_LOOKBACK_MS (5 * 60 * 1000)

/* Staleness markers are common's PROM_STALE_NAN_BITS (prom_is_stale). */

enum promql_match_op { PROMQL_EQ, PROMQL_NE, PROMQL_RE, PROMQL_NRE };
struct promql_matcher {
	const char *name;
	const char *value;
	enum promql_match_op op;
};
struct promql_point {
	int64_t t_ms;
	double v;
};
/* One series as the source hands it over: labels include __name__, sorted by name;
 * points ascending by time, within [from_ms, to_ms]; all borrowed for the call. */
struct promql_series {
	const struct labels *labels;
	const struct promql_point *points;
	size_t n;
};
typedef void (*promql_series_fn)(void *ctx, const struct promql_series *s);
/* Calls each() for every series matching all matchers (the source may pre-filter by
 * equality matchers only; the evaluator re-checks every matcher).  0 or an ERR_* code.
 * As in Prometheus, a label a series lacks has the value "": name="" matches it. */
struct promql_source {
	int (*select)(void *ud, const struct promql_matcher *m, size_t n, int64_t from_ms,
		      int64_t to_ms, promql_series_fn each, void *ctx);
	void *ud;
};

/* A parsed query (opaque). */
struct promql_expr;

/*
 * Parses query (NUL-terminated, at most PROMQL_MAX_QUERY bytes).  On
 * success returns 0 and *out is a new expression (promql_expr_free).
 * On failure *out is NULL and err holds "LINE:COL: reason": ERR_PARSE for
 * text that is not PromQL, ERR_INVAL for PromQL outside the subset,
 * ERR_TOOBIG past the bounds above.
 */
int promql_parse(const char *query, struct promql_expr **out, char *err, size_t errlen);
/* Frees e (NULL is fine). */
void promql_expr_free(struct promql_expr *e);
/* True when e evaluates to a scalar (false: an instant vector). */
bool promql_expr_is_scalar(const struct promql_expr *e);
/* The longest range selector of e, in ms ("rate(x[5m]) + x[1h]" gives
 * 3600000); 0 when e has none.  What a series store must keep for e,
 * apart from instant selectors' lookback.  Any thread. */
int64_t promql_expr_max_range_ms(const struct promql_expr *e);

/* When e is a bare vector selector (no range, no function): true, with its
 * matchers in *m (borrowed from e) and their count in *n.  Else false. */
bool promql_expr_selector(const struct promql_expr *e, const struct promql_matcher **m,
			  size_t *n);
/* Calls fn with the matchers of every vector and range selector of e (each
 * borrowed from e for the call), in the order they appear. */
void promql_expr_each_selector(const struct promql_expr *e,
			       void (*fn)(void *ctx, const struct promql_matcher *m, size_t n),
			       void *ctx);
/* Whether l (sorted, __name__ included) satisfies every matcher of the bare
 * vector selector e, as the evaluator checks them (regexes anchored; an
 * absent label reads as ""); false when e is not a bare selector. */
bool promql_selector_matches(const struct promql_expr *e, const struct labels *l);

enum promql_value_type { PROMQL_VALUE_SCALAR, PROMQL_VALUE_VECTOR };

/* One element of an instant vector; t_ms is the evaluation time. */
struct promql_sample {
	struct labels labels;
	double v;
	int64_t t_ms;
};

/* A result: a scalar (v, t_ms) or an instant vector (samples, n). */
struct promql_value {
	enum promql_value_type type;
	double v;
	int64_t t_ms;
	struct promql_sample *samples;
	size_t n;
};

/* Makes v an empty vector (allocates nothing). */
void promql_value_init(struct promql_value *v);
/* Frees what v holds (labels, samples) and leaves it empty, as after init. */
void promql_value_clear(struct promql_value *v);

/*
 * Evaluates e as an instant query at now_ms over src.  out must be
 * initialised (or cleared); on success it holds the result (the caller
 * clears it), on failure it is empty and err holds the reason: the
 * source's ERR_* code, ERR_TOOBIG past the series or point bounds,
 * ERR_INVAL for Prometheus' runtime errors ("vector cannot contain
 * metrics with the same labelset", many-to-one matches).  src->select is
 * called from this thread only, once per selector.
 */
int promql_eval(const struct promql_expr *e, const struct promql_source *src, int64_t now_ms,
		struct promql_value *out, char *err, size_t errlen);

/*
 * Appends a canonical text of v to out: a scalar as "scalar: V\n", a
 * vector as one "name{a=\"b\"} V\n" line per sample (Go %q escaping of
 * values; "{}" for no labels), lines sorted bytewise, V as Go's
 * strconv.FormatFloat(V, 'g', -1, 64).  0 or ERR_TOOBIG (out's cap).
 */
int promql_value_format(const struct promql_value *v, struct dynbuf *out);

#endif
