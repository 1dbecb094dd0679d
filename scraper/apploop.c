/*
 * apploop.c - application targets scraped every --metric-resolution on a
 * thread of their own (issue 11), with the kubelet loop's cadence (first
 * round at once, rounds never overlap, a slow round drops the ticks it
 * overran), and the self-metrics of those rounds.  See scraper_apps_start()
 * in scraper.h.
 */
#include "scraper/scraper_int.h"
#include "scraper/apps_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "series/series.h"

struct scraper_apps_loop {
	struct scraper_apps *a;
	struct series *ser;
	struct kube_informer *inf;
	int64_t resolution_ns;
	char *pod_job;
	struct scraper_app_target *statics; /* owned copies */
	size_t nstatics;
	scraper_apps_round_fn on_round;
	void *ud;
	/* the thread */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	/* self-metrics, under mmu (rounds write, /metrics reads) */
	pthread_mutex_t mmu;
	uint64_t scrapes, failures[SCRAPER_APP_NFAIL];
	size_t targets;
	double bounds[SCRAPER__SCRAPE_BUCKETS_MAX];
	struct prom_histogram dur;
};

/* ---- the thread ------------------------------------------------------------------------ */

static void account(struct scraper_apps_loop *l, const struct scraper_app_round_stats *st)
{
	pthread_mutex_lock(&l->mmu);
	l->scrapes += st->targets;
	for (size_t i = 0; i < SCRAPER_APP_NFAIL; i++)
		l->failures[i] += st->failed_by[i];
	l->targets = st->targets;
	prom_histogram_observe(&l->dur, (double)st->duration_ns / 1e9);
	pthread_mutex_unlock(&l->mmu);
}

static void round_once(struct scraper_apps_loop *l)
{
	struct kube_snapshot *k = kube_informer_acquire(l->inf);
	struct scraper_app_target *t;
	struct scraper_app_round_stats st;
	size_t n;
	char dur[40];

	scraper_app_targets(k, l->pod_job, l->statics, l->nstatics, &t, &n);
	kube_snapshot_unref(k);
	log_v(1, "\"Scraping application targets\" targetCount=%zu", n);
	scraper_apps_round(l->a, t, n, &st);
	scraper_app_targets_free(t, n);
	account(l, &st);
	fmt_go_duration(st.duration_ns, dur, sizeof(dur));
	log_v(1, "\"Application scrape finished\" duration=\"%s\" targetCount=%zu failed=%zu", dur,
	      st.targets, st.failed);
	if (l->on_round)
		l->on_round(l->ud, &st);
}

/* Watches the connections until the monotonic time `until` or a stop;
 * true when stopping (scraper_apps_stop aborts the idle wait too). */
static bool wait_until(struct scraper_apps_loop *l, int64_t until)
{
	struct timespec ts = {(time_t)(until / NS_PER_SEC), (long)(until % NS_PER_SEC)};
	bool stop;

	scraper__apps_idle(l->a, until);
	pthread_mutex_lock(&l->mu);
	while (!l->stop && clock_mono_ns() < until)
		pthread_cond_timedwait(&l->cv, &l->mu, &ts);
	stop = l->stop;
	pthread_mutex_unlock(&l->mu);
	return stop;
}

static void *loop_main(void *arg)
{
	struct scraper_apps_loop *l = arg;
	int64_t next = clock_mono_ns();

	while (!wait_until(l, next)) {
		next += l->resolution_ns;
		round_once(l);
		int64_t now = clock_mono_ns();
		if (next < now) /* a slow round: ticks in between are dropped */
			next = now;
	}
	return NULL;
}

/* ---- life ------------------------------------------------------------------------------ */

static void free_loop(struct scraper_apps_loop *l)
{
	scraper_apps_free(l->a);
	for (size_t i = 0; i < l->nstatics; i++) {
		free(l->statics[i].key);
		free(l->statics[i].url);
		labels_clear(&l->statics[i].labels);
	}
	free(l->statics);
	free(l->pod_job);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	pthread_mutex_destroy(&l->mmu);
	free(l);
}

int scraper_apps_start(const struct scraper_apps_loop_options *o, struct series *ser,
		       struct kube_informer *inf, scraper_apps_round_fn on_round, void *ud,
		       struct scraper_apps_loop **out)
{
	struct scraper_apps_loop *l;
	pthread_condattr_t ca;

	*out = NULL;
	if (o->resolution_ns <= 0)
		return ERR_INVAL;
	l = xcalloc(1, sizeof(*l));
	l->ser = ser;
	l->inf = inf;
	l->resolution_ns = o->resolution_ns;
	l->pod_job = o->pod_job ? xstrdup(o->pod_job) : NULL;
	l->statics = xcalloc(o->nstatics ? o->nstatics : 1, sizeof(*l->statics));
	l->nstatics = o->nstatics;
	for (size_t i = 0; i < o->nstatics; i++) {
		l->statics[i].key = xstrdup(o->statics[i].key);
		l->statics[i].url = xstrdup(o->statics[i].url);
		labels_init(&l->statics[i].labels);
		labels_copy(&l->statics[i].labels, &o->statics[i].labels);
	}
	l->on_round = on_round;
	l->ud = ud;
	prom_histogram_init(&l->dur, l->bounds,
			    scraper__scrape_buckets((double)o->resolution_ns / 1e9, l->bounds));
	pthread_mutex_init(&l->mu, NULL);
	pthread_mutex_init(&l->mmu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	l->a = scraper_apps_new(&o->app, ser);
	if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
		free_loop(l);
		return ERR_AGAIN;
	}
	*out = l;
	return 0;
}

void scraper_apps_stop(struct scraper_apps_loop *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = true;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	scraper__apps_abort(l->a);
	pthread_join(l->thread, NULL);
	free_loop(l);
}

/* ---- self-metrics ------------------------------------------------------------------------ */

#define PFX "metrics_apiserver_"

static int write_rounds(struct scraper_apps_loop *l, struct dynbuf *out)
{
	int rc = prom_write_help_type(out, PFX "app_scrape_duration_seconds",
				      "Duration of a round over the application targets (annotated "
				      "pods and static targets) in seconds.", "histogram");

	if (!rc)
		rc = prom_write_histogram(out, PFX "app_scrape_duration_seconds", NULL, 0, &l->dur);
	if (!rc)
		rc = prom_write_help_type(out, PFX "app_scrape_failures_total",
					  "Scrapes of application targets that failed, by reason.",
					  "counter");
	for (size_t i = 0; !rc && i < SCRAPER_APP_NFAIL; i++) {
		struct prom_label r = {"reason", scraper_app_fail_reason(i)};

		rc = prom_write_sample_uint(out, PFX "app_scrape_failures_total", &r, 1,
					    l->failures[i]);
	}
	if (!rc)
		rc = prom_write_help_type(out, PFX "app_scrape_targets",
					  "Application targets of the last round.", "gauge");
	if (!rc)
		rc = prom_write_sample_uint(out, PFX "app_scrape_targets", NULL, 0, l->targets);
	if (!rc)
		rc = prom_write_help_type(out, PFX "app_scrapes_total",
					  "Scrapes of application targets, failed ones included.",
					  "counter");
	if (!rc)
		rc = prom_write_sample_uint(out, PFX "app_scrapes_total", NULL, 0, l->scrapes);
	return rc;
}

int scraper_apps_write_metrics(struct scraper_apps_loop *l, struct dynbuf *out)
{
	struct series_stats ss;
	int rc;

	pthread_mutex_lock(&l->mmu);
	rc = write_rounds(l, out);
	pthread_mutex_unlock(&l->mmu);
	series_stats(l->ser, &ss);
	if (!rc)
		rc = prom_write_help_type(out, PFX "series",
					  "Series in the application series store (bounded by "
					  "--max-series).", "gauge");
	if (!rc)
		rc = prom_write_sample_uint(out, PFX "series", NULL, 0, ss.series);
	if (!rc)
		rc = prom_write_help_type(out, PFX "series_limit_refusals_total",
					  "Scrapes of application targets refused for a series "
					  "store limit (--max-series, series per target, label bytes).",
					  "counter");
	if (!rc)
		rc = prom_write_sample_uint(out, PFX "series_limit_refusals_total", NULL, 0,
					    ss.refusals);
	return rc;
}
