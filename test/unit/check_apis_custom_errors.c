/*
 * check_apis_custom_errors.c - apis/custom.c's refusals, each with its
 * exact Status (custom-external.md §1.3, §1.6, §4.2, §7.4): the metric
 * not found forms, bad paths, selector texts, fieldSelector checks, the
 * resources no object lister serves, the provider's failures, methods
 * and Accept.
 */
#include <check.h>
#include <string.h>

#include "test/unit/apis_custom_fixture.h"
#include "test/unit/unit.h"

#define CM1 "/apis/custom.metrics.k8s.io/v1beta1"
#define CM2 "/apis/custom.metrics.k8s.io/v1beta2"
#define RPS "http_requests_per_second"
#define NF(tail) CM_NOT_FOUND("the server could not find the metric " tail)
#define GENERIC_404 \
	STATUS_HEAD "\"message\":\"the server could not find the requested resource\"," \
	"\"reason\":\"NotFound\",\"details\":{},\"code\":404}\n"

START_TEST(test_not_found)
{
	const struct cexchange x[] = {
		/* metric unknown for the group-resource (as written in the URL) */
		{ { .path = CM2 "/namespaces/default/pods/*/nope" }, 404, NF("nope for pods") },
		{ { .path = CM1 "/namespaces/default/pod/web-1/nope" }, 404, NF("nope for pod") },
		{ { .path = CM2 "/namespaces/default/services/*/" RPS }, 404, NF(RPS " for services") },
		{ { .path = CM2 "/namespaces/default/deployments.apps/worker/" RPS }, 404,
		  NF(RPS " for deployments.apps") },
		{ { .path = CM2 "/nodes/node1/" RPS }, 404, NF(RPS " for nodes") },
		/* scope differs from the catalog's (CustomMetricInfo.Namespaced) */
		{ { .path = CM2 "/pods/*/" RPS }, 404, NF(RPS " for pods") },
		{ { .path = CM2 "/pods/web-1/" RPS }, 404, NF(RPS " for pods") },
		{ { .path = CM2 "/namespaces/default/nodes/node1/node_load1" }, 404,
		  NF("node_load1 for nodes") },
		{ { .path = CM2 "/namespaces/default/namespaces/default/" RPS }, 404,
		  NF(RPS " for namespaces") },
		/* a named object without a value, with and without metric selector */
		{ { .path = CM2 "/namespaces/default/pods/db-0/" RPS }, 404, NF(RPS " for pods db-0") },
		{ { .path = CM1 "/nodes/node3/node_load1" }, 404, NF("node_load1 for nodes node3") },
		{ { .path = CM1 "/namespaces/nowhere/metrics/" RPS }, 404,
		  NF(RPS " for namespaces nowhere") },
		{ { .path = CM2 "/namespaces/default/pods/web-1/" RPS,
		    .metric_labels = "verb in (PUT,DELETE)" }, 404,
		  NF(RPS " for pods web-1 with selector verb in (DELETE,PUT)") },
		/* a wildcard over no object */
		{ { .path = CM2 "/namespaces/default/pods/*/" RPS, .labels = "app=nothing" }, 404,
		  NF(RPS " for pods") },
		{ { .path = CM2 "/namespaces/empty/pods/*/" RPS }, 404, NF(RPS " for pods") },
		{ { .path = CM1 "/nodes/*/node_load1", .labels = "zone=c" }, 404,
		  NF("node_load1 for nodes") },
		/* a metric selector the query builder refuses: QueryForMetric's not found */
		{ { .path = CM2 "/namespaces/default/pods/web-1/" RPS, .metric_labels = "code>400" }, 404,
		  NF(RPS " for pods") },
	};

	cm_assert_exchanges(x, COMMON_ARRAY_LEN(x));
}
END_TEST

START_TEST(test_bad_request)
{
	const struct cexchange x[] = {
		/* fewer than three parts after RequestInfo's namespace split */
		{ { .path = CM2 "/namespaces/default/" RPS }, 400,
		  CM_BAD_REQUEST("invalid request path") },
		{ { .path = CM1 "/namespaces/*/" RPS }, 400, CM_BAD_REQUEST("invalid request path") },
		{ { .path = CM2 "/namespaces/default/metrics", .labels = "x=(" }, 400,
		  CM_BAD_REQUEST("invalid request path") },
		/* selectors (common/selector.c's apimachinery texts) */
		{ { .path = CM2 "/namespaces/default/pods/*/" RPS, .labels = "x=(" }, 400,
		  CM_BAD_REQUEST("unable to parse requirement: found '(', expected: identifier") },
		{ { .path = CM2 "/namespaces/default/pods/web-1/" RPS, .labels = "a," }, 400,
		  CM_BAD_REQUEST("found '', expected: identifier after ','") },
		{ { .path = CM2 "/namespaces/default/pods/*/" RPS, .metric_labels = "x in a" }, 400,
		  CM_BAD_REQUEST("unable to parse requirement: found 'a' expected: '('") },
		{ { .path = CM1 "/nodes/node1/node_load1", .metric_labels = "x in (a b)" }, 400,
		  CM_BAD_REQUEST("unable to parse requirement: found 'b', expected: ',' or ')'") },
		/* fieldSelector: only metadata.name, equal to the path's name */
		{ { .path = CM2 "/namespaces/default/pods/web-1/" RPS, .fields = "metadata.name=web-2" },
		  400, CM_BAD_REQUEST("fieldSelector metadata.name doesn't match requested name") },
		{ { .path = CM2 "/namespaces/default/pods/*/" RPS, .fields = "metadata.name=web-1" },
		  400, CM_BAD_REQUEST("fieldSelector metadata.name doesn't match requested name") },
		{ { .path = CM2 "/namespaces/default/pods/web-1/" RPS,
		    .fields = "metadata.namespace=default" },
		  400, CM_BAD_REQUEST("fieldSelector metadata.name doesn't match requested name") },
		{ { .path = CM2 "/namespaces/default/pods/web-1/" RPS, .fields = "metadata.name!=web-1" },
		  400, CM_BAD_REQUEST("fieldSelector metadata.name doesn't match requested name") },
		{ { .path = CM2 "/namespaces/default/pods/web-1/" RPS, .fields = "spec.nodeName=n" },
		  400, CM_BAD_REQUEST("\\\"spec.nodeName\\\" is not a known field selector: only "
				      "\\\"metadata.name\\\", \\\"metadata.namespace\\\"") },
	};

	cm_assert_exchanges(x, COMMON_ARRAY_LEN(x));
}
END_TEST

START_TEST(test_internal)
{
	const struct cexchange x[] = {
		/* no object lister for these (README: custom metrics) */
		{ { .path = CM2 "/namespaces/default/deployments.apps/*/queue_messages_ready" }, 500,
		  CM_INTERNAL("unable to list matching resources") },
		{ { .path = CM2 "/namespaces/*/metrics/" RPS, .labels = "team=a" }, 500,
		  CM_INTERNAL("unable to list matching resources") },
		/* ParseToLabelSelector refuses != when echoing: a plain error, no reason */
		{ { .path = CM2 "/namespaces/default/pods/web-1/" RPS, .metric_labels = "verb!=POST" }, 500,
		  STATUS_HEAD "\"message\":\"\\\"!=\\\" is not a valid label selector operator\","
		  "\"code\":500}\n" },
		/* ... but only for an item it echoes into */
		{ { .path = CM2 "/namespaces/default/pods/*/" RPS, .labels = "app=db",
		    .metric_labels = "verb!=POST" }, 200, CM_LIST("v1beta2", "") },
	};

	cm_assert_exchanges(x, COMMON_ARRAY_LEN(x));
}
END_TEST

START_TEST(test_routes)
{
	const struct cexchange x[] = {
		{ { .path = CM2 "/pods" }, 404, GENERIC_404 },
		{ { .path = CM2 "/pods/web-1" }, 404, GENERIC_404 },
		{ { .path = CM2 "/namespaces/default/pods/web-1" }, 404, GENERIC_404 },
		{ { .path = CM2 "/nodes/node1/a/b" }, 404, GENERIC_404 },
		{ { .path = CM2 "/namespaces/default/pods/web-1/" RPS "/x" }, 404, GENERIC_404 },
		{ { .path = CM2 "/namespaces/default/pods//" RPS }, 404, GENERIC_404 },
		{ { .path = CM1 "/x/y/z/w/v" }, 404, GENERIC_404 },
		{ { .path = CM2 "/namespaces/default/pods/*/" RPS, .method = "POST" }, 405,
		  STATUS_HEAD "\"message\":\"the server does not allow this method on the requested "
		  "resource\",\"reason\":\"MethodNotAllowed\",\"details\":{},\"code\":405}\n" },
		{ { .path = CM2 "/namespaces/default/pods/*/" RPS,
		    .accept = "application/json;as=Table;v=v1;g=meta.k8s.io" }, 406,
		  STATUS_HEAD "\"message\":\"only the following media types are accepted: "
		  "application/json, application/yaml, application/vnd.kubernetes.protobuf\","
		  "\"reason\":\"NotAcceptable\",\"code\":406}\n" },
		{ { .path = CM2 "/namespaces/default/pods/*/" RPS, .accept = "text/html" }, 406,
		  STATUS_HEAD "\"message\":\"only the following media types are accepted: "
		  "application/json, application/yaml, application/vnd.kubernetes.protobuf\","
		  "\"reason\":\"NotAcceptable\",\"code\":406}\n" },
	};

	cm_assert_exchanges(x, COMMON_ARRAY_LEN(x));
}
END_TEST

START_TEST(test_pretty_error)
{
	ck_assert_str_eq(cm_run((struct ccall){ .path = CM2 "/namespaces/default/pods/*/" RPS,
						.labels = "app=nothing", .pretty = true }),
			 "{\n  \"kind\": \"Status\",\n  \"apiVersion\": \"v1\",\n  \"metadata\": {},\n"
			 "  \"status\": \"Failure\",\n  \"message\": \"the server could not find the "
			 "metric " RPS " for pods\",\n  \"reason\": \"NotFound\",\n  \"code\": 404\n}");
	ck_assert_int_eq(resp.status, 404);
	ck_assert_str_eq(cm_run((struct ccall){
				 .path = CM2 "/namespaces/default/deployments.apps/*/queue_messages_ready",
				 .pretty = true }),
			 "{\n  \"kind\": \"Status\",\n  \"apiVersion\": \"v1\",\n  \"metadata\": {},\n"
			 "  \"status\": \"Failure\",\n  \"message\": \"Internal error occurred: unable "
			 "to list matching resources\",\n  \"reason\": \"InternalError\",\n"
			 "  \"details\": {\n    \"causes\": [\n      {\n        \"message\": \"unable to "
			 "list matching resources\"\n      }\n    ]\n  },\n  \"code\": 500\n}");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apis_custom_errors");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, cm_setup, cm_teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_not_found);
	tcase_add_test(tc, test_bad_request);
	tcase_add_test(tc, test_internal);
	tcase_add_test(tc, test_routes);
	tcase_add_test(tc, test_pretty_error);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
