/*
 * check_rules_naming.c - rules/naming.c, regex.c, template.c: the metric
 * names prometheus-adapter would expose for given series (config.md,
 * config-walkthrough.md, sample config; reference §4.1 and §4.3), Go's
 * Regexp.Expand rules ($1_x is the group named "1_x", so empty), the RE2
 * translation, resource association both ways, and §4.2's selector ->
 * PromQL table.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules.h"
#include "test/unit/unit.h"

static struct rules_config *load(const char *path)
{
	char *errors = NULL;
	struct rules_config *c = rules_config_load(path, &errors);

	ck_assert_msg(c != NULL, "%s: %s", path, errors);
	return c;
}

/* One rule from YAML text (the first of rules:). */
static struct rules_config *one(const char *text)
{
	char *errors = NULL;
	struct rules_config *c = rules_config_parse(text, strlen(text), "t.yaml", &errors);

	ck_assert_msg(c != NULL, "%s", errors);
	return c;
}

/* The name rule r exposes for series, or "-" when it skips it. */
static const char *exposed(const struct rules_rule *r, const char *series, char *buf, size_t len)
{
	if (!rules_series_selected(r, series))
		return "-";
	ck_assert_int_eq(rules_metric_name(r, series, buf, len), 0);
	return buf;
}

START_TEST(test_documented_names)
{
	struct rules_config *c = load("test/data/rules/adapter-default.yaml");
	char b[256];

	/* sample config: container_X_seconds_total -> X (one group: as = $1) */
	ck_assert_str_eq(exposed(&c->rules[0], "container_cpu_usage_seconds_total", b, sizeof(b)),
			 "cpu_usage");
	ck_assert_str_eq(exposed(&c->rules[0], "container_memory_usage_bytes", b, sizeof(b)), "-");
	/* its second rule drops the seconds counters (isNot), keeps the others */
	ck_assert_str_eq(exposed(&c->rules[1], "container_cpu_usage_seconds_total", b, sizeof(b)),
			 "-");
	ck_assert_str_eq(exposed(&c->rules[1], "container_network_receive_bytes_total", b,
				 sizeof(b)),
			 "network_receive_bytes");
	ck_assert_str_eq(exposed(&c->rules[2], "http_requests_total", b, sizeof(b)),
			 "http_requests");
	ck_assert_str_eq(exposed(&c->rules[2], "http_requests", b, sizeof(b)), "-");
	ck_assert_str_eq(exposed(&c->rules[3], "cheddar", b, sizeof(b)), "cheesy_goodness");
	/* external rules without name: the series name itself ($0) */
	ck_assert_str_eq(exposed(&c->external[0], "queue_consumer_lag", b, sizeof(b)),
			 "queue_consumer_lag");
	rules_config_free(c);

	c = load("test/data/rules/walkthrough.yaml");
	ck_assert_str_eq(exposed(&c->rules[0], "http_requests_total", b, sizeof(b)),
			 "http_requests_per_second");
	/* "^(.*)_total" is not anchored at the end */
	ck_assert_str_eq(exposed(&c->rules[0], "http_requests_total_x", b, sizeof(b)),
			 "http_requests_per_second");
	ck_assert_str_eq(exposed(&c->rules[2], "app_queue_depth", b, sizeof(b)), "queue_depth");
	rules_config_free(c);

	c = load("test/data/rules/reference-4.3.yaml");
	ck_assert_str_eq(exposed(&c->rules[0], "http_requests_total", b, sizeof(b)),
			 "http_requests");
	ck_assert_str_eq(exposed(&c->rules[1], "queue_messages_ready", b, sizeof(b)),
			 "queue_messages_ready");
	ck_assert_str_eq(exposed(&c->external[0], "kafka_consumergroup_lag", b, sizeof(b)),
			 "kafka_consumergroup_lag");
	rules_config_free(c);
}
END_TEST

START_TEST(test_expand)
{
	static const struct {
		const char *matches, *as, *series, *want;
	} cases[] = {
		{ "^(.*)_total$", "$1_per_second", "http_total", "" }, /* group "1_per_second" */
		{ "^(.*)_total$", "${1}_per_second", "http_total", "http_per_second" },
		{ "^(.*)_total$", "$0", "http_total", "http_total" },
		{ "_total", "$0", "a_total_b", "_total" },             /* unanchored */
		{ "^(?P<base>.*)_total$", "${base}_rate", "x_total", "x_rate" },
		{ "^(?<base>.*)_total$", "$base", "x_total", "x" },
		{ "^(?:app|svc)_(.*)$", "$1", "svc_hits", "hits" },    /* (?:) is not counted */
		{ "^v\\d+_(\\w+)$", "$1", "v12_cpu_s", "cpu_s" },
		{ "^(a)(b)?$", "[$2]", "a", "[]" },                    /* unset group: empty */
		{ "^(.*)$", "$$1 ${x} $ $9", "m", "$1  $ " },          /* $$, unknown, bare */
		{ "^[\\w.]+$", "ok", "a.b_c", "ok" },
		{ "^[\\]\\w]+$", "ok", "a]b", "ok" },              /* \] inside brackets */
		{ "^(?P<x>a)$|^(?P<x>b)$", "$x", "b", "b" },           /* first name that matched */
	};
	char text[512], b[256];

	for (size_t i = 0; i < COMMON_ARRAY_LEN(cases); i++) {
		struct rules_config *c;

		snprintf(text, sizeof(text),
			 "rules:\n- seriesQuery: x\n  metricsQuery: y\n  name: {matches: '%s', as: '%s'}\n",
			 cases[i].matches, cases[i].as);
		c = one(text);
		ck_assert_msg(rules_metric_name(&c->rules[0], cases[i].series, b, sizeof(b)) == 0,
			      "%s", cases[i].matches);
		ck_assert_msg(strcmp(b, cases[i].want) == 0, "%s / %s on %s: got [%s] want [%s]",
			      cases[i].matches, cases[i].as, cases[i].series, b, cases[i].want);
		rules_config_free(c);
	}
	struct rules_config *c = one("rules:\n- {seriesQuery: x, metricsQuery: y, name: "
				     "{matches: '^a$'}}\n");
	ck_assert_int_eq(rules_metric_name(&c->rules[0], "b", b, sizeof(b)), ERR_NOTFOUND);
	ck_assert_int_eq(rules_metric_name(&c->rules[0], "a", b, 1), ERR_TOOBIG);
	rules_config_free(c);
}
END_TEST

START_TEST(test_association)
{
	struct rules_config *c = load("test/data/rules/walkthrough.yaml");
	struct rules_group_resource gr, apps = { (char *)"apps", (char *)"deployments" };
	struct rules_group_resource ing = { (char *)"networking.k8s.io", (char *)"ingresses" };
	char g[128], r[128], label[128];

	/* overrides: singular or plural, normalised to the plural */
	ck_assert_int_eq(rules_label_resource(&c->rules[0], "kubernetes_pod_name", g, r, 128, &gr),
			 0);
	ck_assert_str_eq(gr.group, "");
	ck_assert_str_eq(gr.resource, "pods");
	ck_assert(rules_resource_namespaced(&gr));
	ck_assert_int_eq(rules_label_resource(&c->rules[0], "kubernetes_namespace", g, r, 128, &gr),
			 0);
	ck_assert_str_eq(gr.resource, "namespaces");
	ck_assert(!rules_resource_namespaced(&gr));
	ck_assert_int_eq(rules_label_resource(&c->rules[0], "instance", g, r, 128, &gr),
			 ERR_NOTFOUND);
	ck_assert_int_eq(rules_label_resource(&c->rules[2], "microservice", g, r, 128, &gr), 0);
	ck_assert_str_eq(gr.group, "apps");
	ck_assert_str_eq(gr.resource, "deployments");
	/* template kube_<<.Group>>_<<.Resource>>: each field lazy, the label anchored */
	ck_assert_int_eq(rules_label_resource(&c->rules[1], "kube_apps_deployment", g, r, 128, &gr),
			 0);
	ck_assert_str_eq(gr.group, "apps");
	ck_assert_str_eq(gr.resource, "deployments");
	ck_assert_int_eq(rules_label_resource(&c->rules[1], "kube_batch_cronjob", g, r, 128, &gr),
			 0);
	ck_assert_str_eq(gr.group, "batch");
	ck_assert_str_eq(gr.resource, "cronjobs");
	/* only what the RESTMapper knows: batch has cronjobs, not cron_jobs; the
	 * lazy fields read kube_networking_k8s_io_ingress as group networking,
	 * resource k8s_io_ingress, which no cluster serves either */
	ck_assert_int_eq(rules_label_resource(&c->rules[1], "kube_batch_cron_job", g, r, 128, &gr),
			 ERR_NOTFOUND);
	ck_assert_int_eq(rules_label_resource(&c->rules[1], "kube_networking_k8s_io_ingress", g, r,
					      128, &gr), ERR_NOTFOUND);
	ck_assert_int_eq(rules_label_resource(&c->rules[1], "kube_apps_Deployments", g, r, 128, &gr),
			 0);
	ck_assert_str_eq(gr.resource, "deployments");
	ck_assert_int_eq(rules_label_resource(&c->rules[1], "kube_pod", g, r, 128, &gr),
			 ERR_NOTFOUND);
	/* the other way: .Group with . and - as _, .Resource singular */
	ck_assert_int_eq(rules_resource_label(&c->rules[1], &apps, label, sizeof(label)), 0);
	ck_assert_str_eq(label, "kube_apps_deployment");
	ck_assert_int_eq(rules_resource_label(&c->rules[1], &ing, label, sizeof(label)), 0);
	ck_assert_str_eq(label, "kube_networking_k8s_io_ingress");
	ck_assert_int_eq(rules_resource_label(&c->rules[2], &apps, label, sizeof(label)), 0);
	ck_assert_str_eq(label, "microservice");
	ck_assert_int_eq(rules_resource_label(&c->rules[0], &apps, label, sizeof(label)),
			 ERR_NOTFOUND);
	rules_config_free(c);

	c = load("test/data/rules/adapter-default.yaml");
	/* template "<<.Resource>>": the label is the singular resource name */
	ck_assert_int_eq(rules_label_resource(&c->rules[2], "pod", g, r, 128, &gr), 0);
	ck_assert_str_eq(gr.resource, "pods");
	ck_assert_int_eq(rules_label_resource(&c->rules[2], "namespace", g, r, 128, &gr), 0);
	ck_assert(!rules_resource_namespaced(&gr));
	ck_assert_int_eq(rules_label_resource(&c->rules[2], "node", g, r, 128, &gr), 0);
	ck_assert(!rules_resource_namespaced(&gr));
	/* a bare singular finds its group (Prometheus' job label -> jobs.batch),
	 * a label that is no resource maps to nothing */
	ck_assert_int_eq(rules_label_resource(&c->rules[2], "job", g, r, 128, &gr), 0);
	ck_assert_str_eq(gr.group, "batch");
	ck_assert_str_eq(gr.resource, "jobs");
	ck_assert_int_eq(rules_label_resource(&c->rules[2], "container", g, r, 128, &gr),
			 ERR_NOTFOUND);
	ck_assert_int_eq(rules_label_resource(&c->rules[2], "instance", g, r, 128, &gr),
			 ERR_NOTFOUND);
	/* an override the table does not know (a CRD's) is kept as written */
	ck_assert_int_eq(rules_label_resource(&c->rules[3], "brand", g, r, 128, &gr), 0);
	ck_assert_str_eq(gr.group, "cheese.io");
	ck_assert_str_eq(gr.resource, "brands");
	rules_config_free(c);
}
END_TEST

static void promql(const char *selector, const char *want)
{
	char err[256] = "";
	struct selector *sel = selector_parse(selector, err, sizeof(err));
	char *got;

	ck_assert_msg(sel != NULL, "%s: %s", selector, err);
	got = rules_selector_promql(sel, err, sizeof(err));
	if (want) {
		ck_assert_msg(got && strcmp(got, want) == 0, "%s: got %s want %s", selector,
			      got ? got : err, want);
	} else {
		ck_assert_ptr_null(got);
		ck_assert_str_eq(err, "operator not supported by prometheus");
	}
	free(got);
	selector_free(sel);
}

START_TEST(test_selector_promql)
{
	promql("app=web", "app=\"web\"");
	promql("app==web", "app=\"web\"");
	promql("app!=web", "app!=\"web\"");
	promql("env in (prod,dev)", "env=~\"dev|prod\"");
	promql("env notin (prod,dev)", "env!~\"dev|prod\"");
	promql("env in (a.b)", "env=~\"a.b\""); /* not escaped: also matches axb */
	promql("env notin (x)", "env!~\"x\"");
	promql("app", "app!=\"\"");
	promql("!app", "app=\"\"");
	promql("z=1,a=2", "a=\"2\",z=\"1\"");
	promql("consumergroup=orders", "consumergroup=\"orders\"");
	promql("", "");
	promql("x>1", NULL);
	promql("a=b,x<1", NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rules_naming");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_documented_names);
	tcase_add_test(tc, test_expand);
	tcase_add_test(tc, test_association);
	tcase_add_test(tc, test_selector_promql);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
