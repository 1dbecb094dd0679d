/*
 * rules_int.h - shared by rules/ only: the RE2 -> POSIX regular
 * expressions (regex.c), the Go template checks (template.c) and the
 * loader's helpers (load.c, extras.c).
 */
#ifndef RULES_INT_H
#define RULES_INT_H

#include <jansson.h>
#include <regex.h>

#include "rules/rules.h"

struct promql_expr;

struct rules_regex {
	regex_t re;
	struct re2_ere map; /* RE2 groups -> POSIX groups, names (common.h) */
};

/* Compiles a Go regexp (common/re2posix.c says what is refused): NULL
 * with the reason in err. */
struct rules_regex *rules__regex_compile(const char *expr, char *err, size_t errlen);
void rules__regex_free(struct rules_regex *re);
/* Unanchored search; m gets map.ngroups+1 spans in RE2 numbering (-1: unset). */
bool rules__regex_search(const struct rules_regex *re, const char *s, regmatch_t *m);
/* Go's Regexp.ExpandString of tmpl over s and m into b: 0 or ERR_TOOBIG. */
int rules__regex_expand(const struct rules_regex *re, const char *tmpl, const char *s,
			const regmatch_t *m, struct dynbuf *b);

/* A Go template with << >> delimiters whose fields must be among fields[n]:
 * NULL if fine, else the reason (static or in err). */
const char *rules__template_check(const char *text, const char *const *fields, size_t n,
				  char *err, size_t errlen);

/* resources.template: NULL if usable, else the reason (static). */
const char *rules__resource_template_check(const char *t);
/* label against a checked template t: caps[0..1] the .Group span (NULLs
 * without one), caps[2..3] the .Resource span.  Lazy, anchored. */
bool rules__resource_template_match(const char *t, const char *label, const char **caps);
/* t run with .Group and .Resource, appended to b: 0 or ERR_TOOBIG. */
int rules__resource_template_run(const char *t, const char *group, const char *resource,
				 struct dynbuf *b);

/* The loader's state: the file and its text, the marks, the error lines. */
struct rules__load {
	const char *file;
	const char *text; /* [0..len) */
	size_t len;
	struct yamldoc_marks *marks;
	struct rules__err {
		struct yamldoc_mark at;
		size_t seq; /* the order found, for ties */
		char *text; /* "FILE:LINE:COL: reason\n" */
	} errs[RULES_MAX_ERRORS];
	size_t nerrors; /* may pass RULES_MAX_ERRORS: only the first are kept */
	int64_t max_range_ms; /* of the rules' and externalRules' queries checked so far */
	struct rules__reads *reads; /* the names they may read, so far */
};
/* Adds "FILE:LINE:COL: reason" for the place at (lines are reported in
 * document order, then "FILE: too many errors" past RULES_MAX_ERRORS). */
void rules__error(struct rules__load *ld, struct yamldoc_mark at, const char *fmt, ...)
	COMMON_PRINTF(3, 4);
/* The position of member key of obj (its value if value is true, else the key). */
struct yamldoc_mark rules__at_member(struct rules__load *ld, const json_t *obj, const char *key,
				     bool value);
/* Checks that every key of obj is in keys[n] (strict decoding into type). */
bool rules__known_keys(struct rules__load *ld, const json_t *obj, const char *const *keys,
		       size_t n, const char *type);
/* yaml.v2's tag for v ("!!map", "!!seq", "!!str", "!!int", ...). */
const char *rules__tag(const json_t *v);
/* A string member (absent or null: *out NULL, true): false after an error. */
bool rules__string(struct rules__load *ld, const json_t *obj, const char *key, char **out);
/* resources: {overrides, template, namespaced} into r (rules_rule fields). */
bool rules__resources(struct rules__load *ld, const json_t *obj, const char *key,
		      struct rules_rule *r);
/* resourceRules and metricsApiserver (extras.c). */
void rules__resource_rules(struct rules__load *ld, const json_t *doc, struct rules_config *c);
void rules__extras(struct rules__load *ld, const json_t *doc, struct rules_config *c);
/*
 * Where byte off of value, the decoded string of the scalar whose mark is
 * start, is in text[0..len) (scalarpos.c): true with *out set, or false
 * with *out = start when the scalar's source cannot be followed.
 */
bool rules__scalar_pos(const char *text, size_t len, struct yamldoc_mark start, const char *value,
		       size_t off, struct yamldoc_mark *out);

/* A metricsQuery template (checked by rules__template_check) compiled, or
 * NULL with the offset of the action not supported in *bad (query.c). */
struct rules_query *rules__query_compile(const char *text, size_t *bad);
void rules__query_free(struct rules_query *q);
/* What a query is for: the representative arguments of its check. */
enum { RULES__Q_RULE, RULES__Q_EXTERNAL, RULES__Q_CONTAINER, RULES__Q_NODE };
/*
 * Compiles obj[key] (a string that passed rules__template_check), expands
 * it with the arguments the adapter would give rule r's query of that kind
 * and parses the result with promql_parse: *out is the compiled query, or
 * NULL after an error "FILE:LINE:COL: WHAT: reason" at the offending
 * character of the query in the file.  A rule's or external rule's query
 * raises ld->max_range_ms to its longest range selector.
 */
void rules__query_check(struct rules__load *ld, const json_t *obj, const char *key,
			const char *what, const struct rules_rule *r, int kind,
			struct rules_query **out);

/* Plural of a lower-case singular resource name ("pod" -> "pods"). */
char *rules__plural(const char *resource);
/* reads.c: what rules_config_reads answers, noted as the rules load:
 * every selector of seriesQuery, and of an expanded metricsQuery (but the
 * name <<.Series>> stood for: covered by seriesQuery), then sorted. */
struct rules__reads *rules__reads_new(void);
void rules__reads_free(struct rules__reads *r);
void rules__reads_note_series_query(struct rules__reads *r, const char *series_query);
void rules__reads_note_query(struct rules__reads *r, const struct promql_expr *e,
			     const char *covered);
void rules__reads_finish(struct rules__reads *r);

/* The built-in group-resource that (group, resource) names, as the
 * adapter's RESTMapper resolves it (restmapper.c): true with *out's
 * strings static; false when no built-in resource matches. */
bool rules__restmap(const char *group, const char *resource, struct rules_group_resource *out);

#endif
