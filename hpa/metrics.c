/*
 * metrics.c - computeReplicasForMetric for each metric source type:
 * Resource, ContainerResource, Pods, Object, External with their target
 * types, producing the proposal, the MetricStatus, the metric's name used in
 * conditions and events, and upstream's error wrapping and condition.
 */
#include "hpa/hpa_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one source computation yields before the common wrapping. */
struct outcome {
	bool ok;
	int32_t replicas;
	char *err;       /* inner error (event text) */
	json_t *current; /* MetricValueStatus */
	char *name;
	char *mid;       /* prefix the source adds to the returned error, or NULL */
};

void hpa__event_add(struct hpa_result *out, const char *type, const char *reason,
		   const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup("");
	va_end(ap);
	out->events = xrealloc(out->events, (out->n_events + 1) * sizeof(*out->events));
	out->events[out->n_events++] = (struct hpa_event){ xstrdup(type), xstrdup(reason), msg };
}

static json_t *milli_json(int64_t milli)
{
	char buf[64];

	hpa__fmt_milli(milli, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *current_json(const char *key, int64_t milli)
{
	json_t *o = json_object();

	json_object_set_new(o, key, milli_json(milli));
	return o;
}

/* MetricIdentifier {name, selector?} from the spec's metric. */
static json_t *metric_id_json(const json_t *metric)
{
	json_t *o = json_object();
	const json_t *sel = json_object_get(metric, "selector");

	json_object_set_new(o, "name", json_string(jpath_str(metric, "name") ? jpath_str(metric, "name")
										: ""));
	if (sel && !json_is_null(sel))
		json_object_set_new(o, "selector", json_deep_copy(sel));
	return o;
}

static void take_names(struct hpa_metric_detail *d, struct hpa__calc *c)
{
	d->ready = c->ready;
	d->unready = c->unready;
	d->missing = c->missing;
	d->ignored = c->ignored;
	memset(&c->ready, 0, sizeof(c->ready));
	memset(&c->unready, 0, sizeof(c->unready));
	memset(&c->missing, 0, sizeof(c->missing));
	memset(&c->ignored, 0, sizeof(c->ignored));
}

static void calc_init(struct hpa__calc *c, const struct hpa__pass *p, int32_t current,
		      struct hpa_metric_detail *d)
{
	memset(c, 0, sizeof(*c));
	c->pods = p->pods;
	c->now = p->in->now;
	c->cpu_init_ns = p->in->opts.cpu_init_period_ns;
	c->readiness_delay_ns = p->in->opts.readiness_delay_ns;
	c->tol = p->tol;
	c->current = current;
	c->trace = &d->trace;
}

/* calculateRequests: every listed pod's request; the first error (caller frees). */
static char *set_requests(const struct hpa__pass *p, const char *res, const char *container)
{
	char *first = NULL, *err;

	for (size_t i = 0; i < p->pods->n; i++) {
		struct hpa__pod *pod = &p->pods->v[i];

		pod->request = 0;
		if (hpa__pod_request(pod, res, container, p->in->opts.gate_pod_level_resources,
				    &pod->request, &err) != 0) {
			if (!first)
				first = err;
			else
				free(err);
		}
	}
	return first;
}

static void resource_util(const struct hpa__pass *p, const char *res, const char *container,
			  int32_t target, struct hpa_metric_detail *d, struct outcome *o)
{
	struct hpa__fetched f;
	struct hpa__calc c;
	char *ferr = NULL, *rerr = NULL;

	calc_init(&c, p, p->spec_replicas, d);
	if (hpa__fetch_resource(p, res, container, &f, &ferr) != 0) {
		o->err = xasprintf("failed to get %s utilization: %s", res, ferr);
		goto out;
	}
	rerr = set_requests(p, res, container);
	c.metrics = f.v;
	c.n_metrics = f.n;
	c.request_error = rerr;
	c.cpu = strcmp(res, "cpu") == 0;
	if (hpa__calc_utilization(&c, target) != 0) {
		o->err = xasprintf("failed to get %s utilization: %s", res, c.error);
	} else {
		o->ok = true;
		o->replicas = c.replicas;
		d->has_utilization = d->has_raw_average = true;
		d->utilization = c.utilization;
		d->raw_average = c.raw_average;
		o->current = current_json("averageValue", c.raw_average);
		json_object_set_new(o->current, "averageUtilization", json_integer(c.utilization));
		o->name = xasprintf("%s %sresource utilization (percentage of request)", res,
				    *container ? "container " : "");
	}
	take_names(d, &c);
out:
	hpa__calc_clear(&c);
	hpa__fetched_clear(&f);
	free(ferr);
	free(rerr);
}

/* GetRawResourceReplicas and GetMetricReplicas (Pods). */
static void plain(const struct hpa__pass *p, const char *res, const char *container,
		  const char *metric, const json_t *msel, int64_t target,
		  struct hpa_metric_detail *d, struct outcome *o)
{
	struct hpa__fetched f;
	struct hpa__calc c;
	char *ferr = NULL;
	int rc;

	calc_init(&c, p, p->spec_replicas, d);
	rc = res ? hpa__fetch_resource(p, res, container, &f, &ferr)
		 : hpa__fetch_pods(p, metric, msel, &f, &ferr);
	if (rc == 0) {
		c.metrics = f.v;
		c.n_metrics = f.n;
		c.cpu = res && strcmp(res, "cpu") == 0;
		rc = hpa__calc_plain(&c, target);
		ferr = rc ? xstrdup(c.error) : NULL;
		take_names(d, &c);
	}
	if (rc != 0) {
		o->err = res ? xasprintf("failed to get %s usage: %s", res, ferr) : xstrdup(ferr);
	} else {
		o->ok = true;
		o->replicas = c.replicas;
		d->has_raw_average = d->has_usage = true;
		d->raw_average = d->usage = c.usage;
		o->current = current_json("averageValue", c.usage);
		o->name = res ? xasprintf("%s resource", res) : xasprintf("pods metric %s", metric);
	}
	hpa__calc_clear(&c);
	hpa__fetched_clear(&f);
	free(ferr);
}

static void eval_resource(const struct hpa__pass *p, const json_t *src, bool is_container,
			  struct hpa_metric_detail *d, struct outcome *o)
{
	const char *res = jpath_str(src, "name");
	const char *container = is_container ? jpath_str(src, "container") : "";
	const json_t *avg = jpath_get(src, "target.averageValue");
	const json_t *util = jpath_get(src, "target.averageUtilization");
	int64_t target;

	if (!res || !container) {
		o->err = xstrdup("invalid resource metric source: the resource name (and container) "
				 "must be set");
	} else if (avg && !json_is_null(avg)) {
		if (hpa__jmilli(avg, &target) != 0 || target <= 0)
			o->err = xstrdup("invalid resource metric source: averageValue must be a "
					 "positive quantity");
		else
			plain(p, res, container, NULL, NULL, target, d, o);
	} else if (!json_is_integer(util)) {
		o->err = xstrdup("invalid resource metric source: neither an average utilization "
				 "target nor an average value (usage) target was set");
	} else if (json_integer_value(util) <= 0) {
		o->err = xstrdup("invalid resource metric source: averageUtilization must be at "
				 "least 1");
	} else {
		resource_util(p, res, container, hpa_sat_i32(json_integer_value(util)), d, o);
	}
}

static void eval_pods(const struct hpa__pass *p, const json_t *src, struct hpa_metric_detail *d,
		      struct outcome *o)
{
	const char *metric = jpath_str(src, "metric.name");
	const json_t *msel = jpath_get(src, "metric.selector");
	char serr[256];
	struct selector *sel = hpa_label_selector(msel, serr, sizeof(serr));
	int64_t target;

	if (!sel)
		o->err = xstrdup(serr);
	else if (!metric)
		o->err = xstrdup("invalid pods metric source: metric.name must be set");
	else if (hpa__jmilli(jpath_get(src, "target.averageValue"), &target) != 0 || target <= 0)
		o->err = xstrdup("invalid pods metric source: an average value target must be set");
	else
		plain(p, NULL, NULL, metric, msel, target, d, o);
	selector_free(sel);
}

/* Object/External Value targets: getUsageRatioReplicaCount. */
static void usage_ratio_count(const struct hpa__pass *p, int64_t usage, int64_t target,
			      struct hpa_metric_detail *d, struct outcome *o)
{
	struct hpa__calc c;
	double ratio = (double)usage / (double)target;

	calc_init(&c, p, p->spec_replicas, d);
	d->has_usage = true;
	d->usage = usage;
	hpa__trace_add(&d->trace, "value %lldm, target %lldm -> ratio %.4f", (long long)usage,
		      (long long)target, ratio);
	if (hpa__calc_usage_ratio(&c, ratio) == 0) {
		o->ok = true;
		o->replicas = c.replicas;
		o->current = current_json("value", usage);
	} else {
		o->err = xstrdup(c.error);
	}
	take_names(d, &c);
	hpa__calc_clear(&c);
}

static void per_pod_count(const struct hpa__pass *p, int64_t usage, int64_t target,
			  struct hpa_metric_detail *d, struct outcome *o)
{
	int64_t per_pod;

	hpa__calc_per_pod(usage, target, p->status_replicas, &p->tol, &o->replicas, &per_pod,
			 &d->trace);
	o->ok = true;
	d->has_usage = d->has_raw_average = true;
	d->usage = usage;
	d->raw_average = per_pod;
	o->current = current_json("averageValue", per_pod);
}

static void eval_object(const struct hpa__pass *p, const json_t *src, struct hpa_metric_detail *d,
			struct outcome *o)
{
	const char *metric = jpath_str(src, "metric.name"), *type = jpath_str(src, "target.type");
	const json_t *msel = jpath_get(src, "metric.selector"), *obj = jpath_get(src, "describedObject");
	char serr[256], *gostr;
	struct selector *sel = hpa_label_selector(msel, serr, sizeof(serr));
	bool value = type && strcmp(type, "Value") == 0;
	int64_t target, usage;

	if (!sel) {
		o->err = xstrdup(serr);
	} else if (!metric || !(value || (type && strcmp(type, "AverageValue") == 0)) ||
		   hpa__jmilli(jpath_get(src, value ? "target.value" : "target.averageValue"),
			      &target) != 0 ||
		   target <= 0) {
		o->err = xstrdup("invalid object metric source: neither a value target nor an "
				 "average value target was set");
	} else if (hpa__fetch_object(p, obj, metric, msel, &usage, &o->err) == 0) {
		if (value) {
			usage_ratio_count(p, usage, target, d, o);
			o->name = xasprintf("%s metric %s", jpath_str(obj, "kind"), metric);
		} else {
			per_pod_count(p, usage, target, d, o);
			gostr = hpa__label_selector_gostr(msel);
			o->name = xasprintf("external metric %s(%s)", metric, gostr);
			free(gostr);
		}
	}
	if (o->err && !value && sel && metric && type && strcmp(type, "AverageValue") == 0 &&
	    strncmp(o->err, "invalid object", 14) != 0)
		o->mid = xasprintf("failed to get %s object metric: ", metric);
	selector_free(sel);
}

static void eval_external(const struct hpa__pass *p, const json_t *src,
			  struct hpa_metric_detail *d, struct outcome *o)
{
	const char *metric = jpath_str(src, "metric.name");
	const json_t *msel = jpath_get(src, "metric.selector");
	const json_t *avg = jpath_get(src, "target.averageValue"), *val = jpath_get(src, "target.value");
	bool per_pod = avg && !json_is_null(avg);
	int64_t target, usage;
	char *gostr;

	if (!metric || (!per_pod && (!val || json_is_null(val)))) {
		o->err = xstrdup("invalid external metric source: neither a value target nor an "
				 "average value target was set");
		return;
	}
	if (hpa__jmilli(per_pod ? avg : val, &target) != 0 || target <= 0) {
		o->err = xstrdup("invalid external metric source: the target must be a positive "
				 "quantity");
		return;
	}
	o->mid = per_pod ? xasprintf("failed to get %s external metric: ", metric)
			 : xasprintf("failed to get external metric %s: ", metric);
	if (hpa__fetch_external(p, metric, msel, per_pod, &usage, &o->err) != 0)
		return;
	if (per_pod)
		per_pod_count(p, usage, target, d, o);
	else
		usage_ratio_count(p, usage, target, d, o);
	gostr = hpa__label_selector_gostr(msel);
	o->name = xasprintf("external metric %s(%s)", metric, gostr);
	free(gostr);
}

/* The MetricStatus for a successful computation. */
static json_t *metric_status(const char *type, const json_t *spec, json_t *current)
{
	const char *key = strcmp(type, "ContainerResource") == 0 ? "containerResource"
			  : strcmp(type, "Resource") == 0	 ? "resource"
			  : strcmp(type, "Pods") == 0		 ? "pods"
			  : strcmp(type, "Object") == 0		 ? "object"
								 : "external";
	const json_t *src = json_object_get(spec, key);
	json_t *st = json_object(), *m = json_object();

	json_object_set_new(st, "type", json_string(type));
	if (key[0] == 'r' || key[0] == 'c') {
		json_object_set_new(m, "name", json_string(jpath_str(src, "name")));
		if (key[0] == 'c')
			json_object_set_new(m, "container", json_string(jpath_str(src, "container")));
	} else {
		json_object_set_new(m, "metric", metric_id_json(json_object_get(src, "metric")));
	}
	json_object_set_new(m, "current", current);
	if (key[0] == 'o')
		json_object_set_new(m, "describedObject",
				    json_deep_copy(json_object_get(src, "describedObject")));
	json_object_set_new(st, key, m);
	return st;
}

/* Condition reason and outer error prefix per source type. */
static void failure_names(const char *type, const json_t *spec, const char **reason, char **prefix)
{
	if (strcmp(type, "Resource") == 0) {
		*reason = "FailedGetResourceMetric";
		*prefix = xasprintf("failed to get %s resource metric value: ",
				    jpath_str(spec, "resource.name") ? jpath_str(spec, "resource.name") : "");
	} else if (strcmp(type, "ContainerResource") == 0) {
		*reason = "FailedGetContainerResourceMetric";
		*prefix = xasprintf("failed to get %s container metric value: ",
				    jpath_str(spec, "containerResource.container")
					    ? jpath_str(spec, "containerResource.container")
					    : "");
	} else if (strcmp(type, "Pods") == 0) {
		*reason = "FailedGetPodsMetric";
		*prefix = xstrdup("failed to get pods metric value: ");
	} else if (strcmp(type, "Object") == 0) {
		*reason = "FailedGetObjectMetric";
		*prefix = xstrdup("failed to get object metric value: ");
	} else {
		*reason = "FailedGetExternalMetric";
		*prefix = xasprintf("failed to get %s external metric value: ",
				    jpath_str(spec, "external.metric.name")
					    ? jpath_str(spec, "external.metric.name")
					    : "");
	}
}

static void dispatch(const struct hpa__pass *p, const char *type, const json_t *spec,
		     struct hpa_metric_detail *d, struct outcome *o)
{
	if (strcmp(type, "Resource") == 0)
		eval_resource(p, json_object_get(spec, "resource"), false, d, o);
	else if (strcmp(type, "ContainerResource") == 0)
		eval_resource(p, json_object_get(spec, "containerResource"), true, d, o);
	else if (strcmp(type, "Pods") == 0)
		eval_pods(p, json_object_get(spec, "pods"), d, o);
	else if (strcmp(type, "Object") == 0)
		eval_object(p, json_object_get(spec, "object"), d, o);
	else
		eval_external(p, json_object_get(spec, "external"), d, o);
}

static bool known_type(const char *t)
{
	static const char *const types[] = { "Resource", "ContainerResource", "Pods", "Object",
					     "External" };

	for (size_t i = 0; i < COMMON_ARRAY_LEN(types); i++) {
		if (strcmp(t, types[i]) == 0)
			return true;
	}
	return false;
}

void hpa__metric_eval(struct hpa__pass *p, const json_t *spec, size_t i, struct hpa__metric_eval *ev)
{
	struct hpa_metric_detail *d = &p->out->metrics[i];
	const char *type = jpath_str(spec, "type"), *reason;
	struct outcome o = { 0 };
	char *prefix = NULL;

	memset(ev, 0, sizeof(*ev));
	d->evaluated = true;
	if (!type || !known_type(type)) {
		o.err = xasprintf("unknown metric source type \"%s\"", type ? type : "");
		reason = "InvalidMetricSourceType";
		prefix = xstrdup("");
	} else {
		dispatch(p, type, spec, d, &o);
		failure_names(type, spec, &reason, &prefix);
	}
	if (o.ok) {
		ev->ok = d->has_proposed = true;
		ev->replicas = d->proposed = o.replicas;
		ev->name = o.name;
		ev->status = metric_status(type, spec, o.current);
		hpa__trace_add(&d->trace, "%s proposes %d replicas", o.name, (int)o.replicas);
	} else {
		hpa__event_add(p->out, "Warning", reason, "%s", o.err);
		ev->cond_reason = xstrdup(reason);
		ev->cond_message = xasprintf("the HPA was unable to compute the replica count: %s",
					     o.err);
		ev->error = xasprintf("%s%s%s", prefix, o.mid ? o.mid : "", o.err);
		d->error = o.err;
		json_decref(o.current);
		free(o.name);
	}
	free(o.mid);
	free(prefix);
}

void hpa__metric_eval_clear(struct hpa__metric_eval *ev)
{
	free(ev->name);
	json_decref(ev->status);
	free(ev->error);
	free(ev->cond_reason);
	free(ev->cond_message);
	memset(ev, 0, sizeof(*ev));
}
