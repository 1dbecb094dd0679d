/*
 * check_scraper_apploop.c - the application loop (scraper/apploop.c) over
 * real HTTPS on loopback against the fake kubelet of scraper_fixture.h:
 * rounds from the informer's snapshot plus static targets once per
 * resolution into a series store, failures counted by reason in the
 * self-metrics, and scraper_apps_stop() aborting a round in flight at
 * once (appround.c's abort) instead of waiting for the request timeout.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scraper/scraper.h"
#include "series/series.h"
#include "test/unit/scraper_fixture.h"
#include "test/unit/unit.h"

/* What on_round saw; `hold` parks the loop thread in its callback after
 * round `hold` until the test lets it go (so the self-metrics hold still). */
struct rounds {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int n, hold;
	bool go;
	struct scraper_app_round_stats last;
};

static void on_round(void *ud, const struct scraper_app_round_stats *st)
{
	struct rounds *r = ud;

	pthread_mutex_lock(&r->mu);
	r->n++;
	r->last = *st;
	pthread_cond_broadcast(&r->cv);
	while (r->n == r->hold && !r->go)
		pthread_cond_wait(&r->cv, &r->mu);
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

static void release(struct rounds *r)
{
	pthread_mutex_lock(&r->mu);
	r->go = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* A kube client and synced informer on the fake kubelet's kube-apiserver
 * (one node, no pods: the targets are the static ones). */
struct cluster_api {
	char url[64];
	struct kube_config cfg;
	struct kube_client *kc;
	struct kube_informer *inf;
};

static void api_start(struct cluster_api *c, const struct kubelet *k)
{
	snprintf(c->url, sizeof(c->url), "https://127.0.0.1:%d", k->port);
	c->cfg = (struct kube_config){.server = c->url, .ca_file = ca_path};
	c->kc = kube_client_new(&c->cfg);
	c->inf = kube_informer_start(c->kc, NULL, NULL);
	ck_assert(kube_informer_wait_synced(c->inf, 10 * NS_PER_SEC));
}

static void api_stop(struct cluster_api *c)
{
	kube_informer_stop(c->inf);
	kube_client_free(c->kc);
}

static void static_target(struct scraper_app_target *t, const char *key, const struct kubelet *k,
			  const char *path)
{
	t->key = xstrdup(key);
	t->url = xasprintf("https://127.0.0.1:%u%s", k->port, path);
	labels_init(&t->labels);
	labels_set(&t->labels, "job", key);
}

/* Blocks until the fake server saw an application scrape (its Accept
 * header; the informer's requests ask for JSON). */
static void wait_app_request(struct kubelet *k)
{
	pthread_mutex_lock(&k->mu);
	while (!strstr(k->accept, "openmetrics"))
		pthread_cond_wait(&k->cv, &k->mu);
	pthread_mutex_unlock(&k->mu);
}

static void count_points(void *ctx, const struct series_view *v)
{
	*(size_t *)ctx += v->n;
}

/* Points of temp{job="a"} in the store. */
static size_t temp_points(struct series *ser)
{
	struct series_snapshot *snap = series_acquire(ser);
	struct series_matcher m[2] = {{"__name__", "temp", SERIES_EQ}, {"job", "a", SERIES_EQ}};
	size_t n = 0;

	ck_assert_int_eq(series_select(snap, m, 2, 0, INT64_MAX, count_points, &n), 0);
	series_snapshot_unref(snap);
	return n;
}

/* Two rounds, 300 ms apart, of a good target and one with a malformed
 * line: the good one's series have a point per round, the other fails
 * each round as "parse", and /metrics' families say so. */
START_TEST(loop_rounds_into_series)
{
	struct kubelet *k = kubelet_start(&server);
	struct cluster_api api;
	struct series_options so = {.window_ms = 60000, .resolution_ms = 300};
	struct series *ser;
	struct scraper_app_target t[2];
	struct scraper_apps_loop_options o = {
		.resolution_ns = 300 * NS_PER_MS,
		.app = {.timeout_ns = 5 * NS_PER_SEC, .ca_file = ca_path},
		.statics = t,
		.nstatics = 2,
	};
	struct rounds r = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 2, false, {0}};
	struct scraper_apps_loop *l;
	struct series_stats ss;
	struct dynbuf b;
	char err[256];

	clock_set_fake_now(0); /* real timestamps: one point per round */
	api_start(&api, k);
	ser = series_new(&so, err, sizeof(err));
	ck_assert_ptr_nonnull(ser);
	static_target(&t[0], "a", k, "/app");
	static_target(&t[1], "bad", k, "/app/bad");
	ck_assert_int_eq(scraper_apps_start(&o, ser, api.inf, on_round, &r, &l), 0);
	for (size_t i = 0; i < 2; i++) { /* copied by the loop */
		free(t[i].key);
		free(t[i].url);
		labels_clear(&t[i].labels);
	}
	wait_rounds(&r, 2); /* the loop now waits in on_round */
	ck_assert_uint_eq(r.last.targets, 2);
	ck_assert_uint_eq(r.last.failed, 1);
	ck_assert_uint_eq(r.last.failed_by[SCRAPER_APP_FAIL_PARSE], 1);
	ck_assert_int_gt(r.last.duration_ns, 0);
	series_stats(ser, &ss);
	ck_assert_uint_eq(ss.series, 3); /* hello_total x2 and temp of "a" */
	ck_assert_uint_eq(temp_points(ser), 2);

	dynbuf_init(&b, 1u << 20);
	ck_assert_int_eq(scraper_apps_write_metrics(l, &b), 0);
	ck_assert_ptr_nonnull(strstr(b.buf, "# TYPE metrics_apiserver_app_scrape_duration_seconds "
					    "histogram\n"));
	ck_assert_ptr_nonnull(strstr(b.buf, "\nmetrics_apiserver_app_scrape_duration_seconds_count 2\n"));
	ck_assert_ptr_nonnull(strstr(b.buf, "\nmetrics_apiserver_app_scrape_failures_total"
					    "{reason=\"aborted\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(b.buf, "\nmetrics_apiserver_app_scrape_failures_total"
					    "{reason=\"parse\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(b.buf, "\nmetrics_apiserver_app_scrape_targets 2\n"));
	ck_assert_ptr_nonnull(strstr(b.buf, "\nmetrics_apiserver_app_scrapes_total 4\n"));
	ck_assert_ptr_nonnull(strstr(b.buf, "\nmetrics_apiserver_series 3\n"));
	ck_assert_ptr_nonnull(strstr(b.buf, "\nmetrics_apiserver_series_limit_refusals_total 0\n"));
	/* families in name order, as the Go registry gathers them */
	const char *fam[] = {"_app_scrape_duration_seconds ", "_app_scrape_failures_total ",
			     "_app_scrape_targets ", "_app_scrapes_total ", "_series ",
			     "_series_limit_refusals_total "};
	const char *prev = b.buf;
	for (size_t i = 0; i < COMMON_ARRAY_LEN(fam); i++) {
		char head[128];
		const char *at;

		snprintf(head, sizeof(head), "# HELP metrics_apiserver%s", fam[i]);
		at = strstr(b.buf, head);
		ck_assert_msg(at && at >= prev, "%s out of order", fam[i]);
		prev = at;
	}
	dynbuf_clear(&b);

	release(&r);
	wait_rounds(&r, 3);
	scraper_apps_stop(l);
	series_free(ser);
	api_stop(&api);
	kubelet_stop(k);
	clock_set_fake_now(FAKE_NOW);
}
END_TEST

/* A target that never answers, a 60 s request timeout: stopping aborts
 * the round at once, the target failing as "aborted". */
START_TEST(stop_aborts_round_in_flight)
{
	struct kubelet *k = kubelet_start(&server);
	struct cluster_api api;
	struct series_options so = {.window_ms = 60000, .resolution_ms = 15000};
	struct series *ser;
	struct scraper_app_target t;
	struct scraper_apps_loop_options o = {
		.resolution_ns = 120 * NS_PER_SEC,
		.app = {.timeout_ns = 60 * NS_PER_SEC, .ca_file = ca_path},
		.statics = &t,
		.nstatics = 1,
	};
	struct rounds r = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, -1, false, {0}};
	struct scraper_apps_loop *l;
	char err[256];
	int64_t t0;

	api_start(&api, k);
	ser = series_new(&so, err, sizeof(err));
	static_target(&t, "slow", k, "/slow");
	ck_assert_int_eq(scraper_apps_start(&o, ser, api.inf, on_round, &r, &l), 0);
	wait_app_request(k);
	t0 = clock_mono_ns();
	stderr_capture_begin();
	scraper_apps_stop(l);
	char *log = stderr_capture_end();
	ck_assert_msg(clock_mono_ns() - t0 < 2 * NS_PER_SEC, "stop took %lld ms",
		      (long long)((clock_mono_ns() - t0) / NS_PER_MS));
	ck_assert_log(log, "\"Application scrape round aborted\" unanswered=1");
	free(log);
	ck_assert_int_eq(r.n, 1);
	ck_assert_uint_eq(r.last.failed, 1);
	ck_assert_uint_eq(r.last.failed_by[SCRAPER_APP_FAIL_ABORTED], 1);

	/* and a loop stopped while it waits for its next round */
	r.n = 0;
	free(t.url);
	t.url = xasprintf("https://127.0.0.1:%u/app", k->port);
	ck_assert_int_eq(scraper_apps_start(&o, ser, api.inf, on_round, &r, &l), 0);
	wait_rounds(&r, 1);
	ck_assert_uint_eq(r.last.failed, 0);
	t0 = clock_mono_ns();
	scraper_apps_stop(l);
	ck_assert_int_lt(clock_mono_ns() - t0, 2 * NS_PER_SEC);

	free(t.key);
	free(t.url);
	labels_clear(&t.labels);
	series_free(ser);
	api_stop(&api);
	kubelet_stop(k);
}
END_TEST

START_TEST(start_refuses_bad_options)
{
	struct scraper_apps_loop_options o = {0};
	struct scraper_apps_loop *l = (struct scraper_apps_loop *)&o;

	ck_assert_int_eq(scraper_apps_start(&o, NULL, NULL, NULL, NULL, &l), ERR_INVAL);
	ck_assert_ptr_null(l);
	scraper_apps_stop(NULL);
	ck_assert_str_eq(scraper_app_fail_reason(SCRAPER_APP_FAIL_TARGET_LIMIT), "target_limit");
	ck_assert_str_eq(scraper_app_fail_reason(SCRAPER_APP_NFAIL), "");
}
END_TEST

static Suite *apploop_suite(void)
{
	Suite *s = suite_create("scraper_apploop");
	TCase *tc = tcase_create("loop");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, setup_certs, teardown_certs);
	tcase_add_test(tc, loop_rounds_into_series);
	tcase_add_test(tc, stop_aborts_round_in_flight);
	tcase_add_test(tc, start_refuses_bad_options);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(apploop_suite());
}
