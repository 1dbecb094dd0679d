/*
 * check_scraper_apptargets_list.c - scraper_app_targets(): annotated
 * Running pods with an IP (scheme, port, path rules, Prometheus'
 * kubernetes-pods labels), static targets (instance and job defaults),
 * order by key and the first of a repeated key.
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "scraper/scraper.h"
#include "test/unit/unit.h"

static struct kube_pod pod(const char *ns, const char *name, const char *phase, const char *ip,
			   const char *scrape, const char *port, const char *path,
			   const char *scheme)
{
	return (struct kube_pod){.ns = (char *)ns, .name = (char *)name, .phase = (char *)phase,
				 .ip = (char *)ip, .prom_scrape = (char *)scrape,
				 .prom_port = (char *)port, .prom_path = (char *)path,
				 .prom_scheme = (char *)scheme, .node_name = (char *)"n1"};
}

START_TEST(pods_and_statics)
{
	struct kube_pod pods[] = {
		pod("a", "plain", "Running", "10.0.0.1", "true", "8080", NULL, NULL),
		pod("a", "tls", "Running", "fd00::7", "true", "9443", "stats", "https"),
		pod("b", "pending", "Pending", "10.0.0.2", "true", "8080", NULL, NULL),
		pod("b", "noip", "Running", "", "true", "8080", NULL, NULL),
		pod("b", "off", "Running", "10.0.0.3", "false", "8080", NULL, NULL),
		pod("b", "noport", "Running", "10.0.0.4", "true", NULL, NULL, NULL),
		pod("b", "badport", "Running", "10.0.0.5", "true", "80x", NULL, NULL),
		pod("b", "bigport", "Running", "10.0.0.5", "true", "65536", NULL, NULL),
		pod("b", "ftp", "Running", "10.0.0.6", "true", "21", NULL, "ftp"),
		pod("c", "path", "Running", "10.0.0.7", "true", "1", "/x/metrics?y=1", "http"),
	};
	const struct kube_pod *ptrs[10];
	struct kube_snapshot k = {.pods = ptrs, .npods = 10, .synced = true};
	struct scraper_app_target st[3] = {
		{.key = "queue", .url = "http://127.0.0.1:9000/metrics"},
		{.key = "a/plain", .url = "http://dup:1/"},
		{.key = "db", .url = "https://db.example:9187/m"},
	};
	struct scraper_app_target *t;
	size_t n;

	for (size_t i = 0; i < 10; i++)
		ptrs[i] = &pods[i];
	for (size_t i = 0; i < 3; i++)
		labels_init(&st[i].labels);
	labels_set(&st[2].labels, "job", "postgres");
	scraper_app_targets(&k, NULL, st, 3, &t, &n);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(t[0].key, "a/plain");
	ck_assert_str_eq(t[0].url, "http://10.0.0.1:8080/metrics");
	ck_assert_str_eq(labels_get(&t[0].labels, "namespace"), "a");
	ck_assert_str_eq(labels_get(&t[0].labels, "pod"), "plain");
	ck_assert_str_eq(labels_get(&t[0].labels, "job"), "kubernetes-pods");
	ck_assert_str_eq(labels_get(&t[0].labels, "instance"), "10.0.0.1:8080");
	ck_assert_str_eq(t[1].key, "a/tls");
	ck_assert_str_eq(t[1].url, "https://[fd00::7]:9443/stats");
	ck_assert_str_eq(labels_get(&t[1].labels, "instance"), "[fd00::7]:9443");
	ck_assert_str_eq(t[2].key, "c/path");
	ck_assert_str_eq(t[2].url, "http://10.0.0.7:1/x/metrics?y=1");
	ck_assert_str_eq(t[3].key, "db");
	ck_assert_str_eq(labels_get(&t[3].labels, "job"), "postgres");
	ck_assert_str_eq(labels_get(&t[3].labels, "instance"), "db.example:9187");
	ck_assert_str_eq(t[4].key, "queue");
	ck_assert_str_eq(labels_get(&t[4].labels, "job"), "queue");
	ck_assert_str_eq(labels_get(&t[4].labels, "instance"), "127.0.0.1:9000");
	ck_assert_ptr_null(labels_get(&t[4].labels, "pod"));
	scraper_app_targets_free(t, n);
	scraper_app_targets(&k, "apps", NULL, 0, &t, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(labels_get(&t[0].labels, "job"), "apps");
	scraper_app_targets_free(t, n);
	scraper_app_targets(NULL, NULL, NULL, 0, &t, &n);
	ck_assert_uint_eq(n, 0);
	scraper_app_targets_free(t, n);
	for (size_t i = 0; i < 3; i++)
		labels_clear(&st[i].labels);
}
END_TEST

/* The pod informer keeps status.podIP and the prometheus.io annotations. */
START_TEST(from_pod_json)
{
	json_error_t je;
	json_t *pods = json_loads(
		"{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"namespace\":\"ns\","
		"\"name\":\"web\",\"creationTimestamp\":\"2023-11-14T22:13:20Z\","
		"\"annotations\":{\"prometheus.io/scrape\":\"true\",\"prometheus.io/port\":\"8080\","
		"\"prometheus.io/path\":\"/m\",\"prometheus.io/scheme\":\"https\"}},"
		"\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\","
		"\"podIP\":\"10.1.2.3\"}}]}", 0, &je);
	struct kube_snapshot *k;
	struct scraper_app_target *t;
	size_t n;

	ck_assert_ptr_nonnull(pods);
	k = kube_snapshot_from_lists(NULL, pods);
	scraper_app_targets(k, NULL, NULL, 0, &t, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(t[0].key, "ns/web");
	ck_assert_str_eq(t[0].url, "https://10.1.2.3:8080/m");
	scraper_app_targets_free(t, n);
	kube_snapshot_unref(k);
	json_decref(pods);
}
END_TEST

static Suite *list_suite(void)
{
	Suite *s = suite_create("scraper_apptargets_list");
	TCase *tc = tcase_create("list");

	tcase_add_test(tc, pods_and_statics);
	tcase_add_test(tc, from_pod_json);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(list_suite());
}
