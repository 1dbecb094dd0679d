/*
 * rest.c - the generic REST verbs over the store: get, list (selectors,
 * limit/continue, Table), create, update (status subresource), patch and
 * delete, with kube-apiserver's Status errors.
 */
#include "test/kubesim/apiserver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "pods" or "deployments.apps" as apierrors words the resource. */
static void qualified(const struct sim_kind *k, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", k->resource, *k->group ? "." : "", k->group);
}

void sim_response_not_found(struct sim_response *r, const struct sim_kind *k, const char *name)
{
	sim_response_store_error(r, ERR_NOTFOUND, k, name);
}

void sim_response_store_error(struct sim_response *r, int err, const struct sim_kind *k,
			      const char *name)
{
	char q[160], msg[600];
	json_t *details = json_pack("{s:s}", "name", name ? name : "");

	qualified(k, q, sizeof(q));
	if (*k->group)
		json_object_set_new(details, "group", json_string(k->group));
	json_object_set_new(details, "kind", json_string(k->resource));
	switch (err) {
	case ERR_NOTFOUND:
		snprintf(msg, sizeof(msg), "%s \"%s\" not found", q, name);
		sim_response_status_details(r, 404, "NotFound", msg, details);
		return;
	case ERR_CONFLICT:
		snprintf(msg, sizeof(msg), "Operation cannot be fulfilled on %s \"%s\": the object "
			 "has been modified; please apply your changes to the latest version and "
			 "try again", q, name);
		sim_response_status_details(r, 409, "Conflict", msg, details);
		return;
	case ERR_INVAL:
		snprintf(msg, sizeof(msg), "%s \"%s\" is invalid: metadata.name: Required value: "
			 "name or generateName is required", k->kind, name ? name : "");
		sim_response_status_details(r, 422, "Invalid", msg, details);
		return;
	default:
		json_decref(details);
		sim_response_status(r, 500, "InternalError", err_str(err));
	}
}

void sim_response_object(struct sim_response *r, int status, const struct sim_kind *k,
			 const char *json, size_t len)
{
	int rc;

	r->status = status;
	free(r->content_type);
	r->content_type = xstrdup("application/json");
	dynbuf_reset(&r->body);
	rc = dynbuf_printf(&r->body, "{\"kind\":\"%s\",\"apiVersion\":\"%s\"%s", k->kind,
			   sim_kind_api_version(k), len > 2 ? "," : "");
	if (!rc)
		rc = dynbuf_add(&r->body, json + 1, len - 1);
	if (rc)
		sim_response_status(r, 500, "InternalError", "response too large");
}

/* Sends a JSON object (kind/apiVersion added). */
static void respond_json_obj(struct sim_response *r, int status, const struct sim_kind *k,
			     json_t *obj)
{
	char *s;

	json_object_del(obj, "kind");
	json_object_del(obj, "apiVersion");
	s = json_dumps(obj, JSON_COMPACT);
	sim_response_object(r, status, k, s, strlen(s));
	free(s);
}

json_t *sim_request_json(const struct sim_request *req, struct sim_response *resp)
{
	const char *ct = sim_request_header(req, "Content-Type");
	json_error_t jerr;
	json_t *j;
	char msg[300];

	if (ct && strncmp(ct, "application/vnd.kubernetes.protobuf", 35) == 0) {
		j = sim_protobuf_to_json(req->body, req->body_len, msg, sizeof(msg));
		if (!j)
			sim_response_status(resp, 415, "UnsupportedMediaType", msg);
		return j;
	}
	if (ct && strncmp(ct, "application/json", 16) != 0) {
		sim_response_status(resp, 415, "UnsupportedMediaType",
				    "the body of the request was in an unknown format - accepted "
				    "media types include: application/json");
		return NULL;
	}
	j = json_loadb(req->body ? req->body : "", req->body_len, 0, &jerr);
	if (json_is_object(j))
		return j;
	json_decref(j);
	snprintf(msg, sizeof(msg), "the body of the request could not be decoded: %s",
		 jerr.text);
	sim_response_status(resp, 400, "BadRequest", msg);
	return NULL;
}

/* ---- GET ----------------------------------------------------------------------- */

static void single_table(struct sim_response *resp, const char *tv, const struct sim_kind *k,
			 struct sim_obj *o, const struct sim_request *req)
{
	char meta[64];

	snprintf(meta, sizeof(meta), "{\"resourceVersion\":\"%llu\"}",
		 (unsigned long long)o->rv);
	resp->status = 200;
	free(resp->content_type);
	resp->content_type = xstrdup("application/json");
	if (sim_table_write(&resp->body, tv, k, &o, 1, meta, sim_request_arg(req, "includeObject")))
		sim_response_status(resp, 500, "InternalError", "response too large");
}

static void get_one(struct sim_cluster *c, const struct sim_rest_target *t,
		    const struct sim_request *req, struct sim_response *resp)
{
	struct sim_obj *o = sim_store_get_obj(c->store, t->kind->resource, t->ns, t->name);
	const char *tv = sim_table_wanted(req);

	if (!o) {
		sim_response_not_found(resp, t->kind, t->name);
		return;
	}
	if (tv && !t->subresource)
		single_table(resp, tv, t->kind, o, req);
	else
		sim_response_object(resp, 200, t->kind, o->json, o->len);
	sim_obj_unref(o);
}

/* Opaque continue token: base64 of {"v","rv","start"} like kube-apiserver. */
static char *encode_continue(uint64_t rv, const char *key)
{
	json_t *j = json_pack("{s:s,s:I,s:s}", "v", "meta.k8s.io/v1", "rv", (json_int_t)rv,
			      "start", key);
	char *s = json_dumps(j, JSON_COMPACT), *out = base64_encode(s, strlen(s));

	free(s);
	json_decref(j);
	return out;
}

static char *decode_continue(const char *tok)
{
	size_t n;
	char *raw = NULL, *start = NULL;
	json_t *j = NULL;
	const char *s;

	if (base64_decode(tok, strlen(tok), DYN_SMALL, &raw, &n) == 0)
		j = json_loadb(raw, n, 0, NULL);
	s = json_string_value(json_object_get(j, "start"));
	if (s && strchr(s, '/'))
		start = xstrdup(s);
	json_decref(j);
	free(raw);
	return start;
}

static char *list_meta(const struct sim_snapshot *snap)
{
	char *tok, *meta;

	if (!snap->next_key)
		return xasprintf("{\"resourceVersion\":\"%llu\"}", (unsigned long long)snap->rv);
	tok = encode_continue(snap->rv, snap->next_key);
	meta = xasprintf("{\"resourceVersion\":\"%llu\",\"continue\":\"%s\","
			 "\"remainingItemCount\":%zu}",
			 (unsigned long long)snap->rv, tok, snap->remaining);
	free(tok);
	return meta;
}

static int write_list(struct dynbuf *b, const struct sim_kind *k, const struct sim_snapshot *snap,
		      const char *meta)
{
	size_t i;
	int rc;

	rc = dynbuf_printf(b, "{\"kind\":\"%sList\",\"apiVersion\":\"%s\",\"metadata\":%s,"
			   "\"items\":[", k->kind, sim_kind_api_version(k), meta);
	for (i = 0; i < snap->n && !rc; i++) {
		if (i)
			rc = dynbuf_addch(b, ',');
		if (!rc)
			rc = dynbuf_add(b, snap->objs[i]->json, snap->objs[i]->len);
	}
	return rc ? rc : dynbuf_addstr(b, "]}");
}

/* Parses labelSelector / fieldSelector / limit / continue into q. */
static int parse_list_args(const struct sim_request *req, struct sim_query *q,
			   struct selector **ls, struct field_selector *fs, char **after,
			   char *err, size_t errlen)
{
	const char *limit = sim_request_arg(req, "limit");
	const char *cont = sim_request_arg(req, "continue");

	*ls = selector_parse(sim_request_arg(req, "labelSelector"), err, errlen);
	if (!*ls)
		return ERR_INVAL;
	if (field_selector_parse(sim_request_arg(req, "fieldSelector"), fs, err, errlen))
		return ERR_INVAL;
	if (limit && *limit) {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(limit, &end, 10);
		if (errno || *end || v < 0) {
			snprintf(err, errlen, "limit must be a non-negative integer");
			return ERR_INVAL;
		}
		q->limit = v > SIM_MAX_LIMIT ? SIM_MAX_LIMIT : (size_t)v;
	}
	if (cont && *cont) {
		*after = decode_continue(cont);
		if (!*after) {
			snprintf(err, errlen, "continue key is not valid: incorrect encoded start "
					      "resourceVersion (version meta.k8s.io/v1)");
			return ERR_INVAL;
		}
	}
	q->labels = *ls;
	q->fields = fs;
	q->after = *after;
	return ERR_OK;
}

static void list(struct sim_cluster *c, const struct sim_rest_target *t,
		 const struct sim_request *req, struct sim_response *resp)
{
	struct sim_query q = { .ns = t->ns };
	struct field_selector fs = { 0 };
	struct selector *ls = NULL;
	struct sim_snapshot snap = { 0 };
	char err[1024], *after = NULL, *meta = NULL;
	const char *tv = sim_table_wanted(req);
	int rc;

	rc = parse_list_args(req, &q, &ls, &fs, &after, err, sizeof(err));
	if (!rc)
		rc = sim_store_query(c->store, t->kind->resource, &q, &snap, err, sizeof(err));
	if (rc) {
		sim_response_status(resp, 400, "BadRequest", err);
		goto out;
	}
	meta = list_meta(&snap);
	resp->status = 200;
	free(resp->content_type);
	resp->content_type = xstrdup("application/json");
	if (tv)
		rc = sim_table_write(&resp->body, tv, t->kind, snap.objs, snap.n, meta,
				     sim_request_arg(req, "includeObject"));
	else
		rc = write_list(&resp->body, t->kind, &snap, meta);
	if (rc)
		sim_response_status(resp, 500, "InternalError", "list response too large");
out:
	free(meta);
	free(after);
	sim_snapshot_clear(&snap);
	selector_free(ls);
	field_selector_clear(&fs);
}

/* ---- writes -------------------------------------------------------------------- */

/* Puts the path's namespace into obj; false (resp filled) on mismatch. */
static bool bind_namespace(const struct sim_rest_target *t, json_t *obj,
			   struct sim_response *resp)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *ns;

	if (!json_is_object(meta)) {
		meta = json_object();
		json_object_set_new(obj, "metadata", meta);
	}
	if (!t->kind->namespaced)
		return true;
	ns = json_string_value(json_object_get(meta, "namespace"));
	if (ns && *ns && t->ns && strcmp(ns, t->ns) != 0) {
		sim_response_status(resp, 400, "BadRequest", "the namespace of the provided object "
				    "does not match the namespace sent on the request");
		return false;
	}
	if (t->ns)
		json_object_set_new(meta, "namespace", json_string(t->ns));
	return true;
}

static bool namespace_exists(struct sim_cluster *c, const struct sim_rest_target *t,
			     struct sim_response *resp)
{
	struct sim_obj *ns;

	if (!t->kind->namespaced || !t->ns)
		return true;
	ns = sim_store_get_obj(c->store, "namespaces", NULL, t->ns);
	if (ns) {
		sim_obj_unref(ns);
		return true;
	}
	sim_response_not_found(resp, &sim_kind_namespaces, t->ns);
	return false;
}

static void create(struct sim_cluster *c, const struct sim_rest_target *t,
		   const struct sim_request *req, struct sim_response *resp)
{
	json_t *obj = sim_request_json(req, resp);
	char msg[600];
	int rc;

	if (!obj)
		return;
	if (!bind_namespace(t, obj, resp) || !namespace_exists(c, t, resp))
		goto out;
	rc = sim_store_create(c->store, t->kind->resource, obj);
	if (rc == ERR_CONFLICT) {
		char q[160];
		const char *name = jpath_str(obj, "metadata.name");

		qualified(t->kind, q, sizeof(q));
		snprintf(msg, sizeof(msg), "%s \"%s\" already exists", q, name);
		sim_response_status_details(resp, 409, "AlreadyExists", msg,
					    json_pack("{s:s,s:s}", "name", name, "kind",
						      t->kind->resource));
	} else if (rc) {
		sim_response_store_error(resp, rc, t->kind, jpath_str(obj, "metadata.name"));
	} else {
		respond_json_obj(resp, 201, t->kind, obj);
	}
out:
	json_decref(obj);
}

/* What an update or patch may change: the main resource keeps the stored
 * status, the status subresource keeps everything but status. */
struct write_ctx {
	const struct sim_rest_target *t;
	const struct sim_request *req;
	json_t *body;      /* PUT body */
	int http_status;   /* failure detail for PATCH */
	char err[600];
};

static int apply_write(void *ud, json_t *obj)
{
	struct write_ctx *w = ud;
	json_t *next, *old_status = json_object_get(obj, "status");
	bool status_sub = w->t->subresource && strcmp(w->t->subresource, "status") == 0;
	const char *rv;

	json_incref(old_status);
	if (w->body) {
		next = json_deep_copy(w->body);
	} else {
		next = json_deep_copy(obj);
		w->http_status = sim_patch_apply(w->req, next, w->err, sizeof(w->err));
		if (w->http_status) {
			json_decref(next);
			json_decref(old_status);
			return ERR_INVAL;
		}
	}
	if (status_sub) {
		json_object_set(obj, "status", json_object_get(next, "status"));
	} else {
		json_object_clear(obj);
		json_object_update(obj, next);
		if (w->t->kind->subresources & SIM_SUB_STATUS) {
			if (old_status)
				json_object_set(obj, "status", old_status);
			else
				json_object_del(obj, "status");
		}
	}
	rv = jpath_str(next, "metadata.resourceVersion");
	if (rv && *rv)
		json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion",
				    json_string(rv));
	json_decref(next);
	json_decref(old_status);
	return ERR_OK;
}

static void update_or_patch(struct sim_cluster *c, const struct sim_rest_target *t,
			    const struct sim_request *req, struct sim_response *resp)
{
	struct write_ctx w = { .t = t, .req = req };
	json_t *out = NULL;
	const char *name;
	int rc;

	if (strcmp(req->method, "PUT") == 0) {
		w.body = sim_request_json(req, resp);
		if (!w.body || !bind_namespace(t, w.body, resp))
			goto out;
		name = jpath_str(w.body, "metadata.name");
		if (name && strcmp(name, t->name) != 0) {
			sim_response_status(resp, 400, "BadRequest", "the name of the object does "
					    "not match the name on the URL");
			goto out;
		}
		json_object_set_new(json_object_get(w.body, "metadata"), "name",
				    json_string(t->name));
	}
	rc = sim_store_modify(c->store, t->kind->resource, t->ns, t->name, apply_write, &w, &out);
	if (rc == ERR_INVAL && w.http_status)
		sim_response_status(resp, w.http_status,
				    w.http_status == 415 ? "UnsupportedMediaType" :
				    w.http_status == 422 ? "Invalid" : "BadRequest", w.err);
	else if (rc)
		sim_response_store_error(resp, rc, t->kind, t->name);
	else
		respond_json_obj(resp, 200, t->kind, out);
out:
	json_decref(out);
	json_decref(w.body);
}

/* Deleting a namespace deletes what it holds (no Terminating phase). */
static void delete_namespace_contents(struct sim_cluster *c, const char *ns)
{
	struct sim_query q = { .ns = ns };
	struct sim_snapshot snap;
	char err[64];
	size_t i, j;

	for (i = 0; sim_kinds[i]; i++) {
		if (!sim_kinds[i]->namespaced ||
		    sim_store_query(c->store, sim_kinds[i]->resource, &q, &snap, err, sizeof(err)))
			continue;
		for (j = 0; j < snap.n; j++)
			(void)sim_store_delete(c->store, sim_kinds[i]->resource, ns,
					       snap.objs[j]->name);
		sim_snapshot_clear(&snap);
	}
}

static void delete_one(struct sim_cluster *c, const struct sim_rest_target *t,
		       struct sim_response *resp)
{
	struct sim_obj *o = sim_store_get_obj(c->store, t->kind->resource, t->ns, t->name);

	if (!o || sim_store_delete(c->store, t->kind->resource, t->ns, t->name)) {
		sim_response_not_found(resp, t->kind, t->name);
	} else {
		if (t->kind == &sim_kind_namespaces)
			delete_namespace_contents(c, t->name);
		sim_response_object(resp, 200, t->kind, o->json, o->len);
	}
	if (o)
		sim_obj_unref(o);
}

void sim_rest_handle(struct sim_cluster *c, const struct sim_rest_target *t,
		     const struct sim_request *req, struct sim_response *resp)
{
	const char *m = req->method;
	const char *w = sim_request_arg(req, "watch");
	bool watch = t->watch_path || (w && strcmp(w, "0") && strcasecmp(w, "false"));

	if (t->subresource && strcmp(t->subresource, "scale") == 0 &&
	    (t->kind->subresources & SIM_SUB_SCALE)) {
		sim_scale_handle(c, t, req, resp);
	} else if (t->subresource && (strcmp(t->subresource, "status") ||
				      !(t->kind->subresources & SIM_SUB_STATUS))) {
		sim_response_status(resp, 404, "NotFound",
				    "the server could not find the requested resource");
	} else if ((strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) && watch) {
		sim_watch_handle(c, t, req, resp);
	} else if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) {
		if (t->name)
			get_one(c, t, req, resp);
		else
			list(c, t, req, resp);
	} else if (strcmp(m, "POST") == 0 && !t->name && !t->subresource) {
		create(c, t, req, resp);
	} else if ((strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) && t->name) {
		update_or_patch(c, t, req, resp);
	} else if (strcmp(m, "DELETE") == 0 && t->name && !t->subresource) {
		delete_one(c, t, resp);
	} else {
		sim_response_status(resp, 405, "MethodNotAllowed",
				    "the server does not allow this method on the requested resource");
	}
}
