/*
 * check_apis_render.c - apis/render.c: NodeMetrics and PodMetrics objects
 * byte for byte (metrics-server.md §5.3's worked example, through
 * apis_handle), and the cpu and memory quantities as metrics-server
 * builds them (aggregation.md §6.3's worked examples).
 */
#include <check.h>

#include "apis/apis_int.h"
#include "test/unit/apis_fixture.h"
#include "test/unit/unit.h"

START_TEST(test_node_get_worked_example)
{
	ck_assert_str_eq(get("/apis/metrics.k8s.io/v1beta1/nodes/node1"),
			 "{\"kind\":\"NodeMetrics\",\"apiVersion\":\"metrics.k8s.io/v1beta1\","
			 NODE1_META "," NODE1_REST "}\n");
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(resp.content_type, "application/json");
	ck_assert_int_eq(observed, 1);
	resp_free();
}
END_TEST

START_TEST(test_pod_get_worked_example)
{
	ck_assert_str_eq(get("/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods/coredns-558bd4d5db-4dpjz"),
			 "{\"kind\":\"PodMetrics\",\"apiVersion\":\"metrics.k8s.io/v1beta1\","
			 COREDNS_META "," COREDNS_REST "}\n");
	ck_assert_int_eq(resp.status, 200);
	resp_free();
}
END_TEST

/* NewScaledQuantity(nanocores, -9) DecimalSI and (bytes, 0) BinarySI. */
START_TEST(test_quantity_strings)
{
	static const struct {
		uint64_t v;
		const char *want;
	} cpu[] = {
		{ 0, "0" }, { 1, "1n" }, { 999, "999n" }, { 1000, "1u" }, { 1500, "1500n" },
		{ 10000, "10u" }, { 12000000, "12m" }, { 123456789, "123456789n" },
		{ 250000000, "250m" }, { 1000000000, "1" }, { 1500000000, "1500m" },
		{ UINT64_C(2000000000000), "2k" },
	}, mem[] = {
		{ 0, "0" }, { 512, "512" }, { 1000, "1k" }, { 1023, "1023" }, { 1024, "1Ki" },
		{ 1536, "1536" }, { 2000, "2000" }, { 2048, "2Ki" }, { 1048576, "1Mi" },
		{ 1572864, "1536Ki" }, { 4096000, "4000Ki" }, { 123456789, "123456789" },
		{ UINT64_C(3353849856), "3275244Ki" }, { 1000000, "1000000" },
	};
	char buf[64];

	for (size_t i = 0; i < COMMON_ARRAY_LEN(cpu); i++) {
		apis__cpu_string(cpu[i].v, buf, sizeof(buf));
		ck_assert_str_eq(buf, cpu[i].want);
	}
	for (size_t i = 0; i < COMMON_ARRAY_LEN(mem); i++) {
		apis__mem_string(mem[i].v, buf, sizeof(buf));
		ck_assert_str_eq(buf, mem[i].want);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apis_render");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_node_get_worked_example);
	tcase_add_test(tc, test_pod_get_worked_example);
	tcase_add_test(tc, test_quantity_strings);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
