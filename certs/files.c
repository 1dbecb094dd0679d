/* files.c - writing PEM files safely; metrics-server's self-signed default. */
#include "certs/certs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int certs_write_file(const char *path, const char *pem, mode_t mode)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	size_t len = strlen(pem), off = 0;
	int fd, rc = ERR_OK;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		free(tmp);
		return ERR_IO;
	}
	while (off < len) {
		ssize_t n = write(fd, pem + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = ERR_IO;
			break;
		}
		off += (size_t)n;
	}
	/* open() honours the umask; the mode we promise is exact. */
	if (fchmod(fd, mode) != 0 || fsync(fd) != 0)
		rc = ERR_IO;
	if (close(fd) != 0)
		rc = ERR_IO;
	if (rc == ERR_OK && rename(tmp, path) != 0)
		rc = ERR_IO;
	if (rc != ERR_OK)
		unlink(tmp);
	free(tmp);
	return rc;
}

static int mkdir_p(const char *dir)
{
	char *p = xstrdup(dir), *s;
	int rc = 0;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (rc == 0 && mkdir(p, 0700) != 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

int certs_ensure_self_signed(const char *dir, char **cert_path, char **key_path, char *err,
			     size_t errlen)
{
	static const char *const dns[] = { "localhost" };
	static const char *const ips[] = { "127.0.0.1" };
	struct certs_spec spec = {
		.cn = "localhost@metrics-apiserver",
		.dns = dns, .ndns = 1, .ips = ips, .nips = 1,
		.server_auth = true, .days = 365,
	};
	struct certs_pair pair = { 0 };
	char *crt = xasprintf("%s/apiserver.crt", dir);
	char *key = xasprintf("%s/apiserver.key", dir);
	int rc;

	if (access(crt, R_OK) == 0 && access(key, R_OK) == 0)
		goto done;
	if (mkdir_p(dir) != 0) {
		snprintf(err, errlen, "cannot create cert dir %s: %s", dir, COMMON_SYSERR(errno));
		rc = ERR_IO;
		goto fail;
	}
	rc = certs_create(&spec, NULL, &pair, err, errlen);
	if (rc != ERR_OK)
		goto fail;
	if (certs_write_file(crt, pair.cert_pem, 0644) != ERR_OK ||
	    certs_write_file(key, pair.key_pem, 0600) != ERR_OK) {
		snprintf(err, errlen, "cannot write %s / %s", crt, key);
		rc = ERR_IO;
		certs_pair_clear(&pair);
		goto fail;
	}
	certs_pair_clear(&pair);
	log_info("Generated self-signed cert (%s, %s)", crt, key);
done:
	*cert_path = crt;
	*key_path = key;
	return ERR_OK;
fail:
	free(crt);
	free(key);
	return rc;
}
