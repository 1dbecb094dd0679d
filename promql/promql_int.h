/*
 * promql_int.h - shared by promql/'s files: tokens (lex.c), the syntax
 * tree (parse.c), regexes (regex.c), the evaluator's parts (eval.c,
 * functions.c, aggregate.c, histogram.c, value.c).
 */
#ifndef PROMQL_INT_H
#define PROMQL_INT_H

#include "promql/promql.h"

#include <regex.h>

/* ---- lexer ---- */

enum promql__tok {
	PROMQL__T_EOF,
	PROMQL__T_IDENT,    /* identifiers and keywords (metric names may hold ':') */
	PROMQL__T_NUMBER,
	PROMQL__T_STRING,   /* text holds the unquoted value */
	PROMQL__T_DURATION, /* only right after '[' or ':' (see lex.c) */
	PROMQL__T_LPAREN, PROMQL__T_RPAREN, PROMQL__T_LBRACE, PROMQL__T_RBRACE,
	PROMQL__T_LBRACKET, PROMQL__T_RBRACKET, PROMQL__T_COMMA, PROMQL__T_COLON,
	PROMQL__T_ADD, PROMQL__T_SUB, PROMQL__T_MUL, PROMQL__T_DIV, PROMQL__T_MOD, PROMQL__T_POW,
	PROMQL__T_EQ,    /* = */
	PROMQL__T_EQL,   /* == */
	PROMQL__T_NEQ,   /* != */
	PROMQL__T_RE,    /* =~ */
	PROMQL__T_NRE,   /* !~ */
	PROMQL__T_LSS, PROMQL__T_LTE, PROMQL__T_GTR, PROMQL__T_GTE,
	PROMQL__T_AT,
};

struct promql__token {
	enum promql__tok type;
	size_t pos;   /* byte offset in the query */
	char *text;   /* identifier, string value or number text (heap) */
	double num;
	int64_t ms;   /* durations */
};

struct promql__lexer {
	const char *q;
	size_t i, len;
	bool in_brackets;
	char *err;
	size_t errlen;
};

/* Next token into *t (t->text heap, free it): 0 or ERR_PARSE with err. */
int promql__lex(struct promql__lexer *lx, struct promql__token *t);
/* "LINE:COL: " + text at byte offset pos of q, into err. */
void promql__errorf(char *err, size_t errlen, const char *q, size_t pos, const char *fmt, ...)
	COMMON_PRINTF(5, 6);
/* A Prometheus duration ("5m", "1h30m", "100ms"): 0 or ERR_PARSE. */
int promql__parse_duration(const char *s, size_t n, int64_t *ms);

/* ---- regexes ---- */

/* Compiles RE2 text re fully anchored ("^(?:re)$") for POSIX: 0, or
 * ERR_INVAL with the unsupported construct in err, or ERR_PARSE with Go's
 * (or regcomp's) reason for an invalid expression. */
int promql__regex_compile(regex_t *out, const char *re, char *err, size_t errlen);

/* ---- syntax tree ---- */

enum promql__kind { PROMQL__NUMBER, PROMQL__SELECTOR, PROMQL__MATRIX, PROMQL__CALL,
		    PROMQL__AGG, PROMQL__BINARY, PROMQL__NEG };

enum promql__func { PROMQL__RATE, PROMQL__IRATE, PROMQL__INCREASE, PROMQL__DELTA,
		    PROMQL__AVG_OT, PROMQL__MIN_OT, PROMQL__MAX_OT, PROMQL__SUM_OT,
		    PROMQL__COUNT_OT, PROMQL__LAST_OT, PROMQL__HQUANTILE };

enum promql__agg { PROMQL__SUM, PROMQL__AVG, PROMQL__MIN, PROMQL__MAX, PROMQL__COUNT };

struct promql__matcher {
	struct promql_matcher m; /* name and value owned */
	regex_t re;              /* for =~ and !~, unless alts */
	/* =~ / !~ of literals only ("a|b|c", as the adapter's LabelMatchers
	 * name objects): sorted, unique; matched by binary search instead of
	 * a regex of thousands of alternatives */
	char **alts;
	size_t nalts;
};

struct promql_expr {
	enum promql__kind kind;
	size_t pos;
	bool scalar;          /* type: scalar, else instant vector (matrix: range) */
	double num;           /* PROMQL__NUMBER */
	struct promql__matcher *matchers; /* SELECTOR, MATRIX */
	size_t nmatchers;
	struct promql_matcher *plain;     /* the same, as the source's view */
	int64_t range_ms;                 /* MATRIX */
	enum promql__func func;           /* CALL */
	enum promql__agg agg;             /* AGG */
	char **grouping;
	size_t ngrouping;
	bool without;
	enum promql__tok op;              /* BINARY */
	struct promql_expr *a, *b;        /* CALL args, AGG arg, BINARY sides, NEG */
};

/* ---- parser (parse.c, selector.c) ---- */

struct promql__parser {
	struct promql__lexer lx;
	struct promql__token tok; /* the current token */
	size_t nodes, depth;
	int rc;                   /* the first error */
};

/* Records the first error: rc, and "LINE:COL: " fmt (one %s: arg) at pos. */
void promql__errat(struct promql__parser *p, int rc, size_t pos, const char *fmt, const char *arg);
/* "unexpected <token> in <in>" at the current token (ERR_PARSE). */
void promql__unexpected(struct promql__parser *p, const char *in);
/* Moves to the next token (EOF once an error is recorded). */
void promql__next(struct promql__parser *p);
/* A new node of kind k, counted against PROMQL_MAX_NODES (NULL past it). */
struct promql_expr *promql__node(struct promql__parser *p, enum promql__kind k, size_t pos);
/* A vector selector at the current token (an identifier or '{'). */
struct promql_expr *promql__selector(struct promql__parser *p);

/* ---- evaluation ---- */

/* One selected series: labels (owned) and its non-stale points in range. */
struct promql__series {
	struct labels labels;
	struct promql_point *p;
	size_t n;
};

struct promql__ctx {
	const struct promql_source *src;
	int64_t now;
	size_t nseries, npoints;
	char *err;
	size_t errlen;
};

/* True when labels l satisfy every matcher. */
bool promql__matches(const struct promql_expr *sel, const struct labels *l);
/* Selects sel's series over [from, to] (sorted by labels, stale points
 * kept): 0 or an error (err written). *out is a new array of *n. */
int promql__select(struct promql__ctx *c, const struct promql_expr *sel, int64_t from,
		   struct promql__series **out, size_t *n);
void promql__series_free(struct promql__series *s, size_t n);

/* Range function f over the points p[0..n) (no stale ones) of a range
 * [now - range, now]: false when the series gives no output. */
bool promql__range_fn(enum promql__func f, const struct promql_point *p, size_t n, int64_t now,
		      int64_t range_ms, double *out);
/* Aggregates in (its samples are consumed) into out (a vector). */
void promql__aggregate(const struct promql_expr *e, struct promql_value *in,
		       struct promql_value *out);
/* histogram_quantile(q, in) into out (a vector); in is left as it was. */
void promql__histogram_quantile(double q, const struct promql_value *in,
				struct promql_value *out);

/* Vector helpers (value.c). */
void promql__vec_push(struct promql_value *v, struct labels *l, double x, int64_t t);
void promql__labels_del(struct labels *l, const char *key);
int promql__labels_cmp(const struct labels *a, const struct labels *b);
/* 0, or ERR_INVAL "vector cannot contain metrics with the same labelset". */
int promql__vec_check_unique(struct promql_value *v, char *err, size_t errlen);
/* labels as Prometheus prints them ({a="b", c="d"}), into a new string. */
char *promql__labels_string(const struct labels *l);

#endif
