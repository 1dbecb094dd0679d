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

static Suite *apptargets_suite(void)
{
	Suite *s = suite_create("scraper_apptargets");
	TCase *tc = tcase_create("plain");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, setup_certs, teardown_certs);
	tcase_add_test(tc, plain_http_kept_alive);
	tcase_add_test(tc, plain_http_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(apptargets_suite());
}
