/*
 * pods.c - the v1 Pod fields the replica calculator reads: phase, deletion,
 * start time, the Ready condition, and resource requests as
 * calculateRequests sums them (pod-level requests, containers, sidecars).
 */
#include "hpa/hpa_int.h"

#include <stdlib.h>
#include <string.h>

static enum hpa__phase parse_phase(const char *s)
{
	if (!s)
		return HPA_PHASE_OTHER;
	if (strcmp(s, "Pending") == 0)
		return HPA_PHASE_PENDING;
	if (strcmp(s, "Running") == 0)
		return HPA_PHASE_RUNNING;
	if (strcmp(s, "Succeeded") == 0)
		return HPA_PHASE_SUCCEEDED;
	if (strcmp(s, "Failed") == 0)
		return HPA_PHASE_FAILED;
	return HPA_PHASE_OTHER;
}

static int parse_ready(const json_t *obj, struct hpa__pod *p)
{
	const json_t *c;
	size_t i;

	p->ready = HPA_COND_NONE;
	p->ready_ltt = HPA_TIME_ZERO;
	json_array_foreach(jpath_array(obj, "status.conditions"), i, c) {
		const char *type = jpath_str(c, "type"), *st = jpath_str(c, "status");

		if (!type || strcmp(type, "Ready") != 0)
			continue;
		if (st && strcmp(st, "True") == 0)
			p->ready = HPA_COND_TRUE;
		else if (st && strcmp(st, "False") == 0)
			p->ready = HPA_COND_FALSE;
		else
			p->ready = HPA_COND_UNKNOWN;
		return hpa__jtime(c, "lastTransitionTime", &p->ready_ltt);
	}
	return 0;
}

int hpa__pod_parse(const json_t *obj, struct hpa__pod *p)
{
	const json_t *del;

	memset(p, 0, sizeof(*p));
	p->obj = obj;
	p->name = jpath_str(obj, "metadata.name");
	if (!p->name)
		return ERR_PARSE;
	del = jpath_get(obj, "metadata.deletionTimestamp");
	p->deleted = del && !json_is_null(del);
	p->phase = parse_phase(jpath_str(obj, "status.phase"));
	if (hpa__jtime(obj, "status.startTime", &p->start) != 0)
		return ERR_PARSE;
	p->has_start = p->start != HPA_TIME_ZERO;
	return parse_ready(obj, p);
}

void hpa__pods_select(const json_t *pods, const char *ns, const struct selector *sel,
		     struct hpa__pods *out)
{
	const json_t *obj;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!sel || !json_is_array(pods))
		return;
	out->v = xcalloc(json_array_size(pods) + 1, sizeof(*out->v));
	json_array_foreach(pods, i, obj) {
		const char *pns = jpath_str(obj, "metadata.namespace");
		struct labels l;
		bool match;

		if (pns && ns && strcmp(pns, ns) != 0)
			continue;
		hpa_labels_from_json(jpath_get(obj, "metadata.labels"), &l);
		match = selector_matches(sel, &l);
		labels_clear(&l);
		if (match && hpa__pod_parse(obj, &out->v[out->n]) == 0)
			out->n++;
	}
}

void hpa__pods_clear(struct hpa__pods *p)
{
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

/* Request of one container: 0 ok, ERR_NOTFOUND when absent. */
static int container_request(const json_t *c, const char *resource, int64_t *milli)
{
	const json_t *q = json_object_get(jpath_get(c, "resources.requests"), resource);

	return q && hpa__jmilli(q, milli) == 0 ? 0 : ERR_NOTFOUND;
}

static bool pod_level_requests_set(const json_t *obj)
{
	const json_t *r = jpath_get(obj, "spec.resources.requests");

	return json_is_object(r) && (json_object_get(r, "cpu") || json_object_get(r, "memory"));
}

/* The containers calculateRequests looks at: spec.containers, then sidecars. */
static size_t collect_containers(const json_t *obj, const json_t **out, size_t max)
{
	const json_t *c;
	size_t i, n = 0;

	json_array_foreach(jpath_array(obj, "spec.containers"), i, c) {
		if (n < max)
			out[n++] = c;
	}
	json_array_foreach(jpath_array(obj, "spec.initContainers"), i, c) {
		const char *rp = jpath_str(c, "restartPolicy");

		if (rp && strcmp(rp, "Always") == 0 && n < max)
			out[n++] = c;
	}
	return n;
}

#define POD_MAX_CONTAINERS 512

static int containers_request(const struct hpa__pod *p, const char *resource,
			      const char *container, int64_t *milli, char **err)
{
	const json_t *cs[POD_MAX_CONTAINERS];
	size_t n = collect_containers(p->obj, cs, POD_MAX_CONTAINERS);
	int64_t sum = 0, v;

	for (size_t i = 0; i < n; i++) {
		const char *cname = jpath_str(cs[i], "name");
		bool named = container && *container && cname && strcmp(cname, container) == 0;

		if (!*container || named) {
			if (container_request(cs[i], resource, &v) != 0) {
				*err = xasprintf("missing request for %s in container %s of Pod %s",
						 resource, cname ? cname : "", p->name);
				return ERR_NOTFOUND;
			}
			sum = (v > 0 && sum > INT64_MAX - v) ? INT64_MAX : sum + v;
		}
		if (named) {
			*milli = sum;
			return 0;
		}
	}
	if (*container) {
		*err = xasprintf("container %s not found in Pod %s", container, p->name);
		return ERR_NOTFOUND;
	}
	*milli = sum;
	return 0;
}

/* PodRequests for a resource not set at pod level: what the containers request. */
static int pod_aggregate_request(const struct hpa__pod *p, const char *resource, int64_t *milli,
				 char **err)
{
	const json_t *cs[POD_MAX_CONTAINERS];
	size_t n = collect_containers(p->obj, cs, POD_MAX_CONTAINERS);
	int64_t sum = 0, v;
	bool found = false;

	for (size_t i = 0; i < n; i++) {
		if (container_request(cs[i], resource, &v) != 0)
			continue;
		found = true;
		sum = (v > 0 && sum > INT64_MAX - v) ? INT64_MAX : sum + v;
	}
	if (!found) {
		*err = xasprintf("missing pod-level request for %s in Pod %s", resource, p->name);
		return ERR_NOTFOUND;
	}
	*milli = sum;
	return 0;
}

int hpa__pod_request(const struct hpa__pod *p, const char *resource, const char *container,
		    bool pod_level_gate, int64_t *milli, char **err)
{
	const json_t *q;

	if (!container)
		container = "";
	*err = NULL;
	if (pod_level_gate && !*container && pod_level_requests_set(p->obj)) {
		q = json_object_get(jpath_get(p->obj, "spec.resources.requests"), resource);
		if (q && hpa__jmilli(q, milli) == 0)
			return 0;
		return pod_aggregate_request(p, resource, milli, err);
	}
	return containers_request(p, resource, container, milli, err);
}
