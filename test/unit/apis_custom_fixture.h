/*
 * apis_custom_fixture.h - what the check_apis_custom_* suites share
 * (linked into each of them, with apis_fixture.c): a REAL custom/
 * provider over a rules config in prometheus-adapter's format and a
 * series store filled through scrape sessions with known samples, a kube
 * snapshot of its own, and requests through apis_handle().
 *
 * The scrapes are at T-30s, T-15s and T = NOW (2021-10-03T09:37:10Z), so
 * rate(x[1m]) at T sees three samples 15 s apart: sampled 30 s, extrapolated
 * by half an interval at the start (37.5 s), a rate of delta * 1.25 / 60,
 * exact in binary for the deltas below (custom-external.md §7.2).
 *
 *   target default/web-1  http_requests_total{verb=GET} +24/scrape  -> 1/s
 *                         http_requests_total{verb=POST} +12/scrape -> 0.5/s
 *   target default/web-2  http_requests_total{verb=GET} +6/scrape   -> 0.25/s
 *   target other/api-0    http_requests_total{verb=GET} +24/scrape  -> 1/s
 *   target default/worker queue_messages_ready{deployment=worker} 7
 *   target node-exporter  node_load1{node=node1} 0.5, {node=node2} 1.25
 *   target exporter       queue_depth{queue=orders} 1500, {queue=jobs} 30
 *
 * Kube: pods default/web-1 (app=web, Running), default/web-2 (app=web,
 * Pending), default/db-0 (app=db), other/api-0 (app=api); nodes node1
 * (zone=a), node2 (zone=b), node3 (zone=a, no series).
 */
#ifndef TEST_UNIT_APIS_CUSTOM_FIXTURE_H
#define TEST_UNIT_APIS_CUSTOM_FIXTURE_H

#include "test/unit/apis_fixture.h"

#include "custom/custom.h"

extern struct custom_provider *cm_provider;       /* the rules over the store above */
extern struct custom_provider *cm_empty_provider; /* the same rules, no series */

/* apis_fixture's setup, then the store, the provider and the snapshot. */
void cm_setup(void);
void cm_teardown(void);

/* One request (method NULL = GET) at NOW against cm_provider (or, with
 * empty, cm_empty_provider; with none, no provider at all) into resp;
 * its body. */
struct ccall {
	const char *method, *path, *accept, *labels, *fields, *metric_labels;
	bool watch, pretty, empty, none;
};
const char *cm_run(struct ccall c);
/* cm_run() of a plain GET. */
const char *cm_get(const char *path);

/* A request, and the status and exact body it gets. */
struct cexchange {
	struct ccall c;
	int status;
	const char *body;
};
void cm_assert_exchanges(const struct cexchange *x, size_t n);

#define CM_TS "2021-10-03T09:37:10Z"
#define CM_LIST(v, items) \
	"{\"kind\":\"MetricValueList\",\"apiVersion\":\"custom.metrics.k8s.io/" v "\"," \
	"\"metadata\":{},\"items\":[" items "]}\n"
#define EM_LIST(items) \
	"{\"kind\":\"ExternalMetricValueList\",\"apiVersion\":\"external.metrics.k8s.io/v1beta1\"," \
	"\"metadata\":{},\"items\":[" items "]}\n"
/* describedObject of a pod / a root-scoped object. */
#define POD_REF(ns, name) \
	"{\"describedObject\":{\"kind\":\"Pod\",\"namespace\":\"" ns "\",\"name\":\"" name "\"," \
	"\"apiVersion\":\"v1\"}"
#define ROOT_REF(kind, name) \
	"{\"describedObject\":{\"kind\":\"" kind "\",\"name\":\"" name "\",\"apiVersion\":\"v1\"}"
/* The rest of an item after describedObject, per version. */
#define V1_ITEM(metric, value, sel) \
	",\"metricName\":\"" metric "\",\"timestamp\":\"" CM_TS "\",\"value\":\"" value "\"," \
	"\"selector\":" sel "}"
#define V2_ITEM(metric, value, sel) \
	",\"metric\":{\"name\":\"" metric "\",\"selector\":" sel "},\"timestamp\":\"" CM_TS "\"," \
	"\"value\":\"" value "\"}"
/* A Status error body (compact, with newline). */
#define CM_STATUS(msg, reason, code) \
	STATUS_HEAD "\"message\":\"" msg "\",\"reason\":\"" reason "\",\"code\":" #code "}\n"
#define CM_NOT_FOUND(msg) CM_STATUS(msg, "NotFound", 404)
#define CM_BAD_REQUEST(msg) CM_STATUS(msg, "BadRequest", 400)
#define CM_INTERNAL(cause)                                                           \
	STATUS_HEAD "\"message\":\"Internal error occurred: " cause "\",\"reason\":"      \
	"\"InternalError\",\"details\":{\"causes\":[{\"message\":\"" cause "\"}]},\"code\":500}\n"

#endif
