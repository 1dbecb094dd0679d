/*
 * loop.c - the embedded HPA controller's thread.  A pass lists every
 * autoscaling/v2 HorizontalPodAutoscaler (GET, no watch: one list per pass
 * is all a pass needs), keeps the ones --hpa selects, and reconciles each
 * with the store snapshot current at the start of the pass (the HPAs it
 * does not act on still count in the ambiguity check: peers.c).
 * Passes run after every scrape round (hpaloop_notify from the scraper's
 * on_round) and at least every --hpa-sync-period, once the store can serve
 * pods (before that every HPA would only fail to get metrics).
 * With leader election, only while this replica leads (see may_act).
 */
#include "hpaloop/hpaloop_int.h"
#include "kube/kube.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HPA_LIST_PATH "/apis/autoscaling/v2/horizontalpodautoscalers"

struct hpaloop {
	struct hpaloop_options o;
	struct kube_client *client;
	struct store *store;
	struct hpaloop__states states; /* the loop thread's only */
	struct kube_lease *lease;      /* --leader-elect, else NULL */
	uint64_t term;                 /* the leadership states belongs to (loop thread) */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;        /* on CLOCK_MONOTONIC */
	bool stop;                /* under mu */
	bool pending;             /* a scrape round asked for a pass (under mu) */
};

/* GET the HPA list; new reference to its items, or NULL (logged). */
static json_t *list_hpas(struct hpaloop *l)
{
	char err[HPALOOP_ERRLEN] = "";
	json_t *list = NULL, *items = NULL;

	if (hpaloop__api_call(l->client, "GET", HPA_LIST_PATH, NULL, &list, err, sizeof(err)) != 0)
		hpaloop__warn(err, "cannot list HorizontalPodAutoscalers: %s", err);
	else if (json_is_array(json_object_get(list, "items")))
		items = json_incref(json_object_get(list, "items"));
	else
		log_warn("cannot list HorizontalPodAutoscalers: the answer has no items");
	json_decref(list);
	return items;
}

static bool stopping(struct hpaloop *l)
{
	bool s;

	pthread_mutex_lock(&l->mu);
	s = l->stop;
	pthread_mutex_unlock(&l->mu);
	return s;
}

/* hpaloop__sync_ctx.may_write: this replica still leads. */
static bool still_leading(void *ud)
{
	struct hpaloop *l = ud;
	uint64_t term;

	return kube_lease_leading(l->lease, &term) && term == l->term;
}

/*
 * Whether the loop may act now: always without election; else only while
 * this replica leads.  What the states hold belongs to one leadership:
 * dropped when it ends and when a new one starts, so a replica that leads
 * again never acts on a history another leader made stale.
 */
static bool may_act(struct hpaloop *l)
{
	uint64_t term = 0;
	bool leading;

	if (!l->lease)
		return true;
	leading = kube_lease_leading(l->lease, &term);
	if (!leading || term != l->term) {
		if (l->states.n)
			log_v(2, "the HPA controller's state of %zu HPAs is dropped (%s)",
			      l->states.n, leading ? "a new leadership" : "not the leader");
		hpaloop__states_clear(&l->states);
		l->term = leading ? term : 0;
	}
	return leading;
}

/* hpaloop_options.election's on_change: a new leader passes at once. */
static void on_leader_change(void *ud, bool leading)
{
	if (leading)
		hpaloop_notify(ud);
}

/* One pass over the selected HPAs. */
static void pass(struct hpaloop *l)
{
	json_t *items;
	struct store_snapshot *snap;
	struct hpaloop__sync_ctx x = { .client = l->client, .local = &l->o.local, .algo = &l->o.algo,
					.states = &l->states };
	struct hpaloop__peers peers;
	const json_t *hpa;
	size_t i, acted = 0;
	bool lost = false;

	if (!may_act(l)) {
		log_v(3, "HPA pass skipped: this replica does not lead");
		return;
	}
	if (l->lease) {
		x.may_write = still_leading;
		x.may_write_ud = l;
	}
	items = list_hpas(l);
	if (!items)
		return; /* states are kept: a failed list is not a deletion */
	snap = store_acquire(l->store);
	if (!store_snapshot_ready(snap)) {
		log_v(2, "HPA pass skipped: no pod metrics are stored yet");
		goto out;
	}
	x.snap = snap;
	hpaloop__peers_init(&peers, items, l->o.mode);
	x.peers = &peers;
	hpaloop__states_begin(&l->states);
	json_array_foreach(items, i, hpa) {
		const char *ns = jpath_str(hpa, "metadata.namespace");
		const char *name = jpath_str(hpa, "metadata.name");

		if (!ns || !name || !hpaloop_selected(l->o.mode, hpa))
			continue;
		if (acted == HPALOOP_MAX_HPAS) {
			log_warn("more than %d HPAs selected: the rest wait for a later pass",
				 HPALOOP_MAX_HPAS);
			break;
		}
		if (stopping(l))
			break;
		if (l->lease && !still_leading(l)) {
			lost = true;
			break;
		}
		acted++;
		x.now = clock_now_ns();
		hpaloop__sync_one(&x, hpa, hpaloop__states_get(&l->states, ns, name,
						     jpath_str(hpa, "metadata.uid")));
	}
	if (!stopping(l) && !lost && acted < HPALOOP_MAX_HPAS)
		hpaloop__states_prune(&l->states);
	log_v(3, "HPA pass: %zu of %zu HPAs reconciled", acted, json_array_size(items));
	hpaloop__peers_clear(&peers);
out:
	store_snapshot_unref(snap);
	json_decref(items);
}

static void deadline_after(struct timespec *ts, int64_t ns)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ns += ts->tv_nsec;
	ts->tv_sec += (time_t)(ns / NS_PER_SEC);
	ts->tv_nsec = (long)(ns % NS_PER_SEC);
}

static void *loop_main(void *arg)
{
	struct hpaloop *l = arg;
	struct timespec next;

	log_info("Starting the embedded HPA controller (sync period %llds)",
		 (long long)(l->o.sync_period_ns / NS_PER_SEC));
	deadline_after(&next, l->o.sync_period_ns);
	pthread_mutex_lock(&l->mu);
	for (;;) {
		while (!l->stop && !l->pending) {
			if (pthread_cond_timedwait(&l->cv, &l->mu, &next) == ETIMEDOUT)
				break;
		}
		if (l->stop)
			break;
		l->pending = false;
		pthread_mutex_unlock(&l->mu);
		pass(l);
		deadline_after(&next, l->o.sync_period_ns);
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	log_info("Stopped the embedded HPA controller");
	return NULL;
}

struct hpaloop *hpaloop_start(const struct hpaloop_options *o, struct kube_client *c,
				struct store *st)
{
	pthread_condattr_t ca;
	struct hpaloop *l;

	if (o->mode == HPALOOP_MODE_OFF || o->sync_period_ns <= 0)
		return NULL;
	hpaloop__denied_track(true);
	l = xcalloc(1, sizeof(*l));
	l->o = *o;
	l->o.election = NULL; /* borrowed only until we return */
	l->client = c;
	l->store = st;
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (o->election) {
		struct kube_lease_options e = *o->election;

		e.on_change = on_leader_change;
		e.ud = l;
		l->lease = kube_lease_start(c, &e);
	}
	if ((o->election && !l->lease) || pthread_create(&l->thread, NULL, loop_main, l) != 0) {
		log_error("cannot start the embedded HPA controller thread");
		kube_lease_stop(l->lease);
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
		free(l);
		return NULL;
	}
	return l;
}

void hpaloop_notify(struct hpaloop *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->pending = true;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

void hpaloop_stop(struct hpaloop *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = true;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL);
	kube_lease_stop(l->lease); /* no write can start any more: give the Lease up */
	hpaloop__states_clear(&l->states);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}
