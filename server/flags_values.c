/*
 * flags_values.c - value parsers of the flag types beyond the basic ones
 * (int, float32, pflag int32Slice, component-base namedCertKey,
 * resource.Quantity, klog's vmodule), each with its Go error text.
 */
#include "server/flags_table.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int server__strlist_add(struct server_strlist *l, const char *s, size_t len)
{
	if (l->n >= SERVER_FLAGS_MAX_LIST)
		return ERR_TOOBIG;
	l->items = xrealloc(l->items, (l->n + 1) * sizeof(*l->items));
	l->items[l->n++] = xstrndup(s, len);
	return 0;
}

/* strconv.ParseInt(s, 0, 64) narrowed to [min, max]; ParseUint (fn) takes
 * no sign and base 10. */
int server__parse_int(const char *s, long long min, long long max, const char *fn, int *out,
		      char *why, size_t len)
{
	bool unsigned_syntax = strcmp(fn, "strconv.ParseUint") == 0;
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(s, &end, unsigned_syntax ? 10 : 0);
	if (*s == '\0' || *s == ' ' || end == s || *end != '\0' ||
	    (unsigned_syntax && (*s == '-' || *s == '+'))) {
		snprintf(why, len, "%s: parsing \"%.200s\": invalid syntax", fn, s);
		return ERR_INVAL;
	}
	if (errno == ERANGE || v < min || v > max) {
		snprintf(why, len, "%s: parsing \"%.200s\": value out of range", fn, s);
		return ERR_INVAL;
	}
	*out = (int)v;
	return 0;
}

/* strconv.ParseFloat(s, 32): out of float32's range is ErrRange. */
int server__parse_float32(const char *s, double *out, char *why, size_t len)
{
	double v;

	if (go_parse_float(s, &v, why, len) != 0)
		return ERR_INVAL;
	if (fabs(v) > FLT_MAX) {
		snprintf(why, len, "strconv.ParseFloat: parsing \"%.200s\": value out of range", s);
		return ERR_INVAL;
	}
	*out = (double)(float)v;
	return 0;
}

/* pflag int32Slice.Set: every comma-separated item is
 * strconv.ParseInt(item, 0, 32); items are appended to l (as decimal). */
int server__parse_int32s(const char *s, struct server_strlist *l, char *why, size_t len)
{
	const char *p = s;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char item[64], dec[16];
		int v;

		if (n >= sizeof(item)) {
			snprintf(why, len, "strconv.ParseInt: parsing \"%.*s\": value out of range",
				 (int)(n > 200 ? 200 : n), p);
			return ERR_INVAL;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if (server__parse_int(item, INT32_MIN, INT32_MAX, "strconv.ParseInt", &v, why,
				      len) != 0)
			return ERR_INVAL;
		snprintf(dec, sizeof(dec), "%d", v);
		if (server__strlist_add(l, dec, strlen(dec)) != 0) {
			snprintf(why, len, "more than %d values", SERVER_FLAGS_MAX_LIST);
			return ERR_INVAL;
		}
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static bool only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' && s[i] != '\v' &&
		    s[i] != '\f')
			return false;
	return true;
}

/* s[0..n) without the white space around it (strings.TrimSpace, ASCII). */
static char *trimmed(const char *s, size_t n)
{
	while (n > 0 && only_space(s, 1)) {
		s++;
		n--;
	}
	while (n > 0 && only_space(s + n - 1, 1))
		n--;
	return xstrndup(s, n);
}

/* cliflag.NamedCertKey.Set: "crt,key" or "crt,key:name[,name...]", split
 * on the first ':', each part trimmed. */
int server__certkey_split(const char *s, struct server__certkey *out, char *why, size_t len)
{
	const char *colon = strchr(s, ':');
	size_t keycert = colon ? (size_t)(colon - s) : strlen(s);
	const char *comma = memchr(s, ',', keycert);
	const char *p;
	size_t n = 1;

	if (colon && only_space(colon + 1, strlen(colon + 1))) {
		snprintf(why, len, "empty names list is not allowed");
		return ERR_INVAL;
	}
	if (!comma || memchr(comma + 1, ',', keycert - (size_t)(comma + 1 - s))) {
		snprintf(why, len, "expected comma separated certificate and key file paths");
		return ERR_INVAL;
	}
	if (!out)
		return 0;
	memset(out, 0, sizeof(*out));
	out->cert_file = trimmed(s, (size_t)(comma - s));
	out->key_file = trimmed(comma + 1, keycert - (size_t)(comma + 1 - s));
	if (!colon)
		return 0;
	for (p = colon + 1; *p; p++)
		n += *p == ',';
	out->names.items = xcalloc(n, sizeof(*out->names.items));
	for (p = colon + 1;; p++) {
		const char *next = strchr(p, ',');
		size_t l = next ? (size_t)(next - p) : strlen(p);

		out->names.items[out->names.n++] = trimmed(p, l);
		if (!next)
			return 0;
		p = next;
	}
}

void server__certkey_clear(struct server__certkey *c)
{
	free(c->cert_file);
	free(c->key_file);
	for (size_t i = 0; i < c->names.n; i++)
		free(c->names.items[i]);
	free(c->names.items);
	memset(c, 0, sizeof(*c));
}

int server__parse_certkey(const char *s, char *why, size_t len)
{
	return server__certkey_split(s, NULL, why, len);
}

/* resource.QuantityValue.Set (ParseQuantity); the value in bytes. */
int server__parse_quantity(const char *s, int64_t *out, char *why, size_t len)
{
	struct quantity q;

	if (quantity_parse(s, &q) != 0) {
		snprintf(why, len, "quantities must match the regular expression "
				   "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
		return ERR_INVAL;
	}
	*out = quantity_value(&q);
	return 0;
}

/* component-base's vmodule flag (klog's syntax): comma-separated
 * pattern=N items, appended; N is strconv.ParseUint(N, 10, 31). */
int server__parse_vmodule(const char *s, struct server_strlist *l, char *why, size_t len)
{
	const char *p = s;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		const char *eq = memchr(p, '=', n);
		int shown = (int)(n > 200 ? 200 : n);
		char level[32], why2[160];
		size_t llen;
		int v;

		if (n > 0 && (!eq || eq == p || eq == p + n - 1 ||
			      memchr(eq + 1, '=', n - (size_t)(eq + 1 - p)))) {
			snprintf(why, len, "\"%.*s\" does not have the pattern=N format", shown, p);
			return ERR_INVAL;
		}
		llen = n > 0 ? (size_t)(p + n - eq - 1) : 0;
		if (llen >= sizeof(level)) { /* more digits than any uint31 */
			snprintf(why, len, "parsing verbosity in \"%.*s\": strconv.ParseUint: parsing "
				 "\"%.*s\": value out of range", shown, p, (int)(llen > 100 ? 100 : llen),
				 eq + 1);
			return ERR_INVAL;
		}
		if (n > 0) {
			snprintf(level, sizeof(level), "%.*s", (int)llen, eq + 1);
			if (server__parse_int(level, 0, INT32_MAX, "strconv.ParseUint", &v, why2,
					      sizeof(why2)) != 0) {
				snprintf(why, len, "parsing verbosity in \"%.*s\": %s", shown, p, why2);
				return ERR_INVAL;
			}
			if (server__strlist_add(l, p, n) != 0) {
				snprintf(why, len, "more than %d values", SERVER_FLAGS_MAX_LIST);
				return ERR_INVAL;
			}
		}
		if (!comma)
			return 0;
		p = comma + 1;
	}
}
