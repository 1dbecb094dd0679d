/*
 * api_policy.c - policy/v1 PodDisruptionBudgets (namespaced; stored and
 * served by the generic REST layer, nothing enforces them: kubesim evicts
 * nothing) so manifests that carry one (manifests/overlays/
 * high-availability) apply as they would to a cluster, and the Table
 * columns of `kubectl get pdb` (v1.32 printer: Min Available, Max
 * Unavailable, Allowed Disruptions, Age).
 */
#include "test/kubesim/apiserver.h"

#include <stdio.h>

static const struct sim_column pdb_cols[] = {
	{ "Name", "string", "name", "Name must be unique within a namespace.", 0 },
	{ "Min Available", "string", "", "The minimum number of pods that must be available "
					 "simultaneously.", 0 },
	{ "Max Unavailable", "string", "", "The maximum number of pods that may be unavailable "
					   "simultaneously.", 0 },
	{ "Allowed Disruptions", "integer", "", "Calculated number of pods that may be disrupted "
						"at this time.", 0 },
	{ "Age", "string", "", "CreationTimestamp is a timestamp.", 0 },
	{ NULL, NULL, NULL, NULL, 0 },
};

/* An intstr field as the printer shows it: the number or the percentage, else "N/A". */
static void intstr_cell(json_t *cells, const json_t *obj, const char *path)
{
	const json_t *v = jpath_get(obj, path);
	char buf[32];

	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		sim_cell_str(cells, buf);
	} else {
		sim_cell_str(cells, json_is_string(v) ? json_string_value(v) : "N/A");
	}
}

static void pdb_cells(const json_t *obj, json_t *cells, int64_t now)
{
	sim_cell_name(cells, obj);
	intstr_cell(cells, obj, "spec.minAvailable");
	intstr_cell(cells, obj, "spec.maxUnavailable");
	json_array_append_new(cells, json_integer(json_integer_value(
					     jpath_get(obj, "status.disruptionsAllowed"))));
	sim_cell_age(cells, obj, now);
}

static const char *const pdb_short[] = { "pdb", NULL };

const struct sim_kind sim_kind_poddisruptionbudgets = {
	.group = "policy", .version = "v1", .resource = "poddisruptionbudgets",
	.kind = "PodDisruptionBudget", .singular = "poddisruptionbudget", .namespaced = true,
	.short_names = pdb_short, .columns = pdb_cols, .cells = pdb_cells,
};
