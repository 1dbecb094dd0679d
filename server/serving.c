/*
 * serving.c - the serving certificate chain and key, reloaded when
 * --tls-cert-file / --tls-private-key-file change (as the Go apiserver's
 * DynamicServingCertificateController).  GnuTLS asks for the pair on each
 * handshake (http.c's retrieve callback), so new connections get the
 * newest pair; a pair stays alive while any connection that took it is
 * open, since GnuTLS keeps pointers into it.  A pair that does not load
 * (half-written files, a key not matching the certificate) is logged and
 * the previous one kept.
 *
 * Also the daemon's per-connection state (server__conn): announced before
 * its handshake, it becomes the TLS session's user pointer, so the GnuTLS
 * retrieve callback finds where to pin the pair it hands out.
 */
#include "server/authn_int.h"

#include <gnutls/abstract.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVING_MAX_CHAIN 16

struct server__serving_pair {
	atomic_uint refs;
	gnutls_pcert_st pcert[SERVING_MAX_CHAIN];
	unsigned int n;
	gnutls_privkey_t key;
};

struct server__serving {
	pthread_mutex_t mu;         /* cur */
	struct server__serving_pair *cur;
	pthread_mutex_t reload_mu;  /* the files' signatures */
	char *cert_file, *key_file;
	struct server__file_sig cert_sig, key_sig;
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

struct server__serving *server__serving_new(const char *cert_pem, const char *key_pem,
					    const char *cert_file, const char *key_file,
					    char *err, size_t errlen)
{
	struct server__serving *s;
	struct server__serving_pair *p = pair_load(cert_pem, key_pem, err, errlen);

	if (!p)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->reload_mu, NULL);
	s->cur = p;
	if (cert_file && *cert_file && key_file && *key_file) {
		s->cert_file = xstrdup(cert_file);
		s->key_file = xstrdup(key_file);
		(void)server__file_changed(cert_file, &s->cert_sig);
		(void)server__file_changed(key_file, &s->key_sig);
	}
	return s;
}

void server__serving_free(struct server__serving *s)
{
	if (!s)
		return;
	server__serving_release(s->cur);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->reload_mu);
	free(s->cert_file);
	free(s->key_file);
	free(s);
}

struct server__serving_pair *server__serving_acquire(struct server__serving *s)
{
	struct server__serving_pair *p;

	pthread_mutex_lock(&s->mu);
	p = s->cur;
	atomic_fetch_add(&p->refs, 1);
	pthread_mutex_unlock(&s->mu);
	return p;
}

void server__serving_get(struct server__serving_pair *p, gnutls_pcert_st **pcert,
			 unsigned int *n, gnutls_privkey_t *key)
{
	*pcert = p->pcert;
	*n = p->n;
	*key = p->key;
}

static char *read_small(const char *path)
{
	struct dynbuf b;
	size_t len;

	dynbuf_init(&b, DYN_CONFIG_FILE);
	if (dynbuf_read_file(&b, path) != 0 || b.len == 0) {
		dynbuf_clear(&b);
		return NULL;
	}
	return dynbuf_take(&b, &len);
}

bool server__serving_reload(struct server__serving *s)
{
	struct server__serving_pair *p = NULL, *old;
	char *crt = NULL, *key = NULL, err[256] = "";
	bool c1, c2;

	if (!s->cert_file)
		return false;
	pthread_mutex_lock(&s->reload_mu);
	/* both stats, always: each signature must follow its file */
	c1 = server__file_changed(s->cert_file, &s->cert_sig);
	c2 = server__file_changed(s->key_file, &s->key_sig);
	if (c1 || c2) {
		crt = read_small(s->cert_file);
		key = crt ? read_small(s->key_file) : NULL;
		if (!key)
			snprintf(err, sizeof(err), "unable to read %s or %s", s->cert_file,
				 s->key_file);
		else
			p = pair_load(crt, key, err, sizeof(err));
		if (!p) {
			/* tried again at the next change of either file */
			log_error("\"Failed to load the serving certificate/key pair; keeping the "
				  "previous one\" certFile=\"%s\" keyFile=\"%s\" err=\"%s\"",
				  s->cert_file, s->key_file, err);
		}
	}
	if (p) {
		pthread_mutex_lock(&s->mu);
		old = s->cur;
		s->cur = p;
		pthread_mutex_unlock(&s->mu);
		server__serving_release(old);
		log_info("\"Loaded a new cert/key pair\" name=\"serving-cert::%s::%s\"",
			 s->cert_file, s->key_file);
	}
	pthread_mutex_unlock(&s->reload_mu);
	free(crt);
	if (key) {
		memset(key, 0, strlen(key));
		free(key);
	}
	return p != NULL;
}

/* ---- connections ---------------------------------------------------------------------- */

struct server__conn {
	struct server__serving *serving;
	struct server_authn_conn *authn;
	struct server__serving_pair *pair; /* pinned by its handshake */
};

struct server__conn *server__conn_new(struct server__serving *s, gnutls_session_t session)
{
	struct server__conn *c = xcalloc(1, sizeof(*c));

	c->serving = s;
	c->authn = server_authn_conn_new();
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

	(void)req_ca_rdn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (!c)
		return -1;
	p = server__serving_acquire(c->serving);
	server__serving_release(c->pair); /* a renegotiation re-pins */
	c->pair = p;
	server__serving_get(p, pcert, pcert_length, pkey);
	return 0;
}
