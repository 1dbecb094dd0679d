/*
 * check_common_selector.c - label selectors (common/selector.c): canonical
 * strings, parse errors worded as apimachinery (label key and value
 * validation of common/validation.c), the length cap, matching.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "test/unit/unit.h"

/* ---- canonical strings ---------------------------------------------------- */

static const struct {
	const char *in;
	const char *out;
} canon[] = {
	{ "", "" },
	{ "   ", "" },
	{ "x=a", "x=a" },
	{ "x = a", "x=a" },
	{ "x==a", "x==a" },
	{ "x!=a", "x!=a" },
	{ "x", "x" },
	{ "!x", "!x" },
	{ " !x ", "!x" },
	{ "x>1", "x>1" },
	{ "x in (b,a)", "x in (a,b)" },
	{ "x in (a,a,b)", "x in (a,b)" },
	{ "x notin (c, b ,a)", "x notin (a,b,c)" },
	{ "x in ()", "x in ()" },
	{ "x in (,a)", "x in (,a)" },
	{ "x in (a,)", "x in (,a)" },
	{ "z=1,a=2,m", "a=2,m,z=1" },
	{ "app=nginx,tier in (frontend)", "app=nginx,tier in (frontend)" },
	{ "tier in (frontend),app=nginx", "app=nginx,tier in (frontend)" },
	{ "x=", "x=" },
	{ "x=,y=1", "x=,y=1" },
	{ "in=notin", "in=notin" },
	{ "x in (in,notin)", "x in (in,notin)" },
	{ "example.com/app=web", "example.com/app=web" },
	{ "a.b_c-d=E.f_g-9", "a.b_c-d=E.f_g-9" },
	{ "k < 10", "k<10" },
	{ "b=2,a,b=1", "a,b=2,b=1" },
};

START_TEST(test_canonical_string)
{
	size_t i;

	for (i = 0; i < COMMON_ARRAY_LEN(canon); i++) {
		char err[512];
		struct selector *sel;
		char *s;

		sel = selector_parse(canon[i].in, err, sizeof(err));
		ck_assert_msg(sel != NULL, "%s: %s", canon[i].in, err);
		s = selector_string(sel);
		ck_assert_str_eq(s, canon[i].out);
		ck_assert_int_eq(selector_empty(sel), canon[i].out[0] == '\0');
		free(s);
		selector_free(sel);
	}
}
END_TEST

/* ---- parse errors, worded as apimachinery ----------------------------------- */

#define QMSG "must consist of alphanumeric characters, '-', '_' or '.', and must start " \
	"and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "    \
	"'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define VMSG "a valid label must be an empty string or consist of alphanumeric "          \
	"characters, '-', '_' or '.', and must start and end with an alphanumeric "       \
	"character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation " \
	"is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

static const struct {
	const char *in;
	const char *err;
} errors[] = {
	{ "x=a,", "found '', expected: identifier after ','" },
	{ ",x", "found ',', expected: !, identifier, or 'end of string'" },
	{ "=a", "found '=', expected: !, identifier, or 'end of string'" },
	{ "x=a b", "found 'b', expected: ',' or 'end of string'" },
	{ "x a", "unable to parse requirement: found 'a', expected: in, notin, =, ==, !=, gt, lt" },
	{ "x=(a)", "unable to parse requirement: found '(', expected: identifier" },
	{ "x in a", "unable to parse requirement: found 'a' expected: '('" },
	{ "x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'" },
	{ "x in (a", "unable to parse requirement: found '', expected: ',' or ')'" },
	{ "x in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier" },
	{ "x in (a,=)", "unable to parse requirement: found '=', expected: ',', or identifier" },
	{ "!x=a", "found '=', expected: ',' or 'end of string'" },
	{ "! =a", "unable to parse requirement: found '=', expected: identifier" },
	{ "x>a", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' "
		 "operators, the value must be an integer" },
	{ "-x=a", "unable to parse requirement: : Invalid value: \"-x\": name part " QMSG },
	{ "x=-a", "unable to parse requirement: values[0][x]: Invalid value: \"-a\": " VMSG },
	{ "x<-1", "unable to parse requirement: values[0][x]: Invalid value: \"-1\": " VMSG },
	{ "x>-y", "unable to parse requirement: [values[0]: Invalid value: \"-y\": for 'Gt', "
		  "'Lt' operators, the value must be an integer, values[0][x]: Invalid value: "
		  "\"-y\": " VMSG "]" },
	{ "/x", "unable to parse requirement: : Invalid value: \"/x\": prefix part must be "
		"non-empty" },
	{ "a/b/c", "unable to parse requirement: : Invalid value: \"a/b/c\": a qualified name "
		   "must consist of alphanumeric characters, '-', '_' or '.', and must start "
		   "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
		   "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?"
		   "[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. "
		   "'example.com/MyName')" },
	{ "Ex.com/a", "unable to parse requirement: : Invalid value: \"Ex.com/a\": prefix part "
		      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
		      "characters, '-' or '.', and must start and end with an alphanumeric "
		      "character (e.g. 'example.com', regex used for validation is "
		      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')" },
	{ "ex.com/", "unable to parse requirement: : Invalid value: \"ex.com/\": name part must "
		     "be non-empty; name part " QMSG },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  "unable to parse requirement: : Invalid value: "
	  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": name part must "
	  "be no more than 63 characters" },
	{ "x in (-a,-b)", "unable to parse requirement: [values[0][x]: Invalid value: \"-a\": "
			  VMSG ", values[1][x]: Invalid value: \"-b\": " VMSG "]" },
};

START_TEST(test_parse_errors)
{
	size_t i;

	for (i = 0; i < COMMON_ARRAY_LEN(errors); i++) {
		char err[2048];
		struct selector *sel = selector_parse(errors[i].in, err, sizeof(err));

		ck_assert_msg(sel == NULL, "%s parsed", errors[i].in);
		ck_assert_str_eq(err, errors[i].err);
	}
}
END_TEST

START_TEST(test_too_long)
{
	size_t n = (64u << 10) + 2;
	char *s = xmalloc(n + 1), err[256];

	memset(s, 'a', n);
	s[n] = '\0';
	ck_assert_ptr_null(selector_parse(s, err, sizeof(err)));
	ck_assert_str_eq(err, "label selector is longer than 65536 bytes");
	free(s);
}
END_TEST

/* ---- matching ---------------------------------------------------------------- */

static const struct {
	const char *sel;
	bool want;
} matches[] = {
	{ "", true },          { "app=web", true },         { "app==web", true },
	{ "app=db", false },   { "app!=db", true },         { "app!=web", false },
	{ "missing!=x", true }, { "app in (db,web)", true }, { "app in (db)", false },
	{ "app notin (db)", true }, { "app notin (web)", false }, { "missing notin (a)", true },
	{ "missing in (a)", false }, { "app", true },        { "missing", false },
	{ "!missing", true },  { "!app", false },           { "n>4", true },
	{ "n>5", false },      { "n<6", true },             { "n<5", false },
	{ "app>1", false },    { "missing>1", false },      { "app=web,n>1,!gone", true },
	{ "app=web,n>9", false }, { "empty=", true },       { "empty in (,x)", true },
	{ "x.io/role=master", true },
};

START_TEST(test_matches)
{
	struct labels l;
	size_t i;

	labels_init(&l);
	labels_set(&l, "n", "5");
	labels_set(&l, "app", "web");
	labels_set(&l, "empty", "");
	labels_set(&l, "x.io/role", "master");
	for (i = 0; i < COMMON_ARRAY_LEN(matches); i++) {
		char err[512];
		struct selector *sel = selector_parse(matches[i].sel, err, sizeof(err));

		ck_assert_msg(sel != NULL, "%s: %s", matches[i].sel, err);
		ck_assert_msg(selector_matches(sel, &l) == matches[i].want, "%s", matches[i].sel);
		selector_free(sel);
	}
	labels_clear(&l);
}
END_TEST

START_TEST(test_null_is_everything)
{
	char err[64];
	struct selector *sel = selector_parse(NULL, err, sizeof(err));
	struct labels l;

	labels_init(&l);
	ck_assert_ptr_nonnull(sel);
	ck_assert(selector_empty(sel));
	ck_assert(selector_matches(sel, &l));
	selector_free(sel);
}
END_TEST

static Suite *selector_suite(void)
{
	Suite *s = suite_create("common_selector");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_canonical_string);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_matches);
	tcase_add_test(tc, test_null_is_everything);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(selector_suite());
}
