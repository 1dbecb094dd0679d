/*
 * appround.c - a round over application targets (pods' and exporters'
 * /metrics) with the kubelet path's engine: per target one kept-alive
 * scraper__conn on one driver (epoll set, deadlines) and one series
 * session per scrape.  Body bytes go straight from the shared receive
 * buffer to an expfmt parser, whose samples go to the session: nothing is
 * allocated per sample once the buffers have grown.  Parsers are pooled
 * (struct body): a target holds one only while its body is being read, so
 * their memory follows the bodies in progress, not the targets.  See
 * scraper_apps_round() in scraper.h.
 */
#include "scraper/scraper_int.h"
#include "scraper/apps_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "series/series.h"

#define DEFAULT_TIMEOUT_NS (10 * NS_PER_SEC)
#define MAX_BODY (1ull << 30)   /* without body_size_limit */
#define STEP_MS 100
#define STOP_SERIES 7           /* sample callback: the store refused (a limit) */

/* What reading one body needs: the parser and the sample callback's
 * buffers.  Taken from scraper_apps.idle when a body starts, given back
 * when its scrape ends. */
struct body {
	struct body *next;      /* in scraper_apps.idle */
	struct app *x;          /* the scrape it reads for */
	struct scraper_expfmt *parser;
	struct series_label *lbuf;
	size_t lcap;
	char *kept_name;        /* the last name keep_series was asked about */
	size_t kept_cap;
	bool kept;              /* its answer */
};

struct app {
	struct scraper_apps *a;
	char *key, *url;
	struct labels labels;
	char *host, *hostport;  /* split from url when it is set; NULL: url is invalid */
	struct scraper__request req; /* its fixed fields set with url */
	struct scraper__conn *conn;
	struct scraper__tls_seen seen;
	struct body *body;      /* while a body is read (started), else NULL */
	struct series_scrape *sc;
	char ctype[160];
	bool running, started;
	bool store_full;        /* the series store refused a sample (a limit) */
	int perr;               /* the parser's error code (ERR_PARSE, ERR_TOOBIG), or 0 */
};

struct scraper_apps {
	struct scraper_app_options o;
	char *ca_file;
	struct series *ser;
	struct scraper__driver *drv;
	struct scraper__resolver *res;
	gnutls_certificate_credentials_t creds;
	gnutls_priority_t prio;
	struct scraper__verifier *verifier;
	char verify_err[256];
	struct scraper__conn_env env;
	struct app **apps; /* sorted by key */
	size_t n;
	struct body *idle; /* parsers not reading a body now */
	size_t active, failed;
	size_t failed_by[SCRAPER_APP_NFAIL];
	atomic_bool abort;
};

static const char *const fail_reasons[SCRAPER_APP_NFAIL] = {
	[SCRAPER_APP_FAIL_ABORTED] = "aborted",
	[SCRAPER_APP_FAIL_CONNECTION] = "connection",
	[SCRAPER_APP_FAIL_HTTP_STATUS] = "http_status",
	[SCRAPER_APP_FAIL_PARSE] = "parse",
	[SCRAPER_APP_FAIL_SERIES_LIMIT] = "series_limit",
	[SCRAPER_APP_FAIL_TARGET_LIMIT] = "target_limit",
	[SCRAPER_APP_FAIL_TIMEOUT] = "timeout",
};

const char *scraper_app_fail_reason(enum scraper_app_fail f)
{
	return (unsigned)f < SCRAPER_APP_NFAIL ? fail_reasons[f] : "";
}

/* ---- the sample callback: parser -> series session ----------------------------------- */

/* Whether samples named name are stored; asked once per run of a name
 * (the series of a family come together). */
static bool keep(struct body *b, const char *name)
{
	const struct scraper_app_options *o = &b->x->a->o;
	size_t n;

	if (!o->keep_series)
		return true;
	if (b->kept_name && strcmp(b->kept_name, name) == 0)
		return b->kept;
	n = strlen(name) + 1;
	if (n > b->kept_cap) {
		b->kept_cap = n * 2;
		b->kept_name = xrealloc(b->kept_name, b->kept_cap);
	}
	memcpy(b->kept_name, name, n);
	b->kept = o->keep_series(o->keep_ud, name);
	return b->kept;
}

static int on_sample(void *ud, const struct scraper_expfmt_sample *s)
{
	struct body *b = ud;
	struct app *x = b->x;

	if (s->created)
		return 0; /* OpenMetrics _created: not a series of its own (Prometheus 2) */
	if (!keep(b, s->name))
		return 0;
	if (s->nlabels > b->lcap) {
		b->lcap = s->nlabels * 2;
		b->lbuf = xrealloc(b->lbuf, b->lcap * sizeof(*b->lbuf));
	}
	for (size_t i = 0; i < s->nlabels; i++)
		b->lbuf[i] = (struct series_label){s->labels[i].name, s->labels[i].value};
	if (series_scrape_add(x->sc, s->name, b->lbuf, s->nlabels, s->value, s->has_ts,
			      s->ts_ms) == ERR_TOOBIG) {
		x->store_full = true;
		return STOP_SERIES; /* the commit says why */
	}
	return 0;
}

/* ---- the parser pool ----------------------------------------------------------------- */

static struct body *body_take(struct scraper_apps *a, struct app *x)
{
	struct body *b = a->idle;

	if (b) {
		a->idle = b->next;
	} else {
		b = xcalloc(1, sizeof(*b));
		b->parser = scraper_expfmt_new(SCRAPER_EXPFMT_TEXT, &a->o.limits, on_sample, b);
	}
	b->next = NULL;
	b->x = x;
	return b;
}

static void body_free(struct body *b);

/* A parser grown past this by a big target is freed rather than pooled:
 * its reset would clear the big tables for every small body after it. */
#define POOLED_PARSER_MAX (256u << 10)

static void body_give(struct scraper_apps *a, struct body *b)
{
	if (scraper_expfmt_footprint(b->parser) > POOLED_PARSER_MAX) {
		body_free(b);
		return;
	}
	b->x = NULL;
	b->next = a->idle;
	a->idle = b;
}

static void body_free(struct body *b)
{
	scraper_expfmt_free(b->parser);
	free(b->lbuf);
	free(b->kept_name);
	free(b);
}

/* ---- one target's request ------------------------------------------------------------ */

static void log_failure(const struct app *x, const char *err)
{
	char q[1200], u[600];

	scraper__klog_quote(err, q, sizeof(q));
	scraper__klog_quote(x->url, u, sizeof(u));
	log_error("\"Failed to scrape target\" target=\"%s\" url=\"%s\" err=\"%s\"", x->key, u, q);
}

/* Ends the session: commit (ok) or abort, with the failure counted under
 * why (a refused commit: series_limit) and logged (an abort at shutdown is
 * logged once for the round, see abandon). */
static void end_scrape(struct app *x, bool ok, const char *err, enum scraper_app_fail why)
{
	char cerr[512];

	if (ok && series_scrape_commit(x->sc, cerr, sizeof(cerr)) != 0) {
		ok = false;
		err = cerr;
		why = SCRAPER_APP_FAIL_SERIES_LIMIT;
	} else if (!ok) {
		series_scrape_abort(x->sc);
	}
	x->sc = NULL;
	if (!ok) {
		x->a->failed++;
		x->a->failed_by[why]++;
		if (why != SCRAPER_APP_FAIL_ABORTED)
			log_failure(x, err); /* err may be the parser's: give it back after */
	}
	if (x->body) {
		body_give(x->a, x->body);
		x->body = NULL;
	}
}

/* The reason of a parser failure: a limit or a malformed line. */
static enum scraper_app_fail parse_failure(const struct app *x)
{
	return x->perr == ERR_TOOBIG ? SCRAPER_APP_FAIL_TARGET_LIMIT : SCRAPER_APP_FAIL_PARSE;
}

/* The format from the answer's Content-Type, the parser reset for it. */
static void start_body(struct app *x)
{
	enum scraper_expfmt_format f;

	(void)scraper_expfmt_format_of(x->ctype[0] ? x->ctype : NULL, &f); /* text otherwise */
	if (!x->body)
		x->body = body_take(x->a, x);
	scraper_expfmt_reset(x->body->parser, f);
	x->started = true;
}

static int on_body(void *ud, const char *p, size_t n)
{
	struct app *x = ud;

	if (!x->started)
		start_body(x);
	x->perr = scraper_expfmt_feed(x->body->parser, p, n);
	return x->perr != 0;
}

static void on_done(void *ud, enum scraper__outcome oc, int status, const char *reason,
		    const char *err)
{
	struct app *x = ud;
	char what[700];

	x->running = false;
	x->a->active--;
	switch (oc) {
	case SCRAPER__OK:
		if (!x->started)
			start_body(x);
		if ((x->perr = scraper_expfmt_finish(x->body->parser)) != 0 && !x->store_full) {
			end_scrape(x, false, scraper_expfmt_error(x->body->parser), parse_failure(x));
			return;
		}
		/* store_full: the commit fails with the store's text */
		end_scrape(x, true, NULL, SCRAPER_APP_FAIL_SERIES_LIMIT);
		return;
	case SCRAPER__REFUSED:
		end_scrape(x, x->store_full, scraper_expfmt_error(x->body->parser), parse_failure(x));
		return;
	case SCRAPER__STATUS:
		snprintf(what, sizeof(what), "server returned HTTP status %d %s", status, reason);
		end_scrape(x, false, what, SCRAPER_APP_FAIL_HTTP_STATUS);
		return;
	case SCRAPER__TIMEOUT:
		snprintf(what, sizeof(what), "Get \"%.500s\": context deadline exceeded", x->url);
		end_scrape(x, false, what, SCRAPER_APP_FAIL_TIMEOUT);
		return;
	default:
		end_scrape(x, false, err ? err : "unknown error", SCRAPER_APP_FAIL_CONNECTION);
		return;
	}
}

static void start_one(struct scraper_apps *a, struct app *x, int64_t now_ms, int64_t deadline)
{
	char err[600];

	x->sc = series_scrape_begin(a->ser, x->key, &x->labels, now_ms);
	if (!x->sc) {
		a->failed++;
		a->failed_by[SCRAPER_APP_FAIL_SERIES_LIMIT]++;
		log_failure(x, "a scrape of this target is already open");
		return;
	}
	x->started = false;
	x->store_full = false;
	x->perr = 0;
	if (atomic_load(&a->abort)) {
		end_scrape(x, false, NULL, SCRAPER_APP_FAIL_ABORTED);
		return;
	}
	if (!x->host) {
		snprintf(err, sizeof(err), "parse \"%.400s\": invalid URL", x->url);
		end_scrape(x, false, err, SCRAPER_APP_FAIL_CONNECTION);
		return;
	}
	x->req.deadline = deadline;
	x->running = true;
	a->active++;
	scraper__conn_start(x->conn, &x->req);
}

/* ---- the targets between rounds ------------------------------------------------------- */

/* Sets x's URL and the request fields that follow from it (split once
 * here, not every round; host and hostport at their exact size). */
static void app_set_url(struct app *x, const char *url)
{
	char hostport[272], host[256];

	free(x->url);
	free(x->host);
	free(x->hostport);
	x->url = xstrdup(url);
	x->host = x->hostport = NULL;
	x->req = (struct scraper__request){0};
	if (scraper__url_split(x->url, hostport, sizeof(hostport), host, sizeof(host), &x->req) == 0) {
		x->host = xstrdup(host);
		x->hostport = xstrdup(hostport);
	}
	x->req.url = x->url;
	x->req.host = x->host;
	x->req.hostport = x->hostport;
	x->req.accept = SCRAPER_EXPFMT_ACCEPT;
	x->req.ctype = x->ctype;
	x->req.ctype_cap = sizeof(x->ctype);
	x->req.seen = &x->seen;
	/* body_size_limit is the parser's, with Prometheus' text */
	x->req.max_body = MAX_BODY;
	x->req.body = on_body;
	x->req.done = on_done;
	x->req.ud = x;
}

static struct app *app_new(struct scraper_apps *a, const struct scraper_app_target *t)
{
	struct app *x = xcalloc(1, sizeof(*x));

	x->a = a;
	x->key = xstrdup(t->key);
	app_set_url(x, t->url);
	labels_init(&x->labels);
	labels_copy(&x->labels, &t->labels);
	x->conn = scraper__conn_new(&a->env);
	return x;
}

static void app_free(struct app *x)
{
	scraper__conn_free(x->conn);
	if (x->sc)
		series_scrape_abort(x->sc);
	if (x->body)
		body_free(x->body);
	scraper__tls_seen_clear(&x->seen);
	labels_clear(&x->labels);
	free(x->key);
	free(x->url);
	free(x->host);
	free(x->hostport);
	free(x);
}

/* Merges the round's targets (sorted) into a->apps: new ones made, gone
 * ones removed from the series store, the others' URL and labels updated. */
static size_t sync_targets(struct scraper_apps *a, const struct scraper_app_target *t, size_t n,
			   int64_t now_ms)
{
	struct app **next = xcalloc(n ? n : 1, sizeof(*next));
	size_t i = 0, j = 0, removed = 0;

	while (i < a->n || j < n) {
		int c = i >= a->n ? 1 : j >= n ? -1 : strcmp(a->apps[i]->key, t[j].key);

		if (c < 0) {
			series_target_remove(a->ser, a->apps[i]->key, now_ms);
			app_free(a->apps[i++]);
			removed++;
		} else if (c > 0) {
			next[j] = app_new(a, &t[j]);
			j++;
		} else {
			struct app *x = a->apps[i++];

			if (strcmp(x->url, t[j].url) != 0)
				app_set_url(x, t[j].url);
			labels_clear(&x->labels);
			labels_init(&x->labels);
			labels_copy(&x->labels, &t[j].labels);
			next[j++] = x;
		}
	}
	free(a->apps);
	a->apps = next;
	a->n = n;
	return removed;
}

/* ---- the round ------------------------------------------------------------------------- */

/* The round was aborted (scraper__apps_abort): every running request is
 * cancelled and its session aborted; one log line for them all. */
static void abandon(struct scraper_apps *a)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n; i++) {
		struct app *x = a->apps[i];

		if (!x->running)
			continue;
		scraper__conn_cancel(x->conn);
		x->running = false;
		a->active--;
		end_scrape(x, false, NULL, SCRAPER_APP_FAIL_ABORTED);
		n++;
	}
	log_info("\"Application scrape round aborted\" unanswered=%zu", n);
}

void scraper_apps_round(struct scraper_apps *a, const struct scraper_app_target *t, size_t n,
			struct scraper_app_round_stats *out)
{
	int64_t start = clock_mono_ns(), now_ms = clock_now_ns() / NS_PER_MS;
	int64_t deadline = start + (a->o.timeout_ns > 0 ? a->o.timeout_ns : DEFAULT_TIMEOUT_NS);
	size_t removed = sync_targets(a, t, n, now_ms);

	a->failed = 0;
	memset(a->failed_by, 0, sizeof(a->failed_by));
	scraper__driver_step(a->drv, 0); /* idle connections closed meanwhile */
	for (size_t i = 0; i < a->n; i++)
		start_one(a, a->apps[i], now_ms, deadline);
	while (a->active) {
		if (atomic_load(&a->abort)) {
			abandon(a);
			break;
		}
		scraper__driver_step(a->drv, STEP_MS); /* an abort wakes it */
	}
	if (out) {
		*out = (struct scraper_app_round_stats){.targets = a->n, .failed = a->failed,
							.removed = removed};
		memcpy(out->failed_by, a->failed_by, sizeof(a->failed_by));
		out->duration_ns = clock_mono_ns() - start;
	}
}

void scraper__apps_abort(struct scraper_apps *a)
{
	atomic_store(&a->abort, true);
	scraper__driver_wakeup(a->drv);
}

void scraper__apps_idle(struct scraper_apps *a, int64_t until_mono_ns)
{
	for (;;) {
		int64_t left = until_mono_ns - clock_mono_ns();

		if (atomic_load(&a->abort) || left <= 0)
			return;
		left = (left + NS_PER_MS - 1) / NS_PER_MS;
		scraper__driver_step(a->drv, left < 1000 ? (int)left : 1000);
	}
}

/* ---- life ------------------------------------------------------------------------------ */

struct scraper_apps *scraper_apps_new(const struct scraper_app_options *o, struct series *ser)
{
	struct scraper_apps *a = xcalloc(1, sizeof(*a));

	a->o = *o;
	a->ca_file = o->ca_file ? xstrdup(o->ca_file) : NULL;
	a->o.ca_file = a->ca_file;
	a->ser = ser;
	atomic_init(&a->abort, false);
	a->drv = scraper__driver_new();
	a->res = scraper__resolver_new(a->drv);
	if (gnutls_certificate_allocate_credentials(&a->creds) < 0 ||
	    gnutls_priority_init(&a->prio, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", NULL) < 0) {
		fprintf(stderr, "fatal: cannot set up GnuTLS for the application scraper\n");
		abort();
	}
	if (!o->insecure_tls) {
		a->verifier = scraper__verifier_new(a->ca_file, NULL, a->verify_err,
						    sizeof(a->verify_err));
		if (!a->verifier)
			log_error("\"Cannot verify application targets' certificates\" err=\"%s\"",
				  a->verify_err);
	}
	a->env = (struct scraper__conn_env){
		.drv = a->drv, .res = a->res, .creds = a->creds, .prio = a->prio,
		.insecure = o->insecure_tls, .verifier = a->verifier, .verify_err = a->verify_err,
	};
	return a;
}

void scraper_apps_free(struct scraper_apps *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		app_free(a->apps[i]);
	free(a->apps);
	while (a->idle) {
		struct body *b = a->idle;

		a->idle = b->next;
		body_free(b);
	}
	scraper__resolver_free(a->res);
	scraper__driver_free(a->drv);
	scraper__verifier_free(a->verifier);
	gnutls_priority_deinit(a->prio);
	gnutls_certificate_free_credentials(a->creds);
	free(a->ca_file);
	free(a);
}
