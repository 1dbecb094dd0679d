/*
 * transfer.c - one scrape round over many kubelets on the calling thread
 * (conn.c speaks HTTPS, driver.c runs the sockets and deadlines).
 *
 * Every node keeps one connection across rounds, so its HTTP/1.1
 * connection is reused.  Decoders are only needed while a request runs:
 * a few, taken from a pool at the start and given back at the end (with
 * their grown buffers), serve every node.  A round staggers the starts as
 * metrics-server does (each node waits rand[0, min(8 ms * nodes, 4 s))),
 * optionally bounds how many run at once, and gives each request
 * --kubelet-request-timeout (never past the round's deadline).  Bytes go
 * straight from the driver's receive buffer into the node's decoder; a
 * failed node adds nothing to the batch.  What every connection shares
 * (TLS credentials with the client certificate, the priority, the trust
 * list, the proxy, the resolver) is made once here.
 */
#include "scraper/scraper_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DELAY_PER_NODE_MS 8
#define MAX_DELAY_MS 4000
#define START_TICK_MS 50  /* starts are batched so one wake-up serves several */
#define STEP_MAX_MS 1000
/* Go's client offers TLS 1.3 and 1.2 and the groups X25519, P-256, P-384,
 * P-521 in that order (X25519 is also the cheapest key exchange). */
#define PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-GROUP-ALL:+GROUP-X25519:" \
		 "+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1"

struct round;

struct xfer {
	struct scraper__transfer *t;
	char *node;
	const struct kube_node *kn; /* borrowed for the current round */
	struct scraper__conn *conn; /* kept across rounds: its connection is reused */
	struct scraper_decoder *dec; /* from the pool while its request runs */
	struct scraper__node_series *series;
	int64_t start_at;     /* monotonic, jittered */
	int64_t began_mono;
	bool running;         /* its request is in flight */
	struct scraper__request req;
	char url[512];        /* req.path points into it */
	char host[256];       /* of url, without brackets: dialed, and what the certificate must name */
	char hostport[272];   /* of url, as written there */
	struct scraper__tls_seen seen;
};

struct scraper__transfer {
	const struct scraper_options *o;
	struct scraper__metrics *m;
	struct scraper__driver *drv;
	struct scraper__resolver *res;
	struct scraper__conn_env env;
	struct xfer **x; /* sorted by node name */
	size_t n;
	struct round *round; /* the one running, or NULL */
	struct scraper_decoder **spare; /* the decoder pool */
	size_t nspare, cap_spare;
	char *token;
	struct scraper__proxy proxy;        /* from the environment, read once */
	gnutls_certificate_credentials_t creds;
	gnutls_priority_t prio;
	struct scraper__verifier *verifier; /* NULL with --kubelet-insecure-tls */
	char verifier_err[256];             /* why there is none although verifying */
	char creds_err[512];                /* why the client certificate is unusable */
	uint64_t rng;
	atomic_bool abort;
};

struct round {
	struct scraper__transfer *t;
	struct xfer **order; /* by start time */
	size_t n, next, active;
	int64_t deadline;
	struct store_batch *batch;
	struct scraper__round_result *res;
};

/* ---- auth ---------------------------------------------------------------------- */

static void wipe_free(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

/* The bearer token for this round (the file is re-read, as client-go
 * does); keeps the previous one when the file cannot be read. */
static void refresh_auth(struct scraper__transfer *t)
{
	const char *tok = t->o->bearer_token;
	struct dynbuf b;

	dynbuf_init(&b, DYN_SMALL);
	if (t->o->bearer_token_file) {
		if (dynbuf_read_file(&b, t->o->bearer_token_file) == 0 && b.len) {
			while (b.len && (b.buf[b.len - 1] == '\n' || b.buf[b.len - 1] == '\r' ||
					 b.buf[b.len - 1] == ' '))
				b.buf[--b.len] = '\0';
			tok = b.buf;
		} else {
			log_error("\"Cannot read the bearer token file\" path=\"%s\"",
				  t->o->bearer_token_file);
			tok = t->token;
		}
	}
	if (tok && strpbrk(tok, "\r\n")) {
		log_error("\"Ignoring a bearer token with a line break\"");
		tok = NULL;
	}
	if ((tok == NULL) != (t->token == NULL) || (tok && strcmp(tok, t->token) != 0)) {
		char *old = t->token;

		t->token = tok ? xstrdup(tok) : NULL;
		wipe_free(old);
	}
	if (b.buf)
		memset(b.buf, 0, b.len);
	dynbuf_clear(&b);
}

/* ---- TLS set-up shared by every connection ------------------------------------- */

/* Credentials (with the client certificate, loaded once), the priority and
 * the trust list; a failure is logged once and fails every request. */
static void tls_setup(struct scraper__transfer *t)
{
	const struct scraper_options *o = t->o;
	const char *cert = o->client_cert_file, *key = o->client_key_file;
	int rc;

	if (gnutls_certificate_allocate_credentials(&t->creds) < 0 ||
	    gnutls_priority_init(&t->prio, PRIORITY, NULL) < 0) {
		fprintf(stderr, "fatal: cannot set up GnuTLS for the scraper\n");
		abort();
	}
	if (cert || key) {
		rc = cert ? gnutls_certificate_set_x509_key_file(t->creds, cert, key ? key : cert,
								 GNUTLS_X509_FMT_PEM)
			  : GNUTLS_E_INVALID_REQUEST;
		if (rc < 0) {
			snprintf(t->creds_err, sizeof(t->creds_err),
				 "cannot load the kubelet client certificate \"%.200s\" / key \"%.200s\": %s",
				 cert ? cert : "", key ? key : "", gnutls_strerror(rc));
			log_error("\"Cannot use the kubelet client certificate\" err=\"%s\"",
				  t->creds_err);
		}
	}
	if (!o->insecure_tls) {
		t->verifier = scraper__verifier_new(o->ca_file, o->ca_data, t->verifier_err,
						    sizeof(t->verifier_err));
		if (!t->verifier)
			log_error("\"Cannot verify kubelet certificates\" err=\"%s\"", t->verifier_err);
	}
	t->env = (struct scraper__conn_env){
		.drv = t->drv,
		.res = t->res,
		.creds = t->creds,
		.prio = t->prio,
		.insecure = o->insecure_tls,
		.verifier = t->verifier,
		.verify_err = t->verifier_err,
		.creds_err = t->creds_err[0] ? t->creds_err : NULL,
	};
}

/* ---- the decoder pool ---------------------------------------------------- */

static void take_decoder(struct scraper__transfer *t, struct xfer *x)
{
	x->dec = t->nspare ? t->spare[--t->nspare] : scraper_decoder_new(x->node, 0);
}

static void give_decoder(struct scraper__transfer *t, struct xfer *x)
{
	if (!x->dec)
		return;
	if (t->nspare == t->cap_spare) {
		t->cap_spare = t->cap_spare ? 2 * t->cap_spare : 16;
		t->spare = xrealloc(t->spare, t->cap_spare * sizeof(*t->spare));
	}
	t->spare[t->nspare++] = x->dec;
	x->dec = NULL;
}

/* After a round: what a burst of concurrent requests (the first round's
 * handshakes) needed beyond a few is freed. */
static void trim_decoders(struct scraper__transfer *t, size_t keep)
{
	while (t->nspare > keep)
		scraper_decoder_free(t->spare[--t->nspare]);
}

/* ---- targets ------------------------------------------------------------- */

static struct xfer *xfer_new(struct scraper__transfer *t, const char *node)
{
	struct xfer *x = xcalloc(1, sizeof(*x));

	x->t = t;
	x->node = xstrdup(node);
	x->conn = scraper__conn_new(&t->env);
	x->series = scraper__metrics_node(t->m, node);
	return x;
}

static void xfer_free(struct scraper__transfer *t, struct xfer *x)
{
	scraper__conn_free(x->conn);
	scraper__tls_seen_clear(&x->seen);
	scraper_decoder_free(x->dec);
	scraper__metrics_drop(t->m, x->series);
	free(x->node);
	free(x);
}

/* Makes t->x the nodes' targets, in the nodes' order: kept ones are
 * reused, new nodes get one, vanished nodes lose theirs. */
static void sync_targets(struct scraper__transfer *t, const struct kube_node *const *nodes,
			 size_t n)
{
	struct xfer **y = xcalloc(n ? n : 1, sizeof(*y));
	size_t i = 0;

	for (size_t j = 0; j < n; j++) {
		int c = 1;
		while (i < t->n && (c = strcmp(t->x[i]->node, nodes[j]->name)) < 0)
			xfer_free(t, t->x[i++]);
		y[j] = c == 0 ? t->x[i++] : xfer_new(t, nodes[j]->name);
		y[j]->kn = nodes[j];
	}
	while (i < t->n)
		xfer_free(t, t->x[i++]);
	free(t->x);
	t->x = y;
	t->n = n;
}

/* ---- one node's outcome ---------------------------------------------------- */

/* err as a klog value: quotes and backslashes escaped, controls dropped. */
void scraper__klog_quote(const char *s, char *buf, size_t len)
{
	size_t j = 0;

	for (; *s && j + 3 < len; s++) {
		if (*s == '"' || *s == '\\')
			buf[j++] = '\\';
		if ((unsigned char)*s >= ' ')
			buf[j++] = *s;
	}
	buf[j] = '\0';
}

static void log_failure(const struct scraper__transfer *t, const struct xfer *x, const char *err,
			bool timeout)
{
	char q[1200], tmo[40];

	scraper__klog_quote(err, q, sizeof(q));
	if (!x->kn->ready) {
		log_v(4, "\"Failed to scrape node, node is not ready\" node=\"%s\" err=\"%s\"", x->node, q);
	} else if (timeout) {
		fmt_go_duration(t->o->request_timeout_ns, tmo, sizeof(tmo));
		log_error("\"Failed to scrape node, timeout to access kubelet\" err=\"%s\" node=\"%s\" "
			  "timeout=\"%s\"",
			  q, x->node, tmo);
	} else {
		log_error("\"Failed to scrape node\" err=\"%s\" node=\"%s\"", q, x->node);
	}
}

/* Records the outcome of x (err: conn's text with SCRAPER__FAILED);
 * adds its points to batch on success. */
static bool finish_one(struct scraper__transfer *t, struct xfer *x, enum scraper__outcome oc,
		       int status, const char *reason, const char *err0, struct store_batch *batch)
{
	char err[1024] = "";
	bool failed = oc != SCRAPER__OK;

	switch (oc) {
	case SCRAPER__OK:
		if (scraper_decoder_finish(x->dec, batch)) {
			snprintf(err, sizeof(err), "%s", scraper_decoder_error(x->dec));
			failed = true;
		}
		break;
	case SCRAPER__STATUS:
		snprintf(err, sizeof(err), "request failed, status: \"%d %s\"", status, reason);
		break;
	case SCRAPER__REFUSED:
		snprintf(err, sizeof(err), "%s", scraper_decoder_error(x->dec));
		break;
	case SCRAPER__TIMEOUT:
		snprintf(err, sizeof(err), "Get \"%s\": context deadline exceeded", x->url);
		break;
	case SCRAPER__FAILED:
		snprintf(err, sizeof(err), "%s", err0 ? err0 : "failed");
		break;
	}
	give_decoder(t, x);
	if (failed)
		log_failure(t, x, err, oc == SCRAPER__TIMEOUT);
	scraper__metrics_request(t->m, x->series, (double)(clock_mono_ns() - x->began_mono) / 1e9,
				 !failed, clock_now_ns() / NS_PER_SEC);
	return !failed;
}

static void count(struct round *r, bool ok)
{
	if (ok)
		r->res->ok++;
	else
		r->res->failed++;
}

/* conn's done(): a request ended. */
static int on_body(void *ud, const char *p, size_t n)
{
	struct xfer *x = ud;

	return scraper_decoder_feed(x->dec, p, n);
}

static void on_done(void *ud, enum scraper__outcome oc, int status, const char *reason,
		    const char *err)
{
	struct xfer *x = ud;
	struct round *r = x->t->round;

	x->running = false;
	r->active--;
	count(r, finish_one(x->t, x, oc, status, reason, err, r->batch));
}

/* Starts x's request (its end may be counted before this returns). */
static void start_one(struct scraper__transfer *t, struct round *r, struct xfer *x, int64_t now)
{
	char err[300];
	int64_t left = r->deadline - now;
	int64_t tmo = t->o->request_timeout_ns < left ? t->o->request_timeout_ns : left;

	x->began_mono = now;
	if (scraper_node_url(t->o, x->kn, x->url, sizeof(x->url), err, sizeof(err))) {
		x->url[0] = '\0';
		count(r, finish_one(t, x, SCRAPER__FAILED, 0, "", err, r->batch));
		return;
	}
	if (tmo < NS_PER_MS) {
		count(r, finish_one(t, x, SCRAPER__TIMEOUT, 0, "", NULL, r->batch));
		return;
	}
	if (scraper__url_split(x->url, x->hostport, sizeof(x->hostport), x->host,
			       sizeof(x->host), &x->req)) {
		snprintf(err, sizeof(err), "parse \"%.200s\": invalid URL", x->url);
		count(r, finish_one(t, x, SCRAPER__FAILED, 0, "", err, r->batch));
		return;
	}
	take_decoder(t, x);
	scraper_decoder_reset(x->dec, x->node, clock_now_ns());
	x->req.url = x->url;
	x->req.host = x->host;
	x->req.hostport = x->hostport;
	x->req.token = t->token;
	x->req.proxy = scraper__proxy_use(&t->proxy, x->host, x->req.port) ? &t->proxy : NULL;
	x->req.seen = &x->seen;
	x->req.deadline = now + tmo;
	x->req.max_body = DYN_KUBELET_BODY;
	x->req.body = on_body;
	x->req.done = on_done;
	x->req.ud = x;
	log_v(2, "\"Scraping node\" node=\"%s\"", x->node);
	x->running = true;
	r->active++;
	scraper__conn_start(x->conn, &x->req);
}

/* ---- the round ----------------------------------------------------------------- */

static uint64_t next_rand(struct scraper__transfer *t)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * UINT64_C(2685821657736338717);
}

static int by_start(const void *a, const void *b)
{
	int64_t x = (*(struct xfer *const *)a)->start_at, y = (*(struct xfer *const *)b)->start_at;

	return (x > y) - (x < y);
}

/* metrics-server's stagger: rand.Intn(min(8ms * nodes, 4s)) per node,
 * rounded down to a START_TICK_MS boundary. */
static void plan_starts(struct scraper__transfer *t, struct round *r, int64_t now)
{
	uint64_t delay_ms = (uint64_t)DELAY_PER_NODE_MS * r->n;

	if (delay_ms > MAX_DELAY_MS)
		delay_ms = MAX_DELAY_MS;
	for (size_t i = 0; i < r->n; i++) {
		r->order[i] = t->x[i];
		r->order[i]->start_at = now;
		if (delay_ms)
			r->order[i]->start_at += (int64_t)(next_rand(t) % delay_ms / START_TICK_MS *
							   START_TICK_MS) * NS_PER_MS;
	}
	qsort(r->order, r->n, sizeof(*r->order), by_start);
}

static void launch_due(struct scraper__transfer *t, struct round *r, int64_t now)
{
	size_t max = t->o->max_concurrency;

	while (r->next < r->n && r->order[r->next]->start_at <= now && (!max || r->active < max))
		start_one(t, r, r->order[r->next++], now);
}

/* Stop requested: running and pending nodes fail without noise. */
static void abandon(struct round *r)
{
	for (size_t i = 0; i < r->next; i++) {
		if (r->order[i]->running) {
			scraper__conn_cancel(r->order[i]->conn);
			r->order[i]->running = false;
			give_decoder(r->t, r->order[i]);
		}
	}
	r->res->failed += r->n - r->next + r->active;
	r->next = r->n;
	r->active = 0;
}

/* Milliseconds to wait before a start is due (the driver lowers it
 * further for the connections' deadlines). */
static int wait_ms(const struct scraper__transfer *t, const struct round *r, int64_t now)
{
	size_t max = t->o->max_concurrency;
	int64_t ms = STEP_MAX_MS;

	if (r->next < r->n && (!max || r->active < max)) {
		int64_t due = (r->order[r->next]->start_at - now + NS_PER_MS - 1) / NS_PER_MS;
		if (due < ms)
			ms = due < 0 ? 0 : due;
	}
	return (int)ms;
}

void scraper__transfer_round(struct scraper__transfer *t, const struct kube_node *const *nodes,
			     size_t n, int64_t deadline_mono_ns, struct store_batch *batch,
			     struct scraper__round_result *res)
{
	struct round r = {t, NULL, n, 0, 0, deadline_mono_ns, batch, res};

	res->ok = res->failed = 0;
	sync_targets(t, nodes, n);
	refresh_auth(t);
	r.order = xcalloc(n ? n : 1, sizeof(*r.order));
	t->round = &r;
	plan_starts(t, &r, clock_mono_ns());
	scraper__driver_step(t->drv, 0); /* idle connections the kubelets closed meanwhile */
	while (r.next < r.n || r.active) {
		if (atomic_load(&t->abort)) {
			abandon(&r);
			break;
		}
		launch_due(t, &r, clock_mono_ns());
		if (r.next >= r.n && !r.active)
			break;
		scraper__driver_step(t->drv, wait_ms(t, &r, clock_mono_ns()));
	}
	t->round = NULL;
	free(r.order);
	trim_decoders(t, SCRAPER__SPARE_DECODERS); /* more only while many run at once */
}

void scraper__transfer_idle(struct scraper__transfer *t, int64_t until_mono_ns)
{
	for (;;) {
		int64_t left = until_mono_ns - clock_mono_ns();

		if (atomic_load(&t->abort) || left <= 0)
			return;
		left = (left + NS_PER_MS - 1) / NS_PER_MS;
		scraper__driver_step(t->drv, left < STEP_MAX_MS ? (int)left : STEP_MAX_MS);
	}
}

/* ---- life cycle ------------------------------------------------------------------ */

struct scraper__transfer *scraper__transfer_new(const struct scraper_options *o,
						struct scraper__metrics *m)
{
	struct scraper__transfer *t = xcalloc(1, sizeof(*t));
	char err[256];

	t->o = o;
	t->m = m;
	t->drv = scraper__driver_new();
	t->res = scraper__resolver_new(t->drv);
	/* Go's ProxyFromEnvironment reads HTTPS_PROXY / NO_PROXY once per process */
	if (scraper__proxy_from_env(&t->proxy, err, sizeof(err)) != 0)
		log_error("\"Ignoring the proxy settings\" err=\"%s\"", err);
	tls_setup(t);
	t->rng = (uint64_t)clock_mono_ns() ^ (uint64_t)(uintptr_t)t ^ UINT64_C(0x9e3779b97f4a7c15);
	if (!t->rng)
		t->rng = 1;
	atomic_init(&t->abort, false);
	return t;
}

void scraper__transfer_abort(struct scraper__transfer *t)
{
	atomic_store(&t->abort, true);
	scraper__driver_wakeup(t->drv);
}

void scraper__transfer_free(struct scraper__transfer *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		xfer_free(t, t->x[i]);
	free(t->x);
	trim_decoders(t, 0);
	free(t->spare);
	scraper__resolver_free(t->res);
	scraper__driver_free(t->drv);
	wipe_free(t->token);
	scraper__verifier_free(t->verifier);
	gnutls_priority_deinit(t->prio);
	gnutls_certificate_free_credentials(t->creds);
	scraper__proxy_clear(&t->proxy);
	free(t);
}
