/*
 * regex.c - label matcher regexes: Go (RE2) syntax fully anchored as
 * Prometheus anchors it ("^(?:re)$"), translated by common/re2posix.c and
 * run on POSIX regcomp(REG_EXTENDED | REG_NOSUB).  What this file adds is
 * the wording: RE2 without a POSIX equivalent (and, as before, a missing
 * ] or a trailing backslash) is "unsupported in this PromQL subset:
 * regular expression ..." (ERR_INVAL); other expressions Go refuses are
 * Go's "error parsing regexp: CODE: `EXPR`" (ERR_PARSE), as is one regcomp
 * refuses.
 */
#include "promql/promql_int.h"

#include <stdio.h>
#include <string.h>

static int refused(const char *re, const struct re2_error *e, char *err, size_t errlen)
{
	const char *what = NULL, *at = re + e->at;
	int n = (int)e->len;

	switch (e->why) {
	case RE2_FLAGS: what = "flags (?...)"; break;
	case RE2_LAZY: what = "lazy quantifier"; break;
	case RE2_CLASS_ESCAPE: what = "escape inside a bracket expression"; break;
	case RE2_ERR_MISSING_BRACKET: what = "missing closing ]"; break;
	case RE2_ERR_TRAILING_BACKSLASH: what = "trailing backslash"; break;
	case RE2_ESCAPE:
		snprintf(err, errlen, "unsupported in this PromQL subset: regular expression escape %.*s",
			 n, at);
		return ERR_INVAL;
	case RE2_CLASS:
		snprintf(err, errlen,
			 "unsupported in this PromQL subset: regular expression %.*s inside a bracket "
			 "expression", n, at);
		return ERR_INVAL;
	case RE2_ERR_NAMED_CAPTURE:
		if (!memchr(at, '>', e->len))
			what = "named group without '>'";
		break;
	default:
		break;
	}
	if (what) {
		snprintf(err, errlen, "unsupported in this PromQL subset: regular expression %s", what);
		return ERR_INVAL;
	}
	snprintf(err, errlen, "error parsing regexp: %s: `%.*s`", re2_why_text(e->why), n, at);
	return ERR_PARSE;
}

int promql__regex_compile(regex_t *out, const char *re, char *err, size_t errlen)
{
	struct re2_ere ere;
	struct re2_error e;
	int rc = re2_translate(re, RE2_ANCHORED, &ere, &e);

	if (rc != 0)
		return refused(re, &e, err, errlen);
	rc = regcomp(out, ere.text, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char why[128];

		regerror(rc, NULL, why, sizeof(why));
		snprintf(err, errlen, "error parsing regexp: %s: `%s`", why, re);
		rc = ERR_PARSE;
	}
	re2_ere_clear(&ere);
	return rc;
}
