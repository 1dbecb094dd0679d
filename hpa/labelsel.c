/*
 * labelsel.c - metav1.LabelSelector in its JSON form: conversion to a
 * parsed selector (LabelSelectorAsSelector) and Go's %+v rendering of the
 * pointer, which upstream prints into External metric names and errors.
 */
#include "hpa/hpa_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEL_MAX_TERMS 256

static int add_term(struct dynbuf *b, const char *term)
{
	if (b->len && dynbuf_addch(b, ',') != 0)
		return ERR_TOOBIG;
	return dynbuf_addstr(b, term);
}

static int add_match_labels(struct dynbuf *b, const json_t *ml, char *err, size_t errlen)
{
	struct labels l;
	int rc = 0;

	if (!ml || json_is_null(ml))
		return 0;
	if (!json_is_object(ml) || json_object_size(ml) > SEL_MAX_TERMS) {
		snprintf(err, errlen, "matchLabels must be a map of strings");
		return ERR_INVAL;
	}
	hpa_labels_from_json(ml, &l);
	if (l.n != json_object_size(ml)) {
		snprintf(err, errlen, "matchLabels must be a map of strings");
		rc = ERR_INVAL;
		goto out;
	}
	for (size_t i = 0; i < l.n && rc == 0; i++) {
		char *t = xasprintf("%s=%s", l.items[i].key, l.items[i].value);

		rc = add_term(b, t);
		free(t);
	}
out:
	labels_clear(&l);
	return rc;
}

static char *values_list(const json_t *vals)
{
	struct dynbuf b;
	size_t i;
	const json_t *v;

	dynbuf_init(&b, DYN_SMALL);
	json_array_foreach(vals, i, v) {
		if (!json_is_string(v) || (i && dynbuf_addch(&b, ',') != 0) ||
		    dynbuf_addstr(&b, json_string_value(v)) != 0) {
			dynbuf_clear(&b);
			return NULL;
		}
	}
	return dynbuf_take(&b, NULL);
}

static int add_expression(struct dynbuf *b, const json_t *e, char *err, size_t errlen)
{
	const char *key = jpath_str(e, "key"), *op = jpath_str(e, "operator");
	const json_t *vals = jpath_array(e, "values");
	char *list = NULL, *t = NULL;
	int rc;

	if (!key || !op) {
		snprintf(err, errlen, "matchExpressions entries need key and operator");
		return ERR_INVAL;
	}
	if (strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0) {
		list = vals ? values_list(vals) : NULL;
		if (!list || !*list) {
			snprintf(err, errlen, "values: Invalid value: []string(nil): for 'in', "
					      "'notin' operators, values set can't be empty");
			free(list);
			return ERR_INVAL;
		}
		t = xasprintf("%s %s (%s)", key, op[0] == 'I' ? "in" : "notin", list);
	} else if (strcmp(op, "Exists") == 0) {
		t = xstrdup(key);
	} else if (strcmp(op, "DoesNotExist") == 0) {
		t = xasprintf("!%s", key);
	} else {
		snprintf(err, errlen, "\"%s\" is not a valid label selector operator", op);
		return ERR_INVAL;
	}
	rc = add_term(b, t);
	free(t);
	free(list);
	return rc;
}

struct selector *hpa_label_selector(const json_t *ls, char *err, size_t errlen)
{
	struct dynbuf b;
	const json_t *exprs, *e;
	struct selector *sel = NULL;
	size_t i;
	int rc;

	dynbuf_init(&b, DYN_SMALL);
	if (ls && !json_is_null(ls) && !json_is_object(ls)) {
		snprintf(err, errlen, "selector must be an object");
		goto out;
	}
	rc = add_match_labels(&b, jpath_get(ls, "matchLabels"), err, errlen);
	exprs = jpath_array(ls, "matchExpressions");
	if (exprs && json_array_size(exprs) > SEL_MAX_TERMS)
		rc = ERR_TOOBIG;
	json_array_foreach(exprs, i, e) {
		if (rc == 0)
			rc = add_expression(&b, e, err, errlen);
	}
	if (rc == ERR_TOOBIG)
		snprintf(err, errlen, "selector too large");
	if (rc == 0)
		sel = selector_parse(b.len ? b.buf : "", err, errlen);
out:
	dynbuf_clear(&b);
	return sel;
}

static void go_match_labels(struct dynbuf *b, const json_t *ml)
{
	struct labels l;

	hpa_labels_from_json(ml, &l);
	(void)!dynbuf_addstr(b, "map[string]string{");
	for (size_t i = 0; i < l.n; i++)
		(void)!dynbuf_printf(b, "%s: %s,", l.items[i].key, l.items[i].value);
	(void)!dynbuf_addstr(b, "}");
	labels_clear(&l);
}

static void go_expression(struct dynbuf *b, const json_t *e)
{
	const json_t *vals = jpath_array(e, "values"), *v;
	const char *key = jpath_str(e, "key"), *op = jpath_str(e, "operator");
	size_t i;

	(void)!dynbuf_printf(b, "LabelSelectorRequirement{Key:%s,Operator:%s,Values:[",
			     key ? key : "", op ? op : "");
	json_array_foreach(vals, i, v)
		(void)!dynbuf_printf(b, "%s%s", i ? " " : "",
				     json_is_string(v) ? json_string_value(v) : "");
	(void)!dynbuf_addstr(b, "],},");
}

char *hpa__label_selector_gostr(const json_t *ls)
{
	struct dynbuf b;
	const json_t *e;
	size_t i;

	if (!json_is_object(ls))
		return xstrdup("nil");
	dynbuf_init(&b, DYN_SMALL);
	(void)!dynbuf_addstr(&b, "&LabelSelector{MatchLabels:");
	go_match_labels(&b, jpath_get(ls, "matchLabels"));
	(void)!dynbuf_addstr(&b, ",MatchExpressions:[]LabelSelectorRequirement{");
	json_array_foreach(jpath_array(ls, "matchExpressions"), i, e)
		go_expression(&b, e);
	(void)!dynbuf_addstr(&b, "},}");
	return dynbuf_take(&b, NULL);
}

void hpa_labels_from_json(const json_t *map, struct labels *out)
{
	const char *k;
	const json_t *v;

	labels_init(out);
	if (!json_is_object(map))
		return;
	json_object_foreach((json_t *)map, k, v) {
		if (json_is_string(v))
			labels_set(out, k, json_string_value(v));
	}
}
