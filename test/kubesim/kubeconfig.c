/*
 * kubeconfig.c - kubesim's TLS material and client configuration: the
 * cluster CA, an admin client certificate (CN kubesim-admin, O
 * system:masters), the front-proxy CA and client certificate, a bearer
 * token, and DIR/kubeconfig with the certificates embedded.
 *
 * Files in DIR: ca.crt ca.key admin.crt admin.key front-proxy-ca.crt
 * front-proxy-ca.key front-proxy-client.crt front-proxy-client.key token
 * kubeconfig (keys, token and kubeconfig are 0600).
 */
#include "test/kubesim/apiserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes DIR/name. */
static int write_in_dir(const char *dir, const char *name, const char *text, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	int rc = certs_write_file(path, text, mode);

	free(path);
	return rc;
}

static int write_pair(const char *dir, const char *base, const struct certs_pair *p)
{
	char name[64];
	int rc;

	snprintf(name, sizeof(name), "%s.crt", base);
	rc = write_in_dir(dir, name, p->cert_pem, 0644);
	snprintf(name, sizeof(name), "%s.key", base);
	return rc ? rc : write_in_dir(dir, name, p->key_pem, 0600);
}

static int make_pair(const char *cn, const char *org, bool ca, const struct certs_pair *issuer,
		     struct certs_pair *out, char *err, size_t errlen)
{
	const char *orgs[] = { org };
	struct certs_spec spec = { .cn = cn, .orgs = orgs, .norgs = org ? 1 : 0, .is_ca = ca,
				   .client_auth = !ca, .days = 3650 };

	return certs_create(&spec, issuer, out, err, errlen);
}

int sim_kubeconfig_setup(struct sim_cluster *c, char *err, size_t errlen)
{
	const char *dir = c->cfg.dir;
	int rc;

	if (mkdir(dir, 0700) != 0 && access(dir, W_OK) != 0) {
		snprintf(err, errlen, "cannot create --dir %s", dir);
		return ERR_IO;
	}
	rc = make_pair("kubesim-ca", NULL, true, NULL, &c->ca, err, errlen);
	if (!rc)
		rc = make_pair("kubesim-admin", "system:masters", false, &c->ca, &c->admin_client,
			       err, errlen);
	if (!rc)
		rc = make_pair("kubesim-front-proxy-ca", NULL, true, NULL, &c->front_proxy_ca, err,
			       errlen);
	if (!rc)
		rc = make_pair("front-proxy-client", NULL, false, &c->front_proxy_ca,
			       &c->front_proxy_client, err, errlen);
	if (rc)
		return rc;
	rc = write_pair(dir, "ca", &c->ca);
	if (!rc)
		rc = write_pair(dir, "admin", &c->admin_client);
	if (!rc)
		rc = write_pair(dir, "front-proxy-ca", &c->front_proxy_ca);
	if (!rc)
		rc = write_pair(dir, "front-proxy-client", &c->front_proxy_client);
	if (!rc)
		rc = write_in_dir(dir, "token", c->cfg.token, 0600);
	if (rc)
		snprintf(err, errlen, "cannot write certificates into %s", dir);
	return rc;
}

int sim_kubeconfig_write(const struct sim_cluster *c)
{
	char *ca = base64_encode(c->ca.cert_pem, strlen(c->ca.cert_pem));
	char *crt = base64_encode(c->admin_client.cert_pem, strlen(c->admin_client.cert_pem));
	char *key = base64_encode(c->admin_client.key_pem, strlen(c->admin_client.key_pem));
	char *text = xasprintf(
		"apiVersion: v1\n"
		"kind: Config\n"
		"clusters:\n"
		"- cluster:\n"
		"    certificate-authority-data: %s\n"
		"    server: %s\n"
		"  name: kubesim\n"
		"contexts:\n"
		"- context:\n"
		"    cluster: kubesim\n"
		"    user: kubesim-admin\n"
		"  name: kubesim\n"
		"- context:\n"
		"    cluster: kubesim\n"
		"    user: kubesim-token\n"
		"  name: kubesim-token\n"
		"current-context: kubesim\n"
		"preferences: {}\n"
		"users:\n"
		"- name: kubesim-admin\n"
		"  user:\n"
		"    client-certificate-data: %s\n"
		"    client-key-data: %s\n"
		"- name: kubesim-token\n"
		"  user:\n"
		"    token: %s\n",
		ca, c->server_url, crt, key, c->cfg.token);
	int rc = write_in_dir(c->cfg.dir, "kubeconfig", text, 0600);

	free(text);
	free(ca);
	free(crt);
	free(key);
	return rc;
}
