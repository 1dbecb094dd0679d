/*
 * check_scraper_transfer.c - one scrape round over many kubelets
 * (scraper/transfer.c, entered through scraper_round() of loop.c, on
 * driver.c's event loop) against the fake kubelet of scraper_fixture.h:
 * what one round stores (node and container usage from two points),
 * keep-alive reuse, a 70-pod kind capture, more nodes than one driver
 * shard holds, failures that lose only their own node (with
 * metrics-server's log lines), the node selector and the concurrency bound.
 */
#include <check.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scraper/scraper_int.h"
#include "test/unit/scraper_fixture.h"
#include "test/unit/unit.h"

START_TEST(round_stores_node_and_reuses_connection)
{
	struct rig r;
	struct store_usage u;
	const struct store_container_usage *cu;
	size_t ncu;

	rig_start(&r, &server);
	rig_scraper(&r);
	add_node(&r.c, "node-a", "/dyn");
	for (int i = 0; i < 3; i++) {
		rig_round(&r);
		ck_assert_uint_eq(r.rs.nodes, 1);
		ck_assert_uint_eq(r.rs.failed, 0);
		ck_assert_uint_eq(r.rs.pods, 1);
		ck_assert_int_eq(r.rs.started_ns, FAKE_NOW);
		ck_assert_int_eq(scraper_last_round_start_ns(r.s), FAKE_NOW);
	}
	struct store_snapshot *snap = store_acquire(r.st);
	ck_assert_int_eq(store_node_usage(snap, "node-a", &u), 0);
	ck_assert_int_eq(u.ts_ns, (DYN_BASE_MS + 20000) * NS_PER_MS);
	ck_assert_int_eq(u.window_ns, 10 * NS_PER_SEC);
	ck_assert_uint_eq(u.cpu_nanocores, 1000000000u);
	ck_assert_uint_eq(u.mem_bytes, 2000000000u);
	ck_assert_int_eq(store_pod_usage(snap, "ns", "web", &cu, &ncu, &u), 0);
	ck_assert_uint_eq(ncu, 1);
	ck_assert_str_eq(cu[0].name, "app");
	ck_assert_uint_eq(cu[0].cpu_nanocores, 50000000u);
	ck_assert_uint_eq(cu[0].mem_bytes, 5000000u);
	store_snapshot_unref(snap);
	ck_assert_int_eq(atomic_load(&r.k->requests), 3);
	ck_assert_int_eq(atomic_load(&r.k->connections), 1); /* keep-alive */
	rig_stop(&r);
}
END_TEST

START_TEST(round_kind_fixture_70_pods)
{
	struct rig r;

	rig_start(&r, &server);
	rig_scraper(&r);
	add_node(&r.c, "node1", "/fixture/kind-e2e-70pods.txt");
	rig_round(&r);
	ck_assert_uint_eq(r.rs.failed, 0);
	ck_assert_uint_eq(r.rs.pods, 70);
	rig_stop(&r);
}
END_TEST

/* More nodes than one driver shard holds (64): every node answers in every
 * round and connections are reused (all nodes share one address here, so
 * idle connections are shared within a shard too: fewer than nodes). */
START_TEST(round_many_nodes_few_connections_and_decoders)
{
	enum { NODES = 100 };
	static char names[NODES][24]; /* borrowed by the cluster */
	struct rig r;
	int after_first;

	rig_start(&r, &server);
	/* valgrind makes the first round's handshakes slow */
	r.o.resolution_ns = 60 * NS_PER_SEC;
	r.o.request_timeout_ns = 50 * NS_PER_SEC;
	rig_scraper(&r);
	for (int i = 0; i < NODES; i++) {
		snprintf(names[i], sizeof(names[i]), "node-%03d", i);
		add_node(&r.c, names[i], "/fixture/decode-node-only.txt");
	}
	rig_round(&r);
	ck_assert_uint_eq(r.rs.nodes, NODES);
	ck_assert_uint_eq(r.rs.failed, 0);
	after_first = atomic_load(&r.k->connections);
	ck_assert_int_le(after_first, NODES);
	rig_round(&r);
	ck_assert_uint_eq(r.rs.nodes, NODES);
	ck_assert_uint_eq(r.rs.failed, 0);
	ck_assert_int_eq(atomic_load(&r.k->requests), 2 * NODES);
	ck_assert_int_lt(atomic_load(&r.k->connections), after_first + NODES);
	/* decoders are pooled: a node holds one only while its request runs */
	ck_assert_uint_le(atomic_load(&scraper__decoders_live), SCRAPER__SPARE_DECODERS);
	ck_assert_uint_lt(SCRAPER__SPARE_DECODERS, NODES);
	rig_stop(&r);
	ck_assert_uint_eq(atomic_load(&scraper__decoders_live), 0);
}
END_TEST

/* Garbage, 500, a slow kubelet, no address: only those nodes are lost. */
START_TEST(round_failures_are_per_node)
{
	static const char *const want_log[] = {
		"\"Failed to scrape node\" err=\"failed parsing metrics: line 1: expected float as "
		"value, got \\\"is\\\"\" node=\"b-garbage\"",
		"\"Failed to scrape node\" err=\"request failed, status: \\\"500 Internal Server "
		"Error\\\"\" node=\"c-500\"",
		"\"Failed to scrape node, timeout to access kubelet\" err=\"Get \\\"https://127.0.0.1:",
		"node=\"d-slow\" timeout=\"3s\"",
		"\"Failed to scrape node\" err=\"no address matched types [InternalIP]\" "
		"node=\"e-noaddr\"",
		"err=\"request failed, status: \\\"404 Not Found\\\"\" node=\"f-missing\"",
	};
	struct rig r;
	struct dynbuf m;
	char *log;

	rig_start(&r, &server);
	r.o.request_timeout_ns = 3 * NS_PER_SEC; /* ample even under valgrind */
	rig_scraper(&r);
	add_node(&r.c, "a-ok", "/dyn");
	add_node(&r.c, "b-garbage", "/garbage");
	add_node(&r.c, "c-500", "/500");
	add_node(&r.c, "d-slow", "/slow");
	add_node(&r.c, "e-noaddr", "/dyn")->naddresses = 1; /* Hostname only */
	add_node(&r.c, "f-missing", "/fixture/none.txt");
	log = rig_round_logged(&r);
	ck_assert_uint_eq(r.rs.nodes, 6);
	ck_assert_uint_eq(r.rs.failed, 5);
	ck_assert_uint_eq(r.rs.pods, 1);
	for (size_t i = 0; i < COMMON_ARRAY_LEN(want_log); i++)
		ck_assert_log(log, want_log[i]);
	free(log);
	dynbuf_init(&m, DYN_SMALL);
	ck_assert_int_eq(scraper_write_metrics(r.s, &m), 0);
	ck_assert_ptr_nonnull(strstr(m.buf, "metrics_server_kubelet_request_total{success=\"false\"} 5\n"
					    "metrics_server_kubelet_request_total{success=\"true\"} 1\n"));
	dynbuf_clear(&m);
	rig_stop(&r);
}
END_TEST

START_TEST(node_selector_and_concurrency_bound)
{
	struct rig r;
	char err[128];
	struct selector *sel = selector_parse("role=worker", err, sizeof(err));

	ck_assert_ptr_nonnull(sel);
	rig_start(&r, &server);
	r.o.node_selector = sel;
	r.o.max_concurrency = 1;
	rig_scraper(&r);
	labels_set(&add_node(&r.c, "m1", "/dyn")->labels, "role", "master");
	labels_set(&add_node(&r.c, "w1", "/fixture/decode-normal.txt")->labels, "role", "worker");
	labels_set(&add_node(&r.c, "w2", "/fixture/decode-node-only.txt")->labels, "role", "worker");
	rig_round(&r);
	ck_assert_uint_eq(r.rs.nodes, 2);
	ck_assert_uint_eq(r.rs.failed, 0);
	ck_assert_uint_eq(r.rs.pods, 1);
	ck_assert_int_eq(atomic_load(&r.k->requests), 2);
	rig_stop(&r);
	selector_free(sel);
}
END_TEST

static Suite *round_suite(void)
{
	Suite *s = suite_create("scraper_transfer");
	TCase *tc = tcase_create("round");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, setup_certs, teardown_certs);
	tcase_add_test(tc, round_stores_node_and_reuses_connection);
	tcase_add_test(tc, round_kind_fixture_70_pods);
	tcase_add_test(tc, round_many_nodes_few_connections_and_decoders);
	tcase_add_test(tc, round_failures_are_per_node);
	tcase_add_test(tc, node_selector_and_concurrency_bound);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(round_suite());
}
