/*
 * check_apis_metrics.c - apis/metrics.c: the metrics.k8s.io routes and
 * where their objects come from (metrics-server.md §5): lists sorted and
 * filtered by --node-selector, label and field selectors, Running pods
 * only, which NotFound a missing object gets, and the requests the
 * routes refuse (unknown field selectors, watch, POST, unknown paths).
 */
#include <check.h>
#include <string.h>

#include "test/unit/apis_fixture.h"
#include "test/unit/unit.h"

START_TEST(test_node_list_sorted_and_selected)
{
	/* node3 is excluded by --node-selector, node4 has no metrics. */
	ck_assert_str_eq(get("/apis/metrics.k8s.io/v1beta1/nodes"), NODE_LIST(NODE1 "," NODE2));
	ck_assert_int_eq(observed, 2);
	/* a named GET ignores --node-selector */
	run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/nodes/node3" });
	ck_assert_int_eq(resp.status, 200);
	/* label and field selectors */
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/nodes",
					    .labels = "kubernetes.io/os=linux" }),
			 NODE_LIST(NODE1));
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/nodes",
					    .fields = "metadata.name!=node1" }),
			 NODE_LIST(NODE2));
	/* nodes have no metadata.namespace field: it reads as "" */
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/nodes/",
					    .fields = "metadata.namespace=x" }),
			 NODE_LIST(""));
	resp_free();
}
END_TEST

START_TEST(test_pod_lists)
{
	/* web-2 is Pending, db-0 has no metrics. */
	ck_assert_str_eq(get("/apis/metrics.k8s.io/v1beta1/pods"), POD_LIST(WEB1 "," COREDNS));
	ck_assert_str_eq(get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods"), POD_LIST(WEB1));
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/pods",
					    .fields = "metadata.namespace=kube-system" }),
			 POD_LIST(COREDNS));
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/pods",
					    .labels = "app in (web,db)" }),
			 POD_LIST(WEB1));
	ck_assert_str_eq(get("/apis/metrics.k8s.io/v1beta1/namespaces/nope/pods"), POD_LIST(""));
	resp_free();
}
END_TEST

START_TEST(test_not_found_errors)
{
	const struct exchange x[] = {
		{ { .path = "/apis/metrics.k8s.io/v1beta1/nodes/node4" }, 404,
		  STATUS_HEAD "\"message\":\"nodemetrics.metrics.k8s.io \\\"node4\\\" not found\","
		  "\"reason\":\"NotFound\",\"details\":{\"name\":\"node4\",\"group\":"
		  "\"metrics.k8s.io\",\"kind\":\"nodemetrics\"},\"code\":404}\n" },
		{ { .path = "/apis/metrics.k8s.io/v1beta1/nodes/node5" }, 404,
		  STATUS_HEAD "\"message\":\"node \\\"node5\\\" not found\",\"reason\":\"NotFound\","
		  "\"details\":{\"name\":\"node5\",\"kind\":\"node\"},\"code\":404}\n" },
		{ { .path = "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/db-0" }, 404,
		  STATUS_HEAD "\"message\":\"podmetrics.metrics.k8s.io \\\"default/db-0\\\" not "
		  "found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"default/db-0\","
		  "\"group\":\"metrics.k8s.io\",\"kind\":\"podmetrics\"},\"code\":404}\n" },
		/* Pending pods are invisible even with metrics */
		{ { .path = "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web-2" }, 404,
		  STATUS_HEAD "\"message\":\"pods \\\"web-2\\\" not found\",\"reason\":\"NotFound\","
		  "\"details\":{\"name\":\"web-2\",\"kind\":\"pods\"},\"code\":404}\n" },
	};

	assert_exchanges(x, COMMON_ARRAY_LEN(x));
	ck_assert_str_eq(resp.content_type, "application/json");
	ck_assert_int_eq(observed, 0);
	resp_free();
}
END_TEST

/* Requests below /apis/metrics.k8s.io/v1beta1/ the routes refuse (the
 * Accept header's 406 is in check_apis_negotiate, paths outside the group
 * version in check_apis_apis). */
START_TEST(test_request_errors)
{
	static const char generic404[] =
		STATUS_HEAD "\"message\":\"the server could not find the requested resource\","
		"\"reason\":\"NotFound\",\"details\":{},\"code\":404}\n";
	const struct exchange x[] = {
		{ { .path = "/apis/metrics.k8s.io/v1beta1/pods", .fields = "spec.nodeName=node1" }, 400,
		  STATUS_HEAD "\"message\":\"\\\"spec.nodeName\\\" is not a known field selector: "
		  "only \\\"metadata.name\\\", \\\"metadata.namespace\\\"\",\"reason\":"
		  "\"BadRequest\",\"code\":400}\n" },
		{ { .path = "/apis/metrics.k8s.io/v1beta1/nodes", .watch = true }, 405,
		  STATUS_HEAD "\"message\":\"watch is not supported on resources of kind "
		  "\\\"nodes.metrics.k8s.io\\\"\",\"reason\":\"MethodNotAllowed\",\"details\":"
		  "{\"group\":\"metrics.k8s.io\",\"kind\":\"nodes\"},\"code\":405}\n" },
		{ { .method = "POST", .path = "/apis/metrics.k8s.io/v1beta1/nodes" }, 405,
		  STATUS_HEAD "\"message\":\"the server does not allow this method on the "
		  "requested resource\",\"reason\":\"MethodNotAllowed\",\"details\":{},\"code\":405}\n" },
		{ { .path = "/apis/metrics.k8s.io/v1beta1/services" }, 404, generic404 },
		{ { .path = "/apis/metrics.k8s.io/v1beta1/nodes/node1/status" }, 404, generic404 },
		{ { .path = "/apis/metrics.k8s.io/v1beta1/namespaces/default" }, 404, generic404 },
		{ { .path = "/apis/metrics.k8s.io/v1beta1/namespaces//pods" }, 404, generic404 },
	};

	assert_exchanges(x, COMMON_ARRAY_LEN(x));
	/* an unparsable label selector: a 400 Status whose message is the parser's */
	run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/pods", .labels = "a in (" });
	ck_assert_int_eq(resp.status, 400);
	ck_assert_int_eq(strncmp(resp.body.buf, STATUS_HEAD "\"message\":", strlen(STATUS_HEAD) + 10), 0);
	ck_assert_ptr_nonnull(strstr(resp.body.buf, "\"reason\":\"BadRequest\",\"code\":400}\n"));
	run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/namespaces/a/pods", .watch = true });
	ck_assert_ptr_nonnull(strstr(resp.body.buf, "\\\"pods.metrics.k8s.io\\\""));
	resp_free();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apis_metrics");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_node_list_sorted_and_selected);
	tcase_add_test(tc, test_pod_lists);
	tcase_add_test(tc, test_not_found_errors);
	tcase_add_test(tc, test_request_errors);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
