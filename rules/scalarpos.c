/*
 * scalarpos.c - where a byte of a YAML scalar's value is in the file.
 * The marks of common/yamlmarks give where a scalar starts (its quote,
 * its `|`/`>` indicator, or its first character); from there the source
 * is walked as libyaml decodes it, in step with the value, until the byte
 * wanted: plain and quoted scalars (with '' and backslash escapes, one or
 * more lines folded), literal and folded block scalars with an
 * auto-detected indentation.  A byte made by folding a line break maps
 * to that line's end; a byte made by an escape maps to its backslash.
 * When the walk loses step with the value (an explicit indentation
 * indicator such as `|2`, whose parent indentation the marks do not give,
 * or anything unforeseen), the scalar's start is used instead.
 */
#include "rules/rules_int.h"

#include <string.h>

struct walk {
	const char *t; /* the file */
	size_t len, s; /* its length, the walk's position */
	const char *v; /* the value */
	size_t vlen, i;
	char style; /* 0 plain, '\'', '"', '|', '>' */
	size_t indent;
};

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Whether the blanks from s lead to a line break (the end of a line). */
static bool line_end_ahead(const struct walk *w)
{
	size_t s = w->s;

	while (s < w->len && blank(w->t[s]))
		s++;
	return s < w->len && w->t[s] == '\n';
}

/* At a line break: past it and the next line's indentation.  A folded or
 * kept break may stand for one value byte (' ' or '\n'), mapped here. */
static void line_break(struct walk *w, size_t *at)
{
	size_t n = 0;

	if (w->v[w->i] == ' ' || w->v[w->i] == '\n') {
		*at = w->s;
		w->i++;
	}
	w->s++;
	while (w->s < w->len && w->t[w->s] == ' ' && (!w->style || w->style == '\'' ||
						       w->style == '"' || n < w->indent)) {
		w->s++;
		n++;
	}
	if (w->style != '|' && w->style != '>')
		while (w->s < w->len && blank(w->t[w->s]))
			w->s++;
}

static size_t utf8(unsigned long cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A double-quoted scalar's escape at w->s (the backslash): its bytes in
 * out, the source length in *n; 0 bytes for an escaped line break, -1 if
 * not an escape libyaml knows. */
static int escape(const struct walk *w, char *out, size_t *n)
{
	static const char simple[] = "0\0a\ab\bt\tn\nv\vf\fr\re\x1b \040\"\"//\\\\";
	static const struct { char c; unsigned long cp; } named[] = {
		{ 'N', 0x85 }, { '_', 0xa0 }, { 'L', 0x2028 }, { 'P', 0x2029 }, { '\t', '\t' },
	};
	char c = w->s + 1 < w->len ? w->t[w->s + 1] : 0;
	size_t digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
	unsigned long cp = 0;

	*n = 2;
	if (c == '\n')
		return 0;
	for (size_t k = 0; k + 1 < sizeof(simple); k += 2)
		if (simple[k] == c) {
			out[0] = simple[k + 1];
			return 1;
		}
	for (size_t k = 0; k < COMMON_ARRAY_LEN(named); k++)
		if (named[k].c == c)
			return (int)utf8(named[k].cp, out);
	if (!digits || w->s + 2 + digits > w->len)
		return -1;
	for (size_t k = 0; k < digits; k++) {
		char h = w->t[w->s + 2 + k];
		const char *hex = "0123456789abcdef", *p;

		if (h >= 'A' && h <= 'F')
			h = (char)(h - 'A' + 'a');
		if (!h || !(p = strchr(hex, h)))
			return -1;
		cp = cp * 16 + (unsigned long)(p - hex);
	}
	*n = 2 + digits;
	return cp > 0x10ffff ? -1 : (int)utf8(cp, out);
}

/* Past a block scalar's header line; false for an explicit indentation
 * indicator or no content. */
static bool block_header(struct walk *w)
{
	size_t s, col;

	for (w->s++; w->s < w->len && (w->t[w->s] == '+' || w->t[w->s] == '-'); w->s++)
		;
	if (w->s < w->len && w->t[w->s] >= '1' && w->t[w->s] <= '9')
		return false;
	while (w->s < w->len && w->t[w->s] != '\n')
		w->s++; /* blanks, a comment */
	if (w->s >= w->len)
		return false;
	w->s++;
	for (s = w->s; s < w->len;) { /* the first non-empty line sets the indentation */
		for (col = 0; s < w->len && w->t[s] == ' '; s++)
			col++;
		if (s < w->len && w->t[s] != '\n' && w->t[s] != '\r') {
			w->indent = col;
			break;
		}
		while (s < w->len && w->t[s] != '\n')
			s++;
		s++;
	}
	/* the walk starts on the first line, as after a line break */
	for (col = 0; w->s < w->len && w->t[w->s] == ' ' && col < w->indent; col++)
		w->s++;
	return w->indent > 0;
}

/* Walks to value byte off: its position in the file, or false. */
static bool walk(struct walk *w, size_t off, size_t *at)
{
	char buf[4];
	size_t n;
	int k;

	while (w->i <= off) {
		if (w->s >= w->len || w->i >= w->vlen)
			return false;
		if (w->t[w->s] == '\n') {
			line_break(w, at);
			continue;
		}
		if (w->style != '|' && w->style != '>' && blank(w->t[w->s]) && line_end_ahead(w)) {
			while (blank(w->t[w->s]))
				w->s++; /* a flow scalar's trailing blanks are folded away */
			continue;
		}
		if (w->style == '\'' && w->t[w->s] == '\'') {
			if (w->s + 1 >= w->len || w->t[w->s + 1] != '\'' || w->v[w->i] != '\'')
				return false;
			*at = w->s;
			w->s += 2;
			w->i++;
			continue;
		}
		if (w->style == '"' && w->t[w->s] == '\\') {
			if ((k = escape(w, buf, &n)) < 0)
				return false;
			if (k == 0) { /* an escaped line break: nothing, nor the next indentation */
				w->s += n;
				while (w->s < w->len && blank(w->t[w->s]))
					w->s++;
				continue;
			}
			if (w->i + (size_t)k > w->vlen || memcmp(w->v + w->i, buf, (size_t)k) != 0)
				return false;
			*at = w->s;
			w->s += n;
			w->i += (size_t)k;
			continue;
		}
		if (w->t[w->s] != w->v[w->i])
			return false;
		*at = w->s++;
		w->i++;
	}
	return true;
}

/* The mark of byte offset s of text: 1-based line, column in characters
 * (as libyaml counts them). */
static struct yamldoc_mark mark_at(const char *t, size_t s)
{
	struct yamldoc_mark m = { 1, 1 };

	for (size_t k = 0; k < s; k++) {
		if (t[k] == '\n') {
			m.line++;
			m.col = 1;
		} else if (((unsigned char)t[k] & 0xc0) != 0x80) {
			m.col++;
		}
	}
	return m;
}

bool rules__scalar_pos(const char *text, size_t len, struct yamldoc_mark start, const char *value,
		       size_t off, struct yamldoc_mark *out)
{
	struct walk w = { .t = text, .len = len, .v = value, .vlen = strlen(value) };
	size_t line = 1, at = 0;

	*out = start;
	if (!text || off >= w.vlen)
		return false;
	/* the byte offset of the start mark */
	while (w.s < len && line < start.line)
		if (text[w.s++] == '\n')
			line++;
	for (size_t col = 1; w.s < len && col < start.col && text[w.s] != '\n';) {
		w.s++; /* a column is a character: its continuation bytes come with it */
		if (w.s < len && ((unsigned char)text[w.s] & 0xc0) != 0x80)
			col++;
	}
	if (w.s >= len)
		return false;
	w.style = strchr("'\"|>", text[w.s]) ? text[w.s] : 0;
	if (w.style == '\'' || w.style == '"')
		w.s++;
	else if ((w.style == '|' || w.style == '>') && !block_header(&w))
		return false;
	if (!walk(&w, off, &at))
		return false;
	*out = mark_at(text, at);
	return true;
}
