/*
 * authz.c - request attributes (apiserver RequestInfo) and the authorizer
 * union of the delegating authorization options:
 *
 *   1. AlwaysAllowGroups ["system:masters"]
 *   2. AlwaysAllowPaths (--authorization-always-allow-paths), non-resource
 *   3. the SubjectAccessReview webhook (plugin/pkg/authorizer/webhook):
 *      one review per request, resource attributes for API paths and
 *      non-resource ones otherwise, its answers cached by spec
 *      (authz_cache.c) for the authorized / unauthorized TTLs.
 *
 * Nothing allowing is a 403 Status worded as responsewriters.Forbidden;
 * a review that fails is the 500 of responsewriters.InternalError.
 */
#include "server/server.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kube/kube.h"
#include "server/authz_cache.h"

#define AUTHZ_CACHE_ENTRIES 8192    /* the webhook's LRU size */
#define AUTHZ_UNCACHED_ATTRS 10000  /* shouldCache: attributes this long are not kept */
#define AUTHZ_MAX_REASON 4096       /* a review's reason kept, at most */

struct server_authz {
	const struct server_authz_flags *flags;
	struct kube_client *client;
	server_authz_review_fn review;
	void *review_ud;
	struct server__authz_cache *cache;
	atomic_size_t reviews;
	bool allow_reasons;
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

/* The default review: created on kube-apiserver, its status returned. */
static int kube_review(void *ud, json_t *review, json_t **status, char *err, size_t errlen)
{
	json_t *out = NULL;
	int rc = kube_review_create(ud, "authorization.k8s.io", "subjectaccessreviews", review,
				    &out, err, errlen);

	*status = NULL;
	if (rc)
		return rc;
	*status = json_incref(json_object_get(out, "status"));
	json_decref(out);
	if (!json_is_object(*status)) {
		json_decref(*status);
		*status = json_object(); /* no status: no opinion */
	}
	return 0;
}

struct server_authz *server_authz_new(const struct server_authz_options *o)
{
	struct server_authz *z = xcalloc(1, sizeof(*z));

	z->flags = o->flags;
	z->client = o->client;
	z->review = o->review;
	z->review_ud = o->review_ud;
	z->allow_reasons = o->allow_reasons;
	if (!z->review && z->client) {
		z->review = kube_review;
		z->review_ud = z->client;
	}
	z->cache = server__authz_cache_new(AUTHZ_CACHE_ENTRIES);
	return z;
}

void server_authz_free(struct server_authz *z)
{
	if (!z)
		return;
	server__authz_cache_free(z->cache);
	free(z);
}

size_t server_authz_reviews(const struct server_authz *z)
{
	return atomic_load(&((struct server_authz *)z)->reviews);
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

/* ---- the review and its cache key ------------------------------------------------- */

struct keybuf {
	char *p;
	size_t len, cap;   /* len may pass cap: then only counted */
};

static void key_put(struct keybuf *k, const void *p, size_t n)
{
	if (k->len + n <= k->cap)
		memcpy(k->p + k->len, p, n);
	k->len += n;
}

static void key_add(struct keybuf *k, const char *s)
{
	uint32_t len = (uint32_t)strlen(s);

	key_put(k, &len, sizeof(len));
	key_put(k, s, len);
}

/* The cache key: every field of the review's spec, length-prefixed;
 * returns its length (written only as far as k->cap). */
static size_t cache_key(struct keybuf *k, const struct server_user *u,
			const struct server_attrs *at)
{
	const char *const fields[] = { at->ns,       at->verb,        at->group, at->version,
				       at->resource, at->subresource, at->name };

	k->len = 0;
	key_put(k, at->is_resource ? "R" : "N", 1);
	key_add(k, u->name);
	key_add(k, u->uid ? u->uid : ""); /* the review's spec carries it */
	for (size_t i = 0; i < u->ngroups; i++)
		key_add(k, u->groups[i]);
	key_put(k, "\x01", 1);
	for (size_t i = 0; i < u->nextra; i++) {
		key_add(k, u->extra[i].key);
		key_add(k, u->extra[i].value);
	}
	key_put(k, "\x02", 1);
	if (!at->is_resource) {
		key_add(k, at->verb);
		key_add(k, at->path);
	}
	for (size_t i = 0; at->is_resource && i < COMMON_ARRAY_LEN(fields); i++)
		key_add(k, fields[i]);
	return k->len;
}

/* shouldCache: the attributes' summed length stays under the limit. */
static bool should_cache(const struct server_attrs *at)
{
	size_t n = strlen(at->ns) + strlen(at->verb) + strlen(at->group) + strlen(at->version) +
		   strlen(at->resource) + strlen(at->subresource) + strlen(at->name) +
		   strlen(at->path);

	return n < AUTHZ_UNCACHED_ATTRS;
}

static void set_nonempty(json_t *o, const char *key, const char *v)
{
	if (v && *v)
		json_object_set_new(o, key, json_string(v));
}

/* The SubjectAccessReview the webhook sends for u and at. */
static json_t *review_body(const struct server_user *u, const struct server_attrs *at)
{
	json_t *spec = json_object(), *attrs = json_object();

	if (at->is_resource) {
		set_nonempty(attrs, "namespace", at->ns);
		set_nonempty(attrs, "verb", at->verb);
		set_nonempty(attrs, "group", at->group);
		set_nonempty(attrs, "version", at->version);
		set_nonempty(attrs, "resource", at->resource);
		set_nonempty(attrs, "subresource", at->subresource);
		set_nonempty(attrs, "name", at->name);
		json_object_set_new(spec, "resourceAttributes", attrs);
	} else {
		set_nonempty(attrs, "path", at->path);
		set_nonempty(attrs, "verb", at->verb);
		json_object_set_new(spec, "nonResourceAttributes", attrs);
	}
	set_nonempty(spec, "user", u->name);
	if (u->ngroups) {
		json_t *g = json_array();

		for (size_t i = 0; i < u->ngroups; i++)
			json_array_append_new(g, json_string(u->groups[i]));
		json_object_set_new(spec, "groups", g);
	}
	if (u->nextra) {
		json_t *extra = json_object();

		for (size_t i = 0; i < u->nextra; i++) {
			json_t *vals = json_object_get(extra, u->extra[i].key);

			if (!vals) {
				vals = json_array();
				json_object_set_new(extra, u->extra[i].key, vals);
			}
			json_array_append_new(vals, json_string(u->extra[i].value));
		}
		json_object_set_new(spec, "extra", extra);
	}
	if (u->uid) /* a TokenReview's uid (SubjectAccessReviewSpec.UID, after extra) */
		set_nonempty(spec, "uid", u->uid);
	return json_pack("{s:s,s:s,s:{},s:o}", "kind", "SubjectAccessReview", "apiVersion",
			 "authorization.k8s.io/v1", "metadata", "spec", spec);
}

/* Asks the webhook; 0 with *a filled, or an error with its text in *why. */
static int ask(const struct server_authz *z, const struct server_user *u,
	       const struct server_attrs *at, struct server__authz_answer *a, char **why)
{
	json_t *review = review_body(u, at), *status = NULL;
	char err[1024] = "";
	const char *reason;
	int rc;

	atomic_fetch_add(&((struct server_authz *)z)->reviews, 1);
	rc = review ? z->review(z->review_ud, review, &status, err, sizeof(err)) : ERR_INVAL;
	json_decref(review);
	if (rc) {
		log_error("Failed to make webhook authorizer request: %s", err);
		*why = xstrdup(*err ? err : "subject access review failed");
		return rc;
	}
	reason = json_string_value(json_object_get(status, "reason"));
	a->allowed = json_is_true(json_object_get(status, "allowed"));
	a->denied = json_is_true(json_object_get(status, "denied"));
	/* only a denial shows its reason, unless audit events want them all
	 * (kept out of the cache otherwise, so that an allowed hit copies nothing) */
	a->reason = reason && *reason && (!a->allowed || z->allow_reasons)
			    ? xstrndup(reason, AUTHZ_MAX_REASON)
			    : NULL;
	json_decref(status);
	return 0;
}

enum server_authz_decision server_authz_decide(const struct server_authz *z,
					       const struct server_user *u,
					       const struct server_attrs *at, bool may_block,
					       char **why)
{
	struct server__authz_answer a = { 0 };
	char stack[2048];
	struct keybuf key = { stack, 0, sizeof(stack) };
	bool cacheable = should_cache(at);
	int64_t now = clock_mono_ns();

	*why = NULL;
	if (server_user_in_group(u, "system:masters"))
		return SERVER_AUTHZ_ALLOW;
	if (!at->is_resource && path_allowed(&z->flags->always_allow_paths, at->path))
		return SERVER_AUTHZ_ALLOW;
	if (!z->review)
		return SERVER_AUTHZ_DENY;
	if (cacheable && cache_key(&key, u, at) > key.cap) { /* long group lists */
		key.cap = key.len;
		key.p = xmalloc(key.cap);
		cache_key(&key, u, at);
	}
	if (!cacheable || !server__authz_cache_get(z->cache, key.p, key.len, now, &a)) {
		if (!may_block) {
			if (key.p != stack)
				free(key.p);
			return SERVER_AUTHZ_PENDING;
		}
		if (ask(z, u, at, &a, why) != 0) {
			if (key.p != stack)
				free(key.p);
			return SERVER_AUTHZ_ERROR;
		}
		if (cacheable)
			server__authz_cache_put(z->cache, key.p, key.len, &a, clock_mono_ns(),
						a.allowed ? z->flags->authorized_ttl_ns
							  : z->flags->unauthorized_ttl_ns);
	}
	if (key.p != stack)
		free(key.p);
	if (a.denied && a.allowed) {
		free(a.reason);
		*why = xstrdup("webhook subject access review returned both allow and deny "
			       "response");
		return SERVER_AUTHZ_ERROR;
	}
	if (a.allowed) {
		if (z->allow_reasons)
			*why = a.reason;
		else
			free(a.reason);
		return SERVER_AUTHZ_ALLOW;
	}
	*why = a.reason;
	return SERVER_AUTHZ_DENY;
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
			 const struct server_attrs *at, const char *reason)
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
	if (rc == 0 && reason && *reason)
		rc = dynbuf_printf(&msg, ": %s", reason);
	if (rc != 0)
		dynbuf_reset(&msg);
	server_reply_status(x, 403, "Forbidden", msg.len ? msg.buf : "forbidden", at->name,
			    at->group, at->resource);
	dynbuf_clear(&msg);
	dynbuf_clear(&why);
}

/* ---- the 500 --------------------------------------------------------------------------- */

void server_authz_fail(struct server_exchange *x, const char *request_uri, const char *err)
{
	struct dynbuf *b = &x->body;
	int rc;

	x->status = 500;
	x->content_type = "text/plain; charset=utf-8";
	dynbuf_reset(b);
	rc = dynbuf_addstr(b, "Internal Server Error: ");
	rc = rc ? rc : add_quoted(b, request_uri ? request_uri : x->path);
	rc = rc ? rc : dynbuf_addstr(b, ": ");
	for (const char *p = err; *p && !rc; p++)
		rc = *p == '&' ? dynbuf_addstr(b, "&amp;") : *p == '<' ? dynbuf_addstr(b, "&lt;")
		   : *p == '>' ? dynbuf_addstr(b, "&gt;") : dynbuf_addch(b, *p);
	rc = rc ? rc : dynbuf_addch(b, '\n');
	if (rc) {
		dynbuf_reset(b);
		if (dynbuf_addstr(b, "Internal Server Error\n"))
			dynbuf_reset(b);
	}
}
