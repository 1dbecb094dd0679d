/*
 * kubelet_fmt.c - the render hot path's number formatting: exact decimals
 * (counters in ns, bytes) written as Go's strconv.AppendFloat(v, 'g', -1,
 * 64) would write the same value (what fmt_go_float does for any double),
 * in %e form when the decimal exponent is < -4 or >= 6, with a two-digit
 * minimum exponent ("1.253376e+07").
 */
#include "test/kubesim/kubelet_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Writes digits d[0..nd) (no trailing zeros, nd >= 1) with the decimal
 * point after dp digits (value = 0.d x 10^dp) the way Go's %g does.
 */
static size_t format_digits(bool neg, const char *d, int nd, int dp, char *buf)
{
	int exp = dp - 1;
	size_t o = 0;

	if (neg)
		buf[o++] = '-';
	if (exp < -4 || exp >= 6) {
		buf[o++] = d[0];
		if (nd > 1) {
			buf[o++] = '.';
			memcpy(buf + o, d + 1, (size_t)nd - 1);
			o += (size_t)nd - 1;
		}
		buf[o++] = 'e';
		buf[o++] = exp < 0 ? '-' : '+';
		exp = abs(exp);
		if (exp >= 100)
			buf[o++] = (char)('0' + exp / 100);
		buf[o++] = (char)('0' + exp / 10 % 10);
		buf[o++] = (char)('0' + exp % 10);
		buf[o] = '\0';
		return o;
	}
	if (dp <= 0) {
		buf[o++] = '0';
		buf[o++] = '.';
		for (int i = 0; i < -dp; i++)
			buf[o++] = '0';
		memcpy(buf + o, d, (size_t)nd);
		o += (size_t)nd;
	} else if (dp >= nd) {
		memcpy(buf + o, d, (size_t)nd);
		o += (size_t)nd;
		for (int i = nd; i < dp; i++)
			buf[o++] = '0';
	} else {
		memcpy(buf + o, d, (size_t)dp);
		o += (size_t)dp;
		buf[o++] = '.';
		memcpy(buf + o, d + dp, (size_t)(nd - dp));
		o += (size_t)(nd - dp);
	}
	buf[o] = '\0';
	return o;
}

size_t sim_kl_fmt_decimal(uint64_t mant, int frac, char *buf)
{
	char digits[24];
	int nd = 0, ndig;

	if (mant == 0) {
		buf[0] = '0';
		buf[1] = '\0';
		return 1;
	}
	for (uint64_t m = mant; m; m /= 10)
		digits[sizeof(digits) - 1 - (size_t)nd++] = (char)('0' + m % 10);
	ndig = nd;
	memmove(digits, digits + sizeof(digits) - (size_t)nd, (size_t)nd);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	return format_digits(false, digits, nd, ndig - frac, buf);
}
