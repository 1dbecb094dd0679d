/*
 * hpaloop_metrics_fixture.c - the JSON, HPA, Scale and pods the
 * check_hpa_metrics_* suites share, and their hpa_decide call; see
 * hpaloop_metrics_fixture.h.
 */
#include "test/unit/hpaloop_metrics_fixture.h"

#include <check.h>
#include <stdio.h>

#define T0 (INT64_C(1700000000) * NS_PER_SEC) /* 2023-11-14T22:13:20Z */

json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	ck_assert_msg(j != NULL, "bad test JSON: %s (%s)", e.text, text);
	return j;
}

static const char *const POD_TMPL =
	"{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns1\",\"labels\":{\"app\":\"web\"}},"
	"\"spec\":{\"containers\":[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Running\","
	"\"startTime\":\"2023-11-14T20:00:00Z\",\"conditions\":[{\"type\":\"Ready\",\"status\":"
	"\"True\",\"lastTransitionTime\":\"2023-11-14T20:00:10Z\"}]}}";

/* Pods web-a and web-b of scale2(), Ready since 20:00:10. */
static json_t *pods2(void)
{
	char a[1024], b[1024];

	snprintf(a, sizeof(a), POD_TMPL, "web-a");
	snprintf(b, sizeof(b), POD_TMPL, "web-b");
	return json_pack("[oo]", parse(a), parse(b));
}

json_t *hpa_with(const char *metrics_json, int min)
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

json_t *scale2(void)
{
	return parse("{\"spec\":{\"replicas\":2},\"status\":{\"replicas\":2,\"selector\":"
		     "\"app=web\"}}");
}

void decide(const json_t *hpa, const struct hpaloop__metric_values *v, struct hpa_result *r)
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
