/*
 * extras.c - the parts of the config around the rules: a rule's
 * `resources` (overrides, template, namespaced), `resourceRules` (checked
 * for shape: metrics.k8s.io keeps coming from the kubelets) and our own
 * top-level `metricsApiserver:` (static targets, scrape limits).
 */
#include "rules/rules_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lower-case plural of a resource name, as the RESTMapper normalises a
 * kind the cluster knows (pod, pods and Pod all give pods). */
char *rules__plural(const char *resource)
{
	size_t n = strlen(resource);
	char *low = xstrdup(resource), *out;

	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)low[i]);
	if (n == 0 || strcmp(low, "endpoints") == 0 ||
	    (n > 1 && low[n - 1] == 's' && low[n - 2] != 's'))
		return low; /* already plural */
	if (low[n - 1] == 'y' && n > 1 && !strchr("aeiou", low[n - 2])) {
		low[n - 1] = 0;
		out = xasprintf("%sies", low);
	} else if (low[n - 1] == 's' || low[n - 1] == 'x' || low[n - 1] == 'z' ||
		   (n > 1 && (low[n - 1] == 'h') && strchr("cs", low[n - 2]))) {
		out = xasprintf("%ses", low);
	} else {
		out = xasprintf("%ss", low);
	}
	free(low);
	return out;
}

static int cmp_override(const void *a, const void *b)
{
	return strcmp(((const struct rules_override *)a)->label,
		      ((const struct rules_override *)b)->label);
}

static void overrides(struct rules__load *ld, const json_t *res, struct rules_rule *r)
{
	static const char *const keys[] = { "group", "resource" };
	json_t *ov = json_object_get(res, "overrides"), *gr;
	const char *label;

	if (!ov || json_is_null(ov))
		return;
	if (!json_is_object(ov)) {
		rules__error(ld, rules__at_member(ld, res, "overrides", true),
			     "cannot unmarshal %s into map[string]config.GroupResource",
			     rules__tag(ov));
		return;
	}
	if (json_object_size(ov) > RULES_MAX_OVERRIDES) {
		rules__error(ld, rules__at_member(ld, res, "overrides", true),
			     "more than %d overrides", RULES_MAX_OVERRIDES);
		return;
	}
	r->overrides = xcalloc(json_object_size(ov) + 1, sizeof(*r->overrides));
	json_object_foreach(ov, label, gr) {
		char *group = NULL, *resource = NULL;
		struct rules_group_resource known;
		struct rules_override *o;

		if (!json_is_object(gr)) {
			rules__error(ld, rules__at_member(ld, ov, label, true),
				     "cannot unmarshal %s into config.GroupResource", rules__tag(gr));
			continue;
		}
		if (!rules__known_keys(ld, gr, keys, 2, "config.GroupResource") ||
		    !rules__string(ld, gr, "group", &group) ||
		    !rules__string(ld, gr, "resource", &resource) || !resource || !*resource) {
			if (json_is_object(gr) && !json_object_get(gr, "resource"))
				rules__error(ld, rules__at_member(ld, ov, label, true),
					     "override of label %s needs a resource", label);
			free(group);
			free(resource);
			continue;
		}
		o = &r->overrides[r->n_overrides++];
		o->label = xstrdup(label);
		if (rules__restmap(group, resource, &known)) {
			o->gr.group = xstrdup(known.group);
			o->gr.resource = xstrdup(known.resource);
			free(group);
		} else { /* e.g. a CustomResourceDefinition's: kept as written */
			o->gr.group = group ? group : xstrdup("");
			o->gr.resource = rules__plural(resource);
		}
		free(resource);
	}
	qsort(r->overrides, r->n_overrides, sizeof(*r->overrides), cmp_override);
}

bool rules__resources(struct rules__load *ld, const json_t *obj, const char *key,
		      struct rules_rule *r)
{
	static const char *const keys[] = { "template", "overrides", "namespaced" };
	json_t *res = json_object_get(obj, key), *ns;
	const char *bad;

	if (!res || json_is_null(res))
		return true;
	if (!json_is_object(res)) {
		rules__error(ld, rules__at_member(ld, obj, key, true),
			     "cannot unmarshal %s into config.ResourceMapping", rules__tag(res));
		return false;
	}
	if (!rules__known_keys(ld, res, keys, 3, "config.ResourceMapping"))
		return false;
	if (rules__string(ld, res, "template", &r->template) && r->template &&
	    (bad = rules__resource_template_check(r->template)))
		rules__error(ld, rules__at_member(ld, res, "template", true),
			     "unable to parse label template \"%s\": %s", r->template, bad);
	overrides(ld, res, r);
	ns = json_object_get(res, "namespaced");
	if (ns && !json_is_null(ns) && !json_is_boolean(ns))
		rules__error(ld, rules__at_member(ld, res, "namespaced", true),
			     "cannot unmarshal %s into bool", rules__tag(ns));
	else if (ns && !json_is_null(ns))
		r->namespaced = json_is_true(ns);
	return true;
}

/* ---- resourceRules ----------------------------------------------------------- */

static void resource_rule(struct rules__load *ld, const json_t *rr, const char *key)
{
	static const char *const keys[] = { "containerQuery", "nodeQuery", "resources",
					    "containerLabel" };
	static const char *const fields[] = { "Series", "LabelMatchers", "GroupBy",
					      "GroupBySlice", "LabelValuesByName" };
	json_t *v = json_object_get(rr, key);
	struct rules_rule scratch = { .namespaced = -1 };
	char *s = NULL, why[512];
	const char *bad;

	if (!v || json_is_null(v))
		return;
	if (!json_is_object(v)) {
		rules__error(ld, rules__at_member(ld, rr, key, true),
			     "cannot unmarshal %s into config.ResourceRule", rules__tag(v));
		return;
	}
	if (!rules__known_keys(ld, v, keys, 4, "config.ResourceRule"))
		return;
	rules__resources(ld, v, "resources", &scratch);
	for (int i = 0; i < 2; i++) { /* containerQuery, nodeQuery */
		if (rules__string(ld, v, keys[i], &s) && s &&
		    (bad = rules__template_check(s, fields, 5, why, sizeof(why)))) {
			rules__error(ld, rules__at_member(ld, v, keys[i], true),
				     "unable to parse metrics query template: %s", bad);
		} else if (s && *s) {
			char *what = xasprintf("resourceRules.%s.%s", key, keys[i]);
			struct rules_query *q;

			rules__query_check(ld, v, keys[i], what, &scratch,
					   i ? RULES__Q_NODE : RULES__Q_CONTAINER, &q);
			rules__query_free(q);
			free(what);
		}
		free(s);
		s = NULL;
	}
	if (rules__string(ld, v, "containerLabel", &s))
		free(s);
	free(scratch.template);
	for (size_t i = 0; i < scratch.n_overrides; i++) {
		free(scratch.overrides[i].label);
		free(scratch.overrides[i].gr.group);
		free(scratch.overrides[i].gr.resource);
	}
	free(scratch.overrides);
}

void rules__resource_rules(struct rules__load *ld, const json_t *doc, struct rules_config *c)
{
	static const char *const keys[] = { "cpu", "memory", "window" };
	json_t *rr = json_object_get(doc, "resourceRules"), *w;
	int64_t ns;
	char why[128];

	if (!rr || json_is_null(rr))
		return;
	if (!json_is_object(rr)) {
		rules__error(ld, rules__at_member(ld, doc, "resourceRules", true),
			     "cannot unmarshal %s into config.ResourceRules", rules__tag(rr));
		return;
	}
	c->has_resource_rules = true;
	if (!rules__known_keys(ld, rr, keys, 3, "config.ResourceRules"))
		return;
	resource_rule(ld, rr, "cpu");
	resource_rule(ld, rr, "memory");
	w = json_object_get(rr, "window");
	if (w && !json_is_null(w) &&
	    (!json_is_string(w) || go_parse_duration(json_string_value(w), &ns, why, sizeof(why))))
		rules__error(ld, rules__at_member(ld, rr, "window", true),
			     "window: not a valid duration");
}
