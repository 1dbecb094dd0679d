/*
 * flags.c - the one table of the embedded controller's flags (--hpa*,
 * --feature-gates) and their one parser: server/flags.c hands these flags
 * here, and `hpa explain` (cmd/) parses its HPA controller flags with the
 * same functions, so names, defaults, help and error texts cannot drift.
 */
#include "hpaloop/hpaloop_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HPALOOP_FLAG_MAX_VALUE 4096 /* bytes in one value (the server's limit) */
#define HPALOOP_FLAG_MAX_GATES 256  /* --feature-gates items in all */
#define HPALOOP_DEFAULT_SYNC_NS (15 * NS_PER_SEC)

#define F(field) offsetof(struct hpaloop_flags, field)

/* Sorted by name: pflag prints a section in that order. */
const struct hpaloop_flag hpaloop_flag_table[] = {
	{ "feature-gates", HPALOOP_FLAG_GATES, F(gates), false,
	  "A set of key=value pairs that describe feature gates for the embedded HPA controller. "
	  "Options are: HPAConfigurableTolerance=true|false (BETA - default=true), "
	  "HPAScaleToZero=true|false (default=true), "
	  "PodLevelResources=true|false (BETA - default=true)" },
	{ "hpa", HPALOOP_FLAG_STRING, F(mode), true,
	  "Which HorizontalPodAutoscalers the embedded controller acts on: off, annotated (only "
	  "those annotated metrics-apiserver.io/embedded-hpa: \"true\", so it can run beside "
	  "kube-controller-manager) or all." },
	{ "hpa-cpu-initialization-period", HPALOOP_FLAG_DURATION, F(cpu_init_period_ns), false,
	  "The period after pod start when CPU samples might be skipped." },
	{ "hpa-downscale-stabilization", HPALOOP_FLAG_DURATION, F(downscale_stabilization_ns),
	  false,
	  "The period for which autoscaler will look backwards and not scale down below any "
	  "recommendation it made during that period." },
	{ "hpa-initial-readiness-delay", HPALOOP_FLAG_DURATION, F(readiness_delay_ns), false,
	  "The period after pod start during which readiness changes will be treated as initial "
	  "readiness." },
	{ "hpa-sync-period", HPALOOP_FLAG_DURATION, F(sync_period_ns), true,
	  "The longest time between two evaluations of an HPA; every scrape round also starts "
	  "one." },
	{ "hpa-tolerance", HPALOOP_FLAG_FLOAT, F(tolerance), false,
	  "The minimum change (from 1.0) in the desired-to-actual metrics ratio for the "
	  "horizontal pod autoscaler to consider scaling." },
};

const size_t hpaloop_flag_count = COMMON_ARRAY_LEN(hpaloop_flag_table);

void hpaloop_flags_init(struct hpaloop_flags *f)
{
	struct hpa_options d;

	hpa_options_default(&d);
	*f = (struct hpaloop_flags){
		.mode = xstrdup("annotated"),
		.sync_period_ns = HPALOOP_DEFAULT_SYNC_NS,
		.tolerance = d.tolerance,
		.downscale_stabilization_ns = d.downscale_window_ns,
		.cpu_init_period_ns = d.cpu_init_period_ns,
		.readiness_delay_ns = d.readiness_delay_ns,
	};
}

void hpaloop_flags_clear(struct hpaloop_flags *f)
{
	free(f->mode);
	for (size_t i = 0; i < f->n_gates; i++)
		free(f->gates[i]);
	free(f->gates);
	memset(f, 0, sizeof(*f));
}

const struct hpaloop_flag *hpaloop_flag_find(const char *name, size_t len)
{
	for (size_t i = 0; i < hpaloop_flag_count; i++) {
		const char *n = hpaloop_flag_table[i].name;

		if (strlen(n) == len && memcmp(n, name, len) == 0)
			return &hpaloop_flag_table[i];
	}
	return NULL;
}

/* Appends the comma-separated items of v (pflag's mapStringBool keeps
 * every occurrence of the flag). */
static int gates_append(struct hpaloop_flags *f, const char *v, char *why, size_t len)
{
	const char *p = v;

	if (*v == '\0')
		return 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (f->n_gates >= HPALOOP_FLAG_MAX_GATES) {
			snprintf(why, len, "more than %d values", HPALOOP_FLAG_MAX_GATES);
			return ERR_INVAL;
		}
		f->gates = xrealloc(f->gates, (f->n_gates + 1) * sizeof(*f->gates));
		f->gates[f->n_gates++] = xstrndup(p, n);
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static int value_set(struct hpaloop_flags *f, const struct hpaloop_flag *d, const char *value,
		     char *why, size_t len)
{
	void *field = (char *)f + d->offset;

	switch (d->type) {
	case HPALOOP_FLAG_STRING:
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return 0;
	case HPALOOP_FLAG_DURATION:
		return go_parse_duration(value, field, why, len);
	case HPALOOP_FLAG_FLOAT:
		return go_parse_float(value, field, why, len);
	case HPALOOP_FLAG_GATES:
		return gates_append(f, value, why, len);
	}
	return ERR_INVAL;
}

int hpaloop_flag_parse(struct hpaloop_flags *f, const struct hpaloop_flag *d, const char *value,
		       char *err, size_t errlen)
{
	char why[256];

	if (strlen(value) > HPALOOP_FLAG_MAX_VALUE) {
		snprintf(err, errlen, "invalid argument for \"--%s\" flag: value longer than %d bytes",
			 d->name, HPALOOP_FLAG_MAX_VALUE);
		return ERR_INVAL;
	}
	if (value_set(f, d, value, why, sizeof(why)) == 0)
		return 0;
	snprintf(err, errlen, "invalid argument \"%.200s\" for \"--%s\" flag: %s", value, d->name,
		 why);
	return ERR_INVAL;
}

const char *hpaloop_flag_type_name(const struct hpaloop_flag *d)
{
	switch (d->type) {
	case HPALOOP_FLAG_STRING: return "string";
	case HPALOOP_FLAG_DURATION: return "duration";
	case HPALOOP_FLAG_FLOAT: return "float";
	case HPALOOP_FLAG_GATES: return "mapStringBool";
	}
	return "";
}

void hpaloop_flag_default_text(const struct hpaloop_flag *d, const struct hpaloop_flags *f,
			       char *buf, size_t len)
{
	const void *field = (const char *)f + d->offset;
	char dur[40];

	buf[0] = '\0';
	switch (d->type) {
	case HPALOOP_FLAG_STRING:
		if (*(char *const *)field)
			snprintf(buf, len, " (default \"%s\")", *(char *const *)field);
		break;
	case HPALOOP_FLAG_DURATION:
		fmt_go_duration(*(const int64_t *)field, dur, sizeof(dur));
		if (*(const int64_t *)field)
			snprintf(buf, len, " (default %s)", dur);
		break;
	case HPALOOP_FLAG_FLOAT:
		if (*(const double *)field != 0)
			snprintf(buf, len, " (default %g)", *(const double *)field);
		break;
	case HPALOOP_FLAG_GATES:
		break; /* no gate is set by default: the defaults live in hpa_options */
	}
}

int hpaloop_flags_options(const struct hpaloop_flags *f, struct hpaloop_options *o, char *err,
			  size_t errlen)
{
	char why[256];

	memset(o, 0, sizeof(*o)); /* every field set: no local API until the caller adds one */
	hpa_options_default(&o->algo);
	o->sync_period_ns = f->sync_period_ns;
	o->algo.tolerance = f->tolerance;
	o->algo.downscale_window_ns = f->downscale_stabilization_ns;
	o->algo.cpu_init_period_ns = f->cpu_init_period_ns;
	o->algo.readiness_delay_ns = f->readiness_delay_ns;
	if (hpaloop_mode_parse(f->mode, &o->mode) != 0)
		snprintf(err, errlen, "--hpa must be one of off, annotated, all, but value \"%.200s\" "
				      "provided", f->mode ? f->mode : "");
	else if (f->sync_period_ns <= 0)
		snprintf(err, errlen, "--hpa-sync-period should be positive");
	else if (f->tolerance < 0)
		snprintf(err, errlen, "--hpa-tolerance should not be negative");
	else if (f->downscale_stabilization_ns < 0 || f->cpu_init_period_ns < 0 ||
		 f->readiness_delay_ns < 0)
		snprintf(err, errlen, "--hpa-downscale-stabilization, --hpa-cpu-initialization-period "
				      "and --hpa-initial-readiness-delay should not be negative");
	else if (hpa_feature_gates_apply(&o->algo, f->gates, f->n_gates, why, sizeof(why)) != 0)
		snprintf(err, errlen, "invalid argument for \"--feature-gates\" flag: %s", why);
	else
		return 0;
	return ERR_INVAL;
}
