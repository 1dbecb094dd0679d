/*
 * scraper_int.h - declarations shared inside scraper/ only.
 *
 *   promtext     one exposition line -> tokens (no allocation); its
 *                generic mode (promtext_gen.c) serves expfmt
 *   floatparse   Go ParseFloat-compatible decimal parser
 *   selfmetrics  metrics_server_kubelet_* / manager_tick_* families
 *   http1        an HTTP/1.1 response parsed as it arrives (no buffer)
 *   proxy        Go's ProxyFromEnvironment (HTTPS_PROXY, NO_PROXY)
 *   driver       one epoll set: sockets, a wake-up eventfd, deadlines
 *   resolve      host names resolved off the loop thread
 *   conn         one kept-alive HTTPS connection: its life, the request
 *                and its response (the per-request path)
 *   conn_dial    opening it: connect, proxy CONNECT tunnel, TLS handshake,
 *                certificate check
 *   conn_errors  its failures in Go's words (url.Error, socket, TLS)
 *   tlsverify    certificate checks against one shared trust list
 *   transfer     one scrape round over a set of nodes
 *   url          a scrape URL split into the request's host, port, path
 */
#ifndef SCRAPER_INT_H
#define SCRAPER_INT_H

#include <gnutls/gnutls.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "scraper/scraper.h"

/* ---- promtext: one line of the text exposition format ----------------- */

/* The series metrics-server reads; everything else is SCRAPER__M_OTHER. */
enum scraper__metric {
	SCRAPER__M_OTHER,
	SCRAPER__M_NODE_CPU,
	SCRAPER__M_NODE_MEM,
	SCRAPER__M_CONT_CPU,
	SCRAPER__M_CONT_MEM,
	SCRAPER__M_CONT_START,
};

/* A label value as it appears in the line (escapes not yet applied). */
struct scraper__lval {
	const char *p;   /* NULL when the label is absent */
	uint32_t len;
	bool escaped;    /* contains a backslash escape */
};

struct scraper__sample {
	enum scraper__metric metric;
	struct scraper__lval container, pod, ns; /* filled for every series */
	double value;
	bool has_ts;
	int64_t ts_ms;
};

/*
 * Tokenizes one line (without its '\n').  Returns 1 and fills *s for a
 * sample, 0 for a blank or comment line, or ERR_PARSE with a message
 * (no "failed parsing metrics" prefix) in err.  Never allocates; the
 * label pointers point into line.
 */
int scraper__promtext_line(const char *line, size_t len, struct scraper__sample *s, char *err,
			   size_t errlen);

/* Writes value v of label lv, unescaped, into out (capacity >= lv->len + 1,
 * NUL-terminated); returns the length. */
size_t scraper__lval_unescape(const struct scraper__lval *lv, char *out);

/*
 * expfmt's mode of the same tokenizer (promtext_gen.c): a line of any
 * exporter's /metrics, text 0.0.4 or OpenMetrics 1.0.  The caller sets the
 * inputs (flags, labels, cap) once; each call fills the outputs.
 */
#define SCRAPER__PT_OM 1u   /* OpenMetrics 1.0 rules */
#define SCRAPER__PT_LAST 2u /* the body's last line, without its '\n' */

enum scraper__pkind {
	SCRAPER__PK_BLANK,   /* empty line (text only) */
	SCRAPER__PK_COMMENT, /* any other comment (text only) */
	SCRAPER__PK_HELP,
	SCRAPER__PK_TYPE,
	SCRAPER__PK_UNIT,    /* OpenMetrics */
	SCRAPER__PK_EOF,     /* OpenMetrics "# EOF" */
	SCRAPER__PK_SAMPLE,
};

struct scraper__plabel {
	struct scraper__lval name, value; /* as in the line (escaped) */
};

struct scraper__pline {
	/* in */
	unsigned flags;                 /* SCRAPER__PT_* */
	struct scraper__plabel *labels; /* room for cap labels */
	uint32_t cap;
	/* out */
	enum scraper__pkind kind;
	struct scraper__lval name;      /* metric name (sample, HELP, TYPE, UNIT) */
	uint32_t nlabels;               /* labels of a sample, exposition order */
	bool grow;                      /* ERR_TOOBIG: labels was full; grow it and call again */
	bool exemplar;                  /* the sample had an exemplar (checked, not kept) */
	struct scraper__lval text;      /* HELP's doc, UNIT's unit, TYPE's word */
	enum scraper_expfmt_type type;  /* with a TYPE line */
};

/*
 * Tokenizes one line (without its '\n') in expfmt's mode: 1 for a sample
 * (value and timestamp in *s, the rest in *pl), 0 for anything else
 * (pl->kind says what), or ERR_PARSE with upstream's words in err, or
 * ERR_TOOBIG with pl->grow.  Never allocates; pointers point into line.
 */
int scraper__promtext_parse(const char *line, size_t len, struct scraper__sample *s,
			    struct scraper__pline *pl, char *err, size_t errlen);

/* ---- expfmt_check: expfmt's pure helpers ------------------------------ */

/* s (n bytes) as Go's %.50q, near enough: at most 50 bytes, quoted,
 * bytes outside printable ASCII as \xNN (out: >= 210 bytes). */
void scraper__quote50(char *out, size_t outlen, const char *s, size_t n);
/* label_limit and label_value_length_limit (the name counts as __name__)
 * on one series: 0, or ERR_TOOBIG with Prometheus' text in reason. */
int scraper__expfmt_limits(const struct scraper_expfmt_limits *l,
			   const struct scraper_expfmt_sample *s, size_t name_len, char *reason,
			   size_t reasonlen);

/* ---- floatparse ------------------------------------------------------ */

/*
 * Parses a Prometheus sample value exactly as Go's strconv.ParseFloat
 * (decimal, "Inf"/"Infinity" with sign, "NaN"; no hex, no '_'):
 * correctly rounded.  0, or ERR_PARSE (also for overflow to infinity).
 */
int scraper__parse_float(const char *p, size_t n, double *out);

/*
 * The longest decimal number at p (sign, digits, '.', exponent; no
 * Inf/NaN), parsed as above: where it stops, with *out set, or NULL when
 * there is none or it overflows.  When it stops at end or at a byte that
 * cannot belong to a number, [p, stop) read by scraper__parse_float gives
 * the same value.
 */
const char *scraper__parse_float_prefix(const char *p, const char *end, double *out);

/* Whether p[0..8) are eight ASCII digits; if so *v is their value. */
static inline bool scraper__digits8(const char *p, uint32_t *v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t w;

	memcpy(&w, p, 8);
	/* every byte 0x30..0x39 (simdjson's test), then the digits folded
	 * pairwise by multiplies */
	if ((((w & UINT64_C(0xF0F0F0F0F0F0F0F0)) |
	      (((w + UINT64_C(0x0606060606060606)) & UINT64_C(0xF0F0F0F0F0F0F0F0)) >> 4))) !=
	    UINT64_C(0x3333333333333333))
		return false;
	w -= UINT64_C(0x3030303030303030);
	w = w * 10 + (w >> 8);
	w = (((w & UINT64_C(0x000000FF000000FF)) * UINT64_C(0x000F424000000064)) +
	     (((w >> 16) & UINT64_C(0x000000FF000000FF)) * UINT64_C(0x0000271000000001))) >> 32;
	*v = (uint32_t)w;
	return true;
#else
	uint32_t r = 0;

	for (int i = 0; i < 8; i++) {
		if ((unsigned)(p[i] - '0') >= 10)
			return false;
		r = r * 10 + (uint32_t)(p[i] - '0');
	}
	*v = r;
	return true;
#endif
}

/* ---- decoder internals used by the round ----------------------------- */

/* Receives what survives the completeness rules; strings are borrowed
 * for the duration of the call. */
struct scraper__sink {
	void (*node)(void *ud, const char *node, const struct store_point *p);
	void (*container)(void *ud, const char *ns, const char *pod, const char *container,
			  const struct store_point *p);
};

/* Decoders alive in the process (tests: the transfer pools them, so a
 * round over many nodes needs only as many as run at once, and keeps at
 * most SCRAPER__SPARE_DECODERS between rounds). */
extern atomic_size_t scraper__decoders_live;
#define SCRAPER__SPARE_DECODERS 64

/* As scraper_decoder_finish, but hands results to sink instead of a batch
 * (pods in first-seen order).  0 or the decoder's error. */
int scraper__decoder_emit(struct scraper_decoder *d, const struct scraper__sink *sink, void *ud);

/* ---- selfmetrics ----------------------------------------------------- */

struct scraper__metrics;
struct scraper__node_series;

/* resolution_ns picks the tick histogram's buckets. */
struct scraper__metrics *scraper__metrics_new(int64_t resolution_ns);
void scraper__metrics_free(struct scraper__metrics *m);
/* The per-node series of node (created on first use); the pointer is
 * stable until scraper__metrics_drop(). */
struct scraper__node_series *scraper__metrics_node(struct scraper__metrics *m, const char *node);
/* Removes a node's series (the node disappeared). */
void scraper__metrics_drop(struct scraper__metrics *m, struct scraper__node_series *ns);
/* One kubelet request: duration, outcome, wall-clock end (unix seconds). */
void scraper__metrics_request(struct scraper__metrics *m, struct scraper__node_series *ns,
			      double seconds, bool success, int64_t end_unix_s);
void scraper__metrics_tick(struct scraper__metrics *m, double seconds);
int scraper__metrics_write(struct scraper__metrics *m, struct dynbuf *out);

/* ---- http1: one HTTP/1.1 response, parsed as its bytes arrive -------- */

/*
 * A kubelet's answer, fed in pieces of any size (down to one byte), with
 * no buffer of its own: the status line and the headers that matter
 * (Content-Length, Transfer-Encoding, Connection) are read through a small
 * prefix, every other header is skipped, body bytes go straight to a
 * callback.  Bodies are Content-Length, chunked (trailers skipped) or, for
 * a response that has neither, delimited by the connection's close.  1xx
 * answers are skipped; 204, 304 and a 2xx to CONNECT have no body.
 */
#define SCRAPER__HTTP1_MAX_HEAD (64u << 10)  /* status line + headers, as a whole */
#define SCRAPER__HTTP1_PREFIX 128            /* bytes of a header line kept */

struct scraper__http1 {
	/* results */
	int status;              /* final status code; 0 until its line is read */
	char reason[64];         /* its reason phrase, printable ASCII only */
	bool keep_alive;         /* the connection can carry another request */
	bool done;               /* the whole response was read */
	bool started;            /* some byte of a response arrived */
	bool in_body;            /* the head was read: a failure now is the body's */
	char err[192];           /* with ERR_PARSE: Go's words, e.g. "unexpected EOF" */
	/* parser state */
	bool connect;            /* answering a CONNECT */
	int state;
	bool chunked, has_length, close_delimited, close_header;
	int minor;               /* HTTP/1.minor */
	uint64_t left;           /* of the body, or of the current chunk */
	size_t head_bytes;       /* of this response's head so far */
	size_t line_len;         /* bytes of the current line seen */
	char line[SCRAPER__HTTP1_PREFIX];
	char *ctype;             /* NULL, or where Content-Type goes (set after _begin) */
	size_t ctype_cap;
};

/* Body bytes; nonzero stops the parse and is what feed returns. */
typedef int (*scraper__http1_body_fn)(void *ud, const char *p, size_t n);

/* Before each response; connect: it answers a CONNECT request. */
void scraper__http1_begin(struct scraper__http1 *h, bool connect);
/*
 * Consumes response bytes.  *used is how many were consumed: it stops at
 * the end of the response (h->done), leaving what follows.  0, the body
 * callback's nonzero result, or ERR_PARSE with h->err set.
 */
int scraper__http1_feed(struct scraper__http1 *h, const char *p, size_t n, size_t *used,
			scraper__http1_body_fn body, void *ud);
/* The peer closed the connection: ends a close-delimited body (0, done),
 * else ERR_PARSE with h->err "EOF" (nothing of a response came) or
 * "unexpected EOF". */
int scraper__http1_eof(struct scraper__http1 *h);

/* ---- proxy: Go's ProxyFromEnvironment for https:// kubelet URLs ------------ */

/*
 * HTTPS_PROXY (or https_proxy) and NO_PROXY (no_proxy), read once, with
 * the rules of golang.org/x/net/http/httpproxy: "localhost" and loopback
 * IPs never use the proxy; NO_PROXY "*" turns it off, and otherwise lists
 * IPs, CIDRs and domain names ("foo.com" matches foo.com and its
 * subdomains, ".foo.com" and "*.foo.com" only subdomains), each with an
 * optional ":port".  A proxy URL without a scheme is http://.  Only http://
 * proxies are supported (a CONNECT tunnel); another scheme makes every
 * proxied request fail with a clear error.
 */
#define SCRAPER__PROXY_MAX_RULES 256

struct scraper__proxy_rule {
	enum { SCRAPER__NP_IP, SCRAPER__NP_CIDR, SCRAPER__NP_DOMAIN } kind;
	unsigned char addr[16];  /* IP / CIDR network (v4 as ::ffff:a.b.c.d) */
	unsigned bits;           /* CIDR prefix length, on the 128-bit form */
	char domain[256];        /* lower case; leading '.' = subdomains only */
	bool match_host;         /* the domain itself matches too */
	uint16_t port;           /* 0 = any */
};

struct scraper__proxy {
	bool set;                /* a proxy is configured */
	char scheme[16];         /* lower case, "http" when none was given */
	char host[256];          /* without IPv6 brackets */
	uint16_t port;           /* default 80 for http, 443 https, 1080 socks5 */
	char *auth;              /* "Basic <base64(user:password)>" or NULL */
	bool no_proxy_all;       /* NO_PROXY "*" */
	struct scraper__proxy_rule *rules;
	size_t nrules;
};

/* Parses the two values (either may be NULL or "").  0, or ERR_INVAL with
 * a message in err (a malformed proxy URL: then no request is proxied). */
int scraper__proxy_init(struct scraper__proxy *px, const char *https_proxy,
			const char *no_proxy, char *err, size_t errlen);
/* Reads HTTPS_PROXY/https_proxy and NO_PROXY/no_proxy from the environment. */
int scraper__proxy_from_env(struct scraper__proxy *px, char *err, size_t errlen);
/* Whether a request to host:port (host without brackets) goes through it. */
bool scraper__proxy_use(const struct scraper__proxy *px, const char *host, uint16_t port);
void scraper__proxy_clear(struct scraper__proxy *px);

/* ---- driver: one epoll set, an eventfd, deadlines in a min-heap ---------- */

struct scraper__driver;

/* What the driver knows of one socket (or of none: a deadline only).
 * Embedded in its owner; initialize with scraper__watch_init(). */
struct scraper__watch {
	void (*on_io)(struct scraper__watch *w, uint32_t epoll_events);
	void (*on_timer)(struct scraper__watch *w); /* its deadline passed (now cleared) */
	void *ud;
	/* the driver's */
	int fd;          /* in the epoll set, or -1 */
	uint32_t events; /* as registered */
	int64_t at;      /* deadline, monotonic ns, or -1 */
	size_t heap_idx;
};

void scraper__watch_init(struct scraper__watch *w, void (*on_io)(struct scraper__watch *, uint32_t),
			 void (*on_timer)(struct scraper__watch *), void *ud);
/* Never NULL (aborts when the kernel refuses an epoll set or eventfd). */
struct scraper__driver *scraper__driver_new(void);
/* Every watch must have been unwatched and its deadline cleared before. */
void scraper__driver_free(struct scraper__driver *d);
/* Adds fd (level-triggered) or changes its events; no syscall when
 * nothing changes.  0 or ERR_IO. */
int scraper__driver_watch(struct scraper__driver *d, struct scraper__watch *w, int fd,
			  uint32_t events);
/* Removes w's socket from the set (call before closing it). */
void scraper__driver_unwatch(struct scraper__driver *d, struct scraper__watch *w);
/* Sets (at >= 0, monotonic ns) or clears (-1) w's deadline: O(log n). */
void scraper__driver_timer(struct scraper__driver *d, struct scraper__watch *w, int64_t at);
/* The receive buffer every socket read of the loop thread shares. */
char *scraper__driver_buffer(struct scraper__driver *d, size_t *len);
/*
 * Waits at most max_ms (less when a deadline is due first), calls on_io
 * for every ready socket and on_timer for every due deadline.  True when
 * scraper__driver_wakeup() was called since the last step.
 */
bool scraper__driver_step(struct scraper__driver *d, int max_ms);
/* Makes a waiting (or the next) step return at once; thread-safe. */
void scraper__driver_wakeup(struct scraper__driver *d);

/* ---- resolve: host names off the loop thread --------------------------------- */

/*
 * IP literals resolve at once (AI_NUMERICHOST); names go to a few
 * resolver threads (getaddrinfo) whose answers come back on the loop
 * thread through an eventfd in the driver's set.  At most
 * SCRAPER__MAX_ADDRS addresses of an answer are kept.
 */
#define SCRAPER__MAX_ADDRS 8

struct scraper__addrs {
	size_t n;
	struct sockaddr_storage a[SCRAPER__MAX_ADDRS];
	socklen_t len[SCRAPER__MAX_ADDRS];
};

struct scraper__resolver;
struct scraper__lookup;

/* addrs (owned by the callee: free() it) or NULL with Go's text in err. */
typedef void (*scraper__resolved_fn)(void *ud, struct scraper__addrs *addrs, const char *err);

struct scraper__resolver *scraper__resolver_new(struct scraper__driver *d);
/* Pending lookups are dropped without a call; threads still inside
 * getaddrinfo finish on their own. */
void scraper__resolver_free(struct scraper__resolver *r);
/*
 * Resolves host:port.  An IP literal (or a failure to even queue) is
 * answered before this returns, and NULL is returned; else the pending
 * lookup, answered later from scraper__driver_step().
 */
struct scraper__lookup *scraper__resolve(struct scraper__resolver *r, const char *host,
					 uint16_t port, scraper__resolved_fn fn, void *ud);
/* fn will not be called for l. */
void scraper__resolve_cancel(struct scraper__resolver *r, struct scraper__lookup *l);

/* ---- conn: one kept-alive HTTPS connection to one kubelet ------------------- */

/* What every connection shares (set up once by the transfer). */
struct scraper__conn_env {
	struct scraper__driver *drv;
	struct scraper__resolver *res;
	gnutls_certificate_credentials_t creds;
	gnutls_priority_t prio;
	bool insecure;                      /* --kubelet-insecure-tls */
	struct scraper__verifier *verifier; /* NULL: every check fails with verify_err */
	const char *verify_err;
	const char *creds_err;              /* client certificate unusable: every request fails */
};

enum scraper__outcome {
	SCRAPER__OK,      /* status 200, the whole body went to body() */
	SCRAPER__STATUS,  /* another status: its code and reason are given */
	SCRAPER__REFUSED, /* body() returned nonzero: the caller knows why */
	SCRAPER__TIMEOUT, /* the deadline passed */
	SCRAPER__FAILED,  /* anything else: err holds Go's text ("Get \"URL\": ...") */
};

/* The request; every pointer must stay valid until done() or cancel. */
struct scraper__request {
	const char *url;      /* for error texts */
	const char *host;     /* without IPv6 brackets: dialed, checked, SNI for names */
	uint16_t port;
	const char *hostport; /* Host header / CONNECT target, e.g. "[fd00::1]:10250" */
	const char *path;     /* with its query */
	const char *token;    /* bearer token, or NULL */
	const char *headers;  /* more header lines, each ending in CRLF, or NULL */
	bool plain;           /* http://: no TLS (the state machine minus the handshake) */
	const char *accept;   /* Accept header, or NULL */
	char *ctype;          /* NULL, or receives the answer's Content-Type ("" if none) */
	size_t ctype_cap;
	/* the proxy to tunnel through, or NULL for a direct connection: the
	 * caller decides (scraper__proxy_use), which lets tests force it */
	const struct scraper__proxy *proxy;
	struct scraper__tls_seen *seen; /* the node's certificate cache */
	int64_t deadline;     /* monotonic ns */
	size_t max_body;
	scraper__http1_body_fn body; /* 200's body bytes */
	void (*done)(void *ud, enum scraper__outcome oc, int status, const char *reason,
		     const char *err);
	void *ud;
};

struct scraper__conn;

struct scraper__conn *scraper__conn_new(const struct scraper__conn_env *env);
/* Closes the connection (a request in flight ends without done). */
void scraper__conn_free(struct scraper__conn *c);
/* Starts req, reusing the kept-alive connection when it leads to the same
 * place; done() is always called later from scraper__driver_step(). */
void scraper__conn_start(struct scraper__conn *c, const struct scraper__request *req);
/* Abandons the request in flight (no done()) and closes the connection. */
void scraper__conn_cancel(struct scraper__conn *c);
/* For tests: whether an idle connection is kept, and how many TCP
 * connections this conn opened in all. */
bool scraper__conn_idle(const struct scraper__conn *c);
unsigned scraper__conn_dials(const struct scraper__conn *c);

/* "http[s]://host[:port]/path" -> hostport, host (no brackets), req's plain/port/path. */
int scraper__url_split(const char *url, char *hostport, size_t hp_len, char *host,
		       size_t host_len, struct scraper__request *req); /* 0 or ERR_INVAL */
/* ---- tlsverify ------------------------------------------------------- */

/* One trust list for every kubelet connection. */
struct scraper__verifier;
struct certs_chain;

/* The last leaf certificate that passed for one node, and for how long it
 * may be trusted again without a new check. */
struct scraper__tls_seen {
	unsigned char *der;
	size_t len;
	int64_t until_mono;
	char *host;          /* the name it was checked for */
};

/* Trusts ca_file, else ca_data (PEM), else the system store (certs/).  NULL
 * with a message in err when no certificate could be read. */
struct scraper__verifier *scraper__verifier_new(const char *ca_file, const char *ca_data,
						char *err, size_t errlen);
void scraper__verifier_free(struct scraper__verifier *v);
/*
 * certs_verify() of a kubelet's chain for serverAuth and host (an IP literal
 * or a DNS name); *expires is the leaf's notAfter (unix s) on success.  0,
 * or ERR_TLS with Go's text ("x509: certificate signed by unknown
 * authority", ...) in err.
 */
int scraper__verify_chain(const struct scraper__verifier *v, const struct certs_chain *chain,
			  const char *host, int64_t *expires, char *err, size_t errlen);
/*
 * scraper__verify_chain() on the peer chain of session (handshake done),
 * remembering a pass in seen, which spares the check of the same leaf for
 * the same host for a while.  0, or ERR_TLS with the text in err.
 */
int scraper__verify_peer(struct scraper__verifier *v, gnutls_session_t session, const char *host,
			 struct scraper__tls_seen *seen, char *err, size_t errlen);
void scraper__tls_seen_clear(struct scraper__tls_seen *seen);

/* ---- transfer -------------------------------------------------------- */

struct scraper__transfer;

struct scraper__round_result {
	size_t ok;
	size_t failed;
};

/* o and m are borrowed for the transfer's life. */
struct scraper__transfer *scraper__transfer_new(const struct scraper_options *o,
						struct scraper__metrics *m);
/*
 * Scrapes nodes (sorted by name, borrowed) concurrently and adds what
 * they report to batch.  Targets of nodes absent from the list are
 * dropped (with their self-metrics).  Returns when every node finished,
 * failed or the deadline (monotonic ns) passed.
 */
void scraper__transfer_round(struct scraper__transfer *t, const struct kube_node *const *nodes,
			     size_t n, int64_t deadline_mono_ns, struct store_batch *batch,
			     struct scraper__round_result *res);
/* Between rounds: watches the kept-alive connections (a kubelet closing
 * one frees it at once) until the monotonic time until or an abort. */
void scraper__transfer_idle(struct scraper__transfer *t, int64_t until_mono_ns);
/* Makes a running round (or idle wait) return soon (thread-safe). */
void scraper__transfer_abort(struct scraper__transfer *t);
void scraper__transfer_free(struct scraper__transfer *t);
/* s as a klog value into buf: quotes and backslashes escaped, controls dropped. */
void scraper__klog_quote(const char *s, char *buf, size_t len);

#endif
