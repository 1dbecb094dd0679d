/*
 * hpa.h - the public face of hpa/: the autoscaling/v2 HorizontalPodAutoscaler
 * algorithm of kube-controller-manager as one pure function, the scenario
 * files it is tested and explained with, and the rendering of a decision
 * (`hpa explain` of cmd/ prints it; the loop of hpaloop/ acts on it).
 *
 * hpa_decide() does no I/O and reads no clock: everything it needs (the HPA,
 * the Scale, the pods, the metric values, `now`, the controller's
 * recommendation and scale-event history) is in its input, everything it
 * decides (replicas, the new status, events, per-metric detail, the history
 * after the pass) is in its output.  The rules follow
 * pkg/controller/podautoscaler (horizontal.go, replica_calculator.go,
 * metrics/) as described in ../shared/reference/hpa.md.
 */
#ifndef HPA_H
#define HPA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Controller options (kube-controller-manager flags) and feature gates. */
struct hpa_options {
	double tolerance;              /* --horizontal-pod-autoscaler-tolerance, 0.1 */
	int64_t downscale_window_ns;   /* ...-downscale-stabilization, 5m */
	int64_t cpu_init_period_ns;    /* ...-cpu-initialization-period, 5m */
	int64_t readiness_delay_ns;    /* ...-initial-readiness-delay, 30s */
	double scale_up_limit_factor;  /* legacy path, 2.0 */
	double scale_up_limit_minimum; /* legacy path, 4.0 */
	bool gate_scale_to_zero;       /* HPAScaleToZero: on by default here */
	bool gate_configurable_tolerance; /* HPAConfigurableTolerance: on (beta) */
	bool gate_pod_level_resources; /* PodLevelResources: on (beta) */
};

/* Fills o with the upstream defaults (and HPAScaleToZero on): the one
 * place they are written (options.c). */
void hpa_options_default(struct hpa_options *o);

/*
 * Applies --feature-gates items ("Name=bool", as component-base's
 * mapStringBool) to o: HPAScaleToZero, HPAConfigurableTolerance,
 * PodLevelResources.  0, or ERR_INVAL with component-base's wording in err
 * ("unrecognized feature gate: X"); o may be partly updated on failure.
 */
int hpa_feature_gates_apply(struct hpa_options *o, char *const *items, size_t n, char *err,
			    size_t errlen);

/* The controller's in-memory state for one HPA (lost on restart upstream). */
struct hpa_recommendation {
	int32_t replicas;
	int64_t ts; /* ns since the epoch */
};

struct hpa_scale_event {
	int32_t change; /* absolute value */
	int64_t ts;
	bool outdated;
};

struct hpa_history {
	bool seen; /* false: the controller never saw this HPA (recommendations absent) */
	size_t n_recs, n_up, n_down;
	struct hpa_recommendation *recs;
	struct hpa_scale_event *up, *down;
};

/*
 * Deep copy of src into dst.  dst must be a valid history - zeroed, or
 * filled by an earlier copy or pass - and not src: its old content is
 * released first, so nothing leaks.  Clear with hpa_history_clear.
 */
void hpa_history_copy(struct hpa_history *dst, const struct hpa_history *src);
/* Frees what h owns and zeroes it (h stays valid, as never seen). */
void hpa_history_clear(struct hpa_history *h);

/* Metric API groups a pass may be told are failing. */
enum hpa_api {
	HPA_API_RESOURCE = 1, /* metrics.k8s.io */
	HPA_API_CUSTOM = 2,   /* custom.metrics.k8s.io */
	HPA_API_EXTERNAL = 4, /* external.metrics.k8s.io */
};

/*
 * Everything one reconcile pass reads.  All JSON is borrowed and must be the
 * objects' API form: hpa an autoscaling/v2 HorizontalPodAutoscaler, scale an
 * autoscaling/v1 Scale, pods an array of v1 Pods, pod_metrics an array of
 * metrics.k8s.io PodMetrics, custom_metrics an array of custom.metrics.k8s.io
 * v1beta2 MetricValue, external_metrics an array of ExternalMetricValue,
 * others an array of {horizontalPodAutoscaler, scale} in the same namespace.
 * Array pointers may be NULL (= empty).  The pass filters pods and values by
 * namespace and selectors itself, as the APIs would.
 */
struct hpa_input {
	const json_t *hpa;
	const json_t *scale;
	const json_t *pods;
	const json_t *pod_metrics;
	const json_t *custom_metrics;
	const json_t *external_metrics;
	const json_t *others;
	const char *scale_get_error;    /* non-NULL: GET .../scale fails with this text */
	const char *scale_update_error; /* non-NULL: PUT .../scale fails with this text */
	unsigned failing_apis;          /* enum hpa_api bits */
	int64_t now;                    /* ns since the epoch */
	struct hpa_options opts;
};

struct hpa_names {
	size_t n;
	char **v;
};

/* Human-readable steps, in order (for `hpa explain -o text`). */
struct hpa_trace {
	size_t n;
	char **lines;
};

/*
 * Detail for one spec metric.  proposed/utilization/raw_average/usage are
 * valid when their has_ flag is set:
 *   utilization  Resource/ContainerResource Utilization: integer percent
 *   raw_average  per-pod average (milli): Resource, ContainerResource, Pods,
 *                and Object/External AverageValue (ceil(usage/status.replicas))
 *   usage        the value compared with the target (milli): the pod average
 *                for AverageValue/Pods, the object value, the external sum
 * Pod names are sorted; pods are grouped only where upstream groups them.
 */
struct hpa_metric_detail {
	char *type; /* spec type as written */
	bool evaluated;
	bool has_proposed, has_utilization, has_raw_average, has_usage;
	int32_t proposed;
	int32_t utilization;
	int64_t raw_average;
	int64_t usage;
	char *error;
	struct hpa_names ready, unready, missing, ignored;
	struct hpa_trace trace;
};

struct hpa_event {
	char *type; /* Normal | Warning */
	char *reason;
	char *message;
};

struct hpa_result {
	int32_t desired;     /* the count decided (written or attempted), else status.desiredReplicas */
	bool scale_updated;  /* a scale write happened and succeeded */
	char *error;         /* the reconcile error, NULL if none */
	json_t *status;      /* the autoscaling/v2 status as it would be written */
	bool status_changed; /* differs from the input status (a PUT would happen) */
	size_t n_metrics;
	struct hpa_metric_detail *metrics;
	size_t n_events;
	struct hpa_event *events;
	struct hpa_history history; /* after the pass */
	struct hpa_trace trace;     /* zero/min/max checks, stabilization, policies */
};

/*
 * Runs one reconcile pass.  `history` may be NULL (= never seen).  Fills
 * *out (caller clears with hpa_result_clear).  Returns 0, or ERR_INVAL
 * with a message in err when the input is not usable at all (no HPA object,
 * no scale while no scale failure is declared); reconcile failures are not
 * return errors, they are reported in out->error as upstream reports them.
 */
int hpa_decide(const struct hpa_input *in, const struct hpa_history *history,
	       struct hpa_result *out, char *err, size_t errlen);
void hpa_result_clear(struct hpa_result *r);

/* ---- helpers the loop shares (hpaloop/ reads objects as hpa_decide does) -- */

struct selector;
struct labels;

/*
 * metav1.LabelSelectorAsSelector of a JSON LabelSelector (borrowed):
 * NULL/{} selects everything.  A new selector (caller releases with
 * selector_free), or NULL with the reason in err on a bad selector.
 */
struct selector *hpa_label_selector(const json_t *ls, char *err, size_t errlen);
/* The labels of a JSON string map (borrowed; non-string values skipped):
 * initialises out (clear with labels_clear), which owns its copies. */
void hpa_labels_from_json(const json_t *map, struct labels *out);
/* "deployments.apps" for (apps/v1, Deployment): the kind's lowercase plural
 * with the group, as the HPA controller names a resource without discovery;
 * caller frees.  Never NULL. */
char *hpa_group_resource(const char *api_version, const char *kind);
/* Saturating int64 -> int32 (Go's int32() after upstream's clamping). */
int32_t hpa_sat_i32(int64_t v);

/* ---- scenario files (`hpa explain -f`) --------------------------------- */

/* A loaded scenario: the parsed document plus the input that borrows it. */
struct hpa_scenario {
	json_t *doc;
	struct hpa_input in;
	struct hpa_history history;
	char *scale_get_error;
	char *scale_update_error;
};

/* The largest scenario text read (a file, or stdin for `hpa explain -f -`). */
#define HPA_SCENARIO_MAX_BYTES (64u << 20)

/*
 * Loads a scenario (JSON, or YAML when the text is not JSON) from `path`.
 * 0, or ERR_IO / ERR_TOOBIG / ERR_PARSE / ERR_INVAL with a message in err.
 * Clear with hpa_scenario_clear (also after a failure).
 */
int hpa_scenario_load(const char *path, struct hpa_scenario *sc, char *err, size_t errlen);
/* Same from text in memory (len bytes). */
int hpa_scenario_parse(const char *text, size_t len, struct hpa_scenario *sc, char *err,
		       size_t errlen);
void hpa_scenario_clear(struct hpa_scenario *sc);

/*
 * The scenario document for in and history (NULL = never seen), every
 * controller option written out and times to the nanosecond, so that
 * hpa_scenario_parse of its text gives back the same input (new reference).
 */
json_t *hpa_scenario_json(const struct hpa_input *in, const struct hpa_history *history);

/* The `-o json` document for a result (new reference, caller decrefs). */
json_t *hpa_explain_json(const struct hpa_result *r);
/* The `-o text` explanation; caller frees. */
char *hpa_explain_text(const struct hpa_input *in, const struct hpa_result *r);

#endif
