/*
 * driver.c - many libcurl multi handles ("shards") driven by one epoll.
 *
 * Why not one multi handle and curl_multi_poll: libcurl 7.88 walks the
 * whole connection cache of a multi handle in curl_multi_remove_handle
 * and rebuilds a pollfd array of every connection in curl_multi_poll, so
 * with one kept-alive connection per kubelet a round costs O(nodes^2).
 * Here each node's easy handle belongs to one shard of at most
 * SHARD_TARGETS handles for its whole life (its kept-alive connection
 * lives in that shard's cache), libcurl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when its timers fire
 * (CURLMOPT_TIMERFUNCTION), and only the shard whose socket or timer is
 * ready does any work (curl_multi_socket_action).  An eventfd in the same
 * epoll set lets another thread wake a waiting step.
 */
#include "scraper/scraper_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define SHARD_TARGETS 64
#define SPARE_CONNECTIONS 16
#define EVENTS_PER_WAIT 256
#define WAKE_TAG UINT64_MAX

struct shard {
	CURLM *m;
	int ep;
	uint32_t idx;
	size_t members;      /* easy handles assigned to this shard */
	int64_t deadline_ns; /* libcurl's timer, monotonic; -1 = none */
	bool dirty;          /* may have finished transfers to read */
};

struct scraper__driver {
	int ep, wake;
	struct shard **s; /* stable pointers: libcurl keeps them as callback data */
	size_t n, cap;
};

static int on_socket(CURL *e, curl_socket_t fd, int what, void *ud, void *sockp)
{
	struct shard *sh = ud;
	struct epoll_event ev = {.data.u64 = (uint64_t)sh->idx << 32 | (uint32_t)fd};

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(sh->ep, EPOLL_CTL_DEL, fd, NULL);
		curl_multi_assign(sh->m, fd, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
	if (sockp)
		return epoll_ctl(sh->ep, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : -1;
	if (epoll_ctl(sh->ep, EPOLL_CTL_ADD, fd, &ev) != 0 &&
	    (errno != EEXIST || epoll_ctl(sh->ep, EPOLL_CTL_MOD, fd, &ev) != 0))
		return -1;
	curl_multi_assign(sh->m, fd, sh); /* non-NULL marks "in the epoll set" */
	return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *ud)
{
	struct shard *sh = ud;

	(void)m;
	sh->deadline_ns = timeout_ms < 0 ? -1 : clock_mono_ns() + (int64_t)timeout_ms * NS_PER_MS;
	return 0;
}

static struct shard *shard_new(struct scraper__driver *d)
{
	struct shard *sh = xcalloc(1, sizeof(*sh));

	sh->m = curl_multi_init();
	if (!sh->m) {
		fprintf(stderr, "fatal: curl_multi_init failed\n");
		abort();
	}
	sh->ep = d->ep;
	sh->idx = (uint32_t)d->n;
	sh->deadline_ns = -1;
	curl_multi_setopt(sh->m, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(sh->m, CURLMOPT_SOCKETDATA, sh);
	curl_multi_setopt(sh->m, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(sh->m, CURLMOPT_TIMERDATA, sh);
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 8;
		d->s = xrealloc(d->s, d->cap * sizeof(*d->s));
	}
	d->s[d->n++] = sh;
	return sh;
}

struct scraper__driver *scraper__driver_new(void)
{
	struct scraper__driver *d = xcalloc(1, sizeof(*d));
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKE_TAG};

	d->ep = epoll_create1(EPOLL_CLOEXEC);
	d->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->ep < 0 || d->wake < 0 || epoll_ctl(d->ep, EPOLL_CTL_ADD, d->wake, &ev) != 0) {
		fprintf(stderr, "fatal: cannot create the scraper's epoll set: %s\n", strerror(errno));
		abort();
	}
	return d;
}

void scraper__driver_free(struct scraper__driver *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		curl_multi_cleanup(d->s[i]->m);
		free(d->s[i]);
	}
	free(d->s);
	close(d->wake);
	close(d->ep);
	free(d);
}

uint32_t scraper__driver_assign(struct scraper__driver *d)
{
	struct shard *sh = NULL;

	/* the emptiest shard, so nodes that come and go do not pile up */
	for (size_t i = 0; i < d->n; i++)
		if (d->s[i]->members < SHARD_TARGETS && (!sh || d->s[i]->members < sh->members))
			sh = d->s[i];
	if (!sh)
		sh = shard_new(d);
	sh->members++;
	/* one kept-alive connection per kubelet, as metrics-server has */
	curl_multi_setopt(sh->m, CURLMOPT_MAXCONNECTS, (long)(sh->members + SPARE_CONNECTIONS));
	return sh->idx;
}

void scraper__driver_unassign(struct scraper__driver *d, uint32_t shard)
{
	if (shard < d->n && d->s[shard]->members)
		d->s[shard]->members--;
}

int scraper__driver_add(struct scraper__driver *d, uint32_t shard, CURL *e)
{
	if (shard >= d->n || curl_multi_add_handle(d->s[shard]->m, e) != CURLM_OK)
		return ERR_INVAL;
	return 0;
}

void scraper__driver_remove(struct scraper__driver *d, uint32_t shard, CURL *e)
{
	if (shard < d->n)
		curl_multi_remove_handle(d->s[shard]->m, e);
}

static void act(struct shard *sh, curl_socket_t fd, int flags)
{
	int running;

	curl_multi_socket_action(sh->m, fd, flags, &running);
	sh->dirty = true;
}

/* Hands every finished transfer of the dirty shards to done. */
static void reap(struct scraper__driver *d, scraper__done_fn done, void *ud)
{
	for (size_t i = 0; i < d->n; i++) {
		struct shard *sh = d->s[i];
		CURLMsg *msg;
		int left;

		if (!sh->dirty)
			continue;
		sh->dirty = false;
		while ((msg = curl_multi_info_read(sh->m, &left))) {
			CURL *e = msg->easy_handle;
			CURLcode cc = msg->data.result;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_multi_remove_handle(sh->m, e); /* msg is invalid now */
			done(ud, e, cc);
		}
	}
}

static int wait_ms(const struct scraper__driver *d, int max_ms, int64_t now)
{
	int64_t wait = max_ms < 0 ? 0 : max_ms;

	for (size_t i = 0; i < d->n; i++) {
		int64_t dl = d->s[i]->deadline_ns;

		if (dl < 0)
			continue;
		if (dl <= now)
			return 0;
		if ((dl - now + NS_PER_MS - 1) / NS_PER_MS < wait)
			wait = (dl - now + NS_PER_MS - 1) / NS_PER_MS;
	}
	return (int)wait;
}

bool scraper__driver_step(struct scraper__driver *d, int max_ms, scraper__done_fn done, void *ud)
{
	struct epoll_event evs[EVENTS_PER_WAIT];
	bool woken = false;
	int64_t now;
	int n;

	n = epoll_wait(d->ep, evs, EVENTS_PER_WAIT, wait_ms(d, max_ms, clock_mono_ns()));
	for (int i = 0; i < n; i++) {
		uint64_t tag = evs[i].data.u64, v;
		uint32_t si = (uint32_t)(tag >> 32);

		if (tag == WAKE_TAG) {
			ssize_t r = read(d->wake, &v, sizeof(v)); /* drain; EAGAIN is fine */
			(void)r;
			woken = true;
			continue;
		}
		if (si >= d->n)
			continue;
		act(d->s[si], (curl_socket_t)(uint32_t)tag,
		    (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
			    (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
			    (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0));
	}
	now = clock_mono_ns();
	for (size_t i = 0; i < d->n; i++) {
		struct shard *sh = d->s[i];

		if (sh->deadline_ns >= 0 && sh->deadline_ns <= now) {
			sh->deadline_ns = -1;
			act(sh, CURL_SOCKET_TIMEOUT, 0);
		}
	}
	reap(d, done, ud);
	return woken;
}

void scraper__driver_wakeup(struct scraper__driver *d)
{
	uint64_t one = 1;

	if (write(d->wake, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("cannot wake the scraper: %s", strerror(errno));
}
