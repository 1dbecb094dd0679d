/*
 * x509.h - private to server/: client-certificate checks with GnuTLS
 * (trust bundles, chain verification for clientAuth, subject fields).
 */
#ifndef SERVER_X509_H
#define SERVER_X509_H

#include <stddef.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define SERVER_X509_MAX_CHAIN 8   /* certificates accepted from one peer */

/* A verified-or-not peer chain, leaf first. */
struct server_x509_chain {
	gnutls_x509_crt_t crt[SERVER_X509_MAX_CHAIN];
	unsigned n;
};

/*
 * Loads the PEM bundle at path into a new trust list and appends its text
 * to *pem_acc (a NUL-terminated string, realloc'ed; may start NULL).  0, or
 * an error with a message in err.
 */
int server_x509_trust_load(const char *path, gnutls_x509_trust_list_t *out, char **pem_acc,
			   char *err, size_t errlen);

/* Imports the peer chain of session.  0 (n may be 0: no certificate), or
 * ERR_PARSE / ERR_TOOBIG with a message in err. */
int server_x509_chain_from_session(gnutls_session_t session, struct server_x509_chain *c,
				   char *err, size_t errlen);
void server_x509_chain_release(struct server_x509_chain *c);

/* Verifies c against trust for TLS client authentication at the current
 * time.  0, or ERR_TLS with Go-like text in err. */
int server_x509_verify_client(gnutls_x509_trust_list_t trust, const struct server_x509_chain *c,
			      char *err, size_t errlen);

/* Subject attribute idx of oid (CN, O) as a new string, or NULL. */
char *server_x509_subject_attr(gnutls_x509_crt_t crt, const char *oid, unsigned idx);

/* "X509SHA256=<lower hex of the DER's SHA-256>" as a new string. */
char *server_x509_credential_id(gnutls_x509_crt_t crt);

#endif
