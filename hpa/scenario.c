/*
 * scenario.c - loads an `hpa explain` scenario file (JSON, or YAML) into an
 * hpa_input: `now`, `controller` options and feature gates, the HPA, Scale,
 * pods and metric values, the controller history, declared failures, and
 * the other HPAs of the namespace.  Unknown fields are refused so typos are
 * caught.
 */
#include "hpa/hpa_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCENARIO_MAX_HISTORY 100000

static const char *const top_fields[] = {
	"now",	   "controller",    "horizontalPodAutoscaler", "scale",
	"pods",	   "podMetrics",    "customMetrics",	       "externalMetrics",
	"history", "failures",	    "otherHorizontalPodAutoscalers",
};

static int fail(char *err, size_t errlen, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	return ERR_INVAL;
}

static int check_fields(const json_t *o, const char *const *names, size_t n, const char *where,
			char *err, size_t errlen)
{
	const char *k;
	const json_t *v;

	json_object_foreach((json_t *)o, k, v) {
		size_t i;

		for (i = 0; i < n && strcmp(k, names[i]) != 0; i++)
			;
		if (i == n) {
			snprintf(err, errlen, "%s: unknown field \"%s\"", where, k);
			return ERR_INVAL;
		}
	}
	return 0;
}

/* A duration given as seconds (number) or a Go duration string. */
static int duration_field(const json_t *c, const char *key, int64_t *ns, char *err, size_t errlen)
{
	const json_t *v = json_object_get(c, key);

	if (!v || json_is_null(v))
		return 0;
	if (json_is_number(v) && json_number_value(v) >= 0 && json_number_value(v) < 1e9) {
		*ns = (int64_t)(json_number_value(v) * (double)NS_PER_SEC);
		return 0;
	}
	if (json_is_string(v) && parse_go_duration(json_string_value(v), ns) == 0 && *ns >= 0)
		return 0;
	return fail(err, errlen, "controller.%s: seconds or a duration like \"5m\" expected", key);
}

static int number_field(const json_t *c, const char *key, double *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(c, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_number(v) || json_number_value(v) < 0)
		return fail(err, errlen, "controller.%s: a non-negative number expected", key);
	*out = json_number_value(v);
	return 0;
}

static int gates(const json_t *g, struct hpa_options *o, char *err, size_t errlen)
{
	static const char *const names[] = { "HPAScaleToZero", "HPAConfigurableTolerance",
					     "PodLevelResources" };
	bool *dst[] = { &o->gate_scale_to_zero, &o->gate_configurable_tolerance,
			&o->gate_pod_level_resources };

	if (!g || json_is_null(g))
		return 0;
	if (!json_is_object(g))
		return fail(err, errlen, "%s: an object of booleans expected",
			    "controller.featureGates");
	if (check_fields(g, names, COMMON_ARRAY_LEN(names), "controller.featureGates", err,
			 errlen) != 0)
		return ERR_INVAL;
	for (size_t i = 0; i < COMMON_ARRAY_LEN(names); i++) {
		const json_t *v = json_object_get(g, names[i]);

		if (v && !json_is_boolean(v))
			return fail(err, errlen, "controller.featureGates.%s: a boolean expected",
				    names[i]);
		if (v)
			*dst[i] = json_is_true(v);
	}
	return 0;
}

static int controller(const json_t *c, struct hpa_options *o, char *err, size_t errlen)
{
	static const char *const names[] = { "tolerance",
					     "downscaleStabilizationWindowSeconds",
					     "cpuInitializationPeriodSeconds",
					     "initialReadinessDelaySeconds",
					     "scaleUpLimitFactor",
					     "scaleUpLimitMinimum",
					     "featureGates" };

	hpa_options_default(o);
	if (!c || json_is_null(c))
		return 0;
	if (!json_is_object(c))
		return fail(err, errlen, "%s: an object expected", "controller");
	if (check_fields(c, names, COMMON_ARRAY_LEN(names), "controller", err, errlen) != 0 ||
	    number_field(c, "tolerance", &o->tolerance, err, errlen) != 0 ||
	    duration_field(c, names[1], &o->downscale_window_ns, err, errlen) != 0 ||
	    duration_field(c, names[2], &o->cpu_init_period_ns, err, errlen) != 0 ||
	    duration_field(c, names[3], &o->readiness_delay_ns, err, errlen) != 0 ||
	    number_field(c, names[4], &o->scale_up_limit_factor, err, errlen) != 0 ||
	    number_field(c, names[5], &o->scale_up_limit_minimum, err, errlen) != 0)
		return ERR_INVAL;
	return gates(json_object_get(c, "featureGates"), o, err, errlen);
}

static int history_events(const json_t *arr, const char *what, struct hpa_scale_event **ev,
			  size_t *n, char *err, size_t errlen)
{
	const json_t *e;
	size_t i;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > SCENARIO_MAX_HISTORY)
		return fail(err, errlen, "history.%s: a list expected", what);
	*ev = xcalloc(json_array_size(arr) + 1, sizeof(**ev));
	json_array_foreach(arr, i, e) {
		struct hpa_scale_event *s = &(*ev)[i];
		const json_t *rc = json_object_get(e, "replicaChange");

		if (!json_is_integer(rc) || hpa__jtime(e, "timestamp", &s->ts) != 0 ||
		    s->ts == HPA_TIME_ZERO)
			return fail(err, errlen, "history.%s: entries need replicaChange and an "
						 "RFC 3339 timestamp",
				    what);
		s->change = hpa_sat_i32(json_integer_value(rc));
		s->outdated = json_is_true(json_object_get(e, "outdated"));
		(*n)++;
	}
	return 0;
}

static int history(const json_t *h, struct hpa_history *out, char *err, size_t errlen)
{
	static const char *const names[] = { "recommendations", "scaleUpEvents",
					     "scaleDownEvents" };
	const json_t *recs = json_object_get(h, "recommendations"), *e;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!h || json_is_null(h))
		return 0;
	if (!json_is_object(h))
		return fail(err, errlen, "%s: an object expected", "history");
	if (check_fields(h, names, COMMON_ARRAY_LEN(names), "history", err, errlen) != 0)
		return ERR_INVAL;
	if (recs && !json_is_null(recs)) {
		if (!json_is_array(recs) || json_array_size(recs) > SCENARIO_MAX_HISTORY)
			return fail(err, errlen, "%s: a list expected", "history.recommendations");
		out->seen = true;
		out->recs = xcalloc(json_array_size(recs) + 1, sizeof(*out->recs));
		json_array_foreach(recs, i, e) {
			struct hpa_recommendation *r = &out->recs[out->n_recs];

			if (!json_is_integer(json_object_get(e, "replicas")) ||
			    hpa__jtime(e, "timestamp", &r->ts) != 0 || r->ts == HPA_TIME_ZERO)
				return fail(err, errlen, "%s: entries need replicas and an RFC 3339 "
							 "timestamp",
					    "history.recommendations");
			r->replicas = hpa_sat_i32(jpath_int(e, "replicas", 0));
			out->n_recs++;
		}
	}
	if (history_events(json_object_get(h, "scaleUpEvents"), "scaleUpEvents", &out->up,
			   &out->n_up, err, errlen) != 0)
		return ERR_INVAL;
	return history_events(json_object_get(h, "scaleDownEvents"), "scaleDownEvents", &out->down,
			      &out->n_down, err, errlen);
}

/* A failure flag: false/absent = none, true = def, a string = that text.  Takes def. */
static int failure_text(const json_t *v, const char *what, char *def, char **out, char *err,
			size_t errlen)
{
	int rc = 0;

	*out = NULL;
	if (json_is_true(v)) {
		*out = def;
		return 0;
	}
	if (json_is_string(v) && *json_string_value(v))
		*out = xstrdup(json_string_value(v));
	else if (v && !json_is_null(v) && !json_is_false(v))
		rc = fail(err, errlen, "failures.%s: a boolean or an error text expected", what);
	free(def);
	return rc;
}

static int failing_apis(const json_t *list, unsigned *bits, char *err, size_t errlen)
{
	static const char *const groups[] = { "metrics.k8s.io", "custom.metrics.k8s.io",
					      "external.metrics.k8s.io" };
	const json_t *g;
	size_t i;

	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return fail(err, errlen, "%s: a list of API groups expected", "failures.metricsAPIs");
	json_array_foreach(list, i, g) {
		size_t k;

		for (k = 0; k < COMMON_ARRAY_LEN(groups); k++) {
			if (json_is_string(g) && strcmp(json_string_value(g), groups[k]) == 0)
				break;
		}
		if (k == COMMON_ARRAY_LEN(groups))
			return fail(err, errlen, "failures.metricsAPIs: unknown API group %s",
				    json_is_string(g) ? json_string_value(g) : "(not a string)");
		*bits |= 1u << k;
	}
	return 0;
}

static int failures(struct hpa_scenario *sc, const json_t *f, char *err, size_t errlen)
{
	static const char *const names[] = { "metricsAPIs", "scaleGet", "scaleUpdate" };
	const json_t *hpa = sc->in.hpa;
	char *gr = hpa_group_resource(jpath_str(hpa, "spec.scaleTargetRef.apiVersion"),
				      jpath_str(hpa, "spec.scaleTargetRef.kind")
					      ? jpath_str(hpa, "spec.scaleTargetRef.kind")
					      : "");
	const char *name = jpath_str(hpa, "spec.scaleTargetRef.name");
	int rc = ERR_INVAL;

	if (!name)
		name = "";
	if (f && !json_is_null(f) && !json_is_object(f))
		fail(err, errlen, "%s: an object expected", "failures");
	else if (check_fields(f, names, COMMON_ARRAY_LEN(names), "failures", err, errlen) == 0 &&
		 failing_apis(json_object_get(f, "metricsAPIs"), &sc->in.failing_apis, err,
			      errlen) == 0 &&
		 failure_text(json_object_get(f, "scaleGet"), "scaleGet",
			      xasprintf("%s \"%s\" not found", gr, name), &sc->scale_get_error, err,
			      errlen) == 0 &&
		 failure_text(json_object_get(f, "scaleUpdate"), "scaleUpdate",
			      xasprintf("the server is currently unable to handle the request "
					"(put %s %s)",
					gr, name),
			      &sc->scale_update_error, err, errlen) == 0)
		rc = 0;
	free(gr);
	sc->in.scale_get_error = sc->scale_get_error;
	sc->in.scale_update_error = sc->scale_update_error;
	return rc;
}

static int list_field(const json_t *doc, const char *key, const json_t **out, char *err,
		      size_t errlen)
{
	const json_t *v = json_object_get(doc, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return fail(err, errlen, "%s: a list expected", key);
	*out = v;
	return 0;
}

static int fill(struct hpa_scenario *sc, char *err, size_t errlen)
{
	const json_t *d = sc->doc;
	const char *now = jpath_str(d, "now");

	if (!json_is_object(d))
		return fail(err, errlen, "%s", "scenario: a JSON or YAML object expected");
	if (check_fields(d, top_fields, COMMON_ARRAY_LEN(top_fields), "scenario", err, errlen) != 0)
		return ERR_INVAL;
	if (!now || parse_rfc3339(now, &sc->in.now) != 0)
		return fail(err, errlen, "%s", "now: an RFC 3339 time is required");
	sc->in.hpa = json_object_get(d, "horizontalPodAutoscaler");
	sc->in.scale = json_object_get(d, "scale");
	if (!json_is_object(sc->in.hpa))
		return fail(err, errlen, "%s", "horizontalPodAutoscaler: an object is required");
	if (controller(json_object_get(d, "controller"), &sc->in.opts, err, errlen) != 0 ||
	    list_field(d, "pods", &sc->in.pods, err, errlen) != 0 ||
	    list_field(d, "podMetrics", &sc->in.pod_metrics, err, errlen) != 0 ||
	    list_field(d, "customMetrics", &sc->in.custom_metrics, err, errlen) != 0 ||
	    list_field(d, "externalMetrics", &sc->in.external_metrics, err, errlen) != 0 ||
	    list_field(d, "otherHorizontalPodAutoscalers", &sc->in.others, err, errlen) != 0 ||
	    history(json_object_get(d, "history"), &sc->history, err, errlen) != 0 ||
	    failures(sc, json_object_get(d, "failures"), err, errlen) != 0)
		return ERR_INVAL;
	return 0;
}

int hpa_scenario_parse(const char *text, size_t len, struct hpa_scenario *sc, char *err,
		       size_t errlen)
{
	json_error_t je;
	size_t i = 0;

	memset(sc, 0, sizeof(*sc));
	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
		i++;
	if (i < len && text[i] == '{') {
		sc->doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
		if (!sc->doc) {
			snprintf(err, errlen, "json: line %d: %s", je.line, je.text);
			return ERR_PARSE;
		}
	} else {
		sc->doc = yamldoc_to_json(text, len, err, errlen);
		if (!sc->doc)
			return ERR_PARSE;
	}
	return fill(sc, err, errlen);
}

int hpa_scenario_load(const char *path, struct hpa_scenario *sc, char *err, size_t errlen)
{
	struct dynbuf b;
	int rc;

	memset(sc, 0, sizeof(*sc));
	dynbuf_init(&b, HPA_SCENARIO_MAX_BYTES);
	rc = dynbuf_read_file(&b, path);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", path, rc == ERR_TOOBIG ? "file too large" :
						       "cannot read the file");
		dynbuf_clear(&b);
		return rc;
	}
	rc = hpa_scenario_parse(b.buf ? b.buf : "", b.len, sc, err, errlen);
	dynbuf_clear(&b);
	return rc;
}

void hpa_scenario_clear(struct hpa_scenario *sc)
{
	json_decref(sc->doc);
	hpa_history_clear(&sc->history);
	free(sc->scale_get_error);
	free(sc->scale_update_error);
	memset(sc, 0, sizeof(*sc));
}
