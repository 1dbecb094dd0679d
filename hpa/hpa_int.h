/*
 * hpa_int.h - shared between the files of hpa/ only (other folders include
 * hpa.h; the hpa unit suites include it too).  Names are hpa__*.  The replica calculator, behavior maths, condition list and small
 * JSON helpers, each usable on its own so the unit suites can test them.
 */
#ifndef HPA_INT_H
#define HPA_INT_H

#include "common/common.h"
#include "hpa/hpa.h"

/* Go's zero time.Time (an unset metav1.Time): earlier than any real instant,
 * yet far enough from INT64_MIN that windows can still be added to it. */
#define HPA_TIME_ZERO (INT64_MIN / 2)

/* t + d, saturating at the int64 range. */
int64_t hpa__time_add(int64_t t, int64_t d);

/* ---- small helpers (util.c) ------------------------------------------- */

void hpa__trace_add(struct hpa_trace *t, const char *fmt, ...) COMMON_PRINTF(2, 3);
void hpa__trace_clear(struct hpa_trace *t);
void hpa__names_add(struct hpa_names *n, const char *name);
void hpa__names_sort(struct hpa_names *n);
void hpa__names_clear(struct hpa_names *n);

/* Quantity.MilliValue() of a JSON Quantity; 0 / ERR_PARSE. */
int hpa__jmilli(const json_t *v, int64_t *milli);
/* Quantity.AsApproximateFloat64() of a JSON Quantity; 0 / ERR_PARSE. */
int hpa__jfloat(const json_t *v, double *out);
/* A metav1.Time string; absent -> HPA_TIME_ZERO.  0 / ERR_PARSE. */
int hpa__jtime(const json_t *o, const char *path, int64_t *ns);
/* resource.NewMilliQuantity(milli, DecimalSI).String() into buf (>= 48). */
void hpa__fmt_milli(int64_t milli, char *buf, size_t len);
/* math.Ceil then int32 conversion, clamped to the int32 range (NaN -> 0). */
int32_t hpa__ceil_i32(double x);
/* int32(x) (truncation), clamped. */
int32_t hpa__trunc_i32(double x);
/*
 * The controller history as JSON, times written by time_json:
 * {"recommendations": [{"replicas", "timestamp"}] (when seen),
 *  "scaleUpEvents" / "scaleDownEvents": [{"replicaChange", "timestamp",
 *  "outdated"}]}; omit_empty leaves out empty event lists.
 */
json_t *hpa__history_json(const struct hpa_history *h, json_t *(*time_json)(int64_t ns),
			 bool omit_empty);

/* ---- label selectors (labelsel.c) ------------------------------------- */

/* Go's %+v of a *metav1.LabelSelector ("nil", "&LabelSelector{...}"); caller frees. */
char *hpa__label_selector_gostr(const json_t *ls);

/* ---- pods and the replica calculator (pods.c, replicas.c) ------------- */

enum hpa__phase { HPA_PHASE_OTHER, HPA_PHASE_PENDING, HPA_PHASE_RUNNING, HPA_PHASE_SUCCEEDED,
		 HPA_PHASE_FAILED };
enum hpa__cond { HPA_COND_NONE, HPA_COND_TRUE, HPA_COND_FALSE, HPA_COND_UNKNOWN };

struct hpa__pod {
	const char *name;
	const json_t *obj;
	bool deleted;
	enum hpa__phase phase;
	bool has_start;
	int64_t start;
	enum hpa__cond ready;
	int64_t ready_ltt;
	int64_t request; /* set by the caller for utilization targets */
};

struct hpa__pods {
	size_t n;
	struct hpa__pod *v;
};

/*
 * The pods of `ns` matched by sel, in input order (sel NULL = none match).
 * Pods that cannot be parsed are skipped.  Clear with hpa__pods_clear.
 */
void hpa__pods_select(const json_t *pods, const char *ns, const struct selector *sel,
		     struct hpa__pods *out);
void hpa__pods_clear(struct hpa__pods *p);
/* Parses one Pod's fields used by the calculator; 0 or ERR_PARSE. */
int hpa__pod_parse(const json_t *obj, struct hpa__pod *p);
/*
 * The pod's request for `resource` (milli) as calculateRequests: pod-level
 * requests (gate on, container == "") else the sum over containers and
 * restartable init containers, or only `container`.  0, or ERR_NOTFOUND
 * with upstream's message in *err (caller frees).
 */
int hpa__pod_request(const struct hpa__pod *p, const char *resource, const char *container,
		    bool pod_level_gate, int64_t *milli, char **err);

struct hpa__tol {
	double down, up;
};
/* Tolerances.isWithin: (1-down) <= r <= (1+up). */
bool hpa__tol_within(const struct hpa__tol *t, double ratio);

struct hpa__pod_metric {
	const char *pod;
	int64_t value; /* milli */
	int64_t ts, window;
};

/* One calculation over pods and per-pod metrics (GetResourceReplicas & co). */
struct hpa__calc {
	/* in */
	const struct hpa__pods *pods;
	const struct hpa__pod_metric *metrics; /* later entries win on equal names */
	size_t n_metrics;
	const char *request_error; /* first calculateRequests error, or NULL */
	bool cpu;                  /* readiness rules apply */
	int64_t now, cpu_init_ns, readiness_delay_ns;
	struct hpa__tol tol;
	int32_t current;
	struct hpa_trace *trace; /* optional */
	/* out */
	int32_t replicas;
	int32_t utilization;
	int64_t raw_average;
	int64_t usage;
	struct hpa_names ready, unready, missing, ignored;
	char *error;
};

/* GetResourceReplicas after the fetch; 0 or ERR_INVAL (c->error set). */
int hpa__calc_utilization(struct hpa__calc *c, int32_t target_utilization);
/* calcPlainMetricReplicas (Resource AverageValue, Pods); 0 or ERR_INVAL. */
int hpa__calc_plain(struct hpa__calc *c, int64_t target_milli);
/* getUsageRatioReplicaCount (Object/External Value); 0 or ERR_INVAL. */
int hpa__calc_usage_ratio(struct hpa__calc *c, double usage_ratio);
void hpa__calc_clear(struct hpa__calc *c);

/* GetObjectPerPodMetricReplicas / GetExternalPerPodMetricReplicas maths. */
void hpa__calc_per_pod(int64_t usage, int64_t target_per_pod, int32_t status_replicas,
		      const struct hpa__tol *tol, int32_t *replicas, int64_t *per_pod,
		      struct hpa_trace *trace);

/* ---- behavior (behavior.c) -------------------------------------------- */

enum hpa__select { HPA_SELECT_MAX, HPA_SELECT_MIN, HPA_SELECT_DISABLED };
enum hpa__policy_type { HPA_POLICY_PODS, HPA_POLICY_PERCENT };

struct hpa__policy {
	enum hpa__policy_type type;
	int32_t value;
	int32_t period;
};

#define HPA_MAX_POLICIES 32

/* HPAScalingRules after API defaulting. */
struct hpa__rules {
	int32_t window; /* stabilizationWindowSeconds */
	enum hpa__select select;
	size_t n_policies;
	struct hpa__policy policies[HPA_MAX_POLICIES];
	bool has_tolerance;
	double tolerance;
};

struct hpa__behavior {
	bool present; /* spec.behavior != nil */
	struct hpa__rules up, down;
};

/* Reads spec.behavior with API defaults; 0 or ERR_INVAL (message in err). */
int hpa__behavior_load(const json_t *hpa, const struct hpa_options *o, struct hpa__behavior *b,
		      char *err, size_t errlen);
/* tolerancesForHpa. */
struct hpa__tol hpa__tolerances(const struct hpa__behavior *b, const struct hpa_options *o);

/* A limit decision: the value, and the ScalingLimited reason/message. */
struct hpa__limit {
	int32_t replicas;
	const char *reason;
	const char *message;
};

/* stabilizeRecommendation (legacy): updates h->recs, returns the stabilized value. */
int32_t hpa__stabilize_legacy(struct hpa_history *h, int64_t now, int64_t window_ns,
			     int32_t desired, struct hpa_trace *trace);
/* convertDesiredReplicasWithRules (legacy limits). */
struct hpa__limit hpa__limit_legacy(const struct hpa_options *o, int32_t current, int32_t desired,
				  int32_t min, int32_t max);
/*
 * stabilizeRecommendationWithBehaviors: updates h->recs and returns the
 * stabilized value; reason and message name the AbleToScale reason used when
 * it differs from desired.
 */
int32_t hpa__stabilize_behavior(struct hpa_history *h, int64_t now, const struct hpa__behavior *b,
			       int32_t current, int32_t desired, const char **reason,
			       const char **message, struct hpa_trace *trace);
/* calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors. */
int32_t hpa__scale_up_limit(const struct hpa_history *h, int64_t now, const struct hpa__rules *r,
			   int32_t current, struct hpa_trace *trace);
int32_t hpa__scale_down_limit(const struct hpa_history *h, int64_t now, const struct hpa__rules *r,
			     int32_t current, struct hpa_trace *trace);
/* convertDesiredReplicasWithBehaviorRate. */
struct hpa__limit hpa__limit_behavior(const struct hpa_history *h, int64_t now,
				    const struct hpa__behavior *b, int32_t current, int32_t desired,
				    int32_t min, int32_t max, struct hpa_trace *trace);
/* storeScaleEvent (no-op without behavior). */
void hpa__store_scale_event(struct hpa_history *h, int64_t now, const struct hpa__behavior *b,
			   int32_t prev, int32_t next);

/* ---- conditions and status (status.c) --------------------------------- */

struct hpa__condition {
	char *type, *status, *ltt, *reason, *message;
};

struct hpa__conditions {
	size_t n;
	struct hpa__condition *v;
};

/* Loads status.conditions (malformed entries skipped). */
void hpa__conditions_load(const json_t *hpa, struct hpa__conditions *c);
/* setCondition: message is a printf format; ltt moves only on a status flip. */
void hpa__condition_set(struct hpa__conditions *c, int64_t now, const char *type,
		       const char *status, const char *reason, const char *fmt, ...)
	COMMON_PRINTF(6, 7);
/* Removes a condition type if present. */
void hpa__condition_remove(struct hpa__conditions *c, const char *type);
/* Status of a condition type, or NULL. */
const char *hpa__condition_status(const struct hpa__conditions *c, const char *type);
void hpa__conditions_clear(struct hpa__conditions *c);
/* The conditions as a JSON array (new reference). */
json_t *hpa__conditions_json(const struct hpa__conditions *c);

/* ---- per-metric evaluation (metrics.c) -------------------------------- */

/* Context shared by every metric of one pass. */
struct hpa__pass {
	const struct hpa_input *in;
	const char *ns;
	const struct selector *selector; /* parsed scale.status.selector */
	struct hpa__pods *pods;           /* pods it selects (requests set per metric) */
	int32_t spec_replicas, status_replicas;
	struct hpa__tol tol;
	struct hpa_result *out; /* events are appended here */
};

/* computeReplicasForMetric's outcome for one spec metric. */
struct hpa__metric_eval {
	bool ok;
	int32_t replicas;
	char *name;      /* e.g. "cpu resource utilization (percentage of request)" */
	json_t *status;  /* MetricStatus (new reference) or NULL */
	char *error;     /* wrapped error for FailedComputeMetricsReplicas */
	char *cond_reason;
	char *cond_message;
};

/* Evaluates spec metric i into ev and out->metrics[i]; events go to out. */
void hpa__metric_eval(struct hpa__pass *p, const json_t *spec, size_t i, struct hpa__metric_eval *ev);
void hpa__metric_eval_clear(struct hpa__metric_eval *ev);

/* ---- metric values as the APIs would return them (fetch.c) ----------- */

struct hpa__fetched {
	size_t n;
	struct hpa__pod_metric *v; /* names borrowed from the input */
};

/*
 * Each returns 0, or an error (ERR_IO: the API is failing, ERR_NOTFOUND:
 * nothing returned, ERR_INVAL: bad selector) with upstream's error text in
 * *err (caller frees), already wrapped as the metrics client wraps it.
 */
int hpa__fetch_resource(const struct hpa__pass *p, const char *res, const char *container,
		       struct hpa__fetched *f, char **err);
int hpa__fetch_pods(const struct hpa__pass *p, const char *metric, const json_t *msel,
		   struct hpa__fetched *f, char **err);
int hpa__fetch_object(const struct hpa__pass *p, const json_t *obj, const char *metric,
		     const json_t *msel, int64_t *value, char **err);
/* Sum of the matching external values (saturating as upstream does per target type). */
int hpa__fetch_external(const struct hpa__pass *p, const char *metric, const json_t *msel,
		       bool per_pod, int64_t *usage, char **err);
void hpa__fetched_clear(struct hpa__fetched *f);

/* ---- computeReplicasForMetrics (compute.c) --------------------------- */

struct hpa__compute {
	/* in */
	const struct hpa_input *in;
	const char *ns, *name;
	const json_t *metrics; /* spec.metrics after defaulting */
	int32_t spec_replicas, status_replicas;
	struct hpa__tol tol;
	struct hpa__conditions *conds;
	struct hpa_result *out;
	/* out (caller frees) */
	int32_t replicas;
	char *metric_name;
	json_t *statuses; /* MetricStatus per spec metric; NULL when the selector failed */
	char *error;      /* set on failure, and for a partial failure that still scales */
};

/*
 * Returns 0 with x->replicas (x->error may still name broken metrics), or
 * ERR_INVAL when no scaling may happen this pass (conditions and events set).
 */
int hpa__compute_metrics(struct hpa__compute *x);


/* Appends an event to out. */
void hpa__event_add(struct hpa_result *out, const char *type, const char *reason,
		   const char *fmt, ...) COMMON_PRINTF(4, 5);

#endif
