/* util.c - small helpers of kubesim: JSON strings, Accept clauses, names, uids. */
#include "test/kubesim/apiserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sim_json_quote(struct dynbuf *b, const char *s)
{
	json_t *str = json_string(s ? s : "");
	char *enc = str ? json_dumps(str, JSON_ENCODE_ANY) : NULL;
	int rc = enc ? dynbuf_addstr(b, enc) : ERR_INVAL;

	free(enc);
	json_decref(str);
	return rc;
}

const char *sim_json_str(const json_t *obj, const char *path)
{
	const char *s = jpath_str(obj, path);

	return s ? s : "";
}

/* Whether clause contains key=value (as a substring, like the callers did). */
static bool clause_has(const char *clause, const char *key, const char *value)
{
	char want[128];

	snprintf(want, sizeof(want), "%s=%s", key, value);
	return strstr(clause, want) != NULL;
}

int sim_accept_version(const struct sim_request *req, const char *as, const char *group,
		       const char *const *versions, size_t nversions)
{
	const char *p = sim_request_header(req, "Accept");

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char *clause = xstrndup(p, n);
		int found = -1;

		if (clause_has(clause, "as", as) && clause_has(clause, "g", group))
			for (size_t i = 0; i < nversions && found < 0; i++)
				if (clause_has(clause, "v", versions[i]))
					found = (int)i;
		free(clause);
		if (found >= 0)
			return found;
		p = end ? end + 1 : NULL;
	}
	return -1;
}

uint64_t sim_rand_next(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x2545f4914f6cdd1dULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

void sim_rand_suffix(uint64_t *state, char *buf, size_t n)
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = alphabet[sim_rand_next(state) % (sizeof(alphabet) - 1)];
	buf[n] = '\0';
}

void sim_uid(uint64_t n, char *buf, size_t len)
{
	uint64_t h = n * 0x9e3779b97f4a7c15ULL, state = h ^ 0xda942042e4dd58b5ULL;
	uint64_t r = sim_rand_next(&state);

	snprintf(buf, len, "%08llx-%04llx-4%03llx-8%03llx-%012llx",
		 (unsigned long long)(h >> 32), (unsigned long long)(h >> 16 & 0xffff),
		 (unsigned long long)(r >> 52), (unsigned long long)(r >> 40 & 0xfff),
		 (unsigned long long)(n & 0xffffffffffffULL));
}
