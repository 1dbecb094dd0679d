/* check_common_labels.c - common/labels.c: a label set kept sorted by key. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "test/unit/unit.h"

START_TEST(test_labels_sorted_set)
{
	struct labels l, c;

	labels_init(&l);
	labels_set(&l, "b", "2");
	labels_set(&l, "a", "1");
	labels_set(&l, "c", "3");
	labels_set(&l, "b", "two");
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(l.items[0].key, "a");
	ck_assert_str_eq(l.items[1].key, "b");
	ck_assert_str_eq(l.items[2].key, "c");
	ck_assert_str_eq(labels_get(&l, "b"), "two");
	ck_assert_ptr_null(labels_get(&l, "d"));
	labels_copy(&c, &l);
	labels_clear(&l);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_str_eq(labels_get(&c, "c"), "3");
	labels_clear(&c);
}
END_TEST

static Suite *labels_suite(void)
{
	Suite *s = suite_create("common_labels");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_labels_sorted_set);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(labels_suite());
}
