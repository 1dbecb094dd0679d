/*
 * check_scraper_selfmetrics.c - the scraper's families on /metrics
 * (scraper/selfmetrics.c) after rounds against the fake kubelet of
 * scraper_fixture.h: metrics-server's names, help texts and buckets, a
 * vanished node's series dropped.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scraper/scraper.h"
#include "test/unit/scraper_fixture.h"
#include "test/unit/unit.h"

/* ---- self-metrics -------------------------------------------------------------- */

/* Families as metrics-server's registry prints them; a vanished node's
 * series go away. */
START_TEST(self_metrics_text)
{
	struct rig r;
	struct dynbuf m;

	rig_start(&r, &server);
	rig_scraper(&r);
	dynbuf_init(&m, DYN_SMALL);
	ck_assert_int_eq(scraper_write_metrics(r.s, &m), 0);
	ck_assert_str_eq(m.buf,
		"# HELP metrics_server_manager_tick_duration_seconds [ALPHA] The total time spent "
		"collecting and storing metrics in seconds.\n"
		"# TYPE metrics_server_manager_tick_duration_seconds histogram\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"0.005\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"0.01\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"0.025\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"0.05\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"0.1\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"0.25\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"0.5\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"1\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"2.5\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"5\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"10\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"12.5\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"15\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"22.5\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"30\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_bucket{le=\"+Inf\"} 0\n"
		"metrics_server_manager_tick_duration_seconds_sum 0\n"
		"metrics_server_manager_tick_duration_seconds_count 0\n");
	add_node(&r.c, "a", "/dyn");
	add_node(&r.c, "b", "/500");
	free(rig_round_logged(&r));
	dynbuf_reset(&m);
	ck_assert_int_eq(scraper_write_metrics(r.s, &m), 0);
	const char *want_head =
		"# HELP metrics_server_kubelet_last_request_time_seconds [ALPHA] Time of last request "
		"performed to Kubelet API since unix epoch in seconds\n"
		"# TYPE metrics_server_kubelet_last_request_time_seconds gauge\n"
		"metrics_server_kubelet_last_request_time_seconds{node=\"a\"} 1.7e+09\n"
		"metrics_server_kubelet_last_request_time_seconds{node=\"b\"} 1.7e+09\n"
		"# HELP metrics_server_kubelet_request_duration_seconds [ALPHA] Duration of requests to "
		"Kubelet API in seconds\n"
		"# TYPE metrics_server_kubelet_request_duration_seconds histogram\n"
		"metrics_server_kubelet_request_duration_seconds_bucket{node=\"a\",le=\"0.005\"} ";
	ck_assert_msg(strncmp(m.buf, want_head, strlen(want_head)) == 0, "%s", m.buf);
	ck_assert_log(m.buf, "metrics_server_kubelet_request_duration_seconds_bucket{node=\"a\",le=\"+Inf\"} 1\n"
			     "metrics_server_kubelet_request_duration_seconds_sum{node=\"a\"} ");
	ck_assert_log(m.buf, "metrics_server_kubelet_request_duration_seconds_count{node=\"b\"} 1\n"
			     "# HELP metrics_server_kubelet_request_total [ALPHA] Number of requests sent "
			     "to Kubelet API\n# TYPE metrics_server_kubelet_request_total counter\n"
			     "metrics_server_kubelet_request_total{success=\"false\"} 1\n"
			     "metrics_server_kubelet_request_total{success=\"true\"} 1\n"
			     "# HELP metrics_server_manager_tick_duration_seconds");
	ck_assert_log(m.buf, "metrics_server_manager_tick_duration_seconds_bucket{le=\"+Inf\"} 1\n");
	ck_assert_log(m.buf, "metrics_server_manager_tick_duration_seconds_count 1\n");
	r.c.snap.nnodes = 1; /* b is gone */
	rig_round(&r);
	dynbuf_reset(&m);
	ck_assert_int_eq(scraper_write_metrics(r.s, &m), 0);
	ck_assert_ptr_null(strstr(m.buf, "node=\"b\""));
	ck_assert_log(m.buf, "metrics_server_kubelet_request_duration_seconds_count{node=\"a\"} 2\n");
	r.c.snap.nnodes = 2;
	dynbuf_clear(&m);
	rig_stop(&r);
}
END_TEST

static Suite *selfmetrics_suite(void)
{
	Suite *s = suite_create("scraper_selfmetrics");
	TCase *tc = tcase_create("selfmetrics");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, setup_certs, teardown_certs);
	tcase_add_test(tc, self_metrics_text);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(selfmetrics_suite());
}
