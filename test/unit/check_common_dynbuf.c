/* check_common_dynbuf.c - common/dynbuf.c: caps, growth, take, file reads. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "test/unit/unit.h"

START_TEST(test_add_and_cap)
{
	struct dynbuf b;

	dynbuf_init(&b, 10);
	ck_assert_int_eq(dynbuf_addstr(&b, "hello"), ERR_OK);
	ck_assert_int_eq(dynbuf_addstr(&b, "world"), ERR_OK);
	ck_assert_str_eq(b.buf, "helloworld");
	/* The cap is exact and a refused add leaves the content unchanged. */
	ck_assert_int_eq(dynbuf_addch(&b, '!'), ERR_TOOBIG);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_str_eq(b.buf, "helloworld");
	dynbuf_clear(&b);
	ck_assert_ptr_null(b.buf);
	ck_assert_uint_eq(b.max, 10);
}
END_TEST

START_TEST(test_printf_long)
{
	struct dynbuf b;
	char big[1000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	dynbuf_init(&b, 4096);
	ck_assert_int_eq(dynbuf_printf(&b, "%d-%s", 42, big), ERR_OK);
	ck_assert_uint_eq(b.len, 3 + 999);
	ck_assert_int_eq(strncmp(b.buf, "42-xxx", 6), 0);
	ck_assert_int_eq(dynbuf_printf(&b, "%s%s%s%s", big, big, big, big), ERR_TOOBIG);
	ck_assert_uint_eq(b.len, 1002);
	dynbuf_clear(&b);
}
END_TEST

START_TEST(test_take_and_reset)
{
	struct dynbuf b;
	size_t len;
	char *s;

	dynbuf_init(&b, 100);
	s = dynbuf_take(&b, &len);
	ck_assert_str_eq(s, "");
	ck_assert_uint_eq(len, 0);
	free(s);
	ck_assert_int_eq(dynbuf_add(&b, "abc", 3), ERR_OK);
	dynbuf_reset(&b);
	ck_assert_str_eq(b.buf, "");
	ck_assert_int_eq(dynbuf_add(&b, "de", 2), ERR_OK);
	s = dynbuf_take(&b, &len);
	ck_assert_str_eq(s, "de");
	ck_assert_uint_eq(len, 2);
	ck_assert_ptr_null(b.buf);
	free(s);
}
END_TEST

START_TEST(test_read_file)
{
	char path[] = "/tmp/check_dynbuf_XXXXXX";
	int fd = mkstemp(path);
	struct dynbuf b;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "0123456789", 10), 10);
	close(fd);
	dynbuf_init(&b, 100);
	ck_assert_int_eq(dynbuf_read_file(&b, path), ERR_OK);
	ck_assert_str_eq(b.buf, "0123456789");
	dynbuf_clear(&b);
	dynbuf_init(&b, 5);
	ck_assert_int_eq(dynbuf_read_file(&b, path), ERR_TOOBIG);
	dynbuf_clear(&b);
	ck_assert_int_eq(dynbuf_read_file(&b, "/nonexistent/file"), ERR_IO);
	unlink(path);
}
END_TEST

START_TEST(test_err_str)
{
	ck_assert_str_eq(err_str(ERR_OK), "ok");
	ck_assert_str_eq(err_str(ERR_TOOBIG), "input exceeds its size limit");
	ck_assert_str_eq(err_str(-999), "unknown error");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common_dynbuf");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_add_and_cap);
	tcase_add_test(tc, test_printf_long);
	tcase_add_test(tc, test_take_and_reset);
	tcase_add_test(tc, test_read_file);
	tcase_add_test(tc, test_err_str);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
