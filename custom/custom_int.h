/*
 * custom_int.h - shared by custom/ only.
 *
 *   provider.c  the provider, the catalog cache, series/ as a promql source
 *   catalog.c   building a catalog (discovery) and its lookups
 *   values.c    metricsQuery expanded for a request and evaluated
 */
#ifndef CUSTOM_INT_H
#define CUSTOM_INT_H

#include <stdatomic.h>
#include <pthread.h>

#include "custom/custom.h"
#include "promql/promql.h"
#include "rules/rules.h"
#include "series/series.h"

/* A rule with its seriesQuery parsed (NULL when it is not a bare vector
 * selector: such a rule discovers nothing, said once in the log). */
struct custom__rule {
	const struct rules_rule *r;
	struct promql_expr *series_sel;
};

struct custom_provider {
	const struct rules_config *cfg;
	struct series *ser;
	int64_t resolution_ms;
	struct custom__rule *rules; /* rules then externalRules, in file order */
	size_t nrules;
	pthread_mutex_t mu;         /* guards cur, built_ms, building */
	struct custom_catalog *cur; /* never NULL; the provider holds one reference */
	int64_t built_ms;
	bool building;
};

/* A custom metric of the catalog: the public entry (strings owned here)
 * and where its values come from. */
struct custom__entry {
	char *gr;          /* GroupResource.String(): "pods", "deployments.apps" */
	const struct rules_rule *rule;
	char *series;      /* the series name .Series expands to */
};

/* An external metric: its name, rule and series name. */
struct custom__external {
	char *metric;
	const struct rules_rule *rule;
	char *series;
};

struct custom_catalog {
	atomic_long refs;
	struct custom_resource_metric *pub; /* sorted by (gr, metric); strings owned */
	struct custom__entry *ent;          /* parallel to pub */
	size_t n;
	struct custom__external *ext;       /* sorted by metric */
	const char **ext_names;             /* parallel to ext */
	size_t next;
};

/* ---- catalog.c ---------------------------------------------------------------------- */

/* The catalog of snap at now_ms (series whose newest point, within
 * PROMQL_LOOKBACK_MS, is not stale).  One reference. */
struct custom_catalog *custom__catalog_build(const struct custom_provider *p,
					    const struct series_snapshot *snap, int64_t now_ms);
/* An empty catalog (one reference). */
struct custom_catalog *custom__catalog_empty(void);
/* The entry of (group, resource, metric), or NULL. */
const struct custom__entry *custom__catalog_find(const struct custom_catalog *c, const char *group,
						const char *resource, const char *metric,
						size_t *index);
/* The external metric's entry, or NULL. */
const struct custom__external *custom__catalog_external(const struct custom_catalog *c,
						       const char *metric);

/* ---- provider.c ---------------------------------------------------------------------- */

/* series/ seen by promql/: a source over snap (equality matchers only are
 * passed down to series_select; promql re-checks every matcher). */
void custom__source_init(struct promql_source *src, const struct series_snapshot *snap);

#endif
