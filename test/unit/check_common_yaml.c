/* check_common_yaml.c - common/yaml.c: typing, anchors, bounds and errors. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "test/unit/unit.h"

static json_t *load(const char *text, char *err, size_t errlen)
{
	return yamldoc_to_json(text, strlen(text), err, errlen);
}

START_TEST(test_core_schema_typing)
{
	char err[256];
	json_t *v = load("a: 1\nb: -2.5\nc: true\nd: ~\ne: \"42\"\nf: 100m\ng: [x, 'y']\n", err,
			 sizeof(err));
	char *s;

	ck_assert_ptr_nonnull(v);
	s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_str_eq(s, "{\"a\":1,\"b\":-2.5,\"c\":true,\"d\":null,\"e\":\"42\",\"f\":\"100m\","
			    "\"g\":[\"x\",\"y\"]}");
	free(s);
	json_decref(v);
}
END_TEST

START_TEST(test_anchor_alias)
{
	char err[256];
	json_t *v = load("base: &b {cpu: 1}\ncopy: *b\n", err, sizeof(err));

	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(v, "copy"), "cpu")), 1);
	json_decref(v);
}
END_TEST

START_TEST(test_errors)
{
	char err[256] = "";
	struct dynbuf deep;
	json_t *v;
	int i;

	v = load("a: [1, 2\n", err, sizeof(err));
	ck_assert_ptr_null(v);
	ck_assert_int_gt(strlen(err), 0);
	/* Nesting beyond the bound is refused, not followed. */
	dynbuf_init(&deep, DYN_SMALL);
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(dynbuf_addch(&deep, '['), ERR_OK);
	err[0] = '\0';
	v = yamldoc_to_json(deep.buf, deep.len, err, sizeof(err));
	ck_assert_ptr_null(v);
	ck_assert_int_gt(strlen(err), 0);
	dynbuf_clear(&deep);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common_yaml");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_core_schema_typing);
	tcase_add_test(tc, test_anchor_alias);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
