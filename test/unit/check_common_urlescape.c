/* check_common_urlescape.c - common/urlescape.c against Go's net/url:
 * url.QueryEscape, URL.EscapedPath (segment and whole path) and unescaping. */
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

/* Expected values from Go: url.QueryEscape, url.PathEscape-like segment
 * (EscapedPath of one segment), EscapedPath of a whole path. */
START_TEST(test_query_escape)
{
	char *q = url_query_escape("app in (a,b),tier!=x~y_z.-*");

	ck_assert_str_eq(q, "app+in+%28a%2Cb%29%2Ctier%21%3Dx~y_z.-%2A");
	free(q);
	q = url_query_escape("");
	ck_assert_str_eq(q, "");
	free(q);
	q = url_query_escape("\xc3\xa9/+");
	ck_assert_str_eq(q, "%C3%A9%2F%2B");
	free(q);
}
END_TEST

START_TEST(test_path_escape)
{
	char *p = url_path_escape("*");

	ck_assert_str_eq(p, "%2A");
	free(p);
	p = url_path_escape("a b/c$&+,:;=@?#%");
	ck_assert_str_eq(p, "a%20b%2Fc$&+,:;=@%3F%23%25");
	free(p);
}
END_TEST

START_TEST(test_escape_append)
{
	struct dynbuf b;

	dynbuf_init(&b, 64);
	ck_assert_int_eq(url_escape_append(&b, "/apis/x y/*", 11, URL_ESCAPE_PATH), 0);
	ck_assert_int_eq(url_escape_append(&b, "?a b", 4, URL_ESCAPE_QUERY), 0);
	ck_assert_int_eq(dynbuf_addch(&b, '\0'), 0);
	ck_assert_str_eq(b.buf, "/apis/x%20y/%2A%3Fa+b");
	dynbuf_clear(&b);
	/* past the cap: ERR_TOOBIG */
	dynbuf_init(&b, 4);
	ck_assert_int_eq(url_escape_append(&b, "****", 4, URL_ESCAPE_QUERY), ERR_TOOBIG);
	dynbuf_clear(&b);
}
END_TEST

START_TEST(test_round_trip)
{
	const char *in = "k=v, w in (a b)&x=%2F\x01\xff";
	char *e = url_query_escape(in), *d = url_unescape(e, strlen(e), true);

	ck_assert_str_eq(d, in);
	free(e);
	free(d);
}
END_TEST

static Suite *urlescape_suite(void)
{
	Suite *s = suite_create("common_urlescape");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_query_unescape);
	tcase_add_test(tc, test_path_unescape);
	tcase_add_test(tc, test_bounded_by_length);
	tcase_add_test(tc, test_query_escape);
	tcase_add_test(tc, test_path_escape);
	tcase_add_test(tc, test_escape_append);
	tcase_add_test(tc, test_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(urlescape_suite());
}
