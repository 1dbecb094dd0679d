/*
 * flags.c - metrics-server's command line, parsed with pflag's rules and
 * error wording (cobra prints them as "Error: <message>").
 */
#include "server/flags_table.h"
#include "server/tls_int.h"
#include "kube/kube.h"

#include <arpa/inet.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define FLAGS_MAX_VALUE 4096   /* bytes in one flag value */

static const char *const default_address_types[] = {
	"Hostname", "InternalDNS", "InternalIP", "ExternalDNS", "ExternalIP",
};
static const char *const default_allow_paths[] = { "/healthz", "/readyz", "/livez" };

/* ---- string lists ------------------------------------------------------- */

static void strlist_clear(struct server_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static void strlist_set(struct server_strlist *l, const char *const *items, size_t n)
{
	strlist_clear(l);
	l->items = xcalloc(n ? n : 1, sizeof(*l->items));
	for (size_t i = 0; i < n; i++)
		l->items[i] = xstrdup(items[i]);
	l->n = n;
}

/* Appends the comma-separated values of s; ERR_TOOBIG past SERVER_FLAGS_MAX_LIST. */
static int strlist_append_csv(struct server_strlist *l, const char *s)
{
	const char *p = s;

	if (*s == '\0')
		return 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (server__strlist_add(l, p, len) != 0)
			return ERR_TOOBIG;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* ---- defaults and release ----------------------------------------------- */

/* The defaults of the flags added for issue 12 item 3 (metrics-server's
 * docs/command-line-flags.txt). */
static void config_init_more(struct server_config *cfg)
{
	struct server_generic_flags *g = &cfg->generic;
	struct server_audit_flags *a = &cfg->audit;

	cfg->authn.token_cache_ttl_ns = 10 * NS_PER_SEC;
	g->max_mutating_requests_inflight = 200;
	g->max_requests_inflight = 400;
	g->min_request_timeout = 1800;
	g->request_timeout_ns = 60 * NS_PER_SEC;
	g->storage_initialization_timeout_ns = 60 * NS_PER_SEC;
	g->enable_priority_and_fairness = true;
	g->profiling = true;
	a->log_batch_buffer_size = 10000;
	a->log_batch_max_size = 1;
	a->log_format = xstrdup("json");
	a->log_maxage = 366;
	a->log_maxbackup = 100;
	a->log_maxsize = 100;
	a->log_mode = xstrdup("blocking");
	a->log_truncate_max_batch_size = 10485760;
	a->log_truncate_max_event_size = 102400;
	a->log_version = xstrdup("audit.k8s.io/v1");
	a->webhook_batch_buffer_size = 10000;
	a->webhook_batch_max_size = 400;
	a->webhook_batch_max_wait_ns = 30 * NS_PER_SEC;
	a->webhook_batch_throttle_burst = 15;
	a->webhook_batch_throttle_enable = true;
	a->webhook_batch_throttle_qps = 10;
	a->webhook_initial_backoff_ns = 10 * NS_PER_SEC;
	a->webhook_mode = xstrdup("batch");
	a->webhook_truncate_max_batch_size = 10485760;
	a->webhook_truncate_max_event_size = 102400;
	a->webhook_version = xstrdup("audit.k8s.io/v1");
	cfg->logging.format = xstrdup("text");
	cfg->logging.flush_frequency_ns = 5 * NS_PER_SEC;
}

void server_config_init(struct server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->metric_resolution_ns = 60 * NS_PER_SEC;
	cfg->kubelet.port = 10250;
	cfg->kubelet.request_timeout_ns = 10 * NS_PER_SEC;
	strlist_set(&cfg->kubelet.preferred_address_types, default_address_types,
		    COMMON_ARRAY_LEN(default_address_types));
	cfg->serving.secure_port = 443;
	cfg->serving.bind_address = xstrdup("0.0.0.0");
	cfg->serving.cert_dir = xstrdup("apiserver.local.config/certificates");
	strlist_set(&cfg->authn.requestheader_username_headers,
		    (const char *const[]){ "x-remote-user" }, 1);
	strlist_set(&cfg->authn.requestheader_group_headers,
		    (const char *const[]){ "x-remote-group" }, 1);
	strlist_set(&cfg->authn.requestheader_extra_headers_prefix,
		    (const char *const[]){ "x-remote-extra-" }, 1);
	strlist_set(&cfg->authz.always_allow_paths, default_allow_paths,
		    COMMON_ARRAY_LEN(default_allow_paths));
	cfg->authz.authorized_ttl_ns = 10 * NS_PER_SEC;
	cfg->authz.unauthorized_ttl_ns = 10 * NS_PER_SEC;
	hpaloop_flags_init(&cfg->hpa);
	cfg->max_series = SERVER_DEFAULT_MAX_SERIES;
	/* --leader-elect*: kube-controller-manager's defaults, but off (see README) */
	cfg->leader.lease_duration_ns = 15 * NS_PER_SEC;
	cfg->leader.renew_deadline_ns = 10 * NS_PER_SEC;
	cfg->leader.retry_period_ns = 2 * NS_PER_SEC;
	cfg->leader.resource_name = xstrdup(SERVER_LEASE_NAME);
	cfg->leader.resource_namespace = xstrdup("kube-system");
	config_init_more(cfg);
}

void server_config_lease_options(const struct server_config *cfg, struct kube_lease_options *o)
{
	memset(o, 0, sizeof(*o));
	o->ns = cfg->leader.resource_namespace;
	o->name = cfg->leader.resource_name;
	o->lease_duration_ns = cfg->leader.lease_duration_ns;
	o->renew_deadline_ns = cfg->leader.renew_deadline_ns;
	o->retry_period_ns = cfg->leader.retry_period_ns;
}

void server_config_clear(struct server_config *cfg)
{
	for (size_t i = 0; i < server__flag_ndefs; i++) {
		const struct flag_def *d = &server__flag_defs[i];
		void *field = (char *)cfg + d->offset;

		if (d->type == FLAG_STRING || d->type == FLAG_IP) {
			free(*(char **)field);
			*(char **)field = NULL;
		} else if (d->type == FLAG_STRINGS || d->type == FLAG_INT32S ||
			   d->type == FLAG_CERTKEY || d->type == FLAG_VMODULE) {
			strlist_clear(field);
		}
	}
	hpaloop_flags_clear(&cfg->hpa);
	free(cfg->ignored_flags);
	cfg->ignored_flags = NULL;
}

/* ---- value parsers (Go's strconv / time wording) ------------------------ */

static int parse_bool(const char *s, bool *out, char *why, size_t len)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < COMMON_ARRAY_LEN(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	snprintf(why, len, "strconv.ParseBool: parsing \"%.200s\": invalid syntax", s);
	return ERR_INVAL;
}

static int parse_ip(const char *s, char **out, char *why, size_t len)
{
	unsigned char addr[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, s, addr) != 1 && inet_pton(AF_INET6, s, addr) != 1) {
		snprintf(why, len, "failed to parse IP: \"%.200s\"", s);
		return ERR_INVAL;
	}
	free(*out);
	*out = xstrdup(s);
	return 0;
}

/* Stores value into the field of d; a list flag replaces its default on
 * the first use and appends afterwards (pflag stringSlice, int32Slice,
 * namedCertKey). */
static int flag_set(struct server_config *cfg, const struct flag_def *d, bool *seen,
		    const char *value, char *why, size_t len)
{
	void *field = (char *)cfg + d->offset;

	switch (d->type) {
	case FLAG_BOOL:
		return parse_bool(value, field, why, len);
	case FLAG_STRING:
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return 0;
	case FLAG_INT:
		return server__parse_int(value, INT_MIN, INT_MAX, "strconv.ParseInt", field, why, len);
	case FLAG_LEVEL:
		return server__parse_int(value, 0, INT_MAX, "strconv.ParseUint", field, why, len);
	case FLAG_DURATION:
		return go_parse_duration(value, field, why, len);
	case FLAG_IP:
		return parse_ip(value, field, why, len);
	case FLAG_FLOAT:
		return go_parse_float(value, field, why, len);
	case FLAG_HPA:
	case FLAG_GATES:
		break; /* never found by name */
	case FLAG_FLOAT32:
		return server__parse_float32(value, field, why, len);
	case FLAG_QUANTITY:
		return server__parse_quantity(value, field, why, len);
	case FLAG_VMODULE:
		return server__parse_vmodule(value, field, why, len);
	case FLAG_INT32S:
	case FLAG_CERTKEY:
	case FLAG_STRINGS:
		if (d->type == FLAG_CERTKEY && server__parse_certkey(value, why, len) != 0)
			return ERR_INVAL;
		if (!*seen)
			strlist_clear(field);
		*seen = true;
		if (d->type == FLAG_INT32S)
			return server__parse_int32s(value, field, why, len);
		/* stringSlice: comma-separated items; namedCertKey: the whole value */
		if ((d->type == FLAG_STRINGS ? strlist_append_csv(field, value)
					     : server__strlist_add(field, value, strlen(value))) != 0) {
			snprintf(why, len, "more than %d values", SERVER_FLAGS_MAX_LIST);
			return ERR_INVAL;
		}
		return 0;
	}
	return ERR_INVAL;
}

/* ---- the command line ---------------------------------------------------- */

static const struct flag_def *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < server__flag_ndefs; i++) {
		const char *n = server__flag_defs[i].name;

		if (n && strlen(n) == len && memcmp(n, name, len) == 0)
			return &server__flag_defs[i];
	}
	return NULL;
}

static const struct flag_def *find_short(char c)
{
	for (size_t i = 0; i < server__flag_ndefs; i++)
		if (server__flag_defs[i].shorthand == c)
			return &server__flag_defs[i];
	return NULL;
}

/* Sets d from value, wording a failure as pflag does. */
static int apply(struct server_config *cfg, const struct flag_def *d, bool *seen,
		 const char *value, char *err, size_t errlen)
{
	char why[256];

	if (strlen(value) > FLAGS_MAX_VALUE) {
		snprintf(err, errlen, "invalid argument for \"--%s\" flag: value longer than %d bytes",
			 d->name, FLAGS_MAX_VALUE);
		return ERR_INVAL;
	}
	if (flag_set(cfg, d, seen, value, why, sizeof(why)) == 0)
		return 0;
	if (d->shorthand)
		snprintf(err, errlen, "invalid argument \"%.200s\" for \"-%c, --%s\" flag: %s", value,
			 d->shorthand, d->name, why);
	else
		snprintf(err, errlen, "invalid argument \"%.200s\" for \"--%s\" flag: %s", value, d->name,
			 why);
	return ERR_INVAL;
}

struct cursor {
	int argc;
	char **argv;
	int i;              /* the argument being parsed */
	bool seen[192];     /* per flag definition: list flag already set */
	bool given[192];    /* per flag definition: on the command line */
};

/* A flag of hpaloop's table (none is a bool): its parser words errors. */
static int parse_hpa(struct server_config *cfg, struct cursor *cur, const struct hpaloop_flag *d,
		     const char *eq, char *err, size_t errlen)
{
	if (eq)
		return hpaloop_flag_parse(&cfg->hpa, d, eq + 1, err, errlen);
	if (cur->i + 1 >= cur->argc) {
		snprintf(err, errlen, "flag needs an argument: %s", cur->argv[cur->i]);
		return ERR_INVAL;
	}
	cur->i++;
	return hpaloop_flag_parse(&cfg->hpa, d, cur->argv[cur->i], err, errlen);
}

static int parse_long(struct server_config *cfg, struct cursor *cur, char *err, size_t errlen)
{
	const char *arg = cur->argv[cur->i];
	const char *name = arg + 2;
	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct flag_def *d;
	const char *value;

	if (len == 0 || name[0] == '-') {
		snprintf(err, errlen, "bad flag syntax: %s", arg);
		return ERR_INVAL;
	}
	if (len == 4 && memcmp(name, "help", 4) == 0) {
		cfg->show_help = true;
		return 0;
	}
	d = find_long(name, len);
	if (!d && hpaloop_flag_find(name, len))
		return parse_hpa(cfg, cur, hpaloop_flag_find(name, len), eq, err, errlen);
	if (!d) {
		snprintf(err, errlen, "unknown flag: --%.*s", (int)(len > 200 ? 200 : len), name);
		return ERR_INVAL;
	}
	if (eq) {
		value = eq + 1;
	} else if (d->type == FLAG_BOOL) {
		value = "true";
	} else if (cur->i + 1 < cur->argc) {
		value = cur->argv[++cur->i];
	} else {
		snprintf(err, errlen, "flag needs an argument: %s", arg);
		return ERR_INVAL;
	}
	cur->given[d - server__flag_defs] = true;
	return apply(cfg, d, &cur->seen[d - server__flag_defs], value, err, errlen);
}

/* "-l value", "-lvalue", "-l=value", "-h"; shorthands may be combined
 * when all but the last are bools ("-hv4"). */
static int parse_short(struct server_config *cfg, struct cursor *cur, char *err, size_t errlen)
{
	const char *s = cur->argv[cur->i] + 1;

	while (*s) {
		const struct flag_def *d = find_short(*s);
		const char *value;

		if (!d && *s == 'h') {
			cfg->show_help = true;
			s++;
			continue;
		}
		if (!d) {
			snprintf(err, errlen, "unknown shorthand flag: '%c' in -%.200s", *s, s);
			return ERR_INVAL;
		}
		if (s[1] == '=' && s[2] != '\0') {
			value = s + 2;
		} else if (d->type == FLAG_BOOL) {
			value = "true";
		} else if (s[1] != '\0') {
			value = s + 1;
		} else if (cur->i + 1 < cur->argc) {
			value = cur->argv[++cur->i];
		} else {
			snprintf(err, errlen, "flag needs an argument: '%c' in -%s", *s, s);
			return ERR_INVAL;
		}
		cur->given[d - server__flag_defs] = true;
		if (apply(cfg, d, &cur->seen[d - server__flag_defs], value, err, errlen) != 0)
			return ERR_INVAL;
		if (d->type != FLAG_BOOL || s[1] == '=')
			return 0;
		s++;
	}
	return 0;
}

/* cfg->ignored_flags: the flags given that do nothing here, in table order. */
static void note_ignored(struct server_config *cfg, const struct cursor *cur)
{
	struct dynbuf b;
	size_t len;

	dynbuf_init(&b, DYN_CONFIG_FILE);
	for (size_t i = 0; i < server__flag_ndefs; i++) {
		const struct flag_def *d = &server__flag_defs[i];

		if (cur->given[i] && d->effect != FX_USED &&
		    dynbuf_printf(&b, "%s--%s", b.len ? ", " : "", d->name) != 0)
			break;
	}
	free(cfg->ignored_flags);
	cfg->ignored_flags = b.len ? dynbuf_take(&b, &len) : NULL;
	dynbuf_clear(&b);
}

int server_flags_parse(struct server_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	struct cursor cur = { .argc = argc, .argv = argv };
	int rc = 0;

	if (server__flag_ndefs > COMMON_ARRAY_LEN(cur.seen))
		abort(); /* the flag table outgrew cursor.seen: a build defect */
	for (cur.i = 1; cur.i < argc && rc == 0; cur.i++) {
		const char *a = argv[cur.i];

		if (strcmp(a, "--") == 0) {
			if (cur.i + 1 < argc)
				a = argv[cur.i + 1];
			else
				break;
		} else if (a[0] == '-' && a[1] == '-') {
			rc = parse_long(cfg, &cur, err, errlen);
			continue;
		} else if (a[0] == '-' && a[1] != '\0') {
			rc = parse_short(cfg, &cur, err, errlen);
			continue;
		}
		snprintf(err, errlen, "unknown command \"%.200s\" for \"metrics-apiserver\"", a);
		return ERR_INVAL;
	}
	if (rc == 0)
		note_ignored(cfg, &cur);
	return rc;
}

/* ---- validation ------------------------------------------------------------ */

static bool set(const char *s)
{
	return s && *s;
}

/* resolution * 9 / 10 without overflow (Go's integer arithmetic). */
static int64_t nine_tenths(int64_t ns)
{
	return ns / 10 * 9 + ns % 10 * 9 / 10;
}

/* --leader-elect*: checked only when enabled (as upstream), with
 * client-go's texts. */
static int validate_leader(const struct server_config *cfg, char *err, size_t errlen)
{
	struct kube_lease_options o;

	if (!cfg->leader.elect)
		return 0;
	server_config_lease_options(cfg, &o);
	return kube_lease_validate(&o, err, errlen);
}

/* --deprecated-kubelet-completely-insecure's conflicts, in upstream's order. */
static const char *insecure_conflict(const struct server_kubelet_flags *k)
{
	if (!k->completely_insecure)
		return NULL;
	if (set(k->client_key))
		return "--kubelet-client-key";
	if (set(k->client_cert))
		return "--kubelet-client-certificate";
	if (k->insecure_tls)
		return "--kubelet-insecure-tls";
	if (set(k->ca_file))
		return "--kubelet-certificate-authority";
	return NULL;
}

/* The serving options' checks of SecureServingOptions.ApplyTo (ciphers,
 * curves, TLS version). */
static int check_tls(const struct server_serving_flags *s, char *err, size_t errlen)
{
	struct server_tls t;

	if (server__tls_build(s, &t, err, errlen) != 0)
		return ERR_INVAL;
	server__tls_clear(&t);
	return 0;
}

/* metrics-server checks the kubelet client options first, then its own,
 * the logging and generic run options, then (as its ApplyTo) the TLS
 * settings; the first message wins.  Checks of our own come last. */
int server_config_validate(const struct server_config *cfg, char *err, size_t errlen)
{
	const struct server_kubelet_flags *k = &cfg->kubelet;
	const struct server_serving_flags *s = &cfg->serving;
	struct hpaloop_options hpa;
	char res[40], timeout[40];

	fmt_go_duration(cfg->metric_resolution_ns, res, sizeof(res));
	fmt_go_duration(k->request_timeout_ns, timeout, sizeof(timeout));
	if (set(k->ca_file) && k->insecure_tls)
		snprintf(err, errlen,
			 "cannot use both --kubelet-certificate-authority and --kubelet-insecure-tls");
	else if (set(k->client_key) != set(k->client_cert))
		snprintf(err, errlen, "need both --kubelet-client-key and --kubelet-client-certificate");
	else if (insecure_conflict(k))
		snprintf(err, errlen, "cannot use both %s and --deprecated-kubelet-completely-insecure",
			 insecure_conflict(k));
	else if (k->request_timeout_ns <= 0)
		snprintf(err, errlen, "kubelet-request-timeout should be positive");
	else if (cfg->metric_resolution_ns < 10 * NS_PER_SEC)
		snprintf(err, errlen,
			 "metric-resolution should be a time duration at least 10s, but value %s provided",
			 res);
	else if (nine_tenths(cfg->metric_resolution_ns) < k->request_timeout_ns)
		snprintf(err, errlen,
			 "metric-resolution should be larger than kubelet-request-timeout, but "
			 "metric-resolution value %s kubelet-request-timeout value %s provided",
			 res, timeout);
	else if (server__check_logging(&cfg->logging, err, errlen) != 0 ||
		 server__check_run_options(&cfg->generic, err, errlen) != 0 ||
		 check_tls(s, err, errlen) != 0)
		return ERR_INVAL;
	else if (s->secure_port < 1 || s->secure_port > 65535)
		snprintf(err, errlen,
			 "--secure-port %d must be between 1 and 65535, inclusive. It cannot be turned "
			 "off with 0", s->secure_port);
	else if (k->port < 1 || k->port > 65535)
		snprintf(err, errlen, "--kubelet-port %d must be between 1 and 65535, inclusive",
			 k->port);
	else if (set(s->tls_cert_file) != set(s->tls_private_key_file))
		snprintf(err, errlen, "need both --tls-cert-file and --tls-private-key-file");
	else if (cfg->max_series < 0)
		snprintf(err, errlen, "--max-series %d must be 0 (no limit) or more", cfg->max_series);
	else if (hpaloop_flags_options(&cfg->hpa, &hpa, err, errlen) != 0)
		return ERR_INVAL;
	else
		return validate_leader(cfg, err, errlen);
	return ERR_INVAL;
}
