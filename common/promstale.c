/* promstale.c - Prometheus' staleness marker, shared by series/ and promql/. */
#include "common/common.h"

#include <string.h>

bool prom_is_stale(double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	return bits == PROM_STALE_NAN_BITS;
}

double prom_stale_nan(void)
{
	uint64_t bits = PROM_STALE_NAN_BITS;
	double v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}
