/*
 * audit_event.c - one audit event as text, as the apiserver's log backend
 * writes it: "json" (the audit.k8s.io/v1 Event, Go's field order and
 * string escaping, compact, one line) or "legacy" (audit.EventString's
 * one-line text).
 */
#include "server/audit_int.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUDIT_MAX_UA 1024               /* maxUserAgentLength */
#define AUDIT_MAX_XFF 32                /* X-Forwarded-For addresses kept */

/* ---- rendering -------------------------------------------------------------- */

void server__jout_raw(struct server__jout *o, const char *s)
{
	if (o->rc == 0)
		o->rc = dynbuf_addstr(&o->b, s);
}

void server__jout_str(struct server__jout *o, const char *s)
{
	if (o->rc == 0)
		o->rc = jsonw_string(&o->b, s);
}

/* ,"key":"value" (or without the comma when first) */
void server__jout_member(struct server__jout *o, bool *first, const char *key, const char *value)
{
	if (!*first)
		server__jout_raw(o, ",");
	*first = false;
	if (o->rc == 0)
		o->rc = jsonw_key(&o->b, key);
	server__jout_str(o, value);
}

/* MicroTime: RFC 3339 in UTC with microseconds. */
static void out_micro_time(struct server__jout *o, int64_t ns)
{
	time_t secs = (time_t)(ns / NS_PER_SEC);
	struct tm tm;
	char buf[48];

	gmtime_r(&secs, &tm);
	snprintf(buf, sizeof(buf), "\"%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ\"", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (long)(ns % NS_PER_SEC / 1000));
	server__jout_raw(o, buf);
}

static void out_user(struct server__jout *o, const struct server_user *u)
{
	bool first = true;

	server__jout_raw(o, ",\"user\":{");
	if (u && u->name && *u->name)
		server__jout_member(o, &first, "username", u->name);
	if (u && u->uid && *u->uid)
		server__jout_member(o, &first, "uid", u->uid);
	if (u && u->ngroups > 0) {
		server__jout_raw(o, first ? "\"groups\":[" : ",\"groups\":[");
		first = false;
		for (size_t i = 0; i < u->ngroups; i++) {
			server__jout_raw(o, i ? "," : "");
			server__jout_str(o, u->groups[i]);
		}
		server__jout_raw(o, "]");
	}
	if (u && u->nextra > 0) { /* a map of lists: values of one key are adjacent */
		server__jout_raw(o, first ? "\"extra\":{" : ",\"extra\":{");
		for (size_t i = 0; i < u->nextra; i++) {
			if (i > 0 && strcmp(u->extra[i - 1].key, u->extra[i].key) == 0) {
				server__jout_raw(o, ",");
			} else {
				server__jout_raw(o, i ? "]," : "");
				if (o->rc == 0)
					o->rc = jsonw_key(&o->b, u->extra[i].key);
				server__jout_raw(o, "[");
			}
			server__jout_str(o, u->extra[i].value);
		}
		server__jout_raw(o, "]}");
	}
	server__jout_raw(o, "}");
}

static bool same_ip(const char *a, const char *b)
{
	unsigned char x[16], y[16];
	int fa = strchr(a, ':') ? AF_INET6 : AF_INET, fb = strchr(b, ':') ? AF_INET6 : AF_INET;

	return fa == fb && inet_pton(fa, a, x) == 1 && inet_pton(fb, b, y) == 1 &&
	       memcmp(x, y, fa == AF_INET ? 4 : 16) == 0;
}

/* An address as net.IP.String() writes it, into out; false when not one. */
static bool canonical_ip(const char *s, size_t n, char out[INET6_ADDRSTRLEN])
{
	char tmp[INET6_ADDRSTRLEN];
	unsigned char raw[16];

	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, raw) == 1)
		return inet_ntop(AF_INET, raw, out, INET6_ADDRSTRLEN) != NULL;
	if (inet_pton(AF_INET6, tmp, raw) != 1)
		return false;
	if (memcmp(raw, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) /* IPv4-mapped: Go prints v4 */
		return inet_ntop(AF_INET, raw + 12, out, INET6_ADDRSTRLEN) != NULL;
	return inet_ntop(AF_INET6, raw, out, INET6_ADDRSTRLEN) != NULL;
}

/* The peer's address as text, "" when unknown. */
static void peer_address(struct MHD_Connection *c, char host[INET6_ADDRSTRLEN])
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	*host = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, host,
			  INET6_ADDRSTRLEN);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  host, INET6_ADDRSTRLEN);
}

typedef char audit_ip[INET6_ADDRSTRLEN];

/* utilnet.SourceIPs into ips: X-Forwarded-For's addresses, X-Real-Ip
 * unless already there, then the peer unless it is the last one. */
static size_t source_ips(struct MHD_Connection *c, audit_ip ips[AUDIT_MAX_XFF + 2])
{
	char host[INET6_ADDRSTRLEN];
	const char *xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
	const char *real = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Real-Ip");
	size_t n = 0;

	for (const char *p = xff; p && *p && n < AUDIT_MAX_XFF;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (canonical_ip(p, len, ips[n]))
			n++;
		p += len + (end != NULL);
	}
	if (real && canonical_ip(real, strlen(real), ips[n])) {
		bool dup = false;

		for (size_t i = 0; i < n && !dup; i++)
			dup = same_ip(ips[i], ips[n]);
		n += !dup;
	}
	peer_address(c, host);
	if (*host && canonical_ip(host, strlen(host), ips[n]) &&
	    (n == 0 || !same_ip(ips[n - 1], ips[n])))
		n++;
	return n;
}

static void out_source_ips(struct server__jout *o, struct MHD_Connection *c)
{
	audit_ip ips[AUDIT_MAX_XFF + 2];
	size_t n = source_ips(c, ips);

	if (n == 0)
		return;
	server__jout_raw(o, ",\"sourceIPs\":[");
	for (size_t i = 0; i < n; i++) {
		server__jout_raw(o, i ? "," : "");
		server__jout_str(o, ips[i]);
	}
	server__jout_raw(o, "]");
}

/* The User-Agent, cut as maybeTruncateUserAgent does (free it). */
static char *user_agent(struct MHD_Connection *c)
{
	const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent");

	if (!ua)
		return xstrdup("");
	if (strlen(ua) <= AUDIT_MAX_UA)
		return xstrdup(ua);
	return xasprintf("%.*s...TRUNCATED", AUDIT_MAX_UA, ua);
}

static void out_user_agent(struct server__jout *o, struct MHD_Connection *c)
{
	char *ua = user_agent(c);

	if (*ua) {
		server__jout_raw(o, ",\"userAgent\":");
		server__jout_str(o, ua);
	}
	free(ua);
}

static void out_object_ref(struct server__jout *o, const struct server_attrs *at)
{
	const char *const keys[] = { "resource", "namespace", "name", "apiGroup", "apiVersion",
				     "subresource" };
	const char *const vals[] = { at->resource, at->ns,      at->name,
				     at->group,    at->version, at->subresource };
	bool first = true;

	if (!at->is_resource)
		return;
	server__jout_raw(o, ",\"objectRef\":{");
	for (size_t i = 0; i < COMMON_ARRAY_LEN(keys); i++)
		if (vals[i] && *vals[i])
			server__jout_member(o, &first, keys[i], vals[i]);
	server__jout_raw(o, "}");
}


static void render_json(struct server__jout *o, const struct server__audit_event *e)
{
	const struct server__audit_rec *r = e->r;
	char head[160];

	snprintf(head, sizeof(head), "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\","
		 "\"level\":\"%s\",\"auditID\":", server__audit_level_name(r->level));
	server__jout_raw(o, head);
	server__jout_str(o, r->id);
	snprintf(head, sizeof(head), ",\"stage\":\"%s\",\"requestURI\":",
		 server__audit_stage_name(e->stage));
	server__jout_raw(o, head);
	server__jout_str(o, e->raw_uri ? e->raw_uri : "");
	server__jout_raw(o, ",\"verb\":");
	server__jout_str(o, e->at->verb);
	out_user(o, e->user);
	out_source_ips(o, e->conn);
	out_user_agent(o, e->conn);
	out_object_ref(o, e->at);
	if (e->response_status) {
		server__jout_raw(o, ",\"responseStatus\":");
		server__jout_raw(o, e->response_status);
	}
	if (e->stage == SERVER__AUDIT_COMPLETE && r->response_object &&
	    r->level >= SERVER__AUDIT_REQUEST_RESPONSE) {
		server__jout_raw(o, ",\"responseObject\":");
		server__jout_raw(o, r->response_object);
	}
	server__jout_raw(o, ",\"requestReceivedTimestamp\":");
	out_micro_time(o, r->received_ns);
	server__jout_raw(o, ",\"stageTimestamp\":");
	out_micro_time(o, e->stage == SERVER__AUDIT_RECEIVED ? r->received_ns : clock_now_ns());
	if (e->annotations && (r->decision || r->reason)) { /* a map: Go sorts its keys */
		bool first = true;

		server__jout_raw(o, ",\"annotations\":{");
		if (r->decision)
			server__jout_member(o, &first, "authorization.k8s.io/decision", r->decision);
		server__jout_member(o, &first, "authorization.k8s.io/reason", r->reason ? r->reason : "");
		server__jout_raw(o, "}");
	}
	server__jout_raw(o, "}\n");
}


/* ---- legacy --------------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	uint32_t min = n == 4 ? 0x10000 : n == 3 ? 0x800 : 0x80;

	if (n == 0 || s[0] > 0xf4)
		return 0;
	*cp = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return *cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff) ? 0 : n;
}

/* Go's %q (strconv.Quote): ASCII escapes, invalid bytes as \xNN; every
 * other valid code point is kept but U+2028/2029 (not printable). */
static void out_goquote(struct server__jout *o, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	char tmp[16];

	server__jout_raw(o, "\"");
	while (*s && o->rc == 0) {
		uint32_t cp;
		size_t n;

		if (*s == '"' || *s == '\\') {
			snprintf(tmp, sizeof(tmp), "\\%c", *s++);
		} else if (*s >= 0x07 && *s <= 0x0d) {
			snprintf(tmp, sizeof(tmp), "\\%c", "abtnvfr"[*s++ - 0x07]);
		} else if (*s < 0x20 || *s == 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", *s++);
		} else if (*s < 0x80) {
			snprintf(tmp, sizeof(tmp), "%c", *s++);
		} else if ((n = utf8_seq(s, &cp)) == 0) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", *s++);
		} else if (cp == 0x2028 || cp == 0x2029) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)cp);
			s += n;
		} else {
			memcpy(tmp, s, n);
			tmp[n] = '\0';
			s += n;
		}
		server__jout_raw(o, tmp);
	}
	server__jout_raw(o, "\"");
}

/* audit.EventString */
static void render_legacy(struct server__jout *o, const struct server__audit_event *e)
{
	const struct server__audit_rec *r = e->r;
	const struct server_user *u = e->user;
	struct server__jout groups = { .rc = 0 };
	audit_ip ips[AUDIT_MAX_XFF + 2];
	time_t secs = (time_t)(r->received_ns / NS_PER_SEC);
	char when[64], frac[16], code[16];
	char *ua = user_agent(e->conn);
	const char *status = e->response_status ? strstr(e->response_status, "\"code\":") : NULL;
	struct tm tm;
	size_t n;

	gmtime_r(&secs, &tm); /* RFC3339Nano: trailing zeros of the fraction cut */
	snprintf(frac, sizeof(frac), ".%09d", (int)(r->received_ns % NS_PER_SEC));
	for (n = strlen(frac); n > 1 && frac[n - 1] == '0'; n--)
		frac[n - 1] = '\0';
	if (n == 1)
		frac[0] = '\0';
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
	dynbuf_init(&groups.b, DYN_SMALL);
	for (size_t i = 0; u && u->name && *u->name && i < u->ngroups; i++) {
		server__jout_raw(&groups, i ? "," : "");
		out_goquote(&groups, u->groups[i]);
	}
	server__jout_raw(o, when);
	server__jout_raw(o, " AUDIT: id=");
	out_goquote(o, r->id);
	server__jout_raw(o, " stage=");
	out_goquote(o, server__audit_stage_name(e->stage));
	server__jout_raw(o, " ip=");
	out_goquote(o, source_ips(e->conn, ips) ? ips[0] : "<unknown>");
	server__jout_raw(o, " method=");
	out_goquote(o, e->at->verb);
	server__jout_raw(o, " user=");
	out_goquote(o, u && u->name && *u->name ? u->name : "<none>");
	server__jout_raw(o, " groups=");
	out_goquote(o, groups.b.len ? groups.b.buf : "<none>");
	server__jout_raw(o, " as=\"<self>\" asgroups=\"<lookup>\" user-agent=");
	out_goquote(o, ua);
	server__jout_raw(o, " namespace=");
	out_goquote(o, e->at->is_resource && *e->at->ns ? e->at->ns : "<none>");
	server__jout_raw(o, " uri=");
	out_goquote(o, e->raw_uri ? e->raw_uri : "");
	if (status) {
		char *end;
		long v = strtol(status + 7, &end, 10);

		snprintf(code, sizeof(code), "%ld", end > status + 7 ? v : 0L);
	}
	server__jout_raw(o, " response=\"");
	server__jout_raw(o, status ? code : "<deferred>");
	server__jout_raw(o, "\"\n");
	dynbuf_clear(&groups.b);
	free(ua);
}

void server__audit_render(struct dynbuf *b, const struct server__audit_event *e, bool legacy,
			  int *rc)
{
	struct server__jout o = { .b = *b, .rc = 0 };

	if (legacy)
		render_legacy(&o, e);
	else
		render_json(&o, e);
	*b = o.b;
	*rc = o.rc;
}
