/*
 * reload.c - what the reloaders of server/ share: a file's change
 * signature (stat through symlinks, so Kubernetes' atomic "..data" swaps
 * of Secret volumes count) and a ticker thread that calls a function every
 * period until stopped.
 */
#include "server/authn_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

bool server__file_changed(const char *path, struct server__file_sig *sig)
{
	struct server__file_sig now;
	struct stat st;

	memset(&now, 0, sizeof(now)); /* padding too: compared with memcmp */
	if (stat(path, &st) == 0) {
		now.exists = true;
		now.dev = st.st_dev;
		now.ino = st.st_ino;
		now.size = st.st_size;
		now.mtime_ns = (int64_t)st.st_mtim.tv_sec * NS_PER_SEC + st.st_mtim.tv_nsec;
		now.ctime_ns = (int64_t)st.st_ctim.tv_sec * NS_PER_SEC + st.st_ctim.tv_nsec;
	}
	if (memcmp(&now, sig, sizeof(now)) == 0)
		return false;
	*sig = now;
	return true;
}

struct server__ticker {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool stop;
	int64_t period_ns;
	void (*fn)(void *ud);
	void *ud;
};

static void *ticker_main(void *arg)
{
	struct server__ticker *t = arg;

	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		struct timespec until;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)(t->period_ns / NS_PER_SEC);
		until.tv_nsec += (long)(t->period_ns % NS_PER_SEC);
		if (until.tv_nsec >= NS_PER_SEC) {
			until.tv_sec++;
			until.tv_nsec -= NS_PER_SEC;
		}
		while (!t->stop && pthread_cond_timedwait(&t->cond, &t->mu, &until) != ETIMEDOUT)
			;
		if (t->stop)
			break;
		pthread_mutex_unlock(&t->mu);
		t->fn(t->ud);
		pthread_mutex_lock(&t->mu);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

struct server__ticker *server__ticker_start(int64_t period_ns, void (*fn)(void *ud), void *ud)
{
	struct server__ticker *t = xcalloc(1, sizeof(*t));
	pthread_condattr_t ca;

	t->period_ns = period_ns > 0 ? period_ns : NS_PER_SEC;
	t->fn = fn;
	t->ud = ud;
	pthread_mutex_init(&t->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&t->thread, NULL, ticker_main, t) != 0) {
		log_error("\"Cannot start a reload thread\"");
		pthread_cond_destroy(&t->cond);
		pthread_mutex_destroy(&t->mu);
		free(t);
		return NULL;
	}
	return t;
}

void server__ticker_stop(struct server__ticker *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = true;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->mu);
	free(t);
}
