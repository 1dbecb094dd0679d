/* check_common_timefmt.c - common/timefmt.c: metav1.Time and Go Duration strings. */
#include <check.h>
#include <stdint.h>

#include "common/common.h"
#include "test/unit/unit.h"

#define SEC NS_PER_SEC
#define MS NS_PER_MS

START_TEST(test_rfc3339_format)
{
	char buf[32];

	/* decode-normal timestamps, ms dropped (metrics-server.md §5.3) */
	fmt_rfc3339(1633253824720 * MS, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2021-10-03T09:37:04Z");
	fmt_rfc3339(1633253827129 * MS, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2021-10-03T09:37:07Z");
	fmt_rfc3339(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
	/* before the epoch the second is floored, as Go */
	fmt_rfc3339(-1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1969-12-31T23:59:59Z");
	fmt_rfc3339(951782400 * SEC, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2000-02-29T00:00:00Z");
	/* RFC 5280's "no well-defined expiration", past int64 nanoseconds */
	fmt_rfc3339_secs(253402300799, buf, sizeof(buf));
	ck_assert_str_eq(buf, "9999-12-31T23:59:59Z");
}
END_TEST

START_TEST(test_rfc3339_parse)
{
	int64_t ns = 0;

	ck_assert_int_eq(parse_rfc3339("2021-10-03T09:37:04Z", &ns), ERR_OK);
	ck_assert_int_eq(ns, 1633253824 * SEC);
	ck_assert_int_eq(parse_rfc3339("2021-10-03T09:36:49.720Z", &ns), ERR_OK);
	ck_assert_int_eq(ns, 1633253809720 * MS);
	ck_assert_int_eq(parse_rfc3339("2021-10-03T11:37:04+02:00", &ns), ERR_OK);
	ck_assert_int_eq(ns, 1633253824 * SEC);
	ck_assert_int_eq(parse_rfc3339("2021-10-03T05:07:04-04:30", &ns), ERR_OK);
	ck_assert_int_eq(ns, 1633253824 * SEC);
	/* more than 9 fraction digits: the rest is ignored */
	ck_assert_int_eq(parse_rfc3339("1970-01-01T00:00:00.1234567891Z", &ns), ERR_OK);
	ck_assert_int_eq(ns, 123456789);
	ck_assert_int_eq(parse_rfc3339("2000-02-29T00:00:00Z", &ns), ERR_OK);
	ck_assert_int_eq(ns, 951782400 * SEC);
	ck_assert_int_eq(parse_rfc3339("1960-01-01T00:00:00Z", &ns), ERR_OK);
	ck_assert_int_eq(ns, -315619200 * SEC);
}
END_TEST

START_TEST(test_rfc3339_errors)
{
	static const char *const bad[] = {
		"", "2021-10-03", "2021-10-03T09:37:04", "2021-10-03 09:37:04Z",
		"2021-13-03T09:37:04Z", "2021-02-29T09:37:04Z", "2021-10-03T24:00:00Z",
		"2021-10-03T09:60:00Z", "2021-10-03T09:37:04+0200", "2021-10-03T09:37:04ZZ",
		"2021-10-03T09:37:04.Z", "3000-01-01T00:00:00Z", "1600-01-01T00:00:00Z",
		"2021-10-03T09:37:04+24:00",
	};
	int64_t ns;

	for (size_t i = 0; i < COMMON_ARRAY_LEN(bad); i++)
		ck_assert_msg(parse_rfc3339(bad[i], &ns) == ERR_PARSE, "accepted %s", bad[i]);
	ck_assert_int_eq(parse_rfc3339(NULL, &ns), ERR_PARSE);
}
END_TEST

struct dur_case {
	int64_t ns;
	const char *want;
};

static const struct dur_case dur_cases[] = {
	{ 0, "0s" },
	{ 1, "1ns" },
	{ 1100, "1.1\xc2\xb5s" },
	{ 1000, "1\xc2\xb5s" },
	{ 2200 * 1000, "2.2ms" },
	{ 500 * MS, "500ms" },
	{ 15 * SEC, "15s" },
	{ 15004 * MS, "15.004s" },
	{ 20043 * MS, "20.043s" },
	{ 60 * SEC, "1m0s" },
	{ 60506 * MS, "1m0.506s" },
	{ 90 * SEC, "1m30s" },
	{ 3600 * SEC, "1h0m0s" },
	{ 4 * 3600 * SEC + 5 * 60 * SEC + 6 * SEC + 1, "4h5m6.000000001s" },
	{ -SEC, "-1s" },
	{ -1100, "-1.1\xc2\xb5s" },
	{ INT64_MAX, "2562047h47m16.854775807s" },
	{ INT64_MIN, "-2562047h47m16.854775808s" },
};

START_TEST(test_duration_format)
{
	char buf[40];

	fmt_go_duration(dur_cases[_i].ns, buf, sizeof(buf));
	ck_assert_str_eq(buf, dur_cases[_i].want);
}
END_TEST

START_TEST(test_duration_roundtrip)
{
	char buf[40];
	int64_t ns = 0;

	fmt_go_duration(dur_cases[_i].ns, buf, sizeof(buf));
	ck_assert_int_eq(parse_go_duration(buf, &ns), ERR_OK);
	ck_assert_int_eq(ns, dur_cases[_i].ns);
}
END_TEST

START_TEST(test_duration_parse)
{
	int64_t ns = -1;

	ck_assert_int_eq(parse_go_duration("15s", &ns), ERR_OK);
	ck_assert_int_eq(ns, 15 * SEC);
	ck_assert_int_eq(parse_go_duration("1m30s", &ns), ERR_OK);
	ck_assert_int_eq(ns, 90 * SEC);
	ck_assert_int_eq(parse_go_duration("250ms", &ns), ERR_OK);
	ck_assert_int_eq(ns, 250 * MS);
	ck_assert_int_eq(parse_go_duration("1h", &ns), ERR_OK);
	ck_assert_int_eq(ns, 3600 * SEC);
	ck_assert_int_eq(parse_go_duration("0", &ns), ERR_OK);
	ck_assert_int_eq(ns, 0);
	ck_assert_int_eq(parse_go_duration("-0", &ns), ERR_OK);
	ck_assert_int_eq(ns, 0);
	ck_assert_int_eq(parse_go_duration("1.5h", &ns), ERR_OK);
	ck_assert_int_eq(ns, 5400 * SEC);
	ck_assert_int_eq(parse_go_duration(".5s", &ns), ERR_OK);
	ck_assert_int_eq(ns, 500 * MS);
	ck_assert_int_eq(parse_go_duration("1.s", &ns), ERR_OK);
	ck_assert_int_eq(ns, SEC);
	ck_assert_int_eq(parse_go_duration("+10us", &ns), ERR_OK);
	ck_assert_int_eq(ns, 10000);
	ck_assert_int_eq(parse_go_duration("3\xce\xbcs", &ns), ERR_OK);
	ck_assert_int_eq(ns, 3000);
	ck_assert_int_eq(parse_go_duration("1h1m1s1ms1us1ns", &ns), ERR_OK);
	ck_assert_int_eq(ns, 3661 * SEC + MS + 1000 + 1);
	ck_assert_int_eq(parse_go_duration("-9223372036854775808ns", &ns), ERR_OK);
	ck_assert_int_eq(ns, INT64_MIN);
	ck_assert_int_eq(parse_go_duration("9223372036854775807ns", &ns), ERR_OK);
	ck_assert_int_eq(ns, INT64_MAX);
}
END_TEST

START_TEST(test_duration_errors)
{
	static const char *const bad[] = { "", "-", "+", "1", "10", "s", ".s", "1x", "1s2",
					   "1.2.3s", "9223372036854775808ns", "3000000h",
					   "1sm", " 1s", "1s ", "1S" };
	int64_t ns;

	for (size_t i = 0; i < COMMON_ARRAY_LEN(bad); i++)
		ck_assert_msg(parse_go_duration(bad[i], &ns) == ERR_PARSE, "accepted \"%s\"", bad[i]);
	ck_assert_int_eq(parse_go_duration(NULL, &ns), ERR_PARSE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common_timefmt");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_rfc3339_format);
	tcase_add_test(tc, test_rfc3339_parse);
	tcase_add_test(tc, test_rfc3339_errors);
	tcase_add_loop_test(tc, test_duration_format, 0, (int)COMMON_ARRAY_LEN(dur_cases));
	tcase_add_loop_test(tc, test_duration_roundtrip, 0, (int)COMMON_ARRAY_LEN(dur_cases));
	tcase_add_test(tc, test_duration_parse);
	tcase_add_test(tc, test_duration_errors);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
