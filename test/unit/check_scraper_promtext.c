/*
 * check_scraper_promtext.c - one line of the Prometheus text format
 * (scraper/promtext.c) as the decoder reads it: label escapes and syntax
 * variants, comments, every malformed line's error text, NUL bytes, the
 * value fast path against scraper__parse_float() and timestamp lengths.
 * Bodies go through the decoder (decode_text() of scraper_fixture.h).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/unit/scraper_fixture.h"
#include "test/unit/unit.h"

#define CPU(labels, v) "container_cpu_usage_seconds_total{" labels "} " v " 1000\n"
#define MEM(labels, v) "container_memory_working_set_bytes{" labels "} " v " 1000\n"

START_TEST(label_escapes)
{
	const char *l = "container=\"a\\\"b\",namespace=\"n\\\\s\",pod=\"p\\nq\"";
	char body[512];

	snprintf(body, sizeof(body), CPU("%s", "1") MEM("%s", "2"), l, l);
	expect_text(body, "container n\\s/p\nq/a\"b ts=1000000000 start=0 cpu=1000000000 mem=2\n");
}
END_TEST

START_TEST(label_syntax_variants)
{
	/* blanks around tokens, trailing comma, other labels, tabs, UTF-8 */
	expect_text("container_cpu_usage_seconds_total { id=\"x\", container = \"c\" ,\tpod=\"p\","
		    "namespace=\"n\", } 1.5\t1000\n" MEM("pod=\"p\",namespace=\"n\",container=\"c\"", "7")
		    "node_cpu_usage_seconds_total{} 2 3000\nnode_memory_working_set_bytes 4e3 2000\n"
		    "other_metric{v=\"caf\xc3\xa9 \xe2\x82\xac\"} 1\n",
		    "node node1 ts=2000000000 start=0 cpu=2000000000 mem=4000\n"
		    "container n/p/c ts=1000000000 start=0 cpu=1500000000 mem=7\n");
}
END_TEST

static const struct {
	const char *text;
	const char *err;
} bad_lines[] = {
	{"x{a=\"\\t\"} 1\n", "line 1: invalid escape sequence in label value, got \"\\\\t\""},
	{"x{a=\"b\"+} 1\n", "line 1: expected ',' or '}' after label value, got \"+}\""},
	{"x{a=b} 1\n", "line 1: expected '\"' at start of label value, got \"b}\""},
	{"x{@=\"b\"} 1\n", "line 1: expected label name, got \"@=\\\"b\\\"}\""},
	{"x{,} 1\n", "line 1: expected label name, got \",}\""},
	{"x{a=\"b\" c=\"d\"} 1\n", "line 1: expected ',' or '}' after label value, got \"c=\\\"d\\\"}\""},
	{"x{a=\"b} 1\n", "line 1: unterminated label value"},
	{"x{a=\"\xff\"} 1\n", "line 1: invalid UTF-8 in label value"},
	{"x{a=\"\xed\xa0\x80\"} 1\n", "line 1: invalid UTF-8 in label value"},
	{"x 1 2 3\n", "line 1: expected next entry after timestamp, got \"3\""},
	{"x 3.14 2.72\n", "line 1: expected next entry after timestamp, got \".72\""},
	{"x blubb\n", "line 1: expected float as value, got \"blubb\""},
	{"x 1_2\n", "line 1: expected float as value, got \"1_2\""},
	{"x 0x1p-3\n", "line 1: expected float as value, got \"0x1p-3\""},
	{"x 1e400\n", "line 1: expected float as value, got \"1e400\""},
	{"x\n", "line 1: expected value after metric, got end of line"},
	{"{} 3\n", "line 1: expected metric name, got \"{}\""},
	{"x-y 3\n", "line 1: invalid metric name, got \"x-y\""},
	{"x 1 99999999999999999\n", "line 1: timestamp out of range, got \"99999999999999999\""},
	{"x 1\r\n", "line 1: expected float as value, got \"1\\x0d\""},
	{"# TYPE x bla\n", "line 1: invalid metric type, got \"bla\""},
	{"# TYPE x\n", "line 1: invalid metric type, got end of line"},
	{"# TYPE met-ric gauge\n", "line 1: invalid metric name in comment, got \"-ric\""},
	{"# HELP x caf\xc3\n", "line 1: invalid UTF-8 in comment"},
	{"\n\nx 1 -5\n", "line 3: expected timestamp or new record, got \"-5\""},
	{"x{pod=\"a\",pod=\"b\"} 1\n", "line 1: duplicate label, got \"pod\""},
	{CPU("pod=\"p\",namespace=\"n\"", "1"), "line 1: container series without a \"container\" label"},
	{CPU("container=\"\",pod=\"p\",namespace=\"n\"", "1"),
	 "line 1: container series without a \"container\" label"},
};

START_TEST(bad_line)
{
	char want[300];

	snprintf(want, sizeof(want), "failed parsing metrics: %s", bad_lines[_i].err);
	expect_error(bad_lines[_i].text, strlen(bad_lines[_i].text), ERR_PARSE, want);
}
END_TEST

START_TEST(good_comments)
{
	expect_text("#\n# HELP\n#HELP x y\n# Hrandom stuff\n# HELP nohelp1\n# \tTYPE x summary\n"
		    "# TYPE x untyped  \n# HELP x doc with \\\\ and \\n caf\xc3\xa9\n   \n\t\n",
		    "");
}
END_TEST

START_TEST(nul_bytes)
{
	static const char *const bodies[] = {
		"x{a=\"b\0\"} 1\n", "\0x 1\n", "x\0 1\n", "x 1\0\n", "# HELP x a\0b\n", "x 1 1\0\n",
	};
	static const size_t lens[] = {12, 5, 5, 5, 13, 7};
	static const char *const errs[] = {
		"line 1: control character in label value, got \"\\x00\"",
		"line 1: expected metric name, got \"\\x00x\"",
		"line 1: invalid metric name, got \"x\\x00\"",
		"line 1: expected float as value, got \"1\\x00\"",
		"line 1: control character in comment, got \"\\x00\"",
		"line 1: expected next entry after timestamp, got \"\\x00\"",
	};
	char want[300];

	snprintf(want, sizeof(want), "failed parsing metrics: %s", errs[_i]);
	expect_error(bodies[_i], lens[_i], ERR_PARSE, want);
}
END_TEST

/* A value read on the line's fast path is what parse_float makes of its
 * token, and a token it refuses fails the line as a whole. */
START_TEST(values_match_parse_float)
{
	static const char *const good[] = {
		"1", "1.5", "12345.678", "1e3", "1E+3", "5.", "00012.5000", "1.00663296e+08",
		"123456789012345678901234", "9007199254740993", "1.7976931348623157e308", "Inf",
		"+Inf", "1.0e0", "3.0000000000000000001", "0.000000000000000000000000001e30",
		"12345678901234567890.5", "4.710169",
	};
	static const char *const bad[] = {"1e", "1e+", "1.5x", "0x10", "1e400", "1..2", "--1",
					  "+nan", ".", "1_0", "1e5e5", "1.5e-", "-"};
	char body[256], want[256], err[256];
	double v;
	char *got;
	int rc;

	for (size_t i = 0; i < COMMON_ARRAY_LEN(good); i++) {
		ck_assert_int_eq(scraper__parse_float(good[i], strlen(good[i]), &v), 0);
		snprintf(body, sizeof(body), "node_cpu_usage_seconds_total 1 5\n"
			 "node_memory_working_set_bytes %s\t6\n", good[i]);
		snprintf(want, sizeof(want), "node node1 ts=6000000 start=0 cpu=1000000000 mem=%llu\n",
			 v >= 18446744073709551616.0 ? (unsigned long long)UINT64_MAX
						     : (unsigned long long)v);
		expect_text(body, want);
	}
	for (size_t i = 0; i < COMMON_ARRAY_LEN(bad); i++) {
		ck_assert_int_eq(scraper__parse_float(bad[i], strlen(bad[i]), &v), ERR_PARSE);
		snprintf(body, sizeof(body), "node_memory_working_set_bytes %s 6\n", bad[i]);
		snprintf(want, sizeof(want),
			 "failed parsing metrics: line 1: expected float as value, got \"%s\"", bad[i]);
		expect_error(body, strlen(body), ERR_PARSE, want);
	}
	/* the value ends at '{' too: what follows is no timestamp */
	got = decode_text("node_memory_working_set_bytes 1{ 6\n", 35, &rc, err, sizeof(err));
	ck_assert_int_eq(rc, ERR_PARSE);
	ck_assert_str_eq(err, "failed parsing metrics: line 1: expected timestamp or new record, "
			      "got \"{\"");
	free(got);
}
END_TEST

/* Timestamps of every length around the 8-digit steps and the limits. */
START_TEST(timestamp_lengths)
{
	static const struct {
		const char *ts, *want; /* want: ts_ns, or the error's detail */
	} cases[] = {
		{"7", "7000000"},
		{"12345678", "12345678000000"},
		{"123456789", "123456789000000"},
		{"1234567890123456", NULL},
		{"0001633253812125", "1633253812125000000"},
		{"9223372036854", "9223372036854000000"},
		{"0000000000000000001", "1000000"},
		{"9223372036855", "timestamp out of range, got \"9223372036855\""},
		{"00000000000000000001", "timestamp out of range, got \"00000000000000000001\""},
		{"1234567x", "expected next entry after timestamp, got \"x\""},
	};
	char body[256], want[256];

	for (size_t i = 0; i < COMMON_ARRAY_LEN(cases); i++) {
		snprintf(body, sizeof(body), "node_cpu_usage_seconds_total 1 %s\n"
			 "node_memory_working_set_bytes 2 %s\n", cases[i].ts, cases[i].ts);
		if (!cases[i].want) {
			snprintf(want, sizeof(want), "failed parsing metrics: line 1: timestamp out of "
				 "range, got \"%s\"", cases[i].ts);
			expect_error(body, strlen(body), ERR_PARSE, want);
		} else if (cases[i].want[0] >= '0' && cases[i].want[0] <= '9') {
			snprintf(want, sizeof(want), "node node1 ts=%s start=0 cpu=1000000000 mem=2\n",
				 cases[i].want);
			expect_text(body, want);
		} else {
			snprintf(want, sizeof(want), "failed parsing metrics: line 1: %s", cases[i].want);
			expect_error(body, strlen(body), ERR_PARSE, want);
		}
	}
}
END_TEST

static Suite *promtext_suite(void)
{
	Suite *s = suite_create("scraper_promtext");
	TCase *tc = tcase_create("lines");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, label_escapes);
	tcase_add_test(tc, label_syntax_variants);
	tcase_add_loop_test(tc, bad_line, 0, (int)COMMON_ARRAY_LEN(bad_lines));
	tcase_add_test(tc, good_comments);
	tcase_add_loop_test(tc, nul_bytes, 0, 6);
	tcase_add_test(tc, values_match_parse_float);
	tcase_add_test(tc, timestamp_lengths);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(promtext_suite());
}
