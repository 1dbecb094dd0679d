/*
 * targets.c - node -> kubelet URL, as metrics-server's GetMetrics and
 * prioritizedNodeAddressResolver build it: the first preferred address
 * type the node has, the first address of that type in status order,
 * the node-status port when enabled and set, net.JoinHostPort brackets
 * for IPv6, the path from the resource-metrics-path annotation.
 */
#include "scraper/scraper_int.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_PATH "/metrics/resource"

/* "no address matched types [Hostname InternalIP]" (Go's %v of a slice). */
static void no_match(const struct scraper_options *o, char *err, size_t errlen)
{
	size_t off;

	off = (size_t)snprintf(err, errlen, "no address matched types [");
	for (size_t i = 0; i < o->npreferred && off < errlen; i++)
		off += (size_t)snprintf(err + off, errlen - off, "%s%s", i ? " " : "",
					o->preferred_address_types[i]);
	if (off < errlen)
		snprintf(err + off, errlen - off, "]");
}

/* Host names and IP literals only: nothing that could change the URL. */
static bool address_ok(const char *a)
{
	if (!*a)
		return false;
	for (const char *p = a; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '-' || c == ':' || c == '_';
		if (!ok)
			return false;
	}
	return true;
}

/* An absolute path of printable ASCII without blanks, '?' or '#'. */
static bool path_ok(const char *p)
{
	if (p[0] != '/')
		return false;
	for (; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '?' || *p == '#' || *p == '\\')
			return false;
	return true;
}

static const char *pick_address(const struct scraper_options *o, const struct kube_node *n)
{
	for (size_t t = 0; t < o->npreferred; t++)
		for (size_t i = 0; i < n->naddresses; i++)
			if (strcmp(n->addresses[i].type, o->preferred_address_types[t]) == 0)
				return n->addresses[i].address;
	return NULL;
}

int scraper_node_url(const struct scraper_options *o, const struct kube_node *n, char *url,
		     size_t urllen, char *err, size_t errlen)
{
	const char *addr = pick_address(o, n);
	const char *path = n->metrics_path && *n->metrics_path ? n->metrics_path : DEFAULT_PATH;
	int port = o->use_node_status_port && n->kubelet_port != 0 ? n->kubelet_port : o->kubelet_port;
	int len;

	if (!addr) {
		no_match(o, err, errlen);
		return ERR_NOTFOUND;
	}
	if (!address_ok(addr)) {
		snprintf(err, errlen, "invalid node address %.64s", addr);
		return ERR_INVAL;
	}
	if (port <= 0 || port > 65535) {
		snprintf(err, errlen, "invalid kubelet port %d", port);
		return ERR_INVAL;
	}
	if (!path_ok(path)) {
		snprintf(err, errlen, "invalid resource metrics path %.64s", path);
		return ERR_INVAL;
	}
	len = snprintf(url, urllen, strchr(addr, ':') ? "https://[%s]:%d%s" : "https://%s:%d%s", addr,
		       port, path);
	if (len < 0 || (size_t)len >= urllen) {
		snprintf(err, errlen, "kubelet URL too long");
		return ERR_TOOBIG;
	}
	return 0;
}
