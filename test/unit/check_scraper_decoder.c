/*
 * check_scraper_decoder.c - the streaming /metrics/resource decoder
 * (scraper/decoder.c): every kubelet fixture in test/data/kubelet against
 * the decode metrics-server's tests expect (its .expected file), fed
 * whole, byte by byte and in random chunks; metrics-server's completeness
 * and timestamp rules; lines split across chunks, truncated and garbled
 * bodies, many containers and the order families come in.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/unit/scraper_fixture.h"
#include "test/unit/unit.h"


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

	load_fixture(name, &body);
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
	dynbuf_clear(&out);
	dynbuf_clear(&body);
	scraper_decoder_free(d);
	return res;
}


/* ---- every fixture against its .expected file --------------------------------- */

/*
 * The stems of test/data/kubelet/<stem>.txt and <stem>.expected, sorted:
 * listed once by main() (forked tests inherit them).  A stem with only
 * one of the two files is listed too, and its test fails.
 */
#define MAX_FIXTURES 128
static char *fixtures[MAX_FIXTURES];
static size_t nfixtures;
static int list_errno;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_fixtures(void)
{
	DIR *dir = opendir(KUBELET_FIXTURES);
	struct dirent *e;

	if (!dir) {
		list_errno = errno ? errno : ENOENT;
		return;
	}
	while ((e = readdir(dir)) != NULL) {
		size_t l = strlen(e->d_name), stem;
		if (l > 4 && strcmp(e->d_name + l - 4, ".txt") == 0)
			stem = l - 4;
		else if (l > 9 && strcmp(e->d_name + l - 9, ".expected") == 0)
			stem = l - 9;
		else
			continue;
		bool seen = false;
		for (size_t i = 0; i < nfixtures && !seen; i++)
			seen = strlen(fixtures[i]) == stem && strncmp(fixtures[i], e->d_name, stem) == 0;
		if (seen)
			continue;
		if (nfixtures == MAX_FIXTURES) {
			list_errno = E2BIG;
			break;
		}
		fixtures[nfixtures++] = strndup(e->d_name, stem);
	}
	closedir(dir);
	qsort(fixtures, nfixtures, sizeof(fixtures[0]), cmp_str);
}

static void free_fixtures(void)
{
	for (size_t i = 0; i < nfixtures; i++)
		free(fixtures[i]);
}

START_TEST(fixtures_listed)
{
	ck_assert_msg(list_errno == 0, "cannot list " KUBELET_FIXTURES ": errno %d", list_errno);
	ck_assert_msg(nfixtures > 0, "no fixtures in " KUBELET_FIXTURES);
}
END_TEST

/* What a .expected file says (format: test/data/kubelet/README.md). */
struct expectation {
	struct dynbuf text;    /* the file; points and error point into it */
	const char *points[MAX_FIXTURES]; /* listed points, without '\n' */
	size_t npoints;
	long records;          /* `records N`, or -1 */
	bool empty;
	const char *error;     /* `error TEXT`, or NULL */
};

static void read_expectation(const char *stem, struct expectation *x)
{
	char path[256];
	size_t lineno = 0;

	snprintf(path, sizeof(path), KUBELET_FIXTURES "%s.expected", stem);
	memset(x, 0, sizeof(*x));
	x->records = -1;
	dynbuf_init(&x->text, DYN_KUBELET_BODY);
	ck_assert_msg(dynbuf_read_file(&x->text, path) == 0,
		      "%s.txt has no expected decode: write %s (format: " KUBELET_FIXTURES
		      "README.md)", stem, path);
	for (char *line = x->text.buf; line && *line; lineno++) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (*line == '\0' || *line == '#') {
			/* blank or comment */
		} else if (strncmp(line, "node ", 5) == 0 || strncmp(line, "container ", 10) == 0) {
			ck_assert_msg(x->npoints < MAX_FIXTURES, "%s:%zu: too many points", path,
				      lineno + 1);
			x->points[x->npoints++] = line;
		} else if (strcmp(line, "empty") == 0) {
			x->empty = true;
		} else if (strncmp(line, "error ", 6) == 0) {
			x->error = line + 6;
		} else if (strncmp(line, "records ", 8) == 0) {
			char *end;
			errno = 0;
			x->records = strtol(line + 8, &end, 10);
			ck_assert_msg(errno == 0 && end != line + 8 && *end == '\0' && x->records > 0,
				      "%s:%zu: bad count <%s>", path, lineno + 1, line);
		} else {
			ck_assert_msg(0, "%s:%zu: unknown line <%s>", path, lineno + 1, line);
		}
		line = nl ? nl + 1 : NULL;
	}
	ck_assert_msg((x->npoints > 0) + x->empty + (x->error != NULL) == 1,
		      "%s: needs exactly one of: points, `empty`, `error`", path);
	ck_assert_msg(x->records < 0 || x->npoints > 0, "%s: `records` without points", path);
}

START_TEST(fixture_expected)
{
	const char *stem = fixtures[_i];
	char name[256], err[256];
	struct expectation x;
	int rc;
	char *got;

	read_expectation(stem, &x);
	snprintf(name, sizeof(name), "%s.txt", stem);
	got = decode_fixture(name, &rc, err, sizeof(err));
	if (x.error) {
		ck_assert_msg(rc == ERR_PARSE, "%s: rc %d, want a parse error", name, rc);
		ck_assert_str_eq(got, "");
		ck_assert_str_eq(err, x.error);
	} else if (x.empty) {
		ck_assert_msg(rc == 0, "%s: %s", name, err);
		ck_assert_str_eq(got, "");
	} else if (x.records < 0) {
		struct dynbuf want;
		dynbuf_init(&want, DYN_KUBELET_BODY);
		for (size_t i = 0; i < x.npoints; i++)
			ck_assert_int_eq(dynbuf_printf(&want, "%s\n", x.points[i]), 0);
		ck_assert_msg(rc == 0, "%s: %s", name, err);
		ck_assert_str_eq(got, want.buf);
		dynbuf_clear(&want);
	} else {
		/* the first listed point first, the others later in the listed order */
		const char *at = got;
		long lines = 0;
		ck_assert_msg(rc == 0, "%s: %s", name, err);
		for (const char *p = got; (p = strchr(p, '\n')); p++)
			lines++;
		ck_assert_int_eq(lines, x.records);
		for (size_t i = 0; i < x.npoints; i++) {
			size_t n = strlen(x.points[i]);
			const char *hit = at;
			while (hit && (strncmp(hit, x.points[i], n) != 0 || hit[n] != '\n')) {
				const char *nl = i == 0 ? NULL : strchr(hit, '\n');
				hit = nl ? nl + 1 : NULL;
			}
			ck_assert_msg(hit != NULL, "%s: lacks <%s> (%s)", name, x.points[i],
				      i == 0 ? "as its first point" : "after the ones above");
			at = hit + n + 1;
		}
	}
	free(got);
	dynbuf_clear(&x.text);
}
END_TEST
/* ---- decoding rules ---------------------------------------------------------- */

#define COREDNS                                                                              \
	"container kube-system/coredns-558bd4d5db-4dpjz/coredns ts=1633253812125000000 "     \
	"start=1633252712000000000 cpu=4710169000 mem=12533760\n"
#define CPU(labels, v) "container_cpu_usage_seconds_total{" labels "} " v " 1000\n"
#define MEM(labels, v) "container_memory_working_set_bytes{" labels "} " v " 1000\n"

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

	load_fixture("decode-normal.txt", &body);
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
	dynbuf_clear(&body);
}
END_TEST

/* Random bytes and mutated fixtures: a clean result or a clean error. */
START_TEST(garbage)
{
	struct dynbuf body;
	unsigned seed = 99;
	char *buf;
	struct scraper_decoder *d = scraper_decoder_new("node1", REQ_TS);

	load_fixture("kind-e2e-70pods.txt", &body);
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
		dynbuf_clear(&out);
	}
	expect_error("hello world\n", 12, ERR_PARSE,
		     "failed parsing metrics: line 1: expected float as value, got \"world\"");
	expect_error("<html><body>403</body></html>\n", 30, ERR_PARSE,
		     "failed parsing metrics: line 1: expected metric name, got \"<html><body>403</body></html>\"");
	free(buf);
	dynbuf_clear(&body);
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
	dynbuf_clear(&body);
	dynbuf_clear(&want);
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
	dynbuf_clear(&body);
	dynbuf_clear(&want);
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
	dynbuf_clear(&body);
	dynbuf_clear(&want);
	dynbuf_clear(&out);
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
	dynbuf_clear(&out);
	scraper_decoder_free(d);
}
END_TEST

static Suite *decoder_suite(void)
{
	Suite *s = suite_create("scraper_decoder");
	TCase *tc = tcase_create("fixtures");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, fixtures_listed);
	tcase_add_loop_test(tc, fixture_expected, 0, (int)nfixtures);
	suite_add_tcase(s, tc);

	tc = tcase_create("decoding");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, last_line_without_newline);
	tcase_add_test(tc, start_time_ignores_timestamp_and_dups_overwrite);
	tcase_add_test(tc, start_time_only_container_drops_pod);
	tcase_add_test(tc, negative_and_nan_values_are_zero);
	tcase_add_test(tc, huge_line);
	tcase_add_test(tc, truncated_bodies);
	tcase_add_test(tc, garbage);
	tcase_add_test(tc, many_containers);
	tcase_add_test(tc, finish_twice_and_feed_after_finish);
	tcase_add_loop_test(tc, family_orders, 0, 5);
	tcase_add_test(tc, split_at_every_offset);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	list_fixtures();
	int rc = unit_run(decoder_suite());
	free_fixtures();
	return rc;
}
