/*
 * negotiate.c - the generic apiserver's output negotiation, reduced to what
 * this server renders: JSON for any serializer media type (protobuf and
 * YAML clients get JSON with Content-Type application/json, which
 * client-go decodes), meta.k8s.io Tables, and aggregated discovery v2.
 */
#include "apis/apis_int.h"

#include <stdlib.h>
#include <string.h>

#define ACCEPT_MAX_CLAUSES 32
#define ACCEPT_FIELD 64

struct clause {
	char type[ACCEPT_FIELD], subtype[ACCEPT_FIELD];
	char as[ACCEPT_FIELD], g[ACCEPT_FIELD], v[ACCEPT_FIELD];
	double q;
};

/* goautoneg's strconv.ParseFloat(v, 32) with the error ignored: a value
 * that is not wholly a number is 0. */
static double parse_q(const char *val)
{
	char *end;
	double q = strtod(val, &end);

	return end == val || *end != '\0' ? 0 : (double)(float)q;
}

/* Copies [s, s+n) trimmed of spaces and tabs into out (truncating). */
static void copy_trim(char *out, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= ACCEPT_FIELD)
		n = ACCEPT_FIELD - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

static void parse_param(struct clause *c, const char *s, size_t n)
{
	const char *eq = memchr(s, '=', n);
	char key[ACCEPT_FIELD], val[ACCEPT_FIELD];

	if (!eq)
		return;
	copy_trim(key, s, (size_t)(eq - s));
	copy_trim(val, eq + 1, n - (size_t)(eq - s) - 1);
	if (strcmp(key, "as") == 0)
		memcpy(c->as, val, sizeof(val));
	else if (strcmp(key, "g") == 0)
		memcpy(c->g, val, sizeof(val));
	else if (strcmp(key, "v") == 0)
		memcpy(c->v, val, sizeof(val));
	else if (strcmp(key, "q") == 0)
		c->q = parse_q(val);
}

/* One "type/subtype;k=v;..." clause of n bytes. */
static bool parse_clause(struct clause *c, const char *s, size_t n)
{
	const char *semi = memchr(s, ';', n), *slash;
	size_t mlen = semi ? (size_t)(semi - s) : n;
	char media[ACCEPT_FIELD];

	memset(c, 0, sizeof(*c));
	c->q = 1.0;
	copy_trim(media, s, mlen);
	slash = strchr(media, '/');
	if (!slash)
		return false;
	copy_trim(c->type, media, (size_t)(slash - media));
	copy_trim(c->subtype, slash + 1, strlen(slash + 1));
	while (semi) {
		const char *p = semi + 1;
		size_t left = n - (size_t)(p - s);

		semi = memchr(p, ';', left);
		parse_param(c, p, semi ? (size_t)(semi - p) : left);
	}
	return c->type[0] && c->subtype[0];
}

static bool serializer_type(const struct clause *c)
{
	static const char *const subtypes[] = { "json", "yaml", "vnd.kubernetes.protobuf", "*" };

	if (strcmp(c->type, "*") == 0)
		return strcmp(c->subtype, "*") == 0;
	if (strcmp(c->type, "application") != 0)
		return false;
	for (size_t i = 0; i < COMMON_ARRAY_LEN(subtypes); i++)
		if (strcmp(c->subtype, subtypes[i]) == 0)
			return true;
	return false;
}

static enum apis_media clause_media(const struct clause *c, bool allow_table, bool allow_discovery)
{
	if (c->q <= 0 || !serializer_type(c))
		return MEDIA_NONE;
	if (!c->as[0])
		return MEDIA_JSON;
	if (allow_table && strcmp(c->as, "Table") == 0 && strcmp(c->g, "meta.k8s.io") == 0) {
		if (strcmp(c->v, "v1") == 0)
			return MEDIA_TABLE_V1;
		if (strcmp(c->v, "v1beta1") == 0)
			return MEDIA_TABLE_V1BETA1;
	}
	if (allow_discovery && strcmp(c->as, "APIGroupDiscoveryList") == 0 &&
	    strcmp(c->g, "apidiscovery.k8s.io") == 0 && strcmp(c->v, "v2") == 0)
		return MEDIA_DISCOVERY_V2;
	return MEDIA_NONE;
}

/* goautoneg order: higher q first, then specific types before wildcards;
 * ties keep header order. */
static bool before(const struct clause *a, const struct clause *b)
{
	if (a->q != b->q)
		return a->q > b->q;
	if (strcmp(a->type, "*") != 0 && strcmp(b->type, "*") == 0)
		return true;
	return strcmp(a->subtype, "*") != 0 && strcmp(b->subtype, "*") == 0;
}

enum apis_media apis__negotiate(const char *accept, bool allow_table, bool allow_discovery)
{
	struct clause cl[ACCEPT_MAX_CLAUSES];
	size_t n = 0;
	const char *s = accept;

	if (!accept || strspn(accept, " \t") == strlen(accept))
		return MEDIA_JSON;
	while (*s && n < ACCEPT_MAX_CLAUSES) {
		size_t len = strcspn(s, ",");

		if (parse_clause(&cl[n], s, len))
			n++;
		s += len + (s[len] == ',');
	}
	for (size_t i = 1; i < n; i++) {  /* stable insertion sort */
		struct clause tmp = cl[i];
		size_t j = i;

		for (; j > 0 && before(&tmp, &cl[j - 1]); j--)
			cl[j] = cl[j - 1];
		cl[j] = tmp;
	}
	for (size_t i = 0; i < n; i++) {
		enum apis_media m = clause_media(&cl[i], allow_table, allow_discovery);

		if (m != MEDIA_NONE)
			return m;
	}
	return MEDIA_NONE;
}

enum apis_media apis__get_media(const struct apis_request *req, bool allow_table,
				bool allow_discovery, struct apis_response *resp)
{
	enum apis_media m;

	if (!req->method || strcmp(req->method, "GET") != 0) {
		apis__error_method(resp, req->pretty);
		return MEDIA_NONE;
	}
	m = apis__negotiate(req->accept, allow_table, allow_discovery);
	if (m == MEDIA_NONE)
		apis__error_not_acceptable(resp, req->pretty);
	return m;
}
