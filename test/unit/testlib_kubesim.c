/*
 * testlib_kubesim.c - the real kubesim as a child process of a Check
 * suite (check_kube_lease, check_server_authz): started from the build
 * folder next to the running test binary, so build/ and build-asan/ each
 * use their own; and a kube client of it.
 */
#define _XOPEN_SOURCE 700
#include "test/unit/testlib.h"

#include <arpa/inet.h>
#include <check.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "kube/kube.h"

int testlib_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* <folder of this test binary>/../kubesim */
static char *kubesim_path(void)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	return xasprintf("%s/../kubesim", exe);
}

pid_t testlib_kubesim_start(char *dir, int nodes, int pods, const char *config, char *url,
			    size_t urllen)
{
	char *bin = kubesim_path(), *cfg = NULL, port[16], parent[16], nodes_s[16], pods_s[16];
	char line[512] = "";
	int fds[2];
	FILE *out;
	pid_t pid;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	if (config) {
		FILE *f;

		cfg = xasprintf("%s/cluster.yaml", dir);
		f = fopen(cfg, "w");
		ck_assert_ptr_nonnull(f);
		fputs(config, f);
		ck_assert_int_eq(fclose(f), 0);
	}
	snprintf(port, sizeof(port), "%d", testlib_free_port());
	snprintf(parent, sizeof(parent), "%d", (int)getpid());
	snprintf(nodes_s, sizeof(nodes_s), "%d", nodes);
	snprintf(pods_s, sizeof(pods_s), "%d", pods);
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execl(bin, bin, "--dir", dir, "--nodes", nodes_s, "--pods-per-node", pods_s,
		      "--kubelet-port", port, "--parent-pid", parent, cfg ? "--config" : (char *)NULL,
		      cfg, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	out = fdopen(fds[0], "r");
	ck_assert_ptr_nonnull(out);
	/* kubesim prints one line when ready (or exits: EOF) */
	ck_assert_msg(fgets(line, sizeof(line), out) != NULL, "%s did not start", bin);
	ck_assert_msg(strncmp(line, "kubesim ready server=", 21) == 0, "%s", line);
	if (url && urllen)
		snprintf(url, urllen, "%.*s", (int)strcspn(line + 21, " \n"), line + 21);
	fclose(out);
	free(cfg);
	free(bin);
	return pid;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

void testlib_kubesim_stop(pid_t pid, char *dir)
{
	size_t len = strlen(dir);

	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	if (nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	if (len >= 6)
		memcpy(dir + len - 6, "XXXXXX", 6); /* a template again, for the next test */
}

struct kube_client *testlib_kubesim_client(const char *dir, const char *server)
{
	struct kube_config kc;
	struct kube_client *c;
	char err[256], *path = xasprintf("%s/kubeconfig", dir);

	ck_assert_msg(kube_config_load(path, &kc, err, sizeof(err)) == 0, "%s", err);
	free(path);
	if (server) {
		free(kc.server);
		kc.server = xstrdup(server);
	}
	c = kube_client_new(&kc);
	kube_config_clear(&kc);
	ck_assert_ptr_nonnull(c);
	return c;
}
