/*
 * value.c - results: init/clear, the vector helpers the evaluator shares
 * (push, label deletion, ordering, the duplicate-labelset check) and the
 * canonical text of promql_value_format.
 */
#include "promql/promql_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void promql_value_init(struct promql_value *v)
{
	memset(v, 0, sizeof(*v));
	v->type = PROMQL_VALUE_VECTOR;
}

void promql_value_clear(struct promql_value *v)
{
	for (size_t i = 0; i < v->n; i++)
		labels_clear(&v->samples[i].labels);
	free(v->samples);
	promql_value_init(v);
}

/* Takes l's content (l is left empty). */
void promql__vec_push(struct promql_value *v, struct labels *l, double x, int64_t t)
{
	struct promql_sample *s;

	if ((v->n & (v->n - 1)) == 0) /* 0, 1, 2, 4, ...: grow to the next power of two */
		v->samples = xrealloc(v->samples, (v->n ? v->n * 2 : 1) * sizeof(*v->samples));
	s = &v->samples[v->n++];
	s->labels = *l;
	s->v = x;
	s->t_ms = t;
	labels_init(l);
}

void promql__labels_del(struct labels *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->items[i].key, key) == 0) {
			free(l->items[i].key);
			free(l->items[i].value);
			memmove(&l->items[i], &l->items[i + 1], (l->n - i - 1) * sizeof(l->items[0]));
			l->n--;
			return;
		}
	}
}

/* labels.Compare: by name, then value, pair by pair; the shorter first. */
int promql__labels_cmp(const struct labels *a, const struct labels *b)
{
	size_t n = a->n < b->n ? a->n : b->n;

	for (size_t i = 0; i < n; i++) {
		int c = strcmp(a->items[i].key, b->items[i].key);

		if (c == 0)
			c = strcmp(a->items[i].value, b->items[i].value);
		if (c)
			return c;
	}
	return (a->n > b->n) - (a->n < b->n);
}

static int sample_cmp(const void *x, const void *y)
{
	return promql__labels_cmp(&((const struct promql_sample *)x)->labels,
				  &((const struct promql_sample *)y)->labels);
}

int promql__vec_check_unique(struct promql_value *v, char *err, size_t errlen)
{
	struct promql_sample *sorted;
	int rc = 0;

	if (v->n < 2)
		return 0;
	sorted = xmalloc(v->n * sizeof(*sorted));
	memcpy(sorted, v->samples, v->n * sizeof(*sorted));
	qsort(sorted, v->n, sizeof(*sorted), sample_cmp);
	for (size_t i = 1; i < v->n && !rc; i++)
		if (promql__labels_cmp(&sorted[i - 1].labels, &sorted[i].labels) == 0)
			rc = ERR_INVAL;
	free(sorted);
	if (rc)
		snprintf(err, errlen, "vector cannot contain metrics with the same labelset");
	return rc;
}

/* A label value as Go's %q writes it (ASCII: \" \\ \n \t \r, \xNN). */
static int add_quoted(struct dynbuf *b, const char *s)
{
	int rc = dynbuf_addch(b, '"');

	for (; *s && !rc; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			rc = dynbuf_printf(b, "\\%c", c);
		else if (c == '\n')
			rc = dynbuf_addstr(b, "\\n");
		else if (c == '\t')
			rc = dynbuf_addstr(b, "\\t");
		else if (c == '\r')
			rc = dynbuf_addstr(b, "\\r");
		else if (c < 0x20 || c == 0x7f)
			rc = dynbuf_printf(b, "\\x%02x", c);
		else
			rc = dynbuf_addch(b, (char)c);
	}
	return rc ? rc : dynbuf_addch(b, '"');
}

/* name{a="b", ...} with ", " between labels when sep is ", ". */
static int add_labels(struct dynbuf *b, const struct labels *l, const char *sep)
{
	const char *name = labels_get(l, "__name__");
	bool first = true;
	int rc = name ? dynbuf_addstr(b, name) : 0;

	rc = rc ? rc : dynbuf_addch(b, '{');
	for (size_t i = 0; i < l->n && !rc; i++) {
		if (strcmp(l->items[i].key, "__name__") == 0)
			continue;
		if (!first)
			rc = dynbuf_addstr(b, sep);
		first = false;
		rc = rc ? rc : dynbuf_addstr(b, l->items[i].key);
		rc = rc ? rc : dynbuf_addch(b, '=');
		rc = rc ? rc : add_quoted(b, l->items[i].value);
	}
	return rc ? rc : dynbuf_addch(b, '}');
}

char *promql__labels_string(const struct labels *l)
{
	struct dynbuf b;

	dynbuf_init(&b, 1 << 20);
	if (add_labels(&b, l, ", ") != 0 || b.len == 0) {
		dynbuf_clear(&b);
		return xstrdup("{...}");
	}
	return dynbuf_take(&b, NULL);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int promql_value_format(const struct promql_value *v, struct dynbuf *out)
{
	char num[GO_FLOAT_LEN];
	char **lines;
	int rc = 0;

	if (v->type == PROMQL_VALUE_SCALAR) {
		fmt_go_float(v->v, num, sizeof(num));
		return dynbuf_printf(out, "scalar: %s\n", num);
	}
	lines = xcalloc(v->n ? v->n : 1, sizeof(*lines));
	for (size_t i = 0; i < v->n && !rc; i++) {
		struct dynbuf b;

		dynbuf_init(&b, out->max ? out->max : 1 << 20);
		fmt_go_float(v->samples[i].v, num, sizeof(num));
		rc = add_labels(&b, &v->samples[i].labels, ",");
		rc = rc ? rc : dynbuf_printf(&b, " %s\n", num);
		lines[i] = rc ? NULL : dynbuf_take(&b, NULL);
		dynbuf_clear(&b);
	}
	if (!rc)
		qsort(lines, v->n, sizeof(*lines), str_cmp);
	for (size_t i = 0; i < v->n; i++) {
		if (!rc && lines[i])
			rc = dynbuf_addstr(out, lines[i]);
		free(lines[i]);
	}
	free(lines);
	return rc;
}
