/*
 * options.c - which HPAs the loop acts on: the --hpa modes and the
 * selection rule (the annotation).
 */
#include "hpaloop/hpaloop_int.h"

#include <string.h>

int hpaloop_mode_parse(const char *s, enum hpaloop_mode *mode)
{
	static const struct {
		const char *name;
		enum hpaloop_mode mode;
	} modes[] = {
		{ "off", HPALOOP_MODE_OFF }, { "annotated", HPALOOP_MODE_ANNOTATED }, { "all", HPALOOP_MODE_ALL },
	};

	for (size_t i = 0; s && i < COMMON_ARRAY_LEN(modes); i++) {
		if (strcmp(s, modes[i].name) == 0) {
			*mode = modes[i].mode;
			return 0;
		}
	}
	return ERR_INVAL;
}

bool hpaloop_selected(enum hpaloop_mode mode, const json_t *hpa)
{
	const json_t *ann = jpath_get(hpa, "metadata.annotations");
	const char *v = json_string_value(json_object_get(ann, HPALOOP_ANNOTATION));

	switch (mode) {
	case HPALOOP_MODE_ALL:
		return true;
	case HPALOOP_MODE_ANNOTATED:
		return v && strcmp(v, "true") == 0;
	case HPALOOP_MODE_OFF:
		break;
	}
	return false;
}
