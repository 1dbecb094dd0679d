/* check_common_quantity.c - common/quantity.c: canonical strings (aggregation.md
 * §6.3, metrics-server.md §5.3), parsing, Value/MilliValue rounding. */
#include <check.h>
#include <stdint.h>

#include "common/common.h"
#include "test/unit/unit.h"

struct fmt_case {
	int64_t value;
	int32_t scale;
	enum quantity_format format;
	const char *want;
};

static const struct fmt_case fmt_cases[] = {
	/* aggregation.md §6.3 */
	{ 0, -9, QF_DECIMAL_SI, "0" },
	{ 1, -9, QF_DECIMAL_SI, "1n" },
	{ 999, -9, QF_DECIMAL_SI, "999n" },
	{ 1000, -9, QF_DECIMAL_SI, "1u" },
	{ 1500, -9, QF_DECIMAL_SI, "1500n" },
	{ 10000, -9, QF_DECIMAL_SI, "10u" },
	{ 12000000, -9, QF_DECIMAL_SI, "12m" },
	{ 123456789, -9, QF_DECIMAL_SI, "123456789n" },
	{ 250000000, -9, QF_DECIMAL_SI, "250m" },
	{ 1000000000, -9, QF_DECIMAL_SI, "1" },
	{ 1500000000, -9, QF_DECIMAL_SI, "1500m" },
	{ 2000000000000, -9, QF_DECIMAL_SI, "2k" },
	{ 5000, -3, QF_DECIMAL_SI, "5" },
	{ 0, 0, QF_BINARY_SI, "0" },
	{ 512, 0, QF_BINARY_SI, "512" },
	{ 1000, 0, QF_BINARY_SI, "1k" },
	{ 1023, 0, QF_BINARY_SI, "1023" },
	{ 1024, 0, QF_BINARY_SI, "1Ki" },
	{ 1536, 0, QF_BINARY_SI, "1536" },
	{ 2000, 0, QF_BINARY_SI, "2000" },
	{ 2048, 0, QF_BINARY_SI, "2Ki" },
	{ 1048576, 0, QF_BINARY_SI, "1Mi" },
	{ 1572864, 0, QF_BINARY_SI, "1536Ki" },
	{ 4096000, 0, QF_BINARY_SI, "4000Ki" },
	{ 123456789, 0, QF_BINARY_SI, "123456789" },
	{ 3353849856, 0, QF_BINARY_SI, "3275244Ki" },
	{ 1000000, 0, QF_BINARY_SI, "1000000" },
	{ 1234567, -3, QF_BINARY_SI, "1234567m" },
	{ 500, -3, QF_BINARY_SI, "500m" },
	{ 1073741824, 0, QF_BINARY_SI, "1Gi" },
	{ INT64_C(1) << 60, 0, QF_BINARY_SI, "1Ei" },
	{ -1500000000, -9, QF_DECIMAL_SI, "-1500m" },
	/* metrics-server.md §5.3 */
	{ 476038624, -9, QF_DECIMAL_SI, "476038624n" },
	{ 10066049, -9, QF_DECIMAL_SI, "10066049n" },
	{ 500000000, -9, QF_DECIMAL_SI, "500m" },
	{ 1500000, -9, QF_DECIMAL_SI, "1500u" },
	{ 500000, -9, QF_DECIMAL_SI, "500u" },
	{ 2000000000, -9, QF_DECIMAL_SI, "2" },
	{ 12533760, 0, QF_BINARY_SI, "12240Ki" },
	{ 2056949760, 0, QF_BINARY_SI, "2008740Ki" },
	{ 12582912, 0, QF_BINARY_SI, "12Mi" },
	{ 1616273409, 0, QF_BINARY_SI, "1616273409" },
	{ 1616273408, 0, QF_BINARY_SI, "1578392Ki" },
	/* DecimalExponent and the no-suffix exponents */
	{ 1, 3, QF_DECIMAL_EXPONENT, "1e3" },
	{ 100, 3, QF_DECIMAL_EXPONENT, "100e3" },
	{ 5, 0, QF_DECIMAL_EXPONENT, "5" },
	{ 108, -2, QF_DECIMAL_SI, "1080m" },
	{ 1, 21, QF_DECIMAL_SI, "1" },
	{ 7, INT32_MIN + 10, QF_BINARY_SI, "700" },  /* no suffix there: digits only, as Go */
	/* the x10 step past 64 bits still prints every digit */
	{ INT64_MAX, 1, QF_DECIMAL_SI, "92233720368547758070" },
	{ INT64_MIN, 0, QF_DECIMAL_SI, "-9223372036854775808" },
	{ -1024, 0, QF_BINARY_SI, "-1Ki" },
	{ -1000, 0, QF_BINARY_SI, "-1k" },
};

START_TEST(test_format_table)
{
	const struct fmt_case *c = &fmt_cases[_i];
	struct quantity q = { c->value, c->scale, c->format };
	char buf[48];

	quantity_format(&q, buf, sizeof(buf));
	ck_assert_msg(strcmp(buf, c->want) == 0, "%lld e%d: got %s want %s", (long long)c->value,
		      (int)c->scale, buf, c->want);
}
END_TEST

struct parse_case {
	const char *in;
	const char *canonical;
	enum quantity_format format;
};

static const struct parse_case parse_cases[] = {
	/* apimachinery TestQuantityParseEmit / aggregation.md §6.3 */
	{ "1.5Gi", "1536Mi", QF_BINARY_SI },
	{ "1024Mi", "1Gi", QF_BINARY_SI },
	{ "1000M", "1G", QF_DECIMAL_SI },
	{ "108e-2", "1080e-3", QF_DECIMAL_EXPONENT },  /* the format sticks */
	{ "e3", "0", QF_DECIMAL_EXPONENT },            /* no digits reads as 0, as upstream */
	{ "-", "0", QF_DECIMAL_SI },
	{ ".001Ki", "1024m", QF_BINARY_SI },
	{ ".000000000001Ki", "2n", QF_DECIMAL_SI },
	{ "0", "0", QF_DECIMAL_SI },
	{ "0Ki", "0", QF_BINARY_SI },
	{ "100m", "100m", QF_DECIMAL_SI },
	{ "1500n", "1500n", QF_DECIMAL_SI },
	{ "0.5", "500m", QF_DECIMAL_SI },
	{ "1.1", "1100m", QF_DECIMAL_SI },
	{ "-1.5", "-1500m", QF_DECIMAL_SI },
	{ "+12", "12", QF_DECIMAL_SI },
	{ "007", "7", QF_DECIMAL_SI },
	{ "1e3", "1e3", QF_DECIMAL_EXPONENT },
	{ "1E3", "1e3", QF_DECIMAL_EXPONENT },
	{ "1E", "1E", QF_DECIMAL_SI },
	{ "5Ki", "5Ki", QF_BINARY_SI },
	{ "2Ei", "2Ei", QF_BINARY_SI },
	{ "8Ei", "9223372036854775807", QF_BINARY_SI },  /* capped at maxAllowed */
	{ "0.0000000001", "1n", QF_DECIMAL_SI },        /* finer than n rounds up */
	{ "-0.0000000001", "-1n", QF_DECIMAL_SI },
	{ "1.0000000001", "1000000001n", QF_DECIMAL_SI },
	{ "12240Ki", "12240Ki", QF_BINARY_SI },
	{ "476038624n", "476038624n", QF_DECIMAL_SI },
	{ ".5", "500m", QF_DECIMAL_SI },
	{ "1.", "1", QF_DECIMAL_SI },
};

START_TEST(test_parse_table)
{
	const struct parse_case *c = &parse_cases[_i];
	struct quantity q;
	char buf[48];

	ck_assert_int_eq(quantity_parse(c->in, &q), ERR_OK);
	quantity_format(&q, buf, sizeof(buf));
	ck_assert_msg(strcmp(buf, c->canonical) == 0, "%s: got %s want %s", c->in, buf, c->canonical);
	ck_assert_msg(q.format == c->format, "%s: format %d want %d", c->in, q.format, c->format);
}
END_TEST

START_TEST(test_parse_errors)
{
	static const char *const bad[] = { "", "abc", "1.2.3", "1Kii", "1e", "1ee3", "1 ",
					   " 1", "1Ki3", "1e3.5", "--1", "1x", "1ki", "1e2147483648" };
	struct quantity q;

	for (size_t i = 0; i < COMMON_ARRAY_LEN(bad); i++)
		ck_assert_msg(quantity_parse(bad[i], &q) == ERR_PARSE, "accepted \"%s\"", bad[i]);
	ck_assert_int_eq(quantity_parse(NULL, &q), ERR_PARSE);
}
END_TEST

START_TEST(test_values_round_up)
{
	struct quantity q;

	/* kubectl top shows MilliValue (ceil): 1500n is 0.0015m -> 1m,
	 * 1500000n -> 2m, 152372514n -> 153m */
	ck_assert_int_eq(quantity_parse("1500n", &q), ERR_OK);
	ck_assert_int_eq(quantity_milli_value(&q), 1);
	ck_assert_int_eq(quantity_parse("1500000n", &q), ERR_OK);
	ck_assert_int_eq(quantity_milli_value(&q), 2);
	ck_assert_int_eq(quantity_parse("152372514n", &q), ERR_OK);
	ck_assert_int_eq(quantity_milli_value(&q), 153);
	ck_assert_int_eq(quantity_value(&q), 1);
	ck_assert_int_eq(quantity_nano_value(&q), 152372514);
	ck_assert_int_eq(quantity_parse("1480044Ki", &q), ERR_OK);
	ck_assert_int_eq(quantity_value(&q), 1515565056);
	ck_assert_int_eq(quantity_milli_value(&q), 1515565056000);
	ck_assert_int_eq(quantity_parse("-1500000n", &q), ERR_OK);
	ck_assert_int_eq(quantity_milli_value(&q), -2);
	ck_assert_int_eq(quantity_parse("8", &q), ERR_OK);
	ck_assert_int_eq(quantity_milli_value(&q), 8000);
	ck_assert_int_eq(quantity_parse("9E", &q), ERR_OK);
	ck_assert_int_eq(quantity_nano_value(&q), INT64_MAX);
	ck_assert_int_eq(quantity_value(&q), 9000000000000000000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common_quantity");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_loop_test(tc, test_format_table, 0, (int)COMMON_ARRAY_LEN(fmt_cases));
	tcase_add_loop_test(tc, test_parse_table, 0, (int)COMMON_ARRAY_LEN(parse_cases));
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_values_round_up);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
