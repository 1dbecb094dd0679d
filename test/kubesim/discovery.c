/*
 * discovery.c - /version, /api, /apis, /apis/<group>, /api/v1 and
 * /apis/<group>/<version>: legacy documents (APIVersions, APIGroupList,
 * APIGroup, APIResourceList) and aggregated discovery
 * (apidiscovery.k8s.io/v2 and v2beta1 APIGroupDiscoveryList) when the
 * Accept header asks for it.  Registered APIServices are merged in by
 * the aggregator.
 */
#include "test/kubesim/apiserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct sim_kind tokenreviews = {
	.group = "authentication.k8s.io", .version = "v1", .resource = "tokenreviews",
	.kind = "TokenReview", .singular = "tokenreview", .create_only = true,
};

static const struct sim_kind subjectaccessreviews = {
	.group = "authorization.k8s.io", .version = "v1", .resource = "subjectaccessreviews",
	.kind = "SubjectAccessReview", .singular = "subjectaccessreview", .create_only = true,
};

static const struct sim_kind *const review_kinds[] = { &tokenreviews, &subjectaccessreviews,
						       NULL };

/* Built-in groups in the order kube-apiserver lists them ("" = core). */
static const char *const groups[] = { "apiregistration.k8s.io", "apps",
				      "authentication.k8s.io", "authorization.k8s.io",
				      "autoscaling", "policy", "rbac.authorization.k8s.io",
				      "coordination.k8s.io" };

static const char *group_version(const char *group)
{
	return strcmp(group, "autoscaling") == 0 ? "v2" : "v1";
}

/* Calls fn for every kind (stored or review) of group. */
static void each_kind(const char *group, void (*fn)(const struct sim_kind *, json_t *), json_t *out)
{
	size_t i;

	for (i = 0; sim_kinds[i]; i++)
		if (strcmp(sim_kinds[i]->group, group) == 0)
			fn(sim_kinds[i], out);
	for (i = 0; review_kinds[i]; i++)
		if (strcmp(review_kinds[i]->group, group) == 0)
			fn(review_kinds[i], out);
}

static json_t *verbs_of(const struct sim_kind *k)
{
	if (k->create_only)
		return json_pack("[s]", "create");
	return json_pack("[s,s,s,s,s,s,s]", "create", "delete", "get", "list", "patch", "update",
			 "watch");
}

static json_t *string_list(const char *const *l)
{
	json_t *a = json_array();

	for (; l && *l; l++)
		json_array_append_new(a, json_string(*l));
	return a;
}

/* ---- legacy APIResourceList ------------------------------------------------------ */

static void legacy_resource(const struct sim_kind *k, json_t *out)
{
	json_t *r = json_pack("{s:s,s:s,s:b,s:s,s:o}", "name", k->resource, "singularName",
			      k->singular, "namespaced", k->namespaced, "kind", k->kind, "verbs",
			      verbs_of(k));

	if (k->short_names)
		json_object_set_new(r, "shortNames", string_list(k->short_names));
	if (k->categories)
		json_object_set_new(r, "categories", string_list(k->categories));
	json_array_append_new(out, r);
	if (k->subresources & SIM_SUB_STATUS)
		json_array_append_new(out, json_pack("{s:s+,s:s,s:b,s:s,s:[s,s,s]}", "name",
						     k->resource, "/status", "singularName", "",
						     "namespaced", k->namespaced, "kind", k->kind,
						     "verbs", "get", "patch", "update"));
	if (k->subresources & SIM_SUB_SCALE)
		json_array_append_new(out, json_pack("{s:s+,s:s,s:b,s:s,s:s,s:s,s:[s,s,s]}", "name",
						     k->resource, "/scale", "singularName", "",
						     "namespaced", k->namespaced, "group",
						     "autoscaling", "version", "v1", "kind", "Scale",
						     "verbs", "get", "patch", "update"));
}

static json_t *resource_list(const char *group, const char *version)
{
	json_t *res = json_array();

	each_kind(group, legacy_resource, res);
	return json_pack("{s:s,s:s,s:s++,s:o}", "kind", "APIResourceList", "apiVersion", "v1",
			 "groupVersion", *group ? group : version, *group ? "/" : "",
			 *group ? version : "", "resources", res);
}

/* ---- aggregated discovery ----------------------------------------------------------- */

static json_t *response_kind(const char *g, const char *v, const char *k)
{
	return json_pack("{s:s,s:s,s:s}", "group", g, "version", v, "kind", k);
}

static void aggregated_resource(const struct sim_kind *k, json_t *out)
{
	json_t *subs = json_array();
	json_t *r = json_pack("{s:s,s:o,s:s,s:s,s:o}", "resource", k->resource, "responseKind",
			      response_kind(k->group, k->version, k->kind), "scope",
			      k->namespaced ? "Namespaced" : "Cluster", "singularResource",
			      k->singular, "verbs", verbs_of(k));

	if (k->short_names)
		json_object_set_new(r, "shortNames", string_list(k->short_names));
	if (k->categories)
		json_object_set_new(r, "categories", string_list(k->categories));
	if (k->subresources & SIM_SUB_SCALE)
		json_array_append_new(subs, json_pack("{s:s,s:o,s:[s,s,s]}", "subresource", "scale",
						      "responseKind",
						      response_kind("autoscaling", "v1", "Scale"),
						      "verbs", "get", "patch", "update"));
	if (k->subresources & SIM_SUB_STATUS)
		json_array_append_new(subs, json_pack("{s:s,s:o,s:[s,s,s]}", "subresource", "status",
						      "responseKind",
						      response_kind(k->group, k->version, k->kind),
						      "verbs", "get", "patch", "update"));
	if (json_array_size(subs))
		json_object_set_new(r, "subresources", subs);
	else
		json_decref(subs);
	json_array_append_new(out, r);
}

static json_t *aggregated_group(const char *group, const char *version)
{
	json_t *res = json_array();

	each_kind(group, aggregated_resource, res);
	return json_pack("{s:{s:s,s:n},s:[{s:s,s:o,s:s}]}", "metadata", "name", group,
			 "creationTimestamp", "versions", "version", version, "resources", res,
			 "freshness", "Current");
}

/* "v2" / "v2beta1" when Accept asks for aggregated discovery, else NULL. */
static const char *aggregated_wanted(const struct sim_request *req)
{
	static const char *const versions[] = { "v2beta1", "v2" };
	int i = sim_accept_version(req, "APIGroupDiscoveryList", "apidiscovery.k8s.io", versions,
				   COMMON_ARRAY_LEN(versions));

	return i < 0 ? NULL : versions[i];
}

static void send_aggregated(struct sim_response *resp, const char *v, json_t *items)
{
	char ct[128];

	sim_response_json(resp, 200, json_pack("{s:s,s:s+,s:{},s:o}", "kind",
					       "APIGroupDiscoveryList", "apiVersion",
					       "apidiscovery.k8s.io/", v, "metadata", "items", items));
	snprintf(ct, sizeof(ct), "application/json;g=apidiscovery.k8s.io;v=%s;as=APIGroupDiscoveryList",
		 v);
	free(resp->content_type);
	resp->content_type = xstrdup(ct);
}

/* ---- documents ------------------------------------------------------------------- */

static json_t *group_entry(const char *group)
{
	const char *v = group_version(group);

	return json_pack("{s:s,s:[{s:s++,s:s}],s:{s:s++,s:s}}", "name", group, "versions",
			 "groupVersion", group, "/", v, "version", v, "preferredVersion",
			 "groupVersion", group, "/", v, "version", v);
}

static void serve_api(struct sim_cluster *c, const struct sim_request *req,
		      struct sim_response *resp)
{
	const char *agg = aggregated_wanted(req);
	const char *hostport = strstr(c->server_url, "//");

	if (agg) {
		json_t *item = aggregated_group("", "v1");

		json_object_del(json_object_get(item, "metadata"), "name");
		send_aggregated(resp, agg, json_pack("[o]", item));
		return;
	}
	sim_response_json(resp, 200, json_pack("{s:s,s:[s],s:[{s:s,s:s}]}", "kind", "APIVersions",
					       "versions", "v1", "serverAddressByClientCIDRs",
					       "clientCIDR", "0.0.0.0/0", "serverAddress",
					       hostport ? hostport + 2 : c->server_url));
}

static void serve_apis(struct sim_cluster *c, const struct sim_request *req,
		       struct sim_response *resp)
{
	const char *agg = aggregated_wanted(req);
	json_t *list = json_array();
	size_t i;

	for (i = 0; i < COMMON_ARRAY_LEN(groups); i++)
		json_array_append_new(list, agg ? aggregated_group(groups[i],
								   group_version(groups[i]))
						: group_entry(groups[i]));
	if (c->agg)
		sim_aggregator_add_groups(c->agg, agg ? NULL : list, agg ? list : NULL);
	if (agg)
		send_aggregated(resp, agg, list);
	else
		sim_response_json(resp, 200, json_pack("{s:s,s:s,s:o}", "kind", "APIGroupList",
						       "apiVersion", "v1", "groups", list));
}

static void serve_version(struct sim_response *resp)
{
	sim_response_json(resp, 200,
			  json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "major", "1", "minor",
				    "32", "gitVersion", "v1.32.0-kubesim", "gitCommit",
				    "0000000000000000000000000000000000000000", "gitTreeState",
				    "clean", "buildDate", "2025-01-01T00:00:00Z", "goVersion",
				    "go1.23.0", "compiler", "gc", "platform", "linux/amd64"));
}

/* Index of a built-in group, or -1. */
static int find_group(const char *g, size_t n)
{
	size_t i;

	for (i = 0; i < COMMON_ARRAY_LEN(groups); i++)
		if (strlen(groups[i]) == n && strncmp(groups[i], g, n) == 0)
			return (int)i;
	return -1;
}

void sim_discovery_handle(struct sim_cluster *c, const struct sim_request *req,
			  struct sim_response *resp, bool *handled)
{
	const char *p = req->path;
	int g;

	*handled = true;
	if (strcmp(p, "/version") == 0 || strcmp(p, "/version/") == 0)
		serve_version(resp);
	else if (strcmp(p, "/api") == 0 || strcmp(p, "/api/") == 0)
		serve_api(c, req, resp);
	else if (strcmp(p, "/apis") == 0 || strcmp(p, "/apis/") == 0)
		serve_apis(c, req, resp);
	else if (strcmp(p, "/api/v1") == 0 || strcmp(p, "/api/v1/") == 0)
		sim_response_json(resp, 200, resource_list("", "v1"));
	else if (strncmp(p, "/apis/", 6) == 0 && (g = find_group(p + 6, strcspn(p + 6, "/"))) >= 0) {
		const char *rest = p + 6 + strlen(groups[g]);
		const char *v = group_version(groups[g]);

		if (!*rest || strcmp(rest, "/") == 0) {
			json_t *doc = group_entry(groups[g]);

			json_object_set_new(doc, "kind", json_string("APIGroup"));
			json_object_set_new(doc, "apiVersion", json_string("v1"));
			sim_response_json(resp, 200, doc);
		} else if (rest[0] == '/' && strncmp(rest + 1, v, strlen(v)) == 0 &&
			   (!rest[1 + strlen(v)] || strcmp(rest + 1 + strlen(v), "/") == 0)) {
			sim_response_json(resp, 200, resource_list(groups[g], v));
		} else {
			*handled = false;
		}
	} else {
		*handled = false;
	}
}
