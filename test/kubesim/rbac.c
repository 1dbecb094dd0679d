/*
 * rbac.c - RBAC evaluation of SubjectAccessReviews, as kube-apiserver's
 * RBAC authorizer (plugin/pkg/auth/authorizer/rbac): ClusterRoleBindings
 * in name order, then the RoleBindings of the request's namespace; a
 * binding applies to a User, a Group, or a ServiceAccount
 * (system:serviceaccount:<ns>:<name>, ns defaulting to the binding's);
 * its roleRef's rules allow by verb, API group, resource ("res",
 * "res/sub", "*", "*\/sub"), resourceNames, or nonResourceURLs (exact,
 * "*", or a prefix ending in "*").  A ClusterRole with an aggregationRule
 * has the rules of the ClusterRoles its selectors match (what the
 * aggregation controller would write).  Allowed: "RBAC: allowed by
 * <binding> ..."; otherwise no opinion, with "RBAC: <errors>" when a
 * roleRef is missing.
 *
 * The objects come from the store or, for a bare cluster (unit tests),
 * from the bootstrap policy kube-apiserver creates (sim_rbac_bootstrap):
 * cluster-admin for system:masters, system:discovery,
 * system:public-info-viewer, system:auth-delegator, view/edit/admin
 * aggregating the rbac.authorization.k8s.io/aggregate-to-* labels, and
 * kube-system's extension-apiserver-authentication-reader Role.
 */
#include "test/kubesim/apiserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RBAC_MAX_DEPTH 3     /* aggregated roles of aggregated roles */
#define RBAC_MAX_ERRORS 32

/* ---- the bootstrap policy --------------------------------------------------------- */

static json_t *boot_meta(const char *name, const char *ns)
{
	json_t *m = json_pack("{s:s,s:{s:s},s:{s:s}}", "name", name, "labels",
			      "kubernetes.io/bootstrapping", "rbac-defaults", "annotations",
			      "rbac.authorization.kubernetes.io/autoupdate", "true");

	if (ns)
		json_object_set_new(m, "namespace", json_string(ns));
	return m;
}

static json_t *urls_rule(const char *const *urls, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(urls[i]));
	return json_pack("{s:o,s:[s]}", "nonResourceURLs", a, "verbs", "get");
}

static json_t *aggregating(const char *name, const char *label)
{
	return json_pack("{s:o,s:{s:[{s:{s:s}}]},s:[]}", "metadata", boot_meta(name, NULL),
			 "aggregationRule", "clusterRoleSelectors", "matchLabels", label, "true",
			 "rules");
}

static json_t *cluster_binding(const char *name, const char *role, const char *const *groups,
			       size_t n)
{
	json_t *subjects = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(subjects, json_pack("{s:s,s:s,s:s}", "kind", "Group",
							  "apiGroup", "rbac.authorization.k8s.io",
							  "name", groups[i]));
	return json_pack("{s:o,s:{s:s,s:s,s:s},s:o}", "metadata", boot_meta(name, NULL),
			 "roleRef", "apiGroup", "rbac.authorization.k8s.io", "kind", "ClusterRole",
			 "name", role, "subjects", subjects);
}

json_t *sim_rbac_bootstrap(void)
{
	static const char *const discovery[] = {
		"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
		"/openapi/*", "/readyz", "/version", "/version/",
	};
	static const char *const public_info[] = {
		"/healthz", "/livez", "/readyz", "/version", "/version/",
	};
	static const char *const masters[] = { "system:masters" };
	static const char *const authenticated[] = { "system:authenticated" };
	static const char *const everyone[] = { "system:authenticated", "system:unauthenticated" };
	json_t *roles = json_array(), *bindings = json_array();

	json_array_append_new(roles, json_pack("{s:o,s:[{s:[s],s:[s],s:[s]},{s:[s],s:[s]}]}",
					       "metadata", boot_meta("cluster-admin", NULL), "rules",
					       "apiGroups", "*", "resources", "*", "verbs", "*",
					       "nonResourceURLs", "*", "verbs", "*"));
	json_array_append_new(roles, aggregating("admin", "rbac.authorization.k8s.io/aggregate-to-admin"));
	json_array_append_new(roles, aggregating("edit", "rbac.authorization.k8s.io/aggregate-to-edit"));
	json_array_append_new(roles, json_pack("{s:o,s:[{s:[s],s:[s],s:[s]},{s:[s],s:[s],s:[s]}]}",
					       "metadata", boot_meta("system:auth-delegator", NULL),
					       "rules", "apiGroups", "authentication.k8s.io",
					       "resources", "tokenreviews", "verbs", "create",
					       "apiGroups", "authorization.k8s.io", "resources",
					       "subjectaccessreviews", "verbs", "create"));
	json_array_append_new(roles, json_pack("{s:o,s:[o]}", "metadata",
					       boot_meta("system:discovery", NULL), "rules",
					       urls_rule(discovery, COMMON_ARRAY_LEN(discovery))));
	json_array_append_new(roles, json_pack("{s:o,s:[o]}", "metadata",
					       boot_meta("system:public-info-viewer", NULL), "rules",
					       urls_rule(public_info, COMMON_ARRAY_LEN(public_info))));
	json_array_append_new(roles, aggregating("view", "rbac.authorization.k8s.io/aggregate-to-view"));
	json_array_append_new(bindings, cluster_binding("cluster-admin", "cluster-admin", masters, 1));
	json_array_append_new(bindings, cluster_binding("system:discovery", "system:discovery",
							authenticated, 1));
	json_array_append_new(bindings, cluster_binding("system:public-info-viewer",
							"system:public-info-viewer", everyone, 2));
	return json_pack("{s:o,s:o,s:[{s:o,s:[{s:[s],s:[s],s:[s],s:[s]}]}],s:[]}", "clusterroles",
			 roles, "clusterrolebindings", bindings, "roles", "metadata",
			 boot_meta("extension-apiserver-authentication-reader", "kube-system"),
			 "rules", "apiGroups", "", "resources", "configmaps", "resourceNames",
			 "extension-apiserver-authentication", "verbs", "get", "list", "watch",
			 "rolebindings");
}

/* ---- where the objects come from ------------------------------------------------------ */

struct src {
	struct sim_store *store; /* NULL: boot */
	json_t *boot;
};

/* The objects of resource (in namespace ns when not NULL), sorted by name;
 * new reference. */
static json_t *src_list(const struct src *s, const char *resource, const char *ns)
{
	json_t *all, *out, *o;
	size_t i;

	if (s->store)
		return sim_store_list(s->store, resource, ns);
	all = json_object_get(s->boot, resource);
	out = json_array();
	json_array_foreach(all, i, o)
		if (!ns || strcmp(sim_json_str(o, "metadata.namespace"), ns) == 0)
			json_array_append(out, o);
	return out;
}

static json_t *src_get(const struct src *s, const char *resource, const char *ns,
		       const char *name)
{
	json_t *list, *o, *found = NULL;
	size_t i;

	if (s->store)
		return sim_store_get(s->store, resource, ns, name);
	list = src_list(s, resource, ns);
	json_array_foreach(list, i, o)
		if (!found && strcmp(sim_json_str(o, "metadata.name"), name) == 0)
			found = json_incref(o);
	json_decref(list);
	return found;
}

/* ---- rules ------------------------------------------------------------------------------ */

struct ask {
	const char *user;
	const json_t *groups;
	const json_t *ra, *nra;   /* one of them */
	json_t *errors;           /* strings */
};

static bool has(const json_t *list, const char *v)
{
	const json_t *e;
	size_t i;

	json_array_foreach(list, i, e)
		if (json_is_string(e) && strcmp(json_string_value(e), v) == 0)
			return true;
	return false;
}

static bool has_or_all(const json_t *list, const char *v)
{
	return has(list, "*") || has(list, v);
}

static bool resource_matches(const json_t *rule, const char *combined, const char *sub)
{
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(rule, "resources"), i, e) {
		const char *r = json_string_value(e);

		if (!r)
			continue;
		if (strcmp(r, "*") == 0 || strcmp(r, combined) == 0)
			return true;
		if (*sub && strncmp(r, "*/", 2) == 0 && strcmp(r + 2, sub) == 0)
			return true;
	}
	return false;
}

static bool url_matches(const json_t *rule, const char *path)
{
	const json_t *e;
	size_t i, n;

	json_array_foreach(json_object_get(rule, "nonResourceURLs"), i, e) {
		const char *u = json_string_value(e);

		if (!u)
			continue;
		n = strlen(u);
		if (strcmp(u, "*") == 0 || strcmp(u, path) == 0 ||
		    (n && u[n - 1] == '*' && strncmp(u, path, n - 1) == 0))
			return true;
	}
	return false;
}

/* RuleAllows. */
static bool rule_allows(const json_t *rule, const struct ask *a)
{
	const json_t *names = json_object_get(rule, "resourceNames");
	char combined[512];

	if (!a->ra)
		return has_or_all(json_object_get(rule, "verbs"), sim_json_str(a->nra, "verb")) &&
		       url_matches(rule, sim_json_str(a->nra, "path"));
	snprintf(combined, sizeof(combined), "%s%s%s", sim_json_str(a->ra, "resource"),
		 *sim_json_str(a->ra, "subresource") ? "/" : "", sim_json_str(a->ra, "subresource"));
	return has_or_all(json_object_get(rule, "verbs"), sim_json_str(a->ra, "verb")) &&
	       has_or_all(json_object_get(rule, "apiGroups"), sim_json_str(a->ra, "group")) &&
	       resource_matches(rule, combined, sim_json_str(a->ra, "subresource")) &&
	       (json_array_size(names) == 0 || has(names, sim_json_str(a->ra, "name")));
}

static bool labels_match(const json_t *selector, const json_t *role)
{
	char *text = sim_label_selector_string(selector), err[128];
	struct selector *sel = selector_parse(text, err, sizeof(err));
	json_t *labels = jpath_get(role, "metadata.labels"), *v;
	struct labels l;
	const char *k;
	bool ok;

	labels_init(&l);
	json_object_foreach(labels, k, v)
		if (json_is_string(v))
			labels_set(&l, k, json_string_value(v));
	ok = sel && selector_matches(sel, &l);
	labels_clear(&l);
	selector_free(sel);
	free(text);
	return ok;
}

static json_t *role_rules(const struct src *s, const json_t *role, int depth);

/* The rules of every ClusterRole an aggregationRule selects (new array). */
static json_t *aggregated_rules(const struct src *s, const json_t *role, int depth)
{
	json_t *out = json_array(), *all = src_list(s, "clusterroles", NULL), *other, *sel;
	size_t i, j;

	json_array_foreach(all, i, other) {
		bool match = false;

		if (strcmp(sim_json_str(other, "metadata.name"), sim_json_str(role, "metadata.name")) == 0)
			continue;
		json_array_foreach(jpath_get(role, "aggregationRule.clusterRoleSelectors"), j, sel)
			match = match || labels_match(sel, other);
		if (match && depth < RBAC_MAX_DEPTH) {
			json_t *rules = role_rules(s, other, depth + 1);

			json_array_extend(out, rules);
			json_decref(rules);
		}
	}
	json_decref(all);
	return out;
}

/* The rules a role grants (new array). */
static json_t *role_rules(const struct src *s, const json_t *role, int depth)
{
	json_t *rules = json_object_get(role, "rules");

	if (json_is_object(json_object_get(role, "aggregationRule")))
		return aggregated_rules(s, role, depth);
	return json_is_array(rules) ? json_incref(rules) : json_array();
}

static void add_error(struct ask *a, char *text)
{
	if (json_array_size(a->errors) < RBAC_MAX_ERRORS && !has(a->errors, text))
		json_array_append_new(a->errors, json_string(text));
	free(text);
}

/* GetRoleReferenceRules: NULL after recording the error. */
static json_t *ref_rules(const struct src *s, const json_t *binding, const char *ns,
			 struct ask *a)
{
	const char *kind = sim_json_str(binding, "roleRef.kind");
	const char *name = sim_json_str(binding, "roleRef.name");
	bool cluster = strcmp(kind, "ClusterRole") == 0;
	json_t *role, *rules;

	if (!cluster && strcmp(kind, "Role") != 0) {
		add_error(a, xasprintf("unsupported role reference kind: \"%s\"", kind));
		return NULL;
	}
	role = src_get(s, cluster ? "clusterroles" : "roles", cluster ? NULL : ns, name);
	if (!role) {
		add_error(a, xasprintf("%s.rbac.authorization.k8s.io \"%s\" not found",
				       cluster ? "clusterrole" : "role", name));
		return NULL;
	}
	rules = role_rules(s, role, 0);
	json_decref(role);
	return rules;
}

/* appliesToUser: the subject naming the requester, or NULL. */
static const json_t *applies(const json_t *binding, const char *ns, const struct ask *a)
{
	const json_t *subj;
	size_t i;

	json_array_foreach(json_object_get(binding, "subjects"), i, subj) {
		const char *kind = sim_json_str(subj, "kind"), *name = sim_json_str(subj, "name");

		if (strcmp(kind, "User") == 0 && strcmp(a->user, name) == 0)
			return subj;
		if (strcmp(kind, "Group") == 0 && has(a->groups, name))
			return subj;
		if (strcmp(kind, "ServiceAccount") == 0) {
			const char *sns = *sim_json_str(subj, "namespace") ? sim_json_str(subj, "namespace")
									   : ns;
			char *want = xasprintf("system:serviceaccount:%s:%s", sns, name);
			bool ok = *sns && strcmp(want, a->user) == 0;

			free(want);
			if (ok)
				return subj;
		}
	}
	return NULL;
}

/* "RBAC: allowed by ClusterRoleBinding ..." (the binding describers). */
static char *allowed_by(const json_t *binding, const char *ns, const json_t *subj)
{
	const char *kind = sim_json_str(subj, "kind"), *name = sim_json_str(subj, "name");
	const char *bname = sim_json_str(binding, "metadata.name");
	char who[600];

	if (strcmp(kind, "ServiceAccount") == 0)
		snprintf(who, sizeof(who), "ServiceAccount \"%s/%s\"", name,
			 *sim_json_str(subj, "namespace") ? sim_json_str(subj, "namespace") : ns);
	else
		snprintf(who, sizeof(who), "%s \"%s\"", kind, name);
	if (ns)
		return xasprintf("RBAC: allowed by RoleBinding \"%s/%s\" of %s \"%s\" to %s", bname,
				 ns, sim_json_str(binding, "roleRef.kind"),
				 sim_json_str(binding, "roleRef.name"), who);
	return xasprintf("RBAC: allowed by ClusterRoleBinding \"%s\" of %s \"%s\" to %s", bname,
			 sim_json_str(binding, "roleRef.kind"), sim_json_str(binding, "roleRef.name"),
			 who);
}

/* The reason when one of the bindings (of namespace ns, NULL = cluster) allows. */
static char *visit(const struct src *s, const char *ns, struct ask *a)
{
	json_t *bindings = src_list(s, ns ? "rolebindings" : "clusterrolebindings", ns), *b, *r;
	char *reason = NULL;
	size_t i, j;

	json_array_foreach(bindings, i, b) {
		const json_t *subj = applies(b, ns ? ns : "", a);
		json_t *rules;

		if (!subj || reason)
			continue;
		rules = ref_rules(s, b, ns, a);
		json_array_foreach(rules, j, r)
			if (!reason && rule_allows(r, a))
				reason = allowed_by(b, ns, subj);
		json_decref(rules);
	}
	json_decref(bindings);
	return reason;
}

/* utilerrors.NewAggregate's text. */
static char *errors_text(const json_t *errors)
{
	struct dynbuf b;
	const json_t *e;
	size_t i, len;
	int rc;

	dynbuf_init(&b, DYN_SMALL);
	rc = dynbuf_addstr(&b, json_array_size(errors) > 1 ? "RBAC: [" : "RBAC: ");
	json_array_foreach(errors, i, e)
		rc = rc ? rc : dynbuf_printf(&b, "%s%s", i ? ", " : "", json_string_value(e));
	if (!rc && json_array_size(errors) > 1)
		rc = dynbuf_addch(&b, ']');
	return rc ? (dynbuf_clear(&b), xstrdup("RBAC: errors")) : dynbuf_take(&b, &len);
}

json_t *sim_rbac_authorize(struct sim_cluster *c, const char *user, const json_t *groups,
			   const json_t *ra, const json_t *nra)
{
	struct src s = { c->store, c->store ? NULL : sim_rbac_bootstrap() };
	struct ask a = { user, groups, ra, nra, json_array() };
	const char *ns = ra ? sim_json_str(ra, "namespace") : "";
	char *reason = visit(&s, NULL, &a);
	json_t *out;

	if (!reason && *ns)
		reason = visit(&s, ns, &a);
	if (reason) {
		out = json_pack("{s:b,s:s}", "allowed", 1, "reason", reason);
	} else if (json_array_size(a.errors)) {
		free(reason);
		reason = errors_text(a.errors);
		out = json_pack("{s:b,s:s}", "allowed", 0, "reason", reason);
	} else {
		out = json_pack("{s:b}", "allowed", 0);
	}
	free(reason);
	json_decref(a.errors);
	json_decref(s.boot);
	return out;
}
