/*
 * check_kubesim_aggregator_availability.c - kubesim's APIService
 * availability controller against fake backends
 * (kubesim_aggregator_fixture.h): validation, the discovery probe and its
 * Available condition texts, Service resolution, 503 while unavailable,
 * and the background resync loop.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test/unit/kubesim_aggregator_fixture.h"
#include "test/unit/unit.h"

/* ---- validation ------------------------------------------------------------------ */

START_TEST(test_validate)
{
	json_t *o = apiservice("metrics.k8s.io/v1beta1", NULL, NULL, 100);
	char err[512];

	ck_assert_int_eq(sim_aggregator_validate(o, err, sizeof(err)), 0);
	json_object_set_new(json_object_get(o, "metadata"), "name", json_string("metrics"));
	json_object_set_new(json_object_get(o, "spec"), "caBundle", json_string("Zm9v"));
	ck_assert_int_eq(sim_aggregator_validate(o, err, sizeof(err)), ERR_INVAL);
	ck_assert_str_eq(err, "APIService.apiregistration.k8s.io \"metrics\" is invalid: "
			      "[metadata.name: Invalid value: \"metrics\": must be "
			      "`spec.version+\".\"+spec.group`: \"v1beta1.metrics.k8s.io\", "
			      "spec.insecureSkipTLSVerify: Invalid value: true: may not be true "
			      "if caBundle is present]");
	json_decref(o);
}
END_TEST

/* ---- availability ---------------------------------------------------------------- */

START_TEST(test_probe_bad_status_and_503)
{
	struct backend b;
	struct sim_response resp;
	char want[512];

	backend_start(&b, "widgets.example.com/v1", false);
	b.probe_status = 401;
	register_gv("widgets.example.com/v1", b.endpoint, NULL, 100);
	ck_assert(!sim_agg_check_one(agg, "v1.widgets.example.com"));
	snprintf(want, sizeof(want),
		 "False/FailedDiscoveryCheck/failing or missing response from "
		 "https://%s/apis/widgets.example.com/v1: bad status from "
		 "https://%s/apis/widgets.example.com/v1: 401", b.endpoint, b.endpoint);
	assert_condition("v1.widgets.example.com", want);
	b.nrecs = 0;
	ck_assert(do_proxy("/apis/widgets.example.com/v1/widgets", "", &resp));
	ck_assert_int_eq(resp.status, 503);
	ck_assert_str_eq(resp.content_type, "text/plain; charset=utf-8");
	ck_assert_str_eq(resp.body.buf, "service unavailable\n");
	ck_assert_int_eq(b.nrecs, 0);
	sim_response_clear(&resp);
	backend_stop(&b);
}
END_TEST

START_TEST(test_probe_connection_refused)
{
	register_gv("widgets.example.com/v1", "127.0.0.1:1", NULL, 100);
	ck_assert(!sim_agg_check_one(agg, "v1.widgets.example.com"));
	assert_condition("v1.widgets.example.com",
			 "False/FailedDiscoveryCheck/failing or missing response from "
			 "https://127.0.0.1:1/apis/widgets.example.com/v1: Get "
			 "\"https://127.0.0.1:1/apis/widgets.example.com/v1\": dial tcp "
			 "127.0.0.1:1: connect: connection refused");
}
END_TEST

START_TEST(test_service_resolution)
{
	struct backend b;
	json_t *svc;

	backend_start(&b, "widgets.example.com/v1", false);
	register_gv("widgets.example.com/v1", NULL, NULL, 100);
	ck_assert(!sim_agg_check_one(agg, "v1.widgets.example.com"));
	assert_condition("v1.widgets.example.com",
			 "False/ServiceNotFound/service/backend in \"ns1\" is not present");
	svc = json_pack("{s:{s:s, s:s}, s:{s:s, s:[{s:s, s:i}]}}", "metadata", "name", "backend",
			"namespace", "ns1", "spec", "clusterIP", "127.0.0.1", "ports", "name",
			"https", "port", 8443);
	ck_assert_int_eq(sim_store_create(cl.store, "services", svc), 0);
	ck_assert(!sim_agg_check_one(agg, "v1.widgets.example.com"));
	assert_condition("v1.widgets.example.com",
			 "False/ServicePortError/service/backend in \"ns1\" is not listening on "
			 "port 443");
	json_decref(svc);
	/* A Service on the backend's port: clusterIP:port is the endpoint. */
	svc = apiservice("widgets.example.com/v1", NULL, NULL, 100);
	json_object_set_new(json_object_get(json_object_get(svc, "spec"), "service"), "port",
			    json_integer(b.port));
	ck_assert_int_eq(sim_store_update(cl.store, "apiservices", svc), 0);
	json_decref(svc);
	svc = json_pack("{s:{s:s, s:s}, s:{s:s, s:[{s:s, s:i}]}}", "metadata", "name", "backend",
			"namespace", "ns1", "spec", "clusterIP", "127.0.0.1", "ports", "name",
			"https", "port", b.port);
	ck_assert_int_eq(sim_store_update(cl.store, "services", svc), 0);
	json_decref(svc);
	ck_assert(sim_agg_check_one(agg, "v1.widgets.example.com"));
	assert_condition("v1.widgets.example.com", "True/Passed/all checks passed");
	backend_stop(&b);
}
END_TEST

/* ---- the controller thread ------------------------------------------------------------ */

START_TEST(test_background_controller)
{
	struct backend b;
	struct timespec pause = {0, 20 * 1000 * 1000};
	char *c = NULL;
	int i;

	/* A second aggregator with a running loop (the fixture's is manual). */
	sim_store_free(cl.store);
	sim_aggregator_free(agg);
	cl.store = sim_store_new(0);
	setenv(SIM_AGG_RESYNC_ENV, "1s", 1);
	agg = sim_aggregator_new(&cl);
	unsetenv(SIM_AGG_RESYNC_ENV);
	ck_assert_ptr_nonnull(agg);
	backend_start(&b, "widgets.example.com/v1", false);
	register_gv("widgets.example.com/v1", b.endpoint, NULL, 100);
	for (i = 0; i < 500; i++) { /* waits for the event, asserts no timing */
		json_t *o = sim_store_get(cl.store, "apiservices", NULL, "v1.widgets.example.com");
		bool has = json_array_size(json_object_get(json_object_get(o, "status"),
							   "conditions")) > 0;

		json_decref(o);
		if (has)
			break;
		nanosleep(&pause, NULL);
	}
	c = condition("v1.widgets.example.com");
	ck_assert_str_eq(c, "True/Passed/all checks passed");
	free(c);
	backend_stop(&b);
}
END_TEST

static Suite *availability_suite(void)
{
	Suite *s = suite_create("kubesim_aggregator_availability");
	TCase *pure = tcase_create("pure");
	TCase *live = tcase_create("live");

	tcase_set_timeout(pure, 10);
	tcase_add_test(pure, test_validate);
	suite_add_tcase(s, pure);
	tcase_set_timeout(live, 30);
	tcase_add_checked_fixture(live, cluster_setup, cluster_teardown);
	tcase_add_test(live, test_probe_bad_status_and_503);
	tcase_add_test(live, test_probe_connection_refused);
	tcase_add_test(live, test_service_resolution);
	tcase_add_test(live, test_background_controller);
	suite_add_tcase(s, live);
	return s;
}

int main(void)
{
	return unit_run(availability_suite());
}
