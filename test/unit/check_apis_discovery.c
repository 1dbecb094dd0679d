/*
 * check_apis_discovery.c - apis/discovery.c: /apis (legacy APIGroupList
 * and aggregated discovery v2), /apis/metrics.k8s.io,
 * /apis/metrics.k8s.io/v1beta1, /version and /openapi/v2
 * (aggregation.md §3), byte for byte.
 */
#include <check.h>
#include <string.h>

#include "test/unit/apis_fixture.h"
#include "test/unit/unit.h"

START_TEST(test_discovery)
{
	ck_assert_str_eq(get("/apis/metrics.k8s.io/v1beta1"),
			 "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":"
			 "\"metrics.k8s.io/v1beta1\",\"resources\":[{\"name\":\"nodes\",\"singularName\":"
			 "\"\",\"namespaced\":false,\"kind\":\"NodeMetrics\",\"verbs\":[\"get\",\"list\"]},"
			 "{\"name\":\"pods\",\"singularName\":\"\",\"namespaced\":true,\"kind\":"
			 "\"PodMetrics\",\"verbs\":[\"get\",\"list\"]}]}\n");
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(get("/apis"),
			 "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[{\"name\":"
			 "\"metrics.k8s.io\",\"versions\":[{\"groupVersion\":\"metrics.k8s.io/v1beta1\","
			 "\"version\":\"v1beta1\"}],\"preferredVersion\":{\"groupVersion\":"
			 "\"metrics.k8s.io/v1beta1\",\"version\":\"v1beta1\"}}]}\n");
	ck_assert_str_eq(resp.content_type, "application/json");
	ck_assert_str_eq(get("/apis/metrics.k8s.io"),
			 "{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\",\"name\":\"metrics.k8s.io\","
			 "\"versions\":[{\"groupVersion\":\"metrics.k8s.io/v1beta1\",\"version\":"
			 "\"v1beta1\"}],\"preferredVersion\":{\"groupVersion\":\"metrics.k8s.io/v1beta1\","
			 "\"version\":\"v1beta1\"}}\n");
	ck_assert_str_eq(run((struct call){ .path = "/apis",
					    .accept = "application/json;g=apidiscovery.k8s.io;v=v2;"
						      "as=APIGroupDiscoveryList,application/json;"
						      "g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList" }),
			 "{\"kind\":\"APIGroupDiscoveryList\",\"apiVersion\":\"apidiscovery.k8s.io/v2\","
			 "\"metadata\":{},\"items\":[{\"metadata\":{\"name\":\"metrics.k8s.io\","
			 "\"creationTimestamp\":null},\"versions\":[{\"version\":\"v1beta1\",\"resources\":"
			 "[{\"resource\":\"nodes\",\"responseKind\":{\"group\":\"metrics.k8s.io\","
			 "\"version\":\"v1beta1\",\"kind\":\"NodeMetrics\"},\"scope\":\"Cluster\","
			 "\"singularResource\":\"\",\"verbs\":[\"get\",\"list\"]},{\"resource\":\"pods\","
			 "\"responseKind\":{\"group\":\"metrics.k8s.io\",\"version\":\"v1beta1\",\"kind\":"
			 "\"PodMetrics\"},\"scope\":\"Namespaced\",\"singularResource\":\"\",\"verbs\":"
			 "[\"get\",\"list\"]}],\"freshness\":\"Current\"}]}]}\n");
	ck_assert_str_eq(resp.content_type,
			 "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
	/* only v2beta1 asked: the legacy list (the aggregator then falls back) */
	run((struct call){ .path = "/apis", .accept = "application/json;g=apidiscovery.k8s.io;"
						      "v=v2beta1;as=APIGroupDiscoveryList,application/json" });
	ck_assert_str_eq(resp.content_type, "application/json");
	ck_assert_int_eq(strncmp(resp.body.buf, "{\"kind\":\"APIGroupList\"", 22), 0);
	run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1",
			   .accept = "application/json;as=Table;v=v1;g=meta.k8s.io" });
	ck_assert_int_eq(resp.status, 406);
	run((struct call){ .method = "DELETE", .path = "/apis/metrics.k8s.io/v1beta1" });
	ck_assert_int_eq(resp.status, 405);
	resp_free();
}
END_TEST

START_TEST(test_version_and_openapi)
{
	ck_assert_str_eq(get("/version"),
			 "{\n  \"major\": \"0\",\n  \"minor\": \"1\",\n  \"gitVersion\": \"v0.1.0\",\n"
			 "  \"gitCommit\": \"\",\n  \"gitTreeState\": \"\",\n"
			 "  \"buildDate\": \"1970-01-01T00:00:00Z\",\n  \"goVersion\": \"\",\n"
#if defined(__clang__)
			 "  \"compiler\": \"clang\",\n"
#else
			 "  \"compiler\": \"gcc\",\n"
#endif
#if defined(__x86_64__)
			 "  \"platform\": \"linux/amd64\"\n}"
#else
			 "  \"platform\": \"linux/arm64\"\n}"
#endif
	);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(get("/openapi/v2"), "{\"swagger\":\"2.0\",\"info\":{\"title\":\"Kubernetes "
					     "metrics-server\",\"version\":\"v0.1.0\"},\"paths\":{}}");
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(resp.content_type, "application/json");
	resp_free();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apis_discovery");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_discovery);
	tcase_add_test(tc, test_version_and_openapi);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
