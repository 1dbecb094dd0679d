/*
 * check_apis_custom_discovery.c - apis/custom_discovery.c and the /apis
 * additions of discovery.c: the custom and external groups in the legacy
 * APIGroupList and the aggregated v2 list, their APIGroup documents, the
 * APIResourceLists of the catalog (custom-external.md §1.1, §1.2, §2) and
 * the default providers' placeholders for an empty catalog, byte for
 * byte; without a provider nothing of them is served.
 */
#include <check.h>
#include <string.h>

#include "test/unit/apis_custom_fixture.h"
#include "test/unit/unit.h"

#define GV(g, v) "{\"groupVersion\":\"" g "/" v "\",\"version\":\"" v "\"}"
#define METRICS_GROUP \
	"{\"name\":\"metrics.k8s.io\",\"versions\":[" GV("metrics.k8s.io", "v1beta1") "]," \
	"\"preferredVersion\":" GV("metrics.k8s.io", "v1beta1") "}"
#define CM_GROUP_BODY                                                                          \
	"\"name\":\"custom.metrics.k8s.io\",\"versions\":[" GV("custom.metrics.k8s.io", "v1beta2") \
	"," GV("custom.metrics.k8s.io", "v1beta1") "],\"preferredVersion\":"                      \
	GV("custom.metrics.k8s.io", "v1beta2")
#define EM_GROUP_BODY                                                                        \
	"\"name\":\"external.metrics.k8s.io\",\"versions\":["                                  \
	GV("external.metrics.k8s.io", "v1beta1") "],\"preferredVersion\":"                     \
	GV("external.metrics.k8s.io", "v1beta1")

#define RES(name, ns) \
	"{\"name\":\"" name "\",\"singularName\":\"\",\"namespaced\":" ns ",\"kind\":" \
	"\"MetricValueList\",\"verbs\":[\"get\"]}"
#define CM_RESOURCES                                               \
	RES("deployments.apps/queue_messages_ready", "true") ","    \
	RES("namespaces/http_requests_per_second", "false") ","    \
	RES("namespaces/queue_messages_ready", "false") ","        \
	RES("nodes/node_load1", "false") ","                       \
	RES("pods/http_requests_per_second", "true")
#define RESOURCE_LIST(gv, resources) \
	"{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"" gv "\"," \
	"\"resources\":[" resources "]}\n"
#define EM_RES(name) \
	"{\"name\":\"" name "\",\"singularName\":\"\",\"namespaced\":true,\"kind\":" \
	"\"ExternalMetricValueList\",\"verbs\":[\"get\"]}"

#define V2_ACCEPT "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList," \
	"application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
#define KIND(k) "\"responseKind\":{\"group\":\"\",\"version\":\"\",\"kind\":\"" k "\"}"
#define PARENT(r, scope, subs) \
	"{\"resource\":\"" r "\"," KIND("") ",\"scope\":\"" scope "\",\"singularResource\":\"\"," \
	"\"verbs\":null,\"subresources\":[" subs "]}"
#define SUB(name) "{\"subresource\":\"" name "\"," KIND("MetricValueList") ",\"verbs\":[\"get\"]}"
#define CM_V2_RESOURCES                                                                       \
	PARENT("deployments.apps", "Namespaced", SUB("queue_messages_ready")) ","                \
	PARENT("namespaces", "Cluster", SUB("http_requests_per_second") "," SUB("queue_messages_ready")) \
	"," PARENT("nodes", "Cluster", SUB("node_load1")) ","                                     \
	PARENT("pods", "Namespaced", SUB("http_requests_per_second"))
#define V2_VERSION(v, res) "{\"version\":\"" v "\",\"resources\":[" res "],\"freshness\":\"Current\"}"
#define V2_GROUP(name, versions) \
	"{\"metadata\":{\"name\":\"" name "\",\"creationTimestamp\":null},\"versions\":[" versions "]}"
#define EM_V2_RES(name) \
	"{\"resource\":\"" name "\"," KIND("ExternalMetricValueList") ",\"scope\":\"Namespaced\"," \
	"\"singularResource\":\"\",\"verbs\":[\"get\"]}"
/* metrics.k8s.io's own item (check_apis_discovery). */
#define METRICS_V2_ITEM                                                                          \
	"{\"metadata\":{\"name\":\"metrics.k8s.io\",\"creationTimestamp\":null},\"versions\":["    \
	"{\"version\":\"v1beta1\",\"resources\":[{\"resource\":\"nodes\",\"responseKind\":"        \
	"{\"group\":\"metrics.k8s.io\",\"version\":\"v1beta1\",\"kind\":\"NodeMetrics\"},"        \
	"\"scope\":\"Cluster\",\"singularResource\":\"\",\"verbs\":[\"get\",\"list\"]},"          \
	"{\"resource\":\"pods\",\"responseKind\":{\"group\":\"metrics.k8s.io\",\"version\":"      \
	"\"v1beta1\",\"kind\":\"PodMetrics\"},\"scope\":\"Namespaced\",\"singularResource\":\"\"," \
	"\"verbs\":[\"get\",\"list\"]}],\"freshness\":\"Current\"}]}"
#define V2_LIST(items) \
	"{\"kind\":\"APIGroupDiscoveryList\",\"apiVersion\":\"apidiscovery.k8s.io/v2\"," \
	"\"metadata\":{},\"items\":[" items "]}\n"

START_TEST(test_group_list)
{
	ck_assert_str_eq(cm_get("/apis"),
			 "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[" METRICS_GROUP
			 ",{" CM_GROUP_BODY "},{" EM_GROUP_BODY "}]}\n");
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(resp.content_type, "application/json");
	/* Without a provider, /apis is metrics.k8s.io's alone. */
	ck_assert_str_eq(cm_run((struct ccall){ .path = "/apis", .none = true }),
			 "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[" METRICS_GROUP
			 "]}\n");
}
END_TEST

START_TEST(test_groups)
{
	const struct cexchange x[] = {
		{ { .path = "/apis/custom.metrics.k8s.io" }, 200,
		  "{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\"," CM_GROUP_BODY "}\n" },
		{ { .path = "/apis/custom.metrics.k8s.io/" }, 200,
		  "{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\"," CM_GROUP_BODY "}\n" },
		{ { .path = "/apis/external.metrics.k8s.io" }, 200,
		  "{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\"," EM_GROUP_BODY "}\n" },
		{ { .path = "/apis/custom.metrics.k8s.io", .method = "POST" }, 405,
		  STATUS_HEAD "\"message\":\"the server does not allow this method on the requested "
		  "resource\",\"reason\":\"MethodNotAllowed\",\"details\":{},\"code\":405}\n" },
		{ { .path = "/apis/custom.metrics.k8s.io/v1beta2",
		    .accept = "application/json;as=Table;v=v1;g=meta.k8s.io" }, 406,
		  STATUS_HEAD "\"message\":\"only the following media types are accepted: "
		  "application/json, application/yaml, application/vnd.kubernetes.protobuf\","
		  "\"reason\":\"NotAcceptable\",\"code\":406}\n" },
		{ { .path = "/apis/custom.metrics.k8s.io", .none = true }, 404, "404 page not found\n" },
		{ { .path = "/apis/external.metrics.k8s.io/v1beta1", .none = true }, 404,
		  "404 page not found\n" },
		{ { .path = "/apis/custom.metrics.k8s.io/v1beta2/nodes/node1/node_load1", .none = true },
		  404, "404 page not found\n" },
		{ { .path = "/apis/custom.metrics.k8s.io/v1", }, 404, "404 page not found\n" },
	};

	cm_assert_exchanges(x, COMMON_ARRAY_LEN(x));
}
END_TEST

START_TEST(test_resource_lists)
{
	const struct cexchange x[] = {
		{ { .path = "/apis/custom.metrics.k8s.io/v1beta1" }, 200,
		  RESOURCE_LIST("custom.metrics.k8s.io/v1beta1", CM_RESOURCES) },
		{ { .path = "/apis/custom.metrics.k8s.io/v1beta2/" }, 200,
		  RESOURCE_LIST("custom.metrics.k8s.io/v1beta2", CM_RESOURCES) },
		{ { .path = "/apis/external.metrics.k8s.io/v1beta1",
		    .accept = "application/vnd.kubernetes.protobuf, */*" }, 200,
		  RESOURCE_LIST("external.metrics.k8s.io/v1beta1", EM_RES("queue_depth")) },
		/* Never an empty list: the default providers' placeholders. */
		{ { .path = "/apis/custom.metrics.k8s.io/v1beta2", .empty = true }, 200,
		  RESOURCE_LIST("custom.metrics.k8s.io/v1beta2", RES("/custommetrics", "false")) },
		{ { .path = "/apis/external.metrics.k8s.io/v1beta1", .empty = true }, 200,
		  RESOURCE_LIST("external.metrics.k8s.io/v1beta1", EM_RES("externalmetrics")) },
	};

	cm_assert_exchanges(x, COMMON_ARRAY_LEN(x));
}
END_TEST

START_TEST(test_aggregated)
{
	ck_assert_str_eq(cm_run((struct ccall){ .path = "/apis", .accept = V2_ACCEPT }),
			 V2_LIST(METRICS_V2_ITEM ","
				 V2_GROUP("custom.metrics.k8s.io",
					  V2_VERSION("v1beta2", CM_V2_RESOURCES) ","
					  V2_VERSION("v1beta1", CM_V2_RESOURCES)) ","
				 V2_GROUP("external.metrics.k8s.io",
					  V2_VERSION("v1beta1", EM_V2_RES("queue_depth")))));
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(resp.content_type,
			 "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
	ck_assert_str_eq(cm_run((struct ccall){ .path = "/apis", .accept = V2_ACCEPT, .empty = true }),
			 V2_LIST(METRICS_V2_ITEM ","
				 V2_GROUP("custom.metrics.k8s.io",
					  V2_VERSION("v1beta2", PARENT("", "Cluster", SUB("custommetrics"))) ","
					  V2_VERSION("v1beta1", PARENT("", "Cluster", SUB("custommetrics")))) ","
				 V2_GROUP("external.metrics.k8s.io",
					  V2_VERSION("v1beta1", EM_V2_RES("externalmetrics")))));
}
END_TEST

START_TEST(test_pretty)
{
	ck_assert_str_eq(cm_run((struct ccall){ .path = "/apis/external.metrics.k8s.io/v1beta1",
						.pretty = true }),
			 "{\n  \"kind\": \"APIResourceList\",\n  \"apiVersion\": \"v1\",\n"
			 "  \"groupVersion\": \"external.metrics.k8s.io/v1beta1\",\n"
			 "  \"resources\": [\n    {\n      \"name\": \"queue_depth\",\n"
			 "      \"singularName\": \"\",\n      \"namespaced\": true,\n"
			 "      \"kind\": \"ExternalMetricValueList\",\n      \"verbs\": [\n"
			 "        \"get\"\n      ]\n    }\n  ]\n}");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apis_custom_discovery");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, cm_setup, cm_teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_group_list);
	tcase_add_test(tc, test_groups);
	tcase_add_test(tc, test_resource_lists);
	tcase_add_test(tc, test_aggregated);
	tcase_add_test(tc, test_pretty);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
