/*
 * custom_discovery.c - discovery of custom.metrics.k8s.io and
 * external.metrics.k8s.io (custom-external.md §1.1, §1.2, §2):
 *
 *   APIGroup         custom: v1beta2 then v1beta1, v1beta2 preferred (the
 *                    order and preference kube-apiserver's /apis gives for
 *                    the APIServices §7.5 registers: v1beta2 with the
 *                    higher versionPriority); external: v1beta1
 *   APIResourceList  custom-metrics-apiserver's resource_lister.go: one
 *                    entry per (group-resource, metric), "GR/metric",
 *                    kind MetricValueList, verbs [get]; external: one per
 *                    metric, namespaced, kind ExternalMetricValueList.  An
 *                    empty catalog lists the default providers'
 *                    placeholders ("/custommetrics", "externalmetrics") so
 *                    the list is never empty (kubernetes#98801)
 *   aggregated v2    the same lists through the aggregator's
 *                    ConvertGroupVersionIntoToDiscovery ("a/b" is
 *                    subresource b of a), as kube-apiserver would build
 *                    them from the legacy lists
 */
#include "apis/apis_int.h"

#include <stdlib.h>
#include <string.h>

#define GV(g, v) "{\"groupVersion\":\"" g "/" v "\",\"version\":\"" v "\"}"
#define CM_GROUP_BODY                                                                 \
	"\"name\":\"" CM_GROUP "\",\"versions\":[" GV(CM_GROUP, "v1beta2") "," GV(       \
		CM_GROUP, "v1beta1") "],\"preferredVersion\":" GV(CM_GROUP, "v1beta2")
#define EM_GROUP_BODY                                                                    \
	"\"name\":\"" EM_GROUP "\",\"versions\":[" GV(EM_GROUP, "v1beta1") "],"             \
	"\"preferredVersion\":" GV(EM_GROUP, "v1beta1")

/* One legacy APIResource of ours. */
struct entry {
	const char *gr_resource, *gr_group; /* custom: the GroupResource; external: NULL */
	const char *name;                   /* custom: the metric; external: the metric */
	bool namespaced;
};

struct entries {
	bool custom;
	struct entry *v;
	size_t n;
};

static const struct entry CM_PLACEHOLDER = { "", "", "custommetrics", false };
static const struct entry EM_PLACEHOLDER = { NULL, NULL, "externalmetrics", true };

static void entries_of(const struct custom_catalog *c, bool custom, struct entries *out)
{
	out->custom = custom;
	out->n = 0;
	if (custom) {
		const struct custom_resource_metric *e;
		size_t n = custom_catalog_resources(c, &e);

		out->v = xmalloc((n ? n : 1) * sizeof(*out->v));
		for (size_t i = 0; i < n; i++)
			out->v[out->n++] = (struct entry){ e[i].resource, e[i].group, e[i].metric,
							   e[i].namespaced };
		if (!n)
			out->v[out->n++] = CM_PLACEHOLDER;
	} else {
		const char *const *m;
		size_t n = custom_catalog_externals(c, &m);

		out->v = xmalloc((n ? n : 1) * sizeof(*out->v));
		for (size_t i = 0; i < n; i++)
			out->v[out->n++] = (struct entry){ NULL, NULL, m[i], true };
		if (!n)
			out->v[out->n++] = EM_PLACEHOLDER;
	}
}

/* GroupResource.String() of a custom entry. */
static int write_gr(struct dynbuf *b, const struct entry *e)
{
	int rc = dynbuf_addstr(b, e->gr_resource);

	if (!rc && e->gr_group[0])
		rc = dynbuf_addch(b, '.');
	return rc ? rc : dynbuf_addstr(b, e->gr_group);
}

/* The entry's legacy name ("GR/metric", or the external metric), or with
 * gr_only its GR, as a JSON string. */
static int write_name(struct dynbuf *b, const struct entry *e, bool custom, bool gr_only)
{
	struct dynbuf raw;
	int rc;

	if (!custom)
		return jsonw_string(b, e->name);
	dynbuf_init(&raw, b->max);
	rc = write_gr(&raw, e);
	if (!rc && !gr_only)
		rc = dynbuf_addch(&raw, '/');
	if (!rc && !gr_only)
		rc = dynbuf_addstr(&raw, e->name);
	if (!rc)
		rc = jsonw_string(b, raw.buf);
	dynbuf_clear(&raw);
	return rc;
}

static int write_resource_list(struct dynbuf *b, const struct entries *es, const char *gv)
{
	int rc = dynbuf_printf(b, "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\","
				  "\"groupVersion\":\"%s\",\"resources\":[", gv);

	for (size_t i = 0; !rc && i < es->n; i++) {
		rc = dynbuf_addstr(b, i ? ",{\"name\":" : "{\"name\":");
		if (!rc)
			rc = write_name(b, &es->v[i], es->custom, false);
		if (!rc)
			rc = dynbuf_printf(b, ",\"singularName\":\"\",\"namespaced\":%s,\"kind\":\"%s\","
					      "\"verbs\":[\"get\"]}",
					   es->v[i].namespaced ? "true" : "false",
					   es->custom ? "MetricValueList" : "ExternalMetricValueList");
	}
	return rc ? rc : dynbuf_addstr(b, "]}");
}

/* ---- aggregated v2 -------------------------------------------------------- */

#define EMPTY_KIND "\"responseKind\":{\"group\":\"\",\"version\":\"\",\"kind\":\"\"}"

static const char *scope(bool namespaced)
{
	return namespaced ? "Namespaced" : "Cluster";
}

/* ConvertGroupVersionIntoToDiscovery on external names: a name with a '/'
 * would be a subresource; metric names have none, so every entry is a
 * resource of its own. */
static int write_v2_external(struct dynbuf *b, const struct entries *es)
{
	int rc = ERR_OK;

	for (size_t i = 0; !rc && i < es->n; i++) {
		rc = dynbuf_addstr(b, i ? ",{\"resource\":" : "{\"resource\":");
		if (!rc)
			rc = jsonw_string(b, es->v[i].name);
		if (!rc)
			rc = dynbuf_addstr(b, ",\"responseKind\":{\"group\":\"\",\"version\":\"\","
					      "\"kind\":\"ExternalMetricValueList\"},\"scope\":"
					      "\"Namespaced\",\"singularResource\":\"\",\"verbs\":[\"get\"]}");
	}
	return rc;
}

static bool same_gr(const struct entry *a, const struct entry *b)
{
	return strcmp(a->gr_resource, b->gr_resource) == 0 && strcmp(a->gr_group, b->gr_group) == 0;
}

/* Custom entries are all "GR/metric": one parent per GR (its kind empty,
 * verbs null), the metrics its subresources.  The catalog is sorted by GR,
 * so a GR's entries are adjacent. */
static int write_v2_custom(struct dynbuf *b, const struct entries *es)
{
	int rc = ERR_OK;

	for (size_t i = 0; !rc && i < es->n; i++) {
		const struct entry *e = &es->v[i];
		bool first = i == 0 || !same_gr(&es->v[i - 1], e);
		bool last = i + 1 == es->n || !same_gr(&es->v[i + 1], e);

		if (first) {
			rc = dynbuf_addstr(b, i ? ",{\"resource\":" : "{\"resource\":");
			if (!rc)
				rc = write_name(b, e, true, true);
			if (!rc)
				rc = dynbuf_printf(b, "," EMPTY_KIND ",\"scope\":\"%s\","
						      "\"singularResource\":\"\",\"verbs\":null,"
						      "\"subresources\":[",
						   scope(e->namespaced));
		} else {
			rc = dynbuf_addch(b, ',');
		}
		if (!rc)
			rc = dynbuf_addstr(b, "{\"subresource\":");
		if (!rc)
			rc = jsonw_string(b, e->name);
		if (!rc)
			rc = dynbuf_addstr(b, ",\"responseKind\":{\"group\":\"\",\"version\":\"\","
					      "\"kind\":\"MetricValueList\"},\"verbs\":[\"get\"]}");
		if (!rc && last)
			rc = dynbuf_addstr(b, "]}");
	}
	return rc;
}

static int write_v2_version(struct dynbuf *b, const struct entries *es, const char *version,
			    bool first)
{
	int rc = dynbuf_printf(b, "%s{\"version\":\"%s\",\"resources\":[", first ? "" : ",", version);

	if (!rc)
		rc = es->custom ? write_v2_custom(b, es) : write_v2_external(b, es);
	return rc ? rc : dynbuf_addstr(b, "],\"freshness\":\"Current\"}");
}

int apis__custom_discovery_v2(struct dynbuf *b, const struct custom_catalog *c)
{
	struct entries cm, em;
	int rc;

	entries_of(c, true, &cm);
	entries_of(c, false, &em);
	rc = dynbuf_addstr(b, ",{\"metadata\":{\"name\":\"" CM_GROUP "\",\"creationTimestamp\":null},"
			      "\"versions\":[");
	if (!rc)
		rc = write_v2_version(b, &cm, "v1beta2", true);
	if (!rc)
		rc = write_v2_version(b, &cm, "v1beta1", false);
	if (!rc)
		rc = dynbuf_addstr(b, "]},{\"metadata\":{\"name\":\"" EM_GROUP "\","
				      "\"creationTimestamp\":null},\"versions\":[");
	if (!rc)
		rc = write_v2_version(b, &em, "v1beta1", true);
	if (!rc)
		rc = dynbuf_addstr(b, "]}");
	free(cm.v);
	free(em.v);
	return rc;
}

int apis__custom_group_list(struct dynbuf *b)
{
	return dynbuf_addstr(b, ",{" CM_GROUP_BODY "},{" EM_GROUP_BODY "}");
}

/* ---- the group and version documents ------------------------------------- */

static bool path_is(const char *path, const char *want)
{
	size_t n = strlen(want);

	return strncmp(path, want, n) == 0 && (path[n] == '\0' || (path[n] == '/' && !path[n + 1]));
}

static void reply(const struct apis_request *req, const struct apis_sources *src,
		  const char *gv, struct apis_response *resp)
{
	struct custom_catalog *cat = NULL;
	struct entries es = { 0 };
	int rc;

	dynbuf_reset(&resp->body);
	if (strcmp(gv, CM_GROUP) == 0) {
		rc = dynbuf_addstr(&resp->body, "{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\"," CM_GROUP_BODY "}");
	} else if (strcmp(gv, EM_GROUP) == 0) {
		rc = dynbuf_addstr(&resp->body, "{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\"," EM_GROUP_BODY "}");
	} else {
		cat = custom_catalog_acquire(src->custom, apis__now_ms(req));
		entries_of(cat, strncmp(gv, CM_GROUP, strlen(CM_GROUP)) == 0, &es);
		rc = write_resource_list(&resp->body, &es, gv);
		free(es.v);
		custom_catalog_unref(cat);
	}
	if (!rc)
		rc = apis__finish_json(resp, req->pretty);
	if (rc) {
		apis__error_internal(resp, req->pretty, rc);
		return;
	}
	resp->status = 200;
	resp->content_type = CT_JSON;
}

bool apis__custom_discovery(const struct apis_request *req, const struct apis_sources *src,
			   struct apis_response *resp)
{
	static const char *const docs[] = { CM_GROUP, CM_GROUP "/v1beta1", CM_GROUP "/v1beta2",
					    EM_GROUP, EM_GV };
	const char *gv = NULL;

	if (!src->custom || strncmp(req->path, "/apis/", 6) != 0)
		return false;
	for (size_t i = 0; i < COMMON_ARRAY_LEN(docs) && !gv; i++)
		if (path_is(req->path + 6, docs[i]))
			gv = docs[i];
	if (!gv)
		return false;
	if (apis__get_media(req, false, false, resp) != MEDIA_NONE)
		reply(req, src, gv, resp);
	return true;
}
