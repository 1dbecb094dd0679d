/*
 * flags_table.c - every flag metrics-apiserver accepts, with metrics-server's
 * names and help texts, grouped in its help sections (--help sorts each
 * section by name, as pflag does).
 */
#include "server/flags_table.h"

/* An entry without its last field (effect) is implemented (FX_USED). */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define CFG(field) offsetof(struct server_config, field)

#define SEC_MS "Metrics server"
#define SEC_CUSTOM "Custom and external metrics"
#define SEC_KUBELET "Kubelet client"
#define SEC_SERVING "Apiserver secure serving"
#define SEC_AUTHN "Apiserver authentication"
#define SEC_AUTHZ "Apiserver authorization"
#define SEC_HPA "Horizontal pod autoscaler"
#define SEC_LEADER "Leader election"
#define SEC_LOG "Logging"
#define SEC_GENERIC "Generic"
#define SEC_AUDIT "Apiserver audit log"
#define SEC_FEATURES "Features"

/* metrics-server's sections, ours ("Custom and external metrics",
 * "Horizontal pod autoscaler") where they read best. */
const char *const server__flag_sections[] = {
	SEC_MS, SEC_CUSTOM, SEC_GENERIC, SEC_KUBELET, SEC_SERVING, SEC_AUTHN, SEC_AUTHZ,
	SEC_AUDIT, SEC_FEATURES, SEC_HPA, SEC_LOG,
};
const size_t server__flag_nsections =
	sizeof(server__flag_sections) / sizeof(server__flag_sections[0]);

const struct flag_def server__flag_defs[] = {
	{ "kubeconfig", 0, FLAG_STRING, CFG(kubeconfig), SEC_MS,
	  "The path to the kubeconfig used to connect to the Kubernetes API server and the "
	  "Kubelets (defaults to in-cluster config)" },
	{ "metric-resolution", 0, FLAG_DURATION, CFG(metric_resolution_ns), SEC_MS,
	  "The resolution at which metrics-server will retain metrics, must set value at least "
	  "10s." },
	{ "version", 0, FLAG_BOOL, CFG(show_version), SEC_MS, "Show version" },

	{ "config", 0, FLAG_STRING, CFG(config_file), SEC_CUSTOM,
	  "Configuration file in prometheus-adapter's format: rules for the custom and external "
	  "metrics APIs, static targets and scrape limits under metricsApiserver:. Annotated pods "
	  "and those targets are scraped every --metric-resolution; without it none are." },
	{ "max-series", 0, FLAG_INT, CFG(max_series), SEC_CUSTOM,
	  "The most series kept from application targets, all targets together (0 = no limit); "
	  "a scrape that would pass it fails." },

	{ "kubelet-certificate-authority", 0, FLAG_STRING, CFG(kubelet.ca_file), SEC_KUBELET,
	  "Path to the CA to use to validate the Kubelet's serving certificates." },
	{ "kubelet-client-certificate", 0, FLAG_STRING, CFG(kubelet.client_cert), SEC_KUBELET,
	  "Path to a client cert file for TLS." },
	{ "kubelet-client-key", 0, FLAG_STRING, CFG(kubelet.client_key), SEC_KUBELET,
	  "Path to a client key file for TLS." },
	{ "kubelet-insecure-tls", 0, FLAG_BOOL, CFG(kubelet.insecure_tls), SEC_KUBELET,
	  "Do not verify CA of serving certificates presented by Kubelets.  For testing "
	  "purposes only." },
	{ "kubelet-port", 0, FLAG_INT, CFG(kubelet.port), SEC_KUBELET,
	  "The port to use to connect to Kubelets." },
	{ "kubelet-preferred-address-types", 0, FLAG_STRINGS,
	  CFG(kubelet.preferred_address_types), SEC_KUBELET,
	  "The priority of node address types to use when determining which address to use to "
	  "connect to a particular node" },
	{ "kubelet-request-timeout", 0, FLAG_DURATION, CFG(kubelet.request_timeout_ns),
	  SEC_KUBELET,
	  "The length of time to wait before giving up on a single request to Kubelet. Non-zero "
	  "values should contain a corresponding time unit (e.g. 1s, 2m, 3h)." },
	{ "kubelet-use-node-status-port", 0, FLAG_BOOL, CFG(kubelet.use_node_status_port),
	  SEC_KUBELET, "Use the port in the node status. Takes precedence over --kubelet-port flag." },
	{ "node-selector", 'l', FLAG_STRING, CFG(kubelet.node_selector), SEC_KUBELET,
	  "Selector (label query) to filter on, not including uninitialized ones, supports '=', "
	  "'==', and '!='.(e.g. -l key1=value1,key2=value2)." },

	{ "bind-address", 0, FLAG_IP, CFG(serving.bind_address), SEC_SERVING,
	  "The IP address on which to listen for the --secure-port port. The associated "
	  "interface(s) must be reachable by the rest of the cluster, and by CLI/web clients. If "
	  "blank or an unspecified address (0.0.0.0 or ::), all interfaces and IP address "
	  "families will be used." },
	{ "cert-dir", 0, FLAG_STRING, CFG(serving.cert_dir), SEC_SERVING,
	  "The directory where the TLS certs are located. If --tls-cert-file and "
	  "--tls-private-key-file are provided, this flag will be ignored." },
	{ "secure-port", 0, FLAG_INT, CFG(serving.secure_port), SEC_SERVING,
	  "The port on which to serve HTTPS with authentication and authorization. If 0, don't "
	  "serve HTTPS at all." },
	{ "tls-cert-file", 0, FLAG_STRING, CFG(serving.tls_cert_file), SEC_SERVING,
	  "File containing the default x509 Certificate for HTTPS. (CA cert, if any, concatenated "
	  "after server cert). If HTTPS serving is enabled, and --tls-cert-file and "
	  "--tls-private-key-file are not provided, a self-signed certificate and key are "
	  "generated for the public address and saved to the "
	  "directory specified by --cert-dir." },
	{ "tls-private-key-file", 0, FLAG_STRING, CFG(serving.tls_private_key_file), SEC_SERVING,
	  "File containing the default x509 private key matching --tls-cert-file." },

	{ "client-ca-file", 0, FLAG_STRING, CFG(authn.client_ca_file), SEC_AUTHN,
	  "If set, any request presenting a client certificate signed by one of the authorities "
	  "in the client-ca-file is authenticated with an identity corresponding to the "
	  "CommonName of the client certificate." },
	{ "requestheader-allowed-names", 0, FLAG_STRINGS, CFG(authn.requestheader_allowed_names),
	  SEC_AUTHN,
	  "List of client certificate common names to allow to provide usernames in headers "
	  "specified by --requestheader-username-headers. If empty, any client certificate "
	  "validated by the authorities in --requestheader-client-ca-file is allowed." },
	{ "requestheader-client-ca-file", 0, FLAG_STRING, CFG(authn.requestheader_client_ca_file),
	  SEC_AUTHN,
	  "Root certificate bundle to use to verify client certificates on incoming requests "
	  "before trusting usernames in headers specified by --requestheader-username-headers. "
	  "WARNING: generally do not depend on authorization being already done for incoming "
	  "requests." },
	{ "requestheader-extra-headers-prefix", 0, FLAG_STRINGS,
	  CFG(authn.requestheader_extra_headers_prefix), SEC_AUTHN,
	  "List of request header prefixes to inspect. X-Remote-Extra- is suggested." },
	{ "requestheader-group-headers", 0, FLAG_STRINGS, CFG(authn.requestheader_group_headers),
	  SEC_AUTHN, "List of request headers to inspect for groups. X-Remote-Group is suggested." },
	{ "requestheader-username-headers", 0, FLAG_STRINGS,
	  CFG(authn.requestheader_username_headers), SEC_AUTHN,
	  "List of request headers to inspect for usernames. X-Remote-User is common." },

	{ "authorization-always-allow-paths", 0, FLAG_STRINGS, CFG(authz.always_allow_paths),
	  SEC_AUTHZ,
	  "A list of HTTP paths to skip during authorization, i.e. these are authorized without "
	  "contacting the 'core' kubernetes server." },
	{ "authorization-kubeconfig", 0, FLAG_STRING, CFG(authz.kubeconfig), SEC_AUTHZ,
	  "kubeconfig file pointing at the 'core' kubernetes server with enough rights to create "
	  "subjectaccessreviews.authorization.k8s.io." },
	{ "authorization-webhook-cache-authorized-ttl", 0, FLAG_DURATION,
	  CFG(authz.authorized_ttl_ns), SEC_AUTHZ,
	  "The duration to cache 'authorized' responses from the webhook authorizer." },
	{ "authorization-webhook-cache-unauthorized-ttl", 0, FLAG_DURATION,
	  CFG(authz.unauthorized_ttl_ns), SEC_AUTHZ,
	  "The duration to cache 'unauthorized' responses from the webhook authorizer." },

	/* --feature-gates and --hpa*: hpaloop's table (hpaloop/flags.c) */
	{ NULL, 0, FLAG_HPA, 0, SEC_HPA, NULL },

	/* ---- --leader-elect*: kube-controller-manager's flags and texts, for the
	 * embedded HPA controller (server_config_lease_options, kube/lease.c) ---- */
	{ "leader-elect", 0, FLAG_BOOL, CFG(leader.elect), SEC_LEADER,
	  "Start a leader election client and gain leadership before running the embedded "
	  "HPA controller (every replica serves the APIs). Enable this when running replicated "
	  "components for high availability." },
	{ "leader-elect-lease-duration", 0, FLAG_DURATION, CFG(leader.lease_duration_ns),
	  SEC_LEADER,
	  "The duration that non-leader candidates will wait after observing a leadership "
	  "renewal until attempting to acquire leadership of a led but unrenewed leader slot. "
	  "This is effectively the maximum duration that a leader can be stopped before it is "
	  "replaced by another candidate. This is only applicable if leader election is "
	  "enabled." },
	{ "leader-elect-renew-deadline", 0, FLAG_DURATION, CFG(leader.renew_deadline_ns),
	  SEC_LEADER,
	  "The interval between attempts by the acting master to renew a leadership slot "
	  "before it stops leading. This must be less than the lease duration. This is only "
	  "applicable if leader election is enabled." },
	{ "leader-elect-resource-name", 0, FLAG_STRING, CFG(leader.resource_name), SEC_LEADER,
	  "The name of resource object that is used for locking during leader election." },
	{ "leader-elect-resource-namespace", 0, FLAG_STRING, CFG(leader.resource_namespace),
	  SEC_LEADER,
	  "The namespace of resource object that is used for locking during leader election." },
	{ "leader-elect-retry-period", 0, FLAG_DURATION, CFG(leader.retry_period_ns),
	  SEC_LEADER,
	  "The duration the clients should wait between attempting acquisition and renewal of "
	  "a leadership. This is only applicable if leader election is enabled." },
	/* ---- end of --leader-elect* ---- */

	{ "v", 'v', FLAG_LEVEL, CFG(verbosity), SEC_LOG, "number for the log level verbosity" },

	/* ==== issue 12 item 3 (flags helper): every other flag of metrics-server's
	 * docs/command-line-flags.txt, with its help text; help sorts by name. ==== */
	/* Generic */
	{ "advertise-address", 0, FLAG_IP, CFG(generic.advertise_address), SEC_GENERIC,
	  "The IP address on which to advertise the apiserver to members of the cluster. This "
	  "address must be reachable by the rest of the cluster. If blank, the --bind-address "
	  "will be used. If --bind-address is unspecified, the host's default interface will "
	  "be used.", FX_IGNORED },
	{ "cors-allowed-origins", 0, FLAG_STRINGS, CFG(generic.cors_allowed_origins), SEC_GENERIC,
	  "List of allowed origins for CORS, comma separated. An allowed origin can be a "
	  "regular expression to support subdomain matching. If this list is empty CORS will "
	  "not be enabled. Please ensure each expression matches the entire hostname by "
	  "anchoring to the start with '^' or including the '//' prefix, and by anchoring to "
	  "the end with '$' or including the ':' port separator suffix. Examples of valid "
	  "expressions are '//example\\.com(:|$)' and '^https://example\\.com(:|$)'", FX_IGNORED },
	{ "emulated-version", 0, FLAG_STRINGS, CFG(generic.emulated_version), SEC_GENERIC,
	  "The versions different components emulate their capabilities (APIs, features, ...) "
	  "of.\n"
	  "If set, the component will emulate the behavior of this version instead of the "
	  "underlying binary version.\n"
	  "Version format could only be major.minor, for example: "
	  "'--emulated-version=wardle=1.2,kube=1.31'.\n"
	  "Options are:\n"
	  "If the component is not specified, defaults to \"kube\"", FX_IGNORED },
	{ "emulation-forward-compatible", 0, FLAG_BOOL, CFG(generic.emulation_forward_compatible),
	  SEC_GENERIC,
	  "If true, for any beta+ APIs enabled by default or by --runtime-config at the "
	  "emulation version, their future versions with higher priority/stability will be "
	  "auto enabled even if they introduced after the emulation version. Can only be set "
	  "to true if the emulation version is lower than the binary version.", FX_IGNORED },
	{ "external-hostname", 0, FLAG_STRING, CFG(generic.external_hostname), SEC_GENERIC,
	  "The hostname to use when generating externalized URLs for this master (e.g. Swagger "
	  "API Docs or OpenID Discovery).", FX_IGNORED },
	/* --feature-gates: hpaloop's flag (hpaloop/flags.c), listed here */
	{ NULL, 0, FLAG_GATES, 0, SEC_GENERIC, NULL, FX_USED },
	{ "goaway-chance", 0, FLAG_FLOAT, CFG(generic.goaway_chance), SEC_GENERIC,
	  "To prevent HTTP/2 clients from getting stuck on a single apiserver, randomly close "
	  "a connection (GOAWAY). The client's other in-flight requests won't be affected, and "
	  "the client will reconnect, likely landing on a different apiserver after going "
	  "through the load balancer again. This argument sets the fraction of requests that "
	  "will be sent a GOAWAY. Clusters with single apiservers, or which don't use a load "
	  "balancer, should NOT enable this. Min is 0 (off), Max is .02 (1/50 requests); .001 "
	  "(1/1000) is a recommended starting point.", FX_IGNORED },
	{ "livez-grace-period", 0, FLAG_DURATION, CFG(generic.livez_grace_period_ns), SEC_GENERIC,
	  "This option represents the maximum amount of time it should take for apiserver to "
	  "complete its startup sequence and become live. From apiserver's start time to when "
	  "this amount of time has elapsed, /livez will assume that unfinished post-start "
	  "hooks will complete successfully and therefore return true.", FX_IGNORED },
	{ "max-mutating-requests-inflight", 0, FLAG_INT,
	  CFG(generic.max_mutating_requests_inflight),
	  SEC_GENERIC,
	  "This and --max-requests-inflight are summed to determine the server's total "
	  "concurrency limit (which must be positive) if --enable-priority-and-fairness is "
	  "true. Otherwise, this flag limits the maximum number of mutating requests in "
	  "flight, or a zero value disables the limit completely.", FX_USED },
	{ "max-requests-inflight", 0, FLAG_INT, CFG(generic.max_requests_inflight), SEC_GENERIC,
	  "This and --max-mutating-requests-inflight are summed to determine the server's "
	  "total concurrency limit (which must be positive) if --enable-priority-and-fairness "
	  "is true. Otherwise, this flag limits the maximum number of non-mutating requests in "
	  "flight, or a zero value disables the limit completely.", FX_USED },
	{ "min-compatibility-version", 0, FLAG_STRINGS, CFG(generic.min_compatibility_version),
	  SEC_GENERIC,
	  "The min version of control plane components the server should be compatible with.\n"
	  "Must be less or equal to the emulated-version. Version format could only be "
	  "major.minor, for example: '--min-compatibility-version=wardle=1.2,kube=1.31'.\n"
	  "Options are:\n"
	  "If the component is not specified, defaults to \"kube\"", FX_IGNORED },
	{ "min-request-timeout", 0, FLAG_INT, CFG(generic.min_request_timeout), SEC_GENERIC,
	  "An optional field indicating the minimum number of seconds a handler must keep a "
	  "request open before timing it out. Currently only honored by the watch request "
	  "handler, which picks a randomized value above this number as the connection "
	  "timeout, to spread out load.", FX_IGNORED },
	{ "request-timeout", 0, FLAG_DURATION, CFG(generic.request_timeout_ns), SEC_GENERIC,
	  "An optional field indicating the duration a handler must keep a request open before "
	  "timing it out. This is the default request timeout for requests but may be "
	  "overridden by flags such as --min-request-timeout for specific types of requests.",
	  FX_USED },
	{ "runtime-config-emulation-forward-compatible", 0, FLAG_BOOL,
	  CFG(generic.runtime_config_emulation_forward_compatible),
	  SEC_GENERIC,
	  "If true, APIs identified by group/version that are enabled in the --runtime-config "
	  "flag will be installed even if it is introduced after the emulation version. If "
	  "false, server would fail to start if any APIs identified by group/version that are "
	  "enabled in the --runtime-config flag are introduced after the emulation version. "
	  "Can only be set to true if the emulation version is lower than the binary version.",
	  FX_IGNORED },
	{ "shutdown-delay-duration", 0, FLAG_DURATION, CFG(generic.shutdown_delay_duration_ns),
	  SEC_GENERIC,
	  "Time to delay the termination. During that time the server keeps serving requests "
	  "normally. The endpoints /healthz and /livez will return success, but /readyz "
	  "immediately returns failure. Graceful termination starts after this delay has "
	  "elapsed. This can be used to allow load balancer to stop sending traffic to this "
	  "server.", FX_USED },
	{ "shutdown-send-retry-after", 0, FLAG_BOOL, CFG(generic.shutdown_send_retry_after),
	  SEC_GENERIC,
	  "If true the HTTP Server will continue listening until all non long running "
	  "request(s) in flight have been drained, during this window all incoming requests "
	  "will be rejected with a status code 429 and a 'Retry-After' response header, in "
	  "addition 'Connection: close' response header is set in order to tear down the TCP "
	  "connection when idle.", FX_USED },
	{ "shutdown-watch-termination-grace-period", 0, FLAG_DURATION,
	  CFG(generic.shutdown_watch_termination_grace_period_ns),
	  SEC_GENERIC,
	  "This option, if set, represents the maximum amount of grace period the apiserver "
	  "will wait for active watch request(s) to drain during the graceful server shutdown "
	  "window.", FX_IGNORED },
	{ "storage-initialization-timeout", 0, FLAG_DURATION,
	  CFG(generic.storage_initialization_timeout_ns),
	  SEC_GENERIC,
	  "Maximum amount of time to wait for storage initialization before declaring "
	  "apiserver ready. Defaults to 1m.", FX_IGNORED },
	{ "strict-transport-security-directives", 0, FLAG_STRINGS,
	  CFG(generic.strict_transport_security_directives),
	  SEC_GENERIC,
	  "List of directives for HSTS, comma separated. If this list is empty, then HSTS "
	  "directives will not be added. Example: 'max-age=31536000,includeSubDomains,preload'",
	  FX_USED },

	/* Kubelet client */
	{ "deprecated-kubelet-completely-insecure", 0, FLAG_BOOL, CFG(kubelet.completely_insecure),
	  SEC_KUBELET,
	  "DEPRECATED: Do not use any encryption, authorization, or authentication when "
	  "communicating with the Kubelet. This is rarely the right option, since it leaves "
	  "kubelet communication completely insecure.  If you encounter auth errors, make sure "
	  "you've enabled token webhook auth on the Kubelet, and if you're in a test cluster "
	  "with self-signed Kubelet certificates, consider using kubelet-insecure-tls instead.",
	  FX_TODO },

	/* Apiserver secure serving */
	{ "disable-http2-serving", 0, FLAG_BOOL, CFG(serving.disable_http2_serving), SEC_SERVING,
	  "If true, HTTP2 serving will be disabled [default=false]", FX_IGNORED },
	{ "http2-max-streams-per-connection", 0, FLAG_INT,
	  CFG(serving.http2_max_streams_per_connection),
	  SEC_SERVING,
	  "The limit that the server gives to clients for the maximum number of streams in an "
	  "HTTP/2 connection. Zero means to use golang's default.", FX_IGNORED },
	{ "permit-address-sharing", 0, FLAG_BOOL, CFG(serving.permit_address_sharing), SEC_SERVING,
	  "If true, SO_REUSEADDR will be used when binding the port. This allows binding to "
	  "wildcard IPs like 0.0.0.0 and specific IPs in parallel, and it avoids waiting for "
	  "the kernel to release sockets in TIME_WAIT state. [default=false]", FX_IGNORED },
	{ "permit-port-sharing", 0, FLAG_BOOL, CFG(serving.permit_port_sharing), SEC_SERVING,
	  "If true, SO_REUSEPORT will be used when binding the port, which allows more than "
	  "one instance to bind on the same address and port. [default=false]", FX_USED },
	{ "tls-cipher-suites", 0, FLAG_STRINGS, CFG(serving.tls_cipher_suites), SEC_SERVING,
	  "Comma-separated list of cipher suites for the server. If omitted, the default Go "
	  "cipher suites will be used.\n"
	  "Preferred values: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, "
	  "TLS_CHACHA20_POLY1305_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "
	  "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, "
	  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305, "
	  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "
	  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "
	  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305, "
	  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256.\n"
	  "Insecure values: TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, "
	  "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA, TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, "
	  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, TLS_ECDHE_RSA_WITH_RC4_128_SHA, "
	  "TLS_RSA_WITH_3DES_EDE_CBC_SHA, TLS_RSA_WITH_AES_128_CBC_SHA, "
	  "TLS_RSA_WITH_AES_128_CBC_SHA256, TLS_RSA_WITH_AES_128_GCM_SHA256, "
	  "TLS_RSA_WITH_AES_256_CBC_SHA, TLS_RSA_WITH_AES_256_GCM_SHA384, "
	  "TLS_RSA_WITH_RC4_128_SHA.", FX_USED },
	{ "tls-curve-preferences", 0, FLAG_INT32S, CFG(serving.tls_curve_preferences), SEC_SERVING,
	  "Comma-separated list of numeric Go crypto/tls CurveID values, as the allowed key "
	  "exchange mechanisms for the server. The supported values depend on the Go version "
	  "used. See https://pkg.go.dev/crypto/tls#CurveID for values supported for each Go "
	  "version. The order of the list is ignored, and key exchange mechanisms are chosen "
	  "by Go from this list using an internal preference order. If omitted, the default Go "
	  "curves will be used.", FX_USED },
	{ "tls-min-version", 0, FLAG_STRING, CFG(serving.tls_min_version), SEC_SERVING,
	  "Minimum TLS version supported. Possible values: VersionTLS10, VersionTLS11, "
	  "VersionTLS12, VersionTLS13", FX_USED },
	{ "tls-sni-cert-key", 0, FLAG_CERTKEY, CFG(serving.tls_sni_cert_key), SEC_SERVING,
	  "A pair of x509 certificate and private key file paths, optionally suffixed with a "
	  "list of domain patterns which are fully qualified domain names, possibly with "
	  "prefixed wildcard segments. The domain patterns also allow IP addresses, but IPs "
	  "should only be used if the apiserver has visibility to the IP address requested by "
	  "a client. If no domain patterns are provided, the names of the certificate are "
	  "extracted. Non-wildcard matches trump over wildcard matches, explicit domain "
	  "patterns trump over extracted names. For multiple key/certificate pairs, use the "
	  "--tls-sni-cert-key multiple times. Examples: \"example.crt,example.key\" or "
	  "\"foo.crt,foo.key:*.foo.com,foo.com\".", FX_USED },

	/* Apiserver authentication (server/authn_trust.c, authn_token.c) */
	{ "authentication-kubeconfig", 0, FLAG_STRING, CFG(authn.kubeconfig),
	  SEC_AUTHN,
	  "kubeconfig file pointing at the 'core' kubernetes server with enough rights to "
	  "create tokenreviews.authentication.k8s.io.", FX_USED },
	{ "authentication-skip-lookup", 0, FLAG_BOOL, CFG(authn.skip_lookup), SEC_AUTHN,
	  "If false, the authentication-kubeconfig will be used to lookup missing "
	  "authentication configuration from the cluster.", FX_USED },
	{ "authentication-token-webhook-cache-ttl", 0, FLAG_DURATION,
	  CFG(authn.token_cache_ttl_ns),
	  SEC_AUTHN,
	  "The duration to cache responses from the webhook token authenticator.", FX_USED },
	{ "authentication-tolerate-lookup-failure", 0, FLAG_BOOL,
	  CFG(authn.tolerate_lookup_failure),
	  SEC_AUTHN,
	  "If true, failures to look up missing authentication configuration from the cluster "
	  "are not considered fatal. Note that this can result in authentication that treats "
	  "all requests as anonymous.", FX_USED },
	{ "requestheader-uid-headers", 0, FLAG_STRINGS, CFG(authn.requestheader_uid_headers),
	  SEC_AUTHN,
	  "List of request headers to inspect for UIDs. X-Remote-Uid is suggested. Requires "
	  "the RemoteRequestHeaderUID feature to be enabled.", FX_USED },

	/* Apiserver authorization: all four above (authz, issue 12 item 2) */

	/* Apiserver audit log */
	{ "audit-log-batch-buffer-size", 0, FLAG_INT, CFG(audit.log_batch_buffer_size), SEC_AUDIT,
	  "The size of the buffer to store events before batching and writing. Only used in "
	  "batch mode.", FX_IGNORED },
	{ "audit-log-batch-max-size", 0, FLAG_INT, CFG(audit.log_batch_max_size), SEC_AUDIT,
	  "The maximum size of a batch. Only used in batch mode.", FX_IGNORED },
	{ "audit-log-batch-max-wait", 0, FLAG_DURATION, CFG(audit.log_batch_max_wait_ns), SEC_AUDIT,
	  "The amount of time to wait before force writing the batch that hadn't reached the "
	  "max size. Only used in batch mode.", FX_IGNORED },
	{ "audit-log-batch-throttle-burst", 0, FLAG_INT, CFG(audit.log_batch_throttle_burst),
	  SEC_AUDIT,
	  "Maximum number of requests sent at the same moment if ThrottleQPS was not utilized "
	  "before. Only used in batch mode.", FX_IGNORED },
	{ "audit-log-batch-throttle-enable", 0, FLAG_BOOL, CFG(audit.log_batch_throttle_enable),
	  SEC_AUDIT,
	  "Whether batching throttling is enabled. Only used in batch mode.", FX_IGNORED },
	{ "audit-log-batch-throttle-qps", 0, FLAG_FLOAT32, CFG(audit.log_batch_throttle_qps),
	  SEC_AUDIT,
	  "Maximum average number of batches per second. Only used in batch mode.", FX_IGNORED },
	{ "audit-log-compress", 0, FLAG_BOOL, CFG(audit.log_compress), SEC_AUDIT,
	  "If set, the rotated log files will be compressed using gzip.", FX_TODO },
	{ "audit-log-format", 0, FLAG_STRING, CFG(audit.log_format), SEC_AUDIT,
	  "Format of saved audits. \"legacy\" indicates 1-line text format for each event. "
	  "\"json\" indicates structured json format. Known formats are legacy,json.", FX_USED },
	{ "audit-log-maxage", 0, FLAG_INT, CFG(audit.log_maxage), SEC_AUDIT,
	  "The maximum number of days to retain old audit log files based on the timestamp "
	  "encoded in their filename. Setting a value of 0 means old audit log files are not "
	  "removed based on age.", FX_USED },
	{ "audit-log-maxbackup", 0, FLAG_INT, CFG(audit.log_maxbackup), SEC_AUDIT,
	  "The maximum number of old audit log files to retain. Setting a value of 0 will mean "
	  "there's no restriction on the number of files.", FX_USED },
	{ "audit-log-maxsize", 0, FLAG_INT, CFG(audit.log_maxsize), SEC_AUDIT,
	  "The maximum size in megabytes of the audit log file before it gets rotated. Setting "
	  "to 0 disables rotation (not recommended).", FX_USED },
	{ "audit-log-mode", 0, FLAG_STRING, CFG(audit.log_mode), SEC_AUDIT,
	  "Strategy for sending audit events. Blocking indicates sending events should block "
	  "server responses. Batch causes the backend to buffer and write events "
	  "asynchronously. Known modes are batch,blocking,blocking-strict.", FX_USED },
	{ "audit-log-path", 0, FLAG_STRING, CFG(audit.log_path), SEC_AUDIT,
	  "If set, all requests coming to the apiserver will be logged to this file.  '-' "
	  "means standard out.", FX_USED },
	{ "audit-log-truncate-enabled", 0, FLAG_BOOL, CFG(audit.log_truncate_enabled), SEC_AUDIT,
	  "Whether event and batch truncating is enabled.", FX_TODO },
	{ "audit-log-truncate-max-batch-size", 0, FLAG_INT, CFG(audit.log_truncate_max_batch_size),
	  SEC_AUDIT,
	  "Maximum size of the batch sent to the underlying backend. Actual serialized size "
	  "can be several hundreds of bytes greater. If a batch exceeds this limit, it is "
	  "split into several batches of smaller size.", FX_TODO },
	{ "audit-log-truncate-max-event-size", 0, FLAG_INT, CFG(audit.log_truncate_max_event_size),
	  SEC_AUDIT,
	  "Maximum size of the audit event sent to the underlying backend. If the size of an "
	  "event is greater than this number, first request and response are removed, and if "
	  "this doesn't reduce the size enough, event is discarded.", FX_TODO },
	{ "audit-log-version", 0, FLAG_STRING, CFG(audit.log_version), SEC_AUDIT,
	  "API group and version used for serializing audit events written to log.", FX_USED },
	{ "audit-policy-file", 0, FLAG_STRING, CFG(audit.policy_file), SEC_AUDIT,
	  "Path to the file that defines the audit policy configuration.", FX_USED },
	{ "audit-webhook-batch-buffer-size", 0, FLAG_INT, CFG(audit.webhook_batch_buffer_size),
	  SEC_AUDIT,
	  "The size of the buffer to store events before batching and writing. Only used in "
	  "batch mode.", FX_TODO },
	{ "audit-webhook-batch-max-size", 0, FLAG_INT, CFG(audit.webhook_batch_max_size), SEC_AUDIT,
	  "The maximum size of a batch. Only used in batch mode.", FX_TODO },
	{ "audit-webhook-batch-max-wait", 0, FLAG_DURATION, CFG(audit.webhook_batch_max_wait_ns),
	  SEC_AUDIT,
	  "The amount of time to wait before force writing the batch that hadn't reached the "
	  "max size. Only used in batch mode.", FX_TODO },
	{ "audit-webhook-batch-throttle-burst", 0, FLAG_INT,
	  CFG(audit.webhook_batch_throttle_burst),
	  SEC_AUDIT,
	  "Maximum number of requests sent at the same moment if ThrottleQPS was not utilized "
	  "before. Only used in batch mode.", FX_TODO },
	{ "audit-webhook-batch-throttle-enable", 0, FLAG_BOOL,
	  CFG(audit.webhook_batch_throttle_enable),
	  SEC_AUDIT,
	  "Whether batching throttling is enabled. Only used in batch mode.", FX_TODO },
	{ "audit-webhook-batch-throttle-qps", 0, FLAG_FLOAT32,
	  CFG(audit.webhook_batch_throttle_qps),
	  SEC_AUDIT,
	  "Maximum average number of batches per second. Only used in batch mode.", FX_TODO },
	{ "audit-webhook-config-file", 0, FLAG_STRING, CFG(audit.webhook_config_file), SEC_AUDIT,
	  "Path to a kubeconfig formatted file that defines the audit webhook configuration.",
	  FX_TODO },
	{ "audit-webhook-initial-backoff", 0, FLAG_DURATION, CFG(audit.webhook_initial_backoff_ns),
	  SEC_AUDIT,
	  "The amount of time to wait before retrying the first failed request.", FX_TODO },
	{ "audit-webhook-mode", 0, FLAG_STRING, CFG(audit.webhook_mode), SEC_AUDIT,
	  "Strategy for sending audit events. Blocking indicates sending events should block "
	  "server responses. Batch causes the backend to buffer and write events "
	  "asynchronously. Known modes are batch,blocking,blocking-strict.", FX_TODO },
	{ "audit-webhook-truncate-enabled", 0, FLAG_BOOL, CFG(audit.webhook_truncate_enabled),
	  SEC_AUDIT,
	  "Whether event and batch truncating is enabled.", FX_TODO },
	{ "audit-webhook-truncate-max-batch-size", 0, FLAG_INT,
	  CFG(audit.webhook_truncate_max_batch_size),
	  SEC_AUDIT,
	  "Maximum size of the batch sent to the underlying backend. Actual serialized size "
	  "can be several hundreds of bytes greater. If a batch exceeds this limit, it is "
	  "split into several batches of smaller size.", FX_TODO },
	{ "audit-webhook-truncate-max-event-size", 0, FLAG_INT,
	  CFG(audit.webhook_truncate_max_event_size),
	  SEC_AUDIT,
	  "Maximum size of the audit event sent to the underlying backend. If the size of an "
	  "event is greater than this number, first request and response are removed, and if "
	  "this doesn't reduce the size enough, event is discarded.", FX_TODO },
	{ "audit-webhook-version", 0, FLAG_STRING, CFG(audit.webhook_version), SEC_AUDIT,
	  "API group and version used for serializing audit events written to webhook.", FX_TODO },

	/* Features */
	{ "contention-profiling", 0, FLAG_BOOL, CFG(generic.contention_profiling), SEC_FEATURES,
	  "Enable block profiling, if profiling is enabled", FX_IGNORED },
	{ "debug-socket-path", 0, FLAG_STRING, CFG(generic.debug_socket_path), SEC_FEATURES,
	  "Use an unprotected (no authn/authz) unix-domain socket for profiling with the given "
	  "path", FX_IGNORED },
	{ "enable-priority-and-fairness", 0, FLAG_BOOL, CFG(generic.enable_priority_and_fairness),
	  SEC_FEATURES,
	  "If true, replace the max-in-flight handler with an enhanced one that queues and "
	  "dispatches with priority and fairness", FX_IGNORED },
	{ "profiling", 0, FLAG_BOOL, CFG(generic.profiling), SEC_FEATURES,
	  "Enable profiling via web interface host:port/debug/pprof/", FX_IGNORED },

	/* Logging */
	{ "log-flush-frequency", 0, FLAG_DURATION, CFG(logging.flush_frequency_ns), SEC_LOG,
	  "Maximum number of seconds between log flushes", FX_IGNORED },
	{ "log-json-info-buffer-size", 0, FLAG_QUANTITY, CFG(logging.json_info_buffer_size),
	  SEC_LOG,
	  "[Alpha] In JSON format with split output streams, the info messages can be buffered "
	  "for a while to increase performance. The default value of zero bytes disables "
	  "buffering. The size can be specified as number of bytes (512), multiples of 1000 "
	  "(1K), multiples of 1024 (2Ki), or powers of those (3M, 4G, 5Mi, 6Gi). Enable the "
	  "LoggingAlphaOptions feature gate to use this.", FX_IGNORED },
	{ "log-json-split-stream", 0, FLAG_BOOL, CFG(logging.json_split_stream), SEC_LOG,
	  "[Alpha] In JSON format, write error messages to stderr and info messages to stdout. "
	  "The default is to write a single stream to stdout. Enable the LoggingAlphaOptions "
	  "feature gate to use this.", FX_IGNORED },
	{ "log-text-info-buffer-size", 0, FLAG_QUANTITY, CFG(logging.text_info_buffer_size),
	  SEC_LOG,
	  "[Alpha] In text format with split output streams, the info messages can be buffered "
	  "for a while to increase performance. The default value of zero bytes disables "
	  "buffering. The size can be specified as number of bytes (512), multiples of 1000 "
	  "(1K), multiples of 1024 (2Ki), or powers of those (3M, 4G, 5Mi, 6Gi). Enable the "
	  "LoggingAlphaOptions feature gate to use this.", FX_IGNORED },
	{ "log-text-split-stream", 0, FLAG_BOOL, CFG(logging.text_split_stream), SEC_LOG,
	  "[Alpha] In text format, write error messages to stderr and info messages to stdout. "
	  "The default is to write a single stream to stdout. Enable the LoggingAlphaOptions "
	  "feature gate to use this.", FX_IGNORED },
	{ "logging-format", 0, FLAG_STRING, CFG(logging.format), SEC_LOG,
	  "Sets the log format. Permitted formats: \"json\" (gated by LoggingBetaOptions), "
	  "\"text\"." },
	{ "vmodule", 0, FLAG_VMODULE, CFG(logging.vmodule), SEC_LOG,
	  "comma-separated list of pattern=N settings for file-filtered logging (only works "
	  "for text log format)" },
	/* ==== end of issue 12 item 3 block ==== */
};

const size_t server__flag_ndefs = sizeof(server__flag_defs) / sizeof(server__flag_defs[0]);
