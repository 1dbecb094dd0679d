/* check_kubesim_reviews.c - TokenReview and SubjectAccessReview against a policy. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

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

static Suite *reviews_suite(void)
{
	Suite *s = suite_create("kubesim_reviews");
	TCase *tc = tcase_create("reviews");

	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_token_review);
	tcase_add_test(tc, test_access_review_rules);
	tcase_add_test(tc, test_access_review_non_resource);
	tcase_add_test(tc, test_access_review_invalid);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(reviews_suite());
}
