/*
 * check_cmd_config_check.c - cmd/config_check.c: `config check -f FILE`
 * prints test/data/rules/<name>.expected (one line per rule, exit 0; or
 * the error lines on stderr, exit 1), `-f -` reads stdin and names it
 * <stdin>, usage errors exit 2.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/common.h"
#include "test/unit/unit.h"

struct run {
	int rc;
	char *out, *err;
};

static char *read_back(FILE *f)
{
	struct dynbuf b;

	fflush(f);
	dynbuf_init(&b, 1 << 20);
	ck_assert_int_eq(dynbuf_read_fd(&b, fileno(f)), 0);
	ck_assert_int_eq(dynbuf_addch(&b, 0), 0);
	return dynbuf_take(&b, NULL);
}

/* cmd_config_check on args (NULL-terminated, argv[0] "check"), stdin from
 * the file in_path (or as is). */
static struct run cli(const char *in_path, const char *a1, const char *a2, const char *a3)
{
	char *argv[5] = { (char *)"check", (char *)a1, (char *)a2, (char *)a3, NULL };
	int argc = 1, saved[3], in = -1;
	FILE *out = tmpfile(), *err = tmpfile();
	struct run r;

	while (argc < 4 && argv[argc])
		argc++;
	ck_assert(out && err);
	fflush(stdout);
	fflush(stderr);
	saved[0] = dup(STDIN_FILENO);
	saved[1] = dup(STDOUT_FILENO);
	saved[2] = dup(STDERR_FILENO);
	if (in_path) {
		in = open(in_path, O_RDONLY);
		ck_assert_int_ge(in, 0);
		dup2(in, STDIN_FILENO);
		close(in);
	}
	dup2(fileno(out), STDOUT_FILENO);
	dup2(fileno(err), STDERR_FILENO);
	r.rc = cmd_config_check(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved[0], STDIN_FILENO);
	dup2(saved[1], STDOUT_FILENO);
	dup2(saved[2], STDERR_FILENO);
	for (int i = 0; i < 3; i++)
		close(saved[i]);
	rewind(out);
	rewind(err);
	r.out = read_back(out);
	r.err = read_back(err);
	fclose(out);
	fclose(err);
	return r;
}

static void run_clear(struct run *r)
{
	free(r->out);
	free(r->err);
}

static char *slurp(const char *path)
{
	struct dynbuf b;

	dynbuf_init(&b, 1 << 20);
	ck_assert_int_eq(dynbuf_read_file(&b, path), 0);
	ck_assert_int_eq(dynbuf_addch(&b, 0), 0);
	return dynbuf_take(&b, NULL);
}

START_TEST(test_good_files)
{
	const char *names[] = { "adapter-default", "walkthrough", "reference-4.3" };

	for (size_t i = 0; i < COMMON_ARRAY_LEN(names); i++) {
		char path[256], want_path[256], *want;
		struct run r;

		snprintf(path, sizeof(path), "test/data/rules/%s.yaml", names[i]);
		snprintf(want_path, sizeof(want_path), "test/data/rules/%s.expected", names[i]);
		r = cli(NULL, "-f", path, NULL);
		want = slurp(want_path);
		ck_assert_int_eq(r.rc, 0);
		ck_assert_str_eq(r.out, want);
		free(want);
		run_clear(&r);
	}
}
END_TEST

START_TEST(test_subset_errors)
{
	/* queries outside the PromQL subset: exit 1, one line each (positions by hand) */
	struct run r = cli(NULL, "-f", "test/data/rules/broken-subset.yaml", NULL);
	char *want = slurp("test/data/rules/broken-subset.expected");

	ck_assert_int_eq(r.rc, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, want);
	free(want);
	run_clear(&r);
}
END_TEST

START_TEST(test_reference_lines)
{
	/* written from reference §4.3, not from this code's output */
	struct run r = cli(NULL, "--filename=test/data/rules/reference-4.3.yaml", NULL, NULL);

	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.out,
			 "rules[0]: seriesQuery http_requests_total{namespace!=\"\",pod!=\"\"} -> name "
			 "template ${1}, resources overrides namespace=namespaces,pod=pods\n"
			 "rules[1]: seriesQuery queue_messages_ready{namespace!=\"\",deployment!=\"\"} "
			 "-> name template queue_messages_ready, resources overrides "
			 "deployment=deployments.apps,namespace=namespaces\n"
			 "externalRules[0]: seriesQuery {__name__=\"kafka_consumergroup_lag\","
			 "consumergroup!=\"\"} -> name template $0, resources none (namespaced: "
			 "false)\n");
	run_clear(&r);
}
END_TEST

START_TEST(test_errors_and_stdin)
{
	struct run r = cli(NULL, "-f", "test/data/rules/broken-helm-values.yaml", NULL);
	char *want = slurp("test/data/rules/broken-types.expected"), *p;

	ck_assert_int_eq(r.rc, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "test/data/rules/broken-helm-values.yaml:3:3: cannot unmarshal "
				"!!map into []config.DiscoveryRule\n");
	run_clear(&r);
	/* stdin: the same lines, named <stdin> */
	r = cli("test/data/rules/broken-types.yaml", "-f", "-", NULL);
	ck_assert_int_eq(r.rc, 1);
	while ((p = strstr(want, "test/data/rules/broken-types.yaml"))) {
		size_t n = strlen("test/data/rules/broken-types.yaml");

		memmove(p + 7, p + n, strlen(p + n) + 1);
		memcpy(p, "<stdin>", 7);
	}
	ck_assert_str_eq(r.err, want);
	free(want);
	run_clear(&r);
	r = cli("test/data/rules/walkthrough.yaml", "-f-", NULL, NULL);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "name template ${1}_per_second"));
	run_clear(&r);
	r = cli(NULL, "-f", "/nonexistent/config.yaml", NULL);
	ck_assert_int_eq(r.rc, 1);
	ck_assert_str_eq(r.err, "/nonexistent/config.yaml:1:1: unable to load metrics discovery "
				"config file\n");
	run_clear(&r);
}
END_TEST

START_TEST(test_usage)
{
	struct run r = cli(NULL, NULL, NULL, NULL);

	ck_assert_int_eq(r.rc, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "-f <config> is required"));
	run_clear(&r);
	r = cli(NULL, "-f", NULL, NULL);
	ck_assert_int_eq(r.rc, 2);
	run_clear(&r);
	r = cli(NULL, "-f", "x", "--bogus");
	ck_assert_int_eq(r.rc, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown argument --bogus"));
	run_clear(&r);
	r = cli(NULL, "--help", NULL, NULL);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "Usage: metrics-apiserver config check"));
	run_clear(&r);
	{
		char *argv[] = { (char *)"lint", NULL };
		int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);

		dup2(null, STDERR_FILENO);
		ck_assert_int_eq(cmd_config_check(1, argv), 2);
		dup2(saved, STDERR_FILENO);
		close(saved);
		close(null);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cmd_config_check");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_good_files);
	tcase_add_test(tc, test_subset_errors);
	tcase_add_test(tc, test_reference_lines);
	tcase_add_test(tc, test_errors_and_stdin);
	tcase_add_test(tc, test_usage);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
