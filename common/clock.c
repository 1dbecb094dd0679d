/* clock.c - wall and monotonic clocks; the wall clock can be faked by tests. */
#include "common/common.h"

#include <stdatomic.h>
#include <time.h>

static _Atomic int64_t fake_now;

int64_t clock_now_ns(void)
{
	struct timespec ts;
	int64_t fake = atomic_load(&fake_now);

	if (fake)
		return fake;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int64_t clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

void clock_set_fake_now(int64_t ns)
{
	atomic_store(&fake_now, ns);
}
