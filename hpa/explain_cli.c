/*
 * explain_cli.c - `metrics-apiserver hpa explain`: runs hpa_decide once and
 * prints the decision (-o json: the result document, -o text: the steps),
 *   -f scenario.json|yaml         on a scenario file;
 *   --live <namespace>/<hpa>      on the scenario the embedded loop would
 *                                 build now, read from the cluster
 *                                 (explain_live.c), optionally saved with
 *                                 --save-scenario for a later -f that
 *                                 decides the same.
 * With --live the controller options are the server's HPA flags (same
 * names, same defaults); the controller's history cannot be read, so
 * the decision is the one for an HPA the controller never saw, and -o
 * text says so.
 */
#include "hpa/loop_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_BAD_INPUT 1
#define EXIT_USAGE 2
#define MAX_GATES 16

static const char usage[] =
	"Usage: metrics-apiserver hpa explain -f <scenario.json|yaml> [-o json|text]\n"
	"       metrics-apiserver hpa explain --live <namespace>/<hpa> [-o json|text]\n"
	"           [--kubeconfig FILE] [--save-scenario FILE] [HPA controller flags]\n"
	"\n"
	"Runs the autoscaling/v2 HPA algorithm once and prints the decision: -o json\n"
	"(default) the result document, -o text an explanation.\n"
	"\n"
	"  -f, --filename FILE      the scenario: HPA, Scale, pods, metrics, history, options\n"
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

struct args {
	const char *file, *output, *live, *kubeconfig, *save;
	bool live_only;     /* a flag that goes with --live only was given */
	char ns[256], name[256];
	struct hpa_options opts;
};

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

/* One of the server's HPA flags: a non-negative number (num) or Go
 * duration (dur) into a->opts; 0 or EXIT_USAGE. */
static int algo_value(const char *flag, const char *v, double *num, int64_t *dur)
{
	char *end;
	int64_t ns;
	double d;

	if (dur && parse_go_duration(v, &ns) == 0 && ns >= 0) {
		*dur = ns;
		return 0;
	}
	if (num) {
		d = strtod(v, &end);
		if (*v && end != v && *end == '\0' && d >= 0 && d < 1e9) {
			*num = d;
			return 0;
		}
	}
	fprintf(stderr, "hpa explain: invalid value \"%s\" for %s (a non-negative %s)\n", v, flag,
		dur ? "duration like 5m0s" : "number");
	return EXIT_USAGE;
}

/* --feature-gates A=true,B=false (repeatable), checked as the server checks it. */
static int gates_value(struct args *a, const char *v)
{
	char buf[1024], err[256], *items[MAX_GATES], *tok, *save = NULL;
	size_t n = 0;

	if (strlen(v) >= sizeof(buf)) {
		fprintf(stderr, "hpa explain: --feature-gates: too long\n");
		return EXIT_USAGE;
	}
	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == MAX_GATES) {
			fprintf(stderr, "hpa explain: --feature-gates: more than %d items\n",
				MAX_GATES);
			return EXIT_USAGE;
		}
		items[n++] = tok;
	}
	if (hpa_feature_gates_apply(&a->opts, items, n, err, sizeof(err)) != 0) {
		fprintf(stderr, "hpa explain: invalid argument for \"--feature-gates\" flag: %s\n",
			err);
		return EXIT_USAGE;
	}
	return 0;
}

/* One argument that goes with --live only at argv[*i]: 0 or EXIT_USAGE
 * (a->live_only set), -1 if it is none of them. */
static int live_flag(int argc, char **argv, int *i, struct args *a)
{
	const char *v;
	int rc = 0;

	if ((v = opt_value(argc, argv, i, NULL, "--kubeconfig")))
		a->kubeconfig = v;
	else if ((v = opt_value(argc, argv, i, NULL, "--save-scenario")))
		a->save = v;
	else if ((v = opt_value(argc, argv, i, NULL, "--feature-gates")))
		rc = gates_value(a, v);
	else {
		/* the server's flags (server/flags_table.c), same names and meaning */
		const struct {
			const char *flag;
			double *num;
			int64_t *dur;
		} algo[] = {
			{ "--hpa-tolerance", &a->opts.tolerance, NULL },
			{ "--hpa-downscale-stabilization", NULL, &a->opts.downscale_window_ns },
			{ "--hpa-cpu-initialization-period", NULL, &a->opts.cpu_init_period_ns },
			{ "--hpa-initial-readiness-delay", NULL, &a->opts.readiness_delay_ns },
		};
		size_t k;

		for (k = 0; k < COMMON_ARRAY_LEN(algo); k++) {
			if ((v = opt_value(argc, argv, i, NULL, algo[k].flag)))
				break;
		}
		if (k == COMMON_ARRAY_LEN(algo))
			return -1;
		rc = algo_value(algo[k].flag, v, algo[k].num, algo[k].dur);
	}
	a->live_only = true;
	return rc;
}

/* <namespace>/<hpa>, both parts usable in a URL. */
static bool split_live(struct args *a)
{
	const char *slash = strchr(a->live, '/');
	size_t nl = slash ? (size_t)(slash - a->live) : 0;

	if (!slash || nl >= sizeof(a->ns) || strlen(slash + 1) >= sizeof(a->name))
		return false;
	memcpy(a->ns, a->live, nl);
	a->ns[nl] = '\0';
	snprintf(a->name, sizeof(a->name), "%s", slash + 1);
	return hpa_segment_ok(a->ns) && hpa_segment_ok(a->name);
}

static int usage_error(const char *msg)
{
	fprintf(stderr, "hpa explain: %s\n\n%s", msg, usage);
	return EXIT_USAGE;
}

/* 0 to run, -1 after --help, EXIT_USAGE on a bad command line. */
static int parse_args(int argc, char **argv, struct args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *v;
		int rc;

		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return -1;
		}
		if ((v = opt_value(argc, argv, &i, "-f", "--filename")))
			a->file = v;
		else if ((v = opt_value(argc, argv, &i, "-o", "--output")))
			a->output = v;
		else if ((v = opt_value(argc, argv, &i, NULL, "--live")))
			a->live = v;
		else if ((rc = live_flag(argc, argv, &i, a)) >= 0) {
			if (rc != 0)
				return rc;
		} else {
			fprintf(stderr, "hpa explain: unknown argument %s\n\n%s", argv[i], usage);
			return EXIT_USAGE;
		}
	}
	if (strcmp(a->output, "json") != 0 && strcmp(a->output, "text") != 0)
		return usage_error("-o must be json or text");
	if (a->file && a->live)
		return usage_error("-f and --live cannot be used together");
	if (a->live && !split_live(a))
		return usage_error("--live takes <namespace>/<hpa>");
	if (a->live_only && !a->live)
		return usage_error("--kubeconfig, --save-scenario and the HPA controller flags go "
				   "with --live");
	if (a->save && !*a->save)
		return usage_error("--save-scenario takes a file name");
	if (!a->live && (!a->file || !*a->file))
		return usage_error("-f <scenario> or --live <namespace>/<hpa> is required");
	return 0;
}

static int print_result(const struct args *a, const struct hpa_scenario *sc,
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
static int live_scenario(const struct args *a, struct hpa_scenario *sc, char *err, size_t errlen)
{
	struct hpa_live_request rq = { a->kubeconfig, a->ns, a->name, a->opts };
	json_t *doc = hpa_live_scenario(&rq, err, errlen);
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

int hpa_explain_main(int argc, char **argv)
{
	struct args a = { .output = "json" };
	struct hpa_scenario sc;
	struct hpa_result r;
	char err[HPA_ERRLEN + 128] = "";
	int rc;

	hpa_options_default(&a.opts);
	rc = parse_args(argc, argv, &a);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	rc = a.live ? live_scenario(&a, &sc, err, sizeof(err))
		    : hpa_scenario_load(a.file, &sc, err, sizeof(err));
	if (rc != 0 || hpa_decide(&sc.in, &sc.history, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "hpa explain: %s\n", err);
		hpa_scenario_release(&sc);
		return EXIT_BAD_INPUT;
	}
	rc = print_result(&a, &sc, &r);
	hpa_result_release(&r);
	hpa_scenario_release(&sc);
	return rc;
}
