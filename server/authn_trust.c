/*
 * authn_trust.c - the trust sets of the authenticator, as the Go
 * DelegatingAuthenticationOptions build them:
 *
 *   client CA       --client-ca-file, else the ConfigMap's client-ca-file
 *   request header  --requestheader-client-ca-file with the
 *                   --requestheader-* lists, else the ConfigMap's
 *                   requestheader-client-ca-file and its JSON lists
 *
 * The ConfigMap is kube-system/extension-apiserver-authentication, read at
 * start (unless --authentication-skip-lookup) and then re-read every
 * configmap_period_ns (10 s): a periodic GET rather than a watch, because
 * kube-apiserver rewrites it only when its own CAs change, one small GET
 * is cheap and always converges, and there is no long-lived watch to keep
 * healthy.  As upstream, a NotFound ConfigMap is no error, a missing or
 * bad CA key keeps the previous CA, and a bad list keeps the previous
 * lists.  Unlike upstream, a tolerated start-up failure is retried by
 * the same polling (upstream never looks again).
 *
 * CA files are stat'ed every files_period_ns (1 s) and read again when
 * they change; one that does not parse keeps the previous CA.
 *
 * Every change publishes a new immutable snapshot (server__trust) with a
 * new generation: request threads take a reference per request, and
 * connections' kept certificate verdicts hold only for the generation
 * they were worked out with.
 */
#include "server/authn_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certs/certs.h"
#include "kube/kube.h"

#define CM_PATH "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication"
#define CM_MAX_LIST 1024  /* entries of one JSON list */

/* One CA bundle source. */
struct ca_src {
	const char *path;            /* the flag's file; NULL: from the ConfigMap or none */
	struct server__file_sig sig;
	char *pem;                   /* accepted PEM, NULL: none */
	char *rejected;              /* the last PEM refused (logged once) */
};

struct server_authn {
	const struct server_authn_flags *flags;
	struct kube_client *client;
	bool cm_client, cm_rh;       /* what the ConfigMap supplies */
	struct server__tokens *tokens;
	char *trust_pem;             /* at start */

	pthread_mutex_t mu;          /* cur */
	struct server__trust *cur;
	uint64_t gen;

	pthread_mutex_t refresh_mu;  /* everything below */
	struct ca_src client_ca, rh_ca;
	struct server__names allowed, user_hdrs, uid_hdrs, group_hdrs, extra_prefixes;
	char last_cm_error[256];
	bool lists_refused;          /* a bad list was logged (once) */

	struct server__ticker *files_ticker, *cm_ticker;
};

/* ---- names ------------------------------------------------------------------- */

static void names_clear(struct server__names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->items[i]);
	free(n->items);
	n->items = NULL;
	n->n = 0;
}

static void names_copy(struct server__names *dst, char *const *items, size_t n)
{
	names_clear(dst);
	dst->items = xcalloc(n ? n : 1, sizeof(*dst->items));
	for (size_t i = 0; i < n; i++)
		dst->items[i] = xstrdup(items[i]);
	dst->n = n;
}

static bool names_equal(const struct server__names *a, const struct server__names *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->items[i], b->items[i]) != 0)
			return false;
	return true;
}

/* apiserver deserializeStrings: "" -> none; else a JSON list of strings
 * ("null" counts as none).  0 or ERR_PARSE. */
static int names_from_json(const char *text, struct server__names *out)
{
	json_error_t jerr;
	json_t *v, *item;
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!text || !*text)
		return 0;
	v = json_loads(text, JSON_DECODE_ANY, &jerr);
	if (!v || (!json_is_null(v) && !json_is_array(v)) ||
	    (json_is_array(v) && json_array_size(v) > CM_MAX_LIST)) {
		json_decref(v);
		return ERR_PARSE;
	}
	out->items = xcalloc(json_is_array(v) && json_array_size(v) ? json_array_size(v) : 1,
			     sizeof(char *));
	json_array_foreach(v, i, item) {
		if (!json_is_string(item)) {
			rc = ERR_PARSE;
			break;
		}
		out->items[out->n++] = xstrdup(json_string_value(item));
	}
	json_decref(v);
	if (rc)
		names_clear(out);
	return rc;
}

/* ---- snapshots ------------------------------------------------------------------ */

static void trust_free(struct server__trust *t)
{
	certs_trust_free(t->rh);
	certs_trust_free(t->client);
	names_clear(&t->allowed);
	names_clear(&t->user_hdrs);
	names_clear(&t->uid_hdrs);
	names_clear(&t->group_hdrs);
	names_clear(&t->extra_prefixes);
	free(t);
}

void server__trust_release(struct server__trust *t)
{
	if (t && atomic_fetch_sub(&t->refs, 1) == 1)
		trust_free(t);
}

struct server__trust *server__trust_acquire(struct server_authn *a)
{
	struct server__trust *t;

	pthread_mutex_lock(&a->mu);
	t = a->cur;
	atomic_fetch_add(&t->refs, 1);
	pthread_mutex_unlock(&a->mu);
	return t;
}

static struct certs_trust *trust_parse(const char *pem)
{
	struct certs_trust *t = NULL;

	if (pem && certs_trust_load_pem(pem, strlen(pem), &t) != 0)
		return NULL;
	return t;
}

/* Builds and publishes a snapshot of the sources (refresh_mu held). */
static void publish(struct server_authn *a)
{
	struct server__trust *t = xcalloc(1, sizeof(*t)), *old;

	atomic_init(&t->refs, 1);
	t->client = trust_parse(a->client_ca.pem);
	t->rh = trust_parse(a->rh_ca.pem);
	names_copy(&t->allowed, a->allowed.items, a->allowed.n);
	names_copy(&t->user_hdrs, a->user_hdrs.items, a->user_hdrs.n);
	names_copy(&t->uid_hdrs, a->uid_hdrs.items, a->uid_hdrs.n);
	names_copy(&t->group_hdrs, a->group_hdrs.items, a->group_hdrs.n);
	names_copy(&t->extra_prefixes, a->extra_prefixes.items, a->extra_prefixes.n);
	pthread_mutex_lock(&a->mu);
	t->gen = ++a->gen;
	old = a->cur;
	a->cur = t;
	pthread_mutex_unlock(&a->mu);
	server__trust_release(old);
}

/* Takes pem (a new string, or NULL: absent) as src's CA when it parses
 * and differs: true when it changed.  An absent or unusable bundle keeps
 * the previous one (logged once per bundle; what names the source). */
static bool ca_offer(struct ca_src *src, char *pem, const char *what)
{
	struct certs_trust *t = NULL;

	if (!pem || (src->pem && strcmp(src->pem, pem) == 0) ||
	    (src->rejected && strcmp(src->rejected, pem) == 0)) {
		free(pem);
		return false;
	}
	if (certs_trust_load_pem(pem, strlen(pem), &t) != 0) {
		log_error("\"Unable to load a new CA bundle; keeping the previous one\" name=\"%s\" "
			  "err=\"no valid PEM certificate found\"", what);
		free(src->rejected);
		src->rejected = pem;
		return false;
	}
	certs_trust_free(t);
	free(src->pem);
	src->pem = pem;
	log_info("\"Loaded a new CA Bundle and Verifier\" name=\"%s\"", what);
	return true;
}

/* A flag's CA file, read again when it changed (refresh_mu held). */
static bool ca_file_check(struct ca_src *src)
{
	struct dynbuf b;
	size_t len;
	char *pem = NULL;

	if (!src->path || !server__file_changed(src->path, &src->sig))
		return false;
	dynbuf_init(&b, DYN_CONFIG_FILE);
	if (dynbuf_read_file(&b, src->path) == 0 && b.len > 0 && dynbuf_addch(&b, '\0') == 0)
		pem = dynbuf_take(&b, &len);
	dynbuf_clear(&b);
	return ca_offer(src, pem, src->path);
}

/* ---- the ConfigMap ----------------------------------------------------------------- */

/* Upstream's hint when the GET is Forbidden. */
static void log_forbidden_hint(void)
{
	log_warn("Unable to get configmap/extension-apiserver-authentication in kube-system.  "
		 "Usually fixed by 'kubectl create rolebinding -n kube-system ROLEBINDING_NAME "
		 "--role=extension-apiserver-authentication-reader "
		 "--serviceaccount=YOUR_NS:YOUR_SA'");
}

/* What the ConfigMap GET gave: 0 with *cm (NULL when NotFound), or an
 * error with Go's text in err (*forbidden: it was a 403). */
static int cm_get(struct server_authn *a, json_t **cm, bool *forbidden, char *err,
		  size_t errlen)
{
	json_t *body = NULL;
	int status = 0, rc;

	*cm = NULL;
	*forbidden = false;
	rc = kube_request(a->client, "GET", CM_PATH, NULL, &status, &body, err, errlen);
	if (rc != 0)
		return rc;
	if (status == 200 && json_is_object(body)) {
		*cm = body;
		return 0;
	}
	if (status == 404) {
		json_decref(body);
		return 0;
	}
	*forbidden = status == 403;
	if (jpath_str(body, "message"))
		snprintf(err, errlen, "%s", jpath_str(body, "message"));
	else
		snprintf(err, errlen, "the server responded with the status code %d", status);
	json_decref(body);
	return ERR_IO;
}

static char *cm_value(json_t *cm, const char *key)
{
	json_t *v = json_object_get(json_object_get(cm, "data"), key);

	return json_is_string(v) && *json_string_value(v) ? xstrdup(json_string_value(v)) : NULL;
}

/* Applies a ConfigMap to the sources it supplies (refresh_mu held). */
static bool cm_apply(struct server_authn *a, json_t *cm)
{
	static const char *const keys[] = {
		"requestheader-allowed-names", "requestheader-username-headers",
		"requestheader-group-headers", "requestheader-extra-headers-prefix",
		"requestheader-uid-headers", /* absent from older writers: none */
	};
	struct server__names *dst[] = { &a->allowed, &a->user_hdrs, &a->group_hdrs,
					&a->extra_prefixes, &a->uid_hdrs };
	struct server__names got[COMMON_ARRAY_LEN(keys)];
	bool changed = false;
	size_t i;

	if (a->cm_client)
		changed |= ca_offer(&a->client_ca, cm_value(cm, "client-ca-file"), "client-ca");
	if (!a->cm_rh)
		return changed;
	changed |= ca_offer(&a->rh_ca, cm_value(cm, "requestheader-client-ca-file"),
			    "request-header");
	for (i = 0; i < COMMON_ARRAY_LEN(keys); i++) {
		char *text = cm_value(cm, keys[i]);
		int rc = names_from_json(text, &got[i]);

		free(text);
		if (rc != 0) {
			if (!a->lists_refused)
				log_error("\"Unable to load the request header values; keeping the "
					  "previous ones\" key=\"%s\" err=\"not a JSON list of strings\"",
					  keys[i]);
			a->lists_refused = true;
			while (i-- > 0)
				names_clear(&got[i]);
			return changed;
		}
	}
	a->lists_refused = false;
	for (i = 0; i < COMMON_ARRAY_LEN(keys); i++) {
		if (!names_equal(dst[i], &got[i])) {
			names_clear(dst[i]);
			*dst[i] = got[i];
			changed = true;
		} else {
			names_clear(&got[i]);
		}
	}
	return changed;
}

/* Re-reads the ConfigMap; true when the sources changed.  Failures are
 * logged once until they change or stop. */
static bool cm_refresh(struct server_authn *a)
{
	char err[256] = "";
	json_t *cm = NULL;
	bool changed = false, forbidden;

	if (!a->client || (!a->cm_client && !a->cm_rh))
		return false;
	if (cm_get(a, &cm, &forbidden, err, sizeof(err)) != 0) {
		pthread_mutex_lock(&a->refresh_mu);
		if (strcmp(err, a->last_cm_error) != 0 && forbidden)
			log_forbidden_hint();
		if (strcmp(err, a->last_cm_error) != 0)
			log_error("\"Unable to read configmap/extension-apiserver-authentication in "
				  "kube-system; keeping the previous authentication configuration\" "
				  "err=\"%s\"", err);
		snprintf(a->last_cm_error, sizeof(a->last_cm_error), "%s", err);
		pthread_mutex_unlock(&a->refresh_mu);
		return false;
	}
	pthread_mutex_lock(&a->refresh_mu);
	a->last_cm_error[0] = '\0';
	if (cm)
		changed = cm_apply(a, cm);
	if (changed)
		publish(a);
	pthread_mutex_unlock(&a->refresh_mu);
	json_decref(cm);
	return changed;
}

static bool files_refresh(struct server_authn *a)
{
	bool changed;

	pthread_mutex_lock(&a->refresh_mu);
	changed = ca_file_check(&a->client_ca);
	changed |= ca_file_check(&a->rh_ca);
	if (changed)
		publish(a);
	pthread_mutex_unlock(&a->refresh_mu);
	return changed;
}

bool server_authn_refresh(struct server_authn *a)
{
	bool changed = files_refresh(a);

	return cm_refresh(a) || changed;
}

static void files_tick(void *ud)
{
	(void)files_refresh(ud);
}

static void cm_tick(void *ud)
{
	(void)cm_refresh(ud);
}

/* ---- construction ------------------------------------------------------------------- */

/* The first lookup, as ApplyTo's: fatal only for the request-header part,
 * and not with --authentication-tolerate-lookup-failure. */
static int cm_first(struct server_authn *a, char *err, size_t errlen)
{
	char why[256] = "";
	json_t *cm = NULL;
	bool forbidden;

	if (cm_get(a, &cm, &forbidden, why, sizeof(why)) == 0) {
		if (cm)
			(void)cm_apply(a, cm);
		json_decref(cm);
		return 0;
	}
	snprintf(a->last_cm_error, sizeof(a->last_cm_error), "%s", why);
	if (forbidden)
		log_forbidden_hint();
	if (!a->cm_rh) { /* the client CA controller only logs */
		log_error("\"Unable to read configmap/extension-apiserver-authentication in "
			  "kube-system; no client CA until it can be read\" err=\"%s\"", why);
		return 0;
	}
	if (!a->flags->tolerate_lookup_failure) {
		snprintf(err, errlen, "unable to load configmap based request-header-client-ca-file: %s",
			 why);
		return ERR_INVAL;
	}
	log_warn("Error looking up in-cluster authentication configuration: %s", why);
	log_warn("Continuing without authentication configuration. This may treat all requests as "
		 "anonymous.");
	log_warn("To require authentication configuration lookup to succeed, set "
		 "--authentication-tolerate-lookup-failure=false");
	return 0;
}

/* A flag's CA file at start: it must load. */
static int ca_file_first(struct ca_src *src, const char *path, char *err, size_t errlen)
{
	struct certs_trust *t = NULL;
	int rc;

	src->path = path;
	(void)server__file_changed(path, &src->sig);
	rc = certs_trust_load_file(path, &t);
	if (rc == ERR_PARSE) {
		snprintf(err, errlen, "%s: no valid PEM certificate found", path);
		return rc;
	}
	if (rc != 0) {
		snprintf(err, errlen, "unable to read client-ca bundle %s", path);
		return ERR_IO;
	}
	src->pem = xstrdup(certs_trust_pem(t));
	certs_trust_free(t);
	return 0;
}

static void trust_pem_add(struct server_authn *a, const char *pem)
{
	char *joined;

	if (!pem)
		return;
	joined = xasprintf("%s%s\n", a->trust_pem ? a->trust_pem : "", pem);
	free(a->trust_pem);
	a->trust_pem = joined;
}

static bool set(const char *s)
{
	return s && *s;
}

struct server_authn *server_authn_new_with(const struct server_authn_options *o, char *err,
					   size_t errlen)
{
	const struct server_authn_flags *f = o->flags;
	struct server_authn *a = xcalloc(1, sizeof(*a));

	a->flags = f;
	a->client = o->client;
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->refresh_mu, NULL);
	if (set(f->requestheader_client_ca_file)) {
		if (ca_file_first(&a->rh_ca, f->requestheader_client_ca_file, err, errlen) != 0)
			goto fail;
		names_copy(&a->allowed, f->requestheader_allowed_names.items,
			   f->requestheader_allowed_names.n);
		names_copy(&a->user_hdrs, f->requestheader_username_headers.items,
			   f->requestheader_username_headers.n);
		names_copy(&a->uid_hdrs, f->requestheader_uid_headers.items,
			   f->requestheader_uid_headers.n);
		names_copy(&a->group_hdrs, f->requestheader_group_headers.items,
			   f->requestheader_group_headers.n);
		names_copy(&a->extra_prefixes, f->requestheader_extra_headers_prefix.items,
			   f->requestheader_extra_headers_prefix.n);
	} else {
		a->cm_rh = !f->skip_lookup && o->client;
	}
	if (set(f->client_ca_file)) {
		if (ca_file_first(&a->client_ca, f->client_ca_file, err, errlen) != 0)
			goto fail;
	} else {
		a->cm_client = !f->skip_lookup && o->client;
	}
	if ((a->cm_rh || a->cm_client) && cm_first(a, err, errlen) != 0)
		goto fail;
	trust_pem_add(a, a->rh_ca.pem);
	trust_pem_add(a, a->client_ca.pem);
	if (o->client)
		a->tokens = server__tokens_new(o->client, f->token_cache_ttl_ns);
	publish(a);
	if (o->files_period_ns >= 0 && (a->client_ca.path || a->rh_ca.path))
		a->files_ticker = server__ticker_start(o->files_period_ns ? o->files_period_ns
									  : NS_PER_SEC,
						       files_tick, a);
	if (o->configmap_period_ns >= 0 && (a->cm_rh || a->cm_client))
		a->cm_ticker = server__ticker_start(o->configmap_period_ns ? o->configmap_period_ns
									   : 10 * NS_PER_SEC,
						    cm_tick, a);
	return a;
fail:
	server_authn_free(a);
	return NULL;
}

struct server_authn *server_authn_new(const struct server_authn_flags *flags, char *err,
				      size_t errlen)
{
	struct server_authn_options o = { .flags = flags };

	return server_authn_new_with(&o, err, errlen);
}

void server_authn_free(struct server_authn *a)
{
	if (!a)
		return;
	server__ticker_stop(a->files_ticker);
	server__ticker_stop(a->cm_ticker);
	server__tokens_free(a->tokens);
	server__trust_release(a->cur);
	free(a->client_ca.pem);
	free(a->rh_ca.pem);
	free(a->client_ca.rejected);
	free(a->rh_ca.rejected);
	names_clear(&a->allowed);
	names_clear(&a->user_hdrs);
	names_clear(&a->uid_hdrs);
	names_clear(&a->group_hdrs);
	names_clear(&a->extra_prefixes);
	free(a->trust_pem);
	pthread_mutex_destroy(&a->mu);
	pthread_mutex_destroy(&a->refresh_mu);
	free(a);
}

const char *server_authn_trust_pem(const struct server_authn *a)
{
	return a->trust_pem;
}

struct server__tokens *server__authn_tokens(const struct server_authn *a)
{
	return a->tokens;
}
