/*
 * check_server_authz.c - server/authz.c and authz_cache.c against a real
 * kubesim (build/kubesim, started once for the suite) over HTTPS: reviews
 * allowed and denied by RBAC objects and by kubesim's policy, the exact
 * 403 texts, cache hits counted by kubesim's review counter, both TTLs,
 * the review endpoint down (500 text, never cached), the always-allow
 * paths, system:masters, anonymous /version; kube/review.c's error texts.
 */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kube/kube.h"
#include "server/server.h"
#include "test/unit/testlib.h"
#include "test/unit/unit.h"

/* ---- kubesim, once for the suite ------------------------------------------------ */

static const char sim_config[] =
	"roles:\n"
	"- metadata: {name: metrics-reader, namespace: team-a}\n"
	"  rules: [{apiGroups: [metrics.k8s.io], resources: [pods], verbs: [get, list]}]\n"
	"rolebindings:\n"
	"- metadata: {name: jane-reads, namespace: team-a}\n"
	"  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: metrics-reader}\n"
	"  subjects: [{kind: User, name: jane, apiGroup: rbac.authorization.k8s.io}]\n"
	"clusterroles:\n"
	"- metadata: {name: nodes-reader}\n"
	"  rules: [{apiGroups: [metrics.k8s.io], resources: [nodes], verbs: [list]}]\n"
	"clusterrolebindings:\n"
	"- metadata: {name: ops-nodes}\n"
	"  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: nodes-reader}\n"
	"  subjects: [{kind: Group, name: ops, apiGroup: rbac.authorization.k8s.io}]\n"
	"policy:\n"
	"  rules:\n"
	"  - {user: mallory, verbs: ['*'], apiGroups: ['*'], resources: ['*'], allow: false,\n"
	"     reason: mallory is banned}\n";

static char sim_dir[] = "/tmp/check_server_authz.XXXXXX";
static pid_t sim_pid;
static char sim_url[128];

static void sim_start(void)
{
	sim_pid = testlib_kubesim_start(sim_dir, 1, 1, sim_config, sim_url, sizeof(sim_url));
}

static void sim_stop(void)
{
	testlib_kubesim_stop(sim_pid, sim_dir);
}

/* kubesim's count of SubjectAccessReviews answered. */
static long sim_reviews(void)
{
	struct kube_client *c = testlib_kubesim_client(sim_dir, NULL);
	json_t *out = NULL;
	char err[256];
	int status = 0;
	long n;

	ck_assert_int_eq(kube_request(c, "GET", "/kubesim/v1/stats", NULL, &status, &out, err,
				      sizeof(err)), 0);
	ck_assert_int_eq(status, 200);
	n = (long)json_integer_value(json_object_get(out, "subjectAccessReviews"));
	json_decref(out);
	kube_client_free(c);
	return n;
}

/* ---- an authorizer per test ---------------------------------------------------------- */

static struct server_config cfg;
static struct kube_client *client;
static struct server_authz *authz;

static void authz_start(const char *server, int64_t allowed_ttl, int64_t denied_ttl)
{
	server_authz_free(authz);
	kube_client_free(client);
	client = testlib_kubesim_client(sim_dir, server);
	cfg.authz.authorized_ttl_ns = allowed_ttl;
	cfg.authz.unauthorized_ttl_ns = denied_ttl;
	authz = server_authz_new(&(struct server_authz_options){ .flags = &cfg.authz,
								 .client = client });
}

static void setup(void)
{
	server_config_init(&cfg);
	authz_start(sim_url, 10 * NS_PER_SEC, 10 * NS_PER_SEC);
}

static void teardown(void)
{
	server_authz_free(authz);
	authz = NULL;
	kube_client_free(client);
	client = NULL;
	server_config_clear(&cfg);
}

static char *jane_groups[] = { "system:authenticated" };
static char *ops_groups[] = { "ops", "system:authenticated" };
static char *masters_groups[] = { "system:masters", "system:authenticated" };
static char *anon_groups[] = { "system:unauthenticated" };
static struct server_user jane = { .name = "jane", .groups = jane_groups, .ngroups = 1 };
static struct server_user ops = { .name = "olga", .groups = ops_groups, .ngroups = 2 };
static struct server_user admin = { .name = "root", .groups = masters_groups, .ngroups = 2 };
static struct server_user mallory = { .name = "mallory", .groups = jane_groups, .ngroups = 1 };
static struct server_user anon = { .name = "system:anonymous", .groups = anon_groups,
				   .ngroups = 1, .anonymous = true };

/* The decision for u on GET path (query fieldSelector/watch ignored). */
static enum server_authz_decision decide(const struct server_user *u, const char *path,
					 char **why)
{
	static struct server_attrs at;

	server_attrs_parse(&at, "GET", path, NULL, false, NULL);
	return server_authz_decide(authz, u, &at, true, why);
}

static void expect(const struct server_user *u, const char *path, enum server_authz_decision d,
		   const char *want_why)
{
	char *why = NULL;

	ck_assert_int_eq(decide(u, path, &why), d);
	if (want_why)
		ck_assert_str_eq(why ? why : "(null)", want_why);
	else
		ck_assert_msg(why == NULL, "unexpected text: %s", why);
	free(why);
}

/* The 403 body server_authz_forbid writes for u on GET path. */
static char *forbidden_body(const struct server_user *u, const char *path, const char *reason)
{
	struct server_exchange x = { .path = path };
	struct server_attrs at;
	size_t len;

	server_attrs_parse(&at, "GET", path, NULL, false, NULL);
	dynbuf_init(&x.body, DYN_SMALL);
	server_authz_forbid(&x, u, &at, reason);
	ck_assert_int_eq(x.status, 403);
	return dynbuf_take(&x.body, &len);
}

#define NS_PODS "/apis/metrics.k8s.io/v1beta1/namespaces/team-a/pods"

/* ---- tests ------------------------------------------------------------------------------ */

START_TEST(test_role_binding_allows_its_namespace_only)
{
	long before = sim_reviews();
	char *body;

	expect(&jane, NS_PODS, SERVER_AUTHZ_ALLOW, NULL);
	expect(&jane, NS_PODS "/p1", SERVER_AUTHZ_ALLOW, NULL);
	expect(&jane, "/apis/metrics.k8s.io/v1beta1/namespaces/team-b/pods", SERVER_AUTHZ_DENY, NULL);
	expect(&jane, "/apis/metrics.k8s.io/v1beta1/nodes", SERVER_AUTHZ_DENY, NULL);
	ck_assert_int_eq(sim_reviews() - before, 4);
	ck_assert_uint_eq(server_authz_reviews(authz), 4);
	body = forbidden_body(&jane, "/apis/metrics.k8s.io/v1beta1/namespaces/team-b/pods", NULL);
	ck_assert_str_eq(body,
			 "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
			 "\"Failure\",\"message\":\"pods.metrics.k8s.io is forbidden: User "
			 "\\\"jane\\\" cannot list resource \\\"pods\\\" in API group "
			 "\\\"metrics.k8s.io\\\" in the namespace \\\"team-b\\\"\",\"reason\":"
			 "\"Forbidden\",\"details\":{\"group\":\"metrics.k8s.io\",\"kind\":\"pods\"},"
			 "\"code\":403}\n");
	free(body);
}
END_TEST

START_TEST(test_cluster_role_binding_and_policy_reason)
{
	char *why = NULL, *body;

	expect(&ops, "/apis/metrics.k8s.io/v1beta1/nodes", SERVER_AUTHZ_ALLOW, NULL);
	expect(&ops, "/apis/metrics.k8s.io/v1beta1/nodes/node-0", SERVER_AUTHZ_DENY, NULL); /* get */
	/* kubesim's policy (before RBAC) denies with a reason, appended to the 403 */
	ck_assert_int_eq(decide(&mallory, NS_PODS, &why), SERVER_AUTHZ_DENY);
	ck_assert_str_eq(why, "mallory is banned");
	body = forbidden_body(&mallory, NS_PODS, why);
	ck_assert_ptr_nonnull(strstr(body, "\"message\":\"pods.metrics.k8s.io is forbidden: User "
					   "\\\"mallory\\\" cannot list resource \\\"pods\\\" in API "
					   "group \\\"metrics.k8s.io\\\" in the namespace "
					   "\\\"team-a\\\": mallory is banned\""));
	free(body);
	free(why);
}
END_TEST

START_TEST(test_cache_hits_make_no_review)
{
	long before = sim_reviews();

	for (int i = 0; i < 50; i++) {
		expect(&jane, NS_PODS, SERVER_AUTHZ_ALLOW, NULL);
		expect(&jane, "/apis/metrics.k8s.io/v1beta1/namespaces/team-b/pods",
		       SERVER_AUTHZ_DENY, NULL);
	}
	ck_assert_int_eq(sim_reviews() - before, 2);
	ck_assert_uint_eq(server_authz_reviews(authz), 2);
	/* another user, another key */
	expect(&ops, NS_PODS, SERVER_AUTHZ_DENY, NULL);
	ck_assert_int_eq(sim_reviews() - before, 3);
}
END_TEST

START_TEST(test_ttls_expire)
{
	long before;

	authz_start(sim_url, 300 * NS_PER_MS, 0);
	before = sim_reviews();
	expect(&jane, NS_PODS, SERVER_AUTHZ_ALLOW, NULL);
	expect(&jane, NS_PODS, SERVER_AUTHZ_ALLOW, NULL);
	ck_assert_int_eq(sim_reviews() - before, 1);
	usleep(400 * 1000);
	expect(&jane, NS_PODS, SERVER_AUTHZ_ALLOW, NULL);
	ck_assert_int_eq(sim_reviews() - before, 2);
	/* unauthorized TTL 0: every denial is asked again */
	expect(&jane, "/apis/metrics.k8s.io/v1beta1/nodes", SERVER_AUTHZ_DENY, NULL);
	expect(&jane, "/apis/metrics.k8s.io/v1beta1/nodes", SERVER_AUTHZ_DENY, NULL);
	ck_assert_int_eq(sim_reviews() - before, 4);
	/* and the other way round */
	authz_start(sim_url, 0, 300 * NS_PER_MS);
	before = sim_reviews();
	expect(&jane, "/apis/metrics.k8s.io/v1beta1/nodes", SERVER_AUTHZ_DENY, NULL);
	expect(&jane, "/apis/metrics.k8s.io/v1beta1/nodes", SERVER_AUTHZ_DENY, NULL);
	expect(&jane, NS_PODS, SERVER_AUTHZ_ALLOW, NULL);
	expect(&jane, NS_PODS, SERVER_AUTHZ_ALLOW, NULL);
	ck_assert_int_eq(sim_reviews() - before, 3);
	usleep(400 * 1000);
	expect(&jane, "/apis/metrics.k8s.io/v1beta1/nodes", SERVER_AUTHZ_DENY, NULL);
	ck_assert_int_eq(sim_reviews() - before, 4);
}
END_TEST

START_TEST(test_review_endpoint_down)
{
	int port = testlib_free_port();
	char *server = xasprintf("https://127.0.0.1:%d", port);
	char *want = xasprintf("Post \"https://127.0.0.1:%d/apis/authorization.k8s.io/v1/"
			       "subjectaccessreviews?timeout=10s\": dial tcp 127.0.0.1:%d: "
			       "connect: connection refused", port, port);
	char *body;
	struct server_exchange x = { .path = "/apis/metrics.k8s.io/v1beta1/nodes" };
	size_t len;

	authz_start(server, 10 * NS_PER_SEC, 10 * NS_PER_SEC);
	expect(&jane, NS_PODS, SERVER_AUTHZ_ERROR, want);
	expect(&jane, NS_PODS, SERVER_AUTHZ_ERROR, want); /* errors are not cached */
	ck_assert_uint_eq(server_authz_reviews(authz), 2);
	/* masters and the paths need no review */
	expect(&admin, NS_PODS, SERVER_AUTHZ_ALLOW, NULL);
	expect(&anon, "/readyz", SERVER_AUTHZ_ALLOW, NULL);
	ck_assert_uint_eq(server_authz_reviews(authz), 2);
	dynbuf_init(&x.body, DYN_SMALL);
	server_authz_fail(&x, "/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=a%3Db&limit=500",
			  want);
	ck_assert_int_eq(x.status, 500);
	ck_assert_str_eq(x.content_type, "text/plain; charset=utf-8");
	body = dynbuf_take(&x.body, &len);
	free(want);
	want = xasprintf("Internal Server Error: \"/apis/metrics.k8s.io/v1beta1/nodes?"
			 "labelSelector=a%%3Db&amp;limit=500\": Post \"https://127.0.0.1:%d/apis/"
			 "authorization.k8s.io/v1/subjectaccessreviews?timeout=10s\": dial tcp "
			 "127.0.0.1:%d: connect: connection refused\n", port, port);
	ck_assert_str_eq(body, want);
	free(body);
	free(want);
	free(server);
}
END_TEST

START_TEST(test_paths_masters_and_public_info)
{
	long before = sim_reviews();

	expect(&anon, "/healthz", SERVER_AUTHZ_ALLOW, NULL);
	expect(&anon, "/livez", SERVER_AUTHZ_ALLOW, NULL);
	expect(&admin, "/apis/metrics.k8s.io/v1beta1/nodes", SERVER_AUTHZ_ALLOW, NULL);
	expect(&admin, "/metrics", SERVER_AUTHZ_ALLOW, NULL);
	ck_assert_int_eq(sim_reviews() - before, 0);
	/* anonymous /version: system:public-info-viewer, through the review */
	expect(&anon, "/version", SERVER_AUTHZ_ALLOW, NULL);
	/* not on the list: reviewed, and RBAC has no opinion */
	expect(&anon, "/healthz/ping", SERVER_AUTHZ_DENY, NULL);
	expect(&anon, "/apis/metrics.k8s.io/v1beta1", SERVER_AUTHZ_DENY, NULL);
	expect(&anon, "/metrics", SERVER_AUTHZ_DENY, NULL);
	/* the aggregator's discovery identity: system:discovery */
	expect(&(struct server_user){ .name = "system:kube-aggregator", .groups = jane_groups,
				      .ngroups = 1 },
	       "/apis/metrics.k8s.io/v1beta1", SERVER_AUTHZ_ALLOW, NULL);
	ck_assert_int_eq(sim_reviews() - before, 5);
}
END_TEST

START_TEST(test_paths_flag)
{
	char *paths[] = { "/metrics", "/debug/*" };
	struct server_strlist defaults = cfg.authz.always_allow_paths;

	cfg.authz.always_allow_paths.items = paths; /* borrowed for this test */
	cfg.authz.always_allow_paths.n = 2;
	expect(&anon, "/metrics", SERVER_AUTHZ_ALLOW, NULL);
	expect(&anon, "/debug/pprof/heap", SERVER_AUTHZ_ALLOW, NULL);
	expect(&anon, "/healthz", SERVER_AUTHZ_ALLOW, NULL); /* public-info-viewer, reviewed */
	ck_assert_uint_eq(server_authz_reviews(authz), 1);
	/* resource requests are never on the path list */
	cfg.authz.always_allow_paths.items[1] = "/apis/*";
	expect(&anon, NS_PODS, SERVER_AUTHZ_DENY, NULL);
	cfg.authz.always_allow_paths = defaults;
}
END_TEST

/* ---- the cache alone, with a stand-in review -------------------------------------- */

static int stub_calls;

static int stub_review(void *ud, json_t *review, json_t **status, char *err, size_t errlen)
{
	const char *user = json_string_value(json_object_get(json_object_get(review, "spec"),
							     "user"));

	(void)ud;
	(void)err;
	(void)errlen;
	stub_calls++;
	*status = user && user[0] == 'd' ? json_pack("{s:b,s:b,s:s}", "allowed", 0, "denied", 1,
						     "reason", "no")
					 : json_pack("{s:b,s:s}", "allowed", 1, "reason", "yes");
	return 0;
}

START_TEST(test_lru_keeps_8192_answers)
{
	struct server_user u = { .groups = jane_groups, .ngroups = 1 };
	char name[32];
	char *why = NULL;

	stub_calls = 0;
	server_authz_free(authz);
	authz = server_authz_new(&(struct server_authz_options){ .flags = &cfg.authz,
								 .review = stub_review });
	for (int i = 0; i < 8192; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		u.name = name;
		ck_assert_int_eq(decide(&u, NS_PODS, &why), SERVER_AUTHZ_ALLOW);
	}
	u.name = "u0"; /* now the most recently used */
	ck_assert_int_eq(decide(&u, NS_PODS, &why), SERVER_AUTHZ_ALLOW);
	ck_assert_int_eq(stub_calls, 8192);
	u.name = "u-new"; /* evicts u1, the least recently used */
	ck_assert_int_eq(decide(&u, NS_PODS, &why), SERVER_AUTHZ_ALLOW);
	u.name = "u0";
	ck_assert_int_eq(decide(&u, NS_PODS, &why), SERVER_AUTHZ_ALLOW);
	ck_assert_int_eq(stub_calls, 8193);
	u.name = "u1";
	ck_assert_int_eq(decide(&u, NS_PODS, &why), SERVER_AUTHZ_ALLOW);
	ck_assert_int_eq(stub_calls, 8194);
	/* an explicit denial keeps its reason through the cache */
	u.name = "dan";
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(decide(&u, NS_PODS, &why), SERVER_AUTHZ_DENY);
		ck_assert_str_eq(why, "no");
		free(why);
	}
	ck_assert_int_eq(stub_calls, 8195);
	/* the same user and verb on another path or with other groups: other keys */
	u.name = "u1";
	u.ngroups = 0;
	ck_assert_int_eq(decide(&u, NS_PODS, &why), SERVER_AUTHZ_ALLOW);
	ck_assert_int_eq(decide(&u, NS_PODS "/p1", &why), SERVER_AUTHZ_ALLOW);
	ck_assert_int_eq(stub_calls, 8197);
}
END_TEST

static void stub_setup(void)
{
	server_config_init(&cfg);
}

static Suite *suite(void)
{
	Suite *s = suite_create("server_authz");
	TCase *tc = tcase_create("kubesim");
	TCase *cache = tcase_create("cache");

	tcase_add_unchecked_fixture(tc, sim_start, sim_stop);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_role_binding_allows_its_namespace_only);
	tcase_add_test(tc, test_cluster_role_binding_and_policy_reason);
	tcase_add_test(tc, test_cache_hits_make_no_review);
	tcase_add_test(tc, test_ttls_expire);
	tcase_add_test(tc, test_review_endpoint_down);
	tcase_add_test(tc, test_paths_masters_and_public_info);
	tcase_add_test(tc, test_paths_flag);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(cache, stub_setup, teardown);
	tcase_set_timeout(cache, 30);
	tcase_add_test(cache, test_lru_keeps_8192_answers);
	suite_add_tcase(s, cache);
	return s;
}

int main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = unit_run(suite());
	curl_global_cleanup();
	return rc;
}
