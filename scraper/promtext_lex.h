/*
 * promtext_lex.h - the line tokenizer's pieces shared by promtext.c (the
 * kubelet decoder's mode, comments, label values) and promtext_gen.c
 * (expfmt's mode: every label, quoted names, OpenMetrics), and by
 * expfmt_check.c for the quoting; everything here is inline or
 * scraper__pt_*.
 */
#ifndef SCRAPER_PROMTEXT_LEX_H
#define SCRAPER_PROMTEXT_LEX_H

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

/* Byte classes, filled before main() (promtext.c). */
extern uint8_t scraper__pt_cls[256];

#define CLS(p) scraper__pt_cls[(unsigned char)*(p)]

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
	struct scraper__pline *pl; /* NULL: the kubelet decoder's mode */
	bool om;                   /* OpenMetrics 1.0 */
	bool discard;              /* reading an exemplar's labels */
};

/* Message for the kubelet mode, or expfmt's wording in the generic one. */
#define MSG(c, kubelet, generic) ((c)->pl ? (generic) : (kubelet))

/* OpenMetrics has no optional blanks: there, nothing is skipped. */
static inline void skip_blank(struct cur *c)
{
	if (c->om)
		return;
	while (c->p < c->end && (CLS(c->p) & C_BLANK))
		c->p++;
}

/* Length of the token at p that ends at a blank (for errors). */
static inline size_t token_len_at(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && !(CLS(q) & C_BLANK))
		q++;
	return (size_t)(q - p);
}

static inline size_t token_len(const struct cur *c)
{
	return token_len_at(c->p, c->end);
}

/* Error texts into c->err; each returns ERR_PARSE. */
/* tok as Go's %q would print its printable ASCII (others as \xNN), cut
 * to fit q; returns how many bytes of tok were written. */
size_t scraper__pt_quote(char *q, size_t qlen, const char *tok, size_t toklen);
/* "what, got "<token>"" */
int scraper__pt_fail_got(struct cur *c, const char *what, const char *tok, size_t toklen);
/* "what "<token>"" (Go's "%s %q") */
int scraper__pt_fail_quoted(struct cur *c, const char *what, const char *tok, size_t toklen);
int scraper__pt_fail(struct cur *c, const char *what);

/* A quoted string (label value, or a quoted name in expfmt's mode); c->p
 * is just past the opening quote, and ends past the closing one. */
int scraper__pt_label_value(struct cur *c, struct scraper__lval *out);
/* A label name, '=' and the value's opening quote; *nlen the name's length. */
int scraper__pt_label_name(struct cur *c, size_t *nlen);
/* A comment line's encoding: valid UTF-8, no control byte but tab. */
int scraper__pt_check_text(struct cur *c);
/* A text-format comment line (c->p at '#'): HELP and TYPE checked and,
 * with c->pl, reported. */
int scraper__pt_comment(struct cur *c);

/* The value token runs to a blank or '{'.  A plain decimal that ends
 * there is that token's value; anything else takes the full path. */
static inline int lex_value(struct cur *c, double *out)
{
	const char *v = c->p, *q = scraper__parse_float_prefix(v, c->end, out);

	if (q && (q == c->end || (CLS(q) & C_VSTOP))) {
		c->p = q;
		return 0;
	}
	while (c->p < c->end && !(CLS(c->p) & C_VSTOP))
		c->p++;
	if (c->p == v)
		return scraper__pt_fail_got(c, "expected value after metric", c->p, token_len(c));
	if (scraper__parse_float(v, (size_t)(c->p - v), out))
		return scraper__pt_fail_got(c, "expected float as value", v, (size_t)(c->p - v));
	return 0;
}

#endif
