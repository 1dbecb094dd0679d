/*
 * restmapper.c - the group-resources a Kubernetes 1.32 cluster serves
 * built in, as prometheus-adapter's RESTMapper resolves a label's
 * resource: plural, singular or kind, any case; a group given must match
 * (with '.' and '-' read as '_', the form resources.template's .Group
 * takes); no group means any group, the core group first.  The adapter
 * asks the cluster's discovery; we do not, so CustomResourceDefinitions
 * are unknown here: an override naming one is kept as written (made
 * plural), a label a template would map to one is skipped.
 */
#include "rules/rules_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

struct known {
	const char *group, *plural, *singular;
};

/* Core first: a bare "events" or "pods" is the core group's. */
static const struct known KNOWN[] = {
	{ "", "bindings", "binding" },
	{ "", "componentstatuses", "componentstatus" },
	{ "", "configmaps", "configmap" },
	{ "", "endpoints", "endpoints" },
	{ "", "events", "event" },
	{ "", "limitranges", "limitrange" },
	{ "", "namespaces", "namespace" },
	{ "", "nodes", "node" },
	{ "", "persistentvolumeclaims", "persistentvolumeclaim" },
	{ "", "persistentvolumes", "persistentvolume" },
	{ "", "pods", "pod" },
	{ "", "podtemplates", "podtemplate" },
	{ "", "replicationcontrollers", "replicationcontroller" },
	{ "", "resourcequotas", "resourcequota" },
	{ "", "secrets", "secret" },
	{ "", "serviceaccounts", "serviceaccount" },
	{ "", "services", "service" },
	{ "admissionregistration.k8s.io", "mutatingwebhookconfigurations",
	  "mutatingwebhookconfiguration" },
	{ "admissionregistration.k8s.io", "validatingadmissionpolicies",
	  "validatingadmissionpolicy" },
	{ "admissionregistration.k8s.io", "validatingadmissionpolicybindings",
	  "validatingadmissionpolicybinding" },
	{ "admissionregistration.k8s.io", "validatingwebhookconfigurations",
	  "validatingwebhookconfiguration" },
	{ "apiextensions.k8s.io", "customresourcedefinitions", "customresourcedefinition" },
	{ "apiregistration.k8s.io", "apiservices", "apiservice" },
	{ "apps", "controllerrevisions", "controllerrevision" },
	{ "apps", "daemonsets", "daemonset" },
	{ "apps", "deployments", "deployment" },
	{ "apps", "replicasets", "replicaset" },
	{ "apps", "statefulsets", "statefulset" },
	{ "authentication.k8s.io", "selfsubjectreviews", "selfsubjectreview" },
	{ "authentication.k8s.io", "tokenreviews", "tokenreview" },
	{ "authorization.k8s.io", "localsubjectaccessreviews", "localsubjectaccessreview" },
	{ "authorization.k8s.io", "selfsubjectaccessreviews", "selfsubjectaccessreview" },
	{ "authorization.k8s.io", "selfsubjectrulesreviews", "selfsubjectrulesreview" },
	{ "authorization.k8s.io", "subjectaccessreviews", "subjectaccessreview" },
	{ "autoscaling", "horizontalpodautoscalers", "horizontalpodautoscaler" },
	{ "batch", "cronjobs", "cronjob" },
	{ "batch", "jobs", "job" },
	{ "certificates.k8s.io", "certificatesigningrequests", "certificatesigningrequest" },
	{ "coordination.k8s.io", "leases", "lease" },
	{ "discovery.k8s.io", "endpointslices", "endpointslice" },
	{ "events.k8s.io", "events", "event" },
	{ "flowcontrol.apiserver.k8s.io", "flowschemas", "flowschema" },
	{ "flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations",
	  "prioritylevelconfiguration" },
	{ "networking.k8s.io", "ingressclasses", "ingressclass" },
	{ "networking.k8s.io", "ingresses", "ingress" },
	{ "networking.k8s.io", "networkpolicies", "networkpolicy" },
	{ "node.k8s.io", "runtimeclasses", "runtimeclass" },
	{ "policy", "poddisruptionbudgets", "poddisruptionbudget" },
	{ "rbac.authorization.k8s.io", "clusterrolebindings", "clusterrolebinding" },
	{ "rbac.authorization.k8s.io", "clusterroles", "clusterrole" },
	{ "rbac.authorization.k8s.io", "rolebindings", "rolebinding" },
	{ "rbac.authorization.k8s.io", "roles", "role" },
	{ "scheduling.k8s.io", "priorityclasses", "priorityclass" },
	{ "storage.k8s.io", "csidrivers", "csidriver" },
	{ "storage.k8s.io", "csinodes", "csinode" },
	{ "storage.k8s.io", "csistoragecapacities", "csistoragecapacity" },
	{ "storage.k8s.io", "storageclasses", "storageclass" },
	{ "storage.k8s.io", "volumeattachments", "volumeattachment" },
};

/* group as the rules wrote it against a known group ('.' and '-' may be '_'). */
static bool same_group(const char *want, const char *known)
{
	for (; *want && *known; want++, known++) {
		char w = (char)tolower((unsigned char)*want);

		if (w != *known && !(w == '_' && (*known == '.' || *known == '-')))
			return false;
	}
	return !*want && !*known;
}

static bool same_word(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

bool rules__restmap(const char *group, const char *resource, struct rules_group_resource *out)
{
	for (size_t i = 0; i < COMMON_ARRAY_LEN(KNOWN); i++) {
		const struct known *k = &KNOWN[i];

		if (group && *group && !same_group(group, k->group))
			continue;
		if (same_word(resource, k->plural) || same_word(resource, k->singular)) {
			out->group = (char *)k->group;
			out->resource = (char *)k->plural;
			return true;
		}
	}
	return false;
}
