/*
 * apis_custom_fixture.c - the rules, series store, provider and kube
 * snapshot the check_apis_custom_* suites share; see apis_custom_fixture.h.
 */
#include "test/unit/apis_custom_fixture.h"

#include <check.h>
#include <jansson.h>
#include <string.h>

#include "rules/rules.h"
#include "series/series.h"

#define T_MS (NOW / NS_PER_MS)

static const char RULES[] =
	"rules:\n"
	"- seriesQuery: 'http_requests_total{namespace!=\"\",pod!=\"\"}'\n"
	"  resources:\n"
	"    overrides:\n"
	"      namespace: {resource: \"namespace\"}\n"
	"      pod: {resource: \"pod\"}\n"
	"  name: {matches: \"^(.*)_total$\", as: \"${1}_per_second\"}\n"
	"  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)'\n"
	"- seriesQuery: 'queue_messages_ready{namespace!=\"\",deployment!=\"\"}'\n"
	"  resources:\n"
	"    overrides:\n"
	"      namespace: {resource: \"namespace\"}\n"
	"      deployment: {group: \"apps\", resource: \"deployment\"}\n"
	"  name: {as: \"queue_messages_ready\"}\n"
	"  metricsQuery: 'max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'\n"
	"- seriesQuery: 'node_load1{node!=\"\"}'\n"
	"  resources:\n"
	"    overrides:\n"
	"      node: {resource: \"node\"}\n"
	"  metricsQuery: 'max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'\n"
	"externalRules:\n"
	"- seriesQuery: 'queue_depth{queue!=\"\"}'\n"
	"  resources: {namespaced: false}\n"
	"  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)'\n";

static const char NODES[] =
	"{\"items\":["
	"{\"metadata\":{\"name\":\"node1\",\"labels\":{\"zone\":\"a\"}}},"
	"{\"metadata\":{\"name\":\"node2\",\"labels\":{\"zone\":\"b\"}}},"
	"{\"metadata\":{\"name\":\"node3\",\"labels\":{\"zone\":\"a\"}}}]}";

static const char PODS[] =
	"{\"items\":["
	"{\"metadata\":{\"namespace\":\"default\",\"name\":\"web-1\",\"labels\":{\"app\":\"web\"}},"
	"\"status\":{\"phase\":\"Running\"}},"
	"{\"metadata\":{\"namespace\":\"default\",\"name\":\"web-2\",\"labels\":{\"app\":\"web\"}},"
	"\"status\":{\"phase\":\"Pending\"}},"
	"{\"metadata\":{\"namespace\":\"default\",\"name\":\"db-0\",\"labels\":{\"app\":\"db\"}},"
	"\"status\":{\"phase\":\"Running\"}},"
	"{\"metadata\":{\"namespace\":\"other\",\"name\":\"api-0\",\"labels\":{\"app\":\"api\"}},"
	"\"status\":{\"phase\":\"Running\"}}]}";

struct custom_provider *cm_provider, *cm_empty_provider;
static struct rules_config *cfg;
static struct series *ser, *empty_ser;
static struct kube_snapshot *cm_kube;

static struct series *new_store(void)
{
	struct series_options o = { .window_ms = 120000, .resolution_ms = 15000 };
	char err[128];
	struct series *s = series_new(&o, err, sizeof(err));

	ck_assert_msg(s != NULL, "%s", err);
	return s;
}

/* One scrape of target key (labels namespace/pod when ns is set). */
static struct series_scrape *begin(const char *key, const char *ns, const char *pod, int64_t t)
{
	struct labels tl;
	struct series_scrape *sc;

	labels_init(&tl);
	if (ns)
		labels_set(&tl, "namespace", ns);
	if (pod)
		labels_set(&tl, "pod", pod);
	sc = series_scrape_begin(ser, key, &tl, t);
	labels_clear(&tl);
	ck_assert_ptr_nonnull(sc);
	return sc;
}

static void add(struct series_scrape *sc, const char *name, const char *k, const char *v, double val)
{
	struct series_label l = { k, v };

	ck_assert_int_eq(series_scrape_add(sc, name, &l, 1, val, false, 0), 0);
}

static void commit(struct series_scrape *sc)
{
	char err[256] = "";

	ck_assert_msg(series_scrape_commit(sc, err, sizeof(err)) == 0, "%s", err);
}

/* Scrape i (0, 1, 2) of every target, at T - 30 s + i * 15 s. */
static void scrape(int i)
{
	int64_t t = T_MS - 30000 + i * 15000;
	struct series_scrape *sc;

	sc = begin("default/web-1", "default", "web-1", t);
	add(sc, "http_requests_total", "verb", "GET", 1000 + 24 * i);
	add(sc, "http_requests_total", "verb", "POST", 500 + 12 * i);
	commit(sc);
	sc = begin("default/web-2", "default", "web-2", t);
	add(sc, "http_requests_total", "verb", "GET", 100 + 6 * i);
	commit(sc);
	sc = begin("other/api-0", "other", "api-0", t);
	add(sc, "http_requests_total", "verb", "GET", 2000 + 24 * i);
	commit(sc);
	sc = begin("default/worker", "default", NULL, t);
	add(sc, "queue_messages_ready", "deployment", "worker", 7);
	commit(sc);
	sc = begin("node-exporter", NULL, NULL, t);
	add(sc, "node_load1", "node", "node1", 0.5);
	add(sc, "node_load1", "node", "node2", 1.25);
	commit(sc);
	sc = begin("exporter", NULL, NULL, t);
	add(sc, "queue_depth", "queue", "orders", 1500);
	add(sc, "queue_depth", "queue", "jobs", 30);
	commit(sc);
}

void cm_setup(void)
{
	json_t *n = json_loads(NODES, 0, NULL), *p = json_loads(PODS, 0, NULL);
	char *errors = NULL;

	fixture_setup();
	cfg = rules_config_parse(RULES, strlen(RULES), "adapter.yaml", &errors);
	ck_assert_msg(cfg != NULL, "%s", errors ? errors : "");
	ser = new_store();
	empty_ser = new_store();
	for (int i = 0; i < 3; i++)
		scrape(i);
	cm_provider = custom_provider_new(cfg, ser, 15000);
	cm_empty_provider = custom_provider_new(cfg, empty_ser, 15000);
	ck_assert_ptr_nonnull(n);
	ck_assert_ptr_nonnull(p);
	cm_kube = kube_snapshot_from_lists(n, p);
	json_decref(n);
	json_decref(p);
}

void cm_teardown(void)
{
	custom_provider_free(cm_provider);
	custom_provider_free(cm_empty_provider);
	series_free(ser);
	series_free(empty_ser);
	rules_config_free(cfg);
	kube_snapshot_unref(cm_kube);
	fixture_teardown();
}

const char *cm_run(struct ccall c)
{
	struct apis_request req = {
		.method = c.method ? c.method : "GET", .path = c.path, .accept = c.accept,
		.label_selector = c.labels, .field_selector = c.fields,
		.metric_label_selector = c.metric_labels, .watch = c.watch, .pretty = c.pretty,
		.now_ns = NOW,
	};
	struct apis_sources src = { .store = snap, .kube = cm_kube, .git_version = "v0.1.0",
				    .custom = c.none ? NULL : c.empty ? cm_empty_provider : cm_provider };

	dynbuf_clear(&resp.body);
	dynbuf_init(&resp.body, DYN_API_RESPONSE);
	apis_handle(&req, &src, &resp);
	ck_assert_ptr_nonnull(resp.content_type);
	return resp.body.buf ? resp.body.buf : "";
}

const char *cm_get(const char *path)
{
	return cm_run((struct ccall){ .path = path });
}

void cm_assert_exchanges(const struct cexchange *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(strcmp(cm_run(x[i].c), x[i].body) == 0, "%s:\n got  %s\n want %s",
			      x[i].c.path, resp.body.buf ? resp.body.buf : "", x[i].body);
		ck_assert_msg(resp.status == x[i].status, "%s: status %d, want %d", x[i].c.path,
			      resp.status, x[i].status);
	}
}
