/*
 * aggregator.c - the registry of APIService objects (apiregistration.k8s.io/v1),
 * fed by store events, plus validation, configuration and lifetime.
 *
 * Backend address.  kubesim has no kube-proxy and no Endpoints, so
 * spec.service is resolved like this (aggregator_loop.c):
 *   1. the APIService annotation `kubesim.io/endpoint: "127.0.0.1:PORT"`
 *      names the backend directly (tests and the demo use this);
 *   2. otherwise the Service <namespace>/<name> must exist in the store and
 *      list spec.service.port; the backend is then spec.clusterIP:port, so
 *      the clusterIP must be a loopback address the backend listens on.
 * TLS still uses the name <service>.<namespace>.svc (SNI and verification).
 *
 * Timing: the availability controller re-checks every APIService every
 * resync period (default 30s; `aggregator.resyncPeriod` in the kubesim
 * config or the KUBESIM_AGGREGATOR_RESYNC environment variable, a Go
 * duration; "0s" turns the background loop off for tests) and refreshes
 * discovery when older than `aggregator.discoveryPeriod` (default 1m).
 */
#include "test/kubesim/aggregator_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_RESYNC_NS (30 * NS_PER_SEC)
#define DEFAULT_DISCOVERY_NS (60 * NS_PER_SEC)
#define MAX_CA_BUNDLE (1u << 20)

/* ---- small JSON helpers -------------------------------------------------- */

/* The endpoint annotation of obj, or "" (its key has dots: not a path). */
static const char *endpoint_annotation(const json_t *obj)
{
	const char *s = json_string_value(
		json_object_get(jpath_object(obj, "metadata.annotations"), SIM_AGG_ENDPOINT_ANNOTATION));

	return s ? s : "";
}

/* Decodes a caBundle (standard base64, Go's []byte JSON form) of at most
 * 2 MiB of text. New NUL-terminated string or NULL. */
static char *decode_ca_bundle(const char *b64)
{
	size_t len = strlen(b64), n;
	char *pem;

	if (len > MAX_CA_BUNDLE * 2 || base64_decode(b64, len, MAX_CA_BUNDLE * 2, &pem, &n) != 0)
		return NULL;
	return pem;
}

/* ---- validation ---------------------------------------------------------- */

static void add_field_error(struct dynbuf *b, int *n, const char *path, const char *value,
			    const char *detail)
{
	if (dynbuf_printf(b, "%s%s: Invalid value: %s: %s", *n ? ", " : "", path, value,
			  detail))
		return;
	(*n)++;
}

static void validate_priorities(const json_t *spec, struct dynbuf *b, int *n)
{
	json_int_t gp = json_integer_value(json_object_get(spec, "groupPriorityMinimum"));
	json_int_t vp = json_integer_value(json_object_get(spec, "versionPriority"));
	char v[32];

	if (gp <= 0 || gp > 20000) {
		snprintf(v, sizeof(v), "%lld", (long long)gp);
		add_field_error(b, n, "spec.groupPriorityMinimum", v,
				"must be positive and less than 20000");
	}
	if (vp <= 0 || vp > 1000) {
		snprintf(v, sizeof(v), "%lld", (long long)vp);
		add_field_error(b, n, "spec.versionPriority", v,
				"must be positive and less than 1000");
	}
}

static void validate_service(const json_t *spec, struct dynbuf *b, int *n)
{
	const json_t *svc = json_object_get(spec, "service");
	const char *ca = sim_json_str(spec, "caBundle");
	bool insecure = json_is_true(json_object_get(spec, "insecureSkipTLSVerify"));
	json_t *port;
	char v[64];
	char *pem;

	if (!json_is_object(svc)) {
		if (*ca)
			add_field_error(b, n, "spec.caBundle", "\"<bytes>\"",
					"local APIServices may not have a caBundle");
		if (insecure)
			add_field_error(b, n, "spec.insecureSkipTLSVerify", "true",
					"local APIServices may not have insecureSkipTLSVerify");
		return;
	}
	if (insecure && *ca)
		add_field_error(b, n, "spec.insecureSkipTLSVerify", "true",
				"may not be true if caBundle is present");
	if (!*sim_json_str(svc, "name") || !*sim_json_str(svc, "namespace"))
		add_field_error(b, n, "spec.service", "\"\"", "name and namespace are required");
	port = json_object_get(svc, "port");
	if (port && (!json_is_integer(port) || json_integer_value(port) < 1 ||
		     json_integer_value(port) > 65535)) {
		snprintf(v, sizeof(v), "%lld", (long long)json_integer_value(port));
		add_field_error(b, n, "spec.service.port", v,
				"port is not valid: must be between 1 and 65535, inclusive");
	}
	if (*ca) {
		pem = decode_ca_bundle(ca);
		if (!pem)
			add_field_error(b, n, "spec.caBundle", "\"<bytes>\"",
					"illegal base64 data");
		free(pem);
	}
}

int sim_aggregator_validate(const json_t *obj, char *err, size_t errlen)
{
	const json_t *spec = json_object_get(obj, "spec");
	const char *name = sim_json_str(obj, "metadata.name");
	const char *group = sim_json_str(spec, "group");
	const char *version = sim_json_str(spec, "version");
	struct dynbuf b;
	char *want, *quoted;
	int n = 0;

	dynbuf_init(&b, DYN_SMALL);
	want = xasprintf("%s.%s", version, group);
	if (strcmp(name, want) != 0) {
		quoted = xasprintf("\"%s\"", name);
		free(want);
		want = xasprintf("must be `spec.version+\".\"+spec.group`: \"%s.%s\"", version,
				 group);
		add_field_error(&b, &n, "metadata.name", quoted, want);
		free(quoted);
	}
	free(want);
	if (!*version)
		add_field_error(&b, &n, "spec.version", "\"\"", "version is required");
	if (!*group && strcmp(version, "v1") != 0)
		add_field_error(&b, &n, "spec.group", "\"\"",
				"only v1 may have an empty group and it better be legacy kube");
	validate_priorities(spec, &b, &n);
	validate_service(spec, &b, &n);
	if (n)
		snprintf(err, errlen, "APIService.apiregistration.k8s.io \"%s\" is invalid: %s%s%s",
			 name, n > 1 ? "[" : "", b.buf ? b.buf : "", n > 1 ? "]" : "");
	dynbuf_clear(&b);
	return n ? ERR_INVAL : 0;
}

/* ---- entries ------------------------------------------------------------- */

static void entry_free(struct agg_entry *e)
{
	if (!e)
		return;
	if (e->ca_path)
		unlink(e->ca_path);
	free(e->name);
	free(e->sig);
	free(e->group);
	free(e->version);
	free(e->svc_ns);
	free(e->svc_name);
	free(e->annotated_endpoint);
	free(e->ca_path);
	free(e->endpoint);
	json_decref(e->disc_resources);
	free(e);
}

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

static char *spec_signature(const json_t *obj)
{
	char *spec = json_dumps(json_object_get(obj, "spec"), JSON_COMPACT | JSON_SORT_KEYS);
	const char *ann = endpoint_annotation(obj);
	char *sig = xasprintf("%s\n%s", spec ? spec : "", ann);

	free(spec);
	return sig;
}

static bool condition_available(const json_t *obj)
{
	const json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions");
	const json_t *c;
	size_t i;

	json_array_foreach(conds, i, c) {
		if (strcmp(sim_json_str(c, "type"), "Available") == 0)
			return strcmp(sim_json_str(c, "status"), "True") == 0;
	}
	return false;
}

/* Writes the decoded caBundle to a file of its own; caller holds a->mu. */
static char *write_ca_file(struct sim_aggregator *a, const char *b64)
{
	char *pem = decode_ca_bundle(b64);
	char *path = NULL;

	if (!pem)
		return NULL;
	path = xasprintf("%s/ca-%zu.pem", a->tmpdir, a->next_ca_file++);
	if (certs_write_file(path, pem, 0644)) {
		log_warn("aggregator: cannot write %s", path);
		free(path);
		path = NULL;
	}
	free(pem);
	return path;
}

/* Builds a fresh entry from a valid object; caller holds a->mu. */
static struct agg_entry *entry_new(struct sim_aggregator *a, const json_t *obj)
{
	const json_t *spec = json_object_get(obj, "spec");
	const json_t *svc = json_object_get(spec, "service");
	struct agg_entry *e = xcalloc(1, sizeof(*e));
	json_t *port = json_object_get(svc, "port");

	e->name = xstrdup(sim_json_str(obj, "metadata.name"));
	e->sig = spec_signature(obj);
	e->group = xstrdup(sim_json_str(spec, "group"));
	e->version = xstrdup(sim_json_str(spec, "version"));
	if (json_is_object(svc)) {
		e->svc_ns = xstrdup(sim_json_str(svc, "namespace"));
		e->svc_name = xstrdup(sim_json_str(svc, "name"));
	}
	e->port = port ? (int)json_integer_value(port) : 443;
	e->annotated_endpoint = dup_or_null(endpoint_annotation(obj));
	e->insecure = json_is_true(json_object_get(spec, "insecureSkipTLSVerify"));
	if (*sim_json_str(spec, "caBundle"))
		e->ca_path = write_ca_file(a, sim_json_str(spec, "caBundle"));
	e->group_priority = (int)json_integer_value(json_object_get(spec, "groupPriorityMinimum"));
	e->version_priority = (int)json_integer_value(json_object_get(spec, "versionPriority"));
	e->available = condition_available(obj);
	e->gen = ++a->next_gen;
	return e;
}

struct agg_entry *sim_agg_find(struct sim_aggregator *a, const char *group, const char *version)
{
	size_t i;

	for (i = 0; i < a->nentries; i++) {
		if (strcmp(a->entries[i]->group, group) == 0 &&
		    strcmp(a->entries[i]->version, version) == 0)
			return a->entries[i];
	}
	return NULL;
}

static size_t find_by_name(struct sim_aggregator *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nentries; i++) {
		if (strcmp(a->entries[i]->name, name) == 0)
			return i;
	}
	return SIZE_MAX;
}

static void remove_at(struct sim_aggregator *a, size_t i)
{
	entry_free(a->entries[i]);
	a->entries[i] = a->entries[--a->nentries];
}

/* Adds or refreshes one object; caller holds a->mu. only_new: keep an
 * existing entry untouched (initial list after subscribing). */
static void upsert(struct sim_aggregator *a, const json_t *obj, bool only_new)
{
	const char *name = sim_json_str(obj, "metadata.name");
	size_t i = find_by_name(a, name);
	struct agg_entry *e;
	char err[512];
	char *sig;

	if (sim_aggregator_validate(obj, err, sizeof(err))) {
		log_warn("aggregator: ignoring APIService: %s", err);
		if (i != SIZE_MAX)
			remove_at(a, i);
		return;
	}
	if (i != SIZE_MAX) {
		if (only_new)
			return;
		e = a->entries[i];
		sig = spec_signature(obj);
		if (strcmp(sig, e->sig) == 0) { /* status or metadata only */
			e->available = condition_available(obj);
			free(sig);
			return;
		}
		free(sig);
		remove_at(a, i);
	}
	if (a->nentries >= SIM_AGG_MAX_ENTRIES) {
		log_warn("aggregator: more than %d APIServices, ignoring %s", SIM_AGG_MAX_ENTRIES,
			 name);
		return;
	}
	e = entry_new(a, obj);
	a->entries = xrealloc(a->entries, (a->nentries + 1) * sizeof(*a->entries));
	a->entries[a->nentries++] = e;
	pthread_cond_signal(&a->cv);
}

static void on_apiservice(void *ud, enum sim_event ev, const char *resource, const json_t *obj)
{
	struct sim_aggregator *a = ud;
	size_t i;

	pthread_mutex_lock(&a->mu);
	if (ev == SIM_DELETED) {
		i = find_by_name(a, sim_json_str(obj, "metadata.name"));
		if (i != SIZE_MAX)
			remove_at(a, i);
	} else {
		upsert(a, obj, false);
	}
	pthread_mutex_unlock(&a->mu);
}

/* A Service changed: re-check the APIServices that resolve through it. */
static void on_service(void *ud, enum sim_event ev, const char *resource, const json_t *obj)
{
	struct sim_aggregator *a = ud;
	const char *ns = sim_json_str(obj, "metadata.namespace");
	const char *name = sim_json_str(obj, "metadata.name");
	size_t i;

	pthread_mutex_lock(&a->mu);
	for (i = 0; i < a->nentries; i++) {
		struct agg_entry *e = a->entries[i];

		if (e->svc_ns && strcmp(e->svc_ns, ns) == 0 && strcmp(e->svc_name, name) == 0)
			e->next_probe_ns = 0;
	}
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

/* ---- targets --------------------------------------------------------------- */

void sim_agg_target_from(struct agg_target *t, const struct agg_entry *e)
{
	t->name = xstrdup(e->name);
	t->group = xstrdup(e->group);
	t->version = xstrdup(e->version);
	t->svc_ns = e->svc_ns ? xstrdup(e->svc_ns) : NULL;
	t->svc_name = e->svc_name ? xstrdup(e->svc_name) : NULL;
	t->port = e->port;
	t->annotated_endpoint = e->annotated_endpoint ? xstrdup(e->annotated_endpoint) : NULL;
	t->endpoint = e->endpoint ? xstrdup(e->endpoint) : NULL;
	t->ca_path = e->ca_path ? xstrdup(e->ca_path) : NULL;
	t->insecure = e->insecure;
	t->available = e->available;
	t->gen = e->gen;
}

void sim_agg_target_clear(struct agg_target *t)
{
	free(t->name);
	free(t->group);
	free(t->version);
	free(t->svc_ns);
	free(t->svc_name);
	free(t->annotated_endpoint);
	free(t->endpoint);
	free(t->ca_path);
	memset(t, 0, sizeof(*t));
}

/* ---- configuration and lifetime ----------------------------------------- */

static int64_t config_duration(const struct sim_config *cfg, const char *key, const char *env,
			       int64_t def)
{
	const char *s = env ? getenv(env) : NULL;
	int64_t ns;

	if (!s || !*s)
		s = json_string_value(json_object_get(json_object_get(cfg->extra, "aggregator"),
						      key));
	if (!s || !*s)
		return def;
	if (parse_go_duration(s, &ns) || ns < 0) {
		log_warn("aggregator: bad duration %s=%s, using the default", key, s);
		return def;
	}
	return ns;
}

/* Writes the front-proxy client pair for libcurl (its GnuTLS backend takes
 * files, not memory blobs).  0 or an error code. */
static int write_client_files(struct sim_aggregator *a)
{
	const struct certs_pair *p = &a->c->front_proxy_client;
	char tmpl[4096];
	const char *base = a->c->cfg.dir ? a->c->cfg.dir : "/tmp";

	snprintf(tmpl, sizeof(tmpl), "%s/aggregator-XXXXXX", base);
	if (!mkdtemp(tmpl)) {
		log_error("aggregator: mkdtemp %s: %s", tmpl, COMMON_SYSERR(errno));
		return ERR_IO;
	}
	a->tmpdir = xstrdup(tmpl);
	if (!p->cert_pem || !p->key_pem)
		return 0;
	a->client_cert_path = xasprintf("%s/front-proxy-client.crt", a->tmpdir);
	a->client_key_path = xasprintf("%s/front-proxy-client.key", a->tmpdir);
	if (certs_write_file(a->client_cert_path, p->cert_pem, 0644) ||
	    certs_write_file(a->client_key_path, p->key_pem, 0600))
		return ERR_IO;
	return 0;
}

static void load_existing(struct sim_aggregator *a)
{
	json_t *list = sim_store_list(a->c->store, "apiservices", NULL);
	json_t *obj;
	size_t i;

	pthread_mutex_lock(&a->mu);
	json_array_foreach(list, i, obj)
		upsert(a, obj, true);
	pthread_mutex_unlock(&a->mu);
	json_decref(list);
}

struct sim_aggregator *sim_aggregator_new(struct sim_cluster *c)
{
	struct sim_aggregator *a = xcalloc(1, sizeof(*a));
	pthread_condattr_t attr;

	a->c = c;
	pthread_mutex_init(&a->mu, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* clock_mono_ns() deadlines */
	pthread_cond_init(&a->cv, &attr);
	pthread_condattr_destroy(&attr);
	sim_agg_pool_init(&a->pool);
	a->resync_ns = config_duration(&c->cfg, "resyncPeriod", SIM_AGG_RESYNC_ENV,
				       DEFAULT_RESYNC_NS);
	a->discovery_ns = config_duration(&c->cfg, "discoveryPeriod", NULL,
					  DEFAULT_DISCOVERY_NS);
	if (write_client_files(a)) {
		sim_aggregator_free(a);
		return NULL;
	}
	sim_store_subscribe(c->store, "apiservices", on_apiservice, a);
	sim_store_subscribe(c->store, "services", on_service, a);
	load_existing(a);
	if (a->resync_ns > 0) {
		if (pthread_create(&a->thread, NULL, sim_agg_loop_main, a) != 0) {
			log_error("aggregator: cannot start the availability controller");
			sim_aggregator_free(a);
			return NULL;
		}
		a->thread_started = true;
	}
	return a;
}

static void remove_tmpdir(struct sim_aggregator *a)
{
	if (a->client_cert_path)
		unlink(a->client_cert_path);
	if (a->client_key_path)
		unlink(a->client_key_path);
	if (a->tmpdir && rmdir(a->tmpdir) != 0)
		log_warn("aggregator: rmdir %s: %s", a->tmpdir, COMMON_SYSERR(errno));
}

void sim_aggregator_free(struct sim_aggregator *a)
{
	size_t i;

	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	if (a->thread_started)
		pthread_join(a->thread, NULL);
	for (i = 0; i < a->nentries; i++)
		entry_free(a->entries[i]);
	free(a->entries);
	remove_tmpdir(a);
	free(a->tmpdir);
	free(a->client_cert_path);
	free(a->client_key_path);
	sim_agg_pool_clear(&a->pool);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a);
}
