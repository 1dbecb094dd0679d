/*
 * decide.c - reconcileAutoscaler as a pure function: get the scale, seed
 * the history, the zero / min / max short cuts (with scale to and from
 * zero), the metric proposal, normalization, the scale write, status and
 * events.
 */
#include "hpa/hpa_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The status being built (setStatus's fields). */
struct status {
	char *last_scale_time; /* NULL = unset */
	int64_t current, desired;
	json_t *metrics; /* currentMetrics, NULL = omitted */
	struct hpa__conditions conds;
};

struct pass {
	const struct hpa_input *in;
	struct hpa_result *out;
	struct status st;
	const char *ns, *name;
	char *reference;
	json_t *metrics; /* spec.metrics after defaulting */
	struct hpa__behavior behavior;
	int32_t current, min, max;
};

static json_t *default_metrics(const json_t *hpa)
{
	const json_t *m = jpath_array(hpa, "spec.metrics");

	if (m && json_array_size(m) > 0)
		return json_deep_copy(m);
	return json_pack("[{s:s, s:{s:s, s:{s:s, s:i}}}]", "type", "Resource", "resource", "name",
			 "cpu", "target", "type", "Utilization", "averageUtilization", 80);
}

static void status_load(struct status *st, const json_t *hpa)
{
	const json_t *cm = jpath_array(hpa, "status.currentMetrics");
	const char *lst = jpath_str(hpa, "status.lastScaleTime");

	st->last_scale_time = lst ? xstrdup(lst) : NULL;
	st->current = jpath_int(hpa, "status.currentReplicas", 0);
	st->desired = jpath_int(hpa, "status.desiredReplicas", 0);
	st->metrics = cm && json_array_size(cm) ? json_deep_copy(cm) : NULL;
	hpa__conditions_load(hpa, &st->conds);
}

/* setStatus: currentMetrics replaced (NULL = omitted), lastScaleTime moves on rescale. */
static void status_set(struct pass *x, int32_t current, int64_t desired, json_t *metrics,
		       bool rescale)
{
	char ts[40];

	x->st.current = current;
	x->st.desired = desired;
	json_decref(x->st.metrics);
	x->st.metrics = metrics && json_array_size(metrics) ? json_incref(metrics) : NULL;
	if (rescale) {
		fmt_rfc3339(x->in->now, ts, sizeof(ts));
		free(x->st.last_scale_time);
		x->st.last_scale_time = xstrdup(ts);
	}
}

static json_t *status_json(const struct status *st)
{
	json_t *o = json_object();

	if (st->last_scale_time)
		json_object_set_new(o, "lastScaleTime", json_string(st->last_scale_time));
	if (st->current)
		json_object_set_new(o, "currentReplicas", json_integer(st->current));
	json_object_set_new(o, "desiredReplicas", json_integer(st->desired));
	if (st->metrics)
		json_object_set(o, "currentMetrics", st->metrics);
	if (st->conds.n)
		json_object_set_new(o, "conditions", hpa__conditions_json(&st->conds));
	return o;
}

/* Semantic equality of the old and new status (absent == zero value). */
static bool status_equal(const json_t *hpa, const json_t *now)
{
	struct status old = { 0 };
	json_t *o;
	bool eq;

	status_load(&old, hpa);
	o = status_json(&old);
	eq = json_equal(o, (json_t *)now);
	json_decref(o);
	json_decref(old.metrics);
	free(old.last_scale_time);
	hpa__conditions_clear(&old.conds);
	return eq;
}

static bool has_object_or_external(const json_t *metrics)
{
	const json_t *m;
	size_t i;

	json_array_foreach(metrics, i, m) {
		const char *t = jpath_str(m, "type");

		if (t && (strcmp(t, "Object") == 0 || strcmp(t, "External") == 0))
			return true;
	}
	return false;
}

/* Scale get (and the apiVersion parse before it); false = failed, pass over. */
static bool get_scale(struct pass *x)
{
	const char *av = jpath_str(x->in->hpa, "spec.scaleTargetRef.apiVersion");
	const char *slash = av ? strchr(av, '/') : NULL;
	char *e = NULL;

	if (slash && strchr(slash + 1, '/')) {
		e = xasprintf("unexpected GroupVersion string: %s", av);
		x->out->error = xasprintf("invalid API version in scale target reference: %s", e);
	} else if (x->in->scale_get_error) {
		e = xstrdup(x->in->scale_get_error);
		x->out->error = xasprintf("failed to query scale subresource for %s: %s",
					  x->reference, e);
	}
	if (!e) {
		hpa__condition_set(&x->st.conds, x->in->now, "AbleToScale", "True", "SucceededGetScale",
				  "the HPA controller was able to get the target's current scale");
		return true;
	}
	hpa__event_add(x->out, "Warning", "FailedGetScale", "%s", e);
	hpa__condition_set(&x->st.conds, x->in->now, "AbleToScale", "False", "FailedGetScale",
			  "the HPA controller was unable to get the target's current scale: %s", e);
	hpa__trace_add(&x->out->trace, "scale get failed: %s", e);
	free(e);
	return false;
}

static void seed_history(struct pass *x)
{
	struct hpa_history *h = &x->out->history;

	if (h->seen)
		return;
	h->seen = true;
	free(h->recs);
	h->recs = xmalloc(sizeof(*h->recs));
	h->recs[0] = (struct hpa_recommendation){ x->current, x->in->now };
	h->n_recs = 1;
	hpa__trace_add(&x->out->trace, "first pass for this HPA: history seeded with %d",
		      (int)x->current);
}

/* normalizeDesiredReplicas / normalizeDesiredReplicasWithBehaviors. */
static int32_t normalize(struct pass *x, int32_t desired)
{
	struct hpa_history *h = &x->out->history;
	struct hpa_trace *t = &x->out->trace;
	const char *reason = "ScaleDownStabilized", *msg = "recent recommendations were higher than "
							  "current one, applying the highest recent "
							  "recommendation";
	struct hpa__limit l;
	int32_t stab;

	if (!x->behavior.present)
		stab = hpa__stabilize_legacy(h, x->in->now, x->in->opts.downscale_window_ns, desired, t);
	else
		stab = hpa__stabilize_behavior(h, x->in->now, &x->behavior, x->current, desired,
					      &reason, &msg, t);
	if (stab != desired)
		hpa__condition_set(&x->st.conds, x->in->now, "AbleToScale", "True", reason, "%s", msg);
	else
		hpa__condition_set(&x->st.conds, x->in->now, "AbleToScale", "True", "ReadyForNewScale",
				  "recommended size matches current size");
	if (!x->behavior.present)
		l = hpa__limit_legacy(&x->in->opts, x->current, stab, x->min, x->max);
	else
		l = hpa__limit_behavior(h, x->in->now, &x->behavior, x->current, stab, x->min, x->max,
				       t);
	hpa__condition_set(&x->st.conds, x->in->now, "ScalingLimited",
			  l.replicas == stab ? "False" : "True", l.reason, "%s", l.message);
	hpa__trace_add(t, "limits: %d -> %d (%s)", (int)stab, (int)l.replicas, l.reason);
	return l.replicas;
}

/*
 * The metrics branch: proposal, rescale reason, normalization.  Returns
 * false when metric computation failed (status and events already set).
 */
static bool metrics_step(struct pass *x, bool scaled_cond, int32_t *desired, char **reason,
			 json_t **statuses)
{
	struct hpa__compute c = {
		.in = x->in, .ns = x->ns, .name = x->name, .metrics = x->metrics,
		.spec_replicas = x->current,
		.status_replicas = hpa_sat_i32(jpath_int(x->in->scale, "status.replicas", 0)),
		.tol = hpa__tolerances(&x->behavior, &x->in->opts), .conds = &x->st.conds,
		.out = x->out,
	};
	int32_t want;

	if (hpa__compute_metrics(&c) != 0) {
		status_set(x, x->current, x->st.desired, c.statuses, false);
		hpa__event_add(x->out, "Warning", "FailedComputeMetricsReplicas", "%s", c.error);
		x->out->error = xasprintf("failed to compute desired number of replicas based on "
					  "listed metrics for %s: %s",
					  x->reference, c.error);
		hpa__trace_add(&x->out->trace, "no scaling: %s", c.error);
		json_decref(c.statuses);
		free(c.error);
		free(c.metric_name);
		return false;
	}
	x->out->error = c.error; /* a broken metric that did not block scaling up */
	*statuses = c.statuses;
	want = c.replicas > 0 ? c.replicas : 0;
	hpa__trace_add(&x->out->trace, "metrics propose %d (largest, from %s); current %d",
		      (int)want, c.metric_name, (int)x->current);
	if (want > x->current)
		*reason = xasprintf("%s above target", c.metric_name);
	else if (want < x->current)
		*reason = xstrdup("All metrics below target");
	*desired = normalize(x, want);
	if (x->current == 0 && x->min != 0 && scaled_cond && *desired < x->min) {
		hpa__trace_add(&x->out->trace, "scaling from zero: raised to minReplicas %d",
			      (int)x->min);
		*desired = x->min;
	}
	free(c.metric_name);
	return true;
}

/* The zero / above max / below min short cuts; true = compute metrics. */
static bool shortcut(struct pass *x, bool scaled_cond, bool can_from_zero, int32_t *desired,
		     char **reason, bool *rescale)
{
	if (x->current == 0) {
		if ((x->min != 0 && scaled_cond) || can_from_zero) {
			hpa__trace_add(&x->out->trace, "target at zero, scaled there by the HPA: "
						      "evaluating metrics to scale from zero");
			return true;
		}
		*desired = 0;
		*rescale = false;
		hpa__condition_set(&x->st.conds, x->in->now, "ScalingActive", "False",
				  "ScalingDisabled",
				  "scaling is disabled since the replica count of the target is zero");
		hpa__trace_add(&x->out->trace, "target at zero and not scaled there by the HPA: "
					      "scaling disabled");
		return false;
	}
	if (x->current > x->max) {
		*reason = xstrdup("Current number of replicas above Spec.MaxReplicas");
		*desired = x->max;
	} else if (x->current < x->min) {
		*reason = xstrdup("Current number of replicas below Spec.MinReplicas");
		*desired = x->min;
	} else {
		return true;
	}
	hpa__trace_add(&x->out->trace, "%s: %d -> %d without metrics", *reason, (int)x->current,
		      (int)*desired);
	return false;
}

/* The scale write; false when it failed (status and events set). */
static bool write_scale(struct pass *x, int32_t desired, const char *reason, json_t *statuses)
{
	const char *e = x->in->scale_update_error;
	bool to_zero;

	if (e) {
		hpa__event_add(x->out, "Warning", "FailedRescale", "New size: %d; reason: %s; error: %s",
			      (int)desired, reason, e);
		hpa__condition_set(&x->st.conds, x->in->now, "AbleToScale", "False",
				  "FailedUpdateScale",
				  "the HPA controller was unable to update the target scale: %s", e);
		status_set(x, x->current, x->st.desired, statuses, false);
		free(x->out->error);
		x->out->error = xasprintf("failed to rescale %s: %s", x->reference, e);
		hpa__trace_add(&x->out->trace, "scale update to %d failed: %s", (int)desired, e);
		return false;
	}
	hpa__condition_set(&x->st.conds, x->in->now, "AbleToScale", "True", "SucceededRescale",
			  "the HPA controller was able to update the target scale to %d", (int)desired);
	if (x->in->opts.gate_scale_to_zero) {
		to_zero = x->current > 0 && desired == 0 && x->min == 0 &&
			  has_object_or_external(x->metrics);
		if (to_zero)
			hpa__condition_set(&x->st.conds, x->in->now, "ScaledToZero", "True",
					  "ScaledToZero", "the HPA controller scaled the workload to zero");
		else
			hpa__condition_set(&x->st.conds, x->in->now, "ScaledToZero", "False",
					  "NotScaledToZero",
					  "the HPA controller did not scale the workload to zero");
	}
	hpa__event_add(x->out, "Normal", "SuccessfulRescale", "New size: %d; reason: %s",
		      (int)desired, reason);
	hpa__store_scale_event(&x->out->history, x->in->now, &x->behavior, x->current, desired);
	x->out->scale_updated = true;
	hpa__trace_add(&x->out->trace, "scale written: %d -> %d (%s)", (int)x->current,
		      (int)desired, reason);
	return true;
}

/* Steps after a successful scale get. */
static void reconcile(struct pass *x)
{
	bool gate = x->in->opts.gate_scale_to_zero, rescale = true;
	bool scaled_cond, can_from_zero;
	const char *sz;
	int32_t desired = 0;
	char *reason = NULL;
	json_t *statuses = NULL;

	if (!gate)
		hpa__condition_remove(&x->st.conds, "ScaledToZero");
	sz = hpa__condition_status(&x->st.conds, "ScaledToZero");
	scaled_cond = gate && sz && strcmp(sz, "True") == 0;
	can_from_zero = scaled_cond && has_object_or_external(x->metrics);
	if (shortcut(x, scaled_cond, can_from_zero, &desired, &reason, &rescale)) {
		if (!metrics_step(x, scaled_cond, &desired, &reason, &statuses))
			goto out;
		rescale = desired != x->current;
	}
	x->out->desired = desired;
	if (rescale && !write_scale(x, desired, reason ? reason : "", statuses))
		goto out;
	if (!rescale)
		desired = x->current;
	x->out->desired = desired;
	status_set(x, x->current, desired, statuses, rescale);
out:
	json_decref(statuses);
	free(reason);
}

static void result_init(struct hpa_result *out, const struct hpa_history *hist,
			const json_t *metrics)
{
	memset(out, 0, sizeof(*out));
	if (hist)
		hpa_history_copy(&out->history, hist);
	out->n_metrics = json_array_size(metrics);
	out->metrics = xcalloc(out->n_metrics + 1, sizeof(*out->metrics));
	for (size_t i = 0; i < out->n_metrics; i++) {
		const char *t = jpath_str(json_array_get(metrics, i), "type");

		out->metrics[i].type = xstrdup(t ? t : "");
	}
}

static int check_input(const struct hpa_input *in, char *err, size_t errlen)
{
	if (!json_is_object(in->hpa) || !jpath_str(in->hpa, "metadata.name")) {
		snprintf(err, errlen, "horizontalPodAutoscaler: an object with metadata.name is "
				      "required");
		return ERR_INVAL;
	}
	if (!in->scale_get_error && !json_is_object(in->scale)) {
		snprintf(err, errlen, "scale: an autoscaling/v1 Scale is required unless "
				      "failures.scaleGet is set");
		return ERR_INVAL;
	}
	if (!json_is_integer(jpath_get(in->hpa, "spec.maxReplicas"))) {
		snprintf(err, errlen, "horizontalPodAutoscaler: spec.maxReplicas is required");
		return ERR_INVAL;
	}
	return 0;
}

int hpa_decide(const struct hpa_input *in, const struct hpa_history *hist, struct hpa_result *out,
	       char *err, size_t errlen)
{
	struct pass x = { .in = in, .out = out };
	const char *ns = jpath_str(in->hpa, "metadata.namespace");

	memset(out, 0, sizeof(*out));
	if (check_input(in, err, errlen) != 0)
		return ERR_INVAL;
	x.metrics = default_metrics(in->hpa);
	if (hpa__behavior_load(in->hpa, &in->opts, &x.behavior, err, errlen) != 0) {
		json_decref(x.metrics);
		return ERR_INVAL;
	}
	result_init(out, hist, x.metrics);
	x.ns = ns ? ns : "default";
	x.name = jpath_str(in->hpa, "metadata.name");
	x.reference = xasprintf("%s/%s/%s", jpath_str(in->hpa, "spec.scaleTargetRef.kind")
						    ? jpath_str(in->hpa, "spec.scaleTargetRef.kind")
						    : "",
				x.ns, jpath_str(in->hpa, "spec.scaleTargetRef.name")
					      ? jpath_str(in->hpa, "spec.scaleTargetRef.name")
					      : "");
	status_load(&x.st, in->hpa);
	out->desired = hpa_sat_i32(x.st.desired);
	if (get_scale(&x)) {
		x.current = hpa_sat_i32(jpath_int(in->scale, "spec.replicas", 0));
		x.min = hpa_sat_i32(jpath_int(in->hpa, "spec.minReplicas", 1));
		x.max = hpa_sat_i32(jpath_int(in->hpa, "spec.maxReplicas", 0));
		seed_history(&x);
		reconcile(&x);
	}
	out->status = status_json(&x.st);
	out->status_changed = !status_equal(in->hpa, out->status);
	json_decref(x.metrics);
	json_decref(x.st.metrics);
	free(x.st.last_scale_time);
	hpa__conditions_clear(&x.st.conds);
	free(x.reference);
	return 0;
}

void hpa_history_copy(struct hpa_history *dst, const struct hpa_history *src)
{
	hpa_history_clear(dst); /* a filled dst would leak otherwise */
	dst->seen = src->seen;
	dst->n_recs = src->n_recs;
	dst->n_up = src->n_up;
	dst->n_down = src->n_down;
	dst->recs = xcalloc(src->n_recs + 1, sizeof(*dst->recs));
	dst->up = xcalloc(src->n_up + 1, sizeof(*dst->up));
	dst->down = xcalloc(src->n_down + 1, sizeof(*dst->down));
	if (src->n_recs)
		memcpy(dst->recs, src->recs, src->n_recs * sizeof(*dst->recs));
	if (src->n_up)
		memcpy(dst->up, src->up, src->n_up * sizeof(*dst->up));
	if (src->n_down)
		memcpy(dst->down, src->down, src->n_down * sizeof(*dst->down));
}

void hpa_history_clear(struct hpa_history *h)
{
	free(h->recs);
	free(h->up);
	free(h->down);
	memset(h, 0, sizeof(*h));
}

void hpa_result_clear(struct hpa_result *r)
{
	for (size_t i = 0; i < r->n_metrics; i++) {
		struct hpa_metric_detail *d = &r->metrics[i];

		free(d->type);
		free(d->error);
		hpa__names_clear(&d->ready);
		hpa__names_clear(&d->unready);
		hpa__names_clear(&d->missing);
		hpa__names_clear(&d->ignored);
		hpa__trace_clear(&d->trace);
	}
	free(r->metrics);
	for (size_t i = 0; i < r->n_events; i++) {
		free(r->events[i].type);
		free(r->events[i].reason);
		free(r->events[i].message);
	}
	free(r->events);
	json_decref(r->status);
	free(r->error);
	hpa_history_clear(&r->history);
	hpa__trace_clear(&r->trace);
	memset(r, 0, sizeof(*r));
}
