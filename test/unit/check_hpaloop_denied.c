/*
 * check_hpaloop_denied.c - hpaloop/denied.c: a missing RBAC permission of
 * the embedded HPA controller is one warning naming it, whatever the
 * namespace or object of the refused requests; later failures for it are
 * recognised (hpaloop__warn logs them at -v=2); another permission gets
 * its own warning; nothing is tracked while the loop does not run.  The
 * 403 texts are kube-apiserver's (responsewriters.Forbidden).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hpaloop/hpaloop_int.h"
#include "test/unit/unit.h"

#define SA "system:serviceaccount:kube-system:metrics-server"
#define SCALE_WEB "deployments.apps \"web\" is forbidden: User \"" SA "\" cannot update " \
		  "resource \"deployments/scale\" in API group \"apps\" in the namespace \"default\""
#define SCALE_DB "deployments.apps \"db\" is forbidden: User \"" SA "\" cannot update " \
		 "resource \"deployments/scale\" in API group \"apps\" in the namespace \"shop\""
#define EVENTS "events is forbidden: User \"" SA "\" cannot create resource \"events\" in " \
	       "API group \"\" in the namespace \"default\""
#define PODS "pods is forbidden: User \"" SA "\" cannot list resource \"pods\" in API group " \
	     "\"\" in the namespace \"default\""
#define PATHS "forbidden: User \"" SA "\" cannot get path \"/metrics\""

/* Runs fn with stderr into a file; returns what was written (caller frees). */
static char *captured(void (*fn)(void))
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	char *out = xcalloc(1, 8192);
	size_t n;

	ck_assert_ptr_nonnull(f);
	fflush(stderr);
	ck_assert_int_ge(dup2(fileno(f), STDERR_FILENO), 0);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(out, 1, 8191, f);
	out[n] = '\0';
	fclose(f);
	return out;
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void three_passes(void)
{
	hpaloop__denied_track(true);
	for (int i = 0; i < 3; i++) {
		hpaloop__denied("PUT", "/apis/apps/v1/namespaces/default/deployments/web/scale",
				SCALE_WEB);
		hpaloop__denied("PUT", "/apis/apps/v1/namespaces/shop/deployments/db/scale?x=1",
				SCALE_DB);
	}
}

START_TEST(test_one_warning_per_permission)
{
	char *log = captured(three_passes);

	ck_assert_uint_eq(count(log, "\nW"), 0); /* one line: the first has no newline before */
	ck_assert_uint_eq(count(log, "lacks an RBAC permission"), 1);
	ck_assert_msg(strstr(log, "lacks an RBAC permission: User \"" SA "\" cannot update "
				  "resource \"deployments/scale\" in API group \"apps\" (PUT "
				  "/apis/apps/v1/namespaces/default/deployments/web/scale: 403 "
				  "Forbidden)"), "%s", log);
	ck_assert_ptr_nonnull(strstr(log, "W"));
	ck_assert_ptr_eq(strchr(log, '\n'), log + strlen(log) - 1);
	/* the same permission elsewhere is known; another one is not */
	ck_assert(hpaloop__denied_reported(SCALE_DB));
	ck_assert(!hpaloop__denied_reported(EVENTS));
	ck_assert(!hpaloop__denied_reported("the server is currently unable to handle the request"));
	/* as the callers wrap it */
	ck_assert(hpaloop__denied_reported("failed to rescale: " SCALE_DB));
	free(log);
}
END_TEST

static void events_then_path(void)
{
	hpaloop__denied_track(true);
	hpaloop__denied("POST", "/api/v1/namespaces/default/events", EVENTS);
	hpaloop__denied("POST", "/api/v1/namespaces/kube-system/events",
			"events is forbidden: User \"" SA "\" cannot create resource \"events\" in "
			"API group \"\" in the namespace \"kube-system\"");
	hpaloop__denied("GET", "/metrics", PATHS);
	hpaloop__denied("GET", "/metrics", PATHS);
}

START_TEST(test_each_permission_once)
{
	char *log = captured(events_then_path);

	ck_assert_uint_eq(count(log, "lacks an RBAC permission"), 2);
	ck_assert_uint_eq(count(log, "cannot create resource \"events\" in API group \"\" ("), 1);
	ck_assert_uint_eq(count(log, "cannot get path \"/metrics\" (GET /metrics"), 1);
	ck_assert(hpaloop__denied_reported(EVENTS));
	ck_assert(hpaloop__denied_reported(PATHS));
	ck_assert(!hpaloop__denied_reported("cannot list the pods of selector app=web: " PODS));
	ck_assert(hpaloop__denied_reported("cannot list the pods of selector app=web: " EVENTS));
	free(log);
}
END_TEST

static void untracked(void)
{
	hpaloop__denied_track(false);
	hpaloop__denied("PUT", "/apis/apps/v1/namespaces/default/deployments/web/scale", SCALE_WEB);
}

START_TEST(test_not_tracked_outside_the_loop)
{
	char *log = captured(untracked);

	ck_assert_str_eq(log, "");
	ck_assert(!hpaloop__denied_reported(SCALE_WEB));
	free(log);
}
END_TEST

static Suite *denied_suite(void)
{
	Suite *s = suite_create("hpaloop_denied");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_one_warning_per_permission);
	tcase_add_test(tc, test_each_permission_once);
	tcase_add_test(tc, test_not_tracked_outside_the_loop);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(denied_suite());
}
