/*
 * certs_int.h - private to certs/: what its files share.
 */
#ifndef CERTS_INT_H
#define CERTS_INT_H

#include <stdbool.h>

#include "certs/certs.h"

struct certs_trust {
	gnutls_x509_trust_list_t tl;
	char *pem;  /* the text loaded, NULL for the system store */
};

/*
 * Go's Certificate.VerifyHostname(host) on crt and, on a mismatch, its
 * HostnameError text in err.  0 or ERR_TLS.
 */
int certs__verify_hostname(gnutls_x509_crt_t crt, const char *host, char *err, size_t errlen);

/* Appends s to out as Go's %q would print it (ASCII escapes; bytes >= 0x80
 * are kept as they are).  Truncates silently at outlen. */
void certs__go_quote(const char *s, char *out, size_t outlen);

/* Go's name for a certificate in UnknownAuthorityError: the subject CN,
 * else the first O, else "serial:<decimal serial>". */
void certs__hint_name(gnutls_x509_crt_t crt, char *out, size_t outlen);

/*
 * Go's Certificate.CheckSignatureFrom(parent) for child: NULL when parent
 * may sign and did sign child, else Go's error text (in buf, or static).
 */
const char *certs__check_signature_from(gnutls_x509_crt_t child, gnutls_x509_crt_t parent,
					char *buf, size_t buflen);

#endif
