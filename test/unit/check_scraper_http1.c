/*
 * check_scraper_http1.c - the HTTP/1.1 response parser (scraper/http1.c):
 * framing (Content-Length, chunked with extensions and trailers, close-
 * delimited, 204/304, a 2xx to CONNECT, skipped 1xx), keep-alive rules of
 * HTTP/1.1 and 1.0, where a response ends when another follows, and Go's
 * texts for every malformed input and early EOF.  Every case is fed whole,
 * one byte at a time and split in two at every offset: the outcome must
 * not depend on how the bytes arrive.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scraper/scraper_int.h"
#include "test/unit/unit.h"

struct outcome {
	int rc;            /* of feed, or of eof when feed needed more */
	int status;
	char reason[64];
	bool keep_alive, done, in_body;
	char body[512];
	size_t leftover;   /* bytes after the response, not consumed */
	char err[192];
};

struct sink {
	char buf[512];
	size_t len;
	int stop_after;    /* >0: the callback fails once this many bytes came */
};

static int on_body(void *ud, const char *p, size_t n)
{
	struct sink *s = ud;

	ck_assert_uint_le(s->len + n, sizeof(s->buf) - 1);
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	if (s->stop_after && s->len >= (size_t)s->stop_after)
		return 77;
	return 0;
}

/* Feeds text in pieces of `piece` bytes (the first piece is `first`
 * bytes when nonzero), then EOF when the response is not complete and
 * `eof` is set. */
static struct outcome run(const char *text, size_t len, bool connect, size_t first, size_t piece,
			  bool eof, int stop_after)
{
	struct scraper__http1 h;
	struct sink s = {.stop_after = stop_after};
	struct outcome o = {0};
	size_t off = 0;

	scraper__http1_begin(&h, connect);
	while (off < len && !h.done && o.rc == 0) {
		size_t want = off == 0 && first ? first : piece, used = 0;

		if (want > len - off)
			want = len - off;
		o.rc = scraper__http1_feed(&h, text + off, want, &used, on_body, &s);
		ck_assert_uint_le(used, want);
		if (o.rc == 0 && !h.done)
			ck_assert_uint_eq(used, want); /* nothing is left behind mid-response */
		off += used;
	}
	if (o.rc == 0 && !h.done && eof)
		o.rc = scraper__http1_eof(&h);
	o.status = h.status;
	snprintf(o.reason, sizeof(o.reason), "%s", h.reason);
	o.keep_alive = h.keep_alive;
	o.done = h.done;
	o.in_body = h.in_body;
	memcpy(o.body, s.buf, s.len);
	o.leftover = len - off;
	snprintf(o.err, sizeof(o.err), "%s", o.rc == ERR_PARSE ? h.err : "");
	return o;
}

static void same(const struct outcome *a, const struct outcome *b, const char *how)
{
	ck_assert_msg(a->rc == b->rc && a->status == b->status && a->keep_alive == b->keep_alive &&
			      a->done == b->done && strcmp(a->body, b->body) == 0 &&
			      strcmp(a->err, b->err) == 0 && strcmp(a->reason, b->reason) == 0 &&
			      (a->rc != 0 || a->leftover == b->leftover),
		      "%s: rc %d/%d status %d/%d body <%s>/<%s> err <%s>/<%s> left %zu/%zu", how,
		      a->rc, b->rc, a->status, b->status, a->body, b->body, a->err, b->err,
		      a->leftover, b->leftover);
}

/* The outcome of text, checked to be the same however it is split. */
static struct outcome parse(const char *text, bool connect, bool eof)
{
	size_t len = strlen(text);
	struct outcome whole = run(text, len, connect, 0, len ? len : 1, eof, 0);
	struct outcome bytes = run(text, len, connect, 0, 1, eof, 0);
	char how[64];

	same(&whole, &bytes, "byte by byte");
	for (size_t k = 1; k < len; k++) {
		struct outcome two = run(text, len, connect, k, len, eof, 0);

		snprintf(how, sizeof(how), "split at %zu", k);
		same(&whole, &two, how);
	}
	return whole;
}

/* ---- framing ----------------------------------------------------------------- */

START_TEST(content_length_keep_alive_and_next_response)
{
	struct outcome o = parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				 "Content-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\n",
				 false, false);

	ck_assert_int_eq(o.rc, 0);
	ck_assert_int_eq(o.status, 200);
	ck_assert_str_eq(o.reason, "OK");
	ck_assert(o.done && o.keep_alive);
	ck_assert_str_eq(o.body, "hello");
	ck_assert_uint_eq(o.leftover, strlen("HTTP/1.1 200 OK\r\n"));
}
END_TEST

START_TEST(chunked_with_extensions_and_trailers)
{
	struct outcome o = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "5;name=value\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
				 "0\r\nX-Trailer: 1\r\n\r\nNEXT",
				 false, false);

	ck_assert_int_eq(o.rc, 0);
	ck_assert(o.done && o.keep_alive);
	ck_assert_str_eq(o.body, "helloabcdefghijklmnopqrstuvwxyz");
	ck_assert_uint_eq(o.leftover, 4);
}
END_TEST

START_TEST(chunked_wins_over_content_length)
{
	struct outcome o = parse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
				 "transfer-encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
				 false, false);

	ck_assert_int_eq(o.rc, 0);
	ck_assert(o.done);
	ck_assert_str_eq(o.body, "abc");
}
END_TEST

START_TEST(close_delimited_body_ends_at_eof)
{
	struct outcome o = parse("HTTP/1.1 200 OK\r\n\r\nall of it", false, true);

	ck_assert_int_eq(o.rc, 0);
	ck_assert(o.done);
	ck_assert(!o.keep_alive);
	ck_assert_str_eq(o.body, "all of it");
}
END_TEST

START_TEST(connection_close_and_http10)
{
	struct outcome o = parse("HTTP/1.1 200 OK\r\nConnection: Upgrade, close\r\n"
				 "Content-Length: 2\r\n\r\nok",
				 false, false);

	ck_assert(o.done && !o.keep_alive);
	o = parse("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false, false);
	ck_assert(o.done && !o.keep_alive);
	o = parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
		  false, false);
	ck_assert(o.done && o.keep_alive);
	/* keep-alive in HTTP/1.1 changes nothing; close in the token list does */
	o = parse("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
		  false, false);
	ck_assert(o.done && o.keep_alive);
}
END_TEST

START_TEST(no_body_statuses_and_connect)
{
	struct outcome o = parse("HTTP/1.1 204 No Content\r\n\r\nX", false, false);

	ck_assert(o.done && o.keep_alive);
	ck_assert_uint_eq(o.leftover, 1);
	o = parse("HTTP/1.1 304 Not Modified\r\n\r\n", false, false);
	ck_assert(o.done);
	/* after a 200 to CONNECT the tunnel's bytes are not a body */
	o = parse("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01", true, false);
	ck_assert_int_eq(o.rc, 0);
	ck_assert(o.done);
	ck_assert_str_eq(o.reason, "Connection established");
	ck_assert_uint_eq(o.leftover, 3);
	ck_assert_str_eq(o.body, "");
	/* a refused CONNECT has a body as any response */
	o = parse("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 3\r\n\r\nno!",
		  true, false);
	ck_assert(o.done);
	ck_assert_int_eq(o.status, 407);
	ck_assert_str_eq(o.body, "no!");
}
END_TEST

START_TEST(informational_responses_are_skipped)
{
	struct outcome o = parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
				 "Link: </a>\r\n\r\nHTTP/1.1 500 Internal Server Error\r\n"
				 "Content-Length: 4\r\n\r\nboom",
				 false, false);

	ck_assert_int_eq(o.rc, 0);
	ck_assert_int_eq(o.status, 500);
	ck_assert_str_eq(o.reason, "Internal Server Error");
	ck_assert_str_eq(o.body, "boom");
}
END_TEST

START_TEST(long_headers_are_skipped_not_kept)
{
	static char text[SCRAPER__HTTP1_MAX_HEAD];
	size_t n = (size_t)snprintf(text, sizeof(text), "HTTP/1.1 200 OK\r\nX-Long: ");

	for (size_t i = 0; i < 40000; i++)
		text[n++] = (char)('a' + i % 26);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\r\nContent-Length: 1\r\n\r\nZ");
	ck_assert_uint_lt(n, sizeof(text));
	{
		struct outcome o = run(text, n, false, 0, 1000, false, 0);

		ck_assert_int_eq(o.rc, 0);
		ck_assert(o.done);
		ck_assert_str_eq(o.body, "Z");
	}
}
END_TEST

START_TEST(body_callback_stops_the_parse)
{
	const char *t = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
	struct outcome o = run(t, strlen(t), false, 0, strlen(t), false, 4);

	ck_assert_int_eq(o.rc, 77);
	ck_assert(!o.done);
}
END_TEST

/* ---- what Go refuses, in Go's words ---------------------------------------------- */

struct bad_case {
	const char *text;
	bool eof;
	const char *err;
	bool in_body; /* the head was read: Go reports a body error */
};

static const struct bad_case bad[] = {
	{"garbage\r\n", false,
	 "net/http: HTTP/1.x transport connection broken: malformed HTTP response \"garbage\"", false},
	{"\x15\x03\x01\x01\x02\x16\r\n", false,
	 "net/http: HTTP/1.x transport connection broken: malformed HTTP response "
	 "\"\\x15\\x03\\x01\\x01\\x02\\x16\"", false},
	{"SPDY/3 200 OK\r\n", false,
	 "net/http: HTTP/1.x transport connection broken: malformed HTTP version \"SPDY/3 200 OK\"", false},
	{"HTTP/1.1 20 OK\r\n", false,
	 "net/http: HTTP/1.x transport connection broken: malformed HTTP status code "
	 "\"HTTP/1.1 20 OK\"", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n", false, "bad Content-Length \"12x\"", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", false,
	 "http: message cannot contain multiple Content-Length headers; got 2", false},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false,
	 "net/http: unsupported transfer encoding: \"gzip\"", false},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false,
	 "invalid byte in chunk length", true},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n11111111111111111\r\n", false,
	 "http chunk length too large", true},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY\r\n", false,
	 "malformed chunked encoding", true},
	{"", true, "EOF", false},
	{"HTTP/1.1 200", true, "unexpected EOF", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true, "unexpected EOF", true},
	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", true, "unexpected EOF", true},
};

START_TEST(malformed_inputs)
{
	const struct bad_case *c = &bad[_i];
	struct outcome o = parse(c->text, false, c->eof);

	ck_assert_int_eq(o.rc, ERR_PARSE);
	ck_assert_str_eq(o.err, c->err);
	ck_assert(o.in_body == c->in_body);
	ck_assert(!o.done);
}
END_TEST

START_TEST(head_size_is_bounded)
{
	static char text[SCRAPER__HTTP1_MAX_HEAD + 4096];
	size_t n = (size_t)snprintf(text, sizeof(text), "HTTP/1.1 200 OK\r\n");

	while (n + 20 < sizeof(text))
		n += (size_t)snprintf(text + n, sizeof(text) - n, "X-Pad: 0123456789\r\n");
	{
		struct outcome o = run(text, n, false, 0, 4096, false, 0);

		ck_assert_int_eq(o.rc, ERR_PARSE);
		ck_assert_str_eq(o.err, "net/http: server response headers exceeded 65536 bytes; "
					"aborted");
	}
}
END_TEST

START_TEST(chunk_line_is_bounded)
{
	static char text[8192];
	size_t n = (size_t)snprintf(text, sizeof(text),
				    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;");

	while (n < sizeof(text) - 1)
		text[n++] = 'x';
	{
		struct outcome o = run(text, n, false, 0, 512, false, 0);

		ck_assert_int_eq(o.rc, ERR_PARSE);
		ck_assert_str_eq(o.err, "header line too long");
	}
}
END_TEST

static Suite *http1_suite(void)
{
	Suite *s = suite_create("scraper_http1");
	TCase *tc = tcase_create("http1");

	tcase_add_test(tc, content_length_keep_alive_and_next_response);
	tcase_add_test(tc, chunked_with_extensions_and_trailers);
	tcase_add_test(tc, chunked_wins_over_content_length);
	tcase_add_test(tc, close_delimited_body_ends_at_eof);
	tcase_add_test(tc, connection_close_and_http10);
	tcase_add_test(tc, no_body_statuses_and_connect);
	tcase_add_test(tc, informational_responses_are_skipped);
	tcase_add_test(tc, long_headers_are_skipped_not_kept);
	tcase_add_test(tc, body_callback_stops_the_parse);
	tcase_add_loop_test(tc, malformed_inputs, 0, (int)(sizeof(bad) / sizeof(*bad)));
	tcase_add_test(tc, head_size_is_bounded);
	tcase_add_test(tc, chunk_line_is_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(http1_suite());
}
