/*
 * check_scraper_proxy.c - HTTPS_PROXY / NO_PROXY as Go's
 * http.ProxyFromEnvironment reads them (scraper/proxy.c): the proxy URL
 * forms and default ports, Basic credentials from the user info, the
 * NO_PROXY table of golang.org/x/net/http/httpproxy's tests (IPs, CIDRs,
 * domains with and without a leading dot or "*.", ports, "*"), localhost
 * and loopback never proxied, and the environment variables' precedence.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "scraper/scraper_int.h"
#include "test/unit/unit.h"

static struct scraper__proxy px;
static char err[256];

static void teardown(void)
{
	scraper__proxy_clear(&px);
}

START_TEST(proxy_url_forms)
{
	ck_assert_int_eq(scraper__proxy_init(&px, "http://proxy.corp:3128", NULL, err, sizeof(err)),
			 0);
	ck_assert(px.set);
	ck_assert_str_eq(px.scheme, "http");
	ck_assert_str_eq(px.host, "proxy.corp");
	ck_assert_uint_eq(px.port, 3128);
	ck_assert_ptr_null(px.auth);
	scraper__proxy_clear(&px);

	/* no scheme: Go parses "http://" + value; default ports per scheme */
	ck_assert_int_eq(scraper__proxy_init(&px, "proxy.corp", NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(px.scheme, "http");
	ck_assert_uint_eq(px.port, 80);
	scraper__proxy_clear(&px);
	ck_assert_int_eq(scraper__proxy_init(&px, "HTTPS://[fd00::5]/", NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(px.scheme, "https");
	ck_assert_str_eq(px.host, "fd00::5");
	ck_assert_uint_eq(px.port, 443);
	scraper__proxy_clear(&px);
	ck_assert_int_eq(scraper__proxy_init(&px, "socks5://10.1.1.1", NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(px.scheme, "socks5");
	ck_assert_uint_eq(px.port, 1080);
	scraper__proxy_clear(&px);

	/* credentials, percent-decoded, as Basic */
	ck_assert_int_eq(scraper__proxy_init(&px, "http://al%40ice:p%3Ass@10.0.0.9:8080", NULL,
					     err, sizeof(err)),
			 0);
	ck_assert_str_eq(px.host, "10.0.0.9");
	ck_assert_uint_eq(px.port, 8080);
	ck_assert_str_eq(px.auth, "Basic YWxAaWNlOnA6c3M="); /* al@ice:p:ss */
}
END_TEST

START_TEST(proxy_url_errors)
{
	static const char *const bad[] = {"http://", "http://host:99999", "http://host:x",
					  "http://%zz@host", "http://host:0"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		ck_assert_int_eq(scraper__proxy_init(&px, bad[i], NULL, err, sizeof(err)), ERR_INVAL);
		ck_assert_msg(strstr(err, "invalid proxy address") != NULL, "%s: %s", bad[i], err);
		ck_assert(!px.set);
		ck_assert(!scraper__proxy_use(&px, "10.0.0.1", 10250));
		scraper__proxy_clear(&px);
	}
	ck_assert_int_eq(scraper__proxy_init(&px, NULL, NULL, err, sizeof(err)), 0);
	ck_assert(!px.set);
	ck_assert(!scraper__proxy_use(&px, "10.0.0.1", 10250));
}
END_TEST

struct use_case {
	const char *no_proxy, *host;
	uint16_t port;
	bool use;
};

/* After x/net/http/httpproxy's proxy_test.go (UseProxy), with the
 * proxy set. */
static const struct use_case cases[] = {
	{"", "localhost", 80, false},
	{"", "127.0.0.1", 80, false},
	{"", "127.1.2.3", 10250, false},
	{"", "::1", 80, false},
	{"", "10.0.0.1", 10250, true},
	{"", "example.com", 443, true},
	{"*", "example.com", 443, false},
	{" * ", "10.0.0.1", 10250, false},
	/* domains */
	{"foobar.com, .barbaz.net", "foobar.com", 80, false},
	{"foobar.com, .barbaz.net", "www.foobar.com", 80, false},
	{"foobar.com, .barbaz.net", "foofoobar.com", 80, true},
	{"foobar.com, .barbaz.net", "barbaz.net", 80, true},
	{"foobar.com, .barbaz.net", "www.barbaz.net", 80, false},
	{"*.example.org", "a.example.org", 80, false},
	{"*.example.org", "example.org", 80, true},
	{"FooBar.Com", "www.FOOBAR.com", 443, false},
	/* ports */
	{"example.com:443", "example.com", 443, false},
	{"example.com:443", "example.com", 80, true},
	{"10.0.0.1:10250", "10.0.0.1", 10250, false},
	{"10.0.0.1:10250", "10.0.0.1", 10255, true},
	{"[fd00::1]:10250", "fd00::1", 10250, false},
	{"[fd00::1]:10250", "fd00::1", 443, true},
	/* IPs and CIDRs */
	{"10.0.0.1", "10.0.0.1", 10250, false},
	{"10.0.0.1", "10.0.0.2", 10250, true},
	{"192.168.0.0/16", "192.168.77.3", 10250, false},
	{"192.168.0.0/16", "192.169.0.1", 10250, true},
	{"192.168.1.1/16", "192.168.200.1", 10250, false}, /* the network of the address */
	{"fd00::/8", "fd12:3456::1", 10250, false},
	{"fd00::/8", "fe80::1", 10250, true},
	{"2001:db8::1", "2001:db8:0:0:0:0:0:1", 10250, false},
	{"10.0.0.0/8", "node-1.cluster.local", 10250, true}, /* CIDRs are for IPs only */
	/* junk entries are skipped, the rest still apply */
	{",,:80, 999.1.1.1/8,10.0.0.0/8", "10.2.3.4", 10250, false},
	{"10.0.0.0/33", "10.2.3.4", 10250, true},
};

START_TEST(no_proxy_rules)
{
	const struct use_case *c = &cases[_i];

	ck_assert_int_eq(scraper__proxy_init(&px, "http://proxy:3128", c->no_proxy, err, sizeof(err)),
			 0);
	ck_assert_msg(scraper__proxy_use(&px, c->host, c->port) == c->use,
		      "NO_PROXY=\"%s\" %s:%u: want use=%d", c->no_proxy, c->host, c->port, c->use);
}
END_TEST

START_TEST(environment_precedence)
{
	setenv("HTTPS_PROXY", "http://upper:1", 1);
	setenv("https_proxy", "http://lower:2", 1);
	setenv("NO_PROXY", "", 1);
	setenv("no_proxy", "10.0.0.0/8", 1);
	ck_assert_int_eq(scraper__proxy_from_env(&px, err, sizeof(err)), 0);
	ck_assert_str_eq(px.host, "upper");
	/* an empty upper-case value falls through to the lower-case one */
	ck_assert(!scraper__proxy_use(&px, "10.9.9.9", 10250));
	scraper__proxy_clear(&px);
	unsetenv("HTTPS_PROXY");
	ck_assert_int_eq(scraper__proxy_from_env(&px, err, sizeof(err)), 0);
	ck_assert_str_eq(px.host, "lower");
	scraper__proxy_clear(&px);
	unsetenv("https_proxy");
	unsetenv("NO_PROXY");
	unsetenv("no_proxy");
	ck_assert_int_eq(scraper__proxy_from_env(&px, err, sizeof(err)), 0);
	ck_assert(!px.set);
}
END_TEST

START_TEST(no_proxy_is_bounded)
{
	/* many entries: the first SCRAPER__PROXY_MAX_RULES are kept */
	size_t n = SCRAPER__PROXY_MAX_RULES + 50, len = 0;
	char *v = malloc(n * 16);

	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(v + len, n * 16 - len, "h%zu.test,", i);
	ck_assert_int_eq(scraper__proxy_init(&px, "http://proxy:3128", v, err, sizeof(err)), 0);
	ck_assert_uint_eq(px.nrules, SCRAPER__PROXY_MAX_RULES);
	ck_assert(!scraper__proxy_use(&px, "h0.test", 1));
	ck_assert(scraper__proxy_use(&px, "h300.test", 1));
	free(v);
}
END_TEST

static Suite *proxy_suite(void)
{
	Suite *s = suite_create("scraper_proxy");
	TCase *tc = tcase_create("proxy");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, proxy_url_forms);
	tcase_add_test(tc, proxy_url_errors);
	tcase_add_loop_test(tc, no_proxy_rules, 0, (int)(sizeof(cases) / sizeof(*cases)));
	tcase_add_test(tc, environment_precedence);
	tcase_add_test(tc, no_proxy_is_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(proxy_suite());
}
