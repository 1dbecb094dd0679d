/* check_kube.c - kube/object.c and kube/index.c: JSON lists -> snapshots. */
#include <check.h>
#include <stdlib.h>

#include "kube/kube_int.h"
#include "test/unit/unit.h"

#define SEC NS_PER_SEC

static const char NODES[] =
	"{\"kind\":\"NodeList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"100\"},"
	"\"items\":["
	"{\"metadata\":{\"name\":\"node-b\",\"creationTimestamp\":\"2024-01-02T03:04:05Z\","
	" \"labels\":{\"zone\":\"z1\",\"kubernetes.io/hostname\":\"node-b\"},"
	" \"annotations\":{\"metrics.k8s.io/resource-metrics-path\":\"/metrics/resource/v2\"}},"
	" \"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.0.0.2\"},"
	"   {\"type\":\"Hostname\",\"address\":\"node-b\"},{\"type\":\"Bad\"}],"
	"  \"daemonEndpoints\":{\"kubeletEndpoint\":{\"Port\":10250}},"
	"  \"conditions\":[{\"type\":\"MemoryPressure\",\"status\":\"False\"},"
	"   {\"type\":\"Ready\",\"status\":\"True\"}],"
	"  \"allocatable\":{\"cpu\":\"3500m\",\"memory\":\"16Gi\",\"pods\":\"110\"}}},"
	"{\"metadata\":{\"name\":\"node-a\",\"creationTimestamp\":\"2023-12-31T23:59:59Z\"},"
	" \"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"Unknown\"}],"
	"  \"daemonEndpoints\":{\"kubeletEndpoint\":{\"Port\":70000}},"
	"  \"allocatable\":{\"cpu\":\"4\",\"memory\":\"8000Mi\"}}},"
	"{\"metadata\":{\"labels\":{}}},"
	"{\"metadata\":{\"name\":\"node-c\"},\"status\":{\"allocatable\":{\"cpu\":\"bogus\"}}}"
	"]}";

static const char PODS[] =
	"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"200\"},"
	"\"items\":["
	"{\"metadata\":{\"namespace\":\"kube-system\",\"name\":\"coredns-1\","
	" \"creationTimestamp\":\"2024-01-02T03:04:05Z\",\"labels\":{\"k8s-app\":\"kube-dns\"}},"
	" \"spec\":{\"nodeName\":\"node-a\"},"
	" \"status\":{\"phase\":\"Running\",\"startTime\":\"2024-01-02T03:04:06Z\"}},"
	"{\"metadata\":{\"namespace\":\"default\",\"name\":\"web-2\"},\"spec\":{},"
	" \"status\":{\"phase\":\"Pending\"}},"
	"{\"metadata\":{\"namespace\":\"default\",\"name\":\"web-1\",\"labels\":{\"app\":\"web\"}},"
	" \"spec\":{\"nodeName\":\"node-b\"},\"status\":{\"phase\":\"Running\"}},"
	"{\"metadata\":{\"namespace\":\"b-ns\",\"name\":\"x\"}},"
	"{\"metadata\":{\"name\":\"no-namespace\"}},"
	"\"not an object\""
	"]}";

static json_t *load(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);

	ck_assert_msg(j != NULL, "fixture: %s", e.text);
	return j;
}

static struct kube_snapshot *fixture(void)
{
	json_t *n = load(NODES), *p = load(PODS);
	struct kube_snapshot *s = kube_snapshot_from_lists(n, p);

	json_decref(n);
	json_decref(p);
	return s;
}

START_TEST(test_nodes_from_list)
{
	struct kube_snapshot *s = fixture();
	const struct kube_node *a, *b, *c;

	ck_assert(s->synced);
	ck_assert_uint_eq(s->nnodes, 3);
	a = s->nodes[0];
	b = s->nodes[1];
	c = s->nodes[2];
	ck_assert_str_eq(a->name, "node-a");
	ck_assert_str_eq(b->name, "node-b");
	ck_assert_str_eq(c->name, "node-c");

	ck_assert_int_eq(b->created_ns, 1704164645 * SEC);
	ck_assert_uint_eq(b->labels.n, 2);
	ck_assert_str_eq(labels_get(&b->labels, "zone"), "z1");
	ck_assert_str_eq(labels_get(&b->labels, "kubernetes.io/hostname"), "node-b");
	ck_assert_uint_eq(b->naddresses, 2);
	ck_assert_str_eq(b->addresses[0].type, "InternalIP");
	ck_assert_str_eq(b->addresses[0].address, "10.0.0.2");
	ck_assert_str_eq(b->addresses[1].type, "Hostname");
	ck_assert_str_eq(b->addresses[1].address, "node-b");
	ck_assert_int_eq(b->kubelet_port, 10250);
	ck_assert(b->ready);
	ck_assert_str_eq(b->metrics_path, "/metrics/resource/v2");
	ck_assert_uint_eq(b->alloc_cpu_milli, 3500);
	ck_assert_uint_eq(b->alloc_mem_bytes, UINT64_C(16) << 30);

	ck_assert_int_eq(a->created_ns, 1704067199 * SEC);
	ck_assert_uint_eq(a->labels.n, 0);
	ck_assert_uint_eq(a->naddresses, 0);
	ck_assert_int_eq(a->kubelet_port, 0); /* out of range */
	ck_assert(!a->ready);
	ck_assert_ptr_null(a->metrics_path);
	ck_assert_uint_eq(a->alloc_cpu_milli, 4000);
	ck_assert_uint_eq(a->alloc_mem_bytes, UINT64_C(8000) << 20);

	ck_assert_int_eq(c->created_ns, 0);
	ck_assert_uint_eq(c->alloc_cpu_milli, 0);
	ck_assert_uint_eq(c->alloc_mem_bytes, 0);
	kube_snapshot_unref(s);
}
END_TEST

START_TEST(test_pods_from_list)
{
	struct kube_snapshot *s = fixture();
	const struct kube_pod *p;
	static const char *const order[][2] = {
		{ "b-ns", "x" }, { "default", "web-1" }, { "default", "web-2" },
		{ "kube-system", "coredns-1" },
	};
	size_t i;

	ck_assert_uint_eq(s->npods, 4);
	for (i = 0; i < 4; i++) {
		ck_assert_str_eq(s->pods[i]->ns, order[i][0]);
		ck_assert_str_eq(s->pods[i]->name, order[i][1]);
	}
	p = s->pods[3];
	ck_assert_int_eq(p->created_ns, 1704164645 * SEC);
	ck_assert_int_eq(p->start_ns, 1704164646 * SEC);
	ck_assert_str_eq(p->node_name, "node-a");
	ck_assert_str_eq(p->phase, "Running");
	ck_assert_str_eq(labels_get(&p->labels, "k8s-app"), "kube-dns");
	p = s->pods[2];
	ck_assert_str_eq(p->node_name, ""); /* not scheduled */
	ck_assert_str_eq(p->phase, "Pending");
	ck_assert_int_eq(p->start_ns, 0);
	p = s->pods[0];
	ck_assert_str_eq(p->phase, "");
	ck_assert_uint_eq(p->labels.n, 0);
	kube_snapshot_unref(s);
}
END_TEST

START_TEST(test_lookups)
{
	struct kube_snapshot *s = fixture();
	size_t first = 99, count = 99;

	ck_assert_str_eq(kube_snapshot_node(s, "node-b")->name, "node-b");
	ck_assert_str_eq(kube_snapshot_node(s, "node-c")->name, "node-c");
	ck_assert_ptr_null(kube_snapshot_node(s, "node-"));
	ck_assert_ptr_null(kube_snapshot_node(s, "node-d"));
	ck_assert_ptr_null(kube_snapshot_node(s, ""));
	ck_assert_str_eq(kube_snapshot_pod(s, "default", "web-2")->name, "web-2");
	ck_assert_str_eq(kube_snapshot_pod(s, "b-ns", "x")->ns, "b-ns");
	ck_assert_ptr_null(kube_snapshot_pod(s, "default", "web-3"));
	ck_assert_ptr_null(kube_snapshot_pod(s, "kube-system", "x"));
	kube_snapshot_ns_range(s, "default", &first, &count);
	ck_assert_uint_eq(first, 1);
	ck_assert_uint_eq(count, 2);
	kube_snapshot_ns_range(s, "kube-system", &first, &count);
	ck_assert_uint_eq(first, 3);
	ck_assert_uint_eq(count, 1);
	kube_snapshot_ns_range(s, "c", &first, &count);
	ck_assert_uint_eq(first, 1);
	ck_assert_uint_eq(count, 0);
	kube_snapshot_ns_range(s, "zzz", &first, &count);
	ck_assert_uint_eq(first, 4);
	ck_assert_uint_eq(count, 0);
	kube_snapshot_unref(s);
}
END_TEST

START_TEST(test_empty_and_null_lists)
{
	json_t *bad = load("{\"items\":{}}");
	struct kube_snapshot *s = kube_snapshot_from_lists(NULL, bad);

	ck_assert_uint_eq(s->nnodes, 0);
	ck_assert_uint_eq(s->npods, 0);
	ck_assert_ptr_null(kube_snapshot_node(s, "a"));
	ck_assert_ptr_null(kube_snapshot_pod(s, "a", "b"));
	kube_snapshot_unref(s);
	json_decref(bad);
}
END_TEST

static struct kube_obj *pod(const char *ns, const char *name, const char *phase, bool tomb)
{
	char err[128];
	json_t *j = json_pack("{s:{s:s,s:s},s:{s:s}}", "metadata", "namespace", ns, "name", name,
			      "status", "phase", phase);
	struct kube_obj *o = kube__obj_parse(KUBE_POD, j, err, sizeof(err));

	ck_assert_msg(o != NULL, "%s", err);
	o->tombstone = tomb;
	json_decref(j);
	return o;
}

/* Changes: later ones win, tombstones delete, the base is not modified. */
START_TEST(test_merge)
{
	struct kube_obj *c1[] = { pod("ns", "b", "Running", false), pod("ns", "a", "Running", false),
				  pod("ns", "c", "Running", false) };
	struct kube_obj *c2[] = { pod("ns", "b", "Pending", false), pod("ns", "a", "-", true),
				  pod("ns", "d", "Running", false), pod("ns", "b", "Failed", false),
				  pod("ns", "zz", "-", true) };
	struct kube_objs *base = kube__objs_merge(KUBE_POD, NULL, c1, 3);
	struct kube_objs *next = kube__objs_merge(KUBE_POD, base, c2, 5);
	struct kube_snapshot *s1 = kube__snapshot_new(NULL, base, false);
	struct kube_snapshot *s2 = kube__snapshot_new(NULL, next, true);

	kube__objs_unref(base);
	kube__objs_unref(next);
	ck_assert(!s1->synced);
	ck_assert_uint_eq(s1->npods, 3);
	ck_assert_str_eq(s1->pods[0]->name, "a");
	ck_assert_str_eq(s1->pods[1]->phase, "Running");
	ck_assert_uint_eq(s2->npods, 3);
	ck_assert_str_eq(s2->pods[0]->name, "b");
	ck_assert_str_eq(s2->pods[0]->phase, "Failed");
	ck_assert_str_eq(s2->pods[1]->name, "c");
	ck_assert_ptr_eq(s2->pods[1], s1->pods[2]); /* shared, not copied */
	ck_assert_str_eq(s2->pods[2]->name, "d");
	kube_snapshot_unref(s1);
	ck_assert_str_eq(s2->pods[1]->phase, "Running");
	kube_snapshot_unref(s2);
}
END_TEST

START_TEST(test_object_errors)
{
	char err[128] = "";
	json_t *j = json_pack("{s:{s:s}}", "metadata", "name", "");

	ck_assert_ptr_null(kube__obj_parse(KUBE_NODE, j, err, sizeof(err)));
	ck_assert_str_eq(err, "object has no valid metadata.name");
	json_decref(j);
	j = json_pack("{s:{s:s}}", "metadata", "name", "p");
	ck_assert_ptr_null(kube__obj_parse(KUBE_POD, j, err, sizeof(err)));
	ck_assert_str_eq(err, "object p has no valid metadata.namespace");
	json_decref(j);
	j = json_pack("[]");
	ck_assert_ptr_null(kube__obj_parse(KUBE_POD, j, err, sizeof(err)));
	ck_assert_str_eq(err, "object is not a JSON object");
	json_decref(j);
}
END_TEST

static Suite *kube_suite(void)
{
	Suite *s = suite_create("kube");
	TCase *tc = tcase_create("index");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_nodes_from_list);
	tcase_add_test(tc, test_pods_from_list);
	tcase_add_test(tc, test_lookups);
	tcase_add_test(tc, test_empty_and_null_lists);
	tcase_add_test(tc, test_merge);
	tcase_add_test(tc, test_object_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(kube_suite());
}
