/* log.c - klog-style (or JSON, logjson.c) log lines on stderr; -v and --vmodule. */
#include "common/common.h"

#include <fnmatch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level;
/* max(log_level, every vmodule level): log_v's one-load fast test. */
static atomic_int log_gate;
static atomic_int log_format = LOG_FORMAT_TEXT;
static _Atomic(FILE *) log_stream;

/*
 * --vmodule as klog's VState: the patterns in order; a file's level is
 * looked up once and remembered by its __FILE__ pointer (klog remembers
 * it by program counter).  Everything below is under vm_lock, as klog's
 * is under its mutex; log_v gets here only past the gate.
 */
struct vm_pat {
	char *pat;
	int level;
};
struct vm_seen {
	const char *file;
	int level;
};
#define VM_SEEN_MAX 256
static pthread_mutex_t vm_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vm_pat *vm_pats;
static size_t vm_n, vm_cap;
static int vm_max;
static struct vm_seen vm_seen[VM_SEEN_MAX];
static size_t vm_nseen;

static void gate_update(void) /* under vm_lock */
{
	int v = atomic_load(&log_level);

	atomic_store(&log_gate, v > vm_max ? v : vm_max);
}

void log_set_verbosity(int v)
{
	pthread_mutex_lock(&vm_lock);
	atomic_store(&log_level, v);
	gate_update();
	pthread_mutex_unlock(&vm_lock);
}

int log_verbosity(void)
{
	return atomic_load(&log_level);
}

int log_v_gate(void)
{
	return atomic_load_explicit(&log_gate, memory_order_relaxed);
}

void log_set_format(enum log_format f)
{
	atomic_store(&log_format, (int)f);
}

void log_set_stream(FILE *f)
{
	atomic_store(&log_stream, f);
}

void log_vmodule_add(const char *pattern, size_t patlen, int level)
{
	if (level <= 0) /* klog's parseFilter: "no point in paying the overhead" */
		return;
	pthread_mutex_lock(&vm_lock);
	if (vm_n == vm_cap) {
		vm_cap = vm_cap ? 2 * vm_cap : 8;
		vm_pats = xrealloc(vm_pats, vm_cap * sizeof(*vm_pats));
	}
	vm_pats[vm_n].pat = xstrndup(pattern, patlen);
	vm_pats[vm_n++].level = level;
	if (level > vm_max)
		vm_max = level;
	vm_nseen = 0;
	gate_update();
	pthread_mutex_unlock(&vm_lock);
}

void log_vmodule_clear(void)
{
	pthread_mutex_lock(&vm_lock);
	for (size_t i = 0; i < vm_n; i++)
		free(vm_pats[i].pat);
	free(vm_pats);
	vm_pats = NULL;
	vm_n = vm_cap = 0;
	vm_max = 0;
	vm_nseen = 0;
	gate_update();
	pthread_mutex_unlock(&vm_lock);
}

/* filepath.Match: '*' and '?' never match '/', hence FNM_PATHNAME; a
 * malformed pattern matches nothing there, and fnmatch says no too. */
static bool vm_match(const char *pat, const char *s)
{
	return fnmatch(pat, s, FNM_PATHNAME) == 0;
}

/* klog's setV: the first pattern matching the base name or the full
 * name (both without the extension, klog trims ".go") gives the level. */
static int vm_level_of(const char *file) /* under vm_lock */
{
	char full[512];
	const char *slash, *dot;
	size_t n = strlen(file);

	slash = strrchr(file, '/');
	dot = strrchr(slash ? slash : file, '.');
	if (dot)
		n = (size_t)(dot - file);
	if (n >= sizeof(full))
		return 0;
	memcpy(full, file, n);
	full[n] = '\0';
	for (size_t i = 0; i < vm_n; i++)
		if (vm_match(vm_pats[i].pat, full + (slash ? slash + 1 - file : 0)) ||
		    vm_match(vm_pats[i].pat, full))
			return vm_pats[i].level;
	return 0;
}

bool log_v_enabled(const char *file, int v)
{
	int level = -1;

	if (atomic_load(&log_level) >= v)
		return true;
	pthread_mutex_lock(&vm_lock);
	for (size_t i = 0; i < vm_nseen; i++)
		if (vm_seen[i].file == file) {
			level = vm_seen[i].level;
			break;
		}
	if (level < 0) {
		level = vm_level_of(file);
		if (vm_nseen < VM_SEEN_MAX)
			vm_seen[vm_nseen++] = (struct vm_seen){ file, level };
	}
	pthread_mutex_unlock(&vm_lock);
	return level >= v;
}

void log_write(enum log_severity sev, int v, const char *file, int line, const char *fmt, ...)
{
	static const char letters[] = { 'I', 'W', 'E' };
	char head[96], msg[2048];
	struct timespec ts;
	struct tm tm;
	const char *base = strrchr(file, '/');
	FILE *out = atomic_load(&log_stream);
	va_list ap;

	if (!out)
		out = stderr;
	clock_gettime(CLOCK_REALTIME, &ts);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (atomic_load(&log_format) == LOG_FORMAT_JSON) {
		char *j = log_json_line(sev, v, file, line,
					(int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec, msg);

		fprintf(out, "%s\n", j);
		free(j);
		return;
	}
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(head, sizeof(head), "%c%02d%02d %02d:%02d:%02d.%06ld %7ld %s:%d] ",
		 letters[sev], tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 ts.tv_nsec / 1000, (long)syscall(SYS_gettid), base ? base + 1 : file, line);
	/* One write per line so concurrent threads do not interleave. */
	fprintf(out, "%s%s\n", head, msg);
}
