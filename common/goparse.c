/*
 * goparse.c - flag values parsed with Go's rules and Go's error texts
 * (strconv.ParseFloat, time.ParseDuration), so every command line of the
 * binary (the server's flags, `hpa explain`) words a bad value the same.
 */
#include "common/common.h"

#include <errno.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int go_parse_float(const char *s, double *out, char *why, size_t len)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *s == ' ' || end == s || *end != '\0' || v != v) {
		snprintf(why, len, "strconv.ParseFloat: parsing \"%.200s\": invalid syntax", s);
		return ERR_INVAL;
	}
	if (errno == ERANGE || v > DBL_MAX || v < -DBL_MAX) {
		snprintf(why, len, "strconv.ParseFloat: parsing \"%.200s\": value out of range", s);
		return ERR_INVAL;
	}
	*out = v;
	return 0;
}

/* The first unit of a duration that is not one of Go's ("1x" -> "x"),
 * or NULL (*n its length), as time.ParseDuration meets it. */
static const char *unknown_unit(const char *s, size_t *n)
{
	static const char *const units[] = { "ns", "us", "\xc2\xb5s", "\xce\xbcs", "ms",
					     "s",  "m",  "h" };
	const char *p = s + (*s == '+' || *s == '-');

	if (strcmp(p, "0") == 0)
		return NULL;
	while (*p) {
		size_t num = strspn(p, "0123456789.");

		if (num == 0 || (num == 1 && *p == '.'))
			return NULL; /* no number: "invalid duration" */
		p += num;
		*n = strcspn(p, "0123456789.");
		if (*n == 0)
			return NULL; /* missing unit */
		for (size_t i = 0; i < COMMON_ARRAY_LEN(units); i++)
			if (strlen(units[i]) == *n && strncmp(p, units[i], *n) == 0)
				goto next;
		return p;
next:
		p += *n;
	}
	return NULL;
}

int go_parse_duration(const char *s, int64_t *out, char *why, size_t len)
{
	size_t digits = strspn(s, "0123456789"), n = 0;
	const char *unit;

	if (parse_go_duration(s, out) == 0)
		return 0;
	unit = unknown_unit(s, &n);
	if (digits > 0 && s[digits] == '\0')
		snprintf(why, len, "time: missing unit in duration \"%.200s\"", s);
	else if (unit)
		snprintf(why, len, "time: unknown unit \"%.*s\" in duration \"%.200s\"",
			 (int)(n < 64 ? n : 64), unit, s);
	else
		snprintf(why, len, "time: invalid duration \"%.200s\"", s);
	return ERR_INVAL;
}
