/*
 * authn.c - the delegating authenticator chain of k8s.io/apiserver:
 *
 *   Union(requestHeader, x509 client cert) + AuthenticatedGroupAdder,
 *   then anonymous.  An authenticator that fails records an error and the
 *   next one is tried; an error with no success is a 401.
 *
 * X-Remote-* headers are read only after the peer certificate verified
 * against --requestheader-client-ca-file (clientAuth, allowed CN).
 *
 * What a connection's certificate proves is worked out on its first
 * request and kept with the connection (struct server_authn_conn) for the
 * next ones: kube-apiserver's aggregator keeps its connections alive, and
 * parsing and verifying the chain on every request was most of a busy
 * server's CPU.  It is worked out again when the peer presents another
 * certificate, after the chain's earliest notAfter, and at the latest
 * after CONN_RECHECK_S.
 */
#include "server/server.h"

#include <gnutls/crypto.h>
#include <stdatomic.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "certs/certs.h"

#define AUTHN_MAX_GROUPS 256
#define AUTHN_MAX_EXTRA 256
#define AUTHN_MAX_CHAIN 8   /* certificates accepted from one client */
#define CONN_RECHECK_S 300  /* a kept verdict is at most this old */

struct server_authn {
	const struct server_authn_flags *flags;
	struct certs_trust *requestheader_trust;  /* NULL: not configured */
	struct certs_trust *client_trust;         /* NULL: not configured */
	char *trust_pem;
};

/* ---- users --------------------------------------------------------------- */

void server_user_clear(struct server_user *u)
{
	free(u->name);
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

static int user_add_group(struct server_user *u, const char *g)
{
	if (u->ngroups >= AUTHN_MAX_GROUPS)
		return ERR_TOOBIG;
	u->groups = xrealloc(u->groups, (u->ngroups + 1) * sizeof(*u->groups));
	u->groups[u->ngroups++] = xstrdup(g);
	return 0;
}

static int user_add_extra(struct server_user *u, char *key, const char *value)
{
	if (u->nextra >= AUTHN_MAX_EXTRA) {
		free(key);
		return ERR_TOOBIG;
	}
	u->extra = xrealloc(u->extra, (u->nextra + 1) * sizeof(*u->extra));
	u->extra[u->nextra].key = key;
	u->extra[u->nextra].value = xstrdup(value ? value : "");
	u->nextra++;
	return 0;
}

static void user_anonymous(struct server_user *u)
{
	memset(u, 0, sizeof(*u));
	u->name = xstrdup("system:anonymous");
	u->anonymous = true;
	(void)user_add_group(u, "system:unauthenticated");
}

/* AuthenticatedGroupAdder. */
static int user_add_authenticated(struct server_user *u)
{
	if (server_user_in_group(u, "system:authenticated") ||
	    server_user_in_group(u, "system:unauthenticated"))
		return 0;
	return user_add_group(u, "system:authenticated");
}

/* ---- construction ---------------------------------------------------------- */

/* Loads the client-CA bundle at path into *out and appends its text to
 * a->trust_pem (the CAs the TLS layer names to clients). */
static int trust_load(struct server_authn *a, const char *path, struct certs_trust **out,
		      char *err, size_t errlen)
{
	size_t old = a->trust_pem ? strlen(a->trust_pem) : 0, len;
	const char *pem;
	int rc = certs_trust_load_file(path, out);

	if (rc == ERR_PARSE) {
		snprintf(err, errlen, "%s: no valid PEM certificate found", path);
		return rc;
	}
	if (rc != 0) {
		snprintf(err, errlen, "unable to read client-ca bundle %s", path);
		return ERR_IO;
	}
	pem = certs_trust_pem(*out);
	len = strlen(pem);
	a->trust_pem = xrealloc(a->trust_pem, old + len + 2);
	memcpy(a->trust_pem + old, pem, len);
	a->trust_pem[old + len] = '\n';
	a->trust_pem[old + len + 1] = '\0';
	return 0;
}

struct server_authn *server_authn_new(const struct server_authn_flags *flags, char *err,
				      size_t errlen)
{
	struct server_authn *a = xcalloc(1, sizeof(*a));

	a->flags = flags;
	if (flags->requestheader_client_ca_file && *flags->requestheader_client_ca_file &&
	    trust_load(a, flags->requestheader_client_ca_file, &a->requestheader_trust, err,
		       errlen) != 0)
		goto fail;
	if (flags->client_ca_file && *flags->client_ca_file &&
	    trust_load(a, flags->client_ca_file, &a->client_trust, err, errlen) != 0)
		goto fail;
	return a;
fail:
	server_authn_free(a);
	return NULL;
}

void server_authn_free(struct server_authn *a)
{
	if (!a)
		return;
	certs_trust_free(a->requestheader_trust);
	certs_trust_free(a->client_trust);
	free(a->trust_pem);
	free(a);
}

const char *server_authn_trust_pem(const struct server_authn *a)
{
	return a->trust_pem;
}

/* ---- request-header (front proxy) --------------------------------------- */

struct header_scan {
	const struct server_strlist *names;  /* group header names, or prefixes */
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
			s->rc = user_add_group(s->user, value);
		else if (s->prefix && strncasecmp(key, n, strlen(n)) == 0)
			s->rc = user_add_extra(s->user, extra_key(key, strlen(n)), value);
	}
	return s->rc == 0 ? MHD_YES : MHD_NO;
}

/* First non-empty value of the username headers, or NULL. */
static const char *header_user(const struct server_authn *a, struct MHD_Connection *c)
{
	const struct server_strlist *names = &a->flags->requestheader_username_headers;

	for (size_t i = 0; i < names->n; i++) {
		const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, names->items[i]);

		if (v && v[strspn(v, " \t")])
			return v;
	}
	return NULL;
}

static bool name_allowed(const struct server_strlist *allowed, const char *cn)
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
static int request_header_cert(const struct server_authn *a, const struct certs_chain *chain,
			       char *err, size_t errlen)
{
	char *cn;

	if (!a->requestheader_trust || chain->n == 0)
		return 0;
	if (certs_verify(a->requestheader_trust, chain, NULL, CERTS_CLIENT_AUTH, err, errlen) != 0)
		return ERR_TLS;
	cn = certs_subject_attr(chain->crt[0], GNUTLS_OID_X520_COMMON_NAME, 0);
	if (!name_allowed(&a->flags->requestheader_allowed_names, cn)) {
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
static int request_header_user(const struct server_authn *a, struct MHD_Connection *c,
			       struct server_user *u, char *err, size_t errlen)
{
	struct header_scan groups = { &a->flags->requestheader_group_headers, false, u, 0 };
	struct header_scan extra = { &a->flags->requestheader_extra_headers_prefix, true, u, 0 };
	const char *name;

	name = header_user(a, c);
	if (!name)
		return 0;
	memset(u, 0, sizeof(*u));
	u->name = xstrdup(name);
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

static int client_cert_user(const struct server_authn *a, const struct certs_chain *chain,
			    struct server_user *u, char *err, size_t errlen)
{
	char *cn, *org;

	if (!a->client_trust || chain->n == 0)
		return 0;
	if (certs_verify(a->client_trust, chain, NULL, CERTS_CLIENT_AUTH, err, errlen) != 0)
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
		(void)user_add_group(u, org);
		free(org);
	}
	org = credential_id(chain->crt[0]);
	if (org)
		(void)user_add_extra(u, xstrdup("authentication.kubernetes.io/credential-id"), org);
	free(org);
	return 1;
}

/* ---- one connection's certificate ------------------------------------------ */

struct server_authn_conn {
	bool known;               /* the fields below hold */
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
static bool conn_holds(const struct server_authn_conn *k, const gnutls_datum_t *leaf)
{
	if (!k->known || clock_now_ns() / NS_PER_SEC >= k->until_s)
		return false;
	if (!leaf)
		return k->leaf.size == 0;
	return k->leaf.size == leaf->size && memcmp(k->leaf.data, leaf->data, leaf->size) == 0;
}

/* Works out k for the session's certificates (leaf: the first, or NULL). */
static void conn_learn(const struct server_authn *a, struct server_authn_conn *k,
		       gnutls_session_t session, const gnutls_datum_t *leaf)
{
	int64_t now = clock_now_ns() / NS_PER_SEC;

	atomic_fetch_add_explicit(&conn_checks, 1, memory_order_relaxed);
	conn_forget(k);
	k->known = true;
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
		time_t t = gnutls_x509_crt_get_expiration_time(k->chain.crt[i]);

		if (t != (time_t)-1 && (int64_t)t < k->until_s)
			k->until_s = (int64_t)t + 1; /* verified again past notAfter: it fails */
	}
	k->rh = k->chain_rc ? k->chain_rc : request_header_cert(a, &k->chain, k->err, sizeof(k->err));
}

/* ---- the chain --------------------------------------------------------------- */

static void user_copy(struct server_user *dst, const struct server_user *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->name = xstrdup(src->name);
	dst->anonymous = src->anonymous;
	for (size_t i = 0; i < src->ngroups; i++)
		(void)user_add_group(dst, src->groups[i]);
	for (size_t i = 0; i < src->nextra; i++)
		(void)user_add_extra(dst, xstrdup(src->extra[i].key), src->extra[i].value);
}

int server_authn_request(const struct server_authn *a, struct MHD_Connection *c,
			 struct server_authn_conn *k, struct server_user *out)
{
	const union MHD_ConnectionInfo *info;
	struct server_authn_conn once = { .known = false };
	gnutls_session_t session = NULL;
	const gnutls_datum_t *leaf = NULL;
	unsigned npeers = 0;
	char herr[256] = "";
	int rh, cc = 0, rc;

	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (info && info->tls_session) {
		session = info->tls_session;
		leaf = gnutls_certificate_get_peers(session, &npeers);
		if (npeers == 0)
			leaf = NULL;
	}
	if (!k)
		k = &once;
	if (!conn_holds(k, leaf))
		conn_learn(a, k, session, leaf);
	rh = k->rh;
	if (rh == 1)
		rh = request_header_user(a, c, out, herr, sizeof(herr));
	if (rh <= 0) {
		if (!k->cc_known) {
			k->cc = client_cert_user(a, &k->chain, &k->cc_user, k->err2, sizeof(k->err2));
			k->cc_known = true;
		}
		cc = k->cc;
		if (cc == 1)
			user_copy(out, &k->cc_user);
	}
	if (k->cc_known && k->chain.n)
		certs_chain_clear(&k->chain); /* nothing else needs it */
	if (rh == 1 || cc == 1) {
		rc = user_add_authenticated(out);
		if (k == &once)
			conn_forget(k);
		if (rc == 0)
			return 0;
		server_user_clear(out);
		log_error("\"Unable to authenticate the request\" err=\"too many groups\"");
		return ERR_INVAL;
	}
	if (rh < 0 || cc < 0) {
		const char *e1 = k->rh == 1 ? herr : k->err;

		log_error("\"Unable to authenticate the request\" err=\"%s%s%s\"", e1,
			  *e1 && *k->err2 ? ", " : "", k->err2);
		if (k == &once)
			conn_forget(k);
		return ERR_INVAL;
	}
	if (k == &once)
		conn_forget(k);
	user_anonymous(out);
	return 0;
}
