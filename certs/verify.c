/*
 * verify.c - Go's crypto/x509 Certificate.Verify over GnuTLS, with Go's
 * texts (go/src/crypto/x509/verify.go as of Go 1.22-1.24, read for
 * behaviour only).  Verify checks, and so does certs_verify, in this order:
 *
 *   1. isValid(leaf): the validity period at the current time
 *      ("x509: certificate has expired or is not yet valid: current time
 *      <now> is after <notAfter>" / "is before <notBefore>");
 *   2. VerifyHostname(opts.DNSName), only when a name is given (hostname.c);
 *   3. buildChains to the roots: "x509: certificate signed by unknown
 *      authority", with the first candidate issuer whose signature check
 *      failed as hint (signature.c); a chain certificate outside its period
 *      fails with its own period error;
 *   4. checkChainForKeyUsage: "x509: certificate specifies an incompatible
 *      key usage".
 *
 * GnuTLS builds the chain and checks signatures, constraints and purposes;
 * its time checks are off so that periods are checked here, once, with Go's
 * wording, against the real time (not clock_now_ns(): tests fake that one
 * for timestamps while their certificates are minted at the real time).
 */
#include "certs/certs_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define TEXT_MAX 512
#define VERIFY_FLAGS (GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS)

/* Step 1 for one certificate: CertificateInvalidError{Expired}. */
static int check_period(gnutls_x509_crt_t crt, int64_t now_ns, char *err, size_t errlen)
{
	int64_t from = (int64_t)gnutls_x509_crt_get_activation_time(crt);
	int64_t until = (int64_t)gnutls_x509_crt_get_expiration_time(crt);
	int64_t now = now_ns / NS_PER_SEC, frac = now_ns % NS_PER_SEC;
	bool before = now < from;  /* Go compares with ns: now.Before / now.After */
	bool after = now > until || (now == until && frac > 0);
	char now_text[40], edge[40];

	if (!before && !after)
		return 0;
	fmt_rfc3339_secs(now, now_text, sizeof(now_text));
	fmt_rfc3339_secs(before ? from : until, edge, sizeof(edge));
	snprintf(err, errlen,
		 "x509: certificate has expired or is not yet valid: current time %s is %s %s",
		 now_text, before ? "before" : "after", edge);
	return ERR_TLS;
}

/* True when parent's subject DN is child's issuer DN (Go's findPotentialParents). */
static bool names_issuer(gnutls_x509_crt_t child, gnutls_x509_crt_t parent)
{
	gnutls_datum_t a = { NULL, 0 }, b = { NULL, 0 };
	bool same = gnutls_x509_crt_get_raw_issuer_dn(child, &a) >= 0 &&
		    gnutls_x509_crt_get_raw_dn(parent, &b) >= 0 && a.size == b.size &&
		    memcmp(a.data, b.data, a.size) == 0;

	gnutls_free(a.data);
	gnutls_free(b.data);
	return same;
}

/* A root of t with crt's issuer name whose check of crt failed: its Go
 * error text into why and its name into name.  False when none. */
static bool root_hint(const struct certs_trust *t, gnutls_x509_crt_t crt, char *why, char *name)
{
	gnutls_datum_t dn = { NULL, 0 };
	gnutls_x509_crt_t root = NULL;
	const char *e = NULL;
	char buf[TEXT_MAX];

	if (gnutls_x509_crt_get_raw_issuer_dn(crt, &dn) >= 0 &&
	    gnutls_x509_trust_list_get_issuer_by_dn(t->tl, &dn, &root, GNUTLS_TL_GET_COPY) >= 0) {
		e = certs__check_signature_from(crt, root, buf, sizeof(buf));
		if (e) {
			snprintf(why, TEXT_MAX, "%s", e);
			certs__hint_name(root, name, TEXT_MAX);
		}
		gnutls_x509_crt_deinit(root);
	}
	gnutls_free(dn.data);
	return e != NULL;
}

/*
 * UnknownAuthorityError for c.  Like buildChains, this walks up the chain
 * the peer sent (roots with the issuer's name first, then the next
 * certificate) while a parent checks out; the hint is the first failed
 * candidate at the deepest certificate reached.
 */
static int unknown_authority(const struct certs_trust *t, const struct certs_chain *c,
			     char *err, size_t errlen)
{
	char why[TEXT_MAX] = "", name[TEXT_MAX] = "", buf[TEXT_MAX];
	char qwhy[2 * TEXT_MAX], qname[2 * TEXT_MAX];
	const char *e;

	for (unsigned i = 0; i < c->n; i++) {
		bool hint = root_hint(t, c->crt[i], why, name);

		if (i + 1 >= c->n || !names_issuer(c->crt[i], c->crt[i + 1]))
			break;
		e = certs__check_signature_from(c->crt[i], c->crt[i + 1], buf, sizeof(buf));
		if (e && !hint) {
			snprintf(why, sizeof(why), "%s", e);
			certs__hint_name(c->crt[i + 1], name, sizeof(name));
		}
		if (e)
			break;
		why[0] = name[0] = '\0'; /* a deeper level has its own hint */
	}
	if (!why[0]) {
		snprintf(err, errlen, "x509: certificate signed by unknown authority");
		return ERR_TLS;
	}
	certs__go_quote(why, qwhy, sizeof(qwhy));
	certs__go_quote(name, qname, sizeof(qname));
	snprintf(err, errlen,
		 "x509: certificate signed by unknown authority (possibly because of %s while trying "
		 "to verify candidate authority certificate %s)", qwhy, qname);
	return ERR_TLS;
}

/* Step 3's period checks: the certificates the peer sent that chain up from
 * the leaf, then the root of t that issued the last of them. */
static int check_chain_periods(const struct certs_trust *t, const struct certs_chain *c,
			       int64_t now, char *err, size_t errlen)
{
	gnutls_x509_crt_t root = NULL;
	unsigned i = 0;
	int rc = 0;

	while (rc == 0 && i + 1 < c->n && gnutls_x509_crt_check_issuer(c->crt[i], c->crt[i + 1]))
		rc = check_period(c->crt[++i], now, err, errlen);
	if (rc == 0 &&
	    gnutls_x509_trust_list_get_issuer(t->tl, c->crt[i], &root, GNUTLS_TL_GET_COPY) >= 0) {
		rc = check_period(root, now, err, errlen);
		gnutls_x509_crt_deinit(root);
	}
	return rc;
}

/* Steps 3 and 4. */
static int check_chain(const struct certs_trust *t, const struct certs_chain *c,
		       enum certs_purpose purpose, int64_t now, char *err, size_t errlen)
{
	const char *oid = purpose == CERTS_CLIENT_AUTH ? GNUTLS_KP_TLS_WWW_CLIENT
						       : GNUTLS_KP_TLS_WWW_SERVER;
	gnutls_typed_vdata_st want = { GNUTLS_DT_KEY_PURPOSE_OID, (unsigned char *)oid, 0 };
	gnutls_x509_crt_t crts[CERTS_MAX_CHAIN];
	unsigned status = 0;

	memcpy(crts, c->crt, c->n * sizeof(crts[0]));
	if (gnutls_x509_trust_list_verify_crt2(t->tl, crts, c->n, &want, 1, VERIFY_FLAGS, &status,
					       NULL) < 0) {
		snprintf(err, errlen, "x509: certificate verification failed");
		return ERR_TLS;
	}
	/* anything but the purpose is a chain that could not be built */
	if ((status & ~(unsigned)(GNUTLS_CERT_INVALID | GNUTLS_CERT_PURPOSE_MISMATCH)) ||
	    status == GNUTLS_CERT_INVALID)
		return unknown_authority(t, c, err, errlen);
	if (check_chain_periods(t, c, now, err, errlen) != 0)
		return ERR_TLS;
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH) {
		snprintf(err, errlen, "x509: certificate specifies an incompatible key usage");
		return ERR_TLS;
	}
	return 0;
}

int certs_verify(const struct certs_trust *t, const struct certs_chain *c, const char *host,
		 enum certs_purpose purpose, char *err, size_t errlen)
{
	struct timespec ts;
	int64_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
	if (c->n == 0 || c->n > CERTS_MAX_CHAIN) {
		snprintf(err, errlen, "x509: no certificate to verify");
		return ERR_TLS;
	}
	if (check_period(c->crt[0], now, err, errlen) != 0)
		return ERR_TLS;
	if (host && *host && certs__verify_hostname(c->crt[0], host, err, errlen) != 0)
		return ERR_TLS;
	return check_chain(t, c, purpose, now, err, errlen);
}
