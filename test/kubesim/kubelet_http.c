/*
 * kubelet_http.c - the little HTTP/1.1 the simulated kubelets speak:
 * one bounded request head at a time (GET, no body), and response heads
 * with Content-Length.  A hand-written cursor, no sscanf.
 */
#include "test/kubesim/kubelet_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Length of the head including the blank line, or 0 when incomplete. */
static size_t head_len(const char *buf, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return i + 1;
	return 0;
}

/* Copies the token ending at stop into out (bounded); advances *p. */
static int token(const char **p, const char *end, char stop, char *out, size_t outlen)
{
	const char *s = *p;
	size_t n = 0;

	while (s < end && *s != stop && *s != '\r') {
		if (n + 1 >= outlen || (unsigned char)*s <= ' ')
			return ERR_PARSE;
		out[n++] = *s++;
	}
	if (s >= end || *s != stop || n == 0)
		return ERR_PARSE;
	out[n] = '\0';
	*p = s + 1;
	return 0;
}

static bool header_is(const char *line, size_t len, const char *name, const char **value,
		      size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
		return false;
	line += n + 1;
	len -= n + 1;
	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	*value = line;
	*vlen = len;
	return true;
}

static void parse_headers(const char *p, const char *end, struct sim_kl_request *req)
{
	while (p < end) {
		const char *eol = memchr(p, '\r', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);
		const char *v;
		size_t vlen;

		if (header_is(p, len, "Connection", &v, &vlen)) {
			if (vlen == 5 && strncasecmp(v, "close", 5) == 0)
				req->keep_alive = false;
			else if (vlen == 10 && strncasecmp(v, "keep-alive", 10) == 0)
				req->keep_alive = true;
		} else if (header_is(p, len, "Content-Length", &v, &vlen)) {
			req->has_body |= !(vlen == 1 && v[0] == '0');
		} else if (header_is(p, len, "Transfer-Encoding", &v, &vlen)) {
			req->has_body = true;
		}
		p += len + 2;
	}
}

long sim_kl_http_parse(const char *buf, size_t len, struct sim_kl_request *req)
{
	size_t n = head_len(buf, len < SIM_KL_MAX_REQUEST ? len : SIM_KL_MAX_REQUEST);
	const char *p = buf, *end;
	char version[16];
	char *q;

	if (n == 0)
		return len >= SIM_KL_MAX_REQUEST ? ERR_TOOBIG : 0;
	end = buf + n - 2; /* up to the last header's CRLF */
	memset(req, 0, sizeof(*req));
	if (token(&p, end, ' ', req->method, sizeof(req->method)) != 0 ||
	    token(&p, end, ' ', req->path, sizeof(req->path)) != 0 ||
	    token(&p, end, '\r', version, sizeof(version)) != 0 || p >= end || *p != '\n' ||
	    req->path[0] != '/')
		return ERR_PARSE;
	if (strcmp(version, "HTTP/1.1") == 0)
		req->keep_alive = true;
	else if (strcmp(version, "HTTP/1.0") != 0)
		return ERR_PARSE;
	q = strchr(req->path, '?');
	if (q)
		*q = '\0';
	parse_headers(p + 1, end, req);
	return (long)n;
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	default:
		return "Internal Server Error";
	}
}

int sim_kl_http_head(struct dynbuf *out, int status, const char *content_type,
		     uint64_t content_length, bool keep_alive)
{
	char date[64];
	time_t now = (time_t)(clock_now_ns() / NS_PER_SEC);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	return dynbuf_printf(out,
			     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nDate: %s\r\n"
			     "Content-Length: %llu\r\n%s\r\n",
			     status, reason(status), content_type, date,
			     (unsigned long long)content_length,
			     keep_alive ? "" : "Connection: close\r\n");
}
