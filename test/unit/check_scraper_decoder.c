/*
 * check_scraper_decoder.c - the streaming /metrics/resource decoder
 * (scraper/decoder.c, promtext.c, floatparse.c) against every kubelet
 * fixture in test/data/kubelet with the decodes metrics-server expects,
 * fed whole, byte by byte and in random chunks.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scraper/scraper_int.h"
#include "test/unit/unit.h"

#define FIXTURES "test/data/kubelet/"
#define REQ_TS INT64_C(1633253900123456789) /* default timestamp given */
#define REQ_TS_MS INT64_C(1633253900123000000)

/* ---- a sink that renders what survives as text -------------------------- */

static void rec_node(void *ud, const char *node, const struct store_point *p)
{
	ck_assert_int_eq(dynbuf_printf(ud, "node %s ts=%lld start=%lld cpu=%llu mem=%llu\n", node,
				       (long long)p->ts_ns, (long long)p->start_ns,
				       (unsigned long long)p->cpu_ns,
				       (unsigned long long)p->mem_bytes),
			 0);
}

static void rec_container(void *ud, const char *ns, const char *pod, const char *c,
			  const struct store_point *p)
{
	ck_assert_int_eq(dynbuf_printf(ud, "container %s/%s/%s ts=%lld start=%lld cpu=%llu mem=%llu\n",
				       ns, pod, c, (long long)p->ts_ns, (long long)p->start_ns,
				       (unsigned long long)p->cpu_ns,
				       (unsigned long long)p->mem_bytes),
			 0);
}

static const struct scraper__sink rec_sink = {rec_node, rec_container};

/* Feeds body in chunks of `chunk` bytes (0 = random sizes 1..4096). */
static int decode_chunked(struct scraper_decoder *d, const char *body, size_t len, size_t chunk,
			  struct dynbuf *out)
{
	size_t off = 0;
	unsigned seed = 12345;

	while (off < len) {
		size_t n = chunk;
		if (n == 0) {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 8) % 4096;
		}
		if (n > len - off)
			n = len - off;
		int rc = scraper_decoder_feed(d, body + off, n);
		if (rc)
			return rc;
		off += n;
	}
	return scraper__decoder_emit(d, &rec_sink, out);
}

/* Decodes text whole; returns the rendering (caller frees) and *rc. */
static char *decode_text(const char *text, size_t len, int *rc, char *err, size_t errlen)
{
	struct scraper_decoder *d = scraper_decoder_new("node1", REQ_TS);
	struct dynbuf out;

	dynbuf_init(&out, DYN_KUBELET_BODY);
	*rc = decode_chunked(d, text, len, len ? len : 1, &out);
	if (err)
		snprintf(err, errlen, "%s", scraper_decoder_error(d));
	scraper_decoder_free(d);
	return dynbuf_take(&out, NULL);
}

static void load(const char *name, struct dynbuf *b)
{
	char path[256];

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	dynbuf_init(b, DYN_KUBELET_BODY);
	ck_assert_msg(dynbuf_read_file(b, path) == 0, "cannot read %s", path);
}

/*
 * Decodes fixture `name` whole, byte by byte, in random chunks and with a
 * reused decoder; all must agree.  Returns the rendering; *rc the result.
 */
static char *decode_fixture(const char *name, int *rc, char *err, size_t errlen)
{
	static const size_t chunks[] = {0, 1, 2, 7, 64, 4096, SIZE_MAX};
	struct scraper_decoder *d = scraper_decoder_new("other", 1);
	struct dynbuf body, first, out;
	char *res;

	load(name, &body);
	dynbuf_init(&first, DYN_SMALL * 4);
	dynbuf_init(&out, DYN_SMALL * 4);
	for (size_t i = 0; i < COMMON_ARRAY_LEN(chunks); i++) {
		scraper_decoder_reset(d, "node1", REQ_TS);
		dynbuf_reset(&out);
		int r = decode_chunked(d, body.buf, body.len, chunks[i] == SIZE_MAX ? body.len : chunks[i],
				       &out);
		if (i == 0) {
			*rc = r;
			snprintf(err, errlen, "%s", scraper_decoder_error(d));
			ck_assert_int_eq(dynbuf_add(&first, out.buf ? out.buf : "", out.len), 0);
		} else {
			ck_assert_int_eq(r, *rc);
			ck_assert_str_eq(scraper_decoder_error(d), err);
			ck_assert_str_eq(out.buf ? out.buf : "", first.buf ? first.buf : "");
		}
	}
	res = dynbuf_take(&first, NULL);
	dynbuf_release(&out);
	dynbuf_release(&body);
	scraper_decoder_free(d);
	return res;
}

static void expect_fixture(const char *name, const char *want)
{
	char err[256];
	int rc;
	char *got = decode_fixture(name, &rc, err, sizeof(err));

	ck_assert_msg(rc == 0, "%s: %s", name, err);
	ck_assert_str_eq(got, want);
	free(got);
}

#define NODE1 "node node1 ts=1633253809720000000 start=0 cpu=357354910000 mem=1616273408\n"
#define COREDNS                                                                              \
	"container kube-system/coredns-558bd4d5db-4dpjz/coredns ts=1633253812125000000 "     \
	"start=1633252712000000000 cpu=4710169000 mem=12533760\n"

/* ---- one test per fixture ------------------------------------------------- */

START_TEST(fixture_normal)
{
	expect_fixture("decode-normal.txt", NODE1 COREDNS);
}
END_TEST

START_TEST(fixture_no_timestamps)
{
	expect_fixture("decode-no-timestamps.txt",
		       "node node1 ts=1633253900123000000 start=0 cpu=357354910000 mem=1616273408\n"
		       "container kube-system/coredns-558bd4d5db-4dpjz/coredns ts=1633253900123000000 "
		       "start=1633252712000000000 cpu=4710169000 mem=12533760\n");
}
END_TEST

START_TEST(fixture_pods_only)
{
	expect_fixture("decode-pods-only-no-node.txt", COREDNS);
}
END_TEST

START_TEST(fixture_node_only)
{
	expect_fixture("decode-node-only.txt", NODE1);
}
END_TEST

/* Incomplete containers drop the pod; incomplete nodes drop the node. */
START_TEST(fixture_incomplete)
{
	static const char *const names[] = {
		"decode-container-missing-cpu.txt", "decode-container-zero-cpu.txt",
		"decode-container-missing-memory.txt", "decode-container-zero-memory.txt",
		"decode-node-missing-cpu.txt", "decode-node-zero-cpu.txt",
		"decode-node-missing-memory.txt", "decode-node-zero-memory.txt",
		"upstream-kubelet-pod-swap.txt", "upstream-kubelet-scrape-error.txt",
	};
	expect_fixture(names[_i], "");
}
END_TEST

START_TEST(fixture_negative_timestamp)
{
	char err[256];
	int rc;
	char *got = decode_fixture("decode-negative-timestamp-error.txt", &rc, err, sizeof(err));

	ck_assert_int_eq(rc, ERR_PARSE);
	ck_assert_str_eq(got, "");
	ck_assert_str_eq(err, "failed parsing metrics: line 4: expected timestamp or new record, "
			      "got \"-62135596800000\"");
	free(got);
}
END_TEST

START_TEST(fixture_swap_ignored)
{
	expect_fixture("pr1753-swap-container.txt", COREDNS);
	expect_fixture("pr1753-swap-node.txt", NODE1);
}
END_TEST

START_TEST(fixture_upstream_node_swap)
{
	expect_fixture("upstream-kubelet-node-swap.txt",
		       "node node1 ts=1624396278302000000 start=0 cpu=10000000000 mem=1000\n");
}
END_TEST

START_TEST(fixture_upstream_containers_swap)
{
	expect_fixture("upstream-kubelet-containers-swap.txt",
		       "container namespace_a/pod_a/container_a ts=1624396278302000000 "
		       "start=1624396248302091520 cpu=10000000000 mem=1000\n"
		       "container namespace_a/pod_a/container_b ts=1624396278302000000 "
		       "start=1624396158302091520 cpu=10000000000 mem=1000\n"
		       "container namespace_b/pod_b/container_a ts=1624396278302000000 "
		       "start=1624395678302091520 cpu=10000000000 mem=1000\n");
}
END_TEST

START_TEST(fixture_kind_e2e)
{
	char err[256];
	int rc;
	char *got = decode_fixture("kind-e2e-70pods.txt", &rc, err, sizeof(err));
	size_t lines = 0;

	ck_assert_msg(rc == 0, "%s", err);
	ck_assert(strncmp(got, NODE1, strlen(NODE1)) == 0);
	for (const char *p = got; (p = strchr(p, '\n')); p++)
		lines++;
	ck_assert_uint_eq(lines, 71); /* node + 70 pods of one container */
	ck_assert_ptr_nonnull(strstr(got, "container kube-system/etcd-e2e-control-plane/etcd "
					  "ts=1633253814387000000 start=0 cpu=31349402000 "
					  "mem=40783872\n"));
	ck_assert_ptr_nonnull(strstr(got, "container kube-system/coredns-558bd4d5db-4dpjz/coredns "
					  "ts=1633253812125000000 start=0 cpu=4710169000 "
					  "mem=12533760\n"));
	free(got);
}
END_TEST

/* ---- exposition details ---------------------------------------------------- */

static void expect_text(const char *text, const char *want)
{
	char err[256];
	int rc;
	char *got = decode_text(text, strlen(text), &rc, err, sizeof(err));

	ck_assert_msg(rc == 0, "%s: %s", text, err);
	ck_assert_str_eq(got, want);
	free(got);
}

static void expect_error(const char *text, size_t len, int want_rc, const char *want_err)
{
	char err[256];
	int rc;
	char *got = decode_text(text, len, &rc, err, sizeof(err));

	ck_assert_int_eq(rc, want_rc);
	ck_assert_str_eq(got, "");
	ck_assert_str_eq(err, want_err);
	free(got);
}

#define CPU(labels, v) "container_cpu_usage_seconds_total{" labels "} " v " 1000\n"
#define MEM(labels, v) "container_memory_working_set_bytes{" labels "} " v " 1000\n"

START_TEST(label_escapes)
{
	const char *l = "container=\"a\\\"b\",namespace=\"n\\\\s\",pod=\"p\\nq\"";
	char body[512];

	snprintf(body, sizeof(body), CPU("%s", "1") MEM("%s", "2"), l, l);
	expect_text(body, "container n\\s/p\nq/a\"b ts=1000000000 start=0 cpu=1000000000 mem=2\n");
}
END_TEST

START_TEST(label_syntax_variants)
{
	/* blanks around tokens, trailing comma, other labels, tabs, UTF-8 */
	expect_text("container_cpu_usage_seconds_total { id=\"x\", container = \"c\" ,\tpod=\"p\","
		    "namespace=\"n\", } 1.5\t1000\n" MEM("pod=\"p\",namespace=\"n\",container=\"c\"", "7")
		    "node_cpu_usage_seconds_total{} 2 3000\nnode_memory_working_set_bytes 4e3 2000\n"
		    "other_metric{v=\"caf\xc3\xa9 \xe2\x82\xac\"} 1\n",
		    "node node1 ts=2000000000 start=0 cpu=2000000000 mem=4000\n"
		    "container n/p/c ts=1000000000 start=0 cpu=1500000000 mem=7\n");
}
END_TEST

START_TEST(last_line_without_newline)
{
	expect_text("node_cpu_usage_seconds_total 1 5\nnode_memory_working_set_bytes 2 6",
		    "node node1 ts=6000000 start=0 cpu=1000000000 mem=2\n");
}
END_TEST

START_TEST(start_time_ignores_timestamp_and_dups_overwrite)
{
	expect_text(CPU("container=\"c\",pod=\"p\",namespace=\"n\"", "1")
		    CPU("container=\"c\",pod=\"p\",namespace=\"n\"", "3")
		    MEM("container=\"c\",pod=\"p\",namespace=\"n\"", "2")
		    "container_start_time_seconds{container=\"c\",pod=\"p\",namespace=\"n\"} 1.5e9 99\n",
		    "container n/p/c ts=1000000000 start=1500000000000000000 cpu=3000000000 mem=2\n");
}
END_TEST

/* A container with only a start time makes its pod incomplete. */
START_TEST(start_time_only_container_drops_pod)
{
	expect_text(CPU("container=\"a\",pod=\"p\",namespace=\"n\"", "1")
		    MEM("container=\"a\",pod=\"p\",namespace=\"n\"", "2")
		    "container_start_time_seconds{container=\"b\",pod=\"p\",namespace=\"n\"} 1\n"
		    CPU("container=\"a\",pod=\"q\",namespace=\"n\"", "1")
		    MEM("container=\"a\",pod=\"q\",namespace=\"n\"", "2"),
		    "container n/q/a ts=1000000000 start=0 cpu=1000000000 mem=2\n");
}
END_TEST

START_TEST(negative_and_nan_values_are_zero)
{
	expect_text("node_cpu_usage_seconds_total -1 5\nnode_memory_working_set_bytes 2 6\n", "");
	expect_text("node_cpu_usage_seconds_total NaN 5\nnode_memory_working_set_bytes 2 6\n", "");
	expect_text("node_cpu_usage_seconds_total 1 5\nnode_memory_working_set_bytes +Inf 6\n",
		    "node node1 ts=6000000 start=0 cpu=1000000000 mem=18446744073709551615\n");
}
END_TEST

static const struct {
	const char *text;
	const char *err;
} bad_lines[] = {
	{"x{a=\"\\t\"} 1\n", "line 1: invalid escape sequence in label value, got \"\\\\t\""},
	{"x{a=\"b\"+} 1\n", "line 1: expected ',' or '}' after label value, got \"+}\""},
	{"x{a=b} 1\n", "line 1: expected '\"' at start of label value, got \"b}\""},
	{"x{@=\"b\"} 1\n", "line 1: expected label name, got \"@=\\\"b\\\"}\""},
	{"x{,} 1\n", "line 1: expected label name, got \",}\""},
	{"x{a=\"b\" c=\"d\"} 1\n", "line 1: expected ',' or '}' after label value, got \"c=\\\"d\\\"}\""},
	{"x{a=\"b} 1\n", "line 1: unterminated label value"},
	{"x{a=\"\xff\"} 1\n", "line 1: invalid UTF-8 in label value"},
	{"x{a=\"\xed\xa0\x80\"} 1\n", "line 1: invalid UTF-8 in label value"},
	{"x 1 2 3\n", "line 1: expected next entry after timestamp, got \"3\""},
	{"x 3.14 2.72\n", "line 1: expected next entry after timestamp, got \".72\""},
	{"x blubb\n", "line 1: expected float as value, got \"blubb\""},
	{"x 1_2\n", "line 1: expected float as value, got \"1_2\""},
	{"x 0x1p-3\n", "line 1: expected float as value, got \"0x1p-3\""},
	{"x 1e400\n", "line 1: expected float as value, got \"1e400\""},
	{"x\n", "line 1: expected value after metric, got end of line"},
	{"{} 3\n", "line 1: expected metric name, got \"{}\""},
	{"x-y 3\n", "line 1: invalid metric name, got \"x-y\""},
	{"x 1 99999999999999999\n", "line 1: timestamp out of range, got \"99999999999999999\""},
	{"x 1\r\n", "line 1: expected float as value, got \"1\\x0d\""},
	{"# TYPE x bla\n", "line 1: invalid metric type, got \"bla\""},
	{"# TYPE x\n", "line 1: invalid metric type, got end of line"},
	{"# TYPE met-ric gauge\n", "line 1: invalid metric name in comment, got \"-ric\""},
	{"# HELP x caf\xc3\n", "line 1: invalid UTF-8 in comment"},
	{"\n\nx 1 -5\n", "line 3: expected timestamp or new record, got \"-5\""},
	{"x{pod=\"a\",pod=\"b\"} 1\n", "line 1: duplicate label, got \"pod\""},
	{CPU("pod=\"p\",namespace=\"n\"", "1"), "line 1: container series without a \"container\" label"},
	{CPU("container=\"\",pod=\"p\",namespace=\"n\"", "1"),
	 "line 1: container series without a \"container\" label"},
};

START_TEST(bad_line)
{
	char want[300];

	snprintf(want, sizeof(want), "failed parsing metrics: %s", bad_lines[_i].err);
	expect_error(bad_lines[_i].text, strlen(bad_lines[_i].text), ERR_PARSE, want);
}
END_TEST

START_TEST(good_comments)
{
	expect_text("#\n# HELP\n#HELP x y\n# Hrandom stuff\n# HELP nohelp1\n# \tTYPE x summary\n"
		    "# TYPE x untyped  \n# HELP x doc with \\\\ and \\n caf\xc3\xa9\n   \n\t\n",
		    "");
}
END_TEST

START_TEST(nul_bytes)
{
	static const char *const bodies[] = {
		"x{a=\"b\0\"} 1\n", "\0x 1\n", "x\0 1\n", "x 1\0\n", "# HELP x a\0b\n", "x 1 1\0\n",
	};
	static const size_t lens[] = {12, 5, 5, 5, 13, 7};
	static const char *const errs[] = {
		"line 1: control character in label value, got \"\\x00\"",
		"line 1: expected metric name, got \"\\x00x\"",
		"line 1: invalid metric name, got \"x\\x00\"",
		"line 1: expected float as value, got \"1\\x00\"",
		"line 1: control character in comment, got \"\\x00\"",
		"line 1: expected next entry after timestamp, got \"\\x00\"",
	};
	char want[300];

	snprintf(want, sizeof(want), "failed parsing metrics: %s", errs[_i]);
	expect_error(bodies[_i], lens[_i], ERR_PARSE, want);
}
END_TEST

/* A line over SCRAPER_MAX_LINE fails whether it arrives whole or split. */
START_TEST(huge_line)
{
	size_t n = SCRAPER_MAX_LINE + 10;
	char *body = xmalloc(n);
	struct scraper_decoder *d = scraper_decoder_new("node1", REQ_TS);

	memset(body, 'a', n);
	body[0] = '#';
	body[1] = ' ';
	body[n - 1] = '\n';
	ck_assert_int_eq(scraper_decoder_feed(d, body, n), ERR_TOOBIG);
	ck_assert_str_eq(scraper_decoder_error(d),
			 "failed parsing metrics: line 1: line longer than 65536 bytes");
	ck_assert_int_eq(scraper_decoder_finish(d, NULL), ERR_TOOBIG);
	for (size_t chunk = 1000; chunk < n; chunk *= 4) {
		scraper_decoder_reset(d, "node1", REQ_TS);
		int rc = 0;
		for (size_t off = 0; off < n && rc == 0; off += chunk)
			rc = scraper_decoder_feed(d, body + off, off + chunk > n ? n - off : chunk);
		ck_assert_int_eq(rc, ERR_TOOBIG);
	}
	/* exactly at the cap is fine */
	scraper_decoder_reset(d, "node1", REQ_TS);
	body[SCRAPER_MAX_LINE] = '\n';
	ck_assert_int_eq(scraper_decoder_feed(d, body, 1000), 0);
	ck_assert_int_eq(scraper_decoder_feed(d, body + 1000, SCRAPER_MAX_LINE + 1 - 1000), 0);
	scraper_decoder_free(d);
	free(body);
}
END_TEST

START_TEST(truncated_bodies)
{
	struct dynbuf body;
	char err[256];
	int rc;
	char *got;

	load("decode-normal.txt", &body);
	/* cut inside the first container's label set */
	const char *cut = strstr(body.buf, "namespace=\"kube-sy");
	got = decode_text(body.buf, (size_t)(cut - body.buf) + 14, &rc, err, sizeof(err));
	ck_assert_int_eq(rc, ERR_PARSE);
	ck_assert_str_eq(err, "failed parsing metrics: line 4: unterminated label value");
	free(got);
	/* cut inside a metric name */
	cut = strstr(body.buf, "node_memory_working_set_bytes 1");
	got = decode_text(body.buf, (size_t)(cut - body.buf) + 10, &rc, err, sizeof(err));
	ck_assert_int_eq(rc, ERR_PARSE);
	ck_assert_str_eq(err, "failed parsing metrics: line 15: expected value after metric, "
			      "got end of line");
	free(got);
	/* cut after a full line: what came so far is used (node lacks memory) */
	got = decode_text(body.buf, (size_t)(cut - body.buf), &rc, err, sizeof(err));
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(got, COREDNS);
	free(got);
	dynbuf_release(&body);
}
END_TEST

/* Random bytes and mutated fixtures: a clean result or a clean error. */
START_TEST(garbage)
{
	struct dynbuf body;
	unsigned seed = 99;
	char *buf;
	struct scraper_decoder *d = scraper_decoder_new("node1", REQ_TS);

	load("kind-e2e-70pods.txt", &body);
	buf = xmalloc(body.len);
	for (int round = 0; round < 300; round++) {
		memcpy(buf, body.buf, body.len);
		for (int k = 0; k < 1 + round % 8; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 4) % body.len;
			buf[at] = round < 150 ? (char)(seed >> 24) : "\"\\{}= \n#,"[(seed >> 20) % 9];
		}
		scraper_decoder_reset(d, "node1", REQ_TS);
		struct dynbuf out;
		dynbuf_init(&out, DYN_KUBELET_BODY);
		int rc = decode_chunked(d, buf, body.len, round % 3 ? 0 : 333, &out);
		ck_assert(rc == 0 || rc == ERR_PARSE);
		ck_assert(rc == 0 ? out.len > 0 :
				    strncmp(scraper_decoder_error(d), "failed parsing metrics: line ", 29) == 0);
		dynbuf_release(&out);
	}
	expect_error("hello world\n", 12, ERR_PARSE,
		     "failed parsing metrics: line 1: expected float as value, got \"world\"");
	expect_error("<html><body>403</body></html>\n", 30, ERR_PARSE,
		     "failed parsing metrics: line 1: expected metric name, got \"<html><body>403</body></html>\"");
	free(buf);
	dynbuf_release(&body);
	scraper_decoder_free(d);
}
END_TEST

/* Thousands of pods grow every table; output order is first-seen order. */
START_TEST(many_containers)
{
	struct dynbuf body, want;
	char *got;
	int rc;

	dynbuf_init(&body, DYN_KUBELET_BODY);
	dynbuf_init(&want, DYN_KUBELET_BODY);
	for (int i = 0; i < 3000; i++) {
		for (int c = 0; c < 2; c++)
			ck_assert_int_eq(dynbuf_printf(&body, CPU("container=\"c%d\",namespace=\"ns%d\","
							   "pod=\"pod-%d\"", "%d.5"),
						       c, i % 7, i, i + 1),
					 0);
	}
	for (int i = 2999; i >= 0; i--)
		for (int c = 0; c < 2; c++)
			ck_assert_int_eq(dynbuf_printf(&body, MEM("pod=\"pod-%d\",namespace=\"ns%d\","
							   "container=\"c%d\"", "%d"),
						       i, i % 7, c, 1000 + i),
					 0);
	for (int i = 0; i < 3000; i++)
		for (int c = 0; c < 2; c++)
			ck_assert_int_eq(dynbuf_printf(&want, "container ns%d/pod-%d/c%d ts=1000000000 "
							      "start=0 cpu=%d500000000 mem=%d\n",
						       i % 7, i, c, i + 1, 1000 + i),
					 0);
	got = decode_text(body.buf, body.len, &rc, NULL, 0);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(got, want.buf);
	free(got);
	dynbuf_release(&body);
	dynbuf_release(&want);
}
END_TEST

/* ---- fast paths give what the slow ones give -------------------------------- */

/*
 * A body of 12 pods (1 to 3 containers each, one name escaped) whose cpu
 * family comes in kubelet order and whose memory and start families come
 * in the order `variant` picks: the same (the decoder's cursor hits every
 * time), reversed, interleaved, one container missing, a duplicate.
 * *want gets what must survive: first-seen order, whatever the others do.
 */
#define FAM_PODS 12
#define FAM_MAX (FAM_PODS * 3)

static int fam_conts(int pod)
{
	return 1 + pod % 3;
}

static void fam_line(struct dynbuf *b, const char *family, int pod, int c, const char *value)
{
	/* pod 5's second container is c"1, written escaped */
	ck_assert_int_eq(dynbuf_printf(b, "%s{container=\"c%s%d\",namespace=\"ns%d\",pod=\"p%d\"} %s 1000\n",
				       family, pod == 5 && c == 1 ? "\\\"" : "", c, pod % 3, pod, value),
			 0);
}

static void family_body(int variant, struct dynbuf *body, struct dynbuf *want)
{
	int pods[FAM_MAX], conts[FAM_MAX], n = 0, order[FAM_MAX];
	bool has_mem[FAM_MAX];
	char v[32];

	for (int p = 0; p < FAM_PODS; p++)
		for (int c = 0; c < fam_conts(p); c++, n++)
			pods[n] = p, conts[n] = c;
	for (int i = 0; i < n; i++) {
		snprintf(v, sizeof(v), "%d.25", i + 1);
		fam_line(body, "container_cpu_usage_seconds_total", pods[i], conts[i], v);
		order[i] = variant == 1 ? n - 1 - i : variant == 2 ? (i * 2) % n + (i * 2 >= n) : i;
		has_mem[i] = !(variant == 3 && i == 7);
	}
	for (int i = 0; i < n; i++) {
		int k = order[i];
		if (variant == 4 && i == 3)
			fam_line(body, "container_memory_working_set_bytes", pods[k], conts[k], "1");
		snprintf(v, sizeof(v), "%d", 1000 + k);
		if (has_mem[k] && !(variant == 4 && i == 3))
			fam_line(body, "container_memory_working_set_bytes", pods[k], conts[k], v);
		fam_line(body, "container_start_time_seconds", pods[order[(i + 5) % n]],
			 conts[order[(i + 5) % n]], "1.5e9");
	}
	if (variant == 4) /* the duplicate's last value wins */
		fam_line(body, "container_memory_working_set_bytes", pods[3], conts[3], "1003");
	for (int i = 0, first = 0; i < n; first = i) {
		bool complete = true;
		for (; i < n && pods[i] == pods[first]; i++)
			complete = complete && has_mem[i];
		for (int j = first; complete && j < i; j++)
			ck_assert_int_eq(dynbuf_printf(want, "container ns%d/p%d/c%s%d ts=1000000000 "
							     "start=1500000000000000000 cpu=%d250000000 mem=%d\n",
						       pods[j] % 3, pods[j], pods[j] == 5 && conts[j] == 1 ? "\"" : "",
						       conts[j], j + 1, 1000 + j),
					 0);
	}
}

START_TEST(family_orders)
{
	struct dynbuf body, want;
	char err[256];
	char *got;
	int rc;

	dynbuf_init(&body, DYN_KUBELET_BODY);
	dynbuf_init(&want, DYN_KUBELET_BODY);
	family_body(_i, &body, &want);
	ck_assert_ptr_nonnull(want.buf);
	got = decode_text(body.buf, body.len, &rc, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_str_eq(got, want.buf);
	free(got);
	dynbuf_release(&body);
	dynbuf_release(&want);
}
END_TEST

/* Any split of the body into two pieces decodes as the whole. */
START_TEST(split_at_every_offset)
{
	struct scraper_decoder *d = scraper_decoder_new("node1", REQ_TS);
	struct dynbuf body, want, out;

	dynbuf_init(&body, DYN_KUBELET_BODY);
	dynbuf_init(&want, DYN_KUBELET_BODY);
	dynbuf_init(&out, DYN_KUBELET_BODY);
	family_body(1, &body, &want);
	for (size_t cut = 0; cut <= body.len; cut++) {
		scraper_decoder_reset(d, "node1", REQ_TS);
		dynbuf_reset(&out);
		ck_assert_int_eq(scraper_decoder_feed(d, body.buf, cut), 0);
		ck_assert_int_eq(scraper_decoder_feed(d, body.buf + cut, body.len - cut), 0);
		ck_assert_int_eq(scraper__decoder_emit(d, &rec_sink, &out), 0);
		ck_assert_msg(out.buf && strcmp(out.buf, want.buf) == 0, "cut at %zu", cut);
	}
	scraper_decoder_free(d);
	dynbuf_release(&body);
	dynbuf_release(&want);
	dynbuf_release(&out);
}
END_TEST

/* A value read on the line's fast path is what parse_float makes of its
 * token, and a token it refuses fails the line as a whole. */
START_TEST(values_match_parse_float)
{
	static const char *const good[] = {
		"1", "1.5", "12345.678", "1e3", "1E+3", "5.", "00012.5000", "1.00663296e+08",
		"123456789012345678901234", "9007199254740993", "1.7976931348623157e308", "Inf",
		"+Inf", "1.0e0", "3.0000000000000000001", "0.000000000000000000000000001e30",
		"12345678901234567890.5", "4.710169",
	};
	static const char *const bad[] = {"1e", "1e+", "1.5x", "0x10", "1e400", "1..2", "--1",
					  "+nan", ".", "1_0", "1e5e5", "1.5e-", "-"};
	char body[256], want[256], err[256];
	double v;
	char *got;
	int rc;

	for (size_t i = 0; i < COMMON_ARRAY_LEN(good); i++) {
		ck_assert_int_eq(scraper__parse_float(good[i], strlen(good[i]), &v), 0);
		snprintf(body, sizeof(body), "node_cpu_usage_seconds_total 1 5\n"
			 "node_memory_working_set_bytes %s\t6\n", good[i]);
		snprintf(want, sizeof(want), "node node1 ts=6000000 start=0 cpu=1000000000 mem=%llu\n",
			 v >= 18446744073709551616.0 ? (unsigned long long)UINT64_MAX
						     : (unsigned long long)v);
		expect_text(body, want);
	}
	for (size_t i = 0; i < COMMON_ARRAY_LEN(bad); i++) {
		ck_assert_int_eq(scraper__parse_float(bad[i], strlen(bad[i]), &v), ERR_PARSE);
		snprintf(body, sizeof(body), "node_memory_working_set_bytes %s 6\n", bad[i]);
		snprintf(want, sizeof(want),
			 "failed parsing metrics: line 1: expected float as value, got \"%s\"", bad[i]);
		expect_error(body, strlen(body), ERR_PARSE, want);
	}
	/* the value ends at '{' too: what follows is no timestamp */
	got = decode_text("node_memory_working_set_bytes 1{ 6\n", 35, &rc, err, sizeof(err));
	ck_assert_int_eq(rc, ERR_PARSE);
	ck_assert_str_eq(err, "failed parsing metrics: line 1: expected timestamp or new record, "
			      "got \"{\"");
	free(got);
}
END_TEST

/* Timestamps of every length around the 8-digit steps and the limits. */
START_TEST(timestamp_lengths)
{
	static const struct {
		const char *ts, *want; /* want: ts_ns, or the error's detail */
	} cases[] = {
		{"7", "7000000"},
		{"12345678", "12345678000000"},
		{"123456789", "123456789000000"},
		{"1234567890123456", NULL},
		{"0001633253812125", "1633253812125000000"},
		{"9223372036854", "9223372036854000000"},
		{"0000000000000000001", "1000000"},
		{"9223372036855", "timestamp out of range, got \"9223372036855\""},
		{"00000000000000000001", "timestamp out of range, got \"00000000000000000001\""},
		{"1234567x", "expected next entry after timestamp, got \"x\""},
	};
	char body[256], want[256];

	for (size_t i = 0; i < COMMON_ARRAY_LEN(cases); i++) {
		snprintf(body, sizeof(body), "node_cpu_usage_seconds_total 1 %s\n"
			 "node_memory_working_set_bytes 2 %s\n", cases[i].ts, cases[i].ts);
		if (!cases[i].want) {
			snprintf(want, sizeof(want), "failed parsing metrics: line 1: timestamp out of "
				 "range, got \"%s\"", cases[i].ts);
			expect_error(body, strlen(body), ERR_PARSE, want);
		} else if (cases[i].want[0] >= '0' && cases[i].want[0] <= '9') {
			snprintf(want, sizeof(want), "node node1 ts=%s start=0 cpu=1000000000 mem=2\n",
				 cases[i].want);
			expect_text(body, want);
		} else {
			snprintf(want, sizeof(want), "failed parsing metrics: line 1: %s", cases[i].want);
			expect_error(body, strlen(body), ERR_PARSE, want);
		}
	}
}
END_TEST

START_TEST(finish_twice_and_feed_after_finish)
{
	struct scraper_decoder *d = scraper_decoder_new("node1", REQ_TS);
	struct dynbuf out;

	dynbuf_init(&out, DYN_SMALL);
	ck_assert_int_eq(scraper_decoder_feed(d, "x 1\n", 4), 0);
	ck_assert_int_eq(scraper__decoder_emit(d, &rec_sink, &out), 0);
	ck_assert_str_eq(scraper_decoder_error(d), "");
	ck_assert_int_eq(scraper_decoder_feed(d, "x 1\n", 4), ERR_INVAL);
	ck_assert_int_eq(scraper__decoder_emit(d, &rec_sink, &out), ERR_INVAL);
	scraper_decoder_reset(d, "node2", REQ_TS);
	ck_assert_int_eq(scraper_decoder_feed(d, "node_cpu_usage_seconds_total 1\n"
						 "node_memory_working_set_bytes 1\n", 62),
			 0);
	ck_assert_int_eq(scraper__decoder_emit(d, &rec_sink, &out), 0);
	ck_assert_str_eq(out.buf, "node node2 ts=1633253900123000000 start=0 cpu=1000000000 mem=1\n");
	dynbuf_release(&out);
	scraper_decoder_free(d);
}
END_TEST

/* ---- floats ------------------------------------------------------------------ */

static const struct {
	const char *s;
	double v;
} good_floats[] = {
	{"1.253376e+07", 12533760}, {"4.710169", 4.710169}, {".5", 0.5}, {"5.", 5}, {"08", 8},
	{"-3e3", -3000}, {"1E3", 1000}, {"+1.5", 1.5}, {"0", 0}, {"-0.0", -0.0},
	{"1.616273408e+09", 1616273408}, {"357.35491", 357.35491}, {"1e-400", 0},
	{"123456789012345678901234567890", 123456789012345678901234567890.0},
	{"0.000000000000000000000000001", 1e-27}, {"1.7976931348623157e308", 1.7976931348623157e308},
	{"9007199254740993", 9007199254740993.0}, {"Inf", INFINITY}, {"-inf", -INFINITY},
	{"+Infinity", INFINITY},
};

START_TEST(float_good)
{
	double v = -1;

	ck_assert_int_eq(scraper__parse_float(good_floats[_i].s, strlen(good_floats[_i].s), &v), 0);
	ck_assert_msg(memcmp(&v, &good_floats[_i].v, sizeof(v)) == 0, "%s -> %.17g", good_floats[_i].s,
		      v);
}
END_TEST

START_TEST(float_bad)
{
	static const char *const bad[] = {"", "+", "-", ".", "1_2", "0x1p-3", "0x1", "1e", "1e+",
					  "+nan", "1e400", "1..2", "1.2.3", "--1", "abc", "in",
					  "infinit", "1 ", " 1", "1e5x", "nana", "0b1"};
	double v;

	ck_assert_int_eq(scraper__parse_float(bad[_i], strlen(bad[_i]), &v), ERR_PARSE);
}
END_TEST

START_TEST(float_nan)
{
	double v = 0;

	ck_assert_int_eq(scraper__parse_float("NaN", 3, &v), 0);
	ck_assert(isnan(v));
	ck_assert_int_eq(scraper__parse_float("nAn", 3, &v), 0);
	ck_assert(isnan(v));
}
END_TEST

/* The fast path agrees with strtod bit for bit. */
START_TEST(float_matches_strtod)
{
	uint64_t seed = 7;
	char s[64];

	for (int i = 0; i < 200000; i++) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		unsigned digits = 1 + (unsigned)(seed >> 59) % 17;
		uint64_t m = (seed >> 8) % 100000000000000000u;
		int e = (int)((seed >> 3) % 61) - 30;
		int n = snprintf(s, sizeof(s), "%0*llu.%llue%d", (int)digits,
				 (unsigned long long)(m % 1000000000u), (unsigned long long)(m / 1000000000u), e);
		double want = strtod(s, NULL), got = -1;
		ck_assert_int_eq(scraper__parse_float(s, (size_t)n, &got), 0);
		ck_assert_msg(memcmp(&want, &got, sizeof(got)) == 0, "%s: %.17g vs %.17g", s, got, want);
	}
}
END_TEST

static Suite *decoder_suite(void)
{
	Suite *s = suite_create("scraper_decoder");
	TCase *tc = tcase_create("fixtures");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, fixture_normal);
	tcase_add_test(tc, fixture_no_timestamps);
	tcase_add_test(tc, fixture_pods_only);
	tcase_add_test(tc, fixture_node_only);
	tcase_add_loop_test(tc, fixture_incomplete, 0, 10);
	tcase_add_test(tc, fixture_negative_timestamp);
	tcase_add_test(tc, fixture_swap_ignored);
	tcase_add_test(tc, fixture_upstream_node_swap);
	tcase_add_test(tc, fixture_upstream_containers_swap);
	tcase_add_test(tc, fixture_kind_e2e);
	suite_add_tcase(s, tc);

	tc = tcase_create("exposition");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, label_escapes);
	tcase_add_test(tc, label_syntax_variants);
	tcase_add_test(tc, last_line_without_newline);
	tcase_add_test(tc, start_time_ignores_timestamp_and_dups_overwrite);
	tcase_add_test(tc, start_time_only_container_drops_pod);
	tcase_add_test(tc, negative_and_nan_values_are_zero);
	tcase_add_loop_test(tc, bad_line, 0, (int)COMMON_ARRAY_LEN(bad_lines));
	tcase_add_test(tc, good_comments);
	tcase_add_loop_test(tc, nul_bytes, 0, 6);
	tcase_add_test(tc, huge_line);
	tcase_add_test(tc, truncated_bodies);
	tcase_add_test(tc, garbage);
	tcase_add_test(tc, many_containers);
	tcase_add_test(tc, finish_twice_and_feed_after_finish);
	tcase_add_loop_test(tc, family_orders, 0, 5);
	tcase_add_test(tc, split_at_every_offset);
	tcase_add_test(tc, values_match_parse_float);
	tcase_add_test(tc, timestamp_lengths);
	suite_add_tcase(s, tc);

	tc = tcase_create("floats");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, float_good, 0, (int)COMMON_ARRAY_LEN(good_floats));
	tcase_add_loop_test(tc, float_bad, 0, 22);
	tcase_add_test(tc, float_nan);
	tcase_add_test(tc, float_matches_strtod);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(decoder_suite());
}
