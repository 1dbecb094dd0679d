/*
 * live.c - the scenario of `hpa explain --live <namespace>/<hpa>`:
 * what the embedded loop would give hpa_decide for that HPA now, read from
 * the cluster with the loop's own reads (the Scale and the pods of its
 * selector: fetch.c; the Pods, Object and External metrics:
 * metrics.c; the other HPAs' selectors: peers.c).  Only the pod
 * metrics come another way: the loop reads its store in-process, this
 * lists metrics.k8s.io/v1beta1 PodMetrics through kube-apiserver (the
 * aggregation layer, so the running metrics-apiserver).  A failure is put
 * in the scenario as the loop meets it (a failed Scale GET as its error
 * text, failing PodMetrics or custom/external metrics as a failing API
 * group), so the
 * explanation shows what the loop would show.  The controller's memory
 * (recommendations, scale events) cannot be read from outside: the
 * scenario has no history, as for an HPA the controller never saw.
 */
#include "hpaloop/hpaloop_int.h"
#include "kube/kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --kubeconfig, else the first file of $KUBECONFIG, else "" (in-cluster); caller frees. */
static char *kubeconfig_path(const char *flag)
{
	const char *env = getenv("KUBECONFIG");

	if (flag && *flag)
		return xstrdup(flag);
	if (!env)
		return xstrdup("");
	while (*env == ':')
		env++;
	return xstrndup(env, strcspn(env, ":"));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The PodMetrics items of the listed pods (as the loop, which builds them
 * for the listed pods only; new reference), from a PodMetricsList.
 */
static json_t *metrics_of_pods(const json_t *list, const json_t *pods)
{
	size_t n = 0, i;
	const char **names = xcalloc(json_array_size(pods) + 1, sizeof(*names));
	const json_t *e;
	json_t *out = json_array();

	json_array_foreach(pods, i, e) {
		if (jpath_str(e, "metadata.name"))
			names[n++] = jpath_str(e, "metadata.name");
	}
	qsort(names, n, sizeof(*names), cmp_str);
	json_array_foreach(json_object_get(list, "items"), i, e) {
		const char *name = jpath_str(e, "metadata.name");

		if (name && bsearch(&name, names, n, sizeof(*names), cmp_str))
			json_array_append(out, (json_t *)e);
	}
	free(names);
	return out;
}

/* The PodMetrics of the target's pods; a failing API sets HPA_API_RESOURCE. */
static json_t *pod_metrics(struct kube_client *c, const char *ns, const struct hpaloop__target *t,
			   unsigned *failing)
{
	const char *sel = jpath_str(t->scale, "status.selector");
	char err[HPALOOP_ERRLEN], *q, *path;
	json_t *list = NULL, *out;

	if (json_array_size(t->pods) == 0 || !sel)
		return json_array(); /* the loop has no pod to look up either */
	q = url_query_escape(sel);
	path = xasprintf("/apis/metrics.k8s.io/v1beta1/namespaces/%s/pods?labelSelector=%s", ns, q);
	if (hpaloop__api_call(c, "GET", path, NULL, &list, err, sizeof(err)) != 0) {
		fprintf(stderr, "hpa explain: cannot list PodMetrics (%s): explained with "
				"metrics.k8s.io failing\n",
			err);
		*failing |= HPA_API_RESOURCE;
	}
	out = metrics_of_pods(list, t->pods);
	free(q);
	free(path);
	json_decref(list);
	return out;
}

/* hpaloop__metric_fail_fn: the loop logs these, a person asking wants to know. */
static void metric_failed(void *ud, const char *path, const char *err)
{
	(void)ud;
	fprintf(stderr, "hpa explain: GET %s failed (%s): explained with its metrics API "
			"failing\n",
		path, err);
}

/* hpaloop__selector_fn: the loop logs these at -v 2, a person asking wants to know. */
static char *other_selector(void *ud, const json_t *hpa)
{
	char err[HPALOOP_ERRLEN];
	char *sel = hpaloop__scale_selector(ud, hpa, err, sizeof(err));

	if (!sel)
		fprintf(stderr, "hpa explain: HPA %s is left out of the ambiguity check: %s\n",
			jpath_str(hpa, "metadata.name"), err);
	return sel;
}

/* The other HPAs of ns with their scale selectors; NULL with err when they cannot be listed. */
static json_t *others(struct kube_client *c, const char *ns, const char *self, char *err,
		      size_t errlen)
{
	char *path = xasprintf("/apis/autoscaling/v2/namespaces/%s/horizontalpodautoscalers", ns);
	json_t *list = NULL, *out = NULL;
	struct hpaloop__peers peers;

	if (hpaloop__api_call(c, "GET", path, NULL, &list, err, errlen) == 0) {
		hpaloop__peers_init(&peers, json_object_get(list, "items"), HPALOOP_MODE_OFF);
		out = hpaloop__peers_others(&peers, NULL, ns, self, other_selector, c);
		hpaloop__peers_clear(&peers);
	}
	json_decref(list);
	free(path);
	return out;
}

/* Reads everything but the client setup; NULL with err on a failure. */
static json_t *assemble(struct kube_client *c, const struct hpaloop_live_request *rq, char *err,
			size_t errlen)
{
	struct hpa_input in = { .now = clock_now_ns(), .opts = rq->opts };
	char *path = xasprintf("/apis/autoscaling/v2/namespaces/%s/horizontalpodautoscalers/%s",
			       rq->ns, rq->name);
	struct hpaloop__target t = { 0 };
	struct hpaloop__metric_values mv = { 0 };
	json_t *hpa = NULL, *pm = NULL, *oth = NULL, *doc = NULL;

	if (hpaloop__api_call(c, "GET", path, NULL, &hpa, err, errlen) != 0 ||
	    hpaloop__target_fetch(c, hpa, rq->ns, &t, err, errlen) != 0)
		goto out;
	oth = others(c, rq->ns, rq->name, err, errlen);
	if (!oth)
		goto out;
	pm = pod_metrics(c, rq->ns, &t, &in.failing_apis);
	hpaloop__metric_values_fetch(NULL, c, hpa, rq->ns, t.scale, &mv, metric_failed, NULL);
	in.failing_apis |= mv.failing;
	in.custom_metrics = mv.custom;
	in.external_metrics = mv.external;
	in.hpa = hpa;
	in.scale = t.scale;
	in.scale_get_error = t.get_error[0] ? t.get_error : NULL;
	in.pods = t.pods;
	in.pod_metrics = pm;
	in.others = oth;
	doc = hpa_scenario_json(&in, NULL);
out:
	hpaloop__target_clear(&t);
	hpaloop__metric_values_clear(&mv);
	json_decref(hpa);
	json_decref(pm);
	json_decref(oth);
	free(path);
	return doc;
}

json_t *hpaloop_live_scenario(const struct hpaloop_live_request *rq, char *err, size_t errlen)
{
	char *file = kubeconfig_path(rq->kubeconfig);
	struct kube_config cfg;
	struct kube_client *c;
	json_t *doc = NULL;
	char why[384];

	if (kube_config_load(file, &cfg, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "cannot load the client config%s%s: %s", *file ? " " : "",
			 file, why);
		free(file);
		return NULL;
	}
	free(file);
	c = kube_client_new(&cfg);
	if (!c)
		snprintf(err, errlen, "cannot set up the kube-apiserver client");
	else
		doc = assemble(c, rq, err, errlen);
	kube_client_free(c);
	kube_config_clear(&cfg);
	return doc;
}
