/*
 * serving_sni.c - which serving pair a TLS handshake gets when
 * --tls-sni-cert-key pairs are configured, as the Go apiserver decides
 * (dynamiccertificates' BuildNamedCertificates, getCertificateNames and
 * GetConfigForClient, then crypto/tls Config.getCertificate; read for
 * behaviour only):
 *
 *   - a pair's names are the ones given after ':' in its flag, else the
 *     names of its leaf certificate: the Subject CN when it is "*" or a
 *     DNS-1123 subdomain (after a "*." prefix) and not an IP address, and
 *     every DNS SAN (IP SANs never: SNI carries no IP addresses);
 *   - a name given explicitly beats one taken from a certificate; among
 *     equals, the pair given first wins;
 *   - the client's server name, lower-cased, matches a name exactly, else
 *     with its first label replaced by "*" ("a.foo.com" -> "*.foo.com");
 *   - a client that sends no server name gets the pair whose name is the
 *     connection's local IP address, when one has it;
 *   - anything else gets the default serving pair.
 */
#include "server/authn_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "certs/certs.h"

#define SNI_MAX_SANS 1024  /* SAN entries looked at in one certificate */
#define SNI_MAX_CNS 64     /* Subject CN attributes looked at */

struct sni_entry {
	char *name;
	size_t slot;     /* 1 + index of the pair */
	bool given;      /* an explicit name, not one of the certificate */
};

struct server__sni {
	struct sni_entry *e;  /* sorted by name, one entry per name */
	size_t n, cap;
};

/* ---- names of a certificate --------------------------------------------------- */

/* net.ParseIPSloppy's IPv4 form: four decimal fields of at most 255,
 * leading zeros allowed.  (An IPv6 text is never a DNS-1123 name.) */
static bool is_ipv4_sloppy(const char *s)
{
	for (int field = 0; field < 4; field++) {
		unsigned v = 0;
		const char *start = s;

		for (; *s >= '0' && *s <= '9'; s++) {
			v = v * 10 + (unsigned)(*s - '0');
			if (v > 255)
				return false;
		}
		if (s == start || *s != (field < 3 ? '.' : '\0'))
			return false;
		s += field < 3;
	}
	return true;
}

/* getCertificateNames: whether the Subject CN is used as a name. */
static bool cn_is_name(const char *cn)
{
	const char *bare = strncmp(cn, "*.", 2) == 0 ? cn + 2 : cn;

	return (strcmp(cn, "*") == 0 || validation_dns_subdomain(bare) == NULL) &&
	       !is_ipv4_sloppy(cn);
}

int server__sni_cert_names(const gnutls_datum_t *der, struct server_strlist *out)
{
	gnutls_x509_crt_t crt;
	char *cn = NULL, *next;
	char san[512];

	if (gnutls_x509_crt_init(&crt) < 0)
		return ERR_PARSE;
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return ERR_PARSE;
	}
	/* Go's pkix.Name keeps the last CN of the Subject */
	for (unsigned i = 0; i < SNI_MAX_CNS &&
	     (next = certs_subject_attr(crt, GNUTLS_OID_X520_COMMON_NAME, i)); i++) {
		free(cn);
		cn = next;
	}
	if (cn && cn_is_name(cn)) {
		out->items = xrealloc(out->items, (out->n + 1) * sizeof(*out->items));
		out->items[out->n++] = cn;
		cn = NULL;
	}
	free(cn);
	for (unsigned i = 0; i < SNI_MAX_SANS; i++) {
		size_t len = sizeof(san) - 1;
		int type = gnutls_x509_crt_get_subject_alt_name(crt, i, san, &len, NULL);

		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		/* names past the buffer could not match a server name anyway */
		if (type != GNUTLS_SAN_DNSNAME || len >= sizeof(san) || memchr(san, '\0', len))
			continue;
		san[len] = '\0';
		out->items = xrealloc(out->items, (out->n + 1) * sizeof(*out->items));
		out->items[out->n++] = xstrdup(san);
	}
	gnutls_x509_crt_deinit(crt);
	return 0;
}

/* ---- the name table ----------------------------------------------------------- */

static const char *entry_name(const void *base, size_t i)
{
	return ((const struct sni_entry *)base)[i].name;
}

struct server__sni *server__sni_new(void)
{
	return xcalloc(1, sizeof(struct server__sni));
}

void server__sni_add(struct server__sni *t, const char *name, size_t slot, bool given)
{
	bool found;
	size_t at = sorted_str_search(t->e, t->n, entry_name, name, &found);

	if (found) {
		struct sni_entry *e = &t->e[at];

		/* given names first, then the earlier pair */
		if (given > e->given || (given == e->given && slot < e->slot)) {
			e->slot = slot;
			e->given = given;
		}
		return;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->e = xrealloc(t->e, t->cap * sizeof(*t->e));
	}
	memmove(&t->e[at + 1], &t->e[at], (t->n - at) * sizeof(*t->e));
	t->e[at] = (struct sni_entry){ .name = xstrdup(name), .slot = slot, .given = given };
	t->n++;
}

void server__sni_free(struct server__sni *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->e[i].name);
	free(t->e);
	free(t);
}

static size_t find(const struct server__sni *t, const char *name)
{
	bool found;
	size_t at = sorted_str_search(t->e, t->n, entry_name, name, &found);

	return found ? t->e[at].slot : 0;
}

/* ---- a handshake's question ------------------------------------------------------ */

/* Go's net.IP.String() of fd's local address (v4-mapped as v4); "" when
 * it cannot be had. */
static void local_ip(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&ss;

	out[0] = '\0';
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		if (!inet_ntop(AF_INET, &((const struct sockaddr_in *)&ss)->sin_addr, out,
			       (socklen_t)len))
			out[0] = '\0';
	} else if (ss.ss_family == AF_INET6) {
		bool mapped = IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr);

		if (!inet_ntop(mapped ? AF_INET : AF_INET6,
			       mapped ? (const void *)&v6->sin6_addr.s6_addr[12]
				      : (const void *)&v6->sin6_addr,
			       out, (socklen_t)len))
			out[0] = '\0';
	}
}

void server__sni_ask(gnutls_session_t session, int fd, struct server__sni_ask *a)
{
	size_t len = sizeof(a->name);
	unsigned type = 0;
	int rc = gnutls_server_name_get(session, a->name, &len, &type, 0);

	a->ip[0] = '\0';
	a->sent = rc != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE;
	if (rc < 0 || type != GNUTLS_NAME_DNS || len >= sizeof(a->name)) {
		a->name[0] = '\0';
		a->usable = false;
	} else {
		a->name[len] = '\0';
		a->usable = true;
		for (size_t i = 0; i < len; i++)
			if (a->name[i] >= 'A' && a->name[i] <= 'Z')
				a->name[i] = (char)(a->name[i] - 'A' + 'a');
	}
	if (!a->sent)
		local_ip(fd, a->ip, sizeof(a->ip));
}

size_t server__sni_pick(const struct server__sni *t, const struct server__sni_ask *a)
{
	const char *dot;
	char wildcard[sizeof(a->name) + 1];
	size_t slot;

	if (!a->sent) {
		/* GetConfigForClient: the local address, by exact name only;
		 * then getCertificate's look-up of the empty name */
		slot = a->ip[0] ? find(t, a->ip) : 0;
		return slot ? slot : find(t, "");
	}
	if (!a->usable)
		return 0;
	slot = find(t, a->name);
	if (slot || !a->name[0])
		return slot;
	dot = strchr(a->name, '.');
	snprintf(wildcard, sizeof(wildcard), "*%s", dot ? dot : "");
	return find(t, wildcard);
}
