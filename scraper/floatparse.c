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

/*
 * Appends the digits at s to mant (at most MANT_DIGITS significant ones;
 * *dropped counts the rest, *trunc tells whether any was dropped).  The
 * first digit is not a leading zero.  Eight at a time when they fit.
 */
static inline __attribute__((always_inline)) const char *
eat_digits(const char *s, const char *end, uint64_t *mant, int *nd, int *dropped, bool *trunc)
{
	uint32_t v8;

	while (*nd + 8 <= MANT_DIGITS && end - s >= 8 && scraper__digits8(s, &v8)) {
		*mant = *mant * 100000000u + v8;
		*nd += 8;
		s += 8;
	}
	for (; s < end && (unsigned)(*s - '0') < 10; s++) {
		if (*nd < MANT_DIGITS) {
			*mant = *mant * 10 + (unsigned)(*s - '0');
			(*nd)++;
		} else {
			*dropped += 1;
			*trunc = true;
		}
	}
	return s;
}

static const char *skip_zeros(const char *s, const char *end)
{
	while (s < end && *s == '0')
		s++;
	return s;
}

const char *scraper__parse_float_prefix(const char *p, const char *end, double *out)
{
	const char *s = p, *start;
	uint64_t mant = 0;
	int nd = 0, exp10 = 0, dropped = 0;
	bool neg = false, trunc = false;
	ptrdiff_t ndigits;

	if (s < end && (*s == '+' || *s == '-'))
		neg = *s++ == '-';
	/* integer digits (leading zeros add nothing), then fraction digits:
	 * exp10 counts the fraction digits kept and the integer ones dropped */
	start = s;
	s = eat_digits(skip_zeros(s, end), end, &mant, &nd, &dropped, &trunc);
	exp10 += dropped;
	ndigits = s - start;
	if (s < end && *s == '.') {
		const char *f = ++s, *g;
		if (mant == 0) {
			s = skip_zeros(s, end);
			exp10 -= (int)(s - f);
		}
		g = s;
		dropped = 0;
		s = eat_digits(s, end, &mant, &nd, &dropped, &trunc);
		exp10 -= (int)(s - g) - dropped;
		ndigits += s - f;
	}
	if (ndigits == 0)
		return NULL;
	if (s < end && (*s == 'e' || *s == 'E')) {
		bool eneg = false;
		int e = 0;
		s++;
		if (s < end && (*s == '+' || *s == '-'))
			eneg = *s++ == '-';
		if (s >= end || (unsigned)(*s - '0') >= 10)
			return NULL; /* Go wants a digit */
		for (; s < end && (unsigned)(*s - '0') < 10; s++)
			if (e < EXP_CAP)
				e = e * 10 + (*s - '0');
		exp10 += eneg ? -e : e;
	}
	if (mant == 0) {
		*out = neg ? -0.0 : 0.0;
		return s;
	}
	if (trunc || mant > (UINT64_C(1) << 53) || exp10 < -22 || exp10 > 22)
		return parse_slow(p, (size_t)(s - p), out) ? NULL : s;
	double v = (double)mant;
	v = exp10 >= 0 ? v * pow10_exact[exp10] : v / pow10_exact[-exp10];
	*out = neg ? -v : v;
	return s;
}

int scraper__parse_float(const char *p, size_t n, double *out)
{
	const char *s = p, *end = p + n;
	double v;

	if (s < end && (*s == '+' || *s == '-'))
		s++;
	if (s < end && *s != '.' && (*s < '0' || *s > '9'))
		return parse_special(s, (size_t)(end - s), s > p && *p == '-', s != p, out);
	if (scraper__parse_float_prefix(p, end, &v) != end)
		return ERR_PARSE;
	*out = v;
	return 0;
}
