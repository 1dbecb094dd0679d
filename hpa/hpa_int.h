/*
 * hpa_int.h - shared between the files of hpa/ only (other folders include
 * hpa.h).  The replica calculator, behavior maths, condition list and small
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
int64_t hpa_time_add(int64_t t, int64_t d);

/* ---- small helpers (util.c) ------------------------------------------- */

void hpa_trace_add(struct hpa_trace *t, const char *fmt, ...) COMMON_PRINTF(2, 3);
void hpa_trace_release(struct hpa_trace *t);
void hpa_names_add(struct hpa_names *n, const char *name);
void hpa_names_sort(struct hpa_names *n);
void hpa_names_release(struct hpa_names *n);

/* Quantity.MilliValue() of a JSON Quantity; 0 / ERR_PARSE. */
int hpa_jmilli(const json_t *v, int64_t *milli);
/* Quantity.AsApproximateFloat64() of a JSON Quantity; 0 / ERR_PARSE. */
int hpa_jfloat(const json_t *v, double *out);
/* A metav1.Time string; absent -> HPA_TIME_ZERO.  0 / ERR_PARSE. */
int hpa_jtime(const json_t *o, const char *path, int64_t *ns);
/* resource.NewMilliQuantity(milli, DecimalSI).String() into buf (>= 48). */
void hpa_fmt_milli(int64_t milli, char *buf, size_t len);
/* math.Ceil then int32 conversion, clamped to the int32 range (NaN -> 0). */
int32_t hpa_ceil_i32(double x);
/* int32(x) (truncation), clamped. */
int32_t hpa_trunc_i32(double x);
/* Saturating int64 -> int32. */
int32_t hpa_sat_i32(int64_t v);
/*
 * The controller history as JSON, times written by time_json:
 * {"recommendations": [{"replicas", "timestamp"}] (when seen),
 *  "scaleUpEvents" / "scaleDownEvents": [{"replicaChange", "timestamp",
 *  "outdated"}]}; omit_empty leaves out empty event lists.
 */
json_t *hpa_history_json(const struct hpa_history *h, json_t *(*time_json)(int64_t ns),
			 bool omit_empty);

/* ---- label selectors (labelsel.c) ------------------------------------- */

/* metav1.LabelSelectorAsSelector: NULL/{} selects everything.  NULL + err on failure. */
struct selector *hpa_label_selector(const json_t *ls, char *err, size_t errlen);
/* Go's %+v of a *metav1.LabelSelector ("nil", "&LabelSelector{...}"); caller frees. */
char *hpa_label_selector_gostr(const json_t *ls);
/* Labels of an object's metadata.labels (or of `labels_obj` itself when flat). */
void hpa_labels_from_json(const json_t *map, struct labels *out);

/* ---- pods and the replica calculator (pods.c, replicas.c) ------------- */

enum hpa_phase { HPA_PHASE_OTHER, HPA_PHASE_PENDING, HPA_PHASE_RUNNING, HPA_PHASE_SUCCEEDED,
		 HPA_PHASE_FAILED };
enum hpa_cond { HPA_COND_NONE, HPA_COND_TRUE, HPA_COND_FALSE, HPA_COND_UNKNOWN };

struct hpa_pod {
	const char *name;
	const json_t *obj;
	bool deleted;
	enum hpa_phase phase;
	bool has_start;
	int64_t start;
	enum hpa_cond ready;
	int64_t ready_ltt;
	int64_t request; /* set by the caller for utilization targets */
};

struct hpa_pods {
	size_t n;
	struct hpa_pod *v;
};

/*
 * The pods of `ns` matched by sel, in input order (sel NULL = none match).
 * Pods that cannot be parsed are skipped.  Release with hpa_pods_release.
 */
void hpa_pods_select(const json_t *pods, const char *ns, const struct selector *sel,
		     struct hpa_pods *out);
void hpa_pods_release(struct hpa_pods *p);
/* Parses one Pod's fields used by the calculator; 0 or ERR_PARSE. */
int hpa_pod_parse(const json_t *obj, struct hpa_pod *p);
/*
 * The pod's request for `resource` (milli) as calculateRequests: pod-level
 * requests (gate on, container == "") else the sum over containers and
 * restartable init containers, or only `container`.  0, or ERR_NOTFOUND
 * with upstream's message in *err (caller frees).
 */
int hpa_pod_request(const struct hpa_pod *p, const char *resource, const char *container,
		    bool pod_level_gate, int64_t *milli, char **err);

struct hpa_tol {
	double down, up;
};
/* Tolerances.isWithin: (1-down) <= r <= (1+up). */
bool hpa_tol_within(const struct hpa_tol *t, double ratio);

struct hpa_pod_metric {
	const char *pod;
	int64_t value; /* milli */
	int64_t ts, window;
};

/* One calculation over pods and per-pod metrics (GetResourceReplicas & co). */
struct hpa_calc {
	/* in */
	const struct hpa_pods *pods;
	const struct hpa_pod_metric *metrics; /* later entries win on equal names */
	size_t n_metrics;
	const char *request_error; /* first calculateRequests error, or NULL */
	bool cpu;                  /* readiness rules apply */
	int64_t now, cpu_init_ns, readiness_delay_ns;
	struct hpa_tol tol;
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
int hpa_calc_utilization(struct hpa_calc *c, int32_t target_utilization);
/* calcPlainMetricReplicas (Resource AverageValue, Pods); 0 or ERR_INVAL. */
int hpa_calc_plain(struct hpa_calc *c, int64_t target_milli);
/* getUsageRatioReplicaCount (Object/External Value); 0 or ERR_INVAL. */
int hpa_calc_usage_ratio(struct hpa_calc *c, double usage_ratio);
void hpa_calc_release(struct hpa_calc *c);

/* GetObjectPerPodMetricReplicas / GetExternalPerPodMetricReplicas maths. */
void hpa_calc_per_pod(int64_t usage, int64_t target_per_pod, int32_t status_replicas,
		      const struct hpa_tol *tol, int32_t *replicas, int64_t *per_pod,
		      struct hpa_trace *trace);

/* ---- behavior (behavior.c) -------------------------------------------- */

enum hpa_select { HPA_SELECT_MAX, HPA_SELECT_MIN, HPA_SELECT_DISABLED };
enum hpa_policy_type { HPA_POLICY_PODS, HPA_POLICY_PERCENT };

struct hpa_policy {
	enum hpa_policy_type type;
	int32_t value;
	int32_t period;
};

#define HPA_MAX_POLICIES 32

/* HPAScalingRules after API defaulting. */
struct hpa_rules {
	int32_t window; /* stabilizationWindowSeconds */
	enum hpa_select select;
	size_t n_policies;
	struct hpa_policy policies[HPA_MAX_POLICIES];
	bool has_tolerance;
	double tolerance;
};

struct hpa_behavior {
	bool present; /* spec.behavior != nil */
	struct hpa_rules up, down;
};

/* Reads spec.behavior with API defaults; 0 or ERR_INVAL (message in err). */
int hpa_behavior_load(const json_t *hpa, const struct hpa_options *o, struct hpa_behavior *b,
		      char *err, size_t errlen);
/* tolerancesForHpa. */
struct hpa_tol hpa_tolerances(const struct hpa_behavior *b, const struct hpa_options *o);

/* A limit decision: the value, and the ScalingLimited reason/message. */
struct hpa_limit {
	int32_t replicas;
	const char *reason;
	const char *message;
};

/* stabilizeRecommendation (legacy): updates h->recs, returns the stabilized value. */
int32_t hpa_stabilize_legacy(struct hpa_history *h, int64_t now, int64_t window_ns,
			     int32_t desired, struct hpa_trace *trace);
/* convertDesiredReplicasWithRules (legacy limits). */
struct hpa_limit hpa_limit_legacy(const struct hpa_options *o, int32_t current, int32_t desired,
				  int32_t min, int32_t max);
/*
 * stabilizeRecommendationWithBehaviors: updates h->recs and returns the
 * stabilized value; reason and message name the AbleToScale reason used when
 * it differs from desired.
 */
int32_t hpa_stabilize_behavior(struct hpa_history *h, int64_t now, const struct hpa_behavior *b,
			       int32_t current, int32_t desired, const char **reason,
			       const char **message, struct hpa_trace *trace);
/* calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors. */
int32_t hpa_scale_up_limit(const struct hpa_history *h, int64_t now, const struct hpa_rules *r,
			   int32_t current, struct hpa_trace *trace);
int32_t hpa_scale_down_limit(const struct hpa_history *h, int64_t now, const struct hpa_rules *r,
			     int32_t current, struct hpa_trace *trace);
/* convertDesiredReplicasWithBehaviorRate. */
struct hpa_limit hpa_limit_behavior(const struct hpa_history *h, int64_t now,
				    const struct hpa_behavior *b, int32_t current, int32_t desired,
				    int32_t min, int32_t max, struct hpa_trace *trace);
/* storeScaleEvent (no-op without behavior). */
void hpa_store_scale_event(struct hpa_history *h, int64_t now, const struct hpa_behavior *b,
			   int32_t prev, int32_t next);

/* ---- conditions and status (status.c) --------------------------------- */

struct hpa_condition {
	char *type, *status, *ltt, *reason, *message;
};

struct hpa_conditions {
	size_t n;
	struct hpa_condition *v;
};

/* Loads status.conditions (malformed entries skipped). */
void hpa_conditions_load(const json_t *hpa, struct hpa_conditions *c);
/* setCondition: message is a printf format; ltt moves only on a status flip. */
void hpa_condition_set(struct hpa_conditions *c, int64_t now, const char *type,
		       const char *status, const char *reason, const char *fmt, ...)
	COMMON_PRINTF(6, 7);
/* Removes a condition type if present. */
void hpa_condition_remove(struct hpa_conditions *c, const char *type);
/* Status of a condition type, or NULL. */
const char *hpa_condition_status(const struct hpa_conditions *c, const char *type);
void hpa_conditions_release(struct hpa_conditions *c);
/* The conditions as a JSON array (new reference). */
json_t *hpa_conditions_json(const struct hpa_conditions *c);

/* ---- per-metric evaluation (metrics.c) -------------------------------- */

/* Context shared by every metric of one pass. */
struct hpa_pass {
	const struct hpa_input *in;
	const char *ns;
	const struct selector *selector; /* parsed scale.status.selector */
	struct hpa_pods *pods;           /* pods it selects (requests set per metric) */
	int32_t spec_replicas, status_replicas;
	struct hpa_tol tol;
	struct hpa_result *out; /* events are appended here */
};

/* computeReplicasForMetric's outcome for one spec metric. */
struct hpa_metric_eval {
	bool ok;
	int32_t replicas;
	char *name;      /* e.g. "cpu resource utilization (percentage of request)" */
	json_t *status;  /* MetricStatus (new reference) or NULL */
	char *error;     /* wrapped error for FailedComputeMetricsReplicas */
	char *cond_reason;
	char *cond_message;
};

/* Evaluates spec metric i into ev and out->metrics[i]; events go to out. */
void hpa_metric_eval(struct hpa_pass *p, const json_t *spec, size_t i, struct hpa_metric_eval *ev);
void hpa_metric_eval_release(struct hpa_metric_eval *ev);

/* ---- metric values as the APIs would return them (fetch.c) ----------- */

struct hpa_fetched {
	size_t n;
	struct hpa_pod_metric *v; /* names borrowed from the input */
};

/*
 * Each returns 0, or an error (ERR_IO: the API is failing, ERR_NOTFOUND:
 * nothing returned, ERR_INVAL: bad selector) with upstream's error text in
 * *err (caller frees), already wrapped as the metrics client wraps it.
 */
int hpa_fetch_resource(const struct hpa_pass *p, const char *res, const char *container,
		       struct hpa_fetched *f, char **err);
int hpa_fetch_pods(const struct hpa_pass *p, const char *metric, const json_t *msel,
		   struct hpa_fetched *f, char **err);
int hpa_fetch_object(const struct hpa_pass *p, const json_t *obj, const char *metric,
		     const json_t *msel, int64_t *value, char **err);
/* Sum of the matching external values (saturating as upstream does per target type). */
int hpa_fetch_external(const struct hpa_pass *p, const char *metric, const json_t *msel,
		       bool per_pod, int64_t *usage, char **err);
void hpa_fetched_release(struct hpa_fetched *f);
/* "deployments.apps" for (apps/v1, Deployment); caller frees. */
char *hpa_group_resource(const char *api_version, const char *kind);

/* ---- computeReplicasForMetrics (compute.c) --------------------------- */

struct hpa_compute {
	/* in */
	const struct hpa_input *in;
	const char *ns, *name;
	const json_t *metrics; /* spec.metrics after defaulting */
	int32_t spec_replicas, status_replicas;
	struct hpa_tol tol;
	struct hpa_conditions *conds;
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
int hpa_compute_metrics(struct hpa_compute *x);


/* Appends an event to out. */
void hpa_event_add(struct hpa_result *out, const char *type, const char *reason,
		   const char *fmt, ...) COMMON_PRINTF(4, 5);

#endif
