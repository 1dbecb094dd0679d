/*
 * selector.c - vector selectors: metric name and {label matchers}, the
 * checks Prometheus makes on them (the name set once, at least one
 * matcher that does not match the empty string), regexes compiled.
 */
#include "promql/promql_int.h"

#include <stdlib.h>
#include <string.h>

static int alt_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A regex that is literals joined by '|' (no other RE2 metacharacter)
 * becomes m->alts: anchored, it matches exactly those strings. */
static bool literal_set(struct promql__matcher *m, const char *re)
{
	size_t n = 1, k = 0;

	if (strpbrk(re, "\\.+*?()[]{}^$"))
		return false;
	for (const char *p = re; *p; p++)
		n += *p == '|';
	m->alts = xcalloc(n, sizeof(*m->alts));
	for (const char *p = re;; p++) {
		size_t len = strcspn(p, "|");

		m->alts[k++] = xstrndup(p, len);
		p += len;
		if (!*p)
			break;
	}
	qsort(m->alts, n, sizeof(*m->alts), alt_cmp);
	m->nalts = n ? 1 : 0;
	for (size_t i = 1; i < n; i++) {
		if (strcmp(m->alts[i], m->alts[m->nalts - 1]) == 0)
			free(m->alts[i]);
		else
			m->alts[m->nalts++] = m->alts[i];
	}
	return true;
}

static void add_matcher(struct promql__parser *p, struct promql_expr *e, const char *name,
			const char *value, enum promql_match_op op, size_t pos)
{
	struct promql__matcher *m;
	char why[200];

	e->matchers = xrealloc(e->matchers, (e->nmatchers + 1) * sizeof(*e->matchers));
	m = &e->matchers[e->nmatchers];
	memset(m, 0, sizeof(*m));
	m->m.op = PROMQL_EQ; /* until the regex compiles: nothing to regfree */
	m->m.name = xstrdup(name);
	m->m.value = xstrdup(value);
	e->nmatchers++;
	if ((op == PROMQL_RE || op == PROMQL_NRE) && !literal_set(m, value)) {
		int rc = promql__regex_compile(&m->re, value, why, sizeof(why));

		if (rc != 0) {
			promql__errat(p, rc, pos, "%s", why);
			return;
		}
	}
	m->m.op = op;
}

/* {a="b", ...} into e; p->tok is '{'. */
static void matchers(struct promql__parser *p, struct promql_expr *e)
{
	promql__next(p);
	while (!p->rc && p->tok.type != PROMQL__T_RBRACE) {
		char *name;
		size_t pos;
		enum promql_match_op op;

		if (p->tok.type != PROMQL__T_IDENT) {
			promql__unexpected(p, "label matching");
			return;
		}
		name = p->tok.text;
		p->tok.text = NULL;
		promql__next(p);
		switch (p->tok.type) {
		case PROMQL__T_EQ: op = PROMQL_EQ; break;
		case PROMQL__T_NEQ: op = PROMQL_NE; break;
		case PROMQL__T_RE: op = PROMQL_RE; break;
		case PROMQL__T_NRE: op = PROMQL_NRE; break;
		default:
			promql__unexpected(p, "label matching, expected one of \"=\", \"!=\", \"=~\" or \"!~\"");
			free(name);
			return;
		}
		promql__next(p);
		pos = p->tok.pos;
		if (p->tok.type != PROMQL__T_STRING) {
			promql__unexpected(p, "label matching, expected string");
			free(name);
			return;
		}
		add_matcher(p, e, name, p->tok.text, op, pos);
		free(name);
		promql__next(p);
		if (p->tok.type == PROMQL__T_COMMA)
			promql__next(p);
		else if (p->tok.type != PROMQL__T_RBRACE)
			promql__unexpected(p, "label matching, expected \",\" or \"}\"");
	}
	promql__next(p);
}

static void check_selector(struct promql__parser *p, struct promql_expr *e)
{
	bool nonempty = false;
	size_t names = 0;

	for (size_t i = 0; i < e->nmatchers && !p->rc; i++) {
		struct labels none = {0, NULL};
		struct promql_expr one = *e;

		one.matchers = &e->matchers[i];
		one.nmatchers = 1;
		if (!promql__matches(&one, &none))
			nonempty = true;
		if (strcmp(e->matchers[i].m.name, "__name__") == 0)
			names++;
	}
	if (p->rc)
		return;
	if (!nonempty)
		promql__errat(p, ERR_PARSE, e->pos, "%s",
		      "vector selector must contain at least one non-empty matcher");
	e->plain = xcalloc(e->nmatchers, sizeof(*e->plain));
	for (size_t i = 0; i < e->nmatchers; i++)
		e->plain[i] = e->matchers[i].m;
	COMMON_UNUSED(names);
}

struct promql_expr *promql__selector(struct promql__parser *p)
{
	struct promql_expr *e = promql__node(p, PROMQL__SELECTOR, p->tok.pos);

	if (!e)
		return NULL;
	if (p->tok.type == PROMQL__T_IDENT) {
		add_matcher(p, e, "__name__", p->tok.text, PROMQL_EQ, p->tok.pos);
		promql__next(p);
		if (p->tok.type == PROMQL__T_LBRACE) {
			size_t first = e->nmatchers;

			matchers(p, e);
			for (size_t i = first; i < e->nmatchers && !p->rc; i++)
				if (strcmp(e->matchers[i].m.name, "__name__") == 0)
					promql__errat(p, ERR_PARSE, e->pos,
					      "metric name must not be set twice: \"%s\"",
					      e->matchers[0].m.value);
		}
	} else {
		matchers(p, e);
	}
	check_selector(p, e);
	return e;
}

