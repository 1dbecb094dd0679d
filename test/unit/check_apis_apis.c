/*
 * check_apis_apis.c - apis/apis.c: the paths apis/ owns and the plain
 * "404 page not found" of the generic apiserver's NotFoundHandler for
 * requests it does not route (paths outside metrics.k8s.io/v1beta1).
 */
#include <check.h>

#include "test/unit/apis_fixture.h"
#include "test/unit/unit.h"

START_TEST(test_owns_path)
{
	ck_assert(apis_owns_path("/apis"));
	ck_assert(apis_owns_path("/apis/metrics.k8s.io/v1beta1/nodes"));
	ck_assert(apis_owns_path("/version"));
	ck_assert(apis_owns_path("/openapi/v2"));
	ck_assert(!apis_owns_path("/apisx"));
	ck_assert(!apis_owns_path("/healthz"));
	ck_assert(!apis_owns_path("/metrics"));
	ck_assert(!apis_owns_path(NULL));
}
END_TEST

START_TEST(test_page_not_found)
{
	const struct exchange x[] = {
		{ { .path = "/openapi/v3" }, 404, "404 page not found\n" },
		{ { .path = "/healthz" }, 404, "404 page not found\n" },
	};

	assert_exchanges(x, COMMON_ARRAY_LEN(x));
	ck_assert_str_eq(get("/apis/custom.metrics.k8s.io/v1beta2"), "404 page not found\n");
	ck_assert_str_eq(resp.content_type, "text/plain; charset=utf-8");
	resp_free();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apis_apis");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_owns_path);
	tcase_add_test(tc, test_page_not_found);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
