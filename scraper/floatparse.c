/*
 * floatparse.c - sample values as Go reads them (common/gofloat.c writes
 * them).
 *
 * Parsing follows strconv.ParseFloat as Prometheus' text parser calls it
 * (decimal only, case-insensitive Inf/Infinity/NaN, overflow is an
 * error).  The common case - at most 19 significant digits, a mantissa
 * below 2^53 and a power of ten up to 22 - is exact with one IEEE
 * multiply or divide (Clinger's fast path); anything else goes to
 * strtod(), which glibc rounds correctly.  The process never calls
 * setlocale(), so strtod() sees the "C" decimal point.
 */
#include "scraper/scraper_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FLOAT_MAX_TOKEN 512
#define MANT_DIGITS 19
#define EXP_CAP 100000

static const double pow10_exact[] = {
	1e0,  1e1,  1e2,  1e3,	1e4,  1e5,  1e6,  1e7,	1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* "inf", "infinity" (any case, optional sign) or "nan" (no sign). */
static int parse_special(const char *s, size_t n, bool neg, bool signed_, double *out)
{
	if ((n == 3 && strncasecmp(s, "inf", 3) == 0) ||
	    (n == 8 && strncasecmp(s, "infinity", 8) == 0)) {
		*out = neg ? -INFINITY : INFINITY;
		return 0;
	}
	if (!signed_ && n == 3 && strncasecmp(s, "nan", 3) == 0) {
		*out = NAN;
		return 0;
	}
	return ERR_PARSE;
}

static int parse_slow(const char *p, size_t n, double *out)
{
	char buf[FLOAT_MAX_TOKEN + 1];
	char *end;
	double v;

	if (n > FLOAT_MAX_TOKEN)
		return ERR_PARSE;
	memcpy(buf, p, n);
	buf[n] = '\0';
	errno = 0;
	v = strtod(buf, &end);
	if (end != buf + n)
		return ERR_PARSE;
	if (errno == ERANGE && isinf(v))
		return ERR_PARSE; /* Go: ErrRange */
	*out = v;
	return 0;
}

int scraper__parse_float(const char *p, size_t n, double *out)
{
	const char *s = p, *end = p + n;
	uint64_t mant = 0;
	int nd = 0, exp10 = 0;
	bool neg = false, any = false, trunc = false;

	if (s < end && (*s == '+' || *s == '-'))
		neg = *s++ == '-';
	if (s < end && *s != '.' && (*s < '0' || *s > '9'))
		return parse_special(s, (size_t)(end - s), neg, s != p, out);
	/* integer digits, then fraction digits: exp10 counts the fraction */
	for (int part = 0; part < 2; part++) {
		for (; s < end && (unsigned)(*s - '0') < 10; s++) {
			unsigned d = (unsigned)(*s - '0');
			any = true;
			if (mant == 0 && d == 0) {
				exp10 -= part;
			} else if (nd < MANT_DIGITS) {
				mant = mant * 10 + d;
				nd++;
				exp10 -= part;
			} else {
				trunc = true;
				exp10 += !part;
			}
		}
		if (part == 0 && s < end && *s == '.')
			s++;
		else
			break;
	}
	if (!any)
		return ERR_PARSE;
	if (s < end && (*s == 'e' || *s == 'E')) {
		bool eneg = false;
		int e = 0;
		s++;
		if (s < end && (*s == '+' || *s == '-'))
			eneg = *s++ == '-';
		if (s >= end)
			return ERR_PARSE;
		for (; s < end && *s >= '0' && *s <= '9'; s++)
			if (e < EXP_CAP)
				e = e * 10 + (*s - '0');
		exp10 += eneg ? -e : e;
	}
	if (s != end)
		return ERR_PARSE;
	if (mant == 0) {
		*out = neg ? -0.0 : 0.0;
		return 0;
	}
	if (trunc || mant > (UINT64_C(1) << 53) || exp10 < -22 || exp10 > 22)
		return parse_slow(p, n, out);
	double v = (double)mant;
	v = exp10 >= 0 ? v * pow10_exact[exp10] : v / pow10_exact[-exp10];
	*out = neg ? -v : v;
	return 0;
}
