/*
 * loop_int.h - shared between the files of the embedded HPA loop only
 * (loop.c, loop_sync.c, loop_state.c, loop_objects.c): the per-HPA state
 * the controller keeps in memory, and the pure builders the unit suite
 * tests on their own (PodMetrics from a store snapshot, Events).
 */
#ifndef HPA_LOOP_INT_H
#define HPA_LOOP_INT_H

#include "hpa/hpa_int.h"
#include "store/store.h"

#define HPA_LOOP_MAX_HPAS 10000   /* HPAs acted on in one pass; the rest wait */
#define HPA_LOOP_MAX_PODS 100000  /* pods of one scale selector */
#define HPA_LOOP_EVENT_CACHE 16   /* Events remembered per HPA, to count repeats */
#define HPA_LOOP_WRITE_TRIES 5    /* tries of a write that meets 409 Conflict */
#define HPA_EVENT_COMPONENT "horizontal-pod-autoscaler"

/* An Event written for an HPA, kept so a repeat bumps its count (as
 * client-go's EventCorrelator does) instead of creating a new object. */
struct hpa_event_record {
	char *type, *reason, *message;
	json_t *obj;      /* the Event as the apiserver returned it */
	uint64_t used;    /* pass of the last use, for eviction */
};

/* What the controller remembers about one HPA between passes. */
struct hpa_state {
	char *key;                  /* "namespace/name" */
	char *uid;                  /* metadata.uid; a new uid is a new HPA */
	struct hpa_history history; /* recommendations and scale events */
	char *selector;             /* scale.status.selector last seen, or NULL */
	uint64_t seen;              /* pass that last saw the HPA */
	size_t n_events;
	struct hpa_event_record events[HPA_LOOP_EVENT_CACHE];
};

/* Every HPA state, sorted by key. */
struct hpa_states {
	size_t n, cap;
	struct hpa_state **v;
	uint64_t pass;
};

/* Starts a pass: states not got before the next prune are dropped then. */
void hpa_states_begin(struct hpa_states *s);
/*
 * The state of ns/name, marked seen in this pass: found, or new with an
 * empty history (never seen), also when uid differs (deleted and created
 * again).  Borrowed from s until the prune that drops it.
 */
struct hpa_state *hpa_states_get(struct hpa_states *s, const char *ns, const char *name,
				 const char *uid);
/* Finds ns/name without marking it; NULL if unknown. */
struct hpa_state *hpa_states_find(const struct hpa_states *s, const char *ns, const char *name);
/* Drops the states this pass did not get (deleted or deselected HPAs); count. */
size_t hpa_states_prune(struct hpa_states *s);
void hpa_states_release(struct hpa_states *s);
/* Replaces st's history by h's content (h is emptied). */
void hpa_state_take_history(struct hpa_state *st, struct hpa_history *h);

/*
 * hpa_input.others for the HPA ns/self: {horizontalPodAutoscaler: {metadata},
 * scale: {status: {selector}}} for every other known HPA of ns whose scale
 * selector was seen (new reference, an array).
 */
json_t *hpa_states_others(const struct hpa_states *s, const char *ns, const char *self);

/*
 * The metrics.k8s.io/v1beta1 PodMetrics the API would serve for the listed
 * pods (a v1 Pod array, borrowed), read from snap: pods without servable
 * usage are left out, as metrics-server leaves them out.  New reference
 * (an array, possibly empty).
 */
json_t *hpa_loop_pod_metrics(const struct store_snapshot *snap, const json_t *pods);

/* The core/v1 Event for ev about hpa, as client-go's recorder makes it (new reference). */
json_t *hpa_loop_event_new(const json_t *hpa, const struct hpa_event *ev, int64_t now);
/* A copy of a written Event seen again: count + 1, lastTimestamp now (new reference). */
json_t *hpa_loop_event_repeat(const json_t *written, int64_t now);
/* The remembered Event with ev's type, reason and message, or NULL. */
struct hpa_event_record *hpa_state_event_find(struct hpa_state *st, const struct hpa_event *ev);
/* Remembers obj (a reference is taken) for ev, evicting the least recently used. */
void hpa_state_event_put(struct hpa_state *st, const struct hpa_event *ev, json_t *obj,
			 uint64_t pass);

/* ---- talking to the apiserver (loop_sync.c) ---------------------------- */

struct kube_client;

/* What one reconcile needs besides the HPA. */
struct hpa_sync_ctx {
	struct kube_client *client;
	const struct hpa_options *algo;
	const struct store_snapshot *snap;
	struct hpa_states *states;
	int64_t now;
};

/* One reconcile of hpa (an item of the HPA list, borrowed) with its state. */
void hpa_sync_one(const struct hpa_sync_ctx *x, const json_t *hpa, struct hpa_state *st);

#endif
