/*
 * options.c - the loop's command-line vocabulary: --hpa modes, the HPA
 * selection rule (annotation), and --feature-gates as component-base
 * parses them (mapStringBool, then the known-gate check).
 */
#include "hpa/hpa_int.h"

#include <stdio.h>
#include <string.h>

int hpa_mode_parse(const char *s, enum hpa_mode *mode)
{
	static const struct {
		const char *name;
		enum hpa_mode mode;
	} modes[] = {
		{ "off", HPA_MODE_OFF }, { "annotated", HPA_MODE_ANNOTATED }, { "all", HPA_MODE_ALL },
	};

	for (size_t i = 0; s && i < COMMON_ARRAY_LEN(modes); i++) {
		if (strcmp(s, modes[i].name) == 0) {
			*mode = modes[i].mode;
			return 0;
		}
	}
	return ERR_INVAL;
}

bool hpa_loop_selected(enum hpa_mode mode, const json_t *hpa)
{
	const json_t *ann = jpath_get(hpa, "metadata.annotations");
	const char *v = json_string_value(json_object_get(ann, HPA_ANNOTATION));

	switch (mode) {
	case HPA_MODE_ALL:
		return true;
	case HPA_MODE_ANNOTATED:
		return v && strcmp(v, "true") == 0;
	case HPA_MODE_OFF:
		break;
	}
	return false;
}

/* strconv.ParseBool. */
static bool parse_go_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < COMMON_ARRAY_LEN(yes); i++) {
		if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
			*out = strcmp(s, yes[i]) == 0;
			return true;
		}
	}
	return false;
}

/* strings.TrimSpace into buf (truncated to len - 1). */
static void trim_copy(const char *s, size_t n, char *buf, size_t len)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	snprintf(buf, len, "%.*s", (int)n, s);
}

/* One "Name=bool" pair. */
static int gate_apply(struct hpa_options *o, const char *item, char *err, size_t errlen)
{
	const char *eq = strchr(item, '=');
	char key[128], val[128];
	bool on;

	if (!eq) {
		snprintf(err, errlen, "malformed pair, expect string=bool");
		return ERR_INVAL;
	}
	trim_copy(item, (size_t)(eq - item), key, sizeof(key));
	trim_copy(eq + 1, strlen(eq + 1), val, sizeof(val));
	if (!parse_go_bool(val, &on)) {
		snprintf(err, errlen,
			 "invalid value of %s=%s, err: strconv.ParseBool: parsing \"%s\": invalid syntax",
			 key, val, val);
		return ERR_INVAL;
	}
	if (strcmp(key, "HPAScaleToZero") == 0)
		o->gate_scale_to_zero = on;
	else if (strcmp(key, "HPAConfigurableTolerance") == 0)
		o->gate_configurable_tolerance = on;
	else if (strcmp(key, "PodLevelResources") == 0)
		o->gate_pod_level_resources = on;
	else {
		snprintf(err, errlen, "unrecognized feature gate: %s", key);
		return ERR_INVAL;
	}
	return 0;
}

int hpa_feature_gates_apply(struct hpa_options *o, char *const *items, size_t n, char *err,
			    size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		if (!items[i] || !*items[i])
			continue;
		if (gate_apply(o, items[i], err, errlen) != 0)
			return ERR_INVAL;
	}
	return 0;
}
