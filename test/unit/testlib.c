/*
 * testlib.c - fixtures several Check suites share: test certificates and
 * a fake HTTPS server (libmicrohttpd over GnuTLS) on 127.0.0.1.
 */
#include "test/unit/testlib.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>

void testlib_cert(const struct certs_spec *spec, const struct certs_pair *issuer,
		  struct certs_pair *out)
{
	char err[256];

	ck_assert_msg(certs_create(spec, issuer, out, err, sizeof(err)) == 0, "%s: %s", spec->cn,
		      err);
}

void testlib_cert_files(const char *dir, const char *name, const char *cn, const char *org,
			const struct certs_pair *issuer, struct certs_pair *out)
{
	const char *const orgs[] = { org };
	struct certs_spec spec = { .cn = cn, .orgs = orgs, .norgs = org ? 1 : 0,
				   .is_ca = !issuer, .client_auth = issuer != NULL };
	char *path;

	testlib_cert(&spec, issuer, out);
	path = xasprintf("%s/%s.crt", dir, name);
	ck_assert_int_eq(certs_write_file(path, out->cert_pem, 0600), 0);
	free(path);
	path = xasprintf("%s/%s.key", dir, name);
	ck_assert_int_eq(certs_write_file(path, out->key_pem, 0600), 0);
	free(path);
}

struct MHD_Daemon *testlib_https_daemon(unsigned int flags, MHD_AccessHandlerCallback handler,
					void *cls, const struct certs_pair *server,
					const char *trust_pem, const struct MHD_OptionItem *extra,
					uint16_t *port)
{
	static const struct MHD_OptionItem none[] = { { MHD_OPTION_END, 0, NULL } };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;

	/* MHD_OPTION_HTTPS_MEM_TRUST with NULL would be refused: leave it out. */
	d = MHD_start_daemon(flags | MHD_USE_TLS | MHD_USE_ERROR_LOG, 0, NULL, NULL, handler, cls,
			     MHD_OPTION_HTTPS_MEM_KEY, server->key_pem,
			     MHD_OPTION_HTTPS_MEM_CERT, server->cert_pem,
			     MHD_OPTION_SOCK_ADDR, &sa,
			     MHD_OPTION_ARRAY, extra ? extra : none,
			     trust_pem ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, trust_pem,
			     MHD_OPTION_END);
	ck_assert_msg(d != NULL, "cannot start the HTTPS test server");
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	ck_assert_ptr_nonnull(info);
	ck_assert_uint_gt(info->port, 0);
	*port = info->port;
	return d;
}
