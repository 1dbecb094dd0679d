/*
 * check_apis_negotiate.c - apis/negotiate.c: the Accept header decides
 * what is rendered (aggregation.md §5.4): JSON for any serializer type
 * (protobuf clients included, with Content-Type application/json),
 * Tables only where allowed and asked for, 406 when nothing is
 * acceptable.
 */
#include <check.h>
#include <string.h>

#include "apis/apis_int.h"
#include "test/unit/apis_fixture.h"
#include "test/unit/unit.h"

START_TEST(test_protobuf_accept_gets_json)
{
	run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/nodes/node1",
			   .accept = "application/vnd.kubernetes.protobuf, */*" });
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(resp.content_type, "application/json");
	ck_assert_int_eq(strncmp(resp.body.buf, "{\"kind\":\"NodeMetrics\"", 21), 0);
	resp_free();
}
END_TEST

/* Through apis_handle: nothing acceptable, and a Table-only Accept. */
START_TEST(test_accept_errors)
{
	const struct exchange x[] = {
		{ { .path = "/apis/metrics.k8s.io/v1beta1/nodes",
		    .accept = "text/html, application/json;as=Other;g=x;v=v1, application/json;q=0" }, 406,
		  STATUS_HEAD "\"message\":\"only the following media types are accepted: "
		  "application/json, application/yaml, application/vnd.kubernetes.protobuf\","
		  "\"reason\":\"NotAcceptable\",\"code\":406}\n" },
	};

	assert_exchanges(x, COMMON_ARRAY_LEN(x));
	run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/nodes",
			   .accept = "application/json;as=Table;v=v1;g=meta.k8s.io" });
	ck_assert_int_eq(resp.status, 200);  /* a Table-only Accept gets a Table */
	resp_free();
}
END_TEST

/* apis__negotiate() on aggregation.md §5.4's Accept headers. */
START_TEST(test_negotiate_summary_table)
{
	static const char table_only[] = "application/json;as=Table;v=v1;g=meta.k8s.io";

	/* kubectl top, HPA */
	ck_assert_int_eq(apis__negotiate("application/vnd.kubernetes.protobuf, */*", true, false),
			 MEDIA_JSON);
	/* kubectl get: a Table where allowed, else the plain list */
	ck_assert_int_eq(apis__negotiate(KUBECTL_GET_ACCEPT, true, false), MEDIA_TABLE_V1);
	ck_assert_int_eq(apis__negotiate(KUBECTL_GET_ACCEPT, false, false), MEDIA_JSON);
	/* only Table clauses where Tables are not served: 406 (§4.5) */
	ck_assert_int_eq(apis__negotiate(table_only, false, false), MEDIA_NONE);
	/* kubectl get --raw, the availability probe (no Accept) */
	ck_assert_int_eq(apis__negotiate("application/json, */*", true, false), MEDIA_JSON);
	ck_assert_int_eq(apis__negotiate(NULL, true, true), MEDIA_JSON);
	ck_assert_int_eq(apis__negotiate("", true, true), MEDIA_JSON);
	/* aggregator discovery: v2 where allowed (aggregation.md §3.2) */
	ck_assert_int_eq(apis__negotiate("application/json;g=apidiscovery.k8s.io;v=v2;"
					"as=APIGroupDiscoveryList,application/json;"
					"g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
					false, true),
			 MEDIA_DISCOVERY_V2);
	/* aggregator legacy discovery */
	ck_assert_int_eq(apis__negotiate("application/json", false, true), MEDIA_JSON);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apis_negotiate");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_protobuf_accept_gets_json);
	tcase_add_test(tc, test_accept_errors);
	tcase_add_test(tc, test_negotiate_summary_table);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
