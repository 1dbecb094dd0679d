/*
 * check_server_audit.c - server/audit_policy.c and audit_sink.c: audit
 * policies read and rejected with the apiserver's texts (its policy
 * reader and validation), rules matched as its rule checker does, and the
 * log file created, appended to and rotated as lumberjack does.  The
 * events themselves are checked end to end (e2e 27).
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/audit_int.h"
#include "test/unit/unit.h"

static char dir[] = "/tmp/check_server_audit.XXXXXX";

static char *write_file(const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
}

/* Loads text as a policy: NULL with the error in err. */
static struct server__audit_policy *load(const char *text, char *err, size_t len)
{
	char *p = write_file("policy.yaml", text);
	struct server__audit_policy *pol;

	*err = '\0';
	pol = server__audit_policy_load(p, err, len);
	free(p);
	return pol;
}

static const struct {
	const char *policy, *error;
} bad[] = {
	{ "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n",
	  "loading audit policy file: loaded illegal policy with 0 rules" },
	{ "apiVersion: audit.k8s.io/v1\nkind: Policy\n",
	  "loading audit policy file: loaded illegal policy with 0 rules" },
	{ "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Loud\n",
	  "loading audit policy file: rules[0].level: Unsupported value: \"Loud\": supported "
	  "values: \"None\", \"Metadata\", \"Request\", \"RequestResponse\"" },
	{ "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- users: [a]\n",
	  "loading audit policy file: rules[0].level: Required value" },
	{ "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [Later]\nrules:\n"
	  "- level: None\n",
	  "loading audit policy file: omitStages[0]: Invalid value: \"Later\": allowed stages "
	  "are RequestReceived,ResponseStarted,ResponseComplete,Panic" },
	{ "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n"
	  "  nonResourceURLs: [healthz, /a*b]\n",
	  "loading audit policy file: [rules[0].nonResourceURLs[0]: Invalid value: \"healthz\": "
	  "non-resource URL rules must begin with a '/' character, "
	  "rules[0].nonResourceURLs[1]: Invalid value: \"/a*b\": non-resource URL wildcards '*' "
	  "must be the final character of the rule]" },
	{ "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n"
	  "  resources:\n  - group: Bad_Group\n",
	  "loading audit policy file: rules[0].resources.group: Invalid value: \"Bad_Group\": a "
	  "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
	  "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
	  "regex used for validation is "
	  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')" },
};

START_TEST(test_policy_rejected)
{
	char err[1024];

	ck_assert_ptr_null(load(bad[_i].policy, err, sizeof(err)));
	ck_assert_str_eq(err, bad[_i].error);
}
END_TEST

START_TEST(test_policy_wrong_kind_or_file)
{
	char err[512];

	ck_assert_ptr_null(load("apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules:\n"
				"- level: None\n", err, sizeof(err)));
	ck_assert_msg(strncmp(err, "loading audit policy file: failed decoding: ", 44) == 0, "%s",
		      err);
	ck_assert_ptr_null(load("{ not yaml", err, sizeof(err)));
	ck_assert_msg(strncmp(err, "loading audit policy file: failed decoding: ", 44) == 0, "%s",
		      err);
	ck_assert_ptr_null(server__audit_policy_load("/nonexistent/policy.yaml", err, sizeof(err)));
	ck_assert_str_eq(err, "loading audit policy file: failed to read file path "
			      "\"/nonexistent/policy.yaml\"");
}
END_TEST

/* One policy, many requests: the first matching rule wins; its level and
 * the stages (the policy's joined to the rule's) come back. */
static const char policy[] =
	"apiVersion: audit.k8s.io/v1\n"
	"kind: Policy\n"
	"omitStages: [RequestReceived]\n"
	"rules:\n"
	"- level: None\n"
	"  nonResourceURLs: [/healthz*, /version]\n"
	"- level: RequestResponse\n"
	"  users: [jane]\n"
	"  resources:\n"
	"  - group: metrics.k8s.io\n"
	"    resources: [pods]\n"
	"- level: Request\n"
	"  userGroups: [ops]\n"
	"  verbs: [get]\n"
	"  omitStages: [ResponseStarted]\n"
	"- level: Metadata\n"
	"  namespaces: [team-a]\n"
	"- level: Metadata\n"
	"  resources:\n"
	"  - group: \"*\"\n"
	"    resources: [\"nodes/*\"]\n"
	"  - group: custom.metrics.k8s.io\n"
	"    resources: [\"*/qps\"]\n"
	"    resourceNames: [web]\n"
	"- level: Request\n"
	"  nonResourceURLs: [\"*\"]\n"
	"  userGroups: [system:authenticated]\n";

static const struct {
	const char *user, *group, *method, *path;
	enum server__audit_level level;
	unsigned omit;
} cases[] = {
	{ "jane", NULL, "GET", "/healthz/etcd", SERVER__AUDIT_NONE, 0 },
	{ "jane", NULL, "GET", "/version", SERVER__AUDIT_NONE, 0 },
	{ "jane", NULL, "GET", "/apis/metrics.k8s.io/v1beta1/namespaces/x/pods",
	  SERVER__AUDIT_REQUEST_RESPONSE, 1 },
	/* "nodes/ *" (without the space) also matches the resource without a
	 * subresource: the rule checker trims the suffix and compares the rest */
	{ "jane", NULL, "GET", "/apis/metrics.k8s.io/v1beta1/nodes", SERVER__AUDIT_METADATA, 1 },
	{ "bob", "ops", "GET", "/apis/metrics.k8s.io/v1beta1/nodes/n1",
	  SERVER__AUDIT_REQUEST, 1 | 2 },
	{ "bob", "ops", "GET", "/apis/metrics.k8s.io/v1beta1/nodes", SERVER__AUDIT_METADATA, 1 },
	{ "bob", "ops", "GET", "/apis/metrics.k8s.io/v1beta1/namespaces/b/pods", SERVER__AUDIT_NONE,
	  0 }, /* list, not get */
	{ "bob", NULL, "GET", "/apis/metrics.k8s.io/v1beta1/namespaces/team-a/pods",
	  SERVER__AUDIT_METADATA, 1 },
	{ "bob", NULL, "GET", "/apis/metrics.k8s.io/v1beta1/namespaces/team-b/pods",
	  SERVER__AUDIT_NONE, 0 },
	{ "bob", NULL, "GET", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/a/pods/web/qps",
	  SERVER__AUDIT_METADATA, 1 },
	{ "bob", NULL, "GET", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/a/pods/db/qps",
	  SERVER__AUDIT_NONE, 0 },
	{ "bob", "system:authenticated", "GET", "/openapi/v2", SERVER__AUDIT_REQUEST, 1 },
	{ "bob", "system:authenticated", "GET", "/apis/metrics.k8s.io/v1beta1/namespaces/b/pods",
	  SERVER__AUDIT_NONE, 0 },
	{ NULL, NULL, "GET", "/openapi/v2", SERVER__AUDIT_NONE, 0 }, /* no user: no group */
};

START_TEST(test_policy_rules)
{
	char err[512], *groups[1];
	struct server__audit_policy *p = load(policy, err, sizeof(err));
	struct server_user u = { .name = (char *)cases[_i].user, .groups = groups };
	struct server_attrs at;
	unsigned omit = 99;

	ck_assert_msg(p != NULL, "%s", err);
	groups[0] = (char *)cases[_i].group;
	u.ngroups = cases[_i].group ? 1 : 0;
	server_attrs_parse(&at, cases[_i].method, cases[_i].path, NULL, false, NULL);
	ck_assert_int_eq(server__audit_policy_eval(p, cases[_i].user ? &u : NULL, &at, &omit),
			 cases[_i].level);
	if (cases[_i].level != SERVER__AUDIT_NONE)
		ck_assert_uint_eq(omit, cases[_i].omit);
	server__audit_policy_free(p);
}
END_TEST

/* ---- the log file ---------------------------------------------------------------- */

/* Backups of <stem> in folder d. */
static size_t count_backups(const char *d, const char *stem)
{
	DIR *dh = opendir(d);
	struct dirent *de;
	size_t n = 0;

	ck_assert_ptr_nonnull(dh);
	while ((de = readdir(dh)) != NULL)
		if (strncmp(de->d_name, stem, strlen(stem)) == 0 &&
		    de->d_name[strlen(stem)] == '-' && strstr(de->d_name, ".log"))
			n++;
	closedir(dh);
	return n;
}

static off_t size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* ensureLogFile: missing folders are made (0700), the file is 0600 and
 * appended to; lumberjack: a line that would pass --audit-log-maxsize
 * (MiB) moves the file aside as <stem>-<time><ext>, only the newest
 * --audit-log-maxbackup backups stay, a line past the size is refused. */
START_TEST(test_sink_rotation)
{
	struct server_audit_flags f = { .log_maxsize = 1, .log_maxbackup = 2 };
	size_t half = 600 * 1024;
	char *line = xmalloc(2 * 1024 * 1024), err[256];
	char *path = xasprintf("%s/sub/dir/audit.log", dir), *d2 = xasprintf("%s/sub", dir);
	char *logdir = xasprintf("%s/sub/dir", dir);
	struct server__audit_sink *s;
	struct stat st;

	memset(line, 'x', 2 * 1024 * 1024);
	f.log_path = path;
	s = server__audit_sink_open(&f, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(d2, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0700);
	ck_assert(server__audit_sink_write(s, line, half));
	ck_assert_int_eq(size_of(path), (off_t)half);
	for (int i = 0; i < 4; i++) { /* each second line rotates */
		ck_assert(server__audit_sink_write(s, line, half));
		usleep(2000);        /* backups a millisecond apart have different names */
	}
	ck_assert_int_eq(size_of(path), (off_t)half);
	ck_assert_uint_eq(count_backups(logdir, "audit"), 2); /* 4 rotations, 2 kept */
	ck_assert(!server__audit_sink_write(s, line, 1024 * 1024 + 1)); /* past the size */
	server__audit_sink_close(s);
	free(line);
	free(path);
	free(d2);
	free(logdir);
}
END_TEST

static Suite *audit_suite(void)
{
	Suite *s = suite_create("server_audit");
	TCase *tc = tcase_create("audit");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_policy_rejected, 0, (int)COMMON_ARRAY_LEN(bad));
	tcase_add_test(tc, test_policy_wrong_kind_or_file);
	tcase_add_loop_test(tc, test_policy_rules, 0, (int)COMMON_ARRAY_LEN(cases));
	tcase_add_test(tc, test_sink_rotation);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(audit_suite());
}
