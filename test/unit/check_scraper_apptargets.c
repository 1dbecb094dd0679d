/*
 * check_scraper_apptargets.c - application targets (issue 11): the
 * client's plain http:// path (conn.c: the state machine minus the
 * handshake, Accept and Content-Type) against the fake kubelet of
 * scraper_fixture.h in its plain-HTTP mode, and over HTTPS with the
 * fixture CA.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scraper/scraper_int.h"
#include "series/series.h"
#include "test/unit/scraper_fixture.h"
#include "test/unit/unit.h"

/* ---- the conn API over plain HTTP --------------------------------------------------- */

struct harness {
	struct scraper__driver *drv;
	struct scraper__resolver *res;
	struct scraper__conn_env env;
	struct scraper__conn *c;
	struct scraper__request req;
	char url[256], hostport[64], ctype[128];
	struct dynbuf body;
	bool done;
	enum scraper__outcome oc;
	int status;
	char err[1200];
};

static void harness_init(struct harness *h)
{
	memset(h, 0, sizeof(*h));
	h->drv = scraper__driver_new();
	h->res = scraper__resolver_new(h->drv);
	h->env = (struct scraper__conn_env){.drv = h->drv, .res = h->res, .insecure = true};
	h->c = scraper__conn_new(&h->env);
	dynbuf_init(&h->body, 1u << 20);
}

static void harness_clear(struct harness *h)
{
	scraper__conn_free(h->c);
	scraper__resolver_free(h->res);
	scraper__driver_free(h->drv);
	dynbuf_clear(&h->body);
}

static int h_body(void *ud, const char *p, size_t n)
{
	struct harness *h = ud;

	return dynbuf_add(&h->body, p, n);
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

static void harness_get(struct harness *h, uint16_t port, const char *path)
{
	snprintf(h->hostport, sizeof(h->hostport), "127.0.0.1:%u", port);
	snprintf(h->url, sizeof(h->url), "http://%s%s", h->hostport, path);
	h->req = (struct scraper__request){
		.url = h->url, .host = "127.0.0.1", .port = port, .hostport = h->hostport,
		.path = path, .plain = true, .accept = SCRAPER_EXPFMT_ACCEPT, .ctype = h->ctype,
		.ctype_cap = sizeof(h->ctype), .deadline = clock_mono_ns() + 5 * NS_PER_SEC,
		.max_body = 1u << 20, .body = h_body, .done = h_done, .ud = h,
	};
	h->done = false;
	dynbuf_reset(&h->body);
	scraper__conn_start(h->c, &h->req);
	while (!h->done)
		scraper__driver_step(h->drv, 100);
}

/* Three GETs on one kept-alive plain connection; Accept sent, Content-Type read. */
START_TEST(plain_http_kept_alive)
{
	struct kubelet *k = kubelet_start(NULL);
	struct harness h;
	char want[256];

	harness_init(&h);
	for (int i = 0; i < 3; i++) {
		harness_get(&h, k->port, "/app");
		ck_assert_int_eq(h.oc, SCRAPER__OK);
		ck_assert_int_eq(h.status, 200);
		ck_assert_str_eq(h.ctype, "text/plain; version=0.0.4; charset=utf-8");
		ck_assert_ptr_nonnull(strstr(h.body.buf, "temp 21.5\n"));
	}
	ck_assert_str_eq(k->accept, SCRAPER_EXPFMT_ACCEPT);
	ck_assert_int_eq(atomic_load(&k->connections), 1);
	ck_assert_uint_eq(scraper__conn_dials(h.c), 1);
	/* chunked, close-delimited, 500 and a dropped connection over plain HTTP */
	harness_get(&h, k->port, "/chunked");
	ck_assert_int_eq(h.oc, SCRAPER__OK);
	ck_assert_ptr_nonnull(strstr(h.body.buf, "node_memory_working_set_bytes 2e9"));
	ck_assert_str_eq(h.ctype, "");
	harness_get(&h, k->port, "/close");
	ck_assert_int_eq(h.oc, SCRAPER__OK);
	ck_assert(!scraper__conn_idle(h.c));
	harness_get(&h, k->port, "/500");
	ck_assert_int_eq(h.oc, SCRAPER__STATUS);
	ck_assert_int_eq(h.status, 500);
	harness_get(&h, k->port, "/drop");
	ck_assert_int_eq(h.oc, SCRAPER__FAILED);
	snprintf(want, sizeof(want), "Get \"http://127.0.0.1:%u/drop\": EOF", k->port);
	ck_assert_str_eq(h.err, want);
	harness_clear(&h);
	kubelet_stop(k);
}
END_TEST

/* Nothing listens: Go's dial text. */
START_TEST(plain_http_refused)
{
	struct kubelet *k = kubelet_start(NULL);
	uint16_t port = k->port;
	struct harness h;
	char want[256];

	kubelet_stop(k);
	harness_init(&h);
	harness_get(&h, port, "/app");
	ck_assert_int_eq(h.oc, SCRAPER__FAILED);
	snprintf(want, sizeof(want),
		 "Get \"http://127.0.0.1:%u/app\": dial tcp 127.0.0.1:%u: connect: connection refused",
		 port, port);
	ck_assert_str_eq(h.err, want);
	harness_clear(&h);
}
END_TEST


/* ---- rounds over application targets ------------------------------------------------- */

struct world {
	struct kubelet *k;      /* plain HTTP */
	struct series *ser;
	struct scraper_app_options o;
	struct scraper_apps *a;
	struct scraper_app_target t[4];
	size_t n;
	struct scraper_app_round_stats rs;
};

static void world_start(struct world *w, const struct certs_pair *cert)
{
	struct series_options so = {.window_ms = 600000, .resolution_ms = 15000};
	char err[256];

	memset(w, 0, sizeof(*w));
	w->k = kubelet_start(cert);
	w->ser = series_new(&so, err, sizeof(err));
	ck_assert_ptr_nonnull(w->ser);
	w->o.timeout_ns = 5 * NS_PER_SEC;
	w->o.ca_file = ca_path;
}

/* Target i: key, path on the fake server (scheme from the server's mode). */
static void world_target(struct world *w, size_t i, const char *key, const char *path, bool tls)
{
	char url[256];

	snprintf(url, sizeof(url), "%s://127.0.0.1:%u%s", tls ? "https" : "http", w->k->port, path);
	if (i < w->n) {
		free(w->t[i].key);
		free(w->t[i].url);
		labels_clear(&w->t[i].labels);
	}
	w->t[i].key = xstrdup(key);
	w->t[i].url = xstrdup(url);
	labels_init(&w->t[i].labels);
	labels_set(&w->t[i].labels, "namespace", "ns");
	labels_set(&w->t[i].labels, "pod", key);
	labels_set(&w->t[i].labels, "job", "kubernetes-pods");
	snprintf(url, sizeof(url), "127.0.0.1:%u", w->k->port);
	labels_set(&w->t[i].labels, "instance", url);
	if (i >= w->n)
		w->n = i + 1;
}

static char *world_round(struct world *w)
{
	if (!w->a)
		w->a = scraper_apps_new(&w->o, w->ser);
	stderr_capture_begin();
	scraper_apps_round(w->a, w->t, w->n, &w->rs);
	return stderr_capture_end();
}

static void world_stop(struct world *w)
{
	scraper_apps_free(w->a);
	series_free(w->ser);
	for (size_t i = 0; i < w->n; i++) {
		free(w->t[i].key);
		free(w->t[i].url);
		labels_clear(&w->t[i].labels);
	}
	kubelet_stop(w->k);
}

/* What a select found: "labels=... v v v" lines. */
static void rec_series(void *ctx, const struct series_view *v)
{
	struct dynbuf *b = ctx;

	for (size_t i = 0; i < v->labels->n; i++)
		ck_assert_int_eq(dynbuf_printf(b, "%s%s=%s", i ? "," : "", v->labels->items[i].key,
					       v->labels->items[i].value), 0);
	for (size_t i = 0; i < v->n; i++)
		ck_assert_int_eq(prom_is_stale(v->points[i].v) ? dynbuf_addstr(b, " stale")
								 : dynbuf_printf(b, " %g", v->points[i].v),
				 0);
	ck_assert_int_eq(dynbuf_addch(b, '\n'), 0);
}

/* Every series of `name` with pod=pod, rendered (caller frees). */
static char *select_str(struct world *w, const char *name, const char *pod)
{
	struct series_snapshot *snap = series_acquire(w->ser);
	struct series_matcher m[2] = {{"__name__", name, SERIES_EQ}, {"pod", pod, SERIES_EQ}};
	struct dynbuf b;

	dynbuf_init(&b, 1u << 20);
	ck_assert_int_eq(series_select(snap, m, 2, 0, INT64_MAX, rec_series, &b), 0);
	series_snapshot_unref(snap);
	ck_assert_int_eq(dynbuf_addch(&b, '\0'), 0);
	return dynbuf_take(&b, NULL);
}

/* A text target and an OpenMetrics one over plain HTTP: series with their
 * target labels, one point per round, one connection per target. */
START_TEST(round_plain_targets)
{
	struct world w;
	char *log, want[1024];

	world_start(&w, NULL);
	world_target(&w, 0, "a", "/app", false);
	world_target(&w, 1, "b", "/app/om", false);
	for (int i = 0; i < 2; i++) {
		log = world_round(&w);
		ck_assert_msg(strstr(log, "Failed") == NULL, "%s", log);
		free(log);
		ck_assert_uint_eq(w.rs.targets, 2);
		ck_assert_uint_eq(w.rs.failed, 0);
		clock_set_fake_now(FAKE_NOW + (i + 1) * 15 * NS_PER_SEC);
	}
	clock_set_fake_now(FAKE_NOW);
	/* the server's counter advances per request, in either target's order */
	char *got = select_str(&w, "temp", "a");
	snprintf(want, sizeof(want),
		 "__name__=temp,instance=127.0.0.1:%u,job=kubernetes-pods,namespace=ns,pod=a 21.5 21.5\n",
		 w.k->port);
	ck_assert_str_eq(got, want);
	free(got);
	got = select_str(&w, "hello_total", "a");
	ck_assert_ptr_nonnull(strstr(got, "code=200,instance="));
	ck_assert_ptr_nonnull(strstr(got, "code=500,instance="));
	ck_assert_ptr_nonnull(strstr(got, "pod=a 1 1\n"));
	free(got);
	got = select_str(&w, "hello_total", "b");
	ck_assert_ptr_nonnull(strstr(got, "__name__=hello_total,instance="));
	free(got);
	ck_assert_int_eq(atomic_load(&w.k->connections), 2);
	ck_assert_int_eq(atomic_load(&w.k->requests), 4);
	world_stop(&w);
}
END_TEST

/* keep_series: only the names it accepts reach the store, asked once per
 * run of a name. */
static int keep_calls;

static bool keep_hello(void *ud, const char *name)
{
	keep_calls++;
	return strcmp(name, (const char *)ud) == 0;
}

START_TEST(keep_series_filters_names)
{
	struct world w;
	char *log, *got;

	world_start(&w, NULL);
	w.o.keep_series = keep_hello;
	w.o.keep_ud = (void *)"hello_total";
	world_target(&w, 0, "a", "/app", false);
	log = world_round(&w);
	ck_assert_msg(strstr(log, "Failed") == NULL, "%s", log);
	free(log);
	ck_assert_uint_eq(w.rs.failed, 0);
	got = select_str(&w, "temp", "a");
	ck_assert_str_eq(got, ""); /* dropped */
	free(got);
	got = select_str(&w, "hello_total", "a");
	ck_assert_ptr_nonnull(strstr(got, "code=200,instance="));
	ck_assert_ptr_nonnull(strstr(got, "code=500,instance="));
	free(got);
	/* hello_total's two series are one run: asked once for it */
	ck_assert_int_lt(keep_calls, 4);
	world_stop(&w);
}
END_TEST

/* A parse error fails that target only: its series go stale, the other's
 * continue; the log names the target, the URL and the line. */
START_TEST(parse_error_aborts_target)
{
	struct world w;
	char *log;

	world_start(&w, NULL);
	world_target(&w, 0, "a", "/app", false);
	world_target(&w, 1, "b", "/app", false);
	log = world_round(&w);
	free(log);
	clock_set_fake_now(FAKE_NOW + 15 * NS_PER_SEC);
	world_target(&w, 1, "b", "/app/bad", false);
	log = world_round(&w);
	ck_assert_uint_eq(w.rs.failed, 1);
	ck_assert_uint_eq(w.rs.failed_by[SCRAPER_APP_FAIL_PARSE], 1);
	ck_assert_log(log, "\"Failed to scrape target\" target=\"b\"");
	ck_assert_log(log, "/app/bad\" err=\"line 2: ");
	ck_assert_msg(strstr(log, "target=\"a\"") == NULL, "%s", log);
	free(log);
	clock_set_fake_now(FAKE_NOW);
	char *got = select_str(&w, "temp", "b");
	ck_assert_msg(strstr(got, "pod=b 21.5 stale\n") != NULL, "%s", got);
	free(got);
	got = select_str(&w, "temp", "a");
	ck_assert_msg(strstr(got, "pod=a 21.5 21.5\n") != NULL, "%s", got);
	free(got);
	world_stop(&w);
}
END_TEST

/* Prometheus' limits fail that target only, with their text. */
START_TEST(limits_fail_target)
{
	struct world w;
	char *log;

	world_start(&w, NULL);
	w.o.limits.sample_limit = 5;
	world_target(&w, 0, "a", "/app", false);
	world_target(&w, 1, "many", "/app/many", false);
	log = world_round(&w);
	ck_assert_uint_eq(w.rs.failed, 1);
	ck_assert_uint_eq(w.rs.failed_by[SCRAPER_APP_FAIL_TARGET_LIMIT], 1);
	ck_assert_log(log, "target=\"many\"");
	ck_assert_log(log, "sample limit exceeded");
	ck_assert_msg(strstr(log, "target=\"a\"") == NULL, "%s", log);
	free(log);
	char *got = select_str(&w, "m", "many");
	ck_assert_str_eq(got, "");
	free(got);
	scraper_apps_free(w.a);
	w.a = NULL;
	w.o.limits = (struct scraper_expfmt_limits){.body_size_limit = 40};
	log = world_round(&w);
	ck_assert_uint_eq(w.rs.failed, 2);
	ck_assert_uint_eq(w.rs.failed_by[SCRAPER_APP_FAIL_TARGET_LIMIT], 2);
	ck_assert_log(log, "body size limit exceeded");
	free(log);
	scraper_apps_free(w.a);
	w.a = NULL;
	w.o.limits = (struct scraper_expfmt_limits){.label_limit = 1};
	w.n = 1;
	log = world_round(&w);
	w.n = 2;
	ck_assert_uint_eq(w.rs.failed, 1);
	ck_assert_log(log, "err=\"line 2: label_limit exceeded (metric: hello_total, number of labels: 2, limit: 1)");
	free(log);
	world_stop(&w);
}
END_TEST

/* The series store's limits (--max-series, per target) fail that target
 * only, counted as "series_limit" with the store's text. */
START_TEST(series_limit_fails_target)
{
	struct series_options so = {.window_ms = 600000, .resolution_ms = 15000,
				    .max_series_per_target = 5};
	struct world w;
	char *log, err[256];

	world_start(&w, NULL);
	series_free(w.ser);
	w.ser = series_new(&so, err, sizeof(err));
	world_target(&w, 0, "a", "/app", false);
	world_target(&w, 1, "many", "/app/many", false);
	log = world_round(&w);
	ck_assert_uint_eq(w.rs.failed, 1);
	ck_assert_uint_eq(w.rs.failed_by[SCRAPER_APP_FAIL_SERIES_LIMIT], 1);
	ck_assert_log(log, "target=\"many\"");
	ck_assert_log(log, "limit 5");
	free(log);
	world_stop(&w);
}
END_TEST

/* A target gone from the list: its series get stale markers at once. */
START_TEST(vanished_target_removed)
{
	struct world w;
	char *log;

	world_start(&w, NULL);
	world_target(&w, 0, "a", "/app", false);
	world_target(&w, 1, "b", "/app", false);
	free(world_round(&w));
	clock_set_fake_now(FAKE_NOW + 15 * NS_PER_SEC);
	w.n = 1; /* b vanished */
	log = world_round(&w);
	w.n = 2;
	ck_assert_uint_eq(w.rs.removed, 1);
	ck_assert_uint_eq(w.rs.targets, 1);
	free(log);
	clock_set_fake_now(FAKE_NOW);
	char *got = select_str(&w, "temp", "b");
	ck_assert_msg(strstr(got, "pod=b 21.5 stale\n") != NULL, "%s", got);
	free(got);
	got = select_str(&w, "temp", "a");
	ck_assert_msg(strstr(got, "pod=a 21.5 21.5\n") != NULL, "%s", got);
	free(got);
	world_stop(&w);
}
END_TEST

/* https:// targets: checked against the fixture CA; another CA fails with Go's text. */
START_TEST(https_target)
{
	struct world w;
	char *log;

	world_start(&w, &server);
	world_target(&w, 0, "a", "/app", true);
	log = world_round(&w);
	ck_assert_msg(w.rs.failed == 0, "%s", log);
	free(log);
	char *got = select_str(&w, "temp", "a");
	ck_assert_msg(strstr(got, "pod=a 21.5\n") != NULL, "%s", got);
	free(got);
	scraper_apps_free(w.a);
	w.a = NULL;
	w.o.ca_file = other_ca_path;
	clock_set_fake_now(FAKE_NOW + 15 * NS_PER_SEC);
	log = world_round(&w);
	clock_set_fake_now(FAKE_NOW);
	ck_assert_uint_eq(w.rs.failed, 1);
	ck_assert_uint_eq(w.rs.failed_by[SCRAPER_APP_FAIL_CONNECTION], 1);
	ck_assert_log(log, "x509: certificate signed by unknown authority");
	free(log);
	/* a plain request to the TLS server fails that target, not the round */
	world_target(&w, 0, "a", "/app", false);
	log = world_round(&w);
	ck_assert_uint_eq(w.rs.failed, 1);
	free(log);
	world_stop(&w);
}
END_TEST

/* Status, deadline, refused dial and a bad URL: each fails its target with
 * Prometheus' or Go's words; the round still ends within the timeout. */
START_TEST(failures_logged)
{
	struct world w;
	char *log, want[256];

	world_start(&w, NULL);
	w.o.timeout_ns = 300 * NS_PER_MS;
	world_target(&w, 0, "a", "/500", false);
	world_target(&w, 1, "b", "/slow", false);
	world_target(&w, 2, "c", "/app", false);
	free(w.t[2].url);
	w.t[2].url = xstrdup("ftp://127.0.0.1/x");
	log = world_round(&w);
	ck_assert_uint_eq(w.rs.failed, 3);
	ck_assert_uint_eq(w.rs.failed_by[SCRAPER_APP_FAIL_HTTP_STATUS], 1);
	ck_assert_uint_eq(w.rs.failed_by[SCRAPER_APP_FAIL_TIMEOUT], 1);
	ck_assert_uint_eq(w.rs.failed_by[SCRAPER_APP_FAIL_CONNECTION], 1);
	ck_assert_log(log, "target=\"a\"");
	ck_assert_log(log, "err=\"server returned HTTP status 500 Internal Server Error\"");
	snprintf(want, sizeof(want), "err=\"Get \\\"http://127.0.0.1:%u/slow\\\": context deadline exceeded\"",
		 w.k->port);
	ck_assert_log(log, want);
	ck_assert_log(log, "parse \\\"ftp://127.0.0.1/x\\\": invalid URL");
	free(log);
	world_stop(&w);
}
END_TEST

static Suite *apptargets_suite(void)
{
	Suite *s = suite_create("scraper_apptargets");
	TCase *tc = tcase_create("plain");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, setup_certs, teardown_certs);
	tcase_add_test(tc, plain_http_kept_alive);
	tcase_add_test(tc, plain_http_refused);
	tcase_add_test(tc, round_plain_targets);
	tcase_add_test(tc, keep_series_filters_names);
	tcase_add_test(tc, parse_error_aborts_target);
	tcase_add_test(tc, limits_fail_target);
	tcase_add_test(tc, vanished_target_removed);
	tcase_add_test(tc, series_limit_fails_target);
	tcase_add_test(tc, https_target);
	tcase_add_test(tc, failures_logged);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(apptargets_suite());
}
