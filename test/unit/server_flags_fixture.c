/* server_flags_fixture.c - see server_flags_fixture.h. */
#include "test/unit/server_flags_fixture.h"

#include <check.h>
#include <stdarg.h>

struct server_config cfg;
char err[512];

void setup(void)
{
	server_config_init(&cfg);
	err[0] = '\0';
}

void teardown(void)
{
	server_config_clear(&cfg);
}

int parse_args(bool fresh, const char *first, ...)
{
	char *argv[32] = { "metrics-apiserver" };
	int argc = 1;
	va_list ap;

	va_start(ap, first);
	for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	if (fresh) {
		server_config_clear(&cfg);
		server_config_init(&cfg);
	}
	return server_flags_parse(&cfg, argc, argv, err, sizeof(err));
}

void assert_parse_error(int rc, const char *want)
{
	ck_assert_int_eq(rc, ERR_INVAL);
	ck_assert_str_eq(err, want);
}

void assert_invalid(const char *want)
{
	ck_assert_int_eq(server_config_validate(&cfg, err, sizeof(err)), ERR_INVAL);
	ck_assert_str_eq(err, want);
}
