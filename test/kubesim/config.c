/*
 * config.c - kubesim's command line and its optional YAML config file
 * (extra namespaces, deployments, pods, configmaps, and the reviews
 * `policy`, kept as JSON in cfg.extra).
 */
#include "test/kubesim/apiserver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_NODES 100000
#define MAX_PODS_PER_NODE 1000
#define MAX_RING 10000000

static const char usage[] =
	"usage: kubesim --dir DIR [--port N] [--bind ADDR] [--nodes N] [--pods-per-node M]\n"
	"               [--seed S] [--kubelet-port N] [--kubelet-cert-mode "
	"cluster-ca|no-ip-san|self-signed]\n"
	"               [--kubelet-client-auth[=BOOL]] [--config FILE] [--pod-start-delay DUR]\n"
	"               [--pod-ready-delay DUR] [--parent-pid PID] [--token TOKEN]\n"
	"               [--watch-cache-size N] [--rbac-enforce USER-PREFIX] [-v N]";

static int parse_int(const char *name, const char *v, long long min, long long max,
		     long long *out, char *err, size_t errlen)
{
	char *end;

	errno = 0;
	*out = strtoll(v, &end, 10);
	if (!*v || errno || *end || *out < min || *out > max) {
		snprintf(err, errlen, "invalid value %s for --%s: want an integer in [%lld, %lld]", v,
			 name, min, max);
		return ERR_INVAL;
	}
	return ERR_OK;
}

static int parse_duration(const char *name, const char *v, int64_t *out, char *err,
			  size_t errlen)
{
	if (parse_go_duration(v, out) != ERR_OK || *out < 0) {
		snprintf(err, errlen, "invalid value %s for --%s: want a duration like 2s or 500ms",
			 v, name);
		return ERR_INVAL;
	}
	return ERR_OK;
}

static char *random_token(void)
{
	unsigned char raw[24];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, raw, sizeof(raw)) : -1;
	char *b64, *p;

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(raw)) {
		uint64_t state = (uint64_t)clock_mono_ns() ^ (uint64_t)getpid();
		size_t i;

		for (i = 0; i < sizeof(raw); i++)
			raw[i] = (unsigned char)sim_rand_next(&state);
	}
	b64 = base64_encode(raw, sizeof(raw));
	for (p = b64; *p; p++)
		if (*p == '+' || *p == '/')
			*p = 'x';
	return b64;
}

/* An integer flag; ERR_NOTFOUND when name is not one. */
static int apply_int_option(struct sim_config *cfg, const char *name, const char *v, char *err,
			    size_t errlen)
{
	static const struct {
		const char *name;
		long long min, max;
		size_t off;
	} ints[] = {
		{ "port", 0, 65535, offsetof(struct sim_config, port) },
		{ "kubelet-port", 1, 65535, offsetof(struct sim_config, kubelet_port) },
		{ "nodes", 0, MAX_NODES, offsetof(struct sim_config, nodes) },
		{ "pods-per-node", 0, MAX_PODS_PER_NODE, offsetof(struct sim_config, pods_per_node) },
		{ "parent-pid", 0, 1 << 30, offsetof(struct sim_config, parent_pid) },
		{ "v", 0, 10, offsetof(struct sim_config, verbosity) },
	};
	long long x;
	size_t i;

	for (i = 0; i < COMMON_ARRAY_LEN(ints); i++) {
		if (strcmp(name, ints[i].name) != 0)
			continue;
		if (parse_int(name, v, ints[i].min, ints[i].max, &x, err, errlen))
			return ERR_INVAL;
		*(int *)(void *)((char *)cfg + ints[i].off) = (int)x;
		return ERR_OK;
	}
	return ERR_NOTFOUND;
}

static int apply_option(struct sim_config *cfg, const char *name, const char *v, char *err,
			size_t errlen)
{
	long long x;
	int rc = apply_int_option(cfg, name, v, err, errlen);

	if (rc != ERR_NOTFOUND)
		return rc;
	if (strcmp(name, "dir") == 0) {
		free(cfg->dir);
		cfg->dir = xstrdup(v);
	} else if (strcmp(name, "bind") == 0) {
		free(cfg->bind);
		cfg->bind = xstrdup(v);
	} else if (strcmp(name, "config") == 0) {
		free(cfg->config_file);
		cfg->config_file = xstrdup(v);
	} else if (strcmp(name, "token") == 0) {
		free(cfg->token);
		cfg->token = xstrdup(v);
	} else if (strcmp(name, "rbac-enforce") == 0) {
		free(cfg->rbac_enforce);
		cfg->rbac_enforce = xstrdup(v);
	} else if (strcmp(name, "seed") == 0) {
		if (parse_int(name, v, 0, INT64_MAX, &x, err, errlen))
			return ERR_INVAL;
		cfg->seed = (uint64_t)x;
	} else if (strcmp(name, "watch-cache-size") == 0) {
		if (parse_int(name, v, 1, MAX_RING, &x, err, errlen))
			return ERR_INVAL;
		cfg->watch_cache_size = (size_t)x;
	} else if (strcmp(name, "pod-start-delay") == 0) {
		return parse_duration(name, v, &cfg->pod_start_delay_ns, err, errlen);
	} else if (strcmp(name, "pod-ready-delay") == 0) {
		return parse_duration(name, v, &cfg->pod_ready_delay_ns, err, errlen);
	} else if (strcmp(name, "kubelet-cert-mode") == 0) {
		if (strcmp(v, "cluster-ca") == 0)
			cfg->kubelet_cert_mode = SIM_CERT_CLUSTER_CA;
		else if (strcmp(v, "no-ip-san") == 0)
			cfg->kubelet_cert_mode = SIM_CERT_NO_IP_SAN;
		else if (strcmp(v, "self-signed") == 0)
			cfg->kubelet_cert_mode = SIM_CERT_SELF_SIGNED;
		else
			goto bad;
	} else if (strcmp(name, "kubelet-client-auth") == 0) {
		if (strcmp(v, "true") && strcmp(v, "false"))
			goto bad;
		cfg->kubelet_client_auth = strcmp(v, "true") == 0;
	} else {
		snprintf(err, errlen, "unknown flag --%s\n%s", name, usage);
		return ERR_INVAL;
	}
	return ERR_OK;
bad:
	snprintf(err, errlen, "invalid value %s for --%s", v, name);
	return ERR_INVAL;
}

static int load_config_file(struct sim_config *cfg, char *err, size_t errlen)
{
	struct dynbuf b;
	int rc;

	dynbuf_init(&b, DYN_CONFIG_FILE);
	rc = dynbuf_read_file(&b, cfg->config_file);
	if (rc) {
		snprintf(err, errlen, "cannot read --config %s: %s", cfg->config_file, err_str(rc));
		goto out;
	}
	cfg->extra = yamldoc_to_json(b.buf, b.len, err, errlen);
	if (!json_is_object(cfg->extra)) {
		if (cfg->extra)
			snprintf(err, errlen, "--config %s: the document must be a mapping",
				 cfg->config_file);
		json_decref(cfg->extra);
		cfg->extra = NULL;
		rc = ERR_INVAL;
	}
out:
	dynbuf_clear(&b);
	return rc;
}

static void set_defaults(struct sim_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->bind = xstrdup("127.0.0.1");
	cfg->kubelet_port = 10250;
	cfg->nodes = 3;
	cfg->pods_per_node = 5;
	cfg->seed = 1;
	cfg->pod_start_delay_ns = 500 * NS_PER_MS;
	cfg->pod_ready_delay_ns = 500 * NS_PER_MS;
}

int sim_config_parse(struct sim_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	int i, rc = ERR_OK;

	set_defaults(cfg);
	for (i = 1; i < argc && !rc; i++) {
		const char *a = argv[i], *eq;
		char *name;

		if (strncmp(a, "--", 2) != 0 && strcmp(a, "-v") != 0) {
			snprintf(err, errlen, "unexpected argument %s\n%s", a, usage);
			return ERR_INVAL;
		}
		a += a[1] == '-' ? 2 : 1;
		eq = strchr(a, '=');
		name = eq ? xstrndup(a, (size_t)(eq - a)) : xstrdup(a);
		if (eq)
			rc = apply_option(cfg, name, eq + 1, err, errlen);
		else if (strcmp(name, "kubelet-client-auth") == 0)
			rc = apply_option(cfg, name, "true", err, errlen);
		else if (i + 1 < argc)
			rc = apply_option(cfg, name, argv[++i], err, errlen);
		else {
			snprintf(err, errlen, "flag --%s needs a value", name);
			rc = ERR_INVAL;
		}
		free(name);
	}
	if (!rc && !cfg->dir) {
		snprintf(err, errlen, "--dir is required\n%s", usage);
		rc = ERR_INVAL;
	}
	if (!rc && cfg->config_file)
		rc = load_config_file(cfg, err, errlen);
	if (!rc && !cfg->token)
		cfg->token = random_token();
	return rc;
}

void sim_config_clear(struct sim_config *cfg)
{
	free(cfg->dir);
	free(cfg->bind);
	free(cfg->config_file);
	free(cfg->token);
	free(cfg->rbac_enforce);
	json_decref(cfg->extra);
	memset(cfg, 0, sizeof(*cfg));
}
