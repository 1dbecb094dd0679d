/*
 * audit_sink.c - where audit events go: --audit-log-path ("-" is stdout),
 * created as the apiserver's ensureLogFile does (its folder 0700, the file
 * 0600, appended to), and rotated as lumberjack (which the apiserver uses)
 * does when --audit-log-maxsize (MiB) is set: a line that would pass the
 * size moves the file to <name>-<UTC time 2006-01-02T15-04-05.000><.ext>
 * and starts a new one; then only the newest --audit-log-maxbackup backups
 * younger than --audit-log-maxage days are kept (0: no limit).
 * --audit-log-compress is not supported (no gzip here): backups stay plain
 * (start-up names it among the flags without effect).  Writes are serialised by a mutex; a failing
 * write is logged once until writes work again.
 */
#include "server/audit_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SINK_MAX_BACKUPS_SCANNED 4096

struct server__audit_sink {
	pthread_mutex_t mu;
	int fd;                          /* -1: closed */
	bool stdout_sink;
	char *path, *dir, *stem, *ext;   /* path = dir/stem ext */
	int64_t max_bytes;               /* 0: no rotation */
	int max_backups, max_age_days;
	int64_t size;
	bool failing;                    /* a failure was logged */
};

/* Go's os.PathError text: "open PATH: permission denied". */
static void path_error(char *err, size_t errlen, const char *op, const char *path, int e)
{
	char msg[128];

	err_sys(e, msg, sizeof(msg));
	if (msg[0] >= 'A' && msg[0] <= 'Z')
		msg[0] = (char)(msg[0] - 'A' + 'a');
	snprintf(err, errlen, "ensureLogFile: %s %s: %s", op, path, msg);
}

static int mkdir_all(const char *dir)
{
	char tmp[4096];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(tmp))
		return len == 0 ? 0 : -1;
	memcpy(tmp, dir, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static int open_log(struct server__audit_sink *s)
{
	struct stat st;

	s->fd = open(s->path, O_CREAT | O_APPEND | O_WRONLY | O_CLOEXEC, 0600);
	if (s->fd < 0)
		return -1;
	s->size = fstat(s->fd, &st) == 0 ? (int64_t)st.st_size : 0;
	return 0;
}

struct server__audit_sink *server__audit_sink_open(const struct server_audit_flags *f, char *err,
						   size_t errlen)
{
	struct server__audit_sink *s = xcalloc(1, sizeof(*s));
	char *copy, *base, *dot;

	pthread_mutex_init(&s->mu, NULL);
	s->fd = -1;
	if (strcmp(f->log_path, "-") == 0) {
		s->stdout_sink = true;
		s->fd = STDOUT_FILENO;
		return s;
	}
	s->path = xstrdup(f->log_path);
	copy = xstrdup(f->log_path);
	s->dir = xstrdup(dirname(copy));
	free(copy);
	copy = xstrdup(f->log_path);
	base = basename(copy);
	dot = strrchr(base, '.');
	s->ext = xstrdup(dot ? dot : "");
	s->stem = xstrndup(base, dot ? (size_t)(dot - base) : strlen(base));
	free(copy);
	s->max_bytes = (int64_t)f->log_maxsize * 1024 * 1024;
	s->max_backups = f->log_maxbackup;
	s->max_age_days = f->log_maxage;
	if (mkdir_all(s->dir) != 0) {
		path_error(err, errlen, "mkdir", s->dir, errno);
		server__audit_sink_close(s);
		return NULL;
	}
	if (open_log(s) != 0) {
		path_error(err, errlen, "open", s->path, errno);
		server__audit_sink_close(s);
		return NULL;
	}
	return s;
}

void server__audit_sink_close(struct server__audit_sink *s)
{
	if (!s)
		return;
	if (s->fd >= 0 && !s->stdout_sink)
		close(s->fd);
	pthread_mutex_destroy(&s->mu);
	free(s->path);
	free(s->dir);
	free(s->stem);
	free(s->ext);
	free(s);
}

/* ---- rotation ------------------------------------------------------------------ */

/* The backup time of a file name "<stem>-<time><ext>", or -1. */
static int64_t backup_time(const struct server__audit_sink *s, const char *name)
{
	size_t ls = strlen(s->stem), le = strlen(s->ext), n = strlen(name);
	char stamp[32];
	int64_t ns;

	if (n <= ls + 1 + le || strncmp(name, s->stem, ls) != 0 || name[ls] != '-' ||
	    strcmp(name + n - le, s->ext) != 0 || n - le - ls - 1 != 23)
		return -1;
	/* 2006-01-02T15-04-05.000 -> RFC 3339 */
	memcpy(stamp, name + ls + 1, 23);
	stamp[13] = ':';
	stamp[16] = ':';
	memcpy(stamp + 23, "Z", 2);
	return parse_rfc3339(stamp, &ns) == 0 ? ns : -1;
}

struct backup {
	char *name;
	int64_t t;
};

static int newest_first(const void *a, const void *b)
{
	const struct backup *x = a, *y = b;

	return x->t < y->t ? 1 : x->t > y->t ? -1 : 0;
}

/* millRunOnce: removes the backups past --audit-log-maxbackup and those
 * older than --audit-log-maxage days. */
static void remove_old_backups(struct server__audit_sink *s, int64_t now_ns)
{
	struct backup *b = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	if (s->max_backups <= 0 && s->max_age_days <= 0)
		return;
	d = opendir(s->dir);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL && n < SINK_MAX_BACKUPS_SCANNED) {
		int64_t t = backup_time(s, de->d_name);

		if (t < 0)
			continue;
		b = xrealloc(b, (n + 1) * sizeof(*b));
		b[n].name = xstrdup(de->d_name);
		b[n++].t = t;
	}
	closedir(d);
	if (n)
		qsort(b, n, sizeof(*b), newest_first);
	for (size_t i = 0; i < n; i++) {
		bool too_many = s->max_backups > 0 && i >= (size_t)s->max_backups;
		bool too_old = s->max_age_days > 0 &&
			       b[i].t < now_ns - (int64_t)s->max_age_days * 86400 * NS_PER_SEC;

		if (too_many || too_old) {
			char *p = xasprintf("%s/%s", s->dir, b[i].name);

			if (unlink(p) != 0)
				log_error("\"Failed to remove an old audit log backup\" file=\"%s\" "
					  "err=\"%s\"", p, COMMON_SYSERR(errno));
			free(p);
		}
		free(b[i].name);
	}
	free(b);
}

static int rotate(struct server__audit_sink *s)
{
	int64_t now = clock_now_ns();
	time_t secs = (time_t)(now / NS_PER_SEC);
	struct tm tm;
	char *backup;
	int rc;

	gmtime_r(&secs, &tm);
	backup = xasprintf("%s/%s-%04d-%02d-%02dT%02d-%02d-%02d.%03d%s", s->dir, s->stem,
			   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			   tm.tm_sec, (int)(now % NS_PER_SEC / NS_PER_MS), s->ext);
	close(s->fd);
	s->fd = -1;
	rc = rename(s->path, backup);
	free(backup);
	if (rc != 0 || open_log(s) != 0)
		return -1;
	remove_old_backups(s, now);
	return 0;
}

bool server__audit_sink_write(struct server__audit_sink *s, const char *line, size_t len)
{
	char err[256] = "";
	bool ok = false;

	pthread_mutex_lock(&s->mu);
	if (s->max_bytes > 0 && (int64_t)len > s->max_bytes)
		snprintf(err, sizeof(err), "write length %zu exceeds maximum file size %lld", len,
			 (long long)s->max_bytes);
	else if (s->max_bytes > 0 && s->size + (int64_t)len > s->max_bytes && rotate(s) != 0)
		snprintf(err, sizeof(err), "can't rotate log file: %s", COMMON_SYSERR(errno));
	else if (s->fd < 0 && open_log(s) != 0)
		snprintf(err, sizeof(err), "open %s: %s", s->path, COMMON_SYSERR(errno));
	else if (write(s->fd, line, len) != (ssize_t)len)
		snprintf(err, sizeof(err), "write %s: %s", s->path ? s->path : "/dev/stdout",
			 COMMON_SYSERR(errno));
	else
		ok = true;
	if (ok)
		s->size += (int64_t)len;
	if (!ok && !s->failing)
		log_error("\"Error in audit plugin 'log' affecting 1 audit events\" err=\"%s\"", err);
	else if (ok && s->failing)
		log_info("\"Audit plugin 'log' writes again\"");
	s->failing = !ok;
	pthread_mutex_unlock(&s->mu);
	return ok;
}
