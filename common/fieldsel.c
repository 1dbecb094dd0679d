/*
 * fieldsel.c - field selectors as fields.ParseSelector reads them:
 * terms split on unescaped ',', each "key=value", "key==value" or
 * "key!=value", values unescaped (\\ \, \=), terms sorted.
 */
#include "common/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_SELECTOR_MAX_LEN (64u << 10)

/* Splits s on unescaped commas into xstrndup'ed terms. */
static char **split_terms(const char *s, size_t *n)
{
	char **terms = NULL;
	size_t start = 0, i, len = strlen(s);
	bool in_slash = false;

	*n = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && in_slash) {
			in_slash = false;
			continue;
		}
		if (i < len && s[i] == '\\') {
			in_slash = true;
			continue;
		}
		if (i < len && s[i] != ',')
			continue;
		terms = xrealloc(terms, (*n + 1) * sizeof(*terms));
		terms[(*n)++] = xstrndup(s + start, i - start);
		start = i + 1;
	}
	return terms;
}

static int cmp_term(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* fields.UnescapeValue into a new string; NULL with err on failure. */
static char *unescape_value(const char *s, char *err, size_t errlen)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	for (; *s; s++) {
		if (*s == '\\') {
			if (s[1] != '\\' && s[1] != ',' && s[1] != '=') {
				snprintf(err, errlen,
					 "invalid field selector: invalid escape sequence: \\%.1s", s + 1);
				free(out);
				return NULL;
			}
			*o++ = *++s;
		} else if (*s == ',' || *s == '=') {
			snprintf(err, errlen,
				 "invalid field selector: unescaped character in value: %d", *s);
			free(out);
			return NULL;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

/* splitTerm: the first position where "!=", "==" or "=" starts. */
static bool split_term(const char *term, size_t *klen, size_t *oplen, bool *negate)
{
	size_t i;

	for (i = 0; term[i]; i++) {
		*klen = i;
		*negate = false;
		if (strncmp(term + i, "!=", 2) == 0) {
			*negate = true;
			*oplen = 2;
			return true;
		}
		if (strncmp(term + i, "==", 2) == 0) {
			*oplen = 2;
			return true;
		}
		if (term[i] == '=') {
			*oplen = 1;
			return true;
		}
	}
	return false;
}

/* Parses one term into fs; 0 or ERR_PARSE with err filled. */
static int add_term(struct field_selector *fs, const char *sel, const char *term, char *err,
		    size_t errlen)
{
	size_t klen, oplen;
	bool negate;
	char *value;

	if (!split_term(term, &klen, &oplen, &negate)) {
		snprintf(err, errlen, "invalid selector: '%s'; can't understand '%s'", sel, term);
		return ERR_PARSE;
	}
	value = unescape_value(term + klen + oplen, err, errlen);
	if (!value)
		return ERR_PARSE;
	fs->reqs = xrealloc(fs->reqs, (fs->n + 1) * sizeof(*fs->reqs));
	fs->reqs[fs->n].key = xstrndup(term, klen);
	fs->reqs[fs->n].value = value;
	fs->reqs[fs->n].negate = negate;
	fs->n++;
	return ERR_OK;
}

int field_selector_parse(const char *s, struct field_selector *out, char *err, size_t errlen)
{
	char **terms;
	size_t n, i;
	int rc = ERR_OK;

	out->n = 0;
	out->reqs = NULL;
	if (errlen)
		err[0] = '\0';
	if (!s || !*s)
		return ERR_OK;
	if (strlen(s) > FIELD_SELECTOR_MAX_LEN) {
		snprintf(err, errlen, "field selector is longer than %u bytes",
			 FIELD_SELECTOR_MAX_LEN);
		return ERR_TOOBIG;
	}
	terms = split_terms(s, &n);
	qsort(terms, n, sizeof(*terms), cmp_term);
	for (i = 0; i < n && rc == ERR_OK; i++)
		if (terms[i][0])
			rc = add_term(out, s, terms[i], err, errlen);
	for (i = 0; i < n; i++)
		free(terms[i]);
	free(terms);
	if (rc)
		field_selector_clear(out);
	return rc;
}

void field_selector_clear(struct field_selector *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		free(fs->reqs[i].key);
		free(fs->reqs[i].value);
	}
	free(fs->reqs);
	fs->n = 0;
	fs->reqs = NULL;
}
