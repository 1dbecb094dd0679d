/*
 * cmd/config_check.c - `metrics-apiserver config check -f FILE`: loads a
 * prometheus-adapter config (rules/) without a cluster and prints one line
 * per rule, or the `FILE:LINE:COL: reason` lines of its errors.  `-f -`
 * reads standard input (named `<stdin>` in the error lines).
 */
#include "cmd/cmd.h"
#include "common/common.h"
#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage: metrics-apiserver config check -f <config.yaml|->\n"
	"\n"
	"Loads and checks a prometheus-adapter configuration file (the --config file:\n"
	"rules, externalRules, resourceRules, and our metricsApiserver: key) without a\n"
	"cluster. Prints one line per rule and exits 0, or prints FILE:LINE:COL: reason\n"
	"lines and exits 1. Exit 2 on a usage error.\n"
	"\n"
	"  -f, --filename FILE   the config file (- reads it from stdin)\n";

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "config check: %s%s\n\n%s", msg, arg, usage);
	return CMD_EXIT_USAGE;
}

static struct rules_config *load(const char *file, char **errors)
{
	struct dynbuf b;
	struct rules_config *c;
	int rc;

	if (strcmp(file, "-") != 0)
		return rules_config_load(file, errors);
	dynbuf_init(&b, RULES_MAX_FILE_BYTES);
	rc = dynbuf_read_fd(&b, 0);
	if (rc != 0) {
		*errors = xasprintf("<stdin>:1:1: %s\n",
				    rc == ERR_TOOBIG ? "config file is too large" : "cannot read stdin");
		c = NULL;
	} else {
		c = rules_config_parse(b.buf ? b.buf : "", b.len, "<stdin>", errors);
	}
	dynbuf_clear(&b);
	return c;
}

int cmd_config_check(int argc, char **argv)
{
	const char *file = NULL;
	struct rules_config *c;
	char *errors = NULL;

	if (argc < 1 || strcmp(argv[0], "check") != 0)
		return usage_error("unknown command ", argc >= 1 ? argv[0] : "(none)");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		}
		if (strcmp(a, "-f") == 0 || strcmp(a, "--filename") == 0) {
			if (i + 1 >= argc)
				return usage_error("-f takes a file name", "");
			file = argv[++i];
		} else if (strncmp(a, "--filename=", 11) == 0) {
			file = a + 11;
		} else if (strncmp(a, "-f", 2) == 0 && a[2]) {
			file = a + 2 + (a[2] == '=');
		} else {
			return usage_error("unknown argument ", a);
		}
	}
	if (!file || !*file)
		return usage_error("-f <config> is required", "");
	c = load(file, &errors);
	if (!c) {
		fputs(errors ? errors : "config check: cannot load the config\n", stderr);
		free(errors);
		return CMD_EXIT_BAD_INPUT;
	}
	for (size_t i = 0; i < c->n_rules + c->n_external; i++) {
		char *line = rules_rule_summary(i < c->n_rules ? &c->rules[i]
							       : &c->external[i - c->n_rules]);

		printf("%s\n", line);
		free(line);
	}
	rules_config_free(c);
	return 0;
}
