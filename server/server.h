/*
 * server.h - the public face of server/: the metrics-apiserver process.
 *
 *   flags     metrics-server's command line (names, defaults, messages)
 *   http      the libmicrohttpd HTTPS daemon: TLS >= 1.2, request
 *             lifecycle, authn -> authz -> route -> response
 *   authn     the delegating authenticator: front-proxy (request-header),
 *             x509 client-cert and bearer-token (TokenReview) users over
 *             trust sets from the flags' files or the ConfigMap
 *             extension-apiserver-authentication, reloaded on change
 *   authz     system:masters, always-allow paths, SubjectAccessReviews
 *             (cached); the 403 Status and the 500 text
 *   audit     audit.k8s.io/v1 events by an audit policy, as JSON lines
 *   health    /healthz, /livez, /readyz with the generic apiserver texts
 *   metrics   self-metrics (freshness histogram, storage points gauge)
 *   routes    the real route table (health, /metrics, apis/)
 */
#ifndef SERVER_H
#define SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/common.h"
#include "hpaloop/hpaloop.h"

/* What --version prints and /version reports. */
#define SERVER_GIT_VERSION "v0.1.0"

/* ---- flags ------------------------------------------------------------ */

/* A flag holding a comma-separated list (pflag "strings"). */
struct server_strlist {
	char **items;
	size_t n;
};

struct server_kubelet_flags {
	bool insecure_tls;              /* --kubelet-insecure-tls */
	char *ca_file;                  /* --kubelet-certificate-authority */
	char *client_cert;              /* --kubelet-client-certificate */
	char *client_key;               /* --kubelet-client-key */
	int port;                       /* --kubelet-port */
	bool use_node_status_port;      /* --kubelet-use-node-status-port */
	struct server_strlist preferred_address_types;
	int64_t request_timeout_ns;     /* --kubelet-request-timeout */
	char *node_selector;            /* -l, --node-selector */
	bool completely_insecure;       /* --deprecated-kubelet-completely-insecure (not implemented) */
};

struct server_serving_flags {
	int secure_port;                /* --secure-port */
	char *bind_address;             /* --bind-address (validated IP text) */
	char *cert_dir;                 /* --cert-dir */
	char *tls_cert_file;            /* --tls-cert-file */
	char *tls_private_key_file;     /* --tls-private-key-file */
	/* ---- issue 12 item 3: TLS settings and the other serving flags ---- */
	struct server_strlist tls_cipher_suites;     /* Go names (flags_tls.c) */
	struct server_strlist tls_curve_preferences; /* Go CurveID numbers, as given */
	char *tls_min_version;                       /* "VersionTLS12", NULL = 1.2 */
	struct server_strlist tls_sni_cert_key;      /* "crt,key[:names]" (serving.c) */
	bool disable_http2_serving;                  /* (no HTTP/2 here) */
	int http2_max_streams_per_connection;
	bool permit_address_sharing;
	bool permit_port_sharing;
};

struct server_authn_flags {
	char *requestheader_client_ca_file;
	struct server_strlist requestheader_allowed_names;
	struct server_strlist requestheader_username_headers;
	struct server_strlist requestheader_group_headers;
	struct server_strlist requestheader_extra_headers_prefix;
	char *client_ca_file;
	char *kubeconfig;               /* --authentication-kubeconfig (NULL: --kubeconfig's) */
	bool skip_lookup;               /* --authentication-skip-lookup */
	bool tolerate_lookup_failure;   /* --authentication-tolerate-lookup-failure */
	int64_t token_cache_ttl_ns;     /* --authentication-token-webhook-cache-ttl */
	struct server_strlist requestheader_uid_headers; /* accepted, not used (feature-gated) */
};

struct server_authz_flags {
	struct server_strlist always_allow_paths;
	char *kubeconfig;                 /* --authorization-kubeconfig (NULL: --kubeconfig's) */
	int64_t authorized_ttl_ns;        /* --authorization-webhook-cache-authorized-ttl */
	int64_t unauthorized_ttl_ns;      /* --authorization-webhook-cache-unauthorized-ttl */
};

/* --leader-elect*: kube-controller-manager's leader election flags, for
 * the embedded HPA controller (only the leader writes). */
struct server_leader_flags {
	bool elect;                     /* --leader-elect (false: a lone replica acts) */
	int64_t lease_duration_ns;      /* --leader-elect-lease-duration */
	int64_t renew_deadline_ns;      /* --leader-elect-renew-deadline */
	int64_t retry_period_ns;        /* --leader-elect-retry-period */
	char *resource_name;            /* --leader-elect-resource-name */
	char *resource_namespace;       /* --leader-elect-resource-namespace */
};

/* The generic apiserver's run options (ServerRunOptions); accepted with
 * upstream's defaults and checks, mostly without effect (see flags_table.c). */
struct server_generic_flags {
	char *advertise_address;
	struct server_strlist cors_allowed_origins;
	struct server_strlist emulated_version;
	bool emulation_forward_compatible;
	char *external_hostname;
	double goaway_chance;
	int64_t livez_grace_period_ns;
	int max_mutating_requests_inflight;
	int max_requests_inflight;              /* --max-requests-inflight, 0 = no limit */
	struct server_strlist min_compatibility_version;
	int min_request_timeout;
	int64_t request_timeout_ns;             /* --request-timeout */
	bool runtime_config_emulation_forward_compatible;
	int64_t shutdown_delay_duration_ns;     /* --shutdown-delay-duration */
	bool shutdown_send_retry_after;
	int64_t shutdown_watch_termination_grace_period_ns;
	int64_t storage_initialization_timeout_ns;
	struct server_strlist strict_transport_security_directives;
	/* Features */
	bool contention_profiling;
	char *debug_socket_path;
	bool enable_priority_and_fairness;
	bool profiling;                         /* no pprof here: a log line */
};

/* --audit-* (AuditOptions): the log backend is implemented (audit*.c). */
struct server_audit_flags {
	int log_batch_buffer_size, log_batch_max_size, log_batch_throttle_burst, log_maxage,
		log_maxbackup, log_maxsize, log_truncate_max_batch_size, log_truncate_max_event_size;
	int64_t log_batch_max_wait_ns, webhook_batch_max_wait_ns, webhook_initial_backoff_ns;
	bool log_batch_throttle_enable, log_compress, log_truncate_enabled;
	double log_batch_throttle_qps, webhook_batch_throttle_qps;
	char *log_format, *log_mode, *log_path, *log_version, *policy_file;
	int webhook_batch_buffer_size, webhook_batch_max_size, webhook_batch_throttle_burst,
		webhook_truncate_max_batch_size, webhook_truncate_max_event_size;
	bool webhook_batch_throttle_enable, webhook_truncate_enabled;
	char *webhook_config_file, *webhook_mode, *webhook_version;
};

struct server_audit;
/* The audit log of the flags: 0 with *out NULL when off (no --audit-log-path,
 * or no policy: said at -v 2); an error with apiserver's text in err (bad
 * policy, log file not creatable). */
int server_audit_new(const struct server_audit_flags *f, struct server_audit **out, char *err,
		     size_t errlen) COMMON_WUR;
void server_audit_free(struct server_audit *a);

/* component-base logging options (besides -v). */
struct server_logging_flags {
	char *format;                   /* --logging-format: "text" or "json" */
	struct server_strlist vmodule;  /* "pattern=N" items */
	int64_t flush_frequency_ns;
	int64_t json_info_buffer_size, text_info_buffer_size; /* quantities, bytes */
	bool json_split_stream, text_split_stream;
};

/* Every flag; strings are owned (NULL when unset). */
struct server_config {
	int64_t metric_resolution_ns;   /* --metric-resolution */
	char *kubeconfig;               /* --kubeconfig */
	bool show_version;              /* --version */
	bool show_help;                 /* -h, --help */
	int verbosity;                  /* -v, --v */
	struct server_kubelet_flags kubelet;
	struct server_serving_flags serving;
	struct server_authn_flags authn;
	struct server_authz_flags authz;
	struct hpaloop_flags hpa;       /* --hpa*, --feature-gates (hpaloop/flags.c) */
	char *config_file;              /* --config: prometheus-adapter's rules (NULL/"": none) */
	int max_series;                 /* --max-series: application series, 0 = no limit */
	struct server_leader_flags leader; /* --leader-elect* */
	/* ---- issue 12 item 3: the rest of metrics-server's flags ---- */
	struct server_generic_flags generic;
	struct server_audit_flags audit;
	struct server_logging_flags logging;
	/* Set by server_flags_parse: the flags given that have no effect here,
	 * "--a, --b" (owned; NULL when none), logged once at start. */
	char *ignored_flags;
};

/* Default of --max-series: series of all application targets together. */
#define SERVER_DEFAULT_MAX_SERIES 2000000
/* Default of --leader-elect-resource-name: the Lease of the embedded HPA. */
#define SERVER_LEASE_NAME "metrics-apiserver"

/* Fills cfg with metrics-server's defaults (--metric-resolution 1m0s,
 * --secure-port 443, ...). */
void server_config_init(struct server_config *cfg);
/* Frees what cfg owns; cfg may be re-initialised afterwards. */
void server_config_clear(struct server_config *cfg);

/*
 * Parses argv[1..argc) into cfg (initialise it first) with pflag's
 * syntax: --flag=value, --flag value, bools as --flag or --flag=false,
 * shorthands -l value / -lvalue, "--" ends flags.  0, or ERR_INVAL with
 * cobra's wording in err ("unknown flag: --foo").  On error cfg stays
 * valid for server_config_clear.
 */
int server_flags_parse(struct server_config *cfg, int argc, char **argv, char *err,
		       size_t errlen) COMMON_WUR;

struct kube_lease_options;
/* The Lease options of cfg's --leader-elect* flags (strings borrowed from
 * cfg; no callback). */
void server_config_lease_options(const struct server_config *cfg, struct kube_lease_options *o);

/* metrics-server's Validate(): 0, or ERR_INVAL with its first message. */
int server_config_validate(const struct server_config *cfg, char *err, size_t errlen) COMMON_WUR;

/* Writes the --help text (sections, defaults) to out. */
void server_flags_usage(FILE *out);

/*
 * The whole server process (run.c): parses argv (argv[0] is the program),
 * prints --help / --version, or runs until SIGINT/SIGTERM.  Process-wide:
 * blocks SIGINT/SIGTERM in the calling thread (threads it starts inherit
 * the mask), ignores SIGPIPE, tunes malloc.  Errors go to stderr as
 * "Error: <message>".  Returns the exit code: 0, or 1 on a bad command line
 * or a failed start.  Call once, from main.
 */
int server_run(int argc, char **argv);

/* ---- users (authentication results) ----------------------------------- */

struct server_extra {
	char *key;     /* lower-case, unescaped */
	char *value;
};

struct server_user {
	char *name;                /* "system:anonymous" when anonymous */
	char *uid;                 /* NULL when none (only TokenReview gives one) */
	char **groups;
	size_t ngroups;
	struct server_extra *extra;
	size_t nextra;
	bool anonymous;
};

/* Frees what authentication filled in u (names, groups, extras). */
void server_user_clear(struct server_user *u);
/* Whether u is in group (exact match). */
bool server_user_in_group(const struct server_user *u, const char *group);

/* ---- one request being served ---------------------------------------- */

struct MHD_Connection;

/*
 * What a route handler sees and fills.  Request fields are read-only and
 * valid for the handler call.  The handler sets status and content_type
 * and writes body (initialised, capped at DYN_API_RESPONSE); on_done, if
 * set, runs with done_arg when libmicrohttpd reports the request complete
 * (after the body was sent or the connection failed).
 */
struct server_exchange {
	const char *method;
	const char *path;              /* percent-decoded URL path */
	const char *accept;            /* Accept header or NULL */
	const struct server_user *user;
	bool pretty;                   /* ?pretty=true or curl/Wget/Mozilla UA */
	int64_t now_ns;                /* request start (wall clock) */

	int status;
	const char *content_type;      /* static string */
	struct dynbuf body;
	void (*on_done)(void *arg);
	void *done_arg;

	struct MHD_Connection *conn;   /* private to server/ */
};

/* First value of query parameter key (NULL when absent or valueless);
 * *present (may be NULL) tells whether the key occurs at all. */
const char *server_query(const struct server_exchange *x, const char *key, bool *present);
/* Up to max values of a repeated query parameter, in order; count. */
size_t server_query_all(const struct server_exchange *x, const char *key, const char **vals,
			size_t max);

/* Fills x as a plain-text reply. */
void server_reply_text(struct server_exchange *x, int status, const char *text);
/* Fills x with a Status JSON error (kind Status, status Failure).  details
 * is omitted when name, group and kind are all NULL; NULL or "" fields are
 * left out of it (all "" gives "details":{}). */
void server_reply_status(struct server_exchange *x, int code, const char *reason,
			 const char *message, const char *name, const char *group,
			 const char *kind);

/* ---- routes ----------------------------------------------------------- */

typedef void (*server_handler_fn)(void *ud, struct server_exchange *x);

/* A route matches `path` exactly, or also path + "/..." when subtree, or
 * whatever `owns` accepts when it is set. */
struct server_route {
	const char *path;
	bool subtree;
	bool (*owns)(const char *path);
	server_handler_fn handler;
	void *ud;
};

/* ---- authentication ----------------------------------------------------- */

struct server_authn;
struct kube_client;

struct server_authn_options {
	const struct server_authn_flags *flags; /* borrowed, outlives the authenticator */
	/* kube-apiserver for the ConfigMap lookup and TokenReviews (borrowed,
	 * outlives it); NULL: neither (certificates only) */
	struct kube_client *client;
	int64_t files_period_ns;      /* CA files checked every: 0 = 1 s, <0 = never */
	int64_t configmap_period_ns;  /* ConfigMap re-read every: 0 = 10 s, <0 = never */
};

/*
 * The trust sets: --client-ca-file and --requestheader-client-ca-file (and
 * the --requestheader-* lists) from the flags; what the flags leave unset
 * from the ConfigMap kube-system/extension-apiserver-authentication unless
 * --authentication-skip-lookup (read once here, then every
 * configmap_period_ns).  CA files are read again when they change.  A
 * failed request-header lookup stops the start (NULL, Go's message in err)
 * unless --authentication-tolerate-lookup-failure; a missing ConfigMap is
 * no error.  NULL with a message in err when a CA file cannot be read or
 * holds no certificate.
 */
struct server_authn *server_authn_new_with(const struct server_authn_options *o, char *err,
					   size_t errlen);
/* server_authn_new_with with no kube client and default periods. */
struct server_authn *server_authn_new(const struct server_authn_flags *flags, char *err,
				      size_t errlen);
void server_authn_free(struct server_authn *a);
/* Checks the CA files and re-reads the ConfigMap now (the authenticator's
 * thread does it periodically); true when the trust sets changed. */
bool server_authn_refresh(struct server_authn *a);
/* PEM of the CAs loaded at start (it only makes the TLS layer request
 * client certificates: no CA names are sent), or NULL when none.
 * Borrowed. */
const char *server_authn_trust_pem(const struct server_authn *a);

/* What one connection's client certificate proves, kept between its
 * requests (see authn.c); one per connection, used by one thread at a time. */
struct server_authn_conn;
struct server_authn_conn *server_authn_conn_new(void);
void server_authn_conn_free(struct server_authn_conn *k); /* NULL ignored */
/* How many times a connection's certificate was worked out (parsed and
 * checked), since start; for tests. */
size_t server_authn_checks(void);

/*
 * The delegating authenticator chain: request-header (front proxy) user,
 * then x509 client-cert user, then bearer token (TokenReview, cached),
 * else anonymous.  0 with *out filled (release it), or ERR_INVAL when a
 * presented certificate or token fails and nothing succeeded (-> 401); the
 * reason is logged as "Unable to authenticate the request".  k: c's
 * connection state (NULL: work everything out for this request alone).
 * A token review blocks; with may_block false, a token no cache answers
 * gives ERR_AGAIN instead (*out untouched: ask again where blocking is fine).
 */
int server_authn_request(const struct server_authn *a, struct MHD_Connection *c,
			 struct server_authn_conn *k, bool may_block,
			 struct server_user *out) COMMON_WUR;

/* ---- authorization ------------------------------------------------------ */

#define SERVER_MAX_PATH 2048   /* longer URL paths are refused with 414 */

/* apiserver RequestInfo: what a request asks to do.  Pointers are into
 * the struct's own buffers or, for path, the request. */
struct server_attrs {
	bool is_resource;       /* resource request, else non-resource */
	char verb[24];          /* "get", "list", "watch", "post", ... */
	const char *path;       /* the request path (borrowed) */
	const char *ns, *group, *version, *resource, *subresource, *name; /* "" when none */
	char parts[SERVER_MAX_PATH + 1];
	char name_buf[256];
};

/* Parses method + path (+ the watch and fieldSelector query values) as
 * RequestInfoFactory does.  path must be at most SERVER_MAX_PATH bytes and
 * outlive at. */
void server_attrs_parse(struct server_attrs *at, const char *method, const char *path,
			const char *watch, bool watch_present, const char *field_selector);

/* ?watch: present and not "0"/"false" (any case); a bare ?watch counts. */
bool server_watch_requested(const char *watch, bool present);

struct server_authz;
struct kube_client;
struct json_t;

/* A SubjectAccessReview call: review (borrowed) in; 0 with *status the
 * answer's `status` object (new reference), or an error with client-go's
 * text in err. */
typedef int (*server_authz_review_fn)(void *ud, struct json_t *review, struct json_t **status,
				      char *err, size_t errlen);

struct server_authz_options {
	const struct server_authz_flags *flags; /* borrowed, outlives the authorizer */
	struct kube_client *client;   /* reviews go there (borrowed); NULL: masters, paths */
	server_authz_review_fn review; /* NULL: kube_review_create on client (tests set it) */
	void *review_ud;
	bool allow_reasons;           /* an ALLOW gives the review's reason too (audit) */
};

struct server_authz *server_authz_new(const struct server_authz_options *o);
void server_authz_free(struct server_authz *z);

enum server_authz_decision { SERVER_AUTHZ_ALLOW, SERVER_AUTHZ_DENY, SERVER_AUTHZ_ERROR,
			     SERVER_AUTHZ_PENDING };

/*
 * The delegating authorizer's union for u doing at: system:masters, the
 * always-allow paths (non-resource), then a SubjectAccessReview whose
 * answer is cached by spec (allowed for the authorized TTL, anything else
 * for the unauthorized TTL; errors never).  DENY (also the review's "no
 * opinion"): *why is the review's reason or NULL; ERROR (the review could
 * not be made, or said both allowed and denied): *why is the error text.
 * ALLOW: *why is the reason with allow_reasons, else NULL.  The caller
 * frees *why.  A cache hit makes no call (and, allowed without
 * allow_reasons, no allocation).  A review blocks (!may_block: PENDING
 * instead).  Thread-safe.
 */
enum server_authz_decision server_authz_decide(const struct server_authz *z,
					       const struct server_user *u, const struct server_attrs *at,
					       bool may_block, char **why);
/* SubjectAccessReviews made so far (cache misses); for tests. */
size_t server_authz_reviews(const struct server_authz *z);
/* Fills x with the 403 Status for u and at, as the Go apiserver words it
 * (responsewriters.Forbidden); reason (may be NULL) is appended. */
void server_authz_forbid(struct server_exchange *x, const struct server_user *u,
			 const struct server_attrs *at, const char *reason);
/* Fills x with the 500 of a failed authorization (responsewriters.
 * InternalError): `Internal Server Error: "<request_uri>": <err>` and a
 * newline, & < > as HTML entities.  request_uri: the raw request-target. */
void server_authz_fail(struct server_exchange *x, const char *request_uri, const char *err);

/* ---- the HTTPS daemon ----------------------------------------------------- */

struct server_http_options {
	const char *bind_address;        /* "0.0.0.0", "::", "127.0.0.1" */
	int port;                        /* 0 = ephemeral (tests) */
	const char *cert_pem;            /* serving chain, PEM */
	const char *key_pem;             /* its key, PEM */
	const char *cert_file, *key_file; /* where they came from (NULL: not reloaded):
					  * read again when either changes */
	const struct server_strlist *sni_cert_keys; /* --tls-sni-cert-key's, NULL: none */
	int64_t reload_ns;               /* how often the files are checked: 0 = 1 s, <0 never */
	const struct server_route *routes; /* borrowed for the daemon's life */
	size_t nroutes;
	const struct server_authn *authn; /* borrowed */
	const struct server_authz *authz; /* borrowed */
	const struct server_audit *audit; /* borrowed; NULL: no audit events */
	int64_t request_timeout_ns;      /* --request-timeout (0: none) */
	unsigned threads;                /* 0 = 2 */
	unsigned max_connections;        /* 0 = 1024 */
	unsigned timeout_s;              /* idle connection timeout, 0 = 60 */
	const struct server_tls *tls;    /* NULL: TLS >= 1.2, GnuTLS's NORMAL suites */
	/* --max-requests-inflight / --max-mutating-requests-inflight (0 = no
	 * limit): requests past them get 429 with Retry-After, as the generic
	 * apiserver's max-in-flight filter answers; system:masters is exempt */
	int max_requests_inflight, max_mutating_requests_inflight;
	const char *hsts;                /* Strict-Transport-Security value, or NULL */
	bool reuse_port;                 /* --permit-port-sharing (SO_REUSEPORT) */
};

struct server_http;

/* Starts serving (an unspecified IPv4 bind address also takes IPv6 when the host
 * has it).  NULL with a message in err (bad key or SNI pair, port in use). */
struct server_http *server_http_start(const struct server_http_options *o, char *err,
				      size_t errlen);
/* The bound port (useful with port 0). */
int server_http_port(const struct server_http *h);
/* Requests whose connection is suspended while they wait on a review. */
int server_http_waiting(const struct server_http *h);
/* Checks the serving certificate files (default and SNI pairs) now (the
 * daemon also does every reload_ns); true when a new pair was loaded.
 * New connections get it, open ones keep theirs. */
bool server_http_reload_certs(struct server_http *h);
/* Waits until no request is being served (false when timeout_ns ran out);
 * with retry_after (--shutdown-send-retry-after) new requests get the
 * shutting-down 429 meanwhile (filters.c says which are exempt). */
bool server_http_drain(struct server_http *h, bool retry_after, int64_t timeout_ns);
/* Stops accepting, waits for the threads (polling, reviews), frees. */
void server_http_stop(struct server_http *h);

/* ---- health probes -------------------------------------------------------- */

/* An application check: true when healthy, else a reason in err. */
typedef bool (*server_check_fn)(void *ud, const char *name, char *err, size_t errlen);

struct server_health {
	server_check_fn check;   /* asked for metric-* and *-informer-sync */
	void *ud;
	atomic_bool shutting_down; /* fails readyz "shutdown" */
};

/* Route handler for /healthz, /livez, /readyz and their /<check> paths;
 * ud is a struct server_health. */
void server_health_handler(void *ud, struct server_exchange *x);

/* ---- self-metrics --------------------------------------------------------- */

struct server_metrics;

/* The self-metrics of one process (never NULL); server_metrics_free once
 * the HTTP daemon, its only other user, has stopped. */
struct server_metrics *server_metrics_new(void);
void server_metrics_free(struct server_metrics *m);
/* Thread-safe: one API item served whose sample is `seconds` old. */
void server_metrics_observe_freshness(struct server_metrics *m, double seconds);
/* Appends the metrics_server_api_metric_freshness_seconds family. */
int server_metrics_write_freshness(struct server_metrics *m, struct dynbuf *out) COMMON_WUR;
/* Appends the metrics_server_storage_points family. */
int server_metrics_write_storage_points(size_t node_points, size_t container_points,
					struct dynbuf *out) COMMON_WUR;

/* ---- the real routes (server/routes.c) ----------------------------------- */

struct store;
struct kube_informer;
struct scraper;
struct scraper_apps_loop;
struct selector;
struct series;
struct rules_config;

/* Series kept per application target when the config's
 * metricsApiserver.limits.sample_limit is unset (a target over it fails). */
#define SERVER_DEFAULT_SERIES_PER_TARGET 200000

struct server_app {
	struct store *store;
	struct kube_informer *informer;
	struct scraper *scraper;             /* may be NULL before start */
	const struct selector *node_selector;
	int64_t resolution_ns;
	struct server_metrics *metrics;
	struct server_health health;
	/* with --config only (else NULL): the rules, the application series
	 * (written by the app loop, read through series_acquire) and the loop */
	const struct rules_config *rules;
	struct series *series;
	struct scraper_apps_loop *apps;
	/* custom.metrics.k8s.io and external.metrics.k8s.io over series */
	struct custom_provider *custom;
};

/* The embedded HPA's in-process GET (hpaloop_local_api.get; app is the
 * server_app) of a custom/external metrics path: true with status 200 and
 * the parsed body; false (nothing to free) otherwise: then it goes through
 * kube-apiserver.  Any thread. */
bool server_local_get(void *app, const char *path, int *status, struct json_t **body);

/* Fills routes[0..n) (n <= max) for app; returns n.  Borrowed: app must
 * outlive the daemon. */
size_t server_routes_build(struct server_app *app, struct server_route *routes, size_t max);

#endif
