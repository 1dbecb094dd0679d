/* dynbuf.c - growable byte buffer with a mandatory cap (curl's dynbuf). */
#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DYNBUF_MIN_ALLOC 64

void dynbuf_init(struct dynbuf *b, size_t max)
{
	b->buf = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

/* Makes room for `extra` more bytes plus the NUL. */
static int dynbuf_grow(struct dynbuf *b, size_t extra)
{
	size_t need, cap;

	if (extra > b->max || b->len > b->max - extra)
		return ERR_TOOBIG;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return ERR_OK;
	cap = b->cap ? b->cap : DYNBUF_MIN_ALLOC;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	b->buf = xrealloc(b->buf, cap);
	b->cap = cap;
	return ERR_OK;
}

int dynbuf_add(struct dynbuf *b, const void *p, size_t n)
{
	int rc = dynbuf_grow(b, n);

	if (rc)
		return rc;
	if (n)
		memcpy(b->buf + b->len, p, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return ERR_OK;
}

int dynbuf_addstr(struct dynbuf *b, const char *s)
{
	return dynbuf_add(b, s, strlen(s));
}

int dynbuf_addch(struct dynbuf *b, char c)
{
	return dynbuf_add(b, &c, 1);
}

int dynbuf_vprintf(struct dynbuf *b, const char *fmt, va_list ap)
{
	char small[256];
	va_list ap2;
	int n, rc;

	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return ERR_INVAL;
	if ((size_t)n < sizeof(small))
		return dynbuf_add(b, small, (size_t)n);
	rc = dynbuf_grow(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return ERR_OK;
}

int dynbuf_printf(struct dynbuf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = dynbuf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void dynbuf_reset(struct dynbuf *b)
{
	b->len = 0;
	if (b->buf)
		b->buf[0] = '\0';
}

void dynbuf_clear(struct dynbuf *b)
{
	free(b->buf);
	dynbuf_init(b, b->max);
}

char *dynbuf_take(struct dynbuf *b, size_t *len)
{
	char *p = b->buf ? b->buf : xstrdup("");

	if (len)
		*len = b->len;
	dynbuf_init(b, b->max);
	return p;
}

int dynbuf_read_fd(struct dynbuf *b, int fd)
{
	char chunk[16384];
	int rc = ERR_OK;
	ssize_t n;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ERR_IO;
			break;
		}
		if (n == 0)
			break;
		rc = dynbuf_add(b, chunk, (size_t)n);
		if (rc)
			break;
	}
	if (rc == ERR_OK && !b->buf)
		rc = dynbuf_add(b, "", 0);
	return rc;
}

int dynbuf_read_file(struct dynbuf *b, const char *path)
{
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ERR_IO;
	rc = dynbuf_read_fd(b, fd);
	close(fd);
	return rc;
}
