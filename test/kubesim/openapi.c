/*
 * openapi.c - the smallest OpenAPI v3 that kubectl needs: `kubectl
 * apply/create -f` (validation "strict") asks /openapi/v3 for each
 * group-version and checks that the PATCH operation of the kind accepts
 * the fieldValidation query parameter, then leaves validation to the
 * server.  Each document lists, per kind, that PATCH operation only.
 */
#include "test/kubesim/apiserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPENAPI_HASH "6b1f7b1a0c9e3d2f"

static void gv_path(const struct sim_kind *k, char *buf, size_t len)
{
	if (*k->group)
		snprintf(buf, len, "apis/%s/%s", k->group, k->version);
	else
		snprintf(buf, len, "api/%s", k->version);
}

static json_t *root_doc(void)
{
	json_t *paths = json_object();
	char gv[160], url[220];
	size_t i;

	for (i = 0; sim_kinds[i]; i++) {
		gv_path(sim_kinds[i], gv, sizeof(gv));
		snprintf(url, sizeof(url), "/openapi/v3/%s?hash=%s", gv, OPENAPI_HASH);
		json_object_set_new(paths, gv, json_pack("{s:s}", "serverRelativeURL", url));
	}
	return json_pack("{s:o}", "paths", paths);
}

static json_t *patch_path(const struct sim_kind *k)
{
	return json_pack("{s:{s:{s:s,s:s,s:s},s:[{s:s,s:s,s:{s:s}}],s:{s:{s:s}}}}", "patch",
			 "x-kubernetes-group-version-kind", "group", k->group, "kind", k->kind,
			 "version", k->version, "parameters", "name", "fieldValidation", "in",
			 "query", "schema", "type", "string", "responses", "200", "description",
			 "OK");
}

static json_t *gv_doc(const char *gv)
{
	json_t *paths = json_object();
	char mine[160], path[300];
	size_t i;

	for (i = 0; sim_kinds[i]; i++) {
		const struct sim_kind *k = sim_kinds[i];

		gv_path(k, mine, sizeof(mine));
		if (strcmp(mine, gv) != 0)
			continue;
		snprintf(path, sizeof(path), "/%s/%s%s/{name}", mine,
			 k->namespaced ? "namespaces/{namespace}/" : "", k->resource);
		json_object_set_new(paths, path, patch_path(k));
	}
	if (!json_object_size(paths)) {
		json_decref(paths);
		return NULL;
	}
	return json_pack("{s:s,s:{s:s,s:s},s:o}", "openapi", "3.0.0", "info", "title",
			 "Kubernetes", "version", "v1.32.0", "paths", paths);
}

bool sim_openapi_handle(const struct sim_request *req, struct sim_response *resp)
{
	const char *p = req->path;
	json_t *doc;

	if (strncmp(p, "/openapi/v3", 11) != 0)
		return false;
	p += 11;
	if (!*p || strcmp(p, "/") == 0) {
		sim_response_json(resp, 200, root_doc());
		return true;
	}
	doc = *p == '/' ? gv_doc(p + 1) : NULL;
	if (!doc)
		return false;
	sim_response_json(resp, 200, doc);
	sim_response_add_header(resp, "Etag", "\"" OPENAPI_HASH "\"");
	return true;
}
