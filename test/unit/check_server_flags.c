/* check_server_flags.c - server/flags*.c: defaults, both syntaxes, pflag's
 * error wording, metrics-server's validation messages, the --help text. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpa/hpa.h"
#include "server/server.h"
#include "test/unit/server_flags_fixture.h"
#include "test/unit/unit.h"

/* Each parse adds to cfg as it is (tests build up a command line). */
#define PARSE(...) parse_args(false, __VA_ARGS__, (const char *)NULL)

START_TEST(test_defaults)
{
	const struct server_strlist *types = &cfg.kubelet.preferred_address_types;

	/* metrics-server's binary defaults (its manifests pass 15s and 10250) */
	ck_assert_int_eq(cfg.metric_resolution_ns, 60 * NS_PER_SEC);
	ck_assert_int_eq(cfg.kubelet.request_timeout_ns, 10 * NS_PER_SEC);
	ck_assert_int_eq(cfg.kubelet.port, 10250);
	ck_assert_int_eq(cfg.serving.secure_port, 443);
	ck_assert_str_eq(cfg.serving.bind_address, "0.0.0.0");
	ck_assert_str_eq(cfg.serving.cert_dir, "apiserver.local.config/certificates");
	ck_assert_uint_eq(types->n, 5);
	ck_assert_str_eq(types->items[0], "Hostname");
	ck_assert_str_eq(types->items[1], "InternalDNS");
	ck_assert_str_eq(types->items[2], "InternalIP");
	ck_assert_str_eq(types->items[3], "ExternalDNS");
	ck_assert_str_eq(types->items[4], "ExternalIP");
	ck_assert_str_eq(cfg.authn.requestheader_username_headers.items[0], "x-remote-user");
	ck_assert_str_eq(cfg.authn.requestheader_group_headers.items[0], "x-remote-group");
	ck_assert_str_eq(cfg.authn.requestheader_extra_headers_prefix.items[0], "x-remote-extra-");
	ck_assert_uint_eq(cfg.authz.always_allow_paths.n, 3);
	ck_assert_str_eq(cfg.authz.always_allow_paths.items[2], "/livez");
	ck_assert_ptr_null(cfg.authz.kubeconfig);
	ck_assert_int_eq(cfg.authz.authorized_ttl_ns, 10 * NS_PER_SEC);
	ck_assert_int_eq(cfg.authz.unauthorized_ttl_ns, 10 * NS_PER_SEC);
	ck_assert_ptr_null(cfg.kubeconfig);
	ck_assert(!cfg.kubelet.insecure_tls && !cfg.kubelet.use_node_status_port);
	ck_assert_int_eq(cfg.verbosity, 0);
	ck_assert_int_eq(server_config_validate(&cfg, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_both_syntaxes)
{
	ck_assert_int_eq(PARSE("--kubelet-port=4443", "--secure-port", "8443", "--kubeconfig",
			       "/k.yaml", "--metric-resolution=30s", "--kubelet-request-timeout",
			       "1m30s", "--bind-address=127.0.0.1", "-v", "4"), 0);
	ck_assert_int_eq(cfg.kubelet.port, 4443);
	ck_assert_int_eq(cfg.serving.secure_port, 8443);
	ck_assert_str_eq(cfg.kubeconfig, "/k.yaml");
	ck_assert_int_eq(cfg.metric_resolution_ns, 30 * NS_PER_SEC);
	ck_assert_int_eq(cfg.kubelet.request_timeout_ns, 90 * NS_PER_SEC);
	ck_assert_str_eq(cfg.serving.bind_address, "127.0.0.1");
	ck_assert_int_eq(cfg.verbosity, 4);
	ck_assert_int_eq(PARSE("-l", "a=b", "--v=6"), 0);
	ck_assert_str_eq(cfg.kubelet.node_selector, "a=b");
	ck_assert_int_eq(cfg.verbosity, 6);
	ck_assert_int_eq(PARSE("-lx!=y", "-v2"), 0);
	ck_assert_str_eq(cfg.kubelet.node_selector, "x!=y");
	ck_assert_int_eq(cfg.verbosity, 2);
	ck_assert_int_eq(PARSE("-l=k==v", "--node-selector=last=1"), 0);
	ck_assert_str_eq(cfg.kubelet.node_selector, "last=1");
	ck_assert_int_eq(PARSE("--authorization-kubeconfig", "/a.yaml",
			       "--authorization-webhook-cache-authorized-ttl=1m",
			       "--authorization-webhook-cache-unauthorized-ttl", "0s"), 0);
	ck_assert_str_eq(cfg.authz.kubeconfig, "/a.yaml");
	ck_assert_int_eq(cfg.authz.authorized_ttl_ns, 60 * NS_PER_SEC);
	ck_assert_int_eq(cfg.authz.unauthorized_ttl_ns, 0);
}
END_TEST

START_TEST(test_bools)
{
	ck_assert_int_eq(PARSE("--kubelet-insecure-tls", "--kubelet-use-node-status-port=true"), 0);
	ck_assert(cfg.kubelet.insecure_tls);
	ck_assert(cfg.kubelet.use_node_status_port);
	ck_assert_int_eq(PARSE("--kubelet-insecure-tls=false", "--kubelet-use-node-status-port=F"),
			 0);
	ck_assert(!cfg.kubelet.insecure_tls);
	ck_assert(!cfg.kubelet.use_node_status_port);
	/* A bool never takes the next argument: "false" is a stray word. */
	assert_parse_error(PARSE("--kubelet-insecure-tls", "false"),
			   "unknown command \"false\" for \"metrics-apiserver\"");
	assert_parse_error(PARSE("--version=maybe"),
			   "invalid argument \"maybe\" for \"--version\" flag: "
			   "strconv.ParseBool: parsing \"maybe\": invalid syntax");
	ck_assert_int_eq(PARSE("--version"), 0);
	ck_assert(cfg.show_version);
	ck_assert_int_eq(PARSE("-h"), 0);
	ck_assert(cfg.show_help);
}
END_TEST

START_TEST(test_lists)
{
	const struct server_strlist *t = &cfg.kubelet.preferred_address_types;

	/* The first use replaces the default, later uses append (pflag). */
	ck_assert_int_eq(PARSE("--kubelet-preferred-address-types=InternalIP,ExternalIP",
			       "--kubelet-preferred-address-types", "Hostname"), 0);
	ck_assert_uint_eq(t->n, 3);
	ck_assert_str_eq(t->items[0], "InternalIP");
	ck_assert_str_eq(t->items[1], "ExternalIP");
	ck_assert_str_eq(t->items[2], "Hostname");
	ck_assert_int_eq(PARSE("--authorization-always-allow-paths=/metrics,/healthz*",
			       "--requestheader-allowed-names="), 0);
	ck_assert_uint_eq(cfg.authz.always_allow_paths.n, 2);
	ck_assert_str_eq(cfg.authz.always_allow_paths.items[0], "/metrics");
	ck_assert_uint_eq(cfg.authn.requestheader_allowed_names.n, 0);
}
END_TEST

START_TEST(test_unknown_and_missing)
{
	assert_parse_error(PARSE("--foo"), "unknown flag: --foo");
	assert_parse_error(PARSE("--foo=bar"), "unknown flag: --foo");
	assert_parse_error(PARSE("-x"), "unknown shorthand flag: 'x' in -x");
	assert_parse_error(PARSE("--kubeconfig"), "flag needs an argument: --kubeconfig");
	assert_parse_error(PARSE("-l"), "flag needs an argument: 'l' in -l");
	assert_parse_error(PARSE("---secure-port=1"), "bad flag syntax: ---secure-port=1");
	assert_parse_error(PARSE("serve"), "unknown command \"serve\" for \"metrics-apiserver\"");
	assert_parse_error(PARSE("--", "x"), "unknown command \"x\" for \"metrics-apiserver\"");
	ck_assert_int_eq(PARSE("--"), 0);
}
END_TEST

START_TEST(test_bad_values)
{
	assert_parse_error(PARSE("--kubelet-port=abc"),
			   "invalid argument \"abc\" for \"--kubelet-port\" flag: "
			   "strconv.ParseInt: parsing \"abc\": invalid syntax");
	assert_parse_error(PARSE("--secure-port", "99999999999999999999"),
			   "invalid argument \"99999999999999999999\" for \"--secure-port\" flag: "
			   "strconv.ParseInt: parsing \"99999999999999999999\": value out of range");
	assert_parse_error(PARSE("--kubelet-port=12x"),
			   "invalid argument \"12x\" for \"--kubelet-port\" flag: "
			   "strconv.ParseInt: parsing \"12x\": invalid syntax");
	assert_parse_error(PARSE("--metric-resolution=10"),
			   "invalid argument \"10\" for \"--metric-resolution\" flag: "
			   "time: missing unit in duration \"10\"");
	assert_parse_error(PARSE("--kubelet-request-timeout=soon"),
			   "invalid argument \"soon\" for \"--kubelet-request-timeout\" flag: "
			   "time: invalid duration \"soon\"");
	/* time.ParseDuration names a unit it does not know */
	assert_parse_error(PARSE("--kubelet-request-timeout=1m5sec"),
			   "invalid argument \"1m5sec\" for \"--kubelet-request-timeout\" flag: "
			   "time: unknown unit \"sec\" in duration \"1m5sec\"");
	assert_parse_error(PARSE("--kubelet-request-timeout=1.5d"),
			   "invalid argument \"1.5d\" for \"--kubelet-request-timeout\" flag: "
			   "time: unknown unit \"d\" in duration \"1.5d\"");
	assert_parse_error(PARSE("--bind-address=localhost"),
			   "invalid argument \"localhost\" for \"--bind-address\" flag: "
			   "failed to parse IP: \"localhost\"");
	assert_parse_error(PARSE("-v", "-1"),
			   "invalid argument \"-1\" for \"-v, --v\" flag: "
			   "strconv.ParseUint: parsing \"-1\": invalid syntax");
	ck_assert_int_eq(PARSE("--bind-address=::1", "--kubelet-port=0x10"), 0);
	ck_assert_str_eq(cfg.serving.bind_address, "::1");
	ck_assert_int_eq(cfg.kubelet.port, 16);
}
END_TEST

START_TEST(test_validation_messages)
{
	ck_assert_int_eq(PARSE("--metric-resolution=5s"), 0);
	assert_invalid("metric-resolution should be a time duration at least 10s, but value 5s "
		       "provided");
	ck_assert_int_eq(PARSE("--metric-resolution=10s", "--kubelet-request-timeout=10s"), 0);
	assert_invalid("metric-resolution should be larger than kubelet-request-timeout, but "
		       "metric-resolution value 10s kubelet-request-timeout value 10s provided");
	ck_assert_int_eq(PARSE("--kubelet-request-timeout=9s"), 0);
	ck_assert_int_eq(server_config_validate(&cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(PARSE("--kubelet-request-timeout=0s"), 0);
	assert_invalid("kubelet-request-timeout should be positive");
	ck_assert_int_eq(PARSE("--kubelet-request-timeout=1s", "--kubelet-client-key=/k"), 0);
	assert_invalid("need both --kubelet-client-key and --kubelet-client-certificate");
	ck_assert_int_eq(PARSE("--kubelet-client-certificate=/c"), 0);
	ck_assert_int_eq(server_config_validate(&cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(PARSE("--kubelet-certificate-authority=/ca", "--kubelet-insecure-tls"), 0);
	assert_invalid("cannot use both --kubelet-certificate-authority and --kubelet-insecure-tls");
}
END_TEST

/* --leader-elect*: kube-controller-manager's defaults (election off here),
 * checked only when enabled, with client-go's texts. */
START_TEST(test_leader_election_flags)
{
	ck_assert(!cfg.leader.elect);
	ck_assert_int_eq(cfg.leader.lease_duration_ns, 15 * NS_PER_SEC);
	ck_assert_int_eq(cfg.leader.renew_deadline_ns, 10 * NS_PER_SEC);
	ck_assert_int_eq(cfg.leader.retry_period_ns, 2 * NS_PER_SEC);
	ck_assert_str_eq(cfg.leader.resource_name, "metrics-apiserver");
	ck_assert_str_eq(cfg.leader.resource_namespace, "kube-system");
	ck_assert_int_eq(PARSE("--leader-elect-renew-deadline=20s"), 0);
	ck_assert_int_eq(server_config_validate(&cfg, err, sizeof(err)), 0); /* not enabled */
	ck_assert_int_eq(PARSE("--leader-elect"), 0);
	ck_assert(cfg.leader.elect);
	assert_invalid("leaseDuration must be greater than renewDeadline");
	ck_assert_int_eq(PARSE("--leader-elect-renew-deadline", "2s"), 0);
	assert_invalid("renewDeadline must be greater than retryPeriod*JitterFactor");
	ck_assert_int_eq(PARSE("--leader-elect-retry-period=-1s"), 0);
	assert_invalid("retryPeriod must be greater than zero");
	ck_assert_int_eq(PARSE("--leader-elect-retry-period=1s", "--leader-elect-resource-name="),
			 0);
	assert_invalid("invalid leader election resource name \"\": must be a lowercase RFC "
		       "1123 subdomain");
	ck_assert_int_eq(PARSE("--leader-elect-resource-name=hpa",
			       "--leader-elect-resource-namespace=ops", "--leader-elect=false"), 0);
	ck_assert(!cfg.leader.elect);
	ck_assert_str_eq(cfg.leader.resource_name, "hpa");
	ck_assert_int_eq(server_config_validate(&cfg, err, sizeof(err)), 0);
	assert_parse_error(PARSE("--leader-elect-lease-duration=15"),
			   "invalid argument \"15\" for \"--leader-elect-lease-duration\" flag: "
			   "time: missing unit in duration \"15\"");
}
END_TEST

START_TEST(test_validation_ports_and_tls)
{
	ck_assert_int_eq(PARSE("--secure-port=0"), 0);
	assert_invalid("--secure-port 0 must be between 1 and 65535, inclusive. It cannot be "
		       "turned off with 0");
	ck_assert_int_eq(PARSE("--secure-port=443", "--kubelet-port=70000"), 0);
	assert_invalid("--kubelet-port 70000 must be between 1 and 65535, inclusive");
	ck_assert_int_eq(PARSE("--kubelet-port=10250", "--tls-cert-file=/c.crt"), 0);
	assert_invalid("need both --tls-cert-file and --tls-private-key-file");
	ck_assert_int_eq(PARSE("--tls-private-key-file=/c.key"), 0);
	ck_assert_int_eq(server_config_validate(&cfg, err, sizeof(err)), 0);
}
END_TEST

static char *usage_text(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	server_flags_usage(f);
	fclose(f);
	return text;
}

START_TEST(test_help)
{
	char *text = usage_text();

	ck_assert_ptr_nonnull(strstr(text, "Usage:\n  metrics-apiserver [flags]\n"));
	ck_assert_ptr_nonnull(strstr(text,
		"\nMetrics server flags:\n\n"
		"      --kubeconfig string            The path to the kubeconfig used to connect to "
		"the Kubernetes API server and the Kubelets (defaults to in-cluster config)\n"
		"      --metric-resolution duration   The resolution at which metrics-server will "
		"retain metrics, must set value at least 10s. (default 1m0s)\n"
		"      --version                      Show version\n"));
	ck_assert_ptr_nonnull(strstr(text, "  -l, --node-selector string                      "
					   "Selector (label query)"));
	ck_assert_ptr_nonnull(strstr(text, "(default [Hostname,InternalDNS,InternalIP,"
					   "ExternalDNS,ExternalIP])\n"));
	ck_assert_ptr_nonnull(strstr(text, "      --kubelet-port int                          "
					   "The port to use to connect to Kubelets. (default 10250)\n"));
	ck_assert_ptr_nonnull(strstr(text, "(default \"apiserver.local.config/certificates\")\n"));
	ck_assert_ptr_nonnull(strstr(text, "(default 0.0.0.0)\n"));
	ck_assert_ptr_nonnull(strstr(text, "(default [/healthz,/readyz,/livez])\n"));
	ck_assert_ptr_nonnull(strstr(text, "(default [x-remote-extra-])\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nLogging flags:\n\n      --log-flush-frequency"));
	ck_assert_ptr_nonnull(strstr(text, "\n  -v, --v Level                              number for "
					   "the log level verbosity\n"));
	ck_assert_ptr_null(strstr(text, "(default false)"));
	free(text);
}
END_TEST

START_TEST(test_hpa_flags)
{
	struct hpaloop_options o;
	char *text;

	/* defaults: upstream's controller values, HPAScaleToZero on; every
	 * field set, the in-process metrics API none (the server adds it) */
	memset(&o, 0xa5, sizeof(o));
	ck_assert_int_eq(hpaloop_flags_options(&cfg.hpa, &o, err, sizeof(err)), 0);
	ck_assert_ptr_null(o.local.get);
	ck_assert_ptr_null(o.local.ud);
	ck_assert_int_eq(o.mode, HPALOOP_MODE_ANNOTATED);
	ck_assert_int_eq(o.sync_period_ns, 15 * NS_PER_SEC);
	ck_assert(o.algo.tolerance == 0.1);
	ck_assert_int_eq(o.algo.downscale_window_ns, 300 * NS_PER_SEC);
	ck_assert_int_eq(o.algo.cpu_init_period_ns, 300 * NS_PER_SEC);
	ck_assert_int_eq(o.algo.readiness_delay_ns, 30 * NS_PER_SEC);
	ck_assert(o.algo.gate_scale_to_zero);
	ck_assert_int_eq(PARSE("--hpa=all", "--hpa-sync-period", "5s", "--hpa-tolerance=0.05",
			       "--hpa-downscale-stabilization=1m", "--hpa-cpu-initialization-period",
			       "2m", "--hpa-initial-readiness-delay=10s",
			       "--feature-gates=HPAScaleToZero=false",
			       "--feature-gates", "HPAConfigurableTolerance=false"),
			 0);
	ck_assert_int_eq(server_config_validate(&cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(hpaloop_flags_options(&cfg.hpa, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.mode, HPALOOP_MODE_ALL);
	ck_assert_int_eq(o.sync_period_ns, 5 * NS_PER_SEC);
	ck_assert(o.algo.tolerance == 0.05);
	ck_assert_int_eq(o.algo.downscale_window_ns, 60 * NS_PER_SEC);
	ck_assert_int_eq(o.algo.cpu_init_period_ns, 120 * NS_PER_SEC);
	ck_assert_int_eq(o.algo.readiness_delay_ns, 10 * NS_PER_SEC);
	ck_assert(!o.algo.gate_scale_to_zero);
	ck_assert(!o.algo.gate_configurable_tolerance);
	assert_parse_error(PARSE("--hpa-tolerance=x"),
			   "invalid argument \"x\" for \"--hpa-tolerance\" flag: "
			   "strconv.ParseFloat: parsing \"x\": invalid syntax");
	ck_assert_int_eq(PARSE("--hpa=some"), 0);
	assert_invalid("--hpa must be one of off, annotated, all, but value \"some\" provided");
	ck_assert_int_eq(PARSE("--hpa=off", "--hpa-sync-period=0s"), 0);
	assert_invalid("--hpa-sync-period should be positive");
	ck_assert_int_eq(PARSE("--hpa-sync-period=1s", "--hpa-tolerance=-0.5"), 0);
	assert_invalid("--hpa-tolerance should not be negative");
	ck_assert_int_eq(PARSE("--hpa-tolerance=0", "--feature-gates=Nope=true"), 0);
	assert_invalid("invalid argument for \"--feature-gates\" flag: unrecognized feature gate: "
		       "Nope");
	text = usage_text();
	ck_assert_ptr_nonnull(strstr(text, "\nHorizontal pod autoscaler flags:\n\n"));
	ck_assert_ptr_nonnull(strstr(text, "      --hpa string  "));
	ck_assert_ptr_nonnull(strstr(text, "or all. (default \"annotated\")\n"));
	ck_assert_ptr_nonnull(strstr(text, "      --hpa-tolerance float  "));
	ck_assert_ptr_nonnull(strstr(text, "to consider scaling. (default 0.1)\n"));
	ck_assert_ptr_nonnull(strstr(text, "      --feature-gates mapStringBool  "));
	ck_assert_ptr_nonnull(strstr(text, "recommendation it made during that period. "
					   "(default 5m0s)\n"));
	free(text);
}
END_TEST

/* --config and --max-series (issue 11: application targets). */
START_TEST(test_custom_metrics_flags)
{
	char *text;

	ck_assert_ptr_null(cfg.config_file); /* no --config: no application scraping */
	ck_assert_int_eq(cfg.max_series, 2000000);
	ck_assert_int_eq(PARSE("--config", "/etc/adapter/config.yaml", "--max-series=0"), 0);
	ck_assert_str_eq(cfg.config_file, "/etc/adapter/config.yaml");
	ck_assert_int_eq(cfg.max_series, 0);
	ck_assert_int_eq(server_config_validate(&cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(PARSE("--config=/c2.yaml", "--max-series", "0x10"), 0);
	ck_assert_str_eq(cfg.config_file, "/c2.yaml");
	ck_assert_int_eq(cfg.max_series, 16);
	assert_parse_error(PARSE("--max-series=lots"),
			   "invalid argument \"lots\" for \"--max-series\" flag: "
			   "strconv.ParseInt: parsing \"lots\": invalid syntax");
	assert_parse_error(PARSE("--max-series=3000000000"),
			   "invalid argument \"3000000000\" for \"--max-series\" flag: "
			   "strconv.ParseInt: parsing \"3000000000\": value out of range");
	assert_parse_error(PARSE("--config"), "flag needs an argument: --config");
	ck_assert_int_eq(PARSE("--max-series=-1"), 0);
	assert_invalid("--max-series -1 must be 0 (no limit) or more");
	text = usage_text();
	ck_assert_ptr_nonnull(strstr(text, "\nCustom and external metrics flags:\n\n"
					   "      --config string    Configuration file in "
					   "prometheus-adapter's format"));
	ck_assert_ptr_nonnull(strstr(text, "      --max-series int   The most series kept"));
	ck_assert_ptr_nonnull(strstr(text, "would pass it fails. (default 2000000)\n"));
	/* after the Metrics server section, before the kubelet's */
	ck_assert(strstr(text, "Metrics server flags") < strstr(text, "Custom and external"));
	ck_assert(strstr(text, "Custom and external") < strstr(text, "Kubelet client flags"));
	free(text);
}
END_TEST

/* A bound of ours (pflag has none): 256 values in one list flag, counted
 * across uses, whether a use holds comma-separated items (stringSlice) or
 * one value (namedCertKey). */
START_TEST(test_list_flags_bounded)
{
	char *argv[258] = { "metrics-apiserver" };
	char csv[257 * 3], want[512];
	size_t n = 0;

	for (int i = 0; i < 256; i++)
		n += (size_t)snprintf(csv + n, sizeof(csv) - n, "%sn%d", i ? "," : "", i % 10);
	ck_assert_int_eq(PARSE("--requestheader-allowed-names", csv), 0);
	ck_assert_uint_eq(cfg.authn.requestheader_allowed_names.n, 256);
	snprintf(csv + n, sizeof(csv) - n, ",x");
	snprintf(want, sizeof(want),
		 "invalid argument \"%.200s\" for \"--requestheader-allowed-names\" flag: "
		 "more than 256 values", csv);
	assert_parse_error(PARSE("--requestheader-allowed-names", csv), want);
	for (int i = 1; i <= 256; i++)
		argv[i] = "--tls-sni-cert-key=a.crt,a.key";
	ck_assert_int_eq(server_flags_parse(&cfg, 257, argv, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.serving.tls_sni_cert_key.n, 256);
	argv[257] = "--tls-sni-cert-key=a.crt,a.key";
	assert_parse_error(server_flags_parse(&cfg, 258, argv, err, sizeof(err)),
			   "invalid argument \"a.crt,a.key\" for \"--tls-sni-cert-key\" flag: "
			   "more than 256 values");
}
END_TEST

static Suite *flags_suite(void)
{
	Suite *s = suite_create("server_flags");
	TCase *tc = tcase_create("flags");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_both_syntaxes);
	tcase_add_test(tc, test_bools);
	tcase_add_test(tc, test_lists);
	tcase_add_test(tc, test_unknown_and_missing);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_validation_messages);
	tcase_add_test(tc, test_validation_ports_and_tls);
	tcase_add_test(tc, test_help);
	tcase_add_test(tc, test_hpa_flags);
	tcase_add_test(tc, test_custom_metrics_flags);
	tcase_add_test(tc, test_leader_election_flags);
	tcase_add_test(tc, test_list_flags_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(flags_suite());
}
