/*
 * query.c - a rule's metricsQuery as the server will run it: the Go
 * template compiled into parts (text, and the actions the adapter's
 * templates use: a field, `index .LabelValuesByName "k"`, `index
 * .GroupBySlice N`, comments, `<<-`/`->>` trimming), expanded with
 * Go's printing of the adapter's arguments, and checked at load: the
 * template is expanded with representative arguments (a series name from
 * seriesQuery, `namespace="ns",pod=~"a|b"`, the resource label) and the
 * result parsed by promql/.  A query outside the subset, or not PromQL, is
 * an error at the offending character in the file (an action's output at
 * the action's `<<`), found through rules__scalar_pos.
 */
#include "rules/rules_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql/promql.h"

enum part_kind { P_TEXT, P_SERIES, P_MATCHERS, P_GROUPBY, P_SLICE, P_VALUES, P_VALUE, P_ELEM };

struct part {
	enum part_kind kind;
	size_t src, len; /* text: its span in the template; an action: where "<<" is */
	char *key;       /* P_VALUE: the label */
	size_t elem;     /* P_ELEM: the index */
};

struct rules_query {
	char *text;
	size_t n;
	struct part *parts;
};

void rules__query_free(struct rules_query *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n; i++)
		free(q->parts[i].key);
	free(q->parts);
	free(q->text);
	free(q);
}

static struct part *add(struct rules_query *q, enum part_kind k, size_t src, size_t len)
{
	struct part *p;

	q->parts = xrealloc(q->parts, (q->n + 1) * sizeof(*q->parts));
	p = &q->parts[q->n++];
	*p = (struct part){ .kind = k, .src = src, .len = len };
	return p;
}

static bool word(const char **p, const char *e, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(e - *p) < n || memcmp(*p, w, n) != 0 ||
	    (*p + n < e && (isalnum((unsigned char)(*p)[n]) || (*p)[n] == '_')))
		return false;
	*p += n;
	while (*p < e && isspace((unsigned char)**p))
		(*p)++;
	return true;
}

/* One action [a, e) (trim markers and spaces stripped) into a part. */
static bool action(struct rules_query *q, const char *a, const char *e, size_t src)
{
	static const struct { const char *name; enum part_kind k; } fields[] = {
		{ ".Series", P_SERIES }, { ".LabelMatchers", P_MATCHERS }, { ".GroupBySlice", P_SLICE },
		{ ".GroupBy", P_GROUPBY }, { ".LabelValuesByName", P_VALUES },
	};
	const char *p = a;

	if (e - a >= 4 && a[0] == '/' && a[1] == '*' && e[-2] == '*' && e[-1] == '/')
		return true; /* a comment */
	for (size_t i = 0; i < COMMON_ARRAY_LEN(fields); i++) {
		p = a;
		if (word(&p, e, fields[i].name) && p == e) {
			add(q, fields[i].k, src, 0);
			return true;
		}
	}
	p = a;
	if (word(&p, e, "index") && word(&p, e, ".LabelValuesByName") && p < e && *p == '"') {
		const char *k = ++p;

		while (p < e && *p != '"' && *p != '\\')
			p++;
		if (p + 1 != e || *p != '"')
			return false;
		add(q, P_VALUE, src, 0)->key = xstrndup(k, (size_t)(p - k));
		return true;
	}
	p = a;
	if (word(&p, e, "index") && word(&p, e, ".GroupBySlice") && p < e &&
	    isdigit((unsigned char)*p)) {
		char num[16], *end;
		unsigned long n;

		if ((size_t)(e - p) >= sizeof(num))
			return false;
		memcpy(num, p, (size_t)(e - p));
		num[e - p] = 0;
		errno = 0;
		n = strtoul(num, &end, 10);
		if (errno || *end)
			return false;
		add(q, P_ELEM, src, 0)->elem = n;
		return true;
	}
	return false;
}

struct rules_query *rules__query_compile(const char *text, size_t *bad)
{
	struct rules_query *q = xcalloc(1, sizeof(*q));
	const char *t = q->text = xstrdup(text), *p = t, *open, *a, *e;
	bool trim_next = false;

	while ((open = strstr(p, "<<"))) {
		const char *close = strstr(open + 2, ">>"); /* rules__template_check passed */
		size_t start = (size_t)(p - t), len = (size_t)(open - p);

		if (!close) {
			*bad = (size_t)(open - t);
			rules__query_free(q);
			return NULL;
		}
		a = open + 2;
		e = close;
		if (trim_next)
			while (len && isspace((unsigned char)t[start])) /* ->> before this text */
				start++, len--;
		if (a[0] == '-' && isspace((unsigned char)a[1])) {
			a++;
			while (len && isspace((unsigned char)t[start + len - 1]))
				len--;
		}
		trim_next = e - a >= 2 && e[-1] == '-' && isspace((unsigned char)e[-2]);
		if (trim_next)
			e--;
		if (len)
			add(q, P_TEXT, start, len);
		while (a < e && isspace((unsigned char)*a))
			a++;
		while (e > a && isspace((unsigned char)e[-1]))
			e--;
		if (!action(q, a, e, (size_t)(open - t))) {
			*bad = (size_t)(open - t);
			rules__query_free(q);
			return NULL;
		}
		p = close + 2;
	}
	while (trim_next && isspace((unsigned char)*p))
		p++;
	if (*p)
		add(q, P_TEXT, (size_t)(p - t), strlen(p));
	return q;
}

/* Go's %v of a []string: "[a b]". */
static int print_slice(const struct rules_query_args *a, struct dynbuf *out)
{
	int rc = dynbuf_addch(out, '[');

	for (size_t i = 0; rc == 0 && i < a->n_group_by_slice; i++)
		rc = dynbuf_printf(out, "%s%s", i ? " " : "", a->group_by_slice[i]);
	return rc ? rc : dynbuf_addch(out, ']');
}

/* Go's %v of a map[string]string: "map[k:v k2:v2]", keys sorted (as given). */
static int print_values(const struct rules_query_args *a, struct dynbuf *out)
{
	int rc = dynbuf_addstr(out, "map[");

	for (size_t i = 0; rc == 0 && i < a->n_values; i++)
		rc = dynbuf_printf(out, "%s%s:%s", i ? " " : "", a->value_names[i], a->values[i]);
	return rc ? rc : dynbuf_addch(out, ']');
}

/* Expands q; starts[i] (if given) gets where part i's output begins. */
static int expand(const struct rules_query *q, const struct rules_query_args *a,
		  struct dynbuf *out, size_t *starts)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < q->n; i++) {
		const struct part *p = &q->parts[i];

		if (starts)
			starts[i] = out->len;
		switch (p->kind) {
		case P_TEXT: rc = dynbuf_add(out, q->text + p->src, p->len); break;
		case P_SERIES: rc = dynbuf_addstr(out, a->series ? a->series : ""); break;
		case P_MATCHERS:
			rc = dynbuf_addstr(out, a->label_matchers ? a->label_matchers : "");
			break;
		case P_GROUPBY: rc = dynbuf_addstr(out, a->group_by ? a->group_by : ""); break;
		case P_SLICE: rc = print_slice(a, out); break;
		case P_VALUES: rc = print_values(a, out); break;
		case P_VALUE:
			for (size_t k = 0; k < a->n_values; k++)
				if (strcmp(a->value_names[k], p->key) == 0) {
					rc = dynbuf_addstr(out, a->values[k]);
					break;
				}
			break; /* a missing key is the zero value, "" */
		case P_ELEM:
			if (p->elem >= a->n_group_by_slice)
				return ERR_INVAL; /* Go: "index out of range" */
			rc = dynbuf_addstr(out, a->group_by_slice[p->elem]);
			break;
		}
	}
	return rc;
}

int rules_query_expand(const struct rules_query *q, const struct rules_query_args *a,
		       struct dynbuf *out)
{
	size_t len = out->len;
	int rc = expand(q, a, out, NULL);

	if (rc != 0)
		out->len = len;
	if (rc != 0 && out->buf)
		out->buf[len] = '\0';
	return rc;
}

/* ---- the check at load ---------------------------------------------------- */

/* Where the adapter's arguments would name resources: the rule's label for
 * its first non-namespace override, else "pod". */
static const char *resource_label(const struct rules_rule *r)
{
	for (size_t i = 0; i < r->n_overrides; i++)
		if (strcmp(r->overrides[i].gr.resource, "namespaces") != 0)
			return r->overrides[i].label;
	return "pod";
}

/* A series name the rule discovers: seriesQuery's metric name or
 * __name__="x", else a placeholder. */
static char *series_name(const struct rules_rule *r)
{
	const char *q = r->series_query ? r->series_query : "", *p;
	size_t n = 0;

	while (isalnum((unsigned char)q[n]) || q[n] == '_' || q[n] == ':')
		n++;
	if (n && !isdigit((unsigned char)q[0]))
		return xstrndup(q, n);
	if ((p = strstr(q, "__name__=\""))) {
		p += 10;
		for (n = 0; isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == ':'; n++)
			;
		if (n && p[n] == '"')
			return xstrndup(p, n);
	}
	return xstrdup("series");
}

/* The template offset of byte o of an expansion of total bytes (starts
 * from expand()): in a text part, the same character; in an action's
 * output, the action's "<<".  Past the end: the last byte. */
static size_t template_offset(const struct rules_query *q, const size_t *starts, size_t total,
			      size_t o)
{
	if (o >= total)
		o = total ? total - 1 : 0;
	for (size_t i = q->n; i-- > 0;) {
		size_t end = i + 1 < q->n ? starts[i + 1] : total;

		if (starts[i] <= o && o < end)
			return q->parts[i].kind == P_TEXT ? q->parts[i].src + (o - starts[i])
							  : q->parts[i].src;
	}
	return 0;
}

/* The byte offset in query of promql's "LINE:COL: " prefix; *rest after it. */
static size_t error_offset(const char *query, const char *err, const char **rest)
{
	char *end;
	unsigned long line, col;
	size_t o = 0;

	*rest = err;
	errno = 0;
	line = strtoul(err, &end, 10);
	if (errno || end == err || *end != ':')
		return 0;
	col = strtoul(end + 1, &end, 10);
	if (errno || *end != ':' || line == 0 || col == 0)
		return 0;
	*rest = end + 1 + (end[1] == ' ');
	for (unsigned long l = 1; l < line && query[o]; o++)
		if (query[o] == '\n')
			l++;
	for (unsigned long c = 1; c < col && query[o] && query[o] != '\n'; c++)
		o++;
	return o;
}

void rules__query_check(struct rules__load *ld, const json_t *obj, const char *key,
			const char *what, const struct rules_rule *r, int kind,
			struct rules_query **out)
{
	const char *text = json_string_value(json_object_get(obj, key)), *reason;
	const char *label = kind == RULES__Q_NODE ? "node" : resource_label(r);
	struct yamldoc_mark start = rules__at_member(ld, obj, key, true), at;
	char *series = series_name(r), *matchers, err[512];
	const char *names[2] = { label, "namespace" }, *vals[2] = { "a|b", "ns" };
	struct rules_query_args a = { .series = series, .group_by = label,
				      .group_by_slice = &label, .n_group_by_slice = 1,
				      .value_names = names, .values = vals, .n_values = 2 };
	struct rules_query *q;
	struct promql_expr *e = NULL;
	struct dynbuf b;
	size_t bad = 0, *starts;
	int rc;

	*out = NULL;
	if (strcmp(label, "namespace") > 0) { /* LabelValuesByName's keys sorted */
		names[0] = "namespace", names[1] = label;
		vals[0] = "ns", vals[1] = "a|b";
	}
	if (kind == RULES__Q_EXTERNAL) { /* BuildExternal: no resource, the metric selector */
		matchers = xstrdup(r->namespaced != 0 ? "namespace=\"ns\",label=\"value\""
						      : "label=\"value\"");
		a.group_by = "";
		a.n_group_by_slice = 0;
		names[0] = "label", vals[0] = "value";
		a.n_values = 1;
	} else if (kind == RULES__Q_NODE) {
		matchers = xstrdup("node=~\"a|b\"");
		names[0] = "node", vals[0] = "a|b";
		a.n_values = 1;
	} else {
		matchers = xasprintf("namespace=\"ns\",%s=~\"a|b\"", label);
	}
	a.label_matchers = matchers;
	if (!(q = rules__query_compile(text, &bad))) {
		rules__scalar_pos(ld->text, ld->len, start, text, bad, &at);
		rules__error(ld, at, "%s: template action not supported in process (only fields, "
				     "index and comments)", what);
		goto done;
	}
	starts = xcalloc(q->n + 1, sizeof(*starts));
	dynbuf_init(&b, PROMQL_MAX_QUERY + 1);
	if ((rc = expand(q, &a, &b, starts)) != 0 || b.len > PROMQL_MAX_QUERY) {
		if (rc == ERR_INVAL)
			rules__error(ld, start, "%s: index out of range of .GroupBySlice", what);
		else
			rules__error(ld, start, "%s: query longer than %d bytes", what,
				     PROMQL_MAX_QUERY);
	} else if ((rc = promql_parse(b.buf ? b.buf : "", &e, err, sizeof(err))) != 0) {
		size_t o = error_offset(b.buf ? b.buf : "", err, &reason);

		if (!b.len || !rules__scalar_pos(ld->text, ld->len, start, text,
						 template_offset(q, starts, b.len, o), &at))
			at = start;
		rules__error(ld, at, "%s: %s", what, reason);
	} else {
		int64_t range = promql_expr_max_range_ms(e);

		if ((kind == RULES__Q_RULE || kind == RULES__Q_EXTERNAL) && range > ld->max_range_ms)
			ld->max_range_ms = range;
		if (kind == RULES__Q_RULE || kind == RULES__Q_EXTERNAL)
			rules__reads_note_query(ld->reads, e, series);
		*out = q;
		q = NULL;
	}
	promql_expr_free(e);
	dynbuf_clear(&b);
	free(starts);
	rules__query_free(q);
done:
	free(matchers);
	free(series);
}
