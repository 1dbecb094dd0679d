/*
 * status.c - the HPA's status.conditions as setCondition keeps them:
 * insertion order, lastTransitionTime moving only when status flips.
 */
#include "hpa/hpa_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HPA_MAX_CONDITIONS 64

static char *dup_or_empty(const char *s)
{
	return xstrdup(s ? s : "");
}

void hpa__conditions_load(const json_t *hpa, struct hpa__conditions *c)
{
	const json_t *arr = jpath_array(hpa, "status.conditions"), *e;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->v = xcalloc(HPA_MAX_CONDITIONS, sizeof(*c->v));
	json_array_foreach(arr, i, e) {
		struct hpa__condition *d;

		if (!jpath_str(e, "type") || c->n == HPA_MAX_CONDITIONS)
			continue;
		d = &c->v[c->n++];
		d->type = xstrdup(jpath_str(e, "type"));
		d->status = dup_or_empty(jpath_str(e, "status"));
		d->ltt = jpath_str(e, "lastTransitionTime") ? xstrdup(jpath_str(e, "lastTransitionTime"))
							   : NULL;
		d->reason = dup_or_empty(jpath_str(e, "reason"));
		d->message = dup_or_empty(jpath_str(e, "message"));
	}
}

static void cond_free(struct hpa__condition *d)
{
	free(d->type);
	free(d->status);
	free(d->ltt);
	free(d->reason);
	free(d->message);
}

void hpa__condition_set(struct hpa__conditions *c, int64_t now, const char *type,
		       const char *status, const char *reason, const char *fmt, ...)
{
	struct hpa__condition *d = NULL;
	char ts[40];
	va_list ap;
	char *msg;

	for (size_t i = 0; i < c->n && !d; i++) {
		if (strcmp(c->v[i].type, type) == 0)
			d = &c->v[i];
	}
	if (!d) {
		if (c->n == HPA_MAX_CONDITIONS)
			return;
		d = &c->v[c->n++];
		memset(d, 0, sizeof(*d));
		d->type = xstrdup(type);
		d->status = xstrdup("");
		d->reason = xstrdup("");
		d->message = xstrdup("");
	}
	if (strcmp(d->status, status) != 0) {
		fmt_rfc3339(now, ts, sizeof(ts));
		free(d->ltt);
		d->ltt = xstrdup(ts);
		free(d->status);
		d->status = xstrdup(status);
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup("");
	va_end(ap);
	free(d->reason);
	d->reason = xstrdup(reason);
	free(d->message);
	d->message = msg;
}

void hpa__condition_remove(struct hpa__conditions *c, const char *type)
{
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->v[i].type, type) != 0)
			continue;
		cond_free(&c->v[i]);
		memmove(&c->v[i], &c->v[i + 1], (c->n - i - 1) * sizeof(*c->v));
		c->n--;
		return;
	}
}

const char *hpa__condition_status(const struct hpa__conditions *c, const char *type)
{
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->v[i].type, type) == 0)
			return c->v[i].status;
	}
	return NULL;
}

void hpa__conditions_clear(struct hpa__conditions *c)
{
	for (size_t i = 0; i < c->n; i++)
		cond_free(&c->v[i]);
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

json_t *hpa__conditions_json(const struct hpa__conditions *c)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < c->n; i++) {
		const struct hpa__condition *d = &c->v[i];
		json_t *o = json_object();

		json_object_set_new(o, "type", json_string(d->type));
		json_object_set_new(o, "status", json_string(d->status));
		json_object_set_new(o, "lastTransitionTime",
				    d->ltt ? json_string(d->ltt) : json_null());
		if (*d->reason)
			json_object_set_new(o, "reason", json_string(d->reason));
		if (*d->message)
			json_object_set_new(o, "message", json_string(d->message));
		json_array_append_new(arr, o);
	}
	return arr;
}
