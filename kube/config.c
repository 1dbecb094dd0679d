/*
 * config.c - where kube-apiserver is and how to authenticate to it:
 * a kubeconfig file (read with libyaml; current-context only) or the
 * in-cluster service-account configuration.
 */
#include "kube/kube_int.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#define YAML_MAX_DEPTH 32
#define YAML_MAX_EVENTS 1000000
#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* What resolving one kubeconfig needs at hand. */
struct loader {
	yaml_document_t *doc;
	const char *path;   /* the kubeconfig, for messages */
	char *dir;          /* its folder: relative paths start there */
	char *err;
	size_t errlen;
};

static int fail(struct loader *ld, int rc, const char *fmt, ...) COMMON_PRINTF(3, 4);

static int fail(struct loader *ld, int rc, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(ld->err, ld->errlen, "kubeconfig %s: %s", ld->path, msg);
	return rc;
}

/* ---- bounded YAML ---------------------------------------------------- */

/* One event pass that rejects deep nesting and huge node counts before
 * the document loader builds a tree of them. */
static int check_shape(struct loader *ld, const char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, rc = 0;
	size_t events = 0;
	bool done = false;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!done && !rc) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = fail(ld, ERR_PARSE, "line %zu: %s", p.problem_mark.line + 1,
				  p.problem ? p.problem : "invalid YAML");
			break;
		}
		if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT)
			depth++;
		else if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT)
			depth--;
		done = ev.type == YAML_STREAM_END_EVENT;
		if (depth > YAML_MAX_DEPTH)
			rc = fail(ld, ERR_TOOBIG, "nested deeper than %d levels", YAML_MAX_DEPTH);
		else if (++events > YAML_MAX_EVENTS)
			rc = fail(ld, ERR_TOOBIG, "more than %d YAML nodes", YAML_MAX_EVENTS);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

/* Loads the document into ld->doc; on success the caller deletes it. */
static int load_doc(struct loader *ld, const char *buf, size_t len)
{
	yaml_parser_t p;
	int rc = 0;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&p, ld->doc)) { /* the loader freed the document */
		rc = fail(ld, ERR_PARSE, "line %zu: %s", p.problem_mark.line + 1,
			  p.problem ? p.problem : "invalid YAML");
	} else if (!yaml_document_get_root_node(ld->doc)) {
		yaml_document_delete(ld->doc);
		rc = fail(ld, ERR_PARSE, "empty document");
	}
	yaml_parser_delete(&p);
	return rc;
}

/* The scalar text of n; NULL for other nodes, nulls, "" and text with NULs. */
static const char *scalar(const yaml_node_t *n)
{
	const char *s;
	size_t len;

	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	s = (const char *)n->data.scalar.value;
	len = n->data.scalar.length;
	if (!len || strlen(s) != len)
		return NULL;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (!strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL")))
		return NULL;
	return s;
}

static yaml_node_t *map_get(struct loader *ld, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *pair;
	const char *k;

	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (pair = m->data.mapping.pairs.start; pair < m->data.mapping.pairs.top; pair++) {
		k = scalar(yaml_document_get_node(ld->doc, pair->key));
		if (k && !strcmp(k, key))
			return yaml_document_get_node(ld->doc, pair->value);
	}
	return NULL;
}

static const char *map_str(struct loader *ld, yaml_node_t *m, const char *key)
{
	return scalar(map_get(ld, m, key));
}

/* The `item` mapping of the entry of root[list] whose name is `name`. */
static yaml_node_t *find_named(struct loader *ld, const char *list, const char *name,
			       const char *item)
{
	yaml_node_t *seq = map_get(ld, yaml_document_get_root_node(ld->doc), list), *e;
	yaml_node_item_t *it;
	const char *n;

	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		e = yaml_document_get_node(ld->doc, *it);
		n = map_str(ld, e, "name");
		if (n && !strcmp(n, name))
			return map_get(ld, e, item);
	}
	return NULL;
}

/* ---- field readers ----------------------------------------------------- */

/* m[key] as a path, relative ones resolved against the kubeconfig's folder. */
static char *get_path(struct loader *ld, yaml_node_t *m, const char *key)
{
	const char *s = map_str(ld, m, key);

	if (!s)
		return NULL;
	if (s[0] == '/')
		return xstrdup(s);
	return xasprintf("%s/%s", ld->dir, s);
}

/* m[key] base64-decoded into *out (NUL-terminated PEM text); blanks in
 * the value (folded YAML) are dropped first. */
static int get_b64(struct loader *ld, yaml_node_t *m, const char *key, const char *owner,
		   char **out)
{
	const char *s = map_str(ld, m, key);
	char *clean, *dec = NULL;
	size_t i, n = 0, declen = 0;
	int rc = 0;

	*out = NULL;
	if (!s)
		return 0;
	clean = xmalloc(strlen(s) + 1);
	for (i = 0; s[i]; i++)
		if (s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
			clean[n++] = s[i];
	if (!n || base64_decode(clean, n, DYN_CONFIG_FILE, &dec, &declen) != 0 ||
	    memchr(dec, '\0', declen)) {
		rc = fail(ld, ERR_PARSE, "%s: %s is not valid base64 PEM data", owner, key);
		free(dec);
	} else {
		*out = dec;
	}
	free(clean);
	return rc;
}

static bool get_bool(struct loader *ld, yaml_node_t *m, const char *key)
{
	const char *s = map_str(ld, m, key);

	return s && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"));
}

/*
 * The `item` node of the entry of root[list] named `name` into *out, and
 * `item "name"` into owner for messages.  0, or ERR_NOTFOUND ("<owner> not
 * found") when there is none or, with want_mapping, it is not a mapping.
 */
static int find_entry(struct loader *ld, const char *list, const char *item, const char *name,
		      bool want_mapping, yaml_node_t **out, char *owner, size_t ownerlen)
{
	*out = find_named(ld, list, name, item);
	snprintf(owner, ownerlen, "%s \"%s\"", item, name);
	if (!*out || (want_mapping && (*out)->type != YAML_MAPPING_NODE))
		return fail(ld, ERR_NOTFOUND, "%s not found", owner);
	return 0;
}

static int read_cluster(struct loader *ld, const char *name, struct kube_config *cfg)
{
	yaml_node_t *c;
	char owner[300];
	const char *server;
	int rc = find_entry(ld, "clusters", "cluster", name, true, &c, owner, sizeof(owner));

	if (rc)
		return rc;
	server = map_str(ld, c, "server");
	if (!server)
		return fail(ld, ERR_NOTFOUND, "%s has no server", owner);
	if (strncmp(server, "https://", 8) && strncmp(server, "http://", 7))
		return fail(ld, ERR_INVAL, "%s: server \"%s\" is not an http(s) URL", owner, server);
	cfg->server = xstrdup(server);
	cfg->insecure_skip_tls_verify = get_bool(ld, c, "insecure-skip-tls-verify");
	rc = get_b64(ld, c, "certificate-authority-data", owner, &cfg->ca_data);
	if (rc)
		return rc;
	if (!cfg->ca_data)
		cfg->ca_file = get_path(ld, c, "certificate-authority");
	if (cfg->insecure_skip_tls_verify && (cfg->ca_data || cfg->ca_file))
		return fail(ld, ERR_INVAL,
			    "%s: specifying a root certificates file with the insecure flag is not "
			    "allowed", owner);
	return 0;
}

static int read_user(struct loader *ld, const char *name, struct kube_config *cfg)
{
	yaml_node_t *u;
	char owner[300];
	const char *tok;
	int rc = find_entry(ld, "users", "user", name, false, &u, owner, sizeof(owner));

	if (rc)
		return rc;
	if (map_get(ld, u, "exec") || map_get(ld, u, "auth-provider"))
		return fail(ld, ERR_INVAL, "%s: exec and auth-provider plugins are not supported",
			    owner);
	rc = get_b64(ld, u, "client-certificate-data", owner, &cfg->client_cert_data);
	if (!rc)
		rc = get_b64(ld, u, "client-key-data", owner, &cfg->client_key_data);
	if (rc)
		return rc;
	if (!cfg->client_cert_data)
		cfg->client_cert_file = get_path(ld, u, "client-certificate");
	if (!cfg->client_key_data)
		cfg->client_key_file = get_path(ld, u, "client-key");
	if (!(cfg->client_cert_data || cfg->client_cert_file) !=
	    !(cfg->client_key_data || cfg->client_key_file))
		return fail(ld, ERR_INVAL, "%s: client certificate and client key go together",
			    owner);
	tok = map_str(ld, u, "token");
	cfg->token = tok ? xstrdup(tok) : NULL;
	cfg->token_file = get_path(ld, u, "tokenFile");
	return 0;
}

/* current-context -> context -> cluster and user. */
static int resolve(struct loader *ld, struct kube_config *cfg)
{
	yaml_node_t *root = yaml_document_get_root_node(ld->doc), *ctx;
	const char *cur = map_str(ld, root, "current-context"), *cluster, *user;
	int rc;

	if (root->type != YAML_MAPPING_NODE)
		return fail(ld, ERR_PARSE, "not a YAML mapping");
	if (!cur)
		return fail(ld, ERR_NOTFOUND, "current-context is not set");
	ctx = find_named(ld, "contexts", cur, "context");
	if (!ctx)
		return fail(ld, ERR_NOTFOUND, "context \"%s\" not found", cur);
	cluster = map_str(ld, ctx, "cluster");
	if (!cluster)
		return fail(ld, ERR_NOTFOUND, "context \"%s\" has no cluster", cur);
	rc = read_cluster(ld, cluster, cfg);
	user = map_str(ld, ctx, "user");
	if (!rc && user)
		rc = read_user(ld, user, cfg);
	return rc;
}

static int load_kubeconfig(const char *path, struct kube_config *cfg, char *err, size_t errlen)
{
	yaml_document_t doc;
	struct loader ld = { .doc = &doc, .path = path, .err = err, .errlen = errlen };
	struct dynbuf b;
	char *copy = xstrdup(path);
	int rc;

	dynbuf_init(&b, DYN_CONFIG_FILE);
	ld.dir = xstrdup(dirname(copy));
	rc = dynbuf_read_file(&b, path);
	if (rc == ERR_TOOBIG) {
		fail(&ld, rc, "larger than %u bytes", DYN_CONFIG_FILE);
		goto out;
	}
	if (rc) {
		fail(&ld, rc, "cannot be read");
		goto out;
	}
	rc = check_shape(&ld, b.buf, b.len);
	if (rc)
		goto out;
	rc = load_doc(&ld, b.buf, b.len);
	if (rc)
		goto out;
	rc = resolve(&ld, cfg);
	yaml_document_delete(&doc);
out:
	dynbuf_clear(&b);
	free(ld.dir);
	free(copy);
	return rc;
}

/* ---- in-cluster ---------------------------------------------------------- */

static bool valid_port(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s >= '0' && *s <= '9' && !*end && v > 0 && v <= 65535;
}

static int load_incluster(struct kube_config *cfg, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *dir = getenv("KUBE_SA_DIR");

	if (!host || !*host || !port || !*port) {
		snprintf(err, errlen, "unable to load in-cluster configuration, "
			 "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined");
		return ERR_NOTFOUND;
	}
	if (strpbrk(host, "/@[] \t\r\n") || strlen(host) > 253 || !valid_port(port)) {
		snprintf(err, errlen, "in-cluster configuration: invalid KUBERNETES_SERVICE_HOST "
			 "or KUBERNETES_SERVICE_PORT");
		return ERR_INVAL;
	}
	if (!dir || !*dir)
		dir = SA_DIR;
	cfg->server = xasprintf(strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
				port);
	cfg->token_file = xasprintf("%s/token", dir);
	if (access(cfg->token_file, R_OK)) {
		snprintf(err, errlen, "in-cluster configuration: cannot read %s", cfg->token_file);
		kube_config_clear(cfg);
		return ERR_IO;
	}
	cfg->ca_file = xasprintf("%s/ca.crt", dir);
	if (access(cfg->ca_file, R_OK)) {
		log_warn("expected to load root CA config from %s, but cannot read it",
			 cfg->ca_file);
		free(cfg->ca_file);
		cfg->ca_file = NULL;
	}
	return 0;
}

int kube_config_load(const char *path, struct kube_config *cfg, char *err, size_t errlen)
{
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (!path || !*path)
		return load_incluster(cfg, err, errlen);
	rc = load_kubeconfig(path, cfg, err, errlen);
	if (rc)
		kube_config_clear(cfg);
	return rc;
}

void kube_config_clear(struct kube_config *cfg)
{
	free(cfg->server);
	free(cfg->ca_file);
	free(cfg->ca_data);
	free(cfg->client_cert_file);
	free(cfg->client_key_file);
	free(cfg->client_cert_data);
	free(cfg->client_key_data);
	free(cfg->token);
	free(cfg->token_file);
	memset(cfg, 0, sizeof(*cfg));
}
