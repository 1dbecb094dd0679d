/*
 * regex.c - Go (RE2) regular expressions of the adapter's config
 * (seriesFilters, name.matches) run on POSIX regcomp(REG_EXTENDED) after a
 * small translation:
 *   \d \D \w \W \s \S      -> bracket expressions ([0-9], [^0-9], ...),
 *                             also inside brackets for \d \w \s
 *   \. \* \( ... (punct.)  -> kept; \n \t \r \f \v -> the character
 *   (?:re)                 -> a POSIX group that is not counted as a capture
 *   (?P<name>re) (?<name>re) -> a capture with a name ($name in name.as)
 * Refused with a clear error: flags ((?i), (?s), (?m), (?U) ...), lazy
 * quantifiers (*? +? ?? {n,m}?, whose matches POSIX cannot give), nested
 * repetitions, \b \B \A \z, \p{..} \P{..}, \Q..\E, \x.. and octal or
 * back-references, and escapes inside brackets other than \d \w \s and
 * punctuation other than ] [ ^ - \.  Matching is unanchored as Go's
 * MatchString; which text a group captures can differ from Go's
 * leftmost-first choice only for alternations of different lengths
 * (POSIX takes the longest), never whether a name matches.
 */
#include "rules/rules_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tr {
	const char *s;
	size_t i;
	struct dynbuf out;
	size_t ngroups, nposix;
	size_t posix[RULES_MAX_REGEX + 1];
	char *names[RULES_MAX_REGEX + 1];
	char *err;
	size_t errlen;
};

static bool fail(struct tr *t, const char *fmt, const char *arg)
{
	snprintf(t->err, t->errlen, fmt, arg);
	return false;
}

/* The output is bounded (RULES_MAX_REGEX in, at most 16x out): cannot fail. */
static void must(int rc)
{
	if (rc != 0)
		xoom_abort("rules: regular expression translation");
}

static void out(struct tr *t, const char *s)
{
	must(dynbuf_addstr(&t->out, s));
}

static const char *class_of(char c, bool in_bracket)
{
	switch (c) {
	case 'd': return in_bracket ? "0-9" : "[0-9]";
	case 'w': return in_bracket ? "0-9A-Za-z_" : "[0-9A-Za-z_]";
	case 's': return in_bracket ? "\t\n\f\r " : "[\t\n\f\r ]";
	case 'D': return in_bracket ? NULL : "[^0-9]";
	case 'W': return in_bracket ? NULL : "[^0-9A-Za-z_]";
	case 'S': return in_bracket ? NULL : "[^\t\n\f\r ]";
	default: return NULL;
	}
}

static const char *control_of(char c)
{
	switch (c) {
	case 'n': return "\n";
	case 't': return "\t";
	case 'r': return "\r";
	case 'f': return "\f";
	case 'v': return "\v";
	default: return NULL;
	}
}

static bool escape(struct tr *t, bool in_bracket)
{
	char c = t->s[t->i + 1], lit[3] = { '\\', c, 0 };
	const char *cls = class_of(c, in_bracket), *ctl = control_of(c);

	if (!c)
		return fail(t, "%strailing backslash at end of expression", "");
	t->i += 2;
	if (cls)
		out(t, cls);
	else if (ctl)
		out(t, ctl);
	else if (ispunct((unsigned char)c) && !in_bracket)
		out(t, lit);
	else if (ispunct((unsigned char)c) && !strchr("][^-\\", c))
		out(t, lit + 1);
	else {
		lit[0] = c;
		lit[1] = 0;
		return fail(t, "\\%s is not supported here (RE2 construct without a POSIX equivalent)",
			    lit);
	}
	return true;
}

static bool bracket(struct tr *t)
{
	out(t, "[");
	t->i++;
	if (t->s[t->i] == '^') {
		out(t, "^");
		t->i++;
	}
	if (t->s[t->i] == ']') {
		out(t, "]");
		t->i++;
	}
	while (t->s[t->i] != ']') {
		char ch[2] = { t->s[t->i], 0 };

		if (!ch[0])
			return fail(t, "%smissing closing ]", "");
		if (ch[0] == '\\') {
			if (!escape(t, true))
				return false;
			continue;
		}
		if (ch[0] == '[' && t->s[t->i + 1] == ':') {
			const char *end = strstr(t->s + t->i + 2, ":]");

			if (!end)
				return fail(t, "%sinvalid character class", "");
			must(dynbuf_add(&t->out, t->s + t->i, (size_t)(end + 2 - (t->s + t->i))));
			t->i = (size_t)(end + 2 - t->s);
			continue;
		}
		out(t, ch);
		t->i++;
	}
	out(t, "]");
	t->i++;
	return true;
}

/* After "(": "?:" non-capturing, "?P<name>" / "?<name>" named. */
static bool group(struct tr *t)
{
	const char *p = t->s + t->i + 1;
	char *name = NULL;

	t->nposix++;
	if (*p != '?') {
		t->i++;
	} else if (p[1] == ':') {
		t->i += 3;
		out(t, "(");
		return true;
	} else if (p[1] == 'P' || p[1] == '<') {
		const char *n = p + (p[1] == 'P' ? 2 : 1), *end;

		if (*n != '<' || !(end = strchr(n, '>')) || end == n + 1)
			return fail(t, "%sinvalid named capture", "");
		for (const char *q = n + 1; q < end; q++)
			if (!isalnum((unsigned char)*q) && *q != '_')
				return fail(t, "%sinvalid named capture", "");
		name = xstrndup(n + 1, (size_t)(end - n - 1));
		t->i = (size_t)(end + 1 - t->s);
	} else {
		char flags[16] = "";
		size_t n = strcspn(p, ":)");

		snprintf(flags, sizeof(flags), "%.*s", (int)(n < 8 ? n : 8), p);
		return fail(t, "(%s): flags and other group forms are not supported", flags);
	}
	t->ngroups++;
	t->posix[t->ngroups] = t->nposix;
	t->names[t->ngroups] = name;
	out(t, "(");
	return true;
}

static bool quantifier_next(struct tr *t)
{
	char n = t->s[t->i];

	if (n == '?')
		return fail(t, "%slazy quantifiers (*? +? ?? {n,m}?) are not supported", "");
	if (n == '*' || n == '+')
		return fail(t, "%sinvalid nested repetition operator", "");
	return true;
}

static bool translate(struct tr *t)
{
	while (t->s[t->i]) {
		char c = t->s[t->i], ch[2] = { c, 0 };

		if (c == '\\') {
			if (!escape(t, false))
				return false;
		} else if (c == '[') {
			if (!bracket(t))
				return false;
		} else if (c == '(') {
			if (!group(t))
				return false;
		} else if (c == '*' || c == '+' || c == '?') {
			out(t, ch);
			t->i++;
			if (!quantifier_next(t))
				return false;
		} else if (c == '{') {
			const char *end = strchr(t->s + t->i, '}');
			size_t n = end ? (size_t)(end - (t->s + t->i)) + 1 : 1;

			if (end && strspn(t->s + t->i + 1, "0123456789,") == n - 2) {
				must(dynbuf_add(&t->out, t->s + t->i, n));
				t->i += n;
				if (!quantifier_next(t))
					return false;
			} else {
				out(t, "\\{"); /* RE2 takes a brace that starts no repeat literally */
				t->i++;
			}
		} else {
			out(t, ch);
			t->i++;
		}
	}
	return true;
}

struct rules_regex *rules__regex_compile(const char *expr, char *err, size_t errlen)
{
	struct tr *t;
	struct rules_regex *re = NULL;
	char why[256];
	int rc;

	if (strlen(expr) > RULES_MAX_REGEX) {
		snprintf(err, errlen, "regular expression longer than %u bytes", RULES_MAX_REGEX);
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->s = expr;
	t->err = why;
	t->errlen = sizeof(why);
	dynbuf_init(&t->out, 32 * RULES_MAX_REGEX);
	if (translate(t)) {
		re = xcalloc(1, sizeof(*re));
		rc = regcomp(&re->re, t->out.buf ? t->out.buf : "", REG_EXTENDED);
		if (rc != 0) {
			regerror(rc, &re->re, why, sizeof(why));
			free(re);
			re = NULL;
		}
	}
	if (!re) {
		snprintf(err, errlen, "error parsing regexp \"%s\": %s", expr, why);
		for (size_t i = 1; i <= t->ngroups; i++)
			free(t->names[i]);
	} else {
		re->ngroups = t->ngroups;
		re->nposix = t->nposix;
		re->posix = xcalloc(t->ngroups + 1, sizeof(*re->posix));
		re->names = xcalloc(t->ngroups + 1, sizeof(*re->names));
		for (size_t i = 1; i <= t->ngroups; i++) {
			re->posix[i] = t->posix[i];
			re->names[i] = t->names[i];
		}
	}
	dynbuf_clear(&t->out);
	free(t);
	return re;
}

void rules__regex_free(struct rules_regex *re)
{
	if (!re)
		return;
	regfree(&re->re);
	for (size_t i = 0; i <= re->ngroups; i++)
		free(re->names[i]);
	free(re->names);
	free(re->posix);
	free(re);
}

bool rules__regex_search(const struct rules_regex *re, const char *s, regmatch_t *m)
{
	regmatch_t *pm = xcalloc(re->nposix + 1, sizeof(*pm));
	bool ok = regexec(&re->re, s, re->nposix + 1, pm, 0) == 0;

	for (size_t i = 0; ok && i <= re->ngroups; i++)
		m[i] = pm[re->posix[i]];
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
		return (size_t)num <= re->ngroups ? group_text(s, &m[num], b) : 0;
	for (i = 1; i <= re->ngroups; i++)
		if (re->names[i] && strlen(re->names[i]) == n && memcmp(re->names[i], name, n) == 0)
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
