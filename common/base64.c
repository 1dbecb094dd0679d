/*
 * base64.c - RFC 4648 standard base64 (the alphabet with '+' and '/',
 * '=' padding), as Go's base64.StdEncoding writes it and kubeconfig
 * *-data fields and JSON []byte carry it.
 *
 * GnuTLS does the work (gnutls_base64_encode2 / gnutls_base64_decode2,
 * plain RFC 4648 without PEM headers).  Its decoder is as strict as Go's
 * about the alphabet, padding, data after padding and unused bits, and it
 * skips '\r' and '\n' as Go does; this wrapper adds what Go does and GnuTLS
 * (3.7.9, measured) does not:
 *   - GnuTLS also skips ' ' and '\t' ("Q Q==" decodes to "A"); Go
 *     rejects them, so does base64_decode (scan before the call);
 *   - GnuTLS refuses input made only of newlines; Go decodes it to
 *     nothing, so does base64_decode;
 * and the project's conventions: a max_out cap, a NUL-terminated result
 * from xmalloc (free() it, never gnutls_free), the OOM policy of memory.c.
 */
#include "common/common.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

/* A copy of d from xmalloc with a NUL after its d->size bytes. */
static char *take_datum(gnutls_datum_t *d)
{
	char *s = xmalloc((size_t)d->size + 1);

	if (d->size)
		memcpy(s, d->data, d->size);
	s[d->size] = '\0';
	gnutls_free(d->data);
	d->data = NULL;
	return s;
}

char *base64_encode(const void *p, size_t n)
{
	gnutls_datum_t in = { (unsigned char *)p, (unsigned)n }, out = { NULL, 0 };
	int rc;

	if (n > UINT_MAX / 4 * 3 - 3)
		xoom_abort("base64_encode: input past GnuTLS' unsigned size");
	rc = gnutls_base64_encode2(&in, &out);
	if (rc < 0)
		xoom_abort("gnutls_base64_encode2"); /* its only failure is memory */
	return take_datum(&out);
}

/* Go's alphabet for StdEncoding plus the two newline bytes it skips. */
static bool go_base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=' || c == '\r' || c == '\n';
}

int base64_decode(const char *s, size_t len, size_t max_out, char **out, size_t *out_len)
{
	gnutls_datum_t in = { (unsigned char *)s, (unsigned)len }, dec = { NULL, 0 };
	bool only_newlines = true;
	int rc;

	*out = NULL;
	*out_len = 0;
	for (size_t i = 0; i < len; i++) {
		if (!go_base64_char(s[i]))
			return ERR_PARSE;
		only_newlines = only_newlines && (s[i] == '\r' || s[i] == '\n');
	}
	if (only_newlines) { /* "" or newlines: no bytes, as Go */
		*out = xstrdup("");
		return 0;
	}
	if (len > UINT_MAX)
		return ERR_TOOBIG;
	rc = gnutls_base64_decode2(&in, &dec);
	if (rc == GNUTLS_E_MEMORY_ERROR)
		xoom_abort("gnutls_base64_decode2");
	if (rc < 0)
		return ERR_PARSE;
	if (dec.size > max_out) {
		gnutls_free(dec.data);
		return ERR_TOOBIG;
	}
	*out_len = dec.size;
	*out = take_datum(&dec);
	return 0;
}
