/*
 * client.c - what every request to kube-apiserver shares: a pool of curl
 * easy handles (each keeps its connections alive), the TLS material and
 * the bearer token (re-read from its file when it changes).
 *
 * libcurl's GnuTLS backend ignores CURLOPT_CAINFO_BLOB / SSLCERT_BLOB /
 * SSLKEY_BLOB, so PEM bytes from a kubeconfig are written once to 0600
 * files in a private 0700 directory that kube_client_free removes.
 */
#include "kube/kube_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define POOL_MAX 8
#define TOKEN_MAX 16384
#define TOKEN_RECHECK_NS (60 * NS_PER_SEC)
#define CONNECT_TIMEOUT_MS 10000L

struct kube_client {
	char *server;                     /* without a trailing '/' */
	char *ca_file, *cert_file, *key_file;
	char *tmpdir;                     /* materialised PEM blobs, or NULL */
	bool insecure;
	char *token_file;

	pthread_mutex_t lock;             /* guards everything below */
	char *token;                      /* current bearer token or NULL */
	struct timespec token_mtime;
	int64_t token_read_ns;            /* monotonic time of the last read */
	CURL *pool[POOL_MAX];
	size_t npool;
};

/* Writes data to dir/name (0600); the new path, or NULL on error. */
static char *write_private(const char *dir, const char *name, const char *data)
{
	char *path = xasprintf("%s/%s", dir, name);
	size_t len = strlen(data), off = 0;
	ssize_t n;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		goto fail;
	while (off < len) {
		n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			goto fail;
		}
		off += (size_t)n;
	}
	if (close(fd) == 0)
		return path;
fail:
	log_error("cannot write %s: %s", path, strerrorname_np(errno));
	unlink(path);
	free(path);
	return NULL;
}

/* *dst = file, or the blob written to a private file when data is set. */
static int material(struct kube_client *c, const char *name, const char *file, const char *data,
		    char **dst)
{
	if (!data) {
		*dst = file ? xstrdup(file) : NULL;
		return 0;
	}
	if (!c->tmpdir) {
		const char *base = getenv("TMPDIR");
		char *tmpl = xasprintf("%s/kube-client-XXXXXX", base && *base ? base : "/tmp");

		if (!mkdtemp(tmpl)) {
			log_error("mkdtemp %s: %s", tmpl, strerrorname_np(errno));
			free(tmpl);
			return ERR_IO;
		}
		c->tmpdir = tmpl;
	}
	*dst = write_private(c->tmpdir, name, data);
	return *dst ? 0 : ERR_IO;
}

static void remove_material(struct kube_client *c)
{
	const char *names[] = { "ca.crt", "client.crt", "client.key" };
	size_t i;
	char *p;

	if (!c->tmpdir)
		return;
	for (i = 0; i < COMMON_ARRAY_LEN(names); i++) {
		p = xasprintf("%s/%s", c->tmpdir, names[i]);
		unlink(p);
		free(p);
	}
	rmdir(c->tmpdir);
	free(c->tmpdir);
	c->tmpdir = NULL;
}

struct kube_client *kube_client_new(const struct kube_config *cfg)
{
	struct kube_client *c = xcalloc(1, sizeof(*c));
	size_t len;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_mutex_init(&c->lock, NULL);
	c->server = xstrdup(cfg->server ? cfg->server : "");
	len = strlen(c->server);
	while (len && c->server[len - 1] == '/')
		c->server[--len] = '\0';
	c->insecure = cfg->insecure_skip_tls_verify;
	c->token = cfg->token ? xstrdup(cfg->token) : NULL;
	c->token_file = cfg->token_file ? xstrdup(cfg->token_file) : NULL;
	if (material(c, "ca.crt", cfg->ca_file, cfg->ca_data, &c->ca_file) ||
	    material(c, "client.crt", cfg->client_cert_file, cfg->client_cert_data,
		     &c->cert_file) ||
	    material(c, "client.key", cfg->client_key_file, cfg->client_key_data,
		     &c->key_file)) {
		kube_client_free(c);
		return NULL;
	}
	return c;
}

void kube_client_free(struct kube_client *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->npool; i++)
		curl_easy_cleanup(c->pool[i]);
	remove_material(c);
	pthread_mutex_destroy(&c->lock);
	free(c->server);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->token);
	free(c->token_file);
	free(c);
}

CURL *kube__client_handle_get(struct kube_client *c)
{
	CURL *h = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->npool)
		h = c->pool[--c->npool];
	pthread_mutex_unlock(&c->lock);
	if (!h)
		h = xcheck(curl_easy_init(), "curl_easy_init");
	return h;
}

void kube__client_handle_put(struct kube_client *c, CURL *h)
{
	if (!h)
		return;
	curl_easy_reset(h); /* keeps the connection and session caches */
	pthread_mutex_lock(&c->lock);
	if (c->npool < POOL_MAX) {
		c->pool[c->npool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	if (h)
		curl_easy_cleanup(h);
}

/* A token: printable ASCII without spaces, as a header can carry it. */
static char *clean_token(const char *s, size_t len)
{
	size_t i;

	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
		len--;
	if (!len)
		return NULL;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return NULL;
	return xstrndup(s, len);
}

/* Re-reads the token file when its mtime changed or a minute passed.
 * Keeps the last good token when the file cannot be read.  Locked. */
static void refresh_token(struct kube_client *c)
{
	struct dynbuf b;
	struct stat st;
	char *tok;
	int64_t now = clock_mono_ns();

	if (stat(c->token_file, &st) == 0 && c->token &&
	    st.st_mtim.tv_sec == c->token_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == c->token_mtime.tv_nsec && now - c->token_read_ns < TOKEN_RECHECK_NS)
		return;
	dynbuf_init(&b, TOKEN_MAX);
	if (dynbuf_read_file(&b, c->token_file)) {
		log_warn("cannot read token file %s", c->token_file);
	} else if (!(tok = clean_token(b.buf, b.len))) {
		log_warn("token file %s holds no valid token", c->token_file);
	} else {
		free(c->token);
		c->token = tok;
		c->token_mtime = st.st_mtim;
	}
	c->token_read_ns = now;
	dynbuf_clear(&b);
}

/* "Authorization: Bearer <token>", new string, or NULL without token. */
static char *auth_header(struct kube_client *c)
{
	char *h = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->token_file)
		refresh_token(c);
	if (c->token)
		h = xasprintf("Authorization: Bearer %s", c->token);
	pthread_mutex_unlock(&c->lock);
	return h;
}

static void setup_tls(struct kube_client *c, CURL *h)
{
	/* As client-go: a configured CA is the only root trusted.  Naming no
	 * CA path also keeps libcurl's GnuTLS backend from parsing the whole
	 * system directory into every connection (~1.5 MB each). */
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
		curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	} else if (c->ca_file) {
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	}
	if (c->cert_file)
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
	if (c->key_file)
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
}

int kube__client_setup(struct kube_client *c, CURL *h, const char *path, bool with_body,
		      struct curl_slist **hdrs, char *err, size_t errlen)
{
	struct curl_slist *l = NULL;
	char *url, *auth;

	if (path[0] != '/' || strpbrk(path, " \r\n")) {
		snprintf(err, errlen, "invalid request path");
		return ERR_INVAL;
	}
	url = xasprintf("%s%s", c->server, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "metrics-apiserver");
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	setup_tls(c, h);
	l = curl_slist_append(l, "Accept: application/json");
	if (with_body)
		l = curl_slist_append(l, "Content-Type: application/json");
	auth = auth_header(c);
	if (auth) {
		l = curl_slist_append(l, auth);
		free(auth);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
	*hdrs = l;
	return 0;
}
