/*
 * regex.c - Go (RE2) regular expressions of the adapter's config
 * (seriesFilters, name.matches): translated by common/re2posix.c (what it
 * refuses and the reasons' words are there), run unanchored as Go's
 * MatchString on POSIX regcomp(REG_EXTENDED), with the RE2 groups mapped
 * back from the POSIX ones for Go's Regexp.Expand ($1, ${name}).  Which
 * text a group captures can differ from Go's leftmost-first choice only
 * for alternations of different lengths (POSIX takes the longest), never
 * whether a name matches.
 */
#include "rules/rules_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rules_regex *rules__regex_compile(const char *expr, char *err, size_t errlen)
{
	struct rules_regex *re;
	struct re2_error e;
	char why[256];
	int rc;

	if (strlen(expr) > RULES_MAX_REGEX) {
		snprintf(err, errlen, "regular expression longer than %u bytes", RULES_MAX_REGEX);
		return NULL;
	}
	re = xcalloc(1, sizeof(*re));
	if (re2_translate(expr, 0, &re->map, &e) != 0) {
		re2_error_text(expr, &e, why, sizeof(why));
	} else if ((rc = regcomp(&re->re, re->map.text, REG_EXTENDED)) != 0) {
		regerror(rc, &re->re, why, sizeof(why));
		re2_ere_clear(&re->map);
	} else {
		return re;
	}
	snprintf(err, errlen, "error parsing regexp \"%s\": %s", expr, why);
	free(re);
	return NULL;
}

void rules__regex_free(struct rules_regex *re)
{
	if (!re)
		return;
	regfree(&re->re);
	re2_ere_clear(&re->map);
	free(re);
}

bool rules__regex_search(const struct rules_regex *re, const char *s, regmatch_t *m)
{
	regmatch_t *pm = xcalloc(re->map.nposix + 1, sizeof(*pm));
	bool ok = regexec(&re->re, s, re->map.nposix + 1, pm, 0) == 0;

	for (size_t i = 0; ok && i <= re->map.ngroups; i++)
		m[i] = pm[re->map.posix[i]];
	free(pm);
	return ok;
}

static bool is_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Go's Regexp.expand: $name / ${name}; false when not a reference. */
static bool extract(const char *p, size_t *name_len, const char **name, size_t *used)
{
	size_t i = 0;
	bool brace = p[0] == '{';

	if (brace)
		p++;
	while (is_word(p[i]))
		i++;
	if (i == 0 || (brace && p[i] != '}'))
		return false;
	*name = p;
	*name_len = i;
	*used = i + (brace ? 2 : 0);
	return true;
}

static int group_text(const char *s, const regmatch_t *g, struct dynbuf *b)
{
	if (g->rm_so < 0)
		return 0;
	return dynbuf_add(b, s + g->rm_so, (size_t)(g->rm_eo - g->rm_so));
}

static int reference(const struct rules_regex *re, const char *name, size_t n, const char *s,
		     const regmatch_t *m, struct dynbuf *b)
{
	long num = 0;
	size_t i;

	for (i = 0; i < n && isdigit((unsigned char)name[i]); i++) {
		num = num * 10 + (name[i] - '0');
		if (num >= 100000000) {
			num = -1;
			break;
		}
	}
	if (i == n && num >= 0)
		return (size_t)num <= re->map.ngroups ? group_text(s, &m[num], b) : 0;
	/* Go: the first group of that name that took part in the match */
	for (i = 1; i <= re->map.ngroups; i++)
		if (re->map.names[i] && strlen(re->map.names[i]) == n &&
		    memcmp(re->map.names[i], name, n) == 0 && m[i].rm_so >= 0)
			return group_text(s, &m[i], b);
	return 0;
}

int rules__regex_expand(const struct rules_regex *re, const char *tmpl, const char *s,
			const regmatch_t *m, struct dynbuf *b)
{
	while (*tmpl) {
		const char *d = strchr(tmpl, '$'), *name;
		size_t n, used;
		int rc;

		if (!d)
			return dynbuf_addstr(b, tmpl);
		if ((rc = dynbuf_add(b, tmpl, (size_t)(d - tmpl))) != 0)
			return rc;
		if (d[1] == '$') {
			rc = dynbuf_addch(b, '$');
			tmpl = d + 2;
		} else if (!extract(d + 1, &n, &name, &used)) {
			rc = dynbuf_addch(b, '$');
			tmpl = d + 1;
		} else {
			rc = reference(re, name, n, s, m, b);
			tmpl = d + 1 + used;
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}
