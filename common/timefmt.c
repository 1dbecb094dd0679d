/*
 * timefmt.c - the time formats apimachinery puts on the wire: metav1.Time
 * (RFC 3339, seconds, UTC) and Go's time.Duration String/ParseDuration.
 */
#include "common/common.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- RFC 3339 ----------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void fmt_rfc3339(int64_t ns, char *buf, size_t len)
{
	fmt_rfc3339_secs(floor_div(ns, NS_PER_SEC), buf, len);
}

void fmt_rfc3339_secs(int64_t secs, char *buf, size_t len)
{
	time_t t = (time_t)secs;
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, len, "1970-01-01T00:00:00Z");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Parses exactly n digits at s as a number in [lo, hi]. */
static bool fixed_uint(const char *s, size_t n, int lo, int hi, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return v >= lo && v <= hi;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in(int month, int year)
{
	static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return month == 2 && is_leap(year) ? 29 : dim[month - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Fraction ".ddd": Go keeps 9 digits and ignores the rest. */
static size_t parse_fraction(const char *s, int64_t *nsec)
{
	size_t n = 1;
	int64_t v = 0, scale = 100000000;

	*nsec = 0;
	if (s[0] != '.' || s[1] < '0' || s[1] > '9')
		return 0;
	for (; s[n] >= '0' && s[n] <= '9'; n++) {
		if (scale > 0) {
			v += (s[n] - '0') * scale;
			scale /= 10;
		}
	}
	*nsec = v;
	return n;
}

/* Zone "Z" or "+hh:mm"/"-hh:mm" -> seconds east of UTC. */
static int parse_zone(const char *s, int64_t *off)
{
	int hh, mm;

	if (strcmp(s, "Z") == 0) {
		*off = 0;
		return ERR_OK;
	}
	if (strlen(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' ||
	    !fixed_uint(s + 1, 2, 0, 23, &hh) || !fixed_uint(s + 4, 2, 0, 59, &mm))
		return ERR_PARSE;
	*off = (int64_t)(hh * 60 + mm) * 60 * (s[0] == '-' ? -1 : 1);
	return ERR_OK;
}

int parse_rfc3339(const char *s, int64_t *ns)
{
	int y, mo, d, h, mi, sec;
	int64_t nsec, off, secs;
	size_t n;

	if (!s || strnlen(s, 20) < 19)
		return ERR_PARSE;
	if (!fixed_uint(s, 4, 0, 9999, &y) || s[4] != '-' || !fixed_uint(s + 5, 2, 1, 12, &mo) ||
	    s[7] != '-' || !fixed_uint(s + 8, 2, 1, 31, &d) || d > days_in(mo, y) || s[10] != 'T' ||
	    !fixed_uint(s + 11, 2, 0, 23, &h) || s[13] != ':' || !fixed_uint(s + 14, 2, 0, 59, &mi) ||
	    s[16] != ':' || !fixed_uint(s + 17, 2, 0, 59, &sec))
		return ERR_PARSE;
	n = 19 + parse_fraction(s + 19, &nsec);
	if (parse_zone(s + n, &off))
		return ERR_PARSE;
	secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	/* int64 ns covers 1677-09-21 .. 2262-04-11. */
	if (secs > INT64_MAX / NS_PER_SEC - 1 || secs < INT64_MIN / NS_PER_SEC + 1)
		return ERR_PARSE;
	*ns = secs * NS_PER_SEC + nsec;
	return ERR_OK;
}

/* ---- Go durations -------------------------------------------------------- */

/* fmtFrac: writes v's low `prec` digits backwards as ".ddd" without
 * trailing zeros; returns the new write position and v / 10^prec. */
static size_t fmt_frac(char *buf, size_t w, uint64_t *v, int prec)
{
	bool print = false;

	for (int i = 0; i < prec; i++) {
		char digit = (char)(*v % 10);

		print = print || digit != 0;
		if (print)
			buf[--w] = (char)('0' + digit);
		*v /= 10;
	}
	if (print)
		buf[--w] = '.';
	return w;
}

static size_t fmt_int(char *buf, size_t w, uint64_t v)
{
	if (v == 0) {
		buf[--w] = '0';
		return w;
	}
	for (; v > 0; v /= 10)
		buf[--w] = (char)('0' + v % 10);
	return w;
}

/* Port of Go's Duration.format (time/time.go). */
void fmt_go_duration(int64_t ns, char *buf, size_t len)
{
	char tmp[40];
	size_t w = sizeof(tmp);
	bool neg = ns < 0;
	uint64_t u = neg ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

	if (u < (uint64_t)NS_PER_SEC) {
		int prec;

		tmp[--w] = 's';
		if (u == 0) {
			snprintf(buf, len, "0s");
			return;
		} else if (u < 1000) {
			prec = 0;
			tmp[--w] = 'n';
		} else if (u < 1000000) {
			prec = 3;
			tmp[--w] = (char)0xb5;  /* U+00B5 micro sign, UTF-8 C2 B5 */
			tmp[--w] = (char)0xc2;
		} else {
			prec = 6;
			tmp[--w] = 'm';
		}
		w = fmt_frac(tmp, w, &u, prec);
		w = fmt_int(tmp, w, u);
	} else {
		tmp[--w] = 's';
		w = fmt_frac(tmp, w, &u, 9);
		w = fmt_int(tmp, w, u % 60);
		u /= 60;
		if (u > 0) {
			tmp[--w] = 'm';
			w = fmt_int(tmp, w, u % 60);
			u /= 60;
			if (u > 0) {
				tmp[--w] = 'h';
				w = fmt_int(tmp, w, u);
			}
		}
	}
	if (neg)
		tmp[--w] = '-';
	snprintf(buf, len, "%.*s", (int)(sizeof(tmp) - w), tmp + w);
}

struct dur_unit {
	const char *name;
	uint64_t ns;
};

static const struct dur_unit dur_units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "\xc2\xb5s", 1000 },  /* U+00B5 micro sign */
	{ "\xce\xbcs", 1000 },  /* U+03BC greek mu */
	{ "ms", 1000000 },
	{ "s", 1000000000ull },
	{ "m", 60000000000ull },
	{ "h", 3600000000000ull },
};

static bool unit_lookup(const char *s, size_t n, uint64_t *ns)
{
	for (size_t i = 0; i < COMMON_ARRAY_LEN(dur_units); i++) {
		if (strlen(dur_units[i].name) == n && memcmp(dur_units[i].name, s, n) == 0) {
			*ns = dur_units[i].ns;
			return true;
		}
	}
	return false;
}

#define DUR_LIMIT ((uint64_t)1 << 63)

/* One "<digits>[.<digits>]<unit>" element; advances *sp. */
static int parse_dur_element(const char **sp, uint64_t *out)
{
	const char *s = *sp, *start;
	uint64_t v = 0, f = 0, unit;
	double scale = 1;
	bool pre, post = false, overflow = false;

	if (!(*s == '.' || (*s >= '0' && *s <= '9')))
		return ERR_PARSE;
	for (start = s; *s >= '0' && *s <= '9'; s++) {
		if (v > DUR_LIMIT / 10)
			return ERR_PARSE;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > DUR_LIMIT)
			return ERR_PARSE;
	}
	pre = s != start;
	if (*s == '.') {
		for (start = ++s; *s >= '0' && *s <= '9'; s++) {
			if (overflow || f > (DUR_LIMIT - 1) / 10) {
				overflow = true;
				continue;
			}
			f = f * 10 + (uint64_t)(*s - '0');
			scale *= 10;
		}
		post = s != start;
	}
	if (!pre && !post)
		return ERR_PARSE;
	for (start = s; *s && *s != '.' && !(*s >= '0' && *s <= '9'); s++)
		;
	if (s == start || !unit_lookup(start, (size_t)(s - start), &unit) || v > DUR_LIMIT / unit)
		return ERR_PARSE;
	v *= unit;
	if (f > 0) {
		v += (uint64_t)((double)f * ((double)unit / scale));
		if (v > DUR_LIMIT)
			return ERR_PARSE;
	}
	*out = v;
	*sp = s;
	return ERR_OK;
}

/* Port of Go's time.ParseDuration. */
int parse_go_duration(const char *s, int64_t *ns)
{
	uint64_t d = 0, v;
	bool neg = false;

	if (!s || strnlen(s, 256) >= 256)
		return ERR_PARSE;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return ERR_OK;
	}
	if (*s == '\0')
		return ERR_PARSE;
	while (*s) {
		if (parse_dur_element(&s, &v))
			return ERR_PARSE;
		d += v;
		if (d > DUR_LIMIT)
			return ERR_PARSE;
	}
	if (neg) {
		*ns = d == DUR_LIMIT ? INT64_MIN : -(int64_t)d;
		return ERR_OK;
	}
	if (d > (uint64_t)INT64_MAX)
		return ERR_PARSE;
	*ns = (int64_t)d;
	return ERR_OK;
}
