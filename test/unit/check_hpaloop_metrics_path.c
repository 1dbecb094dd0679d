/*
 * check_hpaloop_metrics_path.c - hpaloop__metric_path() of hpaloop/metrics.c: the
 * custom.metrics.k8s.io and external.metrics.k8s.io request of an HPA's
 * Pods, Object and External metric (kind -> resource, the scale and
 * metric selectors canonical and escaped as client-go writes them, the
 * metric name escaped as a Go path segment), the metrics not read this
 * way and the specs that cannot be asked for.  No server: pure functions.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "hpaloop/hpaloop_int.h"
#include "test/unit/hpaloop_metrics_fixture.h"
#include "test/unit/unit.h"

/* The path for one spec metric (JSON text); NULL when none, rc in *rc. */
static char *path_of(const char *spec, const char *scale_sel, int *rc, unsigned *api)
{
	json_t *s = parse(spec);
	char err[256], *path = NULL;

	*rc = hpaloop__metric_path(s, "ns1", scale_sel, &path, api, err, sizeof(err));
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

static Suite *suite(void)
{
	Suite *s = suite_create("hpaloop_metrics_path");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_path_pods);
	tcase_add_test(tc, test_path_object_kind_to_resource);
	tcase_add_test(tc, test_path_external);
	tcase_add_test(tc, test_path_not_asked);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
