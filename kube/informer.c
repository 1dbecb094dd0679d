/*
 * informer.c - two watcher threads (nodes, pods) and the snapshot they
 * publish together.  Readers take a reference to the current snapshot
 * under a mutex held for a pointer copy; nothing blocks on I/O under it.
 */
#include "kube/kube_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct kube_informer {
	void (*on_change)(void *ud);
	void *ud;
	atomic_bool stop;
	struct kube_watcher *w[KUBE_NKINDS];
	pthread_t thread[KUBE_NKINDS];
	bool running[KUBE_NKINDS];

	pthread_mutex_t lock;            /* guards what follows */
	pthread_cond_t cond;             /* publication or stop; CLOCK_MONOTONIC */
	struct kube_snapshot *cur;
	struct kube_objs *arr[KUBE_NKINDS];
	bool listed[KUBE_NKINDS];
};

static struct timespec mono_deadline(int64_t ns)
{
	int64_t at = clock_mono_ns() + (ns > 0 ? ns : 0);
	struct timespec ts = { .tv_sec = at / NS_PER_SEC, .tv_nsec = at % NS_PER_SEC };

	return ts;
}

static bool synced_locked(const struct kube_informer *inf)
{
	return inf->listed[KUBE_NODE] && inf->listed[KUBE_POD];
}

void kube__informer_publish(struct kube_informer *inf, enum kube_kind kind, struct kube_objs *objs,
			   bool listed)
{
	struct kube_snapshot *old;

	pthread_mutex_lock(&inf->lock);
	kube__objs_unref(inf->arr[kind]);
	inf->arr[kind] = kube__objs_ref(objs);
	inf->listed[kind] |= listed;
	old = inf->cur;
	inf->cur = kube__snapshot_new(inf->arr[KUBE_NODE], inf->arr[KUBE_POD], synced_locked(inf));
	pthread_cond_broadcast(&inf->cond);
	pthread_mutex_unlock(&inf->lock);
	kube_snapshot_unref(old);
	if (inf->on_change)
		inf->on_change(inf->ud);
}

bool kube__informer_pause(struct kube_informer *inf, int64_t ns)
{
	struct timespec until = mono_deadline(ns);
	int rc = 0;

	pthread_mutex_lock(&inf->lock);
	while (!atomic_load(&inf->stop) && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&inf->cond, &inf->lock, &until);
	pthread_mutex_unlock(&inf->lock);
	return !atomic_load(&inf->stop);
}

struct kube_informer *kube_informer_start(struct kube_client *c, void (*on_change)(void *ud),
					  void *ud)
{
	struct kube_informer *inf = xcalloc(1, sizeof(*inf));
	pthread_condattr_t ca;
	int k, rc;

	inf->on_change = on_change;
	inf->ud = ud;
	atomic_init(&inf->stop, false);
	pthread_mutex_init(&inf->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&inf->cond, &ca);
	pthread_condattr_destroy(&ca);
	inf->cur = kube__snapshot_new(NULL, NULL, false);
	for (k = 0; k < KUBE_NKINDS; k++)
		inf->w[k] = kube__watcher_new(inf, c, (enum kube_kind)k, &inf->stop);
	for (k = 0; k < KUBE_NKINDS; k++) {
		rc = pthread_create(&inf->thread[k], NULL, kube__watcher_main, inf->w[k]);
		if (rc) {
			log_error("cannot start the informer thread: %s", strerrorname_np(rc));
			kube_informer_stop(inf);
			return NULL;
		}
		inf->running[k] = true;
	}
	return inf;
}

struct kube_snapshot *kube_informer_acquire(struct kube_informer *inf)
{
	struct kube_snapshot *s;

	pthread_mutex_lock(&inf->lock);
	s = kube__snapshot_ref(inf->cur);
	pthread_mutex_unlock(&inf->lock);
	return s;
}

bool kube_informer_wait_synced(struct kube_informer *inf, int64_t timeout_ns)
{
	struct timespec until = mono_deadline(timeout_ns);
	bool synced;
	int rc = 0;

	pthread_mutex_lock(&inf->lock);
	while (!synced_locked(inf) && !atomic_load(&inf->stop) && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&inf->cond, &inf->lock, &until);
	synced = synced_locked(inf);
	pthread_mutex_unlock(&inf->lock);
	return synced;
}

void kube_informer_stop(struct kube_informer *inf)
{
	int k;

	if (!inf)
		return;
	pthread_mutex_lock(&inf->lock);
	atomic_store(&inf->stop, true);
	pthread_cond_broadcast(&inf->cond);
	pthread_mutex_unlock(&inf->lock);
	for (k = 0; k < KUBE_NKINDS; k++) {
		kube__watcher_wake(inf->w[k]);
		if (inf->running[k])
			pthread_join(inf->thread[k], NULL);
		kube__watcher_free(inf->w[k]);
		kube__objs_unref(inf->arr[k]);
	}
	kube_snapshot_unref(inf->cur);
	pthread_cond_destroy(&inf->cond);
	pthread_mutex_destroy(&inf->lock);
	free(inf);
}
