/*
 * check_scraper_expfmt.c - scraper/expfmt.c (and promtext_gen.c, its
 * tokenizer mode; expfmt_check.c): every row of custom-external.md §6.2,
 * OpenMetrics framing, histograms and summaries as series, escapes,
 * NaN/Inf, timestamps, duplicate series, limits, Content-Type choice.
 *
 * Every body runs three ways - whole, byte by byte, and split in two at
 * every offset - and must give the same rendered samples and the same
 * error (line and text).  Expected results are the reference table's
 * (an error is matched on the table's text as a prefix of ours).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scraper/scraper.h"
#include "test/unit/unit.h"

#define TXT SCRAPER_EXPFMT_TEXT
#define OM SCRAPER_EXPFMT_OPENMETRICS

struct out {
	char buf[4096];
	size_t len;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n < sizeof(o->buf)) {
		memcpy(o->buf + o->len, s, n);
		o->len += n;
		o->buf[o->len] = '\0';
	}
}

static void puts_esc(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			put(o, "\\n", 2);
		else if (s[i] == '\0')
			put(o, "\\0", 2);
		else if (s[i] == '"' || s[i] == '\\')
			put(o, "\\", 1), put(o, s + i, 1);
		else
			put(o, s + i, 1);
	}
}

static void put_double(struct out *o, double v)
{
	char b[40];

	if (isnan(v))
		snprintf(b, sizeof(b), "NaN");
	else if (isinf(v))
		snprintf(b, sizeof(b), "%sInf", v > 0 ? "+" : "-");
	else
		snprintf(b, sizeof(b), "%.15g", v);
	put(o, b, strlen(b));
}

/* "type:family name{l="v",...} value[ @ts][ created][ dup]\n" */
static int render(void *ud, const struct scraper_expfmt_sample *s)
{
	struct out *o = ud;
	char b[64];

	snprintf(b, sizeof(b), "%s:", scraper_expfmt_type_name(s->type));
	put(o, b, strlen(b));
	put(o, s->family, strlen(s->family));
	put(o, " ", 1);
	puts_esc(o, s->name, strlen(s->name));
	put(o, "{", 1);
	for (size_t i = 0; i < s->nlabels; i++) {
		if (i)
			put(o, ",", 1);
		puts_esc(o, s->labels[i].name, s->labels[i].name_len);
		put(o, "=\"", 2);
		puts_esc(o, s->labels[i].value, s->labels[i].value_len);
		put(o, "\"", 1);
	}
	put(o, "} ", 2);
	put_double(o, s->value);
	if (s->has_ts) {
		snprintf(b, sizeof(b), " @%lld", (long long)s->ts_ms);
		put(o, b, strlen(b));
	}
	if (s->created)
		put(o, " created", 8);
	if (s->duplicate)
		put(o, " dup", 4);
	put(o, "\n", 1);
	return 0;
}

struct result {
	struct out o;
	int rc;
	size_t err_line;
	char reason[400];
	struct scraper_expfmt_stats st;
};

/* mode 0: whole; 1: byte by byte; 2: split at `at`. */
static void run(enum scraper_expfmt_format f, const struct scraper_expfmt_limits *lim,
		const char *in, size_t n, int mode, size_t at, struct result *r)
{
	memset(r, 0, sizeof(*r));
	struct scraper_expfmt *p = scraper_expfmt_new(f, lim, render, &r->o);
	int rc = 0;

	if (mode == 0) {
		rc = scraper_expfmt_feed(p, in, n);
	} else if (mode == 1) {
		for (size_t i = 0; i < n && !rc; i++)
			rc = scraper_expfmt_feed(p, in + i, 1);
	} else {
		rc = scraper_expfmt_feed(p, in, at);
		if (!rc)
			rc = scraper_expfmt_feed(p, in + at, n - at);
	}
	if (!rc)
		rc = scraper_expfmt_finish(p);
	r->rc = rc;
	r->err_line = scraper_expfmt_error_line(p);
	snprintf(r->reason, sizeof(r->reason), "%s", scraper_expfmt_error_reason(p));
	scraper_expfmt_stats(p, &r->st);
	scraper_expfmt_free(p);
}

/*
 * Runs the three ways and checks they agree, then against the expected
 * samples (exactly) and error (line, and err as a prefix; NULL = none).
 * Returns the whole run's result.
 */
static struct result check_body(enum scraper_expfmt_format f, const struct scraper_expfmt_limits *lim,
				const char *in, size_t n, const char *want, size_t err_line,
				const char *err)
{
	static struct result whole, other;

	run(f, lim, in, n, 0, 0, &whole);
	for (size_t at = 0; at <= n + 1; at++) {
		if (at == n + 1)
			run(f, lim, in, n, 1, 0, &other);
		else
			run(f, lim, in, n, 2, at, &other);
		ck_assert_msg(strcmp(whole.o.buf, other.o.buf) == 0 && whole.rc == other.rc &&
				      whole.err_line == other.err_line &&
				      strcmp(whole.reason, other.reason) == 0,
			      "%s: whole gave [%s] %d line %zu %s; %s %zu gave [%s] %d line %zu %s", in,
			      whole.o.buf, whole.rc, whole.err_line, whole.reason,
			      at == n + 1 ? "bytes" : "split", at, other.o.buf, other.rc,
			      other.err_line, other.reason);
	}
	ck_assert_msg(strcmp(whole.o.buf, want) == 0, "%s:\n got [%s]\nwant [%s]", in, whole.o.buf,
		      want);
	if (!err) {
		ck_assert_msg(whole.rc == 0, "%s: unexpected error line %zu: %s", in, whole.err_line,
			      whole.reason);
	} else {
		ck_assert_msg(whole.rc != 0, "%s: no error, want %s", in, err);
		ck_assert_msg(whole.err_line == err_line && strncmp(whole.reason, err, strlen(err)) == 0,
			      "%s: got line %zu: %s; want line %zu: %s", in, whole.err_line,
			      whole.reason, err_line, err);
	}
	return whole;
}

#define S(x) x, sizeof(x) - 1

/* The §6.2 rows and more: format, body, samples, error line and text. */
static const struct row {
	const char *id;
	enum scraper_expfmt_format f;
	const char *in;
	size_t n;
	const char *want;
	size_t err_line;
	const char *err;
} rows[] = {
	{"1", TXT, S("metric_without_timestamp_and_labels 12.47\n"),
	 "untyped:metric_without_timestamp_and_labels metric_without_timestamp_and_labels{} 12.47\n", 0, NULL},
	{"2", TXT, S("something_weird{problem=\"division by zero\"} +Inf -3982045\n"),
	 "untyped:something_weird something_weird{problem=\"division by zero\"} +Inf @-3982045\n", 0, NULL},
	{"3", TXT, S("x{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n"),
	 "untyped:x x{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1458255915\n", 0, NULL},
	{"4", TXT, S("name {labelname=\"val2\",basename=\"base\\\"v\\\\al\\nue\"} 0.23 1234567890\n"),
	 "untyped:name name{labelname=\"val2\",basename=\"base\\\"v\\\\al\\nue\"} 0.23 @1234567890\n", 0, NULL},
	{"5", TXT, S("name2{ labelname = \"val1\" , }-Inf\n"), "untyped:name2 name2{labelname=\"val1\"} -Inf\n", 0, NULL},
	{"6", TXT, S("no_labels{} 3\n"), "untyped:no_labels no_labels{} 3\n", 0, NULL},
	{"7a", TXT, S("{} 3.14\n"), "", 1, "invalid metric name"},
	{"7b", TXT, S("{a=\"ok\"} 1\n"), "", 1, "invalid metric name"},
	{"8", TXT, S("another_metric -3e3 103948\ns_sum{n=\"v\"} 08 15\n"),
	 "untyped:another_metric another_metric{} -3000 @103948\nuntyped:s_sum s_sum{n=\"v\"} 8 @15\n", 0, NULL},
	{"9", TXT, S("go_goroutines 33  \t123123\nsome:agg:rate5m{a_b=\"c\"}\t1\n"),
	 "untyped:go_goroutines go_goroutines{} 33 @123123\nuntyped:some:agg:rate5m some:agg:rate5m{a_b=\"c\"} 1\n", 0, NULL},
	{"10", TXT, S("_m 1\nt{_l=\"foo\"} 1\nt{label=\"\\\"bar\\\"\"} 1\n"),
	 "untyped:_m _m{} 1\nuntyped:t t{_l=\"foo\"} 1\nuntyped:t t{label=\"\\\"bar\\\"\"} 1\n", 0, NULL},
	{"11", TXT, S("null_byte_metric{a=\"abc\0\"} 1\n"), "untyped:null_byte_metric null_byte_metric{a=\"abc\\0\"} 1\n", 0, NULL},
	{"12", TXT, S("metric{label=\"\\t\"} 3.14\n"), "", 1, "invalid escape sequence"},
	{"13", TXT, S("a 1\nmetric{label=\"new\nline\"} 3.14\n"), "untyped:a a{} 1\n", 2,
	 "label value \"new\" contains unescaped new-line"},
	{"14a", TXT, S("metric{@=\"bla\"} 3.14\n"), "", 1, "expected label name"},
	{"14b", TXT, S("x{=\"\"} 0\n"), "", 1, "expected label name"},
	{"15", TXT, S("metric{__name__=\"bla\"} 3.14\n"), "", 1, "label name \"__name__\" is reserved"},
	{"16a", TXT, S("metric{label=bla} 3.14\n"), "", 1, "expected '\"' at start of label value"},
	{"16b", TXT, S("a{b='c'} 1\n"), "", 1, "expected '\"' at start of label value"},
	{"17", TXT, S("metric{label=\"bla\"+} 3.14\n"), "", 1, "unexpected end of label value"},
	{"18", TXT, S("x { quantile = \"2.0\" a = \"b\" } 1\n"), "", 1, "unexpected end of label value"},
	{"19", TXT, S("metric{label=\"bla\",label=\"bla\"} 3.14\n"), "", 1, "duplicate label names"},
	{"20a", TXT, S("metric{label=\"bla\"} 3.14 2.72\n"), "", 1, "expected integer as timestamp"},
	{"20b", TXT, S("metric{label=\"bla\"} 3.14 2 3\n"), "", 1, "spurious string after timestamp"},
	{"21a", TXT, S("metric blubb\n"), "", 1, "expected float as value"},
	{"21b", TXT, S("a true\n"), "", 1, "expected float as value"},
	{"22a", TXT, S("foo 1_2\n"), "", 1, "expected float as value"},
	{"22b", TXT, S("foo 0x1p-3\n"), "", 1, "expected float as value"},
	{"22c", TXT, S("foo 0x1P-3\n"), "", 1, "expected float as value"},
	{"23a", TXT, S("foo 0x1\n"), "", 1, "expected float as value"},
	{"23b", TXT, S("foo 0X1\n"), "", 1, "expected float as value"},
	{"23c", TXT, S("foo 0b1\n"), "", 1, "expected float as value"},
	{"23d", TXT, S("foo 0B1\n"), "", 1, "expected float as value"},
	{"23e", TXT, S("foo 0o1\n"), "", 1, "expected float as value"},
	{"23f", TXT, S("foo 0O1\n"), "", 1, "expected float as value"},
	{"24", TXT, S("foo nan\nfoo Inf\nfoo +infinity\nfoo .5\nfoo 1E3\nfoo -inf\n"),
	 "untyped:foo foo{} NaN\nuntyped:foo foo{} +Inf dup\nuntyped:foo foo{} +Inf dup\nuntyped:foo foo{} 0.5 dup\n"
	 "untyped:foo foo{} 1000 dup\nuntyped:foo foo{} -Inf dup\n", 0, NULL},
	{"25", TXT, S("a 1\nb 2"), "untyped:a a{} 1\nuntyped:b b{} 2\n", 0, NULL},
	{"26", TXT, S("a 1\r\nb{c=\"d\"} 2 5\r\n"), "untyped:a a{} 1\nuntyped:b b{c=\"d\"} 2 @5\n", 0, NULL},
	{"26om", OM, S("a 1\r\n# EOF\n"), "", 1, "invalid character \"\\r\""},
	{"27a", TXT, S("# TYPE a gauge\n# TYPE a counter\na 1\n"), "gauge:a a{} 1\n", 0, NULL},
	{"27b", TXT, S("a 1\n# TYPE a counter\na 2\n"), "untyped:a a{} 1\nuntyped:a a{} 2 dup\n", 0, NULL},
	{"28a", TXT, S("# TYPE metric bla\n"), "", 1, "unknown metric type \"bla\""},
	{"28b", TXT, S("# TYPE met-ric\n"), "", 1, "invalid metric name in comment"},
	{"28c", OM, S("# TYPE a untyped\n# EOF\n"), "", 1, "invalid metric type \"untyped\""},
	{"28d", OM, S("# TYPE a counter \n# EOF\n"), "", 1, "invalid metric type \"counter \""},
	{"29", TXT, S("# HELP m one\n# HELP m two\nm 1\n"), "untyped:m m{} 1\n", 0, NULL},
	{"30", TXT, S("# HELP nohelp1\n# HELP\n#\n# Hrandom comment\nm 1\n"), "untyped:m m{} 1\n", 0, NULL},
	{"31", TXT, S("# \tTYPE x summary\nx{quantile=\"0.5\"} 1\n"), "summary:x x{quantile=\"0.5\"} 1\n", 0, NULL},
	{"31om1", OM, S("#\tTYPE x summary\n# EOF\n"), "", 1, "invalid metadata line"},
	{"31om2", OM, S("#  TYPE x summary\n# EOF\n"), "", 1, "invalid metadata line"},
	{"32a", TXT, S("# TYPE x summary\nx{quantile=\"bla\"} 1\n"), "", 2, "expected float as value for 'quantile' label"},
	{"32b", TXT, S("# TYPE x histogram\nx_bucket{le=\"0x1p-3\"} 1\n"), "", 2, "expected float as value for 'le' label"},
	{"33a", TXT, S("# TYPE x histogram\nx_count -2693\n"), "", 2, "negative count"},
	{"33b", TXT, S("# TYPE x histogram\nx_bucket{le=\"1\"} -412\n"), "", 2, "negative bucket population for histogram"},
	{"34a", TXT, S("a{b=\"\xbd\"} 1\n"), "", 1, "invalid UTF-8 label value"},
	{"34b", TXT, S("a{b=\"x\xff\"} 1\n"), "", 1, "invalid UTF-8 label value"},
	{"35a", TXT, S("{\"my.noncompliant.metric\",\"label.name\"=\"value\"} 1\n"),
	 "untyped:my.noncompliant.metric my.noncompliant.metric{label.name=\"value\"} 1\n", 0, NULL},
	{"35b", TXT, S("{l=\"v\", \"my.metric\"} 1\n"), "untyped:my.metric my.metric{l=\"v\"} 1\n", 0, NULL},
	{"36", TXT, S("{\"one.name\",\"another.name\"} 3.14\n"), "", 1, "multiple metric names"},
	{"37", TXT, S("a\n"), "", 1, "expected value after metric"},
	{"38", TXT, S("# TYPE x summary\nx{quantile=\"0.5\"} 1\ny 2\nx_sum 3\nx_count 4\n"),
	 "summary:x x{quantile=\"0.5\"} 1\nuntyped:y y{} 2\nsummary:x x_sum{} 3\nsummary:x x_count{} 4\n", 0, NULL},
	{"39a", OM, S("a 1\n"), "untyped:a a{} 1\n", 1, "data does not end with # EOF"},
	{"39b", OM, S("a{b=\"c\",} 1\n# EOF\n"), "", 1, "expected label name, got \"BCLOSE\""},
	{"39c", OM, S("a 1\n\n# EOF\n"), "untyped:a a{} 1\n", 2, "\"\\n\" is not a valid start token"},
	{"39d", OM, S(" a 1\n# EOF\n"), "", 1, "\" \" is not a valid start token"},
	{"39e", OM, S("a 1 NaN\n# EOF\n"), "", 1, "invalid timestamp"},
	{"40om", OM, S("custom_metric 1 # {aa=\"bb\"} 1\n# EOF\n"), "", 1,
	 "metric name custom_metric does not support exemplars"},
	{"40txt", TXT, S("# TYPE c counter\nc_total 1 # {aa=\"bb\"} 1\nc2 2 17 # {a=\"b\"} 1 1.5\n"),
	 "untyped:c_total c_total{} 1\nuntyped:c2 c2{} 2 @17\n", 0, NULL},
	/* OpenMetrics */
	{"om-counter", OM,
	 S("# TYPE foo counter\n# HELP foo Foo.\n# UNIT foo seconds\nfoo_total{a=\"b\"} 17 # {trace=\"x\"} 1 1.5\n"
	   "foo_created{a=\"b\"} 1.6e9\n# EOF\n"),
	 "counter:foo foo_total{a=\"b\"} 17\ncounter:foo foo_created{a=\"b\"} 1600000000 created\n", 0, NULL},
	{"om-ts", OM, S("a 1 1.5\nb 2 -0.0015\nc 3 1700000000.123\n# EOF"),
	 "untyped:a a{} 1 @1500\nuntyped:b b{} 2 @-1\nuntyped:c c{} 3 @1700000000123\n", 0, NULL},
	{"om-after-eof", OM, S("a 1\n# EOF\nb 2\n"), "untyped:a a{} 1\n", 3, "unexpected data after # EOF"},
	{"om-eof-blank", OM, S("# EOF\n\n"), "", 2, "unexpected data after # EOF"},
	{"om-spaces", OM, S("a  1\n# EOF\n"), "", 1, "expected exactly one space between tokens"},
	{"om-trailing", OM, S("a 1 \n# EOF\n"), "", 1, "expected exactly one space between tokens"},
	{"om-label-blank", OM, S("a{ b=\"c\"} 1\n# EOF\n"), "", 1, "expected label name"},
	{"om-comment", OM, S("# random comment\n# EOF\n"), "", 1, "invalid metadata line"},
	{"om-hist", OM,
	 S("# TYPE h histogram\nh_bucket{le=\"1.0\"} 1 # {id=\"a\"} 0.5\nh_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum 1.5\n"
	   "h_created 1\n# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 3\ng_gcount 3\ng_gsum 4\n"
	   "# TYPE s stateset\ns{s=\"a\"} 1\ns{s=\"b\"} 0\n# TYPE i info\ni_info{v=\"1\"} 1\n# EOF\n"),
	 "histogram:h h_bucket{le=\"1.0\"} 1\nhistogram:h h_bucket{le=\"+Inf\"} 2\nhistogram:h h_count{} 2\n"
	 "histogram:h h_sum{} 1.5\nhistogram:h h_created{} 1 created\ngaugehistogram:g g_bucket{le=\"+Inf\"} 3\n"
	 "gaugehistogram:g g_gcount{} 3\ngaugehistogram:g g_gsum{} 4\nstateset:s s{s=\"a\"} 1\n"
	 "stateset:s s{s=\"b\"} 0\ninfo:i i_info{v=\"1\"} 1\n", 0, NULL},
	{"om-quantile", OM, S("# TYPE x summary\nx{quantile=\"bla\"} 1\n# EOF\n"), "", 2,
	 "expected float as value for 'quantile' label"},
	/* text: histograms and summaries as their series */
	{"hist", TXT,
	 S("# HELP h Latency.\n# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 3\nh_sum 2.5\nh_count 3\n"),
	 "histogram:h h_bucket{le=\"0.1\"} 1\nhistogram:h h_bucket{le=\"+Inf\"} 3\nhistogram:h h_sum{} 2.5\n"
	 "histogram:h h_count{} 3\n", 0, NULL},
	{"summary", TXT,
	 S("# TYPE rpc summary\nrpc{quantile=\"0.5\",svc=\"a\"} 0.2\nrpc{quantile=\"0.99\",svc=\"a\"} NaN\n"
	   "rpc_sum{svc=\"a\"} 8\nrpc_count{svc=\"a\"} 40\n"),
	 "summary:rpc rpc{quantile=\"0.5\",svc=\"a\"} 0.2\nsummary:rpc rpc{quantile=\"0.99\",svc=\"a\"} NaN\n"
	 "summary:rpc rpc_sum{svc=\"a\"} 8\nsummary:rpc rpc_count{svc=\"a\"} 40\n", 0, NULL},
	{"counter-total", TXT, S("# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} 1027 1395066363000\n"),
	 "counter:http_requests_total http_requests_total{code=\"200\"} 1027 @1395066363000\n", 0, NULL},
	{"text-created", TXT, S("# TYPE foo counter\nfoo_created 5\n"), "untyped:foo_created foo_created{} 5\n", 0, NULL},
	{"dups", TXT, S("a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\na{x=\"1\"} 3\nb{x=\"1\",y=\"2\"} 4\n"),
	 "untyped:a a{x=\"1\",y=\"2\"} 1\nuntyped:a a{y=\"2\",x=\"1\"} 2 dup\nuntyped:a a{x=\"1\"} 3\n"
	 "untyped:b b{x=\"1\",y=\"2\"} 4\n", 0, NULL},
	{"ts-range", TXT, S("a 1 9223372036854775807\nb 1 -9223372036854775808\nc 1 9223372036854775808\n"),
	 "untyped:a a{} 1 @9223372036854775807\nuntyped:b b{} 1 @-9223372036854775808\n", 3,
	 "expected integer as timestamp"},
	{"many-labels", TXT,
	 S("m{a=\"1\",b=\"2\",c=\"3\",d=\"4\",e=\"5\",f=\"6\",g=\"7\",h=\"8\",i=\"9\",j=\"10\",k=\"11\",l=\"12\","
	   "n=\"13\",o=\"14\",p=\"15\",q=\"16\",r=\"17\"} 1\n"),
	 "untyped:m m{a=\"1\",b=\"2\",c=\"3\",d=\"4\",e=\"5\",f=\"6\",g=\"7\",h=\"8\",i=\"9\",j=\"10\",k=\"11\","
	 "l=\"12\",n=\"13\",o=\"14\",p=\"15\",q=\"16\",r=\"17\"} 1\n", 0, NULL},
	{"blank-lines", TXT, S("\n  \n\ta 1\n\n"), "untyped:a a{} 1\n", 0, NULL},
	{"empty", TXT, S(""), "", 0, NULL},
	{"om-empty", OM, S(""), "", 0, "data does not end with # EOF"},
};

START_TEST(table_row)
{
	const struct row *r = &rows[_i];

	check_body(r->f, NULL, r->in, r->n, r->want, r->err_line, r->err);
}
END_TEST

static int keep_labels(void *ud, const struct scraper_expfmt_sample *s)
{
	char *out = ud;

	ck_assert_uint_eq(s->nlabels, 2);
	snprintf(out, 256, "%s|%s", s->labels[0].value, s->labels[1].value);
	ck_assert_uint_eq(s->labels[1].value_len, strlen("Cannot find file:\n\"FILE.TXT\""));
	return 0;
}

START_TEST(callback_values)
{
	static const char in[] =
		"x{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1\n";
	char got[256] = "";
	struct scraper_expfmt *p = scraper_expfmt_new(TXT, NULL, keep_labels, got);

	ck_assert_int_eq(scraper_expfmt_feed(p, S(in)), 0);
	ck_assert_int_eq(scraper_expfmt_finish(p), 0);
	ck_assert_str_eq(got, "C:\\DIR\\FILE.TXT|Cannot find file:\n\"FILE.TXT\"");
	ck_assert_str_eq(scraper_expfmt_error(p), "");
	scraper_expfmt_free(p);
}
END_TEST

START_TEST(warnings_and_duplicates)
{
	struct result r = check_body(TXT, NULL,
				     S("# HELP a x\n# HELP a y\n# TYPE a gauge\n# TYPE a counter\na 1\na 2\n"
				       "b 1\n# TYPE b gauge\n"),
				     "gauge:a a{} 1\ngauge:a a{} 2 dup\nuntyped:b b{} 1\n", 0, NULL);

	ck_assert_uint_eq(r.st.warnings, 3);
	ck_assert_uint_eq(r.st.duplicates, 1);
	ck_assert_uint_eq(r.st.samples, 3);
	ck_assert_uint_eq(r.st.lines, 8);
}
END_TEST

START_TEST(limits)
{
	struct scraper_expfmt_limits l = {.sample_limit = 2};

	check_body(TXT, &l, S("a 1\nb 2\nc 3\n"), "untyped:a a{} 1\nuntyped:b b{} 2\n", 3,
		   "sample limit exceeded");
	check_body(TXT, &l, S("a 1\nb 2\n"), "untyped:a a{} 1\nuntyped:b b{} 2\n", 0, NULL);
	l = (struct scraper_expfmt_limits){.label_limit = 2};
	check_body(TXT, &l, S("a{x=\"1\"} 1\na{x=\"1\",y=\"2\"} 1\n"), "untyped:a a{x=\"1\"} 1\n", 2,
		   "label_limit exceeded (metric: a, number of labels: 3, limit: 2)");
	l = (struct scraper_expfmt_limits){.label_value_length_limit = 3};
	check_body(TXT, &l, S("a{x=\"abc\"} 1\na{x=\"abcd\"} 1\n"), "untyped:a a{x=\"abc\"} 1\n", 2,
		   "label_value_length_limit exceeded (metric: a, label name: x, value: \"abcd\", "
		   "length: 4, limit: 3)");
	check_body(TXT, &l, S("abcd 1\n"), "", 1,
		   "label_value_length_limit exceeded (metric: abcd, label name: __name__, value: "
		   "\"abcd\", length: 4, limit: 3)");
	l = (struct scraper_expfmt_limits){.body_size_limit = 10};
	check_body(TXT, &l, S("a 1\nb 2\nc 3\n"), "untyped:a a{} 1\nuntyped:b b{} 2\n", 3,
		   "body size limit exceeded");
	check_body(TXT, &l, S("a 1\nb 2\n#\n"), "untyped:a a{} 1\nuntyped:b b{} 2\n", 0, NULL);
	l = (struct scraper_expfmt_limits){.line_limit = 8};
	check_body(TXT, &l, S("a 1\nb{x=\"123456\"} 1\n"), "untyped:a a{} 1\n", 2, "line longer than 8 bytes");
	check_body(TXT, &l, S("a 1\nb{x=\"123456\"} 1"), "untyped:a a{} 1\n", 2, "line longer than 8 bytes");
}
END_TEST

static int stop_at_second(void *ud, const struct scraper_expfmt_sample *s)
{
	int *n = ud;

	(void)s;
	return ++*n == 2 ? 42 : 0;
}

START_TEST(callback_stops)
{
	int n = 0;
	struct scraper_expfmt *p = scraper_expfmt_new(TXT, NULL, stop_at_second, &n);

	ck_assert_int_eq(scraper_expfmt_feed(p, S("a 1\nb 2\nc 3\n")), 42);
	ck_assert_int_eq(scraper_expfmt_feed(p, S("d 4\n")), 42);
	ck_assert_int_eq(scraper_expfmt_finish(p), 42);
	ck_assert_str_eq(scraper_expfmt_error(p), "line 2: stopped by the sample callback");
	ck_assert_int_eq(n, 2);
	/* reset: a new body, other format, same buffers */
	n = 0;
	scraper_expfmt_reset(p, OM);
	ck_assert_int_eq(scraper_expfmt_feed(p, S("# EOF\n")), 0);
	ck_assert_int_eq(scraper_expfmt_finish(p), 0);
	ck_assert_int_eq(scraper_expfmt_finish(p), ERR_INVAL);
	scraper_expfmt_free(p);
	scraper_expfmt_free(NULL);
}
END_TEST

START_TEST(content_type)
{
	static const struct {
		const char *ct;
		int rc;
		enum scraper_expfmt_format f;
	} cases[] = {
		{"application/openmetrics-text; version=1.0.0; charset=utf-8", 0, OM},
		{"application/openmetrics-text;version=0.0.1", 0, OM},
		{" Application/OpenMetrics-Text ", 0, OM},
		{"text/plain; version=0.0.4; charset=utf-8", 0, TXT},
		{"text/plain", 0, TXT},
		{NULL, ERR_INVAL, TXT},
		{"", ERR_INVAL, TXT},
		{"application/json", ERR_INVAL, TXT},
		{"application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
		 ERR_INVAL, TXT},
	};

	for (size_t i = 0; i < COMMON_ARRAY_LEN(cases); i++) {
		enum scraper_expfmt_format f = OM;
		ck_assert_int_eq(scraper_expfmt_format_of(cases[i].ct, &f), cases[i].rc);
		ck_assert_int_eq(f, cases[i].f);
	}
	ck_assert_str_eq(SCRAPER_EXPFMT_ACCEPT,
			 "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
			 "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
}
END_TEST

static Suite *expfmt_suite(void)
{
	Suite *s = suite_create("scraper_expfmt");
	TCase *tc = tcase_create("expfmt");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, table_row, 0, (int)COMMON_ARRAY_LEN(rows));
	tcase_add_test(tc, callback_values);
	tcase_add_test(tc, warnings_and_duplicates);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, callback_stops);
	tcase_add_test(tc, content_type);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(expfmt_suite());
}
