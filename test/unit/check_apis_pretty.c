/*
 * check_apis_pretty.c - ?pretty=true bodies (common/jsonw.c's indent)
 * re-indented as Go's json.Indent (prefix "", indent "  "), with Go's
 * HTML-safe escaping kept, through apis_handle.
 */
#include <check.h>

#include "test/unit/apis_fixture.h"
#include "test/unit/unit.h"

START_TEST(test_pretty)
{
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/nodes/node2",
					    .pretty = true }),
			 "{\n"
			 "  \"kind\": \"NodeMetrics\",\n"
			 "  \"apiVersion\": \"metrics.k8s.io/v1beta1\",\n"
			 "  \"metadata\": {\n"
			 "    \"name\": \"node2\",\n"
			 "    \"creationTimestamp\": \"2021-10-03T09:37:10Z\",\n"
			 "    \"labels\": {\n"
			 "      \"role\": \"\\u003cworker\\u0026\\u003e\"\n"
			 "    }\n"
			 "  },\n"
			 "  \"timestamp\": \"2021-10-03T09:37:04Z\",\n"
			 "  \"window\": \"15s\",\n"
			 "  \"usage\": {\n"
			 "    \"cpu\": \"250m\",\n"
			 "    \"memory\": \"1Gi\"\n"
			 "  }\n"
			 "}");
	ck_assert_str_eq(run((struct call){ .path = "/apis/metrics.k8s.io/v1beta1/namespaces/nope/pods",
					    .pretty = true }),
			 "{\n  \"kind\": \"PodMetricsList\",\n  \"apiVersion\": \"metrics.k8s.io/v1beta1\",\n"
			 "  \"metadata\": {},\n  \"items\": []\n}");
	resp_free();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apis_json_write");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_pretty);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
