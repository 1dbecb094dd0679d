/*
 * bench_custom_get.c - latency of one custom-metrics GET, repeated, for
 * bench-pods.
 *
 *   build/test/bench_custom_get --url URL [--count N] [--warmup N]
 *       [--cert FILE --key FILE] [--cacert FILE]
 *
 * GETs URL (e.g. https://127.0.0.1:PORT/apis/custom.metrics.k8s.io/
 * v1beta2/namespaces/NS/pods/STAR/hello_counter_per_second, STAR being a
 * literal asterisk, as kubectl sends it) with one libcurl handle, so the connection and TLS session are kept and what is
 * timed is the server's answer: --warmup requests (default 20) first,
 * then --count (default 1000) timed one after the other.  Without
 * --cacert the server certificate is not verified (loopback, self-signed).
 * The first answer decides: not 200 prints
 *   skipped: endpoint not served yet (HTTP <status>)
 * and exits 0.  Otherwise prints `key: value` lines: requests, failures,
 * items (describedObject entries of the last answer), bytes, p50_ms,
 * p99_ms, max_ms.  Exits 1 when a timed request failed or had another
 * status.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define MAX_COUNT 1000000
#define TIMEOUT_MS 30000L

struct opts {
	const char *url, *cert, *key, *cacert;
	long count, warmup;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	return dynbuf_add(ud, p, size * n) == 0 ? size * n : 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_custom_get --url URL [--count N] [--warmup N] "
			"[--cert FILE --key FILE] [--cacert FILE]\n");
	return 2;
}

static bool long_arg(const char *v, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(v, &end, 10);
	return *v && !errno && end != v && !*end && *out >= min && *out <= max;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i += 2) { /* flag value pairs */
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			return -1;
		if (strcmp(a, "--url") == 0)
			o->url = v;
		else if (strcmp(a, "--cert") == 0)
			o->cert = v;
		else if (strcmp(a, "--key") == 0)
			o->key = v;
		else if (strcmp(a, "--cacert") == 0)
			o->cacert = v;
		else if (strcmp(a, "--count") == 0 && long_arg(v, 1, MAX_COUNT, &o->count))
			;
		else if (strcmp(a, "--warmup") == 0 && long_arg(v, 0, MAX_COUNT, &o->warmup))
			;
		else
			return -1;
	}
	return o->url && !o->cert == !o->key ? 0 : -1;
}

static CURL *handle(const struct opts *o, struct dynbuf *body, struct curl_slist *hdrs)
{
	CURL *h = curl_easy_init();

	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, o->url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (o->cert) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, o->cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, o->key);
	}
	if (o->cacert) {
		curl_easy_setopt(h, CURLOPT_CAINFO, o->cacert);
	} else {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return h;
}

/* One GET: its status (0 on a transport error) and duration. */
static long get_once(CURL *h, struct dynbuf *body, int64_t *ns)
{
	int64_t t0 = clock_mono_ns();
	long status = 0;

	dynbuf_reset(body);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	*ns = clock_mono_ns() - t0;
	return status;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static long count_items(const struct dynbuf *body)
{
	long n = 0;

	if (!body->buf)
		return 0;
	for (const char *p = body->buf; (p = strstr(p, "\"describedObject\"")); p++)
		n++;
	return n;
}

/* Percentile q (0..1) of sorted v[0..n), nearest rank, in ms. */
static double pct_ms(const int64_t *v, long n, double q)
{
	long i = (long)(q * (double)n + 0.999999) - 1;

	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	return (double)v[i] / 1e6;
}

int main(int argc, char **argv)
{
	struct opts o = {.count = 1000, .warmup = 20};
	struct dynbuf body;
	struct curl_slist *hdrs;
	int64_t *lat, ns;
	long failures = 0, status;
	CURL *h;

	if (parse_args(argc, argv, &o) != 0)
		return usage();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	dynbuf_init(&body, DYN_KUBELET_BODY);
	hdrs = curl_slist_append(NULL, "Accept: application/json");
	h = handle(&o, &body, hdrs);
	if (!h) {
		fprintf(stderr, "bench_custom_get: curl_easy_init failed\n");
		return 1;
	}
	status = get_once(h, &body, &ns);
	if (status != 200) {
		printf("skipped: endpoint not served yet (HTTP %ld)\n", status);
		curl_easy_cleanup(h);
		curl_slist_free_all(hdrs);
		dynbuf_clear(&body);
		curl_global_cleanup();
		return 0;
	}
	for (long i = 0; i < o.warmup; i++)
		get_once(h, &body, &ns);
	lat = xcalloc((size_t)o.count, sizeof(*lat));
	for (long i = 0; i < o.count; i++)
		if (get_once(h, &body, &lat[i]) != 200)
			failures++;
	qsort(lat, (size_t)o.count, sizeof(*lat), cmp_i64);
	printf("requests: %ld\nfailures: %ld\nitems: %ld\nbytes: %zu\n", o.count, failures,
	       count_items(&body), body.len);
	printf("p50_ms: %.3f\np99_ms: %.3f\nmax_ms: %.3f\n", pct_ms(lat, o.count, 0.50),
	       pct_ms(lat, o.count, 0.99), (double)lat[o.count - 1] / 1e6);
	free(lat);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	dynbuf_clear(&body);
	curl_global_cleanup();
	return failures ? 1 : 0;
}
