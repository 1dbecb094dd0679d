/*
 * hpaloop_metrics_fixture.h - what the check_hpa_metrics_* suites share
 * (linked into each of them by the Makefile): the two metrics APIs' path
 * prefixes, JSON from test text, and an HPA over Deployment web (2 Ready
 * pods, scale selector app=web) whose decision hpa_decide makes from the
 * metric values a suite collected or fetched.
 */
#ifndef TEST_UNIT_HPA_METRICS_FIXTURE_H
#define TEST_UNIT_HPA_METRICS_FIXTURE_H

#include <jansson.h>

#include "hpaloop/hpaloop_int.h"

#define CM "/apis/custom.metrics.k8s.io/v1beta2/namespaces/"
#define EM "/apis/external.metrics.k8s.io/v1beta1/namespaces/"

/* text parsed (caller decrefs); fails the test when it is not JSON. */
json_t *parse(const char *text);

/* An HPA web in ns1 over Deployment web (2 replicas) with the given
 * metrics (a JSON array as text) and minReplicas min. */
json_t *hpa_with(const char *metrics_json, int min);

/* The Scale of Deployment web: 2 replicas, selector app=web. */
json_t *scale2(void);

/* hpa_decide over hpa with v's values, scale2() and its two Ready pods
 * at 2023-11-14T22:13:20Z; fails the test unless it returns 0.  The
 * caller releases r. */
void decide(const json_t *hpa, const struct hpaloop__metric_values *v, struct hpa_result *r);

#endif
