/*
 * flags_usage.c - the --help text, laid out as cobra + pflag print it:
 * one section per flag group, names padded to a column, "(default X)"
 * for every flag whose default is not the zero value.
 */
#include "server/flags_table.h"

#include <stdlib.h>
#include <string.h>

static const char *type_name(enum flag_type t)
{
	switch (t) {
	case FLAG_BOOL: return "";
	case FLAG_STRING: return "string";
	case FLAG_INT: return "int";
	case FLAG_DURATION: return "duration";
	case FLAG_STRINGS: return "strings";
	case FLAG_IP: return "ip";
	case FLAG_LEVEL: return "Level";
	case FLAG_FLOAT: return "float";
	case FLAG_HPA: return "";
	case FLAG_FLOAT32: return "float32";
	case FLAG_INT32S: return "int32Slice";
	case FLAG_CERTKEY: return "namedCertKey";
	case FLAG_QUANTITY: return "quantity";
	case FLAG_VMODULE: return "pattern=N,...";
	case FLAG_GATES: return "";
	}
	return "";
}

/* "  -l, --node-selector string" or "      --kubeconfig string". */
static void flag_head(const struct flag_def *d, char *buf, size_t len)
{
	const char *t = type_name(d->type);

	if (d->shorthand)
		snprintf(buf, len, "  -%c, --%s%s%s", d->shorthand, d->name, *t ? " " : "", t);
	else
		snprintf(buf, len, "      --%s%s%s", d->name, *t ? " " : "", t);
}

/* " (default X)" when the default is not the type's zero value, else "". */
static void flag_default(const struct flag_def *d, const struct server_config *def, char *buf,
			 size_t len)
{
	const void *field = (const char *)def + d->offset;
	const struct server_strlist *l = field;
	size_t used;

	buf[0] = '\0';
	switch (d->type) {
	case FLAG_BOOL:
		if (*(const bool *)field)
			snprintf(buf, len, " (default true)");
		break;
	case FLAG_STRING:
	case FLAG_IP:
		if (*(char *const *)field)
			snprintf(buf, len, d->type == FLAG_STRING ? " (default \"%s\")" : " (default %s)",
				 *(char *const *)field);
		break;
	case FLAG_INT:
	case FLAG_LEVEL:
		if (*(const int *)field)
			snprintf(buf, len, " (default %d)", *(const int *)field);
		break;
	case FLAG_DURATION: {
		char dur[40];

		fmt_go_duration(*(const int64_t *)field, dur, sizeof(dur));
		if (*(const int64_t *)field)
			snprintf(buf, len, " (default %s)", dur);
		break;
	}
	case FLAG_FLOAT:
	case FLAG_FLOAT32:
		if (*(const double *)field != 0)
			snprintf(buf, len, " (default %g)", *(const double *)field);
		break;
	case FLAG_QUANTITY:
		if (*(const int64_t *)field != 0)
			snprintf(buf, len, " (default %lld)", (long long)*(const int64_t *)field);
		break;
	case FLAG_INT32S:
	case FLAG_CERTKEY: /* pflag prints these even when empty */
		if (l->n == 0)
			snprintf(buf, len, " (default [])");
		break;
	case FLAG_HPA:
	case FLAG_GATES:
	case FLAG_VMODULE:
		break;
	case FLAG_STRINGS:
		if (l->n == 0)
			break;
		used = (size_t)snprintf(buf, len, " (default [");
		for (size_t i = 0; i < l->n && used < len; i++)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "",
						 l->items[i]);
		if (used < len)
			snprintf(buf + used, len - used, "])");
		break;
	}
}

#define USAGE_MAX_ROWS 48

/* One line of a section: head, help text, default. */
struct row {
	const char *name;
	char head[128];
	const char *usage;
	char dflt[512];
};

static void hpa_row(const struct hpaloop_flag *h, const struct server_config *def, struct row *r)
{
	r->name = h->name;
	snprintf(r->head, sizeof(r->head), "      --%s %s", h->name, hpaloop_flag_type_name(h));
	hpaloop_flag_default_text(h, &def->hpa, r->dflt, sizeof(r->dflt));
	r->usage = h->usage;
}

static int row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->name, ((const struct row *)b)->name);
}

/* The rows of a section: the server's flags, or hpaloop's table in its place. */
static size_t section_rows(const char *section, const struct server_config *def,
			   struct row *rows, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < server__flag_ndefs; i++) {
		const struct flag_def *d = &server__flag_defs[i];

		if (strcmp(d->section, section) != 0)
			continue;
		if (d->type == FLAG_GATES) { /* hpaloop's --feature-gates, where upstream lists it */
			if (n < max && hpaloop_flag_find("feature-gates", 13))
				hpa_row(hpaloop_flag_find("feature-gates", 13), def, &rows[n++]);
			continue;
		}
		if (d->type != FLAG_HPA) {
			if (n == max)
				break;
			rows[n].name = d->name;
			flag_head(d, rows[n].head, sizeof(rows[n].head));
			flag_default(d, def, rows[n].dflt, sizeof(rows[n].dflt));
			rows[n++].usage = d->usage;
			continue;
		}
		for (size_t k = 0; k < hpaloop_flag_count && n < max; k++)
			if (strcmp(hpaloop_flag_table[k].name, "feature-gates") != 0)
				hpa_row(&hpaloop_flag_table[k], def, &rows[n++]);
	}
	qsort(rows, n, sizeof(rows[0]), row_cmp); /* pflag sorts by name */
	return n;
}

static void print_section(FILE *out, const char *section, const struct server_config *def)
{
	struct row rows[USAGE_MAX_ROWS];
	size_t n = section_rows(section, def, rows, USAGE_MAX_ROWS), maxlen = 0;

	for (size_t i = 0; i < n; i++) {
		if (strlen(rows[i].head) + 1 > maxlen)
			maxlen = strlen(rows[i].head) + 1;
	}
	fprintf(out, "\n%s flags:\n\n", section);
	for (size_t i = 0; i < n; i++) {
		const char *u = rows[i].usage, *nl;

		fprintf(out, "%s %*s ", rows[i].head, (int)(maxlen - strlen(rows[i].head)), "");
		/* pflag indents a help text's later lines to the text's column */
		while ((nl = strchr(u, '\n')) != NULL) {
			fprintf(out, "%.*s\n%*s", (int)(nl - u), u, (int)maxlen + 2, "");
			u = nl + 1;
		}
		fprintf(out, "%s%s\n", u, rows[i].dflt);
	}
}

void server_flags_usage(FILE *out)
{
	struct server_config def;

	server_config_init(&def);
	fprintf(out, "Launch metrics-apiserver\n\nUsage:\n  metrics-apiserver [flags]\n");
	for (size_t i = 0; i < server__flag_nsections; i++)
		print_section(out, server__flag_sections[i], &def);
	server_config_clear(&def);
}
