/*
 * check_promql_parse.c - promql/lex.c, parse.c, selector.c, regex.c: the
 * grammar of the subset (precedence, both aggregation forms, selectors,
 * durations, literals), the refusals of constructs outside it with their
 * 1-based positions, Prometheus' parse errors, and the bounds.
 */
#include "common/common.h"
#include "promql/promql_int.h"
#include "test/unit/unit.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Queries that parse; scalar ones with their value. */
static const struct {
	const char *q;
	bool scalar;
	double v;
} good[] = {
	{"up", false, 0},
	{"up{job=\"a\"}", false, 0},
	{"{__name__=\"up\", job!=\"\"}", false, 0},
	{"{job=~\"a.*\",}", false, 0},
	{"job:up:ratio{a='b', c=`raw\\d`}", false, 0},
	{"rate(x[5m])", false, 0},
	{"rate (x [1h30m])", false, 0},
	{"irate(x[1m]) / increase(x[2d]) - delta(x[1w]) % count_over_time(x[1y])", false, 0},
	{"avg_over_time(x[500ms]) + min_over_time(x[1s]) * max_over_time(x[1m])", false, 0},
	{"sum_over_time(x[5m]) + last_over_time(x[5m])", false, 0},
	{"sum by (a, b) (x)", false, 0},
	{"sum(x) by (a,)", false, 0},
	{"avg without (instance) (rate(x[5m]))", false, 0},
	{"count(x) without ()", false, 0},
	{"sum by (by, without, sum, le) (x)", false, 0},
	{"max(min(x))", false, 0},
	{"histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))", false, 0},
	{"histogram_quantile(1 - 0.1, h_bucket)", false, 0},
	{"-x", false, 0},
	{"x * -1", false, 0},
	{"# a comment\n  up  # another\n", false, 0},
	{"1 + 2 * 3", true, 7},
	{"(1 + 2) * 3", true, 9},
	{"10 - 4 - 3", true, 3},
	{"2 * 3 % 4", true, 2},
	{"-1 - -2", true, 1},
	{"- (3)", true, -3},
	{"+5", true, 5},
	{"0x1f", true, 31},
	{"1e3 / .5", true, 2000},
	{"Inf", true, INFINITY},
	{"-inf", true, -INFINITY},
};

START_TEST(test_good)
{
	struct promql_expr *e = NULL;
	char err[256];
	int rc = promql_parse(good[_i].q, &e, err, sizeof(err));

	ck_assert_msg(rc == 0, "%s: %s", good[_i].q, err);
	ck_assert_int_eq(promql_expr_is_scalar(e), good[_i].scalar);
	if (good[_i].scalar) {
		struct promql_value v;

		promql_value_init(&v);
		ck_assert_int_eq(promql_eval(e, NULL, 0, &v, err, sizeof(err)), 0);
		ck_assert_int_eq(v.type, PROMQL_VALUE_SCALAR);
		ck_assert_double_eq(v.v, good[_i].v);
		promql_value_clear(&v);
	}
	promql_expr_free(e);
}
END_TEST

/* Queries refused, with the code and the exact message. */
static const struct {
	const char *q;
	int rc;
	const char *err;
} bad[] = {
	/* outside the subset */
	{"x offset 5m", ERR_INVAL, "1:3: unsupported in this PromQL subset: offset modifier"},
	{"rate(x[5m] offset 1m)", ERR_INVAL, "1:12: unsupported in this PromQL subset: offset modifier"},
	{"x @ 100", ERR_INVAL, "1:3: unsupported in this PromQL subset: @ modifier"},
	{"rate(x[5m:1m])", ERR_INVAL, "1:7: unsupported in this PromQL subset: subquery"},
	{"rate(sum(x)[5m:])", ERR_INVAL, "1:12: unsupported in this PromQL subset: subquery"},
	{"topk(3, x)", ERR_INVAL, "1:1: unsupported in this PromQL subset: aggregation topk"},
	{"sum(x) + quantile(0.5, x)", ERR_INVAL,
	 "1:10: unsupported in this PromQL subset: aggregation quantile"},
	{"abs(x)", ERR_INVAL, "1:1: unsupported in this PromQL subset: function abs"},
	{"sum(label_replace(x, \"a\", \"b\", \"c\", \"d\"))", ERR_INVAL,
	 "1:5: unsupported in this PromQL subset: function label_replace"},
	{"x > 1", ERR_INVAL, "1:3: unsupported in this PromQL subset: comparison operator"},
	{"x == bool 1", ERR_INVAL, "1:3: unsupported in this PromQL subset: comparison operator"},
	{"x and y", ERR_INVAL, "1:3: unsupported in this PromQL subset: set operator and"},
	{"x or y", ERR_INVAL, "1:3: unsupported in this PromQL subset: set operator or"},
	{"x / on(a) y", ERR_INVAL, "1:5: unsupported in this PromQL subset: on modifier"},
	{"x * ignoring(a) y", ERR_INVAL, "1:5: unsupported in this PromQL subset: ignoring modifier"},
	{"x * group_left y", ERR_INVAL, "1:5: unsupported in this PromQL subset: group_left modifier"},
	{"x ^ 2", ERR_INVAL, "1:3: unsupported in this PromQL subset: operator ^"},
	{"\"str\"", ERR_INVAL, "1:1: unsupported in this PromQL subset: string literal"},
	{"x[5m]", ERR_INVAL, "1:1: unsupported in this PromQL subset: range vector result"},
	{"x{a=~\"(?i)foo\"}", ERR_INVAL,
	 "1:6: unsupported in this PromQL subset: regular expression flags (?...)"},
	{"x{a=~\"a*?\"}", ERR_INVAL,
	 "1:6: unsupported in this PromQL subset: regular expression lazy quantifier"},
	{"x{a!~\"\\\\bword\"}", ERR_INVAL,
	 "1:6: unsupported in this PromQL subset: regular expression escape \\b"},
	{"x{a=~\"\\\\p{Greek}\"}", ERR_INVAL,
	 "1:6: unsupported in this PromQL subset: regular expression escape \\p"},
	{"sum(x)\n  offset 5m", ERR_INVAL, "2:3: unsupported in this PromQL subset: offset modifier"},
	/* Prometheus' parse errors */
	{"rate(x)", ERR_PARSE,
	 "1:6: expected type range vector in call to function \"rate\", got instant vector"},
	{"rate(x[5m], 1)", ERR_PARSE, "1:1: expected 1 argument(s) in call to \"rate\", got 2"},
	{"histogram_quantile(x, y)", ERR_PARSE,
	 "1:20: expected type scalar in call to function \"histogram_quantile\", got instant vector"},
	{"histogram_quantile(0.5, 1)", ERR_PARSE,
	 "1:25: expected type instant vector in call to function \"histogram_quantile\", got scalar"},
	{"sum(x[5m])", ERR_PARSE,
	 "1:5: expected type instant vector in aggregation expression, got range vector"},
	{"sum(1)", ERR_PARSE, "1:5: expected type instant vector in aggregation expression, got scalar"},
	{"sum(x, y)", ERR_PARSE,
	 "1:1: wrong number of arguments for aggregate expression provided, expected 1, got more"},
	{"foo(x)", ERR_PARSE, "1:1: unknown function with name \"foo\""},
	{"sum(x", ERR_PARSE, "1:6: unexpected end of input in aggregation"},
	{"x{a=\"b\"", ERR_PARSE, "1:8: unexpected end of input in label matching, expected \",\" or \"}\""},
	{"x{a=b}", ERR_PARSE, "1:5: unexpected identifier \"b\" in label matching, expected string"},
	{"x{a>\"b\"}", ERR_PARSE, "1:4: unexpected \">\" in label matching, expected one of \"=\", \"!=\", \"=~\" or \"!~\""},
	{"{a=\"\"}", ERR_PARSE, "1:1: vector selector must contain at least one non-empty matcher"},
	{"{a=~\".*\", b!=\"x\"}", ERR_PARSE,
	 "1:1: vector selector must contain at least one non-empty matcher"},
	{"x{__name__=\"y\"}", ERR_PARSE, "1:1: metric name must not be set twice: \"x\""},
	{"x[5x]", ERR_PARSE, "1:3: bad duration syntax"},
	{"x[5m1h]", ERR_PARSE, "1:3: bad duration syntax"},
	{"x[0]", ERR_PARSE, "1:2: range must be greater than 0"},
	{"sum(x)[5m]", ERR_PARSE, "1:7: ranges only allowed for vector selectors"},
	{"5m", ERR_PARSE, "1:1: bad number or duration syntax"},
	{"1 +", ERR_PARSE, "1:4: unexpected end of input in expression"},
	{"x y", ERR_PARSE, "1:3: unexpected identifier \"y\" in expression"},
	{"(x", ERR_PARSE, "1:3: unexpected end of input in paren expression"},
	{"x{a=\"b}", ERR_PARSE, "1:5: unterminated quoted string"},
	{"x{a=\"\\q\"}", ERR_PARSE, "1:7: unknown or unsupported escape sequence"},
	{"x{a=~\"[a\"}", ERR_INVAL,
	 "1:6: unsupported in this PromQL subset: regular expression missing closing ]"},
	/* Go refuses these too: its words and the text it quotes */
	{"x{a=~\"a**\"}", ERR_PARSE, "1:6: error parsing regexp: invalid nested repetition operator: `**`"},
	{"x{a=~\"a)\"}", ERR_PARSE, "1:6: error parsing regexp: unexpected ): `a)`"},
	{"x{a=~\"(?P<a-b>x)\"}", ERR_PARSE, "1:6: error parsing regexp: invalid named capture: `(?P<a-b>`"},
	{"x{a=~\"(?P<ab\"}", ERR_INVAL,
	 "1:6: unsupported in this PromQL subset: regular expression named group without '>'"},
	{"x{a=~\"[\\\\D]\"}", ERR_INVAL,
	 "1:6: unsupported in this PromQL subset: regular expression escape inside a bracket expression"},
	{"x{a=~\"[é]\"}", ERR_INVAL,
	 "1:6: unsupported in this PromQL subset: regular expression é inside a bracket expression"},
	{"x $ y", ERR_PARSE, "1:3: unexpected character: '$'"},
	{"", ERR_PARSE, "1:1: unexpected end of input in expression"},
	{"by", ERR_PARSE, "1:1: unexpected identifier \"by\" in expression"},
	{"rate(x[5m]) + x[5m]", ERR_PARSE,
	 "1:13: binary expression must contain only scalar and instant vector types"},
};

START_TEST(test_bad)
{
	struct promql_expr *e = (struct promql_expr *)1;
	char err[256];
	int rc = promql_parse(bad[_i].q, &e, err, sizeof(err));

	ck_assert_ptr_null(e);
	ck_assert_msg(rc == bad[_i].rc, "%s: rc %d (%s)", bad[_i].q, rc, err);
	ck_assert_str_eq(err, bad[_i].err);
}
END_TEST

/* Structure the evaluator relies on. */
START_TEST(test_tree)
{
	struct promql_expr *e;
	char err[256];

	ck_assert_int_eq(promql_parse("sum(x{a=~\"b|c\"}) without (d, e)", &e, err, sizeof(err)), 0);
	ck_assert_int_eq(e->kind, PROMQL__AGG);
	ck_assert(e->without);
	ck_assert_uint_eq(e->ngrouping, 2);
	ck_assert_str_eq(e->grouping[1], "e");
	ck_assert_int_eq(e->a->kind, PROMQL__SELECTOR);
	ck_assert_uint_eq(e->a->nmatchers, 2);
	ck_assert_str_eq(e->a->plain[0].name, "__name__");
	ck_assert_int_eq(e->a->plain[1].op, PROMQL_RE);
	promql_expr_free(e);

	ck_assert_int_eq(promql_parse("rate(x[1h30m])", &e, err, sizeof(err)), 0);
	ck_assert_int_eq(e->a->kind, PROMQL__MATRIX);
	ck_assert_int_eq(e->a->range_ms, 5400000);
	promql_expr_free(e);
}
END_TEST

/* The longest range a query uses (the series store's window comes from it). */
START_TEST(test_max_range)
{
	static const struct { const char *q; int64_t ms; } cases[] = {
		{"up", 0},
		{"1 + 2", 0},
		{"rate(x[5m])", 300000},
		{"sum by (a) (rate(x[2m])) / sum(increase(y[10m]))", 600000},
		{"irate(x[1h30m]) - -delta(y[30s])", 5400000},
		{"histogram_quantile(0.9, sum by (le) (rate(h_bucket[90s])))", 90000},
		{"max_over_time(x[1d]) * 2", 86400000},
		{"-(avg_over_time(x[500ms]))", 500},
	};

	for (size_t i = 0; i < COMMON_ARRAY_LEN(cases); i++) {
		struct promql_expr *e;
		char err[256];

		ck_assert_msg(promql_parse(cases[i].q, &e, err, sizeof(err)) == 0, "%s", err);
		ck_assert_msg(promql_expr_max_range_ms(e) == cases[i].ms, "%s: %lld", cases[i].q,
			      (long long)promql_expr_max_range_ms(e));
		promql_expr_free(e);
	}
	ck_assert_int_eq(promql_expr_max_range_ms(NULL), 0);
}
END_TEST

/* Regexes are anchored and RE2's classes work on POSIX. */
START_TEST(test_regex)
{
	static const struct { const char *re, *s; bool match; } cases[] = {
		{"api", "api", true}, {"api", "api-canary", false}, {"api", "xapi", false},
		{"a|b", "a", true}, {"a|b", "ab", false}, {"\\d+", "123", true},
		{"\\d+", "12a", false}, {"[^\\d]x", "ax", true}, {"\\w+", "a_1", true},
		{"\\.", ".", true}, {"\\.", "a", false}, {"(?:ab)+", "abab", true},
		{"(?P<x>a)b", "ab", true}, {".*", "", true}, {"", "", true}, {"", "a", false},
		{".", "\n", false}, {"[]a]", "]", true}, {"[a-]", "-", true}, {"[\\]]", "]", true},
		{"[\\^x]", "^", true}, {"a{2}", "aa", true}, {"\\s", " ", true},
		{"\\<a", "<a", true}, {"\\<a", "a", false}, {"é+", "éé", true}, {"a{,2}", "aa", false},
		{"[[.]", "[", true}, {"[\\-a]", "-", true}, {"(?:a|b)c", "bc", true},
	};

	for (size_t i = 0; i < COMMON_ARRAY_LEN(cases); i++) {
		regex_t re;
		char err[256];

		ck_assert_msg(promql__regex_compile(&re, cases[i].re, err, sizeof(err)) == 0, "%s: %s",
			      cases[i].re, err);
		ck_assert_msg((regexec(&re, cases[i].s, 0, NULL, 0) == 0) == cases[i].match,
			      "%s on \"%s\"", cases[i].re, cases[i].s);
		regfree(&re);
	}
}
END_TEST

/* The bare selector's matchers, and matching as the evaluator does: a
 * literal alternation (binary search) and a real regex agree with
 * anchored RE2 semantics; an absent label reads as "". */
START_TEST(test_selector_matches)
{
	static const struct { const char *q, *pod; bool match; } cases[] = {
		{"m{pod=~\"a|b|c\"}", "b", true},    {"m{pod=~\"a|b|c\"}", "ab", false},
		{"m{pod=~\"a|b|c\"}", NULL, false},  {"m{pod=~\"|a\"}", NULL, true},
		{"m{pod!~\"a|b\"}", "b", false},     {"m{pod!~\"a|b\"}", "c", true},
		{"m{pod=~\"a.c\"}", "abc", true},    {"m{pod=~\"b|a|b\"}", "a", true},
		{"m{pod=~\"x-1|x-2\"}", "x-2", true}, {"m{pod!=\"\"}", NULL, false},
		{"n{pod=\"a\"}", "a", false},
	};

	for (size_t i = 0; i < COMMON_ARRAY_LEN(cases); i++) {
		struct promql_expr *e;
		const struct promql_matcher *m;
		struct labels l;
		size_t n;
		char err[256];

		ck_assert_msg(promql_parse(cases[i].q, &e, err, sizeof(err)) == 0, "%s", err);
		ck_assert(promql_expr_selector(e, &m, &n));
		ck_assert_uint_eq(n, 2);
		ck_assert_str_eq(m[0].name, "__name__");
		labels_init(&l);
		labels_set(&l, "__name__", "m");
		if (cases[i].pod)
			labels_set(&l, "pod", cases[i].pod);
		ck_assert_msg(promql_selector_matches(e, &l) == cases[i].match, "%s on %s", cases[i].q,
			      cases[i].pod ? cases[i].pod : "(absent)");
		labels_clear(&l);
		promql_expr_free(e);
	}
	{
		struct promql_expr *e;
		const struct promql_matcher *m;
		size_t n;
		char err[256];

		ck_assert_int_eq(promql_parse("rate(m[1m])", &e, err, sizeof(err)), 0);
		ck_assert(!promql_expr_selector(e, &m, &n));
		ck_assert(!promql_selector_matches(e, NULL));
		promql_expr_free(e);
	}
}
END_TEST

START_TEST(test_bounds)
{
	struct promql_expr *e;
	char err[256];
	char *q = xmalloc(PROMQL_MAX_QUERY + 2);
	struct dynbuf b;

	memset(q, 'x', PROMQL_MAX_QUERY + 1);
	q[PROMQL_MAX_QUERY + 1] = '\0';
	ck_assert_int_eq(promql_parse(q, &e, err, sizeof(err)), ERR_TOOBIG);
	q[PROMQL_MAX_QUERY] = '\0'; /* exactly at the bound: fine */
	ck_assert_int_eq(promql_parse(q, &e, err, sizeof(err)), 0);
	promql_expr_free(e);
	free(q);

	dynbuf_init(&b, 1 << 16);
	for (int i = 0; i < PROMQL_MAX_DEPTH + 1; i++)
		ck_assert_int_eq(dynbuf_addch(&b, '('), 0);
	ck_assert_int_eq(dynbuf_addch(&b, 'x'), 0);
	for (int i = 0; i < PROMQL_MAX_DEPTH + 1; i++)
		ck_assert_int_eq(dynbuf_addch(&b, ')'), 0);
	ck_assert_int_eq(promql_parse(b.buf, &e, err, sizeof(err)), ERR_TOOBIG);
	ck_assert_ptr_null(e);
	dynbuf_reset(&b);
	for (int i = 0; i < PROMQL_MAX_NODES; i++)
		ck_assert_int_eq(dynbuf_addstr(&b, i ? "+1" : "1"), 0);
	ck_assert_int_eq(promql_parse(b.buf, &e, err, sizeof(err)), ERR_TOOBIG);
	ck_assert_ptr_null(e);
	dynbuf_clear(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("promql_parse");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_good, 0, COMMON_ARRAY_LEN(good));
	tcase_add_loop_test(tc, test_bad, 0, COMMON_ARRAY_LEN(bad));
	tcase_add_test(tc, test_tree);
	tcase_add_test(tc, test_max_range);
	tcase_add_test(tc, test_regex);
	tcase_add_test(tc, test_selector_matches);
	tcase_add_test(tc, test_bounds);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
