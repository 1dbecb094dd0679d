/*
 * expfmt_check.c - expfmt's pure pieces: the scrape-config limits on one
 * series (Prometheus' texts), the Content-Type to format choice, type
 * names.
 */
#include "scraper/promtext_lex.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Go's %.50q, near enough: at most 50 bytes, quoted, non-ASCII as \xNN. */
void scraper__quote50(char *out, size_t outlen, const char *s, size_t n)
{
	size_t j;

	out[0] = '"';
	scraper__pt_quote(out + 1, outlen - 2, s, n < 50 ? n : 50);
	j = strlen(out);
	snprintf(out + j, outlen - j, "\"");
}

int scraper__expfmt_limits(const struct scraper_expfmt_limits *l, const struct scraper_expfmt_sample *s,
			   size_t name_len, char *reason, size_t reasonlen)
{
	if (l->label_limit && s->nlabels + 1 > l->label_limit) {
		snprintf(reason, reasonlen,
			 "label_limit exceeded (metric: %.50s, number of labels: %zu, limit: %zu)", s->name,
			 s->nlabels + 1, l->label_limit);
		return ERR_TOOBIG;
	}
	if (!l->label_value_length_limit)
		return 0;
	for (size_t i = 0; i <= s->nlabels; i++) {
		const char *n = i ? s->labels[i - 1].name : "__name__";
		const char *v = i ? s->labels[i - 1].value : s->name;
		size_t vl = i ? s->labels[i - 1].value_len : name_len;
		if (vl > l->label_value_length_limit) {
			char q[210];
			scraper__quote50(q, sizeof(q), v, vl);
			snprintf(reason, reasonlen,
				 "label_value_length_limit exceeded (metric: %.50s, label name: %.50s, "
				 "value: %s, length: %zu, limit: %zu)",
				 s->name, n, q, vl, l->label_value_length_limit);
			return ERR_TOOBIG;
		}
	}
	return 0;
}

const char *scraper_expfmt_type_name(enum scraper_expfmt_type t)
{
	static const char *const names[] = {"untyped", "counter",	 "gauge",    "histogram",
					    "summary", "gaugehistogram", "stateset", "info"};

	return (size_t)t < COMMON_ARRAY_LEN(names) ? names[t] : "untyped";
}

int scraper_expfmt_format_of(const char *ct, enum scraper_expfmt_format *out)
{
	size_t n;

	*out = SCRAPER_EXPFMT_TEXT;
	if (!ct)
		return ERR_INVAL;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	if (n == 28 && strncasecmp(ct, "application/openmetrics-text", 28) == 0) {
		*out = SCRAPER_EXPFMT_OPENMETRICS;
		return 0;
	}
	if (n == 10 && strncasecmp(ct, "text/plain", 10) == 0)
		return 0;
	return ERR_INVAL;
}
