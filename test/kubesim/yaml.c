/*
 * yaml.c - YAML text to jansson values with libyaml's event parser:
 * mappings, sequences, anchors and aliases; plain scalars typed as the
 * YAML 1.2 core schema (null, bool, int, float, else string), quoted
 * scalars stay strings.  Nesting and node counts are bounded.
 */
#include "test/kubesim/apiserver.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAML_MAX_DEPTH 64
#define YAML_MAX_NODES 1000000

struct yctx {
	yaml_parser_t parser;
	json_t *anchors; /* name -> value */
	size_t nodes;
	char *err;
	size_t errlen;
};

static json_t *plain_scalar(const char *s)
{
	char *end;
	long long i;
	double d;

	if (!*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	    strcmp(s, "NULL") == 0)
		return json_null();
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
		return json_true();
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
		return json_false();
	if ((*s >= '0' && *s <= '9') || ((*s == '-' || *s == '+' || *s == '.') && s[1] >= '0' &&
					 s[1] <= '9')) {
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

static bool next_event(struct yctx *y, yaml_event_t *ev)
{
	if (yaml_parser_parse(&y->parser, ev))
		return true;
	snprintf(y->err, y->errlen, "yaml: line %zu: %s", y->parser.problem_mark.line + 1,
		 y->parser.problem ? y->parser.problem : "parse error");
	return false;
}

static json_t *node_from_event(struct yctx *y, yaml_event_t *ev, int depth);

static json_t *parse_node(struct yctx *y, int depth)
{
	yaml_event_t ev;

	if (!next_event(y, &ev))
		return NULL;
	return node_from_event(y, &ev, depth);
}

static json_t *parse_mapping(struct yctx *y, int depth)
{
	json_t *obj = json_object();
	yaml_event_t ev;

	for (;;) {
		json_t *val;
		char *key;

		if (!next_event(y, &ev))
			break;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return obj;
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			yaml_event_delete(&ev);
			snprintf(y->err, y->errlen, "yaml: mapping keys must be scalars");
			break;
		}
		key = xstrdup((const char *)ev.data.scalar.value);
		yaml_event_delete(&ev);
		val = parse_node(y, depth + 1);
		if (val)
			json_object_set_new(obj, key, val);
		free(key);
		if (!val)
			break;
	}
	json_decref(obj);
	return NULL;
}

static json_t *parse_sequence(struct yctx *y, int depth)
{
	json_t *arr = json_array();
	yaml_event_t ev;

	for (;;) {
		json_t *v;

		if (!next_event(y, &ev))
			break;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return arr;
		}
		v = node_from_event(y, &ev, depth + 1);
		if (!v)
			break;
		json_array_append_new(arr, v);
	}
	json_decref(arr);
	return NULL;
}

/* Builds the node that ev starts (ev is consumed). */
static json_t *node_from_event(struct yctx *y, yaml_event_t *ev, int depth)
{
	const yaml_char_t *anchor = NULL;
	json_t *v = NULL;
	char *anchor_copy = NULL;

	if (depth > YAML_MAX_DEPTH || ++y->nodes > YAML_MAX_NODES) {
		snprintf(y->err, y->errlen, "yaml: document nested deeper than %d or larger than %d "
			 "nodes", YAML_MAX_DEPTH, YAML_MAX_NODES);
		yaml_event_delete(ev);
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		v = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
			    ? plain_scalar((const char *)ev->data.scalar.value)
			    : json_stringn((const char *)ev->data.scalar.value, ev->data.scalar.length);
		break;
	case YAML_ALIAS_EVENT:
		v = json_object_get(y->anchors, (const char *)ev->data.alias.anchor);
		if (v)
			json_incref(v);
		else
			snprintf(y->err, y->errlen, "yaml: unknown anchor %s", ev->data.alias.anchor);
		break;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->type == YAML_MAPPING_START_EVENT ? ev->data.mapping_start.anchor
							      : ev->data.sequence_start.anchor;
		anchor_copy = anchor ? xstrdup((const char *)anchor) : NULL;
		anchor = NULL;
		if (ev->type == YAML_MAPPING_START_EVENT) {
			yaml_event_delete(ev);
			v = parse_mapping(y, depth);
		} else {
			yaml_event_delete(ev);
			v = parse_sequence(y, depth);
		}
		if (v && anchor_copy)
			json_object_set(y->anchors, anchor_copy, v);
		free(anchor_copy);
		return v;
	default:
		snprintf(y->err, y->errlen, "yaml: unexpected event %d", (int)ev->type);
		break;
	}
	if (v && anchor)
		json_object_set(y->anchors, (const char *)anchor, v);
	yaml_event_delete(ev);
	return v;
}

/* Skips stream/document start events and returns the first node. */
json_t *sim_yaml_to_json(const char *text, size_t len, char *err, size_t errlen)
{
	struct yctx y = { .err = err, .errlen = errlen };
	yaml_event_t ev;
	json_t *root = NULL;

	snprintf(err, errlen, "yaml: empty document");
	if (!yaml_parser_initialize(&y.parser))
		return NULL;
	y.anchors = json_object();
	yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);
	while (next_event(&y, &ev)) {
		if (ev.type == YAML_STREAM_START_EVENT || ev.type == YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		if (ev.type == YAML_STREAM_END_EVENT || ev.type == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		root = node_from_event(&y, &ev, 0);
		break;
	}
	json_decref(y.anchors);
	yaml_parser_delete(&y.parser);
	return root;
}
