/*
 * jsonw.c - JSON bytes exactly as Go's encoding/json writes them:
 * HTML-safe string escaping and json.Indent's pretty layout.  The API
 * lists and the audit events write straight into a dynbuf with these.
 */
#include "common/common.h"

#include <string.h>

static const char hex[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at s (as Go's DecodeRune: no
 * overlongs, no surrogates, <= U+10FFFF), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;
	uint32_t c, min;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	if (s[0] < 0xe0) {
		n = 2, c = s[0] & 0x1f, min = 0x80;
	} else if (s[0] < 0xf0) {
		n = 3, c = s[0] & 0x0f, min = 0x800;
	} else {
		n = 4, c = s[0] & 0x07, min = 0x10000;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* The escape for an ASCII byte, or NULL when it is written as is. */
static const char *ascii_escape(unsigned char c, char tmp[7])
{
	switch (c) {
	case '"': return "\\\"";
	case '\\': return "\\\\";
	case '\b': return "\\b";
	case '\f': return "\\f";
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	default: break;
	}
	if (c >= 0x20 && c != '<' && c != '>' && c != '&')
		return NULL;
	memcpy(tmp, "\\u00", 4);
	tmp[4] = hex[c >> 4];
	tmp[5] = hex[c & 0xf];
	tmp[6] = '\0';
	return tmp;
}

int jsonw_string(struct dynbuf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, start = 0;
	int rc = dynbuf_addch(b, '"');

	while (!rc && s[i]) {
		const char *esc = NULL;
		char tmp[7];
		size_t adv = 1;
		uint32_t cp = 0;

		if (s[i] < 0x80) {
			esc = ascii_escape(s[i], tmp);
		} else if ((adv = utf8_len(s + i, &cp)) == 0) {
			adv = 1;
			esc = "\\ufffd";
		} else if (cp == 0x2028 || cp == 0x2029) {
			esc = cp == 0x2028 ? "\\u2028" : "\\u2029";
		}
		if (esc) {
			rc = dynbuf_add(b, s + start, i - start);
			if (!rc)
				rc = dynbuf_addstr(b, esc);
			start = i + adv;
		}
		i += adv;
	}
	if (!rc)
		rc = dynbuf_add(b, s + start, i - start);
	return rc ? rc : dynbuf_addch(b, '"');
}

int jsonw_key(struct dynbuf *b, const char *key)
{
	int rc = jsonw_string(b, key);

	return rc ? rc : dynbuf_addch(b, ':');
}

static int newline(struct dynbuf *out, int depth)
{
	int rc = dynbuf_addch(out, '\n');

	for (int i = 0; !rc && i < depth; i++)
		rc = dynbuf_add(out, "  ", 2);
	return rc;
}

/* Advances *i from a string's opening quote to its closing quote. */
static int string_end(const char *in, size_t len, size_t *i)
{
	size_t j = *i + 1;

	while (j < len && in[j] != '"')
		j += in[j] == '\\' ? 2 : 1;
	if (j >= len)
		return ERR_PARSE;
	*i = j;
	return ERR_OK;
}

int jsonw_indent(struct dynbuf *out, const char *in, size_t len)
{
	bool need_indent = false;
	int depth = 0, rc = 0;

	for (size_t i = 0; !rc && i < len; i++) {
		char c = in[i];

		if (need_indent && c != ']' && c != '}') {
			need_indent = false;
			rc = newline(out, ++depth);
		}
		if (rc)
			break;
		switch (c) {
		case '"': {
			size_t start = i;

			rc = string_end(in, len, &i);
			if (!rc)
				rc = dynbuf_add(out, in + start, i - start + 1);
			break;
		}
		case '{':
		case '[':
			need_indent = true;
			rc = dynbuf_addch(out, c);
			break;
		case ',':
			rc = dynbuf_addch(out, c);
			if (!rc)
				rc = newline(out, depth);
			break;
		case ':':
			rc = dynbuf_add(out, ": ", 2);
			break;
		case '}':
		case ']':
			if (need_indent)
				need_indent = false;
			else
				rc = newline(out, --depth);
			if (!rc)
				rc = dynbuf_addch(out, c);
			break;
		case '\n':
			break;  /* the compact encoder's trailing newline */
		default:
			rc = dynbuf_addch(out, c);
			break;
		}
	}
	return rc;
}
