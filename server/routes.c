/*
 * routes.c - the real route table: health probes backed by the store, the
 * informer and the scraper; /metrics; and everything apis/ owns, rendered
 * from a store snapshot and a kube snapshot held until the request ends.
 */
#include "server/server.h"

#include <stdlib.h>
#include <string.h>

#include "apis/apis.h"
#include "kube/kube.h"
#include "scraper/scraper.h"
#include "store/store.h"

/* ---- health checks ----------------------------------------------------------- */

static bool failed_probe(const char *name, const char *why, char *err, size_t len)
{
	snprintf(err, len, "%s", why);
	log_info("\"Failed probe\" probe=\"%s\" err=\"%s\"", name, why);
	return false;
}

static bool informer_synced(struct server_app *app)
{
	struct kube_snapshot *k = kube_informer_acquire(app->informer);
	bool synced = k->synced;

	kube_snapshot_unref(k);
	return synced;
}

/* metrics-server's RegisterProbes, plus metadata-informer-sync. */
static bool app_check(void *ud, const char *name, char *err, size_t len)
{
	struct server_app *app = ud;

	if (strcmp(name, "metric-storage-ready") == 0) {
		struct store_snapshot *snap = store_acquire(app->store);
		bool ready = store_snapshot_ready(snap);

		store_snapshot_unref(snap);
		return ready || failed_probe(name, "no metrics to serve", err, len);
	}
	if (strcmp(name, "metric-informer-sync") == 0)
		return informer_synced(app) ||
		       failed_probe(name, "cache for node informer has not synced", err, len);
	if (strcmp(name, "metadata-informer-sync") == 0)
		return informer_synced(app) ||
		       failed_probe(name, "1 informers not started yet: [/v1, Resource=pods]", err, len);
	if (strcmp(name, "metric-collection-timely") == 0 && app->scraper) {
		int64_t last = scraper_last_round_start_ns(app->scraper);
		int64_t max_wait = app->resolution_ns + app->resolution_ns / 2;

		if (last != 0 && clock_now_ns() - last > max_wait)
			return failed_probe(name, "metric collection didn't finish on time", err, len);
	}
	return true;
}

/* ---- /metrics ------------------------------------------------------------------- */

/* Families in name order, as the Go registry gathers them. */
static void metrics_route(void *ud, struct server_exchange *x)
{
	struct server_app *app = ud;
	struct store_snapshot *snap = store_acquire(app->store);
	/* families in name order: metrics_apiserver_* before metrics_server_* */
	int rc = app->apps ? scraper_apps_write_metrics(app->apps, &x->body) : 0;

	if (rc == 0)
		rc = server_metrics_write_freshness(app->metrics, &x->body);

	if (rc == 0 && app->scraper)
		rc = scraper_write_metrics(app->scraper, &x->body);
	if (rc == 0)
		rc = server_metrics_write_storage_points(store_snapshot_node_points(snap),
							 store_snapshot_container_points(snap),
							 &x->body);
	store_snapshot_unref(snap);
	if (rc != 0) {
		server_reply_text(x, 500, "metrics output exceeds its size limit\n");
		return;
	}
	x->status = 200;
	x->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* ---- apis/ ------------------------------------------------------------------------- */

struct snapshots {
	struct store_snapshot *store;
	struct kube_snapshot *kube;
};

static void release_snapshots(void *arg)
{
	struct snapshots *s = arg;

	store_snapshot_unref(s->store);
	kube_snapshot_unref(s->kube);
	free(s);
}

struct freshness_ctx {
	struct server_metrics *metrics;
	int64_t now_ns;
};

static void observe_item(void *ud, int64_t item_ts_ns)
{
	struct freshness_ctx *f = ud;

	server_metrics_observe_freshness(f->metrics, (double)(f->now_ns - item_ts_ns) / 1e9);
}

static void apis_route(void *ud, struct server_exchange *x)
{
	struct server_app *app = ud;
	struct snapshots *snaps = xmalloc(sizeof(*snaps));
	struct freshness_ctx fresh = { app->metrics, x->now_ns };
	bool watch_present;
	const char *watch = server_query(x, "watch", &watch_present);
	struct apis_request req = {
		.method = x->method,
		.path = x->path,
		.label_selector = server_query(x, "labelSelector", NULL),
		.field_selector = server_query(x, "fieldSelector", NULL),
		.metric_label_selector = server_query(x, "metricLabelSelector", NULL),
		.accept = x->accept,
		.include_object = server_query(x, "includeObject", NULL),
		.watch = server_watch_requested(watch, watch_present),
		.pretty = x->pretty,
		.now_ns = x->now_ns,
	};
	struct apis_sources src = {
		.node_selector = app->node_selector,
		.git_version = SERVER_GIT_VERSION,
		.observe_item = observe_item,
		.ud = &fresh,
		.custom = app->custom,
	};
	struct apis_response resp = { .status = 500 };

	snaps->store = store_acquire(app->store);
	snaps->kube = kube_informer_acquire(app->informer);
	src.store = snaps->store;
	src.kube = snaps->kube;
	dynbuf_init(&resp.body, DYN_API_RESPONSE);
	apis_handle(&req, &src, &resp);
	dynbuf_clear(&x->body);
	x->body = resp.body;
	x->status = resp.status;
	x->content_type = resp.content_type;
	/* The snapshots stay referenced until libmicrohttpd is done. */
	x->on_done = release_snapshots;
	x->done_arg = snaps;
}

/* ---- the table ---------------------------------------------------------------------- */

size_t server_routes_build(struct server_app *app, struct server_route *routes, size_t max)
{
	const struct server_route table[] = {
		{ "/healthz", true, NULL, server_health_handler, &app->health },
		{ "/livez", true, NULL, server_health_handler, &app->health },
		{ "/readyz", true, NULL, server_health_handler, &app->health },
		{ "/metrics", false, NULL, metrics_route, app },
		{ NULL, false, apis_owns_path, apis_route, app },
	};
	size_t n = COMMON_ARRAY_LEN(table);

	app->health.check = app_check;
	app->health.ud = app;
	for (size_t i = 0; i < n && i < max; i++)
		routes[i] = table[i];
	return n;
}
