/*
 * run.c - the metrics-apiserver process (server_run): parse flags, load
 * --config, connect to kube-apiserver, wait for the node and pod caches,
 * start the scrape loops (kubelets; application targets with --config)
 * and the embedded HPA controller, then serve HTTPS until SIGINT or
 * SIGTERM, and tear everything down in reverse order.
 */
#include <pthread.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certs/certs.h"
#include "hpaloop/hpaloop.h"
#include "kube/kube.h"
#include "custom/custom.h"
#include "rules/rules.h"
#include "scraper/scraper.h"
#include "series/series.h"
#include "server/authn_int.h" /* server__serving_new */
#include "server/flags_table.h"
#include "server/tls_int.h"
#include "server/server.h"
#include "store/store.h"

#define RUN_MAX_ROUTES 8

/* Everything the running process holds; cleared by runtime_clear. */
struct runtime {
	struct kube_config kc;
	bool kc_loaded;
	struct selector *node_selector;
	char *cert_pem, *key_pem;
	char *cert_path, *key_path;  /* reloaded when they change */
	struct server_authn *authn;
	struct kube_client *authn_client; /* --authentication-kubeconfig's, else NULL */
	struct server_authz *authz;
	struct server_audit *audit;       /* NULL: no audit log */
	struct kube_client *client;
	struct kube_client *authz_client; /* --authorization-kubeconfig, else NULL */
	struct kube_informer *informer;
	struct store *store;
	struct server_app app;
	struct server_route routes[RUN_MAX_ROUTES];
	struct server_http *http;
	struct hpaloop *hpa;
	struct rules_config *rules; /* --config, else NULL (as app.series, app.apps) */
	struct server_tls tls;      /* --tls-min-version, --tls-cipher-suites, ... */
	char *hsts;                 /* --strict-transport-security-directives joined */
};

/* ---- setup steps ---------------------------------------------------------- */

static char *read_pem(const char *path, char *err, size_t errlen)
{
	struct dynbuf b;
	size_t len;

	dynbuf_init(&b, DYN_CONFIG_FILE);
	if (dynbuf_read_file(&b, path) != 0 || b.len == 0) {
		snprintf(err, errlen, "unable to load %s", path);
		dynbuf_clear(&b);
		return NULL;
	}
	return dynbuf_take(&b, &len);
}

/* --tls-cert-file/--tls-private-key-file, else a self-signed pair kept in
 * --cert-dir (MaybeDefaultWithSelfSignedCerts). */
static int load_serving_cert(const struct server_config *cfg, struct runtime *rt, char *err,
			     size_t errlen)
{
	const struct server_serving_flags *s = &cfg->serving;
	char *crt = NULL, *key = NULL;
	int rc = ERR_IO;

	if (s->tls_cert_file && *s->tls_cert_file) {
		crt = xstrdup(s->tls_cert_file);
		key = xstrdup(s->tls_private_key_file);
	} else if (certs_ensure_self_signed(s->cert_dir, &crt, &key, err, errlen) != 0) {
		goto out;
	}
	rt->cert_pem = read_pem(crt, err, errlen);
	rt->key_pem = rt->cert_pem ? read_pem(key, err, errlen) : NULL;
	if (rt->key_pem)
		rc = 0;
	rt->cert_path = crt;
	rt->key_path = key;
	return rc;
out:
	free(crt);
	free(key);
	return rc;
}

/* The serving pairs (default and --tls-sni-cert-key) loaded once as the
 * daemon will load them, so that a bad one stops the start before anything
 * connects, as upstream's SecureServingOptions.ApplyTo does. */
static int check_serving(const struct server_config *cfg, const struct runtime *rt, char *err,
			 size_t errlen)
{
	struct server__serving *s = server__serving_new(rt->cert_pem, rt->key_pem, NULL, NULL,
							&cfg->serving.tls_sni_cert_key, err,
							errlen);
	int rc = s ? 0 : ERR_INVAL;

	server__serving_free(s);
	return rc;
}

/* Kubelet client options as metrics-server derives them: start from the
 * kube config's TLS and credentials, then apply the --kubelet-* flags. */
static void scraper_options(const struct server_config *cfg, const struct runtime *rt,
			    struct scraper_options *o)
{
	const struct server_kubelet_flags *k = &cfg->kubelet;
	bool has_ca_flag = k->ca_file && *k->ca_file;

	memset(o, 0, sizeof(*o));
	o->resolution_ns = cfg->metric_resolution_ns;
	o->request_timeout_ns = k->request_timeout_ns;
	o->preferred_address_types = k->preferred_address_types.items;
	o->npreferred = k->preferred_address_types.n;
	o->kubelet_port = k->port;
	o->use_node_status_port = k->use_node_status_port;
	o->insecure_tls = k->insecure_tls || rt->kc.insecure_skip_tls_verify;
	if (!o->insecure_tls) {
		o->ca_file = has_ca_flag ? k->ca_file : rt->kc.ca_file;
		o->ca_data = has_ca_flag ? NULL : rt->kc.ca_data;
	}
	o->client_cert_file = k->client_cert ? k->client_cert : rt->kc.client_cert_file;
	o->client_key_file = k->client_key ? k->client_key : rt->kc.client_key_file;
	o->bearer_token = rt->kc.token;
	o->bearer_token_file = rt->kc.token_file;
	o->node_selector = rt->node_selector;
}

/* Blocks until the informer synced; false when a signal came first. */
static bool wait_synced(struct kube_informer *inf, const sigset_t *stop)
{
	const struct timespec poll = { 0, 0 };

	log_info("Waiting for node and pod caches to sync");
	while (!kube_informer_wait_synced(inf, NS_PER_SEC)) {
		if (sigtimedwait(stop, NULL, &poll) > 0)
			return false;
	}
	log_info("Caches are synced");
	return true;
}

static int start_kube(const struct server_config *cfg, struct runtime *rt, char *err,
		      size_t errlen)
{
	char why[384];

	if (kube_config_load(cfg->kubeconfig, &rt->kc, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "unable to construct lister client config: %s", why);
		return ERR_INVAL;
	}
	rt->kc_loaded = true;
	rt->client = kube_client_new(&rt->kc);
	if (!rt->client) {
		snprintf(err, errlen, "unable to construct lister client");
		return ERR_IO;
	}
	return 0;
}

/*
 * The delegating authenticator: its kube-apiserver is
 * --authentication-kubeconfig's, else the main client's.  With no CA flags
 * it reads the ConfigMap now (before any thread uses libcurl: a second
 * client may be made here).
 */
static int start_authn(const struct server_config *cfg, struct runtime *rt, char *err,
		       size_t errlen)
{
	const char *path = cfg->authn.kubeconfig;
	struct server_authn_options o = { .flags = &cfg->authn, .client = rt->client };

	if (path && *path && (!cfg->kubeconfig || strcmp(path, cfg->kubeconfig) != 0)) {
		struct kube_config kc;
		char why[384];

		if (kube_config_load(path, &kc, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "failed to get delegated authentication kubeconfig: %s",
				 why);
			return ERR_INVAL;
		}
		rt->authn_client = kube_client_new(&kc);
		kube_config_clear(&kc);
		if (!rt->authn_client) {
			snprintf(err, errlen, "failed to get delegated authentication kubeconfig: %s",
				 path);
			return ERR_IO;
		}
		o.client = rt->authn_client;
	}
	rt->authn = server_authn_new_with(&o, err, errlen);
	return rt->authn ? 0 : ERR_INVAL;
}

/* The authorizer: SubjectAccessReviews go through --authorization-kubeconfig
 * when given, else through the main client. */
static int start_authz(const struct server_config *cfg, struct runtime *rt, char *err,
		       size_t errlen)
{
	const char *path = cfg->authz.kubeconfig;
	struct kube_config kc;
	char why[384];

	if (path && *path) {
		if (kube_config_load(path, &kc, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "failed to get delegated authorization kubeconfig: %s", why);
			return ERR_INVAL;
		}
		rt->authz_client = kube_client_new(&kc);
		kube_config_clear(&kc);
		if (!rt->authz_client) {
			snprintf(err, errlen, "failed to create the authorization client");
			return ERR_IO;
		}
	}
	if (server_audit_new(&cfg->audit, &rt->audit, err, errlen) != 0)
		return ERR_INVAL;
	rt->authz = server_authz_new(&(struct server_authz_options){
		.flags = &cfg->authz,
		.client = rt->authz_client ? rt->authz_client : rt->client,
		.allow_reasons = rt->audit != NULL, /* the events' annotations */
	});
	return 0;
}

static int start_http(const struct server_config *cfg, struct runtime *rt, char *err,
		      size_t errlen)
{
	struct server_http_options o = {
		.bind_address = cfg->serving.bind_address,
		.port = cfg->serving.secure_port,
		.cert_pem = rt->cert_pem,
		.key_pem = rt->key_pem,
		.cert_file = rt->cert_path,
		.key_file = rt->key_path,
		.sni_cert_keys = &cfg->serving.tls_sni_cert_key,
		.routes = rt->routes,
		.nroutes = server_routes_build(&rt->app, rt->routes, RUN_MAX_ROUTES),
		.authn = rt->authn,
		.authz = rt->authz,
		.audit = rt->audit,
		.request_timeout_ns = cfg->generic.request_timeout_ns,
		.tls = &rt->tls,
		.max_requests_inflight = cfg->generic.max_requests_inflight,
		.max_mutating_requests_inflight = cfg->generic.max_mutating_requests_inflight,
		.reuse_port = cfg->serving.permit_port_sharing,
	};
	rt->hsts = server__hsts_header(&cfg->generic);
	o.hsts = rt->hsts;

	if (server__tls_build(&cfg->serving, &rt->tls, err, errlen) != 0)
		return ERR_INVAL;
	if (rt->tls.unavailable)
		log_warn("\"TLS settings this build cannot offer, left out\" items=\"%s\"",
			 rt->tls.unavailable);
	rt->http = server_http_start(&o, err, errlen);
	if (!rt->http)
		return ERR_IO;
	log_info("Serving securely on %s:%d", cfg->serving.bind_address, server_http_port(rt->http));
	return 0;
}

/* ---- application targets (--config) ----------------------------------------- */

/* --config, loaded before anything is connected: a broken file prints its
 * FILE:LINE:COL lines (as `config check`) and stops the start. */
static int load_rules(const struct server_config *cfg, struct runtime *rt, char *err,
		      size_t errlen)
{
	char *errors = NULL;

	if (!cfg->config_file || !*cfg->config_file)
		return 0;
	rt->rules = rules_config_load(cfg->config_file, &errors);
	if (!rt->rules) {
		fputs(errors, stderr);
		free(errors);
		snprintf(err, errlen, "unable to load metrics discovery config file %s",
			 cfg->config_file);
		return ERR_INVAL;
	}
	rt->app.rules = rt->rules;
	log_info("\"Loaded metrics discovery config\" file=\"%s\" rules=%zu externalRules=%zu "
		 "staticTargets=%zu", cfg->config_file, rt->rules->n_rules, rt->rules->n_external,
		 rt->rules->n_targets);
	return 0;
}

/* The application series: a window of the longest range any rule uses
 * plus one resolution (two resolutions when no rule has a range), at most
 * --max-series in all and the config's sample_limit per target. */
static int new_series(const struct server_config *cfg, struct runtime *rt, char *err,
		      size_t errlen)
{
	int64_t res_ms = cfg->metric_resolution_ns / NS_PER_MS;
	int64_t per_target = rt->rules->limits.sample_limit;
	struct series_options o = {
		.window_ms = rt->rules->max_range_ms ? rt->rules->max_range_ms + res_ms : 2 * res_ms,
		.resolution_ms = res_ms,
		.max_series = (size_t)cfg->max_series,
		.max_series_per_target = per_target > 0 ? (size_t)per_target
							: SERVER_DEFAULT_SERIES_PER_TARGET,
	};
	char why[256];

	rt->app.series = series_new(&o, why, sizeof(why));
	if (!rt->app.series) {
		snprintf(err, errlen, "%s: cannot keep its series: %s", cfg->config_file, why);
		return ERR_INVAL;
	}
	rt->app.custom = custom_provider_new(rt->rules, rt->app.series, res_ms);
	return 0;
}

/* After an application round: the metrics that exist now are listed again
 * (off the request path), and the HPAs are evaluated on the new values. */
static void on_app_round(void *ud, const struct scraper_app_round_stats *st)
{
	struct runtime *rt = ud;

	COMMON_UNUSED(st);
	custom_provider_refresh(rt->app.custom, clock_now_ns() / 1000000);
	hpaloop_notify(rt->hpa);
}

/* The application scrape stores only the series some rule may read. */
static bool rule_reads(void *ud, const char *name)
{
	return rules_config_reads(ud, name);
}

/* The application loop over annotated pods and the config's static
 * targets, with its limits; requests time out as the kubelets'.  Only
 * with --config (rt->rules set). */
static int start_apps(const struct server_config *cfg, struct runtime *rt, char *err,
		      size_t errlen)
{
	const struct rules_config *c = rt->rules;
	const struct rules_limits *lim = &c->limits;
	struct scraper_app_target *st;
	struct scraper_apps_loop_options o = {
		.resolution_ns = cfg->metric_resolution_ns,
		.app = {.timeout_ns = cfg->kubelet.request_timeout_ns,
			.limits = {(size_t)lim->sample_limit, (size_t)lim->label_limit,
				   (size_t)lim->label_value_length_limit,
				   (size_t)lim->body_size_limit, 0},
			.keep_series = rule_reads,
			.keep_ud = (void *)c},
		.nstatics = c->n_targets,
	};
	int rc;

	st = xcalloc(c->n_targets ? c->n_targets : 1, sizeof(*st));
	for (size_t i = 0; i < c->n_targets; i++) /* borrowed: the loop copies them */
		st[i] = (struct scraper_app_target){c->targets[i].name, c->targets[i].url,
						    c->targets[i].labels};
	o.statics = st;
	rc = scraper_apps_start(&o, rt->app.series, rt->informer, on_app_round, rt, &rt->app.apps);
	free(st);
	if (rc != 0)
		snprintf(err, errlen, "cannot start the application scrape loop");
	return rc;
}

/* ---- run and teardown ------------------------------------------------------ */

static void runtime_clear(struct runtime *rt)
{
	server_http_stop(rt->http);
	if (rt->app.scraper)
		scraper_free(rt->app.scraper);
	scraper_apps_stop(rt->app.apps); /* before the series store it writes */
	hpaloop_stop(rt->hpa);
	custom_provider_free(rt->app.custom); /* nothing reads it any more */
	if (rt->informer)
		kube_informer_stop(rt->informer);
	server_authz_free(rt->authz); /* before the client its reviews use */
	rt->authz = NULL;
	server_audit_free(rt->audit); /* the daemon that wrote to it has stopped */
	rt->audit = NULL;
	kube_client_free(rt->authz_client);
	if (rt->store)
		store_free(rt->store);
	series_free(rt->app.series);
	rules_config_free(rt->rules);
	server_metrics_free(rt->app.metrics);
	server_authn_free(rt->authn); /* before the clients it reads with */
	kube_client_free(rt->authn_client);
	selector_free(rt->node_selector);
	if (rt->kc_loaded)
		kube_config_clear(&rt->kc);
	if (rt->client)
		kube_client_free(rt->client);
	free(rt->cert_pem);
	free(rt->key_pem);
	free(rt->cert_path);
	free(rt->key_path);
	server__tls_clear(&rt->tls);
	free(rt->hsts);
}

/* The scraper's on_round: new samples, so the HPAs are evaluated again. */
static void on_round(void *ud, const struct scraper_round_stats *st)
{
	COMMON_UNUSED(st);
	hpaloop_notify(ud);
}

/* The embedded HPA controller (not started with --hpa=off). */
static int start_hpa(const struct server_config *cfg, struct runtime *rt, char *err,
		     size_t errlen)
{
	struct hpaloop_options o = { 0 };
	struct kube_lease_options lease;

	if (hpaloop_flags_options(&cfg->hpa, &o, err, errlen) != 0)
		return ERR_INVAL;
	if (cfg->leader.elect) { /* only the leader writes (the elector runs with the loop) */
		server_config_lease_options(cfg, &lease);
		o.election = &lease;
	}
	if (rt->app.custom) /* the metrics we serve, read in process */
		o.local = (struct hpaloop_local_api){ server_local_get, &rt->app };
	rt->hpa = hpaloop_start(&o, rt->client, rt->store);
	if (!rt->hpa && o.mode != HPALOOP_MODE_OFF) {
		snprintf(err, errlen, "cannot start the embedded HPA controller");
		return ERR_AGAIN;
	}
	return 0;
}

static int setup(const struct server_config *cfg, struct runtime *rt, char *err, size_t errlen)
{
	struct scraper_options so;

	if (load_rules(cfg, rt, err, errlen) != 0 || (rt->rules && new_series(cfg, rt, err, errlen)))
		return ERR_INVAL;
	rt->node_selector = selector_parse(cfg->kubelet.node_selector, err, errlen);
	if (!rt->node_selector)
		return ERR_INVAL;
	if (load_serving_cert(cfg, rt, err, errlen) != 0 || check_serving(cfg, rt, err, errlen) != 0)
		return ERR_IO;
	if (start_kube(cfg, rt, err, errlen) != 0 || start_authn(cfg, rt, err, errlen) != 0 ||
	    start_authz(cfg, rt, err, errlen) != 0)
		return ERR_INVAL;
	rt->informer = kube_informer_start(rt->client, NULL, NULL);
	rt->store = store_new(cfg->metric_resolution_ns);
	scraper_options(cfg, rt, &so);
	rt->app.store = rt->store;
	rt->app.informer = rt->informer;
	rt->app.node_selector = rt->node_selector;
	rt->app.resolution_ns = cfg->metric_resolution_ns;
	rt->app.metrics = server_metrics_new();
	rt->app.scraper = scraper_new(&so, rt->store);
	return 0;
}

/* --shutdown-delay-duration: /readyz already fails, everything else is
 * served as usual for that long (a second signal ends the wait). */
static void shutdown_delay(const struct server_config *cfg, const sigset_t *stop)
{
	int64_t ns = cfg->generic.shutdown_delay_duration_ns;
	struct timespec ts = { (time_t)(ns / NS_PER_SEC), (long)(ns % NS_PER_SEC) };
	char d[40];

	if (ns <= 0)
		return;
	fmt_go_duration(ns, d, sizeof(d));
	log_info("\"Delaying the termination\" shutdownDelayDuration=\"%s\"", d);
	if (sigtimedwait(stop, NULL, &ts) > 0)
		log_info("Second signal: terminating now");
}

static int run(const struct server_config *cfg, const sigset_t *stop)
{
	struct runtime rt;
	char err[512] = "";
	int sig = 0, rc = 1;

	memset(&rt, 0, sizeof(rt));
	if (setup(cfg, &rt, err, sizeof(err)) != 0)
		goto out;
	if (!wait_synced(rt.informer, stop)) {
		rc = 0;
		goto out;
	}
	if (start_hpa(cfg, &rt, err, sizeof(err)) != 0)
		goto out;
	if (scraper_start(rt.app.scraper, rt.informer, on_round, rt.hpa) != 0) {
		snprintf(err, sizeof(err), "cannot start the scrape loop");
		goto out;
	}
	if (rt.rules && start_apps(cfg, &rt, err, sizeof(err)) != 0)
		goto out;
	if (start_http(cfg, &rt, err, sizeof(err)) != 0)
		goto out;
	sigwait(stop, &sig);
	log_info("Received signal %d, shutting down", sig);
	atomic_store(&rt.app.health.shutting_down, true);
	shutdown_delay(cfg, stop);
	/* then the requests being served finish (new ones get 429 meanwhile
	 * with --shutdown-send-retry-after), for at most --request-timeout */
	if (!server_http_drain(rt.http, cfg->generic.shutdown_send_retry_after,
			       cfg->generic.request_timeout_ns > 0 ? cfg->generic.request_timeout_ns
								   : NS_PER_SEC))
		log_warn("\"Requests still in flight at shutdown\"");
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "Error: %s\n", err);
	runtime_clear(&rt);
	return rc;
}

/*
 * Each scrape round allocates its batch and snapshot arrays (MBs at 10,000
 * nodes) and frees the previous ones.  glibc raises its mmap threshold
 * after such frees, so later rounds would carve them from the heap and
 * fragment it; a fixed threshold keeps them mmapped and returned to the
 * kernel, and two arenas are plenty for our few busy threads.
 */
static void tune_malloc(void)
{
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	/* A request that evaluates a query over thousands of series mallocs and
	 * frees a few MB on the heap: the default 128 KiB trim threshold gives
	 * that back to the kernel after every request and page-faults it in
	 * again on the next (a third of a pods wildcard GET's time at 1,000 pods). */
	mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
	mallopt(M_ARENA_MAX, 2);
}

/* Once at start: the flags given that do nothing here (issue 12 item 3). */
static void log_flag_notes(const struct server_config *cfg)
{
	if (cfg->ignored_flags)
		log_info("\"Flags accepted but without effect in metrics-apiserver\" flags=\"%s\"",
			 cfg->ignored_flags);
	if (cfg->generic.profiling)
		log_v(1, "\"--profiling has no effect: metrics-apiserver serves no /debug/pprof\"");
}

int server_run(int argc, char **argv)
{
	struct server_config cfg;
	sigset_t stop;
	char err[512];
	int rc = 1;

	tune_malloc();
	/* Every thread inherits the mask; only sigwait() sees the signals. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	server_config_init(&cfg);
	if (server_flags_parse(&cfg, argc, argv, err, sizeof(err)) != 0 ||
	    (!cfg.show_help && !cfg.show_version &&
	     server_config_validate(&cfg, err, sizeof(err)) != 0)) {
		fprintf(stderr, "Error: %s\n", err);
		goto out;
	}
	if (cfg.show_help) {
		server_flags_usage(stdout);
		rc = 0;
	} else if (cfg.show_version) {
		printf("%s\n", SERVER_GIT_VERSION);
		rc = 0;
	} else {
		server__apply_logging(&cfg.logging, cfg.verbosity);
		log_flag_notes(&cfg);
		rc = run(&cfg, &stop);
	}
out:
	server_config_clear(&cfg);
	return rc;
}
