/*
 * transfer.c - one scrape round over many kubelets with libcurl multi on
 * the calling thread.
 *
 * Every node keeps one easy handle (and its decoder) across rounds, so
 * its HTTP/1.1 connection stays in the multi handle's cache and is
 * reused.  A round staggers the starts as metrics-server does (each node
 * waits rand[0, min(8 ms * nodes, 4 s))), optionally bounds how many run
 * at once, and gives each request --kubelet-request-timeout (never past
 * the round's deadline).  Bytes go straight from libcurl's buffer into
 * the node's decoder; a failed node adds nothing to the batch.
 */
#include "scraper/scraper_int.h"

#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DELAY_PER_NODE_MS 8
#define MAX_DELAY_MS 4000
#define POLL_MAX_MS 1000
#define USER_AGENT "metrics-apiserver (linux) scraper"

enum xfer_fail { XF_NONE, XF_DECODE, XF_BODY, XF_STATUS };

struct xfer {
	char *node;
	const struct kube_node *kn; /* borrowed for the current round */
	CURL *easy;
	struct scraper_decoder *dec;
	struct scraper__node_series *series;
	int64_t start_at;     /* monotonic, jittered */
	int64_t began_mono;
	size_t body;
	enum xfer_fail fail;
	bool running;         /* added to the multi handle */
	char url[512];
	char reason[64];      /* HTTP reason phrase */
	char errbuf[CURL_ERROR_SIZE];
};

struct scraper__transfer {
	const struct scraper_options *o;
	struct scraper__metrics *m;
	CURLM *multi;
	struct xfer **x; /* sorted by node name */
	size_t n;
	struct curl_slist *headers;
	char *token;
	char *ca_tmp;    /* CA PEM written out when CAINFO_BLOB is unsupported */
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

/* CA PEM bytes for verification: as a blob, or a private temp file. */
static int set_ca_data(struct scraper__transfer *t, CURL *e)
{
	struct curl_blob blob = {(void *)t->o->ca_data, strlen(t->o->ca_data), CURL_BLOB_COPY};
	char path[] = "/tmp/scraper-ca-XXXXXX";
	int fd;

	if (curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob) == CURLE_OK)
		return 0;
	if (!t->ca_tmp) {
		fd = mkstemp(path);
		if (fd < 0)
			return ERR_IO;
		size_t len = blob.len;
		bool ok = write(fd, t->o->ca_data, len) == (ssize_t)len;
		close(fd);
		if (!ok) {
			unlink(path);
			return ERR_IO;
		}
		t->ca_tmp = xstrdup(path);
	}
	return curl_easy_setopt(e, CURLOPT_CAINFO, t->ca_tmp) == CURLE_OK ? 0 : ERR_TLS;
}

static void set_tls(struct scraper__transfer *t, CURL *e)
{
	const struct scraper_options *o = t->o;

	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (o->insecure_tls) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
		curl_easy_setopt(e, CURLOPT_CAINFO, NULL); /* nothing to load */
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	} else if (o->ca_file) {
		curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL); /* only this CA, as Go */
	} else if (o->ca_data) {
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
		if (set_ca_data(t, e))
			log_error("\"Cannot use the kubelet CA data\" err=\"writing a temporary CA "
				  "file failed\"");
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

/* ---- targets ------------------------------------------------------------- */

static struct xfer *xfer_new(struct scraper__transfer *t, const char *node)
{
	struct xfer *x = xcalloc(1, sizeof(*x));
	CURL *e = curl_easy_init();

	if (!e) {
		fprintf(stderr, "fatal: curl_easy_init failed\n");
		abort();
	}
	x->node = xstrdup(node);
	x->easy = e;
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
	set_tls(t, e);
	return x;
}

static void xfer_free(struct scraper__transfer *t, struct xfer *x)
{
	curl_easy_cleanup(x->easy);
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

/* Go's words for a failed chain check (GnuTLS status bits from curl). */
static const char *x509_reason(const struct xfer *x, char *buf, size_t len)
{
	long vr = 0;
	gnutls_datum_t out = {NULL, 0};

	if (curl_easy_getinfo(x->easy, CURLINFO_SSL_VERIFYRESULT, &vr) != CURLE_OK || vr == 0)
		return NULL;
	if (vr & GNUTLS_CERT_SIGNER_NOT_FOUND)
		return "x509: certificate signed by unknown authority";
	if (vr & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
		return "x509: certificate has expired or is not yet valid";
	if (gnutls_certificate_verification_status_print((unsigned)vr, GNUTLS_CRT_X509, &out, 0))
		return NULL;
	snprintf(buf, len, "x509: %s", (const char *)out.data);
	gnutls_free(out.data);
	return buf;
}

/* The error of a finished transfer, or "" when the body is usable. */
static bool transfer_error(const struct xfer *x, CURLcode cc, char *err, size_t errlen)
{
	const char *why;
	char buf[256];
	long code = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (x->fail == XF_DECODE) {
		snprintf(err, errlen, "%s", scraper_decoder_error(x->dec));
	} else if (x->fail == XF_BODY) {
		snprintf(err, errlen, "failed to read response body - body exceeds %u bytes",
			 DYN_KUBELET_BODY);
	} else if (code != 0 && code != 200 && (cc == CURLE_OK || x->fail == XF_STATUS)) {
		snprintf(err, errlen, "request failed, status: \"%ld %s\"", code, x->reason);
	} else if (cc == CURLE_PEER_FAILED_VERIFICATION && (why = x509_reason(x, buf, sizeof(buf)))) {
		snprintf(err, errlen, "Get \"%.400s\": tls: failed to verify certificate: %.200s (%.256s)",
			 x->url, why, x->errbuf);
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
	x->reason[0] = x->errbuf[0] = '\0';
	if (scraper_node_url(t->o, x->kn, x->url, sizeof(x->url), err, sizeof(err))) {
		x->url[0] = '\0';
		finish_one(t, x, -1, err, batch);
		return false;
	}
	if (tmo < NS_PER_MS) {
		finish_one(t, x, -1, NULL, batch);
		return false;
	}
	scraper_decoder_reset(x->dec, x->node, clock_now_ns());
	curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)(tmo / NS_PER_MS));
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, t->headers);
	log_v(2, "\"Scraping node\" node=\"%s\"", x->node);
	if (curl_multi_add_handle(t->multi, x->easy) != CURLM_OK) {
		finish_one(t, x, -1, "cannot add the request to the transfer loop", batch);
		return false;
	}
	x->running = true;
	return true;
}

/* ---- the round ----------------------------------------------------------------- */

struct round {
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

/* metrics-server's stagger: rand.Intn(min(8ms * nodes, 4s)) per node. */
static void plan_starts(struct scraper__transfer *t, struct round *r, int64_t now)
{
	uint64_t delay_ms = (uint64_t)DELAY_PER_NODE_MS * r->n;

	if (delay_ms > MAX_DELAY_MS)
		delay_ms = MAX_DELAY_MS;
	for (size_t i = 0; i < r->n; i++) {
		r->order[i] = t->x[i];
		r->order[i]->start_at = now;
		if (delay_ms)
			r->order[i]->start_at += (int64_t)(next_rand(t) % delay_ms) * NS_PER_MS;
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

static void reap(struct scraper__transfer *t, struct round *r)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(t->multi, &left))) {
		struct xfer *x = NULL;
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		CURLcode cc = msg->data.result;
		curl_multi_remove_handle(t->multi, msg->easy_handle); /* msg is invalid now */
		x->running = false;
		r->active--;
		count(r, finish_one(t, x, (int)cc, NULL, r->batch));
	}
}

/* Stop requested: running and pending nodes fail without noise. */
static void abandon(struct scraper__transfer *t, struct round *r)
{
	for (size_t i = 0; i < r->next; i++) {
		if (r->order[i]->running) {
			curl_multi_remove_handle(t->multi, r->order[i]->easy);
			r->order[i]->running = false;
		}
	}
	r->res->failed += r->n - r->next + r->active;
	r->next = r->n;
	r->active = 0;
}

/* Milliseconds to sleep before something is due (curl lowers it further
 * for its own timers). */
static int wait_ms(const struct scraper__transfer *t, const struct round *r, int64_t now)
{
	size_t max = t->o->max_concurrency;
	int64_t ms = POLL_MAX_MS;

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
	struct round r = {NULL, n, 0, 0, deadline_mono_ns, batch, res};
	int running;

	res->ok = res->failed = 0;
	sync_targets(t, nodes, n);
	refresh_auth(t);
	curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, (long)(n + 16));
	r.order = xcalloc(n ? n : 1, sizeof(*r.order));
	plan_starts(t, &r, clock_mono_ns());
	while (r.next < r.n || r.active) {
		if (atomic_load(&t->abort)) {
			abandon(t, &r);
			break;
		}
		int64_t now = clock_mono_ns();
		launch_due(t, &r, now);
		curl_multi_perform(t->multi, &running);
		reap(t, &r);
		if (r.next >= r.n && !r.active)
			break;
		curl_multi_poll(t->multi, NULL, 0, wait_ms(t, &r, clock_mono_ns()), NULL);
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
	t->multi = curl_multi_init();
	if (!t->multi) {
		fprintf(stderr, "fatal: curl_multi_init failed\n");
		abort();
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
	curl_multi_wakeup(t->multi);
}

void scraper__transfer_free(struct scraper__transfer *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		xfer_free(t, t->x[i]);
	free(t->x);
	curl_multi_cleanup(t->multi);
	curl_slist_free_all(t->headers);
	if (t->token) {
		memset(t->token, 0, strlen(t->token));
		free(t->token);
	}
	if (t->ca_tmp) {
		unlink(t->ca_tmp);
		free(t->ca_tmp);
	}
	free(t);
	curl_global_cleanup();
}
