/*
 * trust.c - trust lists (capped PEM bundles from a file or memory, or the
 * system store) and peer chains parsed from DER, a session or PEM.
 */
#include "certs/certs_int.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CERTS_MAX_ATTR 1024  /* bytes of one subject attribute */

/* ---- trust ------------------------------------------------------------------ */

/* PEM into a new trust that keeps a copy of the text.  0 or ERR_PARSE. */
static int trust_from_pem(const char *pem, size_t len, struct certs_trust **out)
{
	struct certs_trust *t = xcalloc(1, sizeof(*t));
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned)len };

	if (gnutls_x509_trust_list_init(&t->tl, 0) < 0 ||
	    gnutls_x509_trust_list_add_trust_mem(t->tl, &d, NULL, GNUTLS_X509_FMT_PEM, 0, 0) <= 0) {
		certs_trust_free(t);
		return ERR_PARSE;
	}
	t->pem = xstrndup(pem, len);
	*out = t;
	return 0;
}

int certs_trust_load_file(const char *path, struct certs_trust **out)
{
	struct dynbuf pem;
	int rc;

	dynbuf_init(&pem, DYN_CONFIG_FILE);
	rc = dynbuf_read_file(&pem, path);
	if (rc == 0 && pem.len == 0)
		rc = ERR_IO;
	if (rc == 0)
		rc = trust_from_pem(pem.buf, pem.len, out);
	dynbuf_clear(&pem);
	return rc;
}

int certs_trust_load_pem(const char *pem, size_t len, struct certs_trust **out)
{
	if (len > DYN_CONFIG_FILE)
		return ERR_TOOBIG;
	return trust_from_pem(pem, len, out);
}

int certs_trust_load_system(struct certs_trust **out)
{
	struct certs_trust *t = xcalloc(1, sizeof(*t));

	if (gnutls_x509_trust_list_init(&t->tl, 0) < 0 ||
	    gnutls_x509_trust_list_add_system_trust(t->tl, 0, 0) <= 0) {
		certs_trust_free(t);
		return ERR_PARSE;
	}
	*out = t;
	return 0;
}

const char *certs_trust_pem(const struct certs_trust *t)
{
	return t->pem;
}

void certs_trust_free(struct certs_trust *t)
{
	if (!t)
		return;
	if (t->tl)
		gnutls_x509_trust_list_deinit(t->tl, 1);
	free(t->pem);
	free(t);
}

/* ---- chains ----------------------------------------------------------------- */

int certs_chain_import_der(struct certs_chain *c, const gnutls_datum_t *der, unsigned n,
			   unsigned max, const char *who, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (max > CERTS_MAX_CHAIN)
		max = CERTS_MAX_CHAIN;
	if (n > max) {
		snprintf(err, errlen, "%s presented %u certificates (limit %u)", who, n, max);
		return ERR_TOOBIG;
	}
	for (; c->n < n; c->n++) {
		bool ok = gnutls_x509_crt_init(&c->crt[c->n]) >= 0;

		if (!ok)
			break;
		if (gnutls_x509_crt_import(c->crt[c->n], &der[c->n], GNUTLS_X509_FMT_DER) < 0) {
			c->n++; /* freed by the clear below */
			certs_chain_clear(c);
			snprintf(err, errlen, "x509: malformed certificate");
			return ERR_PARSE;
		}
	}
	if (c->n == n)
		return 0;
	certs_chain_clear(c);
	snprintf(err, errlen, "x509: malformed certificate");
	return ERR_PARSE;
}

int certs_chain_from_session(gnutls_session_t session, unsigned max, const char *who,
			     struct certs_chain *c, char *err, size_t errlen)
{
	unsigned n = 0;
	const gnutls_datum_t *peers = gnutls_certificate_get_peers(session, &n);

	memset(c, 0, sizeof(*c));
	if (!peers || n == 0 || gnutls_certificate_type_get(session) != GNUTLS_CRT_X509)
		return 0;
	return certs_chain_import_der(c, peers, n, max, who, err, errlen);
}

int certs_chain_from_pem(struct certs_chain *c, const char *pem, char *err, size_t errlen)
{
	gnutls_datum_t d = { (unsigned char *)pem, (unsigned)strnlen(pem, DYN_CONFIG_FILE) };
	unsigned n = CERTS_MAX_CHAIN;
	int rc;

	memset(c, 0, sizeof(*c));
	rc = gnutls_x509_crt_list_import(c->crt, &n, &d, GNUTLS_X509_FMT_PEM,
					 GNUTLS_X509_CRT_LIST_IMPORT_FAIL_IF_EXCEED);
	if (rc == GNUTLS_E_SHORT_MEMORY_BUFFER) {
		snprintf(err, errlen, "more than %d certificates", CERTS_MAX_CHAIN);
		return ERR_TOOBIG;
	}
	if (rc <= 0) {
		snprintf(err, errlen, "x509: malformed certificate");
		return ERR_PARSE;
	}
	c->n = (unsigned)rc;
	return 0;
}

void certs_chain_clear(struct certs_chain *c)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->crt[i])
			gnutls_x509_crt_deinit(c->crt[i]);
	memset(c, 0, sizeof(*c));
}

char *certs_subject_attr(gnutls_x509_crt_t crt, const char *oid, unsigned idx)
{
	char buf[CERTS_MAX_ATTR];
	size_t len = sizeof(buf);

	if (gnutls_x509_crt_get_dn_by_oid(crt, oid, idx, 0, buf, &len) < 0)
		return NULL;
	return xstrndup(buf, len);
}
