/*
 * logjson.c - a log line as component-base's JSON logger writes it
 * (--logging-format=json).
 *
 * Where the format comes from: k8s.io/component-base logs/json/json.go,
 * NewJSONLogger: zap's JSON encoder with TimeKey "ts" (epochMillisTimeEncoder:
 * milliseconds since the Unix epoch, a float), CallerKey "caller"
 * (ShortCallerEncoder: the last folder and the file, "json/klog_test.go:42"),
 * MessageKey "msg", no level key; over it zapr with LogInfoLevel("v") (an
 * info line's first field is "v", its verbosity) and ErrorKey("err") (the
 * error of an Error call is the last field).  logs/json/klog_test.go shows
 * klog's calls through it: Info, InfoS and Warning* (warnings reach logr as
 * Info) write "v"; Error and ErrorS write none, and ErrorS(err, "test",
 * "count", 1) is {"ts":..,"caller":..,"msg":"test","count":1,"err":"fail"}.
 *
 * Our lines are written as klog's text format writes InfoS/ErrorS:
 * '"Message" key="Go-quoted value" key2=bare', or as plain text (klog's
 * Infof), which is the whole msg.  A quoted value becomes a JSON string; a
 * bare one a number when it is a JSON number, true/false, else a string.
 * Text that does not parse whole as the structured form (an unterminated
 * quote, a pair without key or '=') is plain text.  Keys seen again are
 * dropped (the first wins; zap would write both).  Invalid UTF-8 becomes
 * U+FFFD, as zap writes it.
 */
#include "common/common.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Appends code point c as UTF-8. */
static size_t put_utf8(char *o, uint32_t c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | (c >> 6));
		o[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xe0 | (c >> 12));
		o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (c >> 18));
	o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	o[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t k;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2, c = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3, c = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4, c = s[0] & 0x07u;
	else
		return 0;
	if (k > n)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3fu);
	}
	if ((k == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (k == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return k;
}

/* A JSON string of n bytes at s, invalid UTF-8 bytes as U+FFFD. */
static json_t *jstr(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char *fixed;
	size_t o = 0;
	json_t *j = json_stringn(s, n);

	if (j)
		return j;
	fixed = xmalloc(3 * n + 1);
	for (size_t i = 0; i < n;) {
		size_t k = utf8_len(u + i, n - i);

		if (k == 0) {
			o += put_utf8(fixed + o, 0xfffd);
			i++;
		} else {
			memcpy(fixed + o, s + i, k);
			o += k;
			i += k;
		}
	}
	j = xcheck(json_stringn_nocheck(fixed, o), "json_stringn");
	free(fixed);
	return j;
}

/* The value of n hex digits at p, or -1. */
static long hexn(const char *p, int n)
{
	long v = 0;

	for (int i = 0; i < n; i++) {
		int h = hex_digit(p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/*
 * strconv.Unquote of the double-quoted literal at p (*p == '"') into out
 * (room for strlen(p) bytes: every escape is longer than what it stands
 * for); *outlen its length.  Returns the byte after the closing quote, or
 * NULL when the literal is unterminated or has an escape Go refuses.
 */
static const char *unquote(const char *p, char *out, size_t *outlen)
{
	static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\\"\"";
	size_t o = 0;

	for (p++; *p != '"'; ) {
		const char *e;
		long c;

		if (*p == '\0' || *p == '\n')
			return NULL;
		if (*p != '\\') {
			out[o++] = *p++;
			continue;
		}
		p++;
		e = *p ? strchr(simple, *p) : NULL;
		if (e && (e - simple) % 2 == 0) {
			out[o++] = e[1];
			p++;
			continue;
		}
		switch (*p) {
		case 'x':
			c = hexn(p + 1, 2), p += 3;
			if (c < 0)
				return NULL;
			out[o++] = (char)c; /* a byte, maybe not UTF-8 (jstr) */
			continue;
		case 'u':
			c = hexn(p + 1, 4), p += 5;
			break;
		case 'U':
			c = hexn(p + 1, 8), p += 9;
			break;
		default:
			if (p[0] < '0' || p[0] > '3' || p[1] < '0' || p[1] > '7' || p[2] < '0' ||
			    p[2] > '7')
				return NULL;
			out[o++] = (char)((p[0] - '0') * 64 + (p[1] - '0') * 8 + (p[2] - '0'));
			p += 3;
			continue;
		}
		/* \u and \U: hexn stopped at the first non-digit, so p did not
		 * pass the terminating NUL when c >= 0. */
		if (c < 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return NULL;
		o += put_utf8(out + o, (uint32_t)c);
	}
	*outlen = o;
	return p + 1;
}

/* Whether s[0..n) is a JSON number; *integer: no fraction, no exponent. */
static bool is_json_number(const char *s, size_t n, bool *integer)
{
	size_t i = 0, d;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (i < n && s[i] >= '1' && s[i] <= '9')
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return false;
	*integer = true;
	if (i < n && s[i] == '.') {
		for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return false;
		*integer = false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return false;
		*integer = false;
	}
	return i == n;
}

/* A bare value: a JSON number (an integer out of int64's range stays
 * text), true, false, or else a string. */
static json_t *bare_value(const char *s, size_t n)
{
	char num[64], *end;
	bool integer;

	if (n == 4 && memcmp(s, "true", 4) == 0)
		return json_true();
	if (n == 5 && memcmp(s, "false", 5) == 0)
		return json_false();
	if (n < sizeof(num) && is_json_number(s, n, &integer)) {
		memcpy(num, s, n);
		num[n] = '\0';
		errno = 0;
		if (integer) {
			long long v = strtoll(num, &end, 10);

			if (errno == 0 && *end == '\0')
				return json_integer(v);
		} else {
			double d = strtod(num, &end);

			if (errno == 0 && *end == '\0' && isfinite(d))
				return json_real(d);
		}
	}
	return jstr(s, n);
}

/* Adds key (n bytes, invalid UTF-8 as U+FFFD) = val to o unless o has
 * it already or it is "ts" (written ahead of the object); takes val. */
static void add_field(json_t *o, const char *key, size_t n, json_t *val)
{
	json_t *k = jstr(key, n);
	const char *ks = json_string_value(k);

	if (strcmp(ks, "ts") != 0 && !json_object_get(o, ks))
		json_object_set_new_nocheck(o, ks, val);
	else
		json_decref(val);
	json_decref(k);
}

/*
 * The structured form of text into fields (msg first, then the pairs; an
 * error line's first "err" held in *err).  Returns false when text is not
 * in that form (fields then hold a partial parse the caller drops).
 */
static bool parse_structured(const char *text, bool is_error, json_t *fields, json_t **err,
			     int v)
{
	char *buf = xmalloc(strlen(text) + 1);
	const char *p = text, *key;
	size_t n, klen;
	bool ok = false;

	if (*p != '"' || !(p = unquote(p, buf, &n)))
		goto out;
	json_object_set_new_nocheck(fields, "msg", jstr(buf, n));
	if (v >= 0)
		json_object_set_new_nocheck(fields, "v", json_integer(v));
	for (;;) {
		json_t *val;

		if (*p != '\0' && *p != ' ')
			goto out;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		key = p;
		while (*p && *p != '=' && *p != ' ' && *p != '"' && (unsigned char)*p >= 0x20)
			p++;
		klen = (size_t)(p - key);
		if (klen == 0 || *p != '=')
			goto out;
		p++;
		if (*p == '"') {
			if (!(p = unquote(p, buf, &n)))
				goto out;
			val = jstr(buf, n);
		} else {
			const char *s = p;

			while (*p && *p != ' ')
				p++;
			val = bare_value(s, (size_t)(p - s));
		}
		if (is_error && klen == 3 && memcmp(key, "err", 3) == 0) {
			if (*err)
				json_decref(val); /* the first wins */
			else
				*err = val;
		} else {
			add_field(fields, key, klen, val);
		}
	}
	ok = true;
out:
	free(buf);
	return ok;
}

/* zapcore.EntryCaller.TrimmedPath: the last folder and the file name. */
static const char *short_path(const char *file)
{
	const char *last = strrchr(file, '/');

	if (!last)
		return file;
	for (const char *q = last; q > file; q--)
		if (q[-1] == '/')
			return q;
	return file;
}

/* A line's object so far: its caller. */
static json_t *head(const char *file, int line)
{
	json_t *o = json_object();
	char *caller = xasprintf("%s:%d", short_path(file), line);

	json_object_set_new_nocheck(o, "caller", jstr(caller, strlen(caller)));
	free(caller);
	return o;
}

char *log_json_line(enum log_severity sev, int v, const char *file, int line, int64_t ts_ns,
		    const char *text)
{
	bool is_error = sev == LOG_SEV_ERROR;
	int info_v = is_error ? -1 : v;
	json_t *o = head(file, line), *err = NULL;
	char *body, *out;

	if (!parse_structured(text, is_error, o, &err, info_v)) {
		json_decref(o);
		json_decref(err);
		err = NULL;
		o = head(file, line);
		json_object_set_new_nocheck(o, "msg", jstr(text, strlen(text)));
		if (info_v >= 0)
			json_object_set_new_nocheck(o, "v", json_integer(info_v));
	}
	if (err)
		json_object_set_new_nocheck(o, "err", err);
	body = xcheck(json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)),
		      "json_dumps");
	json_decref(o);
	if (ts_ns < 0)
		ts_ns = 0;
	/* "{"ts":<ms>.<ns within the ms>," then the object without its "{". */
	out = xasprintf("{\"ts\":%lld.%06lld,%s", (long long)(ts_ns / NS_PER_MS),
			(long long)(ts_ns % NS_PER_MS), body + 1);
	free(body);
	return out;
}
