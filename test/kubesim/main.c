/*
 * main.c - kubesim: a simulated Kubernetes cluster in one process.
 *
 * Wires the parts (store, generated objects, aggregator, kubelets,
 * Deployment controller, HTTPS apiserver), prints
 *   kubesim ready server=https://127.0.0.1:PORT kubeconfig=DIR/kubeconfig
 * and runs until SIGTERM/SIGINT or until its parent (or --parent-pid)
 * goes away.
 */
#include "test/kubesim/apiserver.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* The parent dying sends SIGTERM (the spawning thread's exit counts). */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static bool parent_alive(const struct sim_config *cfg, pid_t original_ppid)
{
	if (cfg->parent_pid > 0 && kill(cfg->parent_pid, 0) != 0 && errno == ESRCH)
		return false;
	return getppid() == original_ppid;
}

static void wait_for_end(const struct sim_config *cfg, pid_t ppid)
{
	while (!got_signal && parent_alive(cfg, ppid))
		usleep(200 * 1000);
	log_info("kubesim: shutting down (%s)", got_signal ? strsignal(got_signal) : "parent exited");
}

/* Everything but the server; on failure err says why. */
static int start_parts(struct sim_cluster *c, char *err, size_t errlen)
{
	int rc = sim_kubeconfig_setup(c, err, errlen);

	if (rc)
		return rc;
	int64_t t0 = clock_mono_ns();

	c->store = sim_store_new(c->cfg.watch_cache_size);
	rc = sim_generate(c, err, errlen);
	if (rc)
		return rc;
	log_info("kubesim: generated %d nodes and %d pods in %.3fs", c->cfg.nodes,
		 c->cfg.nodes * c->cfg.pods_per_node, (double)(clock_mono_ns() - t0) / 1e9);
	t0 = clock_mono_ns();
	c->agg = sim_aggregator_new(c);
	c->kubelets = sim_kubelets_start(c);
	if (!c->kubelets) {
		/* A cluster without kubelets would only mislead its tests. */
		snprintf(err, errlen, "cannot start the kubelets on port %d (see the log)",
			 c->cfg.kubelet_port);
		return ERR_IO;
	}
	log_info("kubesim: aggregator and kubelets started in %.3fs",
		 (double)(clock_mono_ns() - t0) / 1e9);
	return ERR_OK;
}

int main(int argc, char **argv)
{
	struct sim_cluster c;
	struct sim_controller *ctl = NULL;
	struct sim_server *srv = NULL;
	pid_t ppid = getppid();
	char err[1024];
	int64_t t0 = clock_mono_ns();
	int status = EXIT_FAILURE;

	memset(&c, 0, sizeof(c));
	install_signals();
	if (sim_config_parse(&c.cfg, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "kubesim: %s\n", err);
		sim_config_clear(&c.cfg);
		return 2;
	}
	log_set_verbosity(c.cfg.verbosity);
	if (start_parts(&c, err, sizeof(err)))
		goto out;
	ctl = sim_controller_start(&c);
	srv = sim_server_start(&c, err, sizeof(err));
	if (!srv)
		goto out;
	if (sim_kubeconfig_write(&c)) {
		snprintf(err, sizeof(err), "cannot write %s/kubeconfig", c.cfg.dir);
		goto out;
	}
	log_info("kubesim: ready in %.3fs", (double)(clock_mono_ns() - t0) / 1e9);
	printf("kubesim ready server=%s kubeconfig=%s/kubeconfig\n", c.server_url, c.cfg.dir);
	fflush(stdout);
	wait_for_end(&c.cfg, ppid);
	status = EXIT_SUCCESS;
out:
	if (status != EXIT_SUCCESS)
		fprintf(stderr, "kubesim: %s\n", err);
	sim_server_shutdown_streams();
	if (c.store)
		sim_store_wake(c.store);
	sim_server_stop(srv);
	sim_controller_stop(ctl);
	if (c.kubelets)
		sim_kubelets_stop(c.kubelets);
	if (c.agg)
		sim_aggregator_free(c.agg);
	sim_store_free(c.store);
	certs_pair_clear(&c.ca);
	certs_pair_clear(&c.front_proxy_ca);
	certs_pair_clear(&c.front_proxy_client);
	certs_pair_clear(&c.admin_client);
	free(c.server_url);
	sim_config_clear(&c.cfg);
	return status;
}
