/*
 * check_scraper_loop.c - the scraper as the server runs it, with the fake
 * kubelet of scraper_fixture.h: the self-metrics text it serves
 * (metrics-server's families, a vanished node's series dropped) and the
 * loop thread (rounds from an informer's snapshot once per resolution,
 * scraper_free() stopping it even mid-request).
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
	dynbuf_release(&m);
	rig_stop(&r);
}
END_TEST

/* ---- the loop ------------------------------------------------------------------ */

struct rounds {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int n;
	size_t pods;
};

static void on_round(void *ud, const struct scraper_round_stats *st)
{
	struct rounds *r = ud;

	pthread_mutex_lock(&r->mu);
	r->n++;
	r->pods = st->pods;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* Blocks until `want` rounds ran (the test's timeout bounds the wait). */
static void wait_rounds(struct rounds *r, int want)
{
	pthread_mutex_lock(&r->mu);
	while (r->n < want)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
}

/* Rounds run on their own thread from the informer's snapshot, one per
 * resolution, and scraper_free() stops the loop even mid-request. */
START_TEST(loop_runs_rounds_until_freed)
{
	struct kubelet *k = kubelet_start(&server);
	char server_url[64];
	struct kube_config cfg = {.server = server_url, .ca_file = ca_path};
	struct kube_client *kc;
	struct kube_informer *inf;
	struct store *st = store_new(NS_PER_SEC);
	struct scraper_options o = options(k);
	struct rounds r = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	struct scraper *s;
	struct store_usage u;

	snprintf(server_url, sizeof(server_url), "https://127.0.0.1:%d", k->port);
	kc = kube_client_new(&cfg);
	inf = kube_informer_start(kc, NULL, NULL);
	ck_assert(kube_informer_wait_synced(inf, 10 * NS_PER_SEC));
	o.resolution_ns = NS_PER_SEC;
	o.use_node_status_port = true;
	o.kubelet_port = 1; /* must not be used */
	s = scraper_new(&o, st);
	ck_assert_int_eq(scraper_last_round_start_ns(s), 0);
	ck_assert_int_eq(scraper_start(s, inf, on_round, &r), 0);
	ck_assert_int_eq(scraper_start(s, inf, on_round, &r), ERR_INVAL);
	wait_rounds(&r, 3);
	ck_assert_int_eq(scraper_last_round_start_ns(s), FAKE_NOW);
	ck_assert_uint_eq(r.pods, 1);
	struct store_snapshot *snap = store_acquire(st);
	ck_assert_int_eq(store_node_usage(snap, "sim-1", &u), 0);
	ck_assert_uint_eq(u.cpu_nanocores, 1000000000u);
	store_release(snap);
	scraper_free(s);
	ck_assert_int_ge(atomic_load(&k->requests), 3);

	/* a kubelet that never answers: free() must not wait for the timeout */
	int seen = atomic_load(&k->requests);
	atomic_store(&k->block_dyn, true);
	o.request_timeout_ns = 60 * NS_PER_SEC;
	o.resolution_ns = 120 * NS_PER_SEC;
	s = scraper_new(&o, st);
	ck_assert_int_eq(scraper_start(s, inf, NULL, NULL), 0);
	wait_requests(k, seen + 1);
	scraper_free(s);

	kube_informer_stop(inf);
	kube_client_free(kc);
	store_free(st);
	kubelet_stop(k);
}
END_TEST

static Suite *loop_suite(void)
{
	Suite *s = suite_create("scraper_loop");
	TCase *tc = tcase_create("loop");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, setup_certs, teardown_certs);
	tcase_add_test(tc, self_metrics_text);
	tcase_add_test(tc, loop_runs_rounds_until_freed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(loop_suite());
}
