/*
 * check_server_http.c - server/http.c, authn.c, authz.c, health.c over real
 * TLS on 127.0.0.1 with libcurl: health texts, 404, front-proxy and x509
 * users, untrusted X-Remote-* headers, 401 / 403 / 405 Status bodies, TLS
 * 1.1 refused, slow reviews waited on off the polling threads; plus
 * RequestInfo parsing.
 */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certs/certs.h"
#include "server/server.h"
#include "test/unit/testlib.h"
#include "test/unit/unit.h"

/* ---- fixture: CAs, certificates, a daemon with test routes ------------------- */

static char dir[] = "/tmp/check_server_http.XXXXXX";
static struct server_config cfg;
static struct server_authn *authn;
static struct server_authz *authz;
static struct server_http *http;
static struct server_health health;
static struct certs_pair serving;
static bool storage_ready;
static char base_url[64];

static char *path_in_dir(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

/* name.crt / name.key in dir, signed by issuer (NULL: a self-signed CA). */
static void make_cert(const char *name, const char *cn, const char *org,
		      const struct certs_pair *issuer, struct certs_pair *out)
{
	testlib_cert_files(dir, name, cn, org, issuer, out);
}

static void make_pki(void)
{
	struct certs_pair proxy_ca = { 0 }, client_ca = { 0 }, impostor_ca = { 0 }, leaf = { 0 };
	struct certs_spec srv = { .cn = "localhost", .server_auth = true };

	make_cert("proxy-ca", "front-proxy-ca", NULL, NULL, &proxy_ca);
	make_cert("client-ca", "kubernetes-ca", NULL, NULL, &client_ca);
	/* Same subject as the real front-proxy CA, different key. */
	make_cert("impostor-ca", "front-proxy-ca", NULL, NULL, &impostor_ca);
	make_cert("front-proxy-client", "front-proxy-client", NULL, &proxy_ca, &leaf);
	certs_pair_clear(&leaf);
	make_cert("other-proxy", "not-the-proxy", NULL, &proxy_ca, &leaf);
	certs_pair_clear(&leaf);
	make_cert("jane", "jane", "dev", &client_ca, &leaf);
	certs_pair_clear(&leaf);
	make_cert("forged-proxy", "front-proxy-client", NULL, &impostor_ca, &leaf);
	certs_pair_clear(&leaf);
	certs_pair_clear(&proxy_ca);
	certs_pair_clear(&client_ca);
	certs_pair_clear(&impostor_ca);
	testlib_cert(&srv, NULL, &serving);
}

static bool fake_check(void *ud, const char *name, char *err, size_t len)
{
	(void)ud;
	if (strcmp(name, "metric-storage-ready") == 0 && !storage_ready) {
		snprintf(err, len, "no metrics to serve");
		return false;
	}
	return true;
}

static bool owns_apis(const char *path)
{
	return strncmp(path, "/apis", 5) == 0;
}

/* Echoes who the request was authenticated as. */
static void whoami(void *ud, struct server_exchange *x)
{
	(void)ud;
	x->status = 200;
	x->content_type = "text/plain; charset=utf-8";
	ck_assert_int_eq(dynbuf_printf(&x->body, "user=%s groups=", x->user->name), 0);
	for (size_t i = 0; i < x->user->ngroups; i++)
		ck_assert_int_eq(dynbuf_printf(&x->body, "%s%s", i ? "," : "", x->user->groups[i]),
				 0);
	for (size_t i = 0; i < x->user->nextra; i++)
		ck_assert_int_eq(dynbuf_printf(&x->body, " %s=%s", x->user->extra[i].key,
					       x->user->extra[i].value), 0);
}

static const struct server_route routes[] = {
	{ "/healthz", true, NULL, server_health_handler, &health },
	{ "/livez", true, NULL, server_health_handler, &health },
	{ "/readyz", true, NULL, server_health_handler, &health },
	{ NULL, false, owns_apis, whoami, NULL },
};

/* A gate the reviews of users named "gated..." wait at until it opens. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool open;
	int waiting;              /* reviews that reached the gate */
} gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0 };

static void gate_pass(void)
{
	pthread_mutex_lock(&gate.mu);
	gate.waiting++;
	pthread_cond_broadcast(&gate.cond);
	while (!gate.open)
		pthread_cond_wait(&gate.cond, &gate.mu);
	pthread_mutex_unlock(&gate.mu);
}

static void gate_open(void)
{
	pthread_mutex_lock(&gate.mu);
	gate.open = true;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.mu);
}

/* Waits (10 s at most) until n reviews wait at the gate. */
static bool gate_wait_for(int n)
{
	struct timespec until;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&gate.mu);
	while (gate.waiting < n &&
	       pthread_cond_timedwait(&gate.cond, &gate.mu, &until) == 0)
		;
	ok = gate.waiting >= n;
	pthread_mutex_unlock(&gate.mu);
	return ok;
}

/* The review: every named user but system:anonymous is allowed (the
 * authorizer against kubesim's reviews: check_server_authz); "gated..."
 * users wait at the gate first. */
static int review_all_but_anonymous(void *ud, json_t *review, json_t **status, char *err,
				    size_t errlen)
{
	const char *user = json_string_value(json_object_get(json_object_get(review, "spec"),
							     "user"));

	(void)ud;
	*status = NULL;
	if (user && strncmp(user, "gated", 5) == 0)
		gate_pass();
	if (user && strcmp(user, "broken") == 0) {
		snprintf(err, errlen, "Post \"https://k/x\": <down> & out");
		return ERR_IO;
	}
	*status = json_pack("{s:b}", "allowed", user && strcmp(user, "system:anonymous") != 0);
	return 0;
}

/* (Re)starts the daemon of the fixture; request_timeout_ns as the flag. */
static void start_http(int64_t request_timeout_ns)
{
	char err[256];

	server_http_stop(http);
	http = server_http_start(&(struct server_http_options){
		.bind_address = "127.0.0.1", .port = 0,
		.cert_pem = serving.cert_pem, .key_pem = serving.key_pem,
		.routes = routes, .nroutes = COMMON_ARRAY_LEN(routes),
		.authn = authn, .authz = authz, .threads = 2, .timeout_s = 10,
		.request_timeout_ns = request_timeout_ns,
	}, err, sizeof(err));
	ck_assert_msg(http != NULL, "%s", err);
	snprintf(base_url, sizeof(base_url), "https://127.0.0.1:%d", server_http_port(http));
}

static void setup(void)
{
	const char *names[] = { "front-proxy-client" };
	char err[256];
	char *rh, *cc;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	make_pki();
	server_config_init(&cfg);
	rh = path_in_dir("proxy-ca.crt");
	cc = path_in_dir("client-ca.crt");
	cfg.authn.requestheader_client_ca_file = rh;
	cfg.authn.client_ca_file = cc;
	cfg.authn.requestheader_allowed_names.items = xcalloc(1, sizeof(char *));
	cfg.authn.requestheader_allowed_names.items[0] = xstrdup(names[0]);
	cfg.authn.requestheader_allowed_names.n = 1;
	authn = server_authn_new(&cfg.authn, err, sizeof(err));
	ck_assert_msg(authn != NULL, "%s", err);
	authz = server_authz_new(&(struct server_authz_options){
		.flags = &cfg.authz, .review = review_all_but_anonymous });
	health.check = fake_check;
	storage_ready = true;
	gate.open = false; /* (CK_FORK=no runs every test in one process) */
	gate.waiting = 0;
	atomic_store(&health.shutting_down, false);
	start_http(0);
}

static void teardown(void)
{
	static const char *const files[] = {
		"proxy-ca", "client-ca", "impostor-ca", "front-proxy-client", "other-proxy", "jane",
		"forged-proxy",
	};
	char name[64];

	server_http_stop(http);
	http = NULL; /* (CK_FORK=no: the next setup starts from none) */
	server_authz_free(authz);
	server_authn_free(authn);
	server_config_clear(&cfg);
	certs_pair_clear(&serving);
	for (size_t i = 0; i < COMMON_ARRAY_LEN(files); i++) {
		char *p;

		snprintf(name, sizeof(name), "%s.crt", files[i]);
		p = path_in_dir(name);
		unlink(p);
		free(p);
		snprintf(name, sizeof(name), "%s.key", files[i]);
		p = path_in_dir(name);
		unlink(p);
		free(p);
	}
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
}

/* ---- a tiny client (testlib_request) ------------------------------------------- */

/* One request for path on h (kept: its connection stays open for the
 * next), or on a connection of its own when h is NULL. */
static struct testlib_reply request_on(CURL *h, const char *path, const struct testlib_call *c)
{
	char url[512];

	snprintf(url, sizeof(url), "%s%s", base_url, path);
	return testlib_request(h, dir, url, c);
}

static struct testlib_reply request(const char *path, const struct testlib_call *c)
{
	return request_on(NULL, path, c);
}

static const struct testlib_call front_proxy_alice = {
	.cert = "front-proxy-client",
	.headers = { "X-Remote-User: alice", "X-Remote-Group: g1", "X-Remote-Group: g2",
		     "X-Remote-Extra-Authentication.kubernetes.io%2fcredential-Id: JTI=1" },
};

/* ---- health --------------------------------------------------------------------- */

START_TEST(test_readyz_verbose)
{
	struct testlib_reply r = request("/readyz?verbose", NULL);

	testlib_assert_reply(&r, 200,
			     "[+]ping ok\n"
			     "[+]log ok\n"
			     "[+]poststarthook/max-in-flight-filter ok\n"
			     "[+]poststarthook/storage-object-count-tracker-hook ok\n"
			     "[+]metric-storage-ready ok\n"
			     "[+]metric-informer-sync ok\n"
			     "[+]metadata-informer-sync ok\n"
			     "[+]shutdown ok\n"
			     "readyz check passed\n");
	ck_assert_str_eq(r.content_type, "text/plain; charset=utf-8");
	r = request("/readyz", NULL);
	testlib_assert_reply(&r, 200, "ok");
}
END_TEST

START_TEST(test_livez_and_healthz_verbose)
{
	struct testlib_reply r = request("/livez?verbose", NULL);

	testlib_assert_reply(&r, 200,
			     "[+]ping ok\n"
			     "[+]log ok\n"
			     "[+]poststarthook/max-in-flight-filter ok\n"
			     "[+]poststarthook/storage-object-count-tracker-hook ok\n"
			     "[+]metric-collection-timely ok\n"
			     "[+]metadata-informer-sync ok\n"
			     "livez check passed\n");
	r = request("/healthz?verbose=1", NULL);
	testlib_assert_reply(&r, 200,
			     "[+]ping ok\n"
			     "[+]log ok\n"
			     "[+]poststarthook/max-in-flight-filter ok\n"
			     "[+]poststarthook/storage-object-count-tracker-hook ok\n"
			     "[+]metadata-informer-sync ok\n"
			     "healthz check passed\n");
}
END_TEST

START_TEST(test_readyz_failing)
{
	struct testlib_reply r;

	storage_ready = false;
	atomic_store(&health.shutting_down, true);
	r = request("/readyz", NULL);
	testlib_assert_reply(&r, 500,
			     "[+]ping ok\n"
			     "[+]log ok\n"
			     "[+]poststarthook/max-in-flight-filter ok\n"
			     "[+]poststarthook/storage-object-count-tracker-hook ok\n"
			     "[-]metric-storage-ready failed: reason withheld\n"
			     "[+]metric-informer-sync ok\n"
			     "[+]metadata-informer-sync ok\n"
			     "[-]shutdown failed: reason withheld\n"
			     "readyz check failed\n");
	/* livez does not look at the store. */
	r = request("/livez", NULL);
	testlib_assert_reply(&r, 200, "ok");
	/* Per-check paths are not on the always-allow list: a user is needed. */
	r = request("/readyz/metric-storage-ready", &front_proxy_alice);
	testlib_assert_reply(&r, 500, "internal server error: no metrics to serve\n");
	r = request("/readyz/ping", &front_proxy_alice);
	testlib_assert_reply(&r, 200, "ok");
	r = request("/readyz/nope", &front_proxy_alice);
	testlib_assert_reply(&r, 404, "404 page not found\n");
}
END_TEST

START_TEST(test_readyz_exclude)
{
	struct testlib_reply r;

	storage_ready = false;
	r = request("/readyz?verbose&exclude=metric-storage-ready&exclude=bogus", NULL);
	testlib_assert_reply(&r, 200,
			     "[+]ping ok\n"
			     "[+]log ok\n"
			     "[+]poststarthook/max-in-flight-filter ok\n"
			     "[+]poststarthook/storage-object-count-tracker-hook ok\n"
			     "[+]metric-storage-ready excluded: ok\n"
			     "[+]metric-informer-sync ok\n"
			     "[+]metadata-informer-sync ok\n"
			     "[+]shutdown ok\n"
			     "warn: some health checks cannot be excluded: no matches for \"bogus\"\n"
			     "readyz check passed\n");
}
END_TEST

/* ---- routing and methods ------------------------------------------------------------ */

START_TEST(test_not_found_and_method)
{
	struct testlib_reply r = request("/nope", &front_proxy_alice);

	testlib_assert_reply(&r, 404, "404 page not found\n");
	ck_assert_str_eq(r.content_type, "text/plain; charset=utf-8");
	r = request("/apis/metrics.k8s.io/v1beta1/nodes", &(struct testlib_call){
		.method = "DELETE", .cert = "front-proxy-client",
		.headers = { "X-Remote-User: alice" } });
	testlib_assert_reply(&r, 405,
			     "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
			     "\"message\":\"the server does not allow this method on the requested resource\","
			     "\"reason\":\"MethodNotAllowed\",\"code\":405}\n");
	ck_assert_str_eq(r.content_type, "application/json");
}
END_TEST

START_TEST(test_body_too_large)
{
	static char body[(4u << 20) + 1];
	struct testlib_reply r;

	memset(body, 'x', sizeof(body));
	r = request("/apis/metrics.k8s.io/v1beta1/nodes",
		    &(struct testlib_call){ .body = body, .body_len = sizeof(body) });
	testlib_assert_reply(&r, 413,
			     "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
			     "\"message\":\"the request body is too large\",\"reason\":\"RequestEntityTooLarge\","
			     "\"code\":413}\n");
}
END_TEST

/* ---- authentication ------------------------------------------------------------------ */

START_TEST(test_front_proxy_user)
{
	struct testlib_reply r = request("/apis/metrics.k8s.io/v1beta1", &front_proxy_alice);

	testlib_assert_reply(&r, 200, "user=alice groups=g1,g2,system:authenticated "
				      "authentication.kubernetes.io/credential-id=JTI=1");
	/* The aggregator's discovery identity has no groups. */
	r = request("/apis", &(struct testlib_call){ .cert = "front-proxy-client",
						     .headers = { "X-Remote-User: system:kube-aggregator" } });
	testlib_assert_reply(&r, 200, "user=system:kube-aggregator groups=system:authenticated");
}
END_TEST

START_TEST(test_headers_ignored_without_trusted_cert)
{
	static const char forbidden[] =
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
		"\"message\":\"forbidden: User \\\"system:anonymous\\\" cannot get path "
		"\\\"/apis/metrics.k8s.io/v1beta1\\\"\",\"reason\":\"Forbidden\",\"details\":{},"
		"\"code\":403}\n";
	struct testlib_reply r = request("/apis/metrics.k8s.io/v1beta1", &(struct testlib_call){
		.headers = { "X-Remote-User: admin", "X-Remote-Group: system:masters" } });

	testlib_assert_reply(&r, 403, forbidden);
	/* A client-CA user keeps its own name whatever the headers say. */
	r = request("/apis/x", &(struct testlib_call){
		.cert = "jane", .headers = { "X-Remote-User: admin", "X-Remote-Group: system:masters" } });
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "user=jane groups=dev,system:authenticated "
					     "authentication.kubernetes.io/credential-id=X509SHA256="));
	ck_assert_uint_eq(strlen(strstr(r.body, "X509SHA256=") + 11), 64);
}
END_TEST

START_TEST(test_untrusted_cert_is_401)
{
	static const char unauthorized[] =
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
		"\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}\n";
	struct testlib_reply r = request("/apis/metrics.k8s.io/v1beta1", &(struct testlib_call){
		.cert = "forged-proxy", .headers = { "X-Remote-User: alice" } });

	testlib_assert_reply(&r, 401, unauthorized);
	ck_assert_str_eq(r.content_type, "application/json");
	/* Signed by the right CA but not an allowed name: 401 as well. */
	r = request("/apis/metrics.k8s.io/v1beta1", &(struct testlib_call){
		.cert = "other-proxy", .headers = { "X-Remote-User: alice" } });
	testlib_assert_reply(&r, 401, unauthorized);
	/* Even health paths: authentication runs before the allow-list. */
	r = request("/livez", &(struct testlib_call){ .cert = "forged-proxy" });
	testlib_assert_reply(&r, 401, unauthorized);
}
END_TEST

/* A kept-alive connection: its certificate is parsed and verified once,
 * each request's X-Remote-* headers are read anew, and a request without
 * them falls through to the x509 authenticator as on a new connection. */
START_TEST(test_keepalive_cert_checked_once)
{
	CURL *h = curl_easy_init();
	size_t before = server_authn_checks();
	struct testlib_reply r = request_on(h, "/apis/x", &front_proxy_alice);
	long connects = -1;

	testlib_assert_reply(&r, 200, "user=alice groups=g1,g2,system:authenticated "
				      "authentication.kubernetes.io/credential-id=JTI=1");
	r = request_on(h, "/apis/x", &(struct testlib_call){ .cert = "front-proxy-client",
							     .headers = { "X-Remote-User: bob",
									  "X-Remote-Group: g3" } });
	testlib_assert_reply(&r, 200, "user=bob groups=g3,system:authenticated");
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
	ck_assert_int_eq(connects, 0); /* the same connection */
	r = request_on(h, "/apis/x", &(struct testlib_call){ .cert = "front-proxy-client" });
	testlib_assert_reply(&r, 401, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
				      "\"status\":\"Failure\",\"message\":\"Unauthorized\","
				      "\"reason\":\"Unauthorized\",\"code\":401}\n");
	r = request_on(h, "/apis/x", &front_proxy_alice);
	ck_assert_int_eq(r.status, 200);
	curl_easy_cleanup(h);
	ck_assert_uint_le(server_authn_checks() - before, 2); /* 401 may close the connection */
	/* a client-cert user: once for its connection too */
	h = curl_easy_init();
	before = server_authn_checks();
	for (int i = 0; i < 5; i++) {
		r = request_on(h, "/apis/x", &(struct testlib_call){ .cert = "jane" });
		ck_assert_int_eq(r.status, 200);
		ck_assert_ptr_nonnull(strstr(r.body, "user=jane groups=dev,system:authenticated"));
	}
	curl_easy_cleanup(h);
	ck_assert_uint_eq(server_authn_checks() - before, 1);
}
END_TEST

/* ---- authorization --------------------------------------------------------------------- */

START_TEST(test_forbidden_resource_messages)
{
	struct testlib_reply r =
		request("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/p1", NULL);

	testlib_assert_reply(&r, 403,
			     "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
			     "\"message\":\"pods.metrics.k8s.io \\\"p1\\\" is forbidden: User "
			     "\\\"system:anonymous\\\" cannot get resource \\\"pods\\\" in API group "
			     "\\\"metrics.k8s.io\\\" in the namespace \\\"default\\\"\",\"reason\":\"Forbidden\","
			     "\"details\":{\"name\":\"p1\",\"group\":\"metrics.k8s.io\",\"kind\":\"pods\"},"
			     "\"code\":403}\n");
	r = request("/apis/metrics.k8s.io/v1beta1/nodes?watch=true", NULL);
	testlib_assert_reply(&r, 403,
			     "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
			     "\"message\":\"nodes.metrics.k8s.io is forbidden: User \\\"system:anonymous\\\" "
			     "cannot watch resource \\\"nodes\\\" in API group \\\"metrics.k8s.io\\\" at the "
			     "cluster scope\",\"reason\":\"Forbidden\","
			     "\"details\":{\"group\":\"metrics.k8s.io\",\"kind\":\"nodes\"},\"code\":403}\n");
}
END_TEST

/* A review that fails: the 500 quotes the request-target as sent (raw,
 * query included), & < > as entities. */
START_TEST(test_review_failure_is_500)
{
	struct testlib_reply r;

	r = request("/apis/metrics.k8s.io/v1beta1/namespaces/a%2Db/pods?limit=500&"
		    "labelSelector=x%3Dy", &(struct testlib_call){
		.cert = "front-proxy-client", .headers = { "X-Remote-User: broken" } });
	testlib_assert_reply(&r, 500,
			     "Internal Server Error: \"/apis/metrics.k8s.io/v1beta1/namespaces/a%2Db/pods?"
			     "limit=500&amp;labelSelector=x%3Dy\": Post \"https://k/x\": &lt;down&gt; "
			     "&amp; out\n");
	ck_assert_str_eq(r.content_type, "text/plain; charset=utf-8");
}
END_TEST

START_TEST(test_request_attributes)
{
	struct server_attrs at;

	server_attrs_parse(&at, "GET", "/apis/metrics.k8s.io/v1beta1/nodes", NULL, false, NULL);
	ck_assert(at.is_resource);
	ck_assert_str_eq(at.verb, "list");
	ck_assert_str_eq(at.group, "metrics.k8s.io");
	ck_assert_str_eq(at.version, "v1beta1");
	ck_assert_str_eq(at.resource, "nodes");
	ck_assert_str_eq(at.name, "");
	server_attrs_parse(&at, "GET", "/apis/metrics.k8s.io/v1beta1/pods", "false", true,
			   "metadata.name==p9,metadata.namespace=x");
	ck_assert_str_eq(at.verb, "list");
	ck_assert_str_eq(at.name, "p9");
	ck_assert_str_eq(at.ns, "");
	server_attrs_parse(&at, "GET", "/apis/metrics.k8s.io/v1beta1/nodes", "", true, NULL);
	ck_assert_str_eq(at.verb, "watch");
	server_attrs_parse(&at, "GET", "/apis/metrics.k8s.io/v1beta1/namespaces/ns1/pods/p/log",
			   NULL, false, NULL);
	ck_assert_str_eq(at.verb, "get");
	ck_assert_str_eq(at.ns, "ns1");
	ck_assert_str_eq(at.resource, "pods");
	ck_assert_str_eq(at.name, "p");
	ck_assert_str_eq(at.subresource, "log");
	server_attrs_parse(&at, "POST", "/apis/metrics.k8s.io/v1beta1", NULL, false, NULL);
	ck_assert(!at.is_resource);
	ck_assert_str_eq(at.verb, "post");
	ck_assert_str_eq(at.path, "/apis/metrics.k8s.io/v1beta1");
	server_attrs_parse(&at, "DELETE", "/apis/g/v/namespaces/n/pods", NULL, false, NULL);
	ck_assert_str_eq(at.verb, "deletecollection");
}
END_TEST

START_TEST(test_always_allow_paths_and_masters)
{
	struct server_user anon = { .name = "system:anonymous", .anonymous = true };
	char *masters[] = { "system:masters" };
	struct server_user admin = { .name = "system:kube-aggregator", .groups = masters,
				     .ngroups = 1, .anonymous = false };
	struct server_attrs at;

	char *why = NULL;

	server_attrs_parse(&at, "GET", "/livez", NULL, false, NULL);
	ck_assert_int_eq(server_authz_decide(authz, &anon, &at, true, &why), SERVER_AUTHZ_ALLOW);
	server_attrs_parse(&at, "GET", "/livez/ping", NULL, false, NULL);
	ck_assert_int_eq(server_authz_decide(authz, &anon, &at, true, &why), SERVER_AUTHZ_DENY);
	ck_assert_ptr_null(why);
	server_attrs_parse(&at, "GET", "/metrics", NULL, false, NULL);
	ck_assert_int_eq(server_authz_decide(authz, &anon, &at, true, &why), SERVER_AUTHZ_DENY);
	ck_assert_int_eq(server_authz_decide(authz, &admin, &at, true, &why), SERVER_AUTHZ_ALLOW);
}
END_TEST

/* With may_block false, a review no cache answers is PENDING and not
 * made; once made (may_block), its cached answer needs no waiting. */
START_TEST(test_decide_without_blocking)
{
	struct server_user u = { .name = "carol" };
	struct server_attrs at;
	char *why = NULL;

	server_attrs_parse(&at, "GET", "/apis/metrics.k8s.io/v1beta1/nodes", NULL, false, NULL);
	ck_assert_int_eq(server_authz_decide(authz, &u, &at, false, &why), SERVER_AUTHZ_PENDING);
	ck_assert_uint_eq(server_authz_reviews(authz), 0);
	ck_assert_int_eq(server_authz_decide(authz, &u, &at, true, &why), SERVER_AUTHZ_ALLOW);
	ck_assert_uint_eq(server_authz_reviews(authz), 1);
	ck_assert_int_eq(server_authz_decide(authz, &u, &at, false, &why), SERVER_AUTHZ_ALLOW);
	ck_assert_uint_eq(server_authz_reviews(authz), 1);
}
END_TEST

/* ---- reviews that take their time ------------------------------------------------------ */

struct pending_call {
	pthread_t thread;
	const char *path;        /* NULL: the nodes list */
	char user_hdr[64];
	struct testlib_reply r;
};

static void *call_main(void *arg)
{
	struct pending_call *p = arg;

	p->r = request(p->path ? p->path : "/apis/metrics.k8s.io/v1beta1/nodes", &(struct testlib_call){
		.cert = "front-proxy-client", .headers = { p->user_hdr } });
	return NULL;
}

static void start_call(struct pending_call *p, const char *user)
{
	snprintf(p->user_hdr, sizeof(p->user_hdr), "X-Remote-User: %s", user);
	ck_assert_int_eq(pthread_create(&p->thread, NULL, call_main, p), 0);
}

#define ALICE "user=alice groups=g1,g2,system:authenticated " \
	      "authentication.kubernetes.io/credential-id=JTI=1"

/* A review that hangs holds only its own request: with both polling
 * threads' worth of such requests (and more) waiting, a system:masters
 * request and one whose review is cached are still answered; the waiting
 * ones are answered when their reviews are. */
START_TEST(test_slow_review_holds_only_its_request)
{
	struct pending_call calls[3] = { 0 };
	struct testlib_reply r;

	r = request("/apis/metrics.k8s.io/v1beta1/nodes", &front_proxy_alice);
	testlib_assert_reply(&r, 200, ALICE);
	for (size_t i = 0; i < COMMON_ARRAY_LEN(calls); i++) {
		char name[16];

		snprintf(name, sizeof(name), "gated-%zu", i);
		start_call(&calls[i], name);
	}
	ck_assert_msg(gate_wait_for(3), "the reviews did not start");
	r = request("/apis/metrics.k8s.io/v1beta1/nodes", &(struct testlib_call){
		.cert = "front-proxy-client",
		.headers = { "X-Remote-User: root", "X-Remote-Group: system:masters" } });
	testlib_assert_reply(&r, 200, "user=root groups=system:masters,system:authenticated");
	r = request("/apis/metrics.k8s.io/v1beta1/nodes", &front_proxy_alice);
	testlib_assert_reply(&r, 200, ALICE);
	gate_open();
	for (size_t i = 0; i < COMMON_ARRAY_LEN(calls); i++) {
		char want[64];

		pthread_join(calls[i].thread, NULL);
		snprintf(want, sizeof(want), "user=gated-%zu groups=system:authenticated", i);
		testlib_assert_reply(&calls[i].r, 200, want);
	}
}
END_TEST

static void *stop_main(void *arg)
{
	server_http_stop(arg);
	return NULL;
}

/* Stopping the server while requests wait: the reviews under way finish
 * and are answered; the ones still queued (9 requests, 8 workers) get the
 * shutting-down 429 at once. */
START_TEST(test_stop_while_reviews_wait)
{
	struct pending_call calls[9] = { 0 };
	size_t served = 0, refused = 0;
	pthread_t stopper;

	for (size_t i = 0; i < COMMON_ARRAY_LEN(calls); i++) {
		char name[16];

		snprintf(name, sizeof(name), "gated-%zu", i);
		start_call(&calls[i], name);
	}
	ck_assert_msg(gate_wait_for(8), "the reviews did not start");
	for (int i = 0; i < 1000 && server_http_waiting(http) < 9; i++)
		usleep(10 * 1000); /* the ninth request reaches the queue */
	ck_assert_int_eq(server_http_waiting(http), 9);
	ck_assert_int_eq(pthread_create(&stopper, NULL, stop_main, http), 0);
	usleep(200 * 1000);
	gate_open();
	pthread_join(stopper, NULL);
	http = NULL;
	for (size_t i = 0; i < COMMON_ARRAY_LEN(calls); i++) {
		pthread_join(calls[i].thread, NULL);
		ck_assert_msg(calls[i].r.rc == CURLE_OK, "call %zu: %s", i,
			      curl_easy_strerror(calls[i].r.rc));
		if (calls[i].r.status == 200) {
			served++;
		} else {
			ck_assert_int_eq(calls[i].r.status, 429);
			ck_assert_str_eq(calls[i].r.body,
					 "The apiserver is shutting down, please try again later.\n");
			refused++;
		}
	}
	ck_assert_uint_eq(served, 8);
	ck_assert_uint_eq(refused, 1);
}
END_TEST

/* The answer a request of user (the n-th at the gate) gets when its
 * review is held hold_ms, on a daemon with that --request-timeout. */
static struct testlib_reply held_reply(const char *user, int n, const char *query, int64_t timeout_ns,
			int hold_ms)
{
	struct pending_call p = { .path = NULL };
	char *path = xasprintf("/apis/metrics.k8s.io/v1beta1/nodes%s", query);

	gate.open = false;
	start_http(timeout_ns);
	p.path = path;
	start_call(&p, user);
	ck_assert(gate_wait_for(n));
	usleep((useconds_t)hold_ms * 1000);
	gate_open();
	pthread_join(p.thread, NULL);
	free(path);
	return p.r;
}

/* --request-timeout: a request whose review comes back after its deadline
 * gets WithTimeoutForNonLongRunningRequests' 504; ?timeout= shortens the
 * deadline (never lengthens it); one that is no Go duration is a 400. */
START_TEST(test_request_timeout)
{
	struct testlib_reply r;

	start_http(300 * NS_PER_MS);
	r = request("/apis/metrics.k8s.io/v1beta1/nodes", &front_proxy_alice);
	testlib_assert_reply(&r, 200, ALICE); /* a fast request is untouched */
	r = held_reply("gated-1", 1, "", 300 * NS_PER_MS, 500);
	testlib_assert_reply(&r, 504,
			     "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
			     "\"status\":\"Failure\",\"message\":\"Timeout: request did not "
			     "complete within the allotted timeout\",\"reason\":\"Timeout\","
			     "\"details\":{},\"code\":504}\n");
	r = request("/apis/metrics.k8s.io/v1beta1/nodes?timeout=1x", &front_proxy_alice);
	testlib_assert_reply(&r, 400,
			     "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
			     "\"status\":\"Failure\",\"message\":\"invalid timeout specified in "
			     "the request URL - time: unknown unit \\\"x\\\" in duration "
			     "\\\"1x\\\"\",\"reason\":\"BadRequest\",\"code\":400}\n");
	/* a longer ?timeout= does not lift the flag's deadline; without the
	 * flag, a ?timeout= alone sets it */
	ck_assert_int_eq(held_reply("gated-2", 2, "?timeout=10s", 300 * NS_PER_MS, 500).status, 504);
	ck_assert_int_eq(held_reply("gated-3", 3, "?timeout=200ms", 0, 400).status, 504);
}
END_TEST

/* ---- TLS ------------------------------------------------------------------------------------ */

START_TEST(test_tls11_refused)
{
	struct testlib_reply r = request("/livez", &(struct testlib_call){
		.tls_max = CURL_SSLVERSION_MAX_TLSv1_1 });

	ck_assert_int_eq(r.rc, CURLE_SSL_CONNECT_ERROR);
	ck_assert_int_eq(r.status, 0);
	r = request("/livez", &(struct testlib_call){ .tls_max = CURL_SSLVERSION_MAX_TLSv1_2 });
	testlib_assert_reply(&r, 200, "ok");
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("server_http");
	TCase *tc = tcase_create("https");
	TCase *unit = tcase_create("attributes");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_readyz_verbose);
	tcase_add_test(tc, test_livez_and_healthz_verbose);
	tcase_add_test(tc, test_readyz_failing);
	tcase_add_test(tc, test_readyz_exclude);
	tcase_add_test(tc, test_not_found_and_method);
	tcase_add_test(tc, test_body_too_large);
	tcase_add_test(tc, test_front_proxy_user);
	tcase_add_test(tc, test_headers_ignored_without_trusted_cert);
	tcase_add_test(tc, test_untrusted_cert_is_401);
	tcase_add_test(tc, test_keepalive_cert_checked_once);
	tcase_add_test(tc, test_forbidden_resource_messages);
	tcase_add_test(tc, test_always_allow_paths_and_masters);
	tcase_add_test(tc, test_review_failure_is_500);
	tcase_add_test(tc, test_decide_without_blocking);
	tcase_add_test(tc, test_slow_review_holds_only_its_request);
	tcase_add_test(tc, test_stop_while_reviews_wait);
	tcase_add_test(tc, test_request_timeout);
	tcase_add_test(tc, test_tls11_refused);
	suite_add_tcase(s, tc);
	tcase_set_timeout(unit, 10);
	tcase_add_test(unit, test_request_attributes);
	suite_add_tcase(s, unit);
	return s;
}

int main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = unit_run(http_suite());
	curl_global_cleanup();
	return rc;
}
