/*
 * unit.h - the end of every Check suite's main(): run the suite with
 * CK_NORMAL output, free the runner, turn the failure count into an exit
 * status (EXIT_SUCCESS only when every test passed).
 */
#ifndef TEST_UNIT_H
#define TEST_UNIT_H

#include <check.h>
#include <stdlib.h>

/* Runs s (the runner takes and frees it); the process exit status. */
static inline int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
