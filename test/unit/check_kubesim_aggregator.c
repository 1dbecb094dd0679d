/*
 * check_kubesim_aggregator.c - kubesim's aggregation layer against a fake
 * backend: a libmicrohttpd HTTPS server on 127.0.0.1 that requires the
 * front-proxy client certificate and records every request it receives.
 */
#include <check.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test/kubesim/aggregator_int.h"
#include "test/unit/testlib.h"
#include "test/unit/unit.h"

#define MAX_RECS 16
#define SVC_DNS "backend.ns1.svc"

/* ---- certificates (made once) ---------------------------------------------- */

static struct certs_pair fp_ca, fp_client, serving_ca, serving, other_ca;

static void certs_setup(void)
{
	static const char *const dns[] = {SVC_DNS};
	struct certs_spec ca = {.cn = "front-proxy-ca", .is_ca = true};
	struct certs_spec client = {.cn = "front-proxy-client", .client_auth = true};
	struct certs_spec sca = {.cn = "serving-ca", .is_ca = true};
	struct certs_spec srv = {.cn = "backend", .dns = dns, .ndns = 1, .server_auth = true};
	struct certs_spec oca = {.cn = "other-ca", .is_ca = true};

	testlib_cert(&ca, NULL, &fp_ca);
	testlib_cert(&client, &fp_ca, &fp_client);
	testlib_cert(&sca, NULL, &serving_ca);
	testlib_cert(&srv, &serving_ca, &serving);
	testlib_cert(&oca, NULL, &other_ca);
}

/* ---- the fake backend --------------------------------------------------------- */

struct rec {
	char uri[512];
	char headers[2048]; /* "Name: value\n" in arrival order */
};

struct backend {
	struct MHD_Daemon *d;
	uint16_t port;
	char endpoint[32];
	const char *gv;          /* "group/version" it serves */
	bool aggregated;         /* serve aggregated discovery at /apis */
	int probe_status;        /* status of /apis/<g>/<v> */
	pthread_mutex_t mu;
	struct rec recs[MAX_RECS];
	int nrecs;
};

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *con)
{
	(void)cls;
	(void)con;
	return strdup(uri);
}

static void completed(void *cls, struct MHD_Connection *con, void **req_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)con;
	(void)toe;
	free(*req_cls);
	*req_cls = NULL;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	struct rec *r = cls;
	size_t len = strlen(r->headers);

	(void)kind;
	snprintf(r->headers + len, sizeof(r->headers) - len, "%s: %s\n", key, value);
	return MHD_YES;
}

static bool client_cert_ok(struct MHD_Connection *con)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(con, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	unsigned status = 1;

	return ci && gnutls_certificate_verify_peers2(ci->tls_session, &status) >= 0 &&
	       status == 0;
}

static enum MHD_Result reply(struct MHD_Connection *con, int status, const char *ctype,
			     const char *body, const char *hname, const char *hvalue)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (ctype)
		MHD_add_response_header(r, "Content-Type", ctype);
	if (hname)
		MHD_add_response_header(r, hname, hvalue);
	ret = MHD_queue_response(con, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static const char aggregated_ct[] =
	"application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

static enum MHD_Result route(struct backend *b, struct MHD_Connection *con, const char *url)
{
	char body[2048], gvpath[128];
	const char *slash = strchr(b->gv, '/');

	snprintf(gvpath, sizeof(gvpath), "/apis/%s", b->gv);
	if (strcmp(url, "/apis") == 0 && !b->aggregated)
		return reply(con, 404, "text/plain; charset=utf-8", "404 page not found\n", NULL,
			     NULL);
	if (strcmp(url, "/apis") == 0) {
		snprintf(body, sizeof(body),
			 "{\"kind\":\"APIGroupDiscoveryList\",\"apiVersion\":\"apidiscovery.k8s.io/v2\","
			 "\"metadata\":{},\"items\":[{\"metadata\":{\"name\":\"%.*s\"},\"versions\":"
			 "[{\"version\":\"%s\",\"resources\":[{\"resource\":\"gadgets\",\"scope\":"
			 "\"Cluster\",\"verbs\":[\"get\"]}],\"freshness\":\"Current\"}]}]}",
			 (int)(slash - b->gv), b->gv, slash + 1);
		return reply(con, 200, aggregated_ct, body, NULL, NULL);
	}
	if (strcmp(url, gvpath) == 0) {
		snprintf(body, sizeof(body),
			 "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"%s\","
			 "\"resources\":[{\"name\":\"widgets\",\"singularName\":\"widget\","
			 "\"namespaced\":true,\"kind\":\"Widget\",\"verbs\":[\"get\",\"list\"]},"
			 "{\"name\":\"widgets/status\",\"singularName\":\"\",\"namespaced\":true,"
			 "\"kind\":\"Widget\",\"verbs\":[\"get\"]}]}",
			 b->gv);
		return reply(con, b->probe_status, "application/json", body, NULL, NULL);
	}
	if (strstr(url, "/redirect"))
		return reply(con, 302, NULL, "", "Location", "/elsewhere");
	snprintf(body, sizeof(body), "{\"path\":\"%s\"}", url);
	return reply(con, 200, "application/json", body, "X-Test", "yes");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *con, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **req_cls)
{
	struct backend *b = cls;
	struct rec *r;

	(void)method;
	(void)version;
	(void)upload;
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (!client_cert_ok(con))
		return reply(con, 401, "text/plain", "client certificate required\n", NULL, NULL);
	pthread_mutex_lock(&b->mu);
	if (b->nrecs < MAX_RECS) {
		r = &b->recs[b->nrecs++];
		r->headers[0] = '\0';
		snprintf(r->uri, sizeof(r->uri), "%s", *req_cls ? (char *)*req_cls : "");
		MHD_get_connection_values(con, MHD_HEADER_KIND, add_header, r);
	}
	pthread_mutex_unlock(&b->mu);
	return route(b, con, url);
}

static void backend_start(struct backend *b, const char *gv, bool aggregated)
{
	const struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)uri_log, NULL },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};

	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->mu, NULL);
	b->gv = gv;
	b->aggregated = aggregated;
	b->probe_status = 200;
	b->d = testlib_https_daemon(MHD_USE_AUTO_INTERNAL_THREAD, handle, b, &serving, fp_ca.cert_pem,
				    opts, &b->port);
	snprintf(b->endpoint, sizeof(b->endpoint), "127.0.0.1:%d", b->port);
}

static void backend_stop(struct backend *b)
{
	MHD_stop_daemon(b->d);
	pthread_mutex_destroy(&b->mu);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

/* ---- the cluster around the aggregator --------------------------------------- */

static struct sim_cluster cl;
static struct sim_aggregator *agg;

static void cluster_setup(void)
{
	certs_setup();
	memset(&cl, 0, sizeof(cl));
	cl.store = sim_store_new(0);
	cl.front_proxy_client = fp_client;
	cl.cfg.extra = json_pack("{s:{s:s}}", "aggregator", "resyncPeriod", "0s");
	agg = sim_aggregator_new(&cl);
	ck_assert_ptr_nonnull(agg);
}

static void cluster_teardown(void)
{
	sim_store_free(cl.store); /* first: its subscribers point at agg */
	sim_aggregator_free(agg);
	json_decref(cl.cfg.extra);
	certs_pair_release(&fp_ca);
	certs_pair_release(&fp_client);
	certs_pair_release(&serving_ca);
	certs_pair_release(&serving);
	certs_pair_release(&other_ca);
}

/* An APIService "<v>.<g>" for gv ("g/v"); endpoint NULL = through a Service;
 * ca NULL = insecureSkipTLSVerify. */
static json_t *apiservice(const char *gv, const char *endpoint, const char *ca, int prio)
{
	const char *slash = strchr(gv, '/');
	char *g = strndup(gv, (size_t)(slash - gv)), *name = NULL;
	json_t *o, *spec;

	ck_assert_int_ge(asprintf(&name, "%s.%s", slash + 1, g), 0);
	o = json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:s, s:{s:s, s:s, s:i}, s:i, s:i}}",
		      "apiVersion", "apiregistration.k8s.io/v1", "kind", "APIService",
		      "metadata", "name", name, "spec", "group", g, "version", slash + 1,
		      "service", "name", "backend", "namespace", "ns1", "port", 443,
		      "groupPriorityMinimum", prio, "versionPriority", 100);
	spec = json_object_get(o, "spec");
	if (endpoint)
		json_object_set_new(json_object_get(o, "metadata"), "annotations",
				    json_pack("{s:s}", SIM_AGG_ENDPOINT_ANNOTATION, endpoint));
	if (ca)
		json_object_set_new(spec, "caBundle", json_string(ca));
	else
		json_object_set_new(spec, "insecureSkipTLSVerify", json_true());
	free(g);
	free(name);
	return o;
}

static void register_gv(const char *gv, const char *endpoint, const char *ca_pem, int prio)
{
	char *ca = ca_pem ? base64_encode(ca_pem, strlen(ca_pem)) : NULL;
	json_t *o = apiservice(gv, endpoint, ca, prio);

	ck_assert_int_eq(sim_store_create(cl.store, "apiservices", o), 0);
	json_decref(o);
	free(ca);
}

/* The Available condition of APIService name as "status/reason/message". */
static char *condition(const char *name)
{
	json_t *o = sim_store_get(cl.store, "apiservices", NULL, name);
	json_t *c = json_array_get(json_object_get(json_object_get(o, "status"), "conditions"), 0);
	char *s = NULL;

	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(json_string_value(json_object_get(c, "type")), "Available");
	ck_assert_int_ge(asprintf(&s, "%s/%s/%s", json_string_value(json_object_get(c, "status")),
				  json_string_value(json_object_get(c, "reason")),
				  json_string_value(json_object_get(c, "message"))), 0);
	json_decref(o);
	return s;
}

static void assert_condition(const char *name, const char *want)
{
	char *got = condition(name);

	ck_assert_str_eq(got, want);
	free(got);
}

static const char *const user_groups[] = {"dev", "system:authenticated"};

static bool do_proxy(const char *path, const char *query, struct sim_response *resp)
{
	static struct sim_header hdrs[] = {
		{"Accept", "application/json"},      {"X-Remote-User", "evil"},
		{"x-remote-group", "admins"},        {"X-Remote-Extra-Scopes", "all"},
		{"User-Agent", "kubectl/v1.32.0"},   {"Authorization", "Bearer secret"},
	};
	struct sim_request req = {
		.method = "GET", .path = path, .query = query, .headers = hdrs,
		.nheaders = COMMON_ARRAY_LEN(hdrs), .user = "jane", .groups = user_groups,
		.ngroups = 2,
	};

	sim_response_init(resp);
	return sim_aggregator_proxy(agg, &req, resp);
}

static const char *resp_header(const struct sim_response *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	}
	return NULL;
}

static char *dump(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT);
}

/* ---- pure helpers ---------------------------------------------------------------- */

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

/* ---- availability ---------------------------------------------------------------- */

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
	sim_response_release(&resp);
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
	sim_response_release(&resp);
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

/* ---- TLS to the backend ------------------------------------------------------------ */

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
	sim_response_release(&resp);
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
	sim_response_release(&resp);
	ck_assert(do_proxy("/apis/widgets.example.com/v1/redirect", "", &resp));
	ck_assert_int_eq(resp.status, 502);
	ck_assert_str_eq(resp.body.buf,
			 "the backend attempted to redirect this request, which is not permitted");
	sim_response_release(&resp);
	json_decref(legacy);
	json_decref(items);
	backend_stop(&b);
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
	sim_response_release(&resp);
	ck_assert(!do_proxy("/apis/other.example.com/v1/things", "", &resp));
	sim_response_release(&resp);
	ck_assert(!do_proxy("/api/v1/pods", "", &resp));
	sim_response_release(&resp);
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

static Suite *aggregator_suite(void)
{
	Suite *s = suite_create("kubesim_aggregator");
	TCase *pure = tcase_create("pure");
	TCase *live = tcase_create("live");

	tcase_set_timeout(pure, 10);
	tcase_add_test(pure, test_validate);
	tcase_add_test(pure, test_query_reencode);
	tcase_add_test(pure, test_identity_headers);
	tcase_add_test(pure, test_convert_resource_list);
	suite_add_tcase(s, pure);
	tcase_set_timeout(live, 30);
	tcase_add_checked_fixture(live, cluster_setup, cluster_teardown);
	tcase_add_test(live, test_probe_passes_and_proxy_forwards_identity);
	tcase_add_test(live, test_probe_bad_status_and_503);
	tcase_add_test(live, test_probe_connection_refused);
	tcase_add_test(live, test_service_resolution);
	tcase_add_test(live, test_ca_bundle_verification);
	tcase_add_test(live, test_discovery_merge);
	tcase_add_test(live, test_local_and_unregistered_paths);
	tcase_add_test(live, test_background_controller);
	suite_add_tcase(s, live);
	return s;
}

int main(void)
{
	return unit_run(aggregator_suite());
}
