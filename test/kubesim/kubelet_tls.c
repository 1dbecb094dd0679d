/*
 * kubelet_tls.c - serving certificates of the simulated kubelets.
 *
 * One ECDSA P-256 key serves every node; a node's certificate is made on
 * its first handshake (one ECDSA signature, tens of microseconds) and
 * cached by address.  Modes: signed by the cluster CA with IP + DNS SANs,
 * signed by the CA with a DNS SAN only (clients that verify the IP fail
 * as with real self-bootstrapped kubelets), or self-signed.
 * certs_create() makes a new key per call, hence this local signer.
 * Used from the loop thread only.
 */
#include "test/kubesim/kubelet_int.h"

#include <arpa/inet.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CERT_DAYS 365
/* The defaults with X25519 first: its key exchange costs a fraction of
 * P-256's in nettle, and handshakes are the loop's main cost. */
#define PRIORITY "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1"

struct node_cert {
	char name[256];
	int mode;
	gnutls_pcert_st pcert;
	struct node_cert *retired; /* older certificates of the same address */
};

struct sim_kl_tls {
	enum sim_kubelet_cert_mode mode;
	bool client_auth;
	gnutls_x509_crt_t ca_crt;
	gnutls_privkey_t ca_key;
	gnutls_x509_privkey_t key_x509; /* the shared node key */
	gnutls_privkey_t key;
	gnutls_certificate_credentials_t creds;
	gnutls_priority_t prio;
	struct sim_kl_map certs;        /* address -> struct node_cert */
	uint64_t serial;
};

static void free_cert(void *p)
{
	struct node_cert *c = p;

	while (c) {
		struct node_cert *next = c->retired;

		gnutls_pcert_deinit(&c->pcert);
		free(c);
		c = next;
	}
}

/* ---- signing ---------------------------------------------------------------- */

static int set_names(gnutls_x509_crt_t crt, const char *addr, const char *name, int mode)
{
	char cn[300];
	unsigned char ip[4];
	int rc;

	if (mode == SIM_CERT_SELF_SIGNED)
		snprintf(cn, sizeof(cn), "%s@%lld", name, (long long)time(NULL));
	else
		snprintf(cn, sizeof(cn), "system:node:%s", name);
	rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn));
	if (rc >= 0 && mode != SIM_CERT_SELF_SIGNED)
		rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
						   "system:nodes", strlen("system:nodes"));
	if (rc >= 0)
		rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name,
							  (unsigned)strlen(name), GNUTLS_FSAN_APPEND);
	if (rc >= 0 && mode == SIM_CERT_CLUSTER_CA && inet_pton(AF_INET, addr, ip) == 1)
		rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, sizeof(ip),
							  GNUTLS_FSAN_APPEND);
	return rc;
}

static int sign_cert(struct sim_kl_tls *t, const char *addr, const char *name, int mode,
		     gnutls_pcert_st *out)
{
	gnutls_x509_crt_t crt = NULL;
	unsigned char serial[9];
	time_t now = time(NULL);
	uint64_t sn = ++t->serial;
	int rc;

	if ((rc = gnutls_x509_crt_init(&crt)) < 0)
		return rc;
	serial[0] = 0x01;
	for (int i = 0; i < 8; i++)
		serial[1 + i] = (unsigned char)(sn >> (56 - 8 * i));
	gnutls_x509_crt_set_version(crt, 3);
	gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	gnutls_x509_crt_set_activation_time(crt, now - 3600);
	gnutls_x509_crt_set_expiration_time(crt, now + (time_t)CERT_DAYS * 86400);
	rc = gnutls_x509_crt_set_key(crt, t->key_x509);
	if (rc >= 0)
		rc = set_names(crt, addr, name, mode);
	if (rc >= 0) {
		gnutls_x509_crt_set_basic_constraints(crt, 0, -1);
		gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
							   GNUTLS_KEY_KEY_ENCIPHERMENT);
		gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
		if (mode == SIM_CERT_SELF_SIGNED)
			rc = gnutls_x509_crt_privkey_sign(crt, crt, t->key, GNUTLS_DIG_SHA256, 0);
		else
			rc = gnutls_x509_crt_privkey_sign(crt, t->ca_crt, t->ca_key,
							  GNUTLS_DIG_SHA256, 0);
	}
	if (rc >= 0)
		rc = gnutls_pcert_import_x509(out, crt, 0);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

/* The cached certificate for the session's node, made when missing. */
static gnutls_pcert_st *node_cert(struct sim_kl_tls *t, const struct sim_kl_tls_ident *id)
{
	struct node_cert *c = sim_kl_map_get(&t->certs, id->addr), *fresh;
	int mode = id->mode >= 0 ? id->mode : (int)t->mode;
	int rc;

	if (c && c->mode == mode && strcmp(c->name, id->name) == 0)
		return &c->pcert;
	fresh = xcalloc(1, sizeof(*fresh));
	rc = sign_cert(t, id->addr, id->name, mode, &fresh->pcert);
	if (rc < 0) {
		log_error("kubelet %s: cannot make a serving certificate: %s", id->name,
			  gnutls_strerror(rc));
		free(fresh);
		return NULL;
	}
	snprintf(fresh->name, sizeof(fresh->name), "%s", id->name);
	fresh->mode = mode;
	fresh->retired = c; /* a live session may still point at it */
	sim_kl_map_put(&t->certs, id->addr, fresh);
	return &fresh->pcert;
}

static int retrieve(gnutls_session_t s, const gnutls_datum_t *req_ca, int nreq,
		    const gnutls_pk_algorithm_t *algos, int nalgos, gnutls_pcert_st **pcert,
		    unsigned int *npcert, gnutls_privkey_t *key)
{
	struct sim_kl_tls_ident *id = gnutls_session_get_ptr(s);
	gnutls_pcert_st *c = id ? node_cert(id->tls, id) : NULL;

	if (!c)
		return -1;
	*pcert = c;
	*npcert = 1;
	*key = id->tls->key;
	return 0;
}

/* ---- lifecycle ------------------------------------------------------------- */

static int load_ca(struct sim_kl_tls *t, const struct certs_pair *ca)
{
	gnutls_datum_t crt = {(unsigned char *)ca->cert_pem, (unsigned)strlen(ca->cert_pem)};
	gnutls_datum_t key = {(unsigned char *)ca->key_pem, (unsigned)strlen(ca->key_pem)};
	int rc;

	if ((rc = gnutls_x509_crt_init(&t->ca_crt)) < 0 ||
	    (rc = gnutls_x509_crt_import(t->ca_crt, &crt, GNUTLS_X509_FMT_PEM)) < 0 ||
	    (rc = gnutls_privkey_init(&t->ca_key)) < 0)
		return rc;
	rc = gnutls_privkey_import_x509_raw(t->ca_key, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc >= 0 && t->client_auth)
		rc = gnutls_certificate_set_x509_trust_mem(t->creds, &crt, GNUTLS_X509_FMT_PEM);
	return rc;
}

static int make_key(struct sim_kl_tls *t)
{
	int rc;

	if ((rc = gnutls_x509_privkey_init(&t->key_x509)) < 0)
		return rc;
	rc = gnutls_x509_privkey_generate(t->key_x509, GNUTLS_PK_ECDSA,
					  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	if (rc >= 0)
		rc = gnutls_privkey_init(&t->key);
	if (rc >= 0)
		rc = gnutls_privkey_import_x509(t->key, t->key_x509, GNUTLS_PRIVKEY_IMPORT_COPY);
	return rc;
}

struct sim_kl_tls *sim_kl_tls_new(const struct certs_pair *ca, enum sim_kubelet_cert_mode mode,
				  bool client_auth, char *err, size_t errlen)
{
	struct sim_kl_tls *t = xcalloc(1, sizeof(*t));
	int rc;

	gnutls_global_init();
	t->mode = mode;
	t->client_auth = client_auth;
	sim_kl_map_init(&t->certs);
	rc = gnutls_certificate_allocate_credentials(&t->creds);
	if (rc >= 0 && (!ca || !ca->cert_pem || !ca->key_pem))
		rc = GNUTLS_E_INVALID_REQUEST;
	if (rc >= 0)
		rc = load_ca(t, ca);
	if (rc >= 0)
		rc = make_key(t);
	if (rc >= 0)
		rc = gnutls_priority_init2(&t->prio, PRIORITY, NULL, GNUTLS_PRIORITY_INIT_DEF_APPEND);
	if (rc < 0) {
		snprintf(err, errlen, "kubelet TLS setup: %s", gnutls_strerror(rc));
		sim_kl_tls_free(t);
		return NULL;
	}
	gnutls_certificate_set_retrieve_function2(t->creds, retrieve);
	return t;
}

void sim_kl_tls_free(struct sim_kl_tls *t)
{
	if (!t)
		return;
	sim_kl_map_clear(&t->certs, free_cert);
	if (t->prio)
		gnutls_priority_deinit(t->prio);
	if (t->creds)
		gnutls_certificate_free_credentials(t->creds);
	if (t->key)
		gnutls_privkey_deinit(t->key);
	if (t->key_x509)
		gnutls_x509_privkey_deinit(t->key_x509);
	if (t->ca_key)
		gnutls_privkey_deinit(t->ca_key);
	if (t->ca_crt)
		gnutls_x509_crt_deinit(t->ca_crt);
	free(t);
	gnutls_global_deinit();
}

int sim_kl_tls_setup(struct sim_kl_tls *t, gnutls_session_t s, struct sim_kl_tls_ident *id)
{
	id->tls = t;
	gnutls_session_set_ptr(s, id);
	if (gnutls_priority_set(s, t->prio) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, t->creds) < 0)
		return ERR_TLS;
	if (t->client_auth)
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUEST);
	return 0;
}

bool sim_kl_tls_client_ok(struct sim_kl_tls *t, gnutls_session_t s)
{
	unsigned int status = 0, n = 0;

	if (!t->client_auth)
		return true;
	if (!gnutls_certificate_get_peers(s, &n) || n == 0)
		return false;
	return gnutls_certificate_verify_peers2(s, &status) == 0 && status == 0;
}
