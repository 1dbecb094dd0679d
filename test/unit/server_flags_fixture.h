/*
 * server_flags_fixture.h - helpers of check_server_flags and
 * check_server_flags_oracle: a server_config `cfg` parsed from argument
 * lists, the error text `err`, and assertions on parse and validation
 * errors.  Each helper fails the running test on error.
 */
#ifndef TEST_UNIT_SERVER_FLAGS_FIXTURE_H
#define TEST_UNIT_SERVER_FLAGS_FIXTURE_H

#include <stdbool.h>

#include "server/server.h"

extern struct server_config cfg;
extern char err[512];

/* Check fixture: cfg with its defaults, err empty; teardown clears cfg. */
void setup(void);
void teardown(void);

/*
 * server_flags_parse() of the NULL-terminated arguments (argv[0] added,
 * 30 at most) into cfg: into a fresh cfg (its defaults) when fresh, else
 * into cfg as it is (each call adds to the flags before it, as a longer
 * command line would).
 */
int parse_args(bool fresh, const char *first, ...);

/* rc is ERR_INVAL and err is want. */
void assert_parse_error(int rc, const char *want);
/* server_config_validate(&cfg) fails with want. */
void assert_invalid(const char *want);

#endif
