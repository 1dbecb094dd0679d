/*
 * check_hpaloop_metrics_fetch.c - hpaloop__metric_values_fetch() of
 * hpaloop/metrics.c against a fake kube-apiserver (libmicrohttpd over TLS
 * on 127.0.0.1, started afresh for each test) that counts its requests:
 * one GET per distinct request, none for an HPA without Pods, Object or
 * External metrics or without a Scale, and a failing request marking its
 * whole API failing, as hpa_decide (of hpaloop_metrics_fixture.h) then words
 * it.
 *
 * The fake answers the External metric queue_length of ns1 (one value,
 * 20) and the Pods metric rps (.../ns1/pods/%2A/rps: pod web-a, 1);
 * anything else is a 404 Status.  It counts each request by method, path
 * and the two selector parameters.
 */
#include <check.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpaloop/hpaloop_int.h"
#include "kube/kube.h"
#include "test/unit/hpaloop_metrics_fixture.h"
#include "test/unit/testlib.h"
#include "test/unit/unit.h"

static struct {
	struct MHD_Daemon *d;
	uint16_t port;
	pthread_mutex_t mu;
	json_t *hits; /* "path?labelSelector=..&metricLabelSelector=.." -> count */
	struct certs_pair ca, server;
	struct kube_client *c; /* the fake's client, for the test */
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

/* What the fake answers 200 to (the path as decoded), and with what. */
static const struct {
	const char *url, *body;
} ANSWERS[] = {
	{ EM "ns1/queue_length",
	  "{\"kind\":\"ExternalMetricValueList\",\"apiVersion\":"
	  "\"external.metrics.k8s.io/v1beta1\",\"metadata\":{},\"items\":["
	  "{\"metricName\":\"queue_length\",\"metricLabels\":{\"queue\":"
	  "\"jobs\"},\"timestamp\":\"2023-11-14T22:13:15Z\",\"value\":"
	  "\"20\"}]}" },
	{ CM "ns1/pods/*/rps",
	  "{\"kind\":\"MetricValueList\",\"apiVersion\":"
	  "\"custom.metrics.k8s.io/v1beta2\",\"metadata\":{},\"items\":["
	  "{\"describedObject\":{\"kind\":\"Pod\",\"namespace\":\"ns1\","
	  "\"name\":\"web-a\"},\"metric\":{\"name\":\"rps\",\"selector\":"
	  "null},\"timestamp\":\"2023-11-14T22:13:15Z\",\"value\":\"1\"}]}" },
};

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
	for (size_t i = 0; i < COMMON_ARRAY_LEN(ANSWERS); i++)
		if (strcmp(url, ANSWERS[i].url) == 0)
			return reply(c, 200, ANSWERS[i].body);
	return reply(c, 404, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
			     "\"status\":\"Failure\",\"message\":\"the server could not find the "
			     "metric nope for \",\"reason\":\"NotFound\",\"code\":404}");
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

/* Every test's checked fixture: the fake on an ephemeral port, F.c its client. */
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
	F.c = client();
}

static void fake_stop(void)
{
	kube_client_free(F.c);
	MHD_stop_daemon(F.d);
	json_decref(F.hits);
	certs_pair_clear(&F.ca);
	certs_pair_clear(&F.server);
	pthread_mutex_destroy(&F.mu);
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

/* A Pods metric of the two HPAs the fake answers: rps, 1 on average. */
#define RPS_METRIC                                                                         \
	"{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"rps\"},\"target\":{\"type\":" \
	"\"AverageValue\",\"averageValue\":\"1\"}}}"

START_TEST(test_fetch_one_get_per_request)
{
	json_t *hpa = hpa_with(
		"[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":{\"type\":"
		"\"Utilization\",\"averageUtilization\":50}}},"
		"{\"type\":\"External\",\"external\":{\"metric\":{\"name\":\"queue_length\"},"
		"\"target\":{\"type\":\"AverageValue\",\"averageValue\":\"5\"}}},"
		"{\"type\":\"External\",\"external\":{\"metric\":{\"name\":\"queue_length\"},"
		"\"target\":{\"type\":\"Value\",\"value\":\"5\"}}},"
		RPS_METRIC "]",
		0);
	json_t *scale = scale2();
	struct hpaloop__metric_values v;
	struct failures f = { 0 };

	hpaloop__metric_values_fetch(NULL, F.c, hpa, "ns1", scale, &v, on_fail, &f);
	ck_assert_int_eq(f.n, 0);
	ck_assert_uint_eq(v.failing, 0);
	ck_assert_int_eq(hits("GET " EM "ns1/queue_length?&"), 1);
	ck_assert_int_eq(hits("GET " CM "ns1/pods/*/rps?app=web&"), 1);
	ck_assert_uint_eq(distinct_hits(), 2);
	ck_assert_int_eq(json_array_size(v.external), 1);
	ck_assert_int_eq(json_array_size(v.custom), 1);
	hpaloop__metric_values_clear(&v);

	/* No scale (its GET failed): upstream reads no metric. */
	hpaloop__metric_values_fetch(NULL, F.c, hpa, "ns1", NULL, &v, on_fail, &f);
	ck_assert_ptr_null(v.external);
	ck_assert_uint_eq(distinct_hits(), 2);
	hpaloop__metric_values_clear(&v);
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
	struct hpaloop__metric_values v;

	hpaloop__metric_values_fetch(NULL, F.c, hpa, "ns1", scale, &v, NULL, NULL);
	ck_assert_ptr_null(v.custom);
	ck_assert_ptr_null(v.external);
	hpaloop__metric_values_clear(&v);
	hpaloop__metric_values_fetch(NULL, F.c, plain, "ns1", scale, &v, NULL, NULL); /* default cpu metric */
	ck_assert_ptr_null(v.external);
	hpaloop__metric_values_clear(&v);
	ck_assert_uint_eq(distinct_hits(), 0);
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
		RPS_METRIC "]",
		0);
	json_t *scale = scale2();
	struct hpaloop__metric_values v;
	struct failures f = { 0 };
	struct hpa_result r;

	hpaloop__metric_values_fetch(NULL, F.c, hpa, "ns1", scale, &v, on_fail, &f);
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
	hpa_result_clear(&r);
	hpaloop__metric_values_clear(&v);
	json_decref(scale);
	json_decref(hpa);
}
END_TEST

/* The in-process provider: it owns custom.metrics.k8s.io here (answers
 * its paths, one with a 404 Status), external.metrics.k8s.io is left to
 * kube-apiserver. */
struct local_calls {
	int n;
	char last[512];
};

static bool local_get(void *ud, const char *path, int *status, json_t **body)
{
	struct local_calls *c = ud;

	if (strncmp(path, CM, strlen(CM)) != 0)
		return false;
	c->n++;
	snprintf(c->last, sizeof(c->last), "%s", path);
	if (strstr(path, "/nope")) {
		*status = 404;
		*body = json_pack("{s:s,s:s,s:s,s:s,s:i}", "kind", "Status", "status", "Failure",
				  "message", "the server could not find the metric nope for pods",
				  "reason", "NotFound", "code", 404);
	} else {
		*status = 200;
		*body = json_pack("{s:s,s:s,s:{},s:[{s:{s:s,s:s,s:s},s:{s:s},s:s,s:s}]}", "kind",
				  "MetricValueList", "apiVersion", "custom.metrics.k8s.io/v1beta2",
				  "metadata", "items", "describedObject", "kind", "Pod", "namespace",
				  "ns1", "name", "p1", "metric", "name", "rps", "timestamp",
				  "2026-01-01T00:00:00Z", "value", "1500m");
	}
	return true;
}

START_TEST(test_fetch_in_process)
{
	json_t *hpa = hpa_with(
		"[{\"type\":\"External\",\"external\":{\"metric\":{\"name\":\"queue_length\"},"
		"\"target\":{\"type\":\"AverageValue\",\"averageValue\":\"5\"}}},"
		RPS_METRIC ","
		"{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"nope\"},\"target\":{\"type\":"
		"\"AverageValue\",\"averageValue\":\"1\"}}}]",
		0);
	json_t *scale = scale2();
	struct local_calls calls = { 0 };
	struct hpaloop_local_api local = { local_get, &calls };
	struct hpaloop__metric_values v;
	struct failures f = { 0 };

	hpaloop__metric_values_fetch(&local, F.c, hpa, "ns1", scale, &v, on_fail, &f);
	/* both custom requests in process, none of them through the apiserver */
	ck_assert_int_eq(calls.n, 2);
	ck_assert_int_eq(hits("GET " CM "ns1/pods/*/rps?app=web&"), 0);
	ck_assert_int_eq(hits("GET " EM "ns1/queue_length?&"), 1);
	ck_assert_int_eq(json_array_size(v.custom), 1);
	ck_assert_str_eq(jpath_str(json_array_get(v.custom, 0), "value"), "1500m");
	/* the in-process 404 is reported with its Status message, as client-go would */
	ck_assert_int_eq(f.n, 1);
	ck_assert_str_eq(f.err, "the server could not find the metric nope for pods");
	ck_assert_uint_eq(v.failing, HPA_API_CUSTOM);
	hpaloop__metric_values_clear(&v);
	json_decref(scale);
	json_decref(hpa);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hpaloop_metrics_fetch");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, fake_start, fake_stop);
	tcase_add_test(tc, test_fetch_one_get_per_request);
	tcase_add_test(tc, test_fetch_only_what_is_needed);
	tcase_add_test(tc, test_fetch_failure_marks_the_api);
	tcase_add_test(tc, test_fetch_in_process);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
