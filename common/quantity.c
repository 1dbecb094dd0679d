/*
 * quantity.c - resource.Quantity as apimachinery's int64 fast path:
 * ParseQuantity and the canonical String() (CanonicalizeBytes).
 *
 * A quantity is value x 10^scale.  Parsing keeps the exact decimal value
 * when it fits int64 and rounds anything finer than 1n up (away from zero),
 * as upstream; values above 2^63-1 are capped like upstream's maxAllowed.
 */
#include "common/common.h"

#include <stdio.h>
#include <string.h>

#define Q_NANO_SCALE (-9)
#define Q_MAX_INPUT 256        /* longer strings are not quantities */

typedef unsigned __int128 u128;

/* ---- formatting ------------------------------------------------------- */

static const char *dec_suffix(int32_t exp)
{
	static const char *const tab[] = { "n", "u", "m", "", "k", "M", "G", "T", "P", "E" };

	if (exp < -9 || exp > 18 || exp % 3 != 0)
		return NULL;
	return tab[(exp + 9) / 3];
}

static const char *bin_suffix(int k)
{
	static const char *const tab[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };

	return k >= 0 && k < (int)COMMON_ARRAY_LEN(tab) ? tab[k] : "";
}

/* AsScale(0): the integer value, rounding away from zero; *exact tells
 * whether nothing was lost.  Saturates on overflow (exact = false). */
static uint64_t magnitude_at_scale0(uint64_t m, int32_t scale, bool *exact)
{
	*exact = true;
	for (; scale > 0; scale--) {
		if (m > UINT64_MAX / 10) {
			*exact = false;
			return UINT64_MAX;
		}
		m *= 10;
	}
	for (; scale < 0 && m; scale++) {  /* once 0, more digits change nothing */
		if (m % 10)
			*exact = false;
		m /= 10;
	}
	if (!*exact)
		m++;
	return m;
}

/* Decimal digits of m (u128: the x10/x100 step may exceed 64 bits). */
static void u128_str(u128 m, char *out, size_t len)
{
	char tmp[48];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + (int)(m % 10));
		m /= 10;
	} while (m && n < sizeof(tmp));
	if (len == 0)
		return;
	if (n >= len)
		n = len - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
}

/* sign, digits, suffix joined into buf (len bytes, truncated as
 * snprintf would): the hot path of every rendered metric, without
 * snprintf's format parsing. */
static void join3(char *buf, size_t len, bool neg, const char *digits, const char *suffix)
{
	const char *parts[3] = { neg ? "-" : "", digits, suffix ? suffix : "" };
	size_t n = 0;

	if (len == 0)
		return;
	for (size_t i = 0; i < 3; i++)
		for (const char *p = parts[i]; *p && n + 1 < len; p++)
			buf[n++] = *p;
	buf[n] = '\0';
}

static void format_decimal(bool neg, uint64_t mag, int64_t e, enum quantity_format fmt,
			   char *buf, size_t len)
{
	u128 m = mag;
	char digits[48];
	const char *suffix;
	int64_t r;

	while (m >= 10 && m % 10 == 0) {
		m /= 10;
		e++;
	}
	r = e % 3;
	if (r == 1 || r == -2) {
		m *= 10;
		e -= 1;
	} else if (r == 2 || r == -1) {
		m *= 100;
		e -= 2;
	}
	u128_str(m, digits, sizeof(digits));
	if (fmt == QF_DECIMAL_EXPONENT) {
		if (e == 0)
			snprintf(buf, len, "%s%s", neg ? "-" : "", digits);
		else
			snprintf(buf, len, "%s%se%lld", neg ? "-" : "", digits, (long long)e);
		return;
	}
	suffix = dec_suffix(e);
	join3(buf, len, neg, digits, suffix);
}

void quantity_format(const struct quantity *q, char *buf, size_t len)
{
	bool neg = q->value < 0, exact = false;
	uint64_t m = neg ? (uint64_t)0 - (uint64_t)q->value : (uint64_t)q->value;
	enum quantity_format fmt = q->format;
	uint64_t iv = 0;
	int k = 0;

	if (q->value == 0) {
		snprintf(buf, len, "0");
		return;
	}
	if (fmt == QF_BINARY_SI) {
		iv = magnitude_at_scale0(m, q->scale, &exact);
		/* iv rounds away from zero, so |x| < 1024 iff iv < 1024 or
		 * iv == 1024 inexact; an inexact value is DecimalSI anyway. */
		if (iv < 1024 || !exact)
			fmt = QF_DECIMAL_SI;
	}
	if (fmt != QF_BINARY_SI) {
		format_decimal(neg, m, q->scale, fmt, buf, len);
		return;
	}
	while (iv >= 1024 && iv % 1024 == 0) {
		iv /= 1024;
		k++;
	}
	{
		char digits[24];

		u128_str(iv, digits, sizeof(digits));
		join3(buf, len, neg, digits, bin_suffix(k));
	}
}

/* ---- parsing ------------------------------------------------------------ */

struct qparts {
	bool neg;
	const char *num, *frac, *suffix;   /* spans into the input */
	size_t num_len, frac_len, suffix_len;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* parseQuantityString: sign, digits, optional .digits, suffix text. */
static int split_quantity(const char *s, struct qparts *p)
{
	size_t i = 0, n = strlen(s);

	memset(p, 0, sizeof(*p));
	if (n == 0 || n > Q_MAX_INPUT)
		return ERR_PARSE;
	if (s[0] == '-' || s[0] == '+') {
		p->neg = s[0] == '-';
		i++;
	}
	while (i < n && s[i] == '0')
		i++;
	p->num = s + i;
	while (i < n && is_digit(s[i]))
		i++;
	p->num_len = (size_t)(s + i - p->num);
	if (i < n && s[i] == '.') {
		p->frac = s + ++i;
		while (i < n && is_digit(s[i]))
			i++;
		p->frac_len = (size_t)(s + i - p->frac);
	}
	p->suffix = s + i;
	while (i < n && strchr("eEinumkKMGTP", s[i]))
		i++;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	while (i < n && is_digit(s[i]))
		i++;
	if (i != n)
		return ERR_PARSE;
	p->suffix_len = n - (size_t)(p->suffix - s);
	return ERR_OK;
}

/* suffixer.interpret: base 10 or 2, its exponent, and the format. */
static int interpret_suffix(const char *s, size_t n, int *base, int32_t *exp,
			    enum quantity_format *fmt)
{
	static const char dec[] = "num kMGTPE";
	static const char bin[] = "KMGTPE";
	long long e = 0;
	size_t i = 0;
	bool neg = false;

	*base = 10;
	*fmt = QF_DECIMAL_SI;
	*exp = 0;
	if (n == 0)
		return ERR_OK;
	if (n == 1 && s[0] != ' ' && strchr(dec, s[0])) {
		*exp = (int32_t)((strchr(dec, s[0]) - dec) * 3 - 9);
		return ERR_OK;
	}
	if (n == 2 && s[1] == 'i' && strchr(bin, s[0])) {
		*base = 2;
		*fmt = QF_BINARY_SI;
		*exp = (int32_t)((strchr(bin, s[0]) - bin + 1) * 10);
		return ERR_OK;
	}
	if (n < 2 || (s[0] != 'e' && s[0] != 'E'))
		return ERR_PARSE;
	i = 1;
	if (s[i] == '-' || s[i] == '+')
		neg = s[i++] == '-';
	if (i == n)
		return ERR_PARSE;
	for (; i < n; i++) {
		if (!is_digit(s[i]))
			return ERR_PARSE;
		e = e * 10 + (s[i] - '0');
		if (e > INT32_MAX)
			return ERR_PARSE;
	}
	*fmt = QF_DECIMAL_EXPONENT;
	*exp = (int32_t)(neg ? -e : e);
	return ERR_OK;
}

/* Divides m by 10^k rounding up (magnitudes only). */
static u128 div_pow10_ceil(u128 m, int64_t k)
{
	bool rem = false;

	for (; k > 0 && m; k--) {
		if (m % 10)
			rem = true;
		m /= 10;
	}
	return rem ? m + 1 : m;
}

/* Folds the exact value m x 10^e (magnitude) into an int64 quantity:
 * finer than 1n rounds up, above 2^63-1 caps (upstream's maxAllowed). */
static int fit_quantity(u128 m, int64_t e, bool neg, struct quantity *q)
{
	if (m != 0 && e < Q_NANO_SCALE) {
		m = div_pow10_ceil(m, Q_NANO_SCALE - e);
		e = Q_NANO_SCALE;
	}
	while (m > (u128)INT64_MAX && m % 10 == 0) {
		m /= 10;
		e++;
	}
	while (m > (u128)INT64_MAX && e < 0) {
		m = div_pow10_ceil(m, 1);
		e++;
	}
	if (m > (u128)INT64_MAX) {
		m = (u128)INT64_MAX;
		e = 0;
	}
	if (m == 0)
		e = 0;
	if (e > INT32_MAX)
		return ERR_PARSE;
	q->value = neg ? -(int64_t)m : (int64_t)m;
	q->scale = (int32_t)e;
	return ERR_OK;
}

/* The digits of num.frac as m x 10^(*e adjustment); more than 36
 * significant digits are cut, rounding up. */
static u128 collect_digits(const struct qparts *p, int64_t *e)
{
	size_t i, total = p->num_len + p->frac_len, sig = 0;
	bool dropped = false;
	u128 m = 0;

	for (i = 0; i < total; i++) {
		char c = i < p->num_len ? p->num[i] : p->frac[i - p->num_len];

		if (sig < 36) {
			m = m * 10 + (u128)(c - '0');
			if (m)
				sig++;
		} else {
			(*e)++;
			dropped = dropped || c != '0';
		}
	}
	return dropped ? m + 1 : m;
}

int quantity_parse(const char *s, struct quantity *q)
{
	struct qparts p;
	enum quantity_format fmt;
	int base;
	int32_t exp;
	int64_t e;
	u128 m;
	bool exact;

	if (!s || split_quantity(s, &p) || interpret_suffix(p.suffix, p.suffix_len, &base, &exp, &fmt))
		return ERR_PARSE;
	e = (base == 10 ? (int64_t)exp : 0) - (int64_t)p.frac_len;
	m = collect_digits(&p, &e);
	if (base == 2) {
		for (; exp > 0 && m; exp--) {
			if (m >= ((u128)1 << 100)) {
				m = (u128)1 << 100;  /* far above the cap anyway */
				break;
			}
			m <<= 1;
		}
	}
	if (fit_quantity(m, e, p.neg, q))
		return ERR_PARSE;
	q->format = fmt;
	/* 0 < |x| < 1 with a binary suffix reads as DecimalSI. */
	if (fmt == QF_BINARY_SI && q->value != 0 && q->scale < 0 &&
	    magnitude_at_scale0((uint64_t)(q->value < 0 ? -q->value : q->value), q->scale, &exact) <= 1 &&
	    !exact)
		q->format = QF_DECIMAL_SI;
	if (strcmp(s, "0") == 0)
		q->format = QF_DECIMAL_SI;
	return ERR_OK;
}

/* ---- scaled values --------------------------------------------------- */

/* value x 10^(scale - target), rounding away from zero, saturating. */
static int64_t scaled_value(const struct quantity *q, int32_t target)
{
	bool neg = q->value < 0, exact;
	uint64_t m = neg ? (uint64_t)0 - (uint64_t)q->value : (uint64_t)q->value;
	int64_t shift = (int64_t)q->scale - target;

	if (shift > 40)
		shift = 40;
	if (shift < -40)
		shift = -40;
	m = magnitude_at_scale0(m, (int32_t)shift, &exact);
	if (m > (uint64_t)INT64_MAX)
		return neg ? INT64_MIN : INT64_MAX;
	return neg ? -(int64_t)m : (int64_t)m;
}

int64_t quantity_milli_value(const struct quantity *q)
{
	return scaled_value(q, -3);
}

int64_t quantity_value(const struct quantity *q)
{
	return scaled_value(q, 0);
}

int64_t quantity_nano_value(const struct quantity *q)
{
	return scaled_value(q, -9);
}
