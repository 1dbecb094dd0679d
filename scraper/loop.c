/*
 * loop.c - the scraper: one round per --metric-resolution on a thread of
 * its own (metrics-server's runScrape ticker: first round at once, rounds
 * never overlap, a slow round delays the next), each round ending in
 * store_apply().
 */
#include "scraper/scraper_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct scraper {
	struct scraper_options o; /* strings owned */
	struct store *st;
	struct scraper__metrics *m;
	struct scraper__transfer *t;
	_Atomic int64_t last_start_ns;
	/* the loop thread */
	pthread_t thread;
	bool started, stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct kube_informer *inf;
	void (*on_round)(void *ud, const struct scraper_round_stats *st);
	void *ud;
};

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void copy_options(struct scraper_options *d, const struct scraper_options *o)
{
	*d = *o;
	d->preferred_address_types = xcalloc(o->npreferred ? o->npreferred : 1, sizeof(char *));
	for (size_t i = 0; i < o->npreferred; i++)
		d->preferred_address_types[i] = xstrdup(o->preferred_address_types[i]);
	d->ca_file = dup_or_null(o->ca_file);
	d->client_cert_file = dup_or_null(o->client_cert_file);
	d->client_key_file = dup_or_null(o->client_key_file);
	d->ca_data = dup_or_null(o->ca_data);
	d->bearer_token = dup_or_null(o->bearer_token);
	d->bearer_token_file = dup_or_null(o->bearer_token_file);
}

static void release_options(struct scraper_options *o)
{
	for (size_t i = 0; i < o->npreferred; i++)
		free(o->preferred_address_types[i]);
	free(o->preferred_address_types);
	free((char *)o->ca_file);
	free((char *)o->client_cert_file);
	free((char *)o->client_key_file);
	free((char *)o->ca_data);
	if (o->bearer_token) {
		memset((char *)o->bearer_token, 0, strlen(o->bearer_token));
		free((char *)o->bearer_token);
	}
	free((char *)o->bearer_token_file);
}

struct scraper *scraper_new(const struct scraper_options *o, struct store *st)
{
	struct scraper *s = xcalloc(1, sizeof(*s));
	pthread_condattr_t ca;

	copy_options(&s->o, o);
	s->st = st;
	s->m = scraper__metrics_new(o->resolution_ns);
	s->t = scraper__transfer_new(&s->o, s->m);
	atomic_init(&s->last_start_ns, 0);
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	return s;
}

/* The snapshot's nodes that match --node-selector, in name order. */
static size_t select_nodes(const struct scraper *s, const struct kube_snapshot *k,
			   const struct kube_node **out)
{
	const struct selector *sel = s->o.node_selector;
	size_t n = 0;

	for (size_t i = 0; i < k->nnodes; i++)
		if (!sel || selector_matches(sel, &k->nodes[i]->labels))
			out[n++] = k->nodes[i];
	return n;
}

void scraper_round(struct scraper *s, const struct kube_snapshot *k, struct scraper_round_stats *out)
{
	const struct kube_node **nodes = xcalloc(k->nnodes ? k->nnodes : 1, sizeof(*nodes));
	struct scraper__round_result rr;
	/* on the memory of the snapshot before last, sized like the last round */
	struct store_batch *batch = store_batch_begin(s->st);
	int64_t start_mono = clock_mono_ns();
	struct scraper_round_stats st = {clock_now_ns(), 0, 0, 0, 0};
	char dur[40];

	atomic_store(&s->last_start_ns, st.started_ns);
	st.nodes = select_nodes(s, k, nodes);
	log_v(1, "\"Scraping metrics from nodes\" nodeCount=%zu", st.nodes);
	scraper__transfer_round(s->t, nodes, st.nodes, start_mono + s->o.resolution_ns, batch, &rr);
	st.failed = rr.failed;
	st.pods = store_batch_pod_count(batch);
	size_t stored_nodes = store_batch_node_count(batch);
	store_apply(s->st, batch);
	st.duration_ns = clock_mono_ns() - start_mono;
	scraper__metrics_tick(s->m, (double)st.duration_ns / 1e9);
	fmt_go_duration(st.duration_ns, dur, sizeof(dur));
	log_v(1, "\"Scrape finished\" duration=\"%s\" nodeCount=%zu podCount=%zu", dur, stored_nodes,
	      st.pods);
	free(nodes);
	if (out)
		*out = st;
}

/* Sleeps until the monotonic time `until` or a stop; true when stopping.
 * Meanwhile the transfer watches its kept-alive connections (a stop
 * aborts it, see scraper_free). */
static bool wait_until(struct scraper *s, int64_t until)
{
	struct timespec ts = {(time_t)(until / NS_PER_SEC), (long)(until % NS_PER_SEC)};
	bool stop;

	scraper__transfer_idle(s->t, until);
	pthread_mutex_lock(&s->mu);
	while (!s->stop && clock_mono_ns() < until)
		pthread_cond_timedwait(&s->cv, &s->mu, &ts);
	stop = s->stop;
	pthread_mutex_unlock(&s->mu);
	return stop;
}

static void *loop_main(void *arg)
{
	struct scraper *s = arg;
	int64_t next = clock_mono_ns();

	while (!wait_until(s, next)) {
		struct kube_snapshot *k = kube_informer_acquire(s->inf);
		struct scraper_round_stats st;

		next += s->o.resolution_ns;
		scraper_round(s, k, &st);
		kube_snapshot_unref(k);
		if (s->on_round)
			s->on_round(s->ud, &st);
		int64_t now = clock_mono_ns();
		if (next < now) /* a slow round: ticks in between are dropped */
			next = now;
	}
	return NULL;
}

int scraper_start(struct scraper *s, struct kube_informer *inf,
		  void (*on_round)(void *ud, const struct scraper_round_stats *st), void *ud)
{
	if (s->started || s->o.resolution_ns <= 0)
		return ERR_INVAL;
	s->inf = inf;
	s->on_round = on_round;
	s->ud = ud;
	if (pthread_create(&s->thread, NULL, loop_main, s) != 0)
		return ERR_AGAIN;
	s->started = true;
	return 0;
}

void scraper_free(struct scraper *s)
{
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		scraper__transfer_abort(s->t);
		pthread_join(s->thread, NULL);
	}
	scraper__transfer_free(s->t);
	scraper__metrics_free(s->m);
	release_options(&s->o);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int64_t scraper_last_round_start_ns(struct scraper *s)
{
	return atomic_load(&s->last_start_ns);
}

int scraper_write_metrics(struct scraper *s, struct dynbuf *out)
{
	return scraper__metrics_write(s->m, out);
}
