/* uuid.c - random (version 4, RFC 4122) UUIDs, as Go's uuid.New() makes
 * the apiserver's audit IDs. */
#include "common/common.h"

#include <gnutls/crypto.h>
#include <string.h>

void uuid_new(char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char u[16];
	size_t k = 0;

	if (gnutls_rnd(GNUTLS_RND_NONCE, u, sizeof(u)) != 0)
		memset(u, 0, sizeof(u)); /* cannot happen once GnuTLS is initialised */
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	for (size_t i = 0; i < sizeof(u); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		out[k++] = hex[u[i] >> 4];
		out[k++] = hex[u[i] & 15];
	}
	out[k] = '\0';
}
