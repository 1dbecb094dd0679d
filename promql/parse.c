/*
 * parse.c - the subset's grammar, by recursive descent, with Prometheus
 * 2.42's precedence (+ - below * / %, unary minus above both) and type
 * checks; every construct outside the subset is refused where it starts.
 */
#include "promql/promql_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const struct { const char *name; enum promql__func f; bool range; } funcs[] = {
	{"rate", PROMQL__RATE, true}, {"irate", PROMQL__IRATE, true},
	{"increase", PROMQL__INCREASE, true}, {"delta", PROMQL__DELTA, true},
	{"avg_over_time", PROMQL__AVG_OT, true}, {"min_over_time", PROMQL__MIN_OT, true},
	{"max_over_time", PROMQL__MAX_OT, true}, {"sum_over_time", PROMQL__SUM_OT, true},
	{"count_over_time", PROMQL__COUNT_OT, true}, {"last_over_time", PROMQL__LAST_OT, true},
	{"histogram_quantile", PROMQL__HQUANTILE, false},
};
static const struct { const char *name; enum promql__agg a; } aggs[] = {
	{"sum", PROMQL__SUM}, {"avg", PROMQL__AVG}, {"min", PROMQL__MIN},
	{"max", PROMQL__MAX}, {"count", PROMQL__COUNT},
};
/* Prometheus' other aggregations and functions: refused by name. */
static const char *const other_aggs[] = {"topk", "bottomk", "quantile", "stddev", "stdvar",
					 "count_values", "group"};
static const char *const other_funcs[] = {
	"abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min",
	"day_of_month", "day_of_week", "day_of_year", "days_in_month", "deriv", "exp", "floor",
	"histogram_count", "histogram_sum", "histogram_fraction", "holt_winters", "hour", "idelta",
	"label_join", "label_replace", "ln", "log10", "log2", "minute", "month",
	"predict_linear", "quantile_over_time", "resets", "round", "scalar", "sgn", "sort",
	"sort_desc", "sqrt", "stddev_over_time", "stdvar_over_time", "time", "timestamp", "vector",
	"year", "present_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos",
	"cosh", "deg", "pi", "rad", "sin", "sinh", "tan", "tanh",
};
static const char *const keywords[] = {"by", "without", "on", "ignoring", "group_left",
				       "group_right", "bool", "offset", "and", "or", "unless",
				       "atan2"};

static bool in_list(const char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i], s) == 0)
			return true;
	return false;
}
#define IN(list, s) in_list(list, COMMON_ARRAY_LEN(list), s)

static bool is_ident(const struct promql__parser *p, const char *s)
{
	return p->tok.type == PROMQL__T_IDENT && strcmp(p->tok.text, s) == 0;
}

void promql__errat(struct promql__parser *p, int rc, size_t pos, const char *fmt, const char *arg)
{
	if (p->rc)
		return;
	p->rc = rc;
	promql__errorf(p->lx.err, p->lx.errlen, p->lx.q, pos, fmt, arg);
}

static void unsupported(struct promql__parser *p, size_t pos, const char *what)
{
	promql__errat(p, ERR_INVAL, pos, "unsupported in this PromQL subset: %s", what);
}

static const char *tok_name(const struct promql__token *t)
{
	static const char *const names[] = {
		[PROMQL__T_EOF] = "end of input", [PROMQL__T_IDENT] = "identifier",
		[PROMQL__T_NUMBER] = "number", [PROMQL__T_STRING] = "string",
		[PROMQL__T_DURATION] = "duration", [PROMQL__T_LPAREN] = "\"(\"",
		[PROMQL__T_RPAREN] = "\")\"", [PROMQL__T_LBRACE] = "\"{\"",
		[PROMQL__T_RBRACE] = "\"}\"", [PROMQL__T_LBRACKET] = "\"[\"",
		[PROMQL__T_RBRACKET] = "\"]\"", [PROMQL__T_COMMA] = "\",\"",
		[PROMQL__T_COLON] = "\":\"", [PROMQL__T_ADD] = "\"+\"", [PROMQL__T_SUB] = "\"-\"",
		[PROMQL__T_MUL] = "\"*\"", [PROMQL__T_DIV] = "\"/\"", [PROMQL__T_MOD] = "\"%\"",
		[PROMQL__T_POW] = "\"^\"", [PROMQL__T_EQ] = "\"=\"", [PROMQL__T_EQL] = "\"==\"",
		[PROMQL__T_NEQ] = "\"!=\"", [PROMQL__T_RE] = "\"=~\"", [PROMQL__T_NRE] = "\"!~\"",
		[PROMQL__T_LSS] = "\"<\"", [PROMQL__T_LTE] = "\"<=\"", [PROMQL__T_GTR] = "\">\"",
		[PROMQL__T_GTE] = "\">=\"", [PROMQL__T_AT] = "\"@\"",
	};
	return names[t->type];
}

void promql__unexpected(struct promql__parser *p, const char *in)
{
	char what[160];

	if (p->tok.type == PROMQL__T_IDENT)
		snprintf(what, sizeof(what), "unexpected identifier \"%.40s\" in %s", p->tok.text, in);
	else
		snprintf(what, sizeof(what), "unexpected %s in %s", tok_name(&p->tok), in);
	promql__errat(p, ERR_PARSE, p->tok.pos, "%s", what);
}

void promql__next(struct promql__parser *p)
{
	free(p->tok.text);
	p->tok.text = NULL;
	if (p->rc) {
		p->tok.type = PROMQL__T_EOF;
		return;
	}
	if (promql__lex(&p->lx, &p->tok) != 0) {
		p->rc = ERR_PARSE;
		p->tok.type = PROMQL__T_EOF;
	}
}

static bool expect(struct promql__parser *p, enum promql__tok t, const char *in)
{
	if (p->rc)
		return false;
	if (p->tok.type != t) {
		promql__unexpected(p, in);
		return false;
	}
	promql__next(p);
	return true;
}

struct promql_expr *promql__node(struct promql__parser *p, enum promql__kind k, size_t pos)
{
	struct promql_expr *e;

	if (++p->nodes > PROMQL_MAX_NODES) {
		promql__errat(p, ERR_TOOBIG, pos, "query has more than %s nodes", "PROMQL_MAX_NODES");
		return NULL;
	}
	e = xcalloc(1, sizeof(*e));
	e->kind = k;
	e->pos = pos;
	return e;
}

void promql_expr_free(struct promql_expr *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nmatchers; i++) {
		free((char *)e->matchers[i].m.name);
		free((char *)e->matchers[i].m.value);
		if (e->matchers[i].alts) {
			for (size_t j = 0; j < e->matchers[i].nalts; j++)
				free(e->matchers[i].alts[j]);
			free(e->matchers[i].alts);
		} else if (e->matchers[i].m.op == PROMQL_RE || e->matchers[i].m.op == PROMQL_NRE) {
			regfree(&e->matchers[i].re);
		}
	}
	free(e->matchers);
	free(e->plain);
	for (size_t i = 0; i < e->ngrouping; i++)
		free(e->grouping[i]);
	free(e->grouping);
	promql_expr_free(e->a);
	promql_expr_free(e->b);
	free(e);
}

bool promql_expr_selector(const struct promql_expr *e, const struct promql_matcher **m,
			  size_t *n)
{
	if (!e || e->kind != PROMQL__SELECTOR)
		return false;
	*m = e->plain;
	*n = e->nmatchers;
	return true;
}

void promql_expr_each_selector(const struct promql_expr *e,
			       void (*fn)(void *ctx, const struct promql_matcher *m, size_t n),
			       void *ctx)
{
	if (!e)
		return;
	if (e->kind == PROMQL__SELECTOR || e->kind == PROMQL__MATRIX)
		fn(ctx, e->plain, e->nmatchers);
	promql_expr_each_selector(e->a, fn, ctx); /* depth bounded by PROMQL_MAX_DEPTH */
	promql_expr_each_selector(e->b, fn, ctx);
}

bool promql_selector_matches(const struct promql_expr *e, const struct labels *l)
{
	return e && e->kind == PROMQL__SELECTOR && promql__matches(e, l);
}

bool promql_expr_is_scalar(const struct promql_expr *e)
{
	return e->scalar;
}

int64_t promql_expr_max_range_ms(const struct promql_expr *e)
{
	int64_t m, b;

	if (!e)
		return 0;
	m = e->kind == PROMQL__MATRIX ? e->range_ms : 0;
	b = promql_expr_max_range_ms(e->a); /* depth is bounded by PROMQL_MAX_DEPTH */
	m = b > m ? b : m;
	b = promql_expr_max_range_ms(e->b);
	return b > m ? b : m;
}

static struct promql_expr *expr(struct promql__parser *p, int min_prec);

static void grouping(struct promql__parser *p, struct promql_expr *e)
{
	e->without = is_ident(p, "without");
	promql__next(p);
	if (!expect(p, PROMQL__T_LPAREN, "grouping opts"))
		return;
	while (!p->rc && p->tok.type != PROMQL__T_RPAREN) {
		if (p->tok.type != PROMQL__T_IDENT) {
			promql__unexpected(p, "grouping opts");
			return;
		}
		e->grouping = xrealloc(e->grouping, (e->ngrouping + 1) * sizeof(char *));
		e->grouping[e->ngrouping++] = p->tok.text;
		p->tok.text = NULL;
		promql__next(p);
		if (p->tok.type == PROMQL__T_COMMA)
			promql__next(p);
		else if (p->tok.type != PROMQL__T_RPAREN)
			promql__unexpected(p, "grouping opts, expected \",\" or \")\"");
	}
	promql__next(p);
}

/* Arguments in parentheses into e->a, e->b; their count. */
static size_t args(struct promql__parser *p, struct promql_expr *e, const char *in)
{
	size_t n = 0;

	if (!expect(p, PROMQL__T_LPAREN, in))
		return 0;
	while (!p->rc && p->tok.type != PROMQL__T_RPAREN) {
		struct promql_expr *a = expr(p, 0);

		if (n == 0)
			e->a = a;
		else if (n == 1)
			e->b = a;
		else
			promql_expr_free(a);
		n++;
		if (p->tok.type == PROMQL__T_COMMA)
			promql__next(p);
		else if (p->tok.type != PROMQL__T_RPAREN)
			promql__unexpected(p, in);
	}
	promql__next(p);
	return n;
}

static struct promql_expr *aggregation(struct promql__parser *p, enum promql__agg a)
{
	struct promql_expr *e = promql__node(p, PROMQL__AGG, p->tok.pos);
	size_t n;

	if (!e)
		return NULL;
	e->agg = a;
	promql__next(p);
	if (is_ident(p, "by") || is_ident(p, "without"))
		grouping(p, e);
	n = args(p, e, "aggregation");
	if (!e->ngrouping && !e->without && (is_ident(p, "by") || is_ident(p, "without")))
		grouping(p, e);
	if (!p->rc && n != 1)
		promql__errat(p, ERR_PARSE, e->pos,
		      "wrong number of arguments for aggregate expression provided, expected 1, got %s",
		      n == 0 ? "0" : "more");
	if (!p->rc && (e->a->scalar || e->a->kind == PROMQL__MATRIX))
		promql__errat(p, ERR_PARSE, e->a->pos,
		      "expected type instant vector in aggregation expression, got %s",
		      e->a->scalar ? "scalar" : "range vector");
	return e;
}

static struct promql_expr *call(struct promql__parser *p, size_t f)
{
	struct promql_expr *e = promql__node(p, PROMQL__CALL, p->tok.pos);
	size_t n, want = funcs[f].range ? 1 : 2;
	char what[160];

	if (!e)
		return NULL;
	e->func = funcs[f].f;
	promql__next(p);
	n = args(p, e, "function call");
	if (p->rc)
		return e;
	if (n != want) {
		snprintf(what, sizeof(what), "expected %zu argument(s) in call to \"%s\", got %zu",
			 want, funcs[f].name, n);
		promql__errat(p, ERR_PARSE, e->pos, "%s", what);
	} else if (funcs[f].range && e->a->kind != PROMQL__MATRIX) {
		snprintf(what, sizeof(what),
			 "expected type range vector in call to function \"%s\", got %s",
			 funcs[f].name, e->a->scalar ? "scalar" : "instant vector");
		promql__errat(p, ERR_PARSE, e->a->pos, "%s", what);
	} else if (!funcs[f].range && (!e->a->scalar || e->b->scalar ||
				       e->b->kind == PROMQL__MATRIX)) {
		const struct promql_expr *bad = !e->a->scalar ? e->a : e->b;

		snprintf(what, sizeof(what), "expected type %s in call to function \"%s\", got %s",
			 bad == e->a ? "scalar" : "instant vector", funcs[f].name,
			 bad->kind == PROMQL__MATRIX ? "range vector"
						     : bad->scalar ? "scalar" : "instant vector");
		promql__errat(p, ERR_PARSE, bad->pos, "%s", what);
	}
	return e;
}

static bool next_is_lparen(const struct promql__parser *p)
{
	const char *s = p->lx.q + p->lx.i;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return *s == '(';
}

static struct promql_expr *primary(struct promql__parser *p)
{
	struct promql__token *t = &p->tok;
	struct promql_expr *e;
	size_t i;

	switch (t->type) {
	case PROMQL__T_NUMBER:
		e = promql__node(p, PROMQL__NUMBER, t->pos);
		if (e) {
			e->num = t->num;
			e->scalar = true;
		}
		promql__next(p);
		return e;
	case PROMQL__T_STRING:
		unsupported(p, t->pos, "string literal");
		return NULL;
	case PROMQL__T_LPAREN:
		promql__next(p);
		e = expr(p, 0);
		expect(p, PROMQL__T_RPAREN, "paren expression");
		return e;
	case PROMQL__T_LBRACE:
		return promql__selector(p);
	case PROMQL__T_IDENT:
		break;
	default:
		promql__unexpected(p, "expression");
		return NULL;
	}
	for (i = 0; i < COMMON_ARRAY_LEN(aggs); i++)
		if (strcmp(t->text, aggs[i].name) == 0)
			return aggregation(p, aggs[i].a);
	if (IN(other_aggs, t->text)) {
		char what[64];

		snprintf(what, sizeof(what), "aggregation %s", t->text);
		unsupported(p, t->pos, what);
		return NULL;
	}
	if (IN(keywords, t->text)) {
		promql__unexpected(p, "expression");
		return NULL;
	}
	if (next_is_lparen(p) || IN(other_funcs, t->text)) {
		char what[96];

		for (i = 0; i < COMMON_ARRAY_LEN(funcs); i++)
			if (strcmp(t->text, funcs[i].name) == 0)
				return call(p, i);
		if (IN(other_funcs, t->text)) {
			snprintf(what, sizeof(what), "function %s", t->text);
			unsupported(p, t->pos, what);
		} else {
			snprintf(what, sizeof(what), "unknown function with name \"%.40s\"", t->text);
			promql__errat(p, ERR_PARSE, t->pos, "%s", what);
		}
		return NULL;
	}
	return promql__selector(p);
}

/* primary with its suffixes: [range], offset, @. */
static struct promql_expr *postfix(struct promql__parser *p)
{
	struct promql_expr *e = primary(p);

	while (e && !p->rc) {
		if (p->tok.type == PROMQL__T_LBRACKET) {
			size_t pos = p->tok.pos;

			if (e->kind != PROMQL__SELECTOR) {
				promql__next(p);
				if (p->tok.type == PROMQL__T_DURATION)
					promql__next(p);
				if (p->tok.type == PROMQL__T_COLON)
					unsupported(p, pos, "subquery");
				else
					promql__errat(p, ERR_PARSE, pos, "%s",
					      "ranges only allowed for vector selectors");
				break;
			}
			promql__next(p);
			if (p->tok.type != PROMQL__T_DURATION) {
				promql__unexpected(p, "range, expected duration");
				break;
			}
			e->range_ms = p->tok.ms;
			promql__next(p);
			if (p->tok.type == PROMQL__T_COLON) {
				unsupported(p, pos, "subquery");
				break;
			}
			if (!expect(p, PROMQL__T_RBRACKET, "range, expected \"]\""))
				break;
			if (e->range_ms <= 0) {
				promql__errat(p, ERR_PARSE, pos, "%s", "range must be greater than 0");
				break;
			}
			e->kind = PROMQL__MATRIX;
		} else if (is_ident(p, "offset")) {
			unsupported(p, p->tok.pos, "offset modifier");
		} else if (p->tok.type == PROMQL__T_AT) {
			unsupported(p, p->tok.pos, "@ modifier");
		} else {
			break;
		}
	}
	return e;
}

static struct promql_expr *unary(struct promql__parser *p)
{
	if (p->tok.type == PROMQL__T_SUB || p->tok.type == PROMQL__T_ADD) {
		bool neg = p->tok.type == PROMQL__T_SUB;
		size_t pos = p->tok.pos;
		struct promql_expr *e, *x;

		promql__next(p);
		x = unary(p);
		if (!x || !neg)
			return x;
		if (x->kind == PROMQL__NUMBER) {
			x->num = -x->num;
			x->pos = pos;
			return x;
		}
		e = promql__node(p, PROMQL__NEG, pos);
		if (!e)
			return x;
		e->a = x;
		e->scalar = x->scalar;
		if (x->kind == PROMQL__MATRIX)
			promql__errat(p, ERR_PARSE, pos, "%s",
			      "unary expression only allowed on expressions of type scalar or instant vector");
		return e;
	}
	return postfix(p);
}

static int prec_of(enum promql__tok t)
{
	switch (t) {
	case PROMQL__T_ADD: case PROMQL__T_SUB: return 1;
	case PROMQL__T_MUL: case PROMQL__T_DIV: case PROMQL__T_MOD: return 2;
	default: return 0;
	}
}

static void refuse_operator(struct promql__parser *p)
{
	const char *set = NULL;
	char what[64];

	if (p->tok.type == PROMQL__T_IDENT)
		set = IN(keywords, p->tok.text) ? p->tok.text : NULL;
	if (set && (!strcmp(set, "and") || !strcmp(set, "or") || !strcmp(set, "unless"))) {
		snprintf(what, sizeof(what), "set operator %s", set);
		unsupported(p, p->tok.pos, what);
	} else if (p->tok.type == PROMQL__T_POW) {
		unsupported(p, p->tok.pos, "operator ^");
	} else if (p->tok.type >= PROMQL__T_EQL && p->tok.type <= PROMQL__T_GTE &&
		   p->tok.type != PROMQL__T_RE && p->tok.type != PROMQL__T_NRE) {
		unsupported(p, p->tok.pos, "comparison operator");
	}
}

static struct promql_expr *expr(struct promql__parser *p, int min_prec)
{
	struct promql_expr *lhs;

	if (++p->depth > PROMQL_MAX_DEPTH) {
		promql__errat(p, ERR_TOOBIG, p->tok.pos, "query nests deeper than %s", "PROMQL_MAX_DEPTH");
		return NULL;
	}
	lhs = unary(p);
	while (lhs && !p->rc) {
		int prec = prec_of(p->tok.type);
		struct promql_expr *e;

		if (prec == 0) {
			refuse_operator(p);
			break;
		}
		if (prec <= min_prec)
			break;
		e = promql__node(p, PROMQL__BINARY, p->tok.pos);
		if (!e)
			break;
		e->op = p->tok.type;
		e->a = lhs;
		lhs = e;
		promql__next(p);
		if (p->tok.type == PROMQL__T_IDENT &&
		    (is_ident(p, "bool") || is_ident(p, "on") || is_ident(p, "ignoring") ||
		     is_ident(p, "group_left") || is_ident(p, "group_right"))) {
			char what[64];

			snprintf(what, sizeof(what), "%s modifier", p->tok.text);
			unsupported(p, p->tok.pos, what);
			break;
		}
		e->b = expr(p, prec);
		if (!e->b)
			break;
		if (e->a->kind == PROMQL__MATRIX || e->b->kind == PROMQL__MATRIX)
			promql__errat(p, ERR_PARSE, e->pos, "%s",
			      "binary expression must contain only scalar and instant vector types");
		e->scalar = e->a->scalar && e->b->scalar;
	}
	p->depth--;
	return lhs;
}

int promql_parse(const char *query, struct promql_expr **out, char *err, size_t errlen)
{
	struct promql__parser p = {.lx = {.q = query, .err = err, .errlen = errlen}};
	struct promql_expr *e;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	p.lx.len = strlen(query);
	if (p.lx.len > PROMQL_MAX_QUERY) {
		snprintf(err, errlen, "query longer than %d bytes", PROMQL_MAX_QUERY);
		return ERR_TOOBIG;
	}
	promql__next(&p);
	e = expr(&p, 0);
	if (!p.rc && p.tok.type != PROMQL__T_EOF)
		promql__unexpected(&p, "expression");
	if (!p.rc && !e)
		promql__unexpected(&p, "expression");
	if (!p.rc && e->kind == PROMQL__MATRIX)
		unsupported(&p, e->pos, "range vector result");
	free(p.tok.text);
	if (p.rc) {
		promql_expr_free(e);
		return p.rc;
	}
	*out = e;
	return 0;
}
