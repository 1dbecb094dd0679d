/*
 * hpaloop_int.h - shared between the files of hpaloop/ only (the unit
 * suites check_hpaloop_* include it too): the per-HPA state the
 * controller keeps in memory, the reads from kube-apiserver, and the pure
 * builders the suites test on their own (PodMetrics from a store
 * snapshot, Events, the other HPAs of a namespace, metric requests and
 * their answers).  live.c (`hpa explain --live`) reads a pass's inputs
 * with the same functions.  Names are hpaloop__*.
 */
#ifndef HPALOOP_INT_H
#define HPALOOP_INT_H

#include "common/common.h"
#include "hpa/hpa.h"
#include "hpaloop/hpaloop.h"
#include "store/store.h"

#define HPALOOP_MAX_HPAS 10000   /* HPAs acted on in one pass; the rest wait */
#define HPALOOP_MAX_PODS 100000  /* pods of one scale selector */
#define HPALOOP_EVENT_CACHE 16   /* Events remembered per HPA, to count repeats */
#define HPALOOP_WRITE_TRIES 5    /* tries of a write that meets 409 Conflict */
#define HPALOOP_EVENT_COMPONENT "horizontal-pod-autoscaler"

/* An Event written for an HPA, kept so a repeat bumps its count (as
 * client-go's EventCorrelator does) instead of creating a new object. */
struct hpaloop__event_record {
	char *type, *reason, *message;
	json_t *obj;      /* the Event as the apiserver returned it */
	uint64_t used;    /* pass of the last use, for eviction */
};

/* What the controller remembers about one HPA between passes. */
struct hpaloop__state {
	char *key;                  /* "namespace/name" */
	char *uid;                  /* metadata.uid; a new uid is a new HPA */
	struct hpa_history history; /* recommendations and scale events */
	char *selector;             /* scale.status.selector last seen, or NULL */
	uint64_t seen;              /* pass that last saw the HPA */
	size_t n_events;
	struct hpaloop__event_record events[HPALOOP_EVENT_CACHE];
};

/* Every HPA state, sorted by key. */
struct hpaloop__states {
	size_t n, cap;
	struct hpaloop__state **v;
	uint64_t pass;
};

/* Starts a pass: states not got before the next prune are dropped then. */
void hpaloop__states_begin(struct hpaloop__states *s);
/*
 * The state of ns/name, marked seen in this pass: found, or new with an
 * empty history (never seen), also when uid differs (deleted and created
 * again).  Borrowed from s until the prune that drops it.
 */
struct hpaloop__state *hpaloop__states_get(struct hpaloop__states *s, const char *ns, const char *name,
				 const char *uid);
/* Finds ns/name without marking it; NULL if unknown. */
struct hpaloop__state *hpaloop__states_find(const struct hpaloop__states *s, const char *ns, const char *name);
/* Drops the states this pass did not get (deleted or deselected HPAs); count. */
size_t hpaloop__states_prune(struct hpaloop__states *s);
void hpaloop__states_clear(struct hpaloop__states *s);
/* Replaces st's history by h's content (h is emptied). */
void hpaloop__state_take_history(struct hpaloop__state *st, struct hpa_history *h);

/*
 * The metrics.k8s.io/v1beta1 PodMetrics the API would serve for the listed
 * pods (a v1 Pod array, borrowed), read from snap: pods without servable
 * usage are left out, as metrics-server leaves them out.  New reference
 * (an array, possibly empty).
 */
json_t *hpaloop__pod_metrics(const struct store_snapshot *snap, const json_t *pods);

/* The core/v1 Event for ev about hpa, as client-go's recorder makes it (new reference). */
json_t *hpaloop__event_new(const json_t *hpa, const struct hpa_event *ev, int64_t now);
/* A copy of a written Event seen again: count + 1, lastTimestamp now (new reference). */
json_t *hpaloop__event_repeat(const json_t *written, int64_t now);
/* The remembered Event with ev's type, reason and message, or NULL. */
struct hpaloop__event_record *hpaloop__state_event_find(struct hpaloop__state *st, const struct hpa_event *ev);
/* Remembers obj (a reference is taken) for ev, evicting the least recently used. */
void hpaloop__state_event_put(struct hpaloop__state *st, const struct hpa_event *ev, json_t *obj,
			 uint64_t pass);

/* ---- reading from the apiserver (fetch.c) -------------------------- */

struct kube_client;

#define HPALOOP_ERRLEN 512

/*
 * One request: 0 with *out (new reference) on a 2xx with an object, else
 * the HTTP status (-1: no response) with client-go's error text in err
 * (the Status message, or its generic text).
 */
int hpaloop__api_call(struct kube_client *c, const char *method, const char *path, json_t *body,
		 json_t **out, char *err, size_t errlen);
/* A GET answered by local (when it serves path) or by kube-apiserver;
 * the same results and texts as hpaloop__api_call.  local may be NULL. */
int hpaloop__api_get(const struct hpaloop_local_api *local, struct kube_client *c,
		     const char *path, json_t **out, char *err, size_t errlen);

/* ---- missing RBAC permissions, logged once (denied.c) ---------------- */

/* On while the loop runs: hpaloop__api_call reports its 403s. */
void hpaloop__denied_track(bool on);
/* A 403 of method path with kube-apiserver's message msg: one warning the
 * first time its permission is refused, -v=2 after. */
void hpaloop__denied(const char *method, const char *path, const char *msg);
/* err is a 403 message whose permission was reported already. */
bool hpaloop__denied_reported(const char *err);
/* log_warn, or log_v(2) when err is a missing permission reported already. */
#define hpaloop__warn(err, ...)                          \
	do {                                             \
		if (hpaloop__denied_reported(err))       \
			log_v(2, __VA_ARGS__);           \
		else                                     \
			log_warn(__VA_ARGS__);           \
	} while (0)

/* /apis/<group>/<version>/namespaces/<ns>/<resource>/<name>/scale, or NULL. */
char *hpaloop__scale_path(const json_t *hpa, const char *ns);

/* What a pass reads about an HPA's target (owned). */
struct hpaloop__target {
	char *scale_path;           /* NULL: the scaleTargetRef is not usable */
	json_t *scale;              /* autoscaling/v1 Scale, NULL when the GET failed */
	json_t *pods;               /* pods of scale.status.selector (an array) */
	char get_error[HPALOOP_ERRLEN]; /* why scale is NULL, "" when it was got */
};

/*
 * GETs hpa's Scale (a failure is kept in t->get_error: hpa_decide reports
 * it), then lists the pods of its selector.  0, or ERR_IO / ERR_TOOBIG
 * when the pods cannot be listed (message in err; nothing can be decided).
 * Clear t with hpaloop__target_clear in both cases.
 */
int hpaloop__target_fetch(struct kube_client *c, const json_t *hpa, const char *ns,
		     struct hpaloop__target *t, char *err, size_t errlen);
void hpaloop__target_clear(struct hpaloop__target *t);
/* scale.status.selector of hpa's target (GET only); caller frees, NULL with err set if none. */
char *hpaloop__scale_selector(struct kube_client *c, const json_t *hpa, char *err, size_t errlen);
/* An hpa_input.others entry: {horizontalPodAutoscaler: {metadata: {name,
 * namespace}}, scale: {status: {selector}}} (new reference). */
json_t *hpaloop__other_entry(const char *ns, const char *name, const char *selector);

/* ---- Pods, Object and External metrics (metrics.c) ------------------ */

#define HPALOOP_MAX_METRIC_GETS 32 /* distinct metric requests of one HPA in a pass */

/*
 * The request kube-controller-manager's REST metrics client makes for one
 * entry of spec.metrics of an HPA in ns whose Scale selects pods by
 * scale_selector (NULL: none):
 *   Pods      /apis/custom.metrics.k8s.io/v1beta2/namespaces/NS/pods/%2A/M
 *             ?labelSelector=SCALE[&metricLabelSelector=SEL]
 *   Object    /apis/custom.metrics.k8s.io/v1beta2/namespaces/NS/RESOURCE/NAME/M
 *             [?metricLabelSelector=SEL]  (kind Namespace: .../namespaces/NS/metrics/M)
 *   External  /apis/external.metrics.k8s.io/v1beta1/namespaces/NS/M[?labelSelector=SEL]
 * Selectors are printed canonically (labels.Selector.String()), empty ones
 * left out; RESOURCE is hpa_group_resource's lowercase plural (no
 * discovery).  0 with *path (caller frees) and its API bit in *api;
 * ERR_NOTFOUND when the metric is not read this way (Resource,
 * ContainerResource) or not now (Pods without a scale selector);
 * ERR_INVAL when it cannot be asked for (err says why: hpa_decide then
 * reports the spec's own error).
 */
int hpaloop__metric_path(const json_t *spec, const char *ns, const char *scale_selector, char **path,
		    unsigned *api, char *err, size_t errlen);

/* The values one pass read for an HPA (owned): hpa_input.custom_metrics,
 * external_metrics (NULL while nothing was read) and failing_apis bits. */
struct hpaloop__metric_values {
	json_t *custom;
	json_t *external;
	unsigned failing;
	json_t *seen_ext; /* private: external values already collected */
};

/*
 * Adds the items of body, the answer to spec's request, to v in the form
 * hpa_decide filters them.  Upstream takes whatever the request returned
 * (it checks neither names nor labels), hpa_decide picks values out of a
 * pool by name and selector: so each item gets the request's identity -
 * describedObject kind/name/namespace and metric {name, selector} (an
 * empty selector as {}), metricName - and an external value whose
 * metricLabels do not satisfy the selector (KEDA returns null) gets the
 * labels the selector requires.  An external value equal to one another
 * request returned is kept once.  0, or ERR_PARSE (not the list kind of
 * the API) / ERR_TOOBIG (more than HPALOOP_MAX_PODS items) with err set.
 */
int hpaloop__metric_collect(const json_t *spec, const char *ns, const json_t *body,
		       struct hpaloop__metric_values *v, char *err, size_t errlen);

/* Told of each failed metric request (path, client-go's error text). */
typedef void (*hpaloop__metric_fail_fn)(void *ud, const char *path, const char *err);

/*
 * Reads the Pods, Object and External metrics of hpa (nothing for an HPA
 * without any, or when scale is NULL: upstream stops at a failed Scale
 * GET): one GET per distinct request.  A request that fails (no answer,
 * an error status, not the API's list) marks its API failing in
 * v->failing, as a failing metrics.k8s.io is marked, so hpa_decide
 * reports upstream's "unable to fetch metrics from ... API" texts; `fail`
 * (may be NULL) hears the real error.  Requests local serves (may be
 * NULL) are answered in process.  Release v in every case.
 */
void hpaloop__metric_values_fetch(const struct hpaloop_local_api *local, struct kube_client *c,
				  const json_t *hpa, const char *ns, const json_t *scale,
				  struct hpaloop__metric_values *v, hpaloop__metric_fail_fn fail,
				  void *ud);
void hpaloop__metric_values_clear(struct hpaloop__metric_values *v);

/* ---- the other HPAs of a namespace (peers.c) ------------------------ */

/* One HPA of the pass's list. */
struct hpaloop__peer {
	const char *ns, *name; /* borrowed from hpa */
	const json_t *hpa;
	bool acted;            /* selected by --hpa: its selector is in its state */
	bool fetched;          /* not acted on: its Scale was read in this pass */
	char *selector;        /* what that read found, NULL if nothing */
};

/* Every HPA of a pass, sorted by namespace then name. */
struct hpaloop__peers {
	size_t n;
	struct hpaloop__peer *v;
};

/* Reads the scale selector of hpa (caller frees; NULL: none or failed). */
typedef char *(*hpaloop__selector_fn)(void *ud, const json_t *hpa);

/* The HPAs of items (borrowed, must outlive p); mode tells which are acted on. */
void hpaloop__peers_init(struct hpaloop__peers *p, const json_t *items, enum hpaloop_mode mode);
/*
 * hpa_input.others for the HPA ns/self: an entry for every other HPA of ns
 * with a known selector.  Acted-on HPAs take the selector in their state
 * of s (s may be NULL); the others are read with `read` on their first
 * need in the life of p, then cached.  New reference (an array).
 */
json_t *hpaloop__peers_others(struct hpaloop__peers *p, const struct hpaloop__states *s, const char *ns,
			 const char *self, hpaloop__selector_fn read, void *ud);
void hpaloop__peers_clear(struct hpaloop__peers *p);

/* ---- talking to the apiserver (sync.c) ---------------------------- */

/* What one reconcile needs besides the HPA. */
struct hpaloop__sync_ctx {
	struct kube_client *client;
	const struct hpaloop_local_api *local; /* the metrics served in process */
	const struct hpa_options *algo;
	const struct store_snapshot *snap;
	struct hpaloop__states *states;
	struct hpaloop__peers *peers; /* every HPA of the pass */
	int64_t now;
	/* Whether this replica may still write (leader election); NULL: always. */
	bool (*may_write)(void *ud);
	void *may_write_ud;
};

/* One reconcile of hpa (an item of the HPA list, borrowed) with its state. */
void hpaloop__sync_one(const struct hpaloop__sync_ctx *x, const json_t *hpa, struct hpaloop__state *st);

#endif
