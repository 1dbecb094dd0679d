/*
 * authn_int.h - private to server/: what authn.c, authn_trust.c,
 * authn_token.c, serving.c, serving_sni.c and reload.c share.
 *
 *   authn.c        the chain, users, connections' kept certificate verdicts
 *   reload.c       file change signatures and the periodic ticker thread
 *   authn_trust.c  the trust sets (CA bundles, request-header settings)
 *                  from the flags' files or the ConfigMap, published as
 *                  immutable reference-counted snapshots
 *   authn_token.c  bearer tokens: TokenReview with a cache
 *   serving.c      the serving certificate/key pairs (the default one and
 *                  --tls-sni-cert-key's), reloaded from their files
 *   serving_sni.c  which of them a handshake gets (server names)
 *   workers.c      the threads that serve requests waiting on a review
 */
#ifndef SERVER_AUTHN_INT_H
#define SERVER_AUTHN_INT_H

#include <gnutls/abstract.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "server/server.h"

struct certs_trust;
struct kube_client;

/* ---- authn.c ------------------------------------------------------------------ */

/* Users: appends a group / an extra (key taken over); 0 or ERR_TOOBIG. */
int server__user_add_group(struct server_user *u, const char *g);
int server__user_add_extra(struct server_user *u, char *key, const char *value);
void server__user_copy(struct server_user *dst, const struct server_user *src);

/* ---- reload.c ------------------------------------------------------------- */

/* What stat() says of a file; a change of any field means "read it again". */
struct server__file_sig {
	bool exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns, ctime_ns;
};

/* Stats path (following symlinks) into *sig; true when it differs from
 * what *sig held before. */
bool server__file_changed(const char *path, struct server__file_sig *sig);

/* A thread calling fn(ud) every period_ns until stopped. */
struct server__ticker;
struct server__ticker *server__ticker_start(int64_t period_ns, void (*fn)(void *ud), void *ud);
/* Wakes and joins the thread (NULL is fine). */
void server__ticker_stop(struct server__ticker *t);

/* ---- workers.c ------------------------------------------------------------ */

/* A unit of work, embedded in its owner; run(j, cancelled) is called once,
 * on a worker thread, or with cancelled=true by server__workers_stop. */
struct server__job {
	struct server__job *next;
	void (*run)(struct server__job *j, bool cancelled);
};

struct server__workers;
/* nthreads threads (NULL when none could start: logged). */
struct server__workers *server__workers_start(size_t nthreads);
/* Queues j: false once stopping (or w NULL), j then not taken. */
bool server__workers_submit(struct server__workers *w, struct server__job *j);
/* Waits for the running jobs, cancels the queued ones; later submits are
 * refused.  Idempotent; NULL is fine. */
void server__workers_stop(struct server__workers *w);
/* Stops (if still running) and frees w; NULL is fine. */
void server__workers_free(struct server__workers *w);

/* ---- authn_trust.c ------------------------------------------------------------ */

struct server__names {
	char **items;
	size_t n;
};

/* One published trust set: immutable, reference counted. */
struct server__trust {
	atomic_uint refs;
	uint64_t gen;                     /* bumped by each publication */
	struct certs_trust *rh;           /* request-header CA, NULL: none */
	struct certs_trust *client;       /* client CA, NULL: none */
	struct server__names allowed;     /* allowed CNs of the front proxy */
	struct server__names user_hdrs, uid_hdrs, group_hdrs, extra_prefixes;
};

/* The current set, with a new reference (never NULL). */
struct server__trust *server__trust_acquire(struct server_authn *a);
void server__trust_release(struct server__trust *t);

/* The token reviewer of a (NULL when there is no kube client). */
struct server__tokens *server__authn_tokens(const struct server_authn *a);

/* ---- authn_token.c ------------------------------------------------------------- */

struct server__tokens;

/* c borrowed (outlives it); ttl_ns <= 0: no caching. */
struct server__tokens *server__tokens_new(struct kube_client *c, int64_t ttl_ns);
void server__tokens_free(struct server__tokens *t);

/* The bearer token authenticator: 1 = *u filled, 0 = no opinion (no
 * bearer token), ERR_AGAIN = a review is needed and !may_block, other <0 =
 * error (text in err, e.g. "invalid bearer token"). */
int server__token_user(struct server__tokens *t, const char *authorization, bool may_block,
		       struct server_user *u, char *err, size_t errlen);

/* ---- serving.c ------------------------------------------------------------------ */

struct server__serving;
struct server__serving_pair;

/* The default pair from memory; with cert_file/key_file (may be NULL) it
 * is read again from them when they change (server__serving_reload).
 * sni (NULL: none): --tls-sni-cert-key's "crt,key[:names]" values, each
 * pair read from its files now and again when they change.  NULL with a
 * message in err when a PEM is unusable ("failed to load SNI cert and
 * key: ..." for an SNI pair, as upstream). */
struct server__serving *server__serving_new(const char *cert_pem, const char *key_pem,
					    const char *cert_file, const char *key_file,
					    const struct server_strlist *sni, char *err,
					    size_t errlen);
void server__serving_free(struct server__serving *s);
/* Checks the files now (thread-safe); true when a new pair was loaded. */
bool server__serving_reload(struct server__serving *s);
/* The current default pair, with a new reference: a handshake pins its
 * pair until its connection closes (GnuTLS keeps pointers into it). */
struct server__serving_pair *server__serving_acquire(struct server__serving *s);
void server__serving_release(struct server__serving_pair *p); /* NULL fine */
void server__serving_get(struct server__serving_pair *p, gnutls_pcert_st **pcert,
			 unsigned int *n, gnutls_privkey_t *key);

/* The daemon's state of one connection: made when it is announced (before
 * its handshake; session: its TLS session, made the session's user
 * pointer; fd: its socket, -1 if unknown), freed when it closes. */
struct server__conn;
struct server__conn *server__conn_new(struct server__serving *s, gnutls_session_t session,
				      int fd);
void server__conn_free(struct server__conn *c); /* NULL fine */
struct server_authn_conn *server__conn_authn(const struct server__conn *c);
/* GnuTLS' retrieve callback (MHD_OPTION_HTTPS_CERT_CALLBACK): the pair of
 * the moment the client's server name selects (serving_sni.c), pinned to
 * the session's server__conn until it closes. */
int server__serving_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn,
			     int nreqs, const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
			     gnutls_pcert_st **pcert, unsigned int *pcert_length,
			     gnutls_privkey_t *pkey);

/* ---- serving_sni.c -------------------------------------------------------------- */

/* The names upstream's getCertificateNames takes from a DER certificate
 * (CN when a domain name, DNS SANs), appended to out; 0 or ERR_PARSE. */
int server__sni_cert_names(const gnutls_datum_t *der, struct server_strlist *out);

/* Names -> pair slots (1 + the pair's index in --tls-sni-cert-key order;
 * 0 is the default pair), built once and then read by any thread. */
struct server__sni;
struct server__sni *server__sni_new(void);
/* name selects slot; given: an explicit name (beats a certificate's); a
 * name added twice keeps the given one, then the lower slot. */
void server__sni_add(struct server__sni *t, const char *name, size_t slot, bool given);
void server__sni_free(struct server__sni *t); /* NULL fine */

/* What a handshake asks, found before any lock is taken. */
struct server__sni_ask {
	bool sent;        /* the client sent a server name */
	bool usable;      /* ... and it is a DNS name that fits name */
	char name[256];   /* lower-cased */
	char ip[64];      /* without a server name: the local address of the socket */
};
void server__sni_ask(gnutls_session_t session, int fd, struct server__sni_ask *a);
/* The slot of the pair a handshake gets (0: the default pair). */
size_t server__sni_pick(const struct server__sni *t, const struct server__sni_ask *a);

#endif
