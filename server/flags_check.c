/*
 * flags_check.c - the checks metrics-server's Validate() runs on the
 * component-base logging options (logsapi.ValidateAndApply) and on the
 * generic apiserver's run options (ServerRunOptions.Validate), with their
 * messages; and the Apply half of the former: -v, the format, --vmodule.
 */
#include "server/flags_table.h"
#include "server/tls_int.h"

#include <stdlib.h>
#include <string.h>

#define CHECK_MAX_ERRS 8

/* A field.ErrorList or utilerrors aggregate: one message alone, several
 * as "[a, b]", repeated messages once. */
struct agg {
	char msgs[CHECK_MAX_ERRS][256];
	size_t n;
};

static void agg_add(struct agg *a, const char *msg)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->msgs[i], msg) == 0)
			return;
	if (a->n < CHECK_MAX_ERRS)
		snprintf(a->msgs[a->n++], sizeof(a->msgs[0]), "%s", msg);
}

/* 0 when a is empty, else ERR_INVAL with its text in err. */
static int agg_done(const struct agg *a, char *err, size_t errlen)
{
	size_t used = 0;

	if (a->n == 0)
		return 0;
	if (a->n == 1) {
		snprintf(err, errlen, "%s", a->msgs[0]);
		return ERR_INVAL;
	}
	for (size_t i = 0; i < a->n && used < errlen; i++)
		used += (size_t)snprintf(err + used, errlen - used, "%s%s", i ? ", " : "[",
					 a->msgs[i]);
	if (used < errlen)
		snprintf(err + used, errlen - used, "]");
	return ERR_INVAL;
}

/* logsapi.Validate: format, vmodule, the alpha options (the
 * LoggingAlphaOptions gate is off, as upstream's default). */
int server__check_logging(const struct server_logging_flags *l, char *err, size_t errlen)
{
	static const char gate[] = "Forbidden: Feature LoggingAlphaOptions is disabled";
	struct agg a = { .n = 0 };
	char msg[256];

	if (strcmp(l->format, "text") != 0 && strcmp(l->format, "json") != 0) {
		snprintf(msg, sizeof(msg), "format: Invalid value: \"%.150s\": Unsupported log format",
			 l->format);
		agg_add(&a, msg);
	}
	if (l->vmodule.n > 0 && *l->format && strcmp(l->format, "text") != 0)
		agg_add(&a, "vmodule: Forbidden: Only supported for text log format");
	if (l->text_split_stream) {
		snprintf(msg, sizeof(msg), "options.text.splitStream: %s", gate);
		agg_add(&a, msg);
	}
	if (l->text_info_buffer_size != 0) {
		snprintf(msg, sizeof(msg), "options.text.infoBufferSize: %s", gate);
		agg_add(&a, msg);
	}
	if (l->json_split_stream) {
		snprintf(msg, sizeof(msg), "options.json.splitStream: %s", gate);
		agg_add(&a, msg);
	}
	if (l->json_info_buffer_size != 0) {
		snprintf(msg, sizeof(msg), "options.json.infoBufferSize: %s", gate);
		agg_add(&a, msg);
	}
	return agg_done(&a, err, errlen);
}

/* logsapi's apply: the verbosity, the format (logs/json for "json") and
 * the vmodule items, already checked by server__parse_vmodule ("pattern=N",
 * one '=', N a uint31) and server__check_logging. */
void server__apply_logging(const struct server_logging_flags *l, int verbosity)
{
	log_set_verbosity(verbosity);
	log_set_format(strcmp(l->format, "json") == 0 ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT);
	log_vmodule_clear();
	for (size_t i = 0; i < l->vmodule.n; i++) {
		const char *item = l->vmodule.items[i], *eq = strrchr(item, '=');
		char why[160];
		int level;

		if (eq && server__parse_int(eq + 1, 0, INT32_MAX, "strconv.ParseUint", &level, why,
					    sizeof(why)) == 0)
			log_vmodule_add(item, (size_t)(eq - item), level);
	}
}

/* validateHSTSDirectives: "max-age=N", "includeSubDomains", "preload". */
static int check_hsts(const struct server_strlist *l, char *err, size_t errlen)
{
	struct agg a = { .n = 0 };

	for (size_t i = 0; i < l->n; i++) {
		const char *d = l->items[i], *eq = strchr(d, '=');

		if (d[strspn(d, " \t\n\r\v\f")] == '\0')
			agg_add(&a, "empty value in strict-transport-security-directives");
		else if (strcmp(d, "includeSubDomains") != 0 && strcmp(d, "preload") != 0 &&
			 (!eq || strchr(eq + 1, '=') || (size_t)(eq - d) != 7 ||
			  strncmp(d, "max-age", 7) != 0))
			agg_add(&a, "--strict-transport-security-directives invalid, allowed values: "
				    "max-age=expireTime, includeSubDomains, preload. see "
				    "https://tools.ietf.org/html/rfc6797#section-6.1 for more "
				    "information");
	}
	return agg_done(&a, err, errlen);
}

/* ServerRunOptions.Validate, first error first.  No emulation here: the
 * emulated version is the binary's (CORS regexps are not checked). */
int server__check_run_options(const struct server_generic_flags *g, char *err, size_t errlen)
{
	const char *msg = NULL;

	if (g->livez_grace_period_ns < 0)
		msg = "--livez-grace-period can not be a negative value";
	else if (g->max_requests_inflight < 0)
		msg = "--max-requests-inflight can not be negative value";
	else if (g->max_mutating_requests_inflight < 0)
		msg = "--max-mutating-requests-inflight can not be negative value";
	else if (g->request_timeout_ns < 0)
		msg = "--request-timeout can not be negative value";
	else if (g->goaway_chance < 0 || g->goaway_chance > 0.02)
		msg = "--goaway-chance can not be less than 0 or greater than 0.02";
	else if (g->min_request_timeout < 0)
		msg = "--min-request-timeout can not be negative value";
	else if (g->storage_initialization_timeout_ns < 0)
		msg = "--storage-initialization-timeout can not be negative value";
	else if (g->shutdown_delay_duration_ns < 0)
		msg = "--shutdown-delay-duration can not be negative value";
	else if (g->shutdown_watch_termination_grace_period_ns < 0)
		msg = "shutdown-watch-termination-grace-period, if provided, can not be a negative "
		      "value";
	else if (check_hsts(&g->strict_transport_security_directives, err, errlen) != 0)
		return ERR_INVAL;
	else if (g->emulation_forward_compatible)
		msg = "ServerRunOptions.EmulationForwardCompatible cannot be set to true if the "
		      "emulation version is the same as the binary version";
	else if (g->runtime_config_emulation_forward_compatible)
		msg = "ServerRunOptions.RuntimeConfigEmulationForwardCompatible cannot be set to true "
		      "if the emulation version is the same as the binary version";
	if (!msg)
		return 0;
	snprintf(err, errlen, "%s", msg);
	return ERR_INVAL;
}

char *server__hsts_header(const struct server_generic_flags *g)
{
	const struct server_strlist *l = &g->strict_transport_security_directives;
	char *joined = NULL;

	for (size_t i = 0; i < l->n; i++) { /* WithHSTS: strings.Join(directives, "; ") */
		char *next = joined ? xasprintf("%s; %s", joined, l->items[i]) : xstrdup(l->items[i]);

		free(joined);
		joined = next;
	}
	return joined;
}
