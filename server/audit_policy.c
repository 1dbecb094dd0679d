/*
 * audit_policy.c - the audit policy (--audit-policy-file): an
 * audit.k8s.io/v1 Policy in YAML or JSON, checked as the apiserver's
 * policy reader does (apiVersion and kind, its field validation, at least
 * one rule), and evaluated per request as its rule checker: the first rule
 * whose users, userGroups, verbs, and then namespaces/resources or
 * nonResourceURLs all match decides the level and the stages to omit
 * (the policy's omitStages joined to the rule's); no rule matching means
 * level None.
 */
#include "server/audit_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_MAX_RULES 1024
#define POLICY_MAX_ITEMS 4096 /* strings in one list */

struct strs {
	char **v;
	size_t n;
};

struct group_resources {
	char *group;
	struct strs resources, names;
};

struct rule {
	enum server__audit_level level;
	struct strs users, groups, verbs, namespaces, urls;
	struct group_resources *res;
	size_t nres;
	unsigned omit;                   /* SERVER__AUDIT_STAGE_* bits */
};

struct server__audit_policy {
	struct rule *rules;
	size_t n;
};

static const char *const level_names[] = { "None", "Metadata", "Request", "RequestResponse" };
static const char *const stage_names[] = { "RequestReceived", "ResponseStarted",
					   "ResponseComplete", "Panic" };

const char *server__audit_level_name(enum server__audit_level l)
{
	return level_names[l];
}

const char *server__audit_stage_name(enum server__audit_stage s)
{
	return stage_names[s];
}

/* ---- reading --------------------------------------------------------------- */

/* Field errors, joined as an aggregate ("[a, b]" for several). */
struct errs {
	char text[1024];
	size_t n;
};

static void err_add(struct errs *e, const char *fmt, const char *path, const char *value,
		    const char *detail)
{
	size_t used = strlen(e->text);

	if (used + 4 >= sizeof(e->text))
		return;
	snprintf(e->text + used, sizeof(e->text) - used, "%s", e->n ? ", " : "");
	used = strlen(e->text);
	snprintf(e->text + used, sizeof(e->text) - used, fmt, path, value, detail);
	e->n++;
}

static int strs_read(json_t *arr, struct strs *out)
{
	size_t i;
	json_t *v;

	memset(out, 0, sizeof(*out));
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > POLICY_MAX_ITEMS)
		return ERR_INVAL;
	out->v = xcalloc(json_array_size(arr) + 1, sizeof(char *));
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return ERR_INVAL;
		out->v[out->n++] = xstrdup(json_string_value(v));
	}
	return 0;
}

static void strs_clear(struct strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static bool strs_has(const struct strs *s, const char *v)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], v) == 0)
			return true;
	return false;
}

/* validateOmitStages: the stage bits of arr, errors under path. */
static unsigned read_stages(json_t *arr, const char *path, struct errs *e)
{
	struct strs s;
	unsigned bits = 0;
	char at[160];

	if (strs_read(arr, &s) != 0) {
		err_add(e, "%s: Invalid value: %s%s", path, "\"\"", ": must be a list of strings");
		return 0;
	}
	for (size_t i = 0; i < s.n; i++) {
		size_t k;

		for (k = 0; k < COMMON_ARRAY_LEN(stage_names); k++)
			if (strcmp(s.v[i], stage_names[k]) == 0)
				break;
		if (k < COMMON_ARRAY_LEN(stage_names)) {
			bits |= 1u << k;
			continue;
		}
		snprintf(at, sizeof(at), "%s[%zu]", path, i);
		err_add(e, "%s: Invalid value: \"%s\": %s", at, s.v[i],
			"allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic");
	}
	strs_clear(&s);
	return bits;
}

static void read_level(json_t *v, const char *path, struct rule *r, struct errs *e)
{
	const char *s = json_string_value(v);

	for (size_t k = 0; s && k < COMMON_ARRAY_LEN(level_names); k++)
		if (strcmp(s, level_names[k]) == 0) {
			r->level = (enum server__audit_level)k;
			return;
		}
	if (!s || !*s)
		err_add(e, "%s: Required value%s%s", path, "", "");
	else
		err_add(e, "%s: Unsupported value: \"%s\": %s", path, s,
			"supported values: \"None\", \"Metadata\", \"Request\", \"RequestResponse\"");
}

/* validateNonResourceURLs */
static void check_urls(const struct strs *u, const char *path, struct errs *e)
{
	char at[160];

	for (size_t i = 0; i < u->n; i++) {
		const char *url = u->v[i];
		size_t len = strlen(url);

		if (strcmp(url, "*") == 0)
			continue;
		snprintf(at, sizeof(at), "%s[%zu]", path, i);
		if (url[0] != '/')
			err_add(e, "%s: Invalid value: \"%s\": %s", at, url,
				"non-resource URL rules must begin with a '/' character");
		if (len > 0 && memchr(url, '*', len - 1))
			err_add(e, "%s: Invalid value: \"%s\": %s", at, url,
				"non-resource URL wildcards '*' must be the final character of the "
				"rule");
	}
}

static int read_resources(json_t *arr, const char *path, struct rule *r, struct errs *e)
{
	size_t i;
	json_t *g;
	char at[160];

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > POLICY_MAX_ITEMS)
		return ERR_INVAL;
	r->res = xcalloc(json_array_size(arr) + 1, sizeof(*r->res));
	json_array_foreach(arr, i, g) {
		struct group_resources *gr = &r->res[r->nres++];
		const char *group = json_string_value(json_object_get(g, "group"));

		gr->group = xstrdup(group ? group : "");
		if (!json_is_object(g) || strs_read(json_object_get(g, "resources"), &gr->resources) ||
		    strs_read(json_object_get(g, "resourceNames"), &gr->names))
			return ERR_INVAL;
		snprintf(at, sizeof(at), "%s.group", path);
		if (*gr->group && strcmp(gr->group, "*") != 0 &&
		    validation_dns_subdomain(gr->group) != NULL)
			err_add(e, "%s: Invalid value: \"%s\": %s", at, gr->group,
				validation_dns_subdomain(gr->group));
		snprintf(at, sizeof(at), "%s.resourceNames", path);
		if (gr->names.n > 0 && gr->resources.n == 0)
			err_add(e, "%s: Invalid value: %s: %s", at, "[...]",
				"using resourceNames requires at least one resource");
	}
	return 0;
}

static int read_rule(json_t *o, size_t idx, struct rule *r, struct errs *e)
{
	char path[64], sub[128];

	snprintf(path, sizeof(path), "rules[%zu]", idx);
	if (!json_is_object(o))
		return ERR_INVAL;
	snprintf(sub, sizeof(sub), "%s.level", path);
	read_level(json_object_get(o, "level"), sub, r, e);
	if (strs_read(json_object_get(o, "users"), &r->users) ||
	    strs_read(json_object_get(o, "userGroups"), &r->groups) ||
	    strs_read(json_object_get(o, "verbs"), &r->verbs) ||
	    strs_read(json_object_get(o, "namespaces"), &r->namespaces) ||
	    strs_read(json_object_get(o, "nonResourceURLs"), &r->urls))
		return ERR_INVAL;
	snprintf(sub, sizeof(sub), "%s.nonResourceURLs", path);
	check_urls(&r->urls, sub, e);
	if (r->urls.n > 0 && (json_array_size(json_object_get(o, "resources")) > 0 ||
			      r->namespaces.n > 0))
		err_add(e, "%s: Invalid value: %s: %s", sub, "[...]",
			"rules cannot apply to both regular resources and non-resource URLs");
	snprintf(sub, sizeof(sub), "%s.resources", path);
	if (read_resources(json_object_get(o, "resources"), sub, r, e) != 0)
		return ERR_INVAL;
	snprintf(sub, sizeof(sub), "%s.omitStages", path);
	r->omit = read_stages(json_object_get(o, "omitStages"), sub, e);
	return 0;
}

void server__audit_policy_free(struct server__audit_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		struct rule *r = &p->rules[i];

		strs_clear(&r->users);
		strs_clear(&r->groups);
		strs_clear(&r->verbs);
		strs_clear(&r->namespaces);
		strs_clear(&r->urls);
		for (size_t k = 0; k < r->nres; k++) {
			free(r->res[k].group);
			strs_clear(&r->res[k].resources);
			strs_clear(&r->res[k].names);
		}
		free(r->res);
	}
	free(p->rules);
	free(p);
}

static struct server__audit_policy *policy_from(json_t *doc, char *err, size_t errlen)
{
	struct server__audit_policy *p = xcalloc(1, sizeof(*p));
	const char *api = json_string_value(json_object_get(doc, "apiVersion"));
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	json_t *rules = json_object_get(doc, "rules"), *r;
	struct errs e = { "", 0 };
	unsigned omit;
	size_t i;

	if (!api || strcmp(api, "audit.k8s.io/v1") != 0 || !kind || strcmp(kind, "Policy") != 0) {
		snprintf(err, errlen, "failed decoding: the policy must be apiVersion "
			 "audit.k8s.io/v1, kind Policy (got %.60s, %.60s)", api ? api : "none",
			 kind ? kind : "none");
		goto fail;
	}
	omit = read_stages(json_object_get(doc, "omitStages"), "omitStages", &e);
	if (rules && !json_is_array(rules)) {
		snprintf(err, errlen, "failed decoding: rules must be a list");
		goto fail;
	}
	if (json_array_size(rules) > POLICY_MAX_RULES) {
		snprintf(err, errlen, "failed decoding: more than %d rules", POLICY_MAX_RULES);
		goto fail;
	}
	p->rules = xcalloc(json_array_size(rules) + 1, sizeof(*p->rules));
	json_array_foreach(rules, i, r) {
		if (read_rule(r, i, &p->rules[p->n++], &e) != 0) {
			snprintf(err, errlen, "failed decoding: rules[%zu] is not a PolicyRule "
				 "(lists of strings, resources of {group, resources, "
				 "resourceNames})", i);
			goto fail;
		}
		p->rules[i].omit |= omit;
	}
	if (e.n > 0) {
		snprintf(err, errlen, e.n > 1 ? "[%s]" : "%s", e.text);
		goto fail;
	}
	if (p->n == 0) {
		snprintf(err, errlen, "loaded illegal policy with 0 rules");
		goto fail;
	}
	return p;
fail:
	server__audit_policy_free(p);
	return NULL;
}

struct server__audit_policy *server__audit_policy_load(const char *path, char *err, size_t errlen)
{
	struct server__audit_policy *p = NULL;
	struct dynbuf b;
	char why[1024] = "";
	json_t *doc;

	dynbuf_init(&b, DYN_CONFIG_FILE);
	if (dynbuf_read_file(&b, path) != 0) {
		snprintf(err, errlen, "loading audit policy file: failed to read file path \"%s\"",
			 path);
		dynbuf_clear(&b);
		return NULL;
	}
	doc = yamldoc_to_json(b.buf ? b.buf : "", b.len, why, sizeof(why));
	dynbuf_clear(&b);
	if (!doc || !json_is_object(doc)) {
		snprintf(err, errlen, "loading audit policy file: failed decoding: %s",
			 doc ? "not an object" : why);
		json_decref(doc);
		return NULL;
	}
	p = policy_from(doc, why, sizeof(why));
	json_decref(doc);
	if (!p)
		snprintf(err, errlen, "loading audit policy file: %s", why);
	return p;
}

/* ---- evaluation --------------------------------------------------------------- */

static bool path_matches(const char *path, const char *spec)
{
	size_t len = strlen(spec);

	if (strcmp(spec, "*") == 0 || strcmp(spec, path) == 0)
		return true;
	while (len > 0 && spec[len - 1] == '*')
		len--;
	return len < strlen(spec) && strncmp(path, spec, len) == 0;
}

static bool resource_matches(const struct rule *r, const struct server_attrs *at)
{
	char combined[512];

	if (!at->is_resource)
		return false;
	if (r->namespaces.n > 0 && !strs_has(&r->namespaces, at->ns))
		return false;
	if (r->nres == 0)
		return true;
	snprintf(combined, sizeof(combined), "%s%s%s", at->resource, *at->subresource ? "/" : "",
		 at->subresource);
	for (size_t g = 0; g < r->nres; g++) {
		const struct group_resources *gr = &r->res[g];

		if (strcmp(gr->group, at->group) != 0 && strcmp(gr->group, "*") != 0)
			continue;
		if (gr->resources.n == 0)
			return true;
		if (gr->names.n > 0 && !strs_has(&gr->names, at->name))
			continue;
		for (size_t i = 0; i < gr->resources.n; i++) {
			const char *res = gr->resources.v[i];
			size_t len = strlen(res);

			if (strcmp(res, combined) == 0 || strcmp(res, "*") == 0)
				return true;
			if (*at->subresource && strncmp(res, "*/", 2) == 0 &&
			    strcmp(res + 2, at->subresource) == 0)
				return true;
			if (len >= 2 && strcmp(res + len - 2, "/*") == 0 &&
			    strlen(at->resource) == len - 2 && strncmp(res, at->resource, len - 2) == 0)
				return true;
		}
	}
	return false;
}

static bool rule_matches(const struct rule *r, const struct server_user *u,
			 const struct server_attrs *at)
{
	if (r->users.n > 0 && (!u || !strs_has(&r->users, u->name)))
		return false;
	if (r->groups.n > 0) {
		bool any = false;

		for (size_t i = 0; u && i < u->ngroups && !any; i++)
			any = strs_has(&r->groups, u->groups[i]);
		if (!any)
			return false;
	}
	if (r->verbs.n > 0 && !strs_has(&r->verbs, at->verb))
		return false;
	if (r->namespaces.n > 0 || r->nres > 0)
		return resource_matches(r, at);
	if (r->urls.n > 0) {
		if (at->is_resource)
			return false;
		for (size_t i = 0; i < r->urls.n; i++)
			if (path_matches(at->path, r->urls.v[i]))
				return true;
		return false;
	}
	return true;
}

enum server__audit_level server__audit_policy_eval(const struct server__audit_policy *p,
						   const struct server_user *u,
						   const struct server_attrs *at, unsigned *omit)
{
	for (size_t i = 0; i < p->n; i++)
		if (rule_matches(&p->rules[i], u, at)) {
			*omit = p->rules[i].omit;
			return p->rules[i].level;
		}
	*omit = 0;
	return SERVER__AUDIT_NONE;
}
