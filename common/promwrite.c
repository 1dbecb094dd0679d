/*
 * promwrite.c - Prometheus text exposition (format 0.0.4) written into a
 * dynbuf: HELP/TYPE heads, samples and histograms, with the escapes the
 * format asks for (HELP: backslash and newline; label values: backslash,
 * double quote and newline).  Float values and bucket bounds are written
 * as Go's strconv 'g' -1; counts as plain integers.
 */
#include "common/common.h"

#include <stdio.h>
#include <string.h>

/* s with `\` and newline escaped, and `"` too when quote is set. */
static int add_escaped(struct dynbuf *out, const char *s, bool quote)
{
	int rc = 0;

	for (const char *p = s; *p && !rc; p++) {
		if (*p == '\\' || *p == '\n' || (quote && *p == '"'))
			rc = dynbuf_addch(out, '\\');
		if (!rc)
			rc = dynbuf_addch(out, *p == '\n' ? 'n' : *p);
	}
	return rc;
}

int prom_write_help_type(struct dynbuf *out, const char *name, const char *help,
			 const char *type)
{
	int rc = dynbuf_printf(out, "# HELP %s ", name);

	if (!rc)
		rc = add_escaped(out, help, false);
	if (!rc)
		rc = dynbuf_printf(out, "\n# TYPE %s %s\n", name, type);
	return rc;
}

/* `{k="v",...,le="x"}`, or nothing when there are no labels and no le. */
static int add_labels(struct dynbuf *out, const struct prom_label *labels, size_t n,
		      const char *le)
{
	int rc = 0;

	if (n == 0 && !le)
		return 0;
	rc = dynbuf_addch(out, '{');
	for (size_t i = 0; i < n && !rc; i++) {
		rc = dynbuf_printf(out, "%s%s=\"", i ? "," : "", labels[i].name);
		if (!rc)
			rc = add_escaped(out, labels[i].value, true);
		if (!rc)
			rc = dynbuf_addch(out, '"');
	}
	if (!rc && le)
		rc = dynbuf_printf(out, "%sle=\"%s\"", n ? "," : "", le);
	if (!rc)
		rc = dynbuf_addch(out, '}');
	return rc;
}

/* One line: name suffix{labels[,le]} value. */
static int add_line(struct dynbuf *out, const char *name, const char *suffix,
		    const struct prom_label *labels, size_t n, const char *le, const char *value)
{
	int rc = dynbuf_printf(out, "%s%s", name, suffix);

	if (!rc)
		rc = add_labels(out, labels, n, le);
	if (!rc)
		rc = dynbuf_printf(out, " %s\n", value);
	return rc;
}

int prom_write_sample(struct dynbuf *out, const char *name, const struct prom_label *labels,
		      size_t n, double value)
{
	char num[GO_FLOAT_LEN];

	fmt_go_float(value, num, sizeof(num));
	return add_line(out, name, "", labels, n, NULL, num);
}

int prom_write_sample_uint(struct dynbuf *out, const char *name, const struct prom_label *labels,
			   size_t n, uint64_t value)
{
	char num[24];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)value);
	return add_line(out, name, "", labels, n, NULL, num);
}

void prom_histogram_init(struct prom_histogram *h, const double *bounds, size_t nb)
{
	memset(h, 0, sizeof(*h));
	h->bounds = bounds;
	h->nb = nb < PROM_MAX_BUCKETS ? nb : PROM_MAX_BUCKETS;
}

void prom_histogram_observe(struct prom_histogram *h, double v)
{
	size_t i = 0;

	while (i < h->nb && v > h->bounds[i])
		i++;
	if (i < h->nb)
		h->counts[i]++;
	h->sum += v;
	h->count++;
}

int prom_write_histogram(struct dynbuf *out, const char *name, const struct prom_label *labels,
			 size_t n, const struct prom_histogram *h)
{
	char le[GO_FLOAT_LEN], num[24];
	uint64_t cum = 0;
	int rc = 0;

	for (size_t i = 0; i < h->nb && !rc; i++) {
		cum += h->counts[i];
		fmt_go_float(h->bounds[i], le, sizeof(le));
		snprintf(num, sizeof(num), "%llu", (unsigned long long)cum);
		rc = add_line(out, name, "_bucket", labels, n, le, num);
	}
	snprintf(num, sizeof(num), "%llu", (unsigned long long)h->count);
	if (!rc)
		rc = add_line(out, name, "_bucket", labels, n, "+Inf", num);
	fmt_go_float(h->sum, le, sizeof(le));
	if (!rc)
		rc = add_line(out, name, "_sum", labels, n, NULL, le);
	if (!rc)
		rc = add_line(out, name, "_count", labels, n, NULL, num);
	return rc;
}
