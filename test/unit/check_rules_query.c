/*
 * check_rules_query.c - rules/query.c and scalarpos.c: a metricsQuery
 * outside the PromQL subset is an error at the offending character in the
 * file, through '' and backslash escapes, escaped line breaks, multi-byte
 * characters and kept blank lines of block scalars (every position counted
 * by hand in the YAML below); resourceRules' queries too; a loaded rule's
 * compiled query expands as Go's text/template prints the adapter's
 * arguments.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "test/unit/unit.h"

static void expect_error(const char *text, const char *want)
{
	char *errors = NULL;
	struct rules_config *c = rules_config_parse(text, strlen(text), "t.yaml", &errors);

	ck_assert_msg(c == NULL, "loaded: %s", text);
	ck_assert_str_eq(errors, want);
	free(errors);
}

START_TEST(test_positions)
{
	/* '' is one quote in the value, two characters in the file */
	expect_error("rules:\n- seriesQuery: x\n  metricsQuery: 'sum(<<.Series>>{a=''b''}) > 1'\n",
		     "t.yaml:3:44: rules[0].metricsQuery: unsupported in this PromQL subset: "
		     "comparison operator\n");
	/* \" and \x41 escapes, then an escaped line break: the next line's blanks go */
	expect_error("rules:\n- seriesQuery: x\n  metricsQuery: \"sum(<<.Series>>{a=\\\"\\x41\\\"}) "
		     "\\\n    > 1\"\n",
		     "t.yaml:4:5: rules[0].metricsQuery: unsupported in this PromQL subset: "
		     "comparison operator\n");
	/* columns count characters, as libyaml's marks do */
	expect_error("rules:\n- seriesQuery: x\n  metricsQuery: 'sum(<<.Series>>{a=\"\xc3\xa9\"}) > 1'\n",
		     "t.yaml:3:42: rules[0].metricsQuery: unsupported in this PromQL subset: "
		     "comparison operator\n");
	/* a kept block scalar with a blank line and a more-indented line */
	expect_error("rules:\n- seriesQuery: x\n  metricsQuery: |+\n    <<.Series>>\n\n"
		     "      offset 1m\n",
		     "t.yaml:6:7: rules[0].metricsQuery: unsupported in this PromQL subset: "
		     "offset modifier\n");
	/* an explicit indentation indicator: the scalar's start */
	expect_error("rules:\n- seriesQuery: x\n  metricsQuery: |2\n    <<.Series>> offset 1m\n",
		     "t.yaml:3:17: rules[0].metricsQuery: unsupported in this PromQL subset: "
		     "offset modifier\n");
	/* resourceRules' queries, with their name */
	expect_error("resourceRules:\n  cpu:\n    nodeQuery: 'sum(rate(x{<<.LabelMatchers>>}[1m] "
		     "offset 1m))'\n",
		     "t.yaml:3:52: resourceRules.cpu.nodeQuery: unsupported in this PromQL subset: "
		     "offset modifier\n");
	/* the expansion itself fails: at the scalar's start */
	expect_error("rules:\n- seriesQuery: x\n  metricsQuery: 'sum(x) by (<<index .GroupBySlice 1>>)'\n",
		     "t.yaml:3:17: rules[0].metricsQuery: index out of range of .GroupBySlice\n");
}
END_TEST

START_TEST(test_expand)
{
	static const char text[] =
		"rules:\n- seriesQuery: 'http_requests_total{namespace!=\"\",pod!=\"\"}'\n"
		"  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>,s=\"<<.GroupBySlice>>\","
		"v=\"<<.LabelValuesByName>>\",p=\"<<index .LabelValuesByName \"pod\">>\","
		"m=\"<<index .LabelValuesByName \"none\">>\"}[2m])) by (<<.GroupBy>> <<- /* c */ ->> )'\n";
	const char *slice[] = { "pod", "container" }, *names[] = { "namespace", "pod" },
		   *values[] = { "ns", "a|b" };
	struct rules_query_args a = { .series = "http_requests_total",
				      .label_matchers = "namespace=\"ns\",pod=~\"a|b\"",
				      .group_by = "pod", .group_by_slice = slice,
				      .n_group_by_slice = 2, .value_names = names, .values = values,
				      .n_values = 2 };
	char *errors = NULL;
	struct rules_config *c = rules_config_parse(text, strlen(text), "t.yaml", &errors);
	struct dynbuf b;

	ck_assert_msg(c != NULL, "%s", errors);
	ck_assert_ptr_nonnull(c->rules[0].query);
	dynbuf_init(&b, 4096);
	ck_assert_int_eq(rules_query_expand(c->rules[0].query, &a, &b), 0);
	ck_assert_str_eq(b.buf, "sum(rate(http_requests_total{namespace=\"ns\",pod=~\"a|b\","
				"s=\"[pod container]\",v=\"map[namespace:ns pod:a|b]\",p=\"a|b\","
				"m=\"\"}[2m])) by (pod)");
	/* too small a buffer: out as before */
	dynbuf_clear(&b);
	dynbuf_init(&b, 16);
	ck_assert_int_eq(dynbuf_addstr(&b, "keep"), 0);
	ck_assert_int_eq(rules_query_expand(c->rules[0].query, &a, &b), ERR_TOOBIG);
	ck_assert_str_eq(b.buf, "keep");
	dynbuf_clear(&b);
	rules_config_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rules_query");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_positions);
	tcase_add_test(tc, test_expand);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
