/*
 * promtext.c - one line of the Prometheus text exposition format (0.0.4),
 * as Prometheus' PromParser reads it, but stricter where the text is
 * broken: label values allow only the \\ \" \n escapes, must be valid
 * UTF-8 without control bytes, and a metric name must be followed by a
 * blank or '{'.  Timestamps are unsigned integers (milliseconds), so a
 * negative one is an error, as upstream.
 *
 * Hot path: one pass over the line with a byte-class table, no
 * allocation, no callbacks.
 */
#include "scraper/scraper_int.h"

#include <stdio.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

enum {
	C_NAME0 = 1 << 0,  /* [a-zA-Z_:]  metric name start */
	C_NAME = 1 << 1,   /* [a-zA-Z0-9_:] */
	C_LNAME0 = 1 << 2, /* [a-zA-Z_]   label name start */
	C_LNAME = 1 << 3,  /* [a-zA-Z0-9_] */
	C_BLANK = 1 << 4,  /* ' ' '\t' */
	C_LVSTOP = 1 << 5, /* ends a plain run in a label value: " \ ctl >=0x80 */
	C_VSTOP = 1 << 6,  /* ends the value token: ' ' '\t' '{' */
	C_DIGIT = 1 << 7,
};

static uint8_t cls[256];

static void __attribute__((constructor)) promtext_init_classes(void)
{
	for (int c = 0; c < 256; c++) {
		uint8_t v = 0;
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		bool digit = c >= '0' && c <= '9';

		if (alpha || c == '_' || c == ':')
			v |= C_NAME0 | C_NAME;
		if (digit)
			v |= C_NAME | C_LNAME | C_DIGIT;
		if (alpha || c == '_')
			v |= C_LNAME0 | C_LNAME;
		if (c == ' ' || c == '\t')
			v |= C_BLANK | C_VSTOP;
		if (c == '{')
			v |= C_VSTOP;
		if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f || c >= 0x80)
			v |= C_LVSTOP;
		cls[c] = v;
	}
}

#define CLS(p) cls[(unsigned char)*(p)]

/* SWAR tests on 8 bytes at once (Hacker's Delight / bit twiddling hacks;
 * "has" answers are exact for n <= 128). */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)
#define HAS_ZERO(v) (((v) - ONES) & ~(v) & HIGHS)
#define HAS_LESS(v, n) (((v) - ONES * (n)) & ~(v) & HIGHS)
#define HAS_MORE(v, n) ((((v) + ONES * (127 - (n))) | (v)) & HIGHS)
#define HAS_BYTE(v, b) HAS_ZERO((v) ^ (ONES * (b)))

static inline uint64_t load8(const char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* 8 bytes of a label value with nothing to look at (no quote, backslash,
 * control byte or non-ASCII). */
static inline bool lv_plain8(const char *p)
{
	uint64_t v = load8(p);

	return !(HAS_LESS(v, 0x20) | HAS_MORE(v, 0x7e) | HAS_BYTE(v, '"') | HAS_BYTE(v, '\\'));
}

/* 8 bytes of comment text that are printable ASCII (or DEL). */
static inline bool text_plain8(const char *p)
{
	uint64_t v = load8(p);

	return !(HAS_LESS(v, 0x20) | (v & HIGHS));
}

/* 8 bytes of [_a-z] (most of a metric name). */
static inline bool name_plain8(const char *p)
{
	uint64_t v = load8(p);

	return !(HAS_LESS(v, 0x5f) | HAS_MORE(v, 0x7a) | HAS_BYTE(v, 0x60));
}

/*
 * Spans: how far the bytes that need no look go, 16 at a time with SSE2
 * (every x86-64), else 8 with SWAR; the caller looks at the byte after.
 * Signed compares: bytes >= 0x80 are negative, so "< 0x20" catches them.
 */
#if defined(__SSE2__)
static inline unsigned stops16(__m128i v, int kind)
{
	__m128i m;

	if (kind == 0) { /* label value: " \ ctl DEL non-ASCII */
		m = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
					      _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))),
				 _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
					      _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
	} else if (kind == 1) { /* comment text: ctl (tab too), non-ASCII */
		m = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
	} else { /* metric name: anything but [_a-z] */
		__m128i az = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('a' - 1)),
					   _mm_cmplt_epi8(v, _mm_set1_epi8('z' + 1)));
		m = _mm_or_si128(az, _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
		return (unsigned)_mm_movemask_epi8(m) ^ 0xffffu;
	}
	return (unsigned)_mm_movemask_epi8(m);
}
#endif

enum { SPAN_LVALUE, SPAN_TEXT, SPAN_NAME };

static inline const char *span(const char *p, const char *end, int kind)
{
#if defined(__SSE2__)
	while (end - p >= 16) {
		unsigned bits = stops16(_mm_loadu_si128((const __m128i *)(const void *)p), kind);
		if (bits)
			return p + __builtin_ctz(bits);
		p += 16;
	}
#endif
	if (kind == SPAN_LVALUE)
		while (end - p >= 8 && lv_plain8(p))
			p += 8;
	else if (kind == SPAN_TEXT)
		while (end - p >= 8 && text_plain8(p))
			p += 8;
	else
		while (end - p >= 8 && name_plain8(p))
			p += 8;
	return p;
}

struct cur {
	const char *p, *end;
	char *err;
	size_t errlen;
};

/* Writes "what, got "<token>"" into the error buffer; returns ERR_PARSE. */
static int fail_got(struct cur *c, const char *what, const char *tok, size_t toklen)
{
	char q[48];
	size_t i, j = 0;

	for (i = 0; i < toklen && j + 5 < sizeof(q); i++) {
		unsigned char ch = (unsigned char)tok[i];

		if (ch == '"' || ch == '\\') {
			q[j++] = '\\';
			q[j++] = (char)ch;
		} else if (ch >= 0x20 && ch < 0x7f) {
			q[j++] = (char)ch;
		} else {
			j += (size_t)snprintf(q + j, sizeof(q) - j, "\\x%02x", ch);
		}
	}
	q[j] = '\0';
	if (toklen == 0)
		snprintf(c->err, c->errlen, "%s, got end of line", what);
	else
		snprintf(c->err, c->errlen, "%s, got \"%s%s\"", what, q, i < toklen ? "..." : "");
	return ERR_PARSE;
}

static int fail(struct cur *c, const char *what)
{
	snprintf(c->err, c->errlen, "%s", what);
	return ERR_PARSE;
}

static inline void skip_blank(struct cur *c)
{
	while (c->p < c->end && (CLS(c->p) & C_BLANK))
		c->p++;
}

/* Length of the token at p that ends at a blank (for errors). */
static size_t token_len_at(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && !(CLS(q) & C_BLANK))
		q++;
	return (size_t)(q - p);
}

static size_t token_len(const struct cur *c)
{
	return token_len_at(c->p, c->end);
}

/* Length of a valid UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned char b = p[0];
	size_t n;
	uint32_t cp;

	if (b >= 0xc2 && b <= 0xdf)
		n = 2, cp = b & 0x1f;
	else if (b >= 0xe0 && b <= 0xef)
		n = 3, cp = b & 0x0f;
	else if (b >= 0xf0 && b <= 0xf4)
		n = 4, cp = b & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* A quoted label value; c->p is just past the opening quote. */
static int lex_label_value(struct cur *c, struct scraper__lval *out)
{
	const char *start = c->p;
	bool escaped = false;

	for (;;) {
		c->p = span(c->p, c->end, SPAN_LVALUE);
		while (c->p < c->end && !(CLS(c->p) & C_LVSTOP))
			c->p++;
		if (c->p >= c->end)
			return fail(c, "unterminated label value");
		unsigned char ch = (unsigned char)*c->p;
		if (ch == '"')
			break;
		if (ch == '\\') {
			char e = c->p + 1 < c->end ? c->p[1] : '\0';
			if (e != '\\' && e != '"' && e != 'n')
				return fail_got(c, "invalid escape sequence in label value", c->p, 2);
			escaped = true;
			c->p += 2;
		} else if (ch >= 0x80) {
			size_t n = utf8_seq((const unsigned char *)c->p, (const unsigned char *)c->end);
			if (n == 0)
				return fail(c, "invalid UTF-8 in label value");
			c->p += n;
		} else if (ch == '\t') {
			c->p++;
		} else {
			return fail_got(c, "control character in label value", c->p, 1);
		}
	}
	out->p = start;
	out->len = (uint32_t)(c->p - start);
	out->escaped = escaped;
	c->p++; /* closing quote */
	return 0;
}

/* Which of the three labels we read a label name is, or NULL. */
static struct scraper__lval *known_label(struct scraper__sample *s, const char *n, size_t len)
{
	if (len == 3 && memcmp(n, "pod", 3) == 0)
		return &s->pod;
	if (len == 9 && memcmp(n, "container", 9) == 0)
		return &s->container;
	if (len == 9 && memcmp(n, "namespace", 9) == 0)
		return &s->ns;
	return NULL;
}

/* Fast path: `pod="`, `container="` or `namespace="` at p (the common
 * spelling, no blanks): the label and its name's length, else NULL. */
static inline struct scraper__lval *quoted_known_label(struct scraper__sample *s, const char *p,
						       const char *end, size_t *nlen)
{
	if (end - p >= 11 && p[9] == '=' && p[10] == '"') {
		*nlen = 9;
		if (memcmp(p, "container", 9) == 0)
			return &s->container;
		if (memcmp(p, "namespace", 9) == 0)
			return &s->ns;
	}
	if (end - p >= 5 && memcmp(p, "pod=\"", 5) == 0) {
		*nlen = 3;
		return &s->pod;
	}
	return NULL;
}

/* A label name, '=' and the value's opening quote; *nlen the name's length. */
static int lex_label_name(struct cur *c, size_t *nlen)
{
	const char *name = c->p;

	if (c->p >= c->end || !(CLS(c->p) & C_LNAME0))
		return fail_got(c, "expected label name", c->p, token_len(c));
	while (c->p < c->end && (CLS(c->p) & C_LNAME))
		c->p++;
	*nlen = (size_t)(c->p - name);
	skip_blank(c);
	if (c->p >= c->end || *c->p != '=')
		return fail_got(c, "expected '=' after label name", c->p, token_len(c));
	c->p++;
	skip_blank(c);
	if (c->p >= c->end || *c->p != '"')
		return fail_got(c, "expected '\"' at start of label value", c->p, token_len(c));
	c->p++;
	return 0;
}

/* The label set; c->p is just past '{'. */
static int lex_labels(struct cur *c, struct scraper__sample *s)
{
	for (;;) {
		skip_blank(c);
		if (c->p < c->end && *c->p == '}')
			break;
		const char *name = c->p;
		size_t nlen;
		struct scraper__lval *k = quoted_known_label(s, c->p, c->end, &nlen);
		if (k) {
			c->p += nlen + 2; /* the name, '=' and '"' */
		} else {
			int rc = lex_label_name(c, &nlen);
			if (rc)
				return rc;
			k = known_label(s, name, nlen);
		}
		struct scraper__lval v;
		int rc = lex_label_value(c, &v);
		if (rc)
			return rc;
		if (k) {
			if (k->p)
				return fail_got(c, "duplicate label", name, nlen);
			*k = v;
		}
		skip_blank(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == '}')
			break;
		return fail_got(c, "expected ',' or '}' after label value", c->p, token_len(c));
	}
	c->p++; /* '}' */
	return 0;
}

static enum scraper__metric classify(const char *n, size_t len)
{
	switch (len) {
	case 28:
		if (memcmp(n, "node_cpu_usage_seconds_total", 28) == 0)
			return SCRAPER__M_NODE_CPU;
		if (memcmp(n, "container_start_time_seconds", 28) == 0)
			return SCRAPER__M_CONT_START;
		break;
	case 29:
		if (memcmp(n, "node_memory_working_set_bytes", 29) == 0)
			return SCRAPER__M_NODE_MEM;
		break;
	case 33:
		if (memcmp(n, "container_cpu_usage_seconds_total", 33) == 0)
			return SCRAPER__M_CONT_CPU;
		break;
	case 34:
		if (memcmp(n, "container_memory_working_set_bytes", 34) == 0)
			return SCRAPER__M_CONT_MEM;
		break;
	default:
		break;
	}
	return SCRAPER__M_OTHER;
}

/* "[ \t]*<digits>[ \t]*" up to the end; c->p is after the value. */
static int lex_timestamp(struct cur *c, struct scraper__sample *s)
{
	skip_blank(c);
	if (c->p >= c->end)
		return 0;
	if (!(CLS(c->p) & C_DIGIT))
		return fail_got(c, "expected timestamp or new record", c->p, token_len(c));
	const char *start = c->p;
	uint64_t ms = 0; /* wraps past 19 digits, but those are refused */
	uint32_t v8;
	while (c->end - c->p >= 8 && scraper__digits8(c->p, &v8)) {
		ms = ms * 100000000u + v8;
		c->p += 8;
	}
	for (; c->p < c->end && (CLS(c->p) & C_DIGIT); c->p++)
		ms = ms * 10 + (uint64_t)(*c->p - '0');
	/* up to 19 digits fit in uint64; time.Unix(0, ms*1e6) must fit int64 */
	if (c->p - start > 19)
		return fail_got(c, "timestamp out of range", start, token_len_at(start, c->end));
	if (ms > (uint64_t)(INT64_MAX / NS_PER_MS))
		return fail_got(c, "timestamp out of range", start, token_len_at(start, c->end));
	skip_blank(c);
	if (c->p < c->end)
		return fail_got(c, "expected next entry after timestamp", c->p, token_len(c));
	s->has_ts = true;
	s->ts_ms = (int64_t)ms;
	return 0;
}

/* Comment lines: HELP and TYPE are checked, other comments only for
 * encoding (valid UTF-8, no control bytes but tab). */
static int lex_comment(struct cur *c)
{
	const char *q = c->p;

	while (q < c->end) {
		q = span(q, c->end, SPAN_TEXT);
		if (q >= c->end)
			break;
		unsigned char ch = (unsigned char)*q;
		if (ch >= 0x80) {
			size_t n = utf8_seq((const unsigned char *)q, (const unsigned char *)c->end);
			if (n == 0)
				return fail(c, "invalid UTF-8 in comment");
			q += n;
		} else if (ch < 0x20 && ch != '\t') {
			return fail_got(c, "control character in comment", q, 1);
		} else {
			q++;
		}
	}
	c->p++; /* '#' */
	const char *kw = c->p;
	skip_blank(c);
	if (c->p == kw || c->end - c->p < 5)
		return 0;
	bool is_type = memcmp(c->p, "TYPE", 4) == 0;
	if (!is_type && memcmp(c->p, "HELP", 4) != 0)
		return 0;
	if (!(CLS(c->p + 4) & C_BLANK))
		return 0; /* "# HELPx": a plain comment */
	c->p += 4;
	skip_blank(c);
	if (c->p >= c->end || !(CLS(c->p) & C_NAME0))
		return fail_got(c, "invalid metric name in comment", c->p, token_len(c));
	while (c->p < c->end && (CLS(c->p) & C_NAME))
		c->p++;
	if (c->p < c->end && !(CLS(c->p) & C_BLANK))
		return fail_got(c, "invalid metric name in comment", c->p, token_len(c));
	if (!is_type)
		return 0;
	skip_blank(c);
	static const char *const types[] = {"counter", "gauge", "histogram", "summary", "untyped"};
	size_t tl = token_len(c);
	for (size_t i = 0; i < COMMON_ARRAY_LEN(types); i++) {
		if (tl == strlen(types[i]) && memcmp(c->p, types[i], tl) == 0) {
			c->p += tl;
			skip_blank(c);
			if (c->p == c->end)
				return 0;
			break;
		}
	}
	return fail_got(c, "invalid metric type", c->p, token_len(c));
}

int scraper__promtext_line(const char *line, size_t len, struct scraper__sample *s, char *err,
			   size_t errlen)
{
	struct cur c = {line, line + len, err, errlen};
	int rc;

	skip_blank(&c);
	if (c.p >= c.end)
		return 0;
	if (*c.p == '#')
		return lex_comment(&c);
	if (!(CLS(c.p) & C_NAME0))
		return fail_got(&c, "expected metric name", c.p, token_len(&c));
	const char *name = c.p;
	c.p = span(c.p, c.end, SPAN_NAME);
	while (c.p < c.end && (CLS(c.p) & C_NAME))
		c.p++;
	s->metric = classify(name, (size_t)(c.p - name));
	s->container.p = s->pod.p = s->ns.p = NULL;
	s->has_ts = false;
	if (c.p < c.end && !(CLS(c.p) & C_VSTOP))
		return fail_got(&c, "invalid metric name", name, token_len_at(name, c.end));
	skip_blank(&c);
	if (c.p < c.end && *c.p == '{') {
		c.p++;
		rc = lex_labels(&c, s);
		if (rc)
			return rc;
		skip_blank(&c);
	}
	/* The value token runs to a blank or '{'.  A plain decimal that ends
	 * there is that token's value; anything else takes the full path. */
	const char *v = c.p, *q = scraper__parse_float_prefix(v, c.end, &s->value);
	if (q && (q == c.end || (CLS(q) & C_VSTOP))) {
		c.p = q;
	} else {
		while (c.p < c.end && !(CLS(c.p) & C_VSTOP))
			c.p++;
		if (c.p == v)
			return fail_got(&c, "expected value after metric", c.p, token_len(&c));
		if (scraper__parse_float(v, (size_t)(c.p - v), &s->value))
			return fail_got(&c, "expected float as value", v, (size_t)(c.p - v));
	}
	rc = lex_timestamp(&c, s);
	return rc ? rc : 1;
}

size_t scraper__lval_unescape(const struct scraper__lval *lv, char *out)
{
	size_t j = 0;

	for (uint32_t i = 0; i < lv->len; i++) {
		char ch = lv->p[i];
		if (ch == '\\' && i + 1 < lv->len) {
			ch = lv->p[++i];
			if (ch == 'n')
				ch = '\n';
		}
		out[j++] = ch;
	}
	out[j] = '\0';
	return j;
}
