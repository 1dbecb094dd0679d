/*
 * proxy.c - which kubelet requests go through HTTPS_PROXY, decided as
 * Go's http.ProxyFromEnvironment does (golang.org/x/net/http/httpproxy),
 * which is what metrics-server's kubelet client uses.
 */
#include "scraper/scraper_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VALUE (64u << 10) /* an environment value longer than this is refused */

/* ---- addresses --------------------------------------------------------------- */

/* An IPv4 or IPv6 literal as 16 bytes (v4 mapped into ::ffff:0:0/96). */
static bool parse_ip(const char *s, unsigned char out[16])
{
	unsigned char v4[4];

	if (inet_pton(AF_INET, s, v4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, v4, 4);
		return true;
	}
	return inet_pton(AF_INET6, s, out) == 1;
}

static bool is_v4_mapped(const unsigned char a[16])
{
	static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return memcmp(a, prefix, 12) == 0;
}

static bool is_loopback(const unsigned char a[16])
{
	static const unsigned char v6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

	return (is_v4_mapped(a) && a[12] == 127) || memcmp(a, v6, 16) == 0;
}

static bool prefix_match(const unsigned char *a, const unsigned char *net, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, net, whole) != 0)
		return false;
	return rest == 0 || ((a[whole] ^ net[whole]) & (0xffu << (8 - rest)) & 0xffu) == 0;
}

/* "1.2.3.0/24" or "2001:db8::/32", as net.ParseCIDR. */
static bool parse_cidr(const char *s, struct scraper__proxy_rule *r)
{
	char ip[64];
	const char *slash = strchr(s, '/');
	char *end;
	unsigned long bits;
	size_t n;

	if (!slash || (n = (size_t)(slash - s)) >= sizeof(ip) || !isdigit((unsigned char)slash[1]))
		return false;
	memcpy(ip, s, n);
	ip[n] = '\0';
	bits = strtoul(slash + 1, &end, 10);
	if (*end || !parse_ip(ip, r->addr))
		return false;
	if (strchr(ip, ':') == NULL) {
		if (bits > 32)
			return false;
		bits += 96;
	} else if (bits > 128) {
		return false;
	}
	r->bits = (unsigned)bits;
	/* the network, not the address given (net.ParseCIDR masks it) */
	for (unsigned i = r->bits; i < 128; i++)
		r->addr[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
	r->kind = SCRAPER__NP_CIDR;
	return true;
}

/* net.SplitHostPort for an entry: host (brackets removed) and port
 * (0 when none; false when a port is there but is not a port number,
 * which Go keeps as a string that never matches). */
static bool split_host_port(const char *s, char *host, size_t hostlen, uint16_t *port,
			    bool *has_port)
{
	const char *colon = strrchr(s, ':');
	size_t n;

	*port = 0;
	*has_port = false;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || (close[1] != ':' && close[1] != '\0'))
			goto whole;
		n = (size_t)(close - s - 1);
		if (n >= hostlen)
			return false;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		colon = close[1] == ':' ? close + 1 : NULL;
	} else if (!colon || strchr(s, ':') != colon) {
		goto whole; /* no port, or a bare IPv6 address */
	} else {
		n = (size_t)(colon - s);
		if (n >= hostlen)
			return false;
		memcpy(host, s, n);
		host[n] = '\0';
	}
	if (colon) {
		char *end;
		unsigned long p = strtoul(colon + 1, &end, 10);

		*has_port = true;
		if (!isdigit((unsigned char)colon[1]) || *end || p > 65535)
			return false;
		*port = (uint16_t)p;
	}
	return true;
whole:
	return (size_t)snprintf(host, hostlen, "%s", s) < hostlen;
}

/* ---- NO_PROXY ------------------------------------------------------------------ */

/* One NO_PROXY entry (lower-cased, trimmed) into a rule; false to skip it. */
static bool parse_rule(const char *e, struct scraper__proxy_rule *r)
{
	char host[300];
	bool has_port;

	memset(r, 0, sizeof(*r));
	if (parse_cidr(e, r))
		return true;
	if (!split_host_port(e, host, sizeof(host), &r->port, &has_port) || !host[0])
		return false;
	if (parse_ip(host, r->addr)) {
		r->kind = SCRAPER__NP_IP;
		return true;
	}
	if (strncmp(host, "*.", 2) == 0)
		memmove(host, host + 1, strlen(host)); /* "*.foo.com" is ".foo.com" */
	r->kind = SCRAPER__NP_DOMAIN;
	r->match_host = host[0] != '.';
	if (snprintf(r->domain, sizeof(r->domain), "%s%s", r->match_host ? "." : "", host) >=
	    (int)sizeof(r->domain))
		return false;
	return true;
}

static void parse_no_proxy(struct scraper__proxy *px, const char *v)
{
	const char *p = v;

	while (*p && px->nrules < SCRAPER__PROXY_MAX_RULES) {
		size_t len = strcspn(p, ","), i = 0, j = len;
		char e[300];

		while (i < j && isspace((unsigned char)p[i]))
			i++;
		while (j > i && isspace((unsigned char)p[j - 1]))
			j--;
		if (j > i && j - i < sizeof(e)) {
			for (size_t k = i; k < j; k++)
				e[k - i] = (char)tolower((unsigned char)p[k]);
			e[j - i] = '\0';
			if (strcmp(e, "*") == 0) {
				px->no_proxy_all = true;
				return;
			}
			if (!px->rules)
				px->rules = xcalloc(SCRAPER__PROXY_MAX_RULES, sizeof(*px->rules));
			if (parse_rule(e, &px->rules[px->nrules]))
				px->nrules++;
		}
		p += len + (p[len] == ',');
	}
}

static bool rule_matches(const struct scraper__proxy_rule *r, const char *host, bool is_ip,
			 const unsigned char ip[16], uint16_t port)
{
	size_t hl, dl;

	switch (r->kind) {
	case SCRAPER__NP_CIDR:
		return is_ip && prefix_match(ip, r->addr, r->bits);
	case SCRAPER__NP_IP:
		return is_ip && memcmp(ip, r->addr, 16) == 0 && (!r->port || r->port == port);
	case SCRAPER__NP_DOMAIN:
		hl = strlen(host);
		dl = strlen(r->domain);
		if ((hl >= dl && strcmp(host + hl - dl, r->domain) == 0) ||
		    (r->match_host && strcmp(host, r->domain + 1) == 0))
			return !r->port || r->port == port;
		return false;
	}
	return false;
}

/* ---- HTTPS_PROXY ------------------------------------------------------------------ */

static uint16_t default_port(const char *scheme)
{
	if (strcmp(scheme, "https") == 0)
		return 443;
	if (strcmp(scheme, "socks5") == 0 || strcmp(scheme, "socks5h") == 0)
		return 1080;
	return 80;
}

/* "user:password" percent-decoded into "Basic base64(user:password)". */
static int proxy_auth(struct scraper__proxy *px, const char *info, size_t n)
{
	char *plain = url_unescape(info, n, false), *b64;

	if (!plain)
		return ERR_INVAL;
	b64 = base64_encode(plain, strlen(plain));
	px->auth = xasprintf("Basic %s", b64);
	memset(plain, 0, strlen(plain));
	free(plain);
	free(b64);
	return 0;
}

/* url.Parse, then Go's fallback of "http://" + value for a value without
 * a known scheme. */
static int parse_proxy_url(struct scraper__proxy *px, const char *v, char *err, size_t errlen)
{
	const char *sep = strstr(v, "://"), *rest = v, *at, *end;
	char hostport[300];
	bool has_port;
	size_t n;

	snprintf(px->scheme, sizeof(px->scheme), "http");
	if (sep) {
		size_t sl = (size_t)(sep - v);
		char scheme[16];

		if (sl && sl < sizeof(scheme)) {
			for (size_t i = 0; i < sl; i++)
				scheme[i] = (char)tolower((unsigned char)v[i]);
			scheme[sl] = '\0';
			if (!strcmp(scheme, "http") || !strcmp(scheme, "https") ||
			    !strcmp(scheme, "socks5") || !strcmp(scheme, "socks5h")) {
				snprintf(px->scheme, sizeof(px->scheme), "%s", scheme);
				rest = sep + 3;
			}
		}
	}
	end = rest + strcspn(rest, "/?#");
	at = memchr(rest, '@', (size_t)(end - rest));
	if (at) {
		/* the last '@' before the path separates the user info */
		for (const char *q = at; q < end; q++)
			if (*q == '@')
				at = q;
		if (proxy_auth(px, rest, (size_t)(at - rest)) != 0)
			goto bad;
		rest = at + 1;
	}
	n = (size_t)(end - rest);
	if (n == 0 || n >= sizeof(hostport))
		goto bad;
	memcpy(hostport, rest, n);
	hostport[n] = '\0';
	if (!split_host_port(hostport, px->host, sizeof(px->host), &px->port, &has_port) ||
	    !px->host[0] || (has_port && px->port == 0))
		goto bad;
	if (!has_port)
		px->port = default_port(px->scheme);
	px->set = true;
	return 0;
bad:
	snprintf(err, errlen, "invalid proxy address \"%.200s\"", v);
	free(px->auth);
	px->auth = NULL;
	return ERR_INVAL;
}

int scraper__proxy_init(struct scraper__proxy *px, const char *https_proxy,
			const char *no_proxy, char *err, size_t errlen)
{
	memset(px, 0, sizeof(*px));
	if (err && errlen)
		err[0] = '\0';
	if (https_proxy && strnlen(https_proxy, MAX_VALUE + 1) > MAX_VALUE) {
		snprintf(err, errlen, "HTTPS_PROXY is longer than %u bytes", MAX_VALUE);
		return ERR_INVAL;
	}
	if (no_proxy && strnlen(no_proxy, MAX_VALUE + 1) <= MAX_VALUE)
		parse_no_proxy(px, no_proxy);
	if (https_proxy && *https_proxy)
		return parse_proxy_url(px, https_proxy, err, errlen);
	return 0;
}

static const char *env2(const char *upper, const char *lower)
{
	const char *v = getenv(upper);

	return v && *v ? v : getenv(lower);
}

int scraper__proxy_from_env(struct scraper__proxy *px, char *err, size_t errlen)
{
	return scraper__proxy_init(px, env2("HTTPS_PROXY", "https_proxy"),
				   env2("NO_PROXY", "no_proxy"), err, errlen);
}

bool scraper__proxy_use(const struct scraper__proxy *px, const char *host, uint16_t port)
{
	unsigned char ip[16];
	char lower[256];
	size_t n = strlen(host);
	bool is_ip;

	if (!px->set || !n || n >= sizeof(lower) || strcmp(host, "localhost") == 0)
		return false;
	is_ip = parse_ip(host, ip);
	if ((is_ip && is_loopback(ip)) || px->no_proxy_all)
		return false;
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)host[i]);
	for (size_t i = 0; i < px->nrules; i++)
		if (rule_matches(&px->rules[i], lower, is_ip, ip, port))
			return false;
	return true;
}

void scraper__proxy_clear(struct scraper__proxy *px)
{
	if (px->auth) {
		memset(px->auth, 0, strlen(px->auth));
		free(px->auth);
	}
	free(px->rules);
	memset(px, 0, sizeof(*px));
}
