/*
 * custom.c - custom.metrics.k8s.io v1beta1 and v1beta2 (custom-external.md
 * §1.3, §1.6): custom-metrics-apiserver's routes and request checks
 * (installer/cmhandlers.go, endpoints/handlers/get.go), prometheus-
 * adapter's provider (custom-provider/provider.go) over custom/:
 *
 *   {resource}/{name}/{metric}                        root-scoped
 *   namespaces/{ns}/{resource}/{name}/{metric}        namespaced
 *   namespaces/{ns}/metrics/{metric}                  the Namespace ns
 *
 * {name} "*" is every object the labelSelector matches: pods and nodes
 * from the kube snapshot, namespaces as those that have pods; other
 * resources have no object lister here (500, as the adapter when it
 * cannot list).  Any other path is the generic 404 Status; a routed path
 * with fewer than three parts after the rewrite is 400.
 */
#include "apis/apis_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PATH 4096
#define MAX_SEGMENTS 5
#define ERRBUF 512
#define MSGBUF (3 * MAX_PATH)

enum route_result { ROUTE_NONE, ROUTE_BAD, ROUTE_OK };

struct cm_route {
	const char *ns;       /* namespace of a namespaced object, NULL */
	const char *segment;  /* the resource as written ("namespaces" for the Namespace form) */
	const char *name;     /* object name or "*" */
	const char *metric;
};

/* One request, from its checks to its answer. */
struct cm_call {
	const struct apis_request *req;
	const struct apis_sources *src;
	struct apis_response *resp;
	enum apis_cm_version version;
	struct cm_route r;
	struct apis_filter f;
	struct selector *metric_sel;
	struct custom_catalog *cat;
	const char *group, *resource; /* resolved, borrowed from cat */
	const char **names;           /* the objects (wildcard: owned array) */
	size_t nnames;
};

int64_t apis__now_ms(const struct apis_request *req)
{
	return req->now_ns / NS_PER_MS;
}

/* go-restful's routes, then RequestInfo and get.go's rewrite of
 * namespaces/{ns}/metrics/{m}. */
static enum route_result parse_route(char **seg, size_t n, struct cm_route *r)
{
	memset(r, 0, sizeof(*r));
	if (n == 3) {
		if (strcmp(seg[0], "namespaces") == 0)
			return ROUTE_BAD;  /* RequestInfo: namespace + one part */
		r->segment = seg[0];
		r->name = seg[1];
		r->metric = seg[2];
		return ROUTE_OK;
	}
	if (strcmp(seg[0], "namespaces") != 0 || (n != 4 && n != 5))
		return ROUTE_NONE;
	if (strcmp(seg[2], "metrics") == 0) {  /* the Namespace seg[1] itself */
		r->segment = "namespaces";
		r->name = seg[1];
		r->metric = seg[3];
		return ROUTE_OK;
	}
	if (n == 4)
		return ROUTE_NONE;
	r->ns = seg[1];
	r->segment = seg[2];
	r->name = seg[3];
	r->metric = seg[4];
	return ROUTE_OK;
}

/* get.go: a fieldSelector must require exactly the path's name. */
static bool field_names_match(const struct field_selector *fs, const char *name)
{
	if (fs->n == 0)
		return true;
	for (size_t i = 0; i < fs->n; i++)
		if (!fs->reqs[i].negate && strcmp(fs->reqs[i].key, "metadata.name") == 0)
			return strcmp(fs->reqs[i].value, name) == 0;
	return false;
}

/* Selectors and name checks; false with a 400 in resp. */
static bool parse_params(struct cm_call *c)
{
	char err[ERRBUF];

	if (!apis__filter_parse(c->req, &c->f, c->resp))
		return false;
	if (!field_names_match(&c->f.fields, c->r.name)) {
		apis__error_bad_request(c->resp, c->req->pretty,
				       "fieldSelector metadata.name doesn't match requested name");
		return false;
	}
	c->metric_sel = selector_parse(c->req->metric_label_selector, err, sizeof(err));
	if (!c->metric_sel) {
		apis__error_bad_request(c->resp, c->req->pretty, err);
		return false;
	}
	return true;
}

/* NewMetricNotFoundError / ...ForError / ...ForSelectorError. */
static void not_found(struct cm_call *c, const char *name)
{
	char msg[MSGBUF];
	char *sel = NULL;
	int len;

	len = snprintf(msg, sizeof(msg), "the server could not find the metric %s for %s",
		       c->r.metric, c->r.segment);
	if (name && len > 0 && (size_t)len < sizeof(msg)) {
		if (!selector_empty(c->metric_sel))
			sel = selector_string(c->metric_sel);
		snprintf(msg + len, sizeof(msg) - (size_t)len, sel ? " %s with selector %s" : " %s",
			 name, sel ? sel : "");
		free(sel);
	}
	apis__error(c->resp, c->req->pretty, 404, "NotFound", msg, NULL, NULL, NULL);
}

/* Whether the catalog's entries for the resolved group-resource are
 * namespaced (the adapter keys its metrics by CustomMetricInfo, whose
 * Namespaced is "the request has a namespace"). */
static bool resource_namespaced(const struct cm_call *c)
{
	const struct custom_resource_metric *e;
	size_t n = custom_catalog_resources(c->cat, &e);

	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].group, c->group) == 0 && strcmp(e[i].resource, c->resource) == 0)
			return e[i].namespaced;
	return false;
}

static void add_name(struct cm_call *c, const char *name, size_t *cap)
{
	if (c->nnames == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		c->names = xrealloc(c->names, *cap * sizeof(*c->names));
	}
	c->names[c->nnames++] = name;
}

/* The objects of a wildcard, sorted and unique (as the snapshot's arrays
 * are).  False when this resource cannot be listed. */
static bool list_objects(struct cm_call *c)
{
	static const struct kube_snapshot empty_kube = { 0 };
	const struct kube_snapshot *k = c->src->kube ? c->src->kube : &empty_kube;
	size_t cap = 0;

	if (c->group[0])
		return false;
	if (strcmp(c->resource, "pods") == 0 && c->r.ns) {
		size_t first, count;

		kube_snapshot_ns_range(k, c->r.ns, &first, &count);
		for (size_t i = first; i < first + count; i++)
			if (selector_matches(c->f.labels, &k->pods[i]->labels))
				add_name(c, k->pods[i]->name, &cap);
		return true;
	}
	if (strcmp(c->resource, "nodes") == 0) {
		for (size_t i = 0; i < k->nnodes; i++)
			if (selector_matches(c->f.labels, &k->nodes[i]->labels))
				add_name(c, k->nodes[i]->name, &cap);
		return true;
	}
	/* Namespaces: those that have pods; their labels are unknown (no
	 * namespace informer), so only an empty labelSelector can be served. */
	if (strcmp(c->resource, "namespaces") != 0 || !selector_empty(c->f.labels))
		return false;
	for (size_t i = 0; i < k->npods; i++)
		if (c->nnames == 0 || strcmp(c->names[c->nnames - 1], k->pods[i]->ns) != 0)
			add_name(c, k->pods[i]->ns, &cap);
	return true;
}

static void render(struct cm_call *c, const struct custom_object_values *vals)
{
	struct apis_cm_list l = { .version = c->version, .ns = c->r.ns, .metric = c->r.metric,
				  .v = vals->v, .n = vals->n };
	struct dynbuf sel;
	char kind[256], err[ERRBUF];
	int rc;

	apis__described_kind(c->group, c->resource, kind, sizeof(kind), &l.api_version);
	l.kind = kind;
	dynbuf_init(&sel, DYN_SMALL);
	rc = vals->n ? apis__selector_echo(c->metric_sel, &sel, err, sizeof(err))
		     : dynbuf_addstr(&sel, "null");
	if (rc == ERR_INVAL) {  /* metricFor's plain error: 500, no reason */
		apis__error(c->resp, c->req->pretty, 500, NULL, err, NULL, NULL, NULL);
		dynbuf_clear(&sel);
		return;
	}
	l.selector = rc ? "null" : sel.buf;
	dynbuf_reset(&c->resp->body);
	if (!rc)
		rc = apis__write_metric_values(&c->resp->body, &l);
	if (!rc)
		rc = apis__finish_json(c->resp, c->req->pretty);
	dynbuf_clear(&sel);
	if (rc) {
		apis__error_internal(c->resp, c->req->pretty, rc);
		return;
	}
	c->resp->status = 200;
	c->resp->content_type = CT_JSON;
}

/* custom_object_values over c->names, then the adapter's answers. */
static void query(struct cm_call *c, bool single)
{
	struct custom_object_query q = {
		.group = c->group, .resource = c->resource, .metric = c->r.metric,
		.ns = c->r.ns, .names = c->names, .nnames = c->nnames,
		.metric_selector = c->metric_sel, .now_ms = apis__now_ms(c->req),
	};
	struct custom_object_values vals = { 0 };
	char err[ERRBUF];
	int rc;

	err[0] = '\0';
	rc = custom_object_values(c->src->custom, c->cat, &q, &vals, err, sizeof(err));
	if (rc == ERR_NOTFOUND || rc == ERR_INVAL) {
		/* QueryForMetric: an unknown metric, or a metric selector the
		 * query builder refuses, is "not found". */
		not_found(c, NULL);
	} else if (rc) {
		apis__error_internal_cause(c->resp, c->req->pretty, "unable to fetch metrics");
	} else if (single && vals.n == 0) {
		not_found(c, c->r.name);
	} else {
		if (single)
			vals.n = 1;  /* GetForObject wants exactly one item */
		render(c, &vals);
	}
	custom_object_values_clear(&vals);
}

static void serve(struct cm_call *c)
{
	const char *name = c->r.name;
	bool single = strcmp(name, "*") != 0;

	if (!custom_catalog_resource(c->cat, c->r.segment, &c->group, &c->resource) ||
	    (c->r.ns != NULL) != resource_namespaced(c) ||
	    !custom_catalog_has(c->cat, c->group, c->resource, c->r.metric)) {
		not_found(c, NULL);
		return;
	}
	if (single) {
		c->names = &c->r.name;
		c->nnames = 1;
	} else if (!list_objects(c)) {
		apis__error_internal_cause(c->resp, c->req->pretty, "unable to list matching resources");
		return;
	} else if (c->nnames == 0) {
		not_found(c, NULL);  /* QueryForMetric refuses no names */
		return;
	}
	query(c, single);
}

void apis__custom(const struct apis_request *req, const struct apis_sources *src,
		 enum apis_cm_version version, const char *rest, struct apis_response *resp)
{
	struct cm_call c = { .req = req, .src = src, .resp = resp, .version = version };
	char buf[MAX_PATH];
	char *seg[MAX_SEGMENTS];
	enum route_result rr = ROUTE_NONE;
	size_t n;

	if (apis__split_path(rest, buf, sizeof(buf), seg, MAX_SEGMENTS, &n))
		rr = parse_route(seg, n, &c.r);
	if (rr == ROUTE_NONE) {
		apis__error_not_found_generic(resp, req->pretty);
		return;
	}
	/* No table convertor (DefaultEndpointRestrictions): Table clauses are
	 * skipped, JSON or 406. */
	if (apis__get_media(req, false, false, resp) == MEDIA_NONE)
		return;
	if (rr == ROUTE_BAD) {
		apis__error_bad_request(resp, req->pretty, "invalid request path");
		return;
	}
	if (parse_params(&c)) {
		c.cat = custom_catalog_acquire(src->custom, apis__now_ms(req));
		serve(&c);
		custom_catalog_unref(c.cat);
	}
	if (c.names != &c.r.name)
		free(c.names);
	selector_free(c.metric_sel);
	apis__filter_clear(&c.f);
}
