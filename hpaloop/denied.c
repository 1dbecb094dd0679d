/*
 * denied.c - a missing RBAC permission of the embedded HPA controller is
 * logged once.  The first 403 for a permission (what kube-apiserver's
 * message names: "cannot <verb> resource "<r>" in API group "<g>"", the
 * namespace and object aside, with the "User "<name>"" before it; for a
 * non-resource request "cannot <verb> path ...") is one warning naming it; later failures that carry a
 * reported permission are logged at -v=2 only (hpaloop__warn), so a
 * permission the manifests lack does not fill the log every pass.  A
 * permission granted again and removed later is not logged a second time.
 * Only the running loop tracks (hpaloop__denied_track); `hpa explain
 * --live` prints its errors itself.
 */
#include "hpaloop/hpaloop_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DENIED_MAX 64 /* distinct permissions remembered; more are logged at -v=2 */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char *reported[DENIED_MAX];
static size_t nreported;
static atomic_bool tracking;

void hpaloop__denied_track(bool on)
{
	atomic_store(&tracking, on);
}

/* The permission a 403 message names (new string), or NULL when it names none. */
static char *permission_of(const char *msg)
{
	const char *f = msg ? strstr(msg, "forbidden: ") : NULL, *a, *c, *g, *e;

	c = f ? strstr(f, "cannot ") : NULL; /* msg may be wrapped: "cannot list the pods ...: <msg>" */
	if (!c)
		return NULL;
	a = strstr(f, "User \"");
	if (!a || a > c)
		a = c;
	g = strstr(c, "\" in API group \"");
	if (!g)
		return strstr(c, " path \"") ? xstrdup(a) : NULL;
	e = strchr(g + 16, '"');
	return e ? xstrndup(a, (size_t)(e + 1 - a)) : NULL;
}

/* 1: p was reported; 0: it was not (added when add); -1: not, and no room. Under mu. */
static int known(const char *p, bool add)
{
	for (size_t i = 0; i < nreported; i++)
		if (strcmp(reported[i], p) == 0)
			return 1;
	if (!add)
		return 0;
	if (nreported == DENIED_MAX)
		return -1;
	reported[nreported++] = xstrdup(p);
	return 0;
}

void hpaloop__denied(const char *method, const char *path, const char *msg)
{
	char *p = permission_of(msg);
	size_t n = strcspn(path, "?");
	int seen;

	if (!atomic_load(&tracking) || !p) {
		free(p);
		return;
	}
	pthread_mutex_lock(&mu);
	seen = known(p, true);
	pthread_mutex_unlock(&mu);
	if (seen == 0)
		log_warn("the embedded HPA controller lacks an RBAC permission: %s (%s %.*s: 403 "
			 "Forbidden); it retries every pass, the metrics APIs are served as before; "
			 "logged once, then at -v=2 (manifests/overlays/with-hpa has the RBAC it needs)",
			 p, method, (int)n, path);
	else
		log_v(2, "%s %.*s: %s", method, (int)n, path, msg);
	free(p);
}

bool hpaloop__denied_reported(const char *err)
{
	char *p = permission_of(err);
	bool r = false;

	if (p && atomic_load(&tracking)) {
		pthread_mutex_lock(&mu);
		r = known(p, false) == 1;
		pthread_mutex_unlock(&mu);
	}
	free(p);
	return r;
}
