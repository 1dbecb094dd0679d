/*
 * authorize.c - RBAC on kubesim's own REST API for chosen identities
 * (--rbac-enforce PREFIX).  kubesim otherwise authorizes every
 * authenticated request; a request whose user starts with PREFIX (e.g.
 * "system:serviceaccount:") gets the attributes kube-apiserver's
 * RequestInfoFactory derives from its method and path (verb get, list,
 * watch, create, update, patch, delete, deletecollection; group, version,
 * namespace, resource, subresource, name, incl. a fieldSelector
 * metadata.name=X on a list) or a non-resource path, and is served only
 * when sim_rbac_authorize allows it (the RBAC objects in the store, as a
 * SubjectAccessReview would answer).  Otherwise 403 with kube-apiserver's
 * Status (responsewriters.Forbidden: "<resource>[.<group>] ["<name>"] is
 * forbidden: User "<u>" cannot <verb> resource "<res>[/<sub>]" in API
 * group "<g>" (in the namespace "<ns>"|at the cluster scope)[: <reason>]",
 * or "forbidden: User "<u>" cannot <verb> path "<p>"").  Requests of the
 * aggregator's front proxy and kubesim's control endpoint are not checked.
 */
#include "test/kubesim/apiserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct attrs {
	bool resource;
	const char *verb;
	const char *group, *version, *ns, *res, *sub, *name;
	char *field_name; /* from fieldSelector, owned */
};

static const char *method_verb(const char *m)
{
	static const char *const map[][2] = {
		{ "POST", "create" }, { "GET", "get" },     { "HEAD", "get" },
		{ "PUT", "update" },  { "PATCH", "patch" }, { "DELETE", "delete" },
	};

	for (size_t i = 0; i < COMMON_ARRAY_LEN(map); i++)
		if (strcmp(m, map[i][0]) == 0)
			return map[i][1];
	return "";
}

/* fieldSelector "metadata.name=X" or "metadata.name==X" alone: X, else NULL. */
static char *selector_name(const char *sel)
{
	const char *v;

	if (!sel || strncmp(sel, "metadata.name=", 14) != 0)
		return NULL;
	v = sel + 14;
	if (*v == '=')
		v++;
	if (!*v || strpbrk(v, ",=!/"))
		return NULL;
	return xstrdup(v);
}

static bool truthy(const char *v)
{
	return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* RequestInfoFactory.NewRequestInfo over the split path s (borrowed). */
static void request_info(const struct sim_request *req, const struct sim_segments *s,
			 struct attrs *a)
{
	char *const *p;
	size_t n;

	memset(a, 0, sizeof(*a));
	a->verb = method_verb(req->method);
	a->group = "";
	if (s->n >= 2 && strcmp(s->v[0], "api") == 0) {
		a->version = s->v[1];
		p = s->v + 2;
		n = s->n - 2;
	} else if (s->n >= 3 && strcmp(s->v[0], "apis") == 0) {
		a->group = s->v[1];
		a->version = s->v[2];
		p = s->v + 3;
		n = s->n - 3;
	} else {
		return; /* non-resource */
	}
	if (n == 0)
		return; /* /api/v1, /apis/g/v: discovery, non-resource */
	a->resource = true;
	if (strcmp(p[0], "watch") == 0) {
		a->verb = "watch";
		p++;
		n--;
	}
	if (n >= 1 && strcmp(p[0], "namespaces") == 0) {
		if (n > 1) {
			a->ns = p[1];
			if (n > 2 && strcmp(p[2], "finalize") != 0 && strcmp(p[2], "status") != 0) {
				p += 2;
				n -= 2;
			}
		}
	}
	if (n >= 3)
		a->sub = p[2];
	if (n >= 2)
		a->name = p[1];
	if (n >= 1)
		a->res = p[0];
	if (!a->name && strcmp(a->verb, "get") == 0) {
		a->verb = truthy(sim_request_arg(req, "watch")) ? "watch" : "list";
		a->field_name = selector_name(sim_request_arg(req, "fieldSelector"));
		a->name = a->field_name;
	}
	if (!a->name && strcmp(a->verb, "delete") == 0)
		a->verb = "deletecollection";
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* The SubjectAccessReview attributes (new reference). */
static json_t *review_attrs(const struct attrs *a, const char *path)
{
	if (!a->resource)
		return json_pack("{s:s,s:s}", "path", path, "verb", a->verb);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "verb", a->verb, "group", a->group,
			 "version", or_empty(a->version), "namespace", or_empty(a->ns),
			 "resource", or_empty(a->res), "subresource", or_empty(a->sub), "name",
			 or_empty(a->name));
}

/* StatusDetails of NewForbidden: kind (the resource), group and name when set. */
static json_t *forbidden_details(const struct attrs *a)
{
	json_t *details = json_pack("{s:s}", "kind", or_empty(a->res));

	if (*a->group)
		json_object_set_new(details, "group", json_string(a->group));
	if (a->name && *a->name)
		json_object_set_new(details, "name", json_string(a->name));
	return details;
}

/* responsewriters.Forbidden into resp. */
static void forbidden(const struct sim_request *req, const struct attrs *a, const char *reason,
		      struct sim_response *resp)
{
	char *why, *msg, *qualified;
	const char *sep = reason && *reason ? ": " : "";

	if (!a->resource) {
		msg = xasprintf("forbidden: User \"%s\" cannot %s path \"%s\"%s%s", req->user, a->verb,
				req->path, sep, or_empty(reason));
		sim_response_status_details(resp, 403, "Forbidden", msg, json_object());
		free(msg);
		return;
	}
	if (a->ns && *a->ns)
		why = xasprintf("User \"%s\" cannot %s resource \"%s%s%s\" in API group \"%s\" in the "
				"namespace \"%s\"%s%s", req->user, a->verb, or_empty(a->res),
				a->sub ? "/" : "", or_empty(a->sub), a->group, a->ns, sep,
				or_empty(reason));
	else
		why = xasprintf("User \"%s\" cannot %s resource \"%s%s%s\" in API group \"%s\" at the "
				"cluster scope%s%s", req->user, a->verb, or_empty(a->res),
				a->sub ? "/" : "", or_empty(a->sub), a->group, sep, or_empty(reason));
	qualified = xasprintf("%s%s%s", or_empty(a->res), *a->group ? "." : "", a->group);
	if (a->name && *a->name)
		msg = xasprintf("%s \"%s\" is forbidden: %s", qualified, a->name, why);
	else
		msg = xasprintf("%s is forbidden: %s", qualified, why);
	sim_response_status_details(resp, 403, "Forbidden", msg, forbidden_details(a));
	free(qualified);
	free(why);
	free(msg);
}

bool sim_authorize(struct sim_cluster *c, const struct sim_request *req, struct sim_response *resp)
{
	const char *prefix = c->cfg.rbac_enforce;
	struct sim_segments s;
	struct attrs a;
	json_t *groups, *ra, *out;
	bool allowed;

	if (!prefix || !*prefix || req->front_proxy || !req->user ||
	    strncmp(req->user, prefix, strlen(prefix)) != 0 ||
	    strncmp(req->path, "/kubesim/v1/", 12) == 0)
		return true;
	sim_path_split(req->path, &s);
	request_info(req, &s, &a);
	groups = json_array();
	for (size_t i = 0; i < req->ngroups; i++)
		json_array_append_new(groups, json_string(req->groups[i]));
	ra = review_attrs(&a, req->path);
	out = sim_rbac_authorize(c, req->user, groups, a.resource ? ra : NULL,
				 a.resource ? NULL : ra);
	allowed = json_is_true(json_object_get(out, "allowed"));
	if (!allowed) {
		log_v(2, "kubesim: RBAC denies %s %s to %s", req->method, req->path, req->user);
		forbidden(req, &a, json_string_value(json_object_get(out, "reason")), resp);
	}
	json_decref(out);
	json_decref(ra);
	json_decref(groups);
	free(a.field_name);
	sim_path_segments_free(&s);
	return allowed;
}
