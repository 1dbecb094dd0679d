/*
 * hash.c - FNV-1a, the one string hash of the tree (hash tables of store/,
 * series/, the expfmt parser and custom/ all use it).
 */
#include "common/common.h"

#define FNV_PRIME UINT64_C(1099511628211)

uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * FNV_PRIME;
	return h;
}

uint64_t hash_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * FNV_PRIME;
	return h * FNV_PRIME; /* the NUL: ("a","bc") and ("ab","c") differ */
}
