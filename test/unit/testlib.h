/*
 * testlib.h - fixtures several Check suites share (linked into every
 * build/test/check_* binary): test certificates and a fake HTTPS server
 * on 127.0.0.1.  Each helper fails the running test on error.
 */
#ifndef TEST_UNIT_TESTLIB_H
#define TEST_UNIT_TESTLIB_H

#include <microhttpd.h>
#include <stdint.h>

#include "certs/certs.h"

/* certs_create(spec, issuer, out); the test fails with certs' message. */
void testlib_cert(const struct certs_spec *spec, const struct certs_pair *issuer,
		  struct certs_pair *out);

/*
 * Starts a libmicrohttpd HTTPS daemon on 127.0.0.1 and an ephemeral port
 * serving `server` (MHD_USE_TLS and MHD_USE_ERROR_LOG are added to flags).
 * trust_pem (or NULL) is the CA whose client certificates it asks for;
 * extra (or NULL) holds more options, ending with MHD_OPTION_END.  Sets
 * *port; the caller stops the daemon with MHD_stop_daemon().
 */
struct MHD_Daemon *testlib_https_daemon(unsigned int flags, MHD_AccessHandlerCallback handler,
					void *cls, const struct certs_pair *server,
					const char *trust_pem, const struct MHD_OptionItem *extra,
					uint16_t *port);

#endif
