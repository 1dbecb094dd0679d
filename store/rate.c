/*
 * rate.c - metrics-server's resourceUsage(last, prev): CPU rate over the
 * window between two cumulative points, memory from the newer one.
 */
#include "store/store_int.h"

#include "common/common.h"

/* Go's Duration.Seconds(): whole and fractional parts added as float64. */
static double window_seconds(int64_t ns)
{
	int64_t sec = ns / NS_PER_SEC, nsec = ns % NS_PER_SEC;

	return (double)sec + (double)nsec / 1e9;
}

int store__rate(const struct snap_point *last, uint64_t mem_bytes, const struct snap_point *prev,
	       struct store_usage *out, const char **why)
{
	int64_t window;
	double cpu;

	if (last->start_ns < prev->start_ns) {
		*why = "unexpected decrease in startTime of node/container";
		return ERR_INVAL;
	}
	if (last->cpu_ns < prev->cpu_ns) {
		*why = "unexpected decrease in cumulative CPU usage value";
		return ERR_INVAL;
	}
	window = last->ts_ns - prev->ts_ns;
	if (window <= 0) {  /* the storage rules never let this happen */
		*why = "non-positive window";
		return ERR_INVAL;
	}
	/* float64 division then truncation, exactly as uint64(cpuUsage). */
	cpu = (double)(last->cpu_ns - prev->cpu_ns) / window_seconds(window);
	out->cpu_nanocores = cpu >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)cpu;
	out->mem_bytes = mem_bytes;
	out->ts_ns = last->ts_ns;
	out->window_ns = window;
	return ERR_OK;
}
