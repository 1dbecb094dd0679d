/*
 * apis.c - the entry points of apis/: which paths it owns and the
 * dispatch between discovery, metrics.k8s.io resources, the custom and
 * external metrics groups (when a provider is given) and plain 404s.
 */
#include "apis/apis_int.h"

#include <string.h>

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool apis_owns_path(const char *path)
{
	return path && (strcmp(path, "/apis") == 0 || has_prefix(path, "/apis/") ||
			 strcmp(path, "/version") == 0 || strcmp(path, "/version/") == 0 ||
			 strcmp(path, "/openapi") == 0 || has_prefix(path, "/openapi/"));
}

void apis_handle(const struct apis_request *req, const struct apis_sources *src,
		 struct apis_response *resp)
{
	static const char gv_prefix[] = "/apis/" APIS_GV "/";
	static const char cm_v1beta1[] = "/apis/" CM_GROUP "/v1beta1/";
	static const char cm_v1beta2[] = "/apis/" CM_GROUP "/v1beta2/";
	static const char em_v1beta1[] = "/apis/" EM_GV "/";

	resp->status = 500;
	resp->content_type = CT_JSON;
	if (!req->path || !apis_owns_path(req->path)) {
		apis__page_not_found(resp);
		return;
	}
	if (apis__custom_discovery(req, src, resp) || apis__discovery(req, src, resp))
		return;
	if (has_prefix(req->path, gv_prefix)) {
		apis__metrics(req, src, req->path + strlen(gv_prefix), resp);
		return;
	}
	if (src->custom && has_prefix(req->path, cm_v1beta1)) {
		apis__custom(req, src, CM_V1BETA1, req->path + strlen(cm_v1beta1), resp);
		return;
	}
	if (src->custom && has_prefix(req->path, cm_v1beta2)) {
		apis__custom(req, src, CM_V1BETA2, req->path + strlen(cm_v1beta2), resp);
		return;
	}
	if (src->custom && has_prefix(req->path, em_v1beta1)) {
		apis__external(req, src, req->path + strlen(em_v1beta1), resp);
		return;
	}
	/* Outside our group version (e.g. /openapi/v3, /apis/other.k8s.io):
	 * the generic apiserver's NotFoundHandler. */
	apis__page_not_found(resp);
}
