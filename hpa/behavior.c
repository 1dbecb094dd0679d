/*
 * behavior.c - turning a metric proposal into the replica count to write:
 * spec.behavior with its API defaults, tolerances, the legacy
 * normalization (behavior == nil), two-sided stabilization windows, scaling
 * policies with selectPolicy, and the scale-event bookkeeping
 * (horizontal.go: normalizeDesiredReplicas*, convertDesiredReplicas*,
 * storeScaleEvent).
 */
#include "hpa/hpa_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define NS_PER_S NS_PER_SEC

static void rules_default_up(struct hpa__rules *r)
{
	memset(r, 0, sizeof(*r));
	r->window = 0;
	r->select = HPA_SELECT_MAX;
	r->n_policies = 2;
	r->policies[0] = (struct hpa__policy){ HPA_POLICY_PODS, 4, 15 };
	r->policies[1] = (struct hpa__policy){ HPA_POLICY_PERCENT, 100, 15 };
}

static void rules_default_down(struct hpa__rules *r, const struct hpa_options *o)
{
	memset(r, 0, sizeof(*r));
	r->window = hpa_sat_i32(o->downscale_window_ns / NS_PER_S);
	r->select = HPA_SELECT_MAX;
	r->n_policies = 1;
	r->policies[0] = (struct hpa__policy){ HPA_POLICY_PERCENT, 100, 15 };
}

static int load_policies(const json_t *list, struct hpa__rules *r, char *err, size_t errlen)
{
	const json_t *p;
	size_t i;

	if (json_array_size(list) > HPA_MAX_POLICIES) {
		snprintf(err, errlen, "behavior: at most %d policies per direction",
			 HPA_MAX_POLICIES);
		return ERR_INVAL;
	}
	r->n_policies = 0;
	json_array_foreach(list, i, p) {
		const char *type = jpath_str(p, "type");
		struct hpa__policy *pol = &r->policies[r->n_policies];

		if (!type || (strcmp(type, "Pods") != 0 && strcmp(type, "Percent") != 0)) {
			snprintf(err, errlen, "behavior: policy type must be Pods or Percent");
			return ERR_INVAL;
		}
		pol->type = type[1] == 'o' ? HPA_POLICY_PODS : HPA_POLICY_PERCENT;
		pol->value = hpa_sat_i32(jpath_int(p, "value", 0));
		pol->period = hpa_sat_i32(jpath_int(p, "periodSeconds", 0));
		r->n_policies++;
	}
	return 0;
}

/* copyHPAScalingRules: user fields replace the defaults. */
static int load_rules(const json_t *j, struct hpa__rules *r, char *err, size_t errlen)
{
	const json_t *w, *pol, *tol;
	const char *sel;

	if (!j || json_is_null(j))
		return 0;
	if (!json_is_object(j)) {
		snprintf(err, errlen, "behavior: scaling rules must be objects");
		return ERR_INVAL;
	}
	w = json_object_get(j, "stabilizationWindowSeconds");
	if (json_is_integer(w))
		r->window = hpa_sat_i32(json_integer_value(w));
	sel = jpath_str(j, "selectPolicy");
	if (sel)
		r->select = strcmp(sel, "Min") == 0	   ? HPA_SELECT_MIN
			    : strcmp(sel, "Disabled") == 0 ? HPA_SELECT_DISABLED
							   : HPA_SELECT_MAX;
	pol = json_object_get(j, "policies");
	if (json_is_array(pol) && load_policies(pol, r, err, errlen) != 0)
		return ERR_INVAL;
	tol = json_object_get(j, "tolerance");
	if (tol && !json_is_null(tol)) {
		if (hpa__jfloat(tol, &r->tolerance) != 0) {
			snprintf(err, errlen, "behavior: tolerance is not a quantity");
			return ERR_INVAL;
		}
		r->has_tolerance = true;
	}
	return 0;
}

int hpa__behavior_load(const json_t *hpa, const struct hpa_options *o, struct hpa__behavior *b,
		      char *err, size_t errlen)
{
	const json_t *j = jpath_get(hpa, "spec.behavior");

	memset(b, 0, sizeof(*b));
	rules_default_up(&b->up);
	rules_default_down(&b->down, o);
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_object(j)) {
		snprintf(err, errlen, "spec.behavior must be an object");
		return ERR_INVAL;
	}
	b->present = true;
	if (load_rules(json_object_get(j, "scaleUp"), &b->up, err, errlen) != 0 ||
	    load_rules(json_object_get(j, "scaleDown"), &b->down, err, errlen) != 0)
		return ERR_INVAL;
	return 0;
}

struct hpa__tol hpa__tolerances(const struct hpa__behavior *b, const struct hpa_options *o)
{
	struct hpa__tol t = { o->tolerance, o->tolerance };

	if (!b->present || !o->gate_configurable_tolerance)
		return t;
	if (b->down.has_tolerance)
		t.down = b->down.tolerance;
	if (b->up.has_tolerance)
		t.up = b->up.tolerance;
	return t;
}

static void rec_store(struct hpa_history *h, bool found_old, size_t old, int32_t desired,
		      int64_t now)
{
	if (found_old) {
		h->recs[old] = (struct hpa_recommendation){ desired, now };
		return;
	}
	h->recs = xrealloc(h->recs, (h->n_recs + 1) * sizeof(*h->recs));
	h->recs[h->n_recs++] = (struct hpa_recommendation){ desired, now };
}

int32_t hpa__stabilize_legacy(struct hpa_history *h, int64_t now, int64_t window_ns,
			     int32_t desired, struct hpa_trace *trace)
{
	int32_t max = desired;
	int64_t cutoff = hpa__time_add(now, -window_ns);
	bool found_old = false;
	size_t old = 0;

	for (size_t i = 0; i < h->n_recs; i++) {
		if (h->recs[i].ts < cutoff) {
			found_old = true;
			old = i;
		} else if (h->recs[i].replicas > max) {
			max = h->recs[i].replicas;
		}
	}
	rec_store(h, found_old, old, desired, now);
	hpa__trace_add(trace, "stabilization (legacy, %llds window): highest recommendation %d",
		      (long long)(window_ns / NS_PER_S), (int)max);
	return max;
}

struct hpa__limit hpa__limit_legacy(const struct hpa_options *o, int32_t current, int32_t desired,
				  int32_t min, int32_t max)
{
	double f = o->scale_up_limit_factor * (double)current;
	int32_t up = hpa__trunc_i32(f > o->scale_up_limit_minimum ? f : o->scale_up_limit_minimum);
	struct hpa__limit l;
	int32_t max_allowed = max;

	l.reason = "TooManyReplicas";
	l.message = "the desired replica count is more than the maximum replica count";
	if (max > up) {
		max_allowed = up;
		l.reason = "ScaleUpLimit";
		l.message = "the desired replica count is increasing faster than the maximum scale rate";
	}
	if (desired < min) {
		l.replicas = min;
		l.reason = "TooFewReplicas";
		l.message = "the desired replica count is less than the minimum replica count";
	} else if (desired > max_allowed) {
		l.replicas = max_allowed;
	} else {
		l.replicas = desired;
		l.reason = "DesiredWithinRange";
		l.message = "the desired count is within the acceptable range";
	}
	return l;
}

int32_t hpa__stabilize_behavior(struct hpa_history *h, int64_t now, const struct hpa__behavior *b,
			       int32_t current, int32_t desired, const char **reason,
			       const char **message, struct hpa_trace *trace)
{
	int64_t up_cut = hpa__time_add(now, -(int64_t)b->up.window * NS_PER_S);
	int64_t down_cut = hpa__time_add(now, -(int64_t)b->down.window * NS_PER_S);
	int32_t up = desired, down = desired, rec = current;
	bool found_old = false;
	size_t old = 0;

	for (size_t i = 0; i < h->n_recs; i++) {
		const struct hpa_recommendation *r = &h->recs[i];

		if (r->ts > up_cut && r->replicas < up)
			up = r->replicas;
		if (r->ts > down_cut && r->replicas > down)
			down = r->replicas;
		if (r->ts < up_cut && r->ts < down_cut) {
			found_old = true;
			old = i;
		}
	}
	if (rec < up)
		rec = up;
	if (rec > down)
		rec = down;
	rec_store(h, found_old, old, desired, now);
	if (desired >= current) {
		*reason = "ScaleUpStabilized";
		*message = "recent recommendations were lower than current one, applying the lowest "
			   "recent recommendation";
	} else {
		*reason = "ScaleDownStabilized";
		*message = "recent recommendations were higher than current one, applying the "
			   "highest recent recommendation";
	}
	hpa__trace_add(trace, "stabilization: lowest recommendation in the %ds scale-up window %d, "
			     "highest in the %ds scale-down window %d; current %d clamped -> %d",
		      (int)b->up.window, (int)up, (int)b->down.window, (int)down, (int)current,
		      (int)rec);
	return rec;
}

/* getReplicasChangePerPeriod: events strictly after now - period. */
static int64_t changes(const struct hpa_scale_event *ev, size_t n, int64_t now, int32_t period)
{
	int64_t cutoff = hpa__time_add(now, -(int64_t)period * NS_PER_S), sum = 0;

	for (size_t i = 0; i < n; i++) {
		if (ev[i].ts > cutoff)
			sum += ev[i].change;
	}
	return sum;
}

static int64_t period_start(const struct hpa_history *h, int64_t now, int32_t period,
			    int32_t current)
{
	return (int64_t)current - changes(h->up, h->n_up, now, period) +
	       changes(h->down, h->n_down, now, period);
}

static const char *policy_name(const struct hpa__policy *p)
{
	return p->type == HPA_POLICY_PODS ? "Pods" : "Percent";
}

/*
 * The replica limit the policies of one direction allow (upstream's
 * calculateScaleUpLimitWithScalingRules / ...ScaleDownLimit...).  Each
 * policy proposes a bound from the replicas at the start of its period;
 * selectPolicy Max takes the most permissive bound (the largest going up,
 * the smallest going down), Min the most restrictive.
 */
static int32_t scale_limit(const struct hpa_history *h, int64_t now, const struct hpa__rules *r,
			   int32_t current, bool up, struct hpa_trace *trace)
{
	const char *dir = up ? "scale-up" : "scale-down";
	bool pick_larger = (r->select == HPA_SELECT_MIN) != up;
	int32_t result = pick_larger ? INT32_MIN : INT32_MAX;

	if (r->select == HPA_SELECT_DISABLED) {
		hpa__trace_add(trace, "%s policies: selectPolicy Disabled -> limit %d", dir,
			      (int)current);
		return current;
	}
	for (size_t i = 0; i < r->n_policies; i++) {
		const struct hpa__policy *p = &r->policies[i];
		int64_t start = period_start(h, now, p->period, current);
		double pct = (double)p->value / 100;
		int32_t proposed;

		if (p->type == HPA_POLICY_PODS)
			proposed = hpa_sat_i32(up ? start + p->value : start - p->value);
		else
			proposed = up ? hpa__ceil_i32((double)start * (1 + pct))
				      : hpa__trunc_i32((double)start * (1 - pct));
		hpa__trace_add(trace, "%s policy %s %d/%ds: %lld replicas at the period start "
				     "-> at %s %d",
			      dir, policy_name(p), (int)p->value, (int)p->period, (long long)start,
			      up ? "most" : "least", (int)proposed);
		if (pick_larger ? proposed > result : proposed < result)
			result = proposed;
	}
	return result;
}

int32_t hpa__scale_up_limit(const struct hpa_history *h, int64_t now, const struct hpa__rules *r,
			   int32_t current, struct hpa_trace *trace)
{
	return scale_limit(h, now, r, current, true, trace);
}

int32_t hpa__scale_down_limit(const struct hpa_history *h, int64_t now, const struct hpa__rules *r,
			     int32_t current, struct hpa_trace *trace)
{
	return scale_limit(h, now, r, current, false, trace);
}

struct hpa__limit hpa__limit_behavior(const struct hpa_history *h, int64_t now,
				    const struct hpa__behavior *b, int32_t current, int32_t desired,
				    int32_t min, int32_t max, struct hpa_trace *trace)
{
	struct hpa__limit l = { desired, "DesiredWithinRange",
			       "the desired count is within the acceptable range" };
	int32_t lim, allowed;

	if (desired > current) {
		lim = hpa__scale_up_limit(h, now, &b->up, current, trace);
		if (lim < current)
			lim = current;
		allowed = max;
		l.reason = "TooManyReplicas";
		l.message = "the desired replica count is more than the maximum replica count";
		if (allowed > lim) {
			allowed = lim;
			l.reason = "ScaleUpLimit";
			l.message = "the desired replica count is increasing faster than the maximum "
				    "scale rate";
		}
		if (desired > allowed) {
			l.replicas = allowed;
			return l;
		}
	} else if (desired < current) {
		lim = hpa__scale_down_limit(h, now, &b->down, current, trace);
		if (lim > current)
			lim = current;
		allowed = min;
		l.reason = "TooFewReplicas";
		l.message = "the desired replica count is less than the minimum replica count";
		if (allowed < lim) {
			allowed = lim;
			l.reason = "ScaleDownLimit";
			l.message = "the desired replica count is decreasing faster than the maximum "
				    "scale rate";
		}
		if (desired < allowed) {
			l.replicas = allowed;
			return l;
		}
	}
	l.replicas = desired;
	l.reason = "DesiredWithinRange";
	l.message = "the desired count is within the acceptable range";
	return l;
}

static void store_event(struct hpa_scale_event **ev, size_t *n, const struct hpa__rules *r,
			int64_t now, int32_t change)
{
	int32_t longest = 0;
	int64_t cutoff;
	bool found = false;
	size_t old = 0;

	for (size_t i = 0; i < r->n_policies; i++) {
		if (r->policies[i].period > longest)
			longest = r->policies[i].period;
	}
	cutoff = hpa__time_add(now, -(int64_t)longest * NS_PER_S);
	for (size_t i = 0; i < *n; i++) {
		if ((*ev)[i].ts < cutoff)
			(*ev)[i].outdated = true;
		if ((*ev)[i].outdated) {
			found = true;
			old = i;
		}
	}
	if (found) {
		(*ev)[old] = (struct hpa_scale_event){ change, now, false };
		return;
	}
	*ev = xrealloc(*ev, (*n + 1) * sizeof(**ev));
	(*ev)[(*n)++] = (struct hpa_scale_event){ change, now, false };
}

void hpa__store_scale_event(struct hpa_history *h, int64_t now, const struct hpa__behavior *b,
			   int32_t prev, int32_t next)
{
	if (!b->present)
		return;
	if (next > prev)
		store_event(&h->up, &h->n_up, &b->up, now, next - prev);
	else
		store_event(&h->down, &h->n_down, &b->down, now, prev - next);
}
