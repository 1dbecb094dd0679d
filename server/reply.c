/*
 * reply.c - the two reply shapes server/ writes itself: plain text (health,
 * 404) and Status JSON errors (401, 403, 405, 413; body by apis/).
 */
#include "server/server.h"

#include "apis/apis.h"

#include <string.h>

void server_reply_text(struct server_exchange *x, int status, const char *text)
{
	x->status = status;
	x->content_type = "text/plain; charset=utf-8";
	dynbuf_reset(&x->body);
	if (dynbuf_addstr(&x->body, text) != 0)
		log_error("reply text of %zu bytes exceeds the response cap", strlen(text));
}

void server_reply_status(struct server_exchange *x, int code, const char *reason,
			 const char *message, const char *name, const char *group,
			 const char *kind)
{
	x->status = code;
	x->content_type = "application/json";
	dynbuf_reset(&x->body);
	if (apis_status_json(&x->body, code, reason, message, name, group, kind) != 0) {
		log_error("cannot render a %d Status", code);
		dynbuf_reset(&x->body);
	}
}
