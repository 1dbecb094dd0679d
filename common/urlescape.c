/* urlescape.c - percent-encoding and -decoding as Go's net/url does them. */
#include "common/common.h"

#include <stdlib.h>
#include <string.h>

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *url_unescape(const char *s, size_t n, bool plus_is_space)
{
	char *out = xmalloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '+' && plus_is_space) {
			*o++ = ' ';
			continue;
		}
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		hi = i + 1 < n ? hex_digit(s[i + 1]) : -1;
		lo = i + 2 < n ? hex_digit(s[i + 2]) : -1;
		if (hi < 0 || lo < 0) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		i += 2;
	}
	*o = '\0';
	return out;
}

/* RFC 3986 unreserved characters, never escaped. */
static bool is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

int url_escape_append(struct dynbuf *b, const char *s, size_t n, enum url_escape mode)
{
	static const char hex[] = "0123456789ABCDEF";
	/* Go's shouldEscape keeps these in a path; a segment also escapes '/'. */
	const char *keep = mode == URL_ESCAPE_PATH ? "$&+,/:;=@" :
			   mode == URL_ESCAPE_SEGMENT ? "$&+,:;=@" : "";
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_unreserved(c) || (c && strchr(keep, c))) {
			rc = dynbuf_addch(b, (char)c);
		} else if (c == ' ' && mode == URL_ESCAPE_QUERY) {
			rc = dynbuf_addch(b, '+');
		} else {
			char pct[3] = { '%', hex[c >> 4], hex[c & 15] };

			rc = dynbuf_add(b, pct, sizeof(pct));
		}
	}
	return rc;
}

/* The allocating form: the escaped text is at most 3 bytes per byte. */
static char *escape_alloc(const char *s, enum url_escape mode)
{
	size_t n = strlen(s);
	struct dynbuf b;

	dynbuf_init(&b, 3 * n + 1);
	if (url_escape_append(&b, s, n, mode) != 0 || dynbuf_addch(&b, '\0') != 0)
		abort(); /* cannot happen: the cap fits the worst case */
	return dynbuf_take(&b, NULL);
}

char *url_query_escape(const char *s)
{
	return escape_alloc(s, URL_ESCAPE_QUERY);
}

char *url_path_escape(const char *s)
{
	return escape_alloc(s, URL_ESCAPE_SEGMENT);
}
