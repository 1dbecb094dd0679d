/*
 * reads.c - the series names some rule may read: every rule's and
 * external rule's seriesQuery, and every other selector of their
 * metricsQuery (a literal name beside <<.Series>>, which seriesQuery
 * covers).  The application scrape stores nothing else: a series no rule
 * can select is never discovered nor evaluated, so keeping it would only
 * cost memory (Prometheus' metric_relabel_configs with action: drop, done
 * for the user).  A selector with no usable constraint on __name__ (none,
 * or only != / !~) means every name.
 */
#include "rules/rules_int.h"

#include <stdlib.h>
#include <string.h>

#include "promql/promql.h"

struct rules__reads {
	bool all;
	char **exact;                /* sorted after rules__reads_finish */
	size_t nexact;
	struct promql_expr **by_re;  /* {__name__=~"..."} selectors */
	size_t nre;
};

struct rules__reads *rules__reads_new(void)
{
	return xcalloc(1, sizeof(struct rules__reads));
}

void rules__reads_free(struct rules__reads *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nexact; i++)
		free(r->exact[i]);
	for (size_t i = 0; i < r->nre; i++)
		promql_expr_free(r->by_re[i]);
	free(r->exact);
	free(r->by_re);
	free(r);
}

/* {__name__=~"re"} with re written as a PromQL string. */
static struct promql_expr *name_regex(const char *re)
{
	struct dynbuf b;
	struct promql_expr *e = NULL;
	char err[256];

	dynbuf_init(&b, PROMQL_MAX_QUERY);
	if (dynbuf_addstr(&b, "{__name__=~\"") == 0) {
		int rc = 0;

		for (const char *s = re; rc == 0 && *s; s++)
			rc = *s == '"' || *s == '\\' ? dynbuf_printf(&b, "\\%c", *s)
			     : *s == '\n'            ? dynbuf_addstr(&b, "\\n")
						     : dynbuf_addch(&b, *s);
		if (rc == 0 && dynbuf_addstr(&b, "\"}") == 0 &&
		    promql_parse(b.buf, &e, err, sizeof(err)) != 0)
			e = NULL; /* matches "" only: no constraint */
	}
	dynbuf_clear(&b);
	return e;
}

struct note {
	struct rules__reads *r;
	const char *covered; /* the name <<.Series>> stood for, or NULL */
};

static void note_selector(void *ctx, const struct promql_matcher *m, size_t n)
{
	struct note *x = ctx;
	struct rules__reads *r = x->r;
	const struct promql_matcher *eq = NULL, *re = NULL;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(m[i].name, "__name__") != 0)
			continue;
		if (m[i].op == PROMQL_EQ && !eq)
			eq = &m[i];
		else if (m[i].op == PROMQL_RE && !re)
			re = &m[i];
	}
	if (eq) {
		if (!x->covered || strcmp(eq->value, x->covered) != 0) {
			r->exact = xrealloc(r->exact, (r->nexact + 1) * sizeof(*r->exact));
			r->exact[r->nexact++] = xstrdup(eq->value);
		}
	} else if (re) {
		struct promql_expr *e = name_regex(re->value);

		if (!e) {
			r->all = true;
			return;
		}
		r->by_re = xrealloc(r->by_re, (r->nre + 1) * sizeof(*r->by_re));
		r->by_re[r->nre++] = e;
	} else {
		r->all = true;
	}
}

void rules__reads_note_query(struct rules__reads *r, const struct promql_expr *e,
			     const char *covered)
{
	struct note x = { r, covered };

	promql_expr_each_selector(e, note_selector, &x);
}

void rules__reads_note_series_query(struct rules__reads *r, const char *series_query)
{
	struct promql_expr *e = NULL;
	struct note x = { r, NULL };
	char err[256];

	if (!series_query || promql_parse(series_query, &e, err, sizeof(err)) != 0) {
		r->all = true; /* cannot tell: keep everything */
		return;
	}
	promql_expr_each_selector(e, note_selector, &x);
	promql_expr_free(e);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void rules__reads_finish(struct rules__reads *r)
{
	if (r->nexact)
		qsort(r->exact, r->nexact, sizeof(*r->exact), cmp_str);
}

static const char *exact_at(const void *base, size_t i)
{
	return ((char *const *)base)[i];
}

bool rules_config_reads(const struct rules_config *c, const char *name)
{
	const struct rules__reads *r = c->reads;
	bool found;

	if (!r || r->all)
		return true;
	sorted_str_search(r->exact, r->nexact, exact_at, name, &found);
	if (found || !r->nre)
		return found;
	{
		struct label l = { (char *)"__name__", (char *)name };
		struct labels one = { 1, &l };

		for (size_t i = 0; i < r->nre; i++)
			if (promql_selector_matches(r->by_re[i], &one))
				return true;
	}
	return false;
}
