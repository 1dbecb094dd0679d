/*
 * stream.c - a GET whose body is handed over as it arrives, run on a
 * multi handle so that another thread can interrupt it at once
 * (set *stop, then curl_multi_wakeup).  Lists and watches use it.
 */
#include "kube/kube_int.h"

#include <stdio.h>
#include <string.h>

#define TICK_MAX_MS 1000L

struct xfer {
	struct kube_stream *s;
	CURL *h;
	long code;              /* HTTP status, once the headers are in */
	struct dynbuf errbody;  /* body of a non-2xx response (capped) */
	bool aborted;           /* on_data said stop */
};

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;

	if (!x->code)
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->code);
	if (x->code < 200 || x->code > 299) {
		if (dynbuf_add(&x->errbody, p, len))
			log_v(4, "dropping the rest of an error body");
		return len;
	}
	if (!x->s->on_data(x->s->ud, p, len)) {
		x->aborted = true;
		return 0;
	}
	return len;
}

static int map_result(CURLcode cc, const char *path, const char *cerr, char *err, size_t errlen)
{
	snprintf(err, errlen, "GET %s: %s", path, *cerr ? cerr : curl_easy_strerror(cc));
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return ERR_TIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
		return ERR_TLS;
	default:
		return ERR_IO;
	}
}

/* Drives the transfer until done or stopped; the CURLcode in *cc. */
static int run(struct kube_stream *s, CURL *h, CURLcode *cc, char *err, size_t errlen)
{
	CURLMsg *msg;
	CURLMcode mc;
	int running = 1, left;
	long tick;

	while (running) {
		if (atomic_load(s->stop)) {
			snprintf(err, errlen, "stopped");
			return ERR_AGAIN;
		}
		mc = curl_multi_perform(s->multi, &running);
		tick = s->on_tick ? s->on_tick(s->ud) : TICK_MAX_MS;
		if (mc == CURLM_OK && running)
			mc = curl_multi_poll(s->multi, NULL, 0,
					     tick < 1 ? 1 : tick > TICK_MAX_MS ? TICK_MAX_MS : (int)tick,
					     NULL);
		if (mc != CURLM_OK) {
			snprintf(err, errlen, "curl multi: %s", curl_multi_strerror(mc));
			return ERR_IO;
		}
	}
	*cc = CURLE_GOT_NOTHING;
	while ((msg = curl_multi_info_read(s->multi, &left)))
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == h)
			*cc = msg->data.result;
	return 0;
}

int kube__stream_get(struct kube_stream *s, const char *path, int *status, json_t **errbody,
		    char *err, size_t errlen)
{
	struct curl_slist *hdrs = NULL;
	char cerr[CURL_ERROR_SIZE] = "";
	struct xfer x = { .s = s };
	CURLcode cc = CURLE_OK;
	int rc;

	*status = 0;
	*errbody = NULL;
	x.h = kube__client_handle_get(s->client);
	dynbuf_init(&x.errbody, DYN_SMALL);
	rc = kube__client_setup(s->client, x.h, path, false, &hdrs, err, errlen);
	if (rc)
		goto out;
	curl_easy_setopt(x.h, CURLOPT_TIMEOUT_MS, s->timeout_ms);
	curl_easy_setopt(x.h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(x.h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(x.h, CURLOPT_ERRORBUFFER, cerr);
	curl_multi_add_handle(s->multi, x.h);
	rc = run(s, x.h, &cc, err, errlen);
	curl_multi_remove_handle(s->multi, x.h);
	curl_easy_setopt(x.h, CURLOPT_ERRORBUFFER, NULL);
	if (rc)
		goto out;
	curl_easy_getinfo(x.h, CURLINFO_RESPONSE_CODE, &x.code);
	*status = cc == CURLE_OK || x.aborted ? (int)x.code : 0;
	if (x.aborted) {
		snprintf(err, errlen, "GET %s: stream abandoned", path);
		rc = ERR_IO;
	} else if (cc != CURLE_OK) {
		rc = map_result(cc, path, cerr, err, errlen);
	} else if (x.errbody.len) {
		*errbody = json_loadb(x.errbody.buf, x.errbody.len, 0, NULL);
	}
out:
	curl_slist_free_all(hdrs);
	dynbuf_clear(&x.errbody);
	kube__client_handle_put(s->client, x.h);
	return rc;
}
