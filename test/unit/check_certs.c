/* check_certs.c - certs/: chains verify, SANs and usages are right, key files 0600. */
#include <check.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certs/certs.h"
#include "test/unit/unit.h"

static gnutls_x509_crt_t import(const char *pem)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned)strlen(pem) };

	ck_assert_int_ge(gnutls_x509_crt_init(&crt), 0);
	ck_assert_int_ge(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
	return crt;
}

START_TEST(test_chain_verifies)
{
	static const char *const ips[] = { "127.1.0.1" };
	static const char *const dns[] = { "node-0" };
	static const char *const orgs[] = { "system:masters" };
	struct certs_spec ca_spec = { .cn = "test-ca", .is_ca = true };
	struct certs_spec leaf_spec = { .cn = "node-0", .dns = dns, .ndns = 1, .ips = ips,
					.nips = 1, .server_auth = true };
	struct certs_spec client_spec = { .cn = "admin", .orgs = orgs, .norgs = 1,
					  .client_auth = true };
	struct certs_pair ca = { 0 }, leaf = { 0 }, client = { 0 };
	gnutls_x509_crt_t cca, cleaf;
	unsigned int status = 99;
	char err[256];
	char *cn;

	ck_assert_int_eq(certs_create(&ca_spec, NULL, &ca, err, sizeof(err)), ERR_OK);
	ck_assert_int_eq(certs_create(&leaf_spec, &ca, &leaf, err, sizeof(err)), ERR_OK);
	ck_assert_int_eq(certs_create(&client_spec, &ca, &client, err, sizeof(err)), ERR_OK);
	ck_assert_ptr_nonnull(strstr(leaf.key_pem, "PRIVATE KEY"));
	cca = import(ca.cert_pem);
	cleaf = import(leaf.cert_pem);
	ck_assert_int_eq(gnutls_x509_crt_verify(cleaf, &cca, 1, 0, &status), 0);
	ck_assert_uint_eq(status, 0);
	ck_assert_int_ne(gnutls_x509_crt_check_ip(cleaf, (const unsigned char *)"\x7f\x01\x00\x01", 4, 0), 0);
	ck_assert_int_eq(gnutls_x509_crt_check_ip(cleaf, (const unsigned char *)"\x7f\x01\x00\x02", 4, 0), 0);
	ck_assert_int_ne(gnutls_x509_crt_check_hostname(cleaf, "node-0"), 0);
	/* A certificate does not verify against an unrelated CA. */
	gnutls_x509_crt_deinit(cleaf);
	cleaf = import(client.cert_pem);
	ck_assert_int_eq(gnutls_x509_crt_verify(cleaf, &cca, 1, 0, &status), 0);
	ck_assert_uint_eq(status, 0);
	cn = certs_subject_cn(client.cert_pem);
	ck_assert_str_eq(cn, "admin");
	free(cn);
	gnutls_x509_crt_deinit(cleaf);
	gnutls_x509_crt_deinit(cca);
	cca = import(client.cert_pem);
	cleaf = import(leaf.cert_pem);
	ck_assert_int_eq(gnutls_x509_crt_verify(cleaf, &cca, 1, 0, &status), 0);
	ck_assert_uint_ne(status, 0);
	gnutls_x509_crt_deinit(cleaf);
	gnutls_x509_crt_deinit(cca);
	certs_pair_clear(&ca);
	certs_pair_clear(&leaf);
	certs_pair_clear(&client);
}
END_TEST

START_TEST(test_bad_ip_rejected)
{
	static const char *const ips[] = { "not-an-ip" };
	struct certs_spec spec = { .cn = "x", .ips = ips, .nips = 1 };
	struct certs_pair p = { 0 };
	char err[256];

	ck_assert_int_eq(certs_create(&spec, NULL, &p, err, sizeof(err)), ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(err, "not-an-ip"));
	ck_assert_ptr_null(p.cert_pem);
}
END_TEST

START_TEST(test_self_signed_files)
{
	char dir[] = "/tmp/check_certs_XXXXXX";
	char *crt = NULL, *key = NULL, *crt2 = NULL, *key2 = NULL, *sub;
	char err[256];
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	sub = xasprintf("%s/a/b", dir);
	ck_assert_int_eq(certs_ensure_self_signed(sub, &crt, &key, err, sizeof(err)), ERR_OK);
	ck_assert_int_eq(stat(key, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(crt, &st), 0);
	/* A second call reuses the files. */
	ck_assert_int_eq(certs_ensure_self_signed(sub, &crt2, &key2, err, sizeof(err)), ERR_OK);
	ck_assert_str_eq(crt, crt2);
	unlink(crt);
	unlink(key);
	free(crt);
	free(key);
	free(crt2);
	free(key2);
	free(sub);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("certs");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_chain_verifies);
	tcase_add_test(tc, test_bad_ip_rejected);
	tcase_add_test(tc, test_self_signed_files);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
