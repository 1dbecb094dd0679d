/*
 * workload.h - the simulated kubelets' usage model (internal to kubesim).
 *
 * A profile says how much CPU (millicores) or memory (bytes) a container
 * uses as a function of the time since it started.  Profiles come from
 * pod annotations (kubesim.io/cpu, kubesim.io/memory, per container
 * kubesim.io/cpu.<container>):
 *
 *   const:50m                               constant
 *   step:100m@30s:400m                      100m before 30 s, 400m after
 *   sine:base=200m,amp=100m,period=60s      base + amp*sin(2*pi*t/period)
 *   ramp:from=10m,to=500m,over=120s         linear, then flat at `to`
 *   load:per=1m[,base=5m]                   base + per * deployment load
 *                                           / ready replicas
 *
 * Cumulative CPU is the exact integral of the usage profile, so the rate
 * over any window is the window's average usage.  Everything here is
 * pure and deterministic.
 */
#ifndef KUBESIM_WORKLOAD_H
#define KUBESIM_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sim_wl_kind { SIM_WL_CONST, SIM_WL_STEP, SIM_WL_SINE, SIM_WL_RAMP, SIM_WL_LOAD };

/* Units are millicores for CPU and bytes for memory. */
struct sim_wl_profile {
	enum sim_wl_kind kind;
	int64_t a;      /* const value, step before, sine base, ramp from, load base */
	int64_t b;      /* step after, sine amplitude, ramp to, load per unit */
	int64_t dur_ns; /* step time, sine period, ramp length */
};

/* Longest accepted profile text. */
#define SIM_WL_MAX_TEXT 256

/*
 * Parses a profile; memory selects byte quantities (else millicores).
 * Values must be >= 0; a sine amplitude larger than its base is clamped
 * to the base so usage never goes negative.  0, or ERR_PARSE with a
 * message in err (p untouched).
 */
int sim_wl_parse(const char *text, bool memory, struct sim_wl_profile *p, char *err,
		 size_t errlen);

/* Usage at t_ns since start (t < 0 counts as 0); load is the current
 * deployment load per ready replica, in units of 1/1000. */
int64_t sim_wl_usage(const struct sim_wl_profile *p, int64_t t_ns, double load_milli);

/*
 * Cumulative CPU in core-nanoseconds after t_ns since start, i.e. the
 * integral of the usage (millicores) over [0, t_ns] divided by 1000.
 * load_integral is the integral of (load per ready replica, in 1/1000
 * units) over the same interval, in milli-units x ns (load profiles only).
 */
int64_t sim_wl_cpu_ns(const struct sim_wl_profile *p, int64_t t_ns, double load_integral);

/* A deterministic 64-bit mix of a seed and a string (FNV-1a + splitmix). */
uint64_t sim_wl_hash(uint64_t seed, const char *s);

/* A constant profile with a value in [lo, hi) chosen by hash h. */
void sim_wl_default(struct sim_wl_profile *p, uint64_t h, int64_t lo, int64_t hi);

/* Deterministic noise in [-amp, amp] for (h, bucket). amp <= 0 gives 0. */
int64_t sim_wl_noise(uint64_t h, int64_t bucket, int64_t amp);

#endif
