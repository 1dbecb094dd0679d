/*
 * kubelet_loop.c - ONE thread serving every simulated kubelet.
 *
 * A single listening socket on 0.0.0.0:<port>; a connection's node is
 * the local address it reached (getsockname), peers outside 127/8 are
 * dropped at once.  Non-blocking GnuTLS sessions on an epoll loop with
 * level-triggered interest that follows gnutls_record_get_direction().
 * Timers (idle, request, write, `slow` delays) live in one heap.  A
 * connection holds no buffer while idle.
 */
#include "test/kubesim/kubelet_heap.h"
#include "test/kubesim/podmetrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQUEST_TIMEOUT_NS (10 * NS_PER_SEC)
#define WRITE_TIMEOUT_NS (30 * NS_PER_SEC)
#define RECORD_CHUNK 16384
#define STREAM_CHUNK (64u << 10)
#define MAX_EVENTS 256

enum conn_state { C_HANDSHAKE, C_READ, C_DELAY, C_WRITE };

struct conn {
	struct sim_kl_timer timer; /* first: the heap hands it back */
	int fd;
	gnutls_session_t s;     /* NULL: plain HTTP (an application target) */
	struct sim_kl_tls_ident id;
	bool target;            /* an application target, key below */
	bool plain_out;         /* plain: last I/O wanted to write */
	char key[SIM_PM_KEY_LEN];
	enum conn_state state;
	uint32_t events;
	bool authorized;
	struct dynbuf in;
	struct sim_kl_request req;
	struct sim_kl_reply reply;
	size_t outpos;
};

struct sim_kl_loop {
	struct sim_kl_loop_cfg cfg;
	int ep, lfd, wake;
	int port;
	bool paused;          /* listener out of epoll: too many connections */
	atomic_bool stop;
	int nconns;
	struct sim_kl_heap timers;
	struct dynbuf scratch;
	pthread_t thread;
	char listen_tag, wake_tag; /* epoll data.ptr markers */
	struct conn **conns;       /* every live connection, for shutdown */
	size_t nall, capall;
	struct sim_pm_listeners targets;
};

/* ---- connection bookkeeping -------------------------------------------------- */

static void track(struct sim_kl_loop *l, struct conn *c)
{
	if (l->nall == l->capall) {
		l->capall = l->capall ? l->capall * 2 : 1024;
		l->conns = xrealloc(l->conns, l->capall * sizeof(*l->conns));
	}
	l->conns[l->nall++] = c;
	l->nconns++;
}

static void untrack(struct sim_kl_loop *l, struct conn *c)
{
	for (size_t i = l->nall; i-- > 0;) {
		if (l->conns[i] == c) {
			l->conns[i] = l->conns[--l->nall];
			break;
		}
	}
	l->nconns--;
}

static void set_listening(struct sim_kl_loop *l, bool on)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->listen_tag};

	if (on == !l->paused)
		return;
	epoll_ctl(l->ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, l->lfd, &ev);
	l->paused = !on;
}

/* Closes at once; a reset (RST) when hard, as a dead node would. */
static void conn_close(struct sim_kl_loop *l, struct conn *c, bool hard)
{
	if (hard) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};

		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	} else if (c->s && c->state != C_HANDSHAKE) {
		gnutls_bye(c->s, GNUTLS_SHUT_WR);
	}
	sim_kl_heap_remove(&l->timers, &c->timer);
	if (c->s)
		gnutls_deinit(c->s);
	close(c->fd);
	dynbuf_clear(&c->in);
	dynbuf_clear(&c->reply.out);
	untrack(l, c);
	free(c);
	set_listening(l, l->nconns < l->cfg.max_conns);
}

static void want(struct sim_kl_loop *l, struct conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};

	if (c->events == events)
		return;
	c->events = events;
	epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void want_tls(struct sim_kl_loop *l, struct conn *c)
{
	bool out = c->s ? gnutls_record_get_direction(c->s) : c->plain_out;

	want(l, c, out ? EPOLLOUT : EPOLLIN);
}

/* The TLS record calls, or plain socket I/O with the same return codes. */
static ssize_t io_plain(struct conn *c, ssize_t n, bool out)
{
	c->plain_out = out;
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return GNUTLS_E_AGAIN;
	return errno == EINTR ? GNUTLS_E_INTERRUPTED : -1;
}

static ssize_t io_recv(struct conn *c, void *buf, size_t n)
{
	if (c->s)
		return gnutls_record_recv(c->s, buf, n);
	return io_plain(c, recv(c->fd, buf, n, 0), false);
}

static ssize_t io_send(struct conn *c, const void *buf, size_t n)
{
	if (c->s)
		return gnutls_record_send(c->s, buf, n);
	return io_plain(c, send(c->fd, buf, n, MSG_NOSIGNAL), true);
}

/* ---- the request / response cycle ---------------------------------------------- */

static void start_reply(struct sim_kl_loop *l, struct conn *c)
{
	dynbuf_reset(&c->reply.out);
	c->reply.close = false;
	c->reply.reset = false;
	if (c->target)
		sim_pm_respond(l->cfg.model, c->key, &c->req, &l->scratch, &c->reply);
	else
		sim_kl_respond(l->cfg.model, c->id.addr, &c->req, c->authorized, &l->scratch,
			       &c->reply);
	c->outpos = 0;
	c->state = C_WRITE;
	sim_kl_heap_set(&l->timers, &c->timer, clock_mono_ns() + WRITE_TIMEOUT_NS);
}

static void error_reply(struct sim_kl_loop *l, struct conn *c, int status)
{
	dynbuf_reset(&c->reply.out);
	c->reply = (struct sim_kl_reply){.out = c->reply.out, .close = true};
	if (sim_kl_http_head(&c->reply.out, status, "text/plain; charset=utf-8", 0, false) != 0)
		c->reply.reset = true;
	c->outpos = 0;
	c->state = C_WRITE;
	sim_kl_heap_set(&l->timers, &c->timer, clock_mono_ns() + WRITE_TIMEOUT_NS);
}

/* A complete head is in c->in: answer now or after the node's delay. */
static void on_request(struct sim_kl_loop *l, struct conn *c, long n)
{
	struct sim_kl_view v = {.fault.slow_ns = 0};
	bool https;

	memmove(c->in.buf, c->in.buf + n, c->in.len - (size_t)n);
	c->in.len -= (size_t)n;
	if (c->target ? sim_pm_lookup(l->cfg.model, c->key, &https, &v.fault)
		      : sim_kl_model_lookup(l->cfg.model, c->id.addr, &v)) {
		if (v.fault.slow_ns > 0) {
			c->state = C_DELAY;
			want(l, c, 0);
			sim_kl_heap_set(&l->timers, &c->timer, clock_mono_ns() + v.fault.slow_ns);
			return;
		}
	}
	start_reply(l, c);
}

/* Tries to parse what arrived; true when a reply was started. */
static bool try_parse(struct sim_kl_loop *l, struct conn *c)
{
	long n;

	if (c->in.len == 0)
		return false;
	n = sim_kl_http_parse(c->in.buf, c->in.len, &c->req);
	if (n == ERR_TOOBIG)
		error_reply(l, c, 431);
	else if (n < 0)
		error_reply(l, c, 400);
	else if (n > 0)
		on_request(l, c, n);
	return n != 0;
}

/* Reads until the TLS layer has nothing more.  false when c was closed. */
static bool do_read(struct sim_kl_loop *l, struct conn *c)
{
	char buf[4096];

	for (;;) {
		ssize_t n;

		if (try_parse(l, c))
			return true;
		n = io_recv(c, buf, sizeof(buf));
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			want_tls(l, c);
			return true;
		}
		if (n <= 0 || dynbuf_add(&c->in, buf, (size_t)n) != 0) {
			conn_close(l, c, false);
			return false;
		}
		if (c->in.len == (size_t)n) /* first bytes of a request */
			sim_kl_heap_set(&l->timers, &c->timer, clock_mono_ns() + REQUEST_TIMEOUT_NS);
	}
}

/* Refills reply.out from the padding (or series) stream; false when nothing is left. */
static bool refill(struct conn *c)
{
	size_t n = c->reply.stream_left < STREAM_CHUNK ? (size_t)c->reply.stream_left
						       : STREAM_CHUNK;
	char *chunk;

	if (n == 0)
		return false;
	chunk = xmalloc(n);
	if (c->reply.stream_series)
		sim_kl_series_lines(chunk, n, c->reply.stream_pos);
	else
		sim_kl_padding(chunk, n, c->reply.stream_pos);
	dynbuf_reset(&c->reply.out);
	if (dynbuf_add(&c->reply.out, chunk, n) != 0)
		n = 0;
	free(chunk);
	c->reply.stream_left -= n;
	c->reply.stream_pos += n;
	c->outpos = 0;
	return n > 0;
}

/* The reply is out: back to reading, or closed.  false when closed. */
static bool reply_done(struct sim_kl_loop *l, struct conn *c)
{
	if (c->reply.close) {
		conn_close(l, c, false);
		return false;
	}
	dynbuf_clear(&c->reply.out);
	if (c->in.len == 0)
		dynbuf_clear(&c->in);
	c->state = C_READ;
	sim_kl_heap_set(&l->timers, &c->timer, clock_mono_ns() + l->cfg.idle_timeout_ns);
	return true;
}

static bool do_write(struct sim_kl_loop *l, struct conn *c)
{
	if (c->reply.reset) {
		conn_close(l, c, true);
		return false;
	}
	for (;;) {
		size_t left = c->reply.out.len - c->outpos;
		ssize_t n;

		if (left == 0 && !refill(c))
			return reply_done(l, c);
		left = c->reply.out.len - c->outpos;
		n = io_send(c, c->reply.out.buf + c->outpos,
			    left < RECORD_CHUNK ? left : RECORD_CHUNK);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			want_tls(l, c);
			sim_kl_heap_set(&l->timers, &c->timer, clock_mono_ns() + WRITE_TIMEOUT_NS);
			return true;
		}
		if (n < 0) {
			conn_close(l, c, false);
			return false;
		}
		c->outpos += (size_t)n;
	}
}

static bool do_handshake(struct sim_kl_loop *l, struct conn *c)
{
	int rc = gnutls_handshake(c->s);

	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
		want_tls(l, c);
		return true;
	}
	if (rc < 0) {
		log_v(4, "kubelet %s: TLS handshake failed: %s", c->id.name, gnutls_strerror(rc));
		conn_close(l, c, false);
		return false;
	}
	c->authorized = sim_kl_tls_client_ok(l->cfg.tls, c->s);
	c->state = C_READ;
	sim_kl_heap_set(&l->timers, &c->timer, clock_mono_ns() + l->cfg.idle_timeout_ns);
	return true;
}

/* Advances c as far as it goes without blocking. */
static void conn_step(struct sim_kl_loop *l, struct conn *c)
{
	for (;;) {
		enum conn_state before = c->state;
		bool alive;

		switch (c->state) {
		case C_HANDSHAKE:
			alive = do_handshake(l, c);
			break;
		case C_READ:
			alive = do_read(l, c);
			break;
		case C_WRITE:
			alive = do_write(l, c);
			break;
		default:
			return; /* C_DELAY: the timer resumes it */
		}
		if (!alive || c->state == before)
			return;
	}
}

/* ---- accepting -------------------------------------------------------------------- */

static bool loopback(const struct sockaddr_in *a)
{
	return a->sin_family == AF_INET && (ntohl(a->sin_addr.s_addr) >> 24) == 127;
}

/* The node behind a fresh socket; false to drop it. */
static bool identify(struct sim_kl_loop *l, int fd, const struct sockaddr_in *peer,
		     struct sim_kl_tls_ident *id, bool *down)
{
	struct sockaddr_in local;
	socklen_t len = sizeof(local);
	struct sim_kl_view v;

	if (!loopback(peer) || getsockname(fd, (struct sockaddr *)&local, &len) != 0 ||
	    !loopback(&local))
		return false;
	inet_ntop(AF_INET, &local.sin_addr, id->addr, sizeof(id->addr));
	if (!sim_kl_model_lookup(l->cfg.model, id->addr, &v))
		return false;
	snprintf(id->name, sizeof(id->name), "%s", v.name);
	id->mode = v.cert_mode;
	*down = v.fault.down;
	return true;
}

/* The application target behind a fresh socket (addr:port); false to drop it. */
static bool identify_target(struct sim_kl_loop *l, struct conn *c,
			    const struct sockaddr_in *peer, bool *https, bool *down)
{
	struct sockaddr_in local;
	socklen_t len = sizeof(local);
	struct sim_kl_fault f;

	if (!loopback(peer) || getsockname(c->fd, (struct sockaddr *)&local, &len) != 0 ||
	    !loopback(&local))
		return false;
	inet_ntop(AF_INET, &local.sin_addr, c->id.addr, sizeof(c->id.addr));
	snprintf(c->key, sizeof(c->key), "%s:%d", c->id.addr, ntohs(local.sin_port));
	snprintf(c->id.name, sizeof(c->id.name), "%s", c->key);
	c->id.mode = -1;
	c->target = true;
	if (!sim_pm_lookup(l->cfg.model, c->key, https, &f))
		return false;
	*down = f.down;
	return true;
}

static void accept_one(struct sim_kl_loop *l, int fd, const struct sockaddr_in *peer,
		       bool target)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	bool down = false, tls = true;
	int one = 1;

	c->fd = fd;
	c->timer.idx = SIM_KL_NO_TIMER;
	c->events = EPOLLIN;
	dynbuf_init(&c->in, SIM_KL_MAX_REQUEST);
	dynbuf_init(&c->reply.out, DYN_KUBELET_BODY);
	track(l, c);
	if (!(target ? identify_target(l, c, peer, &tls, &down)
		     : identify(l, fd, peer, &c->id, &down)) ||
	    down) {
		conn_close(l, c, true);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!tls) {
		c->authorized = true;
		c->state = C_READ;
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			conn_close(l, c, true);
			return;
		}
		sim_kl_heap_set(&l->timers, &c->timer, clock_mono_ns() + REQUEST_TIMEOUT_NS);
		conn_step(l, c);
		return;
	}
	if (gnutls_init(&c->s, GNUTLS_SERVER | GNUTLS_NONBLOCK) < 0 ||
	    sim_kl_tls_setup(l->cfg.tls, c->s, &c->id) != 0 ||
	    epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		conn_close(l, c, true);
		return;
	}
	gnutls_transport_set_int(c->s, fd);
	sim_kl_heap_set(&l->timers, &c->timer, clock_mono_ns() + REQUEST_TIMEOUT_NS);
	conn_step(l, c);
}

static void accept_all(struct sim_kl_loop *l, int lfd, bool target)
{
	if (target && l->nconns >= l->cfg.max_conns) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0)
			close(fd); /* full: refuse rather than spin on the listener */
		return;
	}
	while (l->nconns < l->cfg.max_conns) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(lfd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				log_warn("kubelets: out of file descriptors with %d connections",
					 l->nconns);
				set_listening(l, false);
			}
			return;
		}
		accept_one(l, fd, &peer, target);
	}
	set_listening(l, false);
}

/* ---- the loop ------------------------------------------------------------------------ */

static void run_timers(struct sim_kl_loop *l)
{
	int64_t now = clock_mono_ns();
	struct sim_kl_timer *t;

	while ((t = sim_kl_heap_top(&l->timers)) && t->deadline <= now) {
		struct conn *c = (struct conn *)t;

		sim_kl_heap_remove(&l->timers, t);
		if (c->state != C_DELAY) {
			conn_close(l, c, false); /* idle, request or write timeout */
			continue;
		}
		start_reply(l, c);
		conn_step(l, c);
	}
}

static int next_timeout_ms(const struct sim_kl_loop *l)
{
	struct sim_kl_timer *t = sim_kl_heap_top(&l->timers);
	int64_t ms;

	if (!t)
		return 1000;
	ms = (t->deadline - clock_mono_ns() + NS_PER_MS - 1) / NS_PER_MS;
	return ms < 0 ? 0 : ms > 1000 ? 1000 : (int)ms;
}

static void *loop_main(void *arg)
{
	struct sim_kl_loop *l = arg;
	struct epoll_event evs[MAX_EVENTS];
	sigset_t pipe;

	/* a peer that went away makes writes fail with EPIPE, not kill us */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
	while (!atomic_load(&l->stop)) {
		int n = epoll_wait(l->ep, evs, MAX_EVENTS, next_timeout_ms(l));

		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			int tfd;
			uint64_t v;

			if (p == &l->listen_tag)
				accept_all(l, l->lfd, false);
			else if (p == &l->wake_tag)
				(void)!read(l->wake, &v, sizeof(v));
			else if ((tfd = sim_pm_listeners_fd(&l->targets, p)) >= 0)
				accept_all(l, tfd, true);
			else
				conn_step(l, p);
		}
		sim_pm_listeners_sync(&l->targets, l->cfg.model, l->ep);
		run_timers(l);
	}
	return NULL;
}

/* ---- start / stop --------------------------------------------------------------------- */

static int listen_on(struct sim_kl_loop *l, char *err, size_t errlen)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)l->cfg.port)};
	socklen_t len = sizeof(a);
	int one = 1;

	if (inet_pton(AF_INET, l->cfg.bind, &a.sin_addr) != 1) {
		snprintf(err, errlen, "kubelets: invalid bind address %s", l->cfg.bind);
		return ERR_INVAL;
	}
	l->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->lfd < 0 || setsockopt(l->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(l->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l->lfd, 4096) != 0 ||
	    getsockname(l->lfd, (struct sockaddr *)&a, &len) != 0) {
		snprintf(err, errlen, "kubelets: cannot listen on %s:%d: %s", l->cfg.bind,
			 l->cfg.port, COMMON_SYSERR(errno));
		return ERR_IO;
	}
	l->port = ntohs(a.sin_port);
	return 0;
}

static void loop_free(struct sim_kl_loop *l)
{
	sim_pm_set_wake(l->cfg.model, -1);
	while (l->nall > 0)
		conn_close(l, l->conns[l->nall - 1], false);
	sim_pm_listeners_close(&l->targets);
	free(l->conns);
	sim_kl_heap_clear(&l->timers);
	dynbuf_clear(&l->scratch);
	if (l->lfd >= 0)
		close(l->lfd);
	if (l->wake >= 0)
		close(l->wake);
	if (l->ep >= 0)
		close(l->ep);
	free(l);
}

struct sim_kl_loop *sim_kl_loop_start(const struct sim_kl_loop_cfg *cfg, char *err,
				      size_t errlen)
{
	struct sim_kl_loop *l = xcalloc(1, sizeof(*l));
	struct epoll_event ev = {.events = EPOLLIN};

	l->cfg = *cfg;
	l->lfd = l->wake = -1;
	l->paused = true;
	dynbuf_init(&l->scratch, DYN_KUBELET_BODY);
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ev.data.ptr = &l->wake_tag;
	if (l->ep < 0 || l->wake < 0 || epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake, &ev) != 0) {
		snprintf(err, errlen, "kubelets: epoll: %s", COMMON_SYSERR(errno));
		goto fail;
	}
	if (listen_on(l, err, errlen) != 0)
		goto fail;
	set_listening(l, true);
	sim_pm_set_wake(l->cfg.model, l->wake);
	sim_pm_listeners_sync(&l->targets, l->cfg.model, l->ep);
	if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
		snprintf(err, errlen, "kubelets: cannot start the loop thread");
		goto fail;
	}
	return l;
fail:
	loop_free(l);
	return NULL;
}

int sim_kl_loop_port(const struct sim_kl_loop *l)
{
	return l->port;
}

void sim_kl_loop_stop(struct sim_kl_loop *l)
{
	uint64_t one = 1;

	if (!l)
		return;
	atomic_store(&l->stop, true);
	if (write(l->wake, &one, sizeof(one)) < 0)
		log_warn("kubelets: cannot wake the loop: %s", COMMON_SYSERR(errno));
	pthread_join(l->thread, NULL);
	loop_free(l);
}
