/*
 * controller_int.h - private to controller.c and lifecycle.c: the
 * Deployment controller's state and the pod lifecycle it drives.
 */
#ifndef KUBESIM_CONTROLLER_INT_H
#define KUBESIM_CONTROLLER_INT_H

#include <pthread.h>

#include "test/kubesim/apiserver.h"

struct sim_controller {
	struct sim_cluster *c;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	bool stop;
	bool deployments_dirty;  /* a deployment or an owned pod changed */
	bool gc_needed;          /* a deployment was deleted */
	json_t *pods_in_flight;  /* "ns/name" -> true: not yet Running+Ready */
	uint64_t rng;            /* names; deterministic with --seed */
};

/* Free room of every node, built on first use within one pass. */
struct sim_node_room;
struct sim_sched_cache {
	struct sim_node_room *rooms; /* sorted by node name */
	size_t n;
	bool built;
};
void sim_sched_cache_clear(struct sim_sched_cache *cache);

/* Advances one pod (schedule, start, become ready); returns true while
 * the pod still has a step to take.  Never called with ctl->mu held. */
bool sim_lifecycle_step(struct sim_controller *ctl, struct sim_sched_cache *cache,
			const char *ns, const char *name, int64_t now_ns);
/* True when a pod still has a lifecycle step to take. */
bool sim_lifecycle_pending(const json_t *pod);
/* "True"/"False"/NULL status of condition `type` in obj.status.conditions. */
const char *sim_condition_status(const json_t *obj, const char *type);

#endif
