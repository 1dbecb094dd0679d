/*
 * check_common_re2posix.c - common/re2posix.c: Go (RE2) expressions through
 * re2_translate and regcomp, matched against sample strings with the
 * results RE2 gives (https://github.com/google/re2/wiki/Syntax, Go's
 * regexp/syntax), anchored and not; the refusals with the offending text
 * Go's errors quote; the RE2 -> POSIX group map and names; exact
 * translations where the POSIX spelling matters.
 */
#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "test/unit/unit.h"

#define A RE2_ANCHORED
#define U 0u

static const struct {
	const char *re;
	unsigned opts;
	const char *s;
	bool match;
} matches[] = {
	{ "abc", U, "xabcx", true }, { "abc", A, "xabcx", false }, { "abc", A, "abc", true },
	{ "a|b", A, "ab", false }, { "a|b", U, "ab", true }, { "^a$", U, "a", true },
	{ "", A, "", true }, { "", A, "a", false }, { "", U, "a", true },
	/* . is any character but \n */
	{ ".", A, "x", true }, { ".", A, "\n", false }, { "a.c", U, "a\nc", false },
	{ ".*", A, "", true },
	/* Perl classes; \s is [\t\n\f\r ] (no \v) */
	{ "\\d+", A, "123", true }, { "\\d+", A, "12a", false }, { "\\D", A, "\n", true },
	{ "\\D", A, "1", false }, { "\\w+", A, "a_1", true }, { "\\W", A, "-", true },
	{ "\\W", A, "_", false }, { "\\s", A, " ", true }, { "\\s", A, "\v", false },
	{ "\\S", A, "x", true }, { "\\S", A, " ", false },
	/* escapes: any ASCII non-word character is itself */
	{ "\\.", A, ".", true }, { "\\.", A, "a", false }, { "\\<a", U, "<a", true },
	{ "\\<a", U, "a", false }, { "a\\>", U, "a>", true }, { "\\`", A, "`", true },
	{ "\\'", A, "'", true }, { "\\ ", A, " ", true }, { "\\_", A, "_", true },
	{ "\\-", A, "-", true }, { "\\/", A, "/", true }, { "\\n", A, "\n", true },
	{ "\\t", A, "\t", true }, { "\\a", A, "\a", true }, { "\\{", A, "{", true },
	{ "a\\|b", A, "a|b", true }, { "\\(\\)", A, "()", true }, { "\\$", A, "$", true },
	/* bracket expressions */
	{ "[\\d]", A, "5", true }, { "[\\w-]+", A, "a-b", true }, { "[^\\d]x", A, "ax", true },
	{ "[^\\d]x", A, "1x", false }, { "[^a]", A, "\n", true }, { "[]a]", A, "]", true },
	{ "[^]a]", A, "b", true }, { "[^]a]", A, "]", false }, { "[a-]", A, "-", true },
	{ "[-a]", A, "-", true }, { "[\\]]", A, "]", true }, { "[\\^x]", A, "^", true },
	{ "[a^]", A, "^", true }, { "[\\-]", A, "-", true }, { "[\\\\]", A, "\\", true },
	{ "[\\[]", A, "[", true }, { "[[.]", A, ".", true }, { "[[.]", A, "[", true },
	{ "[[=]", A, "=", true }, { "[!-\\]]", A, "]", true }, { "[!-\\]]", A, "A", true },
	{ "[!-\\]]", A, "^", false }, { "[\\d-z]", A, "-", true }, { "[\\d-z]", A, "y", false },
	{ "[a\\-z]", A, "b", false }, { "[\\n]", A, "\n", true }, { "[.]", A, "x", false },
	{ "[[:alpha:]]+", A, "abc", true }, { "[[:alpha:]]+", A, "a1", false },
	{ "[[:word:]]+", A, "a_1", true }, { "[[:word:]]", A, "-", false },
	{ "[[:ascii:]]", A, "~", true }, { "[[:a]", A, "[", true }, { "[[:a]", A, ":", true },
	{ "[[:a]", A, "b", false }, { "[\\s]", A, "\t", true },
	/* groups */
	{ "(?:ab)+", A, "abab", true }, { "(?P<x>a)b", A, "ab", true }, { "(?<x>a)b", A, "ab", true },
	{ "(a|ab)(c|bcd)(d*)", U, "abcd", true }, { "()", A, "", true }, { "(|a)", A, "a", true },
	/* repetitions; a brace that starts no repetition is a literal */
	{ "a{2}", A, "aa", true }, { "a{2}", A, "aaa", false }, { "a{2,}", A, "aaaa", true },
	{ "a{2,}", A, "a", false }, { "a{1,2}", A, "aaa", false }, { "a{,2}", A, "a{,2}", true },
	{ "a{,2}", A, "aa", false }, { "a{", A, "a{", true }, { "{", A, "{", true },
	{ "a{01}", A, "a{01}", true }, { "a{1000}", U, "a", false }, { "}", A, "}", true },
	{ "x*", A, "", true }, { "(a*)*", A, "aa", true },
	/* a non-ASCII character repeats whole */
	{ "é+", A, "éé", true }, { "é?", A, "", true }, { "é{2}", A, "éé", true },
	{ "aé", U, "xaéy", true },
};

START_TEST(test_matches)
{
	for (size_t i = 0; i < COMMON_ARRAY_LEN(matches); i++) {
		struct re2_ere ere;
		struct re2_error e;
		regex_t re;
		int rc;

		ck_assert_msg(re2_translate(matches[i].re, matches[i].opts, &ere, &e) == 0,
			      "%s: refused (%d)", matches[i].re, (int)e.why);
		rc = regcomp(&re, ere.text, REG_EXTENDED | REG_NOSUB);
		ck_assert_msg(rc == 0, "%s -> %s: regcomp %d", matches[i].re, ere.text, rc);
		ck_assert_msg((regexec(&re, matches[i].s, 0, NULL, 0) == 0) == matches[i].match,
			      "%s (%s) on \"%s\": want %s", matches[i].re, ere.text, matches[i].s,
			      matches[i].match ? "match" : "no match");
		regfree(&re);
		re2_ere_clear(&ere);
	}
}
END_TEST

static const struct {
	const char *re;
	enum re2_why why;
	const char *what; /* re + at, len */
	const char *text; /* re2_error_text */
} refusals[] = {
	{ "(?i)a", RE2_FLAGS, "?i", "(?i): flags and other group forms are not supported" },
	{ "x(?i:a)", RE2_FLAGS, "?i", NULL }, { "(?s).", RE2_FLAGS, "?s", NULL },
	{ "(?=a)", RE2_FLAGS, "?=a", NULL },
	{ "a*?", RE2_LAZY, "*?", "lazy quantifiers (*? +? ?? {n,m}?) are not supported" },
	{ "a??", RE2_LAZY, "??", NULL }, { "a{2,3}?", RE2_LAZY, "{2,3}?", NULL },
	{ "\\b", RE2_ESCAPE, "\\b",
	  "\\b is not supported here (RE2 construct without a POSIX equivalent)" },
	{ "\\B", RE2_ESCAPE, "\\B", NULL }, { "\\Aa", RE2_ESCAPE, "\\A", NULL },
	{ "a\\z", RE2_ESCAPE, "\\z", NULL }, { "\\pL", RE2_ESCAPE, "\\p", NULL },
	{ "\\P{Greek}", RE2_ESCAPE, "\\P", NULL }, { "\\Qa\\E", RE2_ESCAPE, "\\Q", NULL },
	{ "\\x41", RE2_ESCAPE, "\\x", NULL }, { "\\101", RE2_ESCAPE, "\\1", NULL },
	{ "(a)\\1", RE2_ESCAPE, "\\1", NULL }, { "\\q", RE2_ESCAPE, "\\q", NULL },
	{ "\\é", RE2_ESCAPE, "\\é", NULL },
	{ "[\\b]", RE2_CLASS_ESCAPE, "\\b", NULL }, { "[\\D]", RE2_CLASS_ESCAPE, "\\D", NULL },
	{ "[a\\pL]", RE2_CLASS_ESCAPE, "\\p", NULL }, { "[a-\\d]", RE2_CLASS_ESCAPE, "\\d", NULL },
	{ "[é]", RE2_CLASS, "é", "é is not supported here (RE2 construct without a POSIX "
				   "equivalent)" },
	{ "[[:^alpha:]]", RE2_CLASS, "[:^alpha:]", NULL },
	{ "a\\", RE2_ERR_TRAILING_BACKSLASH, "", "trailing backslash at end of expression" },
	{ "[a\\", RE2_ERR_TRAILING_BACKSLASH, "", NULL },
	{ "[a", RE2_ERR_MISSING_BRACKET, "[a", "missing closing ]" },
	{ "x[]", RE2_ERR_MISSING_BRACKET, "[]", NULL }, { "x[^", RE2_ERR_MISSING_BRACKET, "[^", NULL },
	{ "(a", RE2_ERR_MISSING_PAREN, "(a", "missing closing )" },
	{ "a)", RE2_ERR_UNEXPECTED_PAREN, "a)", "unexpected )" },
	{ "a)|(b", RE2_ERR_UNEXPECTED_PAREN, "a)|(b", NULL },
	{ "(?P<n", RE2_ERR_NAMED_CAPTURE, "(?P<n", "invalid named capture" },
	{ "(?P<>a)", RE2_ERR_NAMED_CAPTURE, "(?P<>", NULL },
	{ "(?P<a-b>x)", RE2_ERR_NAMED_CAPTURE, "(?P<a-b>", NULL },
	{ "(?P=n)", RE2_ERR_NAMED_CAPTURE, "(?P=n)", NULL },
	{ "a**", RE2_ERR_REPEAT_OP, "**", "invalid nested repetition operator" },
	{ "a+*", RE2_ERR_REPEAT_OP, "+*", NULL }, { "a{2}{3}", RE2_ERR_REPEAT_OP, "{2}{3}", NULL },
	{ "a*{2}", RE2_ERR_REPEAT_OP, "*{2}", NULL },
	{ "*a", RE2_ERR_REPEAT_ARG, "*", "missing argument to repetition operator" },
	{ "(*a)", RE2_ERR_REPEAT_ARG, "*", NULL }, { "a|+", RE2_ERR_REPEAT_ARG, "+", NULL },
	{ "{2}", RE2_ERR_REPEAT_ARG, "{2}", NULL }, { "(?:*)", RE2_ERR_REPEAT_ARG, "*", NULL },
	{ "a{1001}", RE2_ERR_REPEAT_SIZE, "{1001}", "invalid repeat count" },
	{ "a{2,1}", RE2_ERR_REPEAT_SIZE, "{2,1}", NULL },
	{ "a{99999999999}", RE2_ERR_REPEAT_SIZE, "{99999999999}", NULL },
	{ "[z-a]", RE2_ERR_CHAR_RANGE, "z-a", "invalid character class range" },
	{ "[[:foo:]]", RE2_ERR_CHAR_RANGE, "[:foo:]", NULL },
	{ "a\xff", RE2_ERR_UTF8, "\xff", "invalid UTF-8" },
	{ "\xc3", RE2_ERR_UTF8, "\xc3", NULL }, { "\xed\xa0\x80", RE2_ERR_UTF8, "\xed", NULL },
};

START_TEST(test_refusals)
{
	for (size_t i = 0; i < COMMON_ARRAY_LEN(refusals); i++) {
		struct re2_ere ere;
		struct re2_error e;
		char text[200];

		ck_assert_msg(re2_translate(refusals[i].re, U, &ere, &e) == ERR_INVAL, "%s accepted",
			      refusals[i].re);
		ck_assert_ptr_null(ere.text);
		ck_assert_msg(e.why == refusals[i].why, "%s: why %d, want %d", refusals[i].re,
			      (int)e.why, (int)refusals[i].why);
		ck_assert_msg(e.len == strlen(refusals[i].what) &&
				      memcmp(refusals[i].re + e.at, refusals[i].what, e.len) == 0,
			      "%s: at [%.*s], want [%s]", refusals[i].re, (int)e.len,
			      refusals[i].re + e.at, refusals[i].what);
		if (refusals[i].text) {
			re2_error_text(refusals[i].re, &e, text, sizeof(text));
			ck_assert_str_eq(text, refusals[i].text);
		}
		/* the same refusal anchored */
		ck_assert_int_eq(re2_translate(refusals[i].re, A, &ere, &e), ERR_INVAL);
		ck_assert_int_eq(e.why, refusals[i].why);
	}
}
END_TEST

/* RE2 group i is POSIX group posix[i]; (?:) and the anchoring group count
 * in POSIX only. */
START_TEST(test_group_map)
{
	struct re2_ere ere;
	struct re2_error e;
	regmatch_t m[8];
	regex_t re;

	ck_assert_int_eq(re2_translate("(a)(?:b)(?P<n>c)(?<m>d)", U, &ere, &e), 0);
	ck_assert_str_eq(ere.text, "(a)(b)(c)(d)");
	ck_assert_uint_eq(ere.ngroups, 3);
	ck_assert_uint_eq(ere.nposix, 4);
	ck_assert_uint_eq(ere.posix[0], 0);
	ck_assert_uint_eq(ere.posix[1], 1);
	ck_assert_uint_eq(ere.posix[2], 3);
	ck_assert_uint_eq(ere.posix[3], 4);
	ck_assert_ptr_null(ere.names[1]);
	ck_assert_str_eq(ere.names[2], "n");
	ck_assert_str_eq(ere.names[3], "m");
	re2_ere_clear(&ere);

	ck_assert_int_eq(re2_translate("(a)", A, &ere, &e), 0);
	ck_assert_str_eq(ere.text, "^((a))$");
	ck_assert_uint_eq(ere.ngroups, 1);
	ck_assert_uint_eq(ere.nposix, 2);
	ck_assert_uint_eq(ere.posix[1], 2);
	re2_ere_clear(&ere);

	ck_assert_int_eq(re2_translate("é+(x)", U, &ere, &e), 0);
	ck_assert_str_eq(ere.text, "(é)+(x)");
	ck_assert_uint_eq(ere.ngroups, 1);
	ck_assert_uint_eq(ere.posix[1], 2);
	re2_ere_clear(&ere);

	/* spans through the map */
	ck_assert_int_eq(re2_translate("^(\\w+)_(?:x|y)_(?P<n>\\d+)", U, &ere, &e), 0);
	ck_assert_int_eq(regcomp(&re, ere.text, REG_EXTENDED), 0);
	ck_assert_uint_lt(ere.nposix, COMMON_ARRAY_LEN(m));
	ck_assert_int_eq(regexec(&re, "ab_y_12z", ere.nposix + 1, m, 0), 0);
	ck_assert_int_eq(m[ere.posix[1]].rm_so, 0);
	ck_assert_int_eq(m[ere.posix[1]].rm_eo, 2);
	ck_assert_int_eq(m[ere.posix[2]].rm_so, 5);
	ck_assert_int_eq(m[ere.posix[2]].rm_eo, 7);
	regfree(&re);
	re2_ere_clear(&ere);
}
END_TEST

/* Where the POSIX spelling matters. */
START_TEST(test_texts)
{
	static const struct { const char *re; unsigned opts; const char *ere; } cases[] = {
		{ ".", U, "[^\n]" }, { "", A, "^$" }, { "", U, "" }, { "a|b", A, "^(a|b)$" },
		{ "[]a^-]", U, "[[.].]a[.^.][.-.]]" }, { "[^-a]", U, "[^[.-.]a]" },
		{ "[\\[-\\]]", U, "[[.[.]-[.].]]" }, { "\\<\\`", U, "<`" }, { "\\.\\{", U, "\\.\\{" },
		{ "a{", U, "a\\{" }, { "a{2,}", U, "a{2,}" }, { "\\d\\W", U, "[0-9][^0-9A-Za-z_]" },
		{ "[\\s[:digit:]]", U, "[\t\n\f\r [:digit:]]" }, { "[[:word:]]", U, "[0-9A-Za-z_]" },
	};

	for (size_t i = 0; i < COMMON_ARRAY_LEN(cases); i++) {
		struct re2_ere ere;
		struct re2_error e;

		ck_assert_msg(re2_translate(cases[i].re, cases[i].opts, &ere, &e) == 0, "%s",
			      cases[i].re);
		ck_assert_msg(strcmp(ere.text, cases[i].ere) == 0, "%s -> [%s], want [%s]",
			      cases[i].re, ere.text, cases[i].ere);
		re2_ere_clear(&ere);
	}
}
END_TEST

static Suite *re2posix_suite(void)
{
	Suite *s = suite_create("common_re2posix");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_matches);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_group_map);
	tcase_add_test(tc, test_texts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(re2posix_suite());
}
