/*
 * kubelet_heap.c - a binary min-heap of deadlines for the kubelet loop
 * (idle, request and write timeouts, `slow` delays).  Each item records
 * its own position so updates and removals are O(log n).
 */
#include "test/kubesim/kubelet_heap.h"

#include <stdlib.h>

#include "common/common.h"

static void swap(struct sim_kl_heap *h, size_t i, size_t j)
{
	struct sim_kl_timer *t = h->items[i];

	h->items[i] = h->items[j];
	h->items[j] = t;
	h->items[i]->idx = i;
	h->items[j]->idx = j;
}

static void up(struct sim_kl_heap *h, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (h->items[parent]->deadline <= h->items[i]->deadline)
			return;
		swap(h, i, parent);
		i = parent;
	}
}

static void down(struct sim_kl_heap *h, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->n && h->items[l]->deadline < h->items[m]->deadline)
			m = l;
		if (r < h->n && h->items[r]->deadline < h->items[m]->deadline)
			m = r;
		if (m == i)
			return;
		swap(h, i, m);
		i = m;
	}
}

void sim_kl_heap_set(struct sim_kl_heap *h, struct sim_kl_timer *t, int64_t deadline)
{
	if (t->idx == SIM_KL_NO_TIMER) {
		if (h->n == h->cap) {
			h->cap = h->cap ? h->cap * 2 : 256;
			h->items = xrealloc(h->items, h->cap * sizeof(*h->items));
		}
		t->idx = h->n;
		h->items[h->n++] = t;
	}
	t->deadline = deadline;
	up(h, t->idx);
	down(h, t->idx);
}

void sim_kl_heap_remove(struct sim_kl_heap *h, struct sim_kl_timer *t)
{
	size_t i = t->idx;

	if (i == SIM_KL_NO_TIMER)
		return;
	t->idx = SIM_KL_NO_TIMER;
	if (i == --h->n)
		return;
	h->items[i] = h->items[h->n];
	h->items[i]->idx = i;
	up(h, i);
	down(h, i);
}

struct sim_kl_timer *sim_kl_heap_top(const struct sim_kl_heap *h)
{
	return h->n ? h->items[0] : NULL;
}

void sim_kl_heap_clear(struct sim_kl_heap *h)
{
	free(h->items);
	h->items = NULL;
	h->n = h->cap = 0;
}
