/*
 * check_scraper_loop.c - the scraper's loop thread (scraper/loop.c) with
 * the fake kubelet of scraper_fixture.h: rounds from an informer's
 * snapshot once per resolution, scraper_free() stopping it even
 * mid-request.
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
	store_snapshot_unref(snap);
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
	tcase_add_test(tc, loop_runs_rounds_until_freed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(loop_suite());
}
