/* syserr.c - the C library's text for an errno value, thread-safe. */
#include "common/common.h"

#include <stdio.h>
#include <string.h>

const char *err_sys(int e, char *buf, size_t len)
{
	/* GNU strerror_r (we build with _GNU_SOURCE) may return a static
	 * string instead of filling buf: copy it so the caller owns the text. */
	const char *s = strerror_r(e, buf, len);

	if (s != buf && len)
		snprintf(buf, len, "%s", s);
	return buf;
}
