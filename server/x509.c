/*
 * x509.c - client-certificate verification for the authenticators: our own
 * trust lists (never libmicrohttpd's), clientAuth purpose, current time.
 */
#include "server/x509.h"

#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define X509_MAX_ATTR 1024   /* bytes of one subject attribute */

int server_x509_trust_load(const char *path, gnutls_x509_trust_list_t *out, char **pem_acc,
			   char *err, size_t errlen)
{
	struct dynbuf pem;
	gnutls_datum_t d;
	gnutls_x509_trust_list_t list = NULL;
	size_t old = *pem_acc ? strlen(*pem_acc) : 0;
	int n, rc = ERR_IO;

	dynbuf_init(&pem, DYN_CONFIG_FILE);
	if (dynbuf_read_file(&pem, path) != 0 || pem.len == 0) {
		snprintf(err, errlen, "unable to read client-ca bundle %s", path);
		goto out;
	}
	if (gnutls_x509_trust_list_init(&list, 0) < 0) {
		snprintf(err, errlen, "cannot create a trust list");
		goto out;
	}
	d.data = (unsigned char *)pem.buf;
	d.size = (unsigned)pem.len;
	n = gnutls_x509_trust_list_add_trust_mem(list, &d, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
	if (n <= 0) {
		snprintf(err, errlen, "%s: no valid PEM certificate found", path);
		rc = ERR_PARSE;
		goto out;
	}
	*pem_acc = xrealloc(*pem_acc, old + pem.len + 2);
	memcpy(*pem_acc + old, pem.buf, pem.len);
	(*pem_acc)[old + pem.len] = '\n';
	(*pem_acc)[old + pem.len + 1] = '\0';
	*out = list;
	list = NULL;
	rc = 0;
out:
	if (list)
		gnutls_x509_trust_list_deinit(list, 1);
	dynbuf_release(&pem);
	return rc;
}

int server_x509_chain_from_session(gnutls_session_t session, struct server_x509_chain *c,
				   char *err, size_t errlen)
{
	unsigned n = 0;
	const gnutls_datum_t *peers = gnutls_certificate_get_peers(session, &n);

	memset(c, 0, sizeof(*c));
	if (!peers || n == 0 || gnutls_certificate_type_get(session) != GNUTLS_CRT_X509)
		return 0;
	if (n > SERVER_X509_MAX_CHAIN) {
		snprintf(err, errlen, "client presented %u certificates (limit %d)", n,
			 SERVER_X509_MAX_CHAIN);
		return ERR_TOOBIG;
	}
	for (unsigned i = 0; i < n; i++) {
		if (gnutls_x509_crt_init(&c->crt[i]) < 0 ||
		    gnutls_x509_crt_import(c->crt[i], &peers[i], GNUTLS_X509_FMT_DER) < 0) {
			c->n = i + 1;
			server_x509_chain_release(c);
			snprintf(err, errlen, "x509: malformed certificate");
			return ERR_PARSE;
		}
	}
	c->n = n;
	return 0;
}

void server_x509_chain_release(struct server_x509_chain *c)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->crt[i])
			gnutls_x509_crt_deinit(c->crt[i]);
	memset(c, 0, sizeof(*c));
}

/* Go's wording for the common verification failures. */
static const char *verify_reason(unsigned status)
{
	if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
		return "x509: certificate has expired or is not yet valid";
	if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		return "x509: certificate specifies an incompatible key usage";
	if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNATURE_FAILURE |
		      GNUTLS_CERT_SIGNER_NOT_CA))
		return "x509: certificate signed by unknown authority";
	return "x509: certificate verification failed";
}

int server_x509_verify_client(gnutls_x509_trust_list_t trust, const struct server_x509_chain *c,
			      char *err, size_t errlen)
{
	gnutls_typed_vdata_st purpose = {
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
		.size = 0,
	};
	gnutls_x509_crt_t chain[SERVER_X509_MAX_CHAIN];
	unsigned status = 0;
	int rc;

	memcpy(chain, c->crt, c->n * sizeof(chain[0]));
	rc = gnutls_x509_trust_list_verify_crt2(trust, chain, c->n, &purpose, 1, 0, &status, NULL);
	if (rc < 0) {
		snprintf(err, errlen, "x509: %s", gnutls_strerror(rc));
		return ERR_TLS;
	}
	if (status != 0) {
		snprintf(err, errlen, "%s", verify_reason(status));
		return ERR_TLS;
	}
	return 0;
}

char *server_x509_subject_attr(gnutls_x509_crt_t crt, const char *oid, unsigned idx)
{
	char buf[X509_MAX_ATTR];
	size_t len = sizeof(buf);

	if (gnutls_x509_crt_get_dn_by_oid(crt, oid, idx, 0, buf, &len) < 0)
		return NULL;
	return xstrndup(buf, len);
}

char *server_x509_credential_id(gnutls_x509_crt_t crt)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[32];
	char out[sizeof("X509SHA256=") + 64];
	gnutls_datum_t der = { NULL, 0 };
	size_t pos = strlen("X509SHA256=");

	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) < 0)
		return NULL;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, digest) < 0) {
		gnutls_free(der.data);
		return NULL;
	}
	gnutls_free(der.data);
	memcpy(out, "X509SHA256=", pos);
	for (size_t i = 0; i < sizeof(digest); i++) {
		out[pos++] = hex[digest[i] >> 4];
		out[pos++] = hex[digest[i] & 15];
	}
	out[pos] = '\0';
	return xstrdup(out);
}
