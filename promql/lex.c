/*
 * lex.c - PromQL tokens as Prometheus 2.42's lexer (promql/parser/lex.go)
 * splits them: identifiers with ':', numbers (decimal, hex, exponents,
 * Inf, NaN), strings in "", '' (Go escapes) and `` (raw), durations
 * inside brackets, operators, # comments.  Positions are byte offsets;
 * promql__errorf turns them into 1-based line:column.
 */
#include "promql/promql_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void promql__errorf(char *err, size_t errlen, const char *q, size_t pos, const char *fmt, ...)
{
	size_t line = 1, col = 1;
	size_t k;
	va_list ap;

	if (!err || errlen == 0)
		return;
	for (k = 0; k < pos && q[k]; k++) {
		if (q[k] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	k = (size_t)snprintf(err, errlen, "%zu:%zu: ", line, col);
	if (k >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + k, errlen - k, fmt, ap);
	va_end(ap);
}

/* model.ParseDuration: units y w d h m s ms, each once, in that order. */
int promql__parse_duration(const char *s, size_t n, int64_t *ms)
{
	static const struct { const char *u; int64_t ms; } units[] = {
		{"y", 365LL * 86400000}, {"w", 7LL * 86400000}, {"d", 86400000}, {"h", 3600000},
		{"m", 60000}, {"s", 1000}, {"ms", 1},
	};
	size_t i = 0, next = 0;
	int64_t total = 0;

	if (n == 1 && s[0] == '0') {
		*ms = 0;
		return 0;
	}
	if (n == 0)
		return ERR_PARSE;
	while (i < n) {
		int64_t v = 0;
		size_t start = i, u, ulen = 0;

		while (i < n && isdigit((unsigned char)s[i])) {
			if (v > (INT64_MAX - 9) / 10)
				return ERR_PARSE;
			v = v * 10 + (s[i++] - '0');
		}
		if (i == start)
			return ERR_PARSE;
		while (i + ulen < n && isalpha((unsigned char)s[i + ulen]))
			ulen++;
		for (u = next; u < COMMON_ARRAY_LEN(units); u++)
			if (strlen(units[u].u) == ulen && strncmp(units[u].u, s + i, ulen) == 0)
				break;
		if (u == COMMON_ARRAY_LEN(units))
			return ERR_PARSE;
		if (v > (INT64_MAX - total) / units[u].ms)
			return ERR_PARSE;
		total += v * units[u].ms;
		next = u + 1;
		i += ulen;
	}
	*ms = total;
	return 0;
}

static int fail(struct promql__lexer *lx, size_t pos, const char *what)
{
	promql__errorf(lx->err, lx->errlen, lx->q, pos, "%s", what);
	return ERR_PARSE;
}

static bool ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_' || c == ':';
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == ':';
}

/* A quoted string starting at lx->i (the quote); Go's escapes unless raw. */
static int lex_string(struct promql__lexer *lx, struct promql__token *t)
{
	char quote = lx->q[lx->i];
	size_t start = lx->i++;
	struct dynbuf b;

	dynbuf_init(&b, PROMQL_MAX_QUERY + 1);
	if (dynbuf_addstr(&b, "") != 0)
		goto bad;
	for (;;) {
		char c = lx->q[lx->i];

		if (c == '\0' || (c == '\n' && quote != '`')) {
			dynbuf_clear(&b);
			return fail(lx, start, "unterminated quoted string");
		}
		lx->i++;
		if (c == quote)
			break;
		if (c == '\\' && quote != '`') {
			char e = lx->q[lx->i++];
			int n = 0, base = 0, val = 0, k;

			switch (e) {
			case 'a': c = '\a'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'v': c = '\v'; break;
			case '\\': c = '\\'; break;
			case '"': case '\'': case '`':
				if (e != quote)
					goto badesc;
				c = e;
				break;
			case 'x': n = 2; base = 16; break;
			case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
				n = 3; base = 8; lx->i--; break;
			default:
				goto badesc;
			}
			for (k = 0; k < n; k++) {
				int d = hex_digit(lx->q[lx->i]);

				if (d < 0 || d >= base)
					goto badesc;
				val = val * base + d;
				lx->i++;
			}
			if (n) {
				if (val > 255)
					goto badesc;
				c = (char)val;
			}
			/* \u and \U are refused above (rare in label values) */
		}
		if (dynbuf_addch(&b, c) != 0)
			goto bad;
	}
	t->type = PROMQL__T_STRING;
	t->text = dynbuf_take(&b, NULL);
	return 0;
badesc:
	dynbuf_clear(&b);
	return fail(lx, lx->i > 0 ? lx->i - 1 : 0, "unknown or unsupported escape sequence");
bad:
	dynbuf_clear(&b);
	return fail(lx, start, "string too long");
}

static int lex_number(struct promql__lexer *lx, struct promql__token *t)
{
	const char *s = lx->q + lx->i;
	char *end;
	double v;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		unsigned long long u = strtoull(s, &end, 16);

		if (end == s + 2)
			return fail(lx, lx->i, "bad number");
		v = (double)u;
	} else {
		v = strtod(s, &end);
		if (end == s)
			return fail(lx, lx->i, "bad number");
	}
	if (ident_char(*end)) /* "5m" outside brackets, "1abc" */
		return fail(lx, lx->i, "bad number or duration syntax");
	t->type = PROMQL__T_NUMBER;
	t->num = v;
	t->text = strndup(s, (size_t)(end - s));
	xcheck(t->text, "promql number");
	lx->i += (size_t)(end - s);
	return 0;
}

static int lex_duration(struct promql__lexer *lx, struct promql__token *t)
{
	size_t start = lx->i;

	while (isalnum((unsigned char)lx->q[lx->i]))
		lx->i++;
	if (promql__parse_duration(lx->q + start, lx->i - start, &t->ms) != 0)
		return fail(lx, start, "bad duration syntax");
	t->type = PROMQL__T_DURATION;
	return 0;
}

static const struct { const char *s; enum promql__tok t; } ops[] = {
	{"==", PROMQL__T_EQL}, {"!=", PROMQL__T_NEQ}, {"=~", PROMQL__T_RE}, {"!~", PROMQL__T_NRE},
	{"<=", PROMQL__T_LTE}, {">=", PROMQL__T_GTE}, {"(", PROMQL__T_LPAREN},
	{")", PROMQL__T_RPAREN}, {"{", PROMQL__T_LBRACE}, {"}", PROMQL__T_RBRACE},
	{"[", PROMQL__T_LBRACKET}, {"]", PROMQL__T_RBRACKET}, {",", PROMQL__T_COMMA},
	{":", PROMQL__T_COLON}, {"+", PROMQL__T_ADD}, {"-", PROMQL__T_SUB}, {"*", PROMQL__T_MUL},
	{"/", PROMQL__T_DIV}, {"%", PROMQL__T_MOD}, {"^", PROMQL__T_POW}, {"=", PROMQL__T_EQ},
	{"<", PROMQL__T_LSS}, {">", PROMQL__T_GTR}, {"@", PROMQL__T_AT},
};

int promql__lex(struct promql__lexer *lx, struct promql__token *t)
{
	const char *q = lx->q;
	size_t k;

	memset(t, 0, sizeof(*t));
	for (;;) {
		while (q[lx->i] == ' ' || q[lx->i] == '\t' || q[lx->i] == '\n' || q[lx->i] == '\r')
			lx->i++;
		if (q[lx->i] != '#')
			break;
		while (q[lx->i] && q[lx->i] != '\n')
			lx->i++;
	}
	t->pos = lx->i;
	if (q[lx->i] == '\0') {
		t->type = PROMQL__T_EOF;
		return 0;
	}
	if (lx->in_brackets && isdigit((unsigned char)q[lx->i]))
		return lex_duration(lx, t);
	if (q[lx->i] == '"' || q[lx->i] == '\'' || q[lx->i] == '`')
		return lex_string(lx, t);
	if (isdigit((unsigned char)q[lx->i]) ||
	    (q[lx->i] == '.' && isdigit((unsigned char)q[lx->i + 1])))
		return lex_number(lx, t);
	if (ident_start(q[lx->i]) && !(q[lx->i] == ':' && lx->in_brackets)) {
		size_t start = lx->i;

		while (ident_char(q[lx->i]))
			lx->i++;
		t->text = strndup(q + start, lx->i - start);
		xcheck(t->text, "promql identifier");
		if (strcasecmp(t->text, "inf") == 0 || strcasecmp(t->text, "nan") == 0) {
			t->type = PROMQL__T_NUMBER;
			t->num = strcasecmp(t->text, "inf") == 0 ? INFINITY : NAN;
		} else {
			t->type = PROMQL__T_IDENT;
		}
		return 0;
	}
	for (k = 0; k < COMMON_ARRAY_LEN(ops); k++) {
		size_t n = strlen(ops[k].s);

		if (strncmp(q + lx->i, ops[k].s, n) == 0) {
			t->type = ops[k].t;
			lx->i += n;
			if (t->type == PROMQL__T_LBRACKET)
				lx->in_brackets = true;
			else if (t->type == PROMQL__T_RBRACKET)
				lx->in_brackets = false;
			return 0;
		}
	}
	if (q[lx->i] == '!')
		return fail(lx, lx->i, "unexpected character after '!'");
	{
		char what[64];

		snprintf(what, sizeof(what), "unexpected character: '%c'", q[lx->i]);
		return fail(lx, lx->i, what);
	}
}
