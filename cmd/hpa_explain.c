/*
 * cmd/hpa_explain.c - `metrics-apiserver hpa explain`: runs hpa_decide once and
 * prints the decision (-o json: the result document, -o text: the steps),
 *   -f scenario.json|yaml         on a scenario file (`-f -`: stdin);
 *   --live <namespace>/<hpa>      on the scenario the embedded loop would
 *                                 build now, read from the cluster
 *                                 (live.c), optionally saved with
 *                                 --save-scenario for a later -f that
 *                                 decides the same.
 * With --live the controller options are the server's HPA flags, parsed
 * and checked by hpaloop's flag table (same names, defaults and error
 * texts as the server's command line); the controller's history cannot be read, so
 * the decision is the one for an HPA the controller never saw, and -o
 * text says so.
 */
#include "cmd/cmd.h"
#include "common/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_BAD_INPUT CMD_EXIT_BAD_INPUT
#define EXIT_USAGE CMD_EXIT_USAGE
#define EXPLAIN_ERRLEN 1024

static const char usage[] =
	"Usage: metrics-apiserver hpa explain -f <scenario.json|yaml|-> [-o json|text]\n"
	"       metrics-apiserver hpa explain --live <namespace>/<hpa> [-o json|text]\n"
	"           [--kubeconfig FILE] [--save-scenario FILE] [HPA controller flags]\n"
	"\n"
	"Runs the autoscaling/v2 HPA algorithm once and prints the decision: -o json\n"
	"(default) the result document, -o text an explanation.\n"
	"\n"
	"  -f, --filename FILE      the scenario: HPA, Scale, pods, metrics, history, options\n"
	"                           (- reads it from stdin)\n"
	"      --live NS/NAME       the scenario the embedded HPA loop would build now, read\n"
	"                           from the cluster: the HPA, its Scale, the pods of its\n"
	"                           selector, their PodMetrics (metrics.k8s.io through\n"
	"                           kube-apiserver), the other HPAs of the namespace. The\n"
	"                           controller's history cannot be read from outside: the\n"
	"                           decision is the one for an HPA it never saw.\n"
	"      --kubeconfig FILE    with --live (default: $KUBECONFIG, else in-cluster)\n"
	"      --save-scenario FILE with --live: also write the scenario, for -f\n"
	"  -o, --output json|text\n"
	"\n"
	"HPA controller flags (with --live; the server's, with its defaults):\n"
	"      --hpa-tolerance, --hpa-downscale-stabilization,\n"
	"      --hpa-cpu-initialization-period, --hpa-initial-readiness-delay,\n"
	"      --feature-gates\n";

static const char no_history_line[] =
	"history: none (the controller's recommendations and scale events cannot be read from "
	"outside it): decided as for an HPA it never saw\n";

/* "--name value", "--name=value", "-f value" or "-fvalue" (shrt may be
 * NULL); NULL if argv[*i] is not it, "" when the value is missing. */
static const char *opt_value(int argc, char **argv, int *i, const char *shrt, const char *lng)
{
	const char *a = argv[*i];
	size_t ln = strlen(lng);

	if (strcmp(a, lng) == 0 || (shrt && strcmp(a, shrt) == 0)) {
		if (*i + 1 >= argc)
			return "";
		return argv[++*i];
	}
	if (strncmp(a, lng, ln) == 0 && a[ln] == '=')
		return a + ln + 1;
	if (shrt && strncmp(a, shrt, 2) == 0 && a[2])
		return a + 2 + (a[2] == '=');
	return NULL;
}

/* An HPA controller flag of hpaloop's table at argv[*i] ("--name value" or
 * "--name=value"): NULL if it is none (or one that only the loop reads). */
static const struct hpaloop_flag *hpa_flag(int argc, char **argv, int *i, const char **v)
{
	const char *a = argv[*i], *eq;
	const struct hpaloop_flag *d;

	if (strncmp(a, "--", 2) != 0)
		return NULL;
	eq = strchr(a + 2, '=');
	d = hpaloop_flag_find(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
	if (!d || d->loop_only)
		return NULL;
	*v = eq ? eq + 1 : opt_value(argc, argv, i, NULL, a);
	return d;
}

/* One argument that goes with --live only at argv[*i]: 0 or EXIT_USAGE
 * (a->live_only set, err filled), -1 if it is none of them. */
static int live_flag(int argc, char **argv, int *i, struct cmd_explain_args *a, char *err,
		     size_t errlen)
{
	const struct hpaloop_flag *d;
	const char *v;

	if ((v = opt_value(argc, argv, i, NULL, "--kubeconfig")))
		a->kubeconfig = v;
	else if ((v = opt_value(argc, argv, i, NULL, "--save-scenario")))
		a->save = v;
	else if ((d = hpa_flag(argc, argv, i, &v))) {
		if (hpaloop_flag_parse(&a->flags, d, v, err, errlen) != 0)
			return EXIT_USAGE;
	} else
		return -1;
	a->live_only = true;
	return 0;
}

/* <namespace>/<hpa>, both parts usable in a URL. */
static bool split_live(struct cmd_explain_args *a)
{
	const char *slash = strchr(a->live, '/');
	size_t nl = slash ? (size_t)(slash - a->live) : 0;

	if (!slash || nl >= sizeof(a->ns) || strlen(slash + 1) >= sizeof(a->name))
		return false;
	memcpy(a->ns, a->live, nl);
	a->ns[nl] = '\0';
	snprintf(a->name, sizeof(a->name), "%s", slash + 1);
	return hpaloop_segment_ok(a->ns) && hpaloop_segment_ok(a->name);
}

/* The checks across arguments, after every one was read. */
static const char *check_args(struct cmd_explain_args *a)
{
	if (strcmp(a->output, "json") != 0 && strcmp(a->output, "text") != 0)
		return "-o must be json or text";
	if (a->file && a->live)
		return "-f and --live cannot be used together";
	if (a->live && !split_live(a))
		return "--live takes <namespace>/<hpa>";
	if (a->live_only && !a->live)
		return "--kubeconfig, --save-scenario and the HPA controller flags go with --live";
	if (a->save && !*a->save)
		return "--save-scenario takes a file name";
	if (!a->live && (!a->file || !*a->file))
		return "-f <scenario> or --live <namespace>/<hpa> is required";
	return NULL;
}

void cmd_explain_args_clear(struct cmd_explain_args *a)
{
	hpaloop_flags_clear(&a->flags);
}

int cmd_explain_args_parse(struct cmd_explain_args *a, int argc, char **argv, char *err,
			   size_t errlen)
{
	struct hpaloop_options lo;
	const char *msg;

	memset(a, 0, sizeof(*a));
	a->output = "json";
	hpaloop_flags_init(&a->flags);
	for (int i = 1; i < argc; i++) {
		const char *v;
		int rc;

		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			a->help = true;
			return 0;
		}
		if ((v = opt_value(argc, argv, &i, "-f", "--filename")))
			a->file = v;
		else if ((v = opt_value(argc, argv, &i, "-o", "--output")))
			a->output = v;
		else if ((v = opt_value(argc, argv, &i, NULL, "--live")))
			a->live = v;
		else if ((rc = live_flag(argc, argv, &i, a, err, errlen)) > 0)
			return rc;
		else if (rc < 0) {
			snprintf(err, errlen, "unknown argument %s", argv[i]);
			return EXIT_USAGE;
		}
	}
	if ((msg = check_args(a))) {
		snprintf(err, errlen, "%s", msg);
		return EXIT_USAGE;
	}
	if (hpaloop_flags_options(&a->flags, &lo, err, errlen) != 0)
		return EXIT_USAGE;
	a->opts = lo.algo;
	return 0;
}

static int print_result(const struct cmd_explain_args *a, const struct hpa_scenario *sc,
			const struct hpa_result *r)
{
	char *s;
	json_t *doc;

	if (strcmp(a->output, "text") == 0) {
		s = hpa_explain_text(&sc->in, r);
		if (s && a->live)
			fputs(no_history_line, stdout);
	} else {
		doc = hpa_explain_json(r);
		s = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
		json_decref(doc);
	}
	if (!s) {
		fprintf(stderr, "hpa explain: cannot render the result\n");
		return EXIT_BAD_INPUT;
	}
	fputs(s, stdout);
	if (*s && s[strlen(s) - 1] != '\n')
		fputc('\n', stdout);
	free(s);
	return 0;
}

static int write_file(const char *path, const char *text, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	bool ok = f && fputs(text, f) >= 0;

	if (f && fclose(f) != 0)
		ok = false;
	if (!ok)
		snprintf(err, errlen, "%s: cannot write the scenario", path);
	return ok ? 0 : ERR_IO;
}

/* The scenario of the cluster (saved when asked), loaded as -f would load it. */
static int live_scenario(const struct cmd_explain_args *a, struct hpa_scenario *sc, char *err, size_t errlen)
{
	struct hpaloop_live_request rq = { a->kubeconfig, a->ns, a->name, a->opts };
	json_t *doc = hpaloop_live_scenario(&rq, err, errlen);
	char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	char *nl = text ? xasprintf("%s\n", text) : NULL;
	int rc = ERR_IO;

	memset(sc, 0, sizeof(*sc));
	if (nl && (!a->save || write_file(a->save, nl, err, errlen) == 0))
		rc = hpa_scenario_parse(nl, strlen(nl), sc, err, errlen);
	else if (doc && !text)
		snprintf(err, errlen, "cannot render the scenario");
	json_decref(doc);
	free(text);
	free(nl);
	return rc;
}

/* -f FILE, or -f - (stdin, up to the size a file may have). */
static int file_scenario(const char *file, struct hpa_scenario *sc, char *err, size_t errlen)
{
	struct dynbuf b;
	int rc;

	if (strcmp(file, "-") != 0)
		return hpa_scenario_load(file, sc, err, errlen);
	memset(sc, 0, sizeof(*sc));
	dynbuf_init(&b, HPA_SCENARIO_MAX_BYTES);
	rc = dynbuf_read_fd(&b, 0);
	if (rc != 0)
		snprintf(err, errlen, "stdin: %s", rc == ERR_TOOBIG ? "too large" : "cannot read it");
	else
		rc = hpa_scenario_parse(b.buf, b.len, sc, err, errlen);
	dynbuf_clear(&b);
	return rc;
}

/* Reads and decides; prints the result, or the reason it could not. */
static int explain(const struct cmd_explain_args *a)
{
	struct hpa_scenario sc;
	struct hpa_result r;
	char err[EXPLAIN_ERRLEN] = "";
	int rc;

	rc = a->live ? live_scenario(a, &sc, err, sizeof(err))
		     : file_scenario(a->file, &sc, err, sizeof(err));
	if (rc != 0 || hpa_decide(&sc.in, &sc.history, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "hpa explain: %s\n", err);
		hpa_scenario_clear(&sc);
		return EXIT_BAD_INPUT;
	}
	rc = print_result(a, &sc, &r);
	hpa_result_clear(&r);
	hpa_scenario_clear(&sc);
	return rc;
}

int cmd_hpa_explain(int argc, char **argv)
{
	struct cmd_explain_args a;
	char err[EXPLAIN_ERRLEN] = "";
	int rc = cmd_explain_args_parse(&a, argc, argv, err, sizeof(err));

	if (rc != 0)
		fprintf(stderr, "hpa explain: %s\n\n%s", err, usage);
	else if (a.help)
		fputs(usage, stdout);
	else
		rc = explain(&a);
	cmd_explain_args_clear(&a);
	return rc;
}
