/*
 * authz.c - request attributes (apiserver RequestInfo) and the authorizer
 * union of the delegating authorization options:
 *
 *   1. AlwaysAllowGroups ["system:masters"]
 *   2. AlwaysAllowPaths (--authorization-always-allow-paths), non-resource
 *   3. SubjectAccessReview webhook - not yet: until it lands, every
 *      authenticated (non-anonymous) user is allowed here.
 *
 * Nothing allowing is a 403 Status worded as responsewriters.Forbidden.
 */
#include "server/server.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct server_authz {
	const struct server_authz_flags *flags;
};

/* ---- request attributes ----------------------------------------------------- */

static void lower_verb(char *dst, size_t len, const char *method)
{
	size_t i = 0;

	for (; method[i] && i + 1 < len; i++)
		dst[i] = (char)(method[i] >= 'A' && method[i] <= 'Z' ? method[i] + 32 : method[i]);
	dst[i] = '\0';
}

static const char *method_verb(const char *method)
{
	static const char *const map[][2] = {
		{ "POST", "create" }, { "GET", "get" },     { "HEAD", "get" },
		{ "PUT", "update" },  { "PATCH", "patch" }, { "DELETE", "delete" },
	};

	for (size_t i = 0; i < COMMON_ARRAY_LEN(map); i++)
		if (strcmp(method, map[i][0]) == 0)
			return map[i][1];
	return "";
}

/* Splits at->parts in place on '/', skipping empty segments. */
static size_t split(char *s, char **parts, size_t max)
{
	size_t n = 0;
	char *p = s;

	while (*p && n < max) {
		char *slash;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		parts[n++] = p;
		slash = strchr(p, '/');
		if (!slash)
			break;
		*slash = '\0';
		p = slash + 1;
	}
	return n;
}

/* The value of an exact metadata.name requirement ("=" or "=="), or NULL. */
static const char *selector_name(const char *fs, char *buf, size_t len)
{
	static const char key[] = "metadata.name";
	const char *p = fs;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t seg = end ? (size_t)(end - p) : strlen(p);
		size_t klen = strlen(key);

		if (seg > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t skip = klen + (p[klen + 1] == '=' ? 2 : 1);

			if (seg - skip < len && seg > skip && !memchr(p + skip, '/', seg - skip)) {
				memcpy(buf, p + skip, seg - skip);
				buf[seg - skip] = '\0';
				return buf;
			}
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

bool server_watch_requested(const char *watch, bool present)
{
	if (!present)
		return false;
	return !watch || (strcmp(watch, "0") != 0 && strcasecmp(watch, "false") != 0);
}

void server_attrs_parse(struct server_attrs *at, const char *method, const char *path,
			const char *watch, bool watch_present, const char *field_selector)
{
	char *p[16];
	size_t n, i = 0;

	memset(at, 0, offsetof(struct server_attrs, parts));
	at->path = path;
	at->ns = at->group = at->version = at->resource = at->subresource = at->name = "";
	lower_verb(at->verb, sizeof(at->verb), method);
	snprintf(at->parts, sizeof(at->parts), "%s", path);
	n = split(at->parts, p, COMMON_ARRAY_LEN(p));
	if (n < 4 || strcmp(p[0], "apis") != 0)
		return;   /* non-resource (we serve no groupless /api) */
	at->is_resource = true;
	at->group = p[1];
	at->version = p[2];
	i = 3;
	if (strcmp(p[i], "watch") == 0 || strcmp(p[i], "proxy") == 0) {
		snprintf(at->verb, sizeof(at->verb), "%s", p[i]);
		i++;
	} else {
		snprintf(at->verb, sizeof(at->verb), "%s", method_verb(method));
	}
	if (i < n && strcmp(p[i], "namespaces") == 0 && i + 1 < n) {
		at->ns = p[i + 1];
		if (i + 2 < n && strcmp(p[i + 2], "status") != 0 && strcmp(p[i + 2], "finalize") != 0)
			i += 2;
	}
	if (i < n)
		at->resource = p[i];
	if (i + 1 < n)
		at->name = p[i + 1];
	if (i + 2 < n)
		at->subresource = p[i + 2];
	if (!*at->name && strcmp(at->verb, "get") == 0) {
		const char *name = field_selector ? selector_name(field_selector, at->name_buf,
								  sizeof(at->name_buf)) : NULL;

		snprintf(at->verb, sizeof(at->verb), "%s",
			 server_watch_requested(watch, watch_present) ? "watch" : "list");
		if (name)
			at->name = name;
	}
	if (!*at->name && strcmp(at->verb, "delete") == 0)
		snprintf(at->verb, sizeof(at->verb), "deletecollection");
}

/* ---- the authorizer ------------------------------------------------------------- */

struct server_authz *server_authz_new(const struct server_authz_flags *flags)
{
	struct server_authz *z = xcalloc(1, sizeof(*z));

	z->flags = flags;
	return z;
}

void server_authz_free(struct server_authz *z)
{
	free(z);
}

/* AlwaysAllowPaths: exact after trimming one leading '/', "x*" = prefix. */
static bool path_allowed(const struct server_strlist *paths, const char *path)
{
	const char *want = path[0] == '/' ? path + 1 : path;

	for (size_t i = 0; i < paths->n; i++) {
		const char *p = paths->items[i][0] == '/' ? paths->items[i] + 1 : paths->items[i];
		size_t len = strlen(p);

		if (len > 0 && p[len - 1] == '*') {
			if (strncmp(want, p, len - 1) == 0)
				return true;
		} else if (strcmp(want, p) == 0) {
			return true;
		}
	}
	return false;
}

bool server_authz_allowed(const struct server_authz *z, const struct server_user *u,
			  const struct server_attrs *at)
{
	if (server_user_in_group(u, "system:masters"))
		return true;
	if (!at->is_resource && path_allowed(&z->flags->always_allow_paths, at->path))
		return true;
	/* Placeholder for the SubjectAccessReview webhook. */
	return !u->anonymous;
}

/* ---- the 403 ----------------------------------------------------------------------- */

/* Go's %q for the plain strings we quote, then the apiserver's HTML
 * sanitizer (& < >) over the whole message. */
static int add_quoted(struct dynbuf *b, const char *s)
{
	int rc = dynbuf_addch(b, '"');

	for (; *s && rc == 0; s++) {
		if (*s == '"' || *s == '\\')
			rc = dynbuf_addch(b, '\\');
		if (rc == 0 && *s == '&')
			rc = dynbuf_addstr(b, "&amp;");
		else if (rc == 0 && *s == '<')
			rc = dynbuf_addstr(b, "&lt;");
		else if (rc == 0 && *s == '>')
			rc = dynbuf_addstr(b, "&gt;");
		else if (rc == 0)
			rc = dynbuf_addch(b, *s);
	}
	return rc ? rc : dynbuf_addch(b, '"');
}

/* "User \"u\" cannot <verb> ..." (authorizer forbiddenMessage). */
static int forbidden_message(struct dynbuf *b, const struct server_user *u,
			     const struct server_attrs *at)
{
	char resource[512];
	int rc;

	rc = dynbuf_addstr(b, "User ");
	rc = rc ? rc : add_quoted(b, u->name);
	rc = rc ? rc : dynbuf_printf(b, " cannot %s ", at->verb);
	if (rc == 0 && !at->is_resource) {
		rc = dynbuf_addstr(b, "path ");
		return rc ? rc : add_quoted(b, at->path);
	}
	if (rc)
		return rc;
	snprintf(resource, sizeof(resource), "%s%s%s", at->resource, *at->subresource ? "/" : "",
		 at->subresource);
	rc = dynbuf_addstr(b, "resource ");
	rc = rc ? rc : add_quoted(b, resource);
	rc = rc ? rc : dynbuf_addstr(b, " in API group ");
	rc = rc ? rc : add_quoted(b, at->group);
	if (rc == 0 && *at->ns) {
		rc = dynbuf_addstr(b, " in the namespace ");
		return rc ? rc : add_quoted(b, at->ns);
	}
	return rc ? rc : dynbuf_addstr(b, " at the cluster scope");
}

void server_authz_forbid(struct server_exchange *x, const struct server_user *u,
			 const struct server_attrs *at)
{
	struct dynbuf msg, why;
	int rc;

	dynbuf_init(&msg, DYN_SMALL);
	dynbuf_init(&why, DYN_SMALL);
	if (forbidden_message(&why, u, at) != 0)
		dynbuf_reset(&why);
	/* NewForbidden: "<resource>.<group> ["<name>" ]is forbidden: " or "forbidden: ". */
	if (!at->is_resource || !*at->resource) {
		rc = dynbuf_addstr(&msg, "forbidden: ");
	} else {
		rc = dynbuf_printf(&msg, "%s%s%s ", at->resource, *at->group ? "." : "", at->group);
		if (rc == 0 && *at->name)
			rc = add_quoted(&msg, at->name);
		if (rc == 0 && *at->name)
			rc = dynbuf_addch(&msg, ' ');
		if (rc == 0)
			rc = dynbuf_addstr(&msg, "is forbidden: ");
	}
	if (rc == 0 && why.len > 0)
		rc = dynbuf_add(&msg, why.buf, why.len);
	if (rc != 0)
		dynbuf_reset(&msg);
	server_reply_status(x, 403, "Forbidden", msg.len ? msg.buf : "forbidden", at->name,
			    at->group, at->resource);
	dynbuf_clear(&msg);
	dynbuf_clear(&why);
}
