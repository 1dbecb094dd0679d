/*
 * check_kubesim_aggregator_proxy.c - kubesim's aggregation layer proxying
 * /apis/<group>/<version>/... to a fake backend (kubesim_aggregator_fixture.h):
 * query re-encoding, the identity headers it sets and the ones it drops,
 * caBundle verification, redirects, and paths it does not own.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "test/unit/kubesim_aggregator_fixture.h"
#include "test/unit/unit.h"

/* The value of the response header name (any case), or NULL. */
static const char *resp_header(const struct sim_response *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	}
	return NULL;
}

/* ---- pure helpers ---------------------------------------------------------------- */

START_TEST(test_query_reencode)
{
	static const char *const cases[][2] = {
		{"b=2&a=x+y&a=1&labelSelector=app%20in%20(a%2Cb)",
		 "a=x+y&a=1&b=2&labelSelector=app+in+%28a%2Cb%29"},
		{"watch&&;x=1&c=%zz&d=%41", "d=A&watch="},
		{"fieldSelector=metadata.name%3Dn1", "fieldSelector=metadata.name%3Dn1"},
		{"", ""},
	};
	size_t i;
	char *s;

	for (i = 0; i < COMMON_ARRAY_LEN(cases); i++) {
		s = sim_agg_query_reencode(cases[i][0]);
		ck_assert_str_eq(s, cases[i][1]);
		free(s);
	}
}
END_TEST

START_TEST(test_identity_headers)
{
	static const char *const groups[] = {"g1", "g2"};
	json_t *extra = json_pack("{s:[s,s]}", "authentication.kubernetes.io/credential-id",
				  "X509SHA256=ab", "second");
	struct curl_slist *l = sim_agg_identity_headers(NULL, "jane", groups, 2, extra), *p;
	char all[1024] = "";
	char *esc = sim_agg_header_key_escape("a%b c/d");

	for (p = l; p; p = p->next)
		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s\n", p->data);
	ck_assert_str_eq(all, "X-Remote-User: jane\nX-Remote-Group: g1\nX-Remote-Group: g2\n"
			      "X-Remote-Extra-Authentication.kubernetes.io%2fcredential-Id: "
			      "X509SHA256=ab\n"
			      "X-Remote-Extra-Authentication.kubernetes.io%2fcredential-Id: second\n");
	ck_assert_str_eq(esc, "a%25b%20c%2Fd");
	free(esc);
	curl_slist_free_all(l);
	json_decref(extra);
}
END_TEST

/* ---- identity, TLS and ownership ------------------------------------------------- */

START_TEST(test_probe_passes_and_proxy_forwards_identity)
{
	struct backend b;
	struct sim_response resp;
	char want[256];

	backend_start(&b, "widgets.example.com/v1", false);
	register_gv("widgets.example.com/v1", b.endpoint, NULL, 100);
	ck_assert(sim_agg_check_one(agg, "v1.widgets.example.com"));
	assert_condition("v1.widgets.example.com", "True/Passed/all checks passed");
	/* The probe, then discovery: aggregated /apis (404) and the fallback. */
	ck_assert_int_eq(b.nrecs, 3);
	ck_assert_str_eq(b.recs[0].uri, "/apis/widgets.example.com/v1");
	ck_assert_ptr_nonnull(strstr(b.recs[0].headers, "X-Remote-User: system:kube-aggregator\n"
							"X-Remote-Group: system:masters\n"));
	ck_assert_str_eq(b.recs[1].uri, "/apis");
	ck_assert_int_eq(count(b.recs[2].headers, "X-Remote-Group"), 0);
	b.nrecs = 0;

	ck_assert(do_proxy("/apis/widgets.example.com/v1/namespaces/default/widgets",
			   "b=2&a=x+y&labelSelector=app%20in%20(a%2Cb)", &resp));
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(resp.content_type, "application/json");
	ck_assert_str_eq(resp.body.buf,
			 "{\"path\":\"/apis/widgets.example.com/v1/namespaces/default/widgets\"}");
	ck_assert_str_eq(resp_header(&resp, "X-Test"), "yes");
	sim_response_clear(&resp);
	ck_assert_int_eq(b.nrecs, 1);
	ck_assert_str_eq(b.recs[0].uri, "/apis/widgets.example.com/v1/namespaces/default/widgets"
					"?a=x+y&b=2&labelSelector=app+in+%28a%2Cb%29");
	ck_assert_ptr_nonnull(strstr(b.recs[0].headers, "X-Remote-User: jane\n"
							"X-Remote-Group: dev\n"
							"X-Remote-Group: system:authenticated\n"));
	ck_assert_int_eq(count(b.recs[0].headers, "X-Remote-User"), 1);
	ck_assert_int_eq(count(b.recs[0].headers, "X-Remote-Group"), 2);
	ck_assert_int_eq(count(b.recs[0].headers, "evil"), 0);
	ck_assert_int_eq(count(b.recs[0].headers, "admins"), 0);
	ck_assert_int_eq(count(b.recs[0].headers, "X-Remote-Extra"), 0);
	ck_assert_int_eq(count(b.recs[0].headers, "Authorization"), 0);
	ck_assert_ptr_nonnull(strstr(b.recs[0].headers, "Accept: application/json\n"));
	ck_assert_ptr_nonnull(strstr(b.recs[0].headers, "User-Agent: kubectl/v1.32.0\n"));
	ck_assert_ptr_nonnull(strstr(b.recs[0].headers, "X-Forwarded-For: 127.0.0.1\n"));
	snprintf(want, sizeof(want), "Host: %s\n", b.endpoint);
	ck_assert_ptr_nonnull(strstr(b.recs[0].headers, want));
	backend_stop(&b);
}
END_TEST

static void replace_ca(const char *gv, const char *ca_pem)
{
	char *ca = base64_encode(ca_pem, strlen(ca_pem));
	json_t *o = apiservice(gv, NULL, ca, 100);
	json_t *cur = sim_store_get(cl.store, "apiservices", NULL, "v1.widgets.example.com");

	json_object_set(o, "metadata", json_object_get(cur, "metadata"));
	ck_assert_int_eq(sim_store_update(cl.store, "apiservices", o), 0);
	json_decref(cur);
	json_decref(o);
	free(ca);
}

START_TEST(test_ca_bundle_verification)
{
	struct backend b;
	struct sim_response resp;
	json_t *legacy = json_array(), *items = json_array();
	char *s;

	backend_start(&b, "widgets.example.com/v1", false);
	register_gv("widgets.example.com/v1", b.endpoint, other_ca.cert_pem, 100);
	/* The probe does not verify, so the wrong CA still reads Available... */
	ck_assert(sim_agg_check_one(agg, "v1.widgets.example.com"));
	assert_condition("v1.widgets.example.com", "True/Passed/all checks passed");
	/* ...but proxied requests and discovery fail verification. */
	ck_assert(do_proxy("/apis/widgets.example.com/v1/widgets", "", &resp));
	ck_assert_int_eq(resp.status, 503);
	ck_assert_str_eq(resp.content_type, "text/plain; charset=utf-8");
	ck_assert_ptr_eq(strstr(resp.body.buf, "tls: failed to verify certificate: "),
			 resp.body.buf);
	sim_response_clear(&resp);
	sim_aggregator_add_groups(agg, legacy, items);
	s = dump(items);
	ck_assert_str_eq(s, "[{\"metadata\":{\"name\":\"widgets.example.com\","
			    "\"creationTimestamp\":null},\"versions\":[{\"version\":\"v1\","
			    "\"resources\":[],\"freshness\":\"Stale\"}]}]");
	free(s);

	replace_ca("widgets.example.com/v1", serving_ca.cert_pem);
	ck_assert(sim_agg_check_one(agg, "v1.widgets.example.com"));
	ck_assert(do_proxy("/apis/widgets.example.com/v1/widgets", "", &resp));
	ck_assert_int_eq(resp.status, 200);
	ck_assert_str_eq(resp.body.buf, "{\"path\":\"/apis/widgets.example.com/v1/widgets\"}");
	sim_response_clear(&resp);
	ck_assert(do_proxy("/apis/widgets.example.com/v1/redirect", "", &resp));
	ck_assert_int_eq(resp.status, 502);
	ck_assert_str_eq(resp.body.buf,
			 "the backend attempted to redirect this request, which is not permitted");
	sim_response_clear(&resp);
	json_decref(legacy);
	json_decref(items);
	backend_stop(&b);
}
END_TEST

START_TEST(test_local_and_unregistered_paths)
{
	json_t *o = apiservice("apps/v1", NULL, NULL, 17800);
	struct sim_response resp;

	json_object_del(json_object_get(o, "spec"), "service");
	json_object_del(json_object_get(o, "spec"), "insecureSkipTLSVerify");
	ck_assert_int_eq(sim_store_create(cl.store, "apiservices", o), 0);
	json_decref(o);
	ck_assert(sim_agg_check_one(agg, "v1.apps"));
	assert_condition("v1.apps", "True/Local/Local APIServices are always available");
	ck_assert(!do_proxy("/apis/apps/v1/deployments", "", &resp));
	sim_response_clear(&resp);
	ck_assert(!do_proxy("/apis/other.example.com/v1/things", "", &resp));
	sim_response_clear(&resp);
	ck_assert(!do_proxy("/api/v1/pods", "", &resp));
	sim_response_clear(&resp);
}
END_TEST

static Suite *proxy_suite(void)
{
	Suite *s = suite_create("kubesim_aggregator_proxy");
	TCase *pure = tcase_create("pure");
	TCase *live = tcase_create("live");

	tcase_set_timeout(pure, 10);
	tcase_add_test(pure, test_query_reencode);
	tcase_add_test(pure, test_identity_headers);
	suite_add_tcase(s, pure);
	tcase_set_timeout(live, 30);
	tcase_add_checked_fixture(live, cluster_setup, cluster_teardown);
	tcase_add_test(live, test_probe_passes_and_proxy_forwards_identity);
	tcase_add_test(live, test_ca_bundle_verification);
	tcase_add_test(live, test_local_and_unregistered_paths);
	suite_add_tcase(s, live);
	return s;
}

int main(void)
{
	return unit_run(proxy_suite());
}
