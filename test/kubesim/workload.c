/*
 * workload.c - usage profiles of simulated containers: parsing, usage at
 * a point in time and the exact cumulative CPU integral.
 */
#include "test/kubesim/workload.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"

__extension__ typedef __int128 wl_i128;

/* ---- parsing ------------------------------------------------------------ */

static int set_err(char *err, size_t errlen, const char *text, const char *why)
{
	snprintf(err, errlen, "invalid workload profile \"%s\": %s", text, why);
	return ERR_PARSE;
}

/* One quantity in profile units: millicores, or bytes for memory. */
static int parse_amount(const char *s, bool memory, int64_t *out)
{
	struct quantity q;

	if (quantity_parse(s, &q) != 0)
		return ERR_PARSE;
	*out = memory ? quantity_value(&q) : quantity_milli_value(&q);
	return *out < 0 ? ERR_PARSE : 0;
}

/* The value of key in "k1=v1,k2=v2" copied to val, or ERR_NOTFOUND. */
static int find_kv(const char *args, const char *key, char *val, size_t vlen)
{
	size_t klen = strlen(key);
	const char *p = args;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			if (n - klen - 1 >= vlen)
				return ERR_PARSE;
			memcpy(val, p + klen + 1, n - klen - 1);
			val[n - klen - 1] = '\0';
			return 0;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return ERR_NOTFOUND;
}

static int kv_amount(const char *args, const char *key, bool memory, bool required,
		     int64_t *out)
{
	char v[64];
	int rc = find_kv(args, key, v, sizeof(v));

	if (rc == ERR_NOTFOUND && !required) {
		*out = 0;
		return 0;
	}
	return rc != 0 ? rc : parse_amount(v, memory, out);
}

static int kv_duration(const char *args, const char *key, int64_t *out)
{
	char v[64];

	if (find_kv(args, key, v, sizeof(v)) != 0 || parse_go_duration(v, out) != 0)
		return ERR_PARSE;
	return *out > 0 ? 0 : ERR_PARSE;
}

/* "100m@30s:400m" */
static int parse_step(char *args, bool memory, struct sim_wl_profile *p)
{
	char *at = strchr(args, '@');
	char *colon = at ? strchr(at, ':') : NULL;

	if (!colon)
		return ERR_PARSE;
	*at = '\0';
	*colon = '\0';
	if (parse_amount(args, memory, &p->a) != 0 || parse_amount(colon + 1, memory, &p->b) != 0 ||
	    parse_go_duration(at + 1, &p->dur_ns) != 0 || p->dur_ns < 0)
		return ERR_PARSE;
	return 0;
}

static int parse_args(enum sim_wl_kind kind, char *args, bool memory, struct sim_wl_profile *p)
{
	switch (kind) {
	case SIM_WL_CONST:
		return parse_amount(args, memory, &p->a);
	case SIM_WL_STEP:
		return parse_step(args, memory, p);
	case SIM_WL_SINE:
		if (kv_amount(args, "base", memory, true, &p->a) != 0 ||
		    kv_amount(args, "amp", memory, true, &p->b) != 0 ||
		    kv_duration(args, "period", &p->dur_ns) != 0)
			return ERR_PARSE;
		if (p->b > p->a)
			p->b = p->a;
		return 0;
	case SIM_WL_RAMP:
		if (kv_amount(args, "from", memory, true, &p->a) != 0 ||
		    kv_amount(args, "to", memory, true, &p->b) != 0)
			return ERR_PARSE;
		return kv_duration(args, "over", &p->dur_ns);
	case SIM_WL_LOAD:
		if (kv_amount(args, "per", memory, true, &p->b) != 0)
			return ERR_PARSE;
		return kv_amount(args, "base", memory, false, &p->a);
	}
	return ERR_PARSE;
}

int sim_wl_parse(const char *text, bool memory, struct sim_wl_profile *p, char *err,
		 size_t errlen)
{
	static const struct {
		const char *name;
		enum sim_wl_kind kind;
	} kinds[] = {
		{"const", SIM_WL_CONST}, {"step", SIM_WL_STEP}, {"sine", SIM_WL_SINE},
		{"ramp", SIM_WL_RAMP},   {"load", SIM_WL_LOAD},
	};
	char buf[SIM_WL_MAX_TEXT];
	struct sim_wl_profile out = {0};
	size_t n = strlen(text);
	char *colon;

	if (n >= sizeof(buf))
		return set_err(err, errlen, "", "too long");
	memcpy(buf, text, n + 1);
	colon = strchr(buf, ':');
	if (!colon)
		return set_err(err, errlen, text, "expected <kind>:<arguments>");
	*colon = '\0';
	for (size_t i = 0; i < COMMON_ARRAY_LEN(kinds); i++) {
		if (strcmp(buf, kinds[i].name) != 0)
			continue;
		out.kind = kinds[i].kind;
		if (parse_args(out.kind, colon + 1, memory, &out) != 0)
			return set_err(err, errlen, text, "bad arguments");
		*p = out;
		return 0;
	}
	return set_err(err, errlen, text, "unknown kind (const, step, sine, ramp, load)");
}

/* ---- evaluation --------------------------------------------------------- */

static int64_t clamp_nonneg(double v)
{
	if (!(v > 0))
		return 0;
	if (v >= 9.2e18)
		return INT64_MAX;
	return (int64_t)llround(v);
}

int64_t sim_wl_usage(const struct sim_wl_profile *p, int64_t t_ns, double load_milli)
{
	double x;

	if (t_ns < 0)
		t_ns = 0;
	switch (p->kind) {
	case SIM_WL_CONST:
		return p->a;
	case SIM_WL_STEP:
		return t_ns < p->dur_ns ? p->a : p->b;
	case SIM_WL_SINE:
		x = 2.0 * M_PI * (double)(t_ns % p->dur_ns) / (double)p->dur_ns;
		return clamp_nonneg((double)p->a + (double)p->b * sin(x));
	case SIM_WL_RAMP:
		if (t_ns >= p->dur_ns)
			return p->b;
		return p->a + (int64_t)((wl_i128)(p->b - p->a) * t_ns / p->dur_ns);
	case SIM_WL_LOAD:
		return p->a + clamp_nonneg((double)p->b * load_milli / 1000.0);
	}
	return 0;
}

/* Integral of the usage over [0, t] in unit x ns. */
static wl_i128 integral(const struct sim_wl_profile *p, int64_t t, double load_integral)
{
	wl_i128 a = p->a, b = p->b, d = p->dur_ns;
	double w, cycles;

	switch (p->kind) {
	case SIM_WL_CONST:
		return a * t;
	case SIM_WL_STEP:
		if (t <= d)
			return a * t;
		return a * d + b * (t - d);
	case SIM_WL_RAMP:
		if (t <= d)
			return a * t + (b - a) * t * t / (2 * d);
		return a * d + (b - a) * d / 2 + b * (t - d);
	case SIM_WL_SINE:
		/* base*t + amp*P/(2pi)*(1 - cos(2pi t/P)), phase reduced per period */
		w = 2.0 * M_PI / (double)p->dur_ns;
		cycles = (double)(t % p->dur_ns);
		return a * t + (wl_i128)llround((double)p->b / w * (1.0 - cos(w * cycles)));
	case SIM_WL_LOAD:
		return a * t + (wl_i128)llround((double)p->b * load_integral / 1000.0);
	}
	return 0;
}

int64_t sim_wl_cpu_ns(const struct sim_wl_profile *p, int64_t t_ns, double load_integral)
{
	wl_i128 v;

	if (t_ns <= 0)
		return 0;
	v = integral(p, t_ns, load_integral) / 1000;
	if (v < 0)
		return 0;
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* ---- determinism helpers ------------------------------------------------ */

static uint64_t splitmix(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

uint64_t sim_wl_hash(uint64_t seed, const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(0x100000001b3);
	}
	return splitmix(h ^ splitmix(seed));
}

void sim_wl_default(struct sim_wl_profile *p, uint64_t h, int64_t lo, int64_t hi)
{
	p->kind = SIM_WL_CONST;
	p->a = lo + (hi > lo ? (int64_t)(h % (uint64_t)(hi - lo)) : 0);
	p->b = 0;
	p->dur_ns = 0;
}

int64_t sim_wl_noise(uint64_t h, int64_t bucket, int64_t amp)
{
	if (amp <= 0)
		return 0;
	return (int64_t)(splitmix(h ^ (uint64_t)bucket) % (uint64_t)(2 * amp + 1)) - amp;
}
