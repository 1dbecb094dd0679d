/*
 * control.c - kubesim's control endpoint for fault tests:
 *
 *   POST /kubesim/v1/nodes/<name>/ready  {"ready": false}
 *        flips the node's Ready condition (False, reason KubeletNotReady)
 *   POST /kubesim/v1/nodes/<name>/fault  {"fault": "down" | "slow=2s" | ... | null}
 *        sets or clears the kubesim.io/fault annotation the kubelets read
 *   GET  /kubesim/v1/stats
 *        {"resourceVersion": N, "subjectAccessReviews": N, "tokenReviews": N,
 *         "scaleWrites": {"ns/deployments/name":
 *        {"writes": N, "unchanged": M, "byUser": {"user": n}}}}: reviews
 *        answered since start; successful writes of each Scale, those that
 *        left spec.replicas as it was, and who made them (two controllers
 *        writing one target show here)
 */
#include "test/kubesim/apiserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAULT_ANNOTATION "kubesim.io/fault"

struct ready_change {
	bool ready;
	char ts[40];
};

static int set_ready(void *ud, json_t *node)
{
	const struct ready_change *ch = ud;
	json_t *conds = jpath_get(node, "status.conditions"), *c;
	size_t i;

	json_array_foreach(conds, i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *st = json_string_value(json_object_get(c, "status"));

		if (!t || strcmp(t, "Ready") != 0)
			continue;
		if (st && strcmp(st, ch->ready ? "True" : "False") == 0)
			return ERR_OK;
		json_object_set_new(c, "status", json_string(ch->ready ? "True" : "False"));
		json_object_set_new(c, "reason",
				    json_string(ch->ready ? "KubeletReady" : "KubeletNotReady"));
		json_object_set_new(c, "message",
				    json_string(ch->ready ? "kubelet is posting ready status"
							  : "kubesim: node marked not ready"));
		json_object_set_new(c, "lastTransitionTime", json_string(ch->ts));
		json_object_set_new(c, "lastHeartbeatTime", json_string(ch->ts));
		return ERR_OK;
	}
	return ERR_INVAL;
}

static int set_fault(void *ud, json_t *node)
{
	const json_t *fault = ud;
	json_t *meta = json_object_get(node, "metadata");
	json_t *ann = json_object_get(meta, "annotations");

	if (!json_is_object(ann)) {
		ann = json_object();
		json_object_set_new(meta, "annotations", ann);
	}
	if (json_is_string(fault) && *json_string_value(fault))
		json_object_set(ann, FAULT_ANNOTATION, (json_t *)fault);
	else
		json_object_del(ann, FAULT_ANNOTATION);
	return ERR_OK;
}

static void node_action(struct sim_cluster *c, const char *name, const char *action,
			const struct sim_request *req, struct sim_response *resp)
{
	json_t *body = sim_request_json(req, resp), *out = NULL;
	struct ready_change ch;
	int rc;

	if (!body)
		return;
	if (strcmp(action, "ready") == 0 && json_is_boolean(json_object_get(body, "ready"))) {
		ch.ready = json_is_true(json_object_get(body, "ready"));
		fmt_rfc3339(clock_now_ns(), ch.ts, sizeof(ch.ts));
		rc = sim_store_modify(c->store, "nodes", NULL, name, set_ready, &ch, &out);
	} else if (strcmp(action, "fault") == 0 && json_object_get(body, "fault")) {
		rc = sim_store_modify(c->store, "nodes", NULL, name, set_fault,
				      json_object_get(body, "fault"), &out);
	} else {
		sim_response_status(resp, 400, "BadRequest",
				    "want {\"ready\": bool} for /ready or {\"fault\": string|null} "
				    "for /fault");
		json_decref(body);
		return;
	}
	if (rc)
		sim_response_store_error(resp, rc == ERR_INVAL ? ERR_NOTFOUND : rc, &sim_kind_nodes,
					 name);
	else
		sim_response_json(resp, 200, json_incref(out));
	json_decref(out);
	json_decref(body);
}

void sim_control_handle(struct sim_cluster *c, const struct sim_request *req,
			struct sim_response *resp)
{
	const char *p = req->path + strlen("/kubesim/v1/");
	const char *slash;
	char *name;

	if (strcmp(p, "stats") == 0 && strcmp(req->method, "GET") == 0) {
		sim_response_json(resp, 200, json_pack("{s:I,s:I,s:I,s:o}", "resourceVersion",
						       (json_int_t)sim_store_rv(c->store),
						       "subjectAccessReviews",
						       (json_int_t)sim_reviews_access_count(),
						       "tokenReviews",
						       (json_int_t)sim_reviews_token_count(),
						       "scaleWrites", sim_scale_writes()));
		return;
	}
	if (strncmp(p, "nodes/", 6) != 0 || strcmp(req->method, "POST") != 0 ||
	    !(slash = strchr(p + 6, '/')) || slash == p + 6 || strchr(slash + 1, '/')) {
		sim_response_status(resp, 404, "NotFound",
				    "the server could not find the requested resource");
		return;
	}
	name = xstrndup(p + 6, (size_t)(slash - p - 6));
	node_action(c, name, slash + 1, req, resp);
	free(name);
}
