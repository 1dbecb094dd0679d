/*
 * certs.h - the public face of certs/: TLS material with GnuTLS' x509 API.
 *
 * Keys are ECDSA P-256 (fast to generate and sign, accepted by Go and
 * curl).  PEM strings returned here are owned by the caller (free them
 * with certs_pair_release); private keys are written 0600.
 */
#ifndef CERTS_H
#define CERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

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
	int days;                 /* validity; 0 = 365 */
};

/*
 * Creates a key and a certificate for spec, signed by issuer (NULL =
 * self-signed).  0, or an error code with text in err (out untouched).
 */
int certs_create(const struct certs_spec *spec, const struct certs_pair *issuer,
		 struct certs_pair *out, char *err, size_t errlen) COMMON_WUR;
void certs_pair_release(struct certs_pair *p);

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

#endif
