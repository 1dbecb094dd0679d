/*
 * workers.c - a few threads for the requests that must wait on
 * kube-apiserver (a TokenReview or SubjectAccessReview that no cache
 * answers).  libmicrohttpd serves every connection from its 2 polling
 * threads; a request that would block there is suspended instead
 * (MHD_suspend_connection), handed to these threads, and resumed when its
 * answer is ready, so one slow review stalls only the requests that need
 * it, as upstream's goroutine per request does.
 *
 * Jobs are intrusive (struct server__job lives in the request), so
 * submitting never allocates.  The queue needs no cap of its own: a
 * connection has at most one request in it, and connections are capped.
 * Stopping runs the queued jobs with cancelled=true (they answer at once)
 * and waits for the running ones: libmicrohttpd must not be stopped while
 * a connection is still suspended.  The pool is freed only after
 * libmicrohttpd stopped, since until then a request may still try to
 * submit (and, refused, wait on its polling thread).
 */
#include "server/authn_int.h"

#include <stdlib.h>

struct server__workers {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct server__job *head, *tail;
	bool stop;
	size_t nthreads;
	pthread_t *threads;
};

static struct server__job *take(struct server__workers *w)
{
	struct server__job *j = w->head;

	if (j) {
		w->head = j->next;
		if (!w->head)
			w->tail = NULL;
		j->next = NULL;
	}
	return j;
}

static void *worker_main(void *arg)
{
	struct server__workers *w = arg;
	struct server__job *j;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && !w->head)
			pthread_cond_wait(&w->cond, &w->mu);
		if (w->stop)
			break;
		j = take(w);
		pthread_mutex_unlock(&w->mu);
		j->run(j, false);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct server__workers *server__workers_start(size_t nthreads)
{
	struct server__workers *w = xcalloc(1, sizeof(*w));

	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->threads = xcalloc(nthreads, sizeof(*w->threads));
	for (; w->nthreads < nthreads; w->nthreads++)
		if (pthread_create(&w->threads[w->nthreads], NULL, worker_main, w) != 0)
			break;
	if (w->nthreads == 0) {
		log_error("\"Cannot start the review threads\"");
		server__workers_free(w);
		return NULL;
	}
	return w;
}

bool server__workers_submit(struct server__workers *w, struct server__job *j)
{
	bool ok;

	if (!w)
		return false;
	j->next = NULL;
	pthread_mutex_lock(&w->mu);
	ok = !w->stop;
	if (ok) {
		if (w->tail)
			w->tail->next = j;
		else
			w->head = j;
		w->tail = j;
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&w->mu);
	return ok;
}

void server__workers_stop(struct server__workers *w)
{
	struct server__job *j;

	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mu);
	for (size_t i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	w->nthreads = 0;
	pthread_mutex_lock(&w->mu);
	while ((j = take(w)) != NULL) {
		pthread_mutex_unlock(&w->mu);
		j->run(j, true);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
}

void server__workers_free(struct server__workers *w)
{
	if (!w)
		return;
	server__workers_stop(w);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mu);
	free(w->threads);
	free(w);
}
