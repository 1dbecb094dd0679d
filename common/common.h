/*
 * common.h - the public face of common/: small, safe primitives that every
 * other folder (and test/kubesim) uses.  common/ depends on nothing else in
 * the project, only on libc, jansson, libyaml (yaml) and GnuTLS (base64).
 *
 *   memory     xmalloc & co., xcheck, xoom_abort: one OOM policy (abort)
 *   errors     negative error codes from one X-macro list, err_str()
 *   dynbuf     growable byte buffer with a mandatory cap
 *   log        klog-style or JSON lines on stderr, -v levels, --vmodule
 *   clock      wall and monotonic clocks, fakeable for tests
 *   timefmt    RFC 3339 and Go duration strings (apimachinery formats)
 *   quantity   resource.Quantity parse / canonical format
 *   labels     sorted key=value sets and label selectors (apimachinery grammar)
 *   url        Go-style percent-encoding and -decoding
 *   yaml       one YAML document as a jansson value (libyaml)
 *   jsonpath   typed members of JSON objects by dotted path ("a.b.c")
 *   goparse    flag values with Go's strconv / time error texts
 *   gofloat    floats as Go's strconv.FormatFloat(v, 'g', -1, 64)
 *   promwrite  Prometheus text exposition: heads, samples, histograms
 *   base64     RFC 4648 standard base64 (GnuTLS), decoder as strict as Go
 *   hash       FNV-1a over bytes and strings (every hash table's hash)
 *   re2        Go (RE2) regular expressions translated to POSIX EREs
 *
 * Conventions for the whole tree: a function that allocates never returns
 * NULL for lack of memory (the process aborts, see xoom_abort); errors are
 * the negative ERR_* codes below, with a message in an err/errlen buffer
 * where the caller needs words.  Lifetime verbs: _new returns a heap
 * object that _free destroys; _init / _clear set up and empty a struct the
 * caller embeds (a cleared struct may be initialised again); _ref /
 * _acquire take and _unref drops a reference.  Everything in common/ may
 * be called from any thread on objects the caller does not share; the
 * process-wide settings (log verbosity, the fake clock) are atomics.
 */
#ifndef COMMON_H
#define COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define COMMON_UNUSED(x) ((void)(x))
#define COMMON_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define COMMON_WUR __attribute__((warn_unused_result))
#define COMMON_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- memory ----------------------------------------------------------- */

/*
 * The one out-of-memory policy of the process: xoom_abort writes
 * "fatal: out of memory: <what>" on stderr and aborts; it never returns.
 * Call it (or xcheck) where an allocation we do not make ourselves fails
 * and the caller cannot go on: a NULL from curl_easy_init, a failed
 * pthread_create of a thread the process needs.  Never for errors that
 * depend on input.  Safe from any thread.
 */
_Noreturn void xoom_abort(const char *what);
/* Returns p, or calls xoom_abort(what) when p is NULL:
 *   CURL *h = xcheck(curl_easy_init(), "curl_easy_init"); */
void *xcheck(void *p, const char *what);

/* All allocate or abort the process through xoom_abort: callers never see NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a new string built like printf; caller frees. */
char *xasprintf(const char *fmt, ...) COMMON_PRINTF(1, 2);
/* The same from a va_list (consumed as vprintf consumes it); caller frees. */
char *xvasprintf(const char *fmt, va_list ap) COMMON_PRINTF(1, 0);

/* ---- errors ----------------------------------------------------------- */

#define COMMON_ERRNO_MAP(XX)                                   \
	XX(NOMEM, -1, "out of memory")                          \
	XX(TOOBIG, -2, "input exceeds its size limit")          \
	XX(PARSE, -3, "parse error")                            \
	XX(IO, -4, "i/o error")                                 \
	XX(TIMEOUT, -5, "timed out")                            \
	XX(NOTFOUND, -6, "not found")                           \
	XX(INVAL, -7, "invalid argument")                       \
	XX(TLS, -8, "TLS error")                                \
	XX(HTTP, -9, "unexpected HTTP status")                  \
	XX(CONFLICT, -10, "conflict")                           \
	XX(GONE, -11, "resource version too old")               \
	XX(AGAIN, -12, "try again")

enum common_err {
	ERR_OK = 0,
#define COMMON_ERR_ENUM(name, val, text) ERR_##name = val,
	COMMON_ERRNO_MAP(COMMON_ERR_ENUM)
#undef COMMON_ERR_ENUM
};

/* Static text for an error code; never NULL. */
const char *err_str(int err);
/*
 * The C library's text for errno value e ("Connection refused"), written
 * into buf (len bytes, truncated) and returned.  Thread-safe (strerror_r);
 * use it instead of strerror, whose buffer is shared.
 */
const char *err_sys(int e, char *buf, size_t len);
/* err_sys into a buffer that lives until the end of the enclosing block. */
#define COMMON_SYSERR(e) err_sys((e), (char[128]){ 0 }, 128)

/* ---- dynbuf ----------------------------------------------------------- */

/*
 * A growable byte buffer that never grows past `max` bytes.  `buf` is
 * always NUL-terminated once anything was added (len excludes the NUL).
 * On failure an adder returns ERR_TOOBIG and leaves the content unchanged.
 */
struct dynbuf {
	char *buf;
	size_t len;
	size_t cap;
	size_t max;
};

/* Named caps, one list for the whole project. */
#define DYN_KUBELET_BODY (64u << 20)     /* one /metrics/resource body */
#define DYN_API_RESPONSE (1024u << 20)   /* one rendered API response */
#define DYN_KUBE_RESPONSE (2048u << 20)  /* one list from kube-apiserver */
#define DYN_REQUEST_BODY (4u << 20)      /* one HTTP request body */
#define DYN_CONFIG_FILE (4u << 20)       /* a config / kubeconfig file */
#define DYN_SMALL (64u << 10)

/* An empty buffer that may hold up to max bytes; allocates nothing yet. */
void dynbuf_init(struct dynbuf *b, size_t max);
/* Appenders: 0, or ERR_TOOBIG (past max; b unchanged). */
int dynbuf_add(struct dynbuf *b, const void *p, size_t n) COMMON_WUR;
int dynbuf_addstr(struct dynbuf *b, const char *s) COMMON_WUR;
int dynbuf_addch(struct dynbuf *b, char c) COMMON_WUR;
int dynbuf_printf(struct dynbuf *b, const char *fmt, ...) COMMON_PRINTF(2, 3) COMMON_WUR;
int dynbuf_vprintf(struct dynbuf *b, const char *fmt, va_list ap) COMMON_WUR;
/* Empties the buffer, keeps the allocation. */
void dynbuf_reset(struct dynbuf *b);
/* Frees the storage; the buffer is re-initialised with the same cap. */
void dynbuf_clear(struct dynbuf *b);
/* Hands the storage to the caller (free() it; never NULL) and resets b. */
char *dynbuf_take(struct dynbuf *b, size_t *len);

/* Reads a whole file into b (cap applies). 0, ERR_IO or ERR_TOOBIG. */
int dynbuf_read_file(struct dynbuf *b, const char *path) COMMON_WUR;
/* Reads fd to its end into b (cap applies; fd stays open). 0, ERR_IO or ERR_TOOBIG. */
int dynbuf_read_fd(struct dynbuf *b, int fd) COMMON_WUR;

/* ---- log -------------------------------------------------------------- */

/*
 * klog-style: "I1123 09:01:02.123456   4242 file.c:42] message key=value",
 * or with log_set_format(LOG_FORMAT_JSON) component-base's JSON lines
 * (logjson.c).  log_v(v, ...) prints only when v <= the verbosity set with
 * log_set_verbosity or, for a file that a --vmodule pattern matches
 * (log_vmodule_add), that pattern's level.  Nothing secret (tokens, keys)
 * is ever passed to these.
 */
enum log_severity { LOG_SEV_INFO, LOG_SEV_WARNING, LOG_SEV_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };
/* The -v level, process-wide (an atomic: any thread may set or read it). */
void log_set_verbosity(int v);
int log_verbosity(void);
/* The line format (text by default); process-wide, any thread. */
void log_set_format(enum log_format f);
/* Where lines go: stderr by default, or f (NULL: stderr again); for tests. */
void log_set_stream(FILE *f);
/*
 * --vmodule, as klog: one pattern=level item (pattern: the first patlen
 * bytes, a glob of filepath.Match - * ? [..] \ - matched against a source
 * file's base name without its extension, "authn" for server/authn.c, and
 * against its __FILE__ path without the extension, "server/authn").  The
 * first pattern matching a file gives its level; a log_v(v) there prints
 * when v <= that level or <= -v.  Level 0 items are dropped, as klog does.
 * log_vmodule_clear removes every item.
 */
void log_vmodule_add(const char *pattern, size_t patlen, int level);
void log_vmodule_clear(void);
/* The fast test of log_v: the largest level -v or any item gives (one
 * atomic load); log_v_enabled is the exact test for one file. */
int log_v_gate(void);
bool log_v_enabled(const char *file, int v);
/* One line on the log stream (stderr, or log_set_stream's); one fprintf, whose stream
 * lock keeps lines of threads whole.  v: the verbosity of an info line. */
void log_write(enum log_severity sev, int v, const char *file, int line, const char *fmt, ...)
	COMMON_PRINTF(5, 6);
/* component-base's JSON logger's line for text, the klog-style
 * '"msg" key="value" key2=2' (or any plain text, then all of it is msg),
 * without the newline; malloc'd.  ts_ns: the Unix time in ns. */
char *log_json_line(enum log_severity sev, int v, const char *file, int line, int64_t ts_ns,
		    const char *text);
#define log_info(...) log_write(LOG_SEV_INFO, 0, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(...) log_write(LOG_SEV_WARNING, 0, __FILE__, __LINE__, __VA_ARGS__)
#define log_error(...) log_write(LOG_SEV_ERROR, 0, __FILE__, __LINE__, __VA_ARGS__)
/* Whether log_v(v, ...) here would print. */
#define log_v_on(v) (log_v_gate() >= (v) && log_v_enabled(__FILE__, (v)))
#define log_v(v, ...)                                                          \
	do {                                                                   \
		if (log_v_on(v))                                               \
			log_write(LOG_SEV_INFO, (v), __FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

/* ---- clock ------------------------------------------------------------ */

#define NS_PER_SEC INT64_C(1000000000)
#define NS_PER_MS INT64_C(1000000)

/* Wall clock, ns since the Unix epoch.  A test may fake it. */
int64_t clock_now_ns(void);
/* Monotonic clock, ns; not faked. */
int64_t clock_mono_ns(void);
/* Tests: make clock_now_ns() return `ns` (0 restores the real clock). */
void clock_set_fake_now(int64_t ns);

/* ---- jsonw: JSON bytes as Go's encoding/json writes them ---------------- */
/* s as a JSON string literal, escaped as Go's encoding/json (HTML-safe:
 * <, >, & as \u003c...; U+2028/2029; invalid UTF-8 as \ufffd).  0, or
 * ERR_TOOBIG past b's cap (b then holds a prefix). */
int jsonw_string(struct dynbuf *b, const char *s) COMMON_WUR;
/* "key": with the key escaped. */
int jsonw_key(struct dynbuf *b, const char *key) COMMON_WUR;
/* Compact, valid JSON re-indented as Go's json.Indent(prefix "", "  "). */
int jsonw_indent(struct dynbuf *out, const char *in, size_t len) COMMON_WUR;

/* ---- timefmt (apimachinery formats) ------------------------------------ */

/* metav1.Time: "2006-01-02T15:04:05Z" (UTC, seconds truncated). buf >= 32. */
void fmt_rfc3339(int64_t ns, char *buf, size_t len);
/* The same from seconds since the epoch, for instants past int64 ns
 * (certificates valid until 9999-12-31). */
void fmt_rfc3339_secs(int64_t secs, char *buf, size_t len);
/* RFC 3339 with optional fraction and offset -> ns. 0 or ERR_PARSE. */
int parse_rfc3339(const char *s, int64_t *ns) COMMON_WUR;
/* Go time.Duration.String(): "0s", "20.043s", "1m0s", "500ms", "1µs". buf >= 40. */
void fmt_go_duration(int64_t ns, char *buf, size_t len);
/* Go time.ParseDuration ("15s", "1m30s", "250ms", "1h"). 0 or ERR_PARSE. */
int parse_go_duration(const char *s, int64_t *ns) COMMON_WUR;

/* ---- goparse (flag values with Go's error texts) ------------------------- */

/* strconv.ParseFloat(s, 64), finite values only: 0, or ERR_INVAL with Go's
 * text in why ("strconv.ParseFloat: parsing \"x\": invalid syntax"). */
int go_parse_float(const char *s, double *out, char *why, size_t len) COMMON_WUR;
/* time.ParseDuration: 0, or ERR_INVAL with Go's text in why ("time:
 * invalid duration \"x\"", "time: missing unit in duration \"5\""). */
int go_parse_duration(const char *s, int64_t *out, char *why, size_t len) COMMON_WUR;

/* ---- gofloat (Go's shortest 'g' float text) ---------------------------- */

/* Writes v as strconv.FormatFloat(v, 'g', -1, 64) - "1e+06", "0.005",
 * "1.633253809e+09", "+Inf", "-Inf", "NaN", "-0" - into buf (cut short,
 * still NUL-terminated, when len is too small; 32 bytes always suffice). */
#define GO_FLOAT_LEN 32
/* (see above) */
void fmt_go_float(double v, char *buf, size_t len);

/* ---- Prometheus' staleness marker (promstale.c) -------------------------- */

/* value.StaleNaN: a NaN with this bit pattern, which no computation makes;
 * other NaNs are ordinary values. */
#define PROM_STALE_NAN_BITS UINT64_C(0x7ff0000000000002)
/* Whether v has exactly that bit pattern.  Pure. */
bool prom_is_stale(double v);
/* The marker as a double.  Pure. */
double prom_stale_nan(void);

/* ---- promwrite (Prometheus text format 0.0.4) --------------------------- */

/* One label of a series; value is escaped when written. */
struct prom_label {
	const char *name;
	const char *value;
};

/* A histogram as the Go client keeps it: bounds are borrowed, ascending,
 * without +Inf; counts are per bucket (not cumulative). */
#define PROM_MAX_BUCKETS 24
struct prom_histogram {
	const double *bounds;
	size_t nb;
	uint64_t counts[PROM_MAX_BUCKETS];
	uint64_t count;
	double sum;
};

/* Zeroes h over bounds[0..nb) (nb past PROM_MAX_BUCKETS is cut to it). */
void prom_histogram_init(struct prom_histogram *h, const double *bounds, size_t nb);
/* Counts v in the first bucket whose bound is >= v (le is inclusive). */
void prom_histogram_observe(struct prom_histogram *h, double v);

/*
 * Writers append to out and return 0 or ERR_TOOBIG (out's cap; a line may
 * then be cut short, the caller discards the output).  labels may be NULL
 * when n is 0; a series without labels has no braces.
 */
/* "# HELP name help\n# TYPE name type\n" (help escaped). */
int prom_write_help_type(struct dynbuf *out, const char *name, const char *help,
			 const char *type) COMMON_WUR;
/* "name{labels} value\n", value as fmt_go_float. */
int prom_write_sample(struct dynbuf *out, const char *name, const struct prom_label *labels,
		      size_t n, double value) COMMON_WUR;
/* The same with an integer value ("%llu"). */
int prom_write_sample_uint(struct dynbuf *out, const char *name, const struct prom_label *labels,
			   size_t n, uint64_t value) COMMON_WUR;
/* name_bucket{labels,le="b"} (cumulative) for each bound and +Inf, then
 * name_sum{labels} and name_count{labels}. */
int prom_write_histogram(struct dynbuf *out, const char *name, const struct prom_label *labels,
			 size_t n, const struct prom_histogram *h) COMMON_WUR;

/* ---- hash (FNV-1a) --------------------------------------------------------- */

#define HASH_FNV_OFFSET UINT64_C(14695981039346656037)
/* h (start from HASH_FNV_OFFSET) continued over p[0..n). */
uint64_t hash_bytes(uint64_t h, const void *p, size_t n);
/* h continued over s and its NUL, so that chained strings stay apart. */
uint64_t hash_str(uint64_t h, const char *s);

/* ---- base64 (RFC 4648 standard alphabet, '=' padded) ------------------- */

/* n bytes as padded standard base64: a new NUL-terminated string (caller
 * frees with free(); never NULL: out of memory aborts).  Thread-safe. */
char *base64_encode(const void *p, size_t n);
/*
 * Decodes s[0..len) as Go's base64.StdEncoding.DecodeString in strict
 * mode: standard alphabet, full '=' padding, nothing after it, unused bits
 * zero; '\r' and '\n' are skipped (input of only newlines is no bytes),
 * any other byte (space, tab, NUL) is an error.  On success *out is a new
 * buffer of *out_len bytes plus a NUL (caller frees).  ERR_PARSE when the
 * text is not such base64, else ERR_TOOBIG when the result would pass
 * max_out bytes (or len passes UINT_MAX); then *out is NULL.  GnuTLS'
 * decoder underneath; thread-safe.
 */
int base64_decode(const char *s, size_t len, size_t max_out, char **out, size_t *out_len)
	COMMON_WUR;

/* ---- quantity (resource.Quantity) -------------------------------------- */

enum quantity_format { QF_DECIMAL_SI, QF_BINARY_SI, QF_DECIMAL_EXPONENT };

/* value x 10^scale, as apimachinery's int64 fast path. */
struct quantity {
	int64_t value;
	int32_t scale;
	enum quantity_format format;
};

/* Canonical string as Quantity.String(). buf >= 48. */
void quantity_format(const struct quantity *q, char *buf, size_t len);
/* ParseQuantity; values finer than nano are rounded up to 1n. 0 or ERR_PARSE. */
int quantity_parse(const char *s, struct quantity *q) COMMON_WUR;
/* Quantity.MilliValue() / Value(): ceil for positives, as upstream. */
int64_t quantity_milli_value(const struct quantity *q);
int64_t quantity_value(const struct quantity *q);
/* Value in nano units (value x 10^(scale+9)), saturating. */
int64_t quantity_nano_value(const struct quantity *q);

/* ---- labels and selectors --------------------------------------------- */

/*
 * Binary search of key among n elements at base sorted by strcmp of their
 * key (key_of(base, i) returns element i's): the index of key (*found
 * true), or of the slot where it would be inserted (*found false).
 */
size_t sorted_str_search(const void *base, size_t n, const char *(*key_of)(const void *, size_t),
			 const char *key, bool *found);

struct label {
	char *key;
	char *value;
};

/* A set of labels sorted by key (unique keys). */
struct labels {
	size_t n;
	struct label *items;
};

/* An empty set; labels_clear frees what set and copy added. */
void labels_init(struct labels *l);
/* Copies key and value; replaces an existing key. */
void labels_set(struct labels *l, const char *key, const char *value);
/* Borrowed value or NULL. */
const char *labels_get(const struct labels *l, const char *key);
void labels_copy(struct labels *dst, const struct labels *src);
void labels_clear(struct labels *l);

/* A parsed label selector (labels.Parse grammar: =, ==, !=, in, notin,
 * exists, !exists, >, <).  Opaque. */
struct selector;

/* Parses s ("" or NULL = everything).  On error returns NULL and writes a
 * message (as apimachinery words it) into err. */
struct selector *selector_parse(const char *s, char *err, size_t errlen);
bool selector_matches(const struct selector *sel, const struct labels *l);
bool selector_empty(const struct selector *sel);
/* Canonical string (requirements sorted by key), caller frees. */
char *selector_string(const struct selector *sel);
void selector_free(struct selector *sel);

/* The operator of one requirement (apimachinery's selection.Operator). */
enum selector_op {
	SELECTOR_IN, SELECTOR_NOTIN, SELECTOR_EQ, SELECTOR_DEQ, SELECTOR_NEQ,
	SELECTOR_GT, SELECTOR_LT, SELECTOR_EXISTS, SELECTOR_NOTEXISTS
};
/* Number of requirements, sorted by key as selector_parse leaves them. */
size_t selector_count(const struct selector *sel);
/*
 * Requirement i < selector_count(sel): returns its key and sets *op,
 * *values (sorted, unique) and *nvalues; all borrowed from sel, valid
 * until selector_free.  Thread-safe on a selector no one frees.
 */
const char *selector_requirement(const struct selector *sel, size_t i, enum selector_op *op,
				 const char *const **values, size_t *nvalues);

/* A field selector on metadata.name / metadata.namespace style keys:
 * "k=v,k2!=v2".  Only = == != .  Keys are checked by the caller. */
struct field_req {
	char *key;
	char *value;
	bool negate;
};
struct field_selector {
	size_t n;
	struct field_req *reqs;
};
/*
 * Parses s ("" or NULL: no requirement) into *out (overwritten; clear it
 * with field_selector_clear after a success).  0, or ERR_PARSE / ERR_TOOBIG
 * with apimachinery's message in err, and *out left empty.
 */
int field_selector_parse(const char *s, struct field_selector *out, char *err, size_t errlen)
	COMMON_WUR;
void field_selector_clear(struct field_selector *fs);

/* ---- url escapes ------------------------------------------------------ */

/*
 * Percent-decodes s[0..n) into a new string (caller frees): Go's
 * url.QueryUnescape when plus_is_space ("+" -> " "), url.PathUnescape
 * otherwise.  NULL when an escape is malformed ("%4", "%zz").
 */
char *url_unescape(const char *s, size_t n, bool plus_is_space);
int hex_digit(char c); /* a hex digit's value (either case), or -1 */

/* What url_escape_append encodes, as Go's net/url does. */
enum url_escape {
	URL_ESCAPE_QUERY,   /* url.QueryEscape: unreserved kept, ' ' as '+' */
	URL_ESCAPE_SEGMENT, /* one path segment of URL.EscapedPath: also "$&+,:;=@" kept,
			       so '/' and '*' are encoded ("%2F", "%2A") */
	URL_ESCAPE_PATH,    /* a whole path (URL.EscapedPath without RawPath): '/' kept too */
};
/* Appends the n bytes at s, percent-encoded (upper-case hex) per mode, to b.
 * 0, or ERR_TOOBIG past b's cap (b then holds a prefix). */
int url_escape_append(struct dynbuf *b, const char *s, size_t n, enum url_escape mode) COMMON_WUR;
/* url.QueryEscape(s); caller frees.  Never NULL. */
char *url_query_escape(const char *s);
/* One path segment escaped as URL.EscapedPath writes it; caller frees.  Never NULL. */
char *url_path_escape(const char *s);

/* ---- uuid, validation ----------------------------------------------------- */
/* A random (version 4) UUID, lower-case, into out. */
void uuid_new(char out[37]);
/* IsDNS1123Subdomain: NULL when s is one, else apimachinery's first message
 * ("must be no more than 253 characters", "a lowercase RFC 1123 ..."). */
const char *validation_dns_subdomain(const char *s);

/* ---- yaml ------------------------------------------------------------- */

struct json_t;

/*
 * One YAML document as JSON (new reference), or NULL with a message in err.
 * Plain scalars are typed by the YAML 1.2 core schema; depth and node
 * count are bounded.
 */
struct json_t *yamldoc_to_json(const char *text, size_t len, char *err, size_t errlen);

/* A position in the YAML text, 1-based (libyaml's start mark + 1). */
struct yamldoc_mark {
	size_t line, col;
};
/* Where each node of a document converted by yamldoc_to_json_marked
 * starts: a read-only side table keyed by the jansson values. */
struct yamldoc_marks;

/*
 * yamldoc_to_json, also recording where every node starts.  On success
 * *marks is a new table (free with yamldoc_marks_free after the returned
 * value: it holds no reference, lookups compare pointers).  Duplicate
 * mapping keys are an error here (`key "k" already set in map`, as Go's
 * yaml.v2).  On failure returns NULL, *marks is NULL, err holds the reason
 * and *errpos (if not NULL) where it is.  Not bounded beyond yamldoc_to_json's
 * depth and node count; callers bound len.  Thread-safe (no shared state).
 */
struct json_t *yamldoc_to_json_marked(const char *text, size_t len, struct yamldoc_marks **marks,
				      struct yamldoc_mark *errpos, char *err, size_t errlen);
void yamldoc_marks_free(struct yamldoc_marks *m);
/*
 * Lookups (false when not recorded, *mark then {0, 0}); thread-safe on a
 * table no one frees.  member: the key of obj's member key and its value
 * (either out pointer may be NULL); element: item i of arr; node: the
 * first recorded place of v (containers and strings are unique values,
 * but null/true/false are shared: use member/element for scalars).
 */
bool yamldoc_mark_member(const struct yamldoc_marks *m, const struct json_t *obj, const char *key,
			 struct yamldoc_mark *key_mark, struct yamldoc_mark *value_mark);
bool yamldoc_mark_element(const struct yamldoc_marks *m, const struct json_t *arr, size_t i,
			  struct yamldoc_mark *mark);
bool yamldoc_mark_node(const struct yamldoc_marks *m, const struct json_t *v,
		       struct yamldoc_mark *mark);


/* ---- jsonpath (jsonpath.c) ----------------------------------------------- */

/*
 * The member at a dotted path ("metadata.name": each step a member of an
 * object), borrowed from o; NULL when o is NULL or any step is missing or
 * not an object.  "" is o itself.  Thread-safe on a value no one mutates.
 */
struct json_t *jpath_get(const struct json_t *o, const char *path);
/* The string at path (borrowed), or NULL when absent or not a string. */
const char *jpath_str(const struct json_t *o, const char *path);
/* The integer at path, or def when absent or not an integer. */
int64_t jpath_int(const struct json_t *o, const char *path, int64_t def);
/* The array / object at path (borrowed), or NULL when absent or another type. */
struct json_t *jpath_array(const struct json_t *o, const char *path);
struct json_t *jpath_object(const struct json_t *o, const char *path);
/*
 * A resource.Quantity as it appears in JSON (a string, or a number as
 * client-go's encoder writes small integers) into *q: 0, or ERR_PARSE when
 * v is neither or the text is not a Quantity.
 */
int jpath_quantity(const struct json_t *v, struct quantity *q) COMMON_WUR;

/* ---- re2 (re2posix.c: Go's RE2 syntax as a POSIX ERE) --------------------- */

/*
 * One translator of Go (RE2) regular expressions to POSIX extended ones
 * for regcomp(REG_EXTENDED) (see re2posix.c for the mapping and what it
 * refuses).  Matching is unanchored, as Go's MatchString, unless
 * RE2_ANCHORED asks for the whole text, as Prometheus' "^(?:re)$".
 */
#define RE2_ANCHORED 1u

/* Why a translation failed.  RE2_ERR_*: Go refuses the expression too
 * (regexp/syntax's error, worded by re2_why_text as Go words it); the
 * others are valid RE2 without a POSIX equivalent here. */
enum re2_why {
	RE2_OK = 0,
	RE2_FLAGS,        /* (?i) (?s) (?i:re) and other (?...) forms */
	RE2_LAZY,         /* *? +? ?? {n,m}? */
	RE2_ESCAPE,       /* \b \B \A \z \p \Q \x octal, back-references */
	RE2_CLASS_ESCAPE, /* the same, or \D \W \S, inside brackets */
	RE2_CLASS,        /* [[:^alpha:]], a non-ASCII character inside brackets */
	RE2_ERR_TRAILING_BACKSLASH,
	RE2_ERR_MISSING_BRACKET,
	RE2_ERR_MISSING_PAREN,
	RE2_ERR_UNEXPECTED_PAREN,
	RE2_ERR_NAMED_CAPTURE,
	RE2_ERR_REPEAT_OP,   /* a** a{2}* */
	RE2_ERR_REPEAT_ARG,  /* *a (* a|* */
	RE2_ERR_REPEAT_SIZE, /* a{1001} a{2,1} */
	RE2_ERR_CHAR_RANGE,  /* [z-a] [[:foo:]] */
	RE2_ERR_UTF8,
};

/* The reason, and the offending text as re + at, len bytes (Go's Expr;
 * for RE2_FLAGS the flags after "(" up to ":" or ")", at most 8 bytes). */
struct re2_error {
	enum re2_why why;
	size_t at, len;
};

/*
 * The translation.  POSIX group posix[i] holds RE2 group i (posix[0] = 0,
 * the whole match); the POSIX expression has nposix groups in all (the
 * anchoring one, (?:re) and grouped characters included), so a regexec
 * needs nposix + 1 regmatch_t.  names[i] is NULL or capture i's name.
 */
struct re2_ere {
	char *text;
	size_t ngroups;
	size_t nposix;
	size_t *posix;
	char **names;
};

/* Translates re with opts (RE2_ANCHORED or 0) into *ere (clear it with
 * re2_ere_clear): 0, or ERR_INVAL with the reason in *e (ere empty). */
int re2_translate(const char *re, unsigned opts, struct re2_ere *ere, struct re2_error *e)
	COMMON_WUR;
void re2_ere_clear(struct re2_ere *ere);
/* Go's words for an RE2_ERR_* ("missing closing )"), or the refusal's. */
const char *re2_why_text(enum re2_why why);
/* The whole reason into buf: "(?i): flags and other group forms are not
 * supported", "\b is not supported here (...)", or re2_why_text. */
void re2_error_text(const char *re, const struct re2_error *e, char *buf, size_t len);

#endif
