/* object.c - Node and Pod JSON -> the immutable objects the index holds. */
#include "kube/kube_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OBJ_MAX_NAME 253       /* DNS subdomain */
#define OBJ_MAX_LABELS 1024
#define OBJ_MAX_LABEL_LEN 4096
#define OBJ_MAX_ADDRESSES 64
#define OBJ_MAX_CONDITIONS 64
#define METRICS_PATH_ANNOTATION "metrics.k8s.io/resource-metrics-path"

/* A bounded, NUL-free string at obj[key] copied, or NULL. */
static char *dup_str(json_t *obj, const char *key, size_t max)
{
	json_t *v = json_object_get(obj, key);
	size_t len;

	if (!json_is_string(v))
		return NULL;
	len = json_string_length(v);
	if (len > max || memchr(json_string_value(v), '\0', len))
		return NULL;
	return xstrndup(json_string_value(v), len);
}

static int64_t parse_time(json_t *obj, const char *key)
{
	const char *s = jpath_str(obj, key);
	int64_t ns;

	if (!s || parse_rfc3339(s, &ns))
		return 0;
	return ns;
}

static int parse_labels(json_t *meta, struct labels *out, char *err, size_t errlen)
{
	json_t *labels = json_object_get(meta, "labels"), *v;
	const char *k;

	labels_init(out);
	if (!json_is_object(labels))
		return 0;
	if (json_object_size(labels) > OBJ_MAX_LABELS) {
		snprintf(err, errlen, "more than %d labels", OBJ_MAX_LABELS);
		return ERR_TOOBIG;
	}
	json_object_foreach(labels, k, v) {
		if (!json_is_string(v) || strlen(k) > OBJ_MAX_LABEL_LEN ||
		    json_string_length(v) > OBJ_MAX_LABEL_LEN)
			continue;
		labels_set(out, k, json_string_value(v));
	}
	return 0;
}

/* metadata.name (and namespace when ns != NULL), creation time, labels. */
static int parse_meta(json_t *item, char **ns, char **name, int64_t *created,
		      struct labels *labels, char *err, size_t errlen)
{
	json_t *meta = json_object_get(item, "metadata");

	labels_init(labels);
	if (!json_is_object(meta)) {
		snprintf(err, errlen, "object has no metadata");
		return ERR_PARSE;
	}
	*name = dup_str(meta, "name", OBJ_MAX_NAME);
	if (!*name || !**name) {
		snprintf(err, errlen, "object has no valid metadata.name");
		return ERR_PARSE;
	}
	if (ns) {
		*ns = dup_str(meta, "namespace", OBJ_MAX_NAME);
		if (!*ns || !**ns) {
			snprintf(err, errlen, "object %s has no valid metadata.namespace", *name);
			return ERR_PARSE;
		}
	}
	*created = parse_time(meta, "creationTimestamp");
	return parse_labels(meta, labels, err, errlen);
}

static void parse_addresses(json_t *status, struct kube_node *n)
{
	json_t *arr = json_object_get(status, "addresses"), *a;
	size_t i, count = json_array_size(arr);

	if (count > OBJ_MAX_ADDRESSES)
		count = OBJ_MAX_ADDRESSES;
	n->addresses = count ? xcalloc(count, sizeof(*n->addresses)) : NULL;
	for (i = 0; i < count; i++) {
		a = json_array_get(arr, i);
		char *type = dup_str(a, "type", OBJ_MAX_NAME);
		char *addr = dup_str(a, "address", OBJ_MAX_NAME);

		if (!type || !addr) {
			free(type);
			free(addr);
			continue;
		}
		n->addresses[n->naddresses].type = type;
		n->addresses[n->naddresses].address = addr;
		n->naddresses++;
	}
}

static bool node_ready(json_t *status)
{
	json_t *conds = json_object_get(status, "conditions"), *c;
	size_t i;
	const char *v;

	for (i = 0; i < json_array_size(conds) && i < OBJ_MAX_CONDITIONS; i++) {
		c = json_array_get(conds, i);
		v = jpath_str(c, "type");
		if (v && !strcmp(v, "Ready")) {
			v = jpath_str(c, "status");
			return v && !strcmp(v, "True");
		}
	}
	return false;
}

/* A Quantity at obj[key]: milli (cpu) or plain value; 0 when absent/bad. */
static uint64_t parse_quantity(json_t *obj, const char *key, bool milli)
{
	const char *s = jpath_str(obj, key);
	struct quantity q;
	int64_t v;

	if (!s || quantity_parse(s, &q))
		return 0;
	v = milli ? quantity_milli_value(&q) : quantity_value(&q);
	return v > 0 ? (uint64_t)v : 0;
}

static void parse_node_status(json_t *item, struct kube_node *n)
{
	json_t *status = json_object_get(item, "status");
	json_t *port = jpath_get(status, "daemonEndpoints.kubeletEndpoint.Port");
	json_t *alloc = json_object_get(status, "allocatable");
	json_int_t p = json_integer_value(port);

	parse_addresses(status, n);
	n->kubelet_port = json_is_integer(port) && p > 0 && p <= 65535 ? (int)p : 0;
	n->ready = node_ready(status);
	n->alloc_cpu_milli = parse_quantity(alloc, "cpu", true);
	n->alloc_mem_bytes = parse_quantity(alloc, "memory", false);
}

static int parse_node(json_t *item, struct kube_node *n, char *err, size_t errlen)
{
	json_t *ann = jpath_get(item, "metadata.annotations");
	int rc = parse_meta(item, NULL, &n->name, &n->created_ns, &n->labels, err, errlen);

	if (rc)
		return rc;
	n->metrics_path = dup_str(ann, METRICS_PATH_ANNOTATION, 4096);
	parse_node_status(item, n);
	return 0;
}

static int parse_pod(json_t *item, struct kube_pod *p, char *err, size_t errlen)
{
	json_t *status = json_object_get(item, "status");
	json_t *ann = jpath_get(item, "metadata.annotations");
	int rc = parse_meta(item, &p->ns, &p->name, &p->created_ns, &p->labels, err, errlen);

	if (rc)
		return rc;
	p->node_name = dup_str(json_object_get(item, "spec"), "nodeName", OBJ_MAX_NAME);
	if (!p->node_name)
		p->node_name = xstrdup("");
	p->phase = dup_str(status, "phase", OBJ_MAX_NAME);
	if (!p->phase)
		p->phase = xstrdup("");
	p->start_ns = parse_time(status, "startTime");
	p->ip = dup_str(status, "podIP", OBJ_MAX_NAME);
	if (!p->ip)
		p->ip = xstrdup("");
	p->prom_scrape = dup_str(ann, "prometheus.io/scrape", OBJ_MAX_NAME);
	p->prom_port = dup_str(ann, "prometheus.io/port", OBJ_MAX_NAME);
	p->prom_path = dup_str(ann, "prometheus.io/path", 4096);
	p->prom_scheme = dup_str(ann, "prometheus.io/scheme", OBJ_MAX_NAME);
	return 0;
}

static void obj_free(struct kube_obj *o)
{
	size_t i;

	if (o->kind == KUBE_NODE) {
		struct kube_node *n = &o->u.node;

		for (i = 0; i < n->naddresses; i++) {
			free(n->addresses[i].type);
			free(n->addresses[i].address);
		}
		free(n->addresses);
		free(n->name);
		free(n->metrics_path);
		labels_clear(&n->labels);
	} else {
		struct kube_pod *p = &o->u.pod;

		free(p->ns);
		free(p->name);
		free(p->node_name);
		free(p->phase);
		free(p->ip);
		free(p->prom_scrape);
		free(p->prom_port);
		free(p->prom_path);
		free(p->prom_scheme);
		labels_clear(&p->labels);
	}
	free(o);
}

struct kube_obj *kube__obj_parse(enum kube_kind kind, json_t *item, char *err, size_t errlen)
{
	struct kube_obj *o = xcalloc(1, sizeof(*o));
	int rc;

	atomic_init(&o->refs, 1);
	o->kind = kind;
	if (!json_is_object(item)) {
		snprintf(err, errlen, "object is not a JSON object");
		rc = ERR_PARSE;
	} else if (kind == KUBE_NODE) {
		rc = parse_node(item, &o->u.node, err, errlen);
	} else {
		rc = parse_pod(item, &o->u.pod, err, errlen);
	}
	if (rc) {
		obj_free(o);
		return NULL;
	}
	return o;
}

struct kube_obj *kube__obj_ref(struct kube_obj *o)
{
	atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
	return o;
}

void kube__obj_unref(struct kube_obj *o)
{
	if (o && atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel) == 1)
		obj_free(o);
}

int kube__obj_cmp(const struct kube_obj *a, const struct kube_obj *b)
{
	int c;

	if (a->kind == KUBE_NODE)
		return strcmp(a->u.node.name, b->u.node.name);
	c = strcmp(a->u.pod.ns, b->u.pod.ns);
	return c ? c : strcmp(a->u.pod.name, b->u.pod.name);
}
