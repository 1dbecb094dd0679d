/*
 * check_hpaloop_options.c - hpaloop/options.c (--hpa modes, the annotation
 * filter) and the --feature-gates rules of hpa/options.c the loop applies.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpaloop/hpaloop_int.h"
#include "test/unit/unit.h"

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	ck_assert_msg(j != NULL, "bad test JSON: %s", e.text);
	return j;
}

/* ---- modes, annotation filter, feature gates ---------------------------------- */

START_TEST(test_mode_parse)
{
	enum hpaloop_mode m = HPALOOP_MODE_ALL;

	ck_assert_int_eq(hpaloop_mode_parse("off", &m), 0);
	ck_assert_int_eq(m, HPALOOP_MODE_OFF);
	ck_assert_int_eq(hpaloop_mode_parse("annotated", &m), 0);
	ck_assert_int_eq(m, HPALOOP_MODE_ANNOTATED);
	ck_assert_int_eq(hpaloop_mode_parse("all", &m), 0);
	ck_assert_int_eq(m, HPALOOP_MODE_ALL);
	ck_assert_int_eq(hpaloop_mode_parse("All", &m), ERR_INVAL);
	ck_assert_int_eq(hpaloop_mode_parse("", &m), ERR_INVAL);
	ck_assert_int_eq(hpaloop_mode_parse(NULL, &m), ERR_INVAL);
	ck_assert_int_eq(m, HPALOOP_MODE_ALL); /* untouched on failure */
}
END_TEST

static bool selected(enum hpaloop_mode mode, const char *annotations)
{
	char text[256];
	json_t *hpa;
	bool sel;

	snprintf(text, sizeof(text), "{\"metadata\":{\"name\":\"h\"%s%s}}",
		 annotations ? ",\"annotations\":" : "", annotations ? annotations : "");
	hpa = parse(text);
	sel = hpaloop_selected(mode, hpa);
	json_decref(hpa);
	return sel;
}

START_TEST(test_annotation_filter)
{
	const char *yes = "{\"metrics-apiserver.io/embedded-hpa\":\"true\"}";

	ck_assert(selected(HPALOOP_MODE_ANNOTATED, yes));
	ck_assert(!selected(HPALOOP_MODE_ANNOTATED, NULL));
	ck_assert(!selected(HPALOOP_MODE_ANNOTATED, "{}"));
	ck_assert(!selected(HPALOOP_MODE_ANNOTATED, "{\"metrics-apiserver.io/embedded-hpa\":\"false\"}"));
	ck_assert(!selected(HPALOOP_MODE_ANNOTATED, "{\"metrics-apiserver.io/embedded-hpa\":\"True\"}"));
	ck_assert(!selected(HPALOOP_MODE_ANNOTATED, "{\"metrics-apiserver.io/embedded-hpa\":true}"));
	ck_assert(!selected(HPALOOP_MODE_ANNOTATED, "{\"embedded-hpa\":\"true\"}"));
	ck_assert(selected(HPALOOP_MODE_ALL, NULL));
	ck_assert(selected(HPALOOP_MODE_ALL, "{\"metrics-apiserver.io/embedded-hpa\":\"false\"}"));
	ck_assert(!selected(HPALOOP_MODE_OFF, yes));
}
END_TEST

static int gates(struct hpa_options *o, const char *a, const char *b, char *err, size_t len)
{
	char *items[2] = { (char *)a, (char *)b };

	hpa_options_default(o);
	return hpa_feature_gates_apply(o, items, b ? 2 : 1, err, len);
}

START_TEST(test_feature_gates)
{
	struct hpa_options o;
	char err[256] = "";

	hpa_options_default(&o);
	ck_assert(o.gate_scale_to_zero);
	ck_assert(o.gate_configurable_tolerance);
	ck_assert_int_eq(gates(&o, "HPAScaleToZero=false", " HPAConfigurableTolerance = F ", err,
			       sizeof(err)),
			 0);
	ck_assert(!o.gate_scale_to_zero);
	ck_assert(!o.gate_configurable_tolerance);
	ck_assert(o.gate_pod_level_resources);
	ck_assert_int_eq(gates(&o, "PodLevelResources=0", "", err, sizeof(err)), 0);
	ck_assert(!o.gate_pod_level_resources);
	ck_assert_int_eq(gates(&o, "Foo=true", NULL, err, sizeof(err)), ERR_INVAL);
	ck_assert_str_eq(err, "unrecognized feature gate: Foo");
	ck_assert_int_eq(gates(&o, "HPAScaleToZero=maybe", NULL, err, sizeof(err)), ERR_INVAL);
	ck_assert_str_eq(err, "invalid value of HPAScaleToZero=maybe, err: strconv.ParseBool: "
			      "parsing \"maybe\": invalid syntax");
	ck_assert_int_eq(gates(&o, "HPAScaleToZero", NULL, err, sizeof(err)), ERR_INVAL);
	ck_assert_str_eq(err, "malformed pair, expect string=bool");
}
END_TEST

static Suite *options_suite(void)
{
	Suite *s = suite_create("hpaloop_options");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_mode_parse);
	tcase_add_test(tc, test_annotation_filter);
	tcase_add_test(tc, test_feature_gates);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(options_suite());
}
