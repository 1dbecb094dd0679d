/*
 * health.c - /healthz, /livez and /readyz as k8s.io/apiserver's healthz
 * package writes them, with metrics-server's check lists:
 *
 *   GET /readyz            "ok", or 500 listing every check
 *   GET /readyz?verbose    "[+]<check> ok" lines + "readyz check passed"
 *   GET /readyz?exclude=x  skips check x ("[+]x excluded: ok")
 *   GET /readyz/<check>    "ok", or 500 "internal server error: <why>"
 */
#include "server/server.h"

#include <string.h>

#define HEALTH_MAX_EXCLUDE 16

enum check_kind {
	CHECK_ALWAYS_OK,   /* ping, log, post-start hooks (we have none pending) */
	CHECK_SHUTDOWN,    /* fails once shutdown started */
	CHECK_APP,         /* asked through server_health.check */
};

struct check {
	const char *name;
	enum check_kind kind;
};

#define COMMON_CHECKS                                                       \
	{ "ping", CHECK_ALWAYS_OK }, { "log", CHECK_ALWAYS_OK },            \
	{ "poststarthook/max-in-flight-filter", CHECK_ALWAYS_OK },          \
	{ "poststarthook/storage-object-count-tracker-hook", CHECK_ALWAYS_OK }

static const struct check healthz_checks[] = {
	COMMON_CHECKS,
	{ "metadata-informer-sync", CHECK_APP },
};
static const struct check livez_checks[] = {
	COMMON_CHECKS,
	{ "metric-collection-timely", CHECK_APP },
	{ "metadata-informer-sync", CHECK_APP },
};
static const struct check readyz_checks[] = {
	COMMON_CHECKS,
	{ "metric-storage-ready", CHECK_APP },
	{ "metric-informer-sync", CHECK_APP },
	{ "metadata-informer-sync", CHECK_APP },
	{ "shutdown", CHECK_SHUTDOWN },
};

struct probe {
	const char *name;          /* "readyz" */
	const struct check *checks;
	size_t n;
};

static const struct probe probes[] = {
	{ "healthz", healthz_checks, COMMON_ARRAY_LEN(healthz_checks) },
	{ "livez", livez_checks, COMMON_ARRAY_LEN(livez_checks) },
	{ "readyz", readyz_checks, COMMON_ARRAY_LEN(readyz_checks) },
};

static bool run_check(struct server_health *h, const struct check *c, char *err, size_t len)
{
	switch (c->kind) {
	case CHECK_ALWAYS_OK:
		return true;
	case CHECK_SHUTDOWN:
		if (!atomic_load(&h->shutting_down))
			return true;
		snprintf(err, len, "process is shutting down");
		return false;
	case CHECK_APP:
		return h->check ? h->check(h->ud, c->name, err, len) : true;
	}
	return true;
}

/* /<probe>/<check>: "ok" or 500 "internal server error: <err>\n". */
static void serve_one(struct server_health *h, const struct probe *p, const char *name,
		      struct server_exchange *x)
{
	char err[256], text[320];

	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(p->checks[i].name, name) != 0)
			continue;
		if (run_check(h, &p->checks[i], err, sizeof(err))) {
			server_reply_text(x, 200, "ok");
		} else {
			snprintf(text, sizeof(text), "internal server error: %s\n", err);
			server_reply_text(x, 500, text);
		}
		return;
	}
	server_reply_text(x, 404, "404 page not found\n");
}

static bool take_excluded(const char **excl, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (excl[i] && strcmp(excl[i], name) == 0) {
			excl[i] = NULL;
			return true;
		}
	}
	return false;
}

/* Lists the excludes that matched no check, as formatQuoted does. */
static int add_unmatched(struct dynbuf *b, const char **excl, size_t n)
{
	bool first = true;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!excl[i])
			continue;
		if (first)
			rc = dynbuf_addstr(b, "warn: some health checks cannot be excluded: no matches for ");
		if (rc == 0)
			rc = dynbuf_printf(b, "%s\"%s\"", first ? "" : ",", excl[i]);
		first = false;
	}
	return first || rc ? rc : dynbuf_addch(b, '\n');
}

static void serve_all(struct server_health *h, const struct probe *p, struct server_exchange *x)
{
	const char *excl[HEALTH_MAX_EXCLUDE];
	size_t nexcl = server_query_all(x, "exclude", excl, HEALTH_MAX_EXCLUDE);
	struct dynbuf out;
	bool failed = false, verbose;
	char err[256];
	int rc = 0;

	dynbuf_init(&out, DYN_SMALL);
	for (size_t i = 0; i < p->n && rc == 0; i++) {
		const char *name = p->checks[i].name;

		if (take_excluded(excl, nexcl, name)) {
			rc = dynbuf_printf(&out, "[+]%s excluded: ok\n", name);
		} else if (run_check(h, &p->checks[i], err, sizeof(err))) {
			rc = dynbuf_printf(&out, "[+]%s ok\n", name);
		} else {
			failed = true;
			log_v(2, "%s check failed: %s: %s", p->name, name, err);
			rc = dynbuf_printf(&out, "[-]%s failed: reason withheld\n", name);
		}
	}
	rc = rc ? rc : add_unmatched(&out, excl, nexcl);
	(void)server_query(x, "verbose", &verbose);
	if (rc == 0 && failed)
		rc = dynbuf_printf(&out, "%s check failed\n", p->name);
	else if (rc == 0 && verbose)
		rc = dynbuf_printf(&out, "%s check passed\n", p->name);
	if (rc != 0)
		server_reply_text(x, 500, "health output too large\n");
	else
		server_reply_text(x, failed ? 500 : 200, failed || verbose ? out.buf : "ok");
	dynbuf_clear(&out);
}

void server_health_handler(void *ud, struct server_exchange *x)
{
	struct server_health *h = ud;
	const char *path = x->path + (x->path[0] == '/');

	for (size_t i = 0; i < COMMON_ARRAY_LEN(probes); i++) {
		size_t len = strlen(probes[i].name);

		if (strncmp(path, probes[i].name, len) != 0)
			continue;
		if (path[len] == '\0') {
			serve_all(h, &probes[i], x);
			return;
		}
		if (path[len] == '/') {
			serve_one(h, &probes[i], path + len + 1, x);
			return;
		}
	}
	server_reply_text(x, 404, "404 page not found\n");
}
