/*
 * selector.c - label selectors with apimachinery's labels.Parse grammar
 * (lexer, parser, validation and error wording follow
 * k8s.io/apimachinery/pkg/labels/selector.go), and field selectors as
 * fields.ParseSelector splits them.
 */
#include "common/common.h"
#include "common/common_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SELECTOR_MAX_LEN (64u << 10)
enum op { OP_IN, OP_NOTIN, OP_EQ, OP_DEQ, OP_NEQ, OP_GT, OP_LT, OP_EXISTS, OP_NOTEXISTS };

enum tok {
	T_EOS, T_CLOSE, T_COMMA, T_NOT, T_DEQ, T_EQ, T_GT, T_ID, T_IN, T_LT, T_NEQ, T_NOTIN,
	T_OPEN
};

struct token {
	enum tok tok;
	const char *lit;
	size_t len;
};

struct requirement {
	char *key;
	enum op op;
	char **values; /* sorted, unique */
	size_t nvalues;
};

struct selector {
	size_t n;
	struct requirement *reqs;
};

struct parser {
	struct token *toks;
	size_t ntoks;
	size_t pos;
	char *err;
	size_t errlen;
};

/* ---- lexer -------------------------------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
	return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

/* Token for an exact special-symbol string, or T_EOS when it is none. */
static enum tok special_token(const char *s, size_t n)
{
	static const struct {
		const char *s;
		enum tok t;
	} map[] = {
		{ ")", T_CLOSE }, { ",", T_COMMA }, { "!", T_NOT }, { "==", T_DEQ },
		{ "=", T_EQ },    { ">", T_GT },    { "<", T_LT },  { "!=", T_NEQ },
		{ "(", T_OPEN },
	};
	size_t i;

	for (i = 0; i < COMMON_ARRAY_LEN(map); i++)
		if (strlen(map[i].s) == n && memcmp(map[i].s, s, n) == 0)
			return map[i].t;
	return T_EOS;
}

/* Longest special symbol at s that is a token (every single one is). */
static size_t scan_special(const char *s, enum tok *t)
{
	size_t n = 1, best = 0;

	*t = T_EOS;
	while (s[n - 1] && is_special(s[n - 1])) {
		enum tok cand = special_token(s, n);

		if (cand != T_EOS) {
			*t = cand;
			best = n;
		} else if (best) {
			break;
		}
		n++;
	}
	return best ? best : 1;
}

static void lex(const char *s, struct token *toks, size_t *ntoks)
{
	size_t n = 0;

	for (;;) {
		struct token *t = &toks[n++];

		while (is_space(*s))
			s++;
		t->lit = s;
		if (!*s) {
			t->tok = T_EOS;
			t->len = 0;
			break;
		}
		if (is_special(*s)) {
			t->len = scan_special(s, &t->tok);
		} else {
			t->len = 0;
			while (s[t->len] && !is_space(s[t->len]) && !is_special(s[t->len]))
				t->len++;
			t->tok = T_ID;
			if (t->len == 2 && memcmp(s, "in", 2) == 0)
				t->tok = T_IN;
			else if (t->len == 5 && memcmp(s, "notin", 5) == 0)
				t->tok = T_NOTIN;
		}
		s += t->len;
	}
	*ntoks = n;
}

/* ---- requirements -------------------------------------------------------- */

static void req_clear(struct requirement *r)
{
	size_t i;

	for (i = 0; i < r->nvalues; i++)
		free(r->values[i]);
	free(r->values);
	free(r->key);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Inserts a value keeping the set sorted and unique. */
static void req_add_value(struct requirement *r, const char *v, size_t n)
{
	char *s = xstrndup(v, n);
	size_t i;

	for (i = 0; i < r->nvalues; i++)
		if (strcmp(r->values[i], s) == 0) {
			free(s);
			return;
		}
	r->values = xrealloc(r->values, (r->nvalues + 1) * sizeof(*r->values));
	r->values[r->nvalues++] = s;
	qsort(r->values, r->nvalues, sizeof(*r->values), cmp_str);
}

/* labels.NewRequirement's checks of the values; message into err. */
static bool req_validate(const struct requirement *r, struct parser *p)
{
	struct dynbuf all, one, path;
	size_t i, nerr = 0;
	bool ok;

	dynbuf_init(&all, DYN_SMALL);
	dynbuf_init(&one, DYN_SMALL);
	dynbuf_init(&path, DYN_SMALL);
	for (i = 0; i < r->nvalues; i++) {
		int64_t dummy;

		dynbuf_reset(&path);
		common__appendf(&path, "values[%zu]", i);
		if ((r->op == OP_GT || r->op == OP_LT) && !common__parse_int64(r->values[i], &dummy)) {
			common__appendf(&all, "%s", nerr++ ? ", " : "");
			common__field_invalid(&all, path.buf, r->values[i],
				      "for 'Gt', 'Lt' operators, the value must be an integer");
		}
		dynbuf_reset(&one);
		common__check_label_value(r->values[i], &one);
		if (one.len) {
			common__appendf(&path, "[%s]", r->key);
			common__appendf(&all, "%s", nerr++ ? ", " : "");
			common__field_invalid(&all, path.buf, r->values[i], one.buf);
		}
	}
	ok = nerr == 0;
	if (!ok)
		snprintf(p->err, p->errlen, "unable to parse requirement: %s%s%s",
			 nerr > 1 ? "[" : "", all.buf, nerr > 1 ? "]" : "");
	dynbuf_clear(&all);
	dynbuf_clear(&one);
	dynbuf_clear(&path);
	return ok;
}

/* ---- parser --------------------------------------------------------------- */

/* Keywords read as identifiers in the Values context. */
static enum tok values_tok(enum tok t)
{
	return t == T_IN || t == T_NOTIN ? T_ID : t;
}

static const struct token *peek(const struct parser *p)
{
	return &p->toks[p->pos];
}

static const struct token *next(struct parser *p)
{
	const struct token *t = &p->toks[p->pos];

	if (t->tok != T_EOS)
		p->pos++;
	return t;
}

static bool fail(struct parser *p, const char *prefix, const struct token *t, const char *what)
{
	snprintf(p->err, p->errlen, "%sfound '%.*s'%s", prefix, (int)t->len, t->lit, what);
	return false;
}

#define REQ_PREFIX "unable to parse requirement: "

static bool parse_key(struct parser *p, struct requirement *r)
{
	const struct token *t = next(p);
	struct dynbuf msg;
	enum tok la;

	r->op = OP_EQ;
	if (t->tok == T_NOT) {
		r->op = OP_NOTEXISTS;
		t = next(p);
	}
	if (values_tok(t->tok) != T_ID)
		return fail(p, REQ_PREFIX, t, ", expected: identifier");
	r->key = xstrndup(t->lit, t->len);
	dynbuf_init(&msg, DYN_SMALL);
	common__check_qualified_name(r->key, &msg);
	if (msg.len) {
		struct dynbuf full;

		dynbuf_init(&full, DYN_SMALL);
		common__field_invalid(&full, "", r->key, msg.buf);
		snprintf(p->err, p->errlen, REQ_PREFIX "%s", full.buf);
		dynbuf_clear(&full);
		dynbuf_clear(&msg);
		return false;
	}
	dynbuf_clear(&msg);
	la = values_tok(peek(p)->tok);
	if ((la == T_EOS || la == T_COMMA) && r->op != OP_NOTEXISTS)
		r->op = OP_EXISTS;
	return true;
}

static bool parse_operator(struct parser *p, struct requirement *r)
{
	const struct token *t = next(p);

	switch (t->tok) {
	case T_IN: r->op = OP_IN; return true;
	case T_NOTIN: r->op = OP_NOTIN; return true;
	case T_EQ: r->op = OP_EQ; return true;
	case T_DEQ: r->op = OP_DEQ; return true;
	case T_NEQ: r->op = OP_NEQ; return true;
	case T_GT: r->op = OP_GT; return true;
	case T_LT: r->op = OP_LT; return true;
	default:
		return fail(p, REQ_PREFIX, t, ", expected: in, notin, =, ==, !=, gt, lt");
	}
}

/* parseIdentifiersList: after '(' up to (not including) ')'. */
static bool parse_identifiers(struct parser *p, struct requirement *r)
{
	for (;;) {
		const struct token *t = next(p), *la;

		if (values_tok(t->tok) == T_ID) {
			req_add_value(r, t->lit, t->len);
			la = peek(p);
			if (la->tok == T_COMMA)
				continue;
			if (la->tok == T_CLOSE)
				return true;
			return fail(p, REQ_PREFIX, la, ", expected: ',' or ')'");
		}
		if (t->tok != T_COMMA)
			return fail(p, REQ_PREFIX, t, ", expected: ',', or identifier");
		if (r->nvalues == 0)
			req_add_value(r, "", 0);
		la = peek(p);
		if (la->tok == T_CLOSE) {
			req_add_value(r, "", 0);
			return true;
		}
		if (la->tok == T_COMMA) {
			next(p);
			req_add_value(r, "", 0);
		}
	}
}

static bool parse_values(struct parser *p, struct requirement *r)
{
	const struct token *t = next(p), *la;

	if (t->tok != T_OPEN)
		return fail(p, REQ_PREFIX, t, " expected: '('");
	la = peek(p);
	if (values_tok(la->tok) == T_ID || la->tok == T_COMMA) {
		if (!parse_identifiers(p, r))
			return false;
		if (next(p)->tok != T_CLOSE)
			return fail(p, REQ_PREFIX, la, ", expected: ')'");
		return true;
	}
	if (la->tok == T_CLOSE) {
		next(p);
		req_add_value(r, "", 0);
		return true;
	}
	return fail(p, REQ_PREFIX, la, ", expected: ',', ')' or identifier");
}

static bool parse_exact_value(struct parser *p, struct requirement *r)
{
	const struct token *t = peek(p);

	if (t->tok == T_EOS || t->tok == T_COMMA) {
		req_add_value(r, "", 0);
		return true;
	}
	t = next(p);
	if (values_tok(t->tok) != T_ID)
		return fail(p, REQ_PREFIX, t, ", expected: identifier");
	req_add_value(r, t->lit, t->len);
	return true;
}

static bool parse_requirement(struct parser *p, struct requirement *r)
{
	if (!parse_key(p, r))
		return false;
	if (r->op == OP_EXISTS || r->op == OP_NOTEXISTS)
		return true;
	if (!parse_operator(p, r))
		return false;
	if (r->op == OP_IN || r->op == OP_NOTIN) {
		if (!parse_values(p, r))
			return false;
	} else if (!parse_exact_value(p, r)) {
		return false;
	}
	return req_validate(r, p);
}

/* After a requirement: end, or ',' followed by another requirement. */
static bool parse_separator(struct parser *p, bool *done)
{
	const struct token *t = next(p), *la;

	*done = t->tok == T_EOS;
	if (*done)
		return true;
	if (t->tok != T_COMMA)
		return fail(p, "", t, ", expected: ',' or 'end of string'");
	la = peek(p);
	if (values_tok(la->tok) != T_ID && la->tok != T_NOT)
		return fail(p, "", la, ", expected: identifier after ','");
	return true;
}

static bool parse_all(struct parser *p, struct selector *sel)
{
	for (;;) {
		const struct token *la = peek(p);
		struct requirement r = { 0 };
		bool done;

		if (la->tok == T_EOS)
			return true;
		if (values_tok(la->tok) != T_ID && la->tok != T_NOT)
			return fail(p, "", la, ", expected: !, identifier, or 'end of string'");
		if (!parse_requirement(p, &r)) {
			req_clear(&r);
			return false;
		}
		sel->reqs = xrealloc(sel->reqs, (sel->n + 1) * sizeof(*sel->reqs));
		sel->reqs[sel->n++] = r;
		if (!parse_separator(p, &done))
			return false;
		if (done)
			return true;
	}
}

/* Stable insertion sort by key, so equal keys keep their order. */
static void sort_by_key(struct selector *sel)
{
	size_t i, j;

	for (i = 1; i < sel->n; i++) {
		struct requirement r = sel->reqs[i];

		for (j = i; j > 0 && strcmp(sel->reqs[j - 1].key, r.key) > 0; j--)
			sel->reqs[j] = sel->reqs[j - 1];
		sel->reqs[j] = r;
	}
}

struct selector *selector_parse(const char *s, char *err, size_t errlen)
{
	struct selector *sel = xcalloc(1, sizeof(*sel));
	struct parser p = { .err = err, .errlen = errlen };
	size_t len = s ? strlen(s) : 0;

	if (errlen)
		err[0] = '\0';
	if (len == 0)
		return sel;
	if (len > SELECTOR_MAX_LEN) {
		snprintf(err, errlen, "label selector is longer than %u bytes", SELECTOR_MAX_LEN);
		free(sel);
		return NULL;
	}
	p.toks = xcalloc(len + 1, sizeof(*p.toks));
	lex(s, p.toks, &p.ntoks);
	if (!parse_all(&p, sel)) {
		selector_free(sel);
		sel = NULL;
	} else {
		sort_by_key(sel);
	}
	free(p.toks);
	return sel;
}

/* ---- matching and printing ------------------------------------------------ */

static bool has_value(const struct requirement *r, const char *v)
{
	size_t i;

	for (i = 0; i < r->nvalues; i++)
		if (strcmp(r->values[i], v) == 0)
			return true;
	return false;
}

static bool req_matches(const struct requirement *r, const struct labels *l)
{
	const char *v = labels_get(l, r->key);
	int64_t have, want;

	switch (r->op) {
	case OP_IN:
	case OP_EQ:
	case OP_DEQ:
		return v && has_value(r, v);
	case OP_NOTIN:
	case OP_NEQ:
		return !v || !has_value(r, v);
	case OP_EXISTS:
		return v != NULL;
	case OP_NOTEXISTS:
		return v == NULL;
	case OP_GT:
	case OP_LT:
		if (!v || r->nvalues != 1 || !common__parse_int64(v, &have) ||
		    !common__parse_int64(r->values[0], &want))
			return false;
		return r->op == OP_GT ? have > want : have < want;
	}
	return false;
}

bool selector_matches(const struct selector *sel, const struct labels *l)
{
	size_t i;

	for (i = 0; i < sel->n; i++)
		if (!req_matches(&sel->reqs[i], l))
			return false;
	return true;
}

bool selector_empty(const struct selector *sel)
{
	return sel->n == 0;
}

char *selector_string(const struct selector *sel)
{
	static const char *const ops[] = {
		[OP_IN] = " in (", [OP_NOTIN] = " notin (", [OP_EQ] = "=", [OP_DEQ] = "==",
		[OP_NEQ] = "!=",   [OP_GT] = ">",           [OP_LT] = "<", [OP_EXISTS] = "",
		[OP_NOTEXISTS] = "",
	};
	struct dynbuf b;
	size_t i, j;

	dynbuf_init(&b, SIZE_MAX / 2);
	common__appendf(&b, "%s", "");
	for (i = 0; i < sel->n; i++) {
		const struct requirement *r = &sel->reqs[i];

		common__appendf(&b, "%s%s%s%s", i ? "," : "",
				    r->op == OP_NOTEXISTS ? "!" : "", r->key, ops[r->op]);
		if (r->op == OP_EXISTS || r->op == OP_NOTEXISTS)
			continue;
		for (j = 0; j < r->nvalues; j++)
			common__appendf(&b, "%s%s", j ? "," : "", r->values[j]);
		if (r->op == OP_IN || r->op == OP_NOTIN)
			common__appendf(&b, "%c", ')');
	}
	return dynbuf_take(&b, NULL);
}

void selector_free(struct selector *sel)
{
	size_t i;

	if (!sel)
		return;
	for (i = 0; i < sel->n; i++)
		req_clear(&sel->reqs[i]);
	free(sel->reqs);
	free(sel);
}

size_t selector_count(const struct selector *sel)
{
	return sel ? sel->n : 0;
}

const char *selector_requirement(const struct selector *sel, size_t i, enum selector_op *op,
				 const char *const **values, size_t *nvalues)
{
	static const enum selector_op ops[] = {
		[OP_IN] = SELECTOR_IN,   [OP_NOTIN] = SELECTOR_NOTIN, [OP_EQ] = SELECTOR_EQ,
		[OP_DEQ] = SELECTOR_DEQ, [OP_NEQ] = SELECTOR_NEQ,     [OP_GT] = SELECTOR_GT,
		[OP_LT] = SELECTOR_LT,   [OP_EXISTS] = SELECTOR_EXISTS,
		[OP_NOTEXISTS] = SELECTOR_NOTEXISTS,
	};
	const struct requirement *r = &sel->reqs[i];

	*op = ops[r->op];
	*values = (const char *const *)r->values;
	*nvalues = r->nvalues;
	return r->key;
}
