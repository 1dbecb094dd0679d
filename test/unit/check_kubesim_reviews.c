/* check_kubesim_reviews.c - TokenReview and SubjectAccessReview against a policy. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "test/kubesim/apiserver.h"
#include "test/kubesim/kubesim.h"
#include "test/unit/unit.h"

static const char policy_json[] =
	"{\"policy\":{"
	"\"tokens\":[{\"token\":\"t-jane\",\"user\":\"jane\",\"uid\":\"1001\","
	"\"groups\":[\"dev\"],\"extra\":{\"team\":[\"blue\"]}}],"
	"\"rules\":["
	"{\"user\":\"mallory\",\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],\"resources\":[\"*\"],"
	"\"allow\":false},"
	"{\"group\":\"dev\",\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"metrics.k8s.io\"],"
	"\"resources\":[\"pods\"],\"namespaces\":[\"default\"],\"allow\":true},"
	"{\"user\":\"*\",\"verbs\":[\"get\"],\"groups\":[\"\"],\"resources\":[\"pods/*\"],"
	"\"names\":[\"p1\"],\"allow\":true,\"reason\":\"logs for everyone\"},"
	"{\"user\":\"prom\",\"nonResourceURLs\":[\"/metrics\"],\"verbs\":[\"get\"],"
	"\"allow\":true}]}}";

static struct sim_cluster cl;

static void setup(void)
{
	memset(&cl, 0, sizeof(cl));
	cl.cfg.extra = json_loads(policy_json, 0, NULL);
	cl.cfg.token = "admin-token";
	ck_assert_ptr_nonnull(cl.cfg.extra);
}

static void teardown(void)
{
	json_decref(cl.cfg.extra);
}

typedef void (*review_fn)(struct sim_cluster *, const struct sim_request *,
			  struct sim_response *);

/* Posts body; returns the review's `status` object dumped, or for a Status
 * error "<reason>: <message>".  *code gets the HTTP status. */
static char *post(review_fn fn, const char *body, int *code)
{
	struct sim_request req = {.method = "POST", .path = "/", .query = "",
				  .body = body, .body_len = strlen(body)};
	struct sim_response resp;
	json_t *j, *st;
	char *out;

	sim_response_init(&resp);
	fn(&cl, &req, &resp);
	*code = resp.status;
	ck_assert_str_eq(resp.content_type, "application/json");
	j = json_loadb(resp.body.buf, resp.body.len, 0, NULL);
	ck_assert_ptr_nonnull(j);
	if (*code == 201) {
		out = json_dumps(json_object_get(j, "status"), JSON_COMPACT);
	} else {
		st = json_pack("[O, O]", json_object_get(j, "reason"), json_object_get(j, "message"));
		ck_assert_ptr_nonnull(st);
		ck_assert_int_eq(json_integer_value(json_object_get(j, "code")), *code);
		ck_assert_int_ge(asprintf(&out, "%s: %s", json_string_value(json_array_get(st, 0)),
					  json_string_value(json_array_get(st, 1))), 0);
		json_decref(st);
	}
	json_decref(j);
	sim_response_clear(&resp);
	return out;
}

static void expect(review_fn fn, const char *body, int want_code, const char *want)
{
	int code;
	char *got = post(fn, body, &code);

	ck_assert_int_eq(code, want_code);
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_token_review)
{
	struct sim_request req = {.method = "POST", .path = "/", .query = ""};
	struct sim_response resp;
	char *s;
	json_t *j;

	expect(sim_reviews_token,
	       "{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1\","
	       "\"metadata\":{},\"spec\":{\"token\":\"t-jane\"}}", 201,
	       "{\"authenticated\":true,\"user\":{\"username\":\"jane\",\"uid\":\"1001\","
	       "\"groups\":[\"dev\",\"system:authenticated\"],\"extra\":{\"team\":[\"blue\"]}},"
	       "\"audiences\":[\"https://kubernetes.default.svc.cluster.local\"]}");
	expect(sim_reviews_token, "{\"spec\":{\"token\":\"nope\"}}", 201,
	       "{\"user\":{},\"error\":\"invalid bearer token\"}");
	expect(sim_reviews_token, "{\"spec\":{\"token\":\"admin-token\",\"audiences\":[\"a\"]}}",
	       201,
	       "{\"authenticated\":true,\"user\":{\"username\":\"kubesim-admin\",\"groups\":"
	       "[\"system:masters\",\"system:authenticated\"]},\"audiences\":[\"a\"]}");
	expect(sim_reviews_token, "{\"spec\":{}}", 400,
	       "BadRequest: token is required for TokenReview in authentication");
	/* The whole object: spec echoed, metadata as kube-apiserver returns it. */
	req.body = "{\"kind\":\"TokenReview\",\"spec\":{\"token\":\"nope\"}}";
	req.body_len = strlen(req.body);
	sim_response_init(&resp);
	sim_reviews_token(&cl, &req, &resp);
	j = json_loadb(resp.body.buf, resp.body.len, 0, NULL);
	s = json_dumps(j, JSON_COMPACT);
	ck_assert_str_eq(s, "{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1\","
			    "\"metadata\":{\"creationTimestamp\":null},\"spec\":{\"token\":\"nope\"},"
			    "\"status\":{\"user\":{},\"error\":\"invalid bearer token\"}}");
	free(s);
	json_decref(j);
	sim_response_clear(&resp);
}
END_TEST

static const char allowed_masters[] =
	"{\"allowed\":true,\"reason\":\"RBAC: allowed by ClusterRoleBinding \\\"cluster-admin\\\" "
	"of ClusterRole \\\"cluster-admin\\\" to Group \\\"system:masters\\\"\"}";

START_TEST(test_access_review_rules)
{
	/* system:masters beats an explicit deny of the user. */
	expect(sim_reviews_access,
	       "{\"spec\":{\"user\":\"mallory\",\"groups\":[\"system:masters\"],"
	       "\"resourceAttributes\":{\"verb\":\"delete\",\"resource\":\"nodes\"}}}",
	       201, allowed_masters);
	expect(sim_reviews_access,
	       "{\"spec\":{\"user\":\"mallory\",\"resourceAttributes\":{\"verb\":\"get\","
	       "\"resource\":\"pods\"}}}",
	       201, "{\"allowed\":false,\"denied\":true,\"reason\":\"kubesim policy: denied by rule 0\"}");
	expect(sim_reviews_access,
	       "{\"spec\":{\"user\":\"jane\",\"groups\":[\"dev\"],\"resourceAttributes\":"
	       "{\"namespace\":\"default\",\"verb\":\"list\",\"group\":\"metrics.k8s.io\","
	       "\"version\":\"v1beta1\",\"resource\":\"pods\"}}}",
	       201, "{\"allowed\":true,\"reason\":\"kubesim policy: allowed by rule 1\"}");
	/* Same user, other namespace, cluster scope, other verb: no rule. */
	expect(sim_reviews_access,
	       "{\"spec\":{\"user\":\"jane\",\"groups\":[\"dev\"],\"resourceAttributes\":"
	       "{\"namespace\":\"kube-system\",\"verb\":\"list\",\"group\":\"metrics.k8s.io\","
	       "\"resource\":\"pods\"}}}",
	       201, "{\"allowed\":false}");
	expect(sim_reviews_access,
	       "{\"spec\":{\"user\":\"jane\",\"groups\":[\"dev\"],\"resourceAttributes\":"
	       "{\"verb\":\"list\",\"group\":\"metrics.k8s.io\",\"resource\":\"pods\"}}}",
	       201, "{\"allowed\":false}");
	/* Subresource wildcard and resourceNames. */
	expect(sim_reviews_access,
	       "{\"spec\":{\"user\":\"bob\",\"resourceAttributes\":{\"verb\":\"get\","
	       "\"resource\":\"pods\",\"subresource\":\"log\",\"name\":\"p1\"}}}",
	       201, "{\"allowed\":true,\"reason\":\"logs for everyone\"}");
	expect(sim_reviews_access,
	       "{\"spec\":{\"user\":\"bob\",\"resourceAttributes\":{\"verb\":\"get\","
	       "\"resource\":\"pods\",\"subresource\":\"log\",\"name\":\"p2\"}}}",
	       201, "{\"allowed\":false}");
}
END_TEST

START_TEST(test_access_review_non_resource)
{
	expect(sim_reviews_access,
	       "{\"spec\":{\"user\":\"prom\",\"nonResourceAttributes\":{\"path\":\"/metrics\","
	       "\"verb\":\"get\"}}}",
	       201, "{\"allowed\":true,\"reason\":\"kubesim policy: allowed by rule 3\"}");
	/* The aggregator's discovery fallback: bootstrap system:discovery. */
	expect(sim_reviews_access,
	       "{\"spec\":{\"user\":\"system:kube-aggregator\",\"groups\":"
	       "[\"system:authenticated\"],\"nonResourceAttributes\":{\"path\":"
	       "\"/apis/metrics.k8s.io/v1beta1\",\"verb\":\"get\"}}}",
	       201,
	       "{\"allowed\":true,\"reason\":\"RBAC: allowed by ClusterRoleBinding "
	       "\\\"system:discovery\\\" of ClusterRole \\\"system:discovery\\\" to Group "
	       "\\\"system:authenticated\\\"\"}");
	expect(sim_reviews_access,
	       "{\"spec\":{\"user\":\"system:anonymous\",\"groups\":"
	       "[\"system:unauthenticated\"],\"nonResourceAttributes\":{\"path\":"
	       "\"/apis/metrics.k8s.io/v1beta1\",\"verb\":\"get\"}}}",
	       201, "{\"allowed\":false}");
	expect(sim_reviews_access,
	       "{\"spec\":{\"user\":\"prom\",\"nonResourceAttributes\":{\"path\":\"/metrics\","
	       "\"verb\":\"post\"}}}",
	       201, "{\"allowed\":false}");
}
END_TEST

START_TEST(test_access_review_invalid)
{
	expect(sim_reviews_access, "{\"spec\":{\"user\":\"jane\"}}", 422,
	       "Invalid: SubjectAccessReview.authorization.k8s.io \"\" is invalid: "
	       "spec.resourceAttributes: Invalid value: \"null\": exactly one of "
	       "nonResourceAttributes or resourceAttributes must be specified");
	expect(sim_reviews_access,
	       "{\"spec\":{\"nonResourceAttributes\":{\"path\":\"/\",\"verb\":\"get\"}}}", 422,
	       "Invalid: SubjectAccessReview.authorization.k8s.io \"\" is invalid: "
	       "spec.user: Invalid value: \"\": at least one of user or group must be specified");
	expect(sim_reviews_access, "[1]", 400,
	       "BadRequest: the body of the request is not a JSON object: wrong type");
}
END_TEST

/* ---- RBAC objects in a store ---------------------------------------------------- */

static const char rbac_objects[] =
	"{\"roles\":[{\"metadata\":{\"name\":\"metrics-reader\",\"namespace\":\"team-a\"},"
	"\"rules\":[{\"apiGroups\":[\"metrics.k8s.io\"],\"resources\":[\"pods\"],"
	"\"verbs\":[\"get\",\"list\"]},{\"apiGroups\":[\"apps\"],\"resources\":[\"*/scale\"],"
	"\"resourceNames\":[\"web\"],\"verbs\":[\"get\"]}]}],"
	"\"clusterroles\":[{\"metadata\":{\"name\":\"system:aggregated-metrics-reader\","
	"\"labels\":{\"rbac.authorization.k8s.io/aggregate-to-view\":\"true\","
	"\"rbac.authorization.k8s.io/aggregate-to-edit\":\"true\","
	"\"rbac.authorization.k8s.io/aggregate-to-admin\":\"true\"}},"
	"\"rules\":[{\"apiGroups\":[\"metrics.k8s.io\"],\"resources\":[\"pods\",\"nodes\"],"
	"\"verbs\":[\"get\",\"list\",\"watch\"]}]},"
	"{\"metadata\":{\"name\":\"pods-lister\"},\"rules\":[{\"apiGroups\":[\"metrics.k8s.io\"],"
	"\"resources\":[\"pods\"],\"verbs\":[\"list\"]}]}],"
	"\"rolebindings\":["
	"{\"metadata\":{\"name\":\"jane-reads\",\"namespace\":\"team-a\"},\"roleRef\":{\"kind\":"
	"\"Role\",\"name\":\"metrics-reader\"},\"subjects\":[{\"kind\":\"User\",\"name\":\"jane\"}]},"
	"{\"metadata\":{\"name\":\"viewer\",\"namespace\":\"team-b\"},\"roleRef\":{\"kind\":"
	"\"ClusterRole\",\"name\":\"view\"},\"subjects\":[{\"kind\":\"User\",\"name\":\"vic\"}]},"
	"{\"metadata\":{\"name\":\"lister\",\"namespace\":\"team-b\"},\"roleRef\":{\"kind\":"
	"\"ClusterRole\",\"name\":\"pods-lister\"},\"subjects\":[{\"kind\":\"ServiceAccount\","
	"\"name\":\"bot\"}]},"
	"{\"metadata\":{\"name\":\"broken\",\"namespace\":\"team-b\"},\"roleRef\":{\"kind\":"
	"\"Role\",\"name\":\"ghost\"},\"subjects\":[{\"kind\":\"User\",\"name\":\"gus\"}]}],"
	"\"clusterrolebindings\":["
	"{\"metadata\":{\"name\":\"hpa-lists\"},\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":"
	"\"pods-lister\"},\"subjects\":[{\"kind\":\"Group\",\"name\":\"hpa\"}]},"
	"{\"metadata\":{\"name\":\"metrics-server:system:auth-delegator\"},\"roleRef\":{\"kind\":"
	"\"ClusterRole\",\"name\":\"system:auth-delegator\"},\"subjects\":[{\"kind\":"
	"\"ServiceAccount\",\"name\":\"metrics-server\",\"namespace\":\"kube-system\"}]}]}";

static void rbac_setup(void)
{
	static const char *const resources[] = { "clusterroles", "clusterrolebindings", "roles",
						 "rolebindings" };
	json_t *boot = sim_rbac_bootstrap(), *mine = json_loads(rbac_objects, 0, NULL), *o;
	size_t i, j;

	setup();
	ck_assert_ptr_nonnull(mine);
	cl.store = sim_store_new(0);
	for (i = 0; i < COMMON_ARRAY_LEN(resources); i++) {
		json_array_foreach(json_object_get(boot, resources[i]), j, o)
			ck_assert_int_eq(sim_store_create(cl.store, resources[i], o), 0);
		json_array_foreach(json_object_get(mine, resources[i]), j, o)
			ck_assert_int_eq(sim_store_create(cl.store, resources[i], o), 0);
	}
	json_decref(boot);
	json_decref(mine);
}

static void rbac_teardown(void)
{
	sim_store_free(cl.store);
	cl.store = NULL;
	teardown();
}

/* The status for user (groups: a JSON array text) asking resource attrs. */
static void expect_ra(const char *user, const char *groups, const char *attrs, const char *want)
{
	char *body = xasprintf("{\"spec\":{\"user\":\"%s\",\"groups\":%s,\"resourceAttributes\":%s}}",
			       user, groups, attrs);

	expect(sim_reviews_access, body, 201, want);
	free(body);
}

#define PODS_IN(ns) "{\"namespace\":\"" ns "\",\"verb\":\"list\",\"group\":\"metrics.k8s.io\"," \
		    "\"version\":\"v1beta1\",\"resource\":\"pods\"}"
#define AUTHN "[\"system:authenticated\"]"
#define DENIED "{\"allowed\":false}"

START_TEST(test_rbac_role_binding_namespace_only)
{
	expect_ra("jane", AUTHN, PODS_IN("team-a"),
		  "{\"allowed\":true,\"reason\":\"RBAC: allowed by RoleBinding "
		  "\\\"jane-reads/team-a\\\" of Role \\\"metrics-reader\\\" to User \\\"jane\\\"\"}");
	expect_ra("jane", AUTHN, PODS_IN("team-b"), DENIED);
	expect_ra("jane", AUTHN, PODS_IN(""), DENIED); /* all namespaces: cluster scope */
	expect_ra("jane", AUTHN, "{\"verb\":\"list\",\"group\":\"metrics.k8s.io\",\"resource\":"
				 "\"nodes\"}", DENIED);
	expect_ra("janet", AUTHN, PODS_IN("team-a"), DENIED); /* no binding */
	/* a "*\/scale" resource with resourceNames */
	expect_ra("jane", AUTHN, "{\"namespace\":\"team-a\",\"verb\":\"get\",\"group\":\"apps\","
				 "\"resource\":\"deployments\",\"subresource\":\"scale\",\"name\":"
				 "\"web\"}",
		  "{\"allowed\":true,\"reason\":\"RBAC: allowed by RoleBinding "
		  "\\\"jane-reads/team-a\\\" of Role \\\"metrics-reader\\\" to User \\\"jane\\\"\"}");
	expect_ra("jane", AUTHN, "{\"namespace\":\"team-a\",\"verb\":\"get\",\"group\":\"apps\","
				 "\"resource\":\"deployments\",\"subresource\":\"scale\",\"name\":"
				 "\"db\"}", DENIED);
	/* the binding deleted: denied again */
	ck_assert_int_eq(sim_store_delete(cl.store, "rolebindings", "team-a", "jane-reads"), 0);
	expect_ra("jane", AUTHN, PODS_IN("team-a"), DENIED);
}
END_TEST

START_TEST(test_rbac_cluster_role_binding_everywhere)
{
	static const char want[] =
		"{\"allowed\":true,\"reason\":\"RBAC: allowed by ClusterRoleBinding "
		"\\\"hpa-lists\\\" of ClusterRole \\\"pods-lister\\\" to Group \\\"hpa\\\"\"}";

	expect_ra("h", "[\"hpa\",\"system:authenticated\"]", PODS_IN("team-a"), want);
	expect_ra("h", "[\"hpa\",\"system:authenticated\"]", PODS_IN("kube-system"), want);
	expect_ra("h", "[\"hpa\",\"system:authenticated\"]", PODS_IN(""), want);
	expect_ra("h", "[\"hpa\"]", "{\"namespace\":\"team-a\",\"verb\":\"get\",\"group\":"
				    "\"metrics.k8s.io\",\"resource\":\"pods\",\"name\":\"p\"}", DENIED);
	/* a ServiceAccount subject with its namespace */
	expect_ra("system:serviceaccount:kube-system:metrics-server",
		  "[\"system:serviceaccounts\",\"system:authenticated\"]",
		  "{\"verb\":\"create\",\"group\":\"authorization.k8s.io\",\"resource\":"
		  "\"subjectaccessreviews\"}",
		  "{\"allowed\":true,\"reason\":\"RBAC: allowed by ClusterRoleBinding "
		  "\\\"metrics-server:system:auth-delegator\\\" of ClusterRole "
		  "\\\"system:auth-delegator\\\" to ServiceAccount \\\"metrics-server/kube-system\\\"\"}");
	expect_ra("system:serviceaccount:default:metrics-server", AUTHN,
		  "{\"verb\":\"create\",\"group\":\"authorization.k8s.io\",\"resource\":"
		  "\"subjectaccessreviews\"}", DENIED);
}
END_TEST

START_TEST(test_rbac_cluster_role_in_namespace_and_aggregation)
{
	/* RoleBinding of the aggregated view role: metrics-server's reader joins it by label */
	expect_ra("vic", AUTHN, PODS_IN("team-b"),
		  "{\"allowed\":true,\"reason\":\"RBAC: allowed by RoleBinding \\\"viewer/team-b\\\" "
		  "of ClusterRole \\\"view\\\" to User \\\"vic\\\"\"}");
	expect_ra("vic", AUTHN, PODS_IN("team-a"), DENIED);
	/* a namespace-less ServiceAccount subject is the binding's namespace's */
	expect_ra("system:serviceaccount:team-b:bot", AUTHN, PODS_IN("team-b"),
		  "{\"allowed\":true,\"reason\":\"RBAC: allowed by RoleBinding \\\"lister/team-b\\\" "
		  "of ClusterRole \\\"pods-lister\\\" to ServiceAccount \\\"bot/team-b\\\"\"}");
	expect_ra("system:serviceaccount:team-a:bot", AUTHN, PODS_IN("team-b"), DENIED);
	/* a binding to a missing role: no opinion, with the error as reason */
	expect_ra("gus", AUTHN, PODS_IN("team-b"),
		  "{\"allowed\":false,\"reason\":\"RBAC: role.rbac.authorization.k8s.io "
		  "\\\"ghost\\\" not found\"}");
}
END_TEST

START_TEST(test_rbac_after_policy_and_masters)
{
	/* policy rules come first: mallory's deny even with an RBAC grant */
	json_t *b = json_pack("{s:{s:s,s:s},s:{s:s,s:s},s:[{s:s,s:s}]}", "metadata", "name", "m",
			      "namespace", "team-a", "roleRef", "kind", "Role", "name",
			      "metrics-reader", "subjects", "kind", "User", "name", "mallory");

	ck_assert_int_eq(sim_store_create(cl.store, "rolebindings", b), 0);
	json_decref(b);
	expect_ra("mallory", AUTHN, PODS_IN("team-a"),
		  "{\"allowed\":false,\"denied\":true,\"reason\":\"kubesim policy: denied by rule 0\"}");
	expect_ra("root", "[\"system:masters\"]", PODS_IN("team-a"), allowed_masters);
	/* the bootstrap bindings are objects: deleting system:discovery takes it away */
	expect(sim_reviews_access,
	       "{\"spec\":{\"user\":\"u\",\"groups\":[\"system:authenticated\"],"
	       "\"nonResourceAttributes\":{\"path\":\"/apis\",\"verb\":\"get\"}}}", 201,
	       "{\"allowed\":true,\"reason\":\"RBAC: allowed by ClusterRoleBinding "
	       "\\\"system:discovery\\\" of ClusterRole \\\"system:discovery\\\" to Group "
	       "\\\"system:authenticated\\\"\"}");
	ck_assert_int_eq(sim_store_delete(cl.store, "clusterrolebindings", NULL,
					  "system:discovery"), 0);
	expect(sim_reviews_access,
	       "{\"spec\":{\"user\":\"u\",\"groups\":[\"system:authenticated\"],"
	       "\"nonResourceAttributes\":{\"path\":\"/apis\",\"verb\":\"get\"}}}", 201, DENIED);
	/* /version stays public (system:public-info-viewer) */
	expect(sim_reviews_access,
	       "{\"spec\":{\"user\":\"system:anonymous\",\"groups\":[\"system:unauthenticated\"],"
	       "\"nonResourceAttributes\":{\"path\":\"/version\",\"verb\":\"get\"}}}", 201,
	       "{\"allowed\":true,\"reason\":\"RBAC: allowed by ClusterRoleBinding "
	       "\\\"system:public-info-viewer\\\" of ClusterRole \\\"system:public-info-viewer\\\" "
	       "to Group \\\"system:unauthenticated\\\"\"}");
}
END_TEST


/* ---- --rbac-enforce: RBAC on kubesim's own API (authorize.c) -------------------- */

/* sim_authorize for user (groups system:authenticated + extra) asking
 * method path?query: "" when allowed, else "<code> <message> <details>". */
static char *authz(const char *user, const char *extra, const char *method, const char *path,
		   const char *query)
{
	const char *groups[2] = { "system:authenticated", extra };
	struct sim_request req = { .method = method, .path = path, .query = query, .user = user,
				   .groups = groups, .ngroups = extra ? 2 : 1 };
	struct sim_response resp;
	json_t *j;
	char *out, *det;

	req.query_args = json_object();
	if (strncmp(query, "watch=", 6) == 0)
		json_object_set_new(req.query_args, "watch", json_string(query + 6));
	if (strncmp(query, "fieldSelector=", 14) == 0)
		json_object_set_new(req.query_args, "fieldSelector", json_string(query + 14));
	sim_response_init(&resp);
	if (sim_authorize(&cl, &req, &resp)) {
		ck_assert_int_eq((int)resp.body.len, 0);
		out = xstrdup("");
	} else {
		j = json_loadb(resp.body.buf, resp.body.len, 0, NULL);
		ck_assert_ptr_nonnull(j);
		ck_assert_str_eq(json_string_value(json_object_get(j, "reason")), "Forbidden");
		ck_assert_int_eq(json_integer_value(json_object_get(j, "code")), 403);
		det = json_dumps(json_object_get(j, "details"), JSON_COMPACT | JSON_SORT_KEYS);
		out = xasprintf("%d %s %s", resp.status,
				json_string_value(json_object_get(j, "message")), det);
		free(det);
		json_decref(j);
	}
	sim_response_clear(&resp);
	json_decref(req.query_args);
	return out;
}

#define SA "system:serviceaccount:kube-system:metrics-server"

static void expect_authz(const char *user, const char *method, const char *path,
			 const char *query, const char *want)
{
	char *got = authz(user, "system:serviceaccounts", method, path, query);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_enforce_service_account)
{
	cl.cfg.rbac_enforce = "system:serviceaccount:";
	/* granted by the auth-delegator binding */
	expect_authz(SA, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", "", "");
	/* discovery and /version: system:discovery, system:public-info-viewer */
	expect_authz(SA, "GET", "/apis", "", "");
	expect_authz(SA, "GET", "/api/v1", "", "");
	expect_authz(SA, "GET", "/version", "", "");
	/* kube-apiserver's texts (responsewriters.Forbidden) */
	expect_authz(SA, "GET", "/metrics", "",
		     "403 forbidden: User \"" SA "\" cannot get path \"/metrics\" {}");
	expect_authz(SA, "GET", "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication", "",
		     "403 configmaps \"extension-apiserver-authentication\" is forbidden: User \"" SA
		     "\" cannot get resource \"configmaps\" in API group \"\" in the namespace "
		     "\"kube-system\" {\"kind\":\"configmaps\",\"name\":\"extension-apiserver-authentication\"}");
	expect_authz(SA, "GET", "/api/v1/pods", "",
		     "403 pods is forbidden: User \"" SA "\" cannot list resource \"pods\" in API "
		     "group \"\" at the cluster scope {\"kind\":\"pods\"}");
	expect_authz(SA, "GET", "/api/v1/pods", "watch=true",
		     "403 pods is forbidden: User \"" SA "\" cannot watch resource \"pods\" in API "
		     "group \"\" at the cluster scope {\"kind\":\"pods\"}");
	expect_authz(SA, "GET", "/api/v1/watch/namespaces/default/pods", "",
		     "403 pods is forbidden: User \"" SA "\" cannot watch resource \"pods\" in API "
		     "group \"\" in the namespace \"default\" {\"kind\":\"pods\"}");
	expect_authz(SA, "PUT", "/apis/apps/v1/namespaces/team-a/deployments/web/scale", "",
		     "403 deployments.apps \"web\" is forbidden: User \"" SA "\" cannot update "
		     "resource \"deployments/scale\" in API group \"apps\" in the namespace "
		     "\"team-a\" {\"group\":\"apps\",\"kind\":\"deployments\",\"name\":\"web\"}");
	expect_authz(SA, "DELETE", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases", "",
		     "403 leases.coordination.k8s.io is forbidden: User \"" SA "\" cannot "
		     "deletecollection resource \"leases\" in API group \"coordination.k8s.io\" in "
		     "the namespace \"kube-system\" {\"group\":\"coordination.k8s.io\",\"kind\":\"leases\"}");
	/* a namespace itself */
	expect_authz(SA, "GET", "/api/v1/namespaces/team-a", "",
		     "403 namespaces \"team-a\" is forbidden: User \"" SA "\" cannot get resource "
		     "\"namespaces\" in API group \"\" in the namespace \"team-a\" "
		     "{\"kind\":\"namespaces\",\"name\":\"team-a\"}");
	/* other users are not authorized (kubesim's default), nor the control endpoint */
	expect_authz("jane", "GET", "/api/v1/pods", "", "");
	expect_authz(SA, "GET", "/kubesim/v1/stats", "", "");
	/* no prefix: nobody is */
	cl.cfg.rbac_enforce = NULL;
	expect_authz(SA, "GET", "/api/v1/pods", "", "");
}
END_TEST

START_TEST(test_enforce_names_and_bindings)
{
	cl.cfg.rbac_enforce = "jane";
	/* resourceNames: web only; a list by metadata.name is that name's */
	expect_authz("jane", "GET", "/apis/apps/v1/namespaces/team-a/deployments/web/scale", "", "");
	expect_authz("jane", "GET", "/apis/apps/v1/namespaces/team-a/deployments/db/scale", "",
		     "403 deployments.apps \"db\" is forbidden: User \"jane\" cannot get resource "
		     "\"deployments/scale\" in API group \"apps\" in the namespace \"team-a\" "
		     "{\"group\":\"apps\",\"kind\":\"deployments\",\"name\":\"db\"}");
	expect_authz("jane", "GET", "/apis/metrics.k8s.io/v1beta1/namespaces/team-a/pods", "", "");
	expect_authz("jane", "GET", "/apis/metrics.k8s.io/v1beta1/namespaces/team-b/pods", "",
		     "403 pods.metrics.k8s.io is forbidden: User \"jane\" cannot list resource "
		     "\"pods\" in API group \"metrics.k8s.io\" in the namespace \"team-b\" "
		     "{\"group\":\"metrics.k8s.io\",\"kind\":\"pods\"}");
	/* the binding deleted: refused at once */
	ck_assert_int_eq(sim_store_delete(cl.store, "rolebindings", "team-a", "jane-reads"), 0);
	expect_authz("jane", "GET", "/apis/apps/v1/namespaces/team-a/deployments/web/scale", "",
		     "403 deployments.apps \"web\" is forbidden: User \"jane\" cannot get resource "
		     "\"deployments/scale\" in API group \"apps\" in the namespace \"team-a\" "
		     "{\"group\":\"apps\",\"kind\":\"deployments\",\"name\":\"web\"}");
	/* a binding to a missing role: its error is the reason */
	cl.cfg.rbac_enforce = "gus";
	expect_authz("gus", "GET", "/apis/metrics.k8s.io/v1beta1/namespaces/team-b/pods", "",
		     "403 pods.metrics.k8s.io is forbidden: User \"gus\" cannot list resource "
		     "\"pods\" in API group \"metrics.k8s.io\" in the namespace \"team-b\": RBAC: "
		     "role.rbac.authorization.k8s.io \"ghost\" not found "
		     "{\"group\":\"metrics.k8s.io\",\"kind\":\"pods\"}");
}
END_TEST

START_TEST(test_enforce_field_selector_name)
{
	json_t *r = json_pack("{s:{s:s,s:s},s:[{s:[s],s:[s],s:[s],s:[s,s]}]}", "metadata", "name",
			      "cm-one", "namespace", "team-a", "rules", "apiGroups", "",
			      "resources", "configmaps", "resourceNames", "one", "verbs", "list",
			      "watch");
	json_t *b = json_pack("{s:{s:s,s:s},s:{s:s,s:s},s:[{s:s,s:s}]}", "metadata", "name",
			      "cm-one", "namespace", "team-a", "roleRef", "kind", "Role", "name",
			      "cm-one", "subjects", "kind", "User", "name", "jane");

	ck_assert_int_eq(sim_store_create(cl.store, "roles", r), 0);
	ck_assert_int_eq(sim_store_create(cl.store, "rolebindings", b), 0);
	json_decref(r);
	json_decref(b);
	cl.cfg.rbac_enforce = "jane";
	expect_authz("jane", "GET", "/api/v1/namespaces/team-a/configmaps",
		     "fieldSelector=metadata.name=one", "");
	expect_authz("jane", "GET", "/api/v1/namespaces/team-a/configmaps",
		     "fieldSelector=metadata.name=two",
		     "403 configmaps \"two\" is forbidden: User \"jane\" cannot list resource "
		     "\"configmaps\" in API group \"\" in the namespace \"team-a\" "
		     "{\"kind\":\"configmaps\",\"name\":\"two\"}");
	expect_authz("jane", "GET", "/api/v1/namespaces/team-a/configmaps", "",
		     "403 configmaps is forbidden: User \"jane\" cannot list resource "
		     "\"configmaps\" in API group \"\" in the namespace \"team-a\" "
		     "{\"kind\":\"configmaps\"}");
}
END_TEST

static Suite *reviews_suite(void)
{
	TCase *rbac = tcase_create("rbac");

	Suite *s = suite_create("kubesim_reviews");
	TCase *tc = tcase_create("reviews");

	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_token_review);
	tcase_add_test(tc, test_access_review_rules);
	tcase_add_test(tc, test_access_review_non_resource);
	tcase_add_test(tc, test_access_review_invalid);
	suite_add_tcase(s, tc);
	tcase_set_timeout(rbac, 10);
	tcase_add_checked_fixture(rbac, rbac_setup, rbac_teardown);
	tcase_add_test(rbac, test_rbac_role_binding_namespace_only);
	tcase_add_test(rbac, test_rbac_cluster_role_binding_everywhere);
	tcase_add_test(rbac, test_rbac_cluster_role_in_namespace_and_aggregation);
	tcase_add_test(rbac, test_rbac_after_policy_and_masters);
	tcase_add_test(rbac, test_enforce_service_account);
	tcase_add_test(rbac, test_enforce_names_and_bindings);
	tcase_add_test(rbac, test_enforce_field_selector_name);
	suite_add_tcase(s, rbac);
	return s;
}

int main(void)
{
	return unit_run(reviews_suite());
}
