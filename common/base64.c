/*
 * base64.c - RFC 4648 standard base64 (the alphabet with '+' and '/',
 * '=' padding), as Go's base64.StdEncoding writes it and kubeconfig
 * *-data fields and JSON []byte carry it.  The decoder is strict: full
 * padding, nothing after it, unused bits of the last group zero; only
 * '\r' and '\n' are skipped (as Go and GnuTLS do).
 */
#include "common/common.h"

#include <stdlib.h>

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const void *p, size_t n)
{
	const unsigned char *in = p;
	char *out = xmalloc((n + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = alphabet[v >> 6 & 63];
		*o++ = alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);

		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int sextet(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* The decoder's state: bits not yet written, and the output so far. */
struct b64_state {
	uint32_t acc; /* the low `bits` bits are pending */
	int bits;     /* 0, 2, 4 or 6 */
	int group;    /* characters of the current group of 4 seen (0..3) */
	bool pad;     /* '=' seen: only '=' may follow */
	size_t n;
};

/* One character of the input (newlines already skipped). */
static int feed(struct b64_state *st, char c, unsigned char *out, size_t max_out)
{
	int v;

	if (c == '=') {
		/* only as a group's 3rd or 4th character, after zero unused bits */
		if (st->group < 2 || st->acc != 0)
			return ERR_PARSE;
		st->pad = true;
		st->group = (st->group + 1) % 4;
		return 0;
	}
	v = sextet(c);
	if (v < 0 || st->pad)
		return ERR_PARSE;
	st->acc = st->acc << 6 | (uint32_t)v;
	st->bits += 6;
	st->group = (st->group + 1) % 4;
	if (st->bits >= 8) {
		if (st->n >= max_out)
			return ERR_TOOBIG;
		st->bits -= 8;
		out[st->n++] = (unsigned char)(st->acc >> st->bits);
		st->acc &= (1u << st->bits) - 1;
	}
	return 0;
}

int base64_decode(const char *s, size_t len, size_t max_out, char **out, size_t *out_len)
{
	struct b64_state st = { 0 };
	size_t cap = len / 4 * 3 + 3;
	unsigned char *buf;
	int rc = 0;

	*out = NULL;
	*out_len = 0;
	if (cap > max_out)
		cap = max_out;
	buf = xmalloc(cap + 1);
	for (size_t i = 0; i < len && !rc; i++)
		if (s[i] != '\r' && s[i] != '\n')
			rc = feed(&st, s[i], buf, cap);
	/* a complete last group (padding included), no bits left over */
	if (!rc && (st.group != 0 || st.acc != 0))
		rc = ERR_PARSE;
	if (rc) {
		free(buf);
		return rc;
	}
	buf[st.n] = '\0';
	*out = (char *)buf;
	*out_len = st.n;
	return 0;
}
