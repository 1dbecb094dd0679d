/*
 * metrics.c - the metrics.k8s.io/v1beta1 resources (metrics-server
 * pkg/api/node.go, pod.go): routes, selectors, which nodes and pods are
 * served, and the NotFound errors of their listers.
 *
 *   nodes list  label selector + --node-selector, fieldSelector on
 *               metadata.name, joined with the store, sorted by name
 *   nodes get   any node the informer knows (no --node-selector check)
 *   pods        Running pods only; fieldSelector on metadata.name and
 *               metadata.namespace; sorted by (namespace, name)
 */
#include "apis/apis_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PATH 4096
#define MAX_SEGMENTS 6
#define ERRBUF 512

struct route {
	enum apis_kind kind;
	const char *ns;      /* pods: NULL = all namespaces */
	const char *name;    /* NULL = list */
};

bool apis__split_path(const char *rest, char *buf, size_t bufsize, char **seg, size_t maxseg,
		      size_t *n)
{
	size_t len = strlen(rest);
	char *p;

	*n = 0;
	if (len >= bufsize)
		return false;
	memcpy(buf, rest, len + 1);
	if (len && buf[len - 1] == '/')
		buf[--len] = '\0';
	for (p = buf; len; p++) {
		char *slash = strchr(p, '/');

		if (*n == maxseg)
			return false;
		seg[(*n)++] = p;
		if (!slash)
			break;
		*slash = '\0';
		p = slash;
	}
	for (size_t i = 0; i < *n; i++)
		if (!seg[i][0])
			return false;
	return *n > 0;
}

static bool parse_route(char **seg, size_t n, struct route *r)
{
	memset(r, 0, sizeof(*r));
	if (strcmp(seg[0], "nodes") == 0 && n <= 2) {
		r->kind = KIND_NODES;
		r->name = n == 2 ? seg[1] : NULL;
		return true;
	}
	r->kind = KIND_PODS;
	if (strcmp(seg[0], "pods") == 0 && n == 1)
		return true;
	if (strcmp(seg[0], "namespaces") == 0 && (n == 3 || n == 4) && strcmp(seg[2], "pods") == 0) {
		r->ns = seg[1];
		r->name = n == 4 ? seg[3] : NULL;
		return true;
	}
	return false;
}

void apis__go_quote(const char *s, char *out, size_t len)
{
	struct dynbuf b;

	dynbuf_init(&b, len > 1 ? len - 1 : 0);
	if (jsonw_string(&b, s) == ERR_OK && b.buf)
		snprintf(out, len, "%s", b.buf);
	else
		snprintf(out, len, "\"\"");
	dynbuf_clear(&b);
}

bool apis__filter_parse(const struct apis_request *req, struct apis_filter *f,
			struct apis_response *resp)
{
	char err[ERRBUF], q[256], msg[ERRBUF + 300];

	memset(f, 0, sizeof(*f));
	f->labels = selector_parse(req->label_selector, err, sizeof(err));
	if (!f->labels) {
		apis__error_bad_request(resp, req->pretty, err);
		return false;
	}
	if (field_selector_parse(req->field_selector, &f->fields, err, sizeof(err))) {
		apis__error_bad_request(resp, req->pretty, err);
		return false;
	}
	for (size_t i = 0; i < f->fields.n; i++) {
		const char *key = f->fields.reqs[i].key;

		if (strcmp(key, "metadata.name") && strcmp(key, "metadata.namespace")) {
			apis__go_quote(key, q, sizeof(q));
			snprintf(msg, sizeof(msg),
				 "%s is not a known field selector: only \"metadata.name\", "
				 "\"metadata.namespace\"", q);
			apis__error_bad_request(resp, req->pretty, msg);
			return false;
		}
	}
	return true;
}

void apis__filter_clear(struct apis_filter *f)
{
	selector_free(f->labels);
	field_selector_clear(&f->fields);
}

/* Nodes have only metadata.name in their field set; a missing field is "". */
static bool fields_match(const struct field_selector *fs, const char *name, const char *ns)
{
	for (size_t i = 0; i < fs->n; i++) {
		const struct field_req *r = &fs->reqs[i];
		const char *v = strcmp(r->key, "metadata.name") == 0 ? name : (ns ? ns : "");

		if ((strcmp(v, r->value) == 0) == r->negate)
			return false;
	}
	return true;
}

static void push(struct apis_items *items, const struct apis_item *it,
		 const struct apis_sources *src)
{
	if (items->n == items->cap) {
		items->cap = items->cap ? items->cap * 2 : 64;
		items->v = xrealloc(items->v, items->cap * sizeof(*items->v));
	}
	items->v[items->n++] = *it;
	if (src->observe_item)
		src->observe_item(src->ud, it->usage.ts_ns);
}

static void collect_nodes(const struct apis_sources *src, const struct apis_filter *f,
			  struct apis_items *items)
{
	const struct kube_snapshot *k = src->kube;

	for (size_t i = 0; i < k->nnodes; i++) {
		const struct kube_node *node = k->nodes[i];
		struct apis_item it = { .name = node->name, .labels = &node->labels };

		if (!selector_matches(f->labels, &node->labels) ||
		    (src->node_selector && !selector_matches(src->node_selector, &node->labels)) ||
		    !fields_match(&f->fields, node->name, NULL) ||
		    store_node_usage(src->store, node->name, &it.usage) != ERR_OK)
			continue;
		push(items, &it, src);
	}
}

static bool pod_item(const struct apis_sources *src, const struct kube_pod *pod,
		     struct apis_item *it)
{
	memset(it, 0, sizeof(*it));
	it->name = pod->name;
	it->ns = pod->ns;
	it->labels = &pod->labels;
	return store_pod_usage(src->store, pod->ns, pod->name, &it->containers, &it->ncontainers,
			       &it->usage) == ERR_OK;
}

static bool pod_running(const struct kube_pod *pod)
{
	return pod->phase && strcmp(pod->phase, "Running") == 0;
}

static void collect_pods(const struct apis_sources *src, const char *ns,
			 const struct apis_filter *f, struct apis_items *items)
{
	const struct kube_snapshot *k = src->kube;
	size_t first = 0, count = k->npods;
	struct apis_item it;

	if (ns)
		kube_snapshot_ns_range(k, ns, &first, &count);
	for (size_t i = first; i < first + count; i++) {
		const struct kube_pod *pod = k->pods[i];

		if (!pod_running(pod) || !selector_matches(f->labels, &pod->labels) ||
		    !fields_match(&f->fields, pod->name, pod->ns) || !pod_item(src, pod, &it))
			continue;
		push(items, &it, src);
	}
}

/* A named GET: one item, or a 404 already in resp. */
static bool get_one(const struct apis_request *req, const struct apis_sources *src,
		    const struct route *r, struct apis_items *items, struct apis_response *resp)
{
	char msg[MAX_PATH + 64], full[MAX_PATH];
	struct apis_item it = { .name = r->name };

	if (r->kind == KIND_NODES) {
		const struct kube_node *node = kube_snapshot_node(src->kube, r->name);

		if (!node) {
			snprintf(msg, sizeof(msg), "node \"%s\" not found", r->name);
			apis__error(resp, req->pretty, 404, "NotFound", msg, r->name, NULL, "node");
			return false;
		}
		it.labels = &node->labels;
		if (store_node_usage(src->store, node->name, &it.usage) != ERR_OK) {
			snprintf(msg, sizeof(msg), "nodemetrics." APIS_GROUP " \"%s\" not found", r->name);
			apis__error(resp, req->pretty, 404, "NotFound", msg, r->name, APIS_GROUP,
				   "nodemetrics");
			return false;
		}
	} else {
		const struct kube_pod *pod = kube_snapshot_pod(src->kube, r->ns, r->name);

		if (!pod || !pod_running(pod)) {
			snprintf(msg, sizeof(msg), "pods \"%s\" not found", r->name);
			apis__error(resp, req->pretty, 404, "NotFound", msg, r->name, NULL, "pods");
			return false;
		}
		if (!pod_item(src, pod, &it)) {
			snprintf(full, sizeof(full), "%s/%s", r->ns, r->name);
			snprintf(msg, sizeof(msg), "podmetrics." APIS_GROUP " \"%s\" not found", full);
			apis__error(resp, req->pretty, 404, "NotFound", msg, full, APIS_GROUP,
				   "podmetrics");
			return false;
		}
	}
	push(items, &it, src);
	return true;
}

static bool parse_include(const struct apis_request *req, enum include_object *inc,
			  struct apis_response *resp)
{
	const char *v = req->include_object;
	char msg[300], q[256];

	*inc = INCLUDE_METADATA;
	if (!v || !*v || strcmp(v, "Metadata") == 0)
		return true;
	if (strcmp(v, "None") == 0 || strcmp(v, "Object") == 0) {
		*inc = v[0] == 'N' ? INCLUDE_NONE : INCLUDE_OBJECT;
		return true;
	}
	apis__go_quote(v, q, sizeof(q));
	snprintf(msg, sizeof(msg), "unrecognized includeObject value: %s", q);
	apis__error_bad_request(resp, req->pretty, msg);
	return false;
}

static void render(const struct apis_request *req, const struct apis_items *items, bool single,
		   enum apis_media media, struct apis_response *resp)
{
	enum include_object inc;
	struct apis_wctx w;
	int rc;

	if (media != MEDIA_JSON && !parse_include(req, &inc, resp))
		return;
	apis__wctx_init(&w, req->now_ns);
	dynbuf_reset(&resp->body);
	if (media == MEDIA_TABLE_V1 || media == MEDIA_TABLE_V1BETA1)
		rc = apis__write_table(&resp->body, items, &w,
				      media == MEDIA_TABLE_V1 ? "v1" : "v1beta1", inc);
	else if (single)
		rc = apis__write_item(&resp->body, items->kind, &items->v[0], &w, true);
	else
		rc = apis__write_list(&resp->body, items, &w);
	if (!rc)
		rc = apis__finish_json(resp, req->pretty);
	if (rc) {
		apis__error_internal(resp, req->pretty, rc);
		return;
	}
	resp->status = 200;
	resp->content_type = CT_JSON;
}

static void serve(const struct apis_request *req, const struct apis_sources *src,
		  const struct route *r, enum apis_media media, struct apis_response *resp)
{
	struct apis_items items = { .kind = r->kind };
	struct apis_filter f;

	if (r->name) {
		if (get_one(req, src, r, &items, resp))
			render(req, &items, true, media, resp);
		free(items.v);
		return;
	}
	if (!apis__filter_parse(req, &f, resp))
		goto out;
	if (req->watch) {
		apis__error(resp, req->pretty, 405, "MethodNotAllowed",
			   r->kind == KIND_NODES
				   ? "watch is not supported on resources of kind \"nodes." APIS_GROUP "\""
				   : "watch is not supported on resources of kind \"pods." APIS_GROUP "\"",
			   NULL, APIS_GROUP, r->kind == KIND_NODES ? "nodes" : "pods");
		goto out;
	}
	if (r->kind == KIND_NODES)
		collect_nodes(src, &f, &items);
	else
		collect_pods(src, r->ns, &f, &items);
	render(req, &items, false, media, resp);
out:
	apis__filter_clear(&f);
	free(items.v);
}

void apis__metrics(const struct apis_request *req, const struct apis_sources *src,
		  const char *rest, struct apis_response *resp)
{
	static const struct kube_snapshot empty_kube = { 0 };
	struct apis_sources s = *src;
	char buf[MAX_PATH];
	char *seg[MAX_SEGMENTS];
	struct route r;
	enum apis_media media;
	size_t n;

	if (!apis__split_path(rest, buf, sizeof(buf), seg, MAX_SEGMENTS, &n) || !parse_route(seg, n, &r)) {
		apis__error_not_found_generic(resp, req->pretty);
		return;
	}
	media = apis__get_media(req, true, false, resp);
	if (media == MEDIA_NONE)
		return;
	if (!s.kube)
		s.kube = &empty_kube;
	serve(req, &s, &r, media, resp);
}
