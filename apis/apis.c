/*
 * apis.c - the entry points of apis/: which paths it owns and the
 * dispatch between discovery, metrics.k8s.io resources and plain 404s.
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

	resp->status = 500;
	resp->content_type = CT_JSON;
	if (!req->path || !apis_owns_path(req->path)) {
		apis__page_not_found(resp);
		return;
	}
	if (apis__discovery(req, src, resp))
		return;
	if (has_prefix(req->path, gv_prefix)) {
		apis__metrics(req, src, req->path + strlen(gv_prefix), resp);
		return;
	}
	/* Outside our group version (e.g. /openapi/v3, /apis/other.k8s.io):
	 * the generic apiserver's NotFoundHandler. */
	apis__page_not_found(resp);
}
