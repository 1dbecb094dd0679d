/*
 * objects.c - the API objects the loop makes without any I/O: the
 * PodMetrics metrics-server would serve for a list of pods (read from a
 * store snapshot in-process), and the core/v1 Events client-go's recorder
 * writes for the HPA controller (component horizontal-pod-autoscaler).
 */
#include "hpaloop/hpaloop_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* metadata of a PodMetrics item: name, namespace, the pod's labels. */
static json_t *pod_metrics_meta(const json_t *pod, const char *ns, const char *name)
{
	const json_t *labels = jpath_get(pod, "metadata.labels");
	json_t *meta = json_pack("{s:s,s:s}", "name", name, "namespace", ns);

	if (json_is_object(labels) && json_object_size(labels))
		json_object_set_new(meta, "labels", json_deep_copy(labels));
	return meta;
}

static json_t *containers_json(const struct store_container_usage *cs, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		char cpu[32], mem[32];

		snprintf(cpu, sizeof(cpu), "%" PRIu64 "n", cs[i].cpu_nanocores);
		snprintf(mem, sizeof(mem), "%" PRIu64, cs[i].mem_bytes);
		json_array_append_new(arr, json_pack("{s:s,s:{s:s,s:s}}", "name", cs[i].name,
						     "usage", "cpu", cpu, "memory", mem));
	}
	return arr;
}

/* One PodMetrics, or NULL when the store has no servable usage for the pod. */
static json_t *pod_metrics_item(const struct store_snapshot *snap, const json_t *pod)
{
	const char *ns = jpath_str(pod, "metadata.namespace");
	const char *name = jpath_str(pod, "metadata.name");
	const struct store_container_usage *cs;
	struct store_usage t;
	char ts[40], window[40];
	json_t *item;
	size_t n;

	if (!ns || !name || store_pod_usage(snap, ns, name, &cs, &n, &t) != 0)
		return NULL;
	item = json_pack("{s:o,s:o}", "metadata", pod_metrics_meta(pod, ns, name), "containers",
			 containers_json(cs, n));
	if (t.ts_ns) {
		fmt_rfc3339(t.ts_ns, ts, sizeof(ts)); /* metav1.Time: whole seconds */
		json_object_set_new(item, "timestamp", json_string(ts));
	} else {
		json_object_set_new(item, "timestamp", json_null());
	}
	fmt_go_duration(t.window_ns, window, sizeof(window));
	json_object_set_new(item, "window", json_string(window));
	return item;
}

json_t *hpaloop__pod_metrics(const struct store_snapshot *snap, const json_t *pods)
{
	json_t *out = json_array();
	const json_t *pod;
	size_t i;

	json_array_foreach(pods, i, pod) {
		json_t *item = pod_metrics_item(snap, pod);

		if (item)
			json_array_append_new(out, item);
	}
	return out;
}

/* ---- Events ------------------------------------------------------------------ */

json_t *hpaloop__event_new(const json_t *hpa, const struct hpa_event *ev, int64_t now)
{
	const char *ns = jpath_str(hpa, "metadata.namespace");
	const char *name = jpath_str(hpa, "metadata.name");
	char ts[40];
	char *ename;
	json_t *e;

	ns = ns ? ns : "default";
	name = name ? name : "";
	fmt_rfc3339(now, ts, sizeof(ts));
	ename = xasprintf("%s.%" PRIx64, name, (uint64_t)now); /* "%v.%x", name, UnixNano */
	e = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s,s:s,s:s*,s:s,s:s*},s:s,s:s,s:s,s:{s:s},"
		      "s:s,s:s,s:i,s:n,s:s,s:s}",
		      "apiVersion", "v1", "kind", "Event", "metadata", "name", ename, "namespace", ns,
		      "involvedObject", "kind", "HorizontalPodAutoscaler", "namespace", ns, "name",
		      name, "uid", jpath_str(hpa, "metadata.uid"), "apiVersion", "autoscaling/v2",
		      "resourceVersion", jpath_str(hpa, "metadata.resourceVersion"), "reason",
		      ev->reason ? ev->reason : "", "message", ev->message ? ev->message : "",
		      "type", ev->type ? ev->type : "Normal", "source", "component",
		      HPALOOP_EVENT_COMPONENT, "firstTimestamp", ts, "lastTimestamp", ts, "count", 1,
		      "eventTime", "reportingComponent", HPALOOP_EVENT_COMPONENT, "reportingInstance", "");
	free(ename);
	return e;
}

json_t *hpaloop__event_repeat(const json_t *written, int64_t now)
{
	json_t *e = json_deep_copy(written);
	json_int_t count = json_integer_value(json_object_get(e, "count"));
	char ts[40];

	fmt_rfc3339(now, ts, sizeof(ts));
	json_object_set_new(e, "count", json_integer(count > 0 ? count + 1 : 2));
	json_object_set_new(e, "lastTimestamp", json_string(ts));
	return e;
}
