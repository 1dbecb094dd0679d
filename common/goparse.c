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

int go_parse_duration(const char *s, int64_t *out, char *why, size_t len)
{
	size_t digits = strspn(s, "0123456789");

	if (parse_go_duration(s, out) == 0)
		return 0;
	if (digits > 0 && s[digits] == '\0')
		snprintf(why, len, "time: missing unit in duration \"%.200s\"", s);
	else
		snprintf(why, len, "time: invalid duration \"%.200s\"", s);
	return ERR_INVAL;
}
