/*
 * apis_fixture.h - what the check_apis_* suites share (linked into each
 * of them by the Makefile): a store holding two scrape rounds of real
 * batches and a kube snapshot built from JSON lists (metrics-server.md
 * §5.3's worked example plus a few nodes and pods around it), requests
 * through apis_handle(), and the exact JSON pieces the server writes for
 * them (metrics-server.md §5, aggregation.md §3-§5).
 *
 * fixture_setup/fixture_teardown are the checked fixture of every
 * check_apis_* tcase; nothing else here runs unless called.
 */
#ifndef TEST_UNIT_APIS_FIXTURE_H
#define TEST_UNIT_APIS_FIXTURE_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apis/apis.h"
#include "common/common.h"
#include "kube/kube.h"
#include "store/store.h"

#define NOW (INT64_C(1633253830) * NS_PER_SEC)  /* 2021-10-03T09:37:10Z */

/* ---- the snapshot --------------------------------------------------------
 *
 * Nodes: node1 (kubernetes.io/os=linux; the worked example), node2
 * (role=<worker&>, 250m, 1Gi), node3 (metrics-server-skip=true: excluded
 * by the --node-selector), node4 (no metrics).  Pods: kube-system/coredns
 * (the worked example), default/web-1 (Running, containers app and
 * sidecar, 5m each), default/web-2 (Pending, with metrics), default/db-0
 * (Running, no metrics). */

extern struct store_snapshot *snap;
extern struct kube_snapshot *kube;
extern struct selector *node_sel;  /* "metrics-server-skip!=true" */
extern int observed;               /* observe_item calls since setup */

void fixture_setup(void);
void fixture_teardown(void);

/* ---- requests ----------------------------------------------------------- */

/* One request; unset fields are absent (method NULL = GET). */
struct call {
	const char *method, *path, *accept, *labels, *fields, *include;
	bool watch, pretty;
};

/* The last reply of run(); resp_free() releases its body. */
extern struct apis_response resp;

/* Handles c at NOW against the snapshot (git version v0.1.0) into resp;
 * its body ("" when none). */
const char *run(struct call c);
/* run() of a plain GET. */
const char *get(const char *path);
void resp_free(void);

/* A request, and the status and exact body it gets. */
struct exchange {
	struct call c;
	int status;
	const char *body;
};

/* run()s each of x[0..n) and asserts its body and status. */
void assert_exchanges(const struct exchange *x, size_t n);

/* ---- what the server writes --------------------------------------------- */

#define NODE1_META                                                                      \
	"\"metadata\":{\"name\":\"node1\",\"creationTimestamp\":\"2021-10-03T09:37:10Z\"," \
	"\"labels\":{\"kubernetes.io/hostname\":\"node1\",\"kubernetes.io/os\":\"linux\"}}"
#define NODE1_REST "\"timestamp\":\"2021-10-03T09:37:04Z\",\"window\":\"15s\"," \
	"\"usage\":{\"cpu\":\"476038624n\",\"memory\":\"2008740Ki\"}"
#define NODE2_META                                                                      \
	"\"metadata\":{\"name\":\"node2\",\"creationTimestamp\":\"2021-10-03T09:37:10Z\"," \
	"\"labels\":{\"role\":\"\\u003cworker\\u0026\\u003e\"}}"
#define NODE2_REST "\"timestamp\":\"2021-10-03T09:37:04Z\",\"window\":\"15s\"," \
	"\"usage\":{\"cpu\":\"250m\",\"memory\":\"1Gi\"}"
#define COREDNS_META                                                                      \
	"\"metadata\":{\"name\":\"coredns-558bd4d5db-4dpjz\",\"namespace\":\"kube-system\","  \
	"\"creationTimestamp\":\"2021-10-03T09:37:10Z\",\"labels\":{\"k8s-app\":\"kube-dns\"," \
	"\"pod-template-hash\":\"558bd4d5db\"}}"
#define COREDNS_REST "\"timestamp\":\"2021-10-03T09:37:07Z\",\"window\":\"15.004s\"," \
	"\"containers\":[{\"name\":\"coredns\",\"usage\":{\"cpu\":\"10066049n\",\"memory\":\"12Mi\"}}]"
#define WEB1_META                                                                    \
	"\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\","                    \
	"\"creationTimestamp\":\"2021-10-03T09:37:10Z\",\"labels\":{\"app\":\"web\"}}"
#define WEB1_REST "\"timestamp\":\"2021-10-03T09:37:02Z\",\"window\":\"10s\",\"containers\":[" \
	"{\"name\":\"app\",\"usage\":{\"cpu\":\"5m\",\"memory\":\"2Mi\"}},"                  \
	"{\"name\":\"sidecar\",\"usage\":{\"cpu\":\"5m\",\"memory\":\"3Mi\"}}]"

/* List items, and the lists ("" = no items) as the server writes them. */
#define NODE1 "{" NODE1_META "," NODE1_REST "}"
#define NODE2 "{" NODE2_META "," NODE2_REST "}"
#define COREDNS "{" COREDNS_META "," COREDNS_REST "}"
#define WEB1 "{" WEB1_META "," WEB1_REST "}"
#define METRICS_LIST(kind, items)                                                        \
	"{\"kind\":\"" kind "\",\"apiVersion\":\"metrics.k8s.io/v1beta1\",\"metadata\":{}," \
	"\"items\":[" items "]}\n"
#define NODE_LIST(items) METRICS_LIST("NodeMetricsList", items)
#define POD_LIST(items) METRICS_LIST("PodMetricsList", items)

/* The start of every Status error body. */
#define STATUS_HEAD "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","

/* kubectl get's Accept (aggregation.md §4.5): Table v1, Table v1beta1, JSON. */
#define KUBECTL_GET_ACCEPT                                                                 \
	"application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;" \
	"g=meta.k8s.io,application/json"

#endif
