/*
 * regex.c - label matcher regexes: Go (RE2) syntax fully anchored as
 * Prometheus anchors it ("^(?:re)$"), run on POSIX regcomp(REG_EXTENDED)
 * after a translation:
 *   \d \D \w \W \s \S      -> bracket expressions (\d \w \s also inside [])
 *   \. \* \( ... (punct.)  -> the character; \n \t \r \f \v -> the character
 *   .                      -> [^\n] (RE2's dot without the s flag)
 *   (?:re) (?P<n>re) (?<n>re) -> a group
 *   [...]                  -> rebuilt so ] ^ - \ land where POSIX reads them
 * Refused with "unsupported in this PromQL subset: ..." (ERR_INVAL): flags
 * ((?i) ...), lazy quantifiers, \b \B \A \z \p \P \Q \x, octal and
 * back-references, other escapes, unbalanced brackets.
 */
#include "promql/promql_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

struct rx {
	const char *s;
	size_t i;
	struct dynbuf out;
	char *err;
	size_t errlen;
};

static int refuse(struct rx *r, const char *what)
{
	snprintf(r->err, r->errlen, "unsupported in this PromQL subset: regular expression %s", what);
	return ERR_INVAL;
}

static int add(struct rx *r, const char *s)
{
	return dynbuf_addstr(&r->out, s) == 0 ? 0 : refuse(r, "too long");
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

static char control_of(char c)
{
	switch (c) {
	case 'n': return '\n';
	case 't': return '\t';
	case 'r': return '\r';
	case 'f': return '\f';
	case 'v': return '\v';
	default: return 0;
	}
}

/* One bracket expression; r->i is just past '['. */
static int bracket(struct rx *r)
{
	struct dynbuf body;
	bool neg = false, rb = false, dash = false, caret = false, first = true;
	int rc = 0;

	dynbuf_init(&body, PROMQL_MAX_QUERY * 16);
	if (r->s[r->i] == '^') {
		neg = true;
		r->i++;
	}
	for (;; first = false) {
		char c = r->s[r->i];
		char lit[2] = {0, 0};

		if (c == '\0') {
			rc = refuse(r, "missing closing ]");
			goto out;
		}
		r->i++;
		if (c == ']' && !first)
			break;
		if (c == '[' && r->s[r->i] == ':') { /* [:alpha:] */
			const char *e = strstr(r->s + r->i, ":]");

			if (!e) {
				rc = refuse(r, "missing closing :]");
				goto out;
			}
			if (dynbuf_add(&body, r->s + r->i - 1, (size_t)(e + 2 - (r->s + r->i - 1))) != 0)
				goto big;
			r->i = (size_t)(e + 2 - r->s);
			continue;
		}
		if (c == '\\') {
			char e = r->s[r->i++];
			const char *cls = class_of(e, true);

			if (cls) {
				if (dynbuf_addstr(&body, cls) != 0)
					goto big;
				continue;
			}
			if (control_of(e)) {
				c = control_of(e);
			} else if (ispunct((unsigned char)e)) {
				c = e;
			} else {
				rc = refuse(r, "escape inside a bracket expression");
				goto out;
			}
		} else if (c == '-' && !first && r->s[r->i] != ']') {
			if (dynbuf_addch(&body, '-') != 0) /* a range */
				goto big;
			continue;
		}
		/* literals POSIX reads specially land in their own places */
		if (c == ']') {
			rb = true;
		} else if (c == '-') {
			dash = true;
		} else if (c == '^') {
			caret = true;
		} else {
			lit[0] = c;
			if (dynbuf_addstr(&body, lit) != 0)
				goto big;
		}
	}
	if (body.len == 0 && !rb && !dash && caret) {
		/* [^] alone: "^" must not come first */
		rc = add(r, neg ? "[^^]" : "\\^");
		goto out;
	}
	if (add(r, neg ? "[^" : "[") || (rb && add(r, "]")) ||
	    (body.len && add(r, body.buf)) || (caret && add(r, "^")) || (dash && add(r, "-")) ||
	    add(r, "]"))
		rc = ERR_INVAL;
	goto out;
big:
	rc = refuse(r, "too long");
out:
	dynbuf_clear(&body);
	return rc;
}

static int translate(struct rx *r)
{
	while (r->s[r->i]) {
		char c = r->s[r->i++];
		char lit[3] = {0, 0, 0};
		int rc;

		switch (c) {
		case '\\': {
			char e = r->s[r->i++];
			const char *cls = class_of(e, false);

			if (e == '\0')
				return refuse(r, "trailing backslash");
			if (cls) {
				rc = add(r, cls);
			} else if (control_of(e)) {
				lit[0] = control_of(e);
				rc = add(r, lit);
			} else if (ispunct((unsigned char)e)) {
				lit[0] = '\\';
				lit[1] = e;
				rc = add(r, lit);
			} else {
				char what[48];

				snprintf(what, sizeof(what), "escape \\%c", e);
				return refuse(r, what);
			}
			break;
		}
		case '[':
			rc = bracket(r);
			break;
		case '.':
			rc = add(r, "[^\n]");
			break;
		case '(':
			if (r->s[r->i] == '?') {
				if (r->s[r->i + 1] == ':') {
					r->i += 2;
				} else if (r->s[r->i + 1] == 'P' || r->s[r->i + 1] == '<') {
					const char *e = strchr(r->s + r->i, '>');

					if (!e)
						return refuse(r, "named group without '>'");
					r->i = (size_t)(e + 1 - r->s);
				} else {
					return refuse(r, "flags (?...)");
				}
			}
			rc = add(r, "(");
			break;
		case '*': case '+': case '?': case '}':
			if (r->s[r->i] == '?')
				return refuse(r, "lazy quantifier");
			lit[0] = c;
			rc = add(r, lit);
			break;
		default:
			lit[0] = c;
			rc = add(r, lit);
			break;
		}
		if (rc)
			return rc;
	}
	return 0;
}

int promql__regex_compile(regex_t *out, const char *re, char *err, size_t errlen)
{
	struct rx r = {.s = re, .err = err, .errlen = errlen};
	int rc;

	dynbuf_init(&r.out, PROMQL_MAX_QUERY * 16 + 8);
	rc = add(&r, "^(");
	if (rc == 0)
		rc = translate(&r);
	if (rc == 0)
		rc = add(&r, ")$");
	if (rc == 0) {
		/* POSIX refuses an empty group: "" and "^()$" mean the empty string */
		const char *text = strcmp(r.out.buf, "^()$") == 0 ? "^$" : r.out.buf;
		int prc = regcomp(out, text, REG_EXTENDED | REG_NOSUB);

		if (prc != 0) {
			char why[128];

			regerror(prc, NULL, why, sizeof(why));
			snprintf(err, errlen, "error parsing regexp: %s: `%s`", why, re);
			rc = ERR_PARSE;
		}
	}
	dynbuf_clear(&r.out);
	return rc;
}
