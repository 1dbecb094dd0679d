/*
 * discovery.c - discovery documents (aggregation.md §3): the legacy
 * APIGroupList and the aggregated APIGroupDiscoveryList at /apis, the
 * APIGroup, the APIResourceList the aggregator probes, /version and a
 * minimal Swagger 2.0 /openapi/v2.
 */
#include "apis/apis_int.h"

#include <stdio.h>
#include <string.h>

#define GV_ENTRY "{\"groupVersion\":\"" APIS_GV "\",\"version\":\"" APIS_VERSION "\"}"
#define GROUP_BODY "\"name\":\"" APIS_GROUP "\",\"versions\":[" GV_ENTRY "],\"preferredVersion\":" GV_ENTRY

static const char group_list[] =
	"{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[{" GROUP_BODY "}]}";

static const char group[] = "{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\"," GROUP_BODY "}";

static const char resource_list[] =
	"{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"" APIS_GV "\","
	"\"resources\":[{\"name\":\"nodes\",\"singularName\":\"\",\"namespaced\":false,"
	"\"kind\":\"NodeMetrics\",\"verbs\":[\"get\",\"list\"]},{\"name\":\"pods\","
	"\"singularName\":\"\",\"namespaced\":true,\"kind\":\"PodMetrics\","
	"\"verbs\":[\"get\",\"list\"]}]}";

#define RESPONSE_KIND(k) \
	"\"responseKind\":{\"group\":\"" APIS_GROUP "\",\"version\":\"" APIS_VERSION "\",\"kind\":\"" k "\"}"

static const char discovery_v2[] =
	"{\"kind\":\"APIGroupDiscoveryList\",\"apiVersion\":\"apidiscovery.k8s.io/v2\","
	"\"metadata\":{},\"items\":[{\"metadata\":{\"name\":\"" APIS_GROUP "\","
	"\"creationTimestamp\":null},\"versions\":[{\"version\":\"" APIS_VERSION "\","
	"\"resources\":[{\"resource\":\"nodes\"," RESPONSE_KIND("NodeMetrics") ","
	"\"scope\":\"Cluster\",\"singularResource\":\"\",\"verbs\":[\"get\",\"list\"]},"
	"{\"resource\":\"pods\"," RESPONSE_KIND("PodMetrics") ",\"scope\":\"Namespaced\","
	"\"singularResource\":\"\",\"verbs\":[\"get\",\"list\"]}],\"freshness\":\"Current\"}]}]}";

#if defined(__clang__)
#define APIS_COMPILER "clang"
#else
#define APIS_COMPILER "gcc"
#endif

#if defined(__x86_64__)
#define APIS_ARCH "amd64"
#elif defined(__aarch64__)
#define APIS_ARCH "arm64"
#else
#define APIS_ARCH "unknown"
#endif

/* Writes a fixed document as negotiated JSON. */
static void reply(struct apis_response *resp, bool pretty, const char *doc, const char *ctype)
{
	dynbuf_reset(&resp->body);
	if (dynbuf_addstr(&resp->body, doc) || apis__finish_json(resp, pretty)) {
		apis__error_internal(resp, pretty, ERR_TOOBIG);
		return;
	}
	resp->status = 200;
	resp->content_type = ctype;
}

/* /apis: the fixed metrics.k8s.io document, plus the custom and external
 * groups when a provider is given (both documents end in the "]}" that
 * closes their groups/items array). */
static void reply_root(const struct apis_request *req, const struct apis_sources *src,
		       struct apis_response *resp, bool v2)
{
	const char *doc = v2 ? discovery_v2 : group_list;
	struct custom_catalog *cat;
	int rc;

	if (!src->custom) {
		reply(resp, req->pretty, doc, v2 ? CT_DISCOVERY_V2 : CT_JSON);
		return;
	}
	dynbuf_reset(&resp->body);
	rc = dynbuf_add(&resp->body, doc, strlen(doc) - 2);
	if (!rc && v2) {
		cat = custom_catalog_acquire(src->custom, req->now_ns / NS_PER_MS);
		rc = apis__custom_discovery_v2(&resp->body, cat);
		custom_catalog_unref(cat);
	} else if (!rc) {
		rc = apis__custom_group_list(&resp->body);
	}
	if (!rc)
		rc = dynbuf_addstr(&resp->body, "]}");
	if (!rc)
		rc = apis__finish_json(resp, req->pretty);
	if (rc) {
		apis__error_internal(resp, req->pretty, rc);
		return;
	}
	resp->status = 200;
	resp->content_type = v2 ? CT_DISCOVERY_V2 : CT_JSON;
}

/* "v1.2.3" -> major "1", minor "2" (empty when not of that shape). */
static void major_minor(const char *v, char *major, char *minor, size_t len)
{
	size_t a, b;

	major[0] = minor[0] = '\0';
	if (!v || *v != 'v')
		return;
	v++;
	a = strspn(v, "0123456789");
	if (a == 0 || v[a] != '.')
		return;
	b = strspn(v + a + 1, "0123456789");
	if (b == 0)
		return;
	snprintf(major, len, "%.*s", (int)a, v);
	snprintf(minor, len, "%.*s", (int)b, v + a + 1);
}

/* /version: written with json.MarshalIndent, always pretty. */
static void version(const struct apis_sources *src, struct apis_response *resp)
{
	const char *gv = src->git_version ? src->git_version : "v0.0.0";
	char major[16], minor[16];
	struct dynbuf compact;
	int rc;

	major_minor(gv, major, minor, sizeof(major));
	dynbuf_init(&compact, DYN_SMALL);
	rc = dynbuf_printf(&compact, "{\"major\":\"%s\",\"minor\":\"%s\",\"gitVersion\":", major, minor);
	if (!rc)
		rc = jsonw_string(&compact, gv);
	if (!rc)
		rc = dynbuf_addstr(&compact, ",\"gitCommit\":\"\",\"gitTreeState\":\"\","
					     "\"buildDate\":\"1970-01-01T00:00:00Z\",\"goVersion\":\"\","
					     "\"compiler\":\"" APIS_COMPILER "\",\"platform\":\"linux/" APIS_ARCH "\"}");
	dynbuf_reset(&resp->body);
	if (!rc)
		rc = jsonw_indent(&resp->body, compact.buf, compact.len);
	dynbuf_clear(&compact);
	if (rc) {
		apis__error_internal(resp, false, rc);
		return;
	}
	resp->status = 200;
	resp->content_type = CT_JSON;
}

static void openapi_v2(const struct apis_sources *src, struct apis_response *resp)
{
	int rc;

	dynbuf_reset(&resp->body);
	rc = dynbuf_addstr(&resp->body, "{\"swagger\":\"2.0\",\"info\":{\"title\":\"Kubernetes "
					"metrics-server\",\"version\":");
	if (!rc)
		rc = jsonw_string(&resp->body, src->git_version ? src->git_version : "v0.0.0");
	if (!rc)
		rc = dynbuf_addstr(&resp->body, "},\"paths\":{}}");
	if (rc) {
		apis__error_internal(resp, false, rc);
		return;
	}
	resp->status = 200;
	resp->content_type = CT_JSON;
}

static bool path_is(const char *path, const char *want)
{
	size_t n = strlen(want);

	return strncmp(path, want, n) == 0 && (path[n] == '\0' || (path[n] == '/' && !path[n + 1]));
}

bool apis__discovery(const struct apis_request *req, const struct apis_sources *src,
		    struct apis_response *resp)
{
	enum apis_media media;
	bool root = path_is(req->path, "/apis");

	if (!root && !path_is(req->path, "/apis/" APIS_GROUP) && !path_is(req->path, "/apis/" APIS_GV) &&
	    !path_is(req->path, "/version") && strcmp(req->path, "/openapi/v2") != 0)
		return false;
	if (!req->method || strcmp(req->method, "GET") != 0) {
		apis__error_method(resp, req->pretty);
		return true;
	}
	if (path_is(req->path, "/version")) {
		version(src, resp);
		return true;
	}
	if (req->path[1] == 'o') {
		openapi_v2(src, resp);
		return true;
	}
	media = apis__negotiate(req->accept, false, root);
	if (media == MEDIA_NONE)
		apis__error_not_acceptable(resp, req->pretty);
	else if (media == MEDIA_DISCOVERY_V2 || root)
		reply_root(req, src, resp, media == MEDIA_DISCOVERY_V2);
	else if (path_is(req->path, "/apis/" APIS_GROUP))
		reply(resp, req->pretty, group, CT_JSON);
	else
		reply(resp, req->pretty, resource_list, CT_JSON);
	return true;
}
