/* labels.c - a label set kept sorted by key (unique keys). */
#include "common/common.h"

#include <stdlib.h>
#include <string.h>

void labels_init(struct labels *l)
{
	l->n = 0;
	l->items = NULL;
}

size_t sorted_str_search(const void *base, size_t n, const char *(*key_of)(const void *, size_t),
			 const char *key, bool *found)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(key_of(base, mid), key);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static const char *label_key(const void *items, size_t i)
{
	return ((const struct label *)items)[i].key;
}

/* Index of key, or of the slot where it would go; *found says which. */
static size_t labels_find(const struct labels *l, const char *key, bool *found)
{
	return sorted_str_search(l->items, l->n, label_key, key, found);
}

void labels_set(struct labels *l, const char *key, const char *value)
{
	bool found;
	size_t i = labels_find(l, key, &found);

	if (found) {
		free(l->items[i].value);
		l->items[i].value = xstrdup(value);
		return;
	}
	l->items = xrealloc(l->items, (l->n + 1) * sizeof(*l->items));
	memmove(&l->items[i + 1], &l->items[i], (l->n - i) * sizeof(*l->items));
	l->items[i].key = xstrdup(key);
	l->items[i].value = xstrdup(value);
	l->n++;
}

const char *labels_get(const struct labels *l, const char *key)
{
	bool found;
	size_t i = labels_find(l, key, &found);

	return found ? l->items[i].value : NULL;
}

void labels_copy(struct labels *dst, const struct labels *src)
{
	size_t i;

	labels_init(dst);
	if (!src->n)
		return;
	dst->items = xcalloc(src->n, sizeof(*dst->items));
	for (i = 0; i < src->n; i++) {
		dst->items[i].key = xstrdup(src->items[i].key);
		dst->items[i].value = xstrdup(src->items[i].value);
	}
	dst->n = src->n;
}

void labels_clear(struct labels *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	labels_init(l);
}
