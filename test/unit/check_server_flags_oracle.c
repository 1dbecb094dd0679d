/*
 * check_server_flags_oracle.c - every flag of metrics-server is accepted,
 * with its type, default, help section and text: the oracle is upstream's
 * own --help, test/data/flags/metrics-server-command-line-flags.txt (its
 * docs/command-line-flags.txt; origin and commit in the file's header).
 * Also the validation texts of the flags added for it (issue 12 item 3)
 * and the list of flags logged as without effect.
 */
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"
#include "test/unit/server_flags_fixture.h"
#include "test/unit/unit.h"

#define ORACLE "test/data/flags/metrics-server-command-line-flags.txt"
#define MAX_ENTRIES 160

/* One flag as a --help text shows it. */
struct entry {
	char section[64];
	char name[64];
	char type[64];        /* "" for a bool */
	char text[4096];      /* head, help and default, blanks squeezed */
};

struct help {
	struct entry e[MAX_ENTRIES];
	size_t n;
};

static struct help oracle, ours;

/* Appends s to d with every run of blanks as one space. */
static void squeeze_add(char *d, size_t cap, const char *s)
{
	size_t n = strlen(d);

	for (; *s && n + 1 < cap; s++) {
		if (isspace((unsigned char)*s)) {
			if (n > 0 && d[n - 1] != ' ')
				d[n++] = ' ';
		} else {
			d[n++] = *s;
		}
	}
	d[n] = '\0';
}

/* Splits a --help text (cobra + pflag layout) into flag entries. */
static void parse_help(const char *text, struct help *h)
{
	char section[64] = "";
	const char *p = text;
	struct entry *cur = NULL;

	h->n = 0;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[4096];
		const char *q;

		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		p += len + (eol ? 1 : 0);
		if (line[0] == '#')
			continue;
		if (len > 7 && line[0] != ' ' && strcmp(line + len - 7, " flags:") == 0) {
			snprintf(section, sizeof(section), "%.*s", (int)len - 7, line);
			cur = NULL;
			continue;
		}
		q = line + strspn(line, " ");
		if (section[0] && q > line && strncmp(q, "-", 1) == 0 &&
		    (strncmp(q, "--", 2) == 0 || q[2] == ',')) {
			const char *name = strstr(q, "--") + 2;
			size_t nl = strcspn(name, " ");
			const char *after = name + nl;

			ck_assert_uint_lt(h->n, MAX_ENTRIES);
			cur = &h->e[h->n++];
			memset(cur, 0, sizeof(*cur));
			snprintf(cur->section, sizeof(cur->section), "%s", section);
			snprintf(cur->name, sizeof(cur->name), "%.*s", (int)nl, name);
			/* a type word follows after one space; the help after two or more */
			if (after[0] == ' ' && after[1] != ' ')
				snprintf(cur->type, sizeof(cur->type), "%.*s",
					 (int)strcspn(after + 1, " "), after + 1);
			squeeze_add(cur->text, sizeof(cur->text), q);
		} else if (cur && line[0] == ' ') {
			squeeze_add(cur->text, sizeof(cur->text), " ");
			squeeze_add(cur->text, sizeof(cur->text), line);
		}
	}
	for (size_t i = 0; i < h->n; i++) { /* trailing blank of the last line */
		size_t n = strlen(h->e[i].text);

		if (n > 0 && h->e[i].text[n - 1] == ' ')
			h->e[i].text[n - 1] = '\0';
	}
}

static const struct entry *find(const struct help *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->e[i].name, name) == 0)
			return &h->e[i];
	return NULL;
}

/* setup() and both --help texts parsed. */
static void oracle_setup(void)
{
	struct dynbuf b;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	dynbuf_init(&b, DYN_CONFIG_FILE);
	ck_assert_int_eq(dynbuf_read_file(&b, ORACLE), 0);
	parse_help(b.buf, &oracle);
	dynbuf_clear(&b);
	f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	server_flags_usage(f);
	fclose(f);
	parse_help(text, &ours);
	free(text);
	setup();
}

/* Each parse here starts from cfg's defaults. */
#define PARSE(...) parse_args(true, __VA_ARGS__, (const char *)NULL)

/* The oracle itself: 103 flags in metrics-server's 9 sections. */
START_TEST(test_oracle_file)
{
	static const char *const sections[] = {
		"Metrics server", "Generic", "Kubelet client", "Apiserver secure serving",
		"Apiserver authentication", "Apiserver authorization", "Apiserver audit log",
		"Features", "Logging",
	};
	size_t k = 0;

	ck_assert_uint_eq(oracle.n, 103);
	for (size_t i = 0; i < oracle.n; i++) {
		if (i > 0 && strcmp(oracle.e[i].section, oracle.e[i - 1].section) == 0)
			continue;
		ck_assert_uint_lt(k, COMMON_ARRAY_LEN(sections));
		ck_assert_str_eq(oracle.e[i].section, sections[k++]);
	}
	ck_assert_uint_eq(k, COMMON_ARRAY_LEN(sections));
	ck_assert_str_eq(find(&oracle, "tls-curve-preferences")->type, "int32Slice");
	ck_assert_str_eq(find(&oracle, "metric-resolution")->text,
			 "--metric-resolution duration The resolution at which metrics-server will "
			 "retain metrics, must set value at least 10s. (default 1m0s)");
}
END_TEST

/*
 * Our --help against the oracle: every upstream flag in the same section,
 * with the same type, help text and default; no other flag in upstream's
 * sections.  --feature-gates is the embedded HPA's (hpaloop/flags.c: its
 * own gates and Name=bool syntax), so only its place is compared.
 */
START_TEST(test_help_matches_oracle)
{
	for (size_t i = 0; i < oracle.n; i++) {
		const struct entry *o = &oracle.e[i], *u = find(&ours, o->name);

		ck_assert_msg(u != NULL, "--%s missing from --help", o->name);
		ck_assert_msg(strcmp(u->section, o->section) == 0, "--%s in \"%s\", upstream \"%s\"",
			      o->name, u->section, o->section);
		if (strcmp(o->name, "feature-gates") == 0)
			continue;
		ck_assert_msg(strcmp(u->type, o->type) == 0, "--%s type \"%s\", upstream \"%s\"",
			      o->name, u->type, o->type);
		ck_assert_msg(strcmp(u->text, o->text) == 0, "--%s:\n ours:     %s\n upstream: %s",
			      o->name, u->text, o->text);
	}
	for (size_t i = 0; i < ours.n; i++) {
		const struct entry *u = &ours.e[i];
		bool upstream_section = false;

		ck_assert_msg(find(&ours, u->name) == u, "--%s listed twice", u->name);
		for (size_t j = 0; j < oracle.n; j++)
			upstream_section |= strcmp(oracle.e[j].section, u->section) == 0;
		if (upstream_section)
			ck_assert_msg(find(&oracle, u->name) != NULL,
				      "--%s in upstream's section \"%s\" but not upstream's", u->name,
				      u->section);
		else /* ours alone: --config, --max-series, --hpa* */
			ck_assert_msg(find(&oracle, u->name) == NULL, "--%s out of its section",
				      u->name);
	}
}
END_TEST

/* A valid value of each pflag type the oracle uses. */
static const char *sample_value(const char *type)
{
	static const struct {
		const char *type, *value;
	} samples[] = {
		{ "string", "some-text" }, { "duration", "1m30s" }, { "ip", "127.0.0.1" },
		{ "strings", "a,b" }, { "int", "7" }, { "float", "0.01" }, { "float32", "1.5" },
		{ "int32Slice", "23,24" }, { "namedCertKey", "a.crt,a.key:example.com" },
		{ "quantity", "1Ki" }, { "Level", "3" }, { "pattern=N,...", "server*=2" },
		/* hpaloop's syntax (Name=bool), not upstream's component:key=value */
		{ "colonSeparatedMultimapStringString", "HPAScaleToZero=true" },
	};

	for (size_t i = 0; i < COMMON_ARRAY_LEN(samples); i++)
		if (strcmp(samples[i].type, type) == 0)
			return samples[i].value;
	return NULL;
}

/* Today 77 of these 103 stopped start-up as unknown flags. */
START_TEST(test_every_flag_accepted)
{
	for (size_t i = 0; i < oracle.n; i++) {
		const struct entry *o = &oracle.e[i];
		char arg[256];

		if (o->type[0] == '\0') { /* bool: --x, --x=true, --x=false */
			snprintf(arg, sizeof(arg), "--%s", o->name);
			ck_assert_msg(PARSE(arg) == 0, "%s: %s", arg, err);
			snprintf(arg, sizeof(arg), "--%s=true", o->name);
			ck_assert_msg(PARSE(arg) == 0, "%s: %s", arg, err);
			snprintf(arg, sizeof(arg), "--%s=false", o->name);
			ck_assert_msg(PARSE(arg) == 0, "%s: %s", arg, err);
			continue;
		}
		ck_assert_msg(sample_value(o->type) != NULL, "no sample for type %s", o->type);
		snprintf(arg, sizeof(arg), "--%s=%s", o->name, sample_value(o->type));
		ck_assert_msg(PARSE(arg) == 0, "%s: %s", arg, err);
		snprintf(arg, sizeof(arg), "--%s", o->name);
		ck_assert_msg(PARSE(arg, sample_value(o->type)) == 0, "%s %s: %s", arg,
			      sample_value(o->type), err);
	}
	assert_parse_error(PARSE("--tls-min-versions=VersionTLS13"),
			   "unknown flag: --tls-min-versions");
}
END_TEST

/* Defaults as metrics-server's binary (not its manifests). */
START_TEST(test_upstream_defaults)
{
	ck_assert_int_eq(cfg.metric_resolution_ns, 60 * NS_PER_SEC);
	ck_assert_int_eq(cfg.serving.secure_port, 443);
	ck_assert_int_eq(cfg.generic.max_requests_inflight, 400);
	ck_assert_int_eq(cfg.generic.max_mutating_requests_inflight, 200);
	ck_assert_int_eq(cfg.generic.request_timeout_ns, 60 * NS_PER_SEC);
	ck_assert_int_eq(cfg.generic.shutdown_delay_duration_ns, 0);
	ck_assert(cfg.generic.profiling && cfg.generic.enable_priority_and_fairness);
	ck_assert_int_eq(cfg.authn.token_cache_ttl_ns, 10 * NS_PER_SEC);
	ck_assert_int_eq(cfg.authz.unauthorized_ttl_ns, 10 * NS_PER_SEC);
	ck_assert_str_eq(cfg.logging.format, "text");
	ck_assert_str_eq(cfg.audit.log_format, "json");
	ck_assert_ptr_null(cfg.serving.tls_min_version);
	ck_assert_uint_eq(cfg.serving.tls_cipher_suites.n, 0);
	ck_assert_ptr_null(cfg.ignored_flags);
	ck_assert_int_eq(server_config_validate(&cfg, err, sizeof(err)), 0);
}
END_TEST

/* pflag's wording for the value types added. */
START_TEST(test_value_errors)
{
	assert_parse_error(PARSE("--tls-curve-preferences=23,x"),
			   "invalid argument \"23,x\" for \"--tls-curve-preferences\" flag: "
			   "strconv.ParseInt: parsing \"x\": invalid syntax");
	assert_parse_error(PARSE("--tls-curve-preferences=3000000000"),
			   "invalid argument \"3000000000\" for \"--tls-curve-preferences\" flag: "
			   "strconv.ParseInt: parsing \"3000000000\": value out of range");
	assert_parse_error(PARSE("--tls-sni-cert-key=only.crt"),
			   "invalid argument \"only.crt\" for \"--tls-sni-cert-key\" flag: "
			   "expected comma separated certificate and key file paths");
	assert_parse_error(PARSE("--tls-sni-cert-key=a.crt,a.key: "),
			   "invalid argument \"a.crt,a.key: \" for \"--tls-sni-cert-key\" flag: "
			   "empty names list is not allowed");
	assert_parse_error(PARSE("--audit-webhook-batch-throttle-qps=1e39"),
			   "invalid argument \"1e39\" for \"--audit-webhook-batch-throttle-qps\" "
			   "flag: strconv.ParseFloat: parsing \"1e39\": value out of range");
	assert_parse_error(PARSE("--log-text-info-buffer-size=lots"),
			   "invalid argument \"lots\" for \"--log-text-info-buffer-size\" flag: "
			   "quantities must match the regular expression "
			   "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
	assert_parse_error(PARSE("--vmodule=server"),
			   "invalid argument \"server\" for \"--vmodule\" flag: "
			   "\"server\" does not have the pattern=N format");
	assert_parse_error(PARSE("--vmodule=a=1,b=x"),
			   "invalid argument \"a=1,b=x\" for \"--vmodule\" flag: parsing verbosity "
			   "in \"b=x\": strconv.ParseUint: parsing \"x\": invalid syntax");
	assert_parse_error(PARSE("--max-requests-inflight=many"),
			   "invalid argument \"many\" for \"--max-requests-inflight\" flag: "
			   "strconv.ParseInt: parsing \"many\": invalid syntax");
	assert_parse_error(PARSE("--shutdown-delay-duration=5"),
			   "invalid argument \"5\" for \"--shutdown-delay-duration\" flag: "
			   "time: missing unit in duration \"5\"");
	assert_parse_error(PARSE("--profiling=yes"),
			   "invalid argument \"yes\" for \"--profiling\" flag: "
			   "strconv.ParseBool: parsing \"yes\": invalid syntax");
	assert_parse_error(PARSE("--advertise-address=example.com"),
			   "invalid argument \"example.com\" for \"--advertise-address\" flag: "
			   "failed to parse IP: \"example.com\"");
	/* list flags: the first use replaces the default, later ones append */
	ck_assert_int_eq(PARSE("--tls-sni-cert-key=a.crt,a.key", "--tls-sni-cert-key",
			       "b.crt,b.key:*.b.com,b.com", "--tls-curve-preferences=23",
			       "--tls-curve-preferences=0x18", "--vmodule=a=1", "--vmodule=b=2"), 0);
	ck_assert_uint_eq(cfg.serving.tls_sni_cert_key.n, 2);
	ck_assert_str_eq(cfg.serving.tls_sni_cert_key.items[1], "b.crt,b.key:*.b.com,b.com");
	ck_assert_uint_eq(cfg.serving.tls_curve_preferences.n, 2);
	ck_assert_str_eq(cfg.serving.tls_curve_preferences.items[1], "24");
	ck_assert_uint_eq(cfg.logging.vmodule.n, 2);
}
END_TEST

/* Validate()'s texts: kubelet client, logging, ServerRunOptions. */
START_TEST(test_validation_texts)
{
	static const struct {
		const char *flags[3];
		const char *want;
	} cases[] = {
		{ { "--deprecated-kubelet-completely-insecure", "--kubelet-insecure-tls" },
		  "cannot use both --kubelet-insecure-tls and --deprecated-kubelet-completely-insecure" },
		{ { "--deprecated-kubelet-completely-insecure", "--kubelet-client-key=k",
		    "--kubelet-client-certificate=c" },
		  "cannot use both --kubelet-client-key and --deprecated-kubelet-completely-insecure" },
		{ { "--logging-format=xml" }, "format: Invalid value: \"xml\": Unsupported log format" },
		{ { "--logging-format=json", "--vmodule=a=1" },
		  "vmodule: Forbidden: Only supported for text log format" },
		{ { "--log-text-split-stream", "--log-json-info-buffer-size=1Ki" },
		  "[options.text.splitStream: Forbidden: Feature LoggingAlphaOptions is disabled, "
		  "options.json.infoBufferSize: Forbidden: Feature LoggingAlphaOptions is disabled]" },
		{ { "--max-requests-inflight=-1" }, "--max-requests-inflight can not be negative value" },
		{ { "--max-mutating-requests-inflight=-1" },
		  "--max-mutating-requests-inflight can not be negative value" },
		{ { "--request-timeout=-1s" }, "--request-timeout can not be negative value" },
		{ { "--goaway-chance=0.03" },
		  "--goaway-chance can not be less than 0 or greater than 0.02" },
		{ { "--livez-grace-period=-1s" }, "--livez-grace-period can not be a negative value" },
		{ { "--min-request-timeout=-1" }, "--min-request-timeout can not be negative value" },
		{ { "--shutdown-delay-duration=-5s" },
		  "--shutdown-delay-duration can not be negative value" },
		{ { "--shutdown-watch-termination-grace-period=-1s" },
		  "shutdown-watch-termination-grace-period, if provided, can not be a negative value" },
		{ { "--storage-initialization-timeout=-1m" },
		  "--storage-initialization-timeout can not be negative value" },
		{ { "--strict-transport-security-directives=max-age=1,preload,oops" },
		  "--strict-transport-security-directives invalid, allowed values: "
		  "max-age=expireTime, includeSubDomains, preload. see "
		  "https://tools.ietf.org/html/rfc6797#section-6.1 for more information" },
		{ { "--emulation-forward-compatible" },
		  "ServerRunOptions.EmulationForwardCompatible cannot be set to true if the emulation "
		  "version is the same as the binary version" },
		/* the kubelet client's checks come first, then metrics-server's own */
		{ { "--max-requests-inflight=-1", "--metric-resolution=5s" },
		  "metric-resolution should be a time duration at least 10s, but value 5s provided" },
	};

	for (size_t i = 0; i < COMMON_ARRAY_LEN(cases); i++) {
		ck_assert_msg(PARSE(cases[i].flags[0], cases[i].flags[1], cases[i].flags[2]) == 0,
			      "%s", err);
		assert_invalid(cases[i].want);
	}
	ck_assert_int_eq(PARSE("--strict-transport-security-directives=max-age=31536000,"
			       "includeSubDomains,preload", "--max-requests-inflight=0",
			       "--shutdown-delay-duration=10s", "--logging-format=json"), 0);
	ck_assert_int_eq(server_config_validate(&cfg, err, sizeof(err)), 0);
}
END_TEST

/* The flags that do nothing here are named in one line at start. */
START_TEST(test_ignored_flags_listed)
{
	ck_assert_int_eq(PARSE("--tls-min-version=VersionTLS12", "--max-requests-inflight=10",
			       "--kubelet-insecure-tls", "--logging-format=text", "--vmodule=a=1",
			       "--tls-sni-cert-key=a.crt,a.key", "--audit-log-path=-",
			       "--audit-policy-file=p.yaml", "--audit-log-format=legacy"), 0);
	ck_assert_ptr_null(cfg.ignored_flags);
	ck_assert_int_eq(PARSE("--audit-log-compress", "--tls-cipher-suites=TLS_AES_128_GCM_SHA256",
			       "--goaway-chance=0.01", "--audit-log-compress=true",
			       "--enable-priority-and-fairness=false", "--profiling=false"), 0);
	ck_assert_ptr_nonnull(cfg.ignored_flags);
	/* --profiling: no pprof in C, a no-op whatever its value */
	ck_assert_str_eq(cfg.ignored_flags, "--goaway-chance, --audit-log-compress, "
					    "--enable-priority-and-fairness, --profiling");
}
END_TEST

static Suite *oracle_suite(void)
{
	Suite *s = suite_create("server_flags_oracle");
	TCase *tc = tcase_create("oracle");

	tcase_add_checked_fixture(tc, oracle_setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_oracle_file);
	tcase_add_test(tc, test_help_matches_oracle);
	tcase_add_test(tc, test_every_flag_accepted);
	tcase_add_test(tc, test_upstream_defaults);
	tcase_add_test(tc, test_value_errors);
	tcase_add_test(tc, test_validation_texts);
	tcase_add_test(tc, test_ignored_flags_listed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(oracle_suite());
}
