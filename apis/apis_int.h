/*
 * apis_int.h - declarations shared inside apis/ only.
 *
 *   json_write.c  Go-compatible JSON string escaping, pretty re-indent
 *   negotiate.c   Accept header -> what to render
 *   status.c      metav1.Status bodies and canned errors
 *   discovery.c   /apis, group, resource list, /version, /openapi/v2
 *   metrics.c     metrics.k8s.io routes and object sourcing
 *   render.c      NodeMetrics / PodMetrics objects and lists
 *   table.c       meta.k8s.io Table output
 *   custom.c      custom.metrics.k8s.io routes, objects of a wildcard, errors
 *   custom_render.c  MetricValueList (v1beta1, v1beta2), ExternalMetricValueList
 *   custom_discovery.c  the custom and external groups in /apis, their
 *                 APIGroup and APIResourceList documents
 *   external.c    external.metrics.k8s.io routes
 */
#ifndef APIS_INT_H
#define APIS_INT_H

#include "apis/apis.h"
#include "custom/custom.h"

#define APIS_GROUP "metrics.k8s.io"
#define APIS_VERSION "v1beta1"
#define APIS_GV APIS_GROUP "/" APIS_VERSION

#define CM_GROUP "custom.metrics.k8s.io"
#define EM_GROUP "external.metrics.k8s.io"
#define EM_GV EM_GROUP "/v1beta1"

#define CT_JSON "application/json"
#define CT_TEXT "text/plain; charset=utf-8"
#define CT_DISCOVERY_V2 "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

/* ---- negotiate.c -------------------------------------------------------- */

enum apis_media {
	MEDIA_NONE,          /* nothing acceptable: 406 */
	MEDIA_JSON,
	MEDIA_TABLE_V1,
	MEDIA_TABLE_V1BETA1,
	MEDIA_DISCOVERY_V2,
};

/* Picks the reply for an Accept header (NULL/"" = JSON).  Table and
 * aggregated discovery are chosen only where allowed. */
enum apis_media apis__negotiate(const char *accept, bool allow_table, bool allow_discovery);
/* A GET's media as apis__negotiate picks it; MEDIA_NONE after filling resp
 * with the 405 (not a GET) or the 406 (nothing acceptable). */
enum apis_media apis__get_media(const struct apis_request *req, bool allow_table,
				bool allow_discovery, struct apis_response *resp);

/* ---- status.c ----------------------------------------------------------- */

/* Fills resp with a Status error (pretty when asked). */
void apis__error(struct apis_response *resp, bool pretty, int code, const char *reason,
		const char *message, const char *dname, const char *dgroup, const char *dkind);
/* The generic apiserver's 404 Status ("the server could not find ..."). */
void apis__error_not_found_generic(struct apis_response *resp, bool pretty);
/* 405 for a method other than GET. */
void apis__error_method(struct apis_response *resp, bool pretty);
/* 406 NotAcceptable. */
void apis__error_not_acceptable(struct apis_response *resp, bool pretty);
/* 400 BadRequest with message. */
void apis__error_bad_request(struct apis_response *resp, bool pretty, const char *message);
/* 500 when rendering failed (e.g. ERR_TOOBIG). */
void apis__error_internal(struct apis_response *resp, bool pretty, int err);
/* Plain "404 page not found\n". */
void apis__page_not_found(struct apis_response *resp);
/* Finishes a compact JSON body already in resp->body: appends "\n", or
 * re-indents it when pretty.  Returns 0 or an error code. */
int apis__finish_json(struct apis_response *resp, bool pretty) COMMON_WUR;

/* Status 500 InternalError of apierrors.NewInternalError(errors.New(cause)):
 * "Internal error occurred: <cause>", details.causes[0].message = cause. */
void apis__error_internal_cause(struct apis_response *resp, bool pretty, const char *cause);

/* ---- discovery.c -------------------------------------------------------- */

/* Handles /apis, /apis/metrics.k8s.io, /apis/metrics.k8s.io/v1beta1,
 * /version and /openapi/v2.  False when path is none of these. */
bool apis__discovery(const struct apis_request *req, const struct apis_sources *src,
		    struct apis_response *resp);

/* ---- metrics.c ---------------------------------------------------------- */

/* A list request's labelSelector and fieldSelector. */
struct apis_filter {
	struct selector *labels;
	struct field_selector fields;
};

/* Splits rest on '/' (one trailing slash allowed) into at most maxseg
 * non-empty segments pointing into buf (bufsize bytes).  False when rest
 * is empty, too long, has an empty segment or more segments. */
bool apis__split_path(const char *rest, char *buf, size_t bufsize, char **seg, size_t maxseg,
		      size_t *n);
/* Go's %q of s into out (len bytes). */
void apis__go_quote(const char *s, char *out, size_t len);
/* Parses req's labelSelector and fieldSelector (keys metadata.name and
 * metadata.namespace only, apimachinery's texts); false with a 400 in
 * resp.  Clear f with apis__filter_clear either way. */
bool apis__filter_parse(const struct apis_request *req, struct apis_filter *f,
			struct apis_response *resp);
void apis__filter_clear(struct apis_filter *f);

/* Handles a path below /apis/metrics.k8s.io/v1beta1/ (rest = the part
 * after that prefix, without the leading slash). */
void apis__metrics(const struct apis_request *req, const struct apis_sources *src,
		  const char *rest, struct apis_response *resp);

/* ---- render.c / table.c ------------------------------------------------- */

enum apis_kind { KIND_NODES, KIND_PODS };

/* One served object: a node or a pod joined with its usage. */
struct apis_item {
	const char *name;
	const char *ns;                 /* NULL for nodes */
	const struct labels *labels;
	struct store_usage usage;       /* pods: timestamp and window only */
	const struct store_container_usage *containers;
	size_t ncontainers;
};

struct apis_items {
	enum apis_kind kind;
	struct apis_item *v;
	size_t n, cap;
};

enum include_object { INCLUDE_METADATA, INCLUDE_NONE, INCLUDE_OBJECT };

/* Per-response formatting state: creationTimestamp is formatted once and
 * the last sample second is cached (pods of a node share it). */
struct apis_wctx {
	int64_t now_ns;
	char now[40];
	int64_t ts_ns;
	char ts[40];
};

void apis__wctx_init(struct apis_wctx *w, int64_t now_ns);

/* Quantities as metrics-server builds them (uint64Quantity). */
void apis__cpu_string(uint64_t nanocores, char *buf, size_t len);
void apis__mem_string(uint64_t bytes, char *buf, size_t len);

/* ObjectMeta {name, namespace, creationTimestamp, labels}. */
int apis__write_meta(struct dynbuf *b, const struct apis_item *it, struct apis_wctx *w) COMMON_WUR;
/* One NodeMetrics/PodMetrics; typemeta adds kind and apiVersion. */
int apis__write_item(struct dynbuf *b, enum apis_kind kind, const struct apis_item *it,
		    struct apis_wctx *w, bool typemeta) COMMON_WUR;
/* NodeMetricsList / PodMetricsList. */
int apis__write_list(struct dynbuf *b, const struct apis_items *items, struct apis_wctx *w) COMMON_WUR;
/* A meta.k8s.io Table of the items; table_version "v1" or "v1beta1". */
int apis__write_table(struct dynbuf *b, const struct apis_items *items, struct apis_wctx *w,
		     const char *table_version, enum include_object inc) COMMON_WUR;

/* ---- custom.c / external.c --------------------------------------------- */

enum apis_cm_version { CM_V1BETA1, CM_V1BETA2 };

/* req->now_ns in milliseconds (the provider's clock). */
int64_t apis__now_ms(const struct apis_request *req);
/* A path below /apis/custom.metrics.k8s.io/<version>/ (rest without the
 * leading slash); src->custom is not NULL. */
void apis__custom(const struct apis_request *req, const struct apis_sources *src,
		 enum apis_cm_version version, const char *rest, struct apis_response *resp);
/* A path below /apis/external.metrics.k8s.io/v1beta1/; src->custom is not
 * NULL. */
void apis__external(const struct apis_request *req, const struct apis_sources *src,
		   const char *rest, struct apis_response *resp);

/* ---- custom_render.c ---------------------------------------------------- */

/* One MetricValueList: the values of one metric for objects of one kind. */
struct apis_cm_list {
	enum apis_cm_version version;
	const char *kind;        /* describedObject.kind */
	const char *api_version; /* describedObject.apiVersion, NULL = omitted */
	const char *ns;          /* describedObject.namespace, NULL = omitted */
	const char *metric;
	const char *selector;    /* the selector echo's JSON ("null" when none) */
	const struct custom_object_value *v;
	size_t n;
};

/* MetricValueList in the list's version (compact, no newline). */
int apis__write_metric_values(struct dynbuf *b, const struct apis_cm_list *l) COMMON_WUR;
/* The metric selector as metav1.ParseToLabelSelector echoes it (matchLabels,
 * matchExpressions) into out; "null" for a NULL or empty selector.  0, or
 * ERR_INVAL with Go's message in err ("\"!=\" is not a valid label
 * selector operator"), or ERR_TOOBIG. */
int apis__selector_echo(const struct selector *sel, struct dynbuf *out, char *err,
		       size_t errlen) COMMON_WUR;
/* describedObject's kind (into kind, len bytes) and apiVersion (static,
 * NULL when unknown) of a group-resource: a table of the core, apps,
 * batch, ... kinds, else the resource's singular capitalised. */
void apis__described_kind(const char *group, const char *resource, char *kind, size_t len,
			 const char **api_version);
/* ExternalMetricValueList of metric. */
int apis__write_external_values(struct dynbuf *b, const char *metric,
			       const struct custom_external_values *v) COMMON_WUR;

/* ---- custom_discovery.c ------------------------------------------------- */

/* /apis/custom.metrics.k8s.io[/v1beta1|/v1beta2] and
 * /apis/external.metrics.k8s.io[/v1beta1] when src->custom is set; false
 * for any other path. */
bool apis__custom_discovery(const struct apis_request *req, const struct apis_sources *src,
			   struct apis_response *resp);
/* Appends ",<custom APIGroup>,<external APIGroup>" (APIGroupList items). */
int apis__custom_group_list(struct dynbuf *b) COMMON_WUR;
/* Appends ",<custom>,<external>" APIGroupDiscovery items built from c. */
int apis__custom_discovery_v2(struct dynbuf *b, const struct custom_catalog *c) COMMON_WUR;

#endif
