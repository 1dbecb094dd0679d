/*
 * check_rules_config.c - rules/load.c, extras.c, targets.c, template.c:
 * prometheus-adapter's documented configurations load; every broken file of
 * test/data/rules gives the `FILE:LINE:COL: reason` lines of its .expected
 * file (positions checked by hand against the YAML), queries outside the
 * PromQL subset among them; strictness, bounds and
 * our metricsApiserver: key.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "test/unit/unit.h"

#define DATA "test/data/rules/"

static char *slurp(const char *path)
{
	struct dynbuf b;

	dynbuf_init(&b, 1 << 20);
	ck_assert_int_eq(dynbuf_read_file(&b, path), 0);
	ck_assert_int_eq(dynbuf_addch(&b, 0), 0);
	return dynbuf_take(&b, NULL);
}

/* The errors of text (NULL when it loads). */
static char *errors_of(const char *text)
{
	char *errors = NULL;
	struct rules_config *c = rules_config_parse(text, strlen(text), "t.yaml", &errors);

	if (c) {
		ck_assert_ptr_null(errors);
		rules_config_free(c);
	}
	return errors;
}

static void expect_error(const char *text, const char *want)
{
	char *got = errors_of(text);

	ck_assert_msg(got != NULL, "loaded: %s", text);
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_documented_configs_load)
{
	const char *files[] = { "adapter-default", "walkthrough", "reference-4.3" };
	const size_t rules[] = { 4, 3, 2 }, external[] = { 2, 1, 1 };
	/* adapter-default's resourceRules use [4m]: not counted (never evaluated) */
	const int64_t max_range[] = { 120000, 120000, 120000 };

	for (size_t i = 0; i < COMMON_ARRAY_LEN(files); i++) {
		char path[256], *errors = NULL;
		struct rules_config *c;

		snprintf(path, sizeof(path), DATA "%s.yaml", files[i]);
		c = rules_config_load(path, &errors);
		ck_assert_msg(c != NULL, "%s: %s", path, errors);
		ck_assert_uint_eq(c->n_rules, rules[i]);
		ck_assert_uint_eq(c->n_external, external[i]);
		ck_assert_int_eq(c->max_range_ms, max_range[i]);
		rules_config_free(c);
	}
}
END_TEST

/* The series store's window comes from the longest range of any rule. */
static int64_t max_range_of(const char *text)
{
	char *errors = NULL;
	struct rules_config *c = rules_config_parse(text, strlen(text), "t.yaml", &errors);
	int64_t ms;

	ck_assert_msg(c != NULL, "%s", errors);
	ms = c->max_range_ms;
	rules_config_free(c);
	return ms;
}

START_TEST(test_max_range)
{
	ck_assert_int_eq(max_range_of(""), 0);
	ck_assert_int_eq(max_range_of("rules:\n- seriesQuery: x\n  metricsQuery: 'sum(<<.Series>>)'\n"),
			 0);
	ck_assert_int_eq(max_range_of("rules:\n"
				      "- seriesQuery: x\n"
				      "  metricsQuery: 'sum(rate(<<.Series>>[2m]))'\n"
				      "- seriesQuery: y\n"
				      "  metricsQuery: 'max_over_time(<<.Series>>[1h]) / "
				      "irate(<<.Series>>[30s])'\n"
				      "externalRules:\n"
				      "- seriesQuery: z\n"
				      "  metricsQuery: 'sum(increase(<<.Series>>[10m]))'\n"),
			 3600000);
	/* an external rule alone counts */
	ck_assert_int_eq(max_range_of("externalRules:\n"
				      "- seriesQuery: z\n"
				      "  metricsQuery: 'sum(delta(<<.Series>>[90s]))'\n"),
			 90000);
	/* resourceRules are accepted, never evaluated: their ranges do not count */
	ck_assert_int_eq(max_range_of("resourceRules:\n"
				      "  cpu:\n"
				      "    containerQuery: 'sum(rate(c{<<.LabelMatchers>>}[7m])) "
				      "by (<<.GroupBy>>)'\n"
				      "    nodeQuery: 'sum(rate(n{<<.LabelMatchers>>}[7m])) by "
				      "(<<.GroupBy>>)'\n"
				      "    resources: {overrides: {node: {resource: node}}}\n"
				      "    containerLabel: container\n"),
			 0);
}
END_TEST

/* reads: which names rules_config_reads lets the application scrape keep */
static struct rules_config *load_file(const char *path)
{
	char *errors = NULL;
	struct rules_config *c = rules_config_load(path, &errors);

	ck_assert_msg(c != NULL, "%s", errors ? errors : "");
	return c;
}

START_TEST(test_reads)
{
	static const char inline_cfg[] =
		"rules:\n"
		"- seriesQuery: 'hits_total{namespace!=\"\",pod!=\"\"}'\n"
		"  resources: {template: '<<.Resource>>'}\n"
		"  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>) / "
		"sum(capacity{<<.LabelMatchers>>}) by (<<.GroupBy>>)'\n"
		"externalRules:\n"
		"- seriesQuery: '{__name__=~\"queue_(depth|lag)\",queue!=\"\"}'\n"
		"  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>})'\n";
	static const struct { const char *name; bool read; } inline_want[] = {
		{ "hits_total", true }, { "capacity", true }, { "queue_depth", true },
		{ "queue_lag", true }, { "queue_depth_x", false }, { "hits", false },
		{ "up", false }, { "", false },
	};
	char *errors = NULL;
	struct rules_config *c = rules_config_parse(inline_cfg, strlen(inline_cfg), "t.yaml",
						    &errors);

	ck_assert_msg(c != NULL, "%s", errors ? errors : "");
	for (size_t i = 0; i < COMMON_ARRAY_LEN(inline_want); i++)
		ck_assert_msg(rules_config_reads(c, inline_want[i].name) == inline_want[i].read, "%s",
			      inline_want[i].name);
	rules_config_free(c);

	/* the section 4.3 rules: three names */
	c = load_file("test/data/rules/reference-4.3.yaml");
	ck_assert(rules_config_reads(c, "http_requests_total"));
	ck_assert(rules_config_reads(c, "queue_messages_ready"));
	ck_assert(rules_config_reads(c, "kafka_consumergroup_lag"));
	ck_assert(!rules_config_reads(c, "http_requests"));
	ck_assert(!rules_config_reads(c, "process_open_fds"));
	rules_config_free(c);
	/* the walkthrough: names and =~ prefixes */
	c = load_file("test/data/rules/walkthrough.yaml");
	ck_assert(rules_config_reads(c, "kube_deployment_status_replicas"));
	ck_assert(rules_config_reads(c, "app_queue_length"));
	ck_assert(!rules_config_reads(c, "xkube_a"));
	ck_assert(!rules_config_reads(c, "process_open_fds"));
	rules_config_free(c);
	/* a seriesQuery constraining no name (__name__!="...") reads everything */
	c = load_file("test/data/rules/adapter-default.yaml");
	ck_assert(rules_config_reads(c, "process_open_fds"));
	rules_config_free(c);
}
END_TEST

START_TEST(test_broken_files)
{
	const char *files[] = { "broken-helm-values", "broken-is-isnot", "broken-groups",
				"broken-template-field", "broken-regex", "broken-types",
				"broken-upstream-quoting", "broken-subset" };

	for (size_t i = 0; i < COMMON_ARRAY_LEN(files); i++) {
		char path[256], want_path[256], *errors = NULL, *want;
		struct rules_config *c;

		snprintf(path, sizeof(path), DATA "%s.yaml", files[i]);
		snprintf(want_path, sizeof(want_path), DATA "%s.expected", files[i]);
		c = rules_config_load(path, &errors);
		ck_assert_msg(c == NULL, "%s loaded", path);
		want = slurp(want_path);
		ck_assert_str_eq(errors, want);
		free(want);
		free(errors);
	}
}
END_TEST

START_TEST(test_reference_extras)
{
	char *errors = NULL;
	struct rules_config *c = rules_config_load(DATA "reference-4.3.yaml", &errors);

	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->n_targets, 1);
	ck_assert_str_eq(c->targets[0].name, "queue-exporter");
	ck_assert_str_eq(c->targets[0].url, "http://10.0.0.7:9100/metrics");
	ck_assert_str_eq(labels_get(&c->targets[0].labels, "deployment"), "worker");
	ck_assert_int_eq(c->limits.sample_limit, 5000);
	ck_assert_int_eq(c->limits.label_limit, 30);
	ck_assert_int_eq(c->limits.label_value_length_limit, 200);
	ck_assert_int_eq(c->limits.body_size_limit, 10 << 20);
	ck_assert_int_eq(c->external[0].namespaced, 0);
	ck_assert_int_eq(c->rules[0].namespaced, -1);
	ck_assert_str_eq(c->rules[1].overrides[0].gr.group, "apps");
	ck_assert_str_eq(c->rules[1].overrides[0].gr.resource, "deployments");
	ck_assert_uint_eq(c->rules[1].line, 8);
	ck_assert_uint_eq(c->rules[1].col, 3);
	rules_config_free(c);
}
END_TEST

START_TEST(test_strict_and_shapes)
{
	expect_error("rule:\n- seriesQuery: x\n",
		     "t.yaml:1:1: field rule not found in type config.MetricsDiscoveryConfig\n");
	expect_error("rules:\n- seriesQuery: x\n  seriesQuery: y\n",
		     "t.yaml:3:3: key \"seriesQuery\" already set in map\n");
	expect_error("- a\n", "t.yaml:1:1: cannot unmarshal !!seq into "
			      "config.MetricsDiscoveryConfig\n");
	/* an empty file (or comments only) is an empty config, as for yaml.v2 */
	ck_assert_ptr_null(errors_of(""));
	ck_assert_ptr_null(errors_of("# nothing yet\n"));
	expect_error("rules:\n- metricsQuery: 'sum(<<.Series>>)'\n",
		     "t.yaml:2:3: seriesQuery is required\n");
	expect_error("rules:\n- seriesQuery: x\n",
		     "t.yaml:2:3: metricsQuery is required (the adapter's queries would all be "
		     "empty)\n");
	expect_error("rules:\n- seriesQuery: x\n  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers}'\n",
		     "t.yaml:3:17: unable to parse metrics query template: unclosed action "
		     "(\"<<\" without \">>\")\n");
	expect_error("rules:\n- seriesQuery: x\n  metricsQuery: 'a >> b'\n",
		     "t.yaml:3:17: unable to parse metrics query template: unexpected \">>\" "
		     "outside an action\n");
	expect_error("rules:\n- seriesQuery: x\n  metricsQuery: '<<range .GroupBySlice>>x'\n",
		     "t.yaml:3:17: unable to parse metrics query template: unexpected EOF: "
		     "missing <<end>>\n");
	expect_error("rules:\n- seriesQuery: x\n  metricsQuery: s\n  seriesFilters: [{}]\n",
		     "t.yaml:4:19: must have either an `is` or `isNot` expression in a filter\n");
	expect_error("rules:\n- seriesQuery: x\n  metricsQuery: s\n  resources: {template: "
		     "'kube_<<.Group>>'}\n",
		     "t.yaml:4:25: unable to parse label template \"kube_<<.Group>>\": must "
		     "include at least `<<.Resource>>` in the label template\n");
	expect_error("rules:\n- seriesQuery: x\n  metricsQuery: s\n  resources:\n    overrides:\n"
		     "      pod: {group: core}\n",
		     "t.yaml:6:12: override of label pod needs a resource\n");
	expect_error("rules:\n- seriesQuery: x\n  metricsQuery: s\n  name: {matches: 'a\\b'}\n",
		     "t.yaml:4:19: unable to compile series name match expression: error parsing "
		     "regexp \"a\\b\": \\b is not supported here (RE2 construct without a POSIX "
		     "equivalent)\n");
	expect_error("rules:\n- seriesQuery: x\n  metricsQuery: s\n  name: {matches: '(a+?)'}\n",
		     "t.yaml:4:19: unable to compile series name match expression: error parsing "
		     "regexp \"(a+?)\": lazy quantifiers (*? +? ?? {n,m}?) are not supported\n");
	/* well-formed templates: index, comments, trimming; control actions are
	 * not run in process (a start-up error at the action) */
	ck_assert_ptr_null(errors_of(
		"rules:\n- seriesQuery: x\n  metricsQuery: 'sum(<<.Series>>{pod=~\"<<index "
		".LabelValuesByName \"pod\">>\"}) <</* c */>> by (<<- .GroupBy ->>)'\n"));
	expect_error("rules:\n- seriesQuery: x\n  metricsQuery: 'x by (<<range $i, $g := "
		     ".GroupBySlice>><<$g>><<end>>)'\n",
		     "t.yaml:3:24: rules[0].metricsQuery: template action not supported in process "
		     "(only fields, index and comments)\n");
}
END_TEST

START_TEST(test_resource_rules_and_extras)
{
	expect_error("resourceRules:\n  cpu: {containerQuery: '<<.Foo>>'}\n  window: soon\n",
		     "t.yaml:2:25: unable to parse metrics query template: can't evaluate field "
		     "Foo (known fields: .Series .LabelMatchers .GroupBy .GroupBySlice "
		     ".LabelValuesByName)\n"
		     "t.yaml:3:11: window: not a valid duration\n");
	expect_error("resourceRules:\n  disk: {}\n",
		     "t.yaml:2:3: field disk not found in type config.ResourceRules\n");
	expect_error("metricsApiserver:\n  targets:\n  - {name: a, url: 'ftp://x'}\n"
		     "  - {name: a, url: 'http://x', labels: {__bad: v}}\n",
		     "t.yaml:3:20: url must be http://HOST[:PORT]/PATH or https://...\n"
		     "t.yaml:4:12: duplicate target name a\n"
		     "t.yaml:4:41: invalid label name __bad\n");
	expect_error("metricsApiserver:\n  limits: {sample_limit: -1, body_size_limit: 10XB}\n",
		     "t.yaml:2:26: sample_limit must be an integer >= 0 (0: no limit)\n"
		     "t.yaml:2:47: body_size_limit must be a size (bytes, or a number with B, KB, "
		     "MB, GB)\n");
	expect_error("metricsApiserver:\n  scrape_interval: 1s\n",
		     "t.yaml:2:3: field scrape_interval not found in type metricsApiserver\n");
}
END_TEST

START_TEST(test_bounds)
{
	struct dynbuf b;
	char *errors;

	dynbuf_init(&b, 1 << 20);
	ck_assert_int_eq(dynbuf_addstr(&b, "rules:\n"), 0);
	for (int i = 0; i <= RULES_MAX_RULES; i++)
		ck_assert_int_eq(dynbuf_addstr(&b, "- {seriesQuery: x, metricsQuery: y}\n"), 0);
	ck_assert_int_eq(dynbuf_addch(&b, 0), 0);
	errors = errors_of(b.buf);
	ck_assert_str_eq(errors, "t.yaml:2:1: more than 1000 rules\n");
	free(errors);
	dynbuf_reset(&b);
	/* many errors: the first RULES_MAX_ERRORS, then one line */
	ck_assert_int_eq(dynbuf_addstr(&b, "rules:\n"), 0);
	for (int i = 0; i < 30; i++)
		ck_assert_int_eq(dynbuf_addstr(&b, "- {metricsQuery: y}\n"), 0);
	ck_assert_int_eq(dynbuf_addch(&b, 0), 0);
	errors = errors_of(b.buf);
	ck_assert_ptr_nonnull(strstr(errors, "t.yaml:21:3: seriesQuery is required\nt.yaml: too "
					     "many errors\n"));
	free(errors);
	dynbuf_clear(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rules_config");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_documented_configs_load);
	tcase_add_test(tc, test_broken_files);
	tcase_add_test(tc, test_max_range);
	tcase_add_test(tc, test_reads);
	tcase_add_test(tc, test_reference_extras);
	tcase_add_test(tc, test_strict_and_shapes);
	tcase_add_test(tc, test_resource_rules_and_extras);
	tcase_add_test(tc, test_bounds);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
