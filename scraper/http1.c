/*
 * http1.c - an HTTP/1.1 response parsed as its bytes arrive, with Go's
 * net/http rules and words (net/http/response.go, transfer.go,
 * internal/chunked.go).
 *
 * It keeps no copy of the response: a line is looked at through the first
 * SCRAPER__HTTP1_PREFIX bytes (enough for the status line's code and the
 * three headers that decide the framing), the rest of a long line is
 * counted and skipped, and body bytes are handed to the caller where they
 * lie.  So a kept-alive connection costs a few hundred bytes of parser
 * state, whatever the kubelet sends.
 */
#include "scraper/scraper_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define BROKEN "net/http: HTTP/1.x transport connection broken: "
#define MAX_CHUNK_LINE 4096   /* Go's maxLineLength in internal/chunked.go */

enum {
	S_STATUS,      /* status line */
	S_HEADER,      /* header lines until the empty one */
	S_BODY_LEN,    /* Content-Length bytes */
	S_CHUNK_SIZE,  /* "1a2b[;ext]\r\n" */
	S_CHUNK_DATA,
	S_CHUNK_END,   /* the CRLF after a chunk's data */
	S_TRAILER,     /* trailer lines after the last chunk */
	S_BODY_CLOSE,  /* everything until the connection closes */
	S_DONE,
};

void scraper__http1_begin(struct scraper__http1 *h, bool connect)
{
	memset(h, 0, sizeof(*h));
	h->connect = connect;
	h->state = S_STATUS;
}

static int fail(struct scraper__http1 *h, const char *fmt, const char *arg)
{
	if (snprintf(h->err, sizeof(h->err), fmt, arg) >= (int)sizeof(h->err))
		h->err[sizeof(h->err) - 2] = '"'; /* a cut quoted line still ends quoted */
	return ERR_PARSE;
}

/* Go's %q of s[0..n) (the kept prefix of a line: the rest is not shown). */
static void quote(const char *s, size_t n, char *out, size_t len)
{
	size_t j = 0;

	out[j++] = '"';
	for (size_t i = 0; i < n && j + 6 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			j += (size_t)snprintf(out + j, len - j, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			out[j++] = (char)c;
		else
			j += (size_t)snprintf(out + j, len - j, "\\x%02x", c);
	}
	out[j++] = '"';
	out[j] = '\0';
}

/* The kept prefix of the current line, without its CR, as a string. */
static const char *line_str(struct scraper__http1 *h, size_t *n)
{
	size_t len = h->line_len < sizeof(h->line) - 1 ? h->line_len : sizeof(h->line) - 1;

	if (len == h->line_len && len && h->line[len - 1] == '\r')
		len--;
	h->line[len] = '\0';
	*n = len;
	return h->line;
}

/* ---- the head ---------------------------------------------------------------- */

/* "HTTP/1.1 200 OK", as Go's ReadResponse: proto, a 3-digit code, reason. */
static int status_line(struct scraper__http1 *h)
{
	char q[sizeof(h->line) * 4 + 3];
	size_t n;
	const char *s = line_str(h, &n), *sp = strchr(s, ' '), *code, *r;

	quote(s, n, q, sizeof(q));
	if (!sp)
		return fail(h, BROKEN "malformed HTTP response %s", q);
	if (sp - s != 8 || strncmp(s, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)s[7]))
		return fail(h, BROKEN "malformed HTTP version %s", q);
	code = sp + strspn(sp, " ");
	if (!isdigit((unsigned char)code[0]) || !isdigit((unsigned char)code[1]) ||
	    !isdigit((unsigned char)code[2]) || (code[3] != ' ' && code[3] != '\0'))
		return fail(h, BROKEN "malformed HTTP status code %s", q);
	h->minor = s[7] - '0';
	h->status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
	r = code[3] ? code + 4 : code + 3;
	n = 0;
	for (; *r && n + 1 < sizeof(h->reason); r++)
		if ((unsigned char)*r >= 0x20 && (unsigned char)*r < 0x7f)
			h->reason[n++] = *r;
	h->reason[n] = '\0';
	return 0;
}

/* The value of header `name` in line s (or NULL), spaces trimmed. */
static const char *header_value(const char *s, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);
	const char *v, *end;

	if (strncasecmp(s, name, nl) != 0 || s[nl] != ':')
		return NULL;
	v = s + nl + 1;
	v += strspn(v, " \t");
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*vlen = (size_t)(end - v);
	return v;
}

/* Whether comma-separated list v holds token tok (case-insensitive). */
static bool has_token(const char *v, size_t len, const char *tok)
{
	size_t tl = strlen(tok);

	while (len) {
		size_t i = 0, j;

		while (i < len && v[i] != ',')
			i++;
		j = i;
		while (j && (v[j - 1] == ' ' || v[j - 1] == '\t'))
			j--;
		if (j == tl && strncasecmp(v, tok, tl) == 0)
			return true;
		if (i == len)
			break;
		v += i + 1;
		len -= i + 1;
		while (len && (*v == ' ' || *v == '\t'))
			v++, len--;
	}
	return false;
}

static int content_length(struct scraper__http1 *h, const char *v, size_t len)
{
	uint64_t n = 0;
	char q[64];

	snprintf(q, sizeof(q), "%.*s", (int)(len < 40 ? len : 40), v);
	if (len == 0 || len > 19)
		return fail(h, "bad Content-Length \"%s\"", q);
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)v[i]))
			return fail(h, "bad Content-Length \"%s\"", q);
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	if (h->has_length && h->left != n)
		return fail(h, "http: message cannot contain multiple Content-Length headers; got %s",
			    q);
	h->has_length = true;
	h->left = n;
	return 0;
}

/* One header line.  The three that matter must fit the kept prefix. */
static int header_line(struct scraper__http1 *h)
{
	static const char *const framing[] = {"Content-Length", "Transfer-Encoding", "Connection"};
	size_t n, vlen;
	const char *s = line_str(h, &n), *v;

	if (s[0] == ' ' || s[0] == '\t')
		return 0; /* an obsolete folded continuation: nothing we read */
	for (size_t i = 0; i < sizeof(framing) / sizeof(*framing); i++) {
		if (!header_value(s, framing[i], &vlen))
			continue;
		if (h->line_len >= sizeof(h->line) - 1)
			return fail(h, BROKEN "%s header too long", framing[i]);
	}
	if ((v = header_value(s, "Content-Length", &vlen)))
		return content_length(h, v, vlen);
	if ((v = header_value(s, "Transfer-Encoding", &vlen))) {
		char q[64];

		if (vlen == 7 && strncasecmp(v, "chunked", 7) == 0) {
			h->chunked = true;
			return 0;
		}
		if (vlen == 8 && strncasecmp(v, "identity", 8) == 0)
			return 0;
		snprintf(q, sizeof(q), "%.*s", (int)(vlen < 40 ? vlen : 40), v);
		return fail(h, "net/http: unsupported transfer encoding: \"%s\"", q);
	}
	if ((v = header_value(s, "Connection", &vlen))) {
		if (has_token(v, vlen, "close"))
			h->close_header = true;
		else if (has_token(v, vlen, "keep-alive") && h->minor == 0)
			h->keep_alive = true; /* HTTP/1.0 keep-alive */
	} else if (h->ctype && (v = header_value(s, "Content-Type", &vlen))) {
		snprintf(h->ctype, h->ctype_cap, "%.*s", (int)vlen, v);
	}
	return 0;
}

/* The empty line: decides how the body is framed (Go's transfer.go). */
static void end_of_head(struct scraper__http1 *h)
{
	bool ka = h->minor >= 1 ? !h->close_header : h->keep_alive && !h->close_header;

	if (h->status >= 100 && h->status <= 199 && h->status != 101) {
		/* an informational answer: the real one follows */
		bool connect = h->connect;
		size_t used = h->head_bytes;

		scraper__http1_begin(h, connect);
		h->head_bytes = used;
		h->started = true;
		return;
	}
	h->keep_alive = ka;
	h->in_body = true;
	if (h->status == 204 || h->status == 304 || (h->connect && h->status / 100 == 2)) {
		h->state = S_DONE;
	} else if (h->chunked) {
		h->state = S_CHUNK_SIZE;
	} else if (h->has_length) {
		h->state = h->left ? S_BODY_LEN : S_DONE;
	} else {
		h->close_delimited = true;
		h->keep_alive = false;
		h->state = S_BODY_CLOSE;
	}
	h->done = h->state == S_DONE;
}

/* ---- chunked framing ---------------------------------------------------------- */

static int chunk_size_line(struct scraper__http1 *h)
{
	size_t n;
	const char *s = line_str(h, &n);
	uint64_t v = 0;
	size_t i = 0;

	if (h->line_len > MAX_CHUNK_LINE)
		return fail(h, "%s", "header line too long");
	for (; i < n && isxdigit((unsigned char)s[i]); i++) {
		if (i == 16)
			return fail(h, "%s", "http chunk length too large");
		v = v << 4 | (uint64_t)(isdigit((unsigned char)s[i]) ? s[i] - '0'
								   : (tolower((unsigned char)s[i]) - 'a' + 10));
	}
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == 0 || (i < n && s[i] != ';'))
		return fail(h, "%s", "invalid byte in chunk length");
	h->left = v;
	h->state = v ? S_CHUNK_DATA : S_TRAILER;
	return 0;
}

/* ---- the loop ------------------------------------------------------------------ */

/* Line states: collects one line (prefix kept, length counted); true
 * with *i past the '\n' when it is complete. */
static bool take_line(struct scraper__http1 *h, const char *p, size_t n, size_t *i)
{
	const char *nl = memchr(p + *i, '\n', n - *i);
	size_t end = nl ? (size_t)(nl - p) : n;
	size_t chunk = end - *i;

	if (h->line_len < sizeof(h->line)) {
		size_t room = sizeof(h->line) - h->line_len;
		memcpy(h->line + h->line_len, p + *i, chunk < room ? chunk : room);
	}
	h->line_len += chunk;
	*i = nl ? end + 1 : n;
	return nl != NULL;
}

/* The line just taken was empty ("\r\n" or a bare "\n"). */
static bool empty_line(const struct scraper__http1 *h)
{
	return h->line_len == 0 || (h->line_len == 1 && h->line[0] == '\r');
}

static bool in_head(const struct scraper__http1 *h)
{
	return h->state == S_STATUS || h->state == S_HEADER || h->state == S_TRAILER;
}

int scraper__http1_feed(struct scraper__http1 *h, const char *p, size_t n, size_t *used,
			scraper__http1_body_fn body, void *ud)
{
	size_t i = 0;
	int rc = 0;

	if (n)
		h->started = true;
	while (i < n && h->state != S_DONE && rc == 0) {
		size_t start = i, take;

		switch (h->state) {
		case S_STATUS:
		case S_HEADER:
		case S_TRAILER:
		case S_CHUNK_SIZE:
		case S_CHUNK_END: {
			bool whole = take_line(h, p, n, &i);

			if (in_head(h)) {
				h->head_bytes += i - start;
				if (h->head_bytes > SCRAPER__HTTP1_MAX_HEAD) {
					snprintf(h->err, sizeof(h->err),
						 "net/http: server response headers exceeded %u bytes; aborted",
						 SCRAPER__HTTP1_MAX_HEAD);
					rc = ERR_PARSE;
					break;
				}
			} else if (h->line_len > MAX_CHUNK_LINE) {
				rc = fail(h, "%s", "header line too long");
				break;
			}
			if (!whole)
				break;
			if (h->state == S_STATUS) {
				rc = status_line(h);
				if (rc == 0)
					h->state = S_HEADER;
			} else if (h->state == S_HEADER || h->state == S_TRAILER) {
				if (empty_line(h)) {
					if (h->state == S_TRAILER)
						h->state = S_DONE, h->done = true;
					else
						end_of_head(h);
				} else if (h->state == S_HEADER) {
					rc = header_line(h);
				}
			} else if (h->state == S_CHUNK_SIZE) {
				rc = chunk_size_line(h);
			} else { /* S_CHUNK_END: nothing may stand between data and CRLF */
				if (!empty_line(h))
					rc = fail(h, "%s", "malformed chunked encoding");
				else
					h->state = S_CHUNK_SIZE;
			}
			h->line_len = 0;
			break;
		}
		case S_BODY_LEN:
		case S_CHUNK_DATA:
		case S_BODY_CLOSE:
			take = n - i;
			if (h->state != S_BODY_CLOSE && take > h->left)
				take = (size_t)h->left;
			rc = body ? body(ud, p + i, take) : 0;
			i += take;
			if (rc || h->state == S_BODY_CLOSE)
				break;
			h->left -= take;
			if (h->left == 0) {
				if (h->state == S_BODY_LEN)
					h->state = S_DONE, h->done = true;
				else
					h->state = S_CHUNK_END;
			}
			break;
		}
	}
	*used = i;
	return rc;
}

int scraper__http1_eof(struct scraper__http1 *h)
{
	if (h->state == S_BODY_CLOSE) {
		h->state = S_DONE;
		h->done = true;
		return 0;
	}
	if (h->state == S_DONE)
		return 0;
	return fail(h, "%s", h->started ? "unexpected EOF" : "EOF");
}
