/*
 * bench_api_load.c - a closed-loop HTTPS load client for bench-api.
 *
 *   build/test/bench_api_load --url URL --cert FILE --key FILE
 *       [--connections N] [--seconds S] [--warmup S] [--header 'Name: value']...
 *
 * N kept-alive connections (default 16) on the scraper's engine (GnuTLS,
 * HTTP/1.1, one epoll set, one thread: the cheapest client we have, so
 * the two cores are mostly the server's), each sending its next GET as
 * soon as the answer to the last is in, presenting the client
 * certificate and the extra header lines (a front proxy's X-Remote-*).
 * The server certificate is not verified (loopback, self-signed).
 * --warmup seconds (default 2) are not counted; then --seconds (default
 * 10) are.  Prints `key: value` lines: connections, requests, failures,
 * seconds, req_per_s, p50_ms, p99_ms, max_ms, answer_bytes, client_cores (its
 * own CPU over the measured seconds).  A first
 * answer other than 200 prints `skipped: HTTP <status>` and exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "scraper/scraper_int.h"

#define MAX_CONNECTIONS 256
#define MAX_HEADERS 8
#define BUCKET_NS 10000            /* latency histogram: 10 µs buckets */
#define BUCKETS 100000             /* up to 1 s; slower ones in the last */
#define REQUEST_TIMEOUT_NS (10 * NS_PER_SEC)

struct opts {
	const char *url, *cert, *key;
	long connections, seconds, warmup;
	char headers[MAX_HEADERS * 512];
};

struct load;

struct client {
	struct load *l;
	struct scraper__conn *conn;
	struct scraper__request req;
	int64_t started;
	size_t bytes;
};

struct load {
	struct client c[MAX_CONNECTIONS];
	long n;
	int64_t measure_from, stop_at;
	uint32_t *hist;
	size_t requests, failures, answer_bytes;
	int64_t max_ns;
	int first_status;
	bool first_seen;
	long active;
};

static bool long_arg(const char *v, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(v, &end, 10);
	return *v && !errno && end != v && !*end && *out >= min && *out <= max;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	size_t hlen = 0;

	*o = (struct opts){ .connections = 16, .seconds = 10, .warmup = 2 };
	for (int i = 1; i + 1 < argc; i += 2) { /* flag value pairs */
		const char *a = argv[i], *v = argv[i + 1];

		if (strcmp(a, "--url") == 0) {
			o->url = v;
		} else if (strcmp(a, "--cert") == 0) {
			o->cert = v;
		} else if (strcmp(a, "--key") == 0) {
			o->key = v;
		} else if (strcmp(a, "--header") == 0) {
			int n = snprintf(o->headers + hlen, sizeof(o->headers) - hlen, "%s\r\n", v);

			if (n < 0 || (size_t)n >= sizeof(o->headers) - hlen || strpbrk(v, "\r\n"))
				return -1;
			hlen += (size_t)n;
		} else if (!(strcmp(a, "--connections") == 0 &&
			     long_arg(v, 1, MAX_CONNECTIONS, &o->connections)) &&
			   !(strcmp(a, "--seconds") == 0 && long_arg(v, 1, 3600, &o->seconds)) &&
			   !(strcmp(a, "--warmup") == 0 && long_arg(v, 0, 3600, &o->warmup))) {
			return -1;
		}
	}
	return argc % 2 == 1 && o->url && o->cert && o->key ? 0 : -1;
}

static int on_body(void *ud, const char *p, size_t n)
{
	struct client *c = ud;

	(void)p;
	c->bytes += n;
	return 0;
}

static void start(struct client *c)
{
	c->started = clock_mono_ns();
	c->bytes = 0;
	c->req.deadline = c->started + REQUEST_TIMEOUT_NS;
	scraper__conn_start(c->conn, &c->req);
}

static void on_done(void *ud, enum scraper__outcome oc, int status, const char *reason,
		    const char *err)
{
	struct client *c = ud;
	struct load *l = c->l;
	int64_t now = clock_mono_ns(), took = now - c->started;

	(void)reason;
	if (!l->first_seen) {
		l->first_seen = true;
		l->first_status = oc == SCRAPER__OK ? 200 : oc == SCRAPER__STATUS ? status : 0;
		if (l->first_status != 200)
			fprintf(stderr, "bench_api_load: first answer: %s\n", err ? err : "not 200");
	}
	if (c->started >= l->measure_from && now <= l->stop_at) {
		if (oc == SCRAPER__OK) {
			size_t b = (size_t)(took / BUCKET_NS);

			l->hist[b < BUCKETS ? b : BUCKETS - 1]++;
			l->requests++;
			l->answer_bytes = c->bytes;
			if (took > l->max_ns)
				l->max_ns = took;
		} else {
			l->failures++;
		}
	}
	if (now < l->stop_at && l->first_status == 200)
		start(c);
	else
		l->active--;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double percentile_ms(const struct load *l, double q)
{
	size_t want = (size_t)(q * (double)l->requests), seen = 0;

	for (size_t b = 0; b < BUCKETS; b++) {
		seen += l->hist[b];
		if (seen > want)
			return (double)(b + 1) * BUCKET_NS / 1e6; /* the bucket's upper edge */
	}
	return (double)l->max_ns / 1e6;
}

int main(int argc, char **argv)
{
	static struct load l;
	struct opts o;
	char hostport[272], host[256];
	struct scraper__request proto = { 0 };
	struct scraper__conn_env env = { .insecure = true };
	int64_t t0;
	double cpu0 = -1, cpu1;

	if (parse_args(argc, argv, &o) != 0 ||
	    scraper__url_split(o.url, hostport, sizeof(hostport), host, sizeof(host), &proto) != 0) {
		fprintf(stderr, "usage: bench_api_load --url https://HOST:PORT/PATH --cert FILE "
				"--key FILE [--connections N] [--seconds S] [--warmup S] "
				"[--header 'Name: value']...\n");
		return 2;
	}
	env.drv = scraper__driver_new();
	env.res = scraper__resolver_new(env.drv);
	if (gnutls_certificate_allocate_credentials(&env.creds) < 0 ||
	    gnutls_certificate_set_x509_key_file(env.creds, o.cert, o.key, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_priority_init(&env.prio, "NORMAL", NULL) < 0) {
		fprintf(stderr, "bench_api_load: cannot load %s / %s\n", o.cert, o.key);
		return 1;
	}
	l.hist = xcalloc(BUCKETS, sizeof(*l.hist));
	l.n = o.connections;
	t0 = clock_mono_ns();
	l.measure_from = t0 + o.warmup * NS_PER_SEC;
	l.stop_at = l.measure_from + o.seconds * NS_PER_SEC;
	for (long i = 0; i < l.n; i++) {
		struct client *c = &l.c[i];

		c->l = &l;
		c->conn = scraper__conn_new(&env);
		c->req = proto;
		c->req.url = o.url;
		c->req.host = host;
		c->req.hostport = hostport;
		c->req.headers = o.headers[0] ? o.headers : NULL;
		c->req.max_body = 64u << 20;
		c->req.body = on_body;
		c->req.done = on_done;
		c->req.ud = c;
		l.active++;
		start(c);
	}
	while (l.active > 0) {
		scraper__driver_step(env.drv, 20);
		if (cpu0 < 0 && clock_mono_ns() >= l.measure_from)
			cpu0 = cpu_s();
	}
	cpu1 = cpu_s();
	if (l.first_status != 200) {
		printf("skipped: HTTP %d\n", l.first_status);
		return 1;
	}
	printf("connections: %ld\nrequests: %zu\nfailures: %zu\nseconds: %ld\n", l.n, l.requests,
	       l.failures, o.seconds);
	printf("req_per_s: %.0f\np50_ms: %.3f\np99_ms: %.3f\nmax_ms: %.3f\nanswer_bytes: %zu\n",
	       (double)l.requests / (double)o.seconds, percentile_ms(&l, 0.5), percentile_ms(&l, 0.99),
	       (double)l.max_ns / 1e6, l.answer_bytes);
	printf("client_cores: %.2f\n", (cpu1 - (cpu0 < 0 ? 0 : cpu0)) / (double)o.seconds);
	for (long i = 0; i < l.n; i++)
		scraper__conn_free(l.c[i].conn);
	scraper__resolver_free(env.res);
	scraper__driver_free(env.drv);
	gnutls_priority_deinit(env.prio);
	gnutls_certificate_free_credentials(env.creds);
	free(l.hist);
	return l.failures ? 1 : 0;
}
