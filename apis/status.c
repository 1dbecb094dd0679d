/*
 * status.c - metav1.Status error bodies (field order kind, apiVersion,
 * metadata, status, message, reason, details, code) and the plain-text
 * 404 of Go's http.NotFound.
 */
#include "apis/apis_int.h"

#include <stdio.h>
#include <string.h>

/* A details field (omitempty). */
static int detail(struct dynbuf *b, const char *key, const char *val, bool *first)
{
	int rc;

	if (!val || !*val)
		return ERR_OK;
	rc = *first ? 0 : dynbuf_addch(b, ',');
	*first = false;
	if (!rc)
		rc = jsonw_key(b, key);
	return rc ? rc : jsonw_string(b, val);
}

int apis_status_json(struct dynbuf *out, int code, const char *reason, const char *message,
		     const char *details_name, const char *details_group,
		     const char *details_kind)
{
	bool first = true;
	int rc;

	rc = dynbuf_addstr(out, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
				"\"status\":\"Failure\",\"message\":");
	if (!rc)
		rc = jsonw_string(out, message ? message : "");
	if (!rc && reason && *reason) {
		rc = dynbuf_addstr(out, ",\"reason\":");
		if (!rc)
			rc = jsonw_string(out, reason);
	}
	if (!rc && (details_name || details_group || details_kind)) {
		rc = dynbuf_addstr(out, ",\"details\":{");
		if (!rc)
			rc = detail(out, "name", details_name, &first);
		if (!rc)
			rc = detail(out, "group", details_group, &first);
		if (!rc)
			rc = detail(out, "kind", details_kind, &first);
		if (!rc)
			rc = dynbuf_addch(out, '}');
	}
	if (!rc)
		rc = dynbuf_printf(out, ",\"code\":%d}\n", code);
	return rc;
}

int apis__finish_json(struct apis_response *resp, bool pretty)
{
	struct dynbuf out;
	int rc;

	if (!pretty) {
		if (resp->body.len && resp->body.buf[resp->body.len - 1] == '\n')
			return ERR_OK;
		return dynbuf_addch(&resp->body, '\n');
	}
	dynbuf_init(&out, resp->body.max);
	rc = jsonw_indent(&out, resp->body.buf ? resp->body.buf : "", resp->body.len);
	if (rc) {
		dynbuf_clear(&out);
		return rc;
	}
	dynbuf_clear(&resp->body);
	resp->body = out;
	return ERR_OK;
}

void apis__error(struct apis_response *resp, bool pretty, int code, const char *reason,
		const char *message, const char *dname, const char *dgroup, const char *dkind)
{
	dynbuf_reset(&resp->body);
	resp->status = code;
	resp->content_type = CT_JSON;
	if (apis_status_json(&resp->body, code, reason, message, dname, dgroup, dkind) ||
	    apis__finish_json(resp, pretty)) {
		/* Only a tiny cap can refuse a Status; say so in plain text. */
		dynbuf_reset(&resp->body);
		resp->content_type = CT_TEXT;
		if (dynbuf_addstr(&resp->body, message ? message : "error"))
			dynbuf_reset(&resp->body);
	}
}

void apis__error_not_found_generic(struct apis_response *resp, bool pretty)
{
	apis__error(resp, pretty, 404, "NotFound", "the server could not find the requested resource",
		   "", "", "");
}

void apis__error_method(struct apis_response *resp, bool pretty)
{
	apis__error(resp, pretty, 405, "MethodNotAllowed",
		   "the server does not allow this method on the requested resource", "", "", "");
}

void apis__error_not_acceptable(struct apis_response *resp, bool pretty)
{
	apis__error(resp, pretty, 406, "NotAcceptable",
		   "only the following media types are accepted: application/json, "
		   "application/yaml, application/vnd.kubernetes.protobuf",
		   NULL, NULL, NULL);
}

void apis__error_bad_request(struct apis_response *resp, bool pretty, const char *message)
{
	apis__error(resp, pretty, 400, "BadRequest", message, NULL, NULL, NULL);
}

void apis__error_internal(struct apis_response *resp, bool pretty, int err)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "Internal error occurred: failed rendering the response: %s", err_str(err));
	apis__error(resp, pretty, 500, "InternalError", msg, NULL, NULL, NULL);
}

void apis__page_not_found(struct apis_response *resp)
{
	dynbuf_reset(&resp->body);
	resp->status = 404;
	resp->content_type = CT_TEXT;
	if (dynbuf_addstr(&resp->body, "404 page not found\n"))
		dynbuf_reset(&resp->body);  /* a cap under 19 bytes: empty body */
}

void apis__error_internal_cause(struct apis_response *resp, bool pretty, const char *cause)
{
	char msg[256];
	int rc;

	snprintf(msg, sizeof(msg), "Internal error occurred: %s", cause);
	dynbuf_reset(&resp->body);
	resp->status = 500;
	resp->content_type = CT_JSON;
	rc = dynbuf_addstr(&resp->body, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
					"\"status\":\"Failure\",\"message\":");
	if (!rc)
		rc = jsonw_string(&resp->body, msg);
	if (!rc)
		rc = dynbuf_addstr(&resp->body, ",\"reason\":\"InternalError\",\"details\":{\"causes\":"
						"[{\"message\":");
	if (!rc)
		rc = jsonw_string(&resp->body, cause);
	if (!rc)
		rc = dynbuf_addstr(&resp->body, "}]},\"code\":500}\n");
	if (!rc)
		rc = apis__finish_json(resp, pretty);
	if (rc)
		apis__error(resp, pretty, 500, "InternalError", msg, NULL, NULL, NULL);
}
