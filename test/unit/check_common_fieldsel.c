/*
 * check_common_fieldsel.c - field selectors as fields.ParseSelector reads
 * them (common/fieldsel.c): terms, escapes, sorting and error texts.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "test/unit/unit.h"

START_TEST(test_field_selector_ok)
{
	struct field_selector fs;
	char err[256];

	ck_assert_int_eq(field_selector_parse("spec.nodeName=node-1,metadata.name!=a\\,b,"
					      "status.phase==Running", &fs, err, sizeof(err)), 0);
	ck_assert_uint_eq(fs.n, 3);
	/* terms are sorted as strings */
	ck_assert_str_eq(fs.reqs[0].key, "metadata.name");
	ck_assert_str_eq(fs.reqs[0].value, "a,b");
	ck_assert(fs.reqs[0].negate);
	ck_assert_str_eq(fs.reqs[1].key, "spec.nodeName");
	ck_assert_str_eq(fs.reqs[1].value, "node-1");
	ck_assert(!fs.reqs[1].negate);
	ck_assert_str_eq(fs.reqs[2].key, "status.phase");
	ck_assert_str_eq(fs.reqs[2].value, "Running");
	field_selector_clear(&fs);

	ck_assert_int_eq(field_selector_parse("", &fs, err, sizeof(err)), 0);
	ck_assert_uint_eq(fs.n, 0);
	ck_assert_int_eq(field_selector_parse("a=,,b=\\=", &fs, err, sizeof(err)), 0);
	ck_assert_uint_eq(fs.n, 2);
	ck_assert_str_eq(fs.reqs[0].value, "");
	ck_assert_str_eq(fs.reqs[1].value, "=");
	field_selector_clear(&fs);
}
END_TEST

START_TEST(test_field_selector_errors)
{
	struct field_selector fs;
	char err[256];

	ck_assert_int_eq(field_selector_parse("abc", &fs, err, sizeof(err)), ERR_PARSE);
	ck_assert_str_eq(err, "invalid selector: 'abc'; can't understand 'abc'");
	ck_assert_int_eq(field_selector_parse("a=b=c", &fs, err, sizeof(err)), ERR_PARSE);
	ck_assert_str_eq(err, "invalid field selector: unescaped character in value: 61");
	ck_assert_int_eq(field_selector_parse("a=b\\x", &fs, err, sizeof(err)), ERR_PARSE);
	ck_assert_str_eq(err, "invalid field selector: invalid escape sequence: \\x");
	ck_assert_int_eq(field_selector_parse("x=1,a=b\\", &fs, err, sizeof(err)), ERR_PARSE);
	ck_assert_str_eq(err, "invalid field selector: invalid escape sequence: \\");
	ck_assert_uint_eq(fs.n, 0);
}
END_TEST

static Suite *fieldsel_suite(void)
{
	Suite *s = suite_create("common_fieldsel");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_field_selector_ok);
	tcase_add_test(tc, test_field_selector_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(fieldsel_suite());
}
