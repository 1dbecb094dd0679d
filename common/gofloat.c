/*
 * gofloat.c - numbers as Go's strconv.FormatFloat(v, 'g', -1, 64) writes
 * them (the Prometheus Go client and kubelets print sample values so):
 * the shortest digits that read back to the same double, in %e form with
 * an exponent of at least two digits when the decimal exponent is < -4
 * or >= 6, "+Inf", "-Inf", "NaN" and "-0" as Go spells them.  The process
 * never calls setlocale(), so printf and strtod use the "C" decimal point.
 */
#include "common/common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A double never needs more than 17 significant digits to read back. */
#define MAX_DIGITS 17

/* The decimal exponent of a "%e" rendering ("1.5e+09" -> 9). */
static int exponent_of(const char *e)
{
	const char *p = strchr(e, 'e');
	int x = 0;
	bool neg;

	if (!p)
		return 0;
	neg = p[1] == '-';
	for (p += 2; *p >= '0' && *p <= '9'; p++)
		x = x * 10 + (*p - '0');
	return neg ? -x : x;
}

void fmt_go_float(double v, char *buf, size_t len)
{
	char e[40];
	int nd, exp10;

	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == 0) {
		snprintf(buf, len, "%s", signbit(v) ? "-0" : "0");
		return;
	}
	/* shortest digit count that reads back exactly */
	for (nd = 1; nd < MAX_DIGITS; nd++) {
		snprintf(e, sizeof(e), "%.*e", nd - 1, v);
		char *end;
		double back = strtod(e, &end);

		if (*end == '\0' && back == v)
			break;
	}
	snprintf(e, sizeof(e), "%.*e", nd - 1, v);
	exp10 = exponent_of(e);
	/* Go 'g' with shortest precision: exponent form if exp < -4 || exp >= 6 */
	if (exp10 < -4 || exp10 >= 6) {
		snprintf(buf, len, "%s", e);
		return;
	}
	snprintf(buf, len, "%.*f", nd - 1 - exp10 > 0 ? nd - 1 - exp10 : 0, v);
}
