/*
 * check_certs_verify.c - one certificate, two verifiers, the same words.
 *
 * Each row runs one peer chain through the server's client-certificate
 * path (certs_verify for clientAuth, no name: what server/authn.c calls)
 * and the kubelet path (scraper__verify_chain: serverAuth and the node's
 * address, what scraper/conn.c calls after a handshake), and checks Go's
 * crypto/x509 text for each and that both paths say the same where both
 * fail.  Times in the period texts are the real time (the verifier never
 * uses the fake clock), so "%NOW%" is filled in around the call.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certs/certs.h"
#include "scraper/scraper_int.h"
#include "test/unit/testlib.h"
#include "test/unit/unit.h"

#define DAY 86400
#define CODE_SIGNING "1.3.6.1.5.5.7.3.3"

enum issuer { BY_CA, BY_OTHER_CA, BY_IMPOSTOR, BY_INTERMEDIATE, BY_OLD_INTERMEDIATE };

struct row {
	const char *name;
	const char *ips;       /* one IP SAN, or NULL */
	const char *dns;       /* one DNS SAN, or NULL */
	bool no_eku;           /* an EKU of codeSigning only */
	int64_t from_days;     /* notBefore, days from now (0 = default) */
	int days;
	enum issuer by;
	const char *host;      /* the kubelet path's name */
	const char *server;    /* client-cert path: "" = verifies */
	const char *kubelet;   /* kubelet path: "" = verifies */
};

#define UNKNOWN "x509: certificate signed by unknown authority"
#define PERIOD "x509: certificate has expired or is not yet valid: current time %NOW% is "

static const struct row rows[] = {
	{ "valid", "127.0.0.1", "node-a", false, 0, 0, BY_CA, "127.0.0.1", "", "" },
	{ "valid by name", "127.0.0.1", "node-a", false, 0, 0, BY_CA, "NODE-A", "", "" },
	{ "valid via intermediate", "127.0.0.1", NULL, false, 0, 0, BY_INTERMEDIATE, "127.0.0.1",
	  "", "" },
	{ "expired", "127.0.0.1", NULL, false, -10, 1, BY_CA, "127.0.0.1",
	  PERIOD "after %FROM+1%", PERIOD "after %FROM+1%" },
	{ "not yet valid", "127.0.0.1", NULL, false, 10, 1, BY_CA, "127.0.0.1",
	  PERIOD "before %FROM%", PERIOD "before %FROM%" },
	{ "expired before unknown authority", "127.0.0.1", NULL, false, -10, 1, BY_OTHER_CA,
	  "127.0.0.1", PERIOD "after %FROM+1%", PERIOD "after %FROM+1%" },
	{ "expired intermediate", "127.0.0.1", NULL, false, 0, 0, BY_OLD_INTERMEDIATE, "127.0.0.1",
	  PERIOD "after %OLD+1%", PERIOD "after %OLD+1%" },
	{ "unknown authority", "127.0.0.1", NULL, false, 0, 0, BY_OTHER_CA, "127.0.0.1", UNKNOWN,
	  UNKNOWN },
	{ "bad signature", "127.0.0.1", NULL, false, 0, 0, BY_IMPOSTOR, "127.0.0.1",
	  UNKNOWN " (possibly because of \"x509: ECDSA verification failure\" while trying to "
	  "verify candidate authority certificate \"test-ca\")",
	  UNKNOWN " (possibly because of \"x509: ECDSA verification failure\" while trying to "
	  "verify candidate authority certificate \"test-ca\")" },
	{ "no IP SANs", NULL, "node-a", false, 0, 0, BY_CA, "127.0.0.1", "",
	  "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs" },
	{ "IP mismatch", "127.0.0.2", "node-a", false, 0, 0, BY_CA, "[127.0.0.1]", "",
	  "x509: certificate is valid for 127.0.0.2, not 127.0.0.1" },
	{ "name mismatch", "127.0.0.1", "node-a", false, 0, 0, BY_CA, "node-b", "",
	  "x509: certificate is valid for node-a, not node-b" },
	{ "no names", NULL, NULL, false, 0, 0, BY_CA, "node-b", "",
	  "x509: certificate is not valid for any names, but wanted to match node-b" },
	{ "host before authority", "127.0.0.2", NULL, false, 0, 0, BY_OTHER_CA, "127.0.0.1",
	  UNKNOWN, "x509: certificate is valid for 127.0.0.2, not 127.0.0.1" },
	{ "wrong key usage", "127.0.0.1", NULL, true, 0, 0, BY_CA, "127.0.0.1",
	  "x509: certificate specifies an incompatible key usage",
	  "x509: certificate specifies an incompatible key usage" },
	{ "authority before key usage", "127.0.0.1", NULL, true, 0, 0, BY_OTHER_CA, "127.0.0.1",
	  UNKNOWN, UNKNOWN },
};

static struct certs_pair ca, other_ca, impostor, mid, old_mid;
static int64_t now0;

static void mint_cas(void)
{
	struct certs_spec spec = { .cn = "test-ca", .is_ca = true, .days = 3650 };
	struct certs_spec other = { .cn = "other-ca", .is_ca = true, .days = 3650 };
	struct certs_spec inter = { .cn = "intermediate", .is_ca = true, .days = 3650 };

	now0 = (int64_t)time(NULL);
	testlib_cert(&spec, NULL, &ca);
	testlib_cert(&spec, NULL, &impostor); /* same name, its own key */
	testlib_cert(&other, NULL, &other_ca);
	testlib_cert(&inter, &ca, &mid);
	inter.not_before = now0 - 10 * DAY;
	inter.days = 1;
	testlib_cert(&inter, &ca, &old_mid);
}

static void free_cas(void)
{
	certs_pair_clear(&ca);
	certs_pair_clear(&impostor);
	certs_pair_clear(&other_ca);
	certs_pair_clear(&mid);
	certs_pair_clear(&old_mid);
}

/* The peer chain of row r as PEM (leaf, then the intermediate if any). */
static char *mint_chain(const struct row *r)
{
	const char *eku[] = { CODE_SIGNING };
	const struct certs_pair *by[] = { &ca, &other_ca, &impostor, &mid, &old_mid };
	struct certs_spec spec = { .cn = "leaf", .ips = &r->ips, .nips = r->ips ? 1 : 0,
				   .dns = &r->dns, .ndns = r->dns ? 1 : 0, .days = r->days };
	struct certs_pair leaf = { 0 };
	char *pem;

	if (r->no_eku) {
		spec.ekus = eku;
		spec.nekus = 1;
	} else {
		spec.server_auth = spec.client_auth = true;
	}
	if (r->from_days)
		spec.not_before = now0 + r->from_days * DAY;
	testlib_cert(&spec, by[r->by], &leaf);
	pem = r->by >= BY_INTERMEDIATE ? xasprintf("%s%s", leaf.cert_pem, by[r->by]->cert_pem)
				       : xstrdup(leaf.cert_pem);
	certs_pair_clear(&leaf);
	return pem;
}

static void put_time(char *out, size_t len, int64_t secs)
{
	fmt_rfc3339(secs * NS_PER_SEC, out, len);
}

/* want with %NOW%, %FROM%, %FROM+1% and %OLD+1% filled in, now = `now`. */
static void expand(const struct row *r, const char *want, int64_t now, char *out, size_t len)
{
	int64_t from = now0 + r->from_days * DAY;
	const struct { const char *key; int64_t t; } vars[] = {
		{ "%NOW%", now }, { "%FROM%", from }, { "%FROM+1%", from + DAY },
		{ "%OLD+1%", now0 - 9 * DAY },
	};
	size_t used = 0;

	while (*want && used + 1 < len) {
		size_t i, n = sizeof(vars) / sizeof(vars[0]);

		for (i = 0; i < n && strncmp(want, vars[i].key, strlen(vars[i].key)) != 0; i++)
			;
		if (i == n) {
			out[used++] = *want++;
			continue;
		}
		put_time(out + used, len - used, vars[i].t);
		used += strlen(out + used);
		want += strlen(vars[i].key);
	}
	out[used] = '\0';
}

/* got is want at a time between t0 and t1 (a second may tick during the call). */
static void assert_text(const struct row *r, const char *path, const char *want, const char *got,
			int64_t t0, int64_t t1)
{
	char a[512], b[512];

	expand(r, want, t0, a, sizeof(a));
	expand(r, want, t1, b, sizeof(b));
	ck_assert_msg(strcmp(got, a) == 0 || strcmp(got, b) == 0,
		      "%s, %s path:\n  got  %s\n  want %s", r->name, path, got, a);
}

START_TEST(same_text_both_paths)
{
	const struct row *r = &rows[_i];
	struct certs_trust *trust = NULL;
	struct scraper__verifier *v;
	struct certs_chain chain;
	char err[256], server_err[512] = "", kubelet_err[512] = "";
	char *pem = mint_chain(r);
	int64_t t0, t1, expires = 0;

	ck_assert_int_eq(certs_trust_load_pem(ca.cert_pem, strlen(ca.cert_pem), &trust), 0);
	v = scraper__verifier_new(NULL, ca.cert_pem, err, sizeof(err));
	ck_assert_msg(v != NULL, "%s", err);
	ck_assert_int_eq(certs_chain_from_pem(&chain, pem, err, sizeof(err)), 0);

	t0 = (int64_t)time(NULL);
	if (certs_verify(trust, &chain, NULL, CERTS_CLIENT_AUTH, server_err, sizeof(server_err)))
		ck_assert_str_ne(server_err, "");
	if (scraper__verify_chain(v, &chain, r->host, &expires, kubelet_err, sizeof(kubelet_err)))
		ck_assert_str_ne(kubelet_err, "");
	t1 = (int64_t)time(NULL);

	assert_text(r, "client-certificate", r->server, server_err, t0, t1);
	assert_text(r, "kubelet", r->kubelet, kubelet_err, t0, t1);
	if (server_err[0] && kubelet_err[0] && strcmp(r->server, r->kubelet) == 0)
		ck_assert_str_eq(server_err, kubelet_err);
	if (!kubelet_err[0])
		ck_assert_int_gt(expires, t1);

	certs_chain_clear(&chain);
	scraper__verifier_free(v);
	certs_trust_free(trust);
	free(pem);
}
END_TEST

/* Trust loading: capped, and the callers' errors for a missing file or text
 * without a certificate. */
START_TEST(trust_loading)
{
	struct certs_trust *t = NULL;
	char *big = xcalloc(1, DYN_CONFIG_FILE + 2);

	memset(big, 'A', DYN_CONFIG_FILE + 1);
	ck_assert_int_eq(certs_trust_load_file("/nonexistent/ca.crt", &t), ERR_IO);
	ck_assert_int_eq(certs_trust_load_pem("no PEM here", 11, &t), ERR_PARSE);
	ck_assert_int_eq(certs_trust_load_pem(big, DYN_CONFIG_FILE + 1, &t), ERR_TOOBIG);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(certs_trust_load_pem(ca.cert_pem, strlen(ca.cert_pem), &t), 0);
	ck_assert_str_eq(certs_trust_pem(t), ca.cert_pem);
	certs_trust_free(t);
	free(big);
}
END_TEST

static Suite *verify_suite(void)
{
	Suite *s = suite_create("certs_verify");
	TCase *tc = tcase_create("verify");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, mint_cas, free_cas);
	tcase_add_loop_test(tc, same_text_both_paths, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, trust_loading);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(verify_suite());
}
