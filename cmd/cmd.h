/*
 * cmd.h - the command-line front ends of the metrics-apiserver binary
 * (cmd/): main.c dispatches to them or to server_run().  They print to
 * stdout/stderr and return process exit codes, so they stay out of the
 * library folders (libmas.a).
 */
#ifndef CMD_H
#define CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "hpaloop/hpaloop.h"

#define CMD_EXIT_BAD_INPUT 1
#define CMD_EXIT_USAGE 2

/*
 * `metrics-apiserver hpa explain ...` (argv[0] = "explain"): -f <file>
 * (`-f -` reads stdin), or --live <namespace>/<hpa> (read from the
 * cluster).  Prints the decision to stdout, errors to stderr; returns the
 * process exit code: 0 ok, 1 bad scenario or the HPA cannot be read, 2
 * usage error.  Not thread-safe (stdio, one call per process).
 */
int cmd_hpa_explain(int argc, char **argv);

/*
 * `metrics-apiserver config check -f FILE` (argv[0] = "check"; `-f -`
 * reads stdin): loads a prometheus-adapter config without a cluster and
 * prints one line per rule on stdout, or its `FILE:LINE:COL: reason`
 * lines on stderr.  Returns 0, 1 (the
 * config has errors or cannot be read) or 2 (usage error, message on
 * stderr).  Not thread-safe (stdio, one call per process).
 */
int cmd_config_check(int argc, char **argv);

/* The command line of `hpa explain`, parsed. */
struct cmd_explain_args {
	const char *file, *output, *live, *kubeconfig, *save; /* borrowed from argv */
	bool live_only;      /* a flag that goes with --live only was given */
	bool help;           /* -h/--help: print the usage and exit 0 */
	char ns[256], name[256];
	struct hpaloop_flags flags; /* the HPA controller flags (owned) */
	struct hpa_options opts;    /* validated from flags */
};

/*
 * Parses argv[1..argc) of `hpa explain` into a (which it initialises;
 * clear with cmd_explain_args_clear in every case).  0 (see a->help),
 * or CMD_EXIT_USAGE with the message in err: the HPA controller flags are
 * parsed and validated by hpaloop's flag table, so their messages are the
 * server's, word for word.
 */
int cmd_explain_args_parse(struct cmd_explain_args *a, int argc, char **argv, char *err,
			   size_t errlen);
/* Frees what a owns. */
void cmd_explain_args_clear(struct cmd_explain_args *a);

#endif
