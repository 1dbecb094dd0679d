/*
 * check_custom_adapter_names.c - prometheus-adapter's documented
 * configurations (test/data/rules/NAME.yaml) give the metric names the
 * adapter would expose: NAME.series is loaded into a real series store,
 * the provider's catalog is printed one line per entry ("custom
 * GR/METRIC namespaced|cluster", "external METRIC") and compared with
 * NAME.names, worked out by hand from the adapter's documented semantics.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "custom/custom.h"
#include "promql/promql.h"
#include "rules/rules.h"
#include "series/series.h"
#include "test/unit/unit.h"

#define NOW INT64_C(1700000000000)
#define DATA "test/data/rules/"

static const char *const CONFIGS[] = { "adapter-default", "walkthrough", "reference-4.3" };

static char *slurp(const char *path)
{
	struct dynbuf b;
	size_t len;

	dynbuf_init(&b, 1 << 20);
	ck_assert_msg(dynbuf_read_file(&b, path) == 0, "%s", path);
	ck_assert_int_eq(dynbuf_addch(&b, '\0'), 0);
	return dynbuf_take(&b, &len);
}

/* The next line of *p (NUL-terminated in place), or NULL at the end. */
static char *next_line(char **p)
{
	char *line = *p, *nl;

	if (!line || !*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	*p = nl ? nl + 1 : NULL;
	return line;
}

/* Every line of NAME.series, a selector with = matchers, as one sample. */
static void load_series(struct series *ser, const char *path)
{
	char *text = slurp(path), *rest = text, *line, err[256];
	struct series_scrape *sc = series_scrape_begin(ser, "target", NULL, NOW);

	while ((line = next_line(&rest))) {
		struct promql_expr *e;
		const struct promql_matcher *m;
		struct series_label l[16];
		const char *name = NULL;
		size_t n, k = 0;

		if (*line == '#' || !*line)
			continue;
		ck_assert_msg(promql_parse(line, &e, err, sizeof(err)) == 0, "%s: %s", line, err);
		ck_assert(promql_expr_selector(e, &m, &n));
		for (size_t i = 0; i < n; i++) {
			ck_assert(m[i].op == PROMQL_EQ);
			if (strcmp(m[i].name, "__name__") == 0)
				name = m[i].value;
			else if (k < COMMON_ARRAY_LEN(l))
				l[k++] = (struct series_label){ m[i].name, m[i].value };
		}
		ck_assert_int_eq(series_scrape_add(sc, name, l, k, 1, false, 0), 0);
		promql_expr_free(e);
	}
	ck_assert_int_eq(series_scrape_commit(sc, err, sizeof(err)), 0);
	free(text);
}

/* NAME.names without its comments. */
static char *expected(const char *path)
{
	char *text = slurp(path), *rest = text, *line;
	struct dynbuf b;
	size_t len;

	dynbuf_init(&b, 1 << 20);
	while ((line = next_line(&rest)))
		if (*line != '#')
			ck_assert_int_eq(dynbuf_printf(&b, "%s\n", line), 0);
	free(text);
	ck_assert_int_eq(dynbuf_addch(&b, '\0'), 0);
	return dynbuf_take(&b, &len);
}

START_TEST(documented_configs_expose_the_adapters_names)
{
	const char *name = CONFIGS[_i];
	struct series_options so = { .window_ms = 300000, .resolution_ms = 15000 };
	char path[256], err[256], *errors = NULL, *want;
	struct rules_config *cfg;
	struct series *ser = series_new(&so, err, sizeof(err));
	struct custom_provider *p;
	struct custom_catalog *c;
	const struct custom_resource_metric *m;
	const char *const *ext;
	struct dynbuf got;
	size_t n;

	snprintf(path, sizeof(path), DATA "%s.yaml", name);
	cfg = rules_config_load(path, &errors);
	ck_assert_msg(cfg != NULL, "%s", errors ? errors : "");
	snprintf(path, sizeof(path), DATA "%s.series", name);
	load_series(ser, path);
	p = custom_provider_new(cfg, ser, 15000);
	c = custom_catalog_acquire(p, NOW);
	dynbuf_init(&got, 1 << 20);
	n = custom_catalog_resources(c, &m);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(dynbuf_printf(&got, "custom %s%s%s/%s %s\n", m[i].resource,
					       *m[i].group ? "." : "", m[i].group, m[i].metric,
					       m[i].namespaced ? "namespaced" : "cluster"), 0);
	n = custom_catalog_externals(c, &ext);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(dynbuf_printf(&got, "external %s\n", ext[i]), 0);
	snprintf(path, sizeof(path), DATA "%s.names", name);
	want = expected(path);
	ck_assert_msg(strcmp(got.buf ? got.buf : "", want) == 0, "%s:\ngot:\n%swant:\n%s", name,
		      got.buf ? got.buf : "", want);
	free(want);
	dynbuf_clear(&got);
	custom_catalog_unref(c);
	custom_provider_free(p);
	series_free(ser);
	rules_config_free(cfg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("custom_adapter_names");
	TCase *tc = tcase_create("names");

	tcase_add_loop_test(tc, documented_configs_expose_the_adapters_names, 0,
			    COMMON_ARRAY_LEN(CONFIGS));
	suite_add_tcase(s, tc);
	return unit_run(s);
}
