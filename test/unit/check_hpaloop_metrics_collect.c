/*
 * check_hpaloop_metrics_collect.c - hpaloop__metric_collect() of
 * hpaloop/metrics.c: a provider's MetricValueList or
 * ExternalMetricValueList turned into hpa_decide's input (KEDA's null
 * metricLabels, labels kept, a value two requests returned counted once,
 * describedObject and selector as the request asked), checked through
 * hpa_decide of hpaloop_metrics_fixture.h; and the answers of the wrong kind.
 * No server: the bodies are test text.
 */
#include <check.h>
#include <string.h>

#include "hpaloop/hpaloop_int.h"
#include "test/unit/hpaloop_metrics_fixture.h"
#include "test/unit/unit.h"

/* Collects body, the answer to the request of hpa's metric i, into v. */
static void collect(const json_t *hpa, size_t i, const char *body, struct hpaloop__metric_values *v)
{
	json_t *b = parse(body);
	char err[256];

	ck_assert_int_eq(hpaloop__metric_collect(json_array_get(jpath_get(hpa, "spec.metrics"), i), "ns1",
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
	struct hpaloop__metric_values v = { 0 };
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
	ck_assert_str_eq(jpath_str(json_array_get(v.external, 0), "value"), "30");
	decide(hpa, &v, &r);
	ck_assert(r.metrics[0].has_usage);
	ck_assert_int_eq(r.metrics[0].usage, 30000);
	ck_assert_int_eq(r.metrics[0].proposed, 6); /* ceil(30 / 5) */
	hpa_result_clear(&r);
	hpaloop__metric_values_clear(&v);
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
	struct hpaloop__metric_values v = { 0 };
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
	ck_assert_str_eq(jpath_str(json_array_get(v.external, 0), "metricLabels.queue"), "a");
	decide(hpa, &v, &r);
	ck_assert_int_eq(r.metrics[0].usage, 15000);
	ck_assert_int_eq(r.metrics[1].usage, 15500);
	hpa_result_clear(&r);
	hpaloop__metric_values_clear(&v);
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
	struct hpaloop__metric_values v = { 0 };
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
	ck_assert_str_eq(jpath_str(json_array_get(v.custom, 1), "describedObject.kind"), "Pod");
	ck_assert_str_eq(jpath_str(json_array_get(v.custom, 1), "describedObject.namespace"), "ns1");
	ck_assert_str_eq(jpath_str(json_array_get(v.custom, 0), "metric.selector.matchLabels.verb"),
			 "GET");
	ck_assert_int_eq(jpath_int(json_array_get(v.custom, 0), "windowSeconds", 0), 60);
	decide(hpa, &v, &r);
	ck_assert_ptr_null(r.metrics[0].error);
	ck_assert_int_eq(r.metrics[0].usage, 200); /* (300m + 100m) / 2 */
	ck_assert_int_eq(r.desired, 4);
	hpa_result_clear(&r);
	hpaloop__metric_values_clear(&v);
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
	struct hpaloop__metric_values v = { 0 };
	struct hpa_result r;

	/* describedObject as the provider wrote it (any kind, no namespace). */
	collect(hpa, 0, "{\"kind\":\"MetricValueList\",\"items\":[{\"describedObject\":{\"kind\":"
			"\"deployment\",\"name\":\"worker\",\"apiVersion\":\"apps/__internal\"},"
			"\"metric\":{\"name\":\"depth\"},\"value\":\"40\"}]}",
		&v);
	ck_assert_str_eq(jpath_str(json_array_get(v.custom, 0), "describedObject.kind"),
			 "Deployment");
	decide(hpa, &v, &r);
	ck_assert_ptr_null(r.metrics[0].error);
	ck_assert_int_eq(r.metrics[0].usage, 40000);
	ck_assert_int_eq(r.metrics[0].proposed, 8); /* ceil(40 / 10 * 2 ready pods) */
	hpa_result_clear(&r);
	hpaloop__metric_values_clear(&v);

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
	hpa_result_clear(&r);
	hpaloop__metric_values_clear(&v);
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
	struct hpaloop__metric_values v = { 0 };
	json_t *b = parse("{\"kind\":\"MetricValueList\",\"items\":[]}");
	json_t *st = parse("{\"kind\":\"Status\",\"code\":404}");
	json_t *bad = parse("{\"kind\":\"MetricValueList\",\"items\":{}}");
	char err[256];

	ck_assert_int_eq(hpaloop__metric_collect(json_array_get(jpath_get(hpa, "spec.metrics"), 0),
					    "ns1", b, &v, err, sizeof(err)),
			 ERR_PARSE);
	ck_assert_str_eq(err, "the external metrics API server didn't return "
			      "ExternalMetricValueList, the type is MetricValueList");
	ck_assert_int_eq(hpaloop__metric_collect(json_array_get(jpath_get(hpa, "spec.metrics"), 1),
					    "ns1", st, &v, err, sizeof(err)),
			 ERR_PARSE);
	ck_assert_str_eq(err, "the custom metrics API server didn't return MetricValueList, the "
			      "type is Status");
	ck_assert_int_eq(hpaloop__metric_collect(json_array_get(jpath_get(hpa, "spec.metrics"), 1),
					    "ns1", bad, &v, err, sizeof(err)),
			 ERR_PARSE);
	/* An empty list is an answer: hpa_decide says "no metrics returned". */
	ck_assert_int_eq(hpaloop__metric_collect(json_array_get(jpath_get(hpa, "spec.metrics"), 1),
					    "ns1", b, &v, err, sizeof(err)),
			 0);
	ck_assert_ptr_nonnull(v.custom);
	ck_assert_int_eq(json_array_size(v.custom), 0);
	ck_assert_ptr_null(v.external);
	hpaloop__metric_values_clear(&v);
	json_decref(b);
	json_decref(st);
	json_decref(bad);
	json_decref(hpa);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hpaloop_metrics_collect");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_collect_external_keda_null_labels);
	tcase_add_test(tc, test_collect_external_labels_and_dedup);
	tcase_add_test(tc, test_collect_pods_metric);
	tcase_add_test(tc, test_collect_object_metric);
	tcase_add_test(tc, test_collect_wrong_kind);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
