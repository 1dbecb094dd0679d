/*
 * router.c - maps an authenticated request to its handler: health,
 * control endpoint, discovery, built-in REST resources, reviews, and the
 * aggregator's proxy for any other /apis/<group>/<version>, after RBAC for
 * the users --rbac-enforce names (authorize.c).  Requests the
 * aggregator itself sends (front_proxy) go to the fake metrics provider.
 */
#include "test/kubesim/apiserver.h"

#include <stdlib.h>
#include <string.h>

void sim_path_split(const char *p, struct sim_segments *s)
{
	memset(s, 0, sizeof(*s));
	while (*p) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (!n)
			break;
		if (s->n == SIM_MAX_SEGMENTS) {
			s->too_many = true;
			return;
		}
		s->v[s->n++] = xstrndup(p, n);
		p += n;
	}
}

void sim_path_segments_free(struct sim_segments *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

static void not_found_text(struct sim_response *resp)
{
	resp->status = 404;
	free(resp->content_type);
	resp->content_type = xstrdup("text/plain; charset=utf-8");
	dynbuf_reset(&resp->body);
	if (dynbuf_addstr(&resp->body, "404 page not found\n"))
		resp->status = 500;
}

static void not_found_status(struct sim_response *resp)
{
	sim_response_status_details(resp, 404, "NotFound",
				    "the server could not find the requested resource",
				    json_object());
}

/* Fills t from the segments after the group/version; false if no match. */
static bool parse_target(const char *group, char **v, size_t n, struct sim_rest_target *t)
{
	size_t i = 0;

	memset(t, 0, sizeof(*t));
	if (i < n && strcmp(v[i], "watch") == 0) {
		t->watch_path = true;
		i++;
	}
	if (n - i >= 3 && strcmp(v[i], "namespaces") == 0) {
		t->ns = v[i + 1];
		i += 2;
	} else if (n - i >= 2 && n - i <= 3 && strcmp(v[i], "namespaces") == 0 && !*group) {
		t->kind = &sim_kind_namespaces;
		t->name = v[i + 1];
		t->subresource = n - i == 3 ? v[i + 2] : NULL;
		return true;
	}
	if (i >= n || n - i > 3)
		return false;
	t->kind = sim_kind_find(group, v[i]);
	if (!t->kind || (t->ns && !t->kind->namespaced))
		return false;
	t->name = n - i >= 2 ? v[i + 1] : NULL;
	t->subresource = n - i == 3 ? v[i + 2] : NULL;
	return true;
}

/* /api/v1/... or /apis/<g>/<v>/... for a built-in group version. */
static bool route_rest(struct sim_cluster *c, struct sim_segments *s, const struct sim_request *req,
		       struct sim_response *resp)
{
	struct sim_rest_target t;
	const char *group;
	size_t skip;

	if (s->n >= 2 && strcmp(s->v[0], "api") == 0 && strcmp(s->v[1], "v1") == 0) {
		group = "";
		skip = 2;
	} else if (s->n >= 3 && strcmp(s->v[0], "apis") == 0) {
		group = s->v[1];
		skip = 3;
		if (strcmp(group, "authentication.k8s.io") == 0 && strcmp(s->v[2], "v1") == 0 &&
		    s->n == 4 && strcmp(s->v[3], "tokenreviews") == 0) {
			sim_reviews_token(c, req, resp);
			return true;
		}
		if (strcmp(group, "authorization.k8s.io") == 0 && strcmp(s->v[2], "v1") == 0 &&
		    s->n == 4 && strcmp(s->v[3], "subjectaccessreviews") == 0) {
			sim_reviews_access(c, req, resp);
			return true;
		}
	} else {
		return false;
	}
	if (!parse_target(group, s->v + skip, s->n - skip, &t))
		return false;
	if (strcmp(s->v[skip - 1], t.kind->version) != 0)
		return false;
	sim_rest_handle(c, &t, req, resp);
	return true;
}

static bool builtin_group(const char *g)
{
	size_t i;

	for (i = 0; sim_kinds[i]; i++)
		if (strcmp(sim_kinds[i]->group, g) == 0)
			return true;
	return strcmp(g, "authentication.k8s.io") == 0 || strcmp(g, "authorization.k8s.io") == 0;
}

void sim_route(struct sim_cluster *c, const struct sim_request *req, struct sim_response *resp)
{
	const char *p = req->path;
	struct sim_segments s;
	bool handled;

	if (strcmp(p, "/healthz") == 0 || strcmp(p, "/livez") == 0 || strcmp(p, "/readyz") == 0) {
		resp->status = 200;
		free(resp->content_type);
		resp->content_type = xstrdup("text/plain; charset=utf-8");
		if (dynbuf_addstr(&resp->body, "ok"))
			resp->status = 500;
		return;
	}
	if (req->front_proxy) { /* kubesim as an aggregated API server */
		sim_provider_handle(c, req, resp);
		return;
	}
	if (strncmp(p, "/kubesim/v1/", 12) == 0) {
		sim_control_handle(c, req, resp);
		return;
	}
	if (!sim_authorize(c, req, resp))
		return;
	sim_discovery_handle(c, req, resp, &handled);
	if (handled || sim_openapi_handle(req, resp))
		return;
	sim_path_split(p, &s);
	if (s.too_many) {
		not_found_status(resp);
	} else if (route_rest(c, &s, req, resp)) {
		/* handled */
	} else if (s.n >= 3 && strcmp(s.v[0], "apis") == 0 && !builtin_group(s.v[1]) && c->agg &&
		   sim_aggregator_proxy(c->agg, req, resp)) {
		/* proxied */
	} else if ((s.n >= 2 && strcmp(s.v[0], "api") == 0) ||
		   (s.n >= 3 && strcmp(s.v[0], "apis") == 0 && builtin_group(s.v[1]))) {
		not_found_status(resp);
	} else {
		not_found_text(resp);
	}
	sim_path_segments_free(&s);
}
