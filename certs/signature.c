/*
 * signature.c - Go's Certificate.CheckSignatureFrom and the pieces of
 * UnknownAuthorityError's hint (go/src/crypto/x509/x509.go and verify.go,
 * read for behaviour only): GnuTLS finds issuers by name and key id and
 * reports only "signer not found", while Go also tries a root that merely
 * has the issuer's name and says why it did not sign.
 */
#include "certs/certs_int.h"

#include <gnutls/abstract.h>
#include <stdio.h>
#include <string.h>

#define SIG_MAX 2048  /* bytes of a signature (RSA 16384) */

static const char constraint_violation[] =
	"x509: invalid signature: parent certificate cannot sign this kind of certificate";
static const char unimplemented[] = "x509: cannot verify signature: algorithm unimplemented";

/* One DER SEQUENCE header at *off: *off moves past it, *len is its length. */
static bool der_sequence(const unsigned char *p, size_t n, size_t *off, size_t *len)
{
	size_t l, k;

	if (*off + 2 > n || p[*off] != 0x30)
		return false;
	l = p[*off + 1];
	*off += 2;
	if (l & 0x80) {
		k = l & 0x7f;
		if (k == 0 || k > 4 || *off + k > n)
			return false;
		for (l = 0; k > 0; k--)
			l = (l << 8) | p[(*off)++];
	}
	*len = l;
	return l <= n - *off;
}

/* The tbsCertificate inside a certificate's DER: the bytes its signature covers. */
static bool der_tbs(const gnutls_datum_t *der, gnutls_datum_t *tbs)
{
	size_t off = 0, len, start;

	if (!der_sequence(der->data, der->size, &off, &len))
		return false;
	start = off;
	if (!der_sequence(der->data, der->size, &off, &len))
		return false;
	tbs->data = der->data + start;
	tbs->size = (unsigned)(off - start + len);
	return true;
}

/* GnuTLS' key algorithm folded to Go's PublicKeyAlgorithm (RSA-PSS keys are RSA). */
static int pk_family(int pk)
{
	return pk == GNUTLS_PK_RSA_PSS ? GNUTLS_PK_RSA : pk;
}

/* Go's PublicKeyAlgorithm.String() and the %T of its key type. */
static const char *go_pk_name(int pk, bool key_type)
{
	switch (pk) {
	case GNUTLS_PK_RSA:
		return key_type ? "*rsa.PublicKey" : "RSA";
	case GNUTLS_PK_ECDSA:
		return key_type ? "*ecdsa.PublicKey" : "ECDSA";
	case GNUTLS_PK_EDDSA_ED25519:
		return key_type ? "ed25519.PublicKey" : "Ed25519";
	case GNUTLS_PK_DSA:
		return key_type ? "*dsa.PublicKey" : "DSA";
	default:
		return key_type ? "<nil>" : "0";
	}
}

/* Go's error for a signature that does not verify with a key of type pk. */
static const char *failure_text(int pk)
{
	switch (pk) {
	case GNUTLS_PK_RSA:
		return "crypto/rsa: verification error";
	case GNUTLS_PK_ECDSA:
		return "x509: ECDSA verification failure";
	case GNUTLS_PK_EDDSA_ED25519:
		return "x509: Ed25519 verification failure";
	default:
		return unimplemented;
	}
}

/* Go's first check: a v3 parent needs basicConstraints CA, and keyCertSign
 * when it has a key usage at all. */
static bool may_sign(gnutls_x509_crt_t parent)
{
	unsigned critical = 0, ca = 0, usage = 0;
	int pathlen = 0;
	int bc = gnutls_x509_crt_get_basic_constraints(parent, &critical, &ca, &pathlen);

	if ((bc < 0 && gnutls_x509_crt_get_version(parent) >= 3) || (bc >= 0 && !ca))
		return false;
	if (gnutls_x509_crt_get_key_usage(parent, &usage, &critical) >= 0 && usage != 0 &&
	    !(usage & GNUTLS_KEY_KEY_CERT_SIGN))
		return false;
	return true;
}

/* True when parent's key verifies child's signature over its tbsCertificate. */
static bool signature_ok(gnutls_x509_crt_t child, gnutls_x509_crt_t parent, int sign)
{
	unsigned char sig[SIG_MAX];
	size_t siglen = sizeof(sig);
	gnutls_datum_t der = { NULL, 0 }, tbs, sigd;
	gnutls_pubkey_t pub = NULL;
	bool ok = false;

	if (gnutls_x509_crt_export2(child, GNUTLS_X509_FMT_DER, &der) >= 0 && der_tbs(&der, &tbs) &&
	    gnutls_x509_crt_get_signature(child, (char *)sig, &siglen) >= 0 &&
	    gnutls_pubkey_init(&pub) >= 0 && gnutls_pubkey_import_x509(pub, parent, 0) >= 0) {
		sigd.data = sig;
		sigd.size = (unsigned)siglen;
		ok = gnutls_pubkey_verify_data2(pub, (gnutls_sign_algorithm_t)sign, 0, &tbs, &sigd) >= 0;
	}
	if (pub)
		gnutls_pubkey_deinit(pub);
	gnutls_free(der.data);
	return ok;
}

const char *certs__check_signature_from(gnutls_x509_crt_t child, gnutls_x509_crt_t parent,
					char *buf, size_t buflen)
{
	int sign = gnutls_x509_crt_get_signature_algorithm(child);
	int want, have;

	if (!may_sign(parent))
		return constraint_violation;
	if (sign < 0 || sign == GNUTLS_SIGN_UNKNOWN)
		return unimplemented;
	want = pk_family((int)gnutls_sign_get_pk_algorithm((gnutls_sign_algorithm_t)sign));
	have = pk_family(gnutls_x509_crt_get_pk_algorithm(parent, NULL));
	if (want != have) {
		snprintf(buf, buflen,
			 "x509: signature algorithm specifies an %s public key, but have public key of type %s",
			 go_pk_name(want, false), go_pk_name(have, true));
		return buf;
	}
	return signature_ok(child, parent, sign) ? NULL : failure_text(have);
}

/* Big-endian unsigned bytes as decimal (Go's big.Int.String()). */
static void decimal(const unsigned char *be, size_t n, char *out, size_t outlen)
{
	unsigned char num[64];
	char digits[160];
	size_t nd = 0, i;
	bool more = true;

	n = n < sizeof(num) ? n : sizeof(num);
	memcpy(num, be, n);
	while (more && nd < sizeof(digits)) {
		unsigned rem = 0;

		more = false;
		for (i = 0; i < n; i++) {
			unsigned cur = rem * 256 + num[i];

			num[i] = (unsigned char)(cur / 10);
			rem = cur % 10;
			more |= num[i] != 0;
		}
		digits[nd++] = (char)('0' + rem);
	}
	for (i = 0; i < nd && i + 1 < outlen; i++)
		out[i] = digits[nd - 1 - i];
	out[i < outlen ? i : 0] = '\0';
}

void certs__hint_name(gnutls_x509_crt_t crt, char *out, size_t outlen)
{
	unsigned char serial[64];
	size_t len = outlen;
	char num[160];

	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, out, &len) >= 0 &&
	    len > 0)
		return;
	len = outlen;
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, 0, out,
					  &len) >= 0 && len > 0)
		return;
	len = sizeof(serial);
	if (gnutls_x509_crt_get_serial(crt, serial, &len) < 0)
		len = 0;
	decimal(serial, len, num, sizeof(num));
	snprintf(out, outlen, "serial:%s", num);
}

void certs__go_quote(const char *s, char *out, size_t outlen)
{
	static const char esc_from[] = "\a\b\f\n\r\t\v\\\"", esc_to[] = "abfnrtv\\\"";
	size_t used = 0;

	if (outlen < 3) {
		if (outlen)
			out[0] = '\0';
		return;
	}
	out[used++] = '"';
	for (; *s && used + 5 < outlen; s++) {
		unsigned char c = (unsigned char)*s;
		const char *e = c ? strchr(esc_from, c) : NULL;

		if (e) {
			out[used++] = '\\';
			out[used++] = esc_to[e - esc_from];
		} else if (c < 0x20 || c == 0x7f) {
			used += (size_t)snprintf(out + used, outlen - used, "\\x%02x", c);
		} else {
			out[used++] = (char)c; /* UTF-8 kept as is */
		}
	}
	out[used++] = '"';
	out[used] = '\0';
}
