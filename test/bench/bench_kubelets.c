/*
 * bench_kubelets.c - scrapes many kubelets the way metrics-server does and
 * reports latency per round.
 *
 *   build/test/bench_kubelets --first 127.1.0.1 --count 10000 --port 10250
 *       [--rounds 3] [--interval 15s] [--wait 180s] [--cacert FILE]
 *
 * Targets are consecutive IPv4 addresses from --first.  Each round GETs
 * /metrics/resource from every target once over HTTPS with libcurl multi,
 * start times spread like metrics-server (min(8 ms x targets, 4 s)) and
 * connections kept alive between rounds.  Round 0 is a warm-up that pays
 * the TLS handshakes with a 60 s timeout; measured rounds use the 10 s of
 * metrics-server's --kubelet-request-timeout.  Without --cacert the server
 * certificate is not verified.  Prints requests, failures, p50/p99/max
 * latency and bytes per round; exits 1 when a measured round had failures.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"

#define MAX_TARGETS 100000
#define SPREAD_PER_TARGET_NS (8 * NS_PER_MS)
#define MAX_SPREAD_NS (4 * NS_PER_SEC)
#define WARMUP_TIMEOUT_MS 60000L
#define REQUEST_TIMEOUT_MS 10000L

struct target {
	CURL *h;
	char url[64];
	int64_t start_ns;
	uint64_t bytes;
	bool head_ok; /* body starts like exposition text */
};

struct opts {
	const char *first;
	int count, port, rounds;
	int64_t interval_ns, wait_ns;
	const char *cacert;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct target *t = ud;

	if (t->bytes == 0)
		t->head_ok = n * size >= 2 && p[0] == '#';
	t->bytes += size * n;
	return size * n;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_kubelets --first ADDR --count N --port P [--rounds R]"
			" [--interval DUR] [--wait DUR] [--cacert FILE]\n");
	return 2;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || !*s || *end || v < lo || v > hi)
		return ERR_PARSE;
	*out = (int)v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.rounds = 3, .interval_ns = 15 * NS_PER_SEC, .wait_ns = 180 * NS_PER_SEC};
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		int rc = 0;

		if (strcmp(k, "--first") == 0)
			o->first = v;
		else if (strcmp(k, "--count") == 0)
			rc = parse_int(v, 1, MAX_TARGETS, &o->count);
		else if (strcmp(k, "--port") == 0)
			rc = parse_int(v, 1, 65535, &o->port);
		else if (strcmp(k, "--rounds") == 0)
			rc = parse_int(v, 1, 1000, &o->rounds);
		else if (strcmp(k, "--interval") == 0)
			rc = parse_go_duration(v, &o->interval_ns);
		else if (strcmp(k, "--wait") == 0)
			rc = parse_go_duration(v, &o->wait_ns);
		else if (strcmp(k, "--cacert") == 0)
			o->cacert = v;
		else
			rc = ERR_INVAL;
		if (rc)
			return ERR_INVAL;
	}
	return o->first && o->count > 0 && o->port > 0 && argc % 2 == 1 ? 0 : ERR_INVAL;
}

static void setup_handle(struct target *t, const struct opts *o, uint32_t addr)
{
	struct in_addr a = {.s_addr = htonl(addr)};
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	snprintf(t->url, sizeof(t->url), "https://%s:%d/metrics/resource", ip, o->port);
	t->h = curl_easy_init();
	curl_easy_setopt(t->h, CURLOPT_URL, t->url);
	curl_easy_setopt(t->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(t->h, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->h, CURLOPT_PRIVATE, t);
	curl_easy_setopt(t->h, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT_MS);
	/* never prune the name cache: libcurl 7.88 walks all of it per lookup */
	curl_easy_setopt(t->h, CURLOPT_DNS_CACHE_TIMEOUT, -1L);
	curl_easy_setopt(t->h, CURLOPT_SSL_VERIFYPEER, o->cacert ? 1L : 0L);
	curl_easy_setopt(t->h, CURLOPT_SSL_VERIFYHOST, o->cacert ? 2L : 0L);
	/* libcurl's GnuTLS backend reads the CA file on every handshake, even
	 * without verification: only name the small cluster CA */
	curl_easy_setopt(t->h, CURLOPT_CAINFO, o->cacert);
	curl_easy_setopt(t->h, CURLOPT_CAPATH, NULL);
}

/* ---- one round ------------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

struct round {
	int64_t *lat_us;
	int ok, failed;
	int by_code[CURL_LAST + 1]; /* failures per CURLcode (HTTP errors: CURLE_OK) */
	uint64_t bytes;
};

static void finish(CURLM *m, struct round *r)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m, &left))) {
		struct target *t;
		long status = 0;
		curl_off_t us = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(msg->easy_handle, CURLINFO_TOTAL_TIME_T, &us);
		curl_multi_remove_handle(m, msg->easy_handle);
		if (msg->data.result == CURLE_OK && status == 200 && t->head_ok) {
			r->lat_us[r->ok++] = (int64_t)us;
			r->bytes += t->bytes;
		} else {
			r->failed++;
			r->by_code[msg->data.result]++;
		}
	}
}

struct slot {
	int64_t start_ns;
	int idx;
};

static int cmp_slot(const void *a, const void *b)
{
	return cmp_i64(&((const struct slot *)a)->start_ns, &((const struct slot *)b)->start_ns);
}

/* ---- multi handles on one epoll ------------------------------------------------------
 * curl_multi_poll is O(connections) per call and libcurl 7.88 walks its whole
 * connection cache in curl_multi_remove_handle, so targets are spread over
 * several multi handles of TARGETS_PER_MULTI each, driven by socket callbacks. */

#define TARGETS_PER_MULTI 500

struct multi {
	CURLM *m;
	int ep;
	uint32_t idx;
	int64_t deadline_ns; /* curl's timer (CURLMOPT_TIMERFUNCTION), -1 = none */
};

struct driver {
	struct multi *ms;
	int nm;
	int ep;
};

static int on_socket(CURL *e, curl_socket_t fd, int what, void *ud, void *sockp)
{
	struct multi *mu = ud;
	struct epoll_event ev = {.data.u64 = (uint64_t)mu->idx << 32 | (uint32_t)fd};

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(mu->ep, EPOLL_CTL_DEL, fd, NULL);
		curl_multi_assign(mu->m, fd, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (!sockp) {
		epoll_ctl(mu->ep, EPOLL_CTL_ADD, fd, &ev);
		curl_multi_assign(mu->m, fd, mu); /* any non-NULL marks "added" */
	} else {
		epoll_ctl(mu->ep, EPOLL_CTL_MOD, fd, &ev);
	}
	return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *ud)
{
	struct multi *mu = ud;

	(void)m;
	mu->deadline_ns = timeout_ms < 0 ? -1 : clock_mono_ns() + timeout_ms * NS_PER_MS;
	return 0;
}

static void driver_init(struct driver *d, int n)
{
	d->nm = (n + TARGETS_PER_MULTI - 1) / TARGETS_PER_MULTI;
	d->ms = xcalloc((size_t)d->nm, sizeof(*d->ms));
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < d->nm; i++) {
		struct multi *mu = &d->ms[i];

		mu->m = curl_multi_init();
		mu->ep = d->ep;
		mu->idx = (uint32_t)i;
		mu->deadline_ns = -1;
		curl_multi_setopt(mu->m, CURLMOPT_SOCKETFUNCTION, on_socket);
		curl_multi_setopt(mu->m, CURLMOPT_SOCKETDATA, mu);
		curl_multi_setopt(mu->m, CURLMOPT_TIMERFUNCTION, on_timer);
		curl_multi_setopt(mu->m, CURLMOPT_TIMERDATA, mu);
		/* one kept-alive connection per kubelet, as metrics-server has */
		curl_multi_setopt(mu->m, CURLMOPT_MAXCONNECTS, (long)TARGETS_PER_MULTI + 16);
	}
}

static void driver_clear(struct driver *d)
{
	for (int i = 0; i < d->nm; i++)
		curl_multi_cleanup(d->ms[i].m);
	free(d->ms);
	close(d->ep);
}

/* Waits up to max_ms for socket events or a timer and acts on them. */
static void driver_step(struct driver *d, long max_ms)
{
	struct epoll_event evs[256];
	int64_t now = clock_mono_ns();
	long wait = max_ms;
	int running, n;

	for (int i = 0; i < d->nm; i++) {
		int64_t dl = d->ms[i].deadline_ns;

		if (dl >= 0 && (dl - now) / NS_PER_MS < wait)
			wait = dl <= now ? 0 : (long)((dl - now) / NS_PER_MS);
	}
	n = epoll_wait(d->ep, evs, 256, (int)wait);
	for (int i = 0; i < n; i++) {
		struct multi *mu = &d->ms[evs[i].data.u64 >> 32];
		int flags = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
			    (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
			    (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);

		curl_multi_socket_action(mu->m, (curl_socket_t)(uint32_t)evs[i].data.u64, flags,
					 &running);
	}
	now = clock_mono_ns();
	for (int i = 0; i < d->nm; i++) {
		struct multi *mu = &d->ms[i];

		if (mu->deadline_ns >= 0 && mu->deadline_ns <= now) {
			mu->deadline_ns = -1;
			curl_multi_socket_action(mu->m, CURL_SOCKET_TIMEOUT, 0, &running);
		}
	}
}

/* Every target once, start times spread at random over the window. */
static void run_round(struct driver *d, struct target *ts, int n, int no, struct round *r)
{
	int64_t spread = (int64_t)n * SPREAD_PER_TARGET_NS, start = clock_mono_ns();
	struct slot *order = xcalloc((size_t)n, sizeof(*order));
	uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(no + 1);
	int next = 0;

	if (spread > MAX_SPREAD_NS)
		spread = MAX_SPREAD_NS;
	for (int i = 0; i < n; i++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		order[i] = (struct slot){start + (int64_t)((rng >> 11) % (uint64_t)spread), i};
		ts[i].bytes = 0;
	}
	qsort(order, (size_t)n, sizeof(*order), cmp_slot);
	while (r->ok + r->failed < n) {
		int64_t now = clock_mono_ns(), wait_ms = 50;

		for (; next < n && order[next].start_ns <= now; next++)
			curl_multi_add_handle(d->ms[order[next].idx % d->nm].m,
					      ts[order[next].idx].h);
		if (next < n)
			wait_ms = (order[next].start_ns - now) / NS_PER_MS;
		driver_step(d, wait_ms < 0 ? 0 : wait_ms > 50 ? 50 : wait_ms);
		for (int i = 0; i < d->nm; i++)
			finish(d->ms[i].m, r);
	}
	free(order);
}

static void report(int no, struct round *r, int64_t wall_ns)
{
	int64_t p50 = 0, p99 = 0, max = 0;

	if (r->ok > 0) {
		qsort(r->lat_us, (size_t)r->ok, sizeof(*r->lat_us), cmp_i64);
		p50 = r->lat_us[r->ok / 2];
		p99 = r->lat_us[(int)((int64_t)r->ok * 99 / 100)];
		max = r->lat_us[r->ok - 1];
	}
	printf("round %d%s: %d ok, %d failed, latency p50 %.2f ms, p99 %.2f ms, max %.2f ms, "
	       "%.1f MB in %.2f s\n",
	       no, no == 0 ? " (warm-up)" : "", r->ok, r->failed, (double)p50 / 1000,
	       (double)p99 / 1000, (double)max / 1000, (double)r->bytes / 1e6,
	       (double)wall_ns / 1e9);
	for (int c = 0; c <= CURL_LAST; c++)
		if (r->by_code[c])
			printf("  %d failed: %s\n", r->by_code[c],
			       c == CURLE_OK ? "HTTP status not 200" : curl_easy_strerror(c));
	fflush(stdout);
}

/* ---- waiting for the simulator ------------------------------------------------------ */

/* GETs the last target until it answers 200 or the wait is over. */
static int wait_ready(struct target *last, int64_t wait_ns)
{
	int64_t deadline = clock_mono_ns() + wait_ns;

	for (;;) {
		long status = 0;
		struct timespec ts = {0, 200 * 1000 * 1000};

		last->bytes = 0;
		if (curl_easy_perform(last->h) == CURLE_OK &&
		    curl_easy_getinfo(last->h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
		    status == 200)
			return 0;
		if (clock_mono_ns() > deadline)
			return ERR_TIMEOUT;
		nanosleep(&ts, NULL);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct target *ts;
	struct in_addr first;
	struct driver d;
	int rc = 0;

	if (parse_opts(argc, argv, &o) != 0 || inet_pton(AF_INET, o.first, &first) != 1)
		return usage();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ts = xcalloc((size_t)o.count, sizeof(*ts));
	for (int i = 0; i < o.count; i++)
		setup_handle(&ts[i], &o, ntohl(first.s_addr) + (uint32_t)i);
	if (wait_ready(&ts[o.count - 1], o.wait_ns) != 0) {
		fprintf(stderr, "bench_kubelets: %s did not answer in time\n", ts[o.count - 1].url);
		rc = 1;
		goto out;
	}
	driver_init(&d, o.count);
	for (int no = 0; no <= o.rounds; no++) {
		struct round r = {.lat_us = xcalloc((size_t)o.count, sizeof(int64_t))};
		int64_t start = clock_mono_ns(), left;

		for (int i = 0; i < o.count; i++)
			curl_easy_setopt(ts[i].h, CURLOPT_TIMEOUT_MS,
					 no == 0 ? WARMUP_TIMEOUT_MS : REQUEST_TIMEOUT_MS);
		run_round(&d, ts, o.count, no, &r);
		report(no, &r, clock_mono_ns() - start);
		rc |= no > 0 && r.failed > 0;
		free(r.lat_us);
		left = start + o.interval_ns - clock_mono_ns();
		if (no < o.rounds && left > 0) {
			struct timespec t = {(time_t)(left / NS_PER_SEC), (long)(left % NS_PER_SEC)};

			nanosleep(&t, NULL);
		}
	}
	driver_clear(&d);
out:
	for (int i = 0; i < o.count; i++)
		curl_easy_cleanup(ts[i].h);
	free(ts);
	curl_global_cleanup();
	return rc;
}
