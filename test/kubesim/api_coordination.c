/*
 * api_coordination.c - coordination.k8s.io/v1 Leases (namespaced; the
 * generic REST layer stores them, with its resourceVersion conflicts) and
 * the Table columns of `kubectl get leases` (v1.32 printer: Holder, Age).
 */
#include "test/kubesim/apiserver.h"

static const struct sim_column lease_cols[] = {
	{ "Name", "string", "name", "Name must be unique within a namespace.", 0 },
	{ "Holder", "string", "", "holderIdentity contains the identity of the holder of a "
				  "current lease.", 0 },
	{ "Age", "string", "", "CreationTimestamp is a timestamp.", 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

static void lease_cells(const json_t *obj, json_t *cells, int64_t now)
{
	const char *holder = jpath_str(obj, "spec.holderIdentity");

	sim_cell_name(cells, obj);
	sim_cell_str(cells, holder ? holder : "");
	sim_cell_age(cells, obj, now);
}

const struct sim_kind sim_kind_leases = {
	.group = "coordination.k8s.io", .version = "v1", .resource = "leases",
	.kind = "Lease", .singular = "lease", .namespaced = true, .columns = lease_cols,
	.cells = lease_cells,
};
