/*
 * flags_tls.c - --tls-min-version, --tls-cipher-suites and
 * --tls-curve-preferences (Go crypto/tls names and ids, checked as
 * component-base's cliflag does) turned into a GnuTLS priority string and
 * the list of TLS 1.2 suites a connection may use.
 */
#include "server/flags_table.h"
#include "server/tls_int.h"

#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

/* Go's cipher suite names (tls.CipherSuites() and InsecureCipherSuites(),
 * plus cliflag's two legacy names) as GnuTLS priority keywords; kx NULL
 * for the TLS 1.3 suites, which Go does not let one restrict. */
static const struct go_suite {
	const char *name, *kx, *cipher, *mac;
} go_suites[] = {
	{ "TLS_AES_128_GCM_SHA256", NULL, NULL, NULL },
	{ "TLS_AES_256_GCM_SHA384", NULL, NULL, NULL },
	{ "TLS_CHACHA20_POLY1305_SHA256", NULL, NULL, NULL },
	{ "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA", "AES-128-CBC", "SHA1" },
	{ "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA", "AES-128-GCM", "AEAD" },
	{ "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA", "AES-256-CBC", "SHA1" },
	{ "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA", "AES-256-GCM", "AEAD" },
	{ "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA", "CHACHA20-POLY1305", "AEAD" },
	{ "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA", "CHACHA20-POLY1305",
	  "AEAD" },
	{ "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA", "AES-128-CBC", "SHA1" },
	{ "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA", "AES-128-GCM", "AEAD" },
	{ "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA", "AES-256-CBC", "SHA1" },
	{ "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA", "AES-256-GCM", "AEAD" },
	{ "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA", "CHACHA20-POLY1305", "AEAD" },
	{ "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA", "CHACHA20-POLY1305",
	  "AEAD" },
	/* insecure ones: accepted, as Go does */
	{ "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA", "AES-128-CBC", "SHA256" },
	{ "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE-ECDSA", "ARCFOUR-128", "SHA1" },
	{ "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA", "3DES-CBC", "SHA1" },
	{ "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA", "AES-128-CBC", "SHA256" },
	{ "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE-RSA", "ARCFOUR-128", "SHA1" },
	{ "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "RSA", "3DES-CBC", "SHA1" },
	{ "TLS_RSA_WITH_AES_128_CBC_SHA", "RSA", "AES-128-CBC", "SHA1" },
	{ "TLS_RSA_WITH_AES_128_CBC_SHA256", "RSA", "AES-128-CBC", "SHA256" },
	{ "TLS_RSA_WITH_AES_128_GCM_SHA256", "RSA", "AES-128-GCM", "AEAD" },
	{ "TLS_RSA_WITH_AES_256_CBC_SHA", "RSA", "AES-256-CBC", "SHA1" },
	{ "TLS_RSA_WITH_AES_256_GCM_SHA384", "RSA", "AES-256-GCM", "AEAD" },
	{ "TLS_RSA_WITH_RC4_128_SHA", "RSA", "ARCFOUR-128", "SHA1" },
};

/* Go's named tls.CurveIDs (Go 1.26, metrics-server's toolchain) and the
 * GnuTLS group of each (NULL: GnuTLS has none). */
static const struct go_curve {
	long id;
	const char *group;
} go_curves[] = {
	{ 23, "GROUP-SECP256R1" },
	{ 24, "GROUP-SECP384R1" },
	{ 25, "GROUP-SECP521R1" },
	{ 29, "GROUP-X25519" },
	{ 4587, NULL }, /* SecP256r1MLKEM768 */
	{ 4588, NULL }, /* X25519MLKEM768 */
	{ 4589, NULL }, /* SecP384r1MLKEM1024 */
};

static const struct {
	const char *name, *versions;
} go_versions[] = {
	{ "VersionTLS10", "+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0" },
	{ "VersionTLS11", "+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1" },
	{ "VersionTLS12", "+VERS-TLS1.3:+VERS-TLS1.2" },
	{ "VersionTLS13", "+VERS-TLS1.3" },
};

static const struct go_suite *find_suite(const char *name)
{
	for (size_t i = 0; i < COMMON_ARRAY_LEN(go_suites); i++)
		if (strcmp(go_suites[i].name, name) == 0)
			return &go_suites[i];
	return NULL;
}

static void add_note(char **list, const char *what)
{
	char *old = *list;

	*list = old ? xasprintf("%s, %s", old, what) : xstrdup(what);
	free(old);
}

/* ":+token" unless already in the priority string b. */
static int add_token(struct dynbuf *b, const char *token)
{
	char needle[64];

	snprintf(needle, sizeof(needle), ":+%s", token);
	if (b->len && strstr(b->buf, needle))
		return 0;
	return dynbuf_addstr(b, needle);
}

/* cliflag.TLSCipherSuites (the first unknown name is the error) and the
 * GnuTLS keywords of every TLS 1.2 suite; on an error, b and t are half
 * built (server__tls_build drops them). */
static int add_suites(const struct server_strlist *names, struct dynbuf *b,
		      struct server_tls *t, char *err, size_t errlen)
{
	int rc = 0;

	if (names->n == 0)
		return 0;
	t->restrict_suites = true;
	rc |= dynbuf_printf(b, ":-CIPHER-ALL:-MAC-ALL:-KX-ALL");
	/* TLS 1.3: always Go's three suites */
	rc |= add_token(b, "AES-128-GCM") | add_token(b, "AES-256-GCM") |
	      add_token(b, "CHACHA20-POLY1305") | add_token(b, "AEAD");
	for (size_t i = 0; i < names->n; i++) {
		const struct go_suite *s = find_suite(names->items[i]);
		struct server_tls_suite id;

		if (!s) {
			snprintf(err, errlen, "Cipher suite %.200s not supported or doesn't exist",
				 names->items[i]);
			return ERR_INVAL;
		}
		if (!s->kx)
			continue;
		id.kx = (int)gnutls_kx_get_id(s->kx);
		id.cipher = (int)gnutls_cipher_get_id(s->cipher);
		id.mac = (int)gnutls_mac_get_id(s->mac);
		if (id.kx == GNUTLS_KX_UNKNOWN || id.cipher == GNUTLS_CIPHER_UNKNOWN ||
		    id.mac == GNUTLS_MAC_UNKNOWN) {
			add_note(&t->unavailable, s->name);
			continue;
		}
		rc |= add_token(b, s->kx) | add_token(b, s->cipher) | add_token(b, s->mac);
		if (t->nsuites < SERVER_TLS_MAX_SUITES)
			t->suites[t->nsuites++] = id;
	}
	return rc ? ERR_TOOBIG : 0;
}

/* cliflag.TLSCurvePreferences (the list holds int32 texts). */
static int add_curves(const struct server_strlist *ids, struct dynbuf *b, struct server_tls *t,
		      char *err, size_t errlen)
{
	size_t offered = 0;
	int rc = 0;

	for (size_t i = 0; i < ids->n; i++) {
		char *end;
		long id = strtol(ids->items[i], &end, 10);
		const struct go_curve *c = NULL;

		if (*end != '\0' || id <= 0 || id > 65535) {
			snprintf(err, errlen, "curve preference %ld is out of range (must be 1-65535)",
				 *end ? 0L : id);
			return ERR_INVAL;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(ids->items[j], ids->items[i]) == 0) {
				snprintf(err, errlen, "duplicate curve preference %ld", id);
				return ERR_INVAL;
			}
		}
		for (size_t j = 0; j < COMMON_ARRAY_LEN(go_curves); j++)
			if (go_curves[j].id == id)
				c = &go_curves[j];
		if (!c) {
			snprintf(err, errlen,
				 "curve preference %ld is not supported by the current Go version", id);
			return ERR_INVAL;
		}
		if (!c->group) {
			char what[32];

			snprintf(what, sizeof(what), "curve %ld", id);
			add_note(&t->unavailable, what);
			continue;
		}
		if (offered++ == 0)
			rc |= dynbuf_printf(b, ":-GROUP-ALL");
		rc |= add_token(b, c->group);
	}
	if (ids->n > 0 && offered == 0) {
		snprintf(err, errlen, "none of the curves of --tls-curve-preferences is available "
				      "here (GnuTLS offers 23, 24, 25 and 29)");
		return ERR_INVAL;
	}
	return rc ? ERR_TOOBIG : 0;
}

int server__tls_build(const struct server_serving_flags *s, struct server_tls *t, char *err,
		     size_t errlen)
{
	const char *versions = NULL, *min = s->tls_min_version ? s->tls_min_version : "";
	gnutls_priority_t check;
	const char *where = NULL;
	struct dynbuf b;
	size_t len;
	int rc;

	memset(t, 0, sizeof(*t));
	dynbuf_init(&b, 4096);
	rc = dynbuf_printf(&b, "NORMAL:%%SERVER_PRECEDENCE:-VERS-ALL");
	if (rc == 0)
		rc = add_suites(&s->tls_cipher_suites, &b, t, err, errlen);
	if (rc == 0)
		rc = add_curves(&s->tls_curve_preferences, &b, t, err, errlen);
	for (size_t i = 0; rc == 0 && i < COMMON_ARRAY_LEN(go_versions); i++)
		if (strcmp(min, go_versions[i].name) == 0)
			versions = go_versions[i].versions;
	if (rc == 0 && *min == '\0')
		versions = go_versions[2].versions; /* cliflag.DefaultTLSVersion: 1.2 */
	if (rc == 0 && !versions) {
		snprintf(err, errlen, "unknown tls version \"%.200s\"", min);
		rc = ERR_INVAL;
	}
	if (rc == 0)
		rc = dynbuf_printf(&b, ":%s", versions);
	if (rc != 0) {
		dynbuf_clear(&b);
		server__tls_clear(t);
		return ERR_INVAL;
	}
	t->priorities = dynbuf_take(&b, &len);
	dynbuf_clear(&b);
	if (gnutls_priority_init(&check, t->priorities, &where) != GNUTLS_E_SUCCESS) {
		snprintf(err, errlen, "GnuTLS rejects the TLS settings \"%.300s\" at \"%.60s\"",
			 t->priorities, where ? where : "");
		server__tls_clear(t);
		return ERR_INVAL;
	}
	gnutls_priority_deinit(check);
	return 0;
}

void server__tls_clear(struct server_tls *t)
{
	free(t->priorities);
	free(t->unavailable);
	memset(t, 0, sizeof(*t));
}

bool server__tls_suite_allowed(const struct server_tls *t, int kx, int cipher, int mac)
{
	if (!t || !t->restrict_suites)
		return true;
	for (size_t i = 0; i < t->nsuites; i++)
		if (t->suites[i].kx == kx && t->suites[i].cipher == cipher && t->suites[i].mac == mac)
			return true;
	return false;
}
