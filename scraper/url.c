/*
 * url.c - splitting a scrape URL ("https://host:port/path", as
 * scraper_node_url writes kubelet URLs, or an application target's
 * "http[s]://host[:port]/path") into what a request needs.  Shared by the
 * kubelet rounds (transfer.c) and the application rounds (appround.c).
 */
#include "scraper/scraper_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int scraper__url_split(const char *url, char *hostport, size_t hp_len, char *host,
		       size_t host_len, struct scraper__request *req)
{
	const char *p, *slash, *colon;
	size_t alen;
	unsigned long port;
	char *end;

	if (strncmp(url, "http://", 7) == 0)
		req->plain = true, p = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		req->plain = false, p = url + 8;
	else
		return ERR_INVAL;
	slash = strchr(p, '/');
	alen = slash ? (size_t)(slash - p) : strlen(p);
	if (alen == 0 || alen >= hp_len)
		return ERR_INVAL;
	snprintf(hostport, hp_len, "%.*s", (int)alen, p);
	colon = strrchr(hostport, ':');
	if (colon && hostport[0] == '[' && colon[-1] != ']')
		colon = NULL; /* a bracketed IPv6 address without a port */
	port = req->plain ? 80 : 443;
	if (colon) {
		port = strtoul(colon + 1, &end, 10);
		if (*end != '\0' || port == 0 || port > 65535)
			return ERR_INVAL;
	} else {
		colon = hostport + alen;
	}
	if (hostport[0] == '[')
		snprintf(host, host_len, "%.*s", (int)(colon - hostport - 2), hostport + 1);
	else
		snprintf(host, host_len, "%.*s", (int)(colon - hostport), hostport);
	req->port = (uint16_t)port;
	req->path = slash ? slash : "/";
	return 0;
}
