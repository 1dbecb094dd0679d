/*
 * local.c - the embedded HPA's in-process reads of the custom and external
 * metrics this process serves (hpaloop_local_api): the same apis_handle()
 * the HTTPS route runs, on snapshots held for the call, with no round trip
 * through kube-apiserver and the aggregator.  Anything but a 200 goes
 * through kube-apiserver after all: another provider may own the API (the
 * APIService decides), and its answer or error text is then the real one.
 */
#include "server/server.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "apis/apis.h"
#include "custom/custom.h"
#include "kube/kube.h"
#include "store/store.h"

#define CUSTOM_PREFIX "/apis/custom.metrics.k8s.io/"
#define EXTERNAL_PREFIX "/apis/external.metrics.k8s.io/"

/* The query parameters the metric APIs read (each NULL when absent). */
struct params {
	char *label_selector, *metric_label_selector, *field_selector;
};

static void params_clear(struct params *p)
{
	free(p->label_selector);
	free(p->metric_label_selector);
	free(p->field_selector);
}

/* Go's url.ParseQuery for the keys we need; false on a malformed escape. */
static bool parse_query(const char *q, struct params *out)
{
	while (q && *q) {
		size_t n = strcspn(q, "&"), k = strcspn(q, "=");
		char *key = url_unescape(q, k < n ? k : n, true);
		char *val = k < n ? url_unescape(q + k + 1, n - k - 1, true) : xstrdup("");
		char **slot = NULL;

		if (!key || !val) {
			free(key);
			free(val);
			return false;
		}
		if (strcmp(key, "labelSelector") == 0)
			slot = &out->label_selector;
		else if (strcmp(key, "metricLabelSelector") == 0)
			slot = &out->metric_label_selector;
		else if (strcmp(key, "fieldSelector") == 0)
			slot = &out->field_selector;
		if (slot && !*slot) { /* the first value, as url.Values.Get */
			*slot = val;
			val = NULL;
		}
		free(key);
		free(val);
		q += n + (q[n] == '&');
	}
	return true;
}

bool server_local_get(void *ud, const char *path, int *status, json_t **body)
{
	struct server_app *app = ud;
	const char *q = strchr(path, '?');
	size_t plen = q ? (size_t)(q - path) : strlen(path);
	struct params prm = { NULL, NULL, NULL };
	struct apis_response resp = { .status = 500 };
	struct store_snapshot *snap;
	struct kube_snapshot *kube;
	char *decoded;
	bool served = false;

	if (!app->custom || (strncmp(path, CUSTOM_PREFIX, strlen(CUSTOM_PREFIX)) != 0 &&
			     strncmp(path, EXTERNAL_PREFIX, strlen(EXTERNAL_PREFIX)) != 0))
		return false;
	decoded = url_unescape(path, plen, false);
	if (!decoded || !parse_query(q ? q + 1 : NULL, &prm)) {
		free(decoded);
		params_clear(&prm);
		return false;
	}
	snap = store_acquire(app->store);
	kube = kube_informer_acquire(app->informer);
	{
		struct apis_request req = {
			.method = "GET",
			.path = decoded,
			.label_selector = prm.label_selector,
			.metric_label_selector = prm.metric_label_selector,
			.field_selector = prm.field_selector,
			.accept = "application/json",
			.now_ns = clock_now_ns(),
		};
		struct apis_sources src = {
			.store = snap,
			.kube = kube,
			.node_selector = app->node_selector,
			.git_version = SERVER_GIT_VERSION,
			.custom = app->custom,
		};

		dynbuf_init(&resp.body, DYN_API_RESPONSE);
		apis_handle(&req, &src, &resp);
	}
	if (resp.status == 200 &&
	    (*body = json_loadb(resp.body.buf ? resp.body.buf : "", resp.body.len, 0, NULL))) {
		*status = 200;
		served = true;
	}
	dynbuf_clear(&resp.body);
	kube_snapshot_unref(kube);
	store_snapshot_unref(snap);
	free(decoded);
	params_clear(&prm);
	return served;
}
