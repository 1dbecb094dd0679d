/*
 * tlsverify.c - checks kubelet certificates against one shared trust.
 *
 * GnuTLS is not asked to verify (that would need the CA in the shared
 * credentials and a check per handshake); conn.c calls
 * scraper__verify_peer() after the handshake, before any byte of the
 * request (and its bearer token) is sent.  The check itself, with Go's
 * order and words, is certs_verify() for server authentication and the
 * node's address.  A leaf that passed is remembered per node (its DER
 * bytes) for a while, so a reused connection costs a memcmp.
 */
#include "scraper/scraper_int.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certs/certs.h"

#define REVERIFY_NS (10 * 60 * NS_PER_SEC) /* a passed leaf is trusted this long at most */

struct scraper__verifier {
	struct certs_trust *trust;
};

struct scraper__verifier *scraper__verifier_new(const char *ca_file, const char *ca_data,
						char *err, size_t errlen)
{
	struct scraper__verifier *v = xcalloc(1, sizeof(*v));
	int rc;

	if (ca_file)
		rc = certs_trust_load_file(ca_file, &v->trust);
	else if (ca_data)
		rc = certs_trust_load_pem(ca_data, strlen(ca_data), &v->trust);
	else
		rc = certs_trust_load_system(&v->trust);
	if (rc != 0) {
		snprintf(err, errlen, "no CA certificate could be read from %s%s%s",
			 ca_file ? "\"" : "", ca_file ? ca_file : ca_data ? "the CA data" : "the system store",
			 ca_file ? "\"" : "");
		scraper__verifier_free(v);
		return NULL;
	}
	return v;
}

void scraper__verifier_free(struct scraper__verifier *v)
{
	if (!v)
		return;
	certs_trust_free(v->trust);
	free(v);
}

void scraper__tls_seen_clear(struct scraper__tls_seen *seen)
{
	free(seen->der);
	free(seen->host);
	memset(seen, 0, sizeof(*seen));
}

int scraper__verify_chain(const struct scraper__verifier *v, const struct certs_chain *chain,
			  const char *host, int64_t *expires, char *err, size_t errlen)
{
	if (certs_verify(v->trust, chain, host, CERTS_SERVER_AUTH, err, errlen) != 0)
		return ERR_TLS;
	*expires = (int64_t)gnutls_x509_crt_get_expiration_time(chain->crt[0]);
	return 0;
}

int scraper__verify_peer(struct scraper__verifier *v, gnutls_session_t session, const char *host,
			 struct scraper__tls_seen *seen, char *err, size_t errlen)
{
	const gnutls_datum_t *der;
	unsigned n = 0;
	int64_t now = clock_mono_ns(), expires = 0, left;
	struct certs_chain chain;
	int rc;

	der = gnutls_certificate_get_peers(session, &n);
	if (!der || n == 0) {
		snprintf(err, errlen, "tls: the server sent no certificate");
		return ERR_TLS;
	}
	if (seen->der && seen->len == der[0].size && now < seen->until_mono &&
	    strcmp(seen->host, host) == 0 && memcmp(seen->der, der[0].data, seen->len) == 0)
		return 0;
	if (n > CERTS_MAX_CHAIN)
		n = CERTS_MAX_CHAIN; /* the leaf's path is at the front */
	if (certs_chain_import_der(&chain, der, n, CERTS_MAX_CHAIN, "the server", err, errlen) != 0)
		return ERR_TLS;
	rc = scraper__verify_chain(v, &chain, host, &expires, err, errlen);
	certs_chain_clear(&chain);
	if (rc != 0)
		return ERR_TLS;
	left = expires - clock_now_ns() / NS_PER_SEC; /* never past notAfter; no overflow for 9999 */
	left = left < REVERIFY_NS / NS_PER_SEC ? left * NS_PER_SEC : REVERIFY_NS;
	scraper__tls_seen_clear(seen);
	seen->der = xmalloc(der[0].size ? der[0].size : 1);
	memcpy(seen->der, der[0].data, der[0].size);
	seen->len = der[0].size;
	seen->until_mono = now + left;
	seen->host = xstrdup(host);
	return 0;
}
