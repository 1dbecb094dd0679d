/*
 * check_apis_status.c - apis/status.c: metav1.Status bodies
 * (apis_status_json: escaping, details, the size cap) and the 500 a
 * response gets when rendering overflows its cap.  The Status bodies of
 * each route are asserted in the suites of the modules that pick them.
 */
#include <check.h>
#include <string.h>

#include "test/unit/apis_fixture.h"
#include "test/unit/unit.h"

START_TEST(test_status_json_helper)
{
	struct dynbuf b;

	dynbuf_init(&b, DYN_SMALL);
	ck_assert_int_eq(apis_status_json(&b, 401, "Unauthorized", "Unauthorized", NULL, NULL, NULL),
			 ERR_OK);
	ck_assert_str_eq(b.buf, STATUS_HEAD "\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\","
				"\"code\":401}\n");
	dynbuf_reset(&b);
	ck_assert_int_eq(apis_status_json(&b, 403, "Forbidden", "a <b> & \xe2\x80\xa8 \xff\n", NULL,
					  "metrics.k8s.io", "nodes"), ERR_OK);
	ck_assert_str_eq(b.buf, STATUS_HEAD "\"message\":\"a \\u003cb\\u003e \\u0026 \\u2028 \\ufffd\\n\","
				"\"reason\":\"Forbidden\",\"details\":{\"group\":\"metrics.k8s.io\","
				"\"kind\":\"nodes\"},\"code\":403}\n");
	dynbuf_clear(&b);
	dynbuf_init(&b, 10);
	ck_assert_int_eq(apis_status_json(&b, 500, "x", "y", NULL, NULL, NULL), ERR_TOOBIG);
	dynbuf_clear(&b);
}
END_TEST

START_TEST(test_response_cap)
{
	struct apis_request req = { .method = "GET", .path = "/apis/metrics.k8s.io/v1beta1/pods",
				    .now_ns = NOW };
	struct apis_sources src = { .store = snap, .kube = kube };
	struct apis_response r;

	dynbuf_init(&r.body, 300);
	apis_handle(&req, &src, &r);
	ck_assert_int_eq(r.status, 500);
	ck_assert_ptr_nonnull(strstr(r.body.buf, "\"reason\":\"InternalError\""));
	dynbuf_clear(&r.body);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apis_status");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_status_json_helper);
	tcase_add_test(tc, test_response_cap);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
