/*
 * check_kubesim_aggregator_discovery.c - kubesim's discovery merge: a
 * legacy APIResourceList converted to aggregated discovery, and /apis
 * built from a legacy and an aggregated backend
 * (kubesim_aggregator_fixture.h).
 */
#include <check.h>
#include <stdlib.h>

#include "test/unit/kubesim_aggregator_fixture.h"
#include "test/unit/unit.h"

/* ---- pure helpers ---------------------------------------------------------------- */

START_TEST(test_convert_resource_list)
{
	json_t *in = json_loads("[{\"name\":\"pods/log\",\"namespaced\":true,\"kind\":\"\","
				"\"verbs\":[\"get\"]},{\"name\":\"nodes\",\"singularName\":\"\","
				"\"namespaced\":false,\"kind\":\"NodeMetrics\",\"group\":\"m\","
				"\"version\":\"v1\",\"verbs\":[\"get\",\"list\"],"
				"\"shortNames\":[\"nm\"]}]", 0, NULL);
	json_t *out = sim_agg_convert_resource_list(in);
	char *s = dump(out);

	ck_assert_str_eq(s, "[{\"resource\":\"nodes\",\"responseKind\":{\"group\":\"m\","
			    "\"version\":\"v1\",\"kind\":\"NodeMetrics\"},\"scope\":\"Cluster\","
			    "\"singularResource\":\"\",\"verbs\":[\"get\",\"list\"],"
			    "\"shortNames\":[\"nm\"]},{\"resource\":\"pods\",\"responseKind\":"
			    "{\"group\":\"\",\"version\":\"\",\"kind\":\"\"},\"scope\":\"Namespaced\","
			    "\"subresources\":[{\"subresource\":\"log\",\"verbs\":[\"get\"]}]}]");
	free(s);
	json_decref(out);
	json_decref(in);
}
END_TEST

/* ---- discovery merge ------------------------------------------------------------------ */

START_TEST(test_discovery_merge)
{
	struct backend legacy_b, agg_b;
	json_t *legacy = json_array(), *items = json_array();
	char *s;

	backend_start(&legacy_b, "widgets.example.com/v1", false);
	backend_start(&agg_b, "gadgets.example.com/v1beta1", true);
	register_gv("widgets.example.com/v1", legacy_b.endpoint, NULL, 100);
	register_gv("gadgets.example.com/v1beta1", agg_b.endpoint, NULL, 200);
	ck_assert(sim_agg_check_one(agg, "v1.widgets.example.com"));
	ck_assert(sim_agg_check_one(agg, "v1beta1.gadgets.example.com"));
	ck_assert_int_eq(agg_b.nrecs, 2); /* probe + aggregated /apis, no fallback */
	sim_aggregator_add_groups(agg, legacy, items);
	s = dump(legacy);
	ck_assert_str_eq(s,
		"[{\"name\":\"gadgets.example.com\",\"versions\":[{\"groupVersion\":"
		"\"gadgets.example.com/v1beta1\",\"version\":\"v1beta1\"}],\"preferredVersion\":"
		"{\"groupVersion\":\"gadgets.example.com/v1beta1\",\"version\":\"v1beta1\"}},"
		"{\"name\":\"widgets.example.com\",\"versions\":[{\"groupVersion\":"
		"\"widgets.example.com/v1\",\"version\":\"v1\"}],\"preferredVersion\":"
		"{\"groupVersion\":\"widgets.example.com/v1\",\"version\":\"v1\"}}]");
	free(s);
	s = dump(items);
	ck_assert_str_eq(s,
		"[{\"metadata\":{\"name\":\"gadgets.example.com\",\"creationTimestamp\":null},"
		"\"versions\":[{\"version\":\"v1beta1\",\"resources\":[{\"resource\":\"gadgets\","
		"\"scope\":\"Cluster\",\"verbs\":[\"get\"]}],\"freshness\":\"Current\"}]},"
		"{\"metadata\":{\"name\":\"widgets.example.com\",\"creationTimestamp\":null},"
		"\"versions\":[{\"version\":\"v1\",\"resources\":[{\"resource\":\"widgets\","
		"\"responseKind\":{\"group\":\"\",\"version\":\"\",\"kind\":\"Widget\"},"
		"\"scope\":\"Namespaced\",\"singularResource\":\"widget\",\"verbs\":[\"get\","
		"\"list\"],\"subresources\":[{\"subresource\":\"status\",\"responseKind\":"
		"{\"group\":\"\",\"version\":\"\",\"kind\":\"Widget\"},\"verbs\":[\"get\"]}]}],"
		"\"freshness\":\"Current\"}]}]");
	free(s);
	json_decref(legacy);
	json_decref(items);
	backend_stop(&legacy_b);
	backend_stop(&agg_b);
}
END_TEST

static Suite *discovery_suite(void)
{
	Suite *s = suite_create("kubesim_aggregator_discovery");
	TCase *pure = tcase_create("pure");
	TCase *live = tcase_create("live");

	tcase_set_timeout(pure, 10);
	tcase_add_test(pure, test_convert_resource_list);
	suite_add_tcase(s, pure);
	tcase_set_timeout(live, 30);
	tcase_add_checked_fixture(live, cluster_setup, cluster_teardown);
	tcase_add_test(live, test_discovery_merge);
	suite_add_tcase(s, live);
	return s;
}

int main(void)
{
	return unit_run(discovery_suite());
}
