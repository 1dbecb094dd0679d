/*
 * reviews.c - POST /apis/authentication.k8s.io/v1/tokenreviews and
 * /apis/authorization.k8s.io/v1/subjectaccessreviews, answered from a
 * policy in the kubesim config file (cfg.extra, key `policy`):
 *
 *   policy:
 *     tokens:                          # TokenReview: bearer token -> identity
 *     - token: s3cr3t
 *       user: jane
 *       uid: "1001"                    # optional
 *       groups: [dev]                  # system:authenticated is added
 *       extra: {team: [blue]}          # optional, key -> list of values
 *     rules:                           # SubjectAccessReview; first match wins
 *     - user: jane                     # and/or group: dev  ("*" = anyone)
 *       verbs: [get, list]             # "*" = any verb
 *       apiGroups: [metrics.k8s.io]    # alias `groups`; "" = core, "*" = any
 *       resources: [pods, nodes]       # "res", "res/sub", "*"; a sub of "*"
 *                                      # matches every subresource of res
 *       namespaces: [default]          # optional: absent = every namespace
 *                                      # and cluster scope; "*" = any
 *       names: [p1]                    # optional resourceNames
 *       allow: true                    # false = explicit deny (denied: true)
 *       reason: "text"                 # optional status.reason
 *     - group: system:authenticated
 *       nonResourceURLs: [/metrics, /apis*]   # exact, or a prefix
 *                                      # when the entry ends in "*"
 *       verbs: [get]
 *       allow: true
 *
 * Decision order, like kube-apiserver's authorizer chain:
 *   1. a subject in group system:masters is always allowed;
 *   2. the policy rules, in order;
 *   3. RBAC (rbac.c): the Roles, ClusterRoles and their bindings stored in
 *      the cluster, the bootstrap ones included (system:discovery,
 *      system:public-info-viewer, cluster-admin, ...);
 *   4. otherwise {"allowed":false} (RBAC's "no opinion").
 * The kubesim --token (cfg.token) reviews as kubesim-admin, group
 * system:masters, like the admin client certificate.
 *
 * Responses echo the request's spec, carry metadata {"creationTimestamp":
 * null} and status 201, as kube-apiserver's create of a review does.
 */
#include "test/kubesim/kubesim.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVER_AUDIENCE "https://kubernetes.default.svc.cluster.local"
#define MAX_POLICY_RULES 10000

static atomic_uint_fast64_t access_reviews, token_reviews;

/* ---- common plumbing ------------------------------------------------------ */

static const json_t *policy_part(const struct sim_cluster *c, const char *key)
{
	return json_object_get(json_object_get(c->cfg.extra, "policy"), key);
}

/* Parses the review in the request body; NULL after filling resp. */
static json_t *parse_review(const struct sim_request *req, struct sim_response *resp)
{
	json_error_t jerr;
	json_t *obj;
	char *msg;

	if (strcmp(req->method, "POST") != 0) {
		sim_response_status(resp, 405, "MethodNotAllowed",
				    "the server does not allow this method on the requested resource");
		return NULL;
	}
	obj = json_loadb(req->body ? req->body : "", req->body_len, 0, &jerr);
	if (!json_is_object(obj)) {
		msg = xasprintf("the body of the request is not a JSON object: %s",
				obj ? "wrong type" : jerr.text);
		sim_response_status(resp, 400, "BadRequest", msg);
		free(msg);
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* Turns the request object into the response: kind, apiVersion, metadata. */
static void finish(json_t *obj, const char *kind, const char *api_version, json_t *status,
		   struct sim_response *resp)
{
	json_t *out = json_object();
	json_t *spec = json_object_get(obj, "spec");

	json_object_set_new(out, "kind", json_string(kind));
	json_object_set_new(out, "apiVersion", json_string(api_version));
	json_object_set_new(out, "metadata", json_pack("{s:n}", "creationTimestamp"));
	json_object_set(out, "spec", json_is_object(spec) ? spec : json_object());
	json_object_set_new(out, "status", status);
	sim_response_json(resp, 201, out);
	json_decref(obj);
}

static bool list_has(const json_t *list, const char *value)
{
	const json_t *v;
	size_t i;

	json_array_foreach(list, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), value) == 0)
			return true;
	}
	return false;
}

/* ---- TokenReview ------------------------------------------------------------- */

static json_t *identity(const char *user, const char *uid, const json_t *groups,
			const json_t *extra)
{
	json_t *u = json_pack("{s:s}", "username", user);
	json_t *g = json_is_array(groups) ? json_deep_copy(groups) : json_array();

	if (uid && *uid)
		json_object_set_new(u, "uid", json_string(uid));
	if (!list_has(g, "system:authenticated"))
		json_array_append_new(g, json_string("system:authenticated"));
	json_object_set_new(u, "groups", g);
	if (json_object_size(extra))
		json_object_set_new(u, "extra", json_deep_copy(extra));
	return u;
}

/* The user object for token, or NULL when the policy does not know it. */
static json_t *lookup_token(const struct sim_cluster *c, const char *token)
{
	const json_t *t;
	size_t i;
	json_t *masters, *u;

	if (c->cfg.token && *c->cfg.token && strcmp(c->cfg.token, token) == 0) {
		masters = json_pack("[s]", "system:masters");
		u = identity("kubesim-admin", NULL, masters, NULL);
		json_decref(masters);
		return u;
	}
	json_array_foreach(policy_part(c, "tokens"), i, t) {
		if (strcmp(sim_json_str(t, "token"), token) == 0 && *sim_json_str(t, "user"))
			return identity(sim_json_str(t, "user"), sim_json_str(t, "uid"), json_object_get(t, "groups"),
					json_object_get(t, "extra"));
	}
	return NULL;
}

void sim_reviews_token(struct sim_cluster *c, const struct sim_request *req,
		       struct sim_response *resp)
{
	json_t *obj = parse_review(req, resp), *user, *status, *aud;
	const json_t *spec;

	if (!obj)
		return;
	atomic_fetch_add(&token_reviews, 1);
	spec = json_object_get(obj, "spec");
	if (!*sim_json_str(spec, "token")) {
		sim_response_status(resp, 400, "BadRequest",
				    "token is required for TokenReview in authentication");
		json_decref(obj);
		return;
	}
	user = lookup_token(c, sim_json_str(spec, "token"));
	if (user) {
		aud = json_array_size(json_object_get(spec, "audiences"))
			      ? json_deep_copy(json_object_get(spec, "audiences"))
			      : json_pack("[s]", SERVER_AUDIENCE);
		status = json_pack("{s:b, s:o, s:o}", "authenticated", 1, "user", user,
				   "audiences", aud);
	} else {
		status = json_pack("{s:{}, s:s}", "user", "error", "invalid bearer token");
	}
	finish(obj, "TokenReview", "authentication.k8s.io/v1", status, resp);
}

/* ---- SubjectAccessReview: matching -------------------------------------------- */

struct sar {
	const char *user;
	const json_t *groups;
	const json_t *ra;   /* resourceAttributes or NULL */
	const json_t *nra;  /* nonResourceAttributes or NULL */
};

static bool matches_any(const json_t *list, const char *value)
{
	return list_has(list, "*") || list_has(list, value);
}

static bool subject_matches(const json_t *rule, const struct sar *s)
{
	const json_t *u = json_object_get(rule, "user"), *g = json_object_get(rule, "group");

	if (!json_is_string(u) && !json_is_string(g))
		return false;
	if (json_is_string(u) && strcmp(json_string_value(u), "*") != 0 &&
	    strcmp(json_string_value(u), s->user) != 0)
		return false;
	if (json_is_string(g) && strcmp(json_string_value(g), "*") != 0 &&
	    !list_has(s->groups, json_string_value(g)))
		return false;
	return true;
}

static bool resource_listed(const json_t *list, const char *res, const char *sub)
{
	const json_t *v;
	const char *r;
	size_t i, n = strlen(res);

	json_array_foreach(list, i, v) {
		r = json_string_value(v);
		if (!r)
			continue;
		if (strcmp(r, "*") == 0)
			return true;
		if (!*sub && strcmp(r, res) == 0)
			return true;
		if (*sub && strncmp(r, res, n) == 0 && r[n] == '/' &&
		    (strcmp(r + n + 1, sub) == 0 || strcmp(r + n + 1, "*") == 0))
			return true;
	}
	return false;
}

static bool resource_rule_matches(const json_t *rule, const json_t *ra)
{
	const json_t *groups = json_object_get(rule, "apiGroups");
	const json_t *ns = json_object_get(rule, "namespaces");
	const json_t *names = json_object_get(rule, "names");

	if (!groups)
		groups = json_object_get(rule, "groups");
	if (!resource_listed(json_object_get(rule, "resources"), sim_json_str(ra, "resource"),
			     sim_json_str(ra, "subresource")) ||
	    !matches_any(groups, sim_json_str(ra, "group")) ||
	    !matches_any(json_object_get(rule, "verbs"), sim_json_str(ra, "verb")))
		return false;
	if (ns && !matches_any(ns, sim_json_str(ra, "namespace")))
		return false;
	return !names || list_has(names, sim_json_str(ra, "name"));
}

static bool url_listed(const json_t *list, const char *path)
{
	const json_t *v;
	const char *u;
	size_t i, n;

	json_array_foreach(list, i, v) {
		u = json_string_value(v);
		if (!u)
			continue;
		n = strlen(u);
		if (strcmp(u, path) == 0 || (n && u[n - 1] == '*' && strncmp(u, path, n - 1) == 0))
			return true;
	}
	return false;
}

static bool rule_matches(const json_t *rule, const struct sar *s)
{
	if (!subject_matches(rule, s))
		return false;
	if (s->ra)
		return resource_rule_matches(rule, s->ra);
	return url_listed(json_object_get(rule, "nonResourceURLs"), sim_json_str(s->nra, "path")) &&
	       matches_any(json_object_get(rule, "verbs"), sim_json_str(s->nra, "verb"));
}

/* ---- SubjectAccessReview: decision --------------------------------------------- */

uint64_t sim_reviews_access_count(void)
{
	return atomic_load(&access_reviews);
}

uint64_t sim_reviews_token_count(void)
{
	return atomic_load(&token_reviews);
}

static json_t *decide(const struct sim_cluster *c, const struct sar *s)
{
	const json_t *rule;
	json_t *out;
	size_t i;
	char *reason;
	bool allow;

	if (list_has(s->groups, "system:masters"))
		return json_pack("{s:b, s:s}", "allowed", 1, "reason",
				 "RBAC: allowed by ClusterRoleBinding \"cluster-admin\" of "
				 "ClusterRole \"cluster-admin\" to Group \"system:masters\"");
	json_array_foreach(policy_part(c, "rules"), i, rule) {
		if (i >= MAX_POLICY_RULES || !rule_matches(rule, s))
			continue;
		allow = json_is_true(json_object_get(rule, "allow"));
		reason = *sim_json_str(rule, "reason") ? xstrdup(sim_json_str(rule, "reason"))
		       : xasprintf("kubesim policy: %s by rule %zu", allow ? "allowed" : "denied",
				   i);
		out = allow ? json_pack("{s:b, s:s}", "allowed", 1, "reason", reason)
			    : json_pack("{s:b, s:b, s:s}", "allowed", 0, "denied", 1, "reason",
					reason);
		free(reason);
		return out;
	}
	return sim_rbac_authorize((struct sim_cluster *)c, s->user, s->groups, s->ra, s->nra);
}

/* ValidateSubjectAccessReviewSpec; the message or NULL. */
static char *validate_sar(const struct sar *s)
{
	const char *err = NULL;

	if (s->ra && s->nra)
		err = "spec.nonResourceAttributes: Invalid value: \"null\": cannot be specified in "
		      "combination with resourceAttributes";
	else if (!s->ra && !s->nra)
		err = "spec.resourceAttributes: Invalid value: \"null\": exactly one of "
		      "nonResourceAttributes or resourceAttributes must be specified";
	else if (!*s->user && json_array_size(s->groups) == 0)
		err = "spec.user: Invalid value: \"\": at least one of user or group must be "
		      "specified";
	if (!err)
		return NULL;
	return xasprintf("SubjectAccessReview.authorization.k8s.io \"\" is invalid: %s", err);
}

void sim_reviews_access(struct sim_cluster *c, const struct sim_request *req,
			struct sim_response *resp)
{
	json_t *obj = parse_review(req, resp);
	const json_t *spec;
	struct sar s;
	char *msg;

	if (!obj)
		return;
	atomic_fetch_add(&access_reviews, 1);
	spec = json_object_get(obj, "spec");
	s.user = sim_json_str(spec, "user");
	s.groups = json_object_get(spec, "groups");
	s.ra = json_is_object(json_object_get(spec, "resourceAttributes"))
		       ? json_object_get(spec, "resourceAttributes") : NULL;
	s.nra = json_is_object(json_object_get(spec, "nonResourceAttributes"))
			? json_object_get(spec, "nonResourceAttributes") : NULL;
	msg = validate_sar(&s);
	if (msg) {
		sim_response_status(resp, 422, "Invalid", msg);
		free(msg);
		json_decref(obj);
		return;
	}
	finish(obj, "SubjectAccessReview", "authorization.k8s.io/v1", decide(c, &s), resp);
}
