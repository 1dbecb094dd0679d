#!/usr/bin/env bash
# 90-drop-in.sh - issue 12's drop-in test: manifests/ rendered with
# `kubectl kustomize` and applied to kubesim with the real kubectl; the
# binary started with exactly the rendered Deployment's args (base, then the
# insecure-kubelet-tls overlay), then with exactly metrics-server's own
# release manifest args (test/data/metrics-server/components-args.txt).
# Only what a pod would get is added: --kubeconfig (the ServiceAccount's
# identity: a client certificate for system:serviceaccount:kube-system:
# metrics-server, since kubesim issues no tokens) and the port mapping
# (--secure-port to a free port, --bind-address 127.0.0.1); paths go into
# the work dir.  No CA flag: the server reads kube-system/extension-
# apiserver-authentication.  Through kubesim's aggregator, users allowed by
# RBAC (view through a ClusterRoleBinding; view through a RoleBinding in
# one namespace) get `kubectl top`; others get kubectl's Forbidden text.
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SA=system:serviceaccount:kube-system:metrics-server

start_kubesim --nodes 2 --pods-per-node 2

# ---- render and apply ---------------------------------------------------------------
for dir in base overlays/insecure-kubelet-tls; do
	kubectl kustomize "$ROOT/manifests/$dir" >"$WORK/$(basename "$dir").yaml"
done
check_eq "the base renders metrics-server's kinds" \
	"APIService ClusterRole ClusterRoleBinding Deployment RoleBinding Service ServiceAccount" \
	"$(rendered "$WORK/base.yaml" kinds)"
set +e
kubectl apply -f "$WORK/base.yaml" >"$WORK/apply.out" 2>"$WORK/apply.err"
set -e
as_comment <"$WORK/apply.out"
as_comment <"$WORK/apply.err"
for obj in clusterrole.rbac.authorization.k8s.io/system:aggregated-metrics-reader \
	clusterrole.rbac.authorization.k8s.io/system:metrics-server \
	clusterrolebinding.rbac.authorization.k8s.io/system:metrics-server \
	clusterrolebinding.rbac.authorization.k8s.io/metrics-server:system:auth-delegator \
	rolebinding.rbac.authorization.k8s.io/metrics-server-auth-reader \
	serviceaccount/metrics-server service/metrics-server deployment.apps/metrics-server \
	apiservice.apiregistration.k8s.io/v1beta1.metrics.k8s.io; do
	check "kubectl apply: $obj created" grep -qx "$obj created" "$WORK/apply.out"
done
check_out "kubectl apply of the insecure-kubelet-tls overlay" kubectl apply -f "$WORK/insecure-kubelet-tls.yaml"

# ---- the manifests' RBAC for the server's own identity (kubesim's reviews) ----------
# review USER VERB GROUP RESOURCE NAMESPACE [NAME]: status.allowed of a
# SubjectAccessReview created with kubectl
review() {
	kubectl create --validate=false -o jsonpath='{.status.allowed}' -f - <<YAML
apiVersion: authorization.k8s.io/v1
kind: SubjectAccessReview
spec:
  user: $1
  groups: [system:serviceaccounts, system:serviceaccounts:kube-system, system:authenticated]
  resourceAttributes: {verb: $2, group: "$3", resource: $4, namespace: "$5", name: "${6:-}"}
YAML
}
check_eq "RBAC: the ServiceAccount reads the extension-apiserver-authentication ConfigMap" true \
	"$(review "$SA" get "" configmaps kube-system extension-apiserver-authentication)"
check_eq "RBAC: the ServiceAccount creates SubjectAccessReviews (auth-delegator)" true \
	"$(review "$SA" create authorization.k8s.io subjectaccessreviews "")"
check_eq "RBAC: the ServiceAccount creates TokenReviews (auth-delegator)" true \
	"$(review "$SA" create authentication.k8s.io tokenreviews "")"
check_eq "RBAC: the ServiceAccount gets nodes/metrics" true \
	"$(review "$SA" get "" nodes/metrics "" node-0)"
check_eq "RBAC: the ServiceAccount lists pods" true "$(review "$SA" list "" pods "")"
check_eq "RBAC: the ServiceAccount may not read other ConfigMaps" false \
	"$(review "$SA" get "" configmaps kube-system kube-proxy)"
check_eq "RBAC: nor Secrets" false "$(review "$SA" list "" secrets kube-system)"

# ---- users ------------------------------------------------------------------------------
NS=$(kubectl get pods -A --no-headers | awk '$1 != "kube-system" {print $1; exit}')
kubesim_user "$SA" system:serviceaccounts
kubesim_user viewer
kubesim_user nsviewer
kubesim_user nobody
# (as YAML: `kubectl create clusterrolebinding` sends protobuf, which kubesim
# does not decode for RBAC kinds)
check_out "kubectl apply: viewer bound to view cluster-wide, nsviewer in $NS" kubectl apply -f - <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: viewer-view}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: viewer}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: nsviewer-view, namespace: $NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: nsviewer}]
YAML

# drop_in LABEL ARGS-FILE: the binary with exactly those args (paths and
# port mapped), registered as the APIService's backend, then the checks.
drop_in() {
	local label=$1 a args=() port out
	port=$(free_port)
	check "$label: no CA flag among the args" \
		bash -c "! grep -Eq -- '--(requestheader-client-ca-file|client-ca-file)' '$2'"
	while read -r a; do
		case $a in
		--cert-dir=/tmp) a=--cert-dir=$WORK/$label/tmp ;;
		--secure-port=*) a=--secure-port=$port ;;
		esac
		args+=("$a")
	done <"$2"
	mkdir -p "$WORK/$label/tmp"
	"$BUILD/metrics-apiserver" "${args[@]}" --bind-address=127.0.0.1 \
		--kubeconfig="$WORK/${SA//:/_}.kubeconfig" >"$WORK/$label.log" 2>&1 &
	MAS_PID=$!
	E2E_PIDS+=("$MAS_PID")
	echo "# $label: metrics-apiserver ${args[*]} --bind-address=127.0.0.1 --kubeconfig=SA"
	check "$label: the server is live" wait_until 20 curl -ksf "https://127.0.0.1:$port/livez"
	kubectl annotate apiservice v1beta1.metrics.k8s.io "kubesim.io/endpoint=127.0.0.1:$port" \
		--overwrite >/dev/null
	eventually 40 "$label: viewer (ClusterRoleBinding to view) gets kubectl top nodes" \
		as viewer top nodes node-0
	out=$(as viewer top nodes --no-headers | awk '{print $1}' | tr '\n' ' ')
	check_eq "$label: kubectl top nodes lists both nodes" "node-0 node-1 " "$out"
	eventually 40 "$label: nsviewer (RoleBinding to view in $NS) gets kubectl top pods" \
		as nsviewer top pods -n "$NS"
	out=$(as nsviewer top pods -n "$NS")
	echo "$out" | as_comment
	check "$label: a pod with CPU and memory" grep -Eq '^[^ ]+ +[0-9]+m +[0-9]+Mi' <<<"$out"
	check_eq "$label: nsviewer and nodes: kubectl's Forbidden text" \
		"$(top_forbidden nodes nsviewer)" "$(as nsviewer top nodes 2>&1 || true)"
	check_eq "$label: nsviewer in kube-system: kubectl's Forbidden text" \
		"$(top_forbidden pods nsviewer kube-system)" "$(as nsviewer top pods -n kube-system 2>&1 || true)"
	check_eq "$label: nobody (no binding): kubectl's Forbidden text for pods" \
		"$(top_forbidden pods nobody "$NS")" "$(as nobody top pods -n "$NS" 2>&1 || true)"
	check_eq "$label: nobody: kubectl's Forbidden text for nodes" \
		"$(top_forbidden nodes nobody)" "$(as nobody top nodes 2>&1 || true)"
	check "$label: the server never logged a flag as unknown" \
		bash -c "! grep -qi 'unknown flag' '$WORK/$label.log'"
	kill "$MAS_PID" 2>/dev/null || true
	wait "$MAS_PID" 2>/dev/null || true
}

rendered "$WORK/base.yaml" args >"$WORK/base.args"
rendered "$WORK/insecure-kubelet-tls.yaml" args >"$WORK/insecure.args"
check "the overlay adds --kubelet-insecure-tls" grep -qx -- --kubelet-insecure-tls "$WORK/insecure.args"
drop_in base "$WORK/base.args"
drop_in insecure-kubelet-tls "$WORK/insecure.args"
grep -v '^#' "$ROOT/test/data/metrics-server/components-args.txt" >"$WORK/upstream.args"
drop_in metrics-server-release "$WORK/upstream.args"
finish
