/*
 * provider.c - the provider: rules' seriesQuery parsed once, the catalog
 * cache (refreshed after every scrape round, off the request path; a
 * request rebuilds it only when no round did for two resolutions, while
 * the other requests keep the previous one), and series/ as the source
 * promql/ reads.
 */
#include "custom/custom_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* series/ and promql/ points are the same (t_ms, v) pair. */
_Static_assert(sizeof(struct series_point) == sizeof(struct promql_point), "point layout");
_Static_assert(offsetof(struct series_point, v) == offsetof(struct promql_point, v),
	       "point layout");

static void parse_series_query(struct custom__rule *cr)
{
	const char *what = cr->r->external ? "externalRules" : "rules";
	const struct promql_matcher *m;
	char err[256];
	size_t n;

	if (promql_parse(cr->r->series_query, &cr->series_sel, err, sizeof(err)) != 0) {
		log_warn("custom metrics: %s[%zu]: seriesQuery %s: %s; the rule discovers nothing",
			 what, cr->r->index, cr->r->series_query, err);
	} else if (!promql_expr_selector(cr->series_sel, &m, &n)) {
		log_warn("custom metrics: %s[%zu]: seriesQuery %s is not a series selector; the "
			 "rule discovers nothing", what, cr->r->index, cr->r->series_query);
		promql_expr_free(cr->series_sel);
		cr->series_sel = NULL;
	}
}

struct custom_provider *custom_provider_new(const struct rules_config *cfg, struct series *ser,
					    int64_t resolution_ms)
{
	struct custom_provider *p = xcalloc(1, sizeof(*p));

	p->cfg = cfg;
	p->ser = ser;
	p->resolution_ms = resolution_ms > 0 ? resolution_ms : 1;
	p->nrules = cfg->n_rules + cfg->n_external;
	p->rules = xcalloc(p->nrules ? p->nrules : 1, sizeof(*p->rules));
	for (size_t i = 0; i < p->nrules; i++) {
		p->rules[i].r = i < cfg->n_rules ? &cfg->rules[i] : &cfg->external[i - cfg->n_rules];
		parse_series_query(&p->rules[i]);
	}
	pthread_mutex_init(&p->mu, NULL);
	p->cur = custom__catalog_empty();
	p->built_ms = INT64_MIN;
	return p;
}

void custom_provider_free(struct custom_provider *p)
{
	if (!p)
		return;
	custom_catalog_unref(p->cur);
	for (size_t i = 0; i < p->nrules; i++)
		promql_expr_free(p->rules[i].series_sel);
	free(p->rules);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

static struct custom_catalog *ref(struct custom_catalog *c)
{
	atomic_fetch_add(&c->refs, 1);
	return c;
}

/* Builds the catalog of now_ms and makes it current; returns it with one
 * reference for the caller. */
static struct custom_catalog *rebuild(struct custom_provider *p, int64_t now_ms)
{
	struct series_snapshot *snap = series_acquire(p->ser);
	struct custom_catalog *c = custom__catalog_build(p, snap, now_ms), *old;

	series_snapshot_unref(snap);
	pthread_mutex_lock(&p->mu);
	old = p->cur;
	p->cur = ref(c);
	p->built_ms = now_ms;
	p->building = false;
	pthread_mutex_unlock(&p->mu);
	custom_catalog_unref(old);
	return c;
}

void custom_provider_refresh(struct custom_provider *p, int64_t now_ms)
{
	pthread_mutex_lock(&p->mu);
	p->building = true;
	pthread_mutex_unlock(&p->mu);
	custom_catalog_unref(rebuild(p, now_ms));
}

struct custom_catalog *custom_catalog_acquire(struct custom_provider *p, int64_t now_ms)
{
	struct custom_catalog *c;

	pthread_mutex_lock(&p->mu);
	/* fresh enough: the scraper refreshes it every round (a resolution),
	 * so a request rebuilds it only when no round did for two */
	if (p->building || (p->built_ms != INT64_MIN && now_ms >= p->built_ms &&
			    now_ms - p->built_ms < 2 * p->resolution_ms)) {
		c = ref(p->cur);
		pthread_mutex_unlock(&p->mu);
		return c;
	}
	p->building = true;
	pthread_mutex_unlock(&p->mu);
	return rebuild(p, now_ms);
}

/* ---- series/ as a promql source ----------------------------------------------------- */

struct relay {
	promql_series_fn each;
	void *ctx;
};

static void relay_series(void *ud, const struct series_view *v)
{
	const struct relay *r = ud;
	struct promql_series s = {
		.labels = v->labels,
		.points = (const struct promql_point *)(const void *)v->points,
		.n = v->n,
	};

	r->each(r->ctx, &s);
}

#define MAX_EQ_MATCHERS 32

static int source_select(void *ud, const struct promql_matcher *m, size_t n, int64_t from_ms,
			 int64_t to_ms, promql_series_fn each, void *ctx)
{
	struct series_matcher eq[MAX_EQ_MATCHERS];
	struct relay r = { each, ctx };
	size_t k = 0;

	/* Equality only: it uses the name index and needs no regex; promql
	 * checks every matcher again. */
	for (size_t i = 0; i < n && k < MAX_EQ_MATCHERS; i++)
		if (m[i].op == PROMQL_EQ && *m[i].value)
			eq[k++] = (struct series_matcher){ m[i].name, m[i].value, SERIES_EQ };
	return series_select(ud, eq, k, from_ms, to_ms, relay_series, &r);
}

void custom__source_init(struct promql_source *src, const struct series_snapshot *snap)
{
	src->select = source_select;
	src->ud = (void *)snap;
}
