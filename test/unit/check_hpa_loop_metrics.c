/*
 * check_hpa_loop_metrics.c - hpa/loop_metrics.c: the custom.metrics.k8s.io
 * and external.metrics.k8s.io requests of an HPA's Pods, Object and
 * External metrics (paths, kind -> resource, selector escaping), the
 * collection of their answers into hpa_decide's input (checked through
 * hpa_decide itself), and the fetch against a fake kube-apiserver: one GET
 * per distinct request, a failing request marks its API failing.
 */
#include <check.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpa/loop_int.h"
#include "kube/kube.h"
#include "test/unit/testlib.h"
#include "test/unit/unit.h"

#define T0 (INT64_C(1700000000) * NS_PER_SEC) /* 2023-11-14T22:13:20Z */
#define CM "/apis/custom.metrics.k8s.io/v1beta2/namespaces/"
#define EM "/apis/external.metrics.k8s.io/v1beta1/namespaces/"

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	ck_assert_msg(j != NULL, "bad test JSON: %s (%s)", e.text, text);
	return j;
}

/* The path for one spec metric (JSON text); NULL when none, rc in *rc. */
static char *path_of(const char *spec, const char *scale_sel, int *rc, unsigned *api)
{
	json_t *s = parse(spec);
	char err[256], *path = NULL;

	*rc = hpa_metric_path(s, "ns1", scale_sel, &path, api, err, sizeof(err));
	json_decref(s);
	if (*rc == ERR_INVAL)
		ck_assert_str_ne(err, "");
	return path;
}

static void assert_path(const char *spec, const char *scale_sel, const char *want,
			unsigned want_api)
{
	unsigned api = 99;
	int rc;
	char *p = path_of(spec, scale_sel, &rc, &api);

	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(p, want);
	ck_assert_uint_eq(api, want_api);
	free(p);
}

static void assert_no_path(const char *spec, const char *scale_sel, int want_rc)
{
	unsigned api = 99;
	int rc;
	char *p = path_of(spec, scale_sel, &rc, &api);

	ck_assert_int_eq(rc, want_rc);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(api, 0);
}

/* ---- requests -------------------------------------------------------------------- */

START_TEST(test_path_pods)
{
	/* The scale selector is printed canonically (sorted, values sorted);
	 * spaces as '+', the wildcard as %2A, as client-go writes them. */
	assert_path("{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"http_requests\"},"
		    "\"target\":{\"type\":\"AverageValue\",\"averageValue\":\"1\"}}}",
		    "tier in (b,a), app=web",
		    CM "ns1/pods/%2A/http_requests?labelSelector=app%3Dweb%2Ctier+in+%28a%2Cb%29",
		    HPA_API_CUSTOM);
	assert_path("{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"http_requests\","
		    "\"selector\":{\"matchLabels\":{\"verb\":\"GET\"},\"matchExpressions\":[{\"key\":"
		    "\"code\",\"operator\":\"NotIn\",\"values\":[\"500\",\"404\"]}]}}}}",
		    "app=web",
		    CM "ns1/pods/%2A/http_requests?labelSelector=app%3Dweb&metricLabelSelector="
		       "code+notin+%28404%2C500%29%2Cverb%3DGET",
		    HPA_API_CUSTOM);
	/* No scale selector: upstream stops before the metrics. */
	assert_no_path("{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"m\"}}}", NULL,
		       ERR_NOTFOUND);
	assert_no_path("{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"m\"}}}", "",
		       ERR_NOTFOUND);
}
END_TEST

START_TEST(test_path_object_kind_to_resource)
{
	assert_path("{\"type\":\"Object\",\"object\":{\"describedObject\":{\"apiVersion\":"
		    "\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"worker\"},\"metric\":{\"name\":"
		    "\"queue_messages_ready\"}}}",
		    "app=x", CM "ns1/deployments.apps/worker/queue_messages_ready", HPA_API_CUSTOM);
	assert_path("{\"type\":\"Object\",\"object\":{\"describedObject\":{\"apiVersion\":\"v1\","
		    "\"kind\":\"Service\",\"name\":\"front\"},\"metric\":{\"name\":\"rps\","
		    "\"selector\":{\"matchLabels\":{\"example.com/path\":\"api\"}}}}}",
		    NULL, CM "ns1/services/front/rps?metricLabelSelector=example.com%2Fpath%3Dapi",
		    HPA_API_CUSTOM);
	assert_path("{\"type\":\"Object\",\"object\":{\"describedObject\":{\"apiVersion\":"
		    "\"networking.k8s.io/v1\",\"kind\":\"Ingress\",\"name\":\"main\"},\"metric\":"
		    "{\"name\":\"requests-per-second\"}}}",
		    NULL, CM "ns1/ingresses.networking.k8s.io/main/requests-per-second",
		    HPA_API_CUSTOM);
	assert_path("{\"type\":\"Object\",\"object\":{\"describedObject\":{\"apiVersion\":"
		    "\"keda.sh/v1alpha1\",\"kind\":\"ScaledObject\",\"name\":\"so\"},\"metric\":"
		    "{\"name\":\"m\"}}}",
		    NULL, CM "ns1/scaledobjects.keda.sh/so/m", HPA_API_CUSTOM);
	assert_path("{\"type\":\"Object\",\"object\":{\"describedObject\":{\"apiVersion\":"
		    "\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"name\":\"np\"},"
		    "\"metric\":{\"name\":\"m\"}}}",
		    NULL, CM "ns1/networkpolicies.networking.k8s.io/np/m", HPA_API_CUSTOM);
	/* A Namespace: getForNamespace, the name given is ignored. */
	assert_path("{\"type\":\"Object\",\"object\":{\"describedObject\":{\"apiVersion\":\"v1\","
		    "\"kind\":\"Namespace\",\"name\":\"other\"},\"metric\":{\"name\":\"jobs\"}}}",
		    NULL, CM "ns1/metrics/jobs", HPA_API_CUSTOM);
	assert_no_path("{\"type\":\"Object\",\"object\":{\"describedObject\":{\"apiVersion\":"
		       "\"v1\",\"kind\":\"Service\"},\"metric\":{\"name\":\"m\"}}}",
		       NULL, ERR_INVAL);
	assert_no_path("{\"type\":\"Object\",\"object\":{\"describedObject\":{\"apiVersion\":"
		       "\"v1\",\"kind\":\"Service\",\"name\":\"a/b\"},\"metric\":{\"name\":\"m\"}}}",
		       NULL, ERR_INVAL);
}
END_TEST

START_TEST(test_path_external)
{
	assert_path("{\"type\":\"External\",\"external\":{\"metric\":{\"name\":\"queue_length\"}}}",
		    "app=x", EM "ns1/queue_length", HPA_API_EXTERNAL);
	/* KEDA's request (custom-external.md §5.1). */
	assert_path("{\"type\":\"External\",\"external\":{\"metric\":{\"name\":\"s0-prometheus\","
		    "\"selector\":{\"matchLabels\":{\"scaledobject.keda.sh/name\":\"my-so\"}}}}}",
		    NULL, EM "ns1/s0-prometheus?labelSelector=scaledobject.keda.sh%2Fname%3Dmy-so",
		    HPA_API_EXTERNAL);
	/* Any path segment name is valid: escaped as Go escapes a path. */
	assert_path("{\"type\":\"External\",\"external\":{\"metric\":{\"name\":"
		    "\"pubsub.googleapis.com|subscription|num undelivered:x*\"}}}",
		    NULL,
		    EM "ns1/pubsub.googleapis.com%7Csubscription%7Cnum%20undelivered:x%2A",
		    HPA_API_EXTERNAL);
	/* {} selects everything: no parameter, as a nil selector. */
	assert_path("{\"type\":\"External\",\"external\":{\"metric\":{\"name\":\"q\","
		    "\"selector\":{}}}}",
		    NULL, EM "ns1/q", HPA_API_EXTERNAL);
	assert_path("{\"type\":\"External\",\"external\":{\"metric\":{\"name\":\"q\","
		    "\"selector\":{\"matchExpressions\":[{\"key\":\"queue\",\"operator\":\"Exists\"},"
		    "{\"key\":\"env\",\"operator\":\"DoesNotExist\"}]}}}}",
		    NULL, EM "ns1/q?labelSelector=%21env%2Cqueue", HPA_API_EXTERNAL);
}
END_TEST

START_TEST(test_path_not_asked)
{
	static const char *const bad_names[] = { ".", "..", "a/b", "a%2Fb", "" };
	char spec[256];

	assert_no_path("{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\"}}", "app=x",
		       ERR_NOTFOUND);
	assert_no_path("{\"type\":\"ContainerResource\",\"containerResource\":{\"name\":\"cpu\","
		       "\"container\":\"c\"}}",
		       "app=x", ERR_NOTFOUND);
	assert_no_path("{\"type\":\"Bogus\"}", "app=x", ERR_NOTFOUND);
	for (size_t i = 0; i < COMMON_ARRAY_LEN(bad_names); i++) {
		snprintf(spec, sizeof(spec),
			 "{\"type\":\"External\",\"external\":{\"metric\":{\"name\":\"%s\"}}}",
			 bad_names[i]);
		assert_no_path(spec, NULL, ERR_INVAL);
	}
	assert_no_path("{\"type\":\"External\",\"external\":{}}", NULL, ERR_INVAL);
	assert_no_path("{\"type\":\"External\",\"external\":{\"metric\":{\"name\":\"q\","
		       "\"selector\":{\"matchExpressions\":[{\"key\":\"k\",\"operator\":\"Near\"}]}}}}",
		       NULL, ERR_INVAL);
}
END_TEST

/* ---- collecting answers, checked through hpa_decide --------------------------------- */

static const char *const POD_TMPL =
	"{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns1\",\"labels\":{\"app\":\"web\"}},"
	"\"spec\":{\"containers\":[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Running\","
	"\"startTime\":\"2023-11-14T20:00:00Z\",\"conditions\":[{\"type\":\"Ready\",\"status\":"
	"\"True\",\"lastTransitionTime\":\"2023-11-14T20:00:10Z\"}]}}";

static json_t *pods2(void)
{
	char a[1024], b[1024];

	snprintf(a, sizeof(a), POD_TMPL, "web-a");
	snprintf(b, sizeof(b), POD_TMPL, "web-b");
	return json_pack("[oo]", parse(a), parse(b));
}

/* An HPA over Deployment web (2 replicas) with the given metrics. */
static json_t *hpa_with(const char *metrics_json, int min)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "{\"metadata\":{\"name\":\"web\",\"namespace\":\"ns1\"},\"spec\":{"
		 "\"scaleTargetRef\":{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
		 "\"name\":\"web\"},\"minReplicas\":%d,\"maxReplicas\":20,\"metrics\":%s},"
		 "\"status\":{\"currentReplicas\":2,\"desiredReplicas\":2}}",
		 min, metrics_json);
	return parse(text);
}

static json_t *scale2(void)
{
	return parse("{\"spec\":{\"replicas\":2},\"status\":{\"replicas\":2,\"selector\":"
		     "\"app=web\"}}");
}

/* hpa_decide over hpa with v's values: the first metric's detail. */
static void decide(const json_t *hpa, const struct hpa_metric_values *v, struct hpa_result *r)
{
	json_t *pods = pods2(), *scale = scale2();
	struct hpa_input in = { .hpa = hpa, .scale = scale, .pods = pods,
				.custom_metrics = v->custom, .external_metrics = v->external,
				.failing_apis = v->failing, .now = T0 };
	char err[256];

	hpa_options_default(&in.opts);
	ck_assert_int_eq(hpa_decide(&in, NULL, r, err, sizeof(err)), 0);
	json_decref(pods);
	json_decref(scale);
}

static void collect(const json_t *hpa, size_t i, const char *body, struct hpa_metric_values *v)
{
	json_t *b = parse(body);
	char err[256];

	ck_assert_int_eq(hpa_metric_collect(json_array_get(hpa_jget(hpa, "spec.metrics"), i), "ns1",
					    b, v, err, sizeof(err)),
			 0);
	json_decref(b);
}

START_TEST(test_collect_external_keda_null_labels)
{
	/* KEDA answers metricLabels null (keda#2944) to a selector it needs:
	 * upstream sums the items all the same. */
	json_t *hpa = hpa_with("[{\"type\":\"External\",\"external\":{\"metric\":{\"name\":"
			       "\"s0-rabbitmq\",\"selector\":{\"matchLabels\":{"
			       "\"scaledobject.keda.sh/name\":\"web\"}}},\"target\":{\"type\":"
			       "\"AverageValue\",\"averageValue\":\"5\"}}}]",
			       1);
	struct hpa_metric_values v = { 0 };
	struct hpa_result r;

	collect(hpa, 0, "{\"kind\":\"ExternalMetricValueList\",\"apiVersion\":"
			"\"external.metrics.k8s.io/v1beta1\",\"metadata\":{},\"items\":[{\"metricName\":"
			"\"s0-rabbitmq\",\"metricLabels\":null,\"timestamp\":\"2023-11-14T22:13:15Z\","
			"\"value\":\"30\"}]}",
		&v);
	ck_assert_int_eq(json_array_size(v.external), 1);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(json_array_get(v.external, 0), "metricLabels"),
				 "scaledobject.keda.sh/name")),
			 "web");
	ck_assert_str_eq(hpa_jstr(json_array_get(v.external, 0), "value"), "30");
	decide(hpa, &v, &r);
	ck_assert(r.metrics[0].has_usage);
	ck_assert_int_eq(r.metrics[0].usage, 30000);
	ck_assert_int_eq(r.metrics[0].proposed, 6); /* ceil(30 / 5) */
	hpa_result_release(&r);
	hpa_metric_values_release(&v);
	json_decref(hpa);
}
END_TEST

START_TEST(test_collect_external_labels_and_dedup)
{
	/* Two requests for one metric: env=prod, and everything.  The series
	 * of the first is also in the second answer: it counts once in each. */
	json_t *hpa = hpa_with("[{\"type\":\"External\",\"external\":{\"metric\":{\"name\":\"q\","
			       "\"selector\":{\"matchLabels\":{\"env\":\"prod\"}}},\"target\":{"
			       "\"type\":\"Value\",\"value\":\"10\"}}},"
			       "{\"type\":\"External\",\"external\":{\"metric\":{\"name\":\"q\"},"
			       "\"target\":{\"type\":\"Value\",\"value\":\"100\"}}}]",
			       1);
	struct hpa_metric_values v = { 0 };
	struct hpa_result r;

	collect(hpa, 0, "{\"kind\":\"ExternalMetricValueList\",\"items\":[{\"metricName\":\"q\","
			"\"metricLabels\":{\"env\":\"prod\",\"queue\":\"a\"},\"value\":\"15\"}]}",
		&v);
	collect(hpa, 1, "{\"kind\":\"ExternalMetricValueList\",\"items\":[{\"metricName\":\"q\","
			"\"metricLabels\":{\"env\":\"prod\",\"queue\":\"a\"},\"value\":\"15\"},"
			"{\"metricName\":\"q\",\"metricLabels\":{\"env\":\"dev\",\"queue\":\"b\"},"
			"\"value\":\"500m\"}]}",
		&v);
	ck_assert_int_eq(json_array_size(v.external), 2);
	/* Labels that satisfy the selector are kept as the provider sent them. */
	ck_assert_str_eq(hpa_jstr(json_array_get(v.external, 0), "metricLabels.queue"), "a");
	decide(hpa, &v, &r);
	ck_assert_int_eq(r.metrics[0].usage, 15000);
	ck_assert_int_eq(r.metrics[1].usage, 15500);
	hpa_result_release(&r);
	hpa_metric_values_release(&v);
	json_decref(hpa);
}
END_TEST

START_TEST(test_collect_pods_metric)
{
	/* A provider's describedObject (apiVersion "/v1", no namespace) and its
	 * echoed selector in another form: upstream reads only name and value. */
	json_t *hpa = hpa_with("[{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"rps\","
			       "\"selector\":{\"matchLabels\":{\"verb\":\"GET\"}}},\"target\":{"
			       "\"type\":\"AverageValue\",\"averageValue\":\"100m\"}}}]",
			       1);
	struct hpa_metric_values v = { 0 };
	struct hpa_result r;

	collect(hpa, 0, "{\"kind\":\"MetricValueList\",\"apiVersion\":\"custom.metrics.k8s.io/"
			"v1beta2\",\"metadata\":{},\"items\":[{\"describedObject\":{\"kind\":\"Pod\","
			"\"name\":\"web-a\",\"apiVersion\":\"/v1\"},\"metric\":{\"name\":\"rps\","
			"\"selector\":{\"matchExpressions\":[{\"key\":\"verb\",\"operator\":\"In\","
			"\"values\":[\"GET\"]}]}},\"timestamp\":\"2023-11-14T22:13:15Z\","
			"\"windowSeconds\":60,\"value\":\"300m\"},{\"describedObject\":{\"name\":"
			"\"web-b\"},\"metric\":{\"name\":\"rps\",\"selector\":null},\"value\":\"100m\"},"
			"{\"metric\":{\"name\":\"rps\"},\"value\":\"9\"}]}",
		&v);
	ck_assert_int_eq(json_array_size(v.custom), 2); /* the one without a name is dropped */
	ck_assert_str_eq(hpa_jstr(json_array_get(v.custom, 1), "describedObject.kind"), "Pod");
	ck_assert_str_eq(hpa_jstr(json_array_get(v.custom, 1), "describedObject.namespace"), "ns1");
	ck_assert_str_eq(hpa_jstr(json_array_get(v.custom, 0), "metric.selector.matchLabels.verb"),
			 "GET");
	ck_assert_int_eq(hpa_jint(json_array_get(v.custom, 0), "windowSeconds", 0), 60);
	decide(hpa, &v, &r);
	ck_assert_ptr_null(r.metrics[0].error);
	ck_assert_int_eq(r.metrics[0].usage, 200); /* (300m + 100m) / 2 */
	ck_assert_int_eq(r.desired, 4);
	hpa_result_release(&r);
	hpa_metric_values_release(&v);
	json_decref(hpa);
}
END_TEST

START_TEST(test_collect_object_metric)
{
	static const char *const metric =
		"[{\"type\":\"Object\",\"object\":{\"describedObject\":{\"apiVersion\":\"apps/v1\","
		"\"kind\":\"Deployment\",\"name\":\"worker\"},\"metric\":{\"name\":\"depth\"},"
		"\"target\":{\"type\":\"Value\",\"value\":\"10\"}}}]";
	json_t *hpa = hpa_with(metric, 1);
	struct hpa_metric_values v = { 0 };
	struct hpa_result r;

	/* describedObject as the provider wrote it (any kind, no namespace). */
	collect(hpa, 0, "{\"kind\":\"MetricValueList\",\"items\":[{\"describedObject\":{\"kind\":"
			"\"deployment\",\"name\":\"worker\",\"apiVersion\":\"apps/__internal\"},"
			"\"metric\":{\"name\":\"depth\"},\"value\":\"40\"}]}",
		&v);
	ck_assert_str_eq(hpa_jstr(json_array_get(v.custom, 0), "describedObject.kind"),
			 "Deployment");
	decide(hpa, &v, &r);
	ck_assert_ptr_null(r.metrics[0].error);
	ck_assert_int_eq(r.metrics[0].usage, 40000);
	ck_assert_int_eq(r.metrics[0].proposed, 8); /* ceil(40 / 10 * 2 ready pods) */
	hpa_result_release(&r);
	hpa_metric_values_release(&v);

	/* Two items for one object: upstream's "exactly one" error. */
	memset(&v, 0, sizeof(v));
	collect(hpa, 0, "{\"kind\":\"MetricValueList\",\"items\":[{\"value\":\"1\"},"
			"{\"value\":\"2\"}]}",
		&v);
	decide(hpa, &v, &r);
	ck_assert_ptr_nonnull(r.metrics[0].error);
	ck_assert_msg(strstr(r.metrics[0].error, "the custom metrics API server returned 2 results "
						 "when we asked for exactly one"),
		      "%s", r.metrics[0].error);
	hpa_result_release(&r);
	hpa_metric_values_release(&v);
	json_decref(hpa);
}
END_TEST

START_TEST(test_collect_wrong_kind)
{
	json_t *hpa = hpa_with("[{\"type\":\"External\",\"external\":{\"metric\":{\"name\":\"q\"},"
			       "\"target\":{\"type\":\"Value\",\"value\":\"1\"}}},"
			       "{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"q\"},"
			       "\"target\":{\"type\":\"AverageValue\",\"averageValue\":\"1\"}}}]",
			       1);
	struct hpa_metric_values v = { 0 };
	json_t *b = parse("{\"kind\":\"MetricValueList\",\"items\":[]}");
	json_t *st = parse("{\"kind\":\"Status\",\"code\":404}");
	json_t *bad = parse("{\"kind\":\"MetricValueList\",\"items\":{}}");
	char err[256];

	ck_assert_int_eq(hpa_metric_collect(json_array_get(hpa_jget(hpa, "spec.metrics"), 0),
					    "ns1", b, &v, err, sizeof(err)),
			 ERR_PARSE);
	ck_assert_str_eq(err, "the external metrics API server didn't return "
			      "ExternalMetricValueList, the type is MetricValueList");
	ck_assert_int_eq(hpa_metric_collect(json_array_get(hpa_jget(hpa, "spec.metrics"), 1),
					    "ns1", st, &v, err, sizeof(err)),
			 ERR_PARSE);
	ck_assert_str_eq(err, "the custom metrics API server didn't return MetricValueList, the "
			      "type is Status");
	ck_assert_int_eq(hpa_metric_collect(json_array_get(hpa_jget(hpa, "spec.metrics"), 1),
					    "ns1", bad, &v, err, sizeof(err)),
			 ERR_PARSE);
	/* An empty list is an answer: hpa_decide says "no metrics returned". */
	ck_assert_int_eq(hpa_metric_collect(json_array_get(hpa_jget(hpa, "spec.metrics"), 1),
					    "ns1", b, &v, err, sizeof(err)),
			 0);
	ck_assert_ptr_nonnull(v.custom);
	ck_assert_int_eq(json_array_size(v.custom), 0);
	ck_assert_ptr_null(v.external);
	hpa_metric_values_release(&v);
	json_decref(b);
	json_decref(st);
	json_decref(bad);
	json_decref(hpa);
}
END_TEST

/* ---- against a fake kube-apiserver ----------------------------------------------------- */

static struct {
	struct MHD_Daemon *d;
	uint16_t port;
	pthread_mutex_t mu;
	json_t *hits; /* "path?labelSelector=..&metricLabelSelector=.." -> count */
	struct certs_pair ca, server;
} F;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **state)
{
	const char *ls = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "labelSelector");
	const char *ms = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
						     "metricLabelSelector");
	char *key;

	if (!*state) {
		*state = (void *)1;
		return MHD_YES;
	}
	key = xasprintf("%s %s?%s&%s", method, url, ls ? ls : "", ms ? ms : "");
	pthread_mutex_lock(&F.mu);
	json_object_set_new(F.hits, key,
			    json_integer(json_integer_value(json_object_get(F.hits, key)) + 1));
	pthread_mutex_unlock(&F.mu);
	free(key);
	if (strcmp(url, EM "ns1/queue_length") == 0)
		return reply(c, 200, "{\"kind\":\"ExternalMetricValueList\",\"apiVersion\":"
				     "\"external.metrics.k8s.io/v1beta1\",\"metadata\":{},\"items\":["
				     "{\"metricName\":\"queue_length\",\"metricLabels\":{\"queue\":"
				     "\"jobs\"},\"timestamp\":\"2023-11-14T22:13:15Z\",\"value\":"
				     "\"20\"}]}");
	if (strcmp(url, CM "ns1/pods/*/rps") == 0)
		return reply(c, 200, "{\"kind\":\"MetricValueList\",\"apiVersion\":"
				     "\"custom.metrics.k8s.io/v1beta2\",\"metadata\":{},\"items\":["
				     "{\"describedObject\":{\"kind\":\"Pod\",\"namespace\":\"ns1\","
				     "\"name\":\"web-a\"},\"metric\":{\"name\":\"rps\",\"selector\":"
				     "null},\"timestamp\":\"2023-11-14T22:13:15Z\",\"value\":\"1\"}]}");
	return reply(c, 404, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
			     "\"status\":\"Failure\",\"message\":\"the server could not find the "
			     "metric nope for \",\"reason\":\"NotFound\",\"code\":404}");
}

static void fake_start(void)
{
	static const char *const ips[] = { "127.0.0.1" };
	struct certs_spec ca = { .cn = "fake-ca", .is_ca = true };
	struct certs_spec srv = { .cn = "apiserver", .ips = ips, .nips = 1, .server_auth = true };

	pthread_mutex_init(&F.mu, NULL);
	F.hits = json_object();
	testlib_cert(&ca, NULL, &F.ca);
	testlib_cert(&srv, &F.ca, &F.server);
	F.d = testlib_https_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
				   handler, NULL, &F.server, NULL, NULL, &F.port);
}

static void fake_stop(void)
{
	MHD_stop_daemon(F.d);
	json_decref(F.hits);
	certs_pair_release(&F.ca);
	certs_pair_release(&F.server);
	pthread_mutex_destroy(&F.mu);
}

static struct kube_client *client(void)
{
	struct kube_config cfg = { 0 };
	struct kube_client *c;

	cfg.server = xasprintf("https://127.0.0.1:%d", F.port);
	cfg.ca_data = F.ca.cert_pem;
	c = kube_client_new(&cfg);
	ck_assert_ptr_nonnull(c);
	free(cfg.server);
	return c;
}

static int hits(const char *key)
{
	int n;

	pthread_mutex_lock(&F.mu);
	n = (int)json_integer_value(json_object_get(F.hits, key));
	pthread_mutex_unlock(&F.mu);
	return n;
}

static size_t distinct_hits(void)
{
	size_t n;

	pthread_mutex_lock(&F.mu);
	n = json_object_size(F.hits);
	pthread_mutex_unlock(&F.mu);
	return n;
}

struct failures {
	int n;
	char path[512], err[512];
};

static void on_fail(void *ud, const char *path, const char *err)
{
	struct failures *f = ud;

	f->n++;
	snprintf(f->path, sizeof(f->path), "%s", path);
	snprintf(f->err, sizeof(f->err), "%s", err);
}

START_TEST(test_fetch_one_get_per_request)
{
	json_t *hpa = hpa_with(
		"[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":{\"type\":"
		"\"Utilization\",\"averageUtilization\":50}}},"
		"{\"type\":\"External\",\"external\":{\"metric\":{\"name\":\"queue_length\"},"
		"\"target\":{\"type\":\"AverageValue\",\"averageValue\":\"5\"}}},"
		"{\"type\":\"External\",\"external\":{\"metric\":{\"name\":\"queue_length\"},"
		"\"target\":{\"type\":\"Value\",\"value\":\"5\"}}},"
		"{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"rps\"},\"target\":{\"type\":"
		"\"AverageValue\",\"averageValue\":\"1\"}}}]",
		0);
	json_t *scale = scale2();
	struct kube_client *c;
	struct hpa_metric_values v;
	struct failures f = { 0 };

	fake_start();
	c = client();
	hpa_metric_values_fetch(c, hpa, "ns1", scale, &v, on_fail, &f);
	ck_assert_int_eq(f.n, 0);
	ck_assert_uint_eq(v.failing, 0);
	ck_assert_int_eq(hits("GET " EM "ns1/queue_length?&"), 1);
	ck_assert_int_eq(hits("GET " CM "ns1/pods/*/rps?app=web&"), 1);
	ck_assert_uint_eq(distinct_hits(), 2);
	ck_assert_int_eq(json_array_size(v.external), 1);
	ck_assert_int_eq(json_array_size(v.custom), 1);
	hpa_metric_values_release(&v);

	/* No scale (its GET failed): upstream reads no metric. */
	hpa_metric_values_fetch(c, hpa, "ns1", NULL, &v, on_fail, &f);
	ck_assert_ptr_null(v.external);
	ck_assert_uint_eq(distinct_hits(), 2);
	hpa_metric_values_release(&v);
	kube_client_free(c);
	fake_stop();
	json_decref(scale);
	json_decref(hpa);
}
END_TEST

START_TEST(test_fetch_only_what_is_needed)
{
	json_t *hpa = hpa_with("[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\","
			       "\"target\":{\"type\":\"Utilization\",\"averageUtilization\":50}}}]",
			       1);
	json_t *plain = parse("{\"metadata\":{\"name\":\"d\",\"namespace\":\"ns1\"},\"spec\":{}}");
	json_t *scale = scale2();
	struct kube_client *c;
	struct hpa_metric_values v;

	fake_start();
	c = client();
	hpa_metric_values_fetch(c, hpa, "ns1", scale, &v, NULL, NULL);
	ck_assert_ptr_null(v.custom);
	ck_assert_ptr_null(v.external);
	hpa_metric_values_release(&v);
	hpa_metric_values_fetch(c, plain, "ns1", scale, &v, NULL, NULL); /* default cpu metric */
	ck_assert_ptr_null(v.external);
	hpa_metric_values_release(&v);
	ck_assert_uint_eq(distinct_hits(), 0);
	kube_client_free(c);
	fake_stop();
	json_decref(scale);
	json_decref(plain);
	json_decref(hpa);
}
END_TEST

START_TEST(test_fetch_failure_marks_the_api)
{
	/* The unknown external metric fails; the known one of the same API is
	 * then reported failing too (the whole group is marked), the custom
	 * API is not.  hpa_decide words it as upstream. */
	json_t *hpa = hpa_with(
		"[{\"type\":\"External\",\"external\":{\"metric\":{\"name\":\"nope\",\"selector\":"
		"{\"matchExpressions\":[{\"key\":\"q\",\"operator\":\"In\",\"values\":[\"b\",\"a\"]}]}},\"target\":{\"type\":\"AverageValue\","
		"\"averageValue\":\"5\"}}},"
		"{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"rps\"},\"target\":{\"type\":"
		"\"AverageValue\",\"averageValue\":\"1\"}}}]",
		0);
	json_t *scale = scale2();
	struct kube_client *c;
	struct hpa_metric_values v;
	struct failures f = { 0 };
	struct hpa_result r;

	fake_start();
	c = client();
	hpa_metric_values_fetch(c, hpa, "ns1", scale, &v, on_fail, &f);
	ck_assert_int_eq(f.n, 1);
	ck_assert_str_eq(f.path, EM "ns1/nope?labelSelector=q+in+%28a%2Cb%29");
	ck_assert_str_eq(f.err, "the server could not find the metric nope for ");
	ck_assert_int_eq(hits("GET " EM "ns1/nope?q in (a,b)&"), 1);
	ck_assert_uint_eq(v.failing, HPA_API_EXTERNAL);
	decide(hpa, &v, &r);
	ck_assert_str_eq(r.metrics[0].error,
			 "unable to get external metric ns1/nope/&LabelSelector{MatchLabels:"
			 "map[string]string{},MatchExpressions:[]LabelSelectorRequirement{"
			 "LabelSelectorRequirement{Key:q,Operator:In,Values:[b a],},},}:"
			 " unable to fetch metrics from external metrics API: the server is "
			 "currently unable to handle the request (get nope.external.metrics.k8s.io)");
	ck_assert_ptr_null(r.metrics[1].error);
	ck_assert_str_eq(r.events[0].reason, "FailedGetExternalMetric");
	hpa_result_release(&r);
	hpa_metric_values_release(&v);
	kube_client_free(c);
	fake_stop();
	json_decref(scale);
	json_decref(hpa);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hpa_loop_metrics");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_path_pods);
	tcase_add_test(tc, test_path_object_kind_to_resource);
	tcase_add_test(tc, test_path_external);
	tcase_add_test(tc, test_path_not_asked);
	tcase_add_test(tc, test_collect_external_keda_null_labels);
	tcase_add_test(tc, test_collect_external_labels_and_dedup);
	tcase_add_test(tc, test_collect_pods_metric);
	tcase_add_test(tc, test_collect_object_metric);
	tcase_add_test(tc, test_collect_wrong_kind);
	tcase_add_test(tc, test_fetch_one_get_per_request);
	tcase_add_test(tc, test_fetch_only_what_is_needed);
	tcase_add_test(tc, test_fetch_failure_marks_the_api);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
