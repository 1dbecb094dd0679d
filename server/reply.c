/*
 * reply.c - the two reply shapes server/ writes itself: plain text (health,
 * 404) and Status JSON errors (401, 403, 405, 413).
 */
#include "server/server.h"

#include <jansson.h>
#include <string.h>

void server_reply_text(struct server_exchange *x, int status, const char *text)
{
	x->status = status;
	x->content_type = "text/plain; charset=utf-8";
	dynbuf_reset(&x->body);
	if (dynbuf_addstr(&x->body, text) != 0)
		log_error("reply text of %zu bytes exceeds the response cap", strlen(text));
}

static void set_nonempty(json_t *obj, const char *key, const char *value)
{
	if (value && *value)
		json_object_set_new(obj, key, json_string(value));
}

/*
 * Status field order is kind, apiVersion, metadata, status, message,
 * reason, details, code.  details is omitted when name, group and kind
 * are all NULL; empty strings are left out of it (so "" gives {}).
 */
void server_reply_status(struct server_exchange *x, int code, const char *reason,
			 const char *message, const char *name, const char *group,
			 const char *kind)
{
	json_t *st = json_object();
	char *text;

	json_object_set_new(st, "kind", json_string("Status"));
	json_object_set_new(st, "apiVersion", json_string("v1"));
	json_object_set_new(st, "metadata", json_object());
	json_object_set_new(st, "status", json_string("Failure"));
	/* A message quoting a non-UTF-8 request path cannot be a JSON string. */
	if (json_object_set_new(st, "message", json_string(message)) != 0)
		json_object_set_new(st, "message", json_string("(message is not valid UTF-8)"));
	json_object_set_new(st, "reason", json_string(reason));
	if (name || group || kind) {
		json_t *details = json_object();

		set_nonempty(details, "name", name);
		set_nonempty(details, "group", group);
		set_nonempty(details, "kind", kind);
		json_object_set_new(st, "details", details);
	}
	json_object_set_new(st, "code", json_integer(code));
	text = json_dumps(st, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(st);
	x->status = code;
	x->content_type = "application/json";
	dynbuf_reset(&x->body);
	if (!text || dynbuf_addstr(&x->body, text) != 0 || dynbuf_addch(&x->body, '\n') != 0)
		log_error("cannot render a %d Status", code);
	free(text);
}
