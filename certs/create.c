/* create.c - key + certificate generation with GnuTLS' x509 API. */
#include "certs/certs.h"

#include <arpa/inet.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CERTS_MAX_PEM (64u << 10)

static int fail(char *err, size_t errlen, const char *what, int rc)
{
	snprintf(err, errlen, "%s: %s", what, gnutls_strerror(rc));
	return ERR_TLS;
}

/* The PEM a gnutls_*_export2() call put in out (rc its result) as a new
 * string, or NULL when the export failed; out is freed. */
static char *take_pem(int rc, gnutls_datum_t *out)
{
	char *pem;

	if (rc < 0)
		return NULL;
	pem = xstrndup((const char *)out->data, out->size);
	gnutls_free(out->data);
	return pem;
}

/* Subject, validity, serial and extensions of spec onto crt. */
static int fill_crt(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key,
		    const struct certs_spec *spec, char *err, size_t errlen)
{
	unsigned char serial[16];
	unsigned int usage;
	time_t now = time(NULL);
	/* default: valid from an hour ago (clock skew) for days from now */
	time_t from = spec->not_before ? (time_t)spec->not_before : now - 3600;
	int days = spec->days > 0 ? spec->days : 365;
	time_t until = (spec->not_before ? from : now) + (time_t)days * 86400;
	int rc;
	size_t i;

	if ((rc = gnutls_x509_crt_set_key(crt, key)) < 0)
		return fail(err, errlen, "set key", rc);
	gnutls_x509_crt_set_version(crt, 3);
	gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	serial[0] &= 0x7f; /* positive */
	gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	gnutls_x509_crt_set_activation_time(crt, from);
	gnutls_x509_crt_set_expiration_time(crt, until);
	if (spec->cn && (rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
							     spec->cn, strlen(spec->cn))) < 0)
		return fail(err, errlen, "set CN", rc);
	for (i = 0; i < spec->norgs; i++) {
		rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
						   spec->orgs[i], strlen(spec->orgs[i]));
		if (rc < 0)
			return fail(err, errlen, "set O", rc);
	}
	for (i = 0; i < spec->ndns; i++) {
		rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, spec->dns[i],
							  strlen(spec->dns[i]), GNUTLS_FSAN_APPEND);
		if (rc < 0)
			return fail(err, errlen, "set DNS SAN", rc);
	}
	for (i = 0; i < spec->nips; i++) {
		unsigned char addr[16];
		size_t alen = 4;

		if (inet_pton(AF_INET, spec->ips[i], addr) != 1) {
			alen = 16;
			if (inet_pton(AF_INET6, spec->ips[i], addr) != 1) {
				snprintf(err, errlen, "invalid IP SAN %s", spec->ips[i]);
				return ERR_INVAL;
			}
		}
		rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, addr,
							  (unsigned)alen, GNUTLS_FSAN_APPEND);
		if (rc < 0)
			return fail(err, errlen, "set IP SAN", rc);
	}
	gnutls_x509_crt_set_basic_constraints(crt, spec->is_ca ? 1 : 0, -1);
	usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
	if (spec->is_ca)
		usage |= GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN;
	else
		usage |= GNUTLS_KEY_KEY_ENCIPHERMENT;
	gnutls_x509_crt_set_key_usage(crt, usage);
	if (spec->server_auth)
		gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
	if (spec->client_auth)
		gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0);
	for (i = 0; i < spec->nekus; i++)
		gnutls_x509_crt_set_key_purpose_oid(crt, spec->ekus[i], 0);
	{
		unsigned char id[64];
		size_t idlen = sizeof(id);

		if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id, &idlen) >= 0)
			gnutls_x509_crt_set_subject_key_id(crt, id, idlen);
	}
	return ERR_OK;
}

int certs_create(const struct certs_spec *spec, const struct certs_pair *issuer,
		 struct certs_pair *out, char *err, size_t errlen)
{
	gnutls_x509_privkey_t key = NULL, ikey = NULL;
	gnutls_x509_crt_t crt = NULL, icrt = NULL;
	gnutls_datum_t d;
	char *cert_pem = NULL, *key_pem = NULL;
	int rc, ret = ERR_TLS;

	gnutls_global_init();
	if ((rc = gnutls_x509_privkey_init(&key)) < 0 || (rc = gnutls_x509_crt_init(&crt)) < 0) {
		ret = fail(err, errlen, "init", rc);
		goto out;
	}
	rc = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	if (rc < 0) {
		ret = fail(err, errlen, "generate key", rc);
		goto out;
	}
	if ((ret = fill_crt(crt, key, spec, err, errlen)) != ERR_OK)
		goto out;
	if (issuer) {
		if ((rc = gnutls_x509_crt_init(&icrt)) < 0 || (rc = gnutls_x509_privkey_init(&ikey)) < 0) {
			ret = fail(err, errlen, "init issuer", rc);
			goto out;
		}
		d.data = (unsigned char *)issuer->cert_pem;
		d.size = (unsigned)strnlen(issuer->cert_pem, CERTS_MAX_PEM);
		if ((rc = gnutls_x509_crt_import(icrt, &d, GNUTLS_X509_FMT_PEM)) < 0) {
			ret = fail(err, errlen, "import issuer certificate", rc);
			goto out;
		}
		d.data = (unsigned char *)issuer->key_pem;
		d.size = (unsigned)strnlen(issuer->key_pem, CERTS_MAX_PEM);
		if ((rc = gnutls_x509_privkey_import(ikey, &d, GNUTLS_X509_FMT_PEM)) < 0) {
			ret = fail(err, errlen, "import issuer key", rc);
			goto out;
		}
		{
			unsigned char id[64];
			size_t idlen = sizeof(id);

			if (gnutls_x509_crt_get_subject_key_id(icrt, id, &idlen, NULL) >= 0)
				gnutls_x509_crt_set_authority_key_id(crt, id, idlen);
		}
		rc = gnutls_x509_crt_sign2(crt, icrt, ikey, GNUTLS_DIG_SHA256, 0);
	} else {
		rc = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
	}
	if (rc < 0) {
		ret = fail(err, errlen, "sign", rc);
		goto out;
	}
	cert_pem = take_pem(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d), &d);
	key_pem = take_pem(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d), &d);
	if (!cert_pem || !key_pem) {
		snprintf(err, errlen, "export PEM failed");
		ret = ERR_TLS;
		free(cert_pem);
		free(key_pem);
		goto out;
	}
	out->cert_pem = cert_pem;
	out->key_pem = key_pem;
	ret = ERR_OK;
out:
	if (ikey)
		gnutls_x509_privkey_deinit(ikey);
	if (icrt)
		gnutls_x509_crt_deinit(icrt);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	gnutls_global_deinit();
	return ret;
}

void certs_pair_clear(struct certs_pair *p)
{
	if (!p)
		return;
	free(p->cert_pem);
	free(p->key_pem);
	p->cert_pem = NULL;
	p->key_pem = NULL;
}

char *certs_subject_cn(const char *pem)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned)strnlen(pem, CERTS_MAX_PEM) };
	char buf[256];
	size_t len = sizeof(buf);
	char *cn = NULL;

	if (gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) >= 0 &&
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &len) >= 0)
		cn = xstrndup(buf, len);
	gnutls_x509_crt_deinit(crt);
	return cn;
}
