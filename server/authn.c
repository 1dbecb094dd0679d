/*
 * authn.c - the delegating authenticator chain of k8s.io/apiserver:
 *
 *   Union(requestHeader, x509 client cert, bearer token) +
 *   AuthenticatedGroupAdder, then anonymous.  An authenticator that fails
 *   records an error and the next one is tried; an error with no success
 *   is a 401.
 *
 * X-Remote-* headers are read only after the peer certificate verified
 * against the request-header CA (clientAuth, allowed CN).  The CAs and
 * header names come from one snapshot of the trust sets per request
 * (authn_trust.c); tokens are reviewed by authn_token.c.
 *
 * Groups are not capped: a front proxy's X-Remote-Group lines are bounded
 * by the connection's header memory (http.c), a certificate's O values and
 * a review's groups by their sizes.  A user named system:anonymous (from
 * the headers, a certificate or a review) stays anonymous: no
 * system:authenticated is added, as AuthenticatedGroupAdder does.
 *
 * What a connection's certificate proves is worked out on its first
 * request and kept with the connection (struct server_authn_conn) for the
 * next ones: kube-apiserver's aggregator keeps its connections alive, and
 * parsing and verifying the chain on every request was most of a busy
 * server's CPU.  It is worked out again when the peer presents another
 * certificate, after the chain's earliest notAfter, when the trust sets
 * change (their generation), and at the latest after CONN_RECHECK_S.
 */
#include "server/authn_int.h"

#include <gnutls/crypto.h>
#include <stdatomic.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "certs/certs.h"

/* Sanity bounds only: the inputs are bounded before these are reached. */
#define AUTHN_MAX_GROUPS 65536
#define AUTHN_MAX_EXTRA 65536
#define AUTHN_MAX_CHAIN 8   /* certificates accepted from one client */
#define CONN_RECHECK_S 300  /* a kept verdict is at most this old */
#define ANONYMOUS "system:anonymous"

/* ---- users --------------------------------------------------------------- */

void server_user_clear(struct server_user *u)
{
	free(u->name);
	free(u->uid);
	for (size_t i = 0; i < u->ngroups; i++)
		free(u->groups[i]);
	free(u->groups);
	for (size_t i = 0; i < u->nextra; i++) {
		free(u->extra[i].key);
		free(u->extra[i].value);
	}
	free(u->extra);
	memset(u, 0, sizeof(*u));
}

bool server_user_in_group(const struct server_user *u, const char *group)
{
	for (size_t i = 0; i < u->ngroups; i++)
		if (strcmp(u->groups[i], group) == 0)
			return true;
	return false;
}

/* Arrays grow to powers of two (the count tells the capacity). */
static bool needs_room(size_t n)
{
	return n == 0 || (n >= 4 && (n & (n - 1)) == 0);
}

static size_t room_for(size_t n)
{
	return n == 0 ? 4 : n * 2;
}

int server__user_add_group(struct server_user *u, const char *g)
{
	if (u->ngroups >= AUTHN_MAX_GROUPS)
		return ERR_TOOBIG;
	if (needs_room(u->ngroups))
		u->groups = xrealloc(u->groups, room_for(u->ngroups) * sizeof(*u->groups));
	u->groups[u->ngroups++] = xstrdup(g);
	return 0;
}

int server__user_add_extra(struct server_user *u, char *key, const char *value)
{
	if (u->nextra >= AUTHN_MAX_EXTRA) {
		free(key);
		return ERR_TOOBIG;
	}
	if (needs_room(u->nextra))
		u->extra = xrealloc(u->extra, room_for(u->nextra) * sizeof(*u->extra));
	u->extra[u->nextra].key = key;
	u->extra[u->nextra].value = xstrdup(value ? value : "");
	u->nextra++;
	return 0;
}

static void user_anonymous(struct server_user *u)
{
	memset(u, 0, sizeof(*u));
	u->name = xstrdup(ANONYMOUS);
	u->anonymous = true;
	(void)server__user_add_group(u, "system:unauthenticated");
}

/* AuthenticatedGroupAdder (not for system:anonymous, whoever named it). */
static int user_add_authenticated(struct server_user *u)
{
	if (strcmp(u->name, ANONYMOUS) == 0) {
		u->anonymous = true;
		return 0;
	}
	if (server_user_in_group(u, "system:authenticated") ||
	    server_user_in_group(u, "system:unauthenticated"))
		return 0;
	return server__user_add_group(u, "system:authenticated");
}

/* ---- request-header (front proxy) --------------------------------------- */

struct header_scan {
	const struct server__names *names;   /* group header names, or prefixes */
	bool prefix;                         /* names are extra-header prefixes */
	struct server_user *user;
	int rc;
};

static char *extra_key(const char *header, size_t prefix_len)
{
	char *lower = xstrdup(header + prefix_len);
	char *key;

	for (char *p = lower; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	key = url_unescape(lower, strlen(lower), false);
	if (!key)
		return lower;   /* Go keeps the raw lower-case key */
	free(lower);
	return key;
}

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct header_scan *s = cls;

	(void)kind;
	for (size_t i = 0; i < s->names->n && s->rc == 0; i++) {
		const char *n = s->names->items[i];

		if (!s->prefix && strcasecmp(key, n) == 0 && value && value[strspn(value, " \t")])
			s->rc = server__user_add_group(s->user, value);
		else if (s->prefix && strncasecmp(key, n, strlen(n)) == 0)
			s->rc = server__user_add_extra(s->user, extra_key(key, strlen(n)), value);
	}
	return s->rc == 0 ? MHD_YES : MHD_NO;
}

/* First non-empty value of the headers named, or NULL (the username
 * and the UID headers). */
static const char *first_header(const struct server__names *names, struct MHD_Connection *c)
{
	for (size_t i = 0; i < names->n; i++) {
		const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, names->items[i]);

		if (v && v[strspn(v, " \t")])
			return v;
	}
	return NULL;
}

static bool name_allowed(const struct server__names *allowed, const char *cn)
{
	if (allowed->n == 0)
		return true;
	for (size_t i = 0; i < allowed->n; i++)
		if (cn && strcmp(allowed->items[i], cn) == 0)
			return true;
	return false;
}

/* Whether the chain is a front proxy's: 1 = verified against the
 * request-header CA with an allowed CN, 0 = no such CA or no chain,
 * <0 = error (text in err). */
static int request_header_cert(const struct server__trust *t, const struct certs_chain *chain,
			       char *err, size_t errlen)
{
	char *cn;

	if (!t->rh || chain->n == 0)
		return 0;
	if (certs_verify(t->rh, chain, NULL, CERTS_CLIENT_AUTH, err, errlen) != 0)
		return ERR_TLS;
	cn = certs_subject_attr(chain->crt[0], GNUTLS_OID_X520_COMMON_NAME, 0);
	if (!name_allowed(&t->allowed, cn)) {
		snprintf(err, errlen, "x509: subject with cn=%s is not in the allowed list",
			 cn ? cn : "");
		free(cn);
		return ERR_TLS;
	}
	free(cn);
	return 1;
}

/*
 * The user a front proxy names in the request's headers, its certificate
 * verified: 1 = authenticated (*u filled), 0 = no user header, <0 = error.
 */
static int request_header_user(const struct server__trust *t, struct MHD_Connection *c,
			       struct server_user *u, char *err, size_t errlen)
{
	struct header_scan groups = { &t->group_hdrs, false, u, 0 };
	struct header_scan extra = { &t->extra_prefixes, true, u, 0 };
	const char *name, *uid;

	name = first_header(&t->user_hdrs, c);
	if (!name)
		return 0;
	memset(u, 0, sizeof(*u));
	u->name = xstrdup(name);
	uid = first_header(&t->uid_hdrs, c);
	u->uid = uid ? xstrdup(uid) : NULL;
	MHD_get_connection_values(c, MHD_HEADER_KIND, scan_header, &groups);
	MHD_get_connection_values(c, MHD_HEADER_KIND, scan_header, &extra);
	if (groups.rc != 0 || extra.rc != 0) {
		snprintf(err, errlen, "too many group or extra headers");
		server_user_clear(u);
		return ERR_TOOBIG;
	}
	return 1;
}

/* ---- x509 client certificate ---------------------------------------------- */

/* Kubernetes' credential id of a client certificate:
 * "X509SHA256=<lower hex of the DER's SHA-256>" as a new string, or NULL. */
static char *credential_id(gnutls_x509_crt_t crt)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[32];
	char out[sizeof("X509SHA256=") + 64];
	gnutls_datum_t der = { NULL, 0 };
	size_t pos = strlen("X509SHA256=");
	int rc;

	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) < 0)
		return NULL;
	rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, digest);
	gnutls_free(der.data);
	if (rc < 0)
		return NULL;
	memcpy(out, "X509SHA256=", pos);
	for (size_t i = 0; i < sizeof(digest); i++) {
		out[pos++] = hex[digest[i] >> 4];
		out[pos++] = hex[digest[i] & 15];
	}
	out[pos] = '\0';
	return xstrdup(out);
}

static int client_cert_user(const struct server__trust *t, const struct certs_chain *chain,
			    struct server_user *u, char *err, size_t errlen)
{
	char *cn, *org;

	if (!t->client || chain->n == 0)
		return 0;
	if (certs_verify(t->client, chain, NULL, CERTS_CLIENT_AUTH, err, errlen) != 0)
		return ERR_TLS;
	cn = certs_subject_attr(chain->crt[0], GNUTLS_OID_X520_COMMON_NAME, 0);
	if (!cn || !*cn) {
		free(cn);
		return 0;
	}
	memset(u, 0, sizeof(*u));
	u->name = cn;
	for (unsigned i = 0; i < AUTHN_MAX_GROUPS; i++) {
		org = certs_subject_attr(chain->crt[0], GNUTLS_OID_X520_ORGANIZATION_NAME, i);
		if (!org)
			break;
		(void)server__user_add_group(u, org);
		free(org);
	}
	org = credential_id(chain->crt[0]);
	if (org)
		(void)server__user_add_extra(u, xstrdup("authentication.kubernetes.io/credential-id"),
					     org);
	free(org);
	return 1;
}

/* ---- one connection's certificate ------------------------------------------ */

struct server_authn_conn {
	bool known;               /* the fields below hold */
	uint64_t gen;             /* for that generation of the trust sets */
	gnutls_datum_t leaf;      /* the leaf's DER they hold for (data malloc'd) */
	int64_t until_s;          /* wall clock: worked out again from then on */
	int chain_rc;             /* 0, or the chain's parse error (text in err) */
	int rh;                   /* request_header_cert() */
	char err[256];            /* of chain_rc or rh */
	bool cc_known;            /* client_cert_user() was asked (lazily, as the chain does) */
	int cc;
	struct server_user cc_user;
	char err2[256];           /* of cc */
	struct certs_chain chain; /* kept until cc_known */
};

static atomic_size_t conn_checks; /* server_authn_checks() */

size_t server_authn_checks(void)
{
	return atomic_load_explicit(&conn_checks, memory_order_relaxed);
}

struct server_authn_conn *server_authn_conn_new(void)
{
	return xcalloc(1, sizeof(struct server_authn_conn));
}

static void conn_forget(struct server_authn_conn *k)
{
	free(k->leaf.data);
	server_user_clear(&k->cc_user);
	certs_chain_clear(&k->chain);
	memset(k, 0, sizeof(*k));
}

void server_authn_conn_free(struct server_authn_conn *k)
{
	if (!k)
		return;
	conn_forget(k);
	free(k);
}

/* Whether k holds for the session's current leaf certificate now. */
static bool conn_holds(const struct server_authn_conn *k, const gnutls_datum_t *leaf,
		       uint64_t gen)
{
	if (!k->known || k->gen != gen || clock_now_ns() / NS_PER_SEC >= k->until_s)
		return false;
	if (!leaf)
		return k->leaf.size == 0;
	return k->leaf.size == leaf->size && memcmp(k->leaf.data, leaf->data, leaf->size) == 0;
}

/* Works out k for the session's certificates (leaf: the first, or NULL). */
static void conn_learn(const struct server__trust *t, struct server_authn_conn *k,
		       gnutls_session_t session, const gnutls_datum_t *leaf)
{
	int64_t now = clock_now_ns() / NS_PER_SEC;

	atomic_fetch_add_explicit(&conn_checks, 1, memory_order_relaxed);
	conn_forget(k);
	k->known = true;
	k->gen = t->gen;
	k->until_s = now + CONN_RECHECK_S;
	if (leaf) {
		k->leaf.data = xmalloc(leaf->size ? leaf->size : 1);
		memcpy(k->leaf.data, leaf->data, leaf->size);
		k->leaf.size = leaf->size;
	}
	if (session)
		k->chain_rc = certs_chain_from_session(session, AUTHN_MAX_CHAIN, "client", &k->chain,
						       k->err, sizeof(k->err));
	if (k->chain_rc != 0)
		k->chain_rc = ERR_PARSE;
	for (unsigned i = 0; i < k->chain.n; i++) {
		time_t na = gnutls_x509_crt_get_expiration_time(k->chain.crt[i]);

		if (na != (time_t)-1 && (int64_t)na < k->until_s)
			k->until_s = (int64_t)na + 1; /* verified again past notAfter: it fails */
	}
	k->rh = k->chain_rc ? k->chain_rc : request_header_cert(t, &k->chain, k->err, sizeof(k->err));
}

/* ---- the chain --------------------------------------------------------------- */

void server__user_copy(struct server_user *dst, const struct server_user *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->name = xstrdup(src->name);
	dst->uid = src->uid ? xstrdup(src->uid) : NULL;
	dst->anonymous = src->anonymous;
	for (size_t i = 0; i < src->ngroups; i++)
		(void)server__user_add_group(dst, src->groups[i]);
	for (size_t i = 0; i < src->nextra; i++)
		(void)server__user_add_extra(dst, xstrdup(src->extra[i].key), src->extra[i].value);
}

/* The token authenticator, tried when no certificate authenticated. */
static int token_user(const struct server_authn *a, struct MHD_Connection *c, bool may_block,
		      struct server_user *u, char *err, size_t errlen)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");

	return server__token_user(server__authn_tokens(a), auth, may_block, u, err, errlen);
}

int server_authn_request(const struct server_authn *a, struct MHD_Connection *c,
			 struct server_authn_conn *k, bool may_block, struct server_user *out)
{
	struct server__trust *t = server__trust_acquire((struct server_authn *)a);
	const union MHD_ConnectionInfo *info;
	struct server_authn_conn once = { .known = false };
	gnutls_session_t session = NULL;
	const gnutls_datum_t *leaf = NULL;
	unsigned npeers = 0;
	char herr[256] = "", terr[256] = "";
	int rh, cc = 0, tk = 0, rc = ERR_INVAL;

	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (info && info->tls_session) {
		session = info->tls_session;
		leaf = gnutls_certificate_get_peers(session, &npeers);
		if (npeers == 0)
			leaf = NULL;
	}
	if (!k)
		k = &once;
	if (!conn_holds(k, leaf, t->gen))
		conn_learn(t, k, session, leaf);
	rh = k->rh;
	if (rh == 1)
		rh = request_header_user(t, c, out, herr, sizeof(herr));
	if (rh <= 0) {
		if (!k->cc_known) {
			k->cc = client_cert_user(t, &k->chain, &k->cc_user, k->err2, sizeof(k->err2));
			k->cc_known = true;
		}
		cc = k->cc;
		if (cc == 1)
			server__user_copy(out, &k->cc_user);
	}
	if (k->cc_known && k->chain.n)
		certs_chain_clear(&k->chain); /* nothing else needs it */
	if (rh != 1 && cc != 1) {
		tk = token_user(a, c, may_block, out, terr, sizeof(terr));
		if (tk == ERR_AGAIN) {
			rc = ERR_AGAIN;
			goto out;
		}
	}
	if (rh == 1 || cc == 1 || tk == 1) {
		if (user_add_authenticated(out) == 0) {
			rc = 0;
			goto out;
		}
		server_user_clear(out);
		log_error("\"Unable to authenticate the request\" err=\"too many groups\"");
		goto out;
	}
	if (rh < 0 || cc < 0 || tk < 0) {
		const char *e1 = k->rh == 1 ? herr : k->err;

		log_error("\"Unable to authenticate the request\" err=\"%s%s%s%s%s\"", e1,
			  *e1 && *k->err2 ? ", " : "", k->err2,
			  (*e1 || *k->err2) && *terr ? ", " : "", terr);
		goto out;
	}
	user_anonymous(out);
	rc = 0;
out:
	if (k == &once)
		conn_forget(k);
	server__trust_release(t);
	return rc;
}
