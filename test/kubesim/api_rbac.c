/*
 * api_rbac.c - rbac.authorization.k8s.io/v1 Roles, ClusterRoles,
 * RoleBindings and ClusterRoleBindings as stored objects, with the Table
 * columns of `kubectl get` (v1.32 printers).  rbac.c evaluates them.
 */
#include "test/kubesim/apiserver.h"

#include <stdio.h>
#include <string.h>

#define NAME_COL { "Name", "string", "name", "Name must be unique within a namespace.", 0 }
#define END_COL { NULL, NULL, NULL, NULL, 0 }

static const struct sim_column role_cols[] = {
	NAME_COL,
	{ "Created At", "date", "", "CreationTimestamp is a timestamp.", 0 },
	END_COL,
};

static void role_cells(const json_t *obj, json_t *cells, int64_t now)
{
	(void)now;
	sim_cell_name(cells, obj);
	sim_cell_str(cells, jpath_str(obj, "metadata.creationTimestamp"));
}

static const struct sim_column binding_cols[] = {
	NAME_COL,
	{ "Role", "string", "", "Role is the name of the role.", 0 },
	{ "Age", "string", "", "CreationTimestamp is a timestamp.", 0 },
	{ "Users", "string", "", "Users in the roleBinding", 1 },
	{ "Groups", "string", "", "Groups in the roleBinding", 1 },
	{ "ServiceAccounts", "string", "", "ServiceAccounts in the roleBinding", 1 },
	END_COL,
};

/* The subjects of one kind, ", "-joined (ServiceAccounts as ns/name). */
static void subjects_cell(const json_t *obj, const char *kind, json_t *cells)
{
	json_t *subjects = json_object_get(obj, "subjects"), *s;
	struct dynbuf b;
	size_t i;
	int rc = 0;

	dynbuf_init(&b, DYN_SMALL);
	rc = dynbuf_addstr(&b, "");
	json_array_foreach(subjects, i, s) {
		if (rc || strcmp(sim_json_str(s, "kind"), kind) != 0)
			continue;
		if (b.len)
			rc = dynbuf_addstr(&b, ", ");
		if (!rc && strcmp(kind, "ServiceAccount") == 0)
			rc = dynbuf_printf(&b, "%s/", sim_json_str(s, "namespace"));
		if (!rc)
			rc = dynbuf_addstr(&b, sim_json_str(s, "name"));
	}
	sim_cell_str(cells, rc ? "" : b.buf);
	dynbuf_clear(&b);
}

static void binding_cells(const json_t *obj, json_t *cells, int64_t now)
{
	char role[300];

	sim_cell_name(cells, obj);
	snprintf(role, sizeof(role), "%s/%s", sim_json_str(obj, "roleRef.kind"),
		 sim_json_str(obj, "roleRef.name"));
	sim_cell_str(cells, role);
	sim_cell_age(cells, obj, now);
	subjects_cell(obj, "User", cells);
	subjects_cell(obj, "Group", cells);
	subjects_cell(obj, "ServiceAccount", cells);
}

#define RBAC_KIND(var, res, k, sing, ns, cols, cellfn)                                       \
	const struct sim_kind var = {                                                          \
		.group = "rbac.authorization.k8s.io", .version = "v1", .resource = res,        \
		.kind = k, .singular = sing, .namespaced = ns, .columns = cols,                \
		.cells = cellfn,                                                               \
	}

RBAC_KIND(sim_kind_roles, "roles", "Role", "role", true, role_cols, role_cells);
RBAC_KIND(sim_kind_clusterroles, "clusterroles", "ClusterRole", "clusterrole", false, role_cols,
	  role_cells);
RBAC_KIND(sim_kind_rolebindings, "rolebindings", "RoleBinding", "rolebinding", true,
	  binding_cols, binding_cells);
RBAC_KIND(sim_kind_clusterrolebindings, "clusterrolebindings", "ClusterRoleBinding",
	  "clusterrolebinding", false, binding_cols, binding_cells);
