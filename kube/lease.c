/*
 * lease.c - leader election on a coordination.k8s.io/v1 Lease, with
 * client-go's leaderelection rules (tryAcquireOrRenew, acquire, renew,
 * release) and log lines: expiry judged on the local monotonic clock
 * from when the record was last observed to change, writes guarded by
 * the resourceVersion read (409 Conflict = another candidate won), and a
 * leader that stops leading when no renewal succeeded within the renew
 * deadline.  A failure is logged once while it repeats (a missing RBAC
 * permission is one line, not one per retry).
 */
#include "kube/kube_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define JITTER_FACTOR 1.2 /* client-go's JitterFactor */
#define LEASE_ERRLEN 512

struct kube_lease {
	struct kube_client *client;
	char *ns, *name, *identity, *desc; /* desc: "ns/name" */
	char *path, *coll;                 /* the Lease's URL and its collection's */
	int64_t duration_ns, deadline_ns, retry_ns;
	void (*on_change)(void *ud, bool leading);
	void *ud;

	/* the elector's thread only (or the suite's, through kube__lease_try) */
	json_t *obj;           /* the Lease last read or written (resourceVersion) */
	char *raw;             /* its spec as compact sorted JSON */
	char *holder;          /* observed spec.holderIdentity ("" none) */
	int64_t held_s;        /* observed spec.leaseDurationSeconds */
	int64_t observed_ns;   /* monotonic time the record was last seen to change */
	char last_err[LEASE_ERRLEN]; /* the failure last logged, "" after a success */

	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;     /* CLOCK_MONOTONIC */
	bool stop;             /* under mu */
	bool leading;          /* under mu */
	uint64_t term;         /* under mu */
	int64_t valid_until;   /* under mu: monotonic end of the current leadership */
};

/* ---- options -------------------------------------------------------------- */

/* A Lease name or namespace we paste into a URL: a DNS-1123 subdomain. */
static bool name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && c != '-' && c != '.')
			return false;
		if (!alnum && (i == 0 || i == n - 1))
			return false;
	}
	return true;
}

int kube_lease_validate(const struct kube_lease_options *o, char *err, size_t errlen)
{
	if (o->lease_duration_ns <= o->renew_deadline_ns)
		snprintf(err, errlen, "leaseDuration must be greater than renewDeadline");
	else if ((double)o->renew_deadline_ns <= JITTER_FACTOR * (double)o->retry_period_ns)
		snprintf(err, errlen, "renewDeadline must be greater than retryPeriod*JitterFactor");
	else if (o->lease_duration_ns < 1)
		snprintf(err, errlen, "leaseDuration must be greater than zero");
	else if (o->renew_deadline_ns < 1)
		snprintf(err, errlen, "renewDeadline must be greater than zero");
	else if (o->retry_period_ns < 1)
		snprintf(err, errlen, "retryPeriod must be greater than zero");
	else if (o->lease_duration_ns < NS_PER_SEC)
		snprintf(err, errlen, "leaseDuration must be at least 1s (the Lease counts whole "
				      "seconds)");
	else if (!name_ok(o->ns))
		snprintf(err, errlen, "invalid leader election resource namespace \"%.100s\": must "
				      "be a lowercase RFC 1123 name", o->ns ? o->ns : "");
	else if (!name_ok(o->name))
		snprintf(err, errlen, "invalid leader election resource name \"%.100s\": must be "
				      "a lowercase RFC 1123 subdomain", o->name ? o->name : "");
	else if (o->identity && !*o->identity)
		snprintf(err, errlen, "Lock identity is empty");
	else
		return 0;
	return ERR_INVAL;
}

/* "<hostname>_<random UUID v4>", as kube-controller-manager names itself. */
static char *make_identity(void)
{
	unsigned char u[16];
	char host[256] = "";
	size_t got = 0;

	if (gethostname(host, sizeof(host) - 1) != 0 || !*host)
		snprintf(host, sizeof(host), "localhost");
	while (got < sizeof(u)) {
		ssize_t n = getrandom(u + got, sizeof(u) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) { /* no entropy source: the clock and pid still differ */
			uint64_t x = (uint64_t)clock_mono_ns() ^ ((uint64_t)getpid() << 32);

			for (; got < sizeof(u); got++, x = x * 6364136223846793005ULL + 1)
				u[got] = (unsigned char)(x >> 56);
			break;
		}
		got += (size_t)n;
	}
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	return xasprintf("%s_%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 host, u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
			 u[11], u[12], u[13], u[14], u[15]);
}

struct kube_lease *kube__lease_new(struct kube_client *c, const struct kube_lease_options *o)
{
	struct kube_lease *l = xcalloc(1, sizeof(*l));
	pthread_condattr_t ca;

	l->client = c;
	l->ns = xstrdup(o->ns);
	l->name = xstrdup(o->name);
	l->identity = o->identity ? xstrdup(o->identity) : make_identity();
	l->desc = xasprintf("%s/%s", o->ns, o->name);
	l->coll = xasprintf("/apis/coordination.k8s.io/v1/namespaces/%s/leases", o->ns);
	l->path = xasprintf("%s/%s", l->coll, o->name);
	l->duration_ns = o->lease_duration_ns;
	l->deadline_ns = o->renew_deadline_ns;
	l->retry_ns = o->retry_period_ns;
	l->on_change = o->on_change;
	l->ud = o->ud;
	l->holder = xstrdup("");
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	return l;
}

const char *kube_lease_identity(const struct kube_lease *l)
{
	return l->identity;
}

/* ---- leadership as the rest of the process sees it ------------------------ */

bool kube__lease_leading_at(struct kube_lease *l, int64_t now, uint64_t *term)
{
	bool leading;

	pthread_mutex_lock(&l->mu);
	leading = l->leading && now < l->valid_until;
	if (term)
		*term = l->term;
	pthread_mutex_unlock(&l->mu);
	return leading;
}

bool kube_lease_leading(struct kube_lease *l, uint64_t *term)
{
	return kube__lease_leading_at(l, clock_mono_ns(), term);
}

/* Starts or ends a leadership (logged once, callback told). */
static void set_leading(struct kube_lease *l, bool leading, int64_t valid_until, const char *why)
{
	bool changed;

	pthread_mutex_lock(&l->mu);
	changed = l->leading != leading;
	l->leading = leading;
	if (leading)
		l->valid_until = valid_until;
	if (changed && leading)
		l->term++;
	pthread_mutex_unlock(&l->mu);
	if (!changed)
		return;
	if (leading) {
		log_info("successfully acquired lease %s", l->desc);
	} else {
		log_info("failed to renew lease %s: %s", l->desc, why);
		log_info("attempting to acquire leader lease %s...", l->desc);
	}
	if (l->on_change)
		l->on_change(l->ud, leading);
}

/* ---- the Lease record -------------------------------------------------- */

/* metav1.MicroTime: "2006-01-02T15:04:05.000000Z". */
static void micro_time(int64_t ns, char *buf, size_t len)
{
	char secs[40];
	size_t n;

	fmt_rfc3339(ns, secs, sizeof(secs));
	n = strlen(secs);
	if (n && secs[n - 1] == 'Z')
		secs[n - 1] = '\0';
	snprintf(buf, len, "%s.%06lldZ", secs, (long long)((ns % NS_PER_SEC) / 1000));
}

/* Logs text unless it is the failure logged last (kept until a success). */
static void report(struct kube_lease *l, int status, const char *text)
{
	if (strcmp(l->last_err, text) == 0) {
		log_v(2, "%s", text);
		return;
	}
	snprintf(l->last_err, sizeof(l->last_err), "%s", text);
	if (status == 403)
		log_error("%s (leader election needs get, create and update on "
			  "leases.coordination.k8s.io in namespace %s; the embedded HPA controller "
			  "stays idle until it leads; logged once while it lasts)", text, l->ns);
	else
		log_error("%s", text);
}

/* One request with a deadline; the HTTP status (0: no answer) with *out, or
 * the error text (the Status message, as client-go) in err. */
static int call(struct kube_lease *l, const char *method, const char *path, json_t *body,
		int64_t timeout_ns, json_t **out, char *err, size_t errlen)
{
	int status = 0;
	const char *msg;

	*out = NULL;
	if (kube_request_once(l->client, method, path, body, timeout_ns, &status, out, err,
			      errlen) != 0)
		return 0;
	if (status >= 200 && status < 300 && json_is_object(*out))
		return status;
	msg = jpath_str(*out, "message");
	if (msg && *msg)
		snprintf(err, errlen, "%s", msg);
	else
		snprintf(err, errlen, "the server responded with the status code %d", status);
	json_decref(*out);
	*out = NULL;
	return status ? status : 500;
}

/* Remembers what was read or written; the observation time moves only when
 * the record changed (client-go's observedRawRecord). */
static void observe(struct kube_lease *l, json_t *obj, int64_t now)
{
	json_t *spec = json_object_get(obj, "spec");
	char *raw = json_dumps(spec ? spec : json_null(), JSON_COMPACT | JSON_SORT_KEYS);
	const char *holder = jpath_str(obj, "spec.holderIdentity");

	json_decref(l->obj);
	l->obj = obj;
	if (raw && l->raw && strcmp(raw, l->raw) == 0) {
		free(raw);
		return;
	}
	free(l->raw);
	l->raw = raw;
	free(l->holder);
	l->holder = xstrdup(holder ? holder : "");
	l->held_s = jpath_int(obj, "spec.leaseDurationSeconds", 0);
	l->observed_ns = now;
}

static bool is_holder(const struct kube_lease *l)
{
	return strcmp(l->holder, l->identity) == 0;
}

static bool observed_valid(const struct kube_lease *l, int64_t now)
{
	return l->raw && l->observed_ns + l->held_s * NS_PER_SEC > now;
}

/* The Lease to write: base (NULL: a new one) with this spec. */
static json_t *lease_body(const struct kube_lease *l, const json_t *base, const char *holder,
			  int64_t duration_s, const char *acquired, const char *renewed,
			  json_int_t transitions)
{
	json_t *b = base ? json_deep_copy(base)
			 : json_pack("{s:{s:s,s:s}}", "metadata", "name", l->name, "namespace",
				     l->ns);

	json_object_set_new(b, "apiVersion", json_string("coordination.k8s.io/v1"));
	json_object_set_new(b, "kind", json_string("Lease"));
	json_object_set_new(b, "spec",
			    json_pack("{s:s,s:I,s:s,s:s,s:I}", "holderIdentity", holder,
				      "leaseDurationSeconds", (json_int_t)duration_s,
				      "acquireTime", acquired, "renewTime", renewed,
				      "leaseTransitions", transitions));
	return b;
}

/* PUT (or POST when create) body; on success observe the answer.  The
 * status, 0 with err when there was no answer. */
static int write_lease(struct kube_lease *l, bool create, json_t *body, int64_t now,
		       int64_t timeout, char *err, size_t errlen)
{
	json_t *out = NULL;
	int st = call(l, create ? "POST" : "PUT", create ? l->coll : l->path, body, timeout, &out,
		      err, errlen);

	json_decref(body);
	if (out)
		observe(l, out, now);
	return st;
}

/*
 * client-go's tryAcquireOrRenew at monotonic time now: the leader's
 * optimistic renewal of the record it wrote last, else GET (create when
 * absent), give up while another holder's lease is valid, else PUT with
 * the resourceVersion read.  KUBE__LEASE_OK when this process holds the
 * Lease afterwards (leading until now + renew deadline), KUBE__LEASE_HELD
 * when another candidate does, KUBE__LEASE_FAILED on an error (logged).
 */
int kube__lease_try(struct kube_lease *l, int64_t now)
{
	char err[LEASE_ERRLEN], text[LEASE_ERRLEN + 128], nowtxt[40];
	int64_t wall = clock_now_ns(), dur_s = l->duration_ns / NS_PER_SEC;
	int64_t timeout = l->deadline_ns;
	json_t *cur = NULL;
	json_int_t transitions;
	const char *acquired;
	bool leader;
	int st;

	micro_time(wall, nowtxt, sizeof(nowtxt));
	if (is_holder(l) && observed_valid(l, now) && l->obj) {
		const char *acq = jpath_str(l->obj, "spec.acquireTime");
		json_t *b = lease_body(l, l->obj, l->identity, dur_s, acq ? acq : nowtxt, nowtxt,
				       jpath_int(l->obj, "spec.leaseTransitions", 0));

		if (write_lease(l, false, b, now, timeout, err, sizeof(err)) == 200)
			goto won;
		snprintf(text, sizeof(text),
			 "Failed to update lock optimistically: %s, falling back to slow path", err);
		log_v(2, "%s", text);
	}
	st = call(l, "GET", l->path, NULL, timeout, &cur, err, sizeof(err));
	if (st == 404) {
		st = write_lease(l, true, lease_body(l, NULL, l->identity, dur_s, nowtxt, nowtxt, 0),
				 now, timeout, err, sizeof(err));
		if (st == 201 || st == 200)
			goto won;
		snprintf(text, sizeof(text), "error initially creating leader election record: %s",
			 err);
		report(l, st, text);
		return KUBE__LEASE_FAILED;
	}
	if (st != 200) {
		snprintf(text, sizeof(text), "error retrieving resource lock %s: %s", l->desc, err);
		report(l, st, text);
		return KUBE__LEASE_FAILED;
	}
	observe(l, cur, now);
	leader = is_holder(l);
	if (*l->holder && observed_valid(l, now) && !leader) {
		log_v(4, "lock is held by %s and has not yet expired", l->holder);
		l->last_err[0] = '\0';
		return KUBE__LEASE_HELD;
	}
	acquired = leader ? jpath_str(l->obj, "spec.acquireTime") : NULL;
	transitions = jpath_int(l->obj, "spec.leaseTransitions", 0) + (leader ? 0 : 1);
	st = write_lease(l, false,
			 lease_body(l, l->obj, l->identity, dur_s, acquired ? acquired : nowtxt,
				    nowtxt, transitions),
			 now, timeout, err, sizeof(err));
	if (st == 200)
		goto won;
	snprintf(text, sizeof(text), "Failed to update lock: %s", err);
	report(l, st, text);
	return KUBE__LEASE_FAILED;
won:
	l->last_err[0] = '\0';
	kube__lease_step_lost(l, now); /* a leadership that lapsed before this try ended */
	set_leading(l, true, now + l->deadline_ns, NULL);
	return KUBE__LEASE_OK;
}

/* ---- the elector's thread ----------------------------------------------- */

/* Waits until monotonic time `until` or stop; false when stopping. */
static bool pause_until(struct kube_lease *l, int64_t until)
{
	struct timespec ts = { .tv_sec = (time_t)(until / NS_PER_SEC),
			       .tv_nsec = (long)(until % NS_PER_SEC) };
	bool stop;

	pthread_mutex_lock(&l->mu);
	while (!l->stop && clock_mono_ns() < until)
		if (pthread_cond_timedwait(&l->cv, &l->mu, &ts) == ETIMEDOUT)
			break;
	stop = l->stop;
	pthread_mutex_unlock(&l->mu);
	return !stop;
}

/* retry * [1, 1 + JitterFactor): wait.JitterUntil's spread for candidates. */
static int64_t jittered(int64_t retry)
{
	unsigned r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned)clock_mono_ns();
	return retry + (int64_t)((double)retry * JITTER_FACTOR * ((double)(r % 1000) / 1000.0));
}

void kube__lease_step_lost(struct kube_lease *l, int64_t now)
{
	bool was;
	int64_t until;

	pthread_mutex_lock(&l->mu);
	was = l->leading;
	until = l->valid_until;
	pthread_mutex_unlock(&l->mu);
	if (!was)
		return;
	if (*l->holder && !is_holder(l))
		set_leading(l, false, 0, "the lease is held by another candidate");
	else if (now >= until)
		set_leading(l, false, 0, "timed out waiting for the condition");
}

static void *elector_main(void *arg)
{
	struct kube_lease *l = arg;
	int64_t start, next;

	log_info("attempting to acquire leader lease %s...", l->desc);
	for (;;) {
		int rc;

		start = clock_mono_ns();
		rc = kube__lease_try(l, start);
		kube__lease_step_lost(l, clock_mono_ns());
		if (rc == KUBE__LEASE_OK)
			log_v(5, "successfully renewed lease %s", l->desc);
		next = start + (kube_lease_leading(l, NULL) ? l->retry_ns : jittered(l->retry_ns));
		if (!pause_until(l, next))
			break;
	}
	return NULL;
}

struct kube_lease *kube_lease_start(struct kube_client *c, const struct kube_lease_options *o)
{
	struct kube_lease *l = kube__lease_new(c, o);

	log_info("leader election identity %s on lease %s", l->identity, l->desc);
	if (pthread_create(&l->thread, NULL, elector_main, l) != 0) {
		log_error("cannot start the leader election thread");
		kube_lease_stop(l);
		return NULL;
	}
	l->started = true;
	return l;
}

/* client-go's release: holder "", leaseDurationSeconds 1, transitions kept. */
static void release(struct kube_lease *l)
{
	char err[LEASE_ERRLEN], nowtxt[40];
	json_t *b;

	if (!kube_lease_leading(l, NULL) || !l->obj)
		return;
	micro_time(clock_now_ns(), nowtxt, sizeof(nowtxt));
	b = lease_body(l, l->obj, "", 1, nowtxt, nowtxt,
		       jpath_int(l->obj, "spec.leaseTransitions", 0));
	if (write_lease(l, false, b, clock_mono_ns(), l->deadline_ns, err, sizeof(err)) != 200)
		log_error("Failed to release lock: %s", err);
	else
		log_info("released lease %s", l->desc);
	pthread_mutex_lock(&l->mu);
	l->leading = false;
	pthread_mutex_unlock(&l->mu);
}

void kube_lease_stop(struct kube_lease *l)
{
	if (!l)
		return;
	if (l->started) {
		pthread_mutex_lock(&l->mu);
		l->stop = true;
		pthread_cond_signal(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->thread, NULL);
		release(l);
	}
	json_decref(l->obj);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l->raw);
	free(l->holder);
	free(l->ns);
	free(l->name);
	free(l->identity);
	free(l->desc);
	free(l->path);
	free(l->coll);
	free(l);
}
