/*
 * select.c - the query side: series_select for the PromQL evaluator and
 * series_each_metric for discovery, on a snapshot the caller holds.  No
 * lock: snapshots and their blocks never change.
 */
#include "series/series_int.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

struct compiled {
	const struct series_matcher *m;
	regex_t re;
	bool has_re;
	bool is_name; /* on __name__, which target labels never have */
};

static void compiled_free(struct compiled *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].has_re)
			regfree(&c[i].re);
	free(c);
}

/* The matchers with their regexes compiled, anchored at both ends. */
static int compile(const struct series_matcher *m, size_t n, struct compiled **out)
{
	struct compiled *c = xcalloc(n ? n : 1, sizeof(*c));

	for (size_t i = 0; i < n; i++) {
		char *pat;
		int rc;

		c[i].m = &m[i];
		if (!m[i].name || !m[i].value || m[i].op < SERIES_EQ || m[i].op > SERIES_NRE) {
			compiled_free(c, i);
			return ERR_INVAL;
		}
		c[i].is_name = strcmp(m[i].name, "__name__") == 0;
		if (m[i].op != SERIES_RE && m[i].op != SERIES_NRE)
			continue;
		pat = xasprintf("^(%s)$", m[i].value);
		rc = regcomp(&c[i].re, pat, REG_EXTENDED | REG_NOSUB);
		free(pat);
		if (rc != 0) {
			compiled_free(c, i);
			return ERR_INVAL;
		}
		c[i].has_re = true;
	}
	*out = c;
	return ERR_OK;
}

static bool match_one(const struct compiled *c, const char *v)
{
	switch (c->m->op) {
	case SERIES_EQ:
		return strcmp(v, c->m->value) == 0;
	case SERIES_NE:
		return strcmp(v, c->m->value) != 0;
	case SERIES_RE:
		return regexec(&c->re, v, 0, NULL, 0) == 0;
	case SERIES_NRE:
		return regexec(&c->re, v, 0, NULL, 0) != 0;
	}
	return false;
}

/* Whether the series labels l match every matcher not yet decided
 * (bit i of todo set: matcher i; beyond 64 matchers, all of them). */
static bool matches(const struct compiled *c, size_t n, uint64_t todo, const struct labels *l)
{
	for (size_t i = 0; i < n; i++) {
		const char *v;

		if (i < 64 && !(todo >> i & 1))
			continue;
		v = series__label_get(l, c[i].m->name);

		if (!match_one(&c[i], v ? v : ""))
			return false;
	}
	return true;
}

/* False when a matcher on one of the target's labels fails: every series
 * of the target carries that label with that value (a scraped label of
 * the same name became exported_<name>), so none can match.  Otherwise
 * *todo keeps the matchers the target's labels did not decide (and the
 * __name__ one unless the name index decides it: by_name). */
static bool target_may_match(const struct compiled *c, size_t n, const struct labels *target,
			     size_t by_name, uint64_t *todo)
{
	*todo = UINT64_MAX;
	for (size_t i = 0; i < n; i++) {
		const char *v;

		if (c[i].is_name) {
			if (i == by_name && i < 64)
				*todo &= ~(UINT64_C(1) << i);
			continue; /* target labels have no __name__ */
		}
		v = series__label_get(target, c[i].m->name);
		if (!v)
			continue;
		if (!match_one(&c[i], v))
			return false;
		if (i < 64)
			*todo &= ~(UINT64_C(1) << i);
	}
	return true;
}

/* The name index entry of name in b, or NULL. */
static const struct series__name *find_name(const struct series__block *b, const char *name)
{
	size_t lo = 0, hi = b->nnames;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(b->names[mid].name, name);

		if (c == 0)
			return &b->names[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct visit {
	const struct compiled *c;
	size_t n;
	uint64_t todo;
	int64_t from, to;
	struct series_point *scratch;
	series_each_fn each;
	void *ctx;
};

static void visit(const struct visit *q, const struct series__block *b, size_t i)
{
	struct series_view v;

	if (!b->slots[i].ls || !matches(q->c, q->n, q->todo, &b->slots[i].ls->labels))
		return;
	v.labels = &b->slots[i].ls->labels;
	v.n = series__block_range(b, i, q->from, q->to, q->scratch, &v.points);
	if (v.n)
		q->each(q->ctx, &v);
}

/* The first equality matcher a target label may decide, or NULL. */
static const struct series_matcher *index_matcher(const struct series_matcher *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].op == SERIES_EQ && *m[i].value && strcmp(m[i].name, "__name__") != 0)
			return &m[i];
	return NULL;
}

int series_select(const struct series_snapshot *snap, const struct series_matcher *m, size_t n,
		  int64_t from_ms, int64_t to_ms, series_each_fn each, void *ctx)
{
	const struct series_matcher *im;
	struct visit q = { .n = n, .from = from_ms, .to = to_ms, .each = each, .ctx = ctx };
	struct compiled *c;
	size_t by_name = SIZE_MAX, nks = SIZE_MAX;
	uint32_t *ks = NULL;
	int rc;

	if (!snap || !each || (n && !m))
		return ERR_INVAL;
	rc = compile(m, n, &c);
	if (rc)
		return rc;
	q.c = c;
	for (size_t i = 0; i < n; i++)
		if (m[i].op == SERIES_EQ && c[i].is_name)
			by_name = i;
	if ((im = index_matcher(m, n)) != NULL)
		nks = series__tindex_lookup(snap, im->name, im->value, &ks);
	for (size_t x = 0; x < (nks == SIZE_MAX ? snap->n : nks); x++) {
		const struct series__block *b = snap->blocks[nks == SIZE_MAX ? x : ks[x]];

		if (!b || !target_may_match(c, n, &b->target->labels, by_name, &q.todo))
			continue;
		if (!q.scratch)
			q.scratch = xmalloc(b->ring * sizeof(*q.scratch));
		if (by_name != SIZE_MAX) {
			const struct series__name *e = find_name(b, m[by_name].value);

			for (uint32_t j = 0; e && j < e->count; j++)
				visit(&q, b, b->order[e->first + j]);
			continue;
		}
		for (size_t i = 0; i < b->nslots; i++)
			visit(&q, b, i);
	}
	free(ks);
	free(q.scratch);
	compiled_free(c, n);
	return ERR_OK;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void series_each_metric(const struct series_snapshot *snap, series_metric_fn fn, void *ctx)
{
	const char **names = NULL;
	size_t cap = 0;

	for (size_t k = 0; k < snap->n; k++) {
		const struct series__block *b = snap->blocks[k];

		for (size_t e = 0; b && e < b->nnames; e++) {
			struct series_metric m = { b->target->name, &b->target->labels, b->names[e].name,
						   NULL, 0, 0 };
			size_t nn = 0, u = 0;

			for (uint32_t j = 0; j < b->names[e].count; j++) {
				size_t i = b->order[b->names[e].first + j];
				const struct series_point *nw = series__block_newest(b, i);
				const struct labels *l = &b->slots[i].ls->labels;

				if (!nw || prom_is_stale(nw->v))
					continue;
				m.nseries++;
				names = series__reserve(names, &cap, nn + l->n, sizeof(*names));
				for (size_t x = 0; x < l->n; x++)
					if (strcmp(l->items[x].key, "__name__") != 0)
						names[nn++] = l->items[x].key;
			}
			if (!m.nseries)
				continue;
			qsort(names, nn, sizeof(*names), str_cmp);
			for (size_t x = 0; x < nn; x++)
				if (!u || strcmp(names[u - 1], names[x]) != 0)
					names[u++] = names[x];
			m.label_names = names;
			m.nlabel_names = u;
			fn(ctx, &m);
		}
	}
	free(names);
}
