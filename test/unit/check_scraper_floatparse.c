/*
 * check_scraper_floatparse.c - sample values as Go's strconv.ParseFloat
 * reads them (scraper/floatparse.c): good and bad tokens, NaN, and the
 * fast path agreeing with strtod bit for bit.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scraper/scraper_int.h"
#include "test/unit/unit.h"

static const struct {
	const char *s;
	double v;
} good_floats[] = {
	{"1.253376e+07", 12533760}, {"4.710169", 4.710169}, {".5", 0.5}, {"5.", 5}, {"08", 8},
	{"-3e3", -3000}, {"1E3", 1000}, {"+1.5", 1.5}, {"0", 0}, {"-0.0", -0.0},
	{"1.616273408e+09", 1616273408}, {"357.35491", 357.35491}, {"1e-400", 0},
	{"123456789012345678901234567890", 123456789012345678901234567890.0},
	{"0.000000000000000000000000001", 1e-27}, {"1.7976931348623157e308", 1.7976931348623157e308},
	{"9007199254740993", 9007199254740993.0}, {"Inf", INFINITY}, {"-inf", -INFINITY},
	{"+Infinity", INFINITY},
};

START_TEST(float_good)
{
	double v = -1;

	ck_assert_int_eq(scraper__parse_float(good_floats[_i].s, strlen(good_floats[_i].s), &v), 0);
	ck_assert_msg(memcmp(&v, &good_floats[_i].v, sizeof(v)) == 0, "%s -> %.17g", good_floats[_i].s,
		      v);
}
END_TEST

START_TEST(float_bad)
{
	static const char *const bad[] = {"", "+", "-", ".", "1_2", "0x1p-3", "0x1", "1e", "1e+",
					  "+nan", "1e400", "1..2", "1.2.3", "--1", "abc", "in",
					  "infinit", "1 ", " 1", "1e5x", "nana", "0b1"};
	double v;

	ck_assert_int_eq(scraper__parse_float(bad[_i], strlen(bad[_i]), &v), ERR_PARSE);
}
END_TEST

START_TEST(float_nan)
{
	double v = 0;

	ck_assert_int_eq(scraper__parse_float("NaN", 3, &v), 0);
	ck_assert(isnan(v));
	ck_assert_int_eq(scraper__parse_float("nAn", 3, &v), 0);
	ck_assert(isnan(v));
}
END_TEST

/* The fast path agrees with strtod bit for bit. */
START_TEST(float_matches_strtod)
{
	uint64_t seed = 7;
	char s[64];

	for (int i = 0; i < 200000; i++) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		unsigned digits = 1 + (unsigned)(seed >> 59) % 17;
		uint64_t m = (seed >> 8) % 100000000000000000u;
		int e = (int)((seed >> 3) % 61) - 30;
		int n = snprintf(s, sizeof(s), "%0*llu.%llue%d", (int)digits,
				 (unsigned long long)(m % 1000000000u), (unsigned long long)(m / 1000000000u), e);
		char *end;
		double want = strtod(s, &end), got = -1;

		ck_assert_msg(*end == '\0', "libc stopped reading %s at %s", s, end);
		ck_assert_int_eq(scraper__parse_float(s, (size_t)n, &got), 0);
		ck_assert_msg(memcmp(&want, &got, sizeof(got)) == 0, "%s: %.17g vs %.17g", s, got, want);
	}
}
END_TEST

static Suite *floatparse_suite(void)
{
	Suite *s = suite_create("scraper_floatparse");
	TCase *tc = tcase_create("floats");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, float_good, 0, (int)COMMON_ARRAY_LEN(good_floats));
	tcase_add_loop_test(tc, float_bad, 0, 22);
	tcase_add_test(tc, float_nan);
	tcase_add_test(tc, float_matches_strtod);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(floatparse_suite());
}
