/* check_urlescape.c - common/urlescape.c against Go's url unescaping. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "test/unit/unit.h"

static void expect(const char *in, bool plus, const char *want)
{
	char *got = url_unescape(in, strlen(in), plus);

	if (!want) {
		ck_assert_msg(got == NULL, "%s: expected an error, got %s", in, got);
		return;
	}
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_query_unescape)
{
	expect("app+in+%28a%2Cb%29", true, "app in (a,b)");
	expect("a%3Db", true, "a=b");
	expect("", true, "");
	expect("%zz", true, NULL);
	expect("%4", true, NULL);
	expect("abc%", true, NULL);
}
END_TEST

START_TEST(test_path_unescape)
{
	/* Path unescaping keeps '+' (X-Remote-Extra- keys). */
	expect("authentication.kubernetes.io%2fcredential-id", false,
	       "authentication.kubernetes.io/credential-id");
	expect("a+b", false, "a+b");
	expect("%2F%2f", false, "//");
	expect("%g0", false, NULL);
}
END_TEST

START_TEST(test_bounded_by_length)
{
	/* Only n bytes are read: "%41" cut to 2 bytes is malformed. */
	char *got = url_unescape("%41BC", 3, true);

	ck_assert_str_eq(got, "A");
	free(got);
	ck_assert_ptr_null(url_unescape("%41", 2, true));
}
END_TEST

static Suite *urlescape_suite(void)
{
	Suite *s = suite_create("urlescape");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_query_unescape);
	tcase_add_test(tc, test_path_unescape);
	tcase_add_test(tc, test_bounded_by_length);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(urlescape_suite());
}
