/*
 * check_apis_custom_external.c - apis/external.c and the
 * ExternalMetricValueList of custom_render.c (custom-external.md §2):
 * values with and without labelSelector, a known metric with no series,
 * prometheus-adapter's not-found text (its group-resource "namespaces" in
 * namespace default, "" elsewhere), selector errors, watch, routes.
 */
#include <check.h>
#include <string.h>

#include "test/unit/apis_custom_fixture.h"
#include "test/unit/unit.h"

#define EM "/apis/external.metrics.k8s.io/v1beta1"
#define ITEM(queue, value) \
	"{\"metricName\":\"queue_depth\",\"metricLabels\":{\"queue\":\"" queue "\"}," \
	"\"timestamp\":\"" CM_TS "\",\"value\":\"" value "\"}"
#define GENERIC_404 \
	STATUS_HEAD "\"message\":\"the server could not find the requested resource\"," \
	"\"reason\":\"NotFound\",\"details\":{},\"code\":404}\n"

START_TEST(test_values)
{
	const struct cexchange x[] = {
		{ { .path = EM "/namespaces/default/queue_depth" }, 200,
		  EM_LIST(ITEM("jobs", "30") "," ITEM("orders", "1500")) },
		/* namespaced: false: any namespace sees the same series */
		{ { .path = EM "/namespaces/other/queue_depth",
		    .accept = "application/vnd.kubernetes.protobuf, */*" }, 200,
		  EM_LIST(ITEM("jobs", "30") "," ITEM("orders", "1500")) },
		{ { .path = EM "/namespaces/default/queue_depth", .labels = "queue=orders" }, 200,
		  EM_LIST(ITEM("orders", "1500")) },
		{ { .path = EM "/namespaces/default/queue_depth/", .labels = "queue in (jobs)" }, 200,
		  EM_LIST(ITEM("jobs", "30")) },
		{ { .path = EM "/namespaces/default/queue_depth", .labels = "queue notin (jobs)",
		    .fields = "metadata.namespace=default" }, 200,
		  EM_LIST(ITEM("orders", "1500")) },
		/* a known metric with no series: 200, no items */
		{ { .path = EM "/namespaces/default/queue_depth", .labels = "queue=none" }, 200,
		  EM_LIST("") },
		{ { .path = EM "/namespaces/default/queue_depth", .accept = KUBECTL_GET_ACCEPT }, 200,
		  EM_LIST(ITEM("jobs", "30") "," ITEM("orders", "1500")) },
	};

	cm_assert_exchanges(x, COMMON_ARRAY_LEN(x));
	ck_assert_str_eq(resp.content_type, "application/json");
}
END_TEST

START_TEST(test_errors)
{
	const struct cexchange x[] = {
		{ { .path = EM "/namespaces/default/nope" }, 404,
		  CM_NOT_FOUND("the server could not find the metric nope for namespaces") },
		{ { .path = EM "/namespaces/other/nope" }, 404,
		  CM_NOT_FOUND("the server could not find the metric nope for ") },
		{ { .path = EM "/namespaces/default/nope", .empty = true }, 404,
		  CM_NOT_FOUND("the server could not find the metric nope for namespaces") },
		{ { .path = EM "/namespaces/default/queue_depth", .labels = "queue in (a" }, 400,
		  CM_BAD_REQUEST("unable to parse requirement: found '', expected: ',' or ')'") },
		{ { .path = EM "/namespaces/default/queue_depth", .fields = "spec.x=1" }, 400,
		  CM_BAD_REQUEST("\\\"spec.x\\\" is not a known field selector: only "
				 "\\\"metadata.name\\\", \\\"metadata.namespace\\\"") },
		/* the query builder refuses > and <: unable to fetch metrics */
		{ { .path = EM "/namespaces/default/queue_depth", .labels = "size>3" }, 500,
		  CM_INTERNAL("unable to fetch metrics") },
		{ { .path = EM "/namespaces/default/queue_depth", .watch = true }, 405,
		  STATUS_HEAD "\"message\":\"watch is not supported on resources of kind "
		  "\\\"*.external.metrics.k8s.io\\\"\",\"reason\":\"MethodNotAllowed\",\"details\":"
		  "{\"group\":\"external.metrics.k8s.io\",\"kind\":\"*\"},\"code\":405}\n" },
		{ { .path = EM "/namespaces/default/queue_depth", .method = "DELETE" }, 405,
		  STATUS_HEAD "\"message\":\"the server does not allow this method on the requested "
		  "resource\",\"reason\":\"MethodNotAllowed\",\"details\":{},\"code\":405}\n" },
		{ { .path = EM "/namespaces/default" }, 404, GENERIC_404 },
		{ { .path = EM "/queue_depth" }, 404, GENERIC_404 },
		{ { .path = EM "/namespaces/default/queue_depth/x" }, 404, GENERIC_404 },
		{ { .path = EM "/nodes/default/queue_depth" }, 404, GENERIC_404 },
		{ { .path = EM "/namespaces/default/queue_depth", .none = true }, 404,
		  "404 page not found\n" },
	};

	cm_assert_exchanges(x, COMMON_ARRAY_LEN(x));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apis_custom_external");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, cm_setup, cm_teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
