/*
 * check_kube_lease.c - kube/lease.c, the leader election, against a real
 * kubesim (build/kubesim, started once for the suite) over HTTPS: acquire
 * a free Lease, not one held and fresh, take over after the lease
 * duration measured from the local observation (not the holder's
 * renewTime), 409 Conflict on a renewal, one winner of a race,
 * leadership lost at the renew deadline, and release on stop.  Steps run
 * on the suite's own monotonic times (kube__lease_try).
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kube/kube_int.h"
#include "test/unit/testlib.h"
#include "test/unit/unit.h"

#define S NS_PER_SEC
#define T0 (1000 * S) /* the suite's monotonic origin */

static char dir[] = "/tmp/check_kube_lease.XXXXXX";
static pid_t sim_pid;
static struct kube_client *client;

static void sim_start(void)
{
	sim_pid = testlib_kubesim_start(dir, 1, 0, NULL, NULL, 0);
}

static void sim_stop(void)
{
	testlib_kubesim_stop(sim_pid, dir);
}

static void client_up(void)
{
	client = testlib_kubesim_client(dir, NULL);
}

static void client_down(void)
{
	kube_client_free(client);
}

/* ---- helpers ---------------------------------------------------------------- */

static atomic_int changes_up, changes_down;

static void on_change(void *ud, bool leading)
{
	(void)ud;
	atomic_fetch_add(leading ? &changes_up : &changes_down, 1);
}

/* An elector of lease `name` in kube-system: 15s / 10s / 2s. */
static struct kube_lease *elector(const char *name, const char *id)
{
	struct kube_lease_options o = { .ns = "kube-system", .name = name, .identity = id,
					.lease_duration_ns = 15 * S, .renew_deadline_ns = 10 * S,
					.retry_period_ns = 2 * S, .on_change = on_change };
	char err[256];

	ck_assert_msg(kube_lease_validate(&o, err, sizeof(err)) == 0, "%s", err);
	return kube__lease_new(client, &o);
}

static json_t *get_lease(const char *name)
{
	char *path = xasprintf("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/%s", name);
	char err[256];
	json_t *out = NULL;
	int status = 0;

	ck_assert_int_eq(kube_request(client, "GET", path, NULL, &status, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(status, 200);
	free(path);
	return out;
}

/* Writes the Lease as another candidate would (holder, renewed now). */
static void put_holder(const char *name, const char *holder)
{
	char *path = xasprintf("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/%s", name);
	json_t *l = get_lease(name), *out = NULL;
	char err[256];
	int status = 0;

	json_object_set_new(json_object_get(l, "spec"), "holderIdentity", json_string(holder));
	json_object_set_new(json_object_get(l, "spec"), "renewTime",
			    json_string("2026-12-07T10:00:00.000000Z"));
	ck_assert_int_eq(kube_request(client, "PUT", path, l, &status, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(status, 200);
	json_decref(out);
	json_decref(l);
	free(path);
}

static const char *holder_of(json_t *l)
{
	return jpath_str(l, "spec.holderIdentity");
}

/* ---- tests --------------------------------------------------------------------- */

START_TEST(test_validate_texts)
{
	struct kube_lease_options o = { .ns = "kube-system", .name = "x", .lease_duration_ns = 15 * S,
					.renew_deadline_ns = 10 * S, .retry_period_ns = 2 * S };
	char err[256];

	ck_assert_int_eq(kube_lease_validate(&o, err, sizeof(err)), 0);
	o.renew_deadline_ns = 15 * S;
	ck_assert_int_eq(kube_lease_validate(&o, err, sizeof(err)), ERR_INVAL);
	ck_assert_str_eq(err, "leaseDuration must be greater than renewDeadline");
	o.renew_deadline_ns = 10 * S;
	o.retry_period_ns = 9 * S; /* 10.8s >= 10s */
	ck_assert_int_eq(kube_lease_validate(&o, err, sizeof(err)), ERR_INVAL);
	ck_assert_str_eq(err, "renewDeadline must be greater than retryPeriod*JitterFactor");
	o.retry_period_ns = 0;
	ck_assert_int_eq(kube_lease_validate(&o, err, sizeof(err)), ERR_INVAL);
	ck_assert_str_eq(err, "retryPeriod must be greater than zero");
	o.retry_period_ns = 2 * S;
	o.name = "Bad_Name";
	ck_assert_int_eq(kube_lease_validate(&o, err, sizeof(err)), ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(err, "\"Bad_Name\""));
}
END_TEST

START_TEST(test_acquire_free)
{
	struct kube_lease *a = elector("free", "a");
	uint64_t term = 0;
	json_t *l;
	char *acq;

	ck_assert(!kube__lease_leading_at(a, T0, NULL));
	ck_assert_int_eq(kube__lease_try(a, T0), KUBE__LEASE_OK);
	ck_assert(kube__lease_leading_at(a, T0 + 9 * S, &term));
	ck_assert_int_eq(term, 1);
	ck_assert_int_eq(atomic_load(&changes_up), 1);
	l = get_lease("free");
	ck_assert_str_eq(holder_of(l), "a");
	ck_assert_int_eq(jpath_int(l, "spec.leaseDurationSeconds", 0), 15);
	ck_assert_int_eq(jpath_int(l, "spec.leaseTransitions", -1), 0);
	acq = xstrdup(jpath_str(l, "spec.acquireTime")); /* MicroTime: 6 fraction digits */
	ck_assert_int_eq(strlen(acq), strlen("2026-12-07T10:00:00.000000Z"));
	ck_assert_int_eq(acq[19], '.');
	ck_assert_str_eq(acq, jpath_str(l, "spec.renewTime"));
	json_decref(l);
	usleep(2000);
	/* a renewal keeps acquireTime and the term */
	ck_assert_int_eq(kube__lease_try(a, T0 + 2 * S), KUBE__LEASE_OK);
	ck_assert(kube__lease_leading_at(a, T0 + 11 * S, &term));
	ck_assert_int_eq(term, 1);
	l = get_lease("free");
	ck_assert_str_eq(jpath_str(l, "spec.acquireTime"), acq);
	ck_assert_str_ne(jpath_str(l, "spec.renewTime"), acq);
	json_decref(l);
	free(acq);
	kube_lease_stop(a);
}
END_TEST

START_TEST(test_held_then_expired)
{
	struct kube_lease *a = elector("held", "a"), *b = elector("held", "b");
	json_t *l;

	ck_assert_int_eq(kube__lease_try(a, T0), KUBE__LEASE_OK);
	/* b's clock is its own: it first sees the record at 5000s */
	ck_assert_int_eq(kube__lease_try(b, 5000 * S), KUBE__LEASE_HELD);
	ck_assert_int_eq(kube__lease_try(b, 5014 * S), KUBE__LEASE_HELD);
	/* a renews: b sees a change at 5016s, so it waits 15s from then */
	ck_assert_int_eq(kube__lease_try(a, T0 + 2 * S), KUBE__LEASE_OK);
	ck_assert_int_eq(kube__lease_try(b, 5016 * S), KUBE__LEASE_HELD);
	ck_assert_int_eq(kube__lease_try(b, 5030 * S), KUBE__LEASE_HELD);
	ck_assert(!kube__lease_leading_at(b, 5030 * S, NULL));
	/* nothing changed for 15s of b's time: it takes over */
	ck_assert_int_eq(kube__lease_try(b, 5031 * S), KUBE__LEASE_OK);
	ck_assert(kube__lease_leading_at(b, 5031 * S, NULL));
	l = get_lease("held");
	ck_assert_str_eq(holder_of(l), "b");
	ck_assert_int_eq(jpath_int(l, "spec.leaseTransitions", -1), 1);
	json_decref(l);
	/* a, whose renewal now conflicts, sees b hold it and stops leading */
	ck_assert_int_eq(kube__lease_try(a, T0 + 4 * S), KUBE__LEASE_HELD);
	kube__lease_step_lost(a, T0 + 4 * S);
	ck_assert(!kube__lease_leading_at(a, T0 + 4 * S, NULL));
	kube_lease_stop(a);
	kube_lease_stop(b);
}
END_TEST

START_TEST(test_renewal_conflict)
{
	struct kube_lease *a = elector("conflict", "a");
	int down = atomic_load(&changes_down);

	ck_assert_int_eq(kube__lease_try(a, T0), KUBE__LEASE_OK);
	put_holder("conflict", "intruder"); /* a's resourceVersion is stale now */
	ck_assert_int_eq(kube__lease_try(a, T0 + 2 * S), KUBE__LEASE_HELD);
	kube__lease_step_lost(a, T0 + 2 * S);
	ck_assert(!kube__lease_leading_at(a, T0 + 2 * S, NULL));
	ck_assert_int_eq(atomic_load(&changes_down), down + 1);
	kube_lease_stop(a);
}
END_TEST

struct racer {
	struct kube_lease *l;
	int rc;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	r->rc = kube__lease_try(r->l, T0 + 20 * S);
	return NULL;
}

START_TEST(test_race_one_winner)
{
	for (int round = 0; round < 8; round++) {
		char name[32];
		struct racer r[2];
		pthread_t t[2];
		json_t *l;
		int won = 0;

		snprintf(name, sizeof(name), "race-%d", round);
		r[0].l = elector(name, "a");
		r[1].l = elector(name, "b");
		ck_assert_int_eq(kube__lease_try(r[0].l, T0), KUBE__LEASE_OK);
		put_holder(name, "gone"); /* a holder that stopped renewing */
		ck_assert_int_eq(kube__lease_try(r[0].l, T0 + 1 * S), KUBE__LEASE_HELD);
		ck_assert_int_eq(kube__lease_try(r[1].l, T0 + 1 * S), KUBE__LEASE_HELD);
		for (int i = 0; i < 2; i++)
			ck_assert_int_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
		for (int i = 0; i < 2; i++) {
			pthread_join(t[i], NULL);
			won += r[i].rc == KUBE__LEASE_OK;
		}
		ck_assert_int_eq(won, 1);
		l = get_lease(name);
		ck_assert_str_eq(holder_of(l), r[0].rc == KUBE__LEASE_OK ? "a" : "b");
		json_decref(l);
		kube_lease_stop(r[0].l);
		kube_lease_stop(r[1].l);
	}
}
END_TEST

START_TEST(test_renew_deadline)
{
	struct kube_lease *a = elector("deadline", "a");
	int down = atomic_load(&changes_down);
	uint64_t term = 0;

	ck_assert_int_eq(kube__lease_try(a, T0), KUBE__LEASE_OK);
	/* no renewal succeeded: leading ends at the renew deadline by itself */
	ck_assert(kube__lease_leading_at(a, T0 + 10 * S - 1, NULL));
	ck_assert(!kube__lease_leading_at(a, T0 + 10 * S, NULL));
	kube__lease_step_lost(a, T0 + 10 * S);
	ck_assert_int_eq(atomic_load(&changes_down), down + 1);
	/* nobody took it: the next try leads again, as a new term */
	ck_assert_int_eq(kube__lease_try(a, T0 + 11 * S), KUBE__LEASE_OK);
	ck_assert(kube__lease_leading_at(a, T0 + 11 * S, &term));
	ck_assert_int_eq(term, 2);
	kube_lease_stop(a);
}
END_TEST

/* A failure that repeats is logged once, not once per retry (the missing
 * RBAC permission case: here kubesim's 404 for a namespace that does not
 * exist), and again once it changed. */
START_TEST(test_failure_logged_once)
{
	struct kube_lease_options o = { .ns = "no-such-ns", .name = "x", .identity = "a",
					.lease_duration_ns = 15 * S, .renew_deadline_ns = 10 * S,
					.retry_period_ns = 2 * S };
	struct kube_lease *a = kube__lease_new(client, &o);
	char path[] = "/tmp/check_kube_lease.log.XXXXXX", line[1024];
	int fd = mkstemp(path), saved = dup(2), n = 0;
	FILE *f;

	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	dup2(fd, 2);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(kube__lease_try(a, T0 + i * 2 * S), KUBE__LEASE_FAILED);
	fflush(stderr);
	dup2(saved, 2);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "error initially creating leader election record: namespaces "
				  "\"no-such-ns\" not found") != NULL;
	fclose(f);
	unlink(path);
	close(fd);
	ck_assert_int_eq(n, 1);
	ck_assert(!kube__lease_leading_at(a, T0, NULL));
	kube_lease_stop(a);
}
END_TEST

/* The threads: a leader, a standby; stopping the leader releases the Lease
 * and the standby takes over within a few retry periods. */
START_TEST(test_threads_release)
{
	struct kube_lease_options o = { .ns = "kube-system", .name = "threads",
					.lease_duration_ns = 3 * S, .renew_deadline_ns = 2 * S,
					.retry_period_ns = S / 5 };
	struct kube_lease *a, *b;
	json_t *l;
	int i;

	o.identity = "a";
	a = kube_lease_start(client, &o);
	for (i = 0; i < 50 && !kube_lease_leading(a, NULL); i++)
		usleep(100000);
	ck_assert(kube_lease_leading(a, NULL));
	o.identity = "b";
	b = kube_lease_start(client, &o);
	usleep(600000);
	ck_assert(!kube_lease_leading(b, NULL));
	ck_assert(kube_lease_leading(a, NULL));
	kube_lease_stop(a);
	l = get_lease("threads");
	ck_assert_str_eq(holder_of(l), "");
	ck_assert_int_eq(jpath_int(l, "spec.leaseDurationSeconds", 0), 1);
	json_decref(l);
	for (i = 0; i < 30 && !kube_lease_leading(b, NULL); i++) /* < the 3s lease */
		usleep(100000);
	ck_assert(kube_lease_leading(b, NULL));
	kube_lease_stop(b);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("kube_lease");
	TCase *tc = tcase_create("lease");

	tcase_add_unchecked_fixture(tc, sim_start, sim_stop);
	tcase_add_checked_fixture(tc, client_up, client_down);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_validate_texts);
	tcase_add_test(tc, test_acquire_free);
	tcase_add_test(tc, test_held_then_expired);
	tcase_add_test(tc, test_renewal_conflict);
	tcase_add_test(tc, test_race_one_winner);
	tcase_add_test(tc, test_renew_deadline);
	tcase_add_test(tc, test_failure_logged_once);
	tcase_add_test(tc, test_threads_release);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(suite());
}
