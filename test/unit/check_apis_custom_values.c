/*
 * check_apis_custom_values.c - apis/custom.c and custom_render.c on the
 * answers that succeed: every URL form of custom-external.md §1.3 in both
 * versions (§1.4 shapes), the objects of a wildcard (labelSelector over
 * pod and node labels, namespaces that have pods), resource segments
 * plural, singular and qualified, the metricLabelSelector echo (§4.2),
 * Accept handling, byte for byte against a real custom/ provider.
 */
#include <check.h>
#include <string.h>

#include "test/unit/apis_custom_fixture.h"
#include "test/unit/unit.h"

#define CM1 "/apis/custom.metrics.k8s.io/v1beta1"
#define CM2 "/apis/custom.metrics.k8s.io/v1beta2"
#define RPS "http_requests_per_second"
#define SEL_GET "{\"matchLabels\":{\"verb\":\"GET\"}}"

START_TEST(test_pods)
{
	const struct cexchange x[] = {
		{ { .path = CM2 "/namespaces/default/pods/*/" RPS }, 200,
		  CM_LIST("v1beta2", POD_REF("default", "web-1") V2_ITEM(RPS, "1500m", "null") ","
				     POD_REF("default", "web-2") V2_ITEM(RPS, "250m", "null")) },
		{ { .path = CM1 "/namespaces/default/pods/*/" RPS }, 200,
		  CM_LIST("v1beta1", POD_REF("default", "web-1") V1_ITEM(RPS, "1500m", "null") ","
				     POD_REF("default", "web-2") V1_ITEM(RPS, "250m", "null")) },
		/* labelSelector picks the objects (db-0 has no value anyway). */
		{ { .path = CM2 "/namespaces/default/pods/*/" RPS, .labels = "app=web" }, 200,
		  CM_LIST("v1beta2", POD_REF("default", "web-1") V2_ITEM(RPS, "1500m", "null") ","
				     POD_REF("default", "web-2") V2_ITEM(RPS, "250m", "null")) },
		{ { .path = CM2 "/namespaces/default/pods/*/" RPS, .labels = "app in (web),app!=x",
		    .fields = "metadata.name=*" }, 200,
		  CM_LIST("v1beta2", POD_REF("default", "web-1") V2_ITEM(RPS, "1500m", "null") ","
				     POD_REF("default", "web-2") V2_ITEM(RPS, "250m", "null")) },
		/* Objects that match but have no value: a 200 with no items. */
		{ { .path = CM2 "/namespaces/default/pods/*/" RPS, .labels = "app=db" }, 200,
		  CM_LIST("v1beta2", "") },
		{ { .path = CM2 "/namespaces/other/pods/*/" RPS }, 200,
		  CM_LIST("v1beta2", POD_REF("other", "api-0") V2_ITEM(RPS, "1", "null")) },
		/* One object by name, singular and plural resource. */
		{ { .path = CM1 "/namespaces/default/pods/web-1/" RPS }, 200,
		  CM_LIST("v1beta1", POD_REF("default", "web-1") V1_ITEM(RPS, "1500m", "null")) },
		{ { .path = CM2 "/namespaces/default/pod/web-2/" RPS, .labels = "ignored=for-names",
		    .fields = "metadata.name=web-2" }, 200,
		  CM_LIST("v1beta2", POD_REF("default", "web-2") V2_ITEM(RPS, "250m", "null")) },
		{ { .path = CM2 "/namespaces/default/pods/web-1/" RPS "/" }, 200,
		  CM_LIST("v1beta2", POD_REF("default", "web-1") V2_ITEM(RPS, "1500m", "null")) },
	};

	cm_assert_exchanges(x, COMMON_ARRAY_LEN(x));
}
END_TEST

START_TEST(test_metric_selector)
{
	const struct cexchange x[] = {
		{ { .path = CM2 "/namespaces/default/pods/*/" RPS, .metric_labels = "verb=GET" }, 200,
		  CM_LIST("v1beta2", POD_REF("default", "web-1") V2_ITEM(RPS, "1", SEL_GET) ","
				     POD_REF("default", "web-2") V2_ITEM(RPS, "250m", SEL_GET)) },
		{ { .path = CM1 "/namespaces/default/pods/web-1/" RPS, .metric_labels = "verb==GET" }, 200,
		  CM_LIST("v1beta1", POD_REF("default", "web-1") V1_ITEM(RPS, "1", SEL_GET)) },
		{ { .path = CM1 "/namespaces/default/pods/web-1/" RPS,
		    .metric_labels = "verb in (POST,GET)" }, 200,
		  CM_LIST("v1beta1", POD_REF("default", "web-1") V1_ITEM(RPS, "1500m",
			  "{\"matchExpressions\":[{\"key\":\"verb\",\"operator\":\"In\",\"values\":"
			  "[\"GET\",\"POST\"]}]}")) },
		{ { .path = CM2 "/namespaces/default/pods/web-1/" RPS,
		    .metric_labels = "verb,!zone,pod notin (x),namespace=default" }, 200,
		  CM_LIST("v1beta2", POD_REF("default", "web-1") V2_ITEM(RPS, "1500m",
			  "{\"matchLabels\":{\"namespace\":\"default\"},\"matchExpressions\":["
			  "{\"key\":\"pod\",\"operator\":\"NotIn\",\"values\":[\"x\"]},"
			  "{\"key\":\"verb\",\"operator\":\"Exists\"},"
			  "{\"key\":\"zone\",\"operator\":\"DoesNotExist\"}]}")) },
		/* An empty metricLabelSelector is none. */
		{ { .path = CM2 "/namespaces/default/pods/web-1/" RPS, .metric_labels = "" }, 200,
		  CM_LIST("v1beta2", POD_REF("default", "web-1") V2_ITEM(RPS, "1500m", "null")) },
	};

	cm_assert_exchanges(x, COMMON_ARRAY_LEN(x));
}
END_TEST

START_TEST(test_root_scoped)
{
	const struct cexchange x[] = {
		{ { .path = CM2 "/nodes/node1/node_load1" }, 200,
		  CM_LIST("v1beta2", ROOT_REF("Node", "node1") V2_ITEM("node_load1", "500m", "null")) },
		{ { .path = CM1 "/node/node2/node_load1" }, 200,
		  CM_LIST("v1beta1", ROOT_REF("Node", "node2") V1_ITEM("node_load1", "1250m", "null")) },
		{ { .path = CM2 "/nodes/*/node_load1" }, 200,
		  CM_LIST("v1beta2", ROOT_REF("Node", "node1") V2_ITEM("node_load1", "500m", "null") ","
				     ROOT_REF("Node", "node2") V2_ITEM("node_load1", "1250m", "null")) },
		{ { .path = CM2 "/nodes/*/node_load1", .labels = "zone=a" }, 200,
		  CM_LIST("v1beta2", ROOT_REF("Node", "node1") V2_ITEM("node_load1", "500m", "null")) },
		{ { .path = CM1 "/nodes/*/node_load1", .labels = "zone=b" }, 200,
		  CM_LIST("v1beta1", ROOT_REF("Node", "node2") V1_ITEM("node_load1", "1250m", "null")) },
		/* The Namespace object itself (get.go's rewrite), and all of them. */
		{ { .path = CM2 "/namespaces/default/metrics/" RPS }, 200,
		  CM_LIST("v1beta2", ROOT_REF("Namespace", "default") V2_ITEM(RPS, "1750m", "null")) },
		{ { .path = CM1 "/namespaces/other/metrics/" RPS }, 200,
		  CM_LIST("v1beta1", ROOT_REF("Namespace", "other") V1_ITEM(RPS, "1", "null")) },
		{ { .path = CM2 "/namespaces/*/metrics/" RPS }, 200,
		  CM_LIST("v1beta2", ROOT_REF("Namespace", "default") V2_ITEM(RPS, "1750m", "null") ","
				     ROOT_REF("Namespace", "other") V2_ITEM(RPS, "1", "null")) },
		{ { .path = CM2 "/namespaces/*/metrics/queue_messages_ready" }, 200,
		  CM_LIST("v1beta2", ROOT_REF("Namespace", "default")
			  V2_ITEM("queue_messages_ready", "7", "null")) },
		/* The root-scoped form of namespaces works too (singular here). */
		{ { .path = CM1 "/namespace/default/" RPS }, 200,
		  CM_LIST("v1beta1", ROOT_REF("Namespace", "default") V1_ITEM(RPS, "1750m", "null")) },
	};

	cm_assert_exchanges(x, COMMON_ARRAY_LEN(x));
}
END_TEST

#define WORKER_REF \
	"{\"describedObject\":{\"kind\":\"Deployment\",\"namespace\":\"default\",\"name\":" \
	"\"worker\",\"apiVersion\":\"apps/v1\"}"

START_TEST(test_other_groups)
{
	const struct cexchange x[] = {
		{ { .path = CM2 "/namespaces/default/deployments.apps/worker/queue_messages_ready" }, 200,
		  CM_LIST("v1beta2", WORKER_REF V2_ITEM("queue_messages_ready", "7", "null")) },
		{ { .path = CM1 "/namespaces/default/deployment.apps/worker/queue_messages_ready" }, 200,
		  CM_LIST("v1beta1", WORKER_REF V1_ITEM("queue_messages_ready", "7", "null")) },
	};

	cm_assert_exchanges(x, COMMON_ARRAY_LEN(x));
}
END_TEST

START_TEST(test_accept)
{
	static const char want[] =
		CM_LIST("v1beta2", ROOT_REF("Node", "node1") V2_ITEM("node_load1", "500m", "null"));
	const struct cexchange x[] = {
		/* protobuf first: JSON (custom-external.md §0.11) */
		{ { .path = CM2 "/nodes/node1/node_load1",
		    .accept = "application/vnd.kubernetes.protobuf, */*" }, 200, want },
		/* no table convertor: kubectl get's Table clauses are skipped */
		{ { .path = CM2 "/nodes/node1/node_load1", .accept = KUBECTL_GET_ACCEPT }, 200, want },
		{ { .path = CM2 "/nodes/node1/node_load1", .accept = "application/json, */*" }, 200, want },
	};

	cm_assert_exchanges(x, COMMON_ARRAY_LEN(x));
	ck_assert_str_eq(resp.content_type, "application/json");
	ck_assert_str_eq(cm_run((struct ccall){ .path = CM1 "/nodes/node1/node_load1", .pretty = true }),
			 "{\n  \"kind\": \"MetricValueList\",\n"
			 "  \"apiVersion\": \"custom.metrics.k8s.io/v1beta1\",\n  \"metadata\": {},\n"
			 "  \"items\": [\n    {\n      \"describedObject\": {\n"
			 "        \"kind\": \"Node\",\n        \"name\": \"node1\",\n"
			 "        \"apiVersion\": \"v1\"\n      },\n"
			 "      \"metricName\": \"node_load1\",\n"
			 "      \"timestamp\": \"2021-10-03T09:37:10Z\",\n      \"value\": \"500m\",\n"
			 "      \"selector\": null\n    }\n  ]\n}");
	ck_assert_int_eq(observed, 0);  /* metrics.k8s.io's freshness histogram only */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apis_custom_values");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, cm_setup, cm_teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_pods);
	tcase_add_test(tc, test_metric_selector);
	tcase_add_test(tc, test_root_scoped);
	tcase_add_test(tc, test_other_groups);
	tcase_add_test(tc, test_accept);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
