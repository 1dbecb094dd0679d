/*
 * patch.c - PATCH bodies: JSON merge patch (RFC 7386; strategic merge
 * patch is treated as a merge patch for the kinds kubesim serves, with
 * its $patch/$retainKeys directives dropped) and JSON patch (RFC 6902).
 */
#include "test/kubesim/apiserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATCH_MAX_DEPTH 64
#define PATCH_MAX_OPS 10000

static int merge(json_t *target, const json_t *patch, int depth)
{
	const char *key;
	json_t *v;

	if (depth > PATCH_MAX_DEPTH)
		return ERR_INVAL;
	json_object_foreach((json_t *)patch, key, v) {
		json_t *cur = json_object_get(target, key);

		if (key[0] == '$')
			continue; /* strategic-merge directives */
		if (json_is_null(v)) {
			json_object_del(target, key);
		} else if (json_is_object(v)) {
			if (!json_is_object(cur)) {
				cur = json_object();
				json_object_set_new(target, key, cur);
			}
			if (merge(cur, v, depth + 1))
				return ERR_INVAL;
		} else {
			json_object_set(target, key, v);
		}
	}
	return ERR_OK;
}

int sim_merge_patch(json_t *target, const json_t *patch)
{
	if (!json_is_object(target) || !json_is_object(patch))
		return ERR_INVAL;
	return merge(target, patch, 0);
}

/* ---- JSON patch ------------------------------------------------------------------ */

/* Unescapes one JSON-pointer token (~1 -> /, ~0 -> ~). */
static char *pointer_token(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '~' && i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1')) {
			*o++ = s[i + 1] == '0' ? '~' : '/';
			i++;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* Resolves the parent of a pointer; *last receives the final token. */
static json_t *pointer_parent(json_t *doc, const char *ptr, char **last)
{
	json_t *cur = doc;
	const char *p = ptr;

	*last = NULL;
	if (*p != '/')
		return NULL;
	for (;;) {
		const char *next = strchr(p + 1, '/');
		size_t n = next ? (size_t)(next - p - 1) : strlen(p + 1);
		char *tok = pointer_token(p + 1, n);

		if (!next) {
			*last = tok;
			return cur;
		}
		if (json_is_object(cur)) {
			cur = json_object_get(cur, tok);
		} else if (json_is_array(cur)) {
			char *end;
			unsigned long idx = strtoul(tok, &end, 10);

			cur = (*tok && !*end) ? json_array_get(cur, idx) : NULL;
		} else {
			cur = NULL;
		}
		free(tok);
		if (!cur)
			return NULL;
		p = next;
	}
}

static int array_index(json_t *arr, const char *tok, bool for_add, size_t *idx)
{
	char *end;
	unsigned long v;

	if (for_add && strcmp(tok, "-") == 0) {
		*idx = json_array_size(arr);
		return ERR_OK;
	}
	v = strtoul(tok, &end, 10);
	if (!*tok || *end || v > json_array_size(arr) - (for_add ? 0 : 1) ||
	    (!for_add && !json_array_size(arr)))
		return ERR_INVAL;
	*idx = v;
	return ERR_OK;
}

/* One add / remove / replace / test operation. */
static int apply_op(json_t *doc, const char *op, const char *path, json_t *value)
{
	char *last = NULL;
	json_t *parent = pointer_parent(doc, path, &last);
	size_t idx;
	int rc = ERR_INVAL;

	if (!parent || !last)
		goto out;
	if (strcmp(op, "test") == 0) {
		json_t *cur = json_is_object(parent) ? json_object_get(parent, last) :
			array_index(parent, last, false, &idx) ? NULL : json_array_get(parent, idx);

		rc = cur && value && json_equal(cur, value) ? ERR_OK : ERR_INVAL;
	} else if (json_is_object(parent)) {
		if (strcmp(op, "remove") == 0 || strcmp(op, "replace") == 0)
			if (!json_object_get(parent, last))
				goto out;
		rc = strcmp(op, "remove") == 0 ? json_object_del(parent, last)
					       : json_object_set(parent, last, value);
	} else if (json_is_array(parent)) {
		if (array_index(parent, last, strcmp(op, "add") == 0, &idx))
			goto out;
		if (strcmp(op, "add") == 0)
			rc = json_array_insert(parent, idx, value);
		else if (strcmp(op, "remove") == 0)
			rc = json_array_remove(parent, idx);
		else
			rc = json_array_set(parent, idx, value);
	}
out:
	free(last);
	return rc ? ERR_INVAL : ERR_OK;
}

int sim_json_patch(json_t *target, const json_t *ops, char *err, size_t errlen)
{
	json_t *o;
	size_t i;

	if (!json_is_array(ops) || json_array_size(ops) > PATCH_MAX_OPS) {
		snprintf(err, errlen, "json patch must be an array of at most %d operations",
			 PATCH_MAX_OPS);
		return ERR_INVAL;
	}
	json_array_foreach(ops, i, o) {
		const char *op = json_string_value(json_object_get(o, "op"));
		const char *path = json_string_value(json_object_get(o, "path"));
		json_t *value = json_object_get(o, "value");
		bool needs_value = op && strcmp(op, "remove") != 0;

		if (!op || !path || (needs_value && !value) ||
		    (strcmp(op, "add") && strcmp(op, "remove") && strcmp(op, "replace") &&
		     strcmp(op, "test")) ||
		    apply_op(target, op, path, value)) {
			snprintf(err, errlen, "the json patch operation %zu (%s %s) cannot be applied",
				 i, op ? op : "?", path ? path : "?");
			return ERR_INVAL;
		}
	}
	return ERR_OK;
}

int sim_patch_apply(const struct sim_request *req, json_t *target, char *err, size_t errlen)
{
	const char *ct = sim_request_header(req, "Content-Type");
	json_error_t jerr;
	json_t *patch;
	int rc = 0;

	if (!ct || (strncmp(ct, "application/merge-patch+json", 28) &&
		    strncmp(ct, "application/strategic-merge-patch+json", 38) &&
		    strncmp(ct, "application/json-patch+json", 27))) {
		snprintf(err, errlen, "the body of the request was in an unknown format - "
				      "accepted media types include: application/json-patch+json, "
				      "application/merge-patch+json, "
				      "application/strategic-merge-patch+json");
		return 415;
	}
	patch = json_loadb(req->body ? req->body : "", req->body_len, 0, &jerr);
	if (!patch) {
		snprintf(err, errlen, "error decoding patch: %s", jerr.text);
		return 400;
	}
	if (strncmp(ct, "application/json-patch+json", 27) == 0) {
		if (sim_json_patch(target, patch, err, errlen))
			rc = 422;
	} else if (sim_merge_patch(target, patch)) {
		snprintf(err, errlen, "the merge patch must be a JSON object nested at most %d deep",
			 PATCH_MAX_DEPTH);
		rc = 400;
	}
	json_decref(patch);
	return rc;
}
