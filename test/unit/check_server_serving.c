/*
 * check_server_serving.c - serving flags honoured by the HTTPS daemon
 * (server/flags_tls.c + http.c); the flags are parsed as the command line
 * gives them and the daemon serves /livez on 127.0.0.1.
 *
 * --tls-min-version, --tls-cipher-suites, --tls-curve-preferences: GnuTLS
 * clients that offer only what the flags leave out get no answer.
 * Expectations are Go's crypto/tls behaviour: a minimum version refuses
 * older clients, the cipher suites restrict TLS 1.2 only (TLS 1.3 suites
 * are not configurable in Go), the curves restrict key exchange groups.
 * --max-requests-inflight: the generic apiserver's 429 with Retry-After;
 * --shutdown-send-retry-after: WithRetryAfter's 429 while draining;
 * --strict-transport-security-directives: the header, joined with "; ".
 * --tls-sni-cert-key: the certificate each server name gets (GnuTLS
 * clients with and without SNI), reloads, start-up errors.
 */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <pthread.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/server.h"
#include "server/tls_int.h"
#include "test/unit/testlib.h"
#include "test/unit/unit.h"

static struct server_config cfg;
static struct server_authn *authn;
static struct server_authz *authz;
static struct server_health health;
static struct certs_pair serving;
static struct server_tls tls;
static struct server_http *http;
static char *hsts;

static atomic_bool blocked, release;

/* Holds its request in flight until `release` (at most 10 s). */
static void block(void *ud, struct server_exchange *x)
{
	(void)ud;
	atomic_store(&blocked, true);
	for (int i = 0; i < 1000 && !atomic_load(&release); i++)
		usleep(10000);
	server_reply_text(x, 200, "released\n");
}

static const struct server_route routes[] = {
	{ "/livez", true, NULL, server_health_handler, &health },
	{ "/block", false, NULL, block, NULL },
};

static bool all_healthy(void *ud, const char *name, char *err, size_t len)
{
	(void)ud;
	(void)name;
	(void)err;
	(void)len;
	return true;
}

static void setup(void)
{
	struct certs_spec srv = { .cn = "localhost", .server_auth = true };

	server_config_init(&cfg);
	testlib_cert(&srv, NULL, &serving); /* an ECDSA P-256 key (certs.h) */
	health.check = all_healthy;
	atomic_store(&health.shutting_down, false);
	http = NULL;
}

static void teardown(void)
{
	server_http_stop(http);
	server_authz_free(authz);
	server_authn_free(authn);
	server__tls_clear(&tls);
	free(hsts);
	hsts = NULL;
	certs_pair_clear(&serving);
	server_config_clear(&cfg);
	authn = NULL;
	authz = NULL;
}

/* Parses the NULL-terminated flags, validates them, starts the daemon
 * with the TLS settings and --tls-sni-cert-key pairs they give (files
 * checked only by server_http_reload_certs); returns its port.  With err,
 * a daemon that does not start gives 0 and its text there. */
static int start_list(const char *const *args, char *err_out, size_t err_len)
{
	char *argv[16] = { "metrics-apiserver" };
	char err[512] = "";
	int argc = 1;

	for (const char *const *a = args; *a && argc < 15; a++)
		argv[argc++] = (char *)*a;
	ck_assert_int_eq(server_flags_parse(&cfg, argc, argv, err, sizeof(err)), 0);
	ck_assert_msg(server_config_validate(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(server__tls_build(&cfg.serving, &tls, err, sizeof(err)) == 0, "%s", err);
	authn = server_authn_new(&cfg.authn, err, sizeof(err));
	ck_assert_msg(authn != NULL, "%s", err);
	authz = server_authz_new(&(struct server_authz_options){ .flags = &cfg.authz });
	hsts = server__hsts_header(&cfg.generic);
	/* as run.c fills them */
	http = server_http_start(&(struct server_http_options){
		.bind_address = "127.0.0.1", .port = 0,
		.cert_pem = serving.cert_pem, .key_pem = serving.key_pem,
		.sni_cert_keys = &cfg.serving.tls_sni_cert_key, .reload_ns = -1,
		.routes = routes, .nroutes = COMMON_ARRAY_LEN(routes),
		.authn = authn, .authz = authz, .threads = 2, .timeout_s = 5, .tls = &tls,
		.max_requests_inflight = cfg.generic.max_requests_inflight,
		.max_mutating_requests_inflight = cfg.generic.max_mutating_requests_inflight,
		.hsts = hsts, .reuse_port = cfg.serving.permit_port_sharing,
	}, err, sizeof(err));
	if (err_out && !http) {
		snprintf(err_out, err_len, "%s", err);
		return 0;
	}
	ck_assert_msg(http != NULL, "%s", err);
	return server_http_port(http);
}

#define START(...) start_list((const char *const[]){ __VA_ARGS__, NULL }, NULL, 0)

/* ---- a GnuTLS client with a priority string of its own ------------------- */

/* GET /livez over TLS with the client priorities prio: true when the
 * answer is "HTTP/1.1 200"; *handshake tells whether the handshake passed. */
static bool get_livez(int port, const char *prio, bool *handshake)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	static const char req[] = "GET /livez HTTP/1.1\r\nHost: localhost\r\n"
				  "Connection: close\r\n\r\n";
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	char buf[512];
	size_t got = 0;
	int fd, rc;

	*handshake = false;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(gnutls_certificate_allocate_credentials(&cred), 0);
	ck_assert_int_eq(gnutls_init(&s, GNUTLS_CLIENT), 0);
	ck_assert_msg(gnutls_priority_set_direct(s, prio, NULL) == 0, "bad priority %s", prio);
	ck_assert_int_eq(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred), 0);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 5000);
	gnutls_record_set_timeout(s, 5000);
	do {
		rc = gnutls_handshake(s);
	} while (rc < 0 && !gnutls_error_is_fatal(rc));
	if (rc == 0) {
		*handshake = true;
		if (gnutls_record_send(s, req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1)) {
			for (int i = 0; i < 64 && got < sizeof(buf) - 1; i++) {
				ssize_t n = gnutls_record_recv(s, buf + got, sizeof(buf) - 1 - got);

				if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
					continue;
				if (n <= 0)
					break;
				got += (size_t)n;
			}
		}
	}
	buf[got] = '\0';
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	close(fd);
	return strncmp(buf, "HTTP/1.1 200", 12) == 0;
}

/* A TLS 1.2-only client offering one ECDSA suite's parts. */
#define TLS12(kx_cipher_mac) \
	"NONE:+VERS-TLS1.2:" kx_cipher_mac ":+SIGN-ALL:+GROUP-ALL:+COMP-NULL"
#define TLS13 "NONE:+VERS-TLS1.3:+AES-128-GCM:+AEAD:+SIGN-ALL:+GROUP-ALL:+COMP-NULL"

/* What curl_get saw: status, headers and body (cut at their size). */
struct got {
	long status;
	char headers[2048], body[512];
	size_t hlen, blen;
};

static size_t keep(char *p, size_t n, char *buf, size_t *len, size_t cap)
{
	size_t room = cap - 1 - *len, take = n < room ? n : room;

	memcpy(buf + *len, p, take);
	*len += take;
	buf[*len] = '\0';
	return n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct got *g = ud;

	return keep(p, size * n, g->headers, &g->hlen, sizeof(g->headers));
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct got *g = ud;

	return keep(p, size * n, g->body, &g->blen, sizeof(g->body));
}

/* libcurl GET path with TLS at most max: the CURLcode; *g filled. */
static CURLcode curl_get(int port, const char *path, long max, struct got *g)
{
	char url[96];
	CURL *h = curl_easy_init();
	CURLcode rc;

	memset(g, 0, sizeof(*g));
	ck_assert_ptr_nonnull(h);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, g);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, g);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 15L);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_0 | max);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &g->status);
	curl_easy_cleanup(h);
	return rc;
}

static CURLcode curl_livez(int port, long max, long *status)
{
	struct got g;
	CURLcode rc = curl_get(port, "/livez", max, &g);

	*status = g.status;
	return rc;
}

START_TEST(test_default_tls12_and_13)
{
	int port = START("--v=0");
	bool hs;
	long status;

	ck_assert(get_livez(port, TLS12("+ECDHE-ECDSA:+AES-256-GCM:+AEAD"), &hs));
	ck_assert(get_livez(port, TLS13, &hs));
	/* Go's default minimum for servers (cliflag.DefaultTLSVersion) is 1.2 */
	ck_assert(!get_livez(port, "NONE:+VERS-TLS1.1:+ECDHE-ECDSA:+AES-128-CBC:+SHA1:"
				   "+SIGN-ALL:+GROUP-ALL:+COMP-NULL", &hs));
	ck_assert(!hs);
	ck_assert_int_eq(curl_livez(port, CURL_SSLVERSION_MAX_TLSv1_2, &status), CURLE_OK);
	ck_assert_int_eq(status, 200);
}
END_TEST

/* The acceptance: --tls-min-version=VersionTLS13 refuses a TLS 1.2
 * client (libcurl with --tls-max 1.2, and a GnuTLS one). */
START_TEST(test_min_version_tls13)
{
	int port = START("--tls-min-version=VersionTLS13");
	bool hs;
	long status;

	ck_assert_int_ne(curl_livez(port, CURL_SSLVERSION_MAX_TLSv1_2, &status), CURLE_OK);
	ck_assert(!get_livez(port, TLS12("+ECDHE-ECDSA:+AES-128-GCM:+AEAD"), &hs));
	ck_assert(!hs);
	ck_assert_int_eq(curl_livez(port, CURL_SSLVERSION_MAX_DEFAULT, &status), CURLE_OK);
	ck_assert_int_eq(status, 200);
	ck_assert(get_livez(port, TLS13, &hs));
}
END_TEST

START_TEST(test_cipher_suites_honoured)
{
	int port = START("--tls-cipher-suites",
			 "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
	bool hs;

	ck_assert(get_livez(port, TLS12("+ECDHE-ECDSA:+AES-128-GCM:+AEAD"), &hs));
	/* suites not listed: no answer, whether GnuTLS's handshake already
	 * refuses them (CBC) or the daemon closes the connection (AES-256-GCM
	 * and ChaCha20 stay enabled for TLS 1.3) */
	ck_assert(!get_livez(port, TLS12("+ECDHE-ECDSA:+AES-128-CBC:+SHA1"), &hs));
	ck_assert(!hs);
	ck_assert(!get_livez(port, TLS12("+ECDHE-ECDSA:+AES-256-GCM:+AEAD"), &hs));
	ck_assert(!get_livez(port, TLS12("+ECDHE-ECDSA:+CHACHA20-POLY1305:+AEAD"), &hs));
	/* TLS 1.3 is not restricted by the list, as in Go */
	ck_assert(get_livez(port, TLS13, &hs));
}
END_TEST

START_TEST(test_cipher_suites_tls13_names_only)
{
	int port = START("--tls-cipher-suites=TLS_AES_128_GCM_SHA256");
	bool hs;

	/* Go: no TLS 1.2 suite configured, so only TLS 1.3 connects */
	ck_assert(!get_livez(port, TLS12("+ECDHE-ECDSA:+AES-128-GCM:+AEAD"), &hs));
	ck_assert(get_livez(port, TLS13, &hs));
}
END_TEST

START_TEST(test_curve_preferences_honoured)
{
	int port = START("--tls-curve-preferences=24"); /* CurveP384 */
	bool hs;

	ck_assert(!get_livez(port, "NONE:+VERS-TLS1.3:+AES-128-GCM:+AEAD:+SIGN-ALL:"
				   "+GROUP-SECP256R1:+COMP-NULL", &hs));
	ck_assert(!hs);
	ck_assert(get_livez(port, "NONE:+VERS-TLS1.3:+AES-128-GCM:+AEAD:+SIGN-ALL:"
				  "+GROUP-SECP384R1:+COMP-NULL", &hs));
	ck_assert(get_livez(port, TLS12("+ECDHE-ECDSA:+AES-128-GCM:+AEAD") ":-GROUP-ALL:"
				  "+GROUP-SECP384R1", &hs));
	ck_assert(!get_livez(port, TLS12("+ECDHE-ECDSA:+AES-128-GCM:+AEAD") ":-GROUP-ALL:"
				   "+GROUP-X25519", &hs));
}
END_TEST

/* The Go texts of the checks SecureServingOptions.ApplyTo makes. */
START_TEST(test_tls_flag_errors)
{
	static const struct {
		const char *flag, *want;
	} cases[] = {
		{ "--tls-min-version=VersionTLS14", "unknown tls version \"VersionTLS14\"" },
		{ "--tls-min-version=tls1.2", "unknown tls version \"tls1.2\"" },
		{ "--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,NOPE",
		  "Cipher suite NOPE not supported or doesn't exist" },
		{ "--tls-cipher-suites=ECDHE-RSA-AES128-GCM-SHA256",
		  "Cipher suite ECDHE-RSA-AES128-GCM-SHA256 not supported or doesn't exist" },
		{ "--tls-curve-preferences=0", "curve preference 0 is out of range (must be 1-65535)" },
		{ "--tls-curve-preferences=65536",
		  "curve preference 65536 is out of range (must be 1-65535)" },
		{ "--tls-curve-preferences=23,29,23", "duplicate curve preference 23" },
		{ "--tls-curve-preferences=30",
		  "curve preference 30 is not supported by the current Go version" },
	};

	for (size_t i = 0; i < COMMON_ARRAY_LEN(cases); i++) {
		char *argv[] = { "metrics-apiserver", (char *)cases[i].flag };
		char err[512] = "";

		server_config_clear(&cfg);
		server_config_init(&cfg);
		ck_assert_int_eq(server_flags_parse(&cfg, 2, argv, err, sizeof(err)), 0);
		ck_assert_int_eq(server_config_validate(&cfg, err, sizeof(err)), ERR_INVAL);
		ck_assert_str_eq(err, cases[i].want);
	}
}
END_TEST

/* Insecure suites are accepted as Go accepts them; every Go name is known. */
START_TEST(test_all_go_names_accepted)
{
	char *argv[] = {
		"metrics-apiserver",
		"--tls-cipher-suites=TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,"
		"TLS_CHACHA20_POLY1305_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,"
		"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,"
		"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,"
		"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,"
		"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,"
		"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,"
		"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
		"--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,"
		"TLS_ECDHE_ECDSA_WITH_RC4_128_SHA,TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,"
		"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,TLS_ECDHE_RSA_WITH_RC4_128_SHA,"
		"TLS_RSA_WITH_3DES_EDE_CBC_SHA,TLS_RSA_WITH_AES_128_CBC_SHA,"
		"TLS_RSA_WITH_AES_128_CBC_SHA256,TLS_RSA_WITH_AES_128_GCM_SHA256,"
		"TLS_RSA_WITH_AES_256_CBC_SHA,TLS_RSA_WITH_AES_256_GCM_SHA384,TLS_RSA_WITH_RC4_128_SHA",
		"--tls-curve-preferences=23,24,25,29,4588",
		"--tls-min-version=VersionTLS10",
	};
	char err[512] = "";

	ck_assert_int_eq(server_flags_parse(&cfg, COMMON_ARRAY_LEN(argv), argv, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(cfg.serving.tls_cipher_suites.n, 27);
	ck_assert_msg(server_config_validate(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(server__tls_build(&cfg.serving, &tls, err, sizeof(err)), 0);
	/* X25519MLKEM768 (Go knows it, GnuTLS 3.7 does not): noted, left out */
	ck_assert_ptr_nonnull(tls.unavailable);
	ck_assert_ptr_nonnull(strstr(tls.unavailable, "curve 4588"));
}
END_TEST

struct bg {
	int port;
	struct got g;
	CURLcode rc;
};

static void *get_block(void *arg)
{
	struct bg *b = arg;

	b->rc = curl_get(b->port, "/block", CURL_SSLVERSION_MAX_DEFAULT, &b->g);
	return NULL;
}

/* One slot: while /block holds it, the next GET gets the max-in-flight
 * filter's 429 (http.Error text, Retry-After: 1); the slot is given back
 * when the request completes. */
START_TEST(test_max_requests_inflight)
{
	int port = START("--max-requests-inflight=1", "--authorization-always-allow-paths",
			 "/livez,/block", "--strict-transport-security-directives",
			 "max-age=31536000,includeSubDomains");
	struct bg b = { .port = port };
	pthread_t t;
	struct got g;

	atomic_store(&blocked, false);
	atomic_store(&release, false);
	ck_assert_int_eq(pthread_create(&t, NULL, get_block, &b), 0);
	for (int i = 0; i < 500 && !atomic_load(&blocked); i++)
		usleep(10000);
	ck_assert(atomic_load(&blocked));
	ck_assert_int_eq(curl_get(port, "/livez", CURL_SSLVERSION_MAX_DEFAULT, &g), CURLE_OK);
	atomic_store(&release, true);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(g.status, 429);
	ck_assert_str_eq(g.body, "Too many requests, please try again later.\n");
	ck_assert_ptr_nonnull(strstr(g.headers, "\r\nRetry-After: 1\r\n"));
	ck_assert_ptr_nonnull(strstr(g.headers, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
	ck_assert_ptr_nonnull(strstr(g.headers, "\r\nX-Content-Type-Options: nosniff\r\n"));
	ck_assert_ptr_nonnull(strstr(g.headers, "\r\nStrict-Transport-Security: "
						"max-age=31536000; includeSubDomains\r\n"));
	ck_assert_int_eq(b.rc, CURLE_OK);
	ck_assert_int_eq(b.g.status, 200);
	ck_assert_str_eq(b.g.body, "released\n");
	/* the slot is free again */
	ck_assert_int_eq(curl_get(port, "/livez", CURL_SSLVERSION_MAX_DEFAULT, &g), CURLE_OK);
	ck_assert_int_eq(g.status, 200);
	ck_assert_ptr_null(strstr(g.headers, "Retry-After"));
}
END_TEST

struct drain_arg {
	bool done;
	atomic_bool returned;
};

static void *drain(void *arg)
{
	struct drain_arg *d = arg;

	d->done = server_http_drain(http, cfg.generic.shutdown_send_retry_after, 15 * NS_PER_SEC);
	atomic_store(&d->returned, true);
	return NULL;
}

/* Shutdown with --shutdown-send-retry-after: while a request is still
 * served, new ones get WithRetryAfter's 429 (the probes do not), and the
 * drain ends when the last request completes. */
START_TEST(test_shutdown_send_retry_after)
{
	int port = START("--shutdown-send-retry-after", "--authorization-always-allow-paths",
			 "/livez,/block,/apis");
	struct bg b = { .port = port };
	struct drain_arg d = { .done = false };
	pthread_t t, td;
	struct got g, probe;

	atomic_store(&blocked, false);
	atomic_store(&release, false);
	atomic_store(&d.returned, false);
	ck_assert_int_eq(pthread_create(&t, NULL, get_block, &b), 0);
	for (int i = 0; i < 500 && !atomic_load(&blocked); i++)
		usleep(10000);
	ck_assert(atomic_load(&blocked));
	ck_assert_int_eq(pthread_create(&td, NULL, drain, &d), 0);
	usleep(100000);
	ck_assert(!atomic_load(&d.returned)); /* /block is still in flight */
	ck_assert_int_eq(curl_get(port, "/apis", CURL_SSLVERSION_MAX_DEFAULT, &g), CURLE_OK);
	ck_assert_int_eq(curl_get(port, "/livez", CURL_SSLVERSION_MAX_DEFAULT, &probe), CURLE_OK);
	atomic_store(&release, true);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(pthread_join(td, NULL), 0);
	ck_assert(d.done);
	ck_assert_int_eq(g.status, 429);
	ck_assert_str_eq(g.body, "The apiserver is shutting down, please try again later.\n");
	ck_assert_ptr_nonnull(strstr(g.headers, "\r\nRetry-After: 5\r\n"));
	ck_assert_ptr_nonnull(strstr(g.headers, "\r\nConnection: close\r\n"));
	ck_assert_int_eq(probe.status, 200);
	ck_assert_int_eq(b.g.status, 200);
}
END_TEST

/* ---- --tls-sni-cert-key ------------------------------------------------------------ */

/*
 * Expectations from the Go apiserver (dynamiccertificates' named
 * certificates and GetConfigForClient, crypto/tls getCertificate): a
 * pair's names are those after ':' in its flag, else its certificate's CN
 * (when a domain name, not an IP) and DNS SANs, never its IP SANs;
 * explicit names beat extracted ones, the earlier flag beats the later;
 * the lower-cased server name matches exactly, else with its first label
 * as "*"; no server name: the pair named by the local IP address; else
 * the default serving certificate (CN "localhost" here).
 */
static char dir[] = "/tmp/check_server_serving.XXXXXX";

static char *in_dir(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

/* dir/name.crt and dir/name.key: a serving certificate for cn with DNS
 * SANs dns (NULL-terminated, may be NULL) and IP SAN ip (may be NULL). */
static void sni_files(const char *name, const char *cn, const char *const *dns, const char *ip)
{
	const char *const ips[] = { ip };
	struct certs_spec spec = { .cn = cn, .ips = ips, .nips = ip ? 1 : 0, .server_auth = true,
				   .dns = dns };
	struct certs_pair p;
	char file[64], *path;

	while (dns && dns[spec.ndns])
		spec.ndns++;
	testlib_cert(&spec, NULL, &p);
	for (int k = 0; k < 2; k++) {
		snprintf(file, sizeof(file), "%s.%s", name, k ? "key" : "crt");
		path = in_dir(file);
		ck_assert_int_eq(certs_write_file(path, k ? p.key_pem : p.cert_pem, 0600), 0);
		free(path);
	}
	certs_pair_clear(&p);
}

/* "--tls-sni-cert-key=DIR/name.crt,DIR/name.key[:names]" (kept until teardown). */
static char *sni_flags[8];
static size_t nsni_flags;

static const char *sni_flag(const char *name, const char *names)
{
	ck_assert_uint_lt(nsni_flags, COMMON_ARRAY_LEN(sni_flags));
	sni_flags[nsni_flags] = xasprintf("--tls-sni-cert-key=%s/%s.crt,%s/%s.key%s%s", dir, name,
					  dir, name, names ? ":" : "", names ? names : "");
	return sni_flags[nsni_flags++];
}

static void setup_sni(void)
{
	setup();
	ck_assert_ptr_nonnull(mkdtemp(dir));
	nsni_flags = 0;
}

static void teardown_sni(void)
{
	DIR *d;
	struct dirent *e;

	teardown();
	for (size_t i = 0; i < nsni_flags; i++)
		free(sni_flags[i]);
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		char *p;

		if (e->d_name[0] == '.')
			continue;
		p = in_dir(e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
}

/* The Subject CN of the certificate a TLS handshake with server name sni
 * (NULL: none sent) gets from 127.0.0.1:port; "" when the handshake fails. */
static void served_cn(int port, const char *sni, char *cn, size_t cnlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	const gnutls_datum_t *peer;
	unsigned int npeer = 0;
	gnutls_x509_crt_t crt;
	int fd, rc;

	cn[0] = '\0';
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(gnutls_certificate_allocate_credentials(&cred), 0);
	ck_assert_int_eq(gnutls_init(&s, GNUTLS_CLIENT), 0);
	ck_assert_int_eq(gnutls_set_default_priority(s), 0);
	ck_assert_int_eq(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred), 0);
	if (sni)
		ck_assert_int_eq(gnutls_server_name_set(s, GNUTLS_NAME_DNS, sni, strlen(sni)), 0);
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 5000);
	do {
		rc = gnutls_handshake(s);
	} while (rc < 0 && !gnutls_error_is_fatal(rc));
	if (rc == 0 && (peer = gnutls_certificate_get_peers(s, &npeer)) && npeer > 0) {
		char *got;

		ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
		ck_assert_int_eq(gnutls_x509_crt_import(crt, &peer[0], GNUTLS_X509_FMT_DER), 0);
		got = certs_subject_attr(crt, GNUTLS_OID_X520_COMMON_NAME, 0);
		snprintf(cn, cnlen, "%s", got ? got : "");
		free(got);
		gnutls_x509_crt_deinit(crt);
	}
	gnutls_bye(s, GNUTLS_SHUT_RDWR);
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	close(fd);
}

#define ASSERT_SERVED(port, sni, want)                                                     \
	do {                                                                               \
		char cn_[256];                                                             \
		served_cn((port), (sni), cn_, sizeof(cn_));                                \
		ck_assert_msg(strcmp(cn_, (want)) == 0, "server name %s: got \"%s\", want %s", \
			      (sni) ? (sni) : "(none)", cn_, (want));                      \
	} while (0)

/* Names taken from the certificates: CN and DNS SANs, exact or wildcard,
 * case-insensitive; anything else and no server name: the default. */
START_TEST(test_sni_names_from_certificates)
{
	int port;

	sni_files("a", "a.example.com", (const char *const[]){ "alt.example.com", NULL }, NULL);
	sni_files("w", "wild", (const char *const[]){ "*.wild.example", NULL }, NULL);
	/* an IP CN and an IP SAN name nothing: no-SNI clients keep the default */
	sni_files("ip", "127.0.0.1", NULL, "127.0.0.1");
	/* a CN is a name when a DNS-1123 subdomain after an optional "*." */
	sni_files("star", "*.star.example", NULL, NULL);
	sni_files("dash", "-dash.example", NULL, NULL);
	port = START(sni_flag("a", NULL), sni_flag("w", NULL), sni_flag("ip", NULL),
		     sni_flag("star", NULL), sni_flag("dash", NULL));
	ASSERT_SERVED(port, "q.star.example", "*.star.example");
	ASSERT_SERVED(port, "-dash.example", "localhost");
	ASSERT_SERVED(port, "a.example.com", "a.example.com");
	ASSERT_SERVED(port, "alt.example.com", "a.example.com");
	ASSERT_SERVED(port, "A.Example.COM", "a.example.com");
	ASSERT_SERVED(port, "b.wild.example", "wild");
	/* a wildcard stands for one label only; "wild" (the CN) is a name too */
	ASSERT_SERVED(port, "c.b.wild.example", "localhost");
	ASSERT_SERVED(port, "wild.example", "localhost");
	ASSERT_SERVED(port, "wild", "wild");
	ASSERT_SERVED(port, "example.com", "localhost");
	ASSERT_SERVED(port, "nothing.example", "localhost");
	ASSERT_SERVED(port, NULL, "localhost");
}
END_TEST

/* Names after ':' replace the certificate's; they beat extracted names
 * whatever the order, and the earlier flag wins among equals. */
START_TEST(test_sni_explicit_names)
{
	int port;

	sni_files("first", "first.example", (const char *const[]){ "shared.example", NULL },
		  NULL);
	sni_files("second", "second.example",
		  (const char *const[]){ "shared.example", "both.example", NULL }, NULL);
	sni_files("x", "x-cert.example", (const char *const[]){ "first.example", NULL }, NULL);
	sni_files("y", "y-cert.example", NULL, NULL);
	sni_files("z", "z-cert.example", NULL, NULL);
	port = START(sni_flag("first", NULL), sni_flag("second", NULL),
		     sni_flag("x", "x.example,*.x.example, both.example"),
		     sni_flag("y", "y.example,x.example"), sni_flag("z", "127.0.0.1"));
	ASSERT_SERVED(port, "shared.example", "first.example");
	ASSERT_SERVED(port, "second.example", "second.example");
	ASSERT_SERVED(port, "both.example", "x-cert.example");
	ASSERT_SERVED(port, "first.example", "first.example");
	/* x's own CN is no name of it once names are given */
	ASSERT_SERVED(port, "x-cert.example", "localhost");
	ASSERT_SERVED(port, "x.example", "x-cert.example");
	ASSERT_SERVED(port, "q.x.example", "x-cert.example");
	ASSERT_SERVED(port, "y.example", "y-cert.example");
	/* a client without a server name reaching 127.0.0.1: the pair so named */
	ASSERT_SERVED(port, NULL, "z-cert.example");
}
END_TEST

/* The files replaced: new connections get the new pair and its names;
 * a broken pair keeps the previous one. */
START_TEST(test_sni_reloaded)
{
	int port;
	char *crt = in_dir("a.crt");

	sni_files("a", "a.example.com", (const char *const[]){ "old.example.com", NULL }, NULL);
	port = START(sni_flag("a", NULL));
	ASSERT_SERVED(port, "old.example.com", "a.example.com");
	ck_assert(!server_http_reload_certs(http));
	sni_files("new", "a2.example.com", (const char *const[]){ "new.example.com", NULL }, NULL);
	{
		/* only the certificate: its key does not match yet */
		struct dynbuf b;
		char *other = in_dir("new.crt"), *pem;
		size_t len;

		dynbuf_init(&b, DYN_SMALL);
		ck_assert_int_eq(dynbuf_read_file(&b, other), 0);
		pem = dynbuf_take(&b, &len);
		ck_assert_int_eq(certs_write_file(crt, pem, 0600), 0);
		free(pem);
		free(other);
	}
	ck_assert(!server_http_reload_certs(http));
	ASSERT_SERVED(port, "old.example.com", "a.example.com");
	ASSERT_SERVED(port, "new.example.com", "localhost");
	sni_files("a", "a2.example.com", (const char *const[]){ "new.example.com", NULL }, NULL);
	ck_assert(server_http_reload_certs(http));
	ASSERT_SERVED(port, "new.example.com", "a2.example.com");
	ASSERT_SERVED(port, "a2.example.com", "a2.example.com");
	ASSERT_SERVED(port, "old.example.com", "localhost");
	ASSERT_SERVED(port, NULL, "localhost");
	free(crt);
}
END_TEST

/* Bad pairs stop the start with SecureServingOptions.ApplyTo's text
 * around Go's os.ReadFile / tls.X509KeyPair errors. */
START_TEST(test_sni_bad_files)
{
	char err[512], *want, *crt = in_dir("missing.crt");

	sni_files("a", "a.example.com", NULL, NULL);
	sni_files("b", "b.example.com", NULL, NULL);
	ck_assert_int_eq(start_list((const char *const[]){ sni_flag("missing", NULL), NULL }, err,
				    sizeof(err)), 0);
	want = xasprintf("failed to load SNI cert and key: open %s: no such file or directory",
			 crt);
	ck_assert_str_eq(err, want);
	free(want);
	teardown();
	setup();
	{
		/* a's certificate with b's key */
		char *flag = xasprintf("--tls-sni-cert-key=%s/a.crt,%s/b.key", dir, dir);

		ck_assert_int_eq(start_list((const char *const[]){ flag, NULL }, err, sizeof(err)),
				 0);
		free(flag);
	}
	ck_assert_str_eq(err, "failed to load SNI cert and key: tls: private key does not match "
			      "public key");
	teardown();
	setup();
	sni_files("missing", "m", NULL, NULL);
	ck_assert_int_eq(certs_write_file(crt, "", 0600), 0);
	ck_assert_int_eq(start_list((const char *const[]){ sni_flag("missing", NULL), NULL }, err,
				    sizeof(err)), 0);
	want = xasprintf("failed to load SNI cert and key: missing content for serving cert "
			 "\"sni-serving-cert::%s::%s/missing.key\"", crt, dir);
	ck_assert_str_eq(err, want);
	free(want);
	free(crt);
}
END_TEST

static Suite *serving_suite(void)
{
	Suite *s = suite_create("server_serving");
	TCase *tc = tcase_create("serving");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_default_tls12_and_13);
	tcase_add_test(tc, test_min_version_tls13);
	tcase_add_test(tc, test_cipher_suites_honoured);
	tcase_add_test(tc, test_cipher_suites_tls13_names_only);
	tcase_add_test(tc, test_curve_preferences_honoured);
	tcase_add_test(tc, test_tls_flag_errors);
	tcase_add_test(tc, test_all_go_names_accepted);
	tcase_add_test(tc, test_max_requests_inflight);
	tcase_add_test(tc, test_shutdown_send_retry_after);
	suite_add_tcase(s, tc);
	tc = tcase_create("sni");
	tcase_add_checked_fixture(tc, setup_sni, teardown_sni);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sni_names_from_certificates);
	tcase_add_test(tc, test_sni_explicit_names);
	tcase_add_test(tc, test_sni_reloaded);
	tcase_add_test(tc, test_sni_bad_files);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return unit_run(serving_suite());
}
