/*
 * check_server_authn.c - server/authn_trust.c, authn_token.c, serving.c,
 * reload.c (and authn.c's chain through them) over real TLS on 127.0.0.1
 * with libcurl, against a fake kube-apiserver (libmicrohttpd) that serves
 * the extension-apiserver-authentication ConfigMap and TokenReviews:
 *
 *   tokens      reviewed once per --authentication-token-webhook-cache-ttl,
 *               errors not cached, 401 texts, system:anonymous
 *   ConfigMap   CAs and request-header lists with no CA flag, changes
 *               taken (a kept-alive connection's verdict too), 403 fatal
 *               with Go's text or tolerated with its three log lines,
 *               404, --authentication-skip-lookup
 *   files       CA files and the serving certificate replaced under the
 *               running server: new connections see them, open ones work
 *   groups      a front proxy naming 1,000 groups is not refused
 */
#include <check.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certs/certs.h"
#include "kube/kube.h"
#include "server/server.h"
#include "test/unit/testlib.h"
#include "test/unit/unit.h"

/* ---- PKI ------------------------------------------------------------------------ */

static char dir[] = "/tmp/check_server_authn.XXXXXX";

static char *in_dir(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void put_file(const char *name, const char *pem)
{
	char *p = in_dir(name);

	ck_assert_int_eq(certs_write_file(p, pem, 0600), 0);
	free(p);
}

/* name.crt / name.key in dir, signed by issuer (NULL: a self-signed CA). */
static void make_cert(const char *name, const char *cn, const char *org,
		      const struct certs_pair *issuer, struct certs_pair *out)
{
	testlib_cert_files(dir, name, cn, org, issuer, out);
}

static struct certs_pair proxy_ca, proxy2_ca, client_ca, serving_ca, serving2_ca;
static struct certs_pair serving, serving2;

static void make_pki(void)
{
	struct certs_pair leaf = { 0 };
	struct certs_spec srv = { .cn = "localhost", .server_auth = true };

	make_cert("proxy-ca", "front-proxy-ca", NULL, NULL, &proxy_ca);
	make_cert("proxy2-ca", "front-proxy-ca-2", NULL, NULL, &proxy2_ca);
	make_cert("client-ca", "kubernetes-ca", NULL, NULL, &client_ca);
	make_cert("front-proxy-client", "front-proxy-client", NULL, &proxy_ca, &leaf);
	certs_pair_clear(&leaf);
	make_cert("proxy2", "front-proxy-client-2", NULL, &proxy2_ca, &leaf);
	certs_pair_clear(&leaf);
	make_cert("jane", "jane", "dev", &client_ca, &leaf);
	certs_pair_clear(&leaf);
	make_cert("serving-ca", "serving-ca", NULL, NULL, &serving_ca);
	make_cert("serving2-ca", "serving-ca-2", NULL, NULL, &serving2_ca);
	testlib_cert(&srv, &serving_ca, &serving);
	testlib_cert(&srv, &serving2_ca, &serving2);
	put_file("serving.crt", serving.cert_pem);
	put_file("serving.key", serving.key_pem);
}

/* ---- the fake kube-apiserver ------------------------------------------------------- */

static struct {
	pthread_mutex_t mu;
	int cm_status;          /* 200, 403, 404 */
	json_t *cm_data;        /* the ConfigMap's data (owned) */
	int cm_gets, reviews;
	struct MHD_Daemon *d;
	uint16_t port;
	struct certs_pair tls;
} K = { .mu = PTHREAD_MUTEX_INITIALIZER };

struct kreq {
	struct dynbuf body;
};

static enum MHD_Result k_reply(struct MHD_Connection *c, int status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text,
								 MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	json_decref(body);
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static json_t *review_status(const char *token)
{
	if (strcmp(token, "good") == 0)
		return json_pack("{s:b,s:{s:s,s:s,s:[s],s:{s:[s]}}}", "authenticated", 1, "user",
				 "username", "alice", "uid", "42", "groups", "dev", "extra",
				 "team", "blue");
	if (strcmp(token, "anon") == 0)
		return json_pack("{s:b,s:{s:s,s:[s]}}", "authenticated", 1, "user", "username",
				 "system:anonymous", "groups", "system:unauthenticated");
	if (strcmp(token, "denied") == 0)
		return json_pack("{s:{}}", "user");
	return json_pack("{s:{},s:s}", "user", "error", "invalid bearer token");
}

static enum MHD_Result k_handler(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **req_cls)
{
	struct kreq *r = *req_cls;
	json_t *in;
	int status;

	(void)cls;
	(void)version;
	if (!r) {
		r = xcalloc(1, sizeof(*r));
		dynbuf_init(&r->body, DYN_SMALL);
		*req_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		ck_assert_int_eq(dynbuf_add(&r->body, upload, *upload_size), 0);
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&K.mu);
	if (strcmp(method, "GET") == 0 &&
	    strcmp(url, "/api/v1/namespaces/kube-system/configmaps/"
			"extension-apiserver-authentication") == 0) {
		K.cm_gets++;
		status = K.cm_status;
		in = status == 200 ? json_pack("{s:s,s:s,s:{s:s,s:s},s:O}", "kind", "ConfigMap",
					       "apiVersion", "v1", "metadata", "name",
					       "extension-apiserver-authentication", "namespace",
					       "kube-system", "data", K.cm_data)
		   : status == 403
			? json_pack("{s:s,s:s,s:s,s:s,s:i}", "kind", "Status", "status", "Failure",
				    "message", "configmaps \"extension-apiserver-authentication\" is "
				    "forbidden: User \"metrics\" cannot get resource \"configmaps\" in "
				    "API group \"\" in the namespace \"kube-system\"",
				    "reason", "Forbidden", "code", 403)
			: json_pack("{s:s,s:s,s:i}", "kind", "Status", "reason", "NotFound", "code",
				    404);
	} else if (strcmp(method, "POST") == 0 &&
		   strcmp(url, "/apis/authentication.k8s.io/v1/tokenreviews") == 0) {
		K.reviews++;
		json_t *req = json_loadb(r->body.buf, r->body.len, 0, NULL);
		const char *token = jpath_str(req, "spec.token");

		ck_assert_str_eq(jpath_str(req, "kind"), "TokenReview");
		ck_assert_ptr_null(json_object_get(json_object_get(req, "spec"), "audiences"));
		status = token && strcmp(token, "no-rbac") == 0 ? 403 : 201;
		in = status == 403 ? json_pack("{s:s,s:s,s:s,s:i}", "kind", "Status", "message",
					       "tokenreviews.authentication.k8s.io is forbidden",
					       "reason", "Forbidden", "code", 403) : json_pack("{s:s,s:s,s:{},s:{s:s},s:o}", "kind", "TokenReview", "apiVersion",
			       "authentication.k8s.io/v1", "metadata", "spec", "token",
			       token ? token : "", "status", review_status(token ? token : ""));
		json_decref(req);
	} else {
		status = 404;
		in = json_pack("{s:s}", "kind", "Status");
	}
	pthread_mutex_unlock(&K.mu);
	return k_reply(c, status, in);
}

static void k_done(void *cls, struct MHD_Connection *c, void **req_cls,
		   enum MHD_RequestTerminationCode toe)
{
	struct kreq *r = *req_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (r) {
		dynbuf_clear(&r->body);
		free(r);
	}
	*req_cls = NULL;
}

static int k_count(const int *field)
{
	int n;

	pthread_mutex_lock(&K.mu);
	n = *field;
	pthread_mutex_unlock(&K.mu);
	return n;
}

/* The ConfigMap kube-apiserver writes: client CA, front-proxy CA, lists. */
static void k_set_cm(const char *client_pem, const char *rh_pem, const char *allowed)
{
	pthread_mutex_lock(&K.mu);
	json_decref(K.cm_data);
	K.cm_status = 200;
	K.cm_data = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "client-ca-file", client_pem,
			      "requestheader-client-ca-file", rh_pem,
			      "requestheader-allowed-names", allowed,
			      "requestheader-username-headers", "[\"X-Remote-User\"]",
			      "requestheader-group-headers", "[\"X-Remote-Group\"]",
			      "requestheader-extra-headers-prefix", "[\"X-Remote-Extra-\"]");
	pthread_mutex_unlock(&K.mu);
}

/* ---- our server ---------------------------------------------------------------------- */

static struct server_config cfg;
static struct kube_client *client;
static struct server_authn *authn;
static struct server_authz *authz;
static struct server_http *http;
static char base_url[64];

static void whoami(void *ud, struct server_exchange *x)
{
	(void)ud;
	x->status = 200;
	x->content_type = "text/plain; charset=utf-8";
	ck_assert_int_eq(dynbuf_printf(&x->body, "user=%s%s groups=", x->user->name,
				       x->user->anonymous ? " (anonymous)" : ""), 0);
	for (size_t i = 0; i < x->user->ngroups && i < 4; i++)
		ck_assert_int_eq(dynbuf_printf(&x->body, "%s%s", i ? "," : "", x->user->groups[i]),
				 0);
	if (x->user->ngroups > 4)
		ck_assert_int_eq(dynbuf_printf(&x->body, ",...(%zu)", x->user->ngroups), 0);
	if (x->user->uid)
		ck_assert_int_eq(dynbuf_printf(&x->body, " uid=%s", x->user->uid), 0);
	for (size_t i = 0; i < x->user->nextra; i++)
		ck_assert_int_eq(dynbuf_printf(&x->body, " %s=%s", x->user->extra[i].key,
					       x->user->extra[i].value), 0);
}

static const struct server_route routes[] = {
	{ "/whoami", false, NULL, whoami, NULL },
};

static void setup(void)
{
	struct kube_config kc = { 0 };

	ck_assert_ptr_nonnull(mkdtemp(dir));
	make_pki();
	testlib_cert(&(struct certs_spec){ .cn = "kube-apiserver", .server_auth = true }, NULL,
		     &K.tls);
	K.d = testlib_https_daemon(MHD_USE_INTERNAL_POLLING_THREAD, k_handler, NULL, &K.tls,
				   NULL, (const struct MHD_OptionItem[]){
					   { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)k_done, NULL },
					   { MHD_OPTION_END, 0, NULL } }, &K.port);
	K.cm_status = 404;
	K.cm_gets = K.reviews = 0;
	kc.server = xasprintf("https://127.0.0.1:%u", K.port);
	kc.insecure_skip_tls_verify = true;
	kc.token = "metrics-token";
	client = kube_client_new(&kc);
	ck_assert_ptr_nonnull(client);
	free(kc.server);
	server_config_init(&cfg);
	/* the handler echoes anonymous users too: authorization is not tested here */
	free(cfg.authz.always_allow_paths.items[0]);
	cfg.authz.always_allow_paths.items[0] = xstrdup("/whoami");
	authz = server_authz_new(&(struct server_authz_options){ .flags = &cfg.authz });
}

/* Starts authn (files checked every 50 ms, ConfigMap only on refresh) and
 * the daemon; NULL authn start error text goes to *err_out. */
static bool start(char *err, size_t errlen)
{
	struct server_authn_options o = { .flags = &cfg.authn, .client = client,
					  .files_period_ns = 50 * NS_PER_MS,
					  .configmap_period_ns = -1 };
	char *crt = in_dir("serving.crt"), *key = in_dir("serving.key");
	char herr[256];

	authn = server_authn_new_with(&o, err, errlen);
	if (!authn) {
		free(crt);
		free(key);
		return false;
	}
	http = server_http_start(&(struct server_http_options){
		.bind_address = "127.0.0.1", .port = 0,
		.cert_pem = serving.cert_pem, .key_pem = serving.key_pem,
		.cert_file = crt, .key_file = key, .reload_ns = -1,
		.routes = routes, .nroutes = COMMON_ARRAY_LEN(routes),
		.authn = authn, .authz = authz, .threads = 2, .timeout_s = 120, /* valgrind */
	}, herr, sizeof(herr));
	free(crt);
	free(key);
	ck_assert_msg(http != NULL, "%s", herr);
	snprintf(base_url, sizeof(base_url), "https://127.0.0.1:%d", server_http_port(http));
	return true;
}

static void start_ok(void)
{
	char err[512];

	ck_assert_msg(start(err, sizeof(err)), "%s", err);
}

static void teardown(void)
{
	static const char *const files[] = {
		"proxy-ca", "proxy2-ca", "client-ca", "front-proxy-client", "proxy2", "jane",
		"serving-ca", "serving2-ca", "serving",
	};

	server_http_stop(http);
	http = NULL;
	server_authn_free(authn);
	authn = NULL;
	server_authz_free(authz);
	server_config_clear(&cfg);
	kube_client_free(client);
	MHD_stop_daemon(K.d);
	json_decref(K.cm_data);
	K.cm_data = NULL;
	certs_pair_clear(&K.tls);
	for (size_t i = 0; i < COMMON_ARRAY_LEN(files); i++) {
		for (int k = 0; k < 2; k++) {
			char name[64], *p;

			snprintf(name, sizeof(name), "%s.%s", files[i], k ? "key" : "crt");
			p = in_dir(name);
			unlink(p);
			free(p);
		}
	}
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
	certs_pair_clear(&proxy_ca);
	certs_pair_clear(&proxy2_ca);
	certs_pair_clear(&client_ca);
	certs_pair_clear(&serving_ca);
	certs_pair_clear(&serving2_ca);
	certs_pair_clear(&serving);
	certs_pair_clear(&serving2);
}

/* ---- a tiny client (testlib_request) ------------------------------------------------ */

/* GET /whoami on h (kept: its connection stays open for the next), or on
 * a connection of its own when h is NULL. */
static struct testlib_reply get_on(CURL *h, const struct testlib_call *c)
{
	char url[128];

	snprintf(url, sizeof(url), "%s/whoami", base_url);
	return testlib_request(h, dir, url, c);
}

static struct testlib_reply get(const struct testlib_call *c)
{
	return get_on(NULL, c);
}

static const char unauthorized[] =
	"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
	"\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}\n";

static const struct testlib_call front_proxy = {
	.cert = "front-proxy-client",
	.headers = { "X-Remote-User: alice", "X-Remote-Group: g1" },
};

/* ---- bearer tokens ------------------------------------------------------------------- */

START_TEST(test_token_review_and_cache)
{
	CURL *h = curl_easy_init();
	struct testlib_reply r;

	cfg.authn.skip_lookup = true;
	cfg.authn.token_cache_ttl_ns = 3 * NS_PER_SEC;
	start_ok();
	ck_assert_int_eq(k_count(&K.cm_gets), 0); /* --authentication-skip-lookup */
	r = get_on(h, &(struct testlib_call){ .headers = { "Authorization: Bearer good" } });
	testlib_assert_reply(&r, 200,
			     "user=alice groups=dev,system:authenticated uid=42 team=blue");
	ck_assert_int_eq(k_count(&K.reviews), 1);
	/* cached: no second review within the TTL (scheme case-insensitive) */
	r = get_on(h, &(struct testlib_call){ .headers = { "Authorization:   bearer good  " } });
	testlib_assert_reply(&r, 200,
			     "user=alice groups=dev,system:authenticated uid=42 team=blue");
	ck_assert_int_eq(k_count(&K.reviews), 1);
	usleep(3200 * 1000);
	r = get_on(h, &(struct testlib_call){ .headers = { "Authorization: Bearer good" } });
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(k_count(&K.reviews), 2); /* the TTL passed: reviewed again */

	/* status.error: 401, never cached */
	r = get_on(h, &(struct testlib_call){ .headers = { "Authorization: Bearer nope" } });
	testlib_assert_reply(&r, 401, unauthorized);
	r = get_on(h, &(struct testlib_call){ .headers = { "Authorization: Bearer nope" } });
	testlib_assert_reply(&r, 401, unauthorized);
	ck_assert_int_eq(k_count(&K.reviews), 4);
	/* the review itself refused (no RBAC to create it): 401, not cached */
	r = get_on(h, &(struct testlib_call){ .headers = { "Authorization: Bearer no-rbac" } });
	testlib_assert_reply(&r, 401, unauthorized);
	r = get_on(h, &(struct testlib_call){ .headers = { "Authorization: Bearer no-rbac" } });
	testlib_assert_reply(&r, 401, unauthorized);
	ck_assert_int_eq(k_count(&K.reviews), 6);
	/* authenticated:false without an error: 401, cached */
	r = get_on(h, &(struct testlib_call){ .headers = { "Authorization: Bearer denied" } });
	testlib_assert_reply(&r, 401, unauthorized);
	r = get_on(h, &(struct testlib_call){ .headers = { "Authorization: Bearer denied" } });
	testlib_assert_reply(&r, 401, unauthorized);
	ck_assert_int_eq(k_count(&K.reviews), 7);

	/* no opinion: another scheme, an empty token ("Bearer  x" splits to "") */
	r = get_on(h, &(struct testlib_call){ .headers = { "Authorization: Basic Zm9vOmJhcg==" } });
	testlib_assert_reply(&r, 200,
			     "user=system:anonymous (anonymous) groups=system:unauthenticated");
	r = get_on(h, &(struct testlib_call){ .headers = { "Authorization: Bearer  good" } });
	testlib_assert_reply(&r, 200,
			     "user=system:anonymous (anonymous) groups=system:unauthenticated");
	ck_assert_int_eq(k_count(&K.reviews), 7);
	/* a review naming system:anonymous gets no system:authenticated */
	r = get_on(h, &(struct testlib_call){ .headers = { "Authorization: Bearer anon" } });
	testlib_assert_reply(&r, 200,
			     "user=system:anonymous (anonymous) groups=system:unauthenticated");
	curl_easy_cleanup(h);
}
END_TEST

/* The chain's order: a front proxy's user wins over a token. */
START_TEST(test_token_after_certificates)
{
	struct testlib_reply r;

	cfg.authn.skip_lookup = true;
	cfg.authn.requestheader_client_ca_file = in_dir("proxy-ca.crt");
	start_ok();
	r = get(&(struct testlib_call){
		.cert = "front-proxy-client",
		.headers = { "X-Remote-User: bob", "Authorization: Bearer good" } });
	testlib_assert_reply(&r, 200, "user=bob groups=system:authenticated");
	ck_assert_int_eq(k_count(&K.reviews), 0);
	/* the proxy's certificate without a user: the token decides */
	r = get(&(struct testlib_call){ .cert = "front-proxy-client",
					.headers = { "Authorization: Bearer good" } });
	testlib_assert_reply(&r, 200,
			     "user=alice groups=dev,system:authenticated uid=42 team=blue");
}
END_TEST

/* ---- the ConfigMap ------------------------------------------------------------------- */

START_TEST(test_configmap_lookup_and_change)
{
	CURL *kept = curl_easy_init();
	struct testlib_reply r;

	k_set_cm(client_ca.cert_pem, proxy_ca.cert_pem, "[\"front-proxy-client\"]");
	start_ok();
	ck_assert_int_eq(k_count(&K.cm_gets), 1);
	r = get_on(kept, &front_proxy);
	testlib_assert_reply(&r, 200, "user=alice groups=g1,system:authenticated");
	r = get(&(struct testlib_call){ .cert = "jane" });
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "user=jane groups=dev,system:authenticated"));
	/* the proxy's headers as kube-apiserver forwards an anonymous user */
	r = get(&(struct testlib_call){ .cert = "front-proxy-client",
					.headers = { "X-Remote-User: system:anonymous",
					     "X-Remote-Group: system:unauthenticated" } });
	testlib_assert_reply(&r, 200,
			     "user=system:anonymous (anonymous) groups=system:unauthenticated");
	r = get(&(struct testlib_call){ .cert = "proxy2", .headers = { "X-Remote-User: carol" } });
	testlib_assert_reply(&r, 401, unauthorized);

	/* kube-apiserver rotates its front-proxy CA and client name */
	k_set_cm(client_ca.cert_pem, proxy2_ca.cert_pem, "[\"front-proxy-client-2\"]");
	ck_assert(server_authn_refresh(authn));
	ck_assert(!server_authn_refresh(authn)); /* nothing new */
	r = get(&(struct testlib_call){ .cert = "proxy2", .headers = { "X-Remote-User: carol" } });
	testlib_assert_reply(&r, 200, "user=carol groups=system:authenticated");
	/* the kept connection's verdict was for the old trust sets */
	r = get_on(kept, &front_proxy);
	ck_assert_int_eq(r.connects, 0);
	testlib_assert_reply(&r, 401, unauthorized);

	/* a bad list keeps the previous ones; a deleted ConfigMap keeps all */
	pthread_mutex_lock(&K.mu);
	json_object_set_new(K.cm_data, "requestheader-allowed-names", json_string("[1]"));
	pthread_mutex_unlock(&K.mu);
	ck_assert(!server_authn_refresh(authn));
	pthread_mutex_lock(&K.mu);
	K.cm_status = 404;
	pthread_mutex_unlock(&K.mu);
	ck_assert(!server_authn_refresh(authn));
	r = get(&(struct testlib_call){ .cert = "proxy2", .headers = { "X-Remote-User: carol" } });
	testlib_assert_reply(&r, 200, "user=carol groups=system:authenticated");
	curl_easy_cleanup(kept);
}
END_TEST

/* Runs start() with stderr captured into buf. */
static bool start_captured(char *err, size_t errlen, char *buf, size_t len)
{
	char *path = in_dir("stderr.txt");
	int saved = dup(2), fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ssize_t n;
	bool ok;

	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	dup2(fd, 2);
	ok = start(err, errlen);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	free(path);
	return ok;
}

static const char forbidden_text[] =
	"configmaps \"extension-apiserver-authentication\" is forbidden: User \"metrics\" cannot "
	"get resource \"configmaps\" in API group \"\" in the namespace \"kube-system\"";

START_TEST(test_lookup_forbidden_is_fatal)
{
	char err[512] = "", log[8192];

	K.cm_status = 403;
	ck_assert(!start_captured(err, sizeof(err), log, sizeof(log)));
	ck_assert_str_eq(err, "unable to load configmap based request-header-client-ca-file: "
			      "configmaps \"extension-apiserver-authentication\" is forbidden: User "
			      "\"metrics\" cannot get resource \"configmaps\" in API group \"\" in "
			      "the namespace \"kube-system\"");
	ck_assert_msg(strstr(log, "] Unable to get configmap/extension-apiserver-authentication in "
				  "kube-system.  Usually fixed by 'kubectl create rolebinding -n "
				  "kube-system ROLEBINDING_NAME --role=extension-apiserver-"
				  "authentication-reader --serviceaccount=YOUR_NS:YOUR_SA'\n"),
		      "%s", log);
}
END_TEST

START_TEST(test_lookup_failure_tolerated)
{
	char err[512] = "", log[8192], line[1024];
	struct testlib_reply r;

	K.cm_status = 403;
	cfg.authn.tolerate_lookup_failure = true;
	ck_assert_msg(start_captured(err, sizeof(err), log, sizeof(log)), "%s", err);
	snprintf(line, sizeof(line), "] Error looking up in-cluster authentication configuration: "
		 "%s\n", forbidden_text);
	ck_assert_msg(strstr(log, line), "%s", log);
	ck_assert_msg(strstr(log, "] Continuing without authentication configuration. This may "
				  "treat all requests as anonymous.\n"), "%s", log);
	ck_assert_msg(strstr(log, "] To require authentication configuration lookup to succeed, "
				  "set --authentication-tolerate-lookup-failure=false\n"), "%s", log);
	ck_assert_ptr_nonnull(strstr(log, "\nW1")); /* warnings, as upstream */
	r = get(&front_proxy); /* no request-header CA: the proxy is anonymous */
	testlib_assert_reply(&r, 200,
			     "user=system:anonymous (anonymous) groups=system:unauthenticated");
	/* the ConfigMap becomes readable: taken at the next look */
	k_set_cm(client_ca.cert_pem, proxy_ca.cert_pem, "[\"front-proxy-client\"]");
	ck_assert(server_authn_refresh(authn));
	r = get(&front_proxy);
	testlib_assert_reply(&r, 200, "user=alice groups=g1,system:authenticated");
}
END_TEST

START_TEST(test_lookup_not_found_and_flags)
{
	char err[512] = "";
	struct testlib_reply r;

	/* NotFound: no error, nothing configured */
	K.cm_status = 404;
	ck_assert_msg(start(err, sizeof(err)), "%s", err);
	r = get(&front_proxy);
	testlib_assert_reply(&r, 200,
			     "user=system:anonymous (anonymous) groups=system:unauthenticated");
	server_http_stop(http);
	http = NULL;
	server_authn_free(authn);
	authn = NULL;
	/* a request-header CA flag: a forbidden lookup of the client CA is no error */
	K.cm_status = 403;
	cfg.authn.requestheader_client_ca_file = in_dir("proxy-ca.crt");
	ck_assert_msg(start(err, sizeof(err)), "%s", err);
	r = get(&front_proxy);
	testlib_assert_reply(&r, 200, "user=alice groups=g1,system:authenticated");
}
END_TEST

/* A front proxy may name any number of groups (the header size bounds them). */
START_TEST(test_many_groups)
{
	struct curl_slist *more = NULL;
	char line[64];
	struct testlib_reply r;

	k_set_cm(client_ca.cert_pem, proxy_ca.cert_pem, "[\"front-proxy-client\"]");
	start_ok();
	for (int i = 0; i < 1000; i++) {
		snprintf(line, sizeof(line), "X-Remote-Group: group-%d", i);
		more = curl_slist_append(more, line);
	}
	r = get(&(struct testlib_call){ .cert = "front-proxy-client",
					.headers = { "X-Remote-User: big" }, .more = more });
	testlib_assert_reply(&r, 200, "user=big groups=group-0,group-1,group-2,group-3,...(1001)");
	curl_slist_free_all(more);
}
END_TEST

/* ---- files ----------------------------------------------------------------------------- */

/* Polls (every 50 ms, up to 5 s) until a new connection's request gets status. */
static struct testlib_reply eventually(const struct testlib_call *c, long status)
{
	struct testlib_reply r = { .status = 0 };

	for (int i = 0; i < 100; i++) {
		r = get(c);
		if (r.rc == CURLE_OK && r.status == status)
			break;
		usleep(50 * 1000);
	}
	return r;
}

START_TEST(test_ca_files_reloaded)
{
	CURL *kept = curl_easy_init();
	char *both;
	struct testlib_reply r;

	cfg.authn.skip_lookup = true;
	cfg.authn.requestheader_client_ca_file = in_dir("proxy-ca.crt");
	cfg.authn.client_ca_file = in_dir("client-ca.crt");
	start_ok();
	r = get_on(kept, &front_proxy);
	testlib_assert_reply(&r, 200, "user=alice groups=g1,system:authenticated");
	r = get(&(struct testlib_call){ .cert = "proxy2", .headers = { "X-Remote-User: carol" } });
	testlib_assert_reply(&r, 401, unauthorized);
	/* the bundle gains the new CA: both proxies work, the open connection too
	 * (the file thread notices within its 50 ms period) */
	both = xasprintf("%s%s", proxy_ca.cert_pem, proxy2_ca.cert_pem);
	put_file("proxy-ca.crt", both);
	free(both);
	r = eventually(&(struct testlib_call){ .cert = "proxy2",
					       .headers = { "X-Remote-User: carol" } }, 200);
	testlib_assert_reply(&r, 200, "user=carol groups=system:authenticated");
	r = get_on(kept, &front_proxy);
	ck_assert_int_eq(r.connects, 0);
	testlib_assert_reply(&r, 200, "user=alice groups=g1,system:authenticated");
	/* a broken file keeps the bundle */
	put_file("proxy-ca.crt", "not a certificate\n");
	ck_assert(!server_authn_refresh(authn));
	r = get(&(struct testlib_call){ .cert = "proxy2", .headers = { "X-Remote-User: carol" } });
	ck_assert_int_eq(r.status, 200);
	/* the old CA leaves: the open connection's proxy is refused */
	put_file("proxy-ca.crt", proxy2_ca.cert_pem);
	r = eventually(&front_proxy, 401);
	ck_assert_int_eq(r.status, 401);
	r = get_on(kept, &front_proxy);
	ck_assert_int_eq(r.connects, 0);
	testlib_assert_reply(&r, 401, unauthorized);
	/* the client CA file is followed too */
	put_file("client-ca.crt", proxy2_ca.cert_pem);
	r = eventually(&(struct testlib_call){ .cert = "jane" }, 401);
	testlib_assert_reply(&r, 401, unauthorized);
	curl_easy_cleanup(kept);
}
END_TEST

START_TEST(test_serving_cert_reloaded)
{
	CURL *kept = curl_easy_init();
	struct testlib_reply r;

	put_file("serving-ca.pem", serving_ca.cert_pem);
	put_file("serving2-ca.pem", serving2_ca.cert_pem);
	cfg.authn.skip_lookup = true;
	start_ok();
	r = get_on(kept, &(struct testlib_call){ .cacert = "serving-ca.pem" });
	ck_assert_int_eq(r.status, 200);
	r = get(&(struct testlib_call){ .cacert = "serving2-ca.pem" });
	ck_assert_int_eq(r.rc, CURLE_PEER_FAILED_VERIFICATION);
	/* a key that does not match is refused: the old pair stays */
	put_file("serving.crt", serving2.cert_pem);
	ck_assert(!server_http_reload_certs(http));
	r = get(&(struct testlib_call){ .cacert = "serving-ca.pem" });
	ck_assert_int_eq(r.status, 200);
	/* the matching key arrives: new connections get the new pair */
	put_file("serving.key", serving2.key_pem);
	ck_assert(server_http_reload_certs(http));
	r = get(&(struct testlib_call){ .cacert = "serving2-ca.pem" });
	ck_assert_msg(r.rc == CURLE_OK, "curl: %s", curl_easy_strerror(r.rc));
	ck_assert_int_eq(r.status, 200);
	r = get(&(struct testlib_call){ .cacert = "serving-ca.pem" });
	ck_assert_int_eq(r.rc, CURLE_PEER_FAILED_VERIFICATION);
	/* the connection opened before keeps working */
	r = get_on(kept, &(struct testlib_call){ .cacert = "serving-ca.pem" });
	ck_assert_msg(r.rc == CURLE_OK, "curl: %s", curl_easy_strerror(r.rc));
	ck_assert_int_eq(r.connects, 0);
	ck_assert_int_eq(r.status, 200);
	curl_easy_cleanup(kept);
	{
		char *p = in_dir("serving-ca.pem"), *q = in_dir("serving2-ca.pem");

		unlink(p);
		unlink(q);
		free(p);
		free(q);
	}
}
END_TEST

/* --requestheader-uid-headers (or the ConfigMap's requestheader-uid-headers):
 * the first non-empty value is the user's UID; without such names the
 * header is not read. */
START_TEST(test_uid_headers)
{
	const struct testlib_call with_uid = {
		.cert = "front-proxy-client",
		.headers = { "X-Remote-User: alice", "x-remote-uid: u-7", "X-Other-Uid: nope" },
	};
	char err[512] = "";
	struct testlib_reply r;

	/* the ConfigMap without the key (older writers): no UID */
	k_set_cm(client_ca.cert_pem, proxy_ca.cert_pem, "[\"front-proxy-client\"]");
	start_ok();
	r = get(&with_uid);
	testlib_assert_reply(&r, 200, "user=alice groups=system:authenticated");
	/* kube-apiserver with RemoteRequestHeaderUID writes the key */
	pthread_mutex_lock(&K.mu);
	json_object_set_new(K.cm_data, "requestheader-uid-headers",
			    json_string("[\"X-Remote-Uid\"]"));
	pthread_mutex_unlock(&K.mu);
	ck_assert(server_authn_refresh(authn));
	r = get(&with_uid);
	testlib_assert_reply(&r, 200, "user=alice groups=system:authenticated uid=u-7");
	server_http_stop(http);
	http = NULL;
	server_authn_free(authn);
	authn = NULL;

	/* the flags: the header names are matched case-insensitively */
	cfg.authn.skip_lookup = true;
	cfg.authn.requestheader_client_ca_file = in_dir("proxy-ca.crt");
	cfg.authn.requestheader_uid_headers.items = xcalloc(2, sizeof(char *));
	cfg.authn.requestheader_uid_headers.items[0] = xstrdup("X-Other-Uid");
	cfg.authn.requestheader_uid_headers.items[1] = xstrdup("X-REMOTE-UID");
	cfg.authn.requestheader_uid_headers.n = 2;
	ck_assert_msg(start(err, sizeof(err)), "%s", err);
	r = get(&with_uid);
	testlib_assert_reply(&r, 200, "user=alice groups=system:authenticated uid=nope");
	r = get(&front_proxy);
	testlib_assert_reply(&r, 200, "user=alice groups=g1,system:authenticated");
}
END_TEST

static Suite *authn_suite(void)
{
	Suite *s = suite_create("server_authn");
	TCase *tc = tcase_create("authn");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_token_review_and_cache);
	tcase_add_test(tc, test_token_after_certificates);
	tcase_add_test(tc, test_configmap_lookup_and_change);
	tcase_add_test(tc, test_lookup_forbidden_is_fatal);
	tcase_add_test(tc, test_lookup_failure_tolerated);
	tcase_add_test(tc, test_lookup_not_found_and_flags);
	tcase_add_test(tc, test_many_groups);
	tcase_add_test(tc, test_ca_files_reloaded);
	tcase_add_test(tc, test_serving_cert_reloaded);
	tcase_add_test(tc, test_uid_headers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = unit_run(authn_suite());
	curl_global_cleanup();
	return rc;
}
