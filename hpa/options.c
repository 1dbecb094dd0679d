/*
 * options.c - the controller options: upstream's defaults, and
 * --feature-gates as component-base parses them (mapStringBool, then the
 * known-gate check).
 */
#include "hpa/hpa_int.h"

#include <stdio.h>
#include <string.h>

/* The one place the controller's defaults are written (the server's
 * --hpa-* defaults and `hpa explain` take them from here). */
void hpa_options_default(struct hpa_options *o)
{
	*o = (struct hpa_options){
		.tolerance = 0.1,
		.downscale_window_ns = 300 * NS_PER_SEC,
		.cpu_init_period_ns = 300 * NS_PER_SEC,
		.readiness_delay_ns = 30 * NS_PER_SEC,
		.scale_up_limit_factor = 2.0,
		.scale_up_limit_minimum = 4.0,
		.gate_scale_to_zero = true,
		.gate_configurable_tolerance = true,
		.gate_pod_level_resources = true,
	};
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
