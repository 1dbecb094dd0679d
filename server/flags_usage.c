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
	case FLAG_GATES: return "mapStringBool";
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
	case FLAG_GATES:
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

static void print_section(FILE *out, const char *section, const struct server_config *def)
{
	char head[128], dflt[512];
	size_t maxlen = 0;

	for (size_t i = 0; i < server_flag_ndefs; i++) {
		if (strcmp(server_flag_defs[i].section, section) != 0)
			continue;
		flag_head(&server_flag_defs[i], head, sizeof(head));
		if (strlen(head) + 1 > maxlen)
			maxlen = strlen(head) + 1;
	}
	fprintf(out, "\n%s flags:\n\n", section);
	for (size_t i = 0; i < server_flag_ndefs; i++) {
		const struct flag_def *d = &server_flag_defs[i];

		if (strcmp(d->section, section) != 0)
			continue;
		flag_head(d, head, sizeof(head));
		flag_default(d, def, dflt, sizeof(dflt));
		fprintf(out, "%s %*s %s%s\n", head, (int)(maxlen - strlen(head)), "", d->usage,
			dflt);
	}
}

void server_flags_usage(FILE *out)
{
	struct server_config def;

	server_config_init(&def);
	fprintf(out, "Launch metrics-apiserver\n\nUsage:\n  metrics-apiserver [flags]\n");
	for (size_t i = 0; i < server_flag_ndefs; i++) {
		const char *section = server_flag_defs[i].section;

		if (i == 0 || strcmp(section, server_flag_defs[i - 1].section) != 0)
			print_section(out, section, &def);
	}
	server_config_release(&def);
}
