/*
 * api_core.c - the core/v1 kinds kubesim serves: namespaces, nodes, pods,
 * configmaps, events, services and endpoints (defaults, field-selector
 * keys and Table columns as kube-apiserver's printers show them).
 */
#include "test/kubesim/apiserver.h"

#include <stdio.h>
#include <string.h>

#define NAME_COL { "Name", "string", "name", "Name must be unique within a namespace.", 0 }
#define AGE_COL { "Age", "string", "", "CreationTimestamp is a timestamp.", 0 }
#define END_COL { NULL, NULL, NULL, NULL, 0 }

static const char *const all_category[] = { "all", NULL };

/* ---- namespaces ----------------------------------------------------------- */

static void namespace_defaults(json_t *obj, bool create)
{
	json_t *meta = json_object_get(obj, "metadata");
	json_t *labels = json_object_get(meta, "labels");
	const char *name = json_string_value(json_object_get(meta, "name"));

	if (!json_is_object(labels)) {
		labels = json_object();
		json_object_set_new(meta, "labels", labels);
	}
	if (name)
		json_object_set_new(labels, "kubernetes.io/metadata.name", json_string(name));
	if (create) {
		json_object_set_new(obj, "spec", json_pack("{s:[s]}", "finalizers", "kubernetes"));
		json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Active"));
	}
}

static const struct sim_column namespace_cols[] = {
	NAME_COL,
	{ "Status", "string", "", "The status of the namespace", 0 },
	AGE_COL,
	END_COL,
};

static void namespace_cells(const json_t *obj, json_t *cells, int64_t now)
{
	sim_cell_name(cells, obj);
	sim_cell_str(cells, jpath_str(obj, "status.phase"));
	sim_cell_age(cells, obj, now);
}

static const char *const namespace_short[] = { "ns", NULL };
static const char *const namespace_fields[] = { "status.phase", NULL };

const struct sim_kind sim_kind_namespaces = {
	.group = "", .version = "v1", .resource = "namespaces", .kind = "Namespace",
	.singular = "namespace", .namespaced = false, .short_names = namespace_short,
	.subresources = SIM_SUB_STATUS, .fields = namespace_fields, .columns = namespace_cols,
	.cells = namespace_cells, .defaults = namespace_defaults,
};

/* ---- nodes ---------------------------------------------------------------- */

static const struct sim_column node_cols[] = {
	NAME_COL,
	{ "Status", "string", "", "The status of the node", 0 },
	{ "Roles", "string", "", "The roles of the node", 0 },
	AGE_COL,
	{ "Version", "string", "", "Kubelet Version reported by the node.", 0 },
	{ "Internal-IP", "string", "", "List of internal IPs.", 1 },
	{ "External-IP", "string", "", "List of external IPs.", 1 },
	{ "OS-Image", "string", "", "OS Image reported by the node.", 1 },
	{ "Kernel-Version", "string", "", "Kernel Version reported by the node.", 1 },
	{ "Container-Runtime", "string", "", "Container Runtime Version.", 1 },
	END_COL,
};

/* "status" of the condition of type `type` in obj's status.conditions. */
static const char *condition_status(const json_t *obj, const char *type)
{
	json_t *conds = jpath_get(obj, "status.conditions"), *c;
	size_t i;

	json_array_foreach(conds, i, c)
		if (json_is_string(json_object_get(c, "type")) &&
		    strcmp(json_string_value(json_object_get(c, "type")), type) == 0)
			return json_string_value(json_object_get(c, "status"));
	return NULL;
}

static void node_status_cell(const json_t *obj, json_t *cells)
{
	const char *ready = condition_status(obj, "Ready");
	char buf[64];

	snprintf(buf, sizeof(buf), "%s%s",
		 !ready ? "Unknown" : strcmp(ready, "True") == 0 ? "Ready" : "NotReady",
		 json_is_true(jpath_get(obj, "spec.unschedulable")) ? ",SchedulingDisabled"
									   : "");
	sim_cell_str(cells, buf);
}

static void node_roles_cell(const json_t *obj, json_t *cells)
{
	static const char prefix[] = "node-role.kubernetes.io/";
	json_t *labels = jpath_get(obj, "metadata.labels"), *v;
	struct dynbuf b;
	const char *key;

	dynbuf_init(&b, DYN_SMALL);
	json_object_foreach(labels, key, v) {
		if (strncmp(key, prefix, sizeof(prefix) - 1) || !key[sizeof(prefix) - 1])
			continue;
		if ((b.len && dynbuf_addch(&b, ',')) ||
		    dynbuf_addstr(&b, key + sizeof(prefix) - 1))
			break;
	}
	sim_cell_str(cells, b.buf);
	dynbuf_clear(&b);
}

static void node_address_cell(const json_t *obj, json_t *cells, const char *type)
{
	json_t *addrs = jpath_get(obj, "status.addresses"), *a;
	size_t i;

	json_array_foreach(addrs, i, a) {
		const char *t = json_string_value(json_object_get(a, "type"));

		if (t && strcmp(t, type) == 0) {
			sim_cell_str(cells, json_string_value(json_object_get(a, "address")));
			return;
		}
	}
	sim_cell_str(cells, NULL);
}

static void node_cells(const json_t *obj, json_t *cells, int64_t now)
{
	sim_cell_name(cells, obj);
	node_status_cell(obj, cells);
	node_roles_cell(obj, cells);
	sim_cell_age(cells, obj, now);
	sim_cell_str(cells, jpath_str(obj, "status.nodeInfo.kubeletVersion"));
	node_address_cell(obj, cells, "InternalIP");
	node_address_cell(obj, cells, "ExternalIP");
	sim_cell_str(cells, jpath_str(obj, "status.nodeInfo.osImage"));
	sim_cell_str(cells, jpath_str(obj, "status.nodeInfo.kernelVersion"));
	sim_cell_str(cells, jpath_str(obj, "status.nodeInfo.containerRuntimeVersion"));
}

static const char *const node_short[] = { "no", NULL };

const struct sim_kind sim_kind_nodes = {
	.group = "", .version = "v1", .resource = "nodes", .kind = "Node", .singular = "node",
	.namespaced = false, .short_names = node_short, .subresources = SIM_SUB_STATUS,
	.columns = node_cols, .cells = node_cells,
};

/* ---- pods ----------------------------------------------------------------- */

static void pod_defaults(json_t *obj, bool create)
{
	json_t *status = json_object_get(obj, "status");

	if (!create)
		return;
	if (!json_is_object(status)) {
		status = json_object();
		json_object_set_new(obj, "status", status);
	}
	if (!json_object_get(status, "phase"))
		json_object_set_new(status, "phase", json_string("Pending"));
	if (!json_object_get(status, "qosClass"))
		json_object_set_new(status, "qosClass", json_string("Burstable"));
}

static const struct sim_column pod_cols[] = {
	NAME_COL,
	{ "Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.",
	  0 },
	{ "Status", "string", "", "The aggregate status of the containers in this pod.", 0 },
	{ "Restarts", "string", "", "The number of times the containers in this pod have been "
				   "restarted and when the last container in this pod has restarted.",
	  0 },
	AGE_COL,
	{ "IP", "string", "", "IP address allocated to the pod. Routable at least within the "
			     "cluster. Empty if not yet allocated.", 1 },
	{ "Node", "string", "", "NodeName is a request to schedule this pod onto a specific "
			       "node.", 1 },
	{ "Nominated Node", "string", "", "nominatedNodeName is set when this pod preempts "
					 "other pods on the node.", 1 },
	{ "Readiness Gates", "string", "", "If specified, all readiness gates will be evaluated "
					  "for pod readiness.", 1 },
	END_COL,
};

/* Ready "n/m", Status reason and restarts, as the pod printer computes. */
static void pod_state_cells(const json_t *obj, json_t *cells)
{
	json_t *statuses = jpath_get(obj, "status.containerStatuses"), *cs;
	size_t total = json_array_size(jpath_get(obj, "spec.containers")), i;
	const char *reason = jpath_str(obj, "status.reason");
	json_int_t ready = 0, restarts = 0;
	char buf[32];

	if (!reason)
		reason = jpath_str(obj, "status.phase");
	json_array_foreach(statuses, i, cs) {
		const char *waiting = jpath_str(cs, "state.waiting.reason");

		restarts += json_integer_value(json_object_get(cs, "restartCount"));
		if (json_is_true(json_object_get(cs, "ready")))
			ready++;
		if (waiting && *waiting)
			reason = waiting;
	}
	if (jpath_get(obj, "metadata.deletionTimestamp"))
		reason = "Terminating";
	snprintf(buf, sizeof(buf), "%lld/%zu", (long long)ready, total);
	sim_cell_str(cells, buf);
	sim_cell_str(cells, reason);
	snprintf(buf, sizeof(buf), "%lld", (long long)restarts);
	sim_cell_str(cells, buf);
}

static void pod_cells(const json_t *obj, json_t *cells, int64_t now)
{
	sim_cell_name(cells, obj);
	pod_state_cells(obj, cells);
	sim_cell_age(cells, obj, now);
	sim_cell_str(cells, jpath_str(obj, "status.podIP"));
	sim_cell_str(cells, jpath_str(obj, "spec.nodeName"));
	sim_cell_str(cells, jpath_str(obj, "status.nominatedNodeName"));
	sim_cell_str(cells, NULL);
}

static const char *const pod_short[] = { "po", NULL };
static const char *const pod_fields[] = {
	"spec.nodeName",     "status.phase", "spec.restartPolicy", "spec.schedulerName",
	"spec.serviceAccountName", "status.podIP", "status.nominatedNodeName", NULL,
};

const struct sim_kind sim_kind_pods = {
	.group = "", .version = "v1", .resource = "pods", .kind = "Pod", .singular = "pod",
	.namespaced = true, .short_names = pod_short, .categories = all_category,
	.subresources = SIM_SUB_STATUS, .fields = pod_fields, .columns = pod_cols,
	.cells = pod_cells, .defaults = pod_defaults,
};

/* ---- configmaps ------------------------------------------------------------- */

static const struct sim_column configmap_cols[] = {
	NAME_COL,
	{ "Data", "string", "", "Data contains the configuration data.", 0 },
	AGE_COL,
	END_COL,
};

static void configmap_cells(const json_t *obj, json_t *cells, int64_t now)
{
	sim_cell_name(cells, obj);
	sim_cell_int(cells, (json_int_t)(json_object_size(json_object_get(obj, "data")) +
					 json_object_size(json_object_get(obj, "binaryData"))));
	sim_cell_age(cells, obj, now);
}

static const char *const configmap_short[] = { "cm", NULL };

const struct sim_kind sim_kind_configmaps = {
	.group = "", .version = "v1", .resource = "configmaps", .kind = "ConfigMap",
	.singular = "configmap", .namespaced = true, .short_names = configmap_short,
	.columns = configmap_cols, .cells = configmap_cells,
};

/* ---- serviceaccounts ---------------------------------------------------------
 * Stored only (kubesim issues no tokens; a test gives a service account's
 * identity as a client certificate CN=system:serviceaccount:NS:NAME). */

static const struct sim_column serviceaccount_cols[] = {
	NAME_COL,
	{ "Secrets", "string", "", "Secrets is a list of the secrets in the same namespace "
				  "that pods running using this ServiceAccount are allowed to use.", 0 },
	AGE_COL,
	END_COL,
};

static void serviceaccount_cells(const json_t *obj, json_t *cells, int64_t now)
{
	sim_cell_name(cells, obj);
	sim_cell_int(cells, (json_int_t)json_array_size(json_object_get(obj, "secrets")));
	sim_cell_age(cells, obj, now);
}

static const char *const serviceaccount_short[] = { "sa", NULL };

const struct sim_kind sim_kind_serviceaccounts = {
	.group = "", .version = "v1", .resource = "serviceaccounts", .kind = "ServiceAccount",
	.singular = "serviceaccount", .namespaced = true, .short_names = serviceaccount_short,
	.columns = serviceaccount_cols, .cells = serviceaccount_cells,
};

/* ---- events ----------------------------------------------------------------- */

static const struct sim_column event_cols[] = {
	{ "Last Seen", "string", "", "Time when last event occurred.", 0 },
	{ "Type", "string", "", "Type of this event.", 0 },
	{ "Reason", "string", "", "Reason is why the action was taken.", 0 },
	{ "Object", "string", "", "The object this Event is about.", 0 },
	{ "Message", "string", "", "A human-readable description of the status of this "
				  "operation.", 0 },
	END_COL,
};

static void event_cells(const json_t *obj, json_t *cells, int64_t now)
{
	const char *last = jpath_str(obj, "lastTimestamp");
	const char *kind = jpath_str(obj, "involvedObject.kind");
	const char *name = jpath_str(obj, "involvedObject.name");
	char buf[300];
	int64_t t;

	if (last && parse_rfc3339(last, &t) == ERR_OK) {
		json_t *tmp = json_pack("{s:{s:s}}", "metadata", "creationTimestamp", last);

		sim_cell_age(cells, tmp, now);
		json_decref(tmp);
	} else {
		sim_cell_age(cells, obj, now);
	}
	sim_cell_str(cells, jpath_str(obj, "type"));
	sim_cell_str(cells, jpath_str(obj, "reason"));
	snprintf(buf, sizeof(buf), "%s/%s", kind ? kind : "", name ? name : "");
	for (t = 0; kind && buf[t] && buf[t] != '/'; t++)
		if (buf[t] >= 'A' && buf[t] <= 'Z')
			buf[t] = (char)(buf[t] - 'A' + 'a');
	sim_cell_str(cells, buf);
	sim_cell_str(cells, jpath_str(obj, "message"));
}

static const char *const event_short[] = { "ev", NULL };
static const char *const event_fields[] = {
	"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
	"involvedObject.uid",  "involvedObject.apiVersion", "involvedObject.resourceVersion",
	"involvedObject.fieldPath", "reason", "reportingComponent", "type", NULL,
};

const struct sim_kind sim_kind_events = {
	.group = "", .version = "v1", .resource = "events", .kind = "Event",
	.singular = "event", .namespaced = true, .short_names = event_short,
	.fields = event_fields, .columns = event_cols, .cells = event_cells,
};

/* ---- services and endpoints (for APIService backends) --------------------------- */

static const struct sim_column service_cols[] = {
	NAME_COL,
	{ "Type", "string", "", "The type of service.", 0 },
	{ "Cluster-IP", "string", "", "The cluster-ip of the service.", 0 },
	AGE_COL,
	END_COL,
};

static void service_cells(const json_t *obj, json_t *cells, int64_t now)
{
	const char *type = jpath_str(obj, "spec.type");

	sim_cell_name(cells, obj);
	sim_cell_str(cells, type ? type : "ClusterIP");
	sim_cell_str(cells, jpath_str(obj, "spec.clusterIP"));
	sim_cell_age(cells, obj, now);
}

static const char *const service_short[] = { "svc", NULL };

const struct sim_kind sim_kind_services = {
	.group = "", .version = "v1", .resource = "services", .kind = "Service",
	.singular = "service", .namespaced = true, .short_names = service_short,
	.categories = all_category, .subresources = SIM_SUB_STATUS, .columns = service_cols,
	.cells = service_cells,
};

static const struct sim_column endpoint_cols[] = { NAME_COL, AGE_COL, END_COL };

static void endpoint_cells(const json_t *obj, json_t *cells, int64_t now)
{
	sim_cell_name(cells, obj);
	sim_cell_age(cells, obj, now);
}

static const char *const endpoint_short[] = { "ep", NULL };

const struct sim_kind sim_kind_endpoints = {
	.group = "", .version = "v1", .resource = "endpoints", .kind = "Endpoints",
	.singular = "endpoints", .namespaced = true, .short_names = endpoint_short,
	.columns = endpoint_cols, .cells = endpoint_cells,
};
