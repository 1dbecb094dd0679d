/*
 * testlib.h - fixtures several Check suites share (linked into every
 * build/test/check_* binary): test certificates, a fake HTTPS server
 * on 127.0.0.1, a libcurl client of such servers and the real kubesim as
 * a child.  Each helper fails the running test on error.
 */
#ifndef TEST_UNIT_TESTLIB_H
#define TEST_UNIT_TESTLIB_H

#include <curl/curl.h>
#include <microhttpd.h>
#include <stdint.h>
#include <sys/types.h>

#include "certs/certs.h"

/* certs_create(spec, issuer, out); the test fails with certs' message. */
void testlib_cert(const struct certs_spec *spec, const struct certs_pair *issuer,
		  struct certs_pair *out);

/* A client certificate for cn (organisation org, or none) signed by
 * issuer, or a self-signed CA when issuer is NULL, written as
 * dir/name.crt and dir/name.key (0600) and returned in *out. */
void testlib_cert_files(const char *dir, const char *name, const char *cn, const char *org,
			const struct certs_pair *issuer, struct certs_pair *out);

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

/* What testlib_request saw (the body cut at its size). */
struct testlib_reply {
	long status;
	char body[4096];
	size_t len;
	char content_type[128];
	CURLcode rc;
	long connects; /* connections it opened: 0 when it reused one */
};

/* One request's options; every field may be left 0. */
struct testlib_call {
	const char *method;      /* NULL = GET */
	const char *cert;        /* client certificate dir/cert.crt, dir/cert.key, or NULL */
	const char *cacert;      /* verify the server against dir/cacert (NULL: no check) */
	const char *headers[4];  /* extra header lines */
	struct curl_slist *more; /* more header lines (borrowed) */
	long tls_max;            /* 0, or CURL_SSLVERSION_MAX_* to force */
	const char *body;        /* body_len bytes to POST (NULL: none) */
	size_t body_len;
};

/*
 * One request for url with c (or NULL: a plain GET), with files named in
 * dir, the test binary's name as User-Agent and a 20 s time-out.  On h
 * (kept, with its connection open for the next) or, h NULL, on a handle
 * of its own.
 */
struct testlib_reply testlib_request(CURL *h, const char *dir, const char *url,
				     const struct testlib_call *c);

/* r completed with status and exactly body. */
void testlib_assert_reply(const struct testlib_reply *r, long status, const char *body);

/* A TCP port free on 127.0.0.1 right now. */
int testlib_free_port(void);

/*
 * The real kubesim (the build folder's, next to this test binary) as a
 * child: dir is a mkdtemp template (filled in), nodes x pods, config
 * (YAML written to dir/cluster.yaml and passed as --config; NULL: none),
 * its kubelets on a free port, --parent-pid this process.  Returns once
 * kubesim says it is ready, with its server URL in url (urllen bytes; may
 * be NULL).  testlib_kubesim_stop() stops it and removes dir.
 */
pid_t testlib_kubesim_start(char *dir, int nodes, int pods, const char *config, char *url,
			    size_t urllen);
void testlib_kubesim_stop(pid_t pid, char *dir); /* dir: a template again after */

/*
 * A kube client of the kubesim started in dir, as its admin: from
 * dir/kubeconfig (what the server's --kubeconfig gives), its server
 * replaced by server when that is not NULL (e.g. an address where
 * nothing listens).  kube_client_free() it.
 */
struct kube_client;
struct kube_client *testlib_kubesim_client(const char *dir, const char *server);

#endif
