/* check_server_metrics.c - server/metrics.c: the freshness histogram and the
 * storage points gauge in Prometheus text, numbers as Go formats them. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"
#include "test/unit/unit.h"

static const char *const bounds[] = {
	"1", "1.364", "1.8604960000000004", "2.5377165440000007", "3.4614453660160014",
	"4.721411479245826", "6.440005257691307", "8.784167171490942", "11.981604021913647",
	"16.342907885890217", "22.291726356354257", "30.405914750067208", "41.47366771909167",
	"56.57008276884105", "77.16159289669919", "105.2484127110977", "143.55883493793726",
	"195.81425085534644", "267.09063816669254", "364.31163045936864",
};

/* The expected family with bucket i counting counts[i] (cumulative). */
static void expected(struct dynbuf *b, const unsigned *counts, unsigned inf, const char *sum)
{
	static const char name[] = "metrics_server_api_metric_freshness_seconds";

	ck_assert_int_eq(dynbuf_printf(b, "# HELP %s [ALPHA] Freshness of metrics exported\n"
				       "# TYPE %s histogram\n", name, name), 0);
	for (size_t i = 0; i < COMMON_ARRAY_LEN(bounds); i++)
		ck_assert_int_eq(dynbuf_printf(b, "%s_bucket{le=\"%s\"} %u\n", name, bounds[i],
					       counts[i]), 0);
	ck_assert_int_eq(dynbuf_printf(b, "%s_bucket{le=\"+Inf\"} %u\n%s_sum %s\n%s_count %u\n",
				       name, inf, name, sum, name, inf), 0);
}

START_TEST(test_freshness_histogram)
{
	struct server_metrics *m = server_metrics_new();
	unsigned counts[20] = { 2, 2 };
	struct dynbuf got, want;

	for (size_t i = 2; i < 20; i++)
		counts[i] = 3;
	server_metrics_observe_freshness(m, 0.5);
	server_metrics_observe_freshness(m, 1.0);   /* le is inclusive */
	server_metrics_observe_freshness(m, 1.5);
	server_metrics_observe_freshness(m, 400.25);
	dynbuf_init(&got, DYN_SMALL);
	dynbuf_init(&want, DYN_SMALL);
	ck_assert_int_eq(server_metrics_write_freshness(m, &got), 0);
	expected(&want, counts, 4, "403.25");
	ck_assert_str_eq(got.buf, want.buf);
	dynbuf_clear(&got);
	dynbuf_clear(&want);
	server_metrics_free(m);
}
END_TEST

START_TEST(test_empty_and_large_sum)
{
	struct server_metrics *m = server_metrics_new();
	unsigned zero[20] = { 0 };
	struct dynbuf got, want;

	dynbuf_init(&got, DYN_SMALL);
	dynbuf_init(&want, DYN_SMALL);
	ck_assert_int_eq(server_metrics_write_freshness(m, &got), 0);
	expected(&want, zero, 0, "0");
	ck_assert_str_eq(got.buf, want.buf);
	/* Go's shortest 'g': exponent form from 1e6 up. */
	server_metrics_observe_freshness(m, 1234567.5);
	dynbuf_reset(&got);
	dynbuf_reset(&want);
	ck_assert_int_eq(server_metrics_write_freshness(m, &got), 0);
	expected(&want, zero, 1, "1.2345675e+06");
	ck_assert_str_eq(got.buf, want.buf);
	dynbuf_clear(&got);
	dynbuf_clear(&want);
	server_metrics_free(m);
}
END_TEST

START_TEST(test_storage_points)
{
	struct dynbuf got;

	dynbuf_init(&got, DYN_SMALL);
	ck_assert_int_eq(server_metrics_write_storage_points(3, 41, &got), 0);
	ck_assert_str_eq(got.buf, "# HELP metrics_server_storage_points [ALPHA] Number of metrics "
				  "points stored.\n"
				  "# TYPE metrics_server_storage_points gauge\n"
				  "metrics_server_storage_points{type=\"container\"} 41\n"
				  "metrics_server_storage_points{type=\"node\"} 3\n");
	dynbuf_clear(&got);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("server_metrics");
	TCase *tc = tcase_create("metrics");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_freshness_histogram);
	tcase_add_test(tc, test_empty_and_large_sum);
	tcase_add_test(tc, test_storage_points);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
