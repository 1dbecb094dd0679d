/*
 * review.c - reviews (TokenReview, SubjectAccessReview) created as the Go
 * webhook clients of the delegating authenticator and authorizer create
 * them: client-go's POST with a 10 s timeout (?timeout=10s), the webhook
 * retry policy (webhook.DefaultShouldRetry: a reset connection, 500, 504,
 * 429; 0.5 s then x1.5, 5 tries) and client-go's error texts.
 */
#include "kube/kube_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REVIEW_TRIES 5
#define REVIEW_FIRST_NS (500 * NS_PER_MS)
#define REVIEW_MAX_RESPONSE (1u << 20)

/* Go's spelling of errno e: lower-case strerror. */
static void errno_text(long e, char *out, size_t len)
{
	snprintf(out, len, "%s", COMMON_SYSERR((int)e));
	if (out[0])
		out[0] = (char)tolower((unsigned char)out[0]);
}

/* The address dialled: the connection's, else the URL's host:port. */
static void dialled(const struct kube__try *t, char *out, size_t len)
{
	const char *host = strstr(t->url, "://");
	size_t n;

	if (t->ip[0]) {
		snprintf(out, len, "%s%s%s:%ld", strchr(t->ip, ':') ? "[" : "", t->ip,
			 strchr(t->ip, ':') ? "]" : "", t->port);
		return;
	}
	host = host ? host + 3 : t->url;
	n = strcspn(host, "/?");
	if (n && memchr(host, ':', n) && host[n - 1] != ']')
		snprintf(out, len, "%.*s", (int)n, host);
	else
		snprintf(out, len, "%.*s:%s", (int)n, host,
			 strncmp(t->url, "http://", 7) == 0 ? "80" : "443");
}

/* `Post "URL": <what>` (url.Error) for a transfer that got no response. */
static void transport_text(const struct kube__try *t, char *err, size_t errlen)
{
	char what[512], es[128], at[300];

	if (t->cc == CURLE_COULDNT_CONNECT && t->os_errno) {
		errno_text(t->os_errno, es, sizeof(es));
		dialled(t, at, sizeof(at));
		snprintf(what, sizeof(what), "dial tcp %s: connect: %s", at, es);
	} else if (t->cc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(what, sizeof(what), "context deadline exceeded");
	} else if (t->cc == CURLE_WRITE_ERROR) {
		snprintf(what, sizeof(what), "response too large");
	} else {
		snprintf(what, sizeof(what), "%s", t->cerr);
	}
	snprintf(err, errlen, "Post \"%s\": %s", t->url, what);
}

/* client-go's NewGenericServerResponse text for a body that is no Status. */
static void generic_text(long code, const struct dynbuf *b, const char *qualified, char *err,
			 size_t errlen)
{
	char msg[600];

	switch (code) {
	case 400: snprintf(msg, sizeof(msg), "the server rejected our request for an unknown reason"); break;
	case 401: snprintf(msg, sizeof(msg), "the server has asked for the client to provide credentials"); break;
	case 403: snprintf(msg, sizeof(msg), "%.500s", b->len ? b->buf : ""); break;
	case 404: snprintf(msg, sizeof(msg), "the server could not find the requested resource"); break;
	case 409: snprintf(msg, sizeof(msg), "the server reported a conflict"); break;
	case 429:
		snprintf(msg, sizeof(msg), "the server has received too many requests and has asked "
					   "us to try again later");
		break;
	case 503: snprintf(msg, sizeof(msg), "the server is currently unable to handle the request"); break;
	case 504:
		snprintf(msg, sizeof(msg), "the server was unable to return a response in the time "
					   "allotted, but may still be processing the request");
		break;
	default:
		snprintf(msg, sizeof(msg), "an error on the server (\"%.400s\") has prevented the "
					   "request from succeeding", b->len ? b->buf : "unknown");
	}
	snprintf(err, errlen, "%s (post %s)", msg, qualified);
}

/* The error of a non-2xx answer: its Status message, else the generic text. */
static void answer_text(long code, const struct dynbuf *b, const char *qualified, char *err,
			size_t errlen)
{
	json_t *st = b->len ? json_loadb(b->buf, b->len, 0, NULL) : NULL;
	const char *kind = json_string_value(json_object_get(st, "kind"));
	const char *msg = json_string_value(json_object_get(st, "message"));

	if (kind && strcmp(kind, "Status") == 0 && msg)
		snprintf(err, errlen, "%s", msg);
	else
		generic_text(code, b, qualified, err, errlen);
	json_decref(st);
}

int kube_review_create(struct kube_client *c, const char *group, const char *resource,
		       json_t *body, json_t **out, char *err, size_t errlen)
{
	char *payload = json_dumps(body, JSON_COMPACT);
	char *path = xasprintf("/apis/%s/v1/%s?timeout=10s", group, resource);
	char *qualified = xasprintf("%s.%s", resource, group);
	int64_t delay = REVIEW_FIRST_NS;
	CURL *h = kube__client_handle_get(c);
	struct kube__try t;
	struct dynbuf b;
	bool retry = false;
	int rc = ERR_INVAL, i;

	*out = NULL;
	dynbuf_init(&b, REVIEW_MAX_RESPONSE);
	if (!payload) {
		snprintf(err, errlen, "%s: body cannot be encoded as JSON", qualified);
		goto done;
	}
	for (i = 0; i < REVIEW_TRIES; i++) {
		if (i) {
			kube__pause_ns(delay);
			delay += delay / 2;
		}
		rc = kube__try(c, h, "POST", path, payload, 0, &b, &t, err, errlen);
		if (rc)
			goto done;
		retry = t.cc == CURLE_OK ? t.status == 500 || t.status == 504 || t.status == 429
					 : t.cc == CURLE_SEND_ERROR || t.cc == CURLE_RECV_ERROR;
		if (!retry)
			break;
		log_v(2, "retrying POST %s (status %ld)", path, t.status);
	}
	if (t.cc != CURLE_OK) {
		transport_text(&t, err, errlen);
		rc = kube__curl_err(t.cc);
	} else if (t.status < 200 || t.status > 299) {
		answer_text(t.status, &b, qualified, err, errlen);
		rc = ERR_IO;
	} else if (!(*out = json_loadb(b.buf ? b.buf : "", b.len, 0, NULL)) || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		snprintf(err, errlen, "%s: the answer is not a JSON object", qualified);
		rc = ERR_IO;
	} else {
		rc = 0;
	}
done:
	kube__client_handle_put(c, h);
	dynbuf_clear(&b);
	free(payload);
	free(path);
	free(qualified);
	return rc;
}
