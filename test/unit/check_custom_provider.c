/*
 * check_custom_provider.c - custom/ through custom.h on a real rules file
 * (prometheus-adapter's format), a real series store and promql/: the
 * catalog (what the adapter's discovery would list), resource names as
 * the RESTMapper resolves them, values of objects and external metrics,
 * the adapter's quantities.
 *
 * Expected rates come from Prometheus 2.42 (promtool) on the same samples:
 * test/data/promql/rate_order.yml has them (four samples 15 s apart at
 * now-52.5 s .. now-7.5 s in a [1m] window): pod-a 9.999999999999998,
 * pod-b 2.4999999999999996, pod-c 2.708333333333333 (the zero-point
 * limit); the adapter's int64(v * 1000) then truncates them.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "custom/custom.h"
#include "rules/rules.h"
#include "series/series.h"
#include "test/unit/unit.h"

#define NOW INT64_C(1000000000)

static const char CONFIG[] =
	"rules:\n"
	"- seriesQuery: 'hello_counter_total{namespace!=\"\",pod!=\"\"}'\n"
	"  resources:\n"
	"    overrides:\n"
	"      namespace: {resource: namespace}\n"
	"      pod: {resource: pod}\n"
	"  name:\n"
	"    matches: \"^(.*)_total$\"\n"
	"    as: \"${1}_per_second\"\n"
	"  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)'\n"
	"- seriesQuery: '{__name__=~\"^hello_.*\",pod!=\"\"}'\n"
	"  seriesFilters: [{isNot: \"_total$\"}]\n"
	"  resources: {template: \"<<.Resource>>\"}\n"
	"  metricsQuery: 'max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'\n"
	"- seriesQuery: 'queue_depth{deployment!=\"\"}'\n"
	"  resources:\n"
	"    overrides:\n"
	"      namespace: {resource: namespace}\n"
	"      deployment: {group: apps, resource: deployment}\n"
	"  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'\n"
	"externalRules:\n"
	"- seriesQuery: 'queue_depth{queue!=\"\"}'\n"
	"  resources: {namespaced: false}\n"
	"  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)'\n"
	"- seriesQuery: 'queue_depth{queue!=\"\"}'\n"
	"  name: {as: queue_depth_here}\n"
	"  resources:\n"
	"    overrides: {namespace: {resource: namespace}}\n"
	"  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)'\n";

static struct rules_config *cfg;
static struct series *ser;
static struct custom_provider *prov;
static struct custom_catalog *cat;

static void scrape(const char *ns, const char *pod, int64_t t, double counter, double inflight)
{
	struct labels tl;
	struct series_scrape *sc;
	char key[128], err[256];

	labels_init(&tl);
	labels_set(&tl, "namespace", ns);
	labels_set(&tl, "pod", pod);
	snprintf(key, sizeof(key), "%s/%s", ns, pod);
	sc = series_scrape_begin(ser, key, &tl, t);
	ck_assert_ptr_nonnull(sc);
	ck_assert_int_eq(series_scrape_add(sc, "hello_counter_total", NULL, 0, counter, false, 0), 0);
	ck_assert_int_eq(series_scrape_add(sc, "hello_inflight_requests", NULL, 0, inflight, false, 0),
			 0);
	ck_assert_int_eq(series_scrape_commit(sc, err, sizeof(err)), 0);
	labels_clear(&tl);
}

static void exporter(int64_t t)
{
	struct labels tl;
	struct series_scrape *sc;
	struct series_label jobs[2] = { { "deployment", "worker" }, { "queue", "jobs" } };
	struct series_label mail[2] = { { "namespace", "other" }, { "queue", "mail" } };
	char err[256];

	labels_init(&tl);
	labels_set(&tl, "namespace", "default");
	sc = series_scrape_begin(ser, "exporter", &tl, t);
	ck_assert_int_eq(series_scrape_add(sc, "queue_depth", jobs, 2, 42, false, 0), 0);
	ck_assert_int_eq(series_scrape_add(sc, "queue_depth", mail, 2, 3.5, false, 0), 0);
	ck_assert_int_eq(series_scrape_commit(sc, err, sizeof(err)), 0);
	labels_clear(&tl);
}

static void setup(void)
{
	struct series_options so = { .window_ms = 75000, .resolution_ms = 15000 };
	char *errors = NULL, err[256];

	cfg = rules_config_parse(CONFIG, strlen(CONFIG), "test.yaml", &errors);
	ck_assert_msg(cfg != NULL, "%s", errors ? errors : "");
	ser = series_new(&so, err, sizeof(err));
	ck_assert_ptr_nonnull(ser);
	for (int i = 0; i < 4; i++) {
		int64_t t = NOW - 52500 + i * 15000;

		scrape("default", "pod-a", t, 1000 + 150 * i, 7);
		scrape("default", "pod-b", t, 1000 + 37.5 * i, 2);
		scrape("kube-system", "pod-c", t, 5 + 45 * i, 1);
		exporter(t);
	}
	prov = custom_provider_new(cfg, ser, 15000);
	cat = custom_catalog_acquire(prov, NOW);
}

static void teardown(void)
{
	custom_catalog_unref(cat);
	custom_provider_free(prov);
	series_free(ser);
	rules_config_free(cfg);
}

START_TEST(catalog_lists_what_the_adapter_would)
{
	static const struct { const char *group, *resource, *metric; bool namespaced; } want[] = {
		{ "apps", "deployments", "queue_depth", true },
		{ "", "namespaces", "hello_counter_per_second", false },
		{ "", "namespaces", "hello_inflight_requests", false },
		{ "", "namespaces", "queue_depth", false },
		{ "", "pods", "hello_counter_per_second", true },
		{ "", "pods", "hello_inflight_requests", true },
	};
	const struct custom_resource_metric *m;
	const char *const *ext;
	size_t n = custom_catalog_resources(cat, &m);

	ck_assert_uint_eq(n, COMMON_ARRAY_LEN(want));
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(m[i].group, want[i].group);
		ck_assert_str_eq(m[i].resource, want[i].resource);
		ck_assert_str_eq(m[i].metric, want[i].metric);
		ck_assert_msg(m[i].namespaced == want[i].namespaced, "%zu", i);
	}
	ck_assert_uint_eq(custom_catalog_externals(cat, &ext), 2);
	ck_assert_str_eq(ext[0], "queue_depth");
	ck_assert_str_eq(ext[1], "queue_depth_here");
	ck_assert(custom_catalog_has(cat, "", "pods", "hello_counter_per_second"));
	ck_assert(!custom_catalog_has(cat, "", "pods", "hello_counter_total"));
	ck_assert(custom_catalog_has_external(cat, "queue_depth"));
	ck_assert(!custom_catalog_has_external(cat, "hello_counter_per_second"));
}
END_TEST

START_TEST(resource_segments_resolve_as_the_restmapper)
{
	static const struct { const char *seg, *group, *resource; } ok[] = {
		{ "pods", "", "pods" }, { "pod", "", "pods" }, { "Pods", "", "pods" },
		{ "namespace", "", "namespaces" }, { "deployments.apps", "apps", "deployments" },
		{ "deployment.apps", "apps", "deployments" },
	};
	static const char *const bad[] = { "deployments", "podss", "nodes", "", "pods.apps" };
	const char *g, *r;

	for (size_t i = 0; i < COMMON_ARRAY_LEN(ok); i++) {
		ck_assert_msg(custom_catalog_resource(cat, ok[i].seg, &g, &r), "%s", ok[i].seg);
		ck_assert_str_eq(g, ok[i].group);
		ck_assert_str_eq(r, ok[i].resource);
	}
	for (size_t i = 0; i < COMMON_ARRAY_LEN(bad); i++)
		ck_assert_msg(!custom_catalog_resource(cat, bad[i], &g, &r), "%s", bad[i]);
}
END_TEST

static void values(const char *resource, const char *metric, const char *ns,
		   const char *const *names, size_t n, const char *sel, int want_rc,
		   struct custom_object_values *out)
{
	char err[256] = "";
	struct selector *s = selector_parse(sel, err, sizeof(err));
	struct custom_object_query q = {
		.group = strchr(resource, '/') ? "apps" : "",
		.resource = strchr(resource, '/') ? strchr(resource, '/') + 1 : resource,
		.metric = metric, .ns = ns, .names = names, .nnames = n, .metric_selector = s,
		.now_ms = NOW,
	};

	ck_assert_ptr_nonnull(s);
	ck_assert_msg(custom_object_values(prov, cat, &q, out, err, sizeof(err)) == want_rc, "%s",
		      err);
	selector_free(s);
}

START_TEST(pod_rates_match_prometheus)
{
	const char *const both[] = { "pod-a", "pod-b", "pod-z" };
	struct custom_object_values v;
	char q[48];

	values("pods", "hello_counter_per_second", "default", both, 3, "", 0, &v);
	ck_assert_uint_eq(v.n, 2); /* pod-z has no value: left out */
	ck_assert_str_eq(v.v[0].name, "pod-a");
	ck_assert_double_eq(v.v[0].value, 9.999999999999998);
	ck_assert_int_eq(v.v[0].t_ms, NOW);
	custom_value_string(v.v[0].value, q, sizeof(q));
	ck_assert_str_eq(q, "9999m"); /* int64(v * 1000) truncates, as the adapter */
	ck_assert_str_eq(v.v[1].name, "pod-b");
	ck_assert_double_eq(v.v[1].value, 2.4999999999999996);
	custom_value_string(v.v[1].value, q, sizeof(q));
	ck_assert_str_eq(q, "2499m");
	custom_object_values_clear(&v);

	values("pods", "hello_counter_per_second", "default", both + 1, 1, "", 0, &v);
	ck_assert_uint_eq(v.n, 1);
	ck_assert_str_eq(v.v[0].name, "pod-b");
	custom_object_values_clear(&v);

	/* the namespace matcher: pod-c lives in kube-system */
	values("pods", "hello_counter_per_second", "default", (const char *const[]){ "pod-c" }, 1,
	       "", 0, &v);
	ck_assert_uint_eq(v.n, 0);
	custom_object_values_clear(&v);

	values("pods", "hello_inflight_requests", "default", both, 3, "", 0, &v);
	ck_assert_uint_eq(v.n, 2);
	ck_assert_double_eq(v.v[0].value, 7);
	ck_assert_double_eq(v.v[1].value, 2);
	custom_object_values_clear(&v);
}
END_TEST

START_TEST(namespace_and_deployment_objects)
{
	struct custom_object_values v;
	char q[48];

	/* root-scoped: the namespace object, summed over its pods */
	values("namespaces", "hello_counter_per_second", NULL,
	       (const char *const[]){ "default", "kube-system" }, 2, "", 0, &v);
	ck_assert_uint_eq(v.n, 2);
	custom_value_string(v.v[0].value, q, sizeof(q));
	ck_assert_str_eq(q, "12499m");
	custom_value_string(v.v[1].value, q, sizeof(q));
	ck_assert_str_eq(q, "2708m"); /* 5 + 45/15 s: the zero clamp shortens the start */
	custom_object_values_clear(&v);

	values("/deployments", "queue_depth", "default", (const char *const[]){ "worker" }, 1, "", 0,
	       &v);
	ck_assert_uint_eq(v.n, 1);
	ck_assert_double_eq(v.v[0].value, 42);
	custom_object_values_clear(&v);
}
END_TEST

START_TEST(errors_and_selectors)
{
	const char *const a[] = { "pod-a" };
	struct custom_object_values v;

	/* unknown metric, or asked root-scoped for a namespaced entry */
	values("pods", "nope", "default", a, 1, "", ERR_NOTFOUND, &v);
	values("pods", "hello_counter_per_second", NULL, a, 1, "", ERR_NOTFOUND, &v);
	/* the series have no "method" label: the matcher selects nothing */
	values("pods", "hello_counter_per_second", "default", a, 1, "method=GET", 0, &v);
	ck_assert_uint_eq(v.n, 0);
	custom_object_values_clear(&v);
	/* != an absent label is true, as in Prometheus */
	values("pods", "hello_counter_per_second", "default", a, 1, "method!=GET", 0, &v);
	ck_assert_uint_eq(v.n, 1);
	custom_object_values_clear(&v);
	values("pods", "hello_counter_per_second", "default", a, 1, "x>1", ERR_INVAL, &v);
}
END_TEST

static void external(const char *metric, const char *ns, const char *sel, int want_rc,
		     struct custom_external_values *out)
{
	char err[256] = "";
	struct selector *s = selector_parse(sel, err, sizeof(err));
	struct custom_external_query q = { ns, metric, s, NOW };

	ck_assert_msg(custom_external_values(prov, cat, &q, out, err, sizeof(err)) == want_rc, "%s",
		      err);
	selector_free(s);
}

START_TEST(external_values)
{
	struct custom_external_values v;

	external("queue_depth", "anywhere", "", 0, &v);
	ck_assert_uint_eq(v.n, 2);
	ck_assert_str_eq(labels_get(&v.v[0].labels, "queue"), "jobs");
	ck_assert_uint_eq(v.v[0].labels.n, 1);
	ck_assert_double_eq(v.v[0].value, 42);
	ck_assert_int_eq(v.v[0].t_ms, NOW);
	ck_assert_str_eq(labels_get(&v.v[1].labels, "queue"), "mail");
	custom_external_values_clear(&v);

	external("queue_depth", "anywhere", "queue=mail", 0, &v);
	ck_assert_uint_eq(v.n, 1);
	ck_assert_double_eq(v.v[0].value, 3.5);
	custom_external_values_clear(&v);

	/* namespaced: the target's namespace="default" holds for both series
	 * (the sample's own namespace label became exported_namespace) */
	external("queue_depth_here", "default", "", 0, &v);
	ck_assert_uint_eq(v.n, 2);
	custom_external_values_clear(&v);
	external("queue_depth_here", "other", "", 0, &v);
	ck_assert_uint_eq(v.n, 0);
	custom_external_values_clear(&v);

	external("nope", "default", "", ERR_NOTFOUND, &v);
}
END_TEST

START_TEST(quantities_as_the_adapter)
{
	static const struct { double v; const char *s; } cases[] = {
		{ 5.914, "5914m" }, { 2, "2" }, { 10.5, "10500m" }, { 2000, "2k" }, { 0.0005, "0" },
		{ -1.5, "-1500m" }, { 0.0339, "33m" }, { NAN, "0" }, { 1e300, "9223372036854775807m" },
	};
	char buf[48];

	for (size_t i = 0; i < COMMON_ARRAY_LEN(cases); i++) {
		custom_value_string(cases[i].v, buf, sizeof(buf));
		ck_assert_str_eq(buf, cases[i].s);
	}
}
END_TEST

START_TEST(catalog_is_cached_and_refreshed)
{
	struct custom_catalog *again = custom_catalog_acquire(prov, NOW + 29999);
	struct custom_catalog *later;
	const struct custom_resource_metric *m;

	/* within two resolutions: the same catalog */
	ck_assert_ptr_eq(again, cat);
	custom_catalog_unref(again);
	/* no round refreshed it for two resolutions: the request rebuilds it
	 * (every pod's newest point is still within the lookback) */
	later = custom_catalog_acquire(prov, NOW + 30000);
	ck_assert_ptr_ne(later, cat);
	ck_assert_uint_eq(custom_catalog_resources(later, &m), 6);
	custom_catalog_unref(later);
	/* a round's refresh past the lookback: nothing exists any more */
	custom_provider_refresh(prov, NOW + 10 * 60 * 1000);
	later = custom_catalog_acquire(prov, NOW + 10 * 60 * 1000 + 1);
	ck_assert_uint_eq(custom_catalog_resources(later, &m), 0);
	custom_catalog_unref(later);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("custom_provider");
	TCase *tc = tcase_create("provider");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, catalog_lists_what_the_adapter_would);
	tcase_add_test(tc, resource_segments_resolve_as_the_restmapper);
	tcase_add_test(tc, pod_rates_match_prometheus);
	tcase_add_test(tc, namespace_and_deployment_objects);
	tcase_add_test(tc, errors_and_selectors);
	tcase_add_test(tc, external_values);
	tcase_add_test(tc, quantities_as_the_adapter);
	tcase_add_test(tc, catalog_is_cached_and_refreshed);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
