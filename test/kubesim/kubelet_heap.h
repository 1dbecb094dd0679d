/*
 * kubelet_heap.h - deadlines of the kubelet loop (internal to kubesim).
 * Embed a struct sim_kl_timer (idx = SIM_KL_NO_TIMER when idle) in the
 * object that owns the deadline.
 */
#ifndef KUBESIM_KUBELET_HEAP_H
#define KUBESIM_KUBELET_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define SIM_KL_NO_TIMER ((size_t)-1)

struct sim_kl_timer {
	int64_t deadline; /* monotonic ns */
	size_t idx;       /* position in the heap or SIM_KL_NO_TIMER */
};

struct sim_kl_heap {
	struct sim_kl_timer **items;
	size_t n, cap;
};

/* Inserts t or moves it to a new deadline. */
void sim_kl_heap_set(struct sim_kl_heap *h, struct sim_kl_timer *t, int64_t deadline);
/* Removes t when present. */
void sim_kl_heap_remove(struct sim_kl_heap *h, struct sim_kl_timer *t);
/* The earliest timer or NULL (borrowed). */
struct sim_kl_timer *sim_kl_heap_top(const struct sim_kl_heap *h);
void sim_kl_heap_clear(struct sim_kl_heap *h);

#endif
