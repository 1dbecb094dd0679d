/*
 * load.c - a prometheus-adapter config file into struct rules_config:
 * strict as the adapter's yaml.UnmarshalStrict (unknown keys, wrong types,
 * duplicate keys are errors, with the Go type names its messages use), then
 * the checks the adapter makes when it builds its namers (is/isNot, regexps,
 * the default `as`, templates), every error as `FILE:LINE:COL: reason`.
 */
#include "rules/rules_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const query_fields[] = { "Series", "LabelMatchers", "GroupBy",
					    "GroupBySlice", "LabelValuesByName" };

void rules__error(struct rules__load *ld, struct yamldoc_mark at, const char *fmt, ...)
{
	va_list ap;
	char *reason;

	if (ld->nerrors++ >= RULES_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	reason = xvasprintf(fmt, ap);
	va_end(ap);
	ld->errs[ld->nerrors - 1].at = at;
	ld->errs[ld->nerrors - 1].seq = ld->nerrors;
	ld->errs[ld->nerrors - 1].text = xasprintf("%s:%zu:%zu: %s\n", ld->file, at.line, at.col,
						   reason);
	free(reason);
}

static int cmp_err(const void *pa, const void *pb)
{
	const struct rules__err *a = pa, *b = pb;

	if (a->at.line != b->at.line)
		return a->at.line < b->at.line ? -1 : 1;
	if (a->at.col != b->at.col)
		return a->at.col < b->at.col ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq; /* found first, reported first */
}

/* The error lines in document order (caller frees). */
static char *error_lines(struct rules__load *ld)
{
	size_t n = ld->nerrors < RULES_MAX_ERRORS ? ld->nerrors : RULES_MAX_ERRORS;
	char *out = xstrdup(""), *next;

	qsort(ld->errs, n, sizeof(*ld->errs), cmp_err);
	for (size_t i = 0; i < n; i++) {
		next = xasprintf("%s%s", out, ld->errs[i].text);
		free(out);
		free(ld->errs[i].text);
		out = next;
	}
	if (ld->nerrors > RULES_MAX_ERRORS) {
		next = xasprintf("%s%s: too many errors\n", out, ld->file);
		free(out);
		out = next;
	}
	return out;
}

struct yamldoc_mark rules__at_member(struct rules__load *ld, const json_t *obj, const char *key,
				     bool value)
{
	struct yamldoc_mark k, v;

	if (!yamldoc_mark_member(ld->marks, obj, key, &k, &v))
		yamldoc_mark_node(ld->marks, obj, &k), v = k;
	return value ? v : k;
}

const char *rules__tag(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "!!map";
	case JSON_ARRAY: return "!!seq";
	case JSON_STRING: return "!!str";
	case JSON_INTEGER: return "!!int";
	case JSON_REAL: return "!!float";
	case JSON_TRUE:
	case JSON_FALSE: return "!!bool";
	default: return "!!null";
	}
}

bool rules__known_keys(struct rules__load *ld, const json_t *obj, const char *const *keys,
		       size_t n, const char *type)
{
	const char *k;
	json_t *v;
	bool ok = true;

	json_object_foreach((json_t *)obj, k, v) {
		size_t i;

		for (i = 0; i < n && strcmp(keys[i], k) != 0; i++)
			;
		if (i == n) {
			rules__error(ld, rules__at_member(ld, obj, k, false),
				     "field %s not found in type %s", k, type);
			ok = false;
		}
	}
	return ok;
}

bool rules__string(struct rules__load *ld, const json_t *obj, const char *key, char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_string(v)) {
		rules__error(ld, rules__at_member(ld, obj, key, true),
			     "cannot unmarshal %s into string", rules__tag(v));
		return false;
	}
	if (json_string_length(v) > RULES_MAX_STRING) {
		rules__error(ld, rules__at_member(ld, obj, key, true),
			     "%s is longer than %u bytes", key, RULES_MAX_STRING);
		return false;
	}
	*out = xstrdup(json_string_value(v));
	return true;
}

/* A member that must be a mapping (or absent/null: NULL, true). */
static bool mapping(struct rules__load *ld, const json_t *obj, const char *key, const char *type,
		    json_t **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_object(v)) {
		rules__error(ld, rules__at_member(ld, obj, key, true), "cannot unmarshal %s into %s",
			     rules__tag(v), type);
		return false;
	}
	*out = v;
	return true;
}

static void filters(struct rules__load *ld, const json_t *rule, struct rules_rule *r)
{
	static const char *const keys[] = { "is", "isNot" };
	json_t *list = json_object_get(rule, "seriesFilters"), *f;
	size_t i;

	if (!list || json_is_null(list))
		return;
	if (!json_is_array(list)) {
		rules__error(ld, rules__at_member(ld, rule, "seriesFilters", true),
			     "cannot unmarshal %s into []config.RegexFilter", rules__tag(list));
		return;
	}
	if (json_array_size(list) > RULES_MAX_FILTERS) {
		rules__error(ld, rules__at_member(ld, rule, "seriesFilters", true),
			     "more than %d seriesFilters", RULES_MAX_FILTERS);
		return;
	}
	r->filters = xcalloc(json_array_size(list) + 1, sizeof(*r->filters));
	json_array_foreach(list, i, f) {
		struct yamldoc_mark at;
		char *is = NULL, *isnot = NULL, why[512];
		struct rules_filter *out = &r->filters[r->n_filters];

		yamldoc_mark_element(ld->marks, list, i, &at);
		if (!json_is_object(f)) {
			rules__error(ld, at, "cannot unmarshal %s into config.RegexFilter",
				     rules__tag(f));
			continue;
		}
		if (!rules__known_keys(ld, f, keys, 2, "config.RegexFilter") ||
		    !rules__string(ld, f, "is", &is) || !rules__string(ld, f, "isNot", &isnot)) {
			free(is);
			free(isnot);
			continue;
		}
		if (is && *is && isnot && *isnot)
			rules__error(ld, at,
				     "cannot have both an `is` (\"%s\") and `isNot` (\"%s\") expression "
				     "in a single filter", is, isnot);
		else if ((!is || !*is) && (!isnot || !*isnot))
			rules__error(ld, at, "must have either an `is` or `isNot` expression in a filter");
		else {
			out->is = is && *is;
			out->expr = xstrdup(out->is ? is : isnot);
			out->re = rules__regex_compile(out->expr, why, sizeof(why));
			if (!out->re) {
				rules__error(ld, rules__at_member(ld, f, out->is ? "is" : "isNot", true),
					     "unable to compile series filter: %s", why);
				free(out->expr);
			} else {
				r->n_filters++;
			}
		}
		free(is);
		free(isnot);
	}
}

static void name(struct rules__load *ld, const json_t *rule, struct rules_rule *r)
{
	static const char *const keys[] = { "matches", "as" };
	json_t *n;
	char *as = NULL, why[512];

	if (!mapping(ld, rule, "name", "config.NameMapping", &n))
		return;
	if (n && (!rules__known_keys(ld, n, keys, 2, "config.NameMapping") ||
		  !rules__string(ld, n, "matches", &r->name_matches) ||
		  !rules__string(ld, n, "as", &as)))
		return;
	if (r->name_matches && !*r->name_matches) {
		free(r->name_matches);
		r->name_matches = NULL;
	}
	r->name_re = rules__regex_compile(r->name_matches ? r->name_matches : ".*", why,
					  sizeof(why));
	if (!r->name_re) {
		rules__error(ld, rules__at_member(ld, n, "matches", true),
			     "unable to compile series name match expression: %s", why);
		free(as);
		return;
	}
	if (as && *as) {
		r->name_as = as;
		return;
	}
	free(as);
	if (r->name_re->map.ngroups <= 1)
		r->name_as = xstrdup(r->name_re->map.ngroups ? "$1" : "$0");
	else
		rules__error(ld, rules__at_member(ld, n, "matches", true),
			     "must specify an 'as' value for name matcher \"%s\" associated with "
			     "series query \"%s\"", r->name_matches, r->series_query ? r->series_query : "");
}

static void rule(struct rules__load *ld, const json_t *list, size_t i, struct rules_rule *r)
{
	static const char *const keys[] = { "seriesQuery", "seriesFilters", "resources", "name",
					    "metricsQuery" };
	json_t *v = json_array_get(list, i);
	struct yamldoc_mark at;
	char why[512];
	const char *bad;

	yamldoc_mark_element(ld->marks, list, i, &at);
	r->line = at.line;
	r->col = at.col;
	if (!json_is_object(v)) {
		rules__error(ld, at, "cannot unmarshal %s into config.DiscoveryRule", rules__tag(v));
		return;
	}
	rules__known_keys(ld, v, keys, COMMON_ARRAY_LEN(keys), "config.DiscoveryRule");
	if (rules__string(ld, v, "seriesQuery", &r->series_query) &&
	    (!r->series_query || !*r->series_query))
		rules__error(ld, at, "seriesQuery is required");
	else
		rules__reads_note_series_query(ld->reads, r->series_query);
	filters(ld, v, r);
	rules__resources(ld, v, "resources", r);
	name(ld, v, r);
	if (!rules__string(ld, v, "metricsQuery", &r->metrics_query))
		return;
	if (!r->metrics_query || !*r->metrics_query)
		rules__error(ld, at, "metricsQuery is required (the adapter's queries would all be "
				     "empty)");
	else if ((bad = rules__template_check(r->metrics_query, query_fields,
					      COMMON_ARRAY_LEN(query_fields), why, sizeof(why))))
		rules__error(ld, rules__at_member(ld, v, "metricsQuery", true),
			     "unable to parse metrics query template: %s", bad);
	else {
		char *what = xasprintf("%s[%zu].metricsQuery", r->external ? "externalRules" : "rules",
				       r->index);

		rules__query_check(ld, v, "metricsQuery", what, r,
				   r->external ? RULES__Q_EXTERNAL : RULES__Q_RULE, &r->query);
		free(what);
	}
}

static void rule_list(struct rules__load *ld, const json_t *doc, const char *key, bool external,
		      struct rules_rule **out, size_t *n)
{
	json_t *list = json_object_get(doc, key);

	if (!list || json_is_null(list))
		return;
	if (!json_is_array(list)) {
		rules__error(ld, rules__at_member(ld, doc, key, true),
			     "cannot unmarshal %s into []config.DiscoveryRule", rules__tag(list));
		return;
	}
	*n = json_array_size(list);
	if (*n > RULES_MAX_RULES) {
		rules__error(ld, rules__at_member(ld, doc, key, true), "more than %d rules",
			     RULES_MAX_RULES);
		*n = 0;
		return;
	}
	*out = xcalloc(*n + 1, sizeof(**out));
	for (size_t i = 0; i < *n; i++) {
		(*out)[i].external = external;
		(*out)[i].index = i;
		(*out)[i].namespaced = -1;
		rule(ld, list, i, &(*out)[i]);
	}
}

static void rule_clear(struct rules_rule *r)
{
	free(r->series_query);
	for (size_t i = 0; i < r->n_filters; i++) {
		free(r->filters[i].expr);
		rules__regex_free(r->filters[i].re);
	}
	free(r->filters);
	for (size_t i = 0; i < r->n_overrides; i++) {
		free(r->overrides[i].label);
		free(r->overrides[i].gr.group);
		free(r->overrides[i].gr.resource);
	}
	free(r->overrides);
	free(r->template);
	free(r->name_matches);
	free(r->name_as);
	rules__regex_free(r->name_re);
	free(r->metrics_query);
	rules__query_free(r->query);
}

void rules_config_free(struct rules_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_rules; i++)
		rule_clear(&c->rules[i]);
	for (size_t i = 0; i < c->n_external; i++)
		rule_clear(&c->external[i]);
	free(c->rules);
	free(c->external);
	for (size_t i = 0; i < c->n_targets; i++) {
		free(c->targets[i].name);
		free(c->targets[i].url);
		labels_clear(&c->targets[i].labels);
	}
	free(c->targets);
	rules__reads_free(c->reads);
	free(c);
}

struct rules_config *rules_config_parse(const char *text, size_t len, const char *file,
					char **errors)
{
	static const char *const keys[] = { "rules", "resourceRules", "externalRules",
					    "metricsApiserver" };
	struct rules__load ld = { .file = file, .text = text, .len = len };
	struct rules_config *c = xcalloc(1, sizeof(*c));
	struct yamldoc_mark at = { 1, 1 };
	char why[512];
	json_t *doc = NULL;

	*errors = NULL;
	ld.reads = c->reads = rules__reads_new();
	if (len > RULES_MAX_FILE_BYTES)
		rules__error(&ld, at, "config file is larger than %u bytes", RULES_MAX_FILE_BYTES);
	else if (!(doc = yamldoc_to_json_marked(text, len, &ld.marks, &at, why, sizeof(why)))) {
		/* an empty file is an empty config for yaml.v2 too */
		if (strcmp(why, "yaml: empty document") != 0)
			rules__error(&ld, at, "%s", why);
	}
	else if (!json_is_object(doc) && yamldoc_mark_node(ld.marks, doc, &at))
		rules__error(&ld, at, "cannot unmarshal %s into config.MetricsDiscoveryConfig",
			     rules__tag(doc));
	else if (!json_is_object(doc))
		rules__error(&ld, at, "cannot unmarshal %s into config.MetricsDiscoveryConfig",
			     rules__tag(doc));
	else if (rules__known_keys(&ld, doc, keys, COMMON_ARRAY_LEN(keys),
				   "config.MetricsDiscoveryConfig")) {
		rule_list(&ld, doc, "rules", false, &c->rules, &c->n_rules);
		rule_list(&ld, doc, "externalRules", true, &c->external, &c->n_external);
		if (c->n_rules + c->n_external > RULES_MAX_RULES)
			rules__error(&ld, at, "more than %d rules", RULES_MAX_RULES);
		rules__resource_rules(&ld, doc, c);
		rules__extras(&ld, doc, c);
	}
	c->max_range_ms = ld.max_range_ms;
	rules__reads_finish(c->reads);
	json_decref(doc);
	yamldoc_marks_free(ld.marks);
	if (ld.nerrors) {
		*errors = error_lines(&ld);
		rules_config_free(c);
		return NULL;
	}
	if (c->has_resource_rules)
		log_info("%s: resourceRules accepted but not used: metrics.k8s.io is served from the "
			 "kubelets' /metrics/resource", file);
	return c;
}

struct rules_config *rules_config_load(const char *path, char **errors)
{
	struct dynbuf b;
	struct rules_config *c;
	int rc;

	dynbuf_init(&b, RULES_MAX_FILE_BYTES);
	rc = dynbuf_read_file(&b, path);
	if (rc != 0) {
		*errors = xasprintf("%s:1:1: %s\n", path,
				    rc == ERR_TOOBIG ? "config file is too large"
						     : "unable to load metrics discovery config file");
		dynbuf_clear(&b);
		return NULL;
	}
	c = rules_config_parse(b.buf ? b.buf : "", b.len, path, errors);
	dynbuf_clear(&b);
	return c;
}
