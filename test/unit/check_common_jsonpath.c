/* check_common_jsonpath.c - common/jsonpath.c: dotted paths, typed readers, JSON Quantities. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>

#include "common/common.h"
#include "test/unit/unit.h"

static json_t *doc(void)
{
	json_t *v = json_loads("{\"metadata\": {\"name\": \"web\", \"labels\": {\"a.b/c\": \"x\"}},"
			       " \"spec\": {\"replicas\": 3, \"ratio\": 1.5, \"ports\": [80],"
			       " \"empty\": {}}, \"flat\": \"s\"}",
			       0, NULL);

	ck_assert_ptr_nonnull(v);
	return v;
}

START_TEST(test_paths)
{
	json_t *d = doc();

	ck_assert_str_eq(jpath_str(d, "metadata.name"), "web");
	ck_assert_str_eq(jpath_str(d, "flat"), "s");
	ck_assert_ptr_eq(jpath_get(d, ""), d);
	ck_assert_ptr_null(jpath_get(d, "metadata.missing"));
	ck_assert_ptr_null(jpath_get(d, "flat.deeper"));   /* a string has no members */
	ck_assert_ptr_null(jpath_get(d, "spec.ports.0"));  /* arrays are not indexed */
	ck_assert_ptr_null(jpath_get(NULL, "metadata"));
	/* A key that holds a dot cannot be reached by a path: read the map. */
	ck_assert_ptr_null(jpath_get(d, "metadata.labels.a.b/c"));
	ck_assert_str_eq(json_string_value(json_object_get(jpath_object(d, "metadata.labels"),
							   "a.b/c")), "x");
	json_decref(d);
}
END_TEST

START_TEST(test_typed)
{
	json_t *d = doc();

	ck_assert_int_eq(jpath_int(d, "spec.replicas", -1), 3);
	ck_assert_int_eq(jpath_int(d, "spec.ratio", -1), -1);  /* a real is not an integer */
	ck_assert_int_eq(jpath_int(d, "spec.none", 7), 7);
	ck_assert_ptr_null(jpath_str(d, "spec.replicas"));
	ck_assert_ptr_nonnull(jpath_array(d, "spec.ports"));
	ck_assert_ptr_null(jpath_array(d, "spec.empty"));
	ck_assert_ptr_nonnull(jpath_object(d, "spec.empty"));
	ck_assert_ptr_null(jpath_object(d, "spec.ports"));
	json_decref(d);
}
END_TEST

START_TEST(test_quantity)
{
	struct quantity q;
	json_t *s = json_string("250m"), *i = json_integer(2), *r = json_real(0.5);
	json_t *bad = json_string("2 cores"), *t = json_true();

	ck_assert_int_eq(jpath_quantity(s, &q), 0);
	ck_assert_int_eq(quantity_milli_value(&q), 250);
	ck_assert_int_eq(jpath_quantity(i, &q), 0);
	ck_assert_int_eq(quantity_milli_value(&q), 2000);
	ck_assert_int_eq(jpath_quantity(r, &q), 0);
	ck_assert_int_eq(quantity_milli_value(&q), 500);
	ck_assert_int_eq(jpath_quantity(bad, &q), ERR_PARSE);
	ck_assert_int_eq(jpath_quantity(t, &q), ERR_PARSE);
	ck_assert_int_eq(jpath_quantity(NULL, &q), ERR_PARSE);
	json_decref(s), json_decref(i), json_decref(r), json_decref(bad), json_decref(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common_jsonpath");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_paths);
	tcase_add_test(tc, test_typed);
	tcase_add_test(tc, test_quantity);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
