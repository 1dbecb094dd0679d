/*
 * certs.h - the public face of certs/: TLS material with GnuTLS' x509 API.
 *
 * Keys are ECDSA P-256 (fast to generate and sign, accepted by Go and
 * curl).  PEM strings returned here are owned by the caller (free them
 * with certs_pair_clear); private keys are written 0600.
 *
 * Also the one verifier of peer certificates (kubelet serving certificates
 * in scraper/, client certificates in server/): trust lists, peer chains,
 * and Go's crypto/x509 Certificate.Verify order and error texts.
 */
#ifndef CERTS_H
#define CERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "common/common.h"

struct certs_pair {
	char *cert_pem;
	char *key_pem;
};

struct certs_spec {
	const char *cn;
	const char *const *orgs;  /* Subject O values */
	size_t norgs;
	const char *const *dns;   /* DNS SANs */
	size_t ndns;
	const char *const *ips;   /* IP SANs (v4 or v6 text) */
	size_t nips;
	bool is_ca;
	bool server_auth;         /* ExtKeyUsage serverAuth */
	bool client_auth;         /* ExtKeyUsage clientAuth */
	const char *const *ekus;  /* more ExtKeyUsage OIDs */
	size_t nekus;
	int days;                 /* validity; 0 = 365 */
	int64_t not_before;       /* unix seconds; 0 = an hour ago */
};

/*
 * Creates a key and a certificate for spec, signed by issuer (NULL =
 * self-signed).  0, or an error code with text in err (out untouched).
 */
int certs_create(const struct certs_spec *spec, const struct certs_pair *issuer,
		 struct certs_pair *out, char *err, size_t errlen) COMMON_WUR;
void certs_pair_clear(struct certs_pair *p);

/* Writes pem to path atomically with the given mode. 0 or ERR_IO. */
int certs_write_file(const char *path, const char *pem, mode_t mode) COMMON_WUR;

/*
 * metrics-server behaviour when no --tls-cert-file is given: a self-signed
 * certificate for "localhost" + 127.0.0.1 in dir as apiserver.crt /
 * apiserver.key (key 0600), reused when both files already exist.
 * *cert_path / *key_path are new strings.  0, or an error with text in err.
 */
int certs_ensure_self_signed(const char *dir, char **cert_path, char **key_path, char *err,
			     size_t errlen) COMMON_WUR;

/* Subject CN of the first certificate in pem, new string or NULL. */
char *certs_subject_cn(const char *pem);

/* Subject attribute idx of oid (GNUTLS_OID_X520_COMMON_NAME, ..._ORGANIZATION_NAME)
 * of crt as a new string, or NULL when absent or longer than 1 KiB. */
char *certs_subject_attr(gnutls_x509_crt_t crt, const char *oid, unsigned idx);

/* ---- trust lists ------------------------------------------------------------ */

/* A set of trusted roots.  Immutable once loaded: any number of threads may
 * verify against one trust at the same time. */
struct certs_trust;

/*
 * Loads every certificate of the PEM bundle at path (at most DYN_CONFIG_FILE
 * bytes) into a new trust, owned by the caller (certs_trust_free).  0, or
 * ERR_IO (unreadable or empty), ERR_TOOBIG (past the cap), ERR_PARSE (no
 * PEM certificate in it); *out is untouched on failure.  Callers word the
 * error themselves.
 */
int certs_trust_load_file(const char *path, struct certs_trust **out) COMMON_WUR;
/* The same from len bytes of PEM in memory (kubeconfig CA data); ERR_PARSE
 * or ERR_TOOBIG on failure. */
int certs_trust_load_pem(const char *pem, size_t len, struct certs_trust **out) COMMON_WUR;
/* The system's trust store.  0, or ERR_PARSE when it has no certificate. */
int certs_trust_load_system(struct certs_trust **out) COMMON_WUR;
/* The PEM text t was loaded from (NUL-terminated, owned by t), or NULL for
 * the system store. */
const char *certs_trust_pem(const struct certs_trust *t);
/* Destroys t; NULL is a no-op. */
void certs_trust_free(struct certs_trust *t);

/* ---- peer chains -------------------------------------------------------------- */

#define CERTS_MAX_CHAIN 16

/* A peer's certificates as sent, leaf first; embedded, emptied with
 * certs_chain_clear. */
struct certs_chain {
	gnutls_x509_crt_t crt[CERTS_MAX_CHAIN];
	unsigned n;
};

/*
 * Parses n DER certificates into c (overwritten).  0; ERR_TOOBIG when n > max
 * (max <= CERTS_MAX_CHAIN) with "<who> presented N certificates (limit M)"
 * in err; ERR_PARSE with "x509: malformed certificate".  On failure c is
 * empty.
 */
int certs_chain_import_der(struct certs_chain *c, const gnutls_datum_t *der, unsigned n,
			   unsigned max, const char *who, char *err, size_t errlen) COMMON_WUR;
/* The peer chain of a session whose handshake is done, as above; a peer
 * without an X.509 certificate gives 0 and an empty chain. */
int certs_chain_from_session(gnutls_session_t session, unsigned max, const char *who,
			     struct certs_chain *c, char *err, size_t errlen) COMMON_WUR;
/* Every certificate of a PEM bundle (leaf first) into c; 0 or ERR_PARSE /
 * ERR_TOOBIG with text in err, c empty on failure. */
int certs_chain_from_pem(struct certs_chain *c, const char *pem, char *err,
			 size_t errlen) COMMON_WUR;
/* Frees the certificates of c and leaves it empty (n = 0). */
void certs_chain_clear(struct certs_chain *c);

/* ---- verification ------------------------------------------------------------- */

enum certs_purpose {
	CERTS_SERVER_AUTH,  /* ExtKeyUsage serverAuth: a kubelet's certificate */
	CERTS_CLIENT_AUTH,  /* ExtKeyUsage clientAuth: a client certificate */
};

/*
 * Go's crypto/x509 Certificate.Verify of c (leaf first, the rest used as
 * intermediates) against t at the real time (never the fake clock of
 * clock_set_fake_now): the leaf's validity period,
 * then host (an IP literal, optionally in [], or a DNS name; NULL or "" =
 * no name check, as for client certificates), then a chain to t, then the
 * purpose.  0, or ERR_TLS with Go's error text in err ("x509: certificate
 * signed by unknown authority", ...).  Thread-safe for a shared t.
 */
int certs_verify(const struct certs_trust *t, const struct certs_chain *c, const char *host,
		 enum certs_purpose purpose, char *err, size_t errlen) COMMON_WUR;

#endif
