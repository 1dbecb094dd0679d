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

static void pause_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / NS_PER_SEC, .tv_nsec = ns % NS_PER_SEC };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One attempt: *status, the body in b.  0 or ERR_IO/ERR_TIMEOUT/ERR_TOOBIG. */
static int attempt(struct kube_client *c, CURL *h, const char *method, const char *path,
		   const char *body, long timeout_ms, int *status, struct dynbuf *b, bool *retry,
		   char *err, size_t errlen)
{
	struct curl_slist *hdrs = NULL;
	char cerr[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode cc;
	int rc = kube__client_setup(c, h, path, body != NULL, &hdrs, err, errlen);

	if (rc)
		return rc;
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	dynbuf_reset(b);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hdrs);
	*status = cc == CURLE_OK ? (int)code : 0;
	if (cc == CURLE_OK) {
		*retry = code >= 500 || code == 429;
		return 0;
	}
	*retry = retryable_curl(cc);
	snprintf(err, errlen, "%s %s: %s", method, path,
		 cc == CURLE_WRITE_ERROR ? "response too large" : (*cerr ? cerr : curl_easy_strerror(cc)));
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
			pause_ns(delay);
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
