/*
 * transfer.c - one scrape round over many kubelets with libcurl on the
 * calling thread (driver.c runs the sockets).
 *
 * Every node keeps one easy handle (and its decoder) across rounds, on
 * the same driver shard, so its HTTP/1.1 connection stays in that
 * shard's cache and is reused.  A round staggers the starts as metrics-server does (each node
 * waits rand[0, min(8 ms * nodes, 4 s))), optionally bounds how many run
 * at once, and gives each request --kubelet-request-timeout (never past
 * the round's deadline).  Bytes go straight from libcurl's buffer into
 * the node's decoder; a failed node adds nothing to the batch.
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
#define USER_AGENT "metrics-apiserver (linux) scraper"

enum xfer_fail { XF_NONE, XF_DECODE, XF_BODY, XF_STATUS, XF_TLS };

struct xfer {
	struct scraper__transfer *t;
	char *node;
	const struct kube_node *kn; /* borrowed for the current round */
	CURL *easy;
	uint32_t shard;       /* driver shard, fixed for the handle's life */
	struct scraper_decoder *dec;
	struct scraper__node_series *series;
	int64_t start_at;     /* monotonic, jittered */
	int64_t began_mono;
	size_t body;
	enum xfer_fail fail;
	bool running;         /* added to its driver shard */
	char url[512];
	char host[256];       /* of url, without brackets: what the certificate must name */
	struct scraper__tls_seen seen;
	char tls_err[512];
	char reason[64];      /* HTTP reason phrase */
	char errbuf[CURL_ERROR_SIZE];
};

struct scraper__transfer {
	const struct scraper_options *o;
	struct scraper__metrics *m;
	struct scraper__driver *drv;
	struct xfer **x; /* sorted by node name */
	size_t n;
	struct curl_slist *headers;
	char *token;
	char *proxy, *no_proxy;             /* from the environment, read once */
	struct scraper__verifier *verifier; /* NULL with --kubelet-insecure-tls */
	char verifier_err[256];             /* why there is none although verifying */
	uint64_t rng;
	atomic_bool abort;
};

/* ---- per-node callbacks ------------------------------------------------ */

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	long code = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		x->fail = XF_STATUS;
		return 0;
	}
	if (n > DYN_KUBELET_BODY - x->body) {
		x->fail = XF_BODY;
		return 0;
	}
	x->body += n;
	if (scraper_decoder_feed(x->dec, p, n)) {
		x->fail = XF_DECODE;
		return 0;
	}
	return n;
}

/* Keeps the reason phrase of the (last) status line. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb, i = 0, j = 0;

	if (n < 5 || memcmp(p, "HTTP/", 5) != 0)
		return n;
	while (i < n && p[i] != ' ')
		i++;
	i++;
	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	if (i < n && p[i] == ' ')
		i++;
	for (; i < n && j + 1 < sizeof(x->reason) && p[i] >= ' ' && p[i] < 0x7f; i++)
		x->reason[j++] = p[i];
	x->reason[j] = '\0';
	return n;
}

/* ---- TLS and auth -------------------------------------------------------- */

/* After the handshake, before the request: the certificate check. */
static int on_prereq(void *ud, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	struct xfer *x = ud;
	struct scraper__transfer *t = x->t;

	(void)primary_ip, (void)local_ip, (void)primary_port, (void)local_port;
	if (!t->verifier)
		snprintf(x->tls_err, sizeof(x->tls_err), "%s", t->verifier_err);
	else if (scraper__verify_peer(t->verifier, x->easy, x->host, &x->seen, x->tls_err,
				      sizeof(x->tls_err)) == 0)
		return CURL_PREREQFUNC_OK;
	x->fail = XF_TLS;
	return CURL_PREREQFUNC_ABORT;
}

/* libcurl neither verifies nor loads any CA: tlsverify.c checks the
 * certificate in on_prereq, against one trust list for all nodes. */
static void set_tls(struct scraper__transfer *t, struct xfer *x)
{
	const struct scraper_options *o = t->o;
	CURL *e = x->easy;

	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
	curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	if (!o->insecure_tls) {
		curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
		curl_easy_setopt(e, CURLOPT_PREREQDATA, x);
	}
	if (o->client_cert_file)
		curl_easy_setopt(e, CURLOPT_SSLCERT, o->client_cert_file);
	if (o->client_key_file)
		curl_easy_setopt(e, CURLOPT_SSLKEY, o->client_key_file);
}

/* The bearer token for this round (the file is re-read, as client-go
 * does); keeps the previous one when the file cannot be read. */
static void refresh_auth(struct scraper__transfer *t)
{
	const char *tok = t->o->bearer_token;
	struct dynbuf b;
	char *hdr;

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
	if ((tok == NULL) == (t->token == NULL) && (!tok || strcmp(tok, t->token) == 0))
		goto out;
	curl_slist_free_all(t->headers);
	t->headers = NULL;
	hdr = tok ? xasprintf("Authorization: Bearer %s", tok) : NULL;
	if (hdr) {
		t->headers = curl_slist_append(NULL, hdr);
		memset(hdr, 0, strlen(hdr));
		free(hdr);
	}
	free(t->token);
	t->token = tok ? xstrdup(tok) : NULL;
out:
	dynbuf_release(&b);
}

/* ---- proxy ----------------------------------------------------------------- */

static char *env_dup(const char *upper, const char *lower)
{
	const char *v = getenv(upper);

	if (!v || !*v)
		v = getenv(lower);
	return v && *v ? xstrdup(v) : NULL;
}

/* Go's ProxyFromEnvironment reads HTTPS_PROXY / NO_PROXY once per process;
 * so do we, instead of libcurl's getenv() calls on every request. */
static void read_proxy_env(struct scraper__transfer *t)
{
	t->proxy = env_dup("HTTPS_PROXY", "https_proxy");
	t->no_proxy = env_dup("NO_PROXY", "no_proxy");
}

static void set_proxy(const struct scraper__transfer *t, CURL *e)
{
	curl_easy_setopt(e, CURLOPT_PROXY, t->proxy ? t->proxy : ""); /* "": none */
	if (t->no_proxy)
		curl_easy_setopt(e, CURLOPT_NOPROXY, t->no_proxy);
}

/* ---- targets ------------------------------------------------------------- */

static struct xfer *xfer_new(struct scraper__transfer *t, const char *node)
{
	struct xfer *x = xcalloc(1, sizeof(*x));
	CURL *e = curl_easy_init();

	if (!e) {
		fprintf(stderr, "fatal: curl_easy_init failed\n");
		abort();
	}
	x->t = t;
	x->node = xstrdup(node);
	x->easy = e;
	x->shard = scraper__driver_assign(t->drv);
	x->dec = scraper_decoder_new(node, 0);
	x->series = scraper__metrics_node(t->m, node);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	/* libcurl 7.88 walks its whole DNS cache after every transfer; kept
	 * alive, a kubelet connection is reused without resolving, so keep the
	 * cache empty instead of one entry per node (addresses are IP
	 * literals: resolving them again costs nothing). */
	curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
	set_tls(t, x);
	set_proxy(t, e);
	return x;
}

static void xfer_free(struct scraper__transfer *t, struct xfer *x)
{
	curl_easy_cleanup(x->easy);
	scraper__tls_seen_release(&x->seen);
	scraper__driver_unassign(t->drv, x->shard);
	scraper_decoder_free(x->dec);
	scraper__metrics_drop(t->m, x->series);
	free(x->node);
	free(x);
}

/* Makes t->x the nodes' targets, in the nodes' order: kept handles are
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
static void quote(const char *s, char *buf, size_t len)
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

	quote(err, q, sizeof(q));
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

/* The error of a finished transfer, or "" when the body is usable. */
static bool transfer_error(const struct xfer *x, CURLcode cc, char *err, size_t errlen)
{
	long code = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (x->fail == XF_DECODE) {
		snprintf(err, errlen, "%s", scraper_decoder_error(x->dec));
	} else if (x->fail == XF_BODY) {
		snprintf(err, errlen, "failed to read response body - body exceeds %u bytes",
			 DYN_KUBELET_BODY);
	} else if (code != 0 && code != 200 && (cc == CURLE_OK || x->fail == XF_STATUS)) {
		snprintf(err, errlen, "request failed, status: \"%ld %s\"", code, x->reason);
	} else if (x->fail == XF_TLS) {
		snprintf(err, errlen, "Get \"%.400s\": tls: failed to verify certificate: %.500s",
			 x->url, x->tls_err);
	} else if (cc != CURLE_OK) {
		snprintf(err, errlen, "Get \"%s\": %s", x->url,
			 x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
	} else {
		err[0] = '\0';
		return false;
	}
	return true;
}

/* Records the outcome of x (cc = curl's result, or -1 when it never
 * started because of err); adds its points to batch on success. */
static bool finish_one(struct scraper__transfer *t, struct xfer *x, int cc, const char *err0,
		       struct store_batch *batch)
{
	char err[1024];
	bool failed, timeout = cc == CURLE_OPERATION_TIMEDOUT;

	if (cc < 0) {
		snprintf(err, sizeof(err), "%s", err0);
		failed = true;
		timeout = err0 == NULL;
		if (timeout)
			snprintf(err, sizeof(err), "Get \"%s\": context deadline exceeded", x->url);
	} else {
		failed = transfer_error(x, (CURLcode)cc, err, sizeof(err));
	}
	if (!failed && scraper_decoder_finish(x->dec, batch)) {
		snprintf(err, sizeof(err), "%s", scraper_decoder_error(x->dec));
		failed = true;
	}
	if (failed)
		log_failure(t, x, err, timeout);
	scraper__metrics_request(t->m, x->series, (double)(clock_mono_ns() - x->began_mono) / 1e9,
				 !failed, clock_now_ns() / NS_PER_SEC);
	return !failed;
}

/* The host of an "https://host:port/..." URL, IPv6 brackets removed. */
static void url_host(const char *url, char *host, size_t len)
{
	const char *p = strstr(url, "://"), *end;

	p = p ? p + 3 : url;
	if (*p == '[') {
		end = strchr(++p, ']');
	} else {
		end = p + strcspn(p, ":/");
	}
	if (!end)
		end = p + strlen(p);
	snprintf(host, len, "%.*s", (int)(end - p), p);
}

/* Starts x's request; false when it failed at once (already finished). */
static bool start_one(struct scraper__transfer *t, struct xfer *x, int64_t now, int64_t deadline,
		      struct store_batch *batch)
{
	char err[300];
	int64_t left = deadline - now;
	int64_t tmo = t->o->request_timeout_ns < left ? t->o->request_timeout_ns : left;

	x->began_mono = now;
	x->body = 0;
	x->fail = XF_NONE;
	x->reason[0] = x->errbuf[0] = x->tls_err[0] = '\0';
	if (scraper_node_url(t->o, x->kn, x->url, sizeof(x->url), err, sizeof(err))) {
		x->url[0] = '\0';
		finish_one(t, x, -1, err, batch);
		return false;
	}
	if (tmo < NS_PER_MS) {
		finish_one(t, x, -1, NULL, batch);
		return false;
	}
	url_host(x->url, x->host, sizeof(x->host));
	scraper_decoder_reset(x->dec, x->node, clock_now_ns());
	curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)(tmo / NS_PER_MS));
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, t->headers);
	log_v(2, "\"Scraping node\" node=\"%s\"", x->node);
	if (scraper__driver_add(t->drv, x->shard, x->easy) != 0) {
		finish_one(t, x, -1, "cannot add the request to the transfer loop", batch);
		return false;
	}
	x->running = true;
	return true;
}

/* ---- the round ----------------------------------------------------------------- */

struct round {
	struct scraper__transfer *t;
	struct xfer **order; /* by start time */
	size_t n, next, active;
	int64_t deadline;
	struct store_batch *batch;
	struct scraper__round_result *res;
};

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

static void count(struct round *r, bool ok)
{
	if (ok)
		r->res->ok++;
	else
		r->res->failed++;
}

static void launch_due(struct scraper__transfer *t, struct round *r, int64_t now)
{
	size_t max = t->o->max_concurrency;

	while (r->next < r->n && r->order[r->next]->start_at <= now && (!max || r->active < max)) {
		struct xfer *x = r->order[r->next++];
		if (start_one(t, x, now, r->deadline, r->batch))
			r->active++;
		else
			count(r, false);
	}
}

/* A finished transfer (scraper__done_fn). */
static void on_done(void *ud, CURL *e, CURLcode cc)
{
	struct round *r = ud;
	struct xfer *x = NULL;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
	x->running = false;
	r->active--;
	count(r, finish_one(r->t, x, (int)cc, NULL, r->batch));
}

/* Stop requested: running and pending nodes fail without noise. */
static void abandon(struct scraper__transfer *t, struct round *r)
{
	for (size_t i = 0; i < r->next; i++) {
		if (r->order[i]->running) {
			scraper__driver_remove(t->drv, r->order[i]->shard, r->order[i]->easy);
			r->order[i]->running = false;
		}
	}
	r->res->failed += r->n - r->next + r->active;
	r->next = r->n;
	r->active = 0;
}

/* Milliseconds to wait before a start is due (the driver lowers it
 * further for libcurl's timers). */
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
	plan_starts(t, &r, clock_mono_ns());
	while (r.next < r.n || r.active) {
		if (atomic_load(&t->abort)) {
			abandon(t, &r);
			break;
		}
		launch_due(t, &r, clock_mono_ns());
		if (r.next >= r.n && !r.active)
			break;
		scraper__driver_step(t->drv, wait_ms(t, &r, clock_mono_ns()), on_done, &r);
	}
	free(r.order);
}

/* ---- life cycle ------------------------------------------------------------------ */

struct scraper__transfer *scraper__transfer_new(const struct scraper_options *o,
						struct scraper__metrics *m)
{
	struct scraper__transfer *t = xcalloc(1, sizeof(*t));

	curl_global_init(CURL_GLOBAL_DEFAULT);
	t->o = o;
	t->m = m;
	t->drv = scraper__driver_new();
	read_proxy_env(t);
	if (!o->insecure_tls) {
		t->verifier = scraper__verifier_new(o->ca_file, o->ca_data, t->verifier_err,
						    sizeof(t->verifier_err));
		if (!t->verifier)
			log_error("\"Cannot verify kubelet certificates\" err=\"%s\"", t->verifier_err);
	}
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
	scraper__driver_free(t->drv);
	curl_slist_free_all(t->headers);
	if (t->token) {
		memset(t->token, 0, strlen(t->token));
		free(t->token);
	}
	scraper__verifier_free(t->verifier);
	free(t->proxy);
	free(t->no_proxy);
	free(t);
	curl_global_cleanup();
}
