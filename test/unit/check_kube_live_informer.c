/*
 * check_kube_live_informer.c - kube/stream.c, watch.c and informer.c
 * against the fake kube-apiserver of kube_live_fixture.h: paged lists,
 * watch events split over pieces, bookmarks, 410 and ERROR events that
 * force a new list, snapshots that outlive the informer, and an
 * unreachable server.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kube/kube.h"
#include "test/unit/kube_live_fixture.h"
#include "test/unit/unit.h"

/* ---- objects, events and snapshots -------------------------------------- */

static pthread_mutex_t chg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t chg_cv = PTHREAD_COND_INITIALIZER;

static void on_change(void *ud)
{
	int *changes = ud;

	pthread_mutex_lock(&chg_mu);
	(*changes)++;
	pthread_cond_broadcast(&chg_cv);
	pthread_mutex_unlock(&chg_mu);
}

static char *node_json(const char *name, bool ready, const char *rv)
{
	return xasprintf("{\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"resourceVersion\":"
			 "\"%s\"},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":"
			 "\"%s\"}]}}", name, rv, ready ? "True" : "False");
}

static char *pod_json(const char *ns, const char *name, const char *phase, const char *rv)
{
	return xasprintf("{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\""
			 "%s%s%s},\"spec\":{\"nodeName\":\"node-a\"},\"status\":{\"phase\":"
			 "\"%s\"}}", ns, name, rv ? ",\"resourceVersion\":\"" : "", rv ? rv : "",
			 rv ? "\"" : "", phase);
}

/* A list page of up to two items (each freed); cont may be NULL. */
static void page(int res, int i, const char *rv, const char *cont, char *a, char *b)
{
	char *json = xasprintf("{\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"%s\""
			       "%s%s%s},\"items\":[%s%s%s]}", rv, cont ? ",\"continue\":\"" : "",
			       cont ? cont : "", cont ? "\"" : "", a ? a : "", b ? "," : "",
			       b ? b : "");

	set_page(res, i, json);
	free(json);
	free(a);
	free(b);
}

static void event(int res, const char *type, char *obj)
{
	char *line = xasprintf("{\"type\":\"%s\",\"object\":%s}\n", type, obj);

	send_piece(res, line);
	free(line);
	free(obj);
}

/* "node-a+ node-b- | ns/name=Phase ..." */
static char *describe(const struct kube_snapshot *s)
{
	struct dynbuf b;
	size_t i;

	dynbuf_init(&b, DYN_SMALL);
	for (i = 0; i < s->nnodes; i++)
		ck_assert_int_eq(dynbuf_printf(&b, "%s%c ", s->nodes[i]->name,
					       s->nodes[i]->ready ? '+' : '-'), 0);
	ck_assert_int_eq(dynbuf_addch(&b, '|'), 0);
	for (i = 0; i < s->npods; i++)
		ck_assert_int_eq(dynbuf_printf(&b, " %s/%s=%s", s->pods[i]->ns, s->pods[i]->name,
					       s->pods[i]->phase), 0);
	return dynbuf_take(&b, NULL);
}

/* Waits (on on_change, no polling) until the snapshot reads want. */
static void await_snapshot(struct kube_informer *inf, const char *want)
{
	struct timespec until = deadline();
	struct kube_snapshot *s;
	char *got;
	int rc = 0;

	pthread_mutex_lock(&chg_mu);
	for (;;) {
		s = kube_informer_acquire(inf);
		got = describe(s);
		kube_snapshot_unref(s);
		if (!strcmp(got, want))
			break;
		ck_assert_msg(rc == 0, "snapshot: want \"%s\", got \"%s\"", want, got);
		free(got);
		rc = pthread_cond_timedwait(&chg_cv, &chg_mu, &until);
	}
	pthread_mutex_unlock(&chg_mu);
	free(got);
}

static void start_informer(struct kube_client **c, struct kube_informer **inf, int *changes)
{
	page(R_NODES, 0, "10", NULL, node_json("node-b", false, "9"), node_json("node-a", true, "8"));
	page(R_PODS, 0, "19", "page-1", pod_json("default", "p1", "Running", "5"), NULL);
	page(R_PODS, 1, "20", NULL, pod_json("kube-system", "p2", "Pending", "6"), NULL);
	*c = client_for("tok", NULL, false);
	*inf = kube_informer_start(*c, on_change, changes);
	ck_assert_ptr_nonnull(*inf);
	ck_assert(kube_informer_wait_synced(*inf, WAIT_NS));
}

/* ---- the informer -------------------------------------------------------- */

START_TEST(test_informer_list_and_watch)
{
	struct kube_client *c;
	struct kube_informer *inf;
	struct kube_snapshot *s;
	int changes = 0;
	char *line, *obj;

	start_informer(&c, &inf, &changes);
	s = kube_informer_acquire(inf);
	ck_assert(s->synced);
	kube_snapshot_unref(s);
	await_snapshot(inf, "node-a+ node-b- | default/p1=Running kube-system/p2=Pending");
	ck_assert_int_eq(F.res[R_PODS].lists, 2);
	ck_assert_str_eq(F.res[R_PODS].last_continue, "page-1");
	ck_assert_str_eq(F.res[R_PODS].last_limit, "500");
	ck_assert_int_eq(F.res[R_NODES].lists, 1);
	{ /* the watches keep writing F.auth: read it under the fixture's lock */
		char auth[sizeof(F.auth)];

		pthread_mutex_lock(&F.mu);
		memcpy(auth, F.auth, sizeof(auth));
		pthread_mutex_unlock(&F.mu);
		ck_assert_str_eq(auth, "Bearer tok");
	}

	await_watches(R_PODS, 1);
	await_watches(R_NODES, 1);
	ck_assert_str_eq(F.res[R_PODS].last_rv, "20");
	ck_assert_str_eq(F.res[R_NODES].last_rv, "10");

	/* An event split over two pieces, then two more in one piece. */
	obj = pod_json("default", "p0", "Running", "21");
	line = xasprintf("{\"type\":\"ADDED\",\"object\":%s}\n{\"type\":\"MODIFIED\",\"object\":",
			 obj);
	send_piece(R_PODS, line);
	free(line);
	free(obj);
	line = pod_json("default", "p1", "Succeeded", "22");
	send_piece(R_PODS, line);
	free(line);
	send_piece(R_PODS, "}\n");
	event(R_PODS, "DELETED", pod_json("kube-system", "p2", "Pending", "23"));
	event(R_NODES, "MODIFIED", node_json("node-b", true, "11"));
	await_snapshot(inf, "node-a+ node-b+ | default/p0=Running default/p1=Succeeded");

	/* A bookmark moves the rv; the next watch is told it is too old. */
	event(R_PODS, "BOOKMARK", xstrdup("{\"kind\":\"Pod\",\"metadata\":{\"resourceVersion\":"
					  "\"35\"}}"));
	event(R_PODS, "ADDED", pod_json("default", "p3", "Running", NULL));
	await_snapshot(inf,
		       "node-a+ node-b+ | default/p0=Running default/p1=Succeeded default/p3=Running");
	page(R_PODS, 0, "40", NULL, pod_json("ns2", "p9", "Running", "39"), NULL);
	set_page(R_PODS, 1, NULL);
	end_watch(R_PODS, 410);
	await_snapshot(inf, "node-a+ node-b+ | ns2/p9=Running");
	await_watches(R_PODS, 3);
	ck_assert_int_eq(F.res[R_PODS].lists, 3);
	ck_assert_str_eq(F.res[R_PODS].last_rv, "40");

	kube_informer_stop(inf);
	kube_client_free(c);
	ck_assert_int_ge(changes, 4);
}
END_TEST

START_TEST(test_informer_relist_on_error_event)
{
	struct kube_client *c;
	struct kube_informer *inf;
	struct kube_snapshot *s;
	int changes = 0;

	start_informer(&c, &inf, &changes);
	await_watches(R_NODES, 1);
	await_watches(R_PODS, 1);

	page(R_NODES, 0, "50", NULL, node_json("node-c", true, "49"), NULL);
	send_piece(R_NODES, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
			    "\"reason\":\"Expired\"}}\n");
	await_snapshot(inf, "node-c+ | default/p1=Running kube-system/p2=Pending");
	await_watches(R_NODES, 2);
	ck_assert_str_eq(F.res[R_NODES].last_rv, "50");

	/* A line that is not JSON is a lost change: list again. */
	page(R_PODS, 0, "60", NULL, pod_json("default", "p5", "Running", "59"), NULL);
	send_piece(R_PODS, "{not json\n");
	await_lists(R_PODS, 3);
	await_snapshot(inf, "node-c+ | default/p5=Running");

	/* A snapshot outlives the informer that published it. */
	s = kube_informer_acquire(inf);
	kube_informer_stop(inf);
	kube_client_free(c);
	ck_assert_uint_eq(s->npods, 1);
	ck_assert_str_eq(kube_snapshot_pod(s, "default", "p5")->node_name, "node-a");
	kube_snapshot_unref(s);
}
END_TEST

START_TEST(test_informer_unreachable)
{
	struct kube_config cfg = { .server = (char *)"https://127.0.0.1:1" };
	struct kube_client *c = kube_client_new(&cfg);
	struct kube_informer *inf = kube_informer_start(c, NULL, NULL);
	struct kube_snapshot *s;

	ck_assert(!kube_informer_wait_synced(inf, 300 * NS_PER_MS));
	s = kube_informer_acquire(inf);
	ck_assert(!s->synced);
	ck_assert_uint_eq(s->nnodes, 0);
	kube_snapshot_unref(s);
	kube_informer_stop(inf); /* while backing off */
	kube_client_free(c);
}
END_TEST

static Suite *informer_suite(void)
{
	Suite *s = suite_create("kube_live_informer");
	TCase *tc = tcase_create("informer");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, fake_start, fake_stop);
	tcase_add_test(tc, test_informer_list_and_watch);
	tcase_add_test(tc, test_informer_relist_on_error_event);
	tcase_add_test(tc, test_informer_unreachable);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(informer_suite());
}
