/*
 * check_scraper_conn.c - the scraper's own HTTP/1.1 client (conn.c,
 * driver.c, resolve.c) against the fake kubelet of scraper_fixture.h over
 * real TLS on 127.0.0.1: keep-alive reuse, chunked and close-delimited
 * answers, "Connection: close", a kubelet closing an idle connection
 * (noticed at once; the next round dials again without a failure), the
 * one retry of a reused connection that dies before answering, Go's
 * words for a refused dial, an EOF and a truncated body, a host name
 * resolved off the loop thread, the deadline, and a CONNECT tunnel
 * through a small proxy running in the test (the proxy is forced through
 * the request, as loopback is never proxied by Go's rules).
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "scraper/scraper_int.h"
#include "test/unit/scraper_fixture.h"
#include "test/unit/unit.h"

/* ---- rounds through the whole scraper ------------------------------------------ */

/* A kubelet that closes connections idle for 1 s. */
static void rig_start_idle(struct rig *r)
{
	rig_start(r, &server);
	kubelet_stop(r->k);
	r->k = kubelet_start_idle(&server, 1);
	r->o = options(r->k);
}

static void assert_rounds_ok(struct rig *r, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		char *log = rig_round_logged(r);

		ck_assert_msg(strstr(log, "Failed") == NULL, "round %d failed:\n%s", i, log);
		ck_assert_uint_eq(r->rs.failed, 0);
		free(log);
	}
}

/* A chunked body in 7-byte chunks, on one connection for three rounds. */
START_TEST(chunked_body_kept_alive)
{
	struct rig r;
	struct store_usage u;

	rig_start(&r, &server);
	rig_scraper(&r);
	add_node(&r.c, "node-a", "/chunked");
	assert_rounds_ok(&r, 3);
	struct store_snapshot *snap = store_acquire(r.st);
	ck_assert_int_eq(store_node_usage(snap, "node-a", &u), 0);
	ck_assert_uint_eq(u.cpu_nanocores, 1000000000u);
	store_snapshot_unref(snap);
	ck_assert_int_eq(atomic_load(&r.k->requests), 3);
	ck_assert_int_eq(atomic_load(&r.k->connections), 1);
	rig_stop(&r);
}
END_TEST

/* "Connection: close": every round works on a new connection. */
START_TEST(connection_close_answers)
{
	struct rig r;

	rig_start(&r, &server);
	rig_scraper(&r);
	add_node(&r.c, "node-a", "/close");
	assert_rounds_ok(&r, 3);
	ck_assert_int_eq(atomic_load(&r.k->requests), 3);
	ck_assert_int_eq(atomic_load(&r.k->connections), 3);
	rig_stop(&r);
}
END_TEST

/* The kubelet closes the idle connection between rounds: the next round
 * dials a new one, sends one request, logs nothing. */
START_TEST(kubelet_closes_idle_connection)
{
	struct rig r;

	rig_start_idle(&r);
	rig_scraper(&r);
	add_node(&r.c, "node-a", "/dyn");
	assert_rounds_ok(&r, 1);
	usleep(2500 * 1000);
	assert_rounds_ok(&r, 1);
	ck_assert_int_eq(atomic_load(&r.k->requests), 2);
	ck_assert_int_eq(atomic_load(&r.k->connections), 2);
	rig_stop(&r);
}
END_TEST

/* A reused connection closed by the kubelet after reading the request,
 * before any byte of an answer: sent again once on a new connection. */
START_TEST(reused_connection_retried_once)
{
	struct rig r;

	rig_start(&r, &server);
	rig_scraper(&r);
	add_node(&r.c, "node-a", "/flaky");
	assert_rounds_ok(&r, 2);
	ck_assert_int_eq(atomic_load(&r.k->requests), 3);
	ck_assert_int_eq(atomic_load(&r.k->connections), 2);
	rig_stop(&r);
}
END_TEST

/* One round of one node at path; returns the log (caller frees). */
static char *one_failed_round(struct rig *r, const char *path)
{
	char *log;

	rig_scraper(r);
	add_node(&r->c, "node-a", path);
	log = rig_round_logged(r);
	ck_assert_uint_eq(r->rs.failed, 1);
	return log;
}

/* A fresh connection is not retried: Go's "EOF"; a body cut short:
 * "unexpected EOF". */
START_TEST(eof_texts)
{
	struct rig r;
	char want[200], *log;

	rig_start(&r, &server);
	log = one_failed_round(&r, "/drop");
	snprintf(want, sizeof(want),
		 "\"Failed to scrape node\" err=\"Get \\\"https://127.0.0.1:%u/drop\\\": EOF\" "
		 "node=\"node-a\"", r.k->port);
	ck_assert_log(log, want);
	ck_assert_int_eq(atomic_load(&r.k->requests), 1);
	free(log);
	rig_stop(&r);

	rig_start(&r, &server);
	log = one_failed_round(&r, "/truncated");
	ck_assert_log(log, "err=\"failed to read response body - unexpected EOF\" node=\"node-a\"");
	free(log);
	rig_stop(&r);
}
END_TEST

/* A port nobody listens on (bound, then closed). */
static uint16_t closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

START_TEST(connection_refused_text)
{
	struct rig r;
	char want[300], *log;
	uint16_t port = closed_port();

	rig_start(&r, &server);
	r.o.kubelet_port = port;
	log = one_failed_round(&r, "/dyn");
	snprintf(want, sizeof(want),
		 "err=\"Get \\\"https://127.0.0.1:%u/dyn\\\": dial tcp 127.0.0.1:%u: connect: "
		 "connection refused\" node=\"node-a\"", port, port);
	ck_assert_log(log, want);
	free(log);
	rig_stop(&r);
}
END_TEST

/* A Hostname address ("localhost"): resolved by the resolver thread, the
 * certificate checked against the name (with SNI). */
START_TEST(host_name_address)
{
	static char *hostname[] = {(char *)"Hostname"};
	struct rig r;

	rig_start(&r, &server);
	r.o.preferred_address_types = hostname;
	rig_scraper(&r);
	add_node(&r.c, "localhost", "/dyn"); /* its Hostname address is its name */
	assert_rounds_ok(&r, 2);
	ck_assert_int_eq(atomic_load(&r.k->connections), 1);
	rig_stop(&r);
}
END_TEST

START_TEST(timeout_text)
{
	struct rig r;
	char want[300], *log;

	rig_start(&r, &server);
	r.o.request_timeout_ns = 1 * NS_PER_SEC;
	log = one_failed_round(&r, "/slow");
	snprintf(want, sizeof(want),
		 "\"Failed to scrape node, timeout to access kubelet\" err=\"Get "
		 "\\\"https://127.0.0.1:%u/slow\\\": context deadline exceeded\" node=\"node-a\" "
		 "timeout=\"1s\"", r.k->port);
	ck_assert_log(log, want);
	free(log);
	rig_stop(&r);
}
END_TEST

/* ---- the conn API on its own ----------------------------------------------------- */

struct harness {
	struct scraper__driver *drv;
	struct scraper__resolver *res;
	struct scraper__verifier *v;
	gnutls_certificate_credentials_t creds;
	gnutls_priority_t prio;
	struct scraper__conn_env env;
	struct scraper__conn *c;
	struct scraper__tls_seen seen;
	struct scraper__request req;
	char url[256], hostport[64];
	/* the last outcome */
	bool done;
	enum scraper__outcome oc;
	int status;
	char err[1200];
	size_t body;
};

static void harness_init(struct harness *h)
{
	char err[256];

	memset(h, 0, sizeof(*h));
	h->drv = scraper__driver_new();
	h->res = scraper__resolver_new(h->drv);
	h->v = scraper__verifier_new(ca_path, NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(h->v);
	ck_assert_int_ge(gnutls_certificate_allocate_credentials(&h->creds), 0);
	ck_assert_int_ge(gnutls_priority_init(&h->prio, "NORMAL", NULL), 0);
	h->env = (struct scraper__conn_env){.drv = h->drv, .res = h->res, .creds = h->creds,
					    .prio = h->prio, .verifier = h->v};
	h->c = scraper__conn_new(&h->env);
}

static void harness_clear(struct harness *h)
{
	scraper__conn_free(h->c);
	scraper__tls_seen_clear(&h->seen);
	scraper__resolver_free(h->res);
	scraper__driver_free(h->drv);
	scraper__verifier_free(h->v);
	gnutls_priority_deinit(h->prio);
	gnutls_certificate_free_credentials(h->creds);
}

static int h_body(void *ud, const char *p, size_t n)
{
	struct harness *h = ud;

	(void)p;
	h->body += n;
	return 0;
}

static void h_done(void *ud, enum scraper__outcome oc, int status, const char *reason,
		   const char *err)
{
	struct harness *h = ud;

	(void)reason;
	h->done = true;
	h->oc = oc;
	h->status = status;
	snprintf(h->err, sizeof(h->err), "%s", err ? err : "");
}

/* One GET of https://127.0.0.1:port/path (through px when not NULL),
 * driven to its end (at most timeout_ms, then the test times out). */
static void harness_get(struct harness *h, uint16_t port, const char *path,
			const struct scraper__proxy *px, int timeout_ms)
{
	snprintf(h->hostport, sizeof(h->hostport), "127.0.0.1:%u", port);
	snprintf(h->url, sizeof(h->url), "https://%s%s", h->hostport, path);
	h->req = (struct scraper__request){
		.url = h->url, .host = "127.0.0.1", .port = port, .hostport = h->hostport,
		.path = path, .token = "tok", .proxy = px, .seen = &h->seen,
		.deadline = clock_mono_ns() + (int64_t)timeout_ms * NS_PER_MS,
		.max_body = DYN_KUBELET_BODY, .body = h_body, .done = h_done, .ud = h,
	};
	h->done = false;
	h->body = 0;
	scraper__conn_start(h->c, &h->req);
	while (!h->done)
		scraper__driver_step(h->drv, 100);
}

/* The kubelet closes an idle connection: the loop notices it without any
 * request (the connection is freed, not kept for the next one). */
START_TEST(idle_close_noticed_at_once)
{
	struct kubelet *k = kubelet_start_idle(&server, 1);
	struct harness h;
	int64_t until;

	harness_init(&h);
	harness_get(&h, k->port, "/dyn", NULL, 5000);
	ck_assert_int_eq(h.oc, SCRAPER__OK);
	ck_assert_uint_gt(h.body, 0);
	ck_assert(scraper__conn_idle(h.c));
	until = clock_mono_ns() + 5 * NS_PER_SEC;
	while (scraper__conn_idle(h.c) && clock_mono_ns() < until)
		scraper__driver_step(h.drv, 100);
	ck_assert(!scraper__conn_idle(h.c));
	harness_get(&h, k->port, "/dyn", NULL, 5000);
	ck_assert_int_eq(h.oc, SCRAPER__OK);
	ck_assert_uint_eq(scraper__conn_dials(h.c), 2);
	harness_clear(&h);
	kubelet_stop(k);
}
END_TEST

/* Status and deadline outcomes; the connection survives a 500. */
START_TEST(status_and_deadline)
{
	struct kubelet *k = kubelet_start(&server);
	struct harness h;

	harness_init(&h);
	harness_get(&h, k->port, "/500", NULL, 5000);
	ck_assert_int_eq(h.oc, SCRAPER__STATUS);
	ck_assert_int_eq(h.status, 500);
	ck_assert_uint_eq(h.body, 0);
	ck_assert(scraper__conn_idle(h.c));
	harness_get(&h, k->port, "/slow", NULL, 300);
	ck_assert_int_eq(h.oc, SCRAPER__TIMEOUT);
	ck_assert(!scraper__conn_idle(h.c));
	ck_assert_uint_eq(scraper__conn_dials(h.c), 1);
	harness_clear(&h);
	kubelet_stop(k);
}
END_TEST

/* A name goes to the resolver thread (answered from a later step); an IP
 * literal is answered before scraper__resolve returns. */
struct answer {
	bool called;
	size_t n;
	char err[200];
};

static void on_answer(void *ud, struct scraper__addrs *addrs, const char *err)
{
	struct answer *a = ud;

	a->called = true;
	a->n = addrs ? addrs->n : 0;
	snprintf(a->err, sizeof(a->err), "%s", err ? err : "");
	free(addrs);
}

START_TEST(resolver_off_thread)
{
	struct scraper__driver *d = scraper__driver_new();
	struct scraper__resolver *res = scraper__resolver_new(d);
	struct answer a = {0}, b = {0}, c = {0};
	struct scraper__lookup *l;

	ck_assert_ptr_null(scraper__resolve(res, "127.0.0.1", 80, on_answer, &a));
	ck_assert(a.called);
	ck_assert_uint_eq(a.n, 1);
	ck_assert_ptr_null(scraper__resolve(res, "::1", 80, on_answer, &a));
	l = scraper__resolve(res, "localhost", 80, on_answer, &b);
	ck_assert_ptr_nonnull(l);
	ck_assert(!b.called);
	while (!b.called)
		scraper__driver_step(d, 100);
	ck_assert_uint_ge(b.n, 1);
	ck_assert_str_eq(b.err, "");
	/* a cancelled lookup is never answered */
	l = scraper__resolve(res, "localhost", 80, on_answer, &c);
	ck_assert_ptr_nonnull(l);
	scraper__resolve_cancel(res, l);
	for (int i = 0; i < 5; i++)
		scraper__driver_step(d, 50);
	ck_assert(!c.called);
	scraper__resolver_free(res);
	scraper__driver_free(d);
}
END_TEST

/* ---- a CONNECT proxy ---------------------------------------------------------------- */

struct proxy_srv {
	int lfd;
	uint16_t port;
	pthread_t th;
	atomic_bool stop;
	atomic_int connections;
	const char *answer; /* NULL: tunnel; else sent as is, then close */
	pthread_mutex_t mu;
	char head[2048];    /* the last CONNECT head */
};

/* Reads up to the end of a head ("\r\n\r\n"); false on EOF or stop. */
static bool read_head(struct proxy_srv *p, int fd, char *head, size_t cap)
{
	size_t len = 0;

	while (!atomic_load(&p->stop) && len + 1 < cap) {
		struct pollfd pf = {fd, POLLIN, 0};
		ssize_t n;

		if (poll(&pf, 1, 100) <= 0)
			continue;
		n = recv(fd, head + len, 1, 0); /* byte by byte: nothing past the head */
		if (n <= 0)
			return false;
		len += (size_t)n;
		head[len] = '\0';
		if (len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0)
			return true;
	}
	return false;
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Copies bytes both ways until a side closes or the proxy stops. */
static void pipe_both(struct proxy_srv *p, int a, int b)
{
	char buf[16384];

	while (!atomic_load(&p->stop)) {
		struct pollfd pf[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};

		if (poll(pf, 2, 100) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (!pf[i].revents)
				continue;
			n = recv(pf[i].fd, buf, sizeof(buf), 0);
			if (n <= 0 || !write_all(pf[1 - i].fd, buf, (size_t)n))
				return;
		}
	}
}

static void proxy_serve(struct proxy_srv *p, int fd)
{
	char head[2048];
	unsigned port = 0;
	char *end;
	int up;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";

	if (!read_head(p, fd, head, sizeof(head)))
		return;
	pthread_mutex_lock(&p->mu);
	snprintf(p->head, sizeof(p->head), "%s", head);
	pthread_mutex_unlock(&p->mu);
	if (p->answer) {
		write_all(fd, p->answer, strlen(p->answer));
		return;
	}
	if (strncmp(head, "CONNECT 127.0.0.1:", 18) != 0)
		return;
	port = (unsigned)strtoul(head + 18, &end, 10);
	if (*end != ' ' || port == 0 || port > 65535)
		return;
	a.sin_port = htons((uint16_t)port);
	up = socket(AF_INET, SOCK_STREAM, 0);
	if (up >= 0 && connect(up, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    write_all(fd, ok, sizeof(ok) - 1))
		pipe_both(p, fd, up);
	if (up >= 0)
		close(up);
}

static void *proxy_main(void *arg)
{
	struct proxy_srv *p = arg;

	while (!atomic_load(&p->stop)) {
		struct pollfd pf = {p->lfd, POLLIN, 0};
		int fd;

		if (poll(&pf, 1, 100) <= 0)
			continue;
		fd = accept(p->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		atomic_fetch_add(&p->connections, 1);
		proxy_serve(p, fd);
		close(fd);
	}
	return NULL;
}

static void proxy_start(struct proxy_srv *p, const char *answer)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);

	memset(p, 0, sizeof(*p));
	p->answer = answer;
	pthread_mutex_init(&p->mu, NULL);
	p->lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(p->lfd, 0);
	ck_assert_int_eq(bind(p->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(p->lfd, 8), 0);
	ck_assert_int_eq(getsockname(p->lfd, (struct sockaddr *)&a, &len), 0);
	p->port = ntohs(a.sin_port);
	ck_assert_int_eq(pthread_create(&p->th, NULL, proxy_main, p), 0);
}

static void proxy_stop(struct proxy_srv *p)
{
	atomic_store(&p->stop, true);
	pthread_join(p->th, NULL);
	close(p->lfd);
	pthread_mutex_destroy(&p->mu);
}

static void proxy_for(struct scraper__proxy *px, const char *url_fmt, uint16_t port)
{
	char url[200], err[200];

	snprintf(url, sizeof(url), url_fmt, port);
	ck_assert_int_eq(scraper__proxy_init(px, url, NULL, err, sizeof(err)), 0);
}

/* The tunnel: CONNECT with Host and Proxy-Authorization, then TLS to the
 * kubelet through it, kept alive for a second request. */
START_TEST(proxy_tunnel)
{
	struct kubelet *k = kubelet_start(&server);
	struct proxy_srv p;
	struct scraper__proxy px;
	struct harness h;
	char want[300];

	proxy_start(&p, NULL);
	proxy_for(&px, "http://user:pass@127.0.0.1:%u", p.port);
	harness_init(&h);
	harness_get(&h, k->port, "/dyn", &px, 5000);
	ck_assert_msg(h.oc == SCRAPER__OK, "failed: %s", h.err);
	ck_assert_uint_gt(h.body, 0);
	snprintf(want, sizeof(want),
		 "CONNECT 127.0.0.1:%u HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
		 "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n", k->port, k->port);
	pthread_mutex_lock(&p.mu);
	ck_assert_str_eq(p.head, want);
	pthread_mutex_unlock(&p.mu);
	ck_assert_str_eq(k->auth, "Bearer tok");
	harness_get(&h, k->port, "/dyn", &px, 5000);
	ck_assert_int_eq(h.oc, SCRAPER__OK);
	ck_assert_int_eq(atomic_load(&p.connections), 1);
	ck_assert_int_eq(atomic_load(&k->connections), 1);
	ck_assert_int_eq(atomic_load(&k->requests), 2);
	/* the same kubelet without the proxy: another connection */
	harness_get(&h, k->port, "/dyn", NULL, 5000);
	ck_assert_int_eq(h.oc, SCRAPER__OK);
	ck_assert_int_eq(atomic_load(&k->connections), 2);
	harness_clear(&h);
	scraper__proxy_clear(&px);
	proxy_stop(&p);
	kubelet_stop(k);
}
END_TEST

/* A 403 to CONNECT, an unsupported proxy scheme, a proxy that refuses. */
START_TEST(proxy_failures)
{
	struct proxy_srv p;
	struct scraper__proxy px;
	struct harness h;
	char want[300];
	uint16_t port = closed_port();

	proxy_start(&p, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
	proxy_for(&px, "127.0.0.1:%u", p.port); /* no scheme: http */
	harness_init(&h);
	harness_get(&h, 10250, "/dyn", &px, 5000);
	ck_assert_int_eq(h.oc, SCRAPER__FAILED);
	ck_assert_str_eq(h.err, "Get \"https://127.0.0.1:10250/dyn\": Forbidden");
	scraper__proxy_clear(&px);
	proxy_stop(&p);

	proxy_for(&px, "socks5://127.0.0.1:%u", 1080);
	harness_get(&h, 10250, "/dyn", &px, 5000);
	ck_assert_int_eq(h.oc, SCRAPER__FAILED);
	ck_assert_str_eq(h.err,
			 "Get \"https://127.0.0.1:10250/dyn\": proxy scheme \"socks5\" is not supported");
	scraper__proxy_clear(&px);

	proxy_for(&px, "http://127.0.0.1:%u", port);
	harness_get(&h, 10250, "/dyn", &px, 5000);
	ck_assert_int_eq(h.oc, SCRAPER__FAILED);
	snprintf(want, sizeof(want),
		 "Get \"https://127.0.0.1:10250/dyn\": proxyconnect tcp: dial tcp 127.0.0.1:%u: "
		 "connect: connection refused", port);
	ck_assert_str_eq(h.err, want);
	scraper__proxy_clear(&px);
	harness_clear(&h);
}
END_TEST

static Suite *conn_suite(void)
{
	Suite *s = suite_create("scraper_conn");
	TCase *tc = tcase_create("conn");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, setup_certs, teardown_certs);
	tcase_add_test(tc, chunked_body_kept_alive);
	tcase_add_test(tc, connection_close_answers);
	tcase_add_test(tc, kubelet_closes_idle_connection);
	tcase_add_test(tc, reused_connection_retried_once);
	tcase_add_test(tc, eof_texts);
	tcase_add_test(tc, connection_refused_text);
	tcase_add_test(tc, host_name_address);
	tcase_add_test(tc, timeout_text);
	tcase_add_test(tc, idle_close_noticed_at_once);
	tcase_add_test(tc, status_and_deadline);
	tcase_add_test(tc, resolver_off_thread);
	tcase_add_test(tc, proxy_tunnel);
	tcase_add_test(tc, proxy_failures);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(conn_suite());
}
