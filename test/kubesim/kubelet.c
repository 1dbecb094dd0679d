/*
 * kubelet.c - the simulated kubelets as a whole: node addresses, the
 * store subscription that feeds the compact model, TLS material and the
 * one event loop thread that serves every node.
 */
#include "test/kubesim/kubelet_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

/* Node i lives at 127.1.0.1 + i (127.0.0.1 stays free for the apiserver). */
#define FIRST_NODE_ADDR ((127u << 24) | (1u << 16) | 1u)
#define MAX_NODE_INDEX ((int)(0x7fffffffu - FIRST_NODE_ADDR))

#define IDLE_TIMEOUT_NS (120 * NS_PER_SEC)
/* File descriptors left to the rest of the process (apiserver, files). */
#define FD_RESERVE 1024

struct sim_kubelets {
	struct sim_kl_model model;
	struct sim_kl_tls *tls;
	struct sim_kl_loop *loop;
};

void sim_node_address(int index, char *buf, size_t len)
{
	uint32_t a;

	if (index < 0 || index > MAX_NODE_INDEX) {
		snprintf(buf, len, "%s", "");
		return;
	}
	a = FIRST_NODE_ADDR + (uint32_t)index;
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void on_event(void *ud, enum sim_event ev, const char *resource, const json_t *obj)
{
	struct sim_kubelets *k = ud;

	sim_kl_model_apply(&k->model, ev, resource, obj);
}

/* Subscribes, then loads what the store already holds (the store does
 * not replay; resourceVersions keep the newer of the two copies). */
static void follow_store(struct sim_kubelets *k, struct sim_store *store)
{
	static const char *const resources[] = {"deployments", "nodes", "pods", "configmaps"};

	for (size_t i = 0; i < COMMON_ARRAY_LEN(resources); i++)
		sim_store_subscribe(store, resources[i], on_event, k);
	for (size_t i = 0; i < COMMON_ARRAY_LEN(resources); i++) {
		json_t *list = sim_store_list(store, resources[i], NULL);
		size_t j;
		json_t *obj;

		json_array_foreach(list, j, obj)
			sim_kl_model_apply(&k->model, SIM_ADDED, resources[i], obj);
		json_decref(list);
	}
}

/* Connections the loop may hold: the soft open-files limit (raised to the
 * hard one) minus a reserve. */
static int max_connections(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1000;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1000000)
		return 1000000;
	return rl.rlim_cur > 2 * FD_RESERVE ? (int)(rl.rlim_cur - FD_RESERVE)
					     : (int)(rl.rlim_cur / 2);
}

struct sim_kubelets *sim_kubelets_start(struct sim_cluster *c)
{
	struct sim_kubelets *k = xcalloc(1, sizeof(*k));
	struct sim_kl_loop_cfg lc = {
		.model = &k->model,
		.bind = "0.0.0.0",
		.port = c->cfg.kubelet_port,
		.idle_timeout_ns = IDLE_TIMEOUT_NS,
		.max_conns = max_connections(),
	};
	char err[512];

	sim_kl_model_init(&k->model, c->cfg.seed);
	k->tls = sim_kl_tls_new(&c->ca, c->cfg.kubelet_cert_mode, c->cfg.kubelet_client_auth, err,
				sizeof(err));
	if (!k->tls)
		goto fail;
	lc.tls = k->tls;
	k->loop = sim_kl_loop_start(&lc, err, sizeof(err));
	if (!k->loop)
		goto fail;
	if (c->cfg.kubelet_port == 0)
		c->cfg.kubelet_port = sim_kl_loop_port(k->loop);
	if (c->store)
		follow_store(k, c->store);
	log_info("kubelets: serving every node on port %d (max %d connections)",
		 sim_kl_loop_port(k->loop), lc.max_conns);
	return k;
fail:
	log_error("%s", err);
	sim_kl_tls_free(k->tls);
	sim_kl_model_clear(&k->model);
	free(k);
	return NULL;
}

void sim_kubelets_stop(struct sim_kubelets *k)
{
	if (!k)
		return;
	sim_kl_loop_stop(k->loop);
	sim_kl_tls_free(k->tls);
	sim_kl_model_clear(&k->model);
	free(k);
}
