/*
 * check_promql_eval.c - promql/ evaluated against the real Prometheus:
 * every .yml file of test/data/promql is a promtool 2.42 rules unit-test file
 * that `promtool test rules` passes (make check-promql-oracle), so its
 * exp_samples are Prometheus' own results.  Here the same input series
 * (promtool's expanding notation: a+bxN, a-bxN, axN, _, _xN, stale) go
 * through a promql_source, each expr is evaluated at its eval_time and
 * compared with exp_samples as promtool compares them: labels exact,
 * values exactly equal (promtool 2.42 uses reflect.DeepEqual; here both
 * sides are printed with Go's shortest 'g' format, which is exact).
 * A few NaN results, which promtool 2.42 cannot compare, are asserted
 * directly at the end (values from Prometheus 2.42's bucketQuantile).
 */
#include "common/common.h"
#include "promql/promql_int.h"
#include "test/unit/unit.h"

#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATA_DIR "test/data/promql"

struct tseries {
	struct labels labels;
	struct promql_point *p;
	size_t n;
};

struct tsource {
	struct tseries *s;
	size_t n;
	size_t selects;
};

/* Pre-filters by equality matchers only, as a store may; hands over the
 * points in [from, to]. */
static int tsource_select(void *ud, const struct promql_matcher *m, size_t nm, int64_t from,
			  int64_t to, promql_series_fn each, void *ctx)
{
	struct tsource *src = ud;

	src->selects++;
	for (size_t i = 0; i < src->n; i++) {
		const struct tseries *s = &src->s[i];
		struct promql_series out = {.labels = &s->labels};
		size_t a = 0, b;
		bool ok = true;

		for (size_t k = 0; k < nm && ok; k++) {
			const char *v = labels_get(&s->labels, m[k].name);

			if (m[k].op == PROMQL_EQ && strcmp(v ? v : "", m[k].value) != 0)
				ok = false;
		}
		if (!ok)
			continue;
		while (a < s->n && s->p[a].t_ms < from)
			a++;
		for (b = a; b < s->n && s->p[b].t_ms <= to; b++)
			;
		out.points = s->p + a;
		out.n = b - a;
		each(ctx, &out);
	}
	return 0;
}

static void tsource_clear(struct tsource *src)
{
	for (size_t i = 0; i < src->n; i++) {
		labels_clear(&src->s[i].labels);
		free(src->s[i].p);
	}
	free(src->s);
	memset(src, 0, sizeof(*src));
}

/* '{a="b"}', 'name{a="b"}' or '{}' into l, through the parser itself. */
static void parse_labels(const char *text, struct labels *l)
{
	struct promql_expr *e;
	char err[256];
	int rc;

	labels_init(l);
	if (strcmp(text, "{}") == 0 || text[0] == '\0')
		return;
	rc = promql_parse(text, &e, err, sizeof(err));
	ck_assert_msg(rc == 0, "labels %s: %s", text, err);
	ck_assert(e->kind == PROMQL__SELECTOR);
	for (size_t i = 0; i < e->nmatchers; i++) {
		ck_assert(e->matchers[i].m.op == PROMQL_EQ);
		labels_set(l, e->matchers[i].m.name, e->matchers[i].m.value);
	}
	promql_expr_free(e);
}

static double parse_num(const char *s, char **end)
{
	if (strncmp(s, "Inf", 3) == 0 || strncmp(s, "+Inf", 4) == 0) {
		*end = (char *)s + (s[0] == '+' ? 4 : 3);
		return INFINITY;
	}
	if (strncmp(s, "-Inf", 4) == 0) {
		*end = (char *)s + 4;
		return -INFINITY;
	}
	if (strncmp(s, "NaN", 3) == 0) {
		*end = (char *)s + 3;
		return NAN;
	}
	return strtod(s, end);
}

static void push(struct tseries *s, int64_t t, double v)
{
	s->p = realloc(s->p, (s->n + 1) * sizeof(*s->p));
	ck_assert_ptr_nonnull(s->p);
	s->p[s->n].t_ms = t;
	s->p[s->n].v = v;
	s->n++;
}

/* promtool's series values: "0+10x20 _ stale 1 _x3 5-1x2 3x4". */
static void expand_values(const char *values, int64_t interval, struct tseries *s)
{
	char *copy = xstrdup(values), *save = NULL, *tok;
	int64_t step = 0;

	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *end;
		double a, b = 0;
		unsigned long long times = 0;
		bool omitted = tok[0] == '_', repeat = false;

		if (strcmp(tok, "stale") == 0) {
			push(s, step++ * interval, prom_stale_nan());
			continue;
		}
		if (omitted) {
			end = tok + 1;
			a = 0;
		} else {
			a = parse_num(tok, &end);
			ck_assert_msg(end != tok, "bad value %s", tok);
			if (*end == '+' || *end == '-') {
				char *bend;

				b = strtod(end, &bend);
				ck_assert_msg(bend != end && *bend == 'x', "bad value %s", tok);
				end = bend;
			}
		}
		if (*end == 'x') {
			char *nend;

			times = strtoull(end + 1, &nend, 10);
			ck_assert_msg(nend != end + 1 && *nend == '\0', "bad value %s", tok);
			repeat = true;
		} else {
			ck_assert_msg(*end == '\0', "bad value %s", tok);
		}
		if (omitted) { /* _xN: N missing values; _ one */
			step += repeat ? (int64_t)times : 1;
			continue;
		}
		for (unsigned long long k = 0; k <= times; k++) { /* a+bxN: N+1 values */
			push(s, step++ * interval, a);
			a += b;
		}
	}
	free(copy);
}

static int64_t duration_of(json_t *j, int64_t dflt)
{
	int64_t ms;
	const char *s = json_string_value(j);

	if (!s)
		return dflt;
	ck_assert_msg(promql__parse_duration(s, strlen(s), &ms) == 0, "bad duration %s", s);
	return ms;
}

static double value_of(json_t *v)
{
	const char *s = json_string_value(v);

	if (!s)
		return json_number_value(v);
	if (strcmp(s, "+.inf") == 0 || strcmp(s, ".inf") == 0 || strcmp(s, "+Inf") == 0)
		return INFINITY;
	if (strcmp(s, "-.inf") == 0 || strcmp(s, "-Inf") == 0)
		return -INFINITY;
	ck_abort_msg("unexpected value %s", s);
	return 0;
}

static void load_group(json_t *group, int64_t eval_interval, struct tsource *src)
{
	int64_t interval = duration_of(json_object_get(group, "interval"), eval_interval);
	json_t *in = json_object_get(group, "input_series"), *item;
	size_t i;

	memset(src, 0, sizeof(*src));
	src->s = xcalloc(json_array_size(in) + 1, sizeof(*src->s));
	json_array_foreach(in, i, item) {
		struct tseries *s = &src->s[src->n++];

		parse_labels(json_string_value(json_object_get(item, "series")), &s->labels);
		expand_values(json_string_value(json_object_get(item, "values")), interval, s);
	}
}

/* Evaluates one promql_expr_test; 1 on a mismatch (printed), else 0. */
static int run_case(const char *file, json_t *tc, struct tsource *src)
{
	const char *q = json_string_value(json_object_get(tc, "expr"));
	int64_t at = duration_of(json_object_get(tc, "eval_time"), 0);
	json_t *exp = json_object_get(tc, "exp_samples"), *item;
	struct promql_value got, want;
	struct promql_expr *e;
	struct dynbuf gt, wt;
	char err[512];
	size_t i;
	int bad;

	ck_assert_msg(promql_parse(q, &e, err, sizeof(err)) == 0, "%s: %s: %s", file, q, err);
	promql_value_init(&got);
	promql_value_init(&want);
	struct promql_source ps = {tsource_select, src};

	ck_assert_msg(promql_eval(e, &ps, at, &got, err, sizeof(err)) == 0, "%s: %s: %s", file, q,
		      err);
	promql_expr_free(e);
	if (got.type == PROMQL_VALUE_SCALAR) { /* promtool: a sample without labels */
		struct labels none;

		labels_init(&none);
		got.type = PROMQL_VALUE_VECTOR;
		promql__vec_push(&got, &none, got.v, at);
	}
	json_array_foreach(exp, i, item) {
		struct labels l;

		parse_labels(json_string_value(json_object_get(item, "labels")), &l);
		promql__vec_push(&want, &l, value_of(json_object_get(item, "value")), at);
	}
	dynbuf_init(&gt, 1 << 20);
	dynbuf_init(&wt, 1 << 20);
	ck_assert_int_eq(promql_value_format(&got, &gt), 0);
	ck_assert_int_eq(promql_value_format(&want, &wt), 0);
	bad = strcmp(gt.buf ? gt.buf : "", wt.buf ? wt.buf : "") != 0;
	if (bad)
		fprintf(stderr, "%s: %s at %lldms:\n  want:\n%s  got:\n%s", file, q, (long long)at,
			wt.buf ? wt.buf : "", gt.buf ? gt.buf : "");
	dynbuf_clear(&gt);
	dynbuf_clear(&wt);
	promql_value_clear(&got);
	promql_value_clear(&want);
	return bad;
}

static json_t *load_file(const char *path)
{
	struct dynbuf b;
	char err[256];
	json_t *doc;

	dynbuf_init(&b, DYN_CONFIG_FILE);
	ck_assert_msg(dynbuf_read_file(&b, path) == 0, "cannot read %s", path);
	doc = yamldoc_to_json(b.buf, b.len, err, sizeof(err));
	ck_assert_msg(doc != NULL, "%s: %s", path, err);
	dynbuf_clear(&b);
	return doc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .yml files of DATA_DIR, sorted; *n of them (caller frees each and the array). */
static char **data_files(size_t *n)
{
	DIR *d = opendir(DATA_DIR);
	struct dirent *de;
	char **names = NULL;

	ck_assert_ptr_nonnull(d);
	*n = 0;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".yml") != 0)
			continue;
		names = xrealloc(names, (*n + 1) * sizeof(*names));
		names[(*n)++] = xasprintf("%s/%s", DATA_DIR, de->d_name);
	}
	closedir(d);
	qsort(names, *n, sizeof(*names), name_cmp);
	return names;
}

START_TEST(test_promtool_files)
{
	size_t nfiles, cases = 0;
	char **files = data_files(&nfiles);
	int failures = 0;

	ck_assert_uint_ge(nfiles, 6);
	for (size_t f = 0; f < nfiles; f++) {
		json_t *doc = load_file(files[f]), *group, *tc;
		int64_t ei = duration_of(json_object_get(doc, "evaluation_interval"), 60000);
		size_t g, i;

		json_array_foreach(json_object_get(doc, "tests"), g, group) {
			struct tsource src;

			load_group(group, ei, &src);
			json_array_foreach(json_object_get(group, "promql_expr_test"), i, tc) {
				failures += run_case(files[f], tc, &src);
				cases++;
			}
			tsource_clear(&src);
		}
		json_decref(doc);
		free(files[f]);
	}
	free(files);
	ck_assert_uint_ge(cases, 90);
	ck_assert_msg(failures == 0, "%d of %zu promtool cases differ (see stderr)", failures, cases);
}
END_TEST

/* Results promtool 2.42 cannot compare (NaN != NaN under reflect.DeepEqual):
 * the NaN cases of histogram.yml, asserted directly (Prometheus 2.42
 * bucketQuantile: only +Inf -> fewer than 2 buckets; no +Inf bucket; no
 * observations), plus NaN arithmetic. */
START_TEST(test_nan_results)
{
	static const struct { const char *q; const char *want; } cases[] = {
		{"histogram_quantile(0.5, rate(nan_bucket{case=\"inf_only\"}[5m]))",
		 "{case=\"inf_only\"} NaN\n"},
		{"histogram_quantile(0.5, rate(nan_bucket{case=\"no_inf\"}[5m]))",
		 "{case=\"no_inf\"} NaN\n"},
		{"histogram_quantile(0.5, rate(nan_bucket{case=\"empty\"}[5m]))",
		 "{case=\"empty\"} NaN\n"},
		{"histogram_quantile(NaN, rate(nan_bucket{case=\"ok\"}[5m]))",
		 "{case=\"ok\"} NaN\n"},
		{"0 / 0", "scalar: NaN\n"},
	};
	json_t *doc = load_file(DATA_DIR "/histogram.yml");
	struct tsource src;
	struct promql_source ps = {tsource_select, &src};

	load_group(json_array_get(json_object_get(doc, "tests"), 0), 60000, &src);
	for (size_t i = 0; i < COMMON_ARRAY_LEN(cases); i++) {
		struct promql_expr *e;
		struct promql_value v;
		struct dynbuf b;
		char err[256];

		ck_assert_msg(promql_parse(cases[i].q, &e, err, sizeof(err)) == 0, "%s", err);
		promql_value_init(&v);
		ck_assert_int_eq(promql_eval(e, &ps, 600000, &v, err, sizeof(err)), 0);
		dynbuf_init(&b, 4096);
		ck_assert_int_eq(promql_value_format(&v, &b), 0);
		ck_assert_str_eq(b.buf, cases[i].want);
		dynbuf_clear(&b);
		promql_value_clear(&v);
		promql_expr_free(e);
	}
	tsource_clear(&src);
	json_decref(doc);
}
END_TEST

static int failing_select(void *ud, const struct promql_matcher *m, size_t n, int64_t from,
			  int64_t to, promql_series_fn each, void *ctx)
{
	return ERR_IO;
}

/* Prometheus' runtime errors, the source's errors, the series bound. */
START_TEST(test_errors)
{
	static const struct { const char *q; int rc; const char *err; } cases[] = {
		{"rate({__name__=~\"a|b\"}[5m])", ERR_INVAL,
		 "vector cannot contain metrics with the same labelset"},
		{"-{__name__=~\"a|b\"}", ERR_INVAL,
		 "vector cannot contain metrics with the same labelset"},
		{"{__name__=~\"a|b\"} * 2", ERR_INVAL,
		 "vector cannot contain metrics with the same labelset"},
		{"c / {__name__=~\"a|b\"}", ERR_INVAL,
		 "found duplicate series for the match group on the right hand-side of the "
		 "operation; many-to-many matching not allowed: matching labels must be unique "
		 "on one side"},
		{"{__name__=~\"a|b\"} / c", ERR_INVAL,
		 "multiple matches for labels: many-to-one matching must be explicit "
		 "(group_left/group_right)"},
	};
	struct tsource src = {0};
	struct promql_source ps = {tsource_select, &src}, bad = {failing_select, NULL};
	const char *names[] = {"a", "b", "c"};

	src.s = xcalloc(3, sizeof(*src.s));
	for (size_t i = 0; i < 3; i++) {
		labels_init(&src.s[i].labels);
		labels_set(&src.s[i].labels, "__name__", names[i]);
		labels_set(&src.s[i].labels, "pod", "p");
		push(&src.s[i], 0, 1);
		push(&src.s[i], 60000, 2);
		src.n++;
	}
	for (size_t i = 0; i < COMMON_ARRAY_LEN(cases); i++) {
		struct promql_expr *e;
		struct promql_value v;
		char err[256];

		ck_assert_int_eq(promql_parse(cases[i].q, &e, err, sizeof(err)), 0);
		promql_value_init(&v);
		ck_assert_int_eq(promql_eval(e, &ps, 60000, &v, err, sizeof(err)), cases[i].rc);
		ck_assert_str_eq(err, cases[i].err);
		ck_assert_uint_eq(v.n, 0);
		ck_assert_int_eq(promql_eval(e, &bad, 60000, &v, err, sizeof(err)), ERR_IO);
		ck_assert_str_eq(err, "selecting series: i/o error");
		promql_expr_free(e);
	}
	tsource_clear(&src);
}
END_TEST

/* More series than PROMQL_MAX_SERIES: ERR_TOOBIG, nothing leaked. */
static int many_select(void *ud, const struct promql_matcher *m, size_t n, int64_t from,
		       int64_t to, promql_series_fn each, void *ctx)
{
	struct promql_point p = {0, 1};
	char v[32];

	for (int i = 0; i < PROMQL_MAX_SERIES + 5; i++) {
		struct labels l;
		struct promql_series s = {&l, &p, 1};

		labels_init(&l);
		labels_set(&l, "__name__", "x");
		snprintf(v, sizeof(v), "%d", i);
		labels_set(&l, "i", v);
		each(ctx, &s);
		labels_clear(&l);
	}
	return 0;
}

START_TEST(test_series_bound)
{
	struct promql_source ps = {many_select, NULL};
	struct promql_expr *e;
	struct promql_value v;
	char err[256];

	ck_assert_int_eq(promql_parse("sum(x)", &e, err, sizeof(err)), 0);
	promql_value_init(&v);
	ck_assert_int_eq(promql_eval(e, &ps, 0, &v, err, sizeof(err)), ERR_TOOBIG);
	ck_assert_str_eq(err, "query selects more than 100000 series");
	promql_expr_free(e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("promql_eval");
	TCase *tc = tcase_create("promtool");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_promtool_files);
	tcase_add_test(tc, test_nan_results);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_series_bound);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
