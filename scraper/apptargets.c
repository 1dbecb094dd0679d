/*
 * apptargets.c - application targets from a kube snapshot (annotated
 * pods) and the config's static targets: a pure function, see
 * scraper_app_targets() in scraper.h.
 */
#include "scraper/scraper.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POD_JOB "kubernetes-pods"

/* A decimal port 1..65535, nothing else. */
static bool port_of(const char *s, unsigned *out)
{
	char *end;
	long v;

	if (!s || s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end != '\0' || v < 1 || v > 65535)
		return false;
	*out = (unsigned)v;
	return true;
}

/* The pod's target into t, or false when it is not one. */
static bool pod_target(const struct kube_pod *p, const char *job, struct scraper_app_target *t)
{
	const char *scheme = p->prom_scheme ? p->prom_scheme : "http";
	const char *path = p->prom_path && p->prom_path[0] ? p->prom_path : "/metrics";
	char hostport[128], url[4400], key[600];
	unsigned port;

	if (!p->phase || strcmp(p->phase, "Running") != 0 || !p->ip || !p->ip[0] ||
	    !p->prom_scrape || strcmp(p->prom_scrape, "true") != 0 ||
	    !port_of(p->prom_port, &port) ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    strchr(p->ip, '/') || strlen(p->ip) > 64)
		return false;
	snprintf(hostport, sizeof(hostport), strchr(p->ip, ':') ? "[%s]:%u" : "%s:%u", p->ip, port);
	snprintf(url, sizeof(url), "%s://%s%s%s", scheme, hostport, path[0] == '/' ? "" : "/", path);
	snprintf(key, sizeof(key), "%s/%s", p->ns, p->name);
	t->key = xstrdup(key);
	t->url = xstrdup(url);
	labels_init(&t->labels);
	labels_set(&t->labels, "namespace", p->ns);
	labels_set(&t->labels, "pod", p->name);
	labels_set(&t->labels, "job", job);
	labels_set(&t->labels, "instance", hostport);
	return true;
}

static void static_target(const struct scraper_app_target *in, struct scraper_app_target *t)
{
	const char *p = strstr(in->url ? in->url : "", "://");
	char hostport[300];
	size_t n;

	t->key = xstrdup(in->key);
	t->url = xstrdup(in->url ? in->url : "");
	labels_init(&t->labels);
	labels_copy(&t->labels, &in->labels);
	if (!labels_get(&t->labels, "job"))
		labels_set(&t->labels, "job", in->key);
	if (p && !labels_get(&t->labels, "instance")) {
		p += 3;
		n = strcspn(p, "/?#");
		snprintf(hostport, sizeof(hostport), "%.*s", (int)(n < 290 ? n : 290), p);
		labels_set(&t->labels, "instance", hostport);
	}
}

struct ordered {
	struct scraper_app_target t;
	size_t seq; /* the order made: pods, then static targets */
};

static int by_key(const void *a, const void *b)
{
	const struct ordered *x = a, *y = b;
	int c = strcmp(x->t.key, y->t.key);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

void scraper_app_targets(const struct kube_snapshot *k, const char *pod_job,
			 const struct scraper_app_target *statics, size_t nstatics,
			 struct scraper_app_target **out, size_t *nout)
{
	size_t npods = k ? k->npods : 0, n = 0, w = 0;
	struct ordered *o = xcalloc(npods + nstatics + 1, sizeof(*o));
	struct scraper_app_target *t = xcalloc(npods + nstatics + 1, sizeof(*t));

	for (size_t i = 0; i < npods; i++)
		if (pod_target(k->pods[i], pod_job ? pod_job : POD_JOB, &o[n].t))
			o[n].seq = n, n++;
	for (size_t i = 0; i < nstatics; i++)
		if (statics[i].key && statics[i].key[0])
			static_target(&statics[i], &o[n].t), o[n].seq = n, n++;
	qsort(o, n, sizeof(*o), by_key);
	for (size_t i = 0; i < n; i++) {
		if (w && strcmp(t[w - 1].key, o[i].t.key) == 0) { /* a repeated key: the first stays */
			free(o[i].t.key);
			free(o[i].t.url);
			labels_clear(&o[i].t.labels);
			continue;
		}
		t[w++] = o[i].t;
	}
	free(o);
	*out = t;
	*nout = w;
}

void scraper_app_targets_free(struct scraper_app_target *t, size_t n)
{
	if (!t)
		return;
	for (size_t i = 0; i < n; i++) {
		free(t[i].key);
		free(t[i].url);
		labels_clear(&t[i].labels);
	}
	free(t);
}
