/*
 * check_kubesim_metrics_provider.c - kubesim's fake custom/external metrics
 * provider (test/kubesim/metrics_provider.c) through its router: the
 * ExternalMetricValueList from annotated ConfigMaps (shape, label
 * selector, canonical values, 404/400 Status), the Pods MetricValueList
 * from pod annotations, discovery; and the HTTPS front door (http.c): a
 * front-proxy client certificate with X-Remote-User reaches the provider,
 * the same path with the admin certificate does not.
 */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test/kubesim/apiserver.h"
#include "test/unit/unit.h"

#define EXT "/apis/external.metrics.k8s.io/v1beta1"
#define CUS "/apis/custom.metrics.k8s.io/v1beta2"

static struct sim_cluster cl;

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	ck_assert_msg(j != NULL, "bad JSON: %s (%s)", e.text, text);
	return j;
}

static void add(const char *resource, const char *text)
{
	json_t *o = parse(text);

	ck_assert_int_eq(sim_store_create(cl.store, resource, o), 0);
	json_decref(o);
}

static void cluster_setup(void)
{
	memset(&cl, 0, sizeof(cl));
	cl.store = sim_store_new(0);
	add("configmaps", "{\"metadata\":{\"name\":\"jobs\",\"namespace\":\"ns1\",\"labels\":{"
			  "\"queue\":\"jobs\"},\"annotations\":{\"kubesim.io/external-metric\":"
			  "\"queue_length\",\"kubesim.io/value\":\"1.5\"}}}");
	add("configmaps", "{\"metadata\":{\"name\":\"mail\",\"namespace\":\"ns1\",\"annotations\":"
			  "{\"kubesim.io/external-metric\":\"queue_length\",\"kubesim.io/value\":"
			  "\"20\"}}}");
	add("configmaps", "{\"metadata\":{\"name\":\"broken\",\"namespace\":\"ns1\",\"labels\":{"
			  "\"queue\":\"broken\"},\"annotations\":{\"kubesim.io/external-metric\":"
			  "\"queue_length\",\"kubesim.io/value\":\"lots\"}}}");
	add("configmaps", "{\"metadata\":{\"name\":\"other\",\"namespace\":\"ns2\",\"annotations\":"
			  "{\"kubesim.io/external-metric\":\"lag\",\"kubesim.io/value\":\"3\"}}}");
	add("configmaps", "{\"metadata\":{\"name\":\"plain\",\"namespace\":\"ns1\"}}");
	add("pods", "{\"metadata\":{\"name\":\"web-a\",\"namespace\":\"ns1\",\"labels\":{\"app\":"
		    "\"web\"},\"annotations\":{\"kubesim.io/custom-metric.rps\":\"0.25\"}},"
		    "\"status\":{\"phase\":\"Running\"}}");
	add("pods", "{\"metadata\":{\"name\":\"web-b\",\"namespace\":\"ns1\",\"labels\":{\"app\":"
		    "\"web\"},\"annotations\":{\"kubesim.io/custom-metric.rps\":\"2\"}},"
		    "\"status\":{\"phase\":\"Pending\"}}");
	add("pods", "{\"metadata\":{\"name\":\"db\",\"namespace\":\"ns1\",\"labels\":{\"app\":"
		    "\"db\"},\"annotations\":{\"kubesim.io/custom-metric.rps\":\"7\"}},"
		    "\"status\":{\"phase\":\"Running\"}}");
}

static void cluster_teardown(void)
{
	sim_store_free(cl.store);
	memset(&cl, 0, sizeof(cl));
}

/* Routes GET path (query args as JSON text or NULL) as the aggregator's
 * request; returns the status, *body the parsed body (new reference). */
static int get(const char *path, const char *args, bool front_proxy, json_t **body)
{
	static const char *const groups[] = { "system:masters" };
	struct sim_request req = { .method = "GET", .path = path, .query = "",
				   .user = "system:kube-aggregator", .groups = groups,
				   .ngroups = 1, .front_proxy = front_proxy };
	struct sim_response resp;
	int status;

	req.query_args = args ? parse(args) : json_object();
	sim_response_init(&resp);
	sim_route(&cl, &req, &resp);
	status = resp.status;
	*body = resp.body.len ? json_loadb(resp.body.buf, resp.body.len, 0, NULL) : NULL;
	sim_response_clear(&resp);
	json_decref(req.query_args);
	return status;
}

/* The "value" of the item whose key member equals want, or NULL. */
static const char *value_of(const json_t *items, const char *path, const char *want)
{
	const json_t *it;
	size_t i;

	json_array_foreach(items, i, it) {
		const char *v = jpath_str(it, path);

		if (v && strcmp(v, want) == 0)
			return jpath_str(it, "value");
	}
	return NULL;
}

START_TEST(test_external_list_shape)
{
	json_t *b, *items, *it;
	char *text;

	ck_assert_int_eq(get(EXT "/namespaces/ns1/queue_length", NULL, true, &b), 200);
	text = json_dumps(b, JSON_COMPACT);
	/* Go's field order: kind, apiVersion, metadata, items. */
	ck_assert_msg(strncmp(text, "{\"kind\":\"ExternalMetricValueList\",\"apiVersion\":"
				    "\"external.metrics.k8s.io/v1beta1\",\"metadata\":{},\"items\":[",
			      76) == 0,
		      "%s", text);
	free(text);
	items = json_object_get(b, "items");
	ck_assert_int_eq(json_array_size(items), 2); /* "lots" is not a Quantity */
	it = json_array_get(items, 0);
	text = json_dumps(it, JSON_COMPACT);
	ck_assert_msg(strstr(text, "{\"metricName\":\"queue_length\",\"metricLabels\":{\"queue\":"
				   "\"jobs\"},\"timestamp\":\"") == text,
		      "%s", text);
	ck_assert_msg(strstr(text, "Z\",\"value\":\"1500m\"}"), "%s", text); /* canonical */
	free(text);
	ck_assert_str_eq(value_of(items, "metricLabels.queue", "jobs"), "1500m");
	/* No labels: metricLabels {} (never null) */
	ck_assert(json_is_object(json_object_get(json_array_get(items, 1), "metricLabels")));
	ck_assert_int_eq(json_object_size(json_object_get(json_array_get(items, 1),
							  "metricLabels")), 0);
	ck_assert_str_eq(jpath_str(json_array_get(items, 1), "value"), "20");
	json_decref(b);
}
END_TEST

START_TEST(test_external_selector_and_errors)
{
	json_t *b;

	ck_assert_int_eq(get(EXT "/namespaces/ns1/queue_length", "{\"labelSelector\":\"queue in "
								    "(jobs,mail)\"}",
			     true, &b),
			 200);
	ck_assert_int_eq(json_array_size(json_object_get(b, "items")), 1);
	ck_assert_str_eq(value_of(json_object_get(b, "items"), "metricLabels.queue", "jobs"),
			 "1500m");
	json_decref(b);
	/* A known metric without a match: 200, items []. */
	ck_assert_int_eq(get(EXT "/namespaces/ns1/queue_length", "{\"labelSelector\":\"queue=x\"}",
			     true, &b),
			 200);
	ck_assert(json_is_array(json_object_get(b, "items")));
	ck_assert_int_eq(json_array_size(json_object_get(b, "items")), 0);
	json_decref(b);
	/* Known in another namespace only: no value here, not a 404. */
	ck_assert_int_eq(get(EXT "/namespaces/ns1/lag", NULL, true, &b), 200);
	ck_assert_int_eq(json_array_size(json_object_get(b, "items")), 0);
	json_decref(b);
	/* Unknown: prometheus-adapter's 404 Status. */
	ck_assert_int_eq(get(EXT "/namespaces/ns1/nope", NULL, true, &b), 404);
	ck_assert_str_eq(jpath_str(b, "kind"), "Status");
	ck_assert_str_eq(jpath_str(b, "reason"), "NotFound");
	ck_assert_str_eq(jpath_str(b, "message"),
			 "the server could not find the metric nope for ");
	ck_assert_int_eq(json_integer_value(json_object_get(b, "code")), 404);
	json_decref(b);
	ck_assert_int_eq(get(EXT "/namespaces/ns1/queue_length", "{\"labelSelector\":\"a=b=c\"}",
			     true, &b),
			 400);
	ck_assert_str_eq(jpath_str(b, "reason"), "BadRequest");
	ck_assert_str_eq(jpath_str(b, "message"),
			 "found '=', expected: ',' or 'end of string'");
	json_decref(b);
}
END_TEST

START_TEST(test_custom_pods)
{
	json_t *b, *it;

	ck_assert_int_eq(get(CUS "/namespaces/ns1/pods/*/rps", "{\"labelSelector\":\"app=web\"}",
			     true, &b),
			 200);
	ck_assert_str_eq(jpath_str(b, "kind"), "MetricValueList");
	ck_assert_str_eq(jpath_str(b, "apiVersion"), "custom.metrics.k8s.io/v1beta2");
	ck_assert_int_eq(json_array_size(json_object_get(b, "items")), 1); /* web-b is Pending */
	it = json_array_get(json_object_get(b, "items"), 0);
	ck_assert_str_eq(jpath_str(it, "describedObject.kind"), "Pod");
	ck_assert_str_eq(jpath_str(it, "describedObject.namespace"), "ns1");
	ck_assert_str_eq(jpath_str(it, "describedObject.name"), "web-a");
	ck_assert_str_eq(jpath_str(it, "metric.name"), "rps");
	ck_assert(json_is_null(jpath_get(it, "metric.selector")));
	ck_assert_str_eq(jpath_str(it, "value"), "250m");
	json_decref(b);
	ck_assert_int_eq(get(CUS "/namespaces/ns1/pods/*/rps", NULL, true, &b), 200);
	ck_assert_int_eq(json_array_size(json_object_get(b, "items")), 2);
	json_decref(b);
	ck_assert_int_eq(get(CUS "/namespaces/ns1/pods/db/rps", "{\"labelSelector\":\"app=web\"}",
			     true, &b),
			 200); /* a name ignores labelSelector */
	ck_assert_str_eq(value_of(json_object_get(b, "items"), "describedObject.name", "db"), "7");
	json_decref(b);
	/* The series carry no labels: a metric selector needing one matches nothing. */
	ck_assert_int_eq(get(CUS "/namespaces/ns1/pods/*/rps",
			     "{\"metricLabelSelector\":\"verb=GET\"}", true, &b),
			 404);
	ck_assert_str_eq(jpath_str(b, "message"),
			 "the server could not find the metric rps for pods");
	json_decref(b);
	ck_assert_int_eq(get(CUS "/namespaces/ns1/pods/web-b/rps", NULL, true, &b), 404);
	ck_assert_str_eq(jpath_str(b, "message"),
			 "the server could not find the metric rps for pods web-b");
	json_decref(b);
	ck_assert_int_eq(get(CUS "/namespaces/ns1/deployments.apps/web/rps", NULL, true, &b), 404);
	ck_assert_str_eq(jpath_str(b, "message"),
			 "the server could not find the metric rps for deployments.apps web");
	json_decref(b);
}
END_TEST

START_TEST(test_discovery_and_routing)
{
	json_t *b;

	ck_assert_int_eq(get(EXT, NULL, true, &b), 200);
	ck_assert_str_eq(jpath_str(b, "kind"), "APIResourceList");
	ck_assert_str_eq(jpath_str(b, "groupVersion"), "external.metrics.k8s.io/v1beta1");
	ck_assert_int_eq(json_array_size(json_object_get(b, "resources")), 2); /* queue_length, lag */
	ck_assert_str_eq(jpath_str(json_array_get(json_object_get(b, "resources"), 0),
					   "kind"),
			 "ExternalMetricValueList");
	json_decref(b);
	ck_assert_int_eq(get(CUS, NULL, true, &b), 200);
	ck_assert_str_eq(jpath_str(json_array_get(json_object_get(b, "resources"), 0),
					   "name"),
			 "pods/rps");
	json_decref(b);
	ck_assert_int_eq(get("/apis", NULL, true, &b), 200);
	ck_assert_str_eq(jpath_str(b, "kind"), "APIGroupList");
	ck_assert_int_eq(json_array_size(json_object_get(b, "groups")), 2);
	json_decref(b);
	ck_assert_int_eq(get("/api/v1/pods", NULL, true, &b), 404);
	json_decref(b);
	/* Not from the aggregator: kubesim's apiserver, which has no such group
	 * (and no aggregator here): the provider is not reached. */
	ck_assert_int_eq(get(EXT "/namespaces/ns1/queue_length", NULL, false, &b), 404);
	ck_assert_ptr_null(b); /* "404 page not found" text */
	ck_assert_int_eq(get("/api/v1/namespaces/ns1/pods/db", NULL, false, &b), 200);
	ck_assert_str_eq(jpath_str(b, "kind"), "Pod");
	json_decref(b);
}
END_TEST

/* ---- through HTTPS ----------------------------------------------------------------- */

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
	return dynbuf_add(ud, p, size * n) ? 0 : size * n;
}

/* GET url with the client pair `who` (file prefix in dir) and optional header. */
static long https_get(const char *dir, const char *url, const char *who, const char *header,
		      struct dynbuf *out)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = header ? curl_slist_append(NULL, header) : NULL;
	char *cert = xasprintf("%s/%s.crt", dir, who), *key = xasprintf("%s/%s.key", dir, who);
	char *ca = xasprintf("%s/ca.crt", dir);
	long status = 0;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	curl_easy_setopt(h, CURLOPT_SSLCERT, cert);
	curl_easy_setopt(h, CURLOPT_SSLKEY, key);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	free(cert);
	free(key);
	free(ca);
	return status;
}

static void remove_dir(const char *dir)
{
	static const char *const files[] = { "ca", "admin", "front-proxy-ca", "front-proxy-client" };
	char *p;

	for (size_t i = 0; i < COMMON_ARRAY_LEN(files); i++) {
		p = xasprintf("%s/%s.crt", dir, files[i]);
		unlink(p);
		free(p);
		p = xasprintf("%s/%s.key", dir, files[i]);
		unlink(p);
		free(p);
	}
	p = xasprintf("%s/token", dir);
	unlink(p);
	free(p);
	rmdir(dir);
}

START_TEST(test_front_proxy_door)
{
	char dir[] = "/tmp/kubesim-provider-XXXXXX", err[256];
	struct sim_server *srv;
	struct dynbuf b;
	char *url;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	cl.cfg.dir = dir;
	cl.cfg.bind = (char *)"127.0.0.1";
	cl.cfg.token = (char *)"t0ken";
	ck_assert_int_eq(sim_kubeconfig_setup(&cl, err, sizeof(err)), 0);
	srv = sim_server_start(&cl, err, sizeof(err));
	ck_assert_msg(srv != NULL, "%s", err);
	url = xasprintf("%s" EXT "/namespaces/ns1/queue_length", cl.server_url);

	dynbuf_init(&b, DYN_API_RESPONSE);
	ck_assert_int_eq(https_get(dir, url, "front-proxy-client",
				   "X-Remote-User: system:serviceaccount:kube-system:hpa", &b),
			 200);
	ck_assert_ptr_nonnull(b.buf);
	ck_assert_msg(strstr(b.buf, "\"kind\":\"ExternalMetricValueList\""), "%s", b.buf);
	dynbuf_reset(&b);
	/* The front proxy must name a user. */
	ck_assert_int_eq(https_get(dir, url, "front-proxy-client", NULL, &b), 401);
	dynbuf_reset(&b);
	/* The admin is a client of kubesim's apiserver, not of the provider. */
	ck_assert_int_eq(https_get(dir, url, "admin", "X-Remote-User: jane", &b), 404);
	dynbuf_clear(&b);

	free(url);
	sim_server_stop(srv);
	certs_pair_clear(&cl.ca);
	certs_pair_clear(&cl.front_proxy_ca);
	certs_pair_clear(&cl.front_proxy_client);
	certs_pair_clear(&cl.admin_client);
	free(cl.server_url);
	remove_dir(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("kubesim_metrics_provider");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, cluster_setup, cluster_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_external_list_shape);
	tcase_add_test(tc, test_external_selector_and_errors);
	tcase_add_test(tc, test_custom_pods);
	tcase_add_test(tc, test_discovery_and_routing);
	tcase_add_test(tc, test_front_proxy_door);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = unit_run(suite());
	curl_global_cleanup();
	return rc;
}
