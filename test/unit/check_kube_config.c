/* check_kube_config.c - kube/config.c: kubeconfig files and in-cluster config. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube/kube.h"
#include "test/unit/unit.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_kube_config_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

/* Writes text to dir/name; returns the path (caller frees). */
static char *put(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* Loads text as a kubeconfig; the error code, message in err. */
static int load(const char *text, struct kube_config *cfg, char *err, size_t errlen)
{
	char *path = put("config", text);
	int rc = kube_config_load(path, cfg, err, errlen);

	free(path);
	return rc;
}

START_TEST(test_file_paths)
{
	struct kube_config cfg;
	char err[256] = "", *want;
	int rc = load("apiVersion: v1\n"
		      "kind: Config\n"
		      "clusters:\n"
		      "- name: other\n"
		      "  cluster: {server: 'https://other:1'}\n"
		      "- name: kind\n"
		      "  cluster:\n"
		      "    server: https://127.0.0.1:6443\n"
		      "    certificate-authority: pki/ca.crt\n"
		      "contexts:\n"
		      "- name: a\n"
		      "  context: {cluster: other, user: nobody}\n"
		      "- name: b\n"
		      "  context:\n"
		      "    cluster: kind\n"
		      "    user: admin\n"
		      "    namespace: default\n"
		      "current-context: b\n"
		      "users:\n"
		      "- name: admin\n"
		      "  user:\n"
		      "    client-certificate: admin.crt\n"
		      "    client-key: /etc/keys/admin.key\n"
		      "    tokenFile: ./token\n",
		      &cfg, err, sizeof(err));

	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_str_eq(cfg.server, "https://127.0.0.1:6443");
	want = xasprintf("%s/pki/ca.crt", dir);
	ck_assert_str_eq(cfg.ca_file, want);
	free(want);
	want = xasprintf("%s/admin.crt", dir);
	ck_assert_str_eq(cfg.client_cert_file, want);
	free(want);
	ck_assert_str_eq(cfg.client_key_file, "/etc/keys/admin.key");
	want = xasprintf("%s/./token", dir);
	ck_assert_str_eq(cfg.token_file, want);
	free(want);
	ck_assert_ptr_null(cfg.ca_data);
	ck_assert_ptr_null(cfg.client_cert_data);
	ck_assert_ptr_null(cfg.token);
	ck_assert(!cfg.insecure_skip_tls_verify);
	kube_config_clear(&cfg);
	ck_assert_ptr_null(cfg.server);
}
END_TEST

START_TEST(test_inline_data)
{
	struct kube_config cfg;
	char err[256] = "";
	/* base64 of "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n" */
	int rc = load("current-context: c\n"
		      "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
		      "clusters:\n"
		      "- name: k\n"
		      "  cluster:\n"
		      "    server: https://[::1]:6443/\n"
		      "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClFVSkQKLS0tLS1"
		      "FTkQgQ0VSVElGSUNBVEUtLS0tLQo=\n"
		      "    certificate-authority: ignored.crt\n"
		      "users:\n"
		      "- name: u\n"
		      "  user:\n"
		      "    client-certificate-data: Y2VydA==\n"
		      "    client-key-data: a2V5\n"
		      "    token: abc.def-123\n",
		      &cfg, err, sizeof(err));

	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_str_eq(cfg.server, "https://[::1]:6443/");
	ck_assert_str_eq(cfg.ca_data,
			 "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n");
	ck_assert_ptr_null(cfg.ca_file);
	ck_assert_str_eq(cfg.client_cert_data, "cert");
	ck_assert_str_eq(cfg.client_key_data, "key");
	ck_assert_ptr_null(cfg.client_cert_file);
	ck_assert_str_eq(cfg.token, "abc.def-123");
	ck_assert_ptr_null(cfg.token_file);
	kube_config_clear(&cfg);
}
END_TEST

START_TEST(test_insecure_no_user)
{
	struct kube_config cfg;
	char err[256] = "";
	int rc = load("current-context: c\n"
		      "contexts: [{name: c, context: {cluster: k}}]\n"
		      "clusters: [{name: k, cluster: {server: 'http://localhost:8080',"
		      " insecure-skip-tls-verify: true}}]\n",
		      &cfg, err, sizeof(err));

	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_str_eq(cfg.server, "http://localhost:8080");
	ck_assert(cfg.insecure_skip_tls_verify);
	ck_assert_ptr_null(cfg.token);
	ck_assert_ptr_null(cfg.client_cert_file);
	kube_config_clear(&cfg);
}
END_TEST

struct bad_case {
	const char *yaml;
	int rc;
	const char *msg; /* after "kubeconfig <path>: " */
};

static const struct bad_case bad_cases[] = {
	{ "clusters: []\n", ERR_NOTFOUND, "current-context is not set" },
	{ "current-context: ~\n", ERR_NOTFOUND, "current-context is not set" },
	{ "current-context: x\ncontexts: [{name: y, context: {cluster: k}}]\n", ERR_NOTFOUND,
	  "context \"x\" not found" },
	{ "current-context: x\ncontexts: [{name: x, context: {user: u}}]\n", ERR_NOTFOUND,
	  "context \"x\" has no cluster" },
	{ "current-context: x\ncontexts: [{name: x, context: {cluster: k}}]\n", ERR_NOTFOUND,
	  "cluster \"k\" not found" },
	{ "current-context: x\ncontexts: [{name: x, context: {cluster: k}}]\n"
	  "clusters: [{name: k, cluster: {certificate-authority: a}}]\n",
	  ERR_NOTFOUND, "cluster \"k\" has no server" },
	{ "current-context: x\ncontexts: [{name: x, context: {cluster: k}}]\n"
	  "clusters: [{name: k, cluster: {server: 'ftp://h'}}]\n",
	  ERR_INVAL, "cluster \"k\": server \"ftp://h\" is not an http(s) URL" },
	{ "current-context: x\ncontexts: [{name: x, context: {cluster: k}}]\n"
	  "clusters: [{name: k, cluster: {server: 'https://h', certificate-authority-data: '!!'}}]\n",
	  ERR_PARSE, "cluster \"k\": certificate-authority-data is not valid base64 PEM data" },
	{ "current-context: x\ncontexts: [{name: x, context: {cluster: k}}]\n"
	  "clusters: [{name: k, cluster: {server: 'https://h', certificate-authority: ca,"
	  " insecure-skip-tls-verify: true}}]\n",
	  ERR_INVAL, "cluster \"k\": specifying a root certificates file with the insecure flag "
		     "is not allowed" },
	{ "current-context: x\ncontexts: [{name: x, context: {cluster: k, user: u}}]\n"
	  "clusters: [{name: k, cluster: {server: 'https://h'}}]\n",
	  ERR_NOTFOUND, "user \"u\" not found" },
	{ "current-context: x\ncontexts: [{name: x, context: {cluster: k, user: u}}]\n"
	  "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
	  "users: [{name: u, user: {exec: {command: aws}}}]\n",
	  ERR_INVAL, "user \"u\": exec and auth-provider plugins are not supported" },
	{ "current-context: x\ncontexts: [{name: x, context: {cluster: k, user: u}}]\n"
	  "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
	  "users: [{name: u, user: {client-certificate: c.crt}}]\n",
	  ERR_INVAL, "user \"u\": client certificate and client key go together" },
	{ "current-context: [x\n", ERR_PARSE, "line 2: did not find expected ',' or ']'" },
	{ "- a\n- b\n", ERR_PARSE, "not a YAML mapping" },
	{ "", ERR_PARSE, "empty document" },
};

START_TEST(test_errors)
{
	const struct bad_case *bc = &bad_cases[_i];
	struct kube_config cfg;
	char err[512] = "", *want = xasprintf("kubeconfig %s/config: %s", dir, bc->msg);

	ck_assert_int_eq(load(bc->yaml, &cfg, err, sizeof(err)), bc->rc);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(cfg.server);
	free(want);
}
END_TEST

START_TEST(test_bounds)
{
	struct kube_config cfg;
	char err[512] = "", *path, *want;
	char deep[200];
	size_t i;

	for (i = 0; i < 40; i++)
		deep[i] = '[';
	deep[40] = '\0';
	ck_assert_int_eq(load(deep, &cfg, err, sizeof(err)), ERR_TOOBIG);
	want = xasprintf("kubeconfig %s/config: nested deeper than 32 levels", dir);
	ck_assert_str_eq(err, want);
	free(want);

	path = xasprintf("%s/missing", dir);
	ck_assert_int_eq(kube_config_load(path, &cfg, err, sizeof(err)), ERR_IO);
	want = xasprintf("kubeconfig %s: cannot be read", path);
	ck_assert_str_eq(err, want);
	free(want);
	free(path);

	path = put("big", "");
	ck_assert_int_eq(truncate(path, (off_t)DYN_CONFIG_FILE + 1), 0);
	ck_assert_int_eq(kube_config_load(path, &cfg, err, sizeof(err)), ERR_TOOBIG);
	want = xasprintf("kubeconfig %s: larger than %u bytes", path, DYN_CONFIG_FILE);
	ck_assert_str_eq(err, want);
	free(want);
	free(path);
}
END_TEST

/* ---- in-cluster ---- */

static void incluster_env(const char *host, const char *port)
{
	if (host)
		setenv("KUBERNETES_SERVICE_HOST", host, 1);
	else
		unsetenv("KUBERNETES_SERVICE_HOST");
	if (port)
		setenv("KUBERNETES_SERVICE_PORT", port, 1);
	else
		unsetenv("KUBERNETES_SERVICE_PORT");
	setenv("KUBE_SA_DIR", dir, 1);
}

START_TEST(test_incluster)
{
	struct kube_config cfg;
	char err[256] = "", *want;

	free(put("token", "tok\n"));
	free(put("ca.crt", "pem"));
	incluster_env("10.96.0.1", "443");
	ck_assert_int_eq(kube_config_load(NULL, &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.server, "https://10.96.0.1:443");
	want = xasprintf("%s/token", dir);
	ck_assert_str_eq(cfg.token_file, want);
	free(want);
	want = xasprintf("%s/ca.crt", dir);
	ck_assert_str_eq(cfg.ca_file, want);
	free(want);
	ck_assert_ptr_null(cfg.token);
	kube_config_clear(&cfg);

	incluster_env("fd00:10:96::1", "6443");
	ck_assert_int_eq(kube_config_load("", &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.server, "https://[fd00:10:96::1]:6443");
	kube_config_clear(&cfg);
}
END_TEST

START_TEST(test_incluster_errors)
{
	struct kube_config cfg;
	char err[256] = "", *want;

	incluster_env(NULL, "443");
	ck_assert_int_eq(kube_config_load(NULL, &cfg, err, sizeof(err)), ERR_NOTFOUND);
	ck_assert_str_eq(err, "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST "
			      "and KUBERNETES_SERVICE_PORT must be defined");
	incluster_env("10.0.0.1", "0x1bb");
	ck_assert_int_eq(kube_config_load(NULL, &cfg, err, sizeof(err)), ERR_INVAL);
	incluster_env("10.0.0.1/x", "443");
	ck_assert_int_eq(kube_config_load(NULL, &cfg, err, sizeof(err)), ERR_INVAL);
	incluster_env("10.0.0.1", "443");
	ck_assert_int_eq(kube_config_load(NULL, &cfg, err, sizeof(err)), ERR_IO);
	want = xasprintf("in-cluster configuration: cannot read %s/token", dir);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(cfg.server);
	free(want);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("kube_config");
	TCase *tc = tcase_create("kubeconfig");

	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_file_paths);
	tcase_add_test(tc, test_inline_data);
	tcase_add_test(tc, test_insecure_no_user);
	tcase_add_loop_test(tc, test_errors, 0, (int)COMMON_ARRAY_LEN(bad_cases));
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_incluster);
	tcase_add_test(tc, test_incluster_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(config_suite());
}
