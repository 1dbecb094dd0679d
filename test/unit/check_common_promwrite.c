/*
 * check_common_promwrite.c - common/promwrite.c: Prometheus text heads, samples
 * and histograms byte for byte, escapes, and the buffer cap.
 */
#include "common/common.h"
#include "test/unit/unit.h"

#include <check.h>
#include <math.h>

static struct dynbuf out;

static void setup(void)
{
	dynbuf_init(&out, DYN_SMALL);
}

static void teardown(void)
{
	dynbuf_clear(&out);
}

START_TEST(test_help_type_escapes)
{
	ck_assert_int_eq(prom_write_help_type(&out, "up", "a \\ b\nc \"q\"", "gauge"), 0);
	ck_assert_str_eq(out.buf, "# HELP up a \\\\ b\\nc \"q\"\n# TYPE up gauge\n");
}
END_TEST

START_TEST(test_samples)
{
	static const struct prom_label two[] = { { "node", "a\"b\\c\nd" }, { "x", "" } };

	ck_assert_int_eq(prom_write_sample(&out, "g", NULL, 0, 1.7e9), 0);
	ck_assert_int_eq(prom_write_sample(&out, "g", two, 2, -INFINITY), 0);
	ck_assert_int_eq(prom_write_sample_uint(&out, "c", two + 1, 1, UINT64_MAX), 0);
	ck_assert_int_eq(prom_write_sample_uint(&out, "c", NULL, 0, 1234567), 0);
	ck_assert_str_eq(out.buf, "g 1.7e+09\n"
				  "g{node=\"a\\\"b\\\\c\\nd\",x=\"\"} -Inf\n"
				  "c{x=\"\"} 18446744073709551615\n"
				  "c 1234567\n");
}
END_TEST

START_TEST(test_histogram)
{
	static const double bounds[] = { 0.5, 1, 2.5 };
	static const struct prom_label node = { "node", "n1" };
	struct prom_histogram h;

	prom_histogram_init(&h, bounds, COMMON_ARRAY_LEN(bounds));
	prom_histogram_observe(&h, 0.25);
	prom_histogram_observe(&h, 1);    /* le is inclusive */
	prom_histogram_observe(&h, 1.25);
	prom_histogram_observe(&h, 1e6);  /* only +Inf */
	ck_assert_uint_eq(h.count, 4);
	ck_assert_int_eq(prom_write_histogram(&out, "d", &node, 1, &h), 0);
	ck_assert_int_eq(prom_write_histogram(&out, "e", NULL, 0, &h), 0);
	ck_assert_str_eq(out.buf, "d_bucket{node=\"n1\",le=\"0.5\"} 1\n"
				  "d_bucket{node=\"n1\",le=\"1\"} 2\n"
				  "d_bucket{node=\"n1\",le=\"2.5\"} 3\n"
				  "d_bucket{node=\"n1\",le=\"+Inf\"} 4\n"
				  "d_sum{node=\"n1\"} 1.0000025e+06\n"
				  "d_count{node=\"n1\"} 4\n"
				  "e_bucket{le=\"0.5\"} 1\n"
				  "e_bucket{le=\"1\"} 2\n"
				  "e_bucket{le=\"2.5\"} 3\n"
				  "e_bucket{le=\"+Inf\"} 4\n"
				  "e_sum 1.0000025e+06\n"
				  "e_count 4\n");
}
END_TEST

START_TEST(test_histogram_bucket_cap)
{
	static double bounds[PROM_MAX_BUCKETS + 5];
	struct prom_histogram h;

	for (size_t i = 0; i < COMMON_ARRAY_LEN(bounds); i++)
		bounds[i] = (double)i;
	prom_histogram_init(&h, bounds, COMMON_ARRAY_LEN(bounds));
	ck_assert_uint_eq(h.nb, PROM_MAX_BUCKETS);
	prom_histogram_observe(&h, 1000);
	ck_assert_uint_eq(h.count, 1);
	for (size_t i = 0; i < PROM_MAX_BUCKETS; i++)
		ck_assert_uint_eq(h.counts[i], 0);
}
END_TEST

START_TEST(test_cap)
{
	static const double bounds[] = { 1 };
	struct prom_histogram h;
	struct dynbuf small;

	prom_histogram_init(&h, bounds, 1);
	dynbuf_init(&small, 40);
	ck_assert_int_eq(prom_write_help_type(&small, "a_rather_long_metric_name", "help", "gauge"),
			 ERR_TOOBIG);
	dynbuf_reset(&small);
	ck_assert_int_eq(prom_write_histogram(&small, "h", NULL, 0, &h), ERR_TOOBIG);
	dynbuf_clear(&small);
}
END_TEST

static Suite *promwrite_suite(void)
{
	Suite *s = suite_create("common_promwrite");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_help_type_escapes);
	tcase_add_test(tc, test_samples);
	tcase_add_test(tc, test_histogram);
	tcase_add_test(tc, test_histogram_bucket_cap);
	tcase_add_test(tc, test_cap);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(promwrite_suite());
}
