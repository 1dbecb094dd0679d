/*
 * check_scraper_targets.c - which URL the scraper asks a node's kubelet
 * (scraper_node_url()): the address-type priority, the port (flag or the
 * node's status port), the metrics path annotation, IPv6 brackets and the
 * errors for no address, bad addresses, paths and ports, a short buffer.
 * No server: pure functions over options() of scraper_fixture.h.
 */
#include <check.h>

#include "scraper/scraper.h"
#include "test/unit/scraper_fixture.h"
#include "test/unit/unit.h"

static int url_of(const struct scraper_options *o, const struct kube_node *n, char *url,
		  char *err)
{
	return scraper_node_url(o, n, url, 256, err, 256);
}

START_TEST(url_address_priority)
{
	char *types[] = {(char *)"Hostname", (char *)"InternalDNS", (char *)"InternalIP"};
	struct kube_address addrs[] = {
		{(char *)"InternalIP", (char *)"10.0.0.1"}, {(char *)"InternalIP", (char *)"10.0.0.2"},
		{(char *)"ExternalIP", (char *)"1.2.3.4"}, {(char *)"Hostname", (char *)"node-1"},
	};
	struct kube_node n = {.name = (char *)"node-1", .addresses = addrs, .naddresses = 4,
			      .kubelet_port = 10255};
	struct scraper_options o = options(NULL);
	char url[256], err[256];

	o.preferred_address_types = types;
	o.npreferred = 3;
	ck_assert_int_eq(url_of(&o, &n, url, err), 0);
	ck_assert_str_eq(url, "https://node-1:10250/metrics/resource");
	o.preferred_address_types = types + 1; /* InternalDNS, InternalIP */
	o.npreferred = 2;
	ck_assert_int_eq(url_of(&o, &n, url, err), 0);
	ck_assert_str_eq(url, "https://10.0.0.1:10250/metrics/resource");
	o.use_node_status_port = true;
	ck_assert_int_eq(url_of(&o, &n, url, err), 0);
	ck_assert_str_eq(url, "https://10.0.0.1:10255/metrics/resource");
	n.kubelet_port = 0; /* unset: --kubelet-port */
	ck_assert_int_eq(url_of(&o, &n, url, err), 0);
	ck_assert_str_eq(url, "https://10.0.0.1:10250/metrics/resource");
	n.metrics_path = (char *)"/metrics/kwok/node-1";
	ck_assert_int_eq(url_of(&o, &n, url, err), 0);
	ck_assert_str_eq(url, "https://10.0.0.1:10250/metrics/kwok/node-1");
}
END_TEST

START_TEST(url_ipv6_and_errors)
{
	char *types[] = {(char *)"Hostname", (char *)"InternalIP"};
	struct kube_address v6[] = {{(char *)"InternalIP", (char *)"fd00::1"}};
	struct kube_address ext[] = {{(char *)"ExternalIP", (char *)"1.2.3.4"}};
	struct kube_address bad[] = {{(char *)"InternalIP", (char *)"1.2.3.4/x?"}};
	struct kube_node n = {.name = (char *)"n", .addresses = v6, .naddresses = 1};
	struct scraper_options o = options(NULL);
	char url[256], err[256];

	o.preferred_address_types = types;
	o.npreferred = 2;
	ck_assert_int_eq(url_of(&o, &n, url, err), 0);
	ck_assert_str_eq(url, "https://[fd00::1]:10250/metrics/resource");
	n.addresses = ext;
	ck_assert_int_eq(url_of(&o, &n, url, err), ERR_NOTFOUND);
	ck_assert_str_eq(err, "no address matched types [Hostname InternalIP]");
	o.npreferred = 0;
	ck_assert_int_eq(url_of(&o, &n, url, err), ERR_NOTFOUND);
	ck_assert_str_eq(err, "no address matched types []");
	o.npreferred = 2;
	n.addresses = bad;
	ck_assert_int_eq(url_of(&o, &n, url, err), ERR_INVAL);
	n.addresses = v6;
	n.metrics_path = (char *)"metrics";
	ck_assert_int_eq(url_of(&o, &n, url, err), ERR_INVAL);
	n.metrics_path = (char *)"/a b";
	ck_assert_int_eq(url_of(&o, &n, url, err), ERR_INVAL);
	n.metrics_path = NULL;
	o.kubelet_port = 70000;
	ck_assert_int_eq(url_of(&o, &n, url, err), ERR_INVAL);
	ck_assert_str_eq(err, "invalid kubelet port 70000");
	o.kubelet_port = 10250;
	ck_assert_int_eq(scraper_node_url(&o, &n, url, 20, err, sizeof(err)), ERR_TOOBIG);
}
END_TEST

static Suite *targets_suite(void)
{
	Suite *s = suite_create("scraper_targets");
	TCase *tc = tcase_create("targets");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, url_address_priority);
	tcase_add_test(tc, url_ipv6_and_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(targets_suite());
}
