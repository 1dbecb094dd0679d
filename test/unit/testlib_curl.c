/*
 * testlib_curl.c - a tiny libcurl client of the HTTPS servers the Check
 * suites start on 127.0.0.1 (check_server_http, check_server_authn): one
 * request with client certificates, CA and header lines from the suite's
 * folder, its status, body, Content-Type and connection count.
 */
#include "test/unit/testlib.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct testlib_reply *r = ud;
	size_t len = size * n;

	if (r->len + len >= sizeof(r->body))
		return 0;
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static char *file_in(const char *dir, const char *name, const char *ext)
{
	return xasprintf("%s/%s%s", dir, name, ext);
}

struct testlib_reply testlib_request(CURL *h, const char *dir, const char *url,
				     const struct testlib_call *c)
{
	struct testlib_reply r = { .status = 0 };
	struct curl_slist *hdrs = NULL;
	CURL *own = h ? NULL : curl_easy_init();
	char *crt = NULL, *key = NULL, *ca = NULL, *ct = NULL;

	if (own)
		h = own;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c && c->cacert ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(h, CURLOPT_USERAGENT, program_invocation_short_name);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
	if (c && c->method)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
	if (c && c->tls_max)
		curl_easy_setopt(h, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_0 | c->tls_max);
	if (c && c->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
	}
	if (c && c->cacert) {
		ca = file_in(dir, c->cacert, "");
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	}
	if (c && c->cert) {
		crt = file_in(dir, c->cert, ".crt");
		key = file_in(dir, c->cert, ".key");
		curl_easy_setopt(h, CURLOPT_SSLCERT, crt);
		curl_easy_setopt(h, CURLOPT_SSLKEY, key);
	}
	for (size_t i = 0; c && i < COMMON_ARRAY_LEN(c->headers) && c->headers[i]; i++)
		hdrs = curl_slist_append(hdrs, c->headers[i]);
	for (struct curl_slist *l = c ? c->more : NULL; l; l = l->next)
		hdrs = curl_slist_append(hdrs, l->data);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	r.rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &r.connects);
	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
		snprintf(r.content_type, sizeof(r.content_type), "%s", ct);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	free(crt);
	free(key);
	free(ca);
	if (own)
		curl_easy_cleanup(own);
	return r;
}

void testlib_assert_reply(const struct testlib_reply *r, long status, const char *body)
{
	ck_assert_msg(r->rc == CURLE_OK, "curl: %s", curl_easy_strerror(r->rc));
	ck_assert_int_eq(r->status, status);
	ck_assert_str_eq(r->body, body);
}
