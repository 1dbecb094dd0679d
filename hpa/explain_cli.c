/*
 * explain_cli.c - `metrics-apiserver hpa explain -f scenario.json [-o json|text]`:
 * load a scenario, run hpa_decide once, print the decision.
 * `--live <namespace>/<hpa>` needs the running loop and is refused for now.
 */
#include "hpa/hpa_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_BAD_INPUT 1
#define EXIT_USAGE 2

static const char usage[] =
	"Usage: metrics-apiserver hpa explain -f <scenario.json|yaml> [-o json|text]\n"
	"       metrics-apiserver hpa explain --live <namespace>/<hpa> [-o json|text]\n"
	"\n"
	"Runs the autoscaling/v2 HPA algorithm once on a scenario file and prints the\n"
	"decision: -o json (default) the result document, -o text an explanation.\n";

struct args {
	const char *file;
	const char *output;
	const char *live;
};

/* "--name value", "--name=value", "-f value" or "-fvalue"; NULL if argv[*i] is not it. */
static const char *opt_value(int argc, char **argv, int *i, const char *shrt, const char *lng)
{
	const char *a = argv[*i];
	size_t ln = strlen(lng);

	if (strcmp(a, lng) == 0 || strcmp(a, shrt) == 0) {
		if (*i + 1 >= argc)
			return "";
		return argv[++*i];
	}
	if (strncmp(a, lng, ln) == 0 && a[ln] == '=')
		return a + ln + 1;
	if (strncmp(a, shrt, 2) == 0 && a[2])
		return a + 2 + (a[2] == '=');
	return NULL;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *v;

		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return -1;
		}
		if ((v = opt_value(argc, argv, &i, "-f", "--filename")))
			a->file = v;
		else if ((v = opt_value(argc, argv, &i, "-o", "--output")))
			a->output = v;
		else if (strncmp(argv[i], "--live", 6) == 0 && (argv[i][6] == '\0' || argv[i][6] == '='))
			a->live = argv[i][6] ? argv[i] + 7 : (i + 1 < argc ? argv[++i] : "");
		else {
			fprintf(stderr, "hpa explain: unknown argument %s\n\n%s", argv[i], usage);
			return EXIT_USAGE;
		}
	}
	if (strcmp(a->output, "json") != 0 && strcmp(a->output, "text") != 0) {
		fprintf(stderr, "hpa explain: -o must be json or text\n");
		return EXIT_USAGE;
	}
	if (a->live) {
		fprintf(stderr, "hpa explain: --live is not yet supported (it needs the running HPA "
				"loop); use -f with a scenario file\n");
		return EXIT_USAGE;
	}
	if (!a->file || !*a->file) {
		fprintf(stderr, "hpa explain: -f <scenario> is required\n\n%s", usage);
		return EXIT_USAGE;
	}
	return 0;
}

static int print_result(const struct args *a, const struct hpa_scenario *sc,
			const struct hpa_result *r)
{
	char *s;
	json_t *doc;

	if (strcmp(a->output, "text") == 0) {
		s = hpa_explain_text(&sc->in, r);
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

int hpa_explain_main(int argc, char **argv)
{
	struct args a = { .output = "json" };
	struct hpa_scenario sc;
	struct hpa_result r;
	char err[512] = "";
	int rc = parse_args(argc, argv, &a);

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (hpa_scenario_load(a.file, &sc, err, sizeof(err)) != 0) {
		fprintf(stderr, "hpa explain: %s\n", err);
		hpa_scenario_release(&sc);
		return EXIT_BAD_INPUT;
	}
	if (hpa_decide(&sc.in, &sc.history, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "hpa explain: %s\n", err);
		hpa_scenario_release(&sc);
		return EXIT_BAD_INPUT;
	}
	rc = print_result(&a, &sc, &r);
	hpa_result_release(&r);
	hpa_scenario_release(&sc);
	return rc;
}
