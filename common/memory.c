/* memory.c - the one out-of-memory policy (report and abort) and the allocators that use it. */
#include "common/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xoom_abort(const char *what)
{
	fprintf(stderr, "fatal: out of memory: %s\n", what);
	abort();
}

void *xcheck(void *p, const char *what)
{
	if (!p)
		xoom_abort(what);
	return p;
}

static _Noreturn void oom(size_t n)
{
	char what[64];

	snprintf(what, sizeof(what), "allocating %zu bytes", n);
	xoom_abort(what);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		oom(0);
	return s;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

const char *err_str(int err)
{
	switch (err) {
	case ERR_OK:
		return "ok";
#define COMMON_ERR_CASE(name, val, text) \
	case ERR_##name:                 \
		return text;
		COMMON_ERRNO_MAP(COMMON_ERR_CASE)
#undef COMMON_ERR_CASE
	}
	return "unknown error";
}
