/*
 * check_common_base64.c - common/base64.c: RFC 4648 vectors, round trips,
 * the strict (Go) decoder's errors and size cap, and, on random input, the
 * same answers as GnuTLS' decoder underneath except where Go differs from
 * it (blanks other than newlines, input of only newlines).
 */
#include "common/common.h"
#include "test/unit/unit.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

static const struct {
	const char *plain, *b64;
} vectors[] = {
	{ "", "" },         { "f", "Zg==" },         { "fo", "Zm8=" },
	{ "foo", "Zm9v" },  { "foob", "Zm9vYg==" },  { "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" }, { "\xfb\xff\xbf", "+/+/" },
};

START_TEST(test_vectors)
{
	const char *plain = vectors[_i].plain, *b64 = vectors[_i].b64;
	char *enc = base64_encode(plain, strlen(plain)), *dec;
	size_t n;

	ck_assert_str_eq(enc, b64);
	ck_assert_int_eq(base64_decode(b64, strlen(b64), 64, &dec, &n), 0);
	ck_assert_uint_eq(n, strlen(plain));
	ck_assert_str_eq(dec, plain);  /* NUL-terminated */
	free(enc);
	free(dec);
}
END_TEST

START_TEST(test_binary_roundtrip)
{
	unsigned char raw[300];
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (size_t len = 0; len <= sizeof(raw); len++) {
		char *enc, *dec;
		size_t n;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		for (size_t i = 0; i < len; i++)
			raw[i] = (unsigned char)(x >> (i % 8 * 8)) ^ (unsigned char)i;
		enc = base64_encode(raw, len);
		ck_assert_uint_eq(strlen(enc), (len + 2) / 3 * 4);
		ck_assert_int_eq(base64_decode(enc, strlen(enc), len, &dec, &n), 0);
		ck_assert_uint_eq(n, len);
		ck_assert_mem_eq(dec, raw, len);
		free(enc);
		free(dec);
	}
}
END_TEST

static const char *const bad[] = {
	"QQ",       /* no padding */
	"QQ=",      /* half padding */
	"QR==",     /* unused bits set */
	"QUJ=",     /* unused bits set (3-char group) */
	"A===",     /* padding too early */
	"====",
	"=QQ=",
	"QQ==QQ==", /* data after padding */
	"QUI==",    /* padding past the group */
	"Q Q==",    /* spaces are not skipped (GnuTLS skips them) */
	" Zm9v",
	"Zm9v\t",   /* nor tabs */
	"Zm9v\v",
	"Q-8=",     /* URL alphabet */
	"Q_8=",
	"QUJDQQ",
	"\xc3\xa9QQ=",
};

START_TEST(test_bad)
{
	char *dec = (char *)"unchanged";
	size_t n = 99;

	ck_assert_int_eq(base64_decode(bad[_i], strlen(bad[_i]), 64, &dec, &n), ERR_PARSE);
	ck_assert_ptr_null(dec);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_newlines_and_embedded_nul)
{
	static const char wrapped[] = "Zm9v\r\nYmFy\nAEE=\n";
	char *dec;
	size_t n;

	ck_assert_int_eq(base64_decode(wrapped, strlen(wrapped), 64, &dec, &n), 0);
	ck_assert_uint_eq(n, 8);
	ck_assert_mem_eq(dec, "foobar\0A", 9);
	free(dec);
	ck_assert_int_eq(base64_decode("QUJD\0QQ==", 9, 64, &dec, &n), ERR_PARSE);
	/* only newlines: nothing, as Go (GnuTLS refuses it) */
	ck_assert_int_eq(base64_decode("\r\n", 2, 64, &dec, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(dec, "");
	free(dec);
	ck_assert_int_eq(base64_decode("\n", 1, 0, &dec, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(dec);
	/* the length is honoured: what follows is not read */
	ck_assert_int_eq(base64_decode("Zm9v!!!!", 4, 64, &dec, &n), 0);
	ck_assert_str_eq(dec, "foo");
	free(dec);
}
END_TEST

START_TEST(test_size_cap)
{
	char *dec;
	size_t n;

	ck_assert_int_eq(base64_decode("Zm9vYmFy", 8, 6, &dec, &n), 0);
	ck_assert_uint_eq(n, 6);
	free(dec);
	ck_assert_int_eq(base64_decode("Zm9vYmFy", 8, 5, &dec, &n), ERR_TOOBIG);
	ck_assert_ptr_null(dec);
	ck_assert_int_eq(base64_decode("Zm9vYg==", 8, 0, &dec, &n), ERR_TOOBIG);
	ck_assert_int_eq(base64_decode("", 0, 0, &dec, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(dec, "");
	free(dec);
}
END_TEST

/* Random strings over a small alphabet: accepted exactly when GnuTLS
 * accepts them, with the same bytes, but for the two places where Go and
 * GnuTLS differ: a space is an error, all-newline input is no bytes
 * (tested above). */
START_TEST(test_agrees_with_gnutls)
{
	static const char chars[] = "QUJDZm9v+/=\nAg ";
	uint64_t x = 0x2545f4914f6cdd1dull;
	char s[16];
	int accepted = 0;

	for (int t = 0; t < 200000; t++) {
		size_t len;
		gnutls_datum_t in, want = { NULL, 0 };
		char *got;
		size_t n;
		int rc, grc;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		len = 1 + x % (sizeof(s) - 1);
		for (size_t i = 0; i < len; i++)
			s[i] = chars[(x >> (4 + i * 4)) % (sizeof(chars) - 1)];
		s[len] = '\0';
		if (strspn(s, "\n") >= len)
			continue;
		in.data = (unsigned char *)s;
		in.size = (unsigned)len;
		grc = gnutls_base64_decode2(&in, &want);
		rc = base64_decode(s, len, 64, &got, &n);
		if (strchr(s, ' ')) {
			ck_assert_int_eq(rc, ERR_PARSE);
			gnutls_free(want.data);
			continue;
		}
		ck_assert_msg((rc == 0) == (grc >= 0), "\"%.*s\": %d vs gnutls %d", (int)len, s, rc,
			      grc);
		if (rc == 0) {
			ck_assert_uint_eq(n, want.size);
			ck_assert_mem_eq(got, want.data, n);
			accepted++;
		}
		free(got);
		gnutls_free(want.data);
	}
	ck_assert_int_gt(accepted, 1000);
}
END_TEST

static Suite *base64_suite(void)
{
	Suite *s = suite_create("common_base64");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_vectors, 0, (int)COMMON_ARRAY_LEN(vectors));
	tcase_add_test(tc, test_binary_roundtrip);
	tcase_add_loop_test(tc, test_bad, 0, (int)COMMON_ARRAY_LEN(bad));
	tcase_add_test(tc, test_newlines_and_embedded_nul);
	tcase_add_test(tc, test_size_cap);
	tcase_add_test(tc, test_agrees_with_gnutls);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(base64_suite());
}
