/*
 * targets.c - our own top-level key, `metricsApiserver:`, which the
 * adapter never reads (so a file keeps working there once the key is
 * removed, and here as is):
 *   metricsApiserver:
 *     targets: [{name, url, labels: {k: v}}]   static scrape targets
 *     limits: {sample_limit, label_limit, label_value_length_limit,
 *              body_size_limit}                Prometheus' target limits
 * body_size_limit takes bytes or a size with B, KB, MB, GB (powers of
 * 1024, as Prometheus' units.Base2Bytes) or KiB, MiB, GiB.
 */
#include "rules/rules_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool label_name_ok(const char *k)
{
	if (!*k || isdigit((unsigned char)*k) || strncmp(k, "__", 2) == 0)
		return false;
	for (; *k; k++)
		if (!isalnum((unsigned char)*k) && *k != '_')
			return false;
	return true;
}

static bool url_ok(const char *u)
{
	const char *host = strncmp(u, "http://", 7) == 0 ? u + 7
			   : strncmp(u, "https://", 8) == 0 ? u + 8 : NULL;

	return host && *host && *host != '/' && !strpbrk(u, " \t\r\n");
}

static void target(struct rules__load *ld, const json_t *list, size_t i, struct rules_config *c)
{
	static const char *const keys[] = { "name", "url", "labels" };
	json_t *t = json_array_get(list, i), *labels, *v;
	struct rules_target *out = &c->targets[c->n_targets];
	struct yamldoc_mark at;
	const char *k;
	char *name = NULL, *url = NULL;

	yamldoc_mark_element(ld->marks, list, i, &at);
	if (!json_is_object(t)) {
		rules__error(ld, at, "cannot unmarshal %s into a target", rules__tag(t));
		return;
	}
	if (!rules__known_keys(ld, t, keys, 3, "a target") || !rules__string(ld, t, "name", &name) ||
	    !rules__string(ld, t, "url", &url))
		goto done;
	if (!name || !*name || strlen(name) > 253)
		rules__error(ld, at, "a target needs a name (at most 253 bytes)");
	else if (!url || !url_ok(url))
		rules__error(ld, url ? rules__at_member(ld, t, "url", true) : at,
			     "url must be http://HOST[:PORT]/PATH or https://...");
	for (size_t j = 0; name && j < c->n_targets; j++)
		if (c->targets[j].name && strcmp(c->targets[j].name, name) == 0)
			rules__error(ld, rules__at_member(ld, t, "name", true),
				     "duplicate target name %s", name);
	labels_init(&out->labels);
	labels = json_object_get(t, "labels");
	if (labels && !json_is_null(labels) &&
	    (!json_is_object(labels) || json_object_size(labels) > RULES_MAX_TARGET_LABELS))
		rules__error(ld, rules__at_member(ld, t, "labels", true),
			     "labels must be a map of at most %d names to strings",
			     RULES_MAX_TARGET_LABELS);
	else if (labels)
		json_object_foreach(labels, k, v) {
			if (!label_name_ok(k))
				rules__error(ld, rules__at_member(ld, labels, k, false),
					     "invalid label name %s", k);
			else if (!json_is_string(v) || json_string_length(v) > RULES_MAX_STRING)
				rules__error(ld, rules__at_member(ld, labels, k, true),
					     "cannot unmarshal %s into string", rules__tag(v));
			else
				labels_set(&out->labels, k, json_string_value(v));
		}
	out->name = name;
	out->url = url;
	c->n_targets++;
	return;
done:
	free(name);
	free(url);
}

/* body_size_limit: an integer, or "<n><unit>". */
static bool size_value(const json_t *v, int64_t *out)
{
	static const struct { const char *unit; int64_t mult; } units[] = {
		{ "", 1 },	  { "B", 1 },		{ "KB", 1 << 10 },  { "KiB", 1 << 10 },
		{ "MB", 1 << 20 }, { "MiB", 1 << 20 }, { "GB", 1 << 30 }, { "GiB", 1 << 30 },
	};
	const char *s;
	char *end;
	long long n;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return *out >= 0;
	}
	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || end == s)
		return false;
	for (size_t i = 0; i < COMMON_ARRAY_LEN(units); i++)
		if (strcmp(end, units[i].unit) == 0 && n <= INT64_MAX / units[i].mult) {
			*out = n * units[i].mult;
			return true;
		}
	return false;
}

static void limits(struct rules__load *ld, const json_t *ext, struct rules_config *c)
{
	static const char *const keys[] = { "sample_limit", "label_limit",
					    "label_value_length_limit", "body_size_limit" };
	int64_t *dst[] = { &c->limits.sample_limit, &c->limits.label_limit,
			   &c->limits.label_value_length_limit, &c->limits.body_size_limit };
	json_t *l = json_object_get(ext, "limits"), *v;

	if (!l || json_is_null(l))
		return;
	if (!json_is_object(l)) {
		rules__error(ld, rules__at_member(ld, ext, "limits", true),
			     "cannot unmarshal %s into limits", rules__tag(l));
		return;
	}
	if (!rules__known_keys(ld, l, keys, 4, "limits"))
		return;
	for (size_t i = 0; i < 4; i++) {
		v = json_object_get(l, keys[i]);
		if (!v || json_is_null(v))
			continue;
		if (i == 3 ? !size_value(v, dst[i])
			   : !json_is_integer(v) || (*dst[i] = json_integer_value(v)) < 0)
			rules__error(ld, rules__at_member(ld, l, keys[i], true),
				     i == 3 ? "%s must be a size (bytes, or a number with B, KB, MB, GB)"
					    : "%s must be an integer >= 0 (0: no limit)",
				     keys[i]);
	}
}

void rules__extras(struct rules__load *ld, const json_t *doc, struct rules_config *c)
{
	static const char *const keys[] = { "targets", "limits" };
	json_t *ext = json_object_get(doc, "metricsApiserver"), *list;

	if (!ext || json_is_null(ext))
		return;
	if (!json_is_object(ext)) {
		rules__error(ld, rules__at_member(ld, doc, "metricsApiserver", true),
			     "cannot unmarshal %s into metricsApiserver", rules__tag(ext));
		return;
	}
	if (!rules__known_keys(ld, ext, keys, 2, "metricsApiserver"))
		return;
	limits(ld, ext, c);
	list = json_object_get(ext, "targets");
	if (!list || json_is_null(list))
		return;
	if (!json_is_array(list) || json_array_size(list) > RULES_MAX_TARGETS) {
		rules__error(ld, rules__at_member(ld, ext, "targets", true),
			     "targets must be a list of at most %d targets", RULES_MAX_TARGETS);
		return;
	}
	c->targets = xcalloc(json_array_size(list) + 1, sizeof(*c->targets));
	for (size_t i = 0; i < json_array_size(list); i++)
		target(ld, list, i, c);
}
