/*
 * flags_usage.c - the --help text, laid out as cobra + pflag print it:
 * one section per flag group, names padded to a column, "(default X)"
 * for every flag whose default is not the zero value.
 */
#include "server/flags_table.h"

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
		if (*(const double *)field != 0)
			snprintf(buf, len, " (default %g)", *(const double *)field);
		break;
	case FLAG_HPA:
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

#define USAGE_MAX_ROWS 32

/* One line of a section: head, help text, default. */
struct row {
	char head[128];
	const char *usage;
	char dflt[512];
};

/* The rows of a section: the server's flags, or hpaloop's table in its place. */
static size_t section_rows(const char *section, const struct server_config *def,
			   struct row *rows, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < server__flag_ndefs; i++) {
		const struct flag_def *d = &server__flag_defs[i];

		if (strcmp(d->section, section) != 0)
			continue;
		if (d->type != FLAG_HPA) {
			if (n == max)
				break;
			flag_head(d, rows[n].head, sizeof(rows[n].head));
			flag_default(d, def, rows[n].dflt, sizeof(rows[n].dflt));
			rows[n++].usage = d->usage;
			continue;
		}
		for (size_t k = 0; k < hpaloop_flag_count && n < max; k++) {
			const struct hpaloop_flag *h = &hpaloop_flag_table[k];

			snprintf(rows[n].head, sizeof(rows[n].head), "      --%s %s", h->name,
				 hpaloop_flag_type_name(h));
			hpaloop_flag_default_text(h, &def->hpa, rows[n].dflt, sizeof(rows[n].dflt));
			rows[n++].usage = h->usage;
		}
	}
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
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s %*s %s%s\n", rows[i].head, (int)(maxlen - strlen(rows[i].head)), "",
			rows[i].usage, rows[i].dflt);
}

void server_flags_usage(FILE *out)
{
	struct server_config def;

	server_config_init(&def);
	fprintf(out, "Launch metrics-apiserver\n\nUsage:\n  metrics-apiserver [flags]\n");
	for (size_t i = 0; i < server__flag_ndefs; i++) {
		const char *section = server__flag_defs[i].section;

		if (i == 0 || strcmp(section, server__flag_defs[i - 1].section) != 0)
			print_section(out, section, &def);
	}
	server_config_clear(&def);
}
