/*
 * check_kube_live_client.c - kube/request.c and client.c against the fake
 * kube-apiserver of kube_live_fixture.h: bodies and statuses, retries of
 * 5xx, TLS verification and client certificates, rotated token files.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kube/kube.h"
#include "test/unit/kube_live_fixture.h"
#include "test/unit/unit.h"

/* ---- kube_request ------------------------------------------------------- */

START_TEST(test_request)
{
	struct kube_client *c = client_for("secret-token", NULL, false);
	json_t *out = NULL, *body = json_pack("{s:s,s:i}", "a", "b", "n", 3);
	char err[256] = "";
	int status = -1, before;

	ck_assert_int_eq(kube_request(c, "GET", "/ok", NULL, &status, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(out, "metadata"),
							   "name")), "x");
	ck_assert_str_eq(F.auth, "Bearer secret-token");
	ck_assert_str_eq(F.client_cn, "");
	json_decref(out);

	ck_assert_int_eq(kube_request(c, "POST", "/echo", body, &status, &out, err, sizeof(err)),
			 0);
	ck_assert_int_eq(status, 201);
	ck_assert(json_equal(out, body));
	ck_assert_str_eq(F.content_type, "application/json");
	json_decref(out);

	before = hits();
	ck_assert_int_eq(kube_request(c, "GET", "/missing", NULL, &status, &out, err, sizeof(err)),
			 0);
	ck_assert_int_eq(status, 404);
	ck_assert_int_eq(json_integer_value(json_object_get(out, "code")), 404);
	ck_assert_int_eq(hits(), before + 1); /* 4xx: no retry */
	json_decref(out);

	ck_assert_int_eq(kube_request(c, "GET", "/text", NULL, &status, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(status, 200);
	ck_assert_ptr_null(out);

	ck_assert_int_eq(kube_request(c, "GET", "relative", NULL, &status, &out, err, sizeof(err)),
			 ERR_INVAL);
	ck_assert_int_eq(status, 0);
	json_decref(body);
	kube_client_free(c);
}
END_TEST

START_TEST(test_request_retries)
{
	struct kube_client *c = client_for(NULL, NULL, false);
	json_t *out = NULL;
	char err[256] = "";
	int status = -1, before = hits();

	F.flaky_left = 2;
	ck_assert_int_eq(kube_request(c, "GET", "/flaky", NULL, &status, &out, err, sizeof(err)),
			 0);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(hits(), before + 3);
	ck_assert_str_eq(F.auth, "");
	json_decref(out);

	F.flaky_left = 100;
	before = hits();
	ck_assert_int_eq(kube_request(c, "GET", "/flaky", NULL, &status, &out, err, sizeof(err)),
			 0);
	ck_assert_int_eq(status, 503);
	ck_assert_int_eq(hits(), before + 5);
	json_decref(out);

	kube_client_free(c);
}
END_TEST

START_TEST(test_request_tls)
{
	struct kube_config cfg = { 0 };
	struct kube_client *c;
	json_t *out = NULL;
	char err[256] = "";
	int status = -1, before = hits();

	/* A server certificate that does not chain to the configured CA. */
	cfg.server = xasprintf("https://127.0.0.1:%d", F.port);
	cfg.ca_data = client_pair.cert_pem;
	c = kube_client_new(&cfg);
	ck_assert_int_eq(kube_request(c, "GET", "/ok", NULL, &status, &out, err, sizeof(err)),
			 ERR_TLS);
	ck_assert_int_eq(status, 0);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(hits(), before);
	kube_client_free(c);

	/* Insecure skips verification. */
	cfg.ca_data = NULL;
	cfg.insecure_skip_tls_verify = true;
	c = kube_client_new(&cfg);
	ck_assert_int_eq(kube_request(c, "GET", "/ok", NULL, &status, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(status, 200);
	json_decref(out);
	kube_client_free(c);
	free(cfg.server);

	/* Client certificate from PEM bytes. */
	c = client_for(NULL, NULL, true);
	ck_assert_int_eq(kube_request(c, "GET", "/ok", NULL, &status, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(F.client_cn, "metrics-apiserver");
	json_decref(out);
	kube_client_free(c);
}
END_TEST

static void write_token(const char *path, const char *text, time_t mtime)
{
	struct timespec times[2] = { { mtime, 0 }, { mtime, 0 } };
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(utimensat(AT_FDCWD, path, times, 0), 0);
}

START_TEST(test_token_file)
{
	char dir[] = "/tmp/check_kube_live_XXXXXX", *path;
	struct kube_client *c;
	json_t *out = NULL;
	char err[256] = "";
	int status;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = xasprintf("%s/token", dir);
	write_token(path, "t1\n", 1000);
	c = client_for("static", path, false);
	ck_assert_int_eq(kube_request(c, "GET", "/ok", NULL, &status, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(F.auth, "Bearer t1");
	json_decref(out);
	write_token(path, "t2", 2000); /* rotated: a new mtime */
	ck_assert_int_eq(kube_request(c, "GET", "/ok", NULL, &status, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(F.auth, "Bearer t2");
	json_decref(out);
	write_token(path, "bad token\n", 3000); /* rejected: the last good one stays */
	ck_assert_int_eq(kube_request(c, "GET", "/ok", NULL, &status, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(F.auth, "Bearer t2");
	json_decref(out);
	kube_client_free(c);
	unlink(path);
	rmdir(dir);
	free(path);
}
END_TEST

static Suite *client_suite(void)
{
	Suite *s = suite_create("kube_live_client");
	TCase *tc = tcase_create("client");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, fake_start, fake_stop);
	tcase_add_test(tc, test_request);
	tcase_add_test(tc, test_request_retries);
	tcase_add_test(tc, test_request_tls);
	tcase_add_test(tc, test_token_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(client_suite());
}
