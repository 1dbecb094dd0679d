/*
 * kubesim_aggregator_fixture.c - what the check_kubesim_aggregator_* suites
 * share: certificates, a fake HTTPS backend that requires the front-proxy
 * client certificate and records every request it receives, and a kubesim
 * store with an aggregator around it (see kubesim_aggregator_fixture.h).
 */
#include "test/unit/kubesim_aggregator_fixture.h"

#include <check.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/unit/testlib.h"

#define SVC_DNS "backend.ns1.svc"

/* ---- certificates (made once) ---------------------------------------------- */

struct certs_pair fp_ca, fp_client, serving_ca, serving, other_ca;

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

void backend_start(struct backend *b, const char *gv, bool aggregated)
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

void backend_stop(struct backend *b)
{
	MHD_stop_daemon(b->d);
	pthread_mutex_destroy(&b->mu);
}

int count(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

/* ---- the cluster around the aggregator --------------------------------------- */

struct sim_cluster cl;
struct sim_aggregator *agg;

void cluster_setup(void)
{
	certs_setup();
	memset(&cl, 0, sizeof(cl));
	cl.store = sim_store_new(0);
	cl.front_proxy_client = fp_client;
	cl.cfg.extra = json_pack("{s:{s:s}}", "aggregator", "resyncPeriod", "0s");
	agg = sim_aggregator_new(&cl);
	ck_assert_ptr_nonnull(agg);
}

void cluster_teardown(void)
{
	sim_store_free(cl.store); /* first: its subscribers point at agg */
	sim_aggregator_free(agg);
	json_decref(cl.cfg.extra);
	certs_pair_clear(&fp_ca);
	certs_pair_clear(&fp_client);
	certs_pair_clear(&serving_ca);
	certs_pair_clear(&serving);
	certs_pair_clear(&other_ca);
}

/* An APIService "<v>.<g>" for gv ("g/v"); endpoint NULL = through a Service;
 * ca NULL = insecureSkipTLSVerify. */
json_t *apiservice(const char *gv, const char *endpoint, const char *ca, int prio)
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

void register_gv(const char *gv, const char *endpoint, const char *ca_pem, int prio)
{
	char *ca = ca_pem ? base64_encode(ca_pem, strlen(ca_pem)) : NULL;
	json_t *o = apiservice(gv, endpoint, ca, prio);

	ck_assert_int_eq(sim_store_create(cl.store, "apiservices", o), 0);
	json_decref(o);
	free(ca);
}

/* The Available condition of APIService name as "status/reason/message". */
char *condition(const char *name)
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

void assert_condition(const char *name, const char *want)
{
	char *got = condition(name);

	ck_assert_str_eq(got, want);
	free(got);
}

static const char *const user_groups[] = {"dev", "system:authenticated"};

bool do_proxy(const char *path, const char *query, struct sim_response *resp)
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

char *dump(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT);
}

