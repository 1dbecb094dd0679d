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

START_TEST(test_marks)
{
	const char *text = "rules:\n- seriesQuery: 'x'\n  name: {as: y}\n  flag: true\n";
	struct yamldoc_marks *m = NULL;
	struct yamldoc_mark k, v, e;
	char err[256] = "";
	json_t *doc = yamldoc_to_json_marked(text, strlen(text), &m, NULL, err, sizeof(err));
	json_t *rules, *rule, *name;

	ck_assert_msg(doc != NULL, "%s", err);
	rules = json_object_get(doc, "rules");
	rule = json_array_get(rules, 0);
	name = json_object_get(rule, "name");
	ck_assert(yamldoc_mark_member(m, doc, "rules", &k, &v));
	ck_assert_uint_eq(k.line, 1);
	ck_assert_uint_eq(k.col, 1);
	ck_assert_uint_eq(v.line, 2);
	ck_assert_uint_eq(v.col, 1);
	ck_assert(yamldoc_mark_element(m, rules, 0, &e));
	ck_assert_uint_eq(e.line, 2);
	ck_assert_uint_eq(e.col, 3);
	ck_assert(yamldoc_mark_member(m, rule, "seriesQuery", NULL, &v));
	ck_assert_uint_eq(v.line, 2);
	ck_assert_uint_eq(v.col, 16);
	ck_assert(yamldoc_mark_member(m, name, "as", &k, &v));
	ck_assert_uint_eq(k.line, 3);
	ck_assert_uint_eq(k.col, 10);
	ck_assert_uint_eq(v.col, 14);
	/* true is a shared singleton: its member still has its own place */
	ck_assert(yamldoc_mark_member(m, rule, "flag", NULL, &v));
	ck_assert_uint_eq(v.line, 4);
	ck_assert_uint_eq(v.col, 9);
	ck_assert(yamldoc_mark_node(m, name, &v));
	ck_assert_uint_eq(v.line, 3);
	ck_assert_uint_eq(v.col, 9);
	ck_assert(!yamldoc_mark_member(m, rule, "missing", &k, &v));
	ck_assert_uint_eq(k.line, 0);
	yamldoc_marks_free(m);
	json_decref(doc);
}
END_TEST

START_TEST(test_marks_errors)
{
	struct yamldoc_marks *m = (struct yamldoc_marks *)1;
	struct yamldoc_mark at;
	char err[256] = "";
	const char *dup = "a: 1\nb: 2\na: 3\n";
	const char *bad = "a: \"x\"y\"\n";
	json_t *doc;

	doc = yamldoc_to_json_marked(dup, strlen(dup), &m, &at, err, sizeof(err));
	ck_assert_ptr_null(doc);
	ck_assert_ptr_null(m);
	ck_assert_str_eq(err, "key \"a\" already set in map");
	ck_assert_uint_eq(at.line, 3);
	ck_assert_uint_eq(at.col, 1);
	/* the plain converter keeps the last value, as before */
	doc = yamldoc_to_json(dup, strlen(dup), err, sizeof(err));
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "a")), 3);
	json_decref(doc);
	/* libyaml's own errors carry its problem mark */
	doc = yamldoc_to_json_marked(bad, strlen(bad), &m, &at, err, sizeof(err));
	ck_assert_ptr_null(doc);
	ck_assert_uint_eq(at.line, 1);
	ck_assert_uint_ge(at.col, 7);
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
	tcase_add_test(tc, test_marks);
	tcase_add_test(tc, test_marks_errors);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
