/*
 * bench_sink.c - a remote-write sink that drops everything, for
 * bench-pods (vmagent needs somewhere to send what it scraped).
 *
 *   build/test/bench_sink [--port N] [--max-seconds S]
 *
 * Listens on 127.0.0.1:N (0, the default: a free port), prints
 * "bench_sink listening 127.0.0.1:<port>" on stdout once it accepts, and
 * answers every HTTP/1.1 request with 204 No Content after reading (and
 * discarding) its Content-Length body; keep-alive as the client asks.
 * A chunked body or a head over 16 KiB gets 411/431 and the connection is
 * closed.  One epoll thread.  Exits on SIGTERM/SIGINT or after
 * --max-seconds (default 3600), printing requests and bytes on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/common.h"

#define MAX_HEAD 16384
#define MAX_EVENTS 64
#define MAX_CONNS 1024

struct conn {
	int fd;
	char head[MAX_HEAD];
	size_t hlen;
	long long body_left; /* bytes of the current body still to drop */
	bool in_body, close_after;
};

static volatile sig_atomic_t stop_flag;
static unsigned long long requests, bytes_in;
static int nconns;

static void on_signal(int sig)
{
	COMMON_UNUSED(sig);
	stop_flag = 1;
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c);
	nconns--;
}

/* Writes all of s (small replies on a loopback socket); false on error. */
static bool send_all(int fd, const char *s)
{
	size_t n = strlen(s), off = 0;

	while (off < n) {
		ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			usleep(1000);
			continue;
		}
		if (w <= 0)
			return false;
		off += (size_t)w;
	}
	return true;
}

/* The value of header name in the head (lines end with \r\n), or NULL. */
static const char *header(const char *head, const char *name, char *val, size_t vlen)
{
	size_t n = strlen(name);

	for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2, *end = strstr(line, "\r\n");
		size_t len;

		if (!end)
			return NULL;
		if ((size_t)(end - line) <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
			continue;
		line += n + 1;
		while (*line == ' ' || *line == '\t')
			line++;
		len = (size_t)(end - line);
		if (len >= vlen)
			len = vlen - 1;
		memcpy(val, line, len);
		val[len] = '\0';
		return val;
	}
	return NULL;
}

/* A whole head is in c->head[0..end): sets up its body; false to close. */
static bool on_head(struct conn *c, size_t end)
{
	char val[64], *num_end;
	long long len = 0;

	c->head[end - 1] = '\0'; /* the last \n: headers end with \r\n\r */
	if (header(c->head, "Transfer-Encoding", val, sizeof(val))) {
		send_all(c->fd, "HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\n"
				"Connection: close\r\n\r\n");
		return false;
	}
	if (header(c->head, "Content-Length", val, sizeof(val))) {
		errno = 0;
		len = strtoll(val, &num_end, 10);
		if (errno || num_end == val || *num_end || len < 0) {
			send_all(c->fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
					"Connection: close\r\n\r\n");
			return false;
		}
	}
	c->close_after = header(c->head, "Connection", val, sizeof(val)) &&
			 strcasecmp(val, "close") == 0;
	c->body_left = len;
	c->in_body = true;
	return true;
}

/* The request's body is dropped: answer it.  false to close. */
static bool on_request_done(struct conn *c)
{
	requests++;
	c->in_body = false;
	c->hlen = 0;
	if (!send_all(c->fd, c->close_after ? "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
					    : "HTTP/1.1 204 No Content\r\n\r\n"))
		return false;
	return !c->close_after;
}

/* Consumes n bytes at p; false to close the connection. */
static bool feed(struct conn *c, const char *p, size_t n)
{
	while (n > 0) {
		if (c->in_body) {
			size_t k = (long long)n < c->body_left ? n : (size_t)c->body_left;

			c->body_left -= (long long)k;
			p += k;
			n -= k;
			if (c->body_left == 0 && !on_request_done(c))
				return false;
			continue;
		}
		while (n > 0 && !c->in_body) {
			if (c->hlen == MAX_HEAD - 1) {
				send_all(c->fd, "HTTP/1.1 431 Request Header Fields Too Large\r\n"
						"Content-Length: 0\r\nConnection: close\r\n\r\n");
				return false;
			}
			c->head[c->hlen++] = *p++;
			n--;
			c->head[c->hlen] = '\0';
			if (c->hlen >= 4 && memcmp(c->head + c->hlen - 4, "\r\n\r\n", 4) == 0) {
				if (!on_head(c, c->hlen))
					return false;
				if (c->body_left == 0 && !on_request_done(c))
					return false;
			}
		}
	}
	return true;
}

static void on_readable(struct conn *c)
{
	char buf[65536];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_close(c);
			return;
		}
		bytes_in += (unsigned long long)n;
		if (!feed(c, buf, (size_t)n)) {
			conn_close(c);
			return;
		}
	}
}

static void accept_all(int lfd, int ep)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = {.events = EPOLLIN};
		struct conn *c;

		if (fd < 0)
			return;
		if (nconns >= MAX_CONNS) {
			close(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		ev.data.ptr = c;
		nconns++;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
			conn_close(c);
	}
}

static int listen_on(int port, int *bound)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 256) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		close(fd);
		return -1;
	}
	*bound = ntohs(a.sin_port);
	return fd;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_sink [--port N] [--max-seconds S]\n");
	return 2;
}

/* An integer option value in [min, max]; false when it is not one. */
static bool int_arg(const char *v, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(v, &end, 10);
	return v && *v && !errno && end != v && !*end && *out >= min && *out <= max;
}

int main(int argc, char **argv)
{
	long port = 0, max_s = 3600;
	struct epoll_event evs[MAX_EVENTS];
	struct sigaction sa = {.sa_handler = on_signal};
	int lfd, ep, bound = 0;
	int64_t deadline;
	char lmark;

	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--port") == 0 &&
		    int_arg(argv[i + 1], 0, 65535, &port))
			i++;
		else if (i + 1 < argc && strcmp(argv[i], "--max-seconds") == 0 &&
			 int_arg(argv[i + 1], 1, 86400, &max_s))
			i++;
		else
			return usage();
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	lfd = listen_on((int)port, &bound);
	if (lfd < 0) {
		fprintf(stderr, "bench_sink: cannot listen on 127.0.0.1:%ld: %s\n", port,
			COMMON_SYSERR(errno));
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	evs[0] = (struct epoll_event){.events = EPOLLIN, .data.ptr = &lmark};
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &evs[0]) != 0) {
		fprintf(stderr, "bench_sink: epoll: %s\n", COMMON_SYSERR(errno));
		return 1;
	}
	printf("bench_sink listening 127.0.0.1:%d\n", bound);
	fflush(stdout);
	deadline = clock_mono_ns() + max_s * NS_PER_SEC;
	while (!stop_flag && clock_mono_ns() < deadline) {
		int n = epoll_wait(ep, evs, MAX_EVENTS, 1000);

		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &lmark)
				accept_all(lfd, ep);
			else
				on_readable(evs[i].data.ptr);
		}
	}
	fprintf(stderr, "bench_sink: %llu requests, %llu bytes dropped\n", requests, bytes_in);
	close(ep);
	close(lfd);
	return 0;
}
