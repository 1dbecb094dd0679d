/*
 * check_scraper_tls.c - how the scraper talks to a kubelet over TLS, with
 * the fake kubelet of scraper_fixture.h: certificate verification (a CA
 * that did not sign it, an unreadable CA file, --kubelet-insecure-tls, CA
 * bytes), a certificate without the node's IP in its SANs, and the bearer
 * token file re-read every round and never logged.
 */
#include <check.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "scraper/scraper.h"
#include "test/unit/scraper_fixture.h"
#include "test/unit/unit.h"

/* A new scraper from r->o loses its one node on the certificate check:
 * the log says why, and no request reached the kubelet. */
static void assert_tls_refused(struct rig *r, const char *why)
{
	char *log;

	rig_scraper(r);
	log = rig_round_logged(r);
	ck_assert_uint_eq(r->rs.failed, 1);
	ck_assert_log(log, why);
	ck_assert_int_eq(atomic_load(&r->k->requests), 0);
	free(log);
}

/* Verification on with a CA that did not sign the kubelet: the node is
 * lost, the log says why in Go's words, and no request (with its bearer
 * token) reached the kubelet; --kubelet-insecure-tls or the right CA work,
 * also for a second round on the kept-alive connection. */
START_TEST(tls_verification)
{
	struct rig r;

	rig_start(&r, &server);
	add_node(&r.c, "node-a", "/dyn");
	r.o.ca_file = other_ca_path;
	assert_tls_refused(&r, "tls: failed to verify certificate: x509: certificate signed by "
			       "unknown authority\" node=\"node-a\"");
	r.o.ca_file = "/nonexistent/ca.crt";
	assert_tls_refused(&r, "tls: failed to verify certificate: no CA certificate could be read "
			       "from \\\"/nonexistent/ca.crt\\\"");

	r.o.ca_file = NULL;
	r.o.insecure_tls = true;
	rig_scraper(&r);
	rig_round(&r);
	ck_assert_uint_eq(r.rs.failed, 0);

	r.o.insecure_tls = false;
	r.o.ca_data = ca.cert_pem;
	rig_scraper(&r);
	rig_round(&r);
	ck_assert_uint_eq(r.rs.failed, 0);
	rig_round(&r);
	ck_assert_uint_eq(r.rs.failed, 0);
	rig_stop(&r);
}
END_TEST

/* The right CA but a certificate without the IP (no IP SANs, or another
 * IP): the host check fails, in Go's words for each case. */
START_TEST(tls_ip_not_in_certificate)
{
	struct rig r;

	rig_start(&r, &server_dns_only);
	add_node(&r.c, "node-a", "/dyn");
	assert_tls_refused(&r, "tls: failed to verify certificate: x509: cannot validate certificate "
			       "for 127.0.0.1 because it doesn't contain any IP SANs\" node=\"node-a\"");
	rig_stop(&r);

	rig_start(&r, &server_other_ip);
	add_node(&r.c, "node-a", "/dyn");
	assert_tls_refused(&r, "tls: failed to verify certificate: x509: certificate is valid for "
			       "127.0.0.2, not 127.0.0.1\" node=\"node-a\"");
	rig_stop(&r);
}
END_TEST

START_TEST(bearer_token_file_is_reread)
{
	struct rig r;
	char *log;

	rig_start(&r, &server);
	write_file(token_path, "first\n");
	r.o.bearer_token = "static-ignored";
	r.o.bearer_token_file = token_path;
	rig_scraper(&r);
	add_node(&r.c, "node-a", "/auth");
	log = rig_round_logged(&r);
	ck_assert_uint_eq(r.rs.failed, 1);
	ck_assert_str_eq(r.k->auth, "Bearer first");
	ck_assert_log(log, "err=\"request failed, status: \\\"401 Unauthorized\\\"\"");
	ck_assert_msg(strstr(log, "first") == NULL, "token leaked into the log: %s", log);
	free(log);
	write_file(token_path, "second\n");
	rig_round(&r);
	ck_assert_uint_eq(r.rs.failed, 0);
	ck_assert_str_eq(r.k->auth, "Bearer second");
	rig_stop(&r);
}
END_TEST

static Suite *tls_suite(void)
{
	Suite *s = suite_create("scraper_tls");
	TCase *tc = tcase_create("tls");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, setup_certs, teardown_certs);
	tcase_add_test(tc, tls_verification);
	tcase_add_test(tc, tls_ip_not_in_certificate);
	tcase_add_test(tc, bearer_token_file_is_reread);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(tls_suite());
}
