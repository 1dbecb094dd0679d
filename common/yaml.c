/*
 * yaml.c - a YAML document to jansson with libyaml's event parser (HPA
 * scenario files, kubesim config files).  Plain scalars are typed as the YAML 1.2
 * core schema (null, bool, int, float, else string); quoted scalars stay
 * strings; anchors and aliases are shared values.  Depth and node count are
 * bounded.
 */
#include "common/common_int.h"

#include <jansson.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAML_MAX_DEPTH 64
#define YAML_MAX_NODES 2000000

struct yaml_ctx {
	yaml_parser_t parser;
	json_t *anchors;
	size_t nodes;
	char *err;
	size_t errlen;
	struct yamldoc_marks *marks; /* NULL: yamldoc_to_json */
	struct yamldoc_mark *errpos; /* NULL or where the error is */
};

static struct yamldoc_mark mark_of(yaml_mark_t m)
{
	struct yamldoc_mark p = { m.line + 1, m.column + 1 };

	return p;
}

static void set_errpos(struct yaml_ctx *y, yaml_mark_t m)
{
	if (y->errpos)
		*y->errpos = mark_of(m);
}

static bool is_any(const char *s, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s, words[i]) == 0)
			return true;
	}
	return false;
}

static json_t *plain_scalar(const char *s)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	static const char *const trues[] = { "true", "True", "TRUE" };
	static const char *const falses[] = { "false", "False", "FALSE" };
	char *end;
	long long i;
	double d;

	if (is_any(s, nulls, COMMON_ARRAY_LEN(nulls)))
		return json_null();
	if (is_any(s, trues, COMMON_ARRAY_LEN(trues)))
		return json_true();
	if (is_any(s, falses, COMMON_ARRAY_LEN(falses)))
		return json_false();
	if ((*s >= '0' && *s <= '9') ||
	    ((*s == '-' || *s == '+' || *s == '.') && s[1] >= '0' && s[1] <= '9')) {
		errno = 0;
		i = strtoll(s, &end, 10);
		if (!errno && !*end)
			return json_integer(i);
		errno = 0;
		d = strtod(s, &end);
		if (!errno && !*end && isfinite(d))
			return json_real(d);
	}
	return json_string(s);
}

static bool next_event(struct yaml_ctx *y, yaml_event_t *ev)
{
	if (yaml_parser_parse(&y->parser, ev))
		return true;
	set_errpos(y, y->parser.problem_mark);
	snprintf(y->err, y->errlen, "yaml: line %zu: %s", y->parser.problem_mark.line + 1,
		 y->parser.problem ? y->parser.problem : "parse error");
	return false;
}

static json_t *node(struct yaml_ctx *y, yaml_event_t *ev, int depth);

/* Reads children until the closing event; mapping keys must be scalars. */
static json_t *collection(struct yaml_ctx *y, bool mapping, int depth)
{
	json_t *c = mapping ? json_object() : json_array();
	yaml_event_t ev;

	for (size_t index = 0;; index++) {
		json_t *key = NULL, *val;
		yaml_mark_t key_at = { 0, 0, 0 }, val_at;

		if (!next_event(y, &ev))
			goto fail;
		if (ev.type == (mapping ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT)) {
			yaml_event_delete(&ev);
			return c;
		}
		if (mapping) {
			key_at = ev.start_mark;
			key = node(y, &ev, depth + 1);
			if (!key)
				goto fail;
			if (!json_is_string(key)) {
				snprintf(y->err, y->errlen, "yaml: mapping keys must be strings");
				set_errpos(y, key_at);
				json_decref(key);
				goto fail;
			}
			if (y->marks && json_object_get(c, json_string_value(key))) {
				snprintf(y->err, y->errlen, "key \"%s\" already set in map",
					 json_string_value(key));
				set_errpos(y, key_at);
				json_decref(key);
				goto fail;
			}
			if (!next_event(y, &ev)) {
				json_decref(key);
				goto fail;
			}
		}
		val_at = ev.start_mark;
		val = node(y, &ev, depth + 1);
		if (!val) {
			json_decref(key);
			goto fail;
		}
		if (y->marks)
			common__marks_add(y->marks, c, key ? json_string_value(key) : NULL, index, val,
					  mark_of(key_at), mark_of(val_at));
		if (mapping)
			json_object_set_new(c, json_string_value(key), val);
		else
			json_array_append_new(c, val);
		json_decref(key);
	}
fail:
	json_decref(c);
	return NULL;
}

static void remember_anchor(struct yaml_ctx *y, const yaml_char_t *anchor, json_t *v)
{
	if (anchor && v)
		json_object_set(y->anchors, (const char *)anchor, v);
}

/* Builds the value starting at ev (consumed). */
static json_t *node(struct yaml_ctx *y, yaml_event_t *ev, int depth)
{
	json_t *v = NULL;
	yaml_char_t *anchor = NULL;

	if (depth > YAML_MAX_DEPTH || ++y->nodes > YAML_MAX_NODES) {
		snprintf(y->err, y->errlen, "yaml: document too deep or too large");
		set_errpos(y, ev->start_mark);
		yaml_event_delete(ev);
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		v = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
			    ? plain_scalar((const char *)ev->data.scalar.value)
			    : json_string((const char *)ev->data.scalar.value);
		if (!v)
			snprintf(y->err, y->errlen, "yaml: scalar is not valid UTF-8");
		remember_anchor(y, ev->data.scalar.anchor, v);
		break;
	case YAML_ALIAS_EVENT:
		v = json_incref(json_object_get(y->anchors, (const char *)ev->data.alias.anchor));
		if (!v)
			snprintf(y->err, y->errlen, "yaml: unknown alias %s", ev->data.alias.anchor);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		anchor = ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.anchor
							       : ev->data.mapping_start.anchor;
		anchor = anchor ? (yaml_char_t *)xstrdup((const char *)anchor) : NULL;
		v = collection(y, ev->type == YAML_MAPPING_START_EVENT, depth);
		remember_anchor(y, anchor, v);
		free(anchor);
		break;
	default:
		snprintf(y->err, y->errlen, "yaml: unexpected event");
		break;
	}
	if (!v && (ev->type == YAML_SCALAR_EVENT || ev->type == YAML_ALIAS_EVENT))
		set_errpos(y, ev->start_mark);
	yaml_event_delete(ev);
	return v;
}

/* Skips to the document's root node event; false at a stream without one. */
static bool root_event(struct yaml_ctx *y, yaml_event_t *ev)
{
	for (;;) {
		if (!next_event(y, ev))
			return false;
		if (ev->type != YAML_STREAM_START_EVENT && ev->type != YAML_DOCUMENT_START_EVENT)
			break;
		yaml_event_delete(ev);
	}
	if (ev->type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(ev);
		snprintf(y->err, y->errlen, "yaml: empty document");
		set_errpos(y, ev->start_mark);
		return false;
	}
	return true;
}

static json_t *convert(struct yaml_ctx *y, const char *text, size_t len);

json_t *yamldoc_to_json(const char *text, size_t len, char *err, size_t errlen)
{
	struct yaml_ctx y = { .err = err, .errlen = errlen };

	return convert(&y, text, len);
}

json_t *yamldoc_to_json_marked(const char *text, size_t len, struct yamldoc_marks **marks,
			       struct yamldoc_mark *errpos, char *err, size_t errlen)
{
	struct yaml_ctx y = { .err = err, .errlen = errlen, .errpos = errpos };
	json_t *v;

	if (errpos)
		errpos->line = errpos->col = 0;
	y.marks = common__marks_new();
	v = convert(&y, text, len);
	if (!v) {
		yamldoc_marks_free(y.marks);
		*marks = NULL;
		return NULL;
	}
	common__marks_seal(y.marks);
	*marks = y.marks;
	return v;
}

static json_t *convert(struct yaml_ctx *y_, const char *text, size_t len)
{
	struct yaml_ctx y = *y_;
	yaml_event_t ev;
	json_t *v = NULL;
	yaml_mark_t root_at;

	if (!yaml_parser_initialize(&y.parser)) {
		snprintf(y.err, y.errlen, "yaml: cannot initialise the parser");
		return NULL;
	}
	yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);
	y.anchors = json_object();
	if (root_event(&y, &ev)) {
		root_at = ev.start_mark;
		v = node(&y, &ev, 0);
		if (v && y.marks)
			common__marks_add(y.marks, NULL, NULL, 0, v, mark_of(root_at),
					  mark_of(root_at));
	}
	json_decref(y.anchors);
	yaml_parser_delete(&y.parser);
	return v;
}
