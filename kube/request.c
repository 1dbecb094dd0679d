/*
 * request.c - one-shot JSON requests to kube-apiserver with the retry
 * policy: connection errors, 5xx and 429 are retried up to 5 tries,
 * waiting 0.5 s, then x1.5 each time; or a single try with a deadline
 * of the caller's (leader election).
 */
#include "kube/kube_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REQUEST_TIMEOUT_MS 10000L
#define RETRY_TRIES 5
#define RETRY_FIRST_NS (500 * NS_PER_MS)

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct dynbuf *b = ud;

	if (dynbuf_add(b, p, size * n))
		return 0; /* over the cap: curl fails with CURLE_WRITE_ERROR */
	return size * n;
}

static bool retryable_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

void kube__pause_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / NS_PER_SEC, .tv_nsec = ns % NS_PER_SEC };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int kube__try(struct kube_client *c, CURL *h, const char *method, const char *path,
	      const char *body, long timeout_ms, struct dynbuf *b, struct kube__try *t, char *err,
	      size_t errlen)
{
	struct curl_slist *hdrs = NULL;
	char *url = NULL;
	long code = 0, oserr = 0, port = 0;
	int rc = kube__client_setup(c, h, path, body != NULL, &hdrs, err, errlen);

	memset(t, 0, sizeof(*t));
	if (rc)
		return rc;
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : REQUEST_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->cerr);
	dynbuf_reset(b);
	t->cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
	curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hdrs);
	t->status = t->cc == CURLE_OK ? code : 0;
	t->os_errno = oserr;
	snprintf(t->url, sizeof(t->url), "%s", url ? url : path);
	if (t->cc != CURLE_OK && !t->cerr[0])
		snprintf(t->cerr, sizeof(t->cerr), "%s", curl_easy_strerror(t->cc));
	if (t->cc != CURLE_OK && curl_easy_getinfo(h, CURLINFO_PRIMARY_PORT, &port) == CURLE_OK)
		t->port = port;
	if (t->cc != CURLE_OK) {
		char *ip = NULL;

		if (curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip)
			snprintf(t->ip, sizeof(t->ip), "%s", ip);
	}
	return 0;
}

/* One attempt: *status, the body in b.  0 or ERR_IO/ERR_TIMEOUT/ERR_TOOBIG. */
static int attempt(struct kube_client *c, CURL *h, const char *method, const char *path,
		   const char *body, long timeout_ms, int *status, struct dynbuf *b, bool *retry,
		   char *err, size_t errlen)
{
	struct kube__try t;
	int rc = kube__try(c, h, method, path, body, timeout_ms, b, &t, err, errlen);

	if (rc)
		return rc;
	*status = (int)t.status;
	if (t.cc == CURLE_OK) {
		*retry = t.status >= 500 || t.status == 429;
		return 0;
	}
	*retry = retryable_curl(t.cc);
	snprintf(err, errlen, "%s %s: %s", method, path,
		 t.cc == CURLE_WRITE_ERROR ? "response too large" : t.cerr);
	return kube__curl_err(t.cc);
}

int kube__curl_err(CURLcode cc)
{
	if (cc == CURLE_WRITE_ERROR)
		return ERR_TOOBIG;
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return ERR_TIMEOUT;
	if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CONNECT_ERROR ||
	    cc == CURLE_SSL_CERTPROBLEM)
		return ERR_TLS;
	return ERR_IO;
}

/* tries (>= 1) of at most timeout_ms each; see kube_request. */
static int request(struct kube_client *c, const char *method, const char *path, json_t *body,
		   int tries, long timeout_ms, int *status, json_t **out, char *err, size_t errlen)
{
	CURL *h = kube__client_handle_get(c);
	char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
	int64_t delay = RETRY_FIRST_NS;
	struct dynbuf b;
	bool retry = false;
	int rc = 0, i;

	dynbuf_init(&b, DYN_KUBE_RESPONSE);
	*status = 0;
	*out = NULL;
	if (body && !payload) {
		snprintf(err, errlen, "%s %s: body cannot be encoded as JSON", method, path);
		rc = ERR_INVAL;
		goto out;
	}
	for (i = 0; i < tries; i++) {
		if (i) {
			log_v(2, "retrying %s %s in %lld ms (status %d)", method, path,
			      (long long)(delay / NS_PER_MS), *status);
			kube__pause_ns(delay);
			delay += delay / 2;
		}
		rc = attempt(c, h, method, path, payload, timeout_ms, status, &b, &retry, err,
			     errlen);
		if (!retry)
			break;
	}
	if (rc == 0 && b.len) {
		*out = json_loadb(b.buf, b.len, 0, NULL);
		if (!*out)
			log_v(2, "%s %s: status %d with a body that is not JSON", method, path, *status);
	}
out:
	dynbuf_clear(&b);
	free(payload);
	kube__client_handle_put(c, h);
	return rc;
}

int kube_request(struct kube_client *c, const char *method, const char *path, json_t *body,
		 int *status, json_t **out, char *err, size_t errlen)
{
	return request(c, method, path, body, RETRY_TRIES, REQUEST_TIMEOUT_MS, status, out, err,
		       errlen);
}

int kube_request_once(struct kube_client *c, const char *method, const char *path, json_t *body,
		      int64_t timeout_ns, int *status, json_t **out, char *err, size_t errlen)
{
	long ms = (long)(timeout_ns / NS_PER_MS);

	return request(c, method, path, body, 1, ms < 1 ? 1 : ms, status, out, err, errlen);
}
