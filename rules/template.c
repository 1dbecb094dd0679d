/*
 * template.c - the Go templates of the config (text/template with `<<`
 * `>>` delimiters), checked at load without being run:
 *   metricsQuery (and resourceRules' queries): every field named at the
 *   start of an operand (`.Series`, `.GroupBy`, ...) must be one the
 *   adapter passes; actions must be closed, `>>` must close one, and
 *   if/range/with/block/define must be balanced with end;
 *   resources.template: only `<<.Group>>` and `<<.Resource>>` actions (at
 *   most RULES__TEMPLATE_FIELDS), `.Resource` required, and matched
 *   against labels as the adapter's generated regexp does (each field
 *   lazily matching one or more characters, the whole label anchored).
 */
#include "rules/rules_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define RULES__TEMPLATE_FIELDS 4
#define RULES__TEMPLATE_DEPTH 32

/* The end of the action starting after "<<" at p (at its ">>"), or NULL;
 * quoted strings and raw strings may hold ">>". */
static const char *action_end(const char *p)
{
	while (*p) {
		if (*p == '"' || *p == '`' || *p == '\'') {
			char q = *p++;

			while (*p && *p != q) {
				if (q != '`' && *p == '\\' && p[1])
					p++;
				p++;
			}
			if (!*p)
				return NULL;
			p++;
		} else if (p[0] == '>' && p[1] == '>') {
			return p;
		} else {
			p++;
		}
	}
	return NULL;
}

static bool known(const char *name, size_t n, const char *const *fields, size_t nf)
{
	for (size_t i = 0; i < nf; i++)
		if (strlen(fields[i]) == n && memcmp(fields[i], name, n) == 0)
			return true;
	return false;
}

/* Checks the fields and keywords of one action [a, e). */
static const char *action(const char *a, const char *e, const char *const *fields, size_t nf,
			  int *depth, char *err, size_t errlen)
{
	const char *p = a, *w;
	size_t n;

	while (p < e && (isspace((unsigned char)*p) || *p == '-'))
		p++;
	if (e - p >= 2 && p[0] == '/' && p[1] == '*')
		return NULL; /* a comment */
	w = p;
	while (p < e && isalpha((unsigned char)*p))
		p++;
	n = (size_t)(p - w);
	if ((n == 2 && !memcmp(w, "if", 2)) || (n == 5 && !memcmp(w, "range", 5)) ||
	    (n == 4 && !memcmp(w, "with", 4)) || (n == 5 && !memcmp(w, "block", 5)) ||
	    (n == 6 && !memcmp(w, "define", 6))) {
		if (++*depth > RULES__TEMPLATE_DEPTH)
			return "template nested too deeply";
	} else if (n == 3 && !memcmp(w, "end", 3)) {
		if (--*depth < 0)
			return "unexpected <<end>>";
	}
	for (p = a; p < e; p++) {
		if (*p == '"' || *p == '`' || *p == '\'') {
			char q = *p++;

			while (p < e && *p != q)
				p += (q != '`' && *p == '\\') ? 2 : 1;
			continue;
		}
		if (*p != '.' || (p > a && (isalnum((unsigned char)p[-1]) || p[-1] == '_' ||
					    p[-1] == ')' || p[-1] == '$')))
			continue;
		w = p + 1;
		for (n = 0; w + n < e && (isalnum((unsigned char)w[n]) || w[n] == '_'); n++)
			;
		if (n == 0 || isdigit((unsigned char)w[0]))
			continue; /* "." itself, or a number */
		if (!known(w, n, fields, nf)) {
			size_t l;

			snprintf(err, errlen, "can't evaluate field %.*s (known fields:", (int)n, w);
			for (size_t i = 0; i < nf; i++) {
				l = strlen(err);
				snprintf(err + l, errlen - l, " .%s", fields[i]);
			}
			l = strlen(err);
			snprintf(err + l, errlen - l, ")");
			return err;
		}
		p = w + n - 1;
	}
	return NULL;
}

const char *rules__template_check(const char *text, const char *const *fields, size_t n,
				  char *err, size_t errlen)
{
	const char *p = text, *open, *close, *why;
	int depth = 0;

	for (;;) {
		open = strstr(p, "<<");
		close = strstr(p, ">>");
		if (close && (!open || close < open))
			return "unexpected \">>\" outside an action";
		if (!open)
			break;
		close = action_end(open + 2);
		if (!close)
			return "unclosed action (\"<<\" without \">>\")";
		if ((why = action(open + 2, close, fields, n, &depth, err, errlen)))
			return why;
		p = close + 2;
	}
	if (depth > 0)
		return "unexpected EOF: missing <<end>>";
	return NULL;
}

/* ---- resources.template -------------------------------------------------- */

/* The field of the action at p ("<<" ... ">>"): 'G', 'R', or 0; *next after it. */
static char field_at(const char *p, const char **next)
{
	const char *e = action_end(p + 2), *a = p + 2;
	size_t n;

	if (!e)
		return 0;
	*next = e + 2;
	while (a < e && isspace((unsigned char)*a))
		a++;
	while (e > a && isspace((unsigned char)e[-1]))
		e--;
	n = (size_t)(e - a);
	if (n == 6 && !memcmp(a, ".Group", 6))
		return 'G';
	if (n == 9 && !memcmp(a, ".Resource", 9))
		return 'R';
	return 0;
}

const char *rules__resource_template_check(const char *t)
{
	const char *p = t, *next;
	int fields = 0;
	bool resource = false;
	char f;

	if (!*t)
		return "unable to convert label template to matcher: empty template";
	while ((p = strstr(p, "<<"))) {
		f = field_at(p, &next);
		if (!f)
			return "only <<.Group>> and <<.Resource>> actions are supported in a resource "
			       "template";
		resource |= f == 'R';
		if (++fields > RULES__TEMPLATE_FIELDS)
			return "too many actions in a resource template";
		p = next;
	}
	if (strstr(t, ">>") && !strstr(t, "<<"))
		return "unexpected \">>\" outside an action";
	if (!resource)
		return "must include at least `<<.Resource>>` in the label template";
	return NULL;
}

/* Anchored match of label l against template t from here; spans in caps. */
static bool tmatch(const char *t, const char *l, const char **caps)
{
	const char *open = strstr(t, "<<"), *next;
	size_t lit = open ? (size_t)(open - t) : strlen(t);
	char f;

	if (strncmp(t, l, lit) != 0)
		return false;
	if (!open)
		return l[lit] == '\0';
	l += lit;
	f = field_at(open, &next);
	for (size_t n = 1; l[n - 1]; n++) { /* lazy: the shortest first */
		const char *save0 = caps[0], *save1 = caps[1];

		if (f == 'G') {
			caps[0] = l;
			caps[1] = l + n;
		} else {
			caps[2] = l;
			caps[3] = l + n;
		}
		if (tmatch(next, l + n, caps))
			return true;
		if (f == 'G') {
			caps[0] = save0;
			caps[1] = save1;
		}
	}
	return false;
}

bool rules__resource_template_match(const char *t, const char *label, const char **caps)
{
	caps[0] = caps[1] = caps[2] = caps[3] = NULL;
	return tmatch(t, label, caps);
}

int rules__resource_template_run(const char *t, const char *group, const char *resource,
				 struct dynbuf *b)
{
	const char *p = t, *open, *next;
	int rc = 0;

	while (rc == 0 && (open = strstr(p, "<<"))) {
		char f = field_at(open, &next);

		rc = dynbuf_add(b, p, (size_t)(open - p));
		if (rc == 0)
			rc = dynbuf_addstr(b, f == 'G' ? group : resource);
		p = next;
	}
	return rc ? rc : dynbuf_addstr(b, p);
}
