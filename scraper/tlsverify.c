/*
 * tlsverify.c - checks kubelet certificates against one shared trust list.
 *
 * GnuTLS is not asked to verify (that would need the CA in the shared
 * credentials and a check per handshake); conn.c calls
 * scraper__verify_peer() after the handshake, before any byte of the
 * request (and its bearer token) is sent, and it checks the peer's chain
 * here, against a trust list parsed once, with Go's order and words:
 * validity period, then the host name or IP (SANs only, as Go since
 * 1.15), then the chain to a trusted root for server authentication.  A leaf that passed is remembered per node
 * (its DER bytes) for a while, so a reused connection costs a memcmp.
 */
#include "scraper/scraper_int.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHAIN 16
#define REVERIFY_NS (10 * 60 * NS_PER_SEC) /* a passed leaf is trusted this long at most */

struct scraper__verifier {
	gnutls_x509_trust_list_t tl;
};

struct scraper__verifier *scraper__verifier_new(const char *ca_file, const char *ca_data,
						char *err, size_t errlen)
{
	struct scraper__verifier *v = xcalloc(1, sizeof(*v));
	int rc;

	if (gnutls_x509_trust_list_init(&v->tl, 0) < 0) {
		snprintf(err, errlen, "cannot create a trust list");
		free(v);
		return NULL;
	}
	if (ca_file) {
		rc = gnutls_x509_trust_list_add_trust_file(v->tl, ca_file, NULL, GNUTLS_X509_FMT_PEM,
							   0, 0);
	} else if (ca_data) {
		gnutls_datum_t d = {(unsigned char *)ca_data, (unsigned)strlen(ca_data)};
		rc = gnutls_x509_trust_list_add_trust_mem(v->tl, &d, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
	} else {
		rc = gnutls_x509_trust_list_add_system_trust(v->tl, 0, 0);
	}
	if (rc <= 0) {
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
	gnutls_x509_trust_list_deinit(v->tl, 1);
	free(v);
}

void scraper__tls_seen_release(struct scraper__tls_seen *seen)
{
	free(seen->der);
	memset(seen, 0, sizeof(*seen));
}

/* ---- the host check, in Go's words --------------------------------------- */

/* Appends the leaf's IP (want_ip) or DNS SANs to out, ", "-separated. */
static void list_sans(gnutls_x509_crt_t crt, bool want_ip, char *out, size_t outlen)
{
	size_t used = strlen(out);

	for (unsigned i = 0; i < 64; i++) {
		unsigned char san[256];
		size_t len = sizeof(san);
		char text[INET6_ADDRSTRLEN];
		const char *item = NULL;
		int type = gnutls_x509_crt_get_subject_alt_name(crt, i, san, &len, NULL);

		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type < 0)
			continue;
		if (want_ip && type == GNUTLS_SAN_IPADDRESS && (len == 4 || len == 16)) {
			item = inet_ntop(len == 4 ? AF_INET : AF_INET6, san, text, sizeof(text));
		} else if (!want_ip && type == GNUTLS_SAN_DNSNAME && len < sizeof(san)) {
			san[len] = '\0';
			item = (const char *)san;
		}
		if (!item)
			continue;
		int w = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", item);
		if (w < 0 || (size_t)w >= outlen - used)
			break;
		used += (size_t)w;
	}
}

/* 0 when the leaf is valid for host (an IP literal or a DNS name). */
static int check_host(gnutls_x509_crt_t crt, const char *host, char *err, size_t errlen)
{
	unsigned char ip[16];
	char valid[512] = "";
	int fam = strchr(host, ':') ? AF_INET6 : AF_INET;
	bool is_ip = inet_pton(fam, host, ip) == 1;

	if (is_ip ? gnutls_x509_crt_check_ip(crt, ip, fam == AF_INET ? 4 : 16, 0)
		  : gnutls_x509_crt_check_hostname2(crt, host, 0))
		return 0;
	list_sans(crt, is_ip, valid, sizeof(valid));
	if (is_ip && !valid[0])
		snprintf(err, errlen,
			 "x509: cannot validate certificate for %s because it doesn't contain any IP SANs",
			 host);
	else if (!valid[0])
		snprintf(err, errlen,
			 "x509: certificate is not valid for any names, but wanted to match %s", host);
	else
		snprintf(err, errlen, "x509: certificate is valid for %s, not %s", valid, host);
	return ERR_TLS;
}

/* ---- the chain ------------------------------------------------------------- */

static void status_text(unsigned status, char *err, size_t errlen)
{
	gnutls_datum_t out = {NULL, 0};

	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		snprintf(err, errlen, "x509: certificate signed by unknown authority");
	else if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
		snprintf(err, errlen, "x509: certificate has expired or is not yet valid");
	else if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
		snprintf(err, errlen, "x509: certificate specifies an incompatible key usage");
	else if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) == 0) {
		snprintf(err, errlen, "x509: %s", (const char *)out.data);
		gnutls_free(out.data);
	} else {
		snprintf(err, errlen, "x509: certificate verification failed");
	}
}

/* 0 when the chain is good for host; *expires: the leaf's notAfter (unix s). */
static int verify_chain(struct scraper__verifier *v, const gnutls_datum_t *der, unsigned n,
			const char *host, int64_t *expires, char *err, size_t errlen)
{
	gnutls_x509_crt_t crts[MAX_CHAIN];
	gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
					 (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER, 0};
	unsigned status = 0, got = 0;
	int rc = ERR_TLS;

	if (n > MAX_CHAIN)
		n = MAX_CHAIN;
	for (; got < n; got++) {
		if (gnutls_x509_crt_init(&crts[got]) < 0)
			break;
		if (gnutls_x509_crt_import(crts[got], &der[got], GNUTLS_X509_FMT_DER) < 0) {
			gnutls_x509_crt_deinit(crts[got]);
			break;
		}
	}
	if (got == 0) {
		snprintf(err, errlen, "x509: malformed certificate");
		return ERR_TLS;
	}
	if (gnutls_x509_trust_list_verify_crt2(v->tl, crts, got, &purpose, 1, 0, &status, NULL) < 0) {
		snprintf(err, errlen, "x509: certificate verification failed");
	} else if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED)) {
		status_text(status, err, errlen); /* Go checks the period first */
	} else if (check_host(crts[0], host, err, errlen) == 0) {
		if (status == 0) {
			*expires = (int64_t)gnutls_x509_crt_get_expiration_time(crts[0]);
			rc = 0;
		} else
			status_text(status, err, errlen);
	}
	for (unsigned i = 0; i < got; i++)
		gnutls_x509_crt_deinit(crts[i]);
	return rc;
}

int scraper__verify_peer(struct scraper__verifier *v, gnutls_session_t session, const char *host,
			 struct scraper__tls_seen *seen, char *err, size_t errlen)
{
	const gnutls_datum_t *der;
	unsigned n = 0;
	int64_t now = clock_mono_ns(), expires = 0, left;

	der = gnutls_certificate_get_peers(session, &n);
	if (!der || n == 0) {
		snprintf(err, errlen, "tls: the server sent no certificate");
		return ERR_TLS;
	}
	if (seen->der && seen->len == der[0].size && now < seen->until_mono &&
	    strcmp(seen->host, host) == 0 && memcmp(seen->der, der[0].data, seen->len) == 0)
		return 0;
	if (verify_chain(v, der, n, host, &expires, err, errlen) != 0)
		return ERR_TLS;
	left = (expires - clock_now_ns() / NS_PER_SEC) * NS_PER_SEC; /* never past notAfter */
	scraper__tls_seen_release(seen);
	seen->der = xmalloc(der[0].size ? der[0].size : 1);
	memcpy(seen->der, der[0].data, der[0].size);
	seen->len = der[0].size;
	seen->until_mono = now + (left < REVERIFY_NS ? left : REVERIFY_NS);
	snprintf(seen->host, sizeof(seen->host), "%s", host);
	return 0;
}
