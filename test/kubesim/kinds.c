/*
 * kinds.c - the registry of kinds kubesim serves, APIService objects
 * (stored for the aggregator), and label-selector strings.
 */
#include "test/kubesim/apiserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- apiservices -------------------------------------------------------------- */

static const struct sim_column apiservice_cols[] = {
	{ "Name", "string", "name", "Name must be unique within a namespace.", 0 },
	{ "Service", "string", "", "The reference to the service that hosts this API "
				  "endpoint.", 0 },
	{ "Available", "string", "", "Whether this service is available.", 0 },
	{ "Age", "string", "", "CreationTimestamp is a timestamp.", 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static void apiservice_cells(const json_t *obj, json_t *cells, int64_t now)
{
	const char *ns = jpath_str(obj, "spec.service.namespace");
	const char *name = jpath_str(obj, "spec.service.name");
	json_t *conds = jpath_get(obj, "status.conditions"), *c;
	char svc[300], avail[300] = "Unknown";
	size_t i;

	sim_cell_name(cells, obj);
	if (ns && name)
		snprintf(svc, sizeof(svc), "%s/%s", ns, name);
	else
		snprintf(svc, sizeof(svc), "Local");
	sim_cell_str(cells, svc);
	json_array_foreach(conds, i, c) {
		const char *type = json_string_value(json_object_get(c, "type"));
		const char *st = json_string_value(json_object_get(c, "status"));
		const char *reason = json_string_value(json_object_get(c, "reason"));

		if (!type || strcmp(type, "Available") != 0 || !st)
			continue;
		if (strcmp(st, "True") == 0 || !reason)
			snprintf(avail, sizeof(avail), "%s", st);
		else
			snprintf(avail, sizeof(avail), "%s (%s)", st, reason);
	}
	sim_cell_str(cells, avail);
	sim_cell_age(cells, obj, now);
}

const struct sim_kind sim_kind_apiservices = {
	.group = "apiregistration.k8s.io", .version = "v1", .resource = "apiservices",
	.kind = "APIService", .singular = "apiservice", .namespaced = false,
	.subresources = SIM_SUB_STATUS, .columns = apiservice_cols, .cells = apiservice_cells,
};

/* ---- registry ------------------------------------------------------------------- */

const struct sim_kind *const sim_kinds[] = {
	&sim_kind_namespaces, &sim_kind_nodes,       &sim_kind_pods,        &sim_kind_configmaps,
	&sim_kind_events,     &sim_kind_services,    &sim_kind_endpoints,   &sim_kind_deployments,
	&sim_kind_hpas,       &sim_kind_apiservices, &sim_kind_clusterrolebindings,
	&sim_kind_clusterroles, &sim_kind_rolebindings, &sim_kind_roles, &sim_kind_leases,
	&sim_kind_serviceaccounts, &sim_kind_poddisruptionbudgets, NULL,
};

const struct sim_kind *sim_kind_find(const char *group, const char *resource)
{
	size_t i;

	for (i = 0; sim_kinds[i]; i++)
		if (strcmp(sim_kinds[i]->group, group) == 0 &&
		    strcmp(sim_kinds[i]->resource, resource) == 0)
			return sim_kinds[i];
	return NULL;
}

const struct sim_kind *sim_kind_by_resource(const char *resource)
{
	size_t i;

	for (i = 0; sim_kinds[i]; i++)
		if (strcmp(sim_kinds[i]->resource, resource) == 0)
			return sim_kinds[i];
	return NULL;
}

const char *sim_kind_api_version(const struct sim_kind *k)
{
	static const char *const versions[] = { "v1", "apps/v1", "autoscaling/v2",
						"apiregistration.k8s.io/v1", "rbac.authorization.k8s.io/v1",
						"coordination.k8s.io/v1", "policy/v1" };
	size_t i;

	for (i = 0; i < COMMON_ARRAY_LEN(versions); i++) {
		const char *slash = strchr(versions[i], '/');

		if (!*k->group && !slash && strcmp(versions[i], k->version) == 0)
			return versions[i];
		if (slash && strncmp(versions[i], k->group, (size_t)(slash - versions[i])) == 0 &&
		    !k->group[slash - versions[i]] && strcmp(slash + 1, k->version) == 0)
			return versions[i];
	}
	return k->version;
}

/* ---- label selectors ----------------------------------------------------------- */

/* One matchExpressions entry as selector text. */
static int add_expression(struct dynbuf *b, const json_t *e)
{
	const char *key = json_string_value(json_object_get(e, "key"));
	const char *op = json_string_value(json_object_get(e, "operator"));
	json_t *vals = json_object_get(e, "values"), *v;
	size_t i;
	int rc;

	if (!key || !op)
		return ERR_INVAL;
	if (strcmp(op, "Exists") == 0)
		return dynbuf_printf(b, "%s", key);
	if (strcmp(op, "DoesNotExist") == 0)
		return dynbuf_printf(b, "!%s", key);
	if (strcmp(op, "In") && strcmp(op, "NotIn"))
		return ERR_INVAL;
	rc = dynbuf_printf(b, "%s %s (", key, strcmp(op, "In") == 0 ? "in" : "notin");
	json_array_foreach(vals, i, v)
		if (!rc)
			rc = dynbuf_printf(b, "%s%s", i ? "," : "", json_string_value(v) ?: "");
	return rc ? rc : dynbuf_addch(b, ')');
}

char *sim_label_selector_string(const json_t *sel)
{
	json_t *labels = json_object_get(sel, "matchLabels"), *v;
	json_t *exprs = json_object_get(sel, "matchExpressions");
	struct selector *parsed;
	struct dynbuf b;
	const char *key;
	char err[256], *out;
	size_t i;
	int rc = ERR_OK;

	dynbuf_init(&b, DYN_SMALL);
	rc = dynbuf_addstr(&b, "");
	json_object_foreach(labels, key, v)
		if (!rc)
			rc = dynbuf_printf(&b, "%s%s=%s", b.len ? "," : "", key,
					   json_string_value(v) ?: "");
	json_array_foreach(exprs, i, v) {
		if (!rc && b.len)
			rc = dynbuf_addch(&b, ',');
		if (!rc)
			rc = add_expression(&b, v);
	}
	parsed = rc ? NULL : selector_parse(b.buf, err, sizeof(err));
	out = parsed ? selector_string(parsed) : xstrdup(rc ? "" : b.buf);
	selector_free(parsed);
	dynbuf_clear(&b);
	return out;
}
