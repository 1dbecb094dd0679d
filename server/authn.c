/*
 * authn.c - the delegating authenticator chain of k8s.io/apiserver:
 *
 *   Union(requestHeader, x509 client cert) + AuthenticatedGroupAdder,
 *   then anonymous.  An authenticator that fails records an error and the
 *   next one is tried; an error with no success is a 401.
 *
 * X-Remote-* headers are read only after the peer certificate verified
 * against --requestheader-client-ca-file (clientAuth, allowed CN).
 */
#include "server/server.h"

#include <gnutls/crypto.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "certs/certs.h"

#define AUTHN_MAX_GROUPS 256
#define AUTHN_MAX_EXTRA 256
#define AUTHN_MAX_CHAIN 8   /* certificates accepted from one client */

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

/*
 * 1 = authenticated (*u filled), 0 = no opinion, <0 = error (text in err).
 */
static int request_header_user(const struct server_authn *a, struct MHD_Connection *c,
			       const struct certs_chain *chain, struct server_user *u,
			       char *err, size_t errlen)
{
	struct header_scan groups = { &a->flags->requestheader_group_headers, false, u, 0 };
	struct header_scan extra = { &a->flags->requestheader_extra_headers_prefix, true, u, 0 };
	const char *name;
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

/* ---- the chain --------------------------------------------------------------- */

int server_authn_request(const struct server_authn *a, struct MHD_Connection *c,
			 struct server_user *out)
{
	const union MHD_ConnectionInfo *info;
	struct certs_chain chain = { .n = 0 };
	char err[256] = "", err2[256] = "";
	int rh = 0, cc = 0, rc;

	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (info && info->tls_session &&
	    certs_chain_from_session(info->tls_session, AUTHN_MAX_CHAIN, "client", &chain, err,
				     sizeof(err)) != 0)
		rh = ERR_PARSE;
	if (rh == 0)
		rh = request_header_user(a, c, &chain, out, err, sizeof(err));
	if (rh <= 0)
		cc = client_cert_user(a, &chain, out, err2, sizeof(err2));
	certs_chain_clear(&chain);
	if (rh == 1 || cc == 1) {
		rc = user_add_authenticated(out);
		if (rc == 0)
			return 0;
		server_user_clear(out);
		log_error("\"Unable to authenticate the request\" err=\"too many groups\"");
		return ERR_INVAL;
	}
	if (rh < 0 || cc < 0) {
		log_error("\"Unable to authenticate the request\" err=\"%s%s%s\"", err,
			  *err && *err2 ? ", " : "", err2);
		return ERR_INVAL;
	}
	user_anonymous(out);
	return 0;
}
