/*
 * aggregator_discovery.c - discovery of aggregated APIs (handler_discovery.go).
 *
 * For each remote APIService the aggregator fetches, through the proxy
 * transport, GET /apis with the aggregated-discovery Accept header; a 200
 * whose Content-Type carries g=apidiscovery.k8s.io;v=v2|v2beta1;
 * as=APIGroupDiscoveryList is used as is, a 503 or transport error is a
 * failure, anything else falls back to GET /apis/<group>/<version> (an
 * APIResourceList) converted like endpoints.ConvertGroupVersionIntoToDiscovery.
 * The result is cached in the entry (aggregator_loop.c refreshes it) and
 * published with freshness Current, or Stale after a failure.
 */
#include "test/kubesim/aggregator_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FETCH_TIMEOUT_MS 5000L
#define AGGREGATED_ACCEPT                                                         \
	"Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList," \
	"application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"

/* ---- media type ------------------------------------------------------------ */

/* Value of parameter `name` in a media type (";"-separated, optional
 * quotes) copied to out; false when absent. */
static bool media_param(const char *ct, const char *name, char *out, size_t len)
{
	size_t nlen = strlen(name), vlen;
	const char *p = strchr(ct, ';'), *v, *end;

	while (p) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		end = strchr(p, ';');
		if (!end)
			end = p + strlen(p);
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == '=') {
			v = p + nlen + 1;
			while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			if (end - v >= 2 && *v == '"' && end[-1] == '"') {
				v++;
				end--;
			}
			vlen = (size_t)(end - v);
			if (vlen >= len)
				return false;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return true;
		}
		p = *end ? end : NULL;
	}
	return false;
}

static bool is_aggregated_type(const char *ct)
{
	char g[64], v[16], as[64];

	if (!ct || strncasecmp(ct, "application/json", 16) != 0)
		return false;
	return media_param(ct, "g", g, sizeof(g)) && strcmp(g, "apidiscovery.k8s.io") == 0 &&
	       media_param(ct, "v", v, sizeof(v)) &&
	       (strcmp(v, "v2") == 0 || strcmp(v, "v2beta1") == 0) &&
	       media_param(ct, "as", as, sizeof(as)) && strcmp(as, "APIGroupDiscoveryList") == 0;
}

/* ---- conversion ------------------------------------------------------------- */

static json_t *gvk(const json_t *r)
{
	const char *g = json_string_value(json_object_get(r, "group"));
	const char *v = json_string_value(json_object_get(r, "version"));
	const char *k = json_string_value(json_object_get(r, "kind"));

	return json_pack("{s:s, s:s, s:s}", "group", g ? g : "", "version", v ? v : "", "kind",
			 k ? k : "");
}

static json_t *array_or_empty(const json_t *v)
{
	return json_is_array(v) ? json_deep_copy(v) : json_array();
}

static const char *scope_of(const json_t *r)
{
	return json_is_true(json_object_get(r, "namespaced")) ? "Namespaced" : "Cluster";
}

static json_t *convert_resource(const json_t *r)
{
	const char *singular = json_string_value(json_object_get(r, "singularName"));
	json_t *out = json_object();
	const json_t *sn = json_object_get(r, "shortNames");
	const json_t *cat = json_object_get(r, "categories");

	json_object_set(out, "resource", json_object_get(r, "name"));
	json_object_set_new(out, "responseKind", gvk(r));
	json_object_set_new(out, "scope", json_string(scope_of(r)));
	json_object_set_new(out, "singularResource", json_string(singular ? singular : ""));
	json_object_set_new(out, "verbs", array_or_empty(json_object_get(r, "verbs")));
	if (json_array_size(sn))
		json_object_set_new(out, "shortNames", json_deep_copy(sn));
	if (json_array_size(cat))
		json_object_set_new(out, "categories", json_deep_copy(cat));
	return out;
}

static json_t *find_resource(json_t *list, const char *name, size_t len)
{
	json_t *r;
	size_t i;
	const char *s;

	json_array_foreach(list, i, r) {
		s = json_string_value(json_object_get(r, "resource"));
		if (s && strlen(s) == len && strncmp(s, name, len) == 0)
			return r;
	}
	return NULL;
}

static void add_subresource(json_t *out, const json_t *r, const char *name, const char *slash)
{
	json_t *sub = json_object(), *parent, *subs;
	const char *kind = json_string_value(json_object_get(r, "kind"));

	json_object_set_new(sub, "subresource", json_string(slash + 1));
	if (kind && *kind)
		json_object_set_new(sub, "responseKind", gvk(r));
	json_object_set_new(sub, "verbs", array_or_empty(json_object_get(r, "verbs")));
	parent = find_resource(out, name, (size_t)(slash - name));
	if (!parent) {
		parent = json_object();
		json_object_set_new(parent, "resource",
				    json_stringn(name, (size_t)(slash - name)));
		json_object_set_new(parent, "responseKind",
				    json_pack("{s:s, s:s, s:s}", "group", "", "version", "",
					      "kind", ""));
		json_object_set_new(parent, "scope", json_string(scope_of(r)));
		json_array_append_new(out, parent);
	}
	subs = json_object_get(parent, "subresources");
	if (!subs) {
		subs = json_array();
		json_object_set_new(parent, "subresources", subs);
	}
	json_array_append_new(subs, sub);
}

json_t *sim_agg_convert_resource_list(const json_t *resources)
{
	json_t *out = json_array();
	const json_t *r;
	const char *name, *slash;
	size_t i;

	json_array_foreach(resources, i, r) {
		name = json_string_value(json_object_get(r, "name"));
		if (name && !strchr(name, '/'))
			json_array_append_new(out, convert_resource(r));
	}
	json_array_foreach(resources, i, r) {
		name = json_string_value(json_object_get(r, "name"));
		slash = name ? strchr(name, '/') : NULL;
		if (slash)
			add_subresource(out, r, name, slash);
	}
	return out;
}

/* ---- fetching ---------------------------------------------------------------- */

static int get(struct sim_aggregator *a, const struct agg_target *t, const char *path,
	       struct curl_slist *hdrs, struct agg_call *call)
{
	sim_agg_call_init(call);
	call->t = t;
	call->path = path;
	call->headers = hdrs;
	call->verify = true;
	call->timeout_ms = FETCH_TIMEOUT_MS;
	return sim_agg_perform(a, call);
}

/* The resources of t's group/version in an APIGroupDiscoveryList, or NULL. */
static json_t *pick_version(const json_t *doc, const struct agg_target *t)
{
	const json_t *item, *v;
	size_t i, j;

	json_array_foreach(json_object_get(doc, "items"), i, item) {
		const char *g = json_string_value(
			json_object_get(json_object_get(item, "metadata"), "name"));

		if (!g || strcmp(g, t->group) != 0)
			continue;
		json_array_foreach(json_object_get(item, "versions"), j, v) {
			const char *ver = json_string_value(json_object_get(v, "version"));

			if (ver && strcmp(ver, t->version) == 0)
				return array_or_empty(json_object_get(v, "resources"));
		}
	}
	return NULL;
}

static json_t *parse_body(const struct agg_call *call, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc = json_loadb(call->body_out.buf ? call->body_out.buf : "", call->body_out.len,
				 0, &jerr);

	if (!doc)
		snprintf(err, errlen, "invalid JSON from %s: %s", call->url, jerr.text);
	return doc;
}

/* Step 1: aggregated /apis.  *fallback is set when step 2 should run. */
static json_t *fetch_aggregated(struct sim_aggregator *a, const struct agg_target *t,
				bool *fallback, char *err, size_t errlen)
{
	static const char *const masters[] = {"system:masters"};
	struct curl_slist *hdrs = curl_slist_append(NULL, AGGREGATED_ACCEPT);
	struct agg_call call;
	json_t *doc, *res = NULL;

	*fallback = false;
	hdrs = sim_agg_identity_headers(hdrs, "system:kube-aggregator", masters, 1, NULL);
	if (get(a, t, "/apis", hdrs, &call)) {
		snprintf(err, errlen, "%s", call.err);
	} else if (call.status == 503) {
		snprintf(err, errlen, "service unavailable");
	} else if (call.status != 200 || !is_aggregated_type(call.content_type)) {
		*fallback = true;
	} else if ((doc = parse_body(&call, err, errlen)) != NULL) {
		res = pick_version(doc, t);
		if (!res)
			snprintf(err, errlen, "%s/%s is not in the aggregated discovery of %s",
				 t->group, t->version, call.url);
		json_decref(doc);
	}
	sim_agg_call_clear(&call);
	curl_slist_free_all(hdrs);
	return res;
}

/* Step 2: the legacy APIResourceList, as system:kube-aggregator without groups. */
static json_t *fetch_legacy(struct sim_aggregator *a, const struct agg_target *t, char *err,
			    size_t errlen)
{
	struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
	char *path = xasprintf("/apis/%s/%s", t->group, t->version);
	struct agg_call call;
	json_t *doc, *res = NULL;

	hdrs = sim_agg_identity_headers(hdrs, "system:kube-aggregator", NULL, 0, NULL);
	if (get(a, t, path, hdrs, &call)) {
		snprintf(err, errlen, "%s", call.err);
	} else if (call.status != 200) {
		snprintf(err, errlen, "failed to fetch %s: bad status %ld", call.url, call.status);
	} else if ((doc = parse_body(&call, err, errlen)) != NULL) {
		res = sim_agg_convert_resource_list(json_object_get(doc, "resources"));
		json_decref(doc);
	}
	sim_agg_call_clear(&call);
	curl_slist_free_all(hdrs);
	free(path);
	return res;
}

json_t *sim_agg_fetch_discovery(struct sim_aggregator *a, const struct agg_target *t, char *err,
				size_t errlen)
{
	bool fallback;
	json_t *res = fetch_aggregated(a, t, &fallback, err, errlen);

	if (!res && fallback)
		res = fetch_legacy(a, t, err, errlen);
	return res;
}

/* ---- the merge into /apis ------------------------------------------------------ */

struct gv_info {
	char *group;
	char *version;
	int group_priority;
	int version_priority;
	json_t *resources; /* NULL when never fetched */
	bool stale;
};

static int gv_cmp(const void *x, const void *y)
{
	const struct gv_info *p = x, *q = y;
	int c;

	if (p->group_priority != q->group_priority)
		return p->group_priority > q->group_priority ? -1 : 1;
	c = strcmp(p->group, q->group);
	if (c)
		return c;
	if (p->version_priority != q->version_priority)
		return p->version_priority > q->version_priority ? -1 : 1;
	return strcmp(p->version, q->version);
}

/* Copies the remote entries, sorted like SortedByGroupAndVersion. */
static struct gv_info *collect(struct sim_aggregator *a, size_t *n)
{
	struct gv_info *out;
	size_t i;

	pthread_mutex_lock(&a->mu);
	out = xcalloc(a->nentries + 1, sizeof(*out));
	*n = 0;
	for (i = 0; i < a->nentries; i++) {
		const struct agg_entry *e = a->entries[i];

		if (!e->svc_name)
			continue;
		out[*n].group = xstrdup(e->group);
		out[*n].version = xstrdup(e->version);
		out[*n].group_priority = e->group_priority;
		out[*n].version_priority = e->version_priority;
		out[*n].resources = e->disc_resources ? json_deep_copy(e->disc_resources) : NULL;
		out[*n].stale = !e->disc_resources || e->disc_stale || !e->available;
		(*n)++;
	}
	pthread_mutex_unlock(&a->mu);
	qsort(out, *n, sizeof(*out), gv_cmp);
	return out;
}

static json_t *find_named(json_t *arr, const char *name, bool in_metadata)
{
	json_t *g;
	size_t i;

	json_array_foreach(arr, i, g) {
		const json_t *holder = in_metadata ? json_object_get(g, "metadata") : g;
		const char *s = json_string_value(json_object_get(holder, "name"));

		if (s && strcmp(s, name) == 0)
			return g;
	}
	return NULL;
}

static void add_legacy(json_t *groups, const struct gv_info *gv)
{
	json_t *g = find_named(groups, gv->group, false);
	char *gvs = xasprintf("%s/%s", gv->group, gv->version);
	json_t *ver = json_pack("{s:s, s:s}", "groupVersion", gvs, "version", gv->version);

	if (!g) {
		g = json_pack("{s:s, s:[], s:O}", "name", gv->group, "versions",
			      "preferredVersion", ver);
		json_array_append_new(groups, g);
	}
	json_array_append_new(json_object_get(g, "versions"), ver);
	free(gvs);
}

static void add_aggregated(json_t *items, const struct gv_info *gv)
{
	json_t *item = find_named(items, gv->group, true);

	if (!item) {
		item = json_pack("{s:{s:s, s:n}, s:[]}", "metadata", "name", gv->group,
				 "creationTimestamp", "versions");
		json_array_append_new(items, item);
	}
	json_array_append_new(json_object_get(item, "versions"),
			      json_pack("{s:s, s:o, s:s}", "version", gv->version, "resources",
					gv->resources ? json_incref(gv->resources) : json_array(),
					"freshness", gv->stale ? "Stale" : "Current"));
}

void sim_aggregator_add_groups(struct sim_aggregator *a, json_t *legacy_groups,
			       json_t *aggregated_items)
{
	struct gv_info *gvs;
	size_t n, i;

	if (!a)
		return;
	gvs = collect(a, &n);
	for (i = 0; i < n; i++) {
		if (json_is_array(legacy_groups))
			add_legacy(legacy_groups, &gvs[i]);
		if (json_is_array(aggregated_items))
			add_aggregated(aggregated_items, &gvs[i]);
		free(gvs[i].group);
		free(gvs[i].version);
		json_decref(gvs[i].resources);
	}
	free(gvs);
}
