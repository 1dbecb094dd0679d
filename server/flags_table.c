/*
 * flags_table.c - every flag metrics-apiserver accepts, with metrics-server's
 * names and help texts, grouped in its help sections and sorted by name
 * within a section (pflag prints them in that order).
 */
#include "server/flags_table.h"

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
	  "The IP address on which to listen for the --secure-port port. If blank or an "
	  "unspecified address (0.0.0.0 or ::), all interfaces and IP address families will be "
	  "used." },
	{ "cert-dir", 0, FLAG_STRING, CFG(serving.cert_dir), SEC_SERVING,
	  "The directory where the TLS certs are located. If --tls-cert-file and "
	  "--tls-private-key-file are provided, this flag will be ignored." },
	{ "secure-port", 0, FLAG_INT, CFG(serving.secure_port), SEC_SERVING,
	  "The port on which to serve HTTPS with authentication and authorization." },
	{ "tls-cert-file", 0, FLAG_STRING, CFG(serving.tls_cert_file), SEC_SERVING,
	  "File containing the default x509 Certificate for HTTPS. (CA cert, if any, concatenated "
	  "after server cert). If --tls-cert-file and --tls-private-key-file are not provided, a "
	  "self-signed certificate and key are generated for the public address and saved to the "
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
};

const size_t server__flag_ndefs = sizeof(server__flag_defs) / sizeof(server__flag_defs[0]);
