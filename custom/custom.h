/*
 * custom.h - the public face of custom/: the provider behind
 * custom.metrics.k8s.io and external.metrics.k8s.io.  It answers the two
 * questions prometheus-adapter's providers answer (custom-provider/,
 * external-provider/), from prometheus-adapter's rules (rules/) over the
 * series we scraped ourselves (series/), evaluated by promql/:
 *
 *   which metrics exist now      the catalog: per rule, the series its
 *                                seriesQuery selects now, filtered and
 *                                named as the adapter does, one entry per
 *                                group-resource its labels map to;
 *   what is the value for these  one metricsQuery per request, expanded
 *   objects                      with the adapter's template arguments and
 *                                evaluated at now.
 *
 * Objects (pods, nodes, ...) are the caller's business: the API layer
 * lists the ones a wildcard and labelSelector match and passes their
 * names, as the adapter lists them from kube-apiserver.
 *
 * Threads: after custom_provider_new() every function may be called from
 * any thread at once.  A catalog is immutable and reference counted; the
 * scraper refreshes it after each round (custom_provider_refresh), and an
 * acquirer rebuilds it only when it is two resolutions old (no round ran),
 * while the others keep getting the previous one.
 */
#ifndef CUSTOM_H
#define CUSTOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

struct rules_config;
struct series;

/* Bounds of one request (past one: ERR_TOOBIG). */
#define CUSTOM_MAX_NAMES 100000       /* objects of one request */
#define CUSTOM_MAX_QUERY_BYTES 65536  /* an expanded metricsQuery (4096 before the
					 resource label's alternation is added) */

struct custom_provider;

/* cfg and ser are borrowed and must outlive the provider.  resolution_ms
 * (> 0) bounds how stale a catalog may get.  Never NULL. */
struct custom_provider *custom_provider_new(const struct rules_config *cfg, struct series *ser,
					    int64_t resolution_ms);
/* No other thread may use p; catalogs still held stay valid.  NULL ignored. */
void custom_provider_free(struct custom_provider *p);
/* Rebuilds the catalog from the series as of now_ms (after a scrape round:
 * the cost stays off the request path).  Any thread. */
void custom_provider_refresh(struct custom_provider *p, int64_t now_ms);

/* ---- the catalog: which metrics exist now --------------------------------------- */

/* One discovery entry of custom.metrics.k8s.io. */
struct custom_resource_metric {
	const char *group;    /* "" for the core group */
	const char *resource; /* plural, lower case: "pods", "deployments" */
	const char *metric;
	bool namespaced;      /* false for namespaces, nodes, persistentvolumes */
};

struct custom_catalog;

/* A reference to the current catalog (rebuilt first when older than two
 * resolutions).  Never NULL; drop it with custom_catalog_unref(). */
struct custom_catalog *custom_catalog_acquire(struct custom_provider *p, int64_t now_ms);
/* NULL ignored; the last reference frees the catalog. */
void custom_catalog_unref(struct custom_catalog *c);

/*
 * The custom metrics, sorted as discovery lists them (by "resource.group"
 * string as GroupResource.String() prints it, then metric), unique; *out
 * is borrowed from c.  Returns the count.
 */
size_t custom_catalog_resources(const struct custom_catalog *c,
				const struct custom_resource_metric **out);
/* The external metric names, sorted, unique; borrowed from c. */
size_t custom_catalog_externals(const struct custom_catalog *c, const char *const **out);

/*
 * Resolves a URL's resource segment as the adapter's RESTMapper does:
 * plural or singular, bare ("pods", "pod") or qualified by its group
 * ("deployments.apps", "deployment.apps"), case-insensitive.  True with
 * *group and *resource borrowed from c when some catalog entry has that
 * group-resource; false otherwise.
 */
bool custom_catalog_resource(const struct custom_catalog *c, const char *segment,
			     const char **group, const char **resource);
/* Whether (group, resource, metric) is in c's custom metrics. */
bool custom_catalog_has(const struct custom_catalog *c, const char *group, const char *resource,
			const char *metric);
/* Whether metric is one of c's external metrics. */
bool custom_catalog_has_external(const struct custom_catalog *c, const char *metric);

/* ---- values ----------------------------------------------------------------------- */

/* "Give me metric for these objects" (custom.metrics.k8s.io). */
struct custom_object_query {
	const char *group, *resource;          /* as custom_catalog_resource gave them */
	const char *metric;
	const char *ns;                        /* NULL for root-scoped resources */
	const char *const *names;              /* the objects, sorted, unique; nnames >= 1 */
	size_t nnames;
	const struct selector *metric_selector; /* metricLabelSelector; NULL or empty = none */
	int64_t now_ms;
};

/* One object's value: the query's sample whose resource label is the
 * object's name. */
struct custom_object_value {
	const char *name;  /* borrowed from the query's names */
	double value;      /* never NaN or infinite: such samples are left out */
	int64_t t_ms;      /* evaluation time (the adapter's "now") */
};

struct custom_object_values {
	struct custom_object_value *v; /* in the order of the query's names */
	size_t n;
};

/*
 * Evaluates the metric's rule for the objects, as the adapter does
 * (naming/metrics_query.go): .Series = the series name the catalog found
 * for (group-resource, metric), .LabelMatchers = the metric selector's
 * matchers, then namespace="ns" when namespaced, then the resource label
 * ="name" (one object) or =~"a|b|..." (several), .GroupBy = the resource
 * label; objects without a sample are left out.  When several of the
 * rule's series names give the metric the first (in name order) is used.
 * out must be zeroed or cleared; on success the caller clears it.
 *   0            values (possibly none)
 *   ERR_NOTFOUND the metric is not in c for that group-resource
 *   ERR_INVAL    the metric selector cannot be written in PromQL
 *                (err: "operator not supported by prometheus")
 *   ERR_TOOBIG   past CUSTOM_MAX_* or promql's bounds (err says which)
 *   other        the evaluation failed (err: its reason)
 */
int custom_object_values(struct custom_provider *p, const struct custom_catalog *c,
			 const struct custom_object_query *q, struct custom_object_values *out,
			 char *err, size_t errlen);
void custom_object_values_clear(struct custom_object_values *v);

/* external.metrics.k8s.io: namespace, metric, labelSelector. */
struct custom_external_query {
	const char *ns;
	const char *metric;
	const struct selector *selector; /* labelSelector; NULL or empty = none */
	int64_t now_ms;
};

struct custom_external_value {
	struct labels labels; /* every label of the sample (metricLabels) */
	double value;         /* never NaN or infinite */
	int64_t t_ms;         /* the sample's time (evaluation time) */
};

struct custom_external_values {
	struct custom_external_value *v; /* sorted by labels */
	size_t n;
};

/*
 * Evaluates the external metric's rule: .Series its series name,
 * .LabelMatchers the selector's matchers plus namespace="ns" unless the
 * rule says resources.namespaced: false, .GroupBy "" (the query's own
 * grouping decides).  A scalar result gives one value with no labels.
 * Codes as custom_object_values (ERR_NOTFOUND: no external rule gives
 * the metric).
 */
int custom_external_values(struct custom_provider *p, const struct custom_catalog *c,
			   const struct custom_external_query *q,
			   struct custom_external_values *out, char *err, size_t errlen);
void custom_external_values_clear(struct custom_external_values *v);

/* ---- quantities --------------------------------------------------------------------- */

/* v as the adapter writes it: resource.NewMilliQuantity(int64(v*1000),
 * DecimalSI) (truncated toward zero, clamped to int64) in canonical form
 * ("5914m", "2", "10500m", "2k").  buf of at least 40 bytes. */
void custom_value_string(double v, char *buf, size_t len);

#endif
