/* log.c - klog-style log lines on stderr. */
#include "common/common.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level;

void log_set_verbosity(int v)
{
	atomic_store(&log_level, v);
}

int log_verbosity(void)
{
	return atomic_load(&log_level);
}

void log_write(enum log_severity sev, const char *file, int line, const char *fmt, ...)
{
	static const char letters[] = { 'I', 'W', 'E' };
	char head[96], msg[2048];
	struct timespec ts;
	struct tm tm;
	const char *base = strrchr(file, '/');
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(head, sizeof(head), "%c%02d%02d %02d:%02d:%02d.%06ld %7ld %s:%d] ",
		 letters[sev], tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 ts.tv_nsec / 1000, (long)syscall(SYS_gettid), base ? base + 1 : file, line);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One write per line so concurrent threads do not interleave. */
	fprintf(stderr, "%s%s\n", head, msg);
}
