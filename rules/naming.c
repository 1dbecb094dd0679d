/*
 * naming.c - what a loaded rule does to series names and labels, as the
 * adapter's naming package does: filters, the metric name (Go's
 * Regexp.Expand), label <-> group-resource association, the label
 * selector as PromQL matchers, and the one-line summary of `config check`.
 */
#include "rules/rules_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool rules_series_selected(const struct rules_rule *r, const char *series)
{
	regmatch_t m[1];

	for (size_t i = 0; i < r->n_filters; i++) {
		const struct rules_regex *re = r->filters[i].re;
		regmatch_t *mm = xcalloc(re->map.ngroups + 1, sizeof(*mm));
		bool hit = rules__regex_search(re, series, mm);

		free(mm);
		if (hit != r->filters[i].is)
			return false;
	}
	if (r->name_matches && r->name_re->map.ngroups == 0)
		return rules__regex_search(r->name_re, series, m);
	return !r->name_matches || rules_metric_name(r, series, NULL, 0) != ERR_NOTFOUND;
}

int rules_metric_name(const struct rules_rule *r, const char *series, char *out, size_t len)
{
	regmatch_t *m = xcalloc(r->name_re->map.ngroups + 1, sizeof(*m));
	struct dynbuf b;
	int rc = ERR_NOTFOUND;

	dynbuf_init(&b, len ? len - 1 : 0);
	if (rules__regex_search(r->name_re, series, m)) {
		rc = out ? rules__regex_expand(r->name_re, r->name_as, series, m, &b) : 0;
		if (rc == 0 && out) {
			memcpy(out, b.buf ? b.buf : "", b.len);
			out[b.len] = '\0';
		}
	}
	dynbuf_clear(&b);
	free(m);
	return rc;
}

bool rules_resource_namespaced(const struct rules_group_resource *gr)
{
	return *gr->group || (strcmp(gr->resource, "namespaces") != 0 &&
			      strcmp(gr->resource, "nodes") != 0 &&
			      strcmp(gr->resource, "persistentvolumes") != 0);
}

static bool copy_span(const char *a, const char *b, char *buf, size_t len)
{
	size_t n = a ? (size_t)(b - a) : 0;

	if (n >= len)
		return false;
	memcpy(buf, a ? a : "", n);
	buf[n] = '\0';
	return true;
}

int rules_label_resource(const struct rules_rule *r, const char *label, char *group_buf,
			 char *resource_buf, size_t buflen, struct rules_group_resource *out)
{
	const char *caps[4];
	struct rules_group_resource known;

	for (size_t i = 0; i < r->n_overrides; i++)
		if (strcmp(r->overrides[i].label, label) == 0) {
			*out = r->overrides[i].gr;
			return 0;
		}
	if (!r->template || !rules__resource_template_match(r->template, label, caps))
		return ERR_NOTFOUND;
	if (!copy_span(caps[0], caps[1], group_buf, buflen) ||
	    !copy_span(caps[2], caps[3], resource_buf, buflen))
		return ERR_TOOBIG;
	/* the adapter keeps only what its RESTMapper knows */
	if (!rules__restmap(group_buf, resource_buf, &known))
		return ERR_NOTFOUND;
	if (strlen(known.group) >= buflen || strlen(known.resource) >= buflen)
		return ERR_TOOBIG;
	memcpy(group_buf, known.group, strlen(known.group) + 1);
	memcpy(resource_buf, known.resource, strlen(known.resource) + 1);
	out->group = group_buf;
	out->resource = resource_buf;
	return 0;
}

/* The singular of a plural the rules made ("pods" -> "pod"). */
static char *singular(const char *plural)
{
	size_t n = strlen(plural);

	if (n > 3 && strcmp(plural + n - 3, "ies") == 0)
		return xasprintf("%.*sy", (int)(n - 3), plural);
	if (n > 2 && strcmp(plural + n - 2, "es") == 0 && strchr("sxzh", plural[n - 3]))
		return xstrndup(plural, n - 2);
	if (n > 1 && plural[n - 1] == 's')
		return xstrndup(plural, n - 1);
	return xstrdup(plural);
}

int rules_resource_label(const struct rules_rule *r, const struct rules_group_resource *gr,
			 char *out, size_t len)
{
	struct dynbuf b;
	char *group, *res;
	int rc;

	for (size_t i = 0; i < r->n_overrides; i++)
		if (strcmp(r->overrides[i].gr.group, gr->group) == 0 &&
		    strcmp(r->overrides[i].gr.resource, gr->resource) == 0) {
			if (strlen(r->overrides[i].label) >= len)
				return ERR_TOOBIG;
			memcpy(out, r->overrides[i].label, strlen(r->overrides[i].label) + 1);
			return 0;
		}
	if (!r->template)
		return ERR_NOTFOUND;
	group = xstrdup(gr->group);
	for (char *p = group; *p; p++)
		if (*p == '.' || *p == '-')
			*p = '_';
	res = singular(gr->resource);
	dynbuf_init(&b, len ? len - 1 : 0);
	rc = rules__resource_template_run(r->template, group, res, &b);
	if (rc == 0) {
		memcpy(out, b.buf ? b.buf : "", b.len);
		out[b.len] = '\0';
	}
	dynbuf_clear(&b);
	free(group);
	free(res);
	return rc;
}

/* Go's %q for the label values a selector can hold. */
static int quoted(struct dynbuf *b, const char *s)
{
	int rc = dynbuf_addch(b, '"');

	for (; rc == 0 && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			rc = dynbuf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			rc = dynbuf_printf(b, "\\x%02x", c);
		else
			rc = dynbuf_addch(b, (char)c);
	}
	return rc ? rc : dynbuf_addch(b, '"');
}

char *rules_selector_promql(const struct selector *sel, char *err, size_t errlen)
{
	struct dynbuf b;
	int rc = 0;

	dynbuf_init(&b, 64 * 1024);
	for (size_t i = 0; rc == 0 && i < selector_count(sel); i++) {
		const char *const *vals;
		size_t n;
		enum selector_op op;
		const char *key = selector_requirement(sel, i, &op, &vals, &n), *how;

		if (op == SELECTOR_GT || op == SELECTOR_LT) {
			snprintf(err, errlen, "operator not supported by prometheus");
			dynbuf_clear(&b);
			return NULL;
		}
		if (op == SELECTOR_EXISTS || op == SELECTOR_NOTEXISTS)
			how = op == SELECTOR_EXISTS ? "!=" : "=";
		else if (n > 1 || op == SELECTOR_IN || op == SELECTOR_NOTIN)
			how = (op == SELECTOR_NEQ || op == SELECTOR_NOTIN) ? "!~" : "=~";
		else
			how = op == SELECTOR_NEQ ? "!=" : "=";
		rc = dynbuf_printf(&b, "%s%s%s", i ? "," : "", key, how);
		if (rc == 0) {
			struct dynbuf v;

			dynbuf_init(&v, 64 * 1024);
			for (size_t j = 0; rc == 0 && j < n; j++)
				rc = dynbuf_printf(&v, "%s%s", j ? "|" : "", vals[j]);
			if (rc == 0)
				rc = quoted(&b, v.buf ? v.buf : "");
			dynbuf_clear(&v);
		}
	}
	if (rc != 0) {
		snprintf(err, errlen, "label selector too long");
		dynbuf_clear(&b);
		return NULL;
	}
	return b.buf ? dynbuf_take(&b, NULL) : (dynbuf_clear(&b), xstrdup(""));
}

char *rules_rule_summary(const struct rules_rule *r)
{
	struct dynbuf b;
	int rc;

	dynbuf_init(&b, 64 * RULES_MAX_STRING);
	rc = dynbuf_printf(&b, "%s[%zu]: seriesQuery %s -> name template %s, resources ",
			   r->external ? "externalRules" : "rules", r->index, r->series_query,
			   r->name_as);
	if (rc == 0 && r->n_overrides) {
		rc = dynbuf_addstr(&b, "overrides ");
		for (size_t i = 0; rc == 0 && i < r->n_overrides; i++) {
			const struct rules_group_resource *gr = &r->overrides[i].gr;

			rc = dynbuf_printf(&b, "%s%s=%s%s%s", i ? "," : "", r->overrides[i].label,
					   gr->resource, *gr->group ? "." : "", gr->group);
		}
	}
	if (rc == 0 && r->template)
		rc = dynbuf_printf(&b, "%stemplate %s", r->n_overrides ? " " : "", r->template);
	if (rc == 0 && !r->n_overrides && !r->template)
		rc = dynbuf_addstr(&b, "none");
	if (rc == 0 && r->namespaced == 0)
		rc = dynbuf_addstr(&b, " (namespaced: false)");
	/* past the cap (bounded input: not reached) the line is a prefix */
	return b.buf ? dynbuf_take(&b, NULL) : (dynbuf_clear(&b), xstrdup(""));
}
