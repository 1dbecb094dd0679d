/*
 * driver.c - the scraper's event loop: one epoll set for every kubelet
 * connection's socket, an eventfd to wake it from another thread, and
 * one deadline per watch kept in a binary min-heap (the next deadline is
 * the heap's top: no walk over the nodes per event or per wait).
 *
 * Watches are level-triggered; each event is handed to its owner's
 * on_io, each due deadline to its on_timer.  Owners never free a watch
 * from inside a step, so every pointer of a batch stays valid; an event
 * may still name a socket its owner has since closed and replaced, so
 * owners treat every event as a hint and try their I/O (EAGAIN is fine).
 * The receive buffer is shared: one thread reads one socket at a time.
 */
#include "scraper/scraper_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define EVENTS_PER_WAIT 256
#define RECV_BUFFER (64u << 10)
#define NO_HEAP SIZE_MAX

struct scraper__driver {
	int ep, wake;
	struct scraper__watch wake_watch;
	bool woken;
	struct scraper__watch **heap; /* by at; heap[i]->heap_idx == i */
	size_t nheap, capheap;
	char buf[RECV_BUFFER];
};

static void on_wake(struct scraper__watch *w, uint32_t events)
{
	struct scraper__driver *d = w->ud;
	uint64_t v;
	ssize_t r = read(d->wake, &v, sizeof(v)); /* drain; EAGAIN is fine */

	(void)events, (void)r;
	d->woken = true;
}

struct scraper__driver *scraper__driver_new(void)
{
	struct scraper__driver *d = xcalloc(1, sizeof(*d));

	d->ep = epoll_create1(EPOLL_CLOEXEC);
	d->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	scraper__watch_init(&d->wake_watch, on_wake, NULL, d);
	if (d->ep < 0 || d->wake < 0 || scraper__driver_watch(d, &d->wake_watch, d->wake, EPOLLIN)) {
		fprintf(stderr, "fatal: cannot create the scraper's epoll set: %s\n", COMMON_SYSERR(errno));
		abort();
	}
	return d;
}

void scraper__driver_free(struct scraper__driver *d)
{
	if (!d)
		return;
	free(d->heap);
	close(d->wake);
	close(d->ep);
	free(d);
}

void scraper__watch_init(struct scraper__watch *w, void (*on_io)(struct scraper__watch *, uint32_t),
			 void (*on_timer)(struct scraper__watch *), void *ud)
{
	memset(w, 0, sizeof(*w));
	w->on_io = on_io;
	w->on_timer = on_timer;
	w->ud = ud;
	w->fd = -1;
	w->at = -1;
	w->heap_idx = NO_HEAP;
}

/* ---- sockets ------------------------------------------------------------------- */

int scraper__driver_watch(struct scraper__driver *d, struct scraper__watch *w, int fd,
			  uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	if (w->fd == fd && w->events == events)
		return 0;
	if (w->fd >= 0 && w->fd != fd)
		scraper__driver_unwatch(d, w);
	if (epoll_ctl(d->ep, w->fd == fd ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0)
		return ERR_IO;
	w->fd = fd;
	w->events = events;
	return 0;
}

void scraper__driver_unwatch(struct scraper__driver *d, struct scraper__watch *w)
{
	if (w->fd < 0)
		return;
	epoll_ctl(d->ep, EPOLL_CTL_DEL, w->fd, NULL);
	w->fd = -1;
	w->events = 0;
}

char *scraper__driver_buffer(struct scraper__driver *d, size_t *len)
{
	*len = sizeof(d->buf);
	return d->buf;
}

/* ---- deadlines: a binary min-heap on at ---------------------------------------- */

static void heap_set(struct scraper__driver *d, size_t i, struct scraper__watch *w)
{
	d->heap[i] = w;
	w->heap_idx = i;
}

static void sift_up(struct scraper__driver *d, size_t i)
{
	struct scraper__watch *w = d->heap[i];

	while (i > 0 && d->heap[(i - 1) / 2]->at > w->at) {
		heap_set(d, i, d->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(d, i, w);
}

static void sift_down(struct scraper__driver *d, size_t i)
{
	struct scraper__watch *w = d->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= d->nheap)
			break;
		if (c + 1 < d->nheap && d->heap[c + 1]->at < d->heap[c]->at)
			c++;
		if (d->heap[c]->at >= w->at)
			break;
		heap_set(d, i, d->heap[c]);
		i = c;
	}
	heap_set(d, i, w);
}

static void heap_remove(struct scraper__driver *d, struct scraper__watch *w)
{
	size_t i = w->heap_idx;
	struct scraper__watch *last = d->heap[--d->nheap];

	w->heap_idx = NO_HEAP;
	if (last == w)
		return;
	heap_set(d, i, last);
	sift_up(d, i);
	sift_down(d, last->heap_idx);
}

void scraper__driver_timer(struct scraper__driver *d, struct scraper__watch *w, int64_t at)
{
	int64_t old = w->at;

	w->at = at;
	if (w->heap_idx == NO_HEAP) {
		if (at < 0)
			return;
		if (d->nheap == d->capheap) {
			d->capheap = d->capheap ? 2 * d->capheap : 64;
			d->heap = xrealloc(d->heap, d->capheap * sizeof(*d->heap));
		}
		heap_set(d, d->nheap++, w);
		sift_up(d, w->heap_idx);
	} else if (at < 0) {
		heap_remove(d, w);
	} else if (at < old) {
		sift_up(d, w->heap_idx);
	} else if (at > old) {
		sift_down(d, w->heap_idx);
	}
}

/* ---- the step ------------------------------------------------------------------- */

static int wait_ms(const struct scraper__driver *d, int max_ms, int64_t now)
{
	int64_t wait = max_ms < 0 ? 0 : max_ms;

	if (d->nheap) {
		int64_t dl = d->heap[0]->at;
		int64_t ms = dl <= now ? 0 : (dl - now + NS_PER_MS - 1) / NS_PER_MS;

		if (ms < wait)
			wait = ms;
	}
	return (int)wait;
}

bool scraper__driver_step(struct scraper__driver *d, int max_ms)
{
	struct epoll_event evs[EVENTS_PER_WAIT];
	int64_t now;
	int n;

	d->woken = false;
	n = epoll_wait(d->ep, evs, EVENTS_PER_WAIT, wait_ms(d, max_ms, clock_mono_ns()));
	for (int i = 0; i < n; i++) {
		struct scraper__watch *w = evs[i].data.ptr;

		if (w->on_io)
			w->on_io(w, evs[i].events);
	}
	/* due deadlines; an on_timer may set a later one for the same watch */
	now = clock_mono_ns();
	while (d->nheap && d->heap[0]->at <= now) {
		struct scraper__watch *w = d->heap[0];

		scraper__driver_timer(d, w, -1);
		if (w->on_timer)
			w->on_timer(w);
	}
	return d->woken;
}

void scraper__driver_wakeup(struct scraper__driver *d)
{
	uint64_t one = 1;

	if (write(d->wake, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("cannot wake the scraper: %s", COMMON_SYSERR(errno));
}
