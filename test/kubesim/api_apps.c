/*
 * api_apps.c - apps/v1 Deployments: defaults, Table columns and the
 * scale subresource (autoscaling/v1 Scale with status.selector), whose
 * successful writes are counted per target for the HA tests.
 */
#include "test/kubesim/apiserver.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void deployment_defaults(json_t *obj, bool create)
{
	json_t *spec = json_object_get(obj, "spec");

	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(obj, "spec", spec);
	}
	if (!json_is_integer(json_object_get(spec, "replicas")))
		json_object_set_new(spec, "replicas", json_integer(1));
	if (!json_object_get(spec, "revisionHistoryLimit"))
		json_object_set_new(spec, "revisionHistoryLimit", json_integer(10));
	if (!json_object_get(spec, "progressDeadlineSeconds"))
		json_object_set_new(spec, "progressDeadlineSeconds", json_integer(600));
	if (!json_is_string(jpath_get(spec, "strategy.type")))
		json_object_set_new(spec, "strategy",
				    json_pack("{s:s,s:{s:s,s:s}}", "type", "RollingUpdate",
					      "rollingUpdate", "maxUnavailable", "25%",
					      "maxSurge", "25%"));
	if (create && !json_object_get(obj, "status"))
		json_object_set_new(obj, "status", json_object());
}

static const struct sim_column deployment_cols[] = {
	{ "Name", "string", "name", "Name must be unique within a namespace.", 0 },
	{ "Ready", "string", "", "Number of the pod with ready state", 0 },
	{ "Up-to-date", "string", "", "Total number of non-terminated pods targeted by this "
				     "deployment that have the desired template spec.", 0 },
	{ "Available", "string", "", "Total number of available pods (ready for at least "
				    "minReadySeconds) targeted by this deployment.", 0 },
	{ "Age", "string", "", "CreationTimestamp is a timestamp.", 0 },
	{ "Containers", "string", "", "Names of each container in the template.", 1 },
	{ "Images", "string", "", "Images referenced by each container in the template.", 1 },
	{ "Selector", "string", "", "Label selector for pods.", 1 },
	{ NULL, NULL, NULL, NULL, 0 },
};

/* Comma-joined `field` of every template container. */
static void containers_cell(const json_t *obj, json_t *cells, const char *field)
{
	json_t *cs = jpath_get(obj, "spec.template.spec.containers"), *c;
	struct dynbuf b;
	size_t i;

	dynbuf_init(&b, DYN_SMALL);
	json_array_foreach(cs, i, c) {
		const char *v = json_string_value(json_object_get(c, field));

		if ((i && dynbuf_addch(&b, ',')) || dynbuf_addstr(&b, v ? v : ""))
			break;
	}
	sim_cell_str(cells, b.buf);
	dynbuf_clear(&b);
}

static void deployment_cells(const json_t *obj, json_t *cells, int64_t now)
{
	json_int_t ready = json_integer_value(jpath_get(obj, "status.readyReplicas"));
	json_int_t want = json_integer_value(jpath_get(obj, "spec.replicas"));
	char buf[64], *sel;

	sim_cell_name(cells, obj);
	snprintf(buf, sizeof(buf), "%lld/%lld", (long long)ready, (long long)want);
	sim_cell_str(cells, buf);
	sim_cell_int(cells, json_integer_value(jpath_get(obj, "status.updatedReplicas")));
	sim_cell_int(cells, json_integer_value(jpath_get(obj, "status.availableReplicas")));
	sim_cell_age(cells, obj, now);
	containers_cell(obj, cells, "name");
	containers_cell(obj, cells, "image");
	sel = sim_label_selector_string(jpath_get(obj, "spec.selector"));
	sim_cell_str(cells, sel);
	free(sel);
}

static const char *const deployment_short[] = { "deploy", NULL };
static const char *const deployment_categories[] = { "all", NULL };

const struct sim_kind sim_kind_deployments = {
	.group = "apps", .version = "v1", .resource = "deployments", .kind = "Deployment",
	.singular = "deployment", .namespaced = true, .short_names = deployment_short,
	.categories = deployment_categories, .subresources = SIM_SUB_STATUS | SIM_SUB_SCALE,
	.generation = true, .columns = deployment_cols, .cells = deployment_cells,
	.defaults = deployment_defaults,
};

/* ---- scale subresource ----------------------------------------------------- */

/* autoscaling/v1 Scale of a deployment (new reference). */
static json_t *scale_of(const json_t *d)
{
	json_t *meta = json_object_get(d, "metadata");
	char *sel = sim_label_selector_string(jpath_get(d, "spec.selector"));
	json_t *scale = json_pack(
		"{s:s,s:s,s:{s:O*,s:O*,s:O*,s:O*,s:O*},s:{s:I},s:{s:I,s:s}}", "kind", "Scale",
		"apiVersion", "autoscaling/v1", "metadata", "name", json_object_get(meta, "name"),
		"namespace", json_object_get(meta, "namespace"), "uid",
		json_object_get(meta, "uid"), "resourceVersion",
		json_object_get(meta, "resourceVersion"), "creationTimestamp",
		json_object_get(meta, "creationTimestamp"), "spec", "replicas",
		(json_int_t)json_integer_value(jpath_get(d, "spec.replicas")), "status",
		"replicas", (json_int_t)json_integer_value(jpath_get(d, "status.replicas")),
		"selector", sel);

	free(sel);
	return scale;
}

struct scale_change {
	const struct sim_request *req;
	int status;     /* HTTP status of a failure */
	char err[512];
	json_int_t before, after; /* spec.replicas around a write */
};

/* ---- scale writes counted per target (GET /kubesim/v1/stats) ---------------- */

static pthread_mutex_t writes_mu = PTHREAD_MUTEX_INITIALIZER;
static json_t *writes; /* "ns/resource/name" -> {writes, unchanged, byUser: {user: n}} */

/* Counts one successful PUT or PATCH of a Scale: `unchanged` when it left
 * spec.replicas as it was (a second controller writing the same decision). */
static void count_write(const struct sim_rest_target *t, const struct sim_request *req,
			json_int_t before, json_int_t after)
{
	char *key = xasprintf("%s/%s/%s", t->ns ? t->ns : "", t->kind->resource, t->name);
	const char *user = req->user ? req->user : "system:anonymous";
	json_t *e, *by;

	pthread_mutex_lock(&writes_mu);
	if (!writes)
		writes = json_object();
	e = json_object_get(writes, key);
	if (!e) {
		e = json_pack("{s:I,s:I,s:{}}", "writes", (json_int_t)0, "unchanged",
			      (json_int_t)0, "byUser");
		json_object_set_new(writes, key, e);
	}
	json_object_set_new(e, "writes", json_integer(jpath_int(e, "writes", 0) + 1));
	if (before == after)
		json_object_set_new(e, "unchanged",
				    json_integer(jpath_int(e, "unchanged", 0) + 1));
	by = json_object_get(e, "byUser");
	json_object_set_new(by, user, json_integer(json_integer_value(json_object_get(by, user)) + 1));
	pthread_mutex_unlock(&writes_mu);
	free(key);
}

json_t *sim_scale_writes(void)
{
	json_t *copy;

	pthread_mutex_lock(&writes_mu);
	copy = writes ? json_deep_copy(writes) : json_object();
	pthread_mutex_unlock(&writes_mu);
	return copy;
}

/* sim_store_modify callback: applies a PUT or PATCH of the Scale. */
static int change_scale(void *ud, json_t *d)
{
	struct scale_change *ch = ud;
	json_t *scale = scale_of(d), *body = NULL, *replicas;
	const char *rv, *cur;
	int rc = ERR_INVAL;

	if (strcmp(ch->req->method, "PATCH") == 0) {
		ch->status = sim_patch_apply(ch->req, scale, ch->err, sizeof(ch->err));
		if (ch->status)
			goto out;
		body = json_incref(scale);
	} else {
		body = json_loadb(ch->req->body, ch->req->body_len, 0, NULL);
		ch->status = 400;
		snprintf(ch->err, sizeof(ch->err), "the body of the request was not a Scale");
		if (!json_is_object(body))
			goto out;
	}
	rv = jpath_str(body, "metadata.resourceVersion");
	cur = jpath_str(d, "metadata.resourceVersion");
	if (rv && *rv && cur && strcmp(rv, cur) != 0) {
		rc = ERR_CONFLICT;
		goto out;
	}
	replicas = jpath_get(body, "spec.replicas");
	ch->status = 422;
	snprintf(ch->err, sizeof(ch->err),
		 "Scale.autoscaling \"%s\" is invalid: spec.replicas: Invalid value: %lld: "
		 "must be greater than or equal to 0",
		 jpath_str(d, "metadata.name"), (long long)json_integer_value(replicas));
	if (replicas && (!json_is_integer(replicas) || json_integer_value(replicas) < 0))
		goto out;
	ch->before = json_integer_value(jpath_get(d, "spec.replicas"));
	if (replicas)
		json_object_set(json_object_get(d, "spec"), "replicas", replicas);
	ch->after = json_integer_value(jpath_get(d, "spec.replicas"));
	ch->status = 0;
	rc = ERR_OK;
out:
	json_decref(body);
	json_decref(scale);
	return rc;
}

void sim_scale_handle(struct sim_cluster *c, const struct sim_rest_target *t,
		      const struct sim_request *req, struct sim_response *resp)
{
	struct scale_change ch = { .req = req };
	json_t *d = NULL;
	int rc;

	if (strcmp(req->method, "GET") == 0) {
		d = sim_store_get(c->store, t->kind->resource, t->ns, t->name);
		rc = d ? ERR_OK : ERR_NOTFOUND;
	} else if (strcmp(req->method, "PUT") == 0 || strcmp(req->method, "PATCH") == 0) {
		rc = sim_store_modify(c->store, t->kind->resource, t->ns, t->name, change_scale,
				      &ch, &d);
	} else {
		sim_response_status(resp, 405, "MethodNotAllowed",
				    "the server does not allow this method on the requested "
				    "resource");
		return;
	}
	if (rc == ERR_INVAL && ch.status) {
		sim_response_status(resp, ch.status,
				    ch.status == 422 ? "Invalid" :
				    ch.status == 415 ? "UnsupportedMediaType" : "BadRequest",
				    ch.err);
		return;
	}
	if (rc) {
		sim_response_store_error(resp, rc, t->kind, t->name);
		return;
	}
	if (strcmp(req->method, "GET") != 0)
		count_write(t, req, ch.before, ch.after);
	sim_response_json(resp, 200, scale_of(d));
	json_decref(d);
}
