/*
 * external.c - external.metrics.k8s.io/v1beta1 (custom-external.md §2):
 * the one route namespaces/{namespace}/{metric} of custom-metrics-
 * apiserver (installer/emhandlers.go, through the generic ListResource),
 * answered as prometheus-adapter's external provider does
 * (external-provider/provider.go, metric_converter.go):
 *
 *   unknown metric        404 "the server could not find the metric M for GR",
 *                         GR "namespaces" in namespace default, else ""
 *   selector refused      500 InternalError "unable to fetch metrics"
 *   no series             200 with items []
 */
#include "apis/apis_int.h"

#include <stdio.h>
#include <string.h>

#define MAX_PATH 4096
#define ERRBUF 512

static void not_found(const struct apis_request *req, const char *ns, const char *metric,
		      struct apis_response *resp)
{
	char msg[MAX_PATH + 128];

	/* selectGroupResource: NsGroupResource only for "default". */
	snprintf(msg, sizeof(msg), "the server could not find the metric %s for %s", metric,
		 strcmp(ns, "default") == 0 ? "namespaces" : "");
	apis__error(resp, req->pretty, 404, "NotFound", msg, NULL, NULL, NULL);
}

static void render(const struct apis_request *req, const char *metric,
		   const struct custom_external_values *vals, struct apis_response *resp)
{
	int rc;

	dynbuf_reset(&resp->body);
	rc = apis__write_external_values(&resp->body, metric, vals);
	if (!rc)
		rc = apis__finish_json(resp, req->pretty);
	if (rc) {
		apis__error_internal(resp, req->pretty, rc);
		return;
	}
	resp->status = 200;
	resp->content_type = CT_JSON;
}

static void serve(const struct apis_request *req, const struct apis_sources *src, const char *ns,
		  const char *metric, const struct apis_filter *f, struct apis_response *resp)
{
	struct custom_catalog *cat = custom_catalog_acquire(src->custom, apis__now_ms(req));
	struct custom_external_query q = { .ns = ns, .metric = metric, .selector = f->labels,
					   .now_ms = apis__now_ms(req) };
	struct custom_external_values vals = { 0 };
	char err[ERRBUF];
	int rc;

	err[0] = '\0';
	if (!custom_catalog_has_external(cat, metric))
		rc = ERR_NOTFOUND;
	else
		rc = custom_external_values(src->custom, cat, &q, &vals, err, sizeof(err));
	if (rc == ERR_NOTFOUND)
		not_found(req, ns, metric, resp);
	else if (rc)
		apis__error_internal_cause(resp, req->pretty, "unable to fetch metrics");
	else
		render(req, metric, &vals, resp);
	custom_external_values_clear(&vals);
	custom_catalog_unref(cat);
}

void apis__external(const struct apis_request *req, const struct apis_sources *src,
		   const char *rest, struct apis_response *resp)
{
	char buf[MAX_PATH];
	char *seg[3];
	struct apis_filter f;
	size_t n;

	if (!apis__split_path(rest, buf, sizeof(buf), seg, 3, &n) || n != 3 ||
	    strcmp(seg[0], "namespaces") != 0) {
		apis__error_not_found_generic(resp, req->pretty);
		return;
	}
	if (apis__get_media(req, false, false, resp) == MEDIA_NONE)
		return;
	if (apis__filter_parse(req, &f, resp)) {
		if (req->watch)  /* ListResource with no Watcher; scope resource "*" */
			apis__error(resp, req->pretty, 405, "MethodNotAllowed",
				   "watch is not supported on resources of kind \"*." EM_GROUP "\"",
				   NULL, EM_GROUP, "*");
		else
			serve(req, src, seg[1], seg[2], &f, resp);
	}
	apis__filter_clear(&f);
}
