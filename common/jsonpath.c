/*
 * jsonpath.c - reading members of Kubernetes objects held as jansson
 * values: a dotted path ("status.daemonEndpoints.kubeletEndpoint.Port")
 * walks nested objects, and typed readers return NULL or a default when a
 * step is missing or the value has another type, so callers need no
 * chain of json_object_get checks.
 */
#include "common/common.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

json_t *jpath_get(const json_t *o, const char *path)
{
	const char *p = path;
	json_t *cur = (json_t *)o;

	while (cur && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		cur = json_is_object(cur) ? json_object_getn(cur, p, n) : NULL;
		p += n;
		if (*p == '.')
			p++;
	}
	return cur;
}

const char *jpath_str(const json_t *o, const char *path)
{
	return json_string_value(jpath_get(o, path));
}

int64_t jpath_int(const json_t *o, const char *path, int64_t def)
{
	const json_t *v = jpath_get(o, path);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

json_t *jpath_array(const json_t *o, const char *path)
{
	json_t *v = jpath_get(o, path);

	return json_is_array(v) ? v : NULL;
}

json_t *jpath_object(const json_t *o, const char *path)
{
	json_t *v = jpath_get(o, path);

	return json_is_object(v) ? v : NULL;
}

int jpath_quantity(const json_t *v, struct quantity *q)
{
	char buf[64];

	if (json_is_string(v))
		return quantity_parse(json_string_value(v), q);
	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		return quantity_parse(buf, q);
	}
	if (json_is_real(v) && isfinite(json_real_value(v))) {
		snprintf(buf, sizeof(buf), "%.15g", json_real_value(v));
		return quantity_parse(buf, q);
	}
	return ERR_PARSE;
}
