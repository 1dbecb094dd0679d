/*
 * check_common_jsonw.c - common/jsonw.c: strings and keys escaped as Go's
 * encoding/json (json.Marshal's documented HTML-safe escaping, U+2028 and
 * U+2029, invalid UTF-8 as U+FFFD, short escapes for \b \f \n \r \t, the
 * other control characters as \u00XX) and json.Indent's layout.
 */
#include "common/common.h"
#include "test/unit/unit.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *in, *out;
} strings[] = {
	{ "", "\"\"" },
	{ "plain text", "\"plain text\"" },
	{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
	{ "<script>&</script>", "\"\\u003cscript\\u003e\\u0026\\u003c/script\\u003e\"" },
	{ "\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"" },
	{ "\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"" },        /* DEL is written as is */
	{ "caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"" }, /* valid UTF-8 as is */
	{ "\xe2\x80\xa8\xe2\x80\xa9", "\"\\u2028\\u2029\"" },
	{ "a\xffz", "\"a\\ufffdz\"" },                         /* invalid byte */
	{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },                  /* overlong: two bad bytes */
	{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },       /* a surrogate */
};

START_TEST(test_string)
{
	struct dynbuf b;

	dynbuf_init(&b, DYN_SMALL);
	ck_assert_int_eq(jsonw_string(&b, strings[_i].in), 0);
	ck_assert_str_eq(b.buf, strings[_i].out);
	dynbuf_clear(&b);
}
END_TEST

START_TEST(test_key_and_cap)
{
	struct dynbuf b;

	dynbuf_init(&b, 8);
	ck_assert_int_eq(jsonw_key(&b, "a<b"), ERR_TOOBIG); /* "a\u003cb": is 12 bytes */
	ck_assert_uint_le(b.len, 8);
	dynbuf_clear(&b);
	dynbuf_init(&b, DYN_SMALL);
	ck_assert_int_eq(jsonw_key(&b, "a<b"), 0);
	ck_assert_str_eq(b.buf, "\"a\\u003cb\":");
	dynbuf_clear(&b);
}
END_TEST

START_TEST(test_indent)
{
	static const char in[] = "{\"a\":[1,{\"b\":\"x,\\\"y\"}],\"c\":{},\"d\":[]}";
	static const char want[] = "{\n  \"a\": [\n    1,\n    {\n      \"b\": \"x,\\\"y\"\n    }\n"
				   "  ],\n  \"c\": {},\n  \"d\": []\n}";
	struct dynbuf b;

	dynbuf_init(&b, DYN_SMALL);
	ck_assert_int_eq(jsonw_indent(&b, in, strlen(in)), 0);
	ck_assert_str_eq(b.buf, want);
	dynbuf_clear(&b);
}
END_TEST

static Suite *jsonw_suite(void)
{
	Suite *s = suite_create("common_jsonw");
	TCase *tc = tcase_create("jsonw");

	tcase_add_loop_test(tc, test_string, 0, (int)COMMON_ARRAY_LEN(strings));
	tcase_add_test(tc, test_key_and_cap);
	tcase_add_test(tc, test_indent);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(jsonw_suite());
}
