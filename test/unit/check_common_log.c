/*
 * check_common_log.c - common/log.c and common/logjson.c: component-base's
 * JSON lines (the shapes of k8s.io/component-base logs/json/klog_test.go:
 * ts, caller as "dir/file:line", msg, "v" on info and warning lines only,
 * an error's err last), klog-structured text parsed into fields, odd input
 * as plain text, and --vmodule as klog matches it (base name or path
 * without the extension, globs, the first match, level 0 items dropped,
 * -v still enabling), with the one-load gate when no item is set.
 */
#include "common/common.h"
#include "test/unit/unit.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2023-11-14T22:13:20.123456789Z */
#define TS_NS INT64_C(1700000000123456789)
#define TS "{\"ts\":1700000000123.456789,"
/* The path klog_test.go's lines come from, to compare with its formats. */
#define KT "k8s.io/component-base/logs/json/klog_test.go"

static void json_is(enum log_severity sev, int v, const char *file, int line, const char *text,
		    const char *want)
{
	char *got = log_json_line(sev, v, file, line, TS_NS, text);

	ck_assert_msg(strcmp(got, want) == 0, "text <%s>\n got <%s>\nwant <%s>", text, got, want);
	free(got);
}

/* klog_test.go's formats: Info/Infof "test 1" (v 0), V(1).Info, Warning
 * (v 0), Error (no v), InfoS("test", "count", 1), ErrorS(err "fail",
 * "test", "count", 1) - text as klog's text format writes those calls. */
START_TEST(test_klog_shapes)
{
	json_is(LOG_SEV_INFO, 0, KT, 7, "test 1",
		TS "\"caller\":\"json/klog_test.go:7\",\"msg\":\"test 1\",\"v\":0}");
	json_is(LOG_SEV_INFO, 1, KT, 7, "test 1",
		TS "\"caller\":\"json/klog_test.go:7\",\"msg\":\"test 1\",\"v\":1}");
	json_is(LOG_SEV_WARNING, 0, KT, 8, "test 1",
		TS "\"caller\":\"json/klog_test.go:8\",\"msg\":\"test 1\",\"v\":0}");
	json_is(LOG_SEV_ERROR, 0, KT, 9, "test 1",
		TS "\"caller\":\"json/klog_test.go:9\",\"msg\":\"test 1\"}");
	json_is(LOG_SEV_INFO, 2, KT, 10, "\"test\" count=1",
		TS "\"caller\":\"json/klog_test.go:10\",\"msg\":\"test\",\"v\":2,\"count\":1}");
	json_is(LOG_SEV_ERROR, 0, KT, 11, "\"test\" err=\"fail\" count=1",
		TS "\"caller\":\"json/klog_test.go:11\",\"msg\":\"test\",\"count\":1,\"err\":\"fail\"}");
}
END_TEST

/* Our own lines: a caller with one folder or none, err kept in place on
 * an info line, quoted-only messages. */
START_TEST(test_structured)
{
	json_is(LOG_SEV_INFO, 2, "scraper/scrape.c", 42, "\"Scraping node\" node=\"n1\"",
		TS "\"caller\":\"scraper/scrape.c:42\",\"msg\":\"Scraping node\",\"v\":2,"
		   "\"node\":\"n1\"}");
	json_is(LOG_SEV_INFO, 4, "/abs/src/scraper/scrape.c", 5,
		"\"Failed to scrape node, node is not ready\" node=\"n1\" err=\"down\"",
		TS "\"caller\":\"scraper/scrape.c:5\",\"msg\":\"Failed to scrape node, node is not "
		   "ready\",\"v\":4,\"node\":\"n1\",\"err\":\"down\"}");
	json_is(LOG_SEV_ERROR, 0, "authn.c", 3, "\"Ignoring a bearer token with a line break\"",
		TS "\"caller\":\"authn.c:3\",\"msg\":\"Ignoring a bearer token with a line break\"}");
	json_is(LOG_SEV_ERROR, 0, "store/apply.c", 1,
		"\"Failed to scrape target\" target=\"ns/p\" url=\"http://1.2.3.4:9/m\" "
		"err=\"connection refused\"",
		TS "\"caller\":\"store/apply.c:1\",\"msg\":\"Failed to scrape target\","
		   "\"target\":\"ns/p\",\"url\":\"http://1.2.3.4:9/m\",\"err\":\"connection "
		   "refused\"}");
	json_is(LOG_SEV_INFO, 1, "s/a.c", 1, "\"m\"   a=1  ",
		TS "\"caller\":\"s/a.c:1\",\"msg\":\"m\",\"v\":1,\"a\":1}");
}
END_TEST

/* Go escapes unquoted; bare numbers, booleans, and words. */
START_TEST(test_values)
{
	json_is(LOG_SEV_INFO, 0, "a.c", 1,
		"\"a \\\"q\\\"\\ttab\" path=\"C:\\\\d\" u=\"\\u00e9\\U0001F600\\x41\\101\\n\"",
		TS "\"caller\":\"a.c:1\",\"msg\":\"a \\\"q\\\"\\ttab\",\"v\":0,\"path\":\"C:\\\\d\","
		   "\"u\":\"\xc3\xa9\xf0\x9f\x98\x80" "AA\\n\"}");
	json_is(LOG_SEV_INFO, 0, "a.c", 1,
		"\"m\" n=-12 f=1.5 z=0.1 t=true fa=false s=abc big=123456789012345678901 "
		"lead=01 ip=10.0.0.1 dur=1.5s nul=null empty= last=x",
		TS "\"caller\":\"a.c:1\",\"msg\":\"m\",\"v\":0,\"n\":-12,\"f\":1.5,\"z\":0.1,"
		   "\"t\":true,\"fa\":false,\"s\":\"abc\",\"big\":\"123456789012345678901\","
		   "\"lead\":\"01\",\"ip\":\"10.0.0.1\",\"dur\":\"1.5s\",\"nul\":\"null\","
		   "\"empty\":\"\",\"last\":\"x\"}");
	/* A key seen again, and keys the line's head has: the first wins. */
	json_is(LOG_SEV_INFO, 3, "a.c", 1, "\"m\" a=1 a=2 msg=x v=9 caller=c ts=1",
		TS "\"caller\":\"a.c:1\",\"msg\":\"m\",\"v\":3,\"a\":1}");
	json_is(LOG_SEV_ERROR, 0, "a.c", 1, "\"m\" err=\"one\" err=\"two\" k=v",
		TS "\"caller\":\"a.c:1\",\"msg\":\"m\",\"k\":\"v\",\"err\":\"one\"}");
}
END_TEST

/* Not the structured form: the whole text is msg. */
START_TEST(test_odd_input)
{
	static const char *const odd[] = {
		"\"unterminated key=1",
		"\"m\" =x",
		"\"m\" key",
		"\"m\"x=1",
		"\"m\" k=\"unterminated",
		"\"bad \\q escape\"",
		"\"bad \\x4\"",
		"\"bad \\u12\"",
		"\"surrogate \\ud800\"",
		"\"too big \\U00110000\"",
		"\"m\" k=\"a\"b",
		"\"m\" \"k\"=1",
		"\"m\" k=\"\\",
		"Skipping node usage metric err=\"x\" node=\"n\"",
		"\"",
	};

	for (size_t i = 0; i < COMMON_ARRAY_LEN(odd); i++) {
		char *got = log_json_line(LOG_SEV_INFO, 0, "a.c", 1, TS_NS, odd[i]);
		json_error_t e;
		json_t *j = json_loads(got, 0, &e);

		ck_assert_msg(j != NULL, "<%s> gave <%s>: %s", odd[i], got, e.text);
		ck_assert_str_eq(json_string_value(json_object_get(j, "msg")), odd[i]);
		ck_assert_int_eq((int)json_object_size(j), 4); /* ts caller msg v */
		json_decref(j);
		free(got);
	}
	json_is(LOG_SEV_INFO, 0, "a.c", 1, "",
		TS "\"caller\":\"a.c:1\",\"msg\":\"\",\"v\":0}");
	/* Control bytes escaped, invalid UTF-8 as U+FFFD (zap's choice). */
	json_is(LOG_SEV_ERROR, 0, "a.c", 1, "a\x01" "b\xff" "c\xc3",
		TS "\"caller\":\"a.c:1\",\"msg\":\"a\\u0001b\xef\xbf\xbd" "c\xef\xbf\xbd\"}");
	json_is(LOG_SEV_ERROR, 0, "a.c", 1, "\"m\" k\xfe=\"\\xff\"",
		TS "\"caller\":\"a.c:1\",\"msg\":\"m\",\"k\xef\xbf\xbd\":\"\xef\xbf\xbd\"}");
}
END_TEST

/* Pseudo-random lines of the characters the parser looks at: each is one
 * JSON object with a string msg (bounded: 20000 lines of <= 300 bytes). */
START_TEST(test_garbage)
{
	static const char alphabet[] = "\"\\= xu0U7a1.-e\xff\xc3\x01";
	unsigned int seed = 12345;
	char text[301];

	for (int n = 0; n < 20000; n++) {
		size_t len = (seed = seed * 1103515245u + 12345u) % 300;
		char *got;
		json_t *j;

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			text[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		text[0] = (n % 2) ? '"' : text[0];
		text[len] = '\0';
		got = log_json_line((enum log_severity)(n % 3), n % 5, "x/y.c", n, TS_NS, text);
		ck_assert(strncmp(got, TS, strlen(TS)) == 0);
		ck_assert(strchr(got, '\n') == NULL);
		j = json_loads(got, JSON_ALLOW_NUL, NULL);
		ck_assert_msg(j != NULL, "<%s> gave <%s>", text, got);
		ck_assert(json_is_string(json_object_get(j, "msg")));
		json_decref(j);
		free(got);
	}
}
END_TEST

/* The writer: a JSON line per call on the stream, the caller this file,
 * -v honoured; text format by default. */
START_TEST(test_write_json)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	json_t *j;
	char caller[64], *nl;
	int line;

	ck_assert_ptr_nonnull(f);
	log_set_stream(f);
	log_set_verbosity(2);
	log_set_format(LOG_FORMAT_JSON);
	log_v(3, "\"not written\"");
	line = __LINE__ + 1;
	log_v(2, "\"Scraping node\" node=\"n1\"");
	log_set_stream(NULL);
	fclose(f);
	ck_assert_msg(size > 0 && buf[size - 1] == '\n' && (nl = strchr(buf, '\n')) == buf + size - 1,
		      "one line: <%s>", buf);
	j = json_loads(buf, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_is_real(json_object_get(j, "ts")));
	ck_assert(json_real_value(json_object_get(j, "ts")) > 1.7e12); /* ms, not s */
	snprintf(caller, sizeof(caller), "unit/check_common_log.c:%d", line);
	ck_assert_str_eq(json_string_value(json_object_get(j, "caller")), caller);
	ck_assert_str_eq(json_string_value(json_object_get(j, "msg")), "Scraping node");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "v")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(j, "node")), "n1");
	json_decref(j);
	free(buf);
}
END_TEST

START_TEST(test_write_text)
{
	char *buf = NULL, want[64];
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	int line;

	ck_assert_ptr_nonnull(f);
	log_set_stream(f);
	line = __LINE__ + 1;
	log_warn("\"m\" k=1");
	log_set_stream(NULL);
	fclose(f);
	snprintf(want, sizeof(want), " check_common_log.c:%d] \"m\" k=1\n", line);
	ck_assert_msg(buf[0] == 'W' && strstr(buf, want) && strlen(strstr(buf, want)) == strlen(want),
		      "<%s>", buf);
	free(buf);
}
END_TEST

/* No item: the gate is -v itself, so log_v(v > -v) is one load and compare. */
START_TEST(test_vmodule_unset)
{
	log_set_verbosity(0);
	ck_assert_int_eq(log_v_gate(), 0);
	ck_assert(!log_v_on(1));
	log_set_verbosity(3);
	ck_assert_int_eq(log_v_gate(), 3);
	ck_assert(log_v_on(3) && !log_v_on(4));
	log_vmodule_add("authn", 5, 6);
	ck_assert_int_eq(log_v_gate(), 6);
	log_vmodule_clear();
	ck_assert_int_eq(log_v_gate(), 3);
	ck_assert(!log_v_enabled("server/authn.c", 6));
}
END_TEST

static void add(const char *item) /* "pattern=N" */
{
	const char *eq = strrchr(item, '=');
	char *end;
	long level = strtol(eq + 1, &end, 10);

	ck_assert(*end == '\0');
	log_vmodule_add(item, (size_t)(eq - item), (int)level);
}

START_TEST(test_vmodule_match)
{
	static const char authn[] = "server/authn.c", authz[] = "server/authz.c",
			  run[] = "server/run.c", deep[] = "/src/mas/kube/lease.h";

	log_set_verbosity(0);
	add("authn=4");
	ck_assert(log_v_enabled(authn, 4) && !log_v_enabled(authn, 5));
	ck_assert(!log_v_enabled(authz, 1) && !log_v_enabled(run, 1));
	log_vmodule_clear();
	/* The extension is not part of the name (klog trims ".go"). */
	add("authn.c=4");
	ck_assert(!log_v_enabled(authn, 1));
	log_vmodule_clear();
	/* Globs: * ? [..], never across '/'. */
	add("auth?=2");
	add("[r]u*=3");
	ck_assert(log_v_enabled(authn, 2) && log_v_enabled(authz, 2) && !log_v_enabled(authz, 3));
	ck_assert(log_v_enabled(run, 3));
	log_vmodule_clear();
	add("*=1");
	ck_assert(log_v_enabled(deep, 1) && !log_v_enabled(deep, 2));
	log_vmodule_clear();
	/* A path pattern against the file's path without its extension. */
	add("server/run=5");
	add("kube/*=2");
	add("*/mas/kube/lea*=4");
	ck_assert(log_v_enabled(run, 5) && !log_v_enabled(authn, 1));
	ck_assert(!log_v_enabled(deep, 1)); /* kube/ and the rest: the whole path */
	log_vmodule_clear();
	add("/src/mas/kube/lea*=4");
	ck_assert(log_v_enabled(deep, 4) && !log_v_enabled(deep, 5));
	log_vmodule_clear();
	/* The first match wins, level 0 items are dropped, -v still counts. */
	add("authn=1");
	add("auth*=5");
	add("run=0");
	add("ru?=3");
	ck_assert(log_v_enabled(authn, 1) && !log_v_enabled(authn, 2));
	ck_assert(log_v_enabled(authz, 5));
	ck_assert(log_v_enabled(run, 3) && !log_v_enabled(run, 4));
	log_set_verbosity(4);
	ck_assert(log_v_enabled(authn, 4) && !log_v_enabled(authn, 5));
	/* Remembered levels are forgotten when the items change. */
	log_vmodule_clear();
	log_set_verbosity(0);
	ck_assert(!log_v_enabled(authz, 1));
	add("authz=2");
	ck_assert(log_v_enabled(authz, 2));
}
END_TEST

/* Through log_v here: this file's item enables its v3 line at -v=0. */
START_TEST(test_vmodule_log_v)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	ck_assert_ptr_nonnull(f);
	log_set_stream(f);
	log_set_verbosity(0);
	add("other=9");
	add("check_common_*=3");
	log_v(4, "\"v4\"");
	log_v(3, "\"v3\"");
	log_v(1, "\"v1\"");
	log_set_stream(NULL);
	fclose(f);
	ck_assert_msg(!strstr(buf, "v4") && strstr(buf, "\"v3\"") && strstr(buf, "\"v1\""), "<%s>",
		      buf);
	free(buf);
}
END_TEST

/* The process-wide settings back to their defaults (CK_FORK=no runs
 * every test in one process). */
static void reset(void)
{
	log_set_stream(NULL);
	log_set_format(LOG_FORMAT_TEXT);
	log_set_verbosity(0);
	log_vmodule_clear();
}

static Suite *log_suite(void)
{
	Suite *s = suite_create("common_log");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, reset, reset);
	tcase_add_test(tc, test_klog_shapes);
	tcase_add_test(tc, test_structured);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_odd_input);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_write_json);
	tcase_add_test(tc, test_write_text);
	tcase_add_test(tc, test_vmodule_unset);
	tcase_add_test(tc, test_vmodule_match);
	tcase_add_test(tc, test_vmodule_log_v);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(log_suite());
}
