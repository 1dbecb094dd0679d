/*
 * check_common_gofloat.c - fmt_go_float against strconv.FormatFloat(v, 'g', -1, 64)
 * outputs (values from Prometheus text and kubelet /metrics/resource).
 */
#include "common/common.h"
#include "test/unit/unit.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	double v;
	const char *s;
} cases[] = {
	{0.005, "0.005"}, {1, "1"}, {10, "10"}, {1e6, "1e+06"}, {1633253809, "1.633253809e+09"},
	{12.5, "12.5"}, {0.0001, "0.0001"}, {0.00001, "1e-05"}, {100000, "100000"},
	{123456.7, "123456.7"}, {0.1 + 0.2, "0.30000000000000004"}, {-2.5, "-2.5"}, {0, "0"},
	{INFINITY, "+Inf"}, {-INFINITY, "-Inf"}, {NAN, "NaN"}, {22.5, "22.5"},
	/* kubelet values */
	{-1.5, "-1.5"}, {4.710169, "4.710169"}, {357.35491, "357.35491"},
	{12533760, "1.253376e+07"}, {1616273408, "1.616273408e+09"},
	{1.6243962483020916e+09, "1.6243962483020916e+09"}, {123456, "123456"},
	{1234567, "1.234567e+06"}, {1e21, "1e+21"}, {1e100, "1e+100"},
	/* edges */
	{-0.0, "-0"}, {5e-324, "5e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
	{-2.2250738585072014e-308, "-2.2250738585072014e-308"}, {999999, "999999"},
	{0.00012345, "0.00012345"}, {1.364, "1.364"},
};

START_TEST(test_table)
{
	char buf[GO_FLOAT_LEN];

	fmt_go_float(cases[_i].v, buf, sizeof(buf));
	ck_assert_str_eq(buf, cases[_i].s);
}
END_TEST

/* Significant digits of a rendering: leading and trailing zeros are not. */
/* s read back by libc, which must consume all of it. */
static double read_all(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	ck_assert_msg(end != s && *end == '\0', "libc stopped reading %s at %s", s, end);
	return v;
}

static int significant_digits(const char *s)
{
	char d[GO_FLOAT_LEN];
	int n = 0, first = 0;

	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9')
			d[n++] = *s;
	while (first < n && d[first] == '0')
		first++;
	while (n > first && d[n - 1] == '0')
		n--;
	return n - first;
}

/* Every output reads back exactly and no shorter %e form would. */
START_TEST(test_shortest_roundtrip)
{
	uint64_t x = 88172645463325252ull;
	char buf[GO_FLOAT_LEN], e[40];

	for (int i = 0; i < 100000; i++) {
		double v;
		int digits = 0;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(&v, &x, sizeof(v));
		if (!isfinite(v))
			continue;
		fmt_go_float(v, buf, sizeof(buf));
		ck_assert_msg(read_all(buf) == v, "%s does not read back as %.17g", buf, v);
		digits = significant_digits(buf);
		if (digits < 2)
			continue;
		snprintf(e, sizeof(e), "%.*e", digits - 2, v);
		ck_assert_msg(read_all(e) != v, "%s: %s is shorter", buf, e);
	}
}
END_TEST

START_TEST(test_short_buffer)
{
	char buf[5];

	fmt_go_float(1633253809, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1.63");
	fmt_go_float(-INFINITY, buf, 3);
	ck_assert_str_eq(buf, "-I");
}
END_TEST

static Suite *gofloat_suite(void)
{
	Suite *s = suite_create("common_gofloat");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_table, 0, (int)COMMON_ARRAY_LEN(cases));
	tcase_add_test(tc, test_shortest_roundtrip);
	tcase_add_test(tc, test_short_buffer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(gofloat_suite());
}
