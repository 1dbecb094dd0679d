/* check_kubesim_workload.c - kubesim's usage profiles: parsing and exact integrals. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "test/kubesim/workload.h"
#include "common/common.h"
#include "test/unit/unit.h"

#define S(x) ((int64_t)(x) * NS_PER_SEC)

static struct sim_wl_profile parse_ok(const char *text, bool memory)
{
	struct sim_wl_profile p;
	char err[300] = "";

	ck_assert_msg(sim_wl_parse(text, memory, &p, err, sizeof(err)) == 0, "%s: %s", text, err);
	return p;
}

START_TEST(test_parse)
{
	struct sim_wl_profile p = parse_ok("const:50m", false);

	ck_assert_int_eq(p.kind, SIM_WL_CONST);
	ck_assert_int_eq(p.a, 50);
	p = parse_ok("const:1.5", false);
	ck_assert_int_eq(p.a, 1500);
	p = parse_ok("const:64Mi", true);
	ck_assert_int_eq(p.a, 67108864);
	p = parse_ok("step:100m@30s:400m", false);
	ck_assert_int_eq(p.kind, SIM_WL_STEP);
	ck_assert_int_eq(p.a, 100);
	ck_assert_int_eq(p.b, 400);
	ck_assert_int_eq(p.dur_ns, S(30));
	p = parse_ok("sine:base=200m,amp=100m,period=60s", false);
	ck_assert_int_eq(p.kind, SIM_WL_SINE);
	ck_assert_int_eq(p.a, 200);
	ck_assert_int_eq(p.b, 100);
	ck_assert_int_eq(p.dur_ns, S(60));
	p = parse_ok("sine:amp=300m,period=1m,base=200m", false); /* any order, amp clamped */
	ck_assert_int_eq(p.b, 200);
	p = parse_ok("ramp:from=10m,to=500m,over=2m", false);
	ck_assert_int_eq(p.kind, SIM_WL_RAMP);
	ck_assert_int_eq(p.a, 10);
	ck_assert_int_eq(p.b, 500);
	ck_assert_int_eq(p.dur_ns, S(120));
	p = parse_ok("load:per=1m", false);
	ck_assert_int_eq(p.kind, SIM_WL_LOAD);
	ck_assert_int_eq(p.a, 0);
	ck_assert_int_eq(p.b, 1);
	p = parse_ok("load:per=1Mi,base=100Mi", true);
	ck_assert_int_eq(p.a, 104857600);
	ck_assert_int_eq(p.b, 1048576);
}
END_TEST

START_TEST(test_parse_errors)
{
	static const char *const bad[] = {
		"", "const", "const:", "const:-5m", "const:abc", "bogus:1", "step:100m@30s",
		"step:100m:400m", "step:1@-1s:2", "sine:base=1", "sine:base=1,amp=1,period=0s",
		"ramp:from=1m,to=2m", "ramp:from=1m,to=2m,over=-1s", "load:base=1m",
		"const:1m,extra:" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	};
	struct sim_wl_profile p = {.kind = SIM_WL_STEP, .a = 7};
	char err[300];

	for (size_t i = 0; i < COMMON_ARRAY_LEN(bad); i++) {
		err[0] = '\0';
		ck_assert_msg(sim_wl_parse(bad[i], false, &p, err, sizeof(err)) == ERR_PARSE, "%s",
			      bad[i]);
		ck_assert_msg(strncmp(err, "invalid workload profile", 24) == 0, "%s", err);
	}
	ck_assert_int_eq(p.a, 7); /* untouched */
}
END_TEST

START_TEST(test_const_integral)
{
	struct sim_wl_profile p = parse_ok("const:50m", false);

	ck_assert_int_eq(sim_wl_cpu_ns(&p, S(15), 0), 750000000);
	ck_assert_int_eq(sim_wl_cpu_ns(&p, S(45), 0) - sim_wl_cpu_ns(&p, S(30), 0), 750000000);
	ck_assert_int_eq(sim_wl_cpu_ns(&p, 0, 0), 0);
	ck_assert_int_eq(sim_wl_cpu_ns(&p, -S(5), 0), 0);
	ck_assert_int_eq(sim_wl_cpu_ns(&p, 1000, 0), 50); /* 1 us at 0.05 core */
	ck_assert_int_eq(sim_wl_usage(&p, S(99), 0), 50);
}
END_TEST

START_TEST(test_step_integral)
{
	struct sim_wl_profile p = parse_ok("step:100m@30s:400m", false);

	ck_assert_int_eq(sim_wl_usage(&p, S(29), 0), 100);
	ck_assert_int_eq(sim_wl_usage(&p, S(30), 0), 400);
	ck_assert_int_eq(sim_wl_cpu_ns(&p, S(30), 0), 3000000000);
	ck_assert_int_eq(sim_wl_cpu_ns(&p, S(45), 0), 9000000000);
	/* a window across the step: 10 s at 100m + 10 s at 400m */
	ck_assert_int_eq(sim_wl_cpu_ns(&p, S(40), 0) - sim_wl_cpu_ns(&p, S(20), 0), 5000000000);
}
END_TEST

START_TEST(test_ramp_integral)
{
	struct sim_wl_profile p = parse_ok("ramp:from=10m,to=500m,over=120s", false);

	ck_assert_int_eq(sim_wl_usage(&p, 0, 0), 10);
	ck_assert_int_eq(sim_wl_usage(&p, S(60), 0), 255);
	ck_assert_int_eq(sim_wl_usage(&p, S(500), 0), 500);
	/* average 255m over the ramp */
	ck_assert_int_eq(sim_wl_cpu_ns(&p, S(120), 0), 30600000000);
	ck_assert_int_eq(sim_wl_cpu_ns(&p, S(60), 0), 7950000000);
	ck_assert_int_eq(sim_wl_cpu_ns(&p, S(180), 0), 60600000000);
	p = parse_ok("ramp:from=500m,to=100m,over=10s", false);
	ck_assert_int_eq(sim_wl_cpu_ns(&p, S(10), 0), 3000000000);
}
END_TEST

START_TEST(test_sine_integral)
{
	struct sim_wl_profile p = parse_ok("sine:base=200m,amp=100m,period=60s", false);

	ck_assert_int_eq(sim_wl_usage(&p, 0, 0), 200);
	ck_assert_int_eq(sim_wl_usage(&p, S(15), 0), 300);
	ck_assert_int_eq(sim_wl_usage(&p, S(45), 0), 100);
	/* whole periods average the base */
	ck_assert_int_eq(sim_wl_cpu_ns(&p, S(60), 0), 12000000000);
	ck_assert_int_eq(sim_wl_cpu_ns(&p, S(600), 0), 120000000000);
	/* half a period: base*30s + amp*P/pi */
	ck_assert_int_eq(sim_wl_cpu_ns(&p, S(30), 0), 7909859317);
	ck_assert_int_eq(sim_wl_cpu_ns(&p, S(90), 0) - sim_wl_cpu_ns(&p, S(60), 0), 7909859317);
}
END_TEST

START_TEST(test_load_integral)
{
	struct sim_wl_profile p = parse_ok("load:per=1m,base=5m", false);
	/* 100 units per replica for 10 s, in milli-units x ns */
	double li = 100000.0 * 1e10;

	ck_assert_int_eq(sim_wl_usage(&p, S(3), 100000), 105);
	ck_assert_int_eq(sim_wl_cpu_ns(&p, S(10), li), 1050000000);
	ck_assert_int_eq(sim_wl_cpu_ns(&p, S(10), 0), 50000000);
}
END_TEST

START_TEST(test_memory_profiles)
{
	struct sim_wl_profile p = parse_ok("step:100Mi@1m:200Mi", true);

	ck_assert_int_eq(sim_wl_usage(&p, S(59), 0), 104857600);
	ck_assert_int_eq(sim_wl_usage(&p, S(60), 0), 209715200);
	p = parse_ok("load:per=1Mi,base=10Mi", true);
	ck_assert_int_eq(sim_wl_usage(&p, 0, 2500), 10485760 + 2621440);
}
END_TEST

START_TEST(test_determinism)
{
	struct sim_wl_profile a, b;
	uint64_t h1 = sim_wl_hash(42, "default/web-0/app");

	ck_assert_uint_eq(h1, sim_wl_hash(42, "default/web-0/app"));
	ck_assert_uint_ne(h1, sim_wl_hash(43, "default/web-0/app"));
	ck_assert_uint_ne(h1, sim_wl_hash(42, "default/web-1/app"));
	sim_wl_default(&a, h1, 10, 250);
	sim_wl_default(&b, h1, 10, 250);
	ck_assert_int_eq(a.kind, SIM_WL_CONST);
	ck_assert_int_eq(a.a, b.a);
	ck_assert_int_ge(a.a, 10);
	ck_assert_int_lt(a.a, 250);
	for (int64_t i = 0; i < 1000; i++) {
		int64_t n = sim_wl_noise(h1, i, 1000);

		ck_assert_int_ge(n, -1000);
		ck_assert_int_le(n, 1000);
		ck_assert_int_eq(n, sim_wl_noise(h1, i, 1000));
	}
	ck_assert_int_eq(sim_wl_noise(h1, 5, 0), 0);
}
END_TEST

static Suite *workload_suite(void)
{
	Suite *s = suite_create("kubesim_workload");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_const_integral);
	tcase_add_test(tc, test_step_integral);
	tcase_add_test(tc, test_ramp_integral);
	tcase_add_test(tc, test_sine_integral);
	tcase_add_test(tc, test_load_integral);
	tcase_add_test(tc, test_memory_profiles);
	tcase_add_test(tc, test_determinism);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(workload_suite());
}
