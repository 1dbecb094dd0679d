/*
 * yamlmarks.c - the position side table of yamldoc_to_json_marked (yaml.c
 * fills it): entries keyed by (parent value, member key or element index),
 * sorted once, then found by binary search; a second order by node pointer
 * answers yamldoc_mark_node.
 */
#include "common/common_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct mark_entry {
	const struct json_t *parent, *node;
	char *key; /* NULL for an element or the root */
	size_t index;
	struct yamldoc_mark key_mark, value_mark;
};

struct yamldoc_marks {
	size_t n, cap;
	struct mark_entry *e;
	struct mark_entry **by_node;
};

struct yamldoc_marks *common__marks_new(void)
{
	return xcalloc(1, sizeof(struct yamldoc_marks));
}

void common__marks_add(struct yamldoc_marks *m, const struct json_t *parent, const char *key,
		       size_t index, const struct json_t *node, struct yamldoc_mark key_mark,
		       struct yamldoc_mark value_mark)
{
	struct mark_entry *e;

	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->e = xrealloc(m->e, m->cap * sizeof(*m->e));
	}
	e = &m->e[m->n++];
	e->parent = parent;
	e->node = node;
	e->key = key ? xstrdup(key) : NULL;
	e->index = index;
	e->key_mark = key_mark;
	e->value_mark = value_mark;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;

	return x < y ? -1 : x > y;
}

/* (parent, key or index) order; a NULL key sorts before any key. */
static int cmp_place(const struct mark_entry *a, const struct json_t *parent, const char *key,
		     size_t index)
{
	int c = cmp_ptr(a->parent, parent);

	if (c)
		return c;
	if (!a->key || !key) {
		if (a->key || key)
			return a->key ? 1 : -1;
		return a->index < index ? -1 : a->index > index;
	}
	return strcmp(a->key, key);
}

static int cmp_entry(const void *pa, const void *pb)
{
	const struct mark_entry *a = pa, *b = pb;
	int c = cmp_place(a, b->parent, b->key, b->index);

	/* entries are unique by place but for a duplicate key (refused): keep stable */
	return c ? c : (a < b ? -1 : a > b);
}

static int cmp_node(const void *pa, const void *pb)
{
	const struct mark_entry *a = *(struct mark_entry *const *)pa;
	const struct mark_entry *b = *(struct mark_entry *const *)pb;
	int c = cmp_ptr(a->node, b->node);

	if (c)
		return c;
	if (a->value_mark.line != b->value_mark.line)
		return a->value_mark.line < b->value_mark.line ? -1 : 1;
	return a->value_mark.col < b->value_mark.col ? -1 : a->value_mark.col > b->value_mark.col;
}

void common__marks_seal(struct yamldoc_marks *m)
{
	if (m->n)
		qsort(m->e, m->n, sizeof(*m->e), cmp_entry);
	m->by_node = xcalloc(m->n ? m->n : 1, sizeof(*m->by_node));
	for (size_t i = 0; i < m->n; i++)
		m->by_node[i] = &m->e[i];
	if (m->n)
		qsort(m->by_node, m->n, sizeof(*m->by_node), cmp_node);
}

void yamldoc_marks_free(struct yamldoc_marks *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->e[i].key);
	free(m->e);
	free(m->by_node);
	free(m);
}

static const struct mark_entry *find_place(const struct yamldoc_marks *m,
					   const struct json_t *parent, const char *key,
					   size_t index)
{
	size_t lo = 0, hi = m ? m->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_place(&m->e[mid], parent, key, index);

		if (c == 0)
			return &m->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool yamldoc_mark_member(const struct yamldoc_marks *m, const struct json_t *obj, const char *key,
			 struct yamldoc_mark *key_mark, struct yamldoc_mark *value_mark)
{
	const struct mark_entry *e = key ? find_place(m, obj, key, 0) : NULL;
	struct yamldoc_mark none = { 0, 0 };

	if (key_mark)
		*key_mark = e ? e->key_mark : none;
	if (value_mark)
		*value_mark = e ? e->value_mark : none;
	return e != NULL;
}

bool yamldoc_mark_element(const struct yamldoc_marks *m, const struct json_t *arr, size_t i,
			  struct yamldoc_mark *mark)
{
	const struct mark_entry *e = find_place(m, arr, NULL, i);
	struct yamldoc_mark none = { 0, 0 };

	*mark = e ? e->value_mark : none;
	return e != NULL;
}

bool yamldoc_mark_node(const struct yamldoc_marks *m, const struct json_t *v,
		       struct yamldoc_mark *mark)
{
	size_t lo = 0, hi = m ? m->n : 0;

	mark->line = mark->col = 0;
	while (lo < hi) { /* the first entry of v */
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_ptr(m->by_node[mid]->node, v) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!m || lo >= m->n || m->by_node[lo]->node != v)
		return false;
	*mark = m->by_node[lo]->value_mark;
	return true;
}
