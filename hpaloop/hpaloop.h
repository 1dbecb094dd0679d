/*
 * hpaloop.h - the public face of hpaloop/: the embedded HorizontalPodAutoscaler
 * controller.  It lists the HPAs it is told to act on, reads each one's
 * inputs the way kube-controller-manager does (the Scale, the pods of its
 * selector, their usage from the store, Pods/Object/External metrics
 * through kube-apiserver), runs hpa_decide() of hpa/ and writes the scale,
 * the status and the Events.  Also here, because they read the cluster the
 * way the loop does or configure it:
 *   - the --hpa* / --feature-gates flags: one table and one parser, used by
 *     the server's command line and by `hpa explain` (flags.c);
 *   - the scenario `hpa explain --live` decides on (live.c).
 */
#ifndef HPALOOP_H
#define HPALOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpa/hpa.h"

/* ---- which HPAs the loop acts on (options.c) ----------------------------- */

/*
 * --hpa:
 *   off        none: the loop does not run
 *   annotated  only HPAs carrying the annotation
 *              metrics-apiserver.io/embedded-hpa: "true" (exactly "true"),
 *              so the loop can run beside kube-controller-manager's HPA
 *              controller, which should then not see those HPAs twice
 *              (the default)
 *   all        every HPA (clusters that disabled kube-controller-manager's
 *              horizontal-pod-autoscaler controller)
 */
#define HPALOOP_ANNOTATION "metrics-apiserver.io/embedded-hpa"

enum hpaloop_mode { HPALOOP_MODE_OFF, HPALOOP_MODE_ANNOTATED, HPALOOP_MODE_ALL };

/* "off" | "annotated" | "all" -> *mode; 0, or ERR_INVAL (*mode untouched). */
int hpaloop_mode_parse(const char *s, enum hpaloop_mode *mode);

/* Whether the loop in `mode` acts on this HorizontalPodAutoscaler (borrowed). */
bool hpaloop_selected(enum hpaloop_mode mode, const json_t *hpa);

/*
 * The metrics this process serves itself (custom.metrics.k8s.io and
 * external.metrics.k8s.io from its own scrape): get answers a GET of path
 * (query included) in process, with no REST round trip, and returns true
 * with the HTTP status and the body (a new JSON value, NULL when the body
 * is not JSON); false sends the request through kube-apiserver as before
 * (another provider owns the API).  Called on the loop's thread.
 */
struct hpaloop_local_api {
	bool (*get)(void *ud, const char *path, int *status, struct json_t **body);
	void *ud;
};

struct kube_lease_options;

struct hpaloop_options {
	enum hpaloop_mode mode;
	struct hpaloop_local_api local; /* get NULL: every request through kube-apiserver */
	/*
	 * --leader-elect: the Lease the replicas elect their one writer on
	 * (kube_lease_* of kube/, borrowed until hpaloop_start returns), or
	 * NULL: no election, this replica acts alone.  With it the loop passes
	 * only while this replica leads, checks again before every write, and
	 * forgets its per-HPA state (recommendations, scale events, Events)
	 * whenever it does not lead, so a new leadership starts from nothing
	 * as a new kube-controller-manager leader does.
	 */
	const struct kube_lease_options *election;
	int64_t sync_period_ns; /* --hpa-sync-period: longest time between two passes */
	struct hpa_options algo;
};

/* ---- the --hpa* and --feature-gates flags (flags.c) ---------------------- */

/* The flags' values as given, before validation.  Owned strings. */
struct hpaloop_flags {
	char *mode;                         /* --hpa */
	int64_t sync_period_ns;             /* --hpa-sync-period */
	double tolerance;                   /* --hpa-tolerance */
	int64_t downscale_stabilization_ns; /* --hpa-downscale-stabilization */
	int64_t cpu_init_period_ns;         /* --hpa-cpu-initialization-period */
	int64_t readiness_delay_ns;         /* --hpa-initial-readiness-delay */
	size_t n_gates;
	char **gates;                       /* --feature-gates items "Name=bool", in order */
};

enum hpaloop_flag_type {
	HPALOOP_FLAG_STRING,   /* char * */
	HPALOOP_FLAG_DURATION, /* int64_t ns, a Go duration */
	HPALOOP_FLAG_FLOAT,    /* double, strconv.ParseFloat */
	HPALOOP_FLAG_GATES,    /* comma-separated Name=bool items, appended */
};

/* One flag of the table. */
struct hpaloop_flag {
	const char *name;   /* without the leading "--" */
	enum hpaloop_flag_type type;
	size_t offset;      /* of its field in struct hpaloop_flags */
	bool loop_only;     /* means nothing to `hpa explain` (--hpa, --hpa-sync-period) */
	const char *usage;  /* the --help text */
};

/* Every flag, sorted by name (the order --help prints them in). */
extern const struct hpaloop_flag hpaloop_flag_table[];
extern const size_t hpaloop_flag_count;

/* Fills f with the defaults: hpa_options_default()'s, --hpa=annotated,
 * --hpa-sync-period=15s.  Clear with hpaloop_flags_clear. */
void hpaloop_flags_init(struct hpaloop_flags *f);
/* Frees what f owns and zeroes it (f may be initialised again). */
void hpaloop_flags_clear(struct hpaloop_flags *f);
/* The flag named by the len bytes at name (no "--"), or NULL. */
const struct hpaloop_flag *hpaloop_flag_find(const char *name, size_t len);
/*
 * Sets flag d of f from value.  0, or ERR_INVAL with pflag's wording in err
 * ("invalid argument \"abc\" for \"--hpa-sync-period\" flag: time: invalid
 * duration \"abc\""); f keeps its previous value then.
 */
int hpaloop_flag_parse(struct hpaloop_flags *f, const struct hpaloop_flag *d, const char *value,
		       char *err, size_t errlen);
/* pflag's type word for --help ("string", "duration", "float", "mapStringBool"). */
const char *hpaloop_flag_type_name(const struct hpaloop_flag *d);
/* " (default X)" for d's value in f as pflag prints it, "" for a zero value. */
void hpaloop_flag_default_text(const struct hpaloop_flag *d, const struct hpaloop_flags *f,
			       char *buf, size_t len);
/*
 * Validates f into *o (the checks beyond syntax: a known --hpa mode,
 * positive sync period, no negative tolerance or window, known feature
 * gates).  Sets every field of *o (local: none; the caller adds its
 * in-process API).  0, or ERR_INVAL with the first problem in err, worded
 * the same for the server and `hpa explain`; *o is then partly filled.
 */
int hpaloop_flags_options(const struct hpaloop_flags *f, struct hpaloop_options *o, char *err,
			  size_t errlen);

/* ---- the loop (loop.c) ------------------------------------------------- */

struct kube_client;
struct store;
struct hpaloop;

/*
 * Starts the loop on its own thread (and, with o->election, the leader
 * elector, whose acquisitions ask for a pass at once): a pass after every hpaloop_notify()
 * (a scrape round applied new samples) and at least every sync period,
 * skipped while the store cannot serve any pod yet.  A pass lists the
 * HPAs, and for each selected one gets the Scale, lists the pods of its
 * selector, reads their usage from the store snapshot, runs hpa_decide(),
 * and writes the scale, the status and the Events.  o is copied; c and st
 * are borrowed until hpaloop_stop().  Returns the loop (owned by the
 * caller), or NULL when o->mode is HPALOOP_MODE_OFF or the thread cannot
 * be started (logged).
 */
struct hpaloop *hpaloop_start(const struct hpaloop_options *o, struct kube_client *c,
			      struct store *st);
/* Thread-safe and non-blocking: asks for a pass now (NULL l is fine). */
void hpaloop_notify(struct hpaloop *l);
/* Stops the thread (after the request in flight, if any), then the elector
 * (a leader gives the Lease up), frees all (NULL is fine).
 * Not to be called concurrently with hpaloop_notify on the same l. */
void hpaloop_stop(struct hpaloop *l);

/* ---- `hpa explain --live` (live.c) ------------------------------------- */

/* A path segment the loop may paste into a URL: a DNS name, a kind, a version. */
bool hpaloop_segment_ok(const char *s);

struct hpaloop_live_request {
	const char *kubeconfig; /* NULL/"": the first file of $KUBECONFIG, else in-cluster */
	const char *ns, *name;  /* the HPA (hpaloop_segment_ok, checked by the caller) */
	struct hpa_options opts;
};

/*
 * The scenario the loop would build for ns/name now (`history` left out:
 * never seen), read from the cluster with GETs only.  A new reference
 * (hpa_scenario_parse of its text gives the input), or NULL with the
 * reason in err (config, the HPA GET - the apiserver's message, e.g.
 * `horizontalpodautoscalers.autoscaling "x" not found` - or the pod list).
 */
json_t *hpaloop_live_scenario(const struct hpaloop_live_request *rq, char *err, size_t errlen);

#endif
