/*
 * rules.h - prometheus-adapter's configuration file, as is (`--config`):
 * `rules` and `externalRules` (discovery, association, naming, the
 * metricsQuery template), `resourceRules` (accepted and checked for
 * shape only: metrics.k8s.io keeps coming from the kubelets), and our own
 * additions under one extra top-level key, `metricsApiserver:` (static
 * targets, scrape limits), so an adapter file stays valid for both.
 *
 * Loading is strict as the adapter's yaml.UnmarshalStrict: unknown keys,
 * wrong types and duplicate keys are errors.  Every error is one line
 * `FILE:LINE:COL: reason`, LINE:COL being where the offending YAML node
 * starts, or for a metricsQuery outside the PromQL subset the offending
 * character of the query in the file.  metricsQuery is kept compiled
 * (rules_query_expand); the PromQL evaluator is in promql/.
 *
 * A loaded config is immutable: every function taking a const config or
 * rule is thread-safe on it.
 */
#ifndef RULES_H
#define RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* Bounds of every input (a config past one is refused with its name). */
#define RULES_MAX_FILE_BYTES (1u << 20)
#define RULES_MAX_RULES 1000       /* rules + externalRules */
#define RULES_MAX_FILTERS 64       /* seriesFilters of one rule */
#define RULES_MAX_OVERRIDES 64     /* resources.overrides of one rule */
#define RULES_MAX_STRING 16384     /* any string (queries, templates) */
#define RULES_MAX_REGEX 1024       /* a regular expression */
#define RULES_MAX_TARGETS 10000    /* metricsApiserver.targets */
#define RULES_MAX_TARGET_LABELS 64 /* labels of one static target */
#define RULES_MAX_ERRORS 20        /* error lines reported, then "too many errors" */

/* A compiled Go (RE2) regular expression, translated to POSIX ERE. */
struct rules_regex;
/* A compiled metricsQuery template (query.c). */
struct rules_query;
/* The series names the rules may read (reads.c). */
struct rules__reads;

struct rules_group_resource {
	char *group;    /* "" for the core group */
	char *resource; /* plural, lower case ("pods", "deployments") */
};

struct rules_override {
	char *label;
	struct rules_group_resource gr;
};

struct rules_filter {
	bool is; /* is: keep names that match; isNot: drop them */
	char *expr;
	struct rules_regex *re;
};

struct rules_rule {
	bool external;
	size_t index;       /* in rules[] or externalRules[] */
	size_t line, col;   /* where the rule starts */
	char *series_query; /* required */
	size_t n_filters;
	struct rules_filter *filters;
	size_t n_overrides;
	struct rules_override *overrides; /* sorted by label */
	char *template;                   /* resources.template, or NULL */
	int namespaced;                   /* resources.namespaced: -1 unset, 0, 1 */
	char *name_matches;               /* as written, NULL = ".*" */
	char *name_as;                    /* effective: as written, else $0 / $1 */
	struct rules_regex *name_re;
	char *metrics_query; /* the template text */
	/* metricsQuery compiled; its expansion with the adapter's arguments for
	 * this rule was checked to parse within promql's subset at load */
	struct rules_query *query;
};

/* Prometheus' target-level limits (0 = no limit). */
struct rules_limits {
	int64_t sample_limit, label_limit, label_value_length_limit, body_size_limit;
};

struct rules_target {
	char *name, *url;
	struct labels labels;
};

struct rules_config {
	size_t n_rules, n_external;
	struct rules_rule *rules, *external;
	bool has_resource_rules;
	size_t n_targets;
	struct rules_target *targets;
	struct rules_limits limits;
	/* The longest range selector ([5m]) of any rules[] or externalRules[]
	 * metricsQuery, in ms; 0 when none has one.  resourceRules do not
	 * count (never evaluated).  The series store keeps this plus one
	 * resolution. */
	int64_t max_range_ms;
	/* the series names some rule may read (rules_config_reads) */
	struct rules__reads *reads;
};

/*
 * Parses a config from text[0..len) named file (used in the error lines;
 * "<stdin>" for standard input).  Returns a new config (rules_config_free),
 * or NULL with *errors set to the error lines, each ending in '\n'
 * (caller frees).  Logs once that resourceRules are accepted but not
 * served when the file has them.  Thread-safe.
 */
struct rules_config *rules_config_parse(const char *text, size_t len, const char *file,
					char **errors);
/* Reads path (at most RULES_MAX_FILE_BYTES) and parses it as above. */
struct rules_config *rules_config_load(const char *path, char **errors);
void rules_config_free(struct rules_config *c);

/*
 * Whether some rule or external rule may read series of this name: its
 * seriesQuery selects it, or a selector of its metricsQuery names it
 * (literally or by =~).  True for every name when a selector constrains
 * no name.  The application scrape stores only such series.
 */
bool rules_config_reads(const struct rules_config *c, const char *name);

/*
 * Whether the adapter keeps series name for rule r: every seriesFilter
 * (is/isNot) and the implicit `is` filter of name.matches.
 */
bool rules_series_selected(const struct rules_rule *r, const char *series);

/*
 * The metric name rule r gives series name (name.matches searched
 * unanchored, then name.as expanded with Go's Regexp.Expand: $1, ${1},
 * $0, $name, ${name}, $$).  0 with the name in out; ERR_NOTFOUND when
 * the name does not match; ERR_TOOBIG when out (len bytes) is too small.
 */
int rules_metric_name(const struct rules_rule *r, const char *series, char *out, size_t len);

/*
 * The group-resource a series label stands for under rule r: an override,
 * else the resources.template matched against the label (.Resource taken
 * as a singular name and made plural).  0 with *out filled (borrowed from
 * r for an override, else into the caller's bufs of buflen bytes each),
 * or ERR_NOTFOUND.
 */
int rules_label_resource(const struct rules_rule *r, const char *label, char *group_buf,
			 char *resource_buf, size_t buflen, struct rules_group_resource *out);
/* Whether entries for gr are namespaced (all but namespaces, nodes and
 * persistentvolumes in the core group). */
bool rules_resource_namespaced(const struct rules_group_resource *gr);
/*
 * The label rule r uses for gr: an override's label, else the template
 * run with .Group (dots and dashes turned to '_') and .Resource (singular).
 * 0 with the label in out, ERR_NOTFOUND (no override, no template) or
 * ERR_TOOBIG.
 */
int rules_resource_label(const struct rules_rule *r, const struct rules_group_resource *gr,
			 char *out, size_t len);

/*
 * The PromQL matchers of a label selector, as the adapter writes them
 * (k="v", k!="v", k=~"a|b", k!~"a|b", k!="", k=""), comma-separated, in the
 * selector's order (by key).  New string (caller frees), or NULL with the
 * adapter's error in err ("operator not supported by prometheus" for > and <).
 */
char *rules_selector_promql(const struct selector *sel, char *err, size_t errlen);

/*
 * The arguments of a metricsQuery template, as the adapter passes them
 * (naming/metrics_query.go): .Series, .LabelMatchers, .GroupBy,
 * .GroupBySlice and .LabelValuesByName (value_names sorted, values[i]
 * being the "|"-joined values of value_names[i]).  All borrowed.
 */
struct rules_query_args {
	const char *series, *label_matchers, *group_by;
	const char *const *group_by_slice;
	size_t n_group_by_slice;
	const char *const *value_names, *const *values;
	size_t n_values;
};
/*
 * Appends the expansion of q (a loaded rule's query) with a to out, as Go's
 * text/template prints these values ("[a b]" for .GroupBySlice,
 * "map[k:v]" for .LabelValuesByName; a missing index key prints "").
 * 0; ERR_TOOBIG past out's cap, ERR_INVAL for `index .GroupBySlice N`
 * out of range; on failure out is as before.  Thread-safe on q.
 */
int rules_query_expand(const struct rules_query *q, const struct rules_query_args *a,
		       struct dynbuf *out);

/*
 * The `config check` line of a rule, without the newline:
 * `rules[2]: seriesQuery <q> -> name template <as>, resources <summary>`.
 * New string, caller frees.
 */
char *rules_rule_summary(const struct rules_rule *r);

#endif
