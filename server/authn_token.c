/*
 * authn_token.c - bearer tokens, as the Go delegating authenticator
 * checks them: the Authorization header parsed as bearertoken.go does, a
 * TokenReview (authentication.k8s.io/v1, no audiences) through
 * kube-apiserver, and cached_token_authenticator's cache:
 *
 *   key      HMAC-SHA256 of the length-prefixed token under a random key
 *            (the token itself is never kept)
 *   cached   successes, and authenticated:false without an error text,
 *            for --authentication-token-webhook-cache-ttl (10 s)
 *   not      a review that failed (transport, non-2xx) or that answered
 *            with status.error (cacheErrs=false upstream)
 *
 * The review is kube_review_create's (the webhook retry policy, client-go's
 * error texts); it blocks the calling thread meanwhile, so a caller on a
 * polling thread asks with may_block=false and gets ERR_AGAIN on a miss.
 *
 * The cache is set-associative: TOKEN_BUCKETS buckets of TOKEN_WAYS
 * entries, a full bucket replacing its entry that expires first, so memory
 * stays bounded whatever tokens clients send.
 */
#include "server/authn_int.h"

#include <gnutls/crypto.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kube/kube.h"

#define TOKEN_BUCKETS 512
#define TOKEN_WAYS 8
#define TOKEN_MAX_LEN 16384     /* longer Authorization values are not reviewed */

struct token_entry {
	unsigned char key[32];
	int64_t expires_ns;        /* 0: empty */
	bool ok;
	struct server_user user;   /* when ok */
};

struct server__tokens {
	struct kube_client *client;
	int64_t ttl_ns;
	unsigned char hmac_key[32];
	pthread_mutex_t mu;
	struct token_entry (*buckets)[TOKEN_WAYS];
};

struct server__tokens *server__tokens_new(struct kube_client *c, int64_t ttl_ns)
{
	struct server__tokens *t = xcalloc(1, sizeof(*t));

	t->client = c;
	t->ttl_ns = ttl_ns;
	if (gnutls_rnd(GNUTLS_RND_KEY, t->hmac_key, sizeof(t->hmac_key)) != 0)
		abort(); /* no randomness: nothing safe to do */
	pthread_mutex_init(&t->mu, NULL);
	t->buckets = xcalloc(TOKEN_BUCKETS, sizeof(*t->buckets));
	return t;
}

void server__tokens_free(struct server__tokens *t)
{
	if (!t)
		return;
	for (size_t b = 0; b < TOKEN_BUCKETS; b++)
		for (size_t w = 0; w < TOKEN_WAYS; w++)
			server_user_clear(&t->buckets[b][w].user);
	free(t->buckets);
	pthread_mutex_destroy(&t->mu);
	explicit_bzero(t->hmac_key, sizeof(t->hmac_key));
	free(t);
}

/* keyFunc: HMAC-SHA256(key, be32(len(token)) token be32(0 audiences)). */
static void token_key(const struct server__tokens *t, const char *token, unsigned char out[32])
{
	size_t len = strlen(token);
	unsigned char *buf = xmalloc(len + 8);

	buf[0] = (unsigned char)(len >> 24);
	buf[1] = (unsigned char)(len >> 16);
	buf[2] = (unsigned char)(len >> 8);
	buf[3] = (unsigned char)len;
	memcpy(buf + 4, token, len);
	memset(buf + 4 + len, 0, 4);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, t->hmac_key, sizeof(t->hmac_key), buf, len + 8,
			     out) != 0)
		abort();
	explicit_bzero(buf, len + 8);
	free(buf);
}

static struct token_entry *bucket_of(struct server__tokens *t, const unsigned char key[32])
{
	unsigned idx = ((unsigned)key[0] << 8 | key[1]) % TOKEN_BUCKETS;

	return t->buckets[idx];
}

/* 1 = cached success (*u filled), 0 = cached failure, -1 = not cached. */
static int cache_get(struct server__tokens *t, const unsigned char key[32], struct server_user *u)
{
	struct token_entry *e = bucket_of(t, key);
	int64_t now = clock_mono_ns();
	int rc = -1;

	pthread_mutex_lock(&t->mu);
	for (size_t w = 0; w < TOKEN_WAYS && rc < 0; w++) {
		if (e[w].expires_ns <= now || memcmp(e[w].key, key, 32) != 0)
			continue;
		rc = e[w].ok;
		if (rc)
			server__user_copy(u, &e[w].user);
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

static void cache_put(struct server__tokens *t, const unsigned char key[32], bool ok,
		      const struct server_user *u)
{
	struct token_entry *e = bucket_of(t, key), *slot = &e[0];

	if (t->ttl_ns <= 0)
		return;
	pthread_mutex_lock(&t->mu);
	for (size_t w = 0; w < TOKEN_WAYS; w++) {
		if (memcmp(e[w].key, key, 32) == 0) {
			slot = &e[w];
			break;
		}
		if (e[w].expires_ns < slot->expires_ns)
			slot = &e[w];
	}
	server_user_clear(&slot->user);
	memcpy(slot->key, key, 32);
	slot->expires_ns = clock_mono_ns() + t->ttl_ns;
	slot->ok = ok;
	if (ok)
		server__user_copy(&slot->user, u);
	pthread_mutex_unlock(&t->mu);
}

/* The review's status.user into *u; 0 or ERR_TOOBIG. */
static int user_from_review(json_t *user, struct server_user *u)
{
	json_t *v, *vals;
	const char *k;
	size_t i, j;
	int rc = 0;

	memset(u, 0, sizeof(*u));
	u->name = xstrdup(json_string_value(json_object_get(user, "username")) ?: "");
	if (json_string_value(json_object_get(user, "uid")) &&
	    *json_string_value(json_object_get(user, "uid")))
		u->uid = xstrdup(json_string_value(json_object_get(user, "uid")));
	json_array_foreach(json_object_get(user, "groups"), i, v)
		if (rc == 0 && json_is_string(v))
			rc = server__user_add_group(u, json_string_value(v));
	json_object_foreach(json_object_get(user, "extra"), k, vals)
		json_array_foreach(vals, j, v)
			if (rc == 0 && json_is_string(v))
				rc = server__user_add_extra(u, xstrdup(k), json_string_value(v));
	if (rc != 0)
		server_user_clear(u);
	return rc;
}

/* One TokenReview: 1 authenticated, 0 not (cacheable), <0 error (err). */
static int review(struct server__tokens *t, const char *token, struct server_user *u, char *err,
		  size_t errlen)
{
	json_t *req, *resp = NULL, *status;
	int rc;

	req = json_pack("{s:s,s:s,s:{},s:{s:s}}", "kind", "TokenReview", "apiVersion",
			"authentication.k8s.io/v1", "metadata", "spec", "token", token);
	rc = kube_review_create(t->client, "authentication.k8s.io", "tokenreviews", req, &resp,
				err, errlen);
	json_decref(req);
	if (rc != 0) {
		log_error("\"Failed to make webhook authenticator request\" err=\"%s\"", err);
		json_decref(resp);
		return ERR_IO;
	}
	status = json_object_get(resp, "status");
	if (json_is_true(json_object_get(status, "authenticated"))) {
		rc = user_from_review(json_object_get(status, "user"), u) == 0 ? 1 : ERR_TOOBIG;
		if (rc < 0)
			snprintf(err, errlen, "too many groups or extra values");
	} else if (json_string_value(json_object_get(status, "error")) &&
		   *json_string_value(json_object_get(status, "error"))) {
		snprintf(err, errlen, "%s", json_string_value(json_object_get(status, "error")));
		rc = ERR_INVAL;
	} else {
		rc = 0;
	}
	json_decref(resp);
	return rc;
}

int server__token_user(struct server__tokens *t, const char *authorization, bool may_block,
		       struct server_user *u, char *err, size_t errlen)
{
	const char *p = authorization, *end, *sp;
	unsigned char key[32];
	char *token;
	int rc;

	if (!t || !p)
		return 0;
	/* strings.TrimSpace, then SplitN(auth, " ", 3) */
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\v' || *p == '\f')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
			   end[-1] == '\n' || end[-1] == '\v' || end[-1] == '\f'))
		end--;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp || sp - p != 6 || strncasecmp(p, "bearer", 6) != 0)
		return 0;
	p = sp + 1;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (sp)
		end = sp;
	if (end == p)
		return 0; /* empty bearer tokens aren't valid: no opinion */
	if (end - p > TOKEN_MAX_LEN) {
		snprintf(err, errlen, "invalid bearer token");
		return ERR_INVAL;
	}
	token = xstrndup(p, (size_t)(end - p));
	token_key(t, token, key);
	rc = cache_get(t, key, u);
	if (rc < 0 && !may_block) {
		rc = ERR_AGAIN;
	} else if (rc < 0) {
		rc = review(t, token, u, err, errlen);
		if (rc >= 0)
			cache_put(t, key, rc == 1, u);
	}
	explicit_bzero(token, strlen(token));
	free(token);
	if (rc == 0) {
		snprintf(err, errlen, "invalid bearer token");
		return ERR_INVAL;
	}
	return rc < 0 ? rc : 1; /* ERR_AGAIN: err untouched */
}
