/*
 * podmetrics.h - application /metrics targets in kubesim (issue 11
 * item 8): pods annotated prometheus.io/scrape and static exporters
 * (ConfigMaps annotated kubesim.io/exporter), served as plain HTTP (or
 * HTTPS) by the kubelets' epoll loop on loopback addresses of their own.
 *
 *   podmetrics.c        targets from store events, counter accounting
 *   podmetrics_render.c Prometheus text 0.0.4 bodies, answers
 *
 * The model lives inside struct sim_kl_model (its lock guards it).
 */
#ifndef KUBESIM_PODMETRICS_H
#define KUBESIM_PODMETRICS_H

#include "test/kubesim/kubelet_int.h"

#define SIM_ANN_SCRAPE "prometheus.io/scrape"
#define SIM_ANN_PORT "prometheus.io/port"
#define SIM_ANN_PATH "prometheus.io/path"
#define SIM_ANN_SCHEME "prometheus.io/scheme"
#define SIM_ANN_EXPORTER "kubesim.io/exporter"       /* ConfigMap: "127.254.0.1:9100" */
#define SIM_ANN_QUEUE_DEPTH "kubesim.io/queue-depth" /* ConfigMap: the gauge's value */
#define SIM_ANN_QUEUE "kubesim.io/queue"             /* ConfigMap: label value, "jobs" */
#define SIM_ANN_SERIES "kubesim.io/metrics-series"   /* pod: series in all, padded */
#define SIM_ANN_KEEPALIVE "kubesim.io/metrics-keepalive" /* pod: "false" = Connection: close */

/* Series a pod target exposes without padding: the counter, the gauge, and
 * the histogram's 9 buckets, _sum and _count.  kubesim.io/metrics-series
 * (at most SIM_PM_MAX_SERIES) adds padding series up to its value, half
 * counters hello_padding_requests_total{series="<k>"}, half gauges
 * hello_padding_level{series="<k>"}, whose values move with the counter. */
#define SIM_PM_BASE_SERIES 13
#define SIM_PM_MAX_SERIES 100000

/* hello_counter_total counts one request per 10 millicore-seconds of the
 * pod's first container's CPU profile: rate (req/s) = millicores / 10. */
#define SIM_PM_NS_PER_REQUEST INT64_C(10000000)
/* Mean request duration (s): hello_inflight_requests = rate * this,
 * http_request_duration_seconds_sum = count * this. */
#define SIM_PM_MEAN_DURATION 0.05

/* Key of a target: "<IPv4>:<port>". */
#define SIM_PM_KEY_LEN 24

/*
 * The pure model of hello_counter_total: the requests served by time t_ns
 * of a pod whose counting began at base_ns (status.startTime, or the time
 * a restart was seen) and which restarts every restart_every_ns (0 =
 * never), with CPU profile cpu.  load_integral is the deployment load
 * integral since the current incarnation began (load: profiles only; see
 * sim_wl_cpu_ns).  Equals floor(integral of usage/10 over the current
 * incarnation), so the increase between two times of one incarnation is
 * the integral of the rate between them, within one request.
 */
int64_t sim_pm_counter_at(const struct sim_wl_profile *cpu, int64_t base_ns,
			  int64_t restart_every_ns, int64_t t_ns, double load_integral);
/* Start of the incarnation current at t_ns (base_ns when never restarted). */
int64_t sim_pm_incarnation(int64_t base_ns, int64_t restart_every_ns, int64_t t_ns);

struct sim_pm_state *sim_pm_new(void);
void sim_pm_free(struct sim_pm_state *s);

/* Store events "pods" and "configmaps" (lock held by the caller). */
void sim_pm_apply(struct sim_kl_model *m, enum sim_event ev, const char *resource,
		  const json_t *obj, int64_t now_ns);

/* What the loop needs for a connection to key: false when nothing is served
 * there.  Takes the lock. */
bool sim_pm_lookup(struct sim_kl_model *m, const char *key, bool *https,
		   struct sim_kl_fault *fault);
/* Appends the target's body as of now_ns.  0, ERR_NOTFOUND, ERR_TOOBIG.
 * Takes the lock. */
int sim_pm_render(struct sim_kl_model *m, const char *key, int64_t now_ns, struct dynbuf *out);
/* Answers a request to key like sim_kl_respond (faults but `slow`). */
void sim_pm_respond(struct sim_kl_model *m, const char *key, const struct sim_kl_request *req,
		    struct dynbuf *scratch, struct sim_kl_reply *r);

/* Ports the targets use, for the loop's listeners.  The generation changes
 * when a port is added (ports are never removed); wake_fd (an eventfd, -1 =
 * none) is written to then.  Take the lock. */
unsigned sim_pm_ports_gen(struct sim_kl_model *m);
/* Copies up to max ports into out; returns how many there are. */
size_t sim_pm_ports(struct sim_kl_model *m, int *out, size_t max, unsigned *gen);
void sim_pm_set_wake(struct sim_kl_model *m, int wake_fd);

/* The loop's listeners for the targets' ports, on 0.0.0.0 (podmetrics_listen.c,
 * loop thread only). */
#define SIM_PM_MAX_PORTS 256

struct sim_pm_listener {
	int fd;                 /* -1: bind failed (logged once) */
	int port;
};

struct sim_pm_listeners {
	struct sim_pm_listener *l[SIM_PM_MAX_PORTS];
	size_t n;
	unsigned gen;           /* sim_pm_ports_gen() last synced */
};

/* Listens on ports the model added since the last call; adds them to ep
 * with data.ptr = the sim_pm_listener. */
void sim_pm_listeners_sync(struct sim_pm_listeners *ls, struct sim_kl_model *m, int ep);
/* The listening fd when p is one of ls's epoll pointers, else -1. */
int sim_pm_listeners_fd(const struct sim_pm_listeners *ls, const void *p);
void sim_pm_listeners_close(struct sim_pm_listeners *ls);

/* Internal to podmetrics*.c (lock held). */
struct sim_pm_target {
	char key[SIM_PM_KEY_LEN]; /* addr:port */
	int port;
	char *owner;            /* "pods/ns/name" or "configmaps/ns/name" */
	char *path;             /* "/metrics" */
	bool https, exporter;
	bool close;             /* kubesim.io/metrics-keepalive: "false" */
	int pad;                /* padding series (kubesim.io/metrics-series) */
	struct sim_kl_fault fault;
	uint64_t rv;
	/* pods */
	char *uid;
	char *deploy_key;
	struct sim_wl_profile cpu; /* the first container's */
	int64_t base_ns;        /* counting began (startTime or a seen restart) */
	int64_t every_ns;       /* kubesim.io/restart-every */
	int64_t restarts;       /* sum of containerStatuses[].restartCount */
	int64_t start_text_ns;  /* status.startTime as given (0 = none) */
	int64_t inc_ns;         /* incarnation the counter state is for, 0 = none */
	double load0;           /* deployment load integral at inc_ns */
	int64_t offset_ns;      /* keeps the counter continuous across edits */
	int64_t last_ns;        /* last served CPU: never goes back */
	/* exporters */
	char *queue;
	char *depth;            /* Go float text, NULL when unset or invalid */
};
struct sim_pm_target *sim_pm_find(struct sim_kl_model *m, const char *key);
/* hello_counter_total and hello_inflight_requests of pod target t at now. */
void sim_pm_target_value(struct sim_kl_model *m, struct sim_pm_target *t, int64_t now_ns,
			 int64_t *count, double *inflight);
int sim_pm_render_target(struct sim_kl_model *m, struct sim_pm_target *t, int64_t now_ns,
			 struct dynbuf *out);

#endif
