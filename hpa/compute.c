/*
 * compute.c - computeReplicasForMetrics: selector validation (missing,
 * unparsable, ambiguous across HPAs), every spec metric in order, the
 * maximum proposal, and the "broken metric blocks scale-down" rule.
 */
#include "hpa/hpa_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keys ("ns/name") of the other HPAs whose scale selector picks one of the pods. */
static void other_selecting_hpas(const struct hpa__compute *x, const struct hpa__pods *pods,
				 struct hpa_names *keys)
{
	const json_t *e;
	size_t i;

	json_array_foreach(x->in->others, i, e) {
		const json_t *h = json_object_get(e, "horizontalPodAutoscaler");
		const char *name = jpath_str(h, "metadata.name");
		const char *ns = jpath_str(h, "metadata.namespace");
		const char *s = jpath_str(json_object_get(e, "scale"), "status.selector");
		char err[256];
		struct selector *sel;
		bool hit = false;

		if (!name || !s || !*s || (ns && strcmp(ns, x->ns) != 0) ||
		    (strcmp(name, x->name) == 0))
			continue;
		sel = selector_parse(s, err, sizeof(err));
		for (size_t k = 0; sel && k < pods->n && !hit; k++) {
			struct labels l;

			hpa_labels_from_json(jpath_get(pods->v[k].obj, "metadata.labels"), &l);
			hit = selector_matches(sel, &l);
			labels_clear(&l);
		}
		selector_free(sel);
		if (hit) {
			char *key = xasprintf("%s/%s", x->ns, name);

			hpa__names_add(keys, key);
			free(key);
		}
	}
}

static int ambiguous(struct hpa__compute *x, const char *selector, const struct hpa__pods *pods)
{
	struct hpa_names keys = { 0 };
	struct dynbuf b;
	char *self;

	if (pods->n == 0)
		return 0;
	self = xasprintf("%s/%s", x->ns, x->name);
	hpa__names_add(&keys, self);
	free(self);
	other_selecting_hpas(x, pods, &keys);
	if (keys.n <= 1) {
		hpa__names_clear(&keys);
		return 0;
	}
	hpa__names_sort(&keys);
	dynbuf_init(&b, DYN_SMALL);
	for (size_t i = 0; i < keys.n; i++)
		(void)!dynbuf_printf(&b, "%s%s", i ? " " : "", keys.v[i]);
	x->error = xasprintf("pods by selector %s are controlled by multiple HPAs: [%s]", selector,
			     b.buf);
	hpa__event_add(x->out, "Warning", "AmbiguousSelector", "%s", x->error);
	hpa__condition_set(x->conds, x->in->now, "ScalingActive", "False", "AmbiguousSelector", "%s",
			  x->error);
	dynbuf_clear(&b);
	hpa__names_clear(&keys);
	return ERR_INVAL;
}

/* validateAndParseSelector; on success *sel and *pods are set. */
static int validate_selector(struct hpa__compute *x, struct selector **sel, struct hpa__pods *pods)
{
	const char *s = jpath_str(x->in->scale, "status.selector");
	char perr[256];

	if (!s || !*s) {
		x->error = xstrdup("selector is required");
		hpa__event_add(x->out, "Warning", "SelectorRequired", "%s", x->error);
		hpa__condition_set(x->conds, x->in->now, "ScalingActive", "False", "InvalidSelector",
				  "the HPA target's scale is missing a selector");
		return ERR_INVAL;
	}
	*sel = selector_parse(s, perr, sizeof(perr));
	if (!*sel) {
		x->error = xasprintf("couldn't convert selector into a corresponding internal "
				     "selector object: %s",
				     perr);
		hpa__event_add(x->out, "Warning", "InvalidSelector", "%s", x->error);
		hpa__condition_set(x->conds, x->in->now, "ScalingActive", "False", "InvalidSelector",
				  "%s", x->error);
		return ERR_INVAL;
	}
	hpa__pods_select(x->in->pods, x->ns, *sel, pods);
	hpa__trace_add(&x->out->trace, "selector %s picks %zu pods", s, pods->n);
	return ambiguous(x, s, pods);
}

static json_t *empty_statuses(size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "type", json_string(""));
		json_array_append_new(arr, e);
	}
	return arr;
}

/* Evaluates every metric; returns the number of invalid ones. */
static size_t eval_all(struct hpa__compute *x, struct hpa__pass *p, struct hpa__metric_eval *first)
{
	size_t n = json_array_size(x->metrics), invalid = 0;

	for (size_t i = 0; i < n; i++) {
		struct hpa__metric_eval ev;

		hpa__metric_eval(p, json_array_get(x->metrics, i), i, &ev);
		if (!ev.ok) {
			if (invalid++ == 0)
				*first = ev;
			else
				hpa__metric_eval_clear(&ev);
			continue;
		}
		json_array_set(x->statuses, i, ev.status);
		if (x->replicas == 0 || ev.replicas > x->replicas) {
			x->replicas = ev.replicas;
			free(x->metric_name);
			x->metric_name = xstrdup(ev.name);
		}
		hpa__metric_eval_clear(&ev);
	}
	return invalid;
}

int hpa__compute_metrics(struct hpa__compute *x)
{
	struct selector *sel = NULL;
	struct hpa__pods pods = { 0 };
	struct hpa__metric_eval first = { 0 };
	struct hpa__pass p;
	size_t n = json_array_size(x->metrics), invalid;
	int rc = ERR_INVAL;

	x->replicas = 0;
	if (validate_selector(x, &sel, &pods) != 0)
		goto out;
	x->statuses = empty_statuses(n);
	p = (struct hpa__pass){ .in = x->in, .ns = x->ns, .selector = sel, .pods = &pods,
			       .spec_replicas = x->spec_replicas,
			       .status_replicas = x->status_replicas, .tol = x->tol, .out = x->out };
	invalid = eval_all(x, &p, &first);
	if (invalid)
		x->error = xasprintf("invalid metrics (%zu invalid out of %zu), first error is: %s",
				     invalid, n, first.error);
	if (invalid >= n || (invalid > 0 && x->replicas < x->spec_replicas)) {
		hpa__condition_set(x->conds, x->in->now, "ScalingActive", "False", first.cond_reason,
				  "%s", first.cond_message);
		goto out;
	}
	hpa__condition_set(x->conds, x->in->now, "ScalingActive", "True", "ValidMetricFound",
			  "the HPA was able to successfully calculate a replica count from %s",
			  x->metric_name);
	rc = 0;
out:
	hpa__metric_eval_clear(&first);
	hpa__pods_clear(&pods);
	selector_free(sel);
	return rc;
}
