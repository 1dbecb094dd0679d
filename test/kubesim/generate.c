/*
 * generate.c - the initial cluster: system namespaces, local
 * APIServices, the extension-apiserver-authentication ConfigMap, the
 * bootstrap RBAC objects,
 * --nodes generated nodes with --pods-per-node running pods each, and the
 * objects listed in --config.  Deterministic for a given --seed.
 */
#include "test/kubesim/apiserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const gen_namespaces[] = { "default", "kube-system", "team-a", "team-b" };

static int create_or_fail(struct sim_cluster *c, const char *resource, json_t *obj, char *err,
			  size_t errlen)
{
	int rc = sim_store_create(c->store, resource, obj);

	if (rc)
		snprintf(err, errlen, "cannot create %s %s: %s", resource,
			 jpath_str(obj, "metadata.name") ?: "?", err_str(rc));
	json_decref(obj);
	return rc;
}

/* The bootstrap Roles, ClusterRoles and bindings (rbac.c). */
static int bootstrap_rbac(struct sim_cluster *c, char *err, size_t errlen)
{
	static const char *const resources[] = { "clusterroles", "clusterrolebindings", "roles",
						 "rolebindings" };
	json_t *boot = sim_rbac_bootstrap(), *o;
	size_t i, j;
	int rc = 0;

	for (i = 0; i < COMMON_ARRAY_LEN(resources) && !rc; i++)
		json_array_foreach(json_object_get(boot, resources[i]), j, o)
			if (!rc)
				rc = create_or_fail(c, resources[i], json_incref(o), err, errlen);
	json_decref(boot);
	return rc;
}

static int system_objects(struct sim_cluster *c, char *err, size_t errlen)
{
	static const char *const ns[] = { "default", "kube-system", "kube-public",
					  "kube-node-lease", "team-a", "team-b" };
	static const char *const local[][2] = {
		{ "", "v1" }, { "apps", "v1" }, { "autoscaling", "v2" },
		{ "apiregistration.k8s.io", "v1" }, { "authentication.k8s.io", "v1" },
		{ "authorization.k8s.io", "v1" }, { "rbac.authorization.k8s.io", "v1" },
	};
	char ts[40];
	size_t i;
	int rc = 0;

	fmt_rfc3339(clock_now_ns(), ts, sizeof(ts));
	for (i = 0; i < COMMON_ARRAY_LEN(ns) && !rc; i++)
		rc = create_or_fail(c, "namespaces", json_pack("{s:{s:s}}", "metadata", "name", ns[i]),
				    err, errlen);
	for (i = 0; i < COMMON_ARRAY_LEN(local) && !rc; i++) {
		char name[96];

		snprintf(name, sizeof(name), "%s.%s", local[i][1], local[i][0]);
		rc = create_or_fail(c, "apiservices",
				    json_pack("{s:{s:s,s:{s:s}},s:{s:s,s:s,s:i,s:i},s:{s:[{s:s,s:s,"
					      "s:s,s:s,s:s}]}}",
					      "metadata", "name", name, "labels",
					      "kube-aggregator.kubernetes.io/automanaged", "onstart",
					      "spec", "group", local[i][0], "version", local[i][1],
					      "groupPriorityMinimum", 18000, "versionPriority", 15,
					      "status", "conditions", "type", "Available", "status",
					      "True", "lastTransitionTime", ts, "reason", "Local",
					      "message", "Local APIServices are always available"),
				    err, errlen);
	}
	if (!rc)
		rc = create_or_fail(
			c, "configmaps",
			json_pack("{s:{s:s,s:s},s:{s:s,s:s,s:s,s:s,s:s,s:s}}", "metadata", "name",
				  "extension-apiserver-authentication", "namespace", "kube-system",
				  "data", "client-ca-file", c->ca.cert_pem,
				  "requestheader-client-ca-file", c->front_proxy_ca.cert_pem,
				  "requestheader-allowed-names", "[\"front-proxy-client\"]",
				  "requestheader-username-headers", "[\"X-Remote-User\"]",
				  "requestheader-group-headers", "[\"X-Remote-Group\"]",
				  "requestheader-extra-headers-prefix", "[\"X-Remote-Extra-\"]"),
			err, errlen);
	if (!rc)
		rc = bootstrap_rbac(c, err, errlen);
	return rc;
}

/* ---- nodes ------------------------------------------------------------------------ */

static json_t *node_conditions(const char *ts)
{
	static const char *const pressure[][3] = {
		{ "MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available" },
		{ "DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure" },
		{ "PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available" },
	};
	json_t *conds = json_array();
	size_t i;

	for (i = 0; i < COMMON_ARRAY_LEN(pressure); i++)
		json_array_append_new(conds, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type",
						       pressure[i][0], "status", "False",
						       "lastHeartbeatTime", ts, "lastTransitionTime",
						       ts, "reason", pressure[i][1], "message",
						       pressure[i][2]));
	json_array_append_new(conds, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", "Ready",
					       "status", "True", "lastHeartbeatTime", ts,
					       "lastTransitionTime", ts, "reason", "KubeletReady",
					       "message", "kubelet is posting ready status"));
	return conds;
}

static json_t *node_object(const struct sim_cluster *c, int i, const char *ts)
{
	char name[32], addr[32], cidr[40], role[64], provider[48];

	snprintf(name, sizeof(name), "node-%d", i);
	snprintf(cidr, sizeof(cidr), "10.%d.%d.0/24", 64 + i / 256, i % 256);
	snprintf(role, sizeof(role), "node-role.kubernetes.io/%s", i == 0 ? "control-plane" : "worker");
	snprintf(provider, sizeof(provider), "kubesim://%s", name);
	sim_node_address(i, addr, sizeof(addr));
	return json_pack(
		"{s:{s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s}},s:{s:s,s:s},"
		"s:{s:{s:s,s:s,s:s,s:s},s:{s:s,s:s,s:s,s:s},s:o,"
		"s:[{s:s,s:s},{s:s,s:s}],s:{s:{s:i}},"
		"s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}}}",
		"metadata", "name", name, "labels", "beta.kubernetes.io/arch", "amd64",
		"beta.kubernetes.io/os", "linux", "kubernetes.io/arch", "amd64",
		"kubernetes.io/hostname", name, "kubernetes.io/os", "linux", role, "",
		"spec", "podCIDR", cidr, "providerID", provider, "status", "capacity", "cpu", "4",
		"memory", "16Gi", "pods", "110", "ephemeral-storage", "100Gi", "allocatable", "cpu",
		"4", "memory", "16Gi", "pods", "110", "ephemeral-storage", "100Gi", "conditions",
		node_conditions(ts), "addresses", "type", "InternalIP", "address", addr, "type",
		"Hostname", "address", name, "daemonEndpoints", "kubeletEndpoint", "Port",
		c->cfg.kubelet_port, "nodeInfo", "machineID", name, "kernelVersion",
		"6.1.0-kubesim", "osImage", "Debian GNU/Linux 12 (bookworm)",
		"containerRuntimeVersion", "containerd://1.7.24", "kubeletVersion", "v1.32.0",
		"kubeProxyVersion", "v1.32.0", "operatingSystem", "linux", "architecture", "amd64");
}

/* ---- generated pods --------------------------------------------------------------- */

/*
 * Generated pods are written as JSON text directly (a few microseconds
 * each instead of building and serialising a jansson tree): 300,000 pods
 * load in seconds.  Every value is generated here, so nothing needs
 * escaping.
 */
struct gen_pod {
	char name[48], ns[32], node[32], app[32], host[32], ip[32], cpu[96], ts[40], uid[40];
	bool sidecar;
	uint64_t rv;
	uint64_t id;
};

static int put_container(struct dynbuf *b, const char *name, const char *cpu, const char *mem)
{
	return dynbuf_printf(b, "{\"name\":\"%s\",\"image\":\"registry.k8s.io/pause:3.10\","
			     "\"resources\":{\"requests\":{\"cpu\":\"%s\",\"memory\":\"%s\"}}}",
			     name, cpu, mem);
}

static int put_container_status(struct dynbuf *b, const char *name, const struct gen_pod *p,
				uint64_t id)
{
	return dynbuf_printf(b, "{\"name\":\"%s\",\"state\":{\"running\":{\"startedAt\":\"%s\"}},"
			     "\"ready\":true,\"restartCount\":0,\"image\":\"registry.k8s.io/"
			     "pause:3.10\",\"imageID\":\"\",\"containerID\":\"containerd://"
			     "%016llx%016llx\",\"started\":true}",
			     name, p->ts, (unsigned long long)id, (unsigned long long)(id * 31));
}

static int put_conditions(struct dynbuf *b, const char *ts)
{
	static const char *const types[] = { "PodReadyToStartContainers", "Initialized", "Ready",
					     "ContainersReady", "PodScheduled" };
	size_t i;
	int rc = 0;

	for (i = 0; i < COMMON_ARRAY_LEN(types) && !rc; i++)
		rc = dynbuf_printf(b, "%s{\"type\":\"%s\",\"status\":\"True\",\"lastProbeTime\":null,"
				   "\"lastTransitionTime\":\"%s\"}", i ? "," : "", types[i], ts);
	return rc;
}

static int render_pod(struct dynbuf *b, const struct gen_pod *p)
{
	int rc = dynbuf_printf(
		b, "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"uid\":\"%s\","
		   "\"resourceVersion\":\"%llu\",\"creationTimestamp\":\"%s\",\"labels\":{\"app\":"
		   "\"%s\",\"kubesim.io/generated\":\"true\"},\"annotations\":{\"kubesim.io/cpu\":"
		   "\"%s\",\"kubesim.io/memory\":\"%s\"}},\"spec\":{\"nodeName\":\"%s\","
		   "\"containers\":[",
		p->name, p->ns, p->uid, (unsigned long long)p->rv, p->ts, p->app, p->cpu,
		p->sidecar ? "const:96Mi" : "const:64Mi", p->node);

	if (!rc)
		rc = put_container(b, "app", "100m", "128Mi");
	if (!rc && p->sidecar)
		rc = dynbuf_addch(b, ',') || put_container(b, "sidecar", "10m", "32Mi");
	if (!rc)
		rc = dynbuf_printf(b, "],\"restartPolicy\":\"Always\",\"schedulerName\":"
				   "\"default-scheduler\"},\"status\":{\"phase\":\"Running\","
				   "\"conditions\":[");
	if (!rc)
		rc = put_conditions(b, p->ts);
	if (!rc)
		rc = dynbuf_printf(b, "],\"hostIP\":\"%s\",\"hostIPs\":[{\"ip\":\"%s\"}],\"podIP\":"
				   "\"%s\",\"podIPs\":[{\"ip\":\"%s\"}],\"startTime\":\"%s\","
				   "\"qosClass\":\"Burstable\",\"containerStatuses\":[",
				   p->host, p->host, p->ip, p->ip, p->ts);
	if (!rc)
		rc = put_container_status(b, "app", p, p->id);
	if (!rc && p->sidecar)
		rc = dynbuf_addch(b, ',') || put_container_status(b, "sidecar", p, p->id + 500);
	return rc ? rc : dynbuf_addstr(b, "]}}");
}

static int generated_pod(struct sim_cluster *c, int node, int j, const char *ts, uint64_t *rng)
{
	struct gen_pod p = { .sidecar = j % 3 == 2 };
	struct dynbuf b;
	struct sim_obj *o;
	char *json;
	size_t len;
	int rc;

	snprintf(p.node, sizeof(p.node), "node-%d", node);
	snprintf(p.name, sizeof(p.name), "pod-%d-%d", node, j);
	snprintf(p.ns, sizeof(p.ns), "%s", gen_namespaces[(node + j) % COMMON_ARRAY_LEN(gen_namespaces)]);
	snprintf(p.app, sizeof(p.app), "app-%d", j % 5);
	snprintf(p.ip, sizeof(p.ip), "10.%d.%d.%d", 64 + node / 256, node % 256, j % 250 + 2);
	snprintf(p.cpu, sizeof(p.cpu), "sine:base=%dm,amp=%dm,period=%ds",
		 20 + (int)(sim_rand_next(rng) % 180), 10 + (int)(sim_rand_next(rng) % 20),
		 30 + (int)(sim_rand_next(rng) % 90));
	snprintf(p.ts, sizeof(p.ts), "%s", ts);
	sim_node_address(node, p.host, sizeof(p.host));
	sim_uid(sim_store_next_uid(c->store), p.uid, sizeof(p.uid));
	p.rv = sim_store_next_rv(c->store);
	p.id = (uint64_t)node * 1000 + (uint64_t)j;
	dynbuf_init(&b, DYN_SMALL);
	rc = render_pod(&b, &p);
	if (rc) {
		dynbuf_clear(&b);
		return rc;
	}
	json = dynbuf_take(&b, &len);
	o = sim_obj_prepared(p.ns, p.name, json, len, p.rv);
	labels_set(&o->labels, "app", p.app);
	labels_set(&o->labels, "kubesim.io/generated", "true");
	sim_obj_set_field(&sim_kind_pods, o, "spec.nodeName", p.node);
	sim_obj_set_field(&sim_kind_pods, o, "status.phase", "Running");
	sim_obj_set_field(&sim_kind_pods, o, "spec.restartPolicy", "Always");
	sim_obj_set_field(&sim_kind_pods, o, "spec.schedulerName", "default-scheduler");
	sim_obj_set_field(&sim_kind_pods, o, "status.podIP", p.ip);
	o->cpu_milli = p.sidecar ? 110 : 100;
	return sim_store_insert_prepared(c->store, "pods", o);
}

static int generated_cluster(struct sim_cluster *c, char *err, size_t errlen)
{
	uint64_t rng = c->cfg.seed * 0x9e3779b97f4a7c15ULL + 1;
	char ts[40];
	int i, j, rc = 0;

	fmt_rfc3339(clock_now_ns(), ts, sizeof(ts));
	for (i = 0; i < c->cfg.nodes && !rc; i++)
		rc = create_or_fail(c, "nodes", node_object(c, i, ts), err, errlen);
	for (i = 0; i < c->cfg.nodes && !rc; i++)
		for (j = 0; j < c->cfg.pods_per_node && !rc; j++)
			if ((rc = generated_pod(c, i, j, ts, &rng)))
				snprintf(err, errlen, "cannot create pod pod-%d-%d: %s", i, j,
					 err_str(rc));
	return rc;
}

/* ---- objects from --config ----------------------------------------------------------- */

/* Creates namespace `name` unless it exists. */
static int ensure_namespace(struct sim_cluster *c, const char *name, char *err, size_t errlen)
{
	struct sim_obj *ns = sim_store_get_obj(c->store, "namespaces", NULL, name);

	if (ns) {
		sim_obj_unref(ns);
		return ERR_OK;
	}
	return create_or_fail(c, "namespaces", json_pack("{s:{s:s}}", "metadata", "name", name),
			      err, errlen);
}

static int config_object(struct sim_cluster *c, const char *key, size_t i,
			 const struct sim_kind *k, json_t *obj, char *err, size_t errlen)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));

	if (!name) {
		snprintf(err, errlen, "--config: %s[%zu] has no metadata.name", key, i);
		json_decref(obj);
		return ERR_INVAL;
	}
	if (k == &sim_kind_namespaces) {
		int rc = ensure_namespace(c, name, err, errlen);

		json_decref(obj);
		return rc;
	}
	if (k->namespaced) {
		int rc;

		if (!json_object_get(meta, "namespace"))
			json_object_set_new(meta, "namespace", json_string("default"));
		rc = ensure_namespace(c, jpath_str(obj, "metadata.namespace") ?: "default",
				      err, errlen);
		if (rc) {
			json_decref(obj);
			return rc;
		}
	}
	return create_or_fail(c, k->resource, obj, err, errlen);
}

static int config_list(struct sim_cluster *c, const char *key, const struct sim_kind *k,
		       char *err, size_t errlen)
{
	json_t *list = json_object_get(c->cfg.extra, key), *item;
	size_t i;
	int rc = 0;

	if (list && !json_is_array(list)) {
		snprintf(err, errlen, "--config: %s must be a list", key);
		return ERR_INVAL;
	}
	json_array_foreach(list, i, item) {
		json_t *obj = json_is_string(item)
				      ? json_pack("{s:{s:O}}", "metadata", "name", item)
				      : json_deep_copy(item);

		if (!json_is_object(obj) || !json_is_object(json_object_get(obj, "metadata"))) {
			snprintf(err, errlen, "--config: %s[%zu] has no metadata", key, i);
			json_decref(obj);
			return ERR_INVAL;
		}
		rc = config_object(c, key, i, k, obj, err, errlen);
		if (rc)
			return rc;
	}
	return rc;
}

int sim_generate(struct sim_cluster *c, char *err, size_t errlen)
{
	static const struct {
		const char *key;
		const struct sim_kind *kind;
	} lists[] = {
		{ "namespaces", &sim_kind_namespaces },  { "configmaps", &sim_kind_configmaps },
		{ "services", &sim_kind_services },      { "endpoints", &sim_kind_endpoints },
		{ "pods", &sim_kind_pods },              { "deployments", &sim_kind_deployments },
		{ "horizontalpodautoscalers", &sim_kind_hpas },
		{ "apiservices", &sim_kind_apiservices },
		{ "clusterroles", &sim_kind_clusterroles },
		{ "clusterrolebindings", &sim_kind_clusterrolebindings },
		{ "roles", &sim_kind_roles },
		{ "rolebindings", &sim_kind_rolebindings },
	};
	size_t i;
	int rc = system_objects(c, err, errlen);

	if (!rc)
		rc = generated_cluster(c, err, errlen);
	for (i = 0; i < COMMON_ARRAY_LEN(lists) && !rc; i++)
		rc = config_list(c, lists[i].key, lists[i].kind, err, errlen);
	return rc;
}
