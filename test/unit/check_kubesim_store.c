/* check_kubesim_store.c - kubesim's object store: CRUD and resourceVersions,
 * conflicts, selectors and pagination, the watch ring and 410, subscribers,
 * and the merge / JSON patches applied to stored objects. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "test/kubesim/apiserver.h"
#include "test/unit/unit.h"

#define T0 (INT64_C(1767225600) * NS_PER_SEC) /* 2026-01-01T00:00:00Z */

static json_t *pod(const char *ns, const char *name, const char *node, const char *app)
{
	return json_pack("{s:{s:s,s:s,s:{s:s}},s:{s:s,s:[{s:s,s:{s:{s:s}}}]},s:{s:s}}", "metadata",
			 "name", name, "namespace", ns, "labels", "app", app, "spec", "nodeName",
			 node, "containers", "name", "c", "resources", "requests", "cpu", "250m",
			 "status", "phase", "Running");
}

static struct sim_store *store_with_pods(size_t ring)
{
	struct sim_store *s = sim_store_new(ring);
	static const char *const rows[][4] = {
		{ "default", "a", "node-0", "web" }, { "default", "b", "node-1", "web" },
		{ "team-a", "c", "node-0", "db" },   { "team-a", "d", "node-1", "web" },
		{ "team-b", "e", "node-2", "db" },
	};
	size_t i;

	clock_set_fake_now(T0);
	for (i = 0; i < COMMON_ARRAY_LEN(rows); i++) {
		json_t *p = pod(rows[i][0], rows[i][1], rows[i][2], rows[i][3]);

		ck_assert_int_eq(sim_store_create(s, "pods", p), 0);
		json_decref(p);
	}
	return s;
}

START_TEST(test_create_fills_metadata)
{
	struct sim_store *s = sim_store_new(0);
	json_t *p = pod("default", "a", "node-0", "web"), *got;

	clock_set_fake_now(T0);
	json_object_set_new(p, "kind", json_string("Pod"));
	ck_assert_int_eq(sim_store_create(s, "pods", p), 0);
	ck_assert_str_eq(jpath_str(p, "metadata.resourceVersion"), "1");
	ck_assert_str_eq(jpath_str(p, "metadata.creationTimestamp"), "2026-01-01T00:00:00Z");
	ck_assert_uint_eq(strlen(jpath_str(p, "metadata.uid")), 36);
	ck_assert_ptr_null(json_object_get(p, "kind"));
	ck_assert_int_eq(sim_store_create(s, "pods", p), ERR_CONFLICT);
	got = sim_store_get(s, "pods", "default", "a");
	ck_assert(json_equal(got, p));
	ck_assert_ptr_null(sim_store_get(s, "pods", "other", "a"));
	ck_assert_uint_eq(sim_store_rv(s), 1);
	json_decref(got);
	json_decref(p);
	sim_store_free(s);
}
END_TEST

START_TEST(test_update_and_conflict)
{
	struct sim_store *s = store_with_pods(0);
	json_t *p = sim_store_get(s, "pods", "default", "a"), *stale;

	stale = json_deep_copy(p);
	json_object_set_new(json_object_get(p, "status"), "phase", json_string("Failed"));
	ck_assert_int_eq(sim_store_update(s, "pods", p), 0);
	ck_assert_str_eq(jpath_str(p, "metadata.resourceVersion"), "6");
	/* the copy still carries resourceVersion 1 */
	ck_assert_int_eq(sim_store_update(s, "pods", stale), ERR_CONFLICT);
	/* an update that changes nothing keeps the resourceVersion */
	ck_assert_int_eq(sim_store_update(s, "pods", p), 0);
	ck_assert_uint_eq(sim_store_rv(s), 6);
	json_object_set_new(json_object_get(stale, "metadata"), "name", json_string("zz"));
	ck_assert_int_eq(sim_store_update(s, "pods", stale), ERR_NOTFOUND);
	ck_assert_int_eq(sim_store_delete(s, "pods", "default", "a"), 0);
	ck_assert_int_eq(sim_store_delete(s, "pods", "default", "a"), ERR_NOTFOUND);
	ck_assert_uint_eq(sim_store_rv(s), 7);
	json_decref(p);
	json_decref(stale);
	sim_store_free(s);
}
END_TEST

static int set_phase(void *ud, json_t *obj)
{
	json_object_set_new(json_object_get(obj, "status"), "phase", json_string(ud));
	return 0;
}

static int refuse(void *ud, json_t *obj)
{
	COMMON_UNUSED(ud);
	COMMON_UNUSED(obj);
	return ERR_INVAL;
}

START_TEST(test_modify)
{
	struct sim_store *s = store_with_pods(0);
	json_t *out = NULL;

	ck_assert_int_eq(sim_store_modify(s, "pods", "team-a", "c", set_phase, "Succeeded", &out), 0);
	ck_assert_str_eq(jpath_str(out, "status.phase"), "Succeeded");
	ck_assert_str_eq(jpath_str(out, "metadata.resourceVersion"), "6");
	json_decref(out);
	ck_assert_int_eq(sim_store_modify(s, "pods", "team-a", "c", refuse, NULL, NULL), ERR_INVAL);
	ck_assert_int_eq(sim_store_modify(s, "pods", "team-a", "x", set_phase, "y", NULL),
			 ERR_NOTFOUND);
	ck_assert_uint_eq(sim_store_rv(s), 6);
	sim_store_free(s);
}
END_TEST

/* Names of a query's result, comma-joined (caller frees). */
static char *query_names(struct sim_store *s, const char *ns, const char *labels,
			 const char *fields, const char *after, size_t limit, size_t *remaining)
{
	char err[256];
	struct selector *ls = selector_parse(labels, err, sizeof(err));
	struct field_selector fs;
	struct sim_query q = { .ns = ns, .labels = ls, .fields = &fs, .after = after, .limit = limit };
	struct sim_snapshot snap;
	struct dynbuf b;
	size_t i;

	ck_assert_ptr_nonnull(ls);
	ck_assert_int_eq(field_selector_parse(fields, &fs, err, sizeof(err)), 0);
	ck_assert_int_eq(sim_store_query(s, "pods", &q, &snap, err, sizeof(err)), 0);
	dynbuf_init(&b, DYN_SMALL);
	ck_assert_int_eq(dynbuf_addstr(&b, ""), 0);
	for (i = 0; i < snap.n; i++)
		ck_assert_int_eq(dynbuf_printf(&b, "%s%s", i ? "," : "", snap.objs[i]->name), 0);
	if (remaining)
		*remaining = snap.remaining;
	sim_snapshot_clear(&snap);
	selector_free(ls);
	field_selector_clear(&fs);
	return dynbuf_take(&b, NULL);
}

START_TEST(test_query_selectors)
{
	struct sim_store *s = store_with_pods(0);
	static const struct {
		const char *ns, *labels, *fields, *want;
	} cases[] = {
		{ NULL, "", "", "a,b,c,d,e" },
		{ "team-a", "", "", "c,d" },
		{ NULL, "app=web", "", "a,b,d" },
		{ NULL, "app in (db)", "spec.nodeName=node-0", "c" },
		{ NULL, "", "spec.nodeName!=node-0", "b,d,e" },
		{ NULL, "", "metadata.namespace=team-b", "e" },
		{ NULL, "", "metadata.name=d,status.phase=Running", "d" },
		{ "default", "app!=web", "", "" },
	};
	size_t i;

	for (i = 0; i < COMMON_ARRAY_LEN(cases); i++) {
		char *got = query_names(s, cases[i].ns, cases[i].labels, cases[i].fields, NULL, 0,
					NULL);

		ck_assert_msg(strcmp(got, cases[i].want) == 0, "case %zu: %s", i, got);
		free(got);
	}
	sim_store_free(s);
}
END_TEST

START_TEST(test_query_rejects_unknown_field)
{
	struct sim_store *s = store_with_pods(0);
	struct field_selector fs;
	struct sim_query q = { .fields = &fs };
	struct sim_snapshot snap;
	char err[128];

	ck_assert_int_eq(field_selector_parse("spec.foo=1", &fs, err, sizeof(err)), 0);
	ck_assert_int_eq(sim_store_query(s, "pods", &q, &snap, err, sizeof(err)), ERR_INVAL);
	ck_assert_str_eq(err, "field label not supported: spec.foo");
	field_selector_clear(&fs);
	sim_store_free(s);
}
END_TEST

START_TEST(test_pagination)
{
	struct sim_store *s = store_with_pods(0);
	size_t remaining;
	char *page;

	page = query_names(s, NULL, "", "", NULL, 2, &remaining);
	ck_assert_str_eq(page, "a,b");
	ck_assert_uint_eq(remaining, 3);
	free(page);
	page = query_names(s, NULL, "", "", "default/b", 2, &remaining);
	ck_assert_str_eq(page, "c,d");
	ck_assert_uint_eq(remaining, 1);
	free(page);
	page = query_names(s, NULL, "app=web", "", "team-a/c", 2, &remaining);
	ck_assert_str_eq(page, "d");
	ck_assert_uint_eq(remaining, 0);
	free(page);
	sim_store_free(s);
}
END_TEST

START_TEST(test_watch_events_after_rv)
{
	struct sim_store *s = store_with_pods(0);
	struct sim_watch_event ev[8];
	uint64_t last, oldest;
	json_t *node = json_pack("{s:{s:s}}", "metadata", "name", "node-9");
	int n, i;

	ck_assert_int_eq(sim_store_create(s, "nodes", node), 0); /* rv 6 */
	ck_assert_int_eq(sim_store_modify(s, "pods", "default", "b", set_phase, "Failed", NULL), 0);
	ck_assert_int_eq(sim_store_delete(s, "pods", "team-b", "e"), 0); /* rv 8 */
	n = sim_store_events(s, "pods", 3, ev, 8, 0, &last, &oldest);
	ck_assert_int_eq(n, 4);
	ck_assert_uint_eq(last, 8);
	ck_assert_int_eq(ev[0].type, SIM_ADDED);
	ck_assert_str_eq(ev[0].obj->name, "d");
	ck_assert_int_eq(ev[2].type, SIM_MODIFIED);
	ck_assert_str_eq(ev[2].prev->fields[1], "Running");
	ck_assert_str_eq(ev[2].obj->fields[1], "Failed");
	ck_assert_int_eq(ev[3].type, SIM_DELETED);
	ck_assert_uint_eq(ev[3].obj->rv, 8);
	for (i = 0; i < n; i++)
		sim_watch_event_clear(&ev[i]);
	/* nothing after the newest: no wait, no events */
	ck_assert_int_eq(sim_store_events(s, "pods", 8, ev, 8, 0, &last, &oldest), 0);
	json_decref(node);
	sim_store_free(s);
}
END_TEST

START_TEST(test_watch_gone_when_evicted)
{
	struct sim_store *s = store_with_pods(3); /* keeps rv 3..5 */
	struct sim_watch_event ev[4];
	uint64_t last, oldest = 0;
	int n, i;

	ck_assert_int_eq(sim_store_events(s, "pods", 1, ev, 4, 0, &last, &oldest), ERR_GONE);
	ck_assert_uint_eq(oldest, 3);
	n = sim_store_events(s, "pods", 2, ev, 4, 0, &last, &oldest);
	ck_assert_int_eq(n, 3);
	for (i = 0; i < n; i++)
		sim_watch_event_clear(&ev[i]);
	sim_store_free(s);
}
END_TEST

struct counter {
	int added, modified, deleted;
};

static void count(void *ud, enum sim_event ev, const char *resource, const json_t *obj)
{
	struct counter *c = ud;

	ck_assert_str_eq(resource, "pods");
	ck_assert_ptr_nonnull(jpath_str(obj, "metadata.name"));
	if (ev == SIM_ADDED)
		c->added++;
	else if (ev == SIM_MODIFIED)
		c->modified++;
	else
		c->deleted++;
}

START_TEST(test_subscribers)
{
	struct sim_store *s = sim_store_new(0);
	struct counter c = { 0 };
	json_t *p = pod("default", "a", "n", "web"), *n = json_pack("{s:{s:s}}", "metadata", "name", "x");

	sim_store_subscribe(s, "pods", count, &c);
	ck_assert_int_eq(sim_store_create(s, "pods", p), 0);
	ck_assert_int_eq(sim_store_create(s, "nodes", n), 0);
	ck_assert_int_eq(sim_store_modify(s, "pods", "default", "a", set_phase, "Failed", NULL), 0);
	ck_assert_int_eq(sim_store_delete(s, "pods", "default", "a"), 0);
	ck_assert_int_eq(c.added, 1);
	ck_assert_int_eq(c.modified, 1);
	ck_assert_int_eq(c.deleted, 1);
	json_decref(p);
	json_decref(n);
	sim_store_free(s);
}
END_TEST

START_TEST(test_invalid_objects)
{
	struct sim_store *s = sim_store_new(0);
	json_t *noname = json_pack("{s:{s:s}}", "metadata", "namespace", "default");
	json_t *nons = json_pack("{s:{s:s}}", "metadata", "name", "p");

	ck_assert_int_eq(sim_store_create(s, "pods", noname), ERR_INVAL);
	ck_assert_int_eq(sim_store_create(s, "pods", nons), ERR_INVAL);
	json_decref(noname);
	json_decref(nons);
	sim_store_free(s);
}
END_TEST

START_TEST(test_generate_name)
{
	struct sim_store *s = sim_store_new(0);
	json_t *p = json_pack("{s:{s:s,s:s}}", "metadata", "generateName", "web-", "namespace", "d");
	const char *name;

	ck_assert_int_eq(sim_store_create(s, "pods", p), 0);
	name = jpath_str(p, "metadata.name");
	ck_assert_uint_eq(strlen(name), 9);
	ck_assert(strncmp(name, "web-", 4) == 0);
	json_decref(p);
	sim_store_free(s);
}
END_TEST

/* ---- patches ----------------------------------------------------------------------- */

START_TEST(test_merge_patch)
{
	json_t *t = json_pack("{s:{s:s,s:{s:s,s:s}},s:[i,i]}", "metadata", "name", "x", "labels",
			      "a", "1", "b", "2", "list", 1, 2);
	json_t *p = json_loads("{\"metadata\":{\"labels\":{\"a\":null,\"c\":\"3\"},"
			       "\"$retainKeys\":[]},\"list\":[9],\"new\":{\"k\":true}}", 0, NULL);
	json_t *want = json_loads("{\"metadata\":{\"name\":\"x\",\"labels\":{\"b\":\"2\",\"c\":\"3\"}},"
				  "\"list\":[9],\"new\":{\"k\":true}}", 0, NULL);

	ck_assert_int_eq(sim_merge_patch(t, p), 0);
	ck_assert(json_equal(t, want));
	ck_assert_int_eq(sim_merge_patch(t, json_array_get(json_object_get(p, "list"), 0)), ERR_INVAL);
	json_decref(t);
	json_decref(p);
	json_decref(want);
}
END_TEST

START_TEST(test_json_patch)
{
	json_t *t = json_loads("{\"spec\":{\"replicas\":1,\"a~b\":[1,2]}}", 0, NULL);
	json_t *ops = json_loads("[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":5},"
				 "{\"op\":\"add\",\"path\":\"/spec/a~0b/-\",\"value\":3},"
				 "{\"op\":\"remove\",\"path\":\"/spec/a~0b/0\"},"
				 "{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":5}]", 0, NULL);
	json_t *bad = json_loads("[{\"op\":\"replace\",\"path\":\"/spec/nope\",\"value\":1}]", 0, NULL);
	json_t *want = json_loads("{\"spec\":{\"replicas\":5,\"a~b\":[2,3]}}", 0, NULL);
	char err[200];

	ck_assert_int_eq(sim_json_patch(t, ops, err, sizeof(err)), 0);
	ck_assert(json_equal(t, want));
	ck_assert_int_eq(sim_json_patch(t, bad, err, sizeof(err)), ERR_INVAL);
	ck_assert_str_eq(err, "the json patch operation 0 (replace /spec/nope) cannot be applied");
	json_decref(t);
	json_decref(ops);
	json_decref(bad);
	json_decref(want);
}
END_TEST

/* ---- protobuf request bodies ------------------------------------------------------ */

START_TEST(test_protobuf_namespace)
{
	/* k8s envelope: Unknown{typeMeta{apiVersion "v1", kind "Namespace"},
	 * raw Namespace{metadata{name "e2e", labels{"a": "b"}}, spec{}}} */
	static const unsigned char body[] = {
		'k', '8', 's', 0,
		0x0a, 0x0f, 0x0a, 0x02, 'v', '1', 0x12, 0x09, 'N', 'a', 'm', 'e', 's', 'p', 'a', 'c', 'e',
		0x12, 0x11, 0x0a, 0x0d, 0x0a, 0x03, 'e', '2', 'e', 0x5a, 0x06, 0x0a, 0x01, 'a', 0x12,
		0x01, 'b', 0x12, 0x00,
		0x1a, 0x00,
	};
	json_t *want = json_loads("{\"metadata\":{\"name\":\"e2e\",\"labels\":{\"a\":\"b\"}},"
				  "\"spec\":{},\"kind\":\"Namespace\",\"apiVersion\":\"v1\"}", 0, NULL);
	char err[200];
	json_t *got = sim_protobuf_to_json(body, sizeof(body), err, sizeof(err));

	ck_assert_msg(got != NULL, "%s", err);
	ck_assert_msg(json_equal(got, want), "%s", json_dumps(got, JSON_COMPACT));
	ck_assert_ptr_null(sim_protobuf_to_json(body + 1, sizeof(body) - 1, err, sizeof(err)));
	ck_assert_str_eq(err, "the protobuf body lacks the k8s envelope");
	/* truncated: the raw object is cut, the envelope field is skipped */
	ck_assert_ptr_null(sim_protobuf_to_json(body, 20, err, sizeof(err)));
	json_decref(got);
	json_decref(want);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("kubesim_store");
	TCase *tc = tcase_create("store");
	TCase *tp = tcase_create("patch");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_create_fills_metadata);
	tcase_add_test(tc, test_update_and_conflict);
	tcase_add_test(tc, test_modify);
	tcase_add_test(tc, test_query_selectors);
	tcase_add_test(tc, test_query_rejects_unknown_field);
	tcase_add_test(tc, test_pagination);
	tcase_add_test(tc, test_watch_events_after_rv);
	tcase_add_test(tc, test_watch_gone_when_evicted);
	tcase_add_test(tc, test_subscribers);
	tcase_add_test(tc, test_invalid_objects);
	tcase_add_test(tc, test_generate_name);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tp, 10);
	tcase_add_test(tp, test_merge_patch);
	tcase_add_test(tp, test_json_patch);
	tcase_add_test(tp, test_protobuf_namespace);
	suite_add_tcase(s, tp);
	return s;
}

int main(void)
{
	return unit_run(store_suite());
}
