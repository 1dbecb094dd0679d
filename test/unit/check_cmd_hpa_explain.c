/*
 * check_cmd_hpa_explain.c - cmd/hpa_explain.c, the command line of
 * `hpa explain` without a cluster: bad arguments are usage errors (exit
 * 2), an unreadable kubeconfig is exit 1, `-f -` reads the scenario from
 * stdin, and a bad HPA controller flag gets the very message the server's
 * command line gives (one table, one parser: hpaloop/flags.c).
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "server/server.h"
#include "test/unit/unit.h"

/* cmd_hpa_explain on up to 4 arguments (NULL ends them), its output discarded. */
static int cli(const char *a1, const char *a2, const char *a3, const char *a4)
{
	char *argv[6] = { (char *)"explain", (char *)a1, (char *)a2, (char *)a3, (char *)a4,
			  NULL };
	int argc = 1, rc, out, err, null = open("/dev/null", O_WRONLY);

	while (argc < 5 && argv[argc])
		argc++;
	ck_assert_int_ge(null, 0);
	fflush(stdout);
	fflush(stderr);
	out = dup(STDOUT_FILENO);
	err = dup(STDERR_FILENO);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	rc = cmd_hpa_explain(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	close(out);
	close(err);
	close(null);
	return rc;
}

START_TEST(test_cli_usage_errors)
{
	const char *bad_live[] = { "defaultweb", "/web", "default/", "", "a/b/c", "a/b c", "../x" };

	for (size_t i = 0; i < COMMON_ARRAY_LEN(bad_live); i++)
		ck_assert_msg(cli("--live", bad_live[i], NULL, NULL) == 2, "--live %s", bad_live[i]);
	ck_assert_int_eq(cli("--live=a/b", "-f", "x.json", NULL), 2);
	ck_assert_int_eq(cli("-f", "x.json", "--kubeconfig", "k"), 2);
	ck_assert_int_eq(cli("-f", "x.json", "--save-scenario", "s.json"), 2);
	ck_assert_int_eq(cli("-f", "x.json", "--hpa-tolerance=0.2", NULL), 2);
	ck_assert_int_eq(cli("--live", "a/b", "--hpa-tolerance=-1", NULL), 2);
	ck_assert_int_eq(cli("--live", "a/b", "--hpa-downscale-stabilization", "soon"), 2);
	ck_assert_int_eq(cli("--live", "a/b", "--feature-gates=HPAScaleToZero", NULL), 2);
	ck_assert_int_eq(cli("--live", "a/b", "--save-scenario=", NULL), 2);
	ck_assert_int_eq(cli("--live", "a/b", "-o", "yaml"), 2);
	ck_assert_int_eq(cli(NULL, NULL, NULL, NULL), 2);
	ck_assert_int_eq(cli("--help", NULL, NULL, NULL), 0);
}
END_TEST

START_TEST(test_cli_live_config_error)
{
	/* well-formed, but the kubeconfig cannot be read: exit 1, no request made */
	ck_assert_int_eq(cli("--live", "default/web", "--kubeconfig",
			     "/nonexistent/kubeconfig"),
			 1);
	ck_assert_int_eq(cli("--live", "default/web", "--kubeconfig=/nonexistent/k",
			     "--hpa-initial-readiness-delay=45s"),
			 1);
}
END_TEST

/* The message `hpa explain --live a/b <flag>` fails with. */
static void explain_error(const char *flag, char *err, size_t errlen)
{
	char *argv[] = { (char *)"explain", (char *)"--live", (char *)"a/b", (char *)flag, NULL };
	struct cmd_explain_args a;

	ck_assert_int_eq(cmd_explain_args_parse(&a, 4, argv, err, errlen), CMD_EXIT_USAGE);
	cmd_explain_args_clear(&a);
}

/* The message the server's command line fails with (parse, then validate). */
static void server_error(const char *flag, char *err, size_t errlen)
{
	char *argv[] = { (char *)"metrics-apiserver", (char *)flag, NULL };
	struct server_config cfg;

	server_config_init(&cfg);
	if (server_flags_parse(&cfg, 2, argv, err, errlen) == 0)
		ck_assert_int_ne(server_config_validate(&cfg, err, errlen), 0);
	server_config_clear(&cfg);
}

START_TEST(test_flag_errors_match_the_server)
{
	const char *bad[] = {
		"--hpa-tolerance=-1",           "--hpa-tolerance=abc",
		"--hpa-downscale-stabilization=abc", "--hpa-initial-readiness-delay=5",
		"--hpa-cpu-initialization-period=-1s", "--feature-gates=Nope=true",
		"--feature-gates=HPAScaleToZero",
	};
	char e1[512], e2[512];

	for (size_t i = 0; i < COMMON_ARRAY_LEN(bad); i++) {
		explain_error(bad[i], e1, sizeof(e1));
		server_error(bad[i], e2, sizeof(e2));
		ck_assert_str_eq(e1, e2);
	}
	explain_error("--hpa-tolerance=-1", e1, sizeof(e1));
	ck_assert_str_eq(e1, "--hpa-tolerance should not be negative");
	explain_error("--hpa-downscale-stabilization=abc", e1, sizeof(e1));
	ck_assert_str_eq(e1, "invalid argument \"abc\" for \"--hpa-downscale-stabilization\" "
			     "flag: time: invalid duration \"abc\"");
	/* the loop's own flags mean nothing to explain */
	explain_error("--hpa-sync-period=abc", e1, sizeof(e1));
	ck_assert_str_eq(e1, "unknown argument --hpa-sync-period=abc");
}
END_TEST

START_TEST(test_flags_parsed_into_options)
{
	char *argv[] = { (char *)"explain", (char *)"--live", (char *)"ns/web",
			 (char *)"--hpa-tolerance", (char *)"0.25",
			 (char *)"--hpa-initial-readiness-delay=45s",
			 (char *)"--feature-gates=HPAScaleToZero=false", NULL };
	struct cmd_explain_args a;
	char err[256] = "";

	ck_assert_int_eq(cmd_explain_args_parse(&a, 7, argv, err, sizeof(err)), 0);
	ck_assert_str_eq(a.ns, "ns");
	ck_assert_str_eq(a.name, "web");
	ck_assert(a.opts.tolerance == 0.25);
	ck_assert_int_eq(a.opts.readiness_delay_ns, 45 * NS_PER_SEC);
	ck_assert_int_eq(a.opts.downscale_window_ns, 300 * NS_PER_SEC);
	ck_assert(!a.opts.gate_scale_to_zero);
	cmd_explain_args_clear(&a);
}
END_TEST

/* `-f -` reads stdin: the same exit code as the file itself. */
START_TEST(test_file_from_stdin)
{
	const char *path = "test/data/hpa/001-cpu-utilization-scale-up/scenario.json";
	int in = open(path, O_RDONLY), saved = dup(STDIN_FILENO), rc;

	ck_assert_msg(in >= 0, "%s missing", path);
	ck_assert_int_eq(cli("-f", path, NULL, NULL), 0);
	dup2(in, STDIN_FILENO);
	rc = cli("-f", "-", "-o", "text");
	dup2(saved, STDIN_FILENO);
	close(in);
	close(saved);
	ck_assert_int_eq(rc, 0);
	/* garbage on stdin is a bad scenario (exit 1) */
	in = open("/dev/null", O_RDONLY);
	saved = dup(STDIN_FILENO);
	dup2(in, STDIN_FILENO);
	rc = cli("-f", "-", NULL, NULL);
	dup2(saved, STDIN_FILENO);
	close(in);
	close(saved);
	ck_assert_int_eq(rc, 1);
}
END_TEST

static Suite *explain_suite(void)
{
	Suite *s = suite_create("cmd_hpa_explain");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_cli_usage_errors);
	tcase_add_test(tc, test_cli_live_config_error);
	tcase_add_test(tc, test_flag_errors_match_the_server);
	tcase_add_test(tc, test_flags_parsed_into_options);
	tcase_add_test(tc, test_file_from_stdin);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(explain_suite());
}
