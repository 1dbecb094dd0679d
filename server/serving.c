/*
 * serving.c - the serving certificate chains and keys: the default pair
 * (--tls-cert-file / --tls-private-key-file, or the self-signed one) and
 * the --tls-sni-cert-key pairs, each reloaded when its files change (as
 * the Go apiserver's DynamicServingCertificateController).  GnuTLS asks
 * for a pair on each handshake (http.c's retrieve callback), the client's
 * server name choosing which (serving_sni.c), so new connections get the
 * newest pairs; a pair stays alive while any connection that took it is
 * open, since GnuTLS keeps pointers into it.  A pair that does not load
 * (half-written files, a key not matching the certificate) is logged and
 * the previous one kept; at start it is an error.
 *
 * Also the daemon's per-connection state (server__conn): announced before
 * its handshake, it becomes the TLS session's user pointer, so the GnuTLS
 * retrieve callback finds where to pin the pair it hands out.
 */
#include "server/authn_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/flags_table.h"

#define SERVING_MAX_CHAIN 16

struct server__serving_pair {
	atomic_uint refs;
	gnutls_pcert_st pcert[SERVING_MAX_CHAIN];
	unsigned int n;
	gnutls_privkey_t key;
};

/* One certificate/key file pair: the default one or an SNI one. */
struct serving_source {
	const char *purpose;              /* "serving-cert", "sni-serving-cert" */
	char *cert_file, *key_file;       /* NULL: from memory, never reloaded */
	struct server__file_sig cert_sig, key_sig;
	struct server_strlist names;      /* SNI: the names given, n = 0: the cert's */
	struct server__serving_pair *cur; /* under mu */
};

struct server__serving {
	pthread_mutex_t mu;         /* every source's cur, sni */
	struct serving_source *src; /* [0]: the default pair; then the SNI ones */
	size_t nsrc;
	struct server__sni *sni;    /* NULL without SNI pairs */
	pthread_mutex_t reload_mu;  /* the files' signatures */
};

static void pair_free(struct server__serving_pair *p)
{
	for (unsigned int i = 0; i < p->n; i++)
		gnutls_pcert_deinit(&p->pcert[i]);
	if (p->key)
		gnutls_privkey_deinit(p->key);
	free(p);
}

void server__serving_release(struct server__serving_pair *p)
{
	if (p && atomic_fetch_sub(&p->refs, 1) == 1)
		pair_free(p);
}

/* Whether key is the private half of the leaf's public key. */
static bool key_matches(gnutls_pubkey_t leaf, gnutls_privkey_t key)
{
	unsigned char a[64], b[64];
	size_t alen = sizeof(a), blen = sizeof(b);
	gnutls_pubkey_t pub;
	bool same = false;

	if (gnutls_pubkey_init(&pub) < 0)
		return false;
	if (gnutls_pubkey_import_privkey(pub, key, 0, 0) >= 0 &&
	    gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, a, &alen) >= 0 &&
	    gnutls_pubkey_get_key_id(leaf, GNUTLS_KEYID_USE_SHA256, b, &blen) >= 0)
		same = alen == blen && memcmp(a, b, alen) == 0;
	gnutls_pubkey_deinit(pub);
	return same;
}

static struct server__serving_pair *pair_load(const char *cert_pem, const char *key_pem,
					      char *err, size_t errlen)
{
	struct server__serving_pair *p = xcalloc(1, sizeof(*p));
	gnutls_datum_t crt = { (unsigned char *)cert_pem, (unsigned int)strlen(cert_pem) };
	gnutls_datum_t key = { (unsigned char *)key_pem, (unsigned int)strlen(key_pem) };
	int rc;

	atomic_init(&p->refs, 1);
	p->n = SERVING_MAX_CHAIN;
	rc = gnutls_pcert_list_import_x509_raw(p->pcert, &p->n, &crt, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0 || p->n == 0) {
		p->n = 0;
		snprintf(err, errlen, "tls: failed to find any PEM data in certificate input");
		goto fail;
	}
	if (gnutls_privkey_init(&p->key) < 0 ||
	    gnutls_privkey_import_x509_raw(p->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0) < 0) {
		snprintf(err, errlen, "tls: failed to find any PEM data in key input");
		goto fail;
	}
	if (!key_matches(p->pcert[0].pubkey, p->key)) {
		snprintf(err, errlen, "tls: private key does not match public key");
		goto fail;
	}
	return p;
fail:
	pair_free(p);
	return NULL;
}

/* os.ReadFile's errors as Go words them ("open F: no such file or
 * directory"); NULL then. */
static char *read_small(const char *path, char *err, size_t errlen)
{
	struct dynbuf b;
	char sys[128];
	size_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0) {
		err_sys(errno, sys, sizeof(sys));
		sys[0] = (char)tolower((unsigned char)sys[0]);
		snprintf(err, errlen, "open %s: %s", path, sys);
		return NULL;
	}
	dynbuf_init(&b, DYN_CONFIG_FILE);
	errno = 0;
	rc = dynbuf_read_fd(&b, fd);
	if (rc != 0) {
		err_sys(rc == ERR_TOOBIG ? EFBIG : errno, sys, sizeof(sys));
		sys[0] = (char)tolower((unsigned char)sys[0]);
		snprintf(err, errlen, "read %s: %s", path, sys);
	}
	close(fd);
	if (rc != 0) {
		dynbuf_clear(&b);
		return NULL;
	}
	return dynbuf_take(&b, &len);
}

static void free_key_pem(char *key)
{
	if (key) {
		memset(key, 0, strlen(key));
		free(key);
	}
}

/* The pair in src's files (DynamicCertKeyPairContent.loadCertKeyPair);
 * NULL with Go's text in err. */
static struct server__serving_pair *source_load(const struct serving_source *src, char *err,
						size_t errlen)
{
	struct server__serving_pair *p = NULL;
	char *crt = read_small(src->cert_file, err, errlen);
	char *key = crt ? read_small(src->key_file, err, errlen) : NULL;

	if (key && (!*crt || !*key))
		snprintf(err, errlen, "missing content for serving cert \"%s::%s::%s\"",
			 src->purpose, src->cert_file, src->key_file);
	else if (key)
		p = pair_load(crt, key, err, errlen);
	free(crt);
	free_key_pem(key);
	return p;
}

/* The name table of the SNI pairs, pair i being cur[i] (or its source's
 * current pair where cur[i] is NULL). */
static struct server__sni *sni_build(const struct server__serving *s,
				     struct server__serving_pair *const *cur)
{
	struct server__sni *t = server__sni_new();

	for (size_t i = 1; i < s->nsrc; i++) {
		const struct serving_source *src = &s->src[i];
		struct server__serving_pair *p = cur && cur[i] ? cur[i] : src->cur;
		struct server_strlist found = { NULL, 0 };
		const struct server_strlist *names = &src->names;
		struct dynbuf shown;
		size_t len;
		char *text;

		if (names->n == 0) {
			(void)server__sni_cert_names(&p->pcert[0].cert, &found);
			names = &found;
		}
		dynbuf_init(&shown, 4096);
		for (size_t j = 0; j < names->n; j++) {
			server__sni_add(t, names->items[j], i, names == &src->names);
			if (dynbuf_printf(&shown, "%s%s", j ? "," : "", names->items[j]) != 0)
				break; /* the log line only */
		}
		text = dynbuf_take(&shown, &len);
		log_v(2, "\"Loaded SNI cert\" index=%zu certName=\"%s::%s::%s\" names=\"%s\" "
			 "explicit=%s", i - 1, src->purpose, src->cert_file, src->key_file, text,
		      names == &src->names ? "true" : "false");
		free(text);
		for (size_t j = 0; j < found.n; j++)
			free(found.items[j]);
		free(found.items);
	}
	return t;
}

/* The SNI pairs of --tls-sni-cert-key, loaded into s->src[1...]. */
static int sni_load(struct server__serving *s, const struct server_strlist *sni, char *err,
		    size_t errlen)
{
	char why[512];

	for (size_t i = 0; i < sni->n; i++) {
		struct serving_source *src = &s->src[1 + i];
		struct server__certkey ck;

		/* the flag parser already checked the syntax */
		if (server__certkey_split(sni->items[i], &ck, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "failed to load SNI cert and key: %s", why);
			return ERR_INVAL;
		}
		src->purpose = "sni-serving-cert";
		src->cert_file = ck.cert_file;
		src->key_file = ck.key_file;
		src->names = ck.names;
		s->nsrc++;
		if (!*src->cert_file || !*src->key_file) {
			snprintf(err, errlen, "failed to load SNI cert and key: missing filename "
					      "for serving cert");
			return ERR_INVAL;
		}
		(void)server__file_changed(src->cert_file, &src->cert_sig);
		(void)server__file_changed(src->key_file, &src->key_sig);
		src->cur = source_load(src, why, sizeof(why));
		if (!src->cur) {
			snprintf(err, errlen, "failed to load SNI cert and key: %s", why);
			return ERR_INVAL;
		}
	}
	if (sni->n > 0)
		s->sni = sni_build(s, NULL);
	return 0;
}

struct server__serving *server__serving_new(const char *cert_pem, const char *key_pem,
					    const char *cert_file, const char *key_file,
					    const struct server_strlist *sni, char *err,
					    size_t errlen)
{
	struct server__serving *s;
	struct server__serving_pair *p = pair_load(cert_pem, key_pem, err, errlen);
	size_t nsni = sni ? sni->n : 0;

	if (!p)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->reload_mu, NULL);
	s->src = xcalloc(1 + nsni, sizeof(*s->src));
	s->nsrc = 1;
	s->src[0].purpose = "serving-cert";
	s->src[0].cur = p;
	if (cert_file && *cert_file && key_file && *key_file) {
		s->src[0].cert_file = xstrdup(cert_file);
		s->src[0].key_file = xstrdup(key_file);
		(void)server__file_changed(cert_file, &s->src[0].cert_sig);
		(void)server__file_changed(key_file, &s->src[0].key_sig);
	}
	if (nsni > 0 && sni_load(s, sni, err, errlen) != 0) {
		server__serving_free(s);
		return NULL;
	}
	return s;
}

void server__serving_free(struct server__serving *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nsrc; i++) {
		struct server__certkey ck = { s->src[i].cert_file, s->src[i].key_file,
					      s->src[i].names };

		server__serving_release(s->src[i].cur);
		server__certkey_clear(&ck);
	}
	server__sni_free(s->sni);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->reload_mu);
	free(s->src);
	free(s);
}

/* The pair of slot, with a new reference. */
static struct server__serving_pair *acquire_slot(struct server__serving *s,
						 const struct server__sni_ask *ask)
{
	struct server__serving_pair *p;

	pthread_mutex_lock(&s->mu);
	p = s->src[s->sni && ask ? server__sni_pick(s->sni, ask) : 0].cur;
	atomic_fetch_add(&p->refs, 1);
	pthread_mutex_unlock(&s->mu);
	return p;
}

struct server__serving_pair *server__serving_acquire(struct server__serving *s)
{
	return acquire_slot(s, NULL);
}

void server__serving_get(struct server__serving_pair *p, gnutls_pcert_st **pcert,
			 unsigned int *n, gnutls_privkey_t *key)
{
	*pcert = p->pcert;
	*n = p->n;
	*key = p->key;
}

/* src's pair again when either file changed (both stats, always: each
 * signature must follow its file); NULL when unchanged or unusable (then
 * logged, tried again at the next change of either file). */
static struct server__serving_pair *source_reload(struct serving_source *src)
{
	struct server__serving_pair *p;
	char err[512] = "";
	bool c1 = server__file_changed(src->cert_file, &src->cert_sig);
	bool c2 = server__file_changed(src->key_file, &src->key_sig);

	if (!c1 && !c2)
		return NULL;
	p = source_load(src, err, sizeof(err));
	if (!p)
		log_error("\"Failed to load the serving certificate/key pair; keeping the "
			  "previous one\" name=\"%s::%s::%s\" err=\"%s\"", src->purpose,
			  src->cert_file, src->key_file, err);
	return p;
}

bool server__serving_reload(struct server__serving *s)
{
	struct server__serving_pair **fresh = xcalloc(s->nsrc, sizeof(*fresh));
	struct server__sni *sni = NULL;
	bool any = false, sni_changed = false;

	pthread_mutex_lock(&s->reload_mu);
	for (size_t i = 0; i < s->nsrc; i++) {
		if (!s->src[i].cert_file || !(fresh[i] = source_reload(&s->src[i])))
			continue;
		any = true;
		sni_changed |= i > 0;
	}
	/* a certificate's names may have changed with it */
	if (sni_changed)
		sni = sni_build(s, fresh);
	if (any) {
		pthread_mutex_lock(&s->mu);
		for (size_t i = 0; i < s->nsrc; i++) {
			struct server__serving_pair *old = s->src[i].cur;

			if (fresh[i]) {
				s->src[i].cur = fresh[i];
				fresh[i] = old; /* released below */
			}
		}
		if (sni) {
			struct server__sni *old = s->sni;

			s->sni = sni;
			sni = old;
		}
		pthread_mutex_unlock(&s->mu);
	}
	for (size_t i = 0; i < s->nsrc; i++) {
		if (!fresh[i])
			continue;
		server__serving_release(fresh[i]);
		log_info("\"Loaded a new cert/key pair\" name=\"%s::%s::%s\"", s->src[i].purpose,
			 s->src[i].cert_file, s->src[i].key_file);
	}
	pthread_mutex_unlock(&s->reload_mu);
	server__sni_free(sni);
	free(fresh);
	return any;
}

/* ---- connections ---------------------------------------------------------------------- */

struct server__conn {
	struct server__serving *serving;
	struct server_authn_conn *authn;
	struct server__serving_pair *pair; /* pinned by its handshake */
	int fd;                            /* its socket (the local address) */
};

struct server__conn *server__conn_new(struct server__serving *s, gnutls_session_t session,
				      int fd)
{
	struct server__conn *c = xcalloc(1, sizeof(*c));

	c->serving = s;
	c->authn = server_authn_conn_new();
	c->fd = fd;
	if (session) {
		gnutls_session_set_ptr(session, c);
		/* no CA names: clients send their certificate whatever signed it */
		gnutls_certificate_send_x509_rdn_sequence(session, 1);
	}
	return c;
}

void server__conn_free(struct server__conn *c)
{
	if (!c)
		return;
	server_authn_conn_free(c->authn);
	server__serving_release(c->pair);
	free(c);
}

struct server_authn_conn *server__conn_authn(const struct server__conn *c)
{
	return c->authn;
}

int server__serving_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn,
			     int nreqs, const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
			     gnutls_pcert_st **pcert, unsigned int *pcert_length,
			     gnutls_privkey_t *pkey)
{
	struct server__conn *c = gnutls_session_get_ptr(session);
	struct server__serving_pair *p;
	struct server__sni_ask ask;

	(void)req_ca_rdn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (!c)
		return -1;
	/* the SNI pairs are fixed at start: no lock needed to know there are some */
	if (c->serving->nsrc > 1)
		server__sni_ask(session, c->fd, &ask);
	p = acquire_slot(c->serving, c->serving->nsrc > 1 ? &ask : NULL);
	server__serving_release(c->pair); /* a renegotiation re-pins */
	c->pair = p;
	server__serving_get(p, pcert, pcert_length, pkey);
	return 0;
}
