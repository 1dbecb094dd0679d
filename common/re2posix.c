/*
 * re2posix.c - Go (RE2) regular expressions as POSIX EREs for regcomp
 * (REG_EXTENDED, no REG_NEWLINE, the "C" locale of this process): one
 * translator for PromQL's label matchers and the adapter's config.
 *
 *   \d \D \w \W \s \S       -> bracket expressions (\d \w \s also inside [])
 *   \n \t \r \f \v \a       -> the character
 *   \ + ASCII non-word char -> that character, quoted where ERE reads it
 *                              (\< stays the character, not glibc's anchor)
 *   .                       -> [^\n] (RE2's dot without the s flag)
 *   (?:re)                  -> a POSIX group that is no RE2 capture
 *   (?P<name>re) (?<name>re) -> a capture with a name
 *   [...]                   -> rebuilt: ] [ ^ - as collating symbols [.c.],
 *                              [:word:] [:ascii:] spelled out
 *   {n} {n,} {n,m}          -> kept (n, m <= 1000); any other { is literal
 *   a non-ASCII literal under a repetition -> grouped, so the whole
 *                              character repeats
 * Go's syntax errors come back with regexp/syntax's words (missing closing
 * ), unexpected ), invalid nested repetition operator, ...); RE2 constructs
 * without a POSIX equivalent are refused: flags, lazy quantifiers, \b \B
 * \A \z \p \P \Q \C \x, octal and back-references, \D \W \S \p inside
 * brackets, [[:^alpha:]], non-ASCII characters inside brackets.
 *
 * What stays different from RE2: POSIX picks the leftmost-longest match,
 * so the text a group captures can differ for alternations (never whether
 * a string matches); '.' and negated classes see bytes, not UTF-8
 * characters ("^.$" does not match "é"); nested counted repetitions are
 * not multiplied out against RE2's limit of 1000; "^*" is left to regcomp.
 */
#include "common/common_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPEAT 1000

enum last { NOTHING, ATOM, REPEAT };

struct tr {
	const char *s;  /* the whole expression */
	const char *p;  /* where we are */
	struct dynbuf out;
	enum last last;
	const char *rep; /* the last repetition operator, when last == REPEAT */
	size_t depth;
	struct re2_ere *ere;
	struct re2_error *e;
};

static bool fail(struct tr *t, enum re2_why why, const char *at, size_t len)
{
	t->e->why = why;
	t->e->at = (size_t)(at - t->s);
	t->e->len = len;
	return false;
}

/* The output is bounded by 8 bytes per input byte (see re2_translate). */
static void out(struct tr *t, const char *s, size_t n)
{
	if (dynbuf_add(&t->out, s, n) != 0)
		xoom_abort("re2posix: translation past its bound");
}

static void outs(struct tr *t, const char *s)
{
	out(t, s, strlen(s));
}

static bool is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Length of the UTF-8 sequence at p (Go's decoder: no overlongs, no
 * surrogates, at most U+10FFFF); 0 when invalid. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xE0)
		lo = 0xA0;
	else if (p[0] == 0xED)
		hi = 0x9F;
	else if (p[0] == 0xF0)
		lo = 0x90;
	else if (p[0] == 0xF4)
		hi = 0x8F;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

static const char *perl_class(char c, bool in_bracket)
{
	switch (c) {
	case 'd': return in_bracket ? "0-9" : "[0-9]";
	case 'w': return in_bracket ? "0-9A-Za-z_" : "[0-9A-Za-z_]";
	case 's': return in_bracket ? "\t\n\f\r " : "[\t\n\f\r ]";
	case 'D': return in_bracket ? NULL : "[^0-9]";
	case 'W': return in_bracket ? NULL : "[^0-9A-Za-z_]";
	case 'S': return in_bracket ? NULL : "[^\t\n\f\r ]";
	default: return NULL;
	}
}

/* The character of a one-character escape \c (c ASCII), or 0. */
static char escaped_char(char c)
{
	switch (c) {
	case 'n': return '\n';
	case 't': return '\t';
	case 'r': return '\r';
	case 'f': return '\f';
	case 'v': return '\v';
	case 'a': return '\a';
	default: return is_alnum((unsigned char)c) || (c & 0x80) || c == 0 ? 0 : c;
	}
}

/* Length of the escape at p ("\" and one character, whole if UTF-8). */
static size_t escape_len(const char *p)
{
	size_t n = utf8_len((const unsigned char *)p + 1);

	return 1 + (n ? n : 1);
}

/* {n} {n,} {n,m} at p as Go's parseRepeat reads it: its length, or 0 when
 * the brace is a literal; *bad when a count is out of range. */
static size_t repeat_len(const char *p, bool *bad)
{
	const char *q = p + 1;
	long v[2] = { -1, -1 };

	*bad = false;
	for (int k = 0; k < 2; k++) {
		if (*q < '0' || *q > '9' || (q[0] == '0' && q[1] >= '0' && q[1] <= '9'))
			return 0; /* Go: no leading zeros */
		for (v[k] = 0; *q >= '0' && *q <= '9'; q++)
			v[k] = v[k] < 100000000 ? v[k] * 10 + (*q - '0') : v[k];
		if (k == 1 || *q != ',')
			break;
		if (*++q == '}') {
			v[1] = -2; /* {n,}: no maximum */
			break;
		}
	}
	if (*q != '}')
		return 0;
	if (v[1] == -1)
		v[1] = v[0];
	if (v[0] > MAX_REPEAT || v[1] > MAX_REPEAT || (v[1] >= 0 && v[0] > v[1]))
		*bad = true;
	return (size_t)(q + 1 - p);
}

/* The repetition operator at t->p (length n, a brace already checked). */
static bool repetition(struct tr *t, size_t n)
{
	const char *op = t->p;
	size_t lazy = op[n] == '?';

	if (t->last == REPEAT)
		return fail(t, RE2_ERR_REPEAT_OP, t->rep, (size_t)(op + n + lazy - t->rep));
	if (t->last == NOTHING)
		return fail(t, RE2_ERR_REPEAT_ARG, op, n + lazy);
	if (lazy)
		return fail(t, RE2_LAZY, op, n + 1);
	out(t, op, n);
	t->p += n;
	t->rep = op;
	t->last = REPEAT;
	return true;
}

/* Whether a repetition operator starts at p. */
static bool repeat_follows(const char *p)
{
	bool bad;

	return *p == '*' || *p == '+' || *p == '?' || (*p == '{' && repeat_len(p, &bad));
}

/* One character inside brackets, as POSIX reads it literally. */
static void class_char(struct tr *t, char c)
{
	char sym[6] = { '[', '.', c, '.', ']', 0 };

	if (c == ']' || c == '-' || c == '^' || c == '[')
		outs(t, sym);
	else
		out(t, &c, 1);
}

/* A single character of a class at t->p into *c (escapes decoded). */
static bool class_single(struct tr *t, const char *open, char *c)
{
	const char *p = t->p;

	if (*p == '\0')
		return fail(t, RE2_ERR_MISSING_BRACKET, open, strlen(open));
	if (*p == '\\') {
		if (p[1] == '\0')
			return fail(t, RE2_ERR_TRAILING_BACKSLASH, p + 1, 0);
		if (!(*c = escaped_char(p[1])))
			return fail(t, RE2_CLASS_ESCAPE, p, escape_len(p));
		t->p += 2;
		return true;
	}
	if ((unsigned char)*p >= 0x80) {
		size_t n = utf8_len((const unsigned char *)p);

		return n ? fail(t, RE2_CLASS, p, n) : fail(t, RE2_ERR_UTF8, p, 1);
	}
	*c = *p;
	t->p++;
	return true;
}

static const char *const posix_names[] = {
	"alnum", "alpha", "blank", "cntrl", "digit", "graph",
	"lower", "print", "punct", "space", "upper", "xdigit",
};

/* [:name:] at t->p: true when consumed (or failed: see t->e->why). */
static bool named_class(struct tr *t, bool *done)
{
	const char *p = t->p, *end = strstr(p + 2, ":]");
	size_t n;

	*done = false;
	if (!end)
		return true; /* Go: the '[' is a literal */
	*done = true;
	n = (size_t)(end - (p + 2));
	t->p = end + 2;
	if (n == 4 && memcmp(p + 2, "word", 4) == 0) {
		outs(t, "0-9A-Za-z_");
		return true;
	}
	if (n == 5 && memcmp(p + 2, "ascii", 5) == 0) {
		outs(t, "\x01-\x7f");
		return true;
	}
	for (size_t i = 0; i < COMMON_ARRAY_LEN(posix_names); i++) {
		const char *name = posix_names[i];

		if (strlen(name) == n && memcmp(p + 2, name, n) == 0) {
			out(t, p, n + 4);
			return true;
		}
		if (p[2] == '^' && strlen(name) == n - 1 && memcmp(p + 3, name, n - 1) == 0)
			return fail(t, RE2_CLASS, p, n + 4);
	}
	if (n == 5 && (memcmp(p + 2, "^word", 5) == 0))
		return fail(t, RE2_CLASS, p, n + 4);
	if (n == 6 && (memcmp(p + 2, "^ascii", 6) == 0))
		return fail(t, RE2_CLASS, p, n + 4);
	return fail(t, RE2_ERR_CHAR_RANGE, p, n + 4);
}

/* A bracket expression; t->p is at '['. */
static bool bracket(struct tr *t)
{
	const char *open = t->p;

	t->p++;
	outs(t, "[");
	if (*t->p == '^') {
		outs(t, "^");
		t->p++;
	}
	for (bool first = true; first || *t->p != ']'; first = false) {
		const char *item = t->p;
		char lo, hi;

		if (item[0] == '[' && item[1] == ':') {
			bool done;

			if (!named_class(t, &done))
				return false;
			if (done)
				continue;
		}
		if (item[0] == '\\' && (item[1] == 'p' || item[1] == 'P'))
			return fail(t, RE2_CLASS_ESCAPE, item, 2);
		if (item[0] == '\\' && item[1] && strchr("dwsDWS", item[1])) {
			const char *cls = perl_class(item[1], true);

			if (!cls)
				return fail(t, RE2_CLASS_ESCAPE, item, 2);
			outs(t, cls);
			t->p += 2;
			continue;
		}
		if (!class_single(t, open, &lo))
			return false;
		hi = lo;
		if (t->p[0] == '-' && t->p[1] != ']' && t->p[1] != '\0') {
			t->p++;
			if (!class_single(t, open, &hi))
				return false;
			if ((unsigned char)hi < (unsigned char)lo)
				return fail(t, RE2_ERR_CHAR_RANGE, item, (size_t)(t->p - item));
		}
		class_char(t, lo);
		if (hi != lo) {
			outs(t, "-");
			class_char(t, hi);
		}
	}
	t->p++;
	outs(t, "]");
	t->last = ATOM;
	return true;
}

/* After "(": a capture (named or not), (?:, or a refusal. */
static bool group(struct tr *t)
{
	const char *p = t->p, *name = NULL, *end = NULL;
	struct re2_ere *x = t->ere;

	if (p[1] == '?' && p[2] == ':') {
		t->p += 3;
	} else if (p[1] == '?' && (p[2] == '<' || p[2] == 'P')) {
		name = p + (p[2] == 'P' ? 4 : 3);
		if (p[2] == 'P' && p[3] != '<')
			return fail(t, RE2_ERR_NAMED_CAPTURE, p, strlen(p));
		if (!(end = strchr(name, '>')))
			return fail(t, RE2_ERR_NAMED_CAPTURE, p, strlen(p));
		if (end == name)
			return fail(t, RE2_ERR_NAMED_CAPTURE, p, (size_t)(end + 1 - p));
		for (const char *q = name; q < end; q++)
			if (!is_alnum((unsigned char)*q) && *q != '_')
				return fail(t, RE2_ERR_NAMED_CAPTURE, p, (size_t)(end + 1 - p));
		t->p = end + 1;
	} else if (p[1] == '?') {
		size_t n = strcspn(p + 1, ":)");

		return fail(t, RE2_FLAGS, p + 1, n < 8 ? n : 8);
	} else {
		t->p++;
	}
	x->nposix++;
	if (p[1] != '?' || name) {
		x->ngroups++;
		x->posix[x->ngroups] = x->nposix;
		x->names[x->ngroups] = name ? xstrndup(name, (size_t)(end - name)) : NULL;
	}
	outs(t, "(");
	t->depth++;
	t->last = NOTHING;
	return true;
}

/* A backslash outside brackets. */
static bool escape(struct tr *t)
{
	const char *p = t->p, *cls = p[1] ? perl_class(p[1], false) : NULL;
	char c = p[1] ? escaped_char(p[1]) : 0;

	if (p[1] == '\0')
		return fail(t, RE2_ERR_TRAILING_BACKSLASH, p + 1, 0);
	if (cls) {
		outs(t, cls);
	} else if (c && strchr(".[]()*+?{}|^$\\", c)) {
		out(t, p, 2);
	} else if (c) {
		out(t, &c, 1);
	} else {
		return fail(t, RE2_ESCAPE, p, escape_len(p));
	}
	t->p += 2;
	t->last = ATOM;
	return true;
}

/* One literal character (maybe several bytes). */
static bool literal(struct tr *t)
{
	size_t n = utf8_len((const unsigned char *)t->p);

	if (!n)
		return fail(t, RE2_ERR_UTF8, t->p, 1);
	if (n > 1 && repeat_follows(t->p + n)) {
		t->ere->nposix++;
		outs(t, "(");
		out(t, t->p, n);
		outs(t, ")");
	} else {
		out(t, t->p, n);
	}
	t->p += n;
	t->last = ATOM;
	return true;
}

static bool step(struct tr *t)
{
	const char *p = t->p;
	bool bad;
	size_t n;

	switch (*p) {
	case '(':
		return group(t);
	case ')':
		if (t->depth == 0)
			return fail(t, RE2_ERR_UNEXPECTED_PAREN, t->s, strlen(t->s));
		t->depth--;
		break;
	case '|':
		outs(t, "|");
		t->p++;
		t->last = NOTHING;
		return true;
	case '.':
		outs(t, "[^\n]");
		t->p++;
		t->last = ATOM;
		return true;
	case '[':
		return bracket(t);
	case '\\':
		return escape(t);
	case '*': case '+': case '?':
		return repetition(t, 1);
	case '{':
		if ((n = repeat_len(p, &bad)) != 0) {
			if (bad)
				return fail(t, RE2_ERR_REPEAT_SIZE, p, n);
			return repetition(t, n);
		}
		outs(t, "\\{"); /* RE2 takes a brace that starts no repeat literally */
		t->p++;
		t->last = ATOM;
		return true;
	case '^': case '$':
		break;
	default:
		return literal(t);
	}
	out(t, p, 1);
	t->p++;
	t->last = ATOM;
	return true;
}

int re2_translate(const char *re, unsigned opts, struct re2_ere *ere, struct re2_error *e)
{
	struct tr t = { .s = re, .p = re, .ere = ere, .e = e };
	size_t len = strlen(re), opens = 1;

	memset(ere, 0, sizeof(*ere));
	memset(e, 0, sizeof(*e));
	for (const char *q = re; *q; q++)
		opens += *q == '(';
	ere->posix = xcalloc(opens, sizeof(*ere->posix));
	ere->names = xcalloc(opens, sizeof(*ere->names));
	/* worst case: \W (2 bytes) -> [^0-9A-Za-z_] (13), plus the anchors */
	dynbuf_init(&t.out, 8 * len + 16);
	if ((opts & RE2_ANCHORED) && len == 0) {
		outs(&t, "^$"); /* some regcomps refuse the empty group of "^()$" */
	} else if (opts & RE2_ANCHORED) {
		outs(&t, "^(");
		ere->nposix = 1;
	}
	while (*t.p && step(&t))
		;
	if (!e->why && t.depth > 0)
		fail(&t, RE2_ERR_MISSING_PAREN, re, len);
	if (e->why) {
		dynbuf_clear(&t.out);
		re2_ere_clear(ere);
		return ERR_INVAL;
	}
	if ((opts & RE2_ANCHORED) && len > 0)
		outs(&t, ")$");
	ere->text = dynbuf_take(&t.out, NULL);
	return 0;
}

void re2_ere_clear(struct re2_ere *ere)
{
	if (ere->names)
		for (size_t i = 0; i <= ere->ngroups; i++)
			free(ere->names[i]);
	free(ere->names);
	free(ere->posix);
	free(ere->text);
	memset(ere, 0, sizeof(*ere));
}

const char *re2_why_text(enum re2_why why)
{
	switch (why) {
	case RE2_OK: return "ok";
	case RE2_FLAGS: return "flags and other group forms are not supported";
	case RE2_LAZY: return "lazy quantifiers (*? +? ?? {n,m}?) are not supported";
	case RE2_ESCAPE:
	case RE2_CLASS_ESCAPE:
	case RE2_CLASS: return "is not supported here (RE2 construct without a POSIX equivalent)";
	case RE2_ERR_TRAILING_BACKSLASH: return "trailing backslash at end of expression";
	case RE2_ERR_MISSING_BRACKET: return "missing closing ]";
	case RE2_ERR_MISSING_PAREN: return "missing closing )";
	case RE2_ERR_UNEXPECTED_PAREN: return "unexpected )";
	case RE2_ERR_NAMED_CAPTURE: return "invalid named capture";
	case RE2_ERR_REPEAT_OP: return "invalid nested repetition operator";
	case RE2_ERR_REPEAT_ARG: return "missing argument to repetition operator";
	case RE2_ERR_REPEAT_SIZE: return "invalid repeat count";
	case RE2_ERR_CHAR_RANGE: return "invalid character class range";
	case RE2_ERR_UTF8: return "invalid UTF-8";
	}
	return "invalid regular expression";
}

void re2_error_text(const char *re, const struct re2_error *e, char *buf, size_t len)
{
	int n = (int)e->len;
	const char *at = re + e->at;

	switch (e->why) {
	case RE2_FLAGS:
		snprintf(buf, len, "(%.*s): %s", n, at, re2_why_text(e->why));
		break;
	case RE2_ESCAPE:
	case RE2_CLASS_ESCAPE:
	case RE2_CLASS:
		snprintf(buf, len, "%.*s %s", n, at, re2_why_text(e->why));
		break;
	default:
		snprintf(buf, len, "%s", re2_why_text(e->why));
		break;
	}
}
