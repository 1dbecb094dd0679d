/*
 * resolve.c - host names resolved without blocking the scraper's thread.
 *
 * IP literals (node addresses of type InternalIP/ExternalIP) are parsed
 * at once with AI_NUMERICHOST.  Names (Hostname, InternalDNS, ExternalDNS)
 * go to a queue served by up to RESOLVER_THREADS detached threads calling
 * getaddrinfo; each answer is put on a done list and an eventfd in the
 * driver's epoll set wakes the loop thread, which hands it to its caller.
 * Lookups happen only when a connection is made, so the threads are idle
 * in the steady state.  The queue and lists live in a state shared by
 * the owner and the threads, freed by whichever lets go of it last: a
 * thread stuck in a slow DNS query never delays scraper_free().
 */
#include "scraper/scraper_int.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define RESOLVER_THREADS 4

struct scraper__lookup {
	struct scraper__lookup *next;
	scraper__resolved_fn fn;
	void *ud;
	bool cancelled;
	char host[256];
	char port[8];
	struct scraper__addrs *addrs; /* the answer, or NULL with err */
	char err[400];
};

/* What the owner and the threads share. */
struct shared {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct scraper__lookup *queue, **queue_tail; /* to resolve, in order */
	struct scraper__lookup *done;                /* answered, any order */
	int efd;
	unsigned threads, idle, refs;
	bool stop;
};

struct scraper__resolver {
	struct shared *sh;
	struct scraper__driver *drv;
	struct scraper__watch w;
};

static void free_list(struct scraper__lookup *l)
{
	while (l) {
		struct scraper__lookup *next = l->next;

		free(l->addrs);
		free(l);
		l = next;
	}
}

/* Drops one reference (mu held); the last one frees everything. */
static void unref_locked(struct shared *sh)
{
	if (--sh->refs) {
		pthread_mutex_unlock(&sh->mu);
		return;
	}
	pthread_mutex_unlock(&sh->mu);
	free_list(sh->queue);
	free_list(sh->done);
	close(sh->efd);
	pthread_cond_destroy(&sh->cv);
	pthread_mutex_destroy(&sh->mu);
	free(sh);
}

/* getaddrinfo into l->addrs (at most SCRAPER__MAX_ADDRS), or Go-like
 * words into l->err. */
static void lookup(struct scraper__lookup *l, int flags)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = flags | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(l->host, l->port, &hints, &res);

	if (rc == 0) {
		l->addrs = xcalloc(1, sizeof(*l->addrs));
		for (struct addrinfo *a = res; a && l->addrs->n < SCRAPER__MAX_ADDRS; a = a->ai_next) {
			if (a->ai_addrlen > sizeof(l->addrs->a[0]))
				continue;
			memcpy(&l->addrs->a[l->addrs->n], a->ai_addr, a->ai_addrlen);
			l->addrs->len[l->addrs->n++] = a->ai_addrlen;
		}
		freeaddrinfo(res);
		if (l->addrs->n)
			return;
		free(l->addrs);
		l->addrs = NULL;
		rc = EAI_NONAME;
	}
	snprintf(l->err, sizeof(l->err), "lookup %s: %s", l->host,
		 rc == EAI_NONAME || rc == EAI_NODATA ? "no such host"
		 : rc == EAI_SYSTEM			  ? COMMON_SYSERR(errno)
							  : gai_strerror(rc));
}

static void *thread_main(void *arg)
{
	struct shared *sh = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&sh->mu);
	for (;;) {
		struct scraper__lookup *l;

		sh->idle++;
		while (!sh->stop && !sh->queue)
			pthread_cond_wait(&sh->cv, &sh->mu);
		sh->idle--;
		if (sh->stop)
			break;
		l = sh->queue;
		sh->queue = l->next;
		if (!sh->queue)
			sh->queue_tail = &sh->queue;
		if (l->cancelled) {
			free(l);
			continue;
		}
		pthread_mutex_unlock(&sh->mu);
		lookup(l, AI_ADDRCONFIG);
		pthread_mutex_lock(&sh->mu);
		if (sh->stop || l->cancelled) {
			free(l->addrs);
			free(l);
			continue;
		}
		l->next = sh->done;
		sh->done = l;
		if (write(sh->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("cannot wake the scraper after a lookup: %s", COMMON_SYSERR(errno));
	}
	sh->threads--;
	unref_locked(sh);
	return NULL;
}

/* Answers on the loop thread. */
static void on_answers(struct scraper__watch *w, uint32_t events)
{
	struct scraper__resolver *r = w->ud;
	struct shared *sh = r->sh;
	struct scraper__lookup *l;
	uint64_t v;
	ssize_t n = read(sh->efd, &v, sizeof(v)); /* drain; EAGAIN is fine */

	(void)events, (void)n;
	pthread_mutex_lock(&sh->mu);
	l = sh->done;
	sh->done = NULL;
	pthread_mutex_unlock(&sh->mu);
	/* cancelled is only set on this thread, and the list is ours now */
	while (l) {
		struct scraper__lookup *next = l->next;

		if (!l->cancelled)
			l->fn(l->ud, l->addrs, l->addrs ? NULL : l->err);
		else
			free(l->addrs);
		free(l);
		l = next;
	}
}

struct scraper__resolver *scraper__resolver_new(struct scraper__driver *d)
{
	struct scraper__resolver *r = xcalloc(1, sizeof(*r));
	struct shared *sh = xcalloc(1, sizeof(*sh));

	pthread_mutex_init(&sh->mu, NULL);
	pthread_cond_init(&sh->cv, NULL);
	sh->queue_tail = &sh->queue;
	sh->refs = 1;
	sh->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->sh = sh;
	r->drv = d;
	scraper__watch_init(&r->w, on_answers, NULL, r);
	if (sh->efd < 0 || scraper__driver_watch(d, &r->w, sh->efd, EPOLLIN)) {
		fprintf(stderr, "fatal: cannot create the scraper's resolver: %s\n", COMMON_SYSERR(errno));
		abort();
	}
	return r;
}

void scraper__resolver_free(struct scraper__resolver *r)
{
	struct shared *sh;

	if (!r)
		return;
	sh = r->sh;
	scraper__driver_unwatch(r->drv, &r->w);
	pthread_mutex_lock(&sh->mu);
	sh->stop = true;
	pthread_cond_broadcast(&sh->cv);
	unref_locked(sh);
	free(r);
}

/* Queues l, starting a thread when none is idle. */
static bool enqueue(struct shared *sh, struct scraper__lookup *l)
{
	pthread_t th;
	pthread_attr_t attr;
	bool ok = true;

	pthread_mutex_lock(&sh->mu);
	if (sh->idle == 0 && sh->threads < RESOLVER_THREADS) {
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 256u << 10); /* getaddrinfo needs little */
		if (pthread_create(&th, &attr, thread_main, sh) == 0) {
			sh->threads++;
			sh->refs++;
		}
		pthread_attr_destroy(&attr);
		ok = sh->threads > 0;
	}
	if (ok) {
		*sh->queue_tail = l;
		sh->queue_tail = &l->next;
		pthread_cond_signal(&sh->cv);
	}
	pthread_mutex_unlock(&sh->mu);
	return ok;
}

struct scraper__lookup *scraper__resolve(struct scraper__resolver *r, const char *host,
					 uint16_t port, scraper__resolved_fn fn, void *ud)
{
	struct scraper__lookup *l = xcalloc(1, sizeof(*l));
	struct scraper__addrs *a;

	l->fn = fn;
	l->ud = ud;
	snprintf(l->host, sizeof(l->host), "%s", host);
	snprintf(l->port, sizeof(l->port), "%u", (unsigned)port);
	if (strlen(host) >= sizeof(l->host)) {
		snprintf(l->err, sizeof(l->err), "lookup: host name too long");
	} else {
		lookup(l, AI_NUMERICHOST);
		if (l->addrs == NULL) {
			l->err[0] = '\0';
			if (enqueue(r->sh, l))
				return l;
			snprintf(l->err, sizeof(l->err), "lookup %s: cannot start a resolver thread",
				 l->host);
		}
	}
	a = l->addrs;
	if (a)
		fn(ud, a, NULL);
	else
		fn(ud, NULL, l->err);
	free(l);
	return NULL;
}

void scraper__resolve_cancel(struct scraper__resolver *r, struct scraper__lookup *l)
{
	pthread_mutex_lock(&r->sh->mu);
	l->cancelled = true;
	pthread_mutex_unlock(&r->sh->mu);
}
