/*
 * tls_int.h - private to server/: the --tls-* serving flags as GnuTLS
 * settings (flags_tls.c), for the daemon (http.c), start-up (run.c) and
 * the flag checks (flags.c).
 */
#ifndef SERVER_TLS_INT_H
#define SERVER_TLS_INT_H

#include "server/server.h"

#define SERVER_TLS_MAX_SUITES 32

/* A TLS 1.2 (or older) cipher suite as GnuTLS ids (gnutls_kx_algorithm_t,
 * gnutls_cipher_algorithm_t, gnutls_mac_algorithm_t). */
struct server_tls_suite {
	int kx, cipher, mac;
};

/* --tls-min-version, --tls-cipher-suites, --tls-curve-preferences as GnuTLS
 * settings.  As in Go, the cipher suites restrict TLS 1.2 and older only. */
struct server_tls {
	char *priorities;          /* GnuTLS priority string (owned) */
	bool restrict_suites;      /* only suites[] may be used below TLS 1.3 */
	size_t nsuites;
	struct server_tls_suite suites[SERVER_TLS_MAX_SUITES];
	char *unavailable;         /* Go names accepted but not offered here, or NULL */
};

/*
 * Builds *t from the serving flags as SecureServingOptions.ApplyTo checks
 * them: unknown cipher suite names, bad curve ids and unknown TLS versions
 * fail with Go's texts ("Cipher suite X not supported or doesn't exist",
 * "unknown tls version \"X\"").  0 (clear t afterwards) or ERR_INVAL.
 */
int server__tls_build(const struct server_serving_flags *s, struct server_tls *t, char *err,
		     size_t errlen) COMMON_WUR;
void server__tls_clear(struct server_tls *t);
/* Whether a connection below TLS 1.3 that negotiated kx/cipher/mac may go on. */
bool server__tls_suite_allowed(const struct server_tls *t, int kx, int cipher, int mac);

/* --strict-transport-security-directives as the header's value (joined
 * with "; "), or NULL when none; free() it. */
char *server__hsts_header(const struct server_generic_flags *g);

#endif
