/*
 * catalog.c - which metrics exist now, as prometheus-adapter's series
 * registries find them (custom-provider/series_registry.go,
 * external-provider/external_series_registry.go), from our series store
 * instead of /api/v1/series:
 *
 *   for every rule, every series its seriesQuery selects whose newest
 *   point (within the lookback) is not a stale marker; its name kept by
 *   the seriesFilters and name.matches, renamed by name.as; a custom rule
 *   gives one entry per group-resource its labels map to (namespaced when
 *   the series also has the namespace label, except for namespaces, nodes
 *   and persistentvolumes), an external rule one metric name.
 *
 * Where several rules or series names give the same (group-resource,
 * metric), the first rule in the file wins, then the smallest series name.
 * Names and labels repeat across thousands of targets, so the renaming
 * and the label mapping are memoised per rule for the build.
 */
#include "custom/custom_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small string -> pointer memo (open addressing) -------------------------------- */

struct memo_slot {
	char *key;   /* NULL: free */
	void *val;
};

struct memo {
	struct memo_slot *slots;
	size_t cap, n; /* cap a power of two */
};

static struct memo_slot *memo_find(struct memo *m, const char *key)
{
	size_t i = hash_str(HASH_FNV_OFFSET, key) & (m->cap - 1);

	while (m->slots[i].key && strcmp(m->slots[i].key, key) != 0)
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

static void memo_grow(struct memo *m)
{
	struct memo_slot *old = m->slots;
	size_t oldcap = m->cap;

	m->cap = oldcap ? oldcap * 2 : 64;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key)
			*memo_find(m, old[i].key) = old[i];
	free(old);
}

/* The slot of key; *fresh true when it was just added (val NULL). */
static struct memo_slot *memo_get(struct memo *m, const char *key, bool *fresh)
{
	struct memo_slot *s;

	if ((m->n + 1) * 4 > m->cap * 3)
		memo_grow(m);
	s = memo_find(m, key);
	*fresh = s->key == NULL;
	if (*fresh) {
		s->key = xstrdup(key);
		m->n++;
	}
	return s;
}

static void memo_clear(struct memo *m, void (*free_val)(void *))
{
	for (size_t i = 0; i < m->cap; i++) {
		free(m->slots[i].key);
		if (m->slots[i].key && free_val)
			free_val(m->slots[i].val);
	}
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

/* ---- the build ------------------------------------------------------------------------- */

/* What a label maps to under one rule (memo value; NOMAP when nothing). */
struct mapped {
	char *group, *resource;
};

static struct mapped NOMAP;
static char NONAME[1];

static void free_mapped(void *v)
{
	struct mapped *m = v;

	if (m != &NOMAP) {
		free(m->group);
		free(m->resource);
		free(m);
	}
}

static void free_name(void *v)
{
	if (v != NONAME)
		free(v);
}

struct build {
	const struct custom__rule *rule;
	int64_t now_ms;
	struct memo names;   /* series name -> metric name (NONAME: not kept) */
	struct memo labels;  /* label -> struct mapped */
	struct memo seen;    /* "gr\nmetric" or metric -> its index + 1 */
	struct custom_resource_metric *pub;
	struct custom__entry *ent;
	size_t n, cap;
	struct custom__external *ext;
	size_t next, extcap;
};

static const char *metric_of(struct build *b, const char *series)
{
	bool fresh;
	struct memo_slot *s = memo_get(&b->names, series, &fresh);

	if (fresh) {
		char out[1024];

		if (rules_series_selected(b->rule->r, series) &&
		    rules_metric_name(b->rule->r, series, out, sizeof(out)) == 0 && *out)
			s->val = xstrdup(out);
		else
			s->val = NONAME;
	}
	return s->val == NONAME ? NULL : s->val;
}

static const struct mapped *mapping_of(struct build *b, const char *label)
{
	bool fresh;
	struct memo_slot *s = memo_get(&b->labels, label, &fresh);

	if (fresh) {
		char g[256], r[256];
		struct rules_group_resource gr;

		s->val = &NOMAP;
		if (rules_label_resource(b->rule->r, label, g, r, sizeof(g), &gr) == 0) {
			struct mapped *m = xmalloc(sizeof(*m));

			m->group = xstrdup(gr.group);
			m->resource = xstrdup(gr.resource);
			s->val = m;
		}
	}
	return s->val == &NOMAP ? NULL : s->val;
}

/* Keeps the smaller series name for an entry seen before within the rule. */
static void prefer_smaller(char **have, const char *series)
{
	if (strcmp(series, *have) < 0) {
		free(*have);
		*have = xstrdup(series);
	}
}

static void add_custom(struct build *b, const struct mapped *m, const char *metric,
		       bool namespaced, const char *series)
{
	char *gr = *m->group ? xasprintf("%s.%s", m->resource, m->group) : xstrdup(m->resource);
	char *key = xasprintf("%s\n%s", gr, metric);
	bool fresh;
	struct memo_slot *s = memo_get(&b->seen, key, &fresh);
	struct rules_group_resource g = { m->group, m->resource };

	free(key);
	if (!fresh) {
		size_t i = (size_t)(uintptr_t)s->val - 1;

		if (b->ent[i].rule == b->rule->r)
			prefer_smaller(&b->ent[i].series, series);
		free(gr);
		return;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->pub = xrealloc(b->pub, b->cap * sizeof(*b->pub));
		b->ent = xrealloc(b->ent, b->cap * sizeof(*b->ent));
	}
	b->pub[b->n] = (struct custom_resource_metric){
		.group = xstrdup(m->group),
		.resource = xstrdup(m->resource),
		.metric = xstrdup(metric),
		.namespaced = namespaced && rules_resource_namespaced(&g),
	};
	b->ent[b->n] = (struct custom__entry){ gr, b->rule->r, xstrdup(series) };
	s->val = (void *)(uintptr_t)++b->n;
}

static void add_external(struct build *b, const char *metric, const char *series)
{
	bool fresh;
	struct memo_slot *s = memo_get(&b->seen, metric, &fresh);

	if (!fresh) {
		size_t i = (size_t)(uintptr_t)s->val - 1;

		if (b->ext[i].rule == b->rule->r)
			prefer_smaller(&b->ext[i].series, series);
		return;
	}
	if (b->next == b->extcap) {
		b->extcap = b->extcap ? b->extcap * 2 : 16;
		b->ext = xrealloc(b->ext, b->extcap * sizeof(*b->ext));
	}
	b->ext[b->next] = (struct custom__external){ xstrdup(metric), b->rule->r, xstrdup(series) };
	s->val = (void *)(uintptr_t)++b->next;
}

static bool is_namespaces(const struct mapped *m)
{
	return !*m->group && strcmp(m->resource, "namespaces") == 0;
}

static void on_series(void *ud, const struct series_view *v)
{
	struct build *b = ud;
	const struct series_point *last = &v->points[v->n - 1];
	const char *series = labels_get(v->labels, "__name__"), *metric;
	const struct mapped *maps[64];
	size_t nmaps = 0;
	bool has_ns = false;

	if (prom_is_stale(last->v) || last->t_ms > b->now_ms || !series ||
	    !promql_selector_matches(b->rule->series_sel, v->labels) ||
	    !(metric = metric_of(b, series)))
		return;
	if (b->rule->r->external) {
		add_external(b, metric, series);
		return;
	}
	for (size_t i = 0; i < v->labels->n && nmaps < COMMON_ARRAY_LEN(maps); i++) {
		const struct mapped *m;

		if (strcmp(v->labels->items[i].key, "__name__") == 0 ||
		    !(m = mapping_of(b, v->labels->items[i].key)))
			continue;
		has_ns |= is_namespaces(m);
		maps[nmaps++] = m;
	}
	for (size_t i = 0; i < nmaps; i++)
		add_custom(b, maps[i], metric, has_ns, series);
}

/* Equality matchers of the seriesQuery (the name index); the rest are
 * checked in on_series. */
static size_t eq_matchers(const struct promql_expr *sel, struct series_matcher *out, size_t max)
{
	const struct promql_matcher *m;
	size_t n, k = 0;

	if (!promql_expr_selector(sel, &m, &n))
		return 0;
	for (size_t i = 0; i < n && k < max; i++)
		if (m[i].op == PROMQL_EQ && *m[i].value)
			out[k++] = (struct series_matcher){ m[i].name, m[i].value, SERIES_EQ };
	return k;
}

static int ext_cmp(const void *a, const void *b)
{
	return strcmp(((const struct custom__external *)a)->metric,
		      ((const struct custom__external *)b)->metric);
}

/* Sorts entries by (gr, metric): an index array carries pub along. */
struct order {
	size_t i;
	const struct build *b;
};

static int order_cmp(const void *a, const void *b)
{
	const struct order *x = a, *y = b;
	int c = strcmp(x->b->ent[x->i].gr, y->b->ent[y->i].gr);

	return c ? c : strcmp(x->b->pub[x->i].metric, y->b->pub[y->i].metric);
}

static struct custom_catalog *finish(struct build *b)
{
	struct custom_catalog *c = custom__catalog_empty();
	struct order *o = xcalloc(b->n ? b->n : 1, sizeof(*o));

	for (size_t i = 0; i < b->n; i++)
		o[i] = (struct order){ i, b };
	qsort(o, b->n, sizeof(*o), order_cmp);
	c->n = b->n;
	c->pub = xcalloc(b->n ? b->n : 1, sizeof(*c->pub));
	c->ent = xcalloc(b->n ? b->n : 1, sizeof(*c->ent));
	for (size_t i = 0; i < b->n; i++) {
		c->pub[i] = b->pub[o[i].i];
		c->ent[i] = b->ent[o[i].i];
	}
	free(o);
	free(b->pub);
	free(b->ent);
	if (b->next) /* qsort's base may not be NULL, even for no elements */
		qsort(b->ext, b->next, sizeof(*b->ext), ext_cmp);
	c->ext = b->ext;
	c->next = b->next;
	c->ext_names = xcalloc(b->next ? b->next : 1, sizeof(*c->ext_names));
	for (size_t i = 0; i < b->next; i++)
		c->ext_names[i] = c->ext[i].metric;
	return c;
}

struct custom_catalog *custom__catalog_build(const struct custom_provider *p,
					    const struct series_snapshot *snap, int64_t now_ms)
{
	struct build b;

	memset(&b, 0, sizeof(b));
	b.now_ms = now_ms;
	for (size_t i = 0; i < p->nrules; i++) {
		struct series_matcher eq[32];

		if (!p->rules[i].series_sel)
			continue;
		b.rule = &p->rules[i];
		series_select(snap, eq, eq_matchers(b.rule->series_sel, eq, COMMON_ARRAY_LEN(eq)),
			      now_ms - PROMQL_LOOKBACK_MS, now_ms, on_series, &b);
		memo_clear(&b.names, free_name);
		memo_clear(&b.labels, free_mapped);
		if (i + 1 == p->cfg->n_rules) /* custom and external names are apart */
			memo_clear(&b.seen, NULL);
	}
	memo_clear(&b.seen, NULL);
	return finish(&b);
}

struct custom_catalog *custom__catalog_empty(void)
{
	struct custom_catalog *c = xcalloc(1, sizeof(*c));

	atomic_init(&c->refs, 1);
	return c;
}

void custom_catalog_unref(struct custom_catalog *c)
{
	if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free((char *)c->pub[i].group);
		free((char *)c->pub[i].resource);
		free((char *)c->pub[i].metric);
		free(c->ent[i].gr);
		free(c->ent[i].series);
	}
	for (size_t i = 0; i < c->next; i++) {
		free(c->ext[i].metric);
		free(c->ext[i].series);
	}
	free(c->pub);
	free(c->ent);
	free(c->ext);
	free(c->ext_names);
	free(c);
}

/* ---- lookups ------------------------------------------------------------------------- */

size_t custom_catalog_resources(const struct custom_catalog *c,
				const struct custom_resource_metric **out)
{
	*out = c->pub;
	return c->n;
}

size_t custom_catalog_externals(const struct custom_catalog *c, const char *const **out)
{
	*out = c->ext_names;
	return c->next;
}

const struct custom__entry *custom__catalog_find(const struct custom_catalog *c, const char *group,
						const char *resource, const char *metric,
						size_t *index)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->pub[i].group, group) == 0 &&
		    strcmp(c->pub[i].resource, resource) == 0 &&
		    strcmp(c->pub[i].metric, metric) == 0) {
			if (index)
				*index = i;
			return &c->ent[i];
		}
	return NULL;
}

bool custom_catalog_has(const struct custom_catalog *c, const char *group, const char *resource,
			const char *metric)
{
	return custom__catalog_find(c, group, resource, metric, NULL) != NULL;
}

const struct custom__external *custom__catalog_external(const struct custom_catalog *c,
						       const char *metric)
{
	size_t lo = 0, hi = c->next;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(c->ext[mid].metric, metric);

		if (cmp == 0)
			return &c->ext[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool custom_catalog_has_external(const struct custom_catalog *c, const char *metric)
{
	return custom__catalog_external(c, metric) != NULL;
}

/* Whether plural (a catalog resource) is word, or word made plural as
 * the RESTMapper's guesses do (s, es, y -> ies). */
static bool plural_of(const char *plural, const char *word, size_t wlen)
{
	size_t plen = strlen(plural);

	if (plen == wlen)
		return memcmp(plural, word, wlen) == 0;
	if (plen == wlen + 1 && plural[wlen] == 's')
		return memcmp(plural, word, wlen) == 0;
	if (plen == wlen + 2 && strcmp(plural + wlen, "es") == 0)
		return memcmp(plural, word, wlen) == 0;
	return wlen > 1 && word[wlen - 1] == 'y' && plen == wlen + 2 &&
	       memcmp(plural, word, wlen - 1) == 0 && strcmp(plural + wlen - 1, "ies") == 0;
}

bool custom_catalog_resource(const struct custom_catalog *c, const char *segment,
			     const char **group, const char **resource)
{
	char low[512];
	size_t n = strlen(segment), wlen;
	const char *dot, *grp;

	if (n == 0 || n >= sizeof(low))
		return false;
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)segment[i]);
	dot = strchr(low, '.');
	wlen = dot ? (size_t)(dot - low) : n;
	grp = dot ? dot + 1 : "";
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->pub[i].group, grp) == 0 && plural_of(c->pub[i].resource, low, wlen)) {
			*group = c->pub[i].group;
			*resource = c->pub[i].resource;
			return true;
		}
	return false;
}
