/*
 * main.c - the metrics-apiserver binary: `metrics-apiserver hpa explain ...`
 * runs the autoscaler offline (hpa_explain.c), `metrics-apiserver config
 * check -f FILE` checks a prometheus-adapter config (config_check.c); anything else is the
 * server (server_run of server/).
 */
#include <string.h>

#include "cmd/cmd.h"
#include "server/server.h"

int main(int argc, char **argv)
{
	/* as before the split: "hpa" takes "explain" as argv[0] of the CLI */
	if (argc > 1 && strcmp(argv[1], "hpa") == 0)
		return cmd_hpa_explain(argc - 2, argv + 2);
	if (argc > 1 && strcmp(argv[1], "config") == 0)
		return cmd_config_check(argc - 2, argv + 2);
	return server_run(argc, argv);
}
