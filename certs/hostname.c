/*
 * hostname.c - Go's Certificate.VerifyHostname and HostnameError.Error()
 * (go/src/crypto/x509/verify.go, read for behaviour only): an IP (also in
 * [ ]) matches IP SANs only, a name matches DNS SANs only (the Common Name
 * is ignored, as in Go since 1.15), ASCII case-insensitively, with a
 * left-most "*" label as wildcard when both sides are valid host names.
 */
#include "certs/certs_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HOST_MAX 256   /* bytes of a name we compare; longer never matches */
#define SANS_MAX 256   /* SAN entries looked at */

/* Go's net.ParseIP: v4 dotted quad or v6 text, as 16 bytes (v4 mapped). */
static bool parse_ip(const char *s, unsigned char ip[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (inet_pton(AF_INET, s, ip + 12) == 1) {
		memcpy(ip, mapped, sizeof(mapped));
		return true;
	}
	return inet_pton(AF_INET6, s, ip) == 1;
}

/* SAN i of crt: its GNUTLS_SAN_* type (data in buf, *len bytes, NUL-ended
 * when it fits), or < 0; GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE past the end. */
static int san_at(gnutls_x509_crt_t crt, unsigned i, char buf[HOST_MAX], size_t *len)
{
	int type;

	*len = HOST_MAX - 1;
	type = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, len, NULL);
	if (type >= 0)
		buf[*len] = '\0';
	return type;
}

/* A 4- or 16-byte IP SAN as 16 bytes. */
static bool san_ip16(const char *san, size_t len, unsigned char ip[16])
{
	if (len == 16) {
		memcpy(ip, san, 16);
		return true;
	}
	if (len != 4)
		return false;
	memset(ip, 0, 10);
	ip[10] = ip[11] = 0xff;
	memcpy(ip + 12, san, 4);
	return true;
}

/* Go's net.IP.String() for a v4 or v6 address (v4-mapped prints as v4). */
static void ip_text(const unsigned char ip[16], char *out, size_t outlen)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	bool v4 = memcmp(ip, mapped, sizeof(mapped)) == 0;

	if (!inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? ip + 12 : ip, out, (socklen_t)outlen))
		snprintf(out, outlen, "?");
}

static void lower_ascii(const char *in, char out[HOST_MAX])
{
	size_t i = 0;

	for (; in[i] && i < HOST_MAX - 1; i++)
		out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] + 'a' - 'A') : in[i];
	out[i] = '\0';
}

/* Go's validHostname: RFC 6125 labels, plus '_' and (patterns) a "*" first label. */
static bool valid_hostname(const char *host, bool is_pattern)
{
	size_t len = strlen(host), label = 0;

	if (!is_pattern && len > 0 && host[len - 1] == '.')
		len--;
	if (len == 0 || (is_pattern && strcmp(host, "*") == 0))
		return false;
	for (size_t i = 0, j = 0; i <= len; i++, j++) {
		char c = i < len ? host[i] : '.';

		if (c == '.') {
			if (j == 0)
				return false; /* empty label */
			label++;
			j = (size_t)-1;
		} else if (is_pattern && label == 0 && j == 0 && c == '*' &&
			   (i + 1 == len || host[i + 1] == '.')) {
			continue;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '_' || (c == '-' && j != 0))) {
			return false;
		}
	}
	return true;
}

static size_t count_labels(const char *s)
{
	size_t n = 1;

	for (; *s; s++)
		n += *s == '.';
	return n;
}

/* Go's matchHostnames: same label count, a "*" first label matches any. */
static bool match_hostnames(const char *pattern_in, const char *host_in)
{
	char pattern[HOST_MAX], host[HOST_MAX];
	size_t hl;
	const char *p, *h;

	lower_ascii(pattern_in, pattern);
	lower_ascii(host_in, host);
	hl = strlen(host);
	if (hl > 0 && host[hl - 1] == '.')
		host[hl - 1] = '\0';
	if (!pattern[0] || !host[0] || count_labels(pattern) != count_labels(host))
		return false;
	p = pattern;
	h = host;
	if (p[0] == '*' && (p[1] == '.' || p[1] == '\0')) {
		p++;
		h += strcspn(h, ".");
	}
	return strcmp(p, h) == 0;
}

/* Go's matchExactly. */
static bool match_exactly(const char *a, const char *b)
{
	return a[0] && strcmp(a, ".") != 0 && b[0] && strcmp(b, ".") != 0 &&
	       strcasecmp(a, b) == 0;
}

static bool has_san_extension(gnutls_x509_crt_t crt)
{
	size_t len = 0;
	int rc = gnutls_x509_crt_get_extension_by_oid(crt, "2.5.29.17", 0, NULL, &len, NULL);

	return rc != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE;
}

/* The IP (ips) or DNS SANs of crt, ", "-joined, into out. */
static void join_sans(gnutls_x509_crt_t crt, bool ips, char *out, size_t outlen)
{
	size_t used = 0;
	char san[HOST_MAX], text[INET6_ADDRSTRLEN];
	unsigned char ip[16];
	size_t len;
	int type;

	out[0] = '\0';
	for (unsigned i = 0; i < SANS_MAX; i++) {
		const char *item = san;

		type = san_at(crt, i, san, &len);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type != (ips ? GNUTLS_SAN_IPADDRESS : GNUTLS_SAN_DNSNAME))
			continue;
		if (ips) {
			if (!san_ip16(san, len, ip))
				continue;
			ip_text(ip, text, sizeof(text));
			item = text;
		}
		int w = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", item);
		if (w < 0 || (size_t)w >= outlen - used)
			break;
		used += (size_t)w;
	}
}

/* HostnameError{crt, host}.Error() into err. */
static int hostname_error(gnutls_x509_crt_t crt, const char *host, char *err, size_t errlen)
{
	char cn[HOST_MAX], valid[1024];
	size_t cnlen = sizeof(cn) - 1;
	unsigned char ip[16];
	bool is_ip = parse_ip(host, ip);

	if (!has_san_extension(crt) &&
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cnlen) >= 0 &&
	    match_hostnames(cn, host)) {
		snprintf(err, errlen,
			 "x509: certificate relies on legacy Common Name field, use SANs instead");
		return ERR_TLS;
	}
	join_sans(crt, is_ip, valid, sizeof(valid));
	if (is_ip && !valid[0])
		snprintf(err, errlen,
			 "x509: cannot validate certificate for %s because it doesn't contain any IP SANs",
			 host);
	else if (!valid[0])
		snprintf(err, errlen,
			 "x509: certificate is not valid for any names, but wanted to match %s", host);
	else
		snprintf(err, errlen, "x509: certificate is valid for %s, not %s", valid, host);
	return ERR_TLS;
}

static bool ip_in_sans(gnutls_x509_crt_t crt, const unsigned char want[16])
{
	char san[HOST_MAX];
	unsigned char ip[16];
	size_t len;
	int type;

	for (unsigned i = 0; i < SANS_MAX; i++) {
		type = san_at(crt, i, san, &len);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_SAN_IPADDRESS && san_ip16(san, len, ip) && !memcmp(ip, want, 16))
			return true;
	}
	return false;
}

static bool name_in_sans(gnutls_x509_crt_t crt, const char *host)
{
	char name[HOST_MAX], san[HOST_MAX];
	bool valid_name;
	size_t len;
	int type;

	lower_ascii(host, name);
	valid_name = valid_hostname(name, false);
	for (unsigned i = 0; i < SANS_MAX; i++) {
		type = san_at(crt, i, san, &len);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type != GNUTLS_SAN_DNSNAME || strlen(san) != len)
			continue;
		if (valid_name && valid_hostname(san, true) ? match_hostnames(san, name)
							     : match_exactly(san, name))
			return true;
	}
	return false;
}

int certs__verify_hostname(gnutls_x509_crt_t crt, const char *host, char *err, size_t errlen)
{
	char bare[HOST_MAX];
	size_t hl = strlen(host);
	unsigned char ip[16];

	snprintf(bare, sizeof(bare), "%s", host);
	if (hl >= 3 && hl < HOST_MAX && host[0] == '[' && host[hl - 1] == ']')
		snprintf(bare, sizeof(bare), "%.*s", (int)(hl - 2), host + 1);
	if (parse_ip(bare, ip))
		return ip_in_sans(crt, ip) ? 0 : hostname_error(crt, bare, err, errlen);
	if (hl < HOST_MAX && name_in_sans(crt, host))
		return 0;
	return hostname_error(crt, host, err, errlen);
}
