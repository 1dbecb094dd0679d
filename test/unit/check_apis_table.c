/*
 * check_apis_table.c - apis/table.c: meta.k8s.io Tables for kubectl get
 * (metrics-server.md §5.4, aggregation.md §4.5): columns, per-pod sums,
 * includeObject Metadata / None / Object, the empty Table, and an
 * unknown includeObject.
 */
#include <check.h>

#include "test/unit/apis_fixture.h"
#include "test/unit/unit.h"

#define TABLE_COLS                                                                              \
	"\"columnDefinitions\":[{\"name\":\"Name\",\"type\":\"string\",\"format\":\"name\","      \
	"\"description\":\"Name of the resource\",\"priority\":0},{\"name\":\"cpu\",\"type\":"    \
	"\"string\",\"format\":\"quantity\",\"description\":\"\",\"priority\":0},{\"name\":"      \
	"\"memory\",\"type\":\"string\",\"format\":\"quantity\",\"description\":\"\","            \
	"\"priority\":0},{\"name\":\"Window\",\"type\":\"string\",\"format\":\"duration\","       \
	"\"description\":\"\",\"priority\":0}]"

START_TEST(test_table_nodes_metadata)
{
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/nodes",
					    .labels = "kubernetes.io/os=linux",
					    .accept = KUBECTL_GET_ACCEPT }),
			 "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":{},"
			 TABLE_COLS ",\"rows\":[{\"cells\":[\"node1\",\"476038624n\",\"2008740Ki\","
			 "\"15s\"],\"object\":{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":"
			 "\"meta.k8s.io/v1\"," NODE1_META "}}]}\n");
	ck_assert_str_eq(resp.content_type, "application/json");
	resp_free();
}
END_TEST

START_TEST(test_table_pods_sum_and_include)
{
	const char *accept = "application/json;as=Table;v=v1beta1;g=meta.k8s.io";

	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods",
					    .accept = accept, .include = "None" }),
			 "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1beta1\",\"metadata\":{},"
			 TABLE_COLS ",\"rows\":[{\"cells\":[\"web-1\",\"10m\",\"5Mi\",\"10s\"]}]}\n");
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web-1",
					    .accept = KUBECTL_GET_ACCEPT, .include = "Object" }),
			 "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":{},"
			 TABLE_COLS ",\"rows\":[{\"cells\":[\"web-1\",\"10m\",\"5Mi\",\"10s\"],"
			 "\"object\":{\"kind\":\"PodMetrics\",\"apiVersion\":\"metrics.k8s.io/v1beta1\","
			 WEB1_META "," WEB1_REST "}}]}\n");
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/namespaces/nope/pods",
					    .accept = KUBECTL_GET_ACCEPT }),
			 "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":{},"
			 "\"columnDefinitions\":null,\"rows\":null}\n");
	run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/nodes", .accept = KUBECTL_GET_ACCEPT,
			   .include = "Everything" });
	ck_assert_int_eq(resp.status, 400);
	ck_assert_str_eq(resp.body.buf,
			 "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
			 "\"message\":\"unrecognized includeObject value: \\\"Everything\\\"\","
			 "\"reason\":\"BadRequest\",\"code\":400}\n");
	resp_free();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apis_table");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_table_nodes_metadata);
	tcase_add_test(tc, test_table_pods_sum_and_include);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
