/*
 * check_kubesim_podmetrics.c - kubesim's application targets: pods
 * annotated prometheus.io/scrape and kubesim.io/exporter ConfigMaps.
 * The model (the counter follows the pure sim_pm_counter_at on a fake
 * clock, restarts reset it, non-annotated pods are not served, the
 * exporter follows its annotation) and the live loop over plain HTTP and
 * HTTPS with the fault modes.
 */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test/kubesim/podmetrics.h"
#include "test/unit/unit.h"

#define T0 (INT64_C(1700000123) * NS_PER_SEC) /* 2023-11-14T22:15:23Z */
#define T0_TEXT "2023-11-14T22:15:23Z"
#define SEC NS_PER_SEC

static void apply(struct sim_kl_model *m, enum sim_event ev, const char *res, const char *text)
{
	json_error_t e;
	json_t *o = json_loads(text, 0, &e);

	ck_assert_msg(o != NULL, "bad test JSON: %s", e.text);
	sim_kl_model_apply(m, ev, res, o);
	json_decref(o);
}

/* A Running pod on node-a with one container "app". */
static void add_pod(struct sim_kl_model *m, const char *name, const char *uid, const char *ip,
		    const char *ann, const char *start, int restarts)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
		 "{\"metadata\":{\"namespace\":\"default\",\"name\":\"%s\",\"uid\":\"%s\","
		 "\"annotations\":{%s}},\"spec\":{\"nodeName\":\"node-a\",\"containers\":"
		 "[{\"name\":\"app\"}]},\"status\":{\"phase\":\"Running\",\"podIP\":\"%s\","
		 "\"startTime\":\"%s\",\"containerStatuses\":[{\"name\":\"app\","
		 "\"restartCount\":%d}]}}",
		 name, uid, ann, ip, start, restarts);
	apply(m, SIM_MODIFIED, "pods", buf);
}

static void add_exporter(struct sim_kl_model *m, const char *at, const char *depth,
			 const char *extra)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"metadata\":{\"namespace\":\"default\",\"name\":\"jobs\",\"annotations\":"
		 "{\"kubesim.io/exporter\":\"%s\",\"kubesim.io/queue-depth\":\"%s\"%s}}}",
		 at, depth, extra);
	apply(m, SIM_MODIFIED, "configmaps", buf);
}

#define HELLO "\"prometheus.io/scrape\":\"true\",\"prometheus.io/port\":\"8080\""

static char *render(struct sim_kl_model *m, const char *key, int64_t now)
{
	struct dynbuf b;

	dynbuf_init(&b, DYN_KUBELET_BODY);
	ck_assert_int_eq(sim_pm_render(m, key, now, &b), 0);
	return dynbuf_take(&b, NULL);
}

/* The value after "\n<prefix> " (or at the start). */
static double value(const char *body, const char *prefix)
{
	char pat[200];
	const char *p;
	char *end;
	double v;

	snprintf(pat, sizeof(pat), "\n%s ", prefix);
	p = strstr(body, pat);
	ck_assert_msg(p != NULL, "no %s in:\n%s", prefix, body);
	p += strlen(pat);
	v = strtod(p, &end);
	ck_assert_msg(end != p && *end == '\n', "%s: bad value", prefix);
	return v;
}

static int64_t counter(struct sim_kl_model *m, const char *key, int64_t now)
{
	char *b = render(m, key, now);
	int64_t v = (int64_t)value(b, "hello_counter_total");

	free(b);
	return v;
}

START_TEST(test_families_and_rate)
{
	static const char *const ann = HELLO ",\"kubesim.io/cpu\":\"sine:base=200m,amp=100m,period=60s\"";
	struct sim_wl_profile cpu;
	struct sim_kl_model m;
	char err[128], *b;
	int64_t times[] = {T0 + 15 * SEC, T0 + 22 * SEC, T0 + 37 * SEC + 500000000, T0 + 300 * SEC};

	sim_kl_model_init(&m, 5);
	clock_set_fake_now(T0);
	add_pod(&m, "hello", "u1", "127.2.0.1", ann, T0_TEXT, 0);
	ck_assert_int_eq(sim_wl_parse("sine:base=200m,amp=100m,period=60s", false, &cpu, err,
				      sizeof(err)), 0);
	b = render(&m, "127.2.0.1:8080", T0 + 15 * SEC);
	ck_assert_ptr_nonnull(strstr(b, "# TYPE hello_counter_total counter\n"));
	ck_assert_ptr_nonnull(strstr(b, "# TYPE hello_inflight_requests gauge\n"));
	ck_assert_ptr_nonnull(strstr(b, "# TYPE http_request_duration_seconds histogram\n"));
	/* histogram consistent with the counter: +Inf bucket = count = counter */
	ck_assert(value(b, "http_request_duration_seconds_bucket{le=\"+Inf\"}") ==
		  value(b, "hello_counter_total"));
	ck_assert(value(b, "http_request_duration_seconds_count") == value(b, "hello_counter_total"));
	ck_assert(value(b, "http_request_duration_seconds_bucket{le=\"0.005\"}") <=
		  value(b, "http_request_duration_seconds_bucket{le=\"0.01\"}"));
	free(b);
	/* the served counter is the pure model's; increases are its integral */
	for (size_t i = 0; i < COMMON_ARRAY_LEN(times); i++)
		ck_assert_int_eq(counter(&m, "127.2.0.1:8080", times[i]),
				 sim_pm_counter_at(&cpu, T0, 0, times[i], 0));
	/* const:100m is 10 requests per second, exactly */
	add_pod(&m, "flat", "u2", "127.2.0.2", HELLO ",\"kubesim.io/cpu\":\"const:100m\"", T0_TEXT,
		0);
	ck_assert_int_eq(counter(&m, "127.2.0.2:8080", T0 + 15 * SEC), 150);
	ck_assert_int_eq(counter(&m, "127.2.0.2:8080", T0 + 30 * SEC), 300);
	b = render(&m, "127.2.0.2:8080", T0 + 30 * SEC);
	ck_assert(value(b, "hello_inflight_requests") == 0.5); /* 10/s * 50 ms */
	free(b);
	clock_set_fake_now(0);
	sim_kl_model_clear(&m);
}
END_TEST

/* Series lines of a body (not comments). */
static int series_lines(const char *body)
{
	int n = 0;

	for (const char *p = body; *p; p = strchr(p, '\n') + 1) {
		if (*p != '#')
			n++;
		if (!strchr(p, '\n'))
			break;
	}
	return n;
}

START_TEST(test_series_padding)
{
	struct sim_kl_model m;
	char *b;

	sim_kl_model_init(&m, 5);
	clock_set_fake_now(T0);
	add_pod(&m, "plain", "u1", "127.2.0.1", HELLO, T0_TEXT, 0);
	b = render(&m, "127.2.0.1:8080", T0 + 15 * SEC);
	ck_assert_int_eq(series_lines(b), SIM_PM_BASE_SERIES);
	ck_assert_ptr_null(strstr(b, "hello_padding"));
	free(b);
	add_pod(&m, "fifty", "u2", "127.2.0.2",
		HELLO ",\"kubesim.io/cpu\":\"const:100m\",\"kubesim.io/metrics-series\":\"50\"",
		T0_TEXT, 0);
	b = render(&m, "127.2.0.2:8080", T0 + 15 * SEC);
	ck_assert_int_eq(series_lines(b), 50);
	/* 37 padding series: 19 counters, then 18 gauges, each family once */
	ck_assert_ptr_nonnull(strstr(b, "# TYPE hello_padding_requests_total counter\n"));
	ck_assert_ptr_nonnull(strstr(b, "# TYPE hello_padding_level gauge\n"));
	ck_assert(value(b, "hello_padding_requests_total{series=\"0\"}") == 150);
	ck_assert(value(b, "hello_padding_requests_total{series=\"1\"}") == 75);
	ck_assert(value(b, "hello_padding_requests_total{series=\"18\"}") == 50);
	ck_assert(value(b, "hello_padding_level{series=\"19\"}") == 169);
	ck_assert(value(b, "hello_padding_level{series=\"36\"}") == 186);
	ck_assert_ptr_null(strstr(b, "{series=\"37\"}"));
	free(b);
	/* at or under the base, or not a number: no padding */
	add_pod(&m, "few", "u3", "127.2.0.3", HELLO ",\"kubesim.io/metrics-series\":\"5\"",
		T0_TEXT, 0);
	add_pod(&m, "bad", "u4", "127.2.0.4", HELLO ",\"kubesim.io/metrics-series\":\"5x\"",
		T0_TEXT, 0);
	b = render(&m, "127.2.0.3:8080", T0 + 15 * SEC);
	ck_assert_int_eq(series_lines(b), SIM_PM_BASE_SERIES);
	free(b);
	b = render(&m, "127.2.0.4:8080", T0 + 15 * SEC);
	ck_assert_int_eq(series_lines(b), SIM_PM_BASE_SERIES);
	free(b);
	clock_set_fake_now(0);
	sim_kl_model_clear(&m);
}
END_TEST

START_TEST(test_restart_resets)
{
	static const char *const ann = HELLO ",\"kubesim.io/cpu\":\"const:100m\"";
	static const char *const ann2 = HELLO ",\"kubesim.io/cpu\":\"const:200m\"";
	struct sim_kl_model m;
	char t20[40];

	sim_kl_model_init(&m, 5);
	clock_set_fake_now(T0 + 10 * SEC);
	add_pod(&m, "hello", "u1", "127.2.0.1", ann, T0_TEXT, 0);
	ck_assert_int_eq(counter(&m, "127.2.0.1:8080", T0 + 10 * SEC), 100);
	/* an edit (new profile) keeps it continuous */
	add_pod(&m, "hello", "u1", "127.2.0.1", ann2, T0_TEXT, 0);
	ck_assert_int_eq(counter(&m, "127.2.0.1:8080", T0 + 20 * SEC), 100 + 200);
	/* restartCount grows: from 0 at the time it is seen */
	clock_set_fake_now(T0 + 20 * SEC);
	add_pod(&m, "hello", "u1", "127.2.0.1", ann2, T0_TEXT, 1);
	ck_assert_int_eq(counter(&m, "127.2.0.1:8080", T0 + 20 * SEC), 0);
	ck_assert_int_eq(counter(&m, "127.2.0.1:8080", T0 + 25 * SEC), 100);
	/* recreated (new uid, new startTime) */
	clock_set_fake_now(T0 + 30 * SEC);
	fmt_rfc3339(T0 + 20 * SEC, t20, sizeof(t20));
	add_pod(&m, "hello", "u2", "127.2.0.1", ann, t20, 0);
	ck_assert_int_eq(counter(&m, "127.2.0.1:8080", T0 + 30 * SEC), 100);
	/* kubesim.io/restart-every */
	add_pod(&m, "cyc", "u3", "127.2.0.3", HELLO ",\"kubesim.io/cpu\":\"const:100m\","
		"\"kubesim.io/restart-every\":\"60s\"", T0_TEXT, 0);
	ck_assert_int_eq(counter(&m, "127.2.0.3:8080", T0 + 59 * SEC), 590);
	ck_assert_int_eq(counter(&m, "127.2.0.3:8080", T0 + 65 * SEC), 50);
	clock_set_fake_now(0);
	sim_kl_model_clear(&m);
}
END_TEST

START_TEST(test_not_served)
{
	struct sim_kl_model m;
	struct dynbuf b;

	sim_kl_model_init(&m, 5);
	dynbuf_init(&b, DYN_SMALL);
	add_pod(&m, "plain", "u1", "127.2.0.1", "\"prometheus.io/port\":\"8080\"", T0_TEXT, 0);
	add_pod(&m, "off", "u2", "127.2.0.2", "\"prometheus.io/scrape\":\"false\","
		"\"prometheus.io/port\":\"8080\"", T0_TEXT, 0);
	add_pod(&m, "noport", "u3", "127.2.0.3", "\"prometheus.io/scrape\":\"true\"", T0_TEXT, 0);
	add_pod(&m, "remote", "u4", "10.1.2.3", HELLO, T0_TEXT, 0);
	ck_assert_int_eq(sim_pm_render(&m, "127.2.0.1:8080", T0, &b), ERR_NOTFOUND);
	ck_assert_int_eq(sim_pm_render(&m, "127.2.0.2:8080", T0, &b), ERR_NOTFOUND);
	ck_assert_int_eq(sim_pm_render(&m, "10.1.2.3:8080", T0, &b), ERR_NOTFOUND);
	/* annotated, then deleted */
	add_pod(&m, "gone", "u5", "127.2.0.5", HELLO, T0_TEXT, 0);
	ck_assert_int_eq(sim_pm_render(&m, "127.2.0.5:8080", T0 + SEC, &b), 0);
	apply(&m, SIM_DELETED, "pods", "{\"metadata\":{\"namespace\":\"default\",\"name\":\"gone\"}}");
	ck_assert_int_eq(sim_pm_render(&m, "127.2.0.5:8080", T0 + SEC, &b), ERR_NOTFOUND);
	dynbuf_clear(&b);
	sim_kl_model_clear(&m);
}
END_TEST

START_TEST(test_exporter)
{
	struct sim_kl_model m;
	char *b;

	sim_kl_model_init(&m, 5);
	add_exporter(&m, "127.254.0.1:9100", "7", "");
	b = render(&m, "127.254.0.1:9100", T0);
	ck_assert_ptr_nonnull(strstr(b, "# TYPE queue_depth gauge\nqueue_depth{queue=\"jobs\"} 7\n"));
	free(b);
	add_exporter(&m, "127.254.0.1:9100", "12.5", ",\"kubesim.io/queue\":\"mail\"");
	b = render(&m, "127.254.0.1:9100", T0);
	ck_assert_ptr_nonnull(strstr(b, "\nqueue_depth{queue=\"mail\"} 12.5\n"));
	free(b);
	add_exporter(&m, "127.254.0.1:9100", "lots", "");
	b = render(&m, "127.254.0.1:9100", T0);
	ck_assert_ptr_null(strstr(b, "queue_depth{"));
	free(b);
	sim_kl_model_clear(&m);
}
END_TEST

/* ---- live ----------------------------------------------------------------------------- */

struct live {
	struct sim_kl_model m;
	struct sim_kl_tls *tls;
	struct sim_kl_loop *loop;
	struct certs_pair ca;
	int port;
};

/* A port free on 0.0.0.0 right now. */
static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void live_pod(struct live *lv, const char *name, const char *ip, const char *extra)
{
	char ann[512];

	snprintf(ann, sizeof(ann),
		 "\"prometheus.io/scrape\":\"true\",\"prometheus.io/port\":\"%d\","
		 "\"kubesim.io/cpu\":\"const:100m\"%s",
		 lv->port, extra);
	add_pod(&lv->m, name, name, ip, ann, T0_TEXT, 0);
}

static void live_start(struct live *lv)
{
	struct certs_spec ca = {.cn = "kubesim-ca", .is_ca = true};
	struct sim_kl_loop_cfg cfg = {.bind = "127.0.0.1", .idle_timeout_ns = 30 * SEC,
				      .max_conns = 100};
	char err[256], at[64];

	memset(lv, 0, sizeof(*lv));
	lv->port = free_port();
	sim_kl_model_init(&lv->m, 3);
	live_pod(lv, "hello", "127.2.0.1", "");
	live_pod(lv, "tls", "127.2.0.2", ",\"prometheus.io/scheme\":\"https\","
		 "\"prometheus.io/path\":\"/app/metrics\"");
	live_pod(lv, "down", "127.2.0.3", ",\"kubesim.io/fault\":\"down\"");
	live_pod(lv, "e500", "127.2.0.4", ",\"kubesim.io/fault\":\"500\"");
	live_pod(lv, "garbage", "127.2.0.5", ",\"kubesim.io/fault\":\"garbage\"");
	live_pod(lv, "slow", "127.2.0.6", ",\"kubesim.io/fault\":\"slow=300ms\"");
	live_pod(lv, "huge", "127.2.0.7", ",\"kubesim.io/fault\":\"huge=1Mi\"");
	live_pod(lv, "series", "127.2.0.9", ",\"kubesim.io/fault\":\"series=100k\"");
	add_pod(&lv->m, "quiet", "quiet", "127.2.0.8", "", T0_TEXT, 0);
	snprintf(at, sizeof(at), "127.254.0.1:%d", lv->port);
	add_exporter(&lv->m, at, "7", "");
	ck_assert_int_eq(certs_create(&ca, NULL, &lv->ca, err, sizeof(err)), 0);
	lv->tls = sim_kl_tls_new(&lv->ca, SIM_CERT_CLUSTER_CA, false, err, sizeof(err));
	ck_assert_msg(lv->tls != NULL, "%s", err);
	cfg.model = &lv->m;
	cfg.tls = lv->tls;
	cfg.port = 0;
	lv->loop = sim_kl_loop_start(&cfg, err, sizeof(err));
	ck_assert_msg(lv->loop != NULL, "%s", err);
}

static void live_stop(struct live *lv)
{
	sim_kl_loop_stop(lv->loop);
	sim_kl_tls_free(lv->tls);
	sim_kl_model_clear(&lv->m);
	certs_pair_clear(&lv->ca);
}

struct fetch {
	CURLcode rc;
	long status;
	char *ct;
	double secs;
	struct dynbuf body, head;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	return dynbuf_add(ud, p, size * n) == 0 ? size * n : 0;
}

static void fetch(struct live *lv, const char *scheme, const char *addr, const char *path,
		  struct fetch *f)
{
	CURL *h = curl_easy_init();
	char url[256];
	char *ct = NULL;

	memset(f, 0, sizeof(*f));
	dynbuf_init(&f->body, DYN_KUBELET_BODY);
	dynbuf_init(&f->head, DYN_KUBELET_BODY);
	snprintf(url, sizeof(url), "%s://%s:%d%s", scheme, addr, lv->port, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &f->body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &f->head);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	f->rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &f->status);
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &f->secs);
	f->ct = ct ? xstrdup(ct) : NULL;
	curl_easy_cleanup(h);
}

static void fetch_done(struct fetch *f)
{
	dynbuf_clear(&f->body);
	dynbuf_clear(&f->head);
	free(f->ct);
}

START_TEST(test_live_http)
{
	struct live lv;
	struct fetch f;

	live_start(&lv);
	fetch(&lv, "http", "127.2.0.1", "/metrics", &f);
	ck_assert_int_eq(f.rc, CURLE_OK);
	ck_assert_int_eq(f.status, 200);
	ck_assert_str_eq(f.ct, "text/plain; version=0.0.4; charset=utf-8");
	ck_assert_ptr_nonnull(strstr(f.body.buf, "\nhello_counter_total "));
	ck_assert_ptr_nonnull(strstr(f.body.buf, "\nhello_inflight_requests 0.5\n"));
	ck_assert_ptr_nonnull(strstr(f.body.buf, "\nhttp_request_duration_seconds_count "));
	ck_assert_ptr_null(strcasestr(f.head.buf, "\r\nConnection: close\r\n"));
	fetch_done(&f);
	fetch(&lv, "http", "127.2.0.1", "/other", &f);
	ck_assert_int_eq(f.status, 404);
	fetch_done(&f);
	/* https with kubesim's CA, on its own path */
	fetch(&lv, "https", "127.2.0.2", "/app/metrics", &f);
	ck_assert_int_eq(f.rc, CURLE_OK);
	ck_assert_int_eq(f.status, 200);
	ck_assert_ptr_nonnull(strstr(f.body.buf, "\nhello_counter_total "));
	fetch_done(&f);
	/* the exporter */
	fetch(&lv, "http", "127.254.0.1", "/metrics", &f);
	ck_assert_int_eq(f.status, 200);
	ck_assert_ptr_nonnull(strstr(f.body.buf, "\nqueue_depth{queue=\"jobs\"} 7\n"));
	fetch_done(&f);
	/* not annotated, or nothing there: the connection is dropped */
	fetch(&lv, "http", "127.2.0.8", "/metrics", &f);
	ck_assert_int_ne(f.rc, CURLE_OK);
	fetch_done(&f);
	fetch(&lv, "http", "127.2.0.99", "/metrics", &f);
	ck_assert_int_ne(f.rc, CURLE_OK);
	fetch_done(&f);
	/* kubesim.io/metrics-keepalive: "false" answers Connection: close */
	live_pod(&lv, "hello", "127.2.0.1", ",\"kubesim.io/metrics-keepalive\":\"false\"");
	fetch(&lv, "http", "127.2.0.1", "/metrics", &f);
	ck_assert_int_eq(f.status, 200);
	ck_assert_ptr_nonnull(strcasestr(f.head.buf, "\r\nConnection: close\r\n"));
	fetch_done(&f);
	live_stop(&lv);
}
END_TEST

/* body ends with exactly n lines kubesim_fault_series{k="<7 digits>"} 1,
 * k = 0 .. n-1 in order, after a body of its own that ends in LF */
static void series_lines_check(const struct dynbuf *body, size_t n)
{
	const char *p;
	char want[SIM_KL_SERIES_LINE_LEN + 1];

	ck_assert_uint_gt(body->len, n * SIM_KL_SERIES_LINE_LEN);
	p = body->buf + body->len - n * SIM_KL_SERIES_LINE_LEN;
	ck_assert_int_eq(p[-1], '\n');
	for (size_t k = 0; k < n; k++, p += SIM_KL_SERIES_LINE_LEN) {
		snprintf(want, sizeof(want), "kubesim_fault_series{k=\"%07zu\"} 1\n", k);
		ck_assert_msg(memcmp(p, want, SIM_KL_SERIES_LINE_LEN) == 0, "line %zu: %.36s", k, p);
	}
}

START_TEST(test_series_stream)
{
	char buf[100], want[2 * SIM_KL_SERIES_LINE_LEN + 1];

	/* any position, any length: the stream is stateless */
	snprintf(want, sizeof(want), "kubesim_fault_series{k=\"0000041\"} 1\n"
		 "kubesim_fault_series{k=\"0000042\"} 1\n");
	for (size_t off = 0; off < SIM_KL_SERIES_LINE_LEN; off++)
		for (size_t len = 0; off + len <= 2 * SIM_KL_SERIES_LINE_LEN; len += 7) {
			memset(buf, 0, sizeof(buf));
			ck_assert_uint_eq(sim_kl_series_lines(buf, len, 41 * SIM_KL_SERIES_LINE_LEN + off), len);
			ck_assert_int_eq(memcmp(buf, want + off, len), 0);
		}
}
END_TEST

START_TEST(test_series_fault_parse)
{
	struct sim_kl_fault f;

	sim_kl_parse_fault("series=1M", "t", &f);
	ck_assert_int_eq(f.series, 1000000);
	sim_kl_parse_fault("series=250,slow=1s", "t", &f);
	ck_assert_int_eq(f.series, 250);
	ck_assert_int_eq(f.slow_ns, 1000000000);
	/* out of range or not a quantity: ignored (logged) */
	sim_kl_parse_fault("series=0", "t", &f);
	ck_assert_int_eq(f.series, 0);
	sim_kl_parse_fault("series=11M", "t", &f);
	ck_assert_int_eq(f.series, 0);
	sim_kl_parse_fault("series=lots", "t", &f);
	ck_assert_int_eq(f.series, 0);
}
END_TEST

START_TEST(test_live_faults)
{
	struct live lv;
	struct fetch f;

	live_start(&lv);
	fetch(&lv, "http", "127.2.0.3", "/metrics", &f);
	ck_assert_int_ne(f.rc, CURLE_OK);
	fetch_done(&f);
	fetch(&lv, "http", "127.2.0.4", "/metrics", &f);
	ck_assert_int_eq(f.status, 500);
	fetch_done(&f);
	fetch(&lv, "http", "127.2.0.5", "/metrics", &f);
	ck_assert_int_eq(f.status, 200);
	ck_assert_ptr_nonnull(strstr(f.body.buf, "-6.7953645788713455e+09"));
	fetch_done(&f);
	fetch(&lv, "http", "127.2.0.6", "/metrics", &f);
	ck_assert_int_eq(f.status, 200);
	ck_assert_msg(f.secs >= 0.29, "slow answered in %.3fs", f.secs);
	fetch_done(&f);
	fetch(&lv, "http", "127.2.0.7", "/metrics", &f);
	ck_assert_int_eq(f.status, 200);
	ck_assert_uint_eq(f.body.len, 1u << 20);
	fetch_done(&f);
	/* series=100k: the pod's body, then 100,000 fixed-width series lines */
	fetch(&lv, "http", "127.2.0.9", "/metrics", &f);
	ck_assert_int_eq(f.status, 200);
	ck_assert_ptr_nonnull(strstr(f.body.buf, "\nhello_counter_total "));
	series_lines_check(&f.body, 100000);
	fetch_done(&f);
	/* a fault annotated later is seen by the next connection */
	live_pod(&lv, "hello", "127.2.0.1", ",\"kubesim.io/fault\":\"500\"");
	fetch(&lv, "http", "127.2.0.1", "/metrics", &f);
	ck_assert_int_eq(f.status, 500);
	fetch_done(&f);
	live_stop(&lv);
}
END_TEST

static Suite *podmetrics_suite(void)
{
	Suite *s = suite_create("kubesim_podmetrics");
	TCase *tc = tcase_create("model");
	TCase *live = tcase_create("live");

	tcase_add_test(tc, test_families_and_rate);
	tcase_add_test(tc, test_series_padding);
	tcase_add_test(tc, test_restart_resets);
	tcase_add_test(tc, test_not_served);
	tcase_add_test(tc, test_exporter);
	tcase_add_test(tc, test_series_stream);
	tcase_add_test(tc, test_series_fault_parse);
	suite_add_tcase(s, tc);
	tcase_set_timeout(live, 60);
	tcase_add_test(live, test_live_http);
	tcase_add_test(live, test_live_faults);
	suite_add_tcase(s, live);
	return s;
}

int main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = unit_run(podmetrics_suite());
	curl_global_cleanup();
	return rc;
}
