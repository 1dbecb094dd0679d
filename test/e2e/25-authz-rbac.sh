#!/usr/bin/env bash
# 25-authz-rbac.sh - delegated authorization end to end: the server asks
# kubesim (SubjectAccessReview) about every request kubesim's aggregator
# proxies, and kubesim answers from RBAC objects applied with the real
# kubectl (test/e2e/data/authz-rbac.yaml).  Users are client certificates
# of kubesim's CA (CN = user, O = group), each with its own kubeconfig.  Last,
# a second server whose --authorization-kubeconfig names a dead apiserver:
# the 500 InternalError text, and kubectl's rendering of it.
source "$(dirname "$0")/lib.sh"

start_kubesim --nodes 2 --pods-per-node 4
start_server --metric-resolution 10s --kubelet-request-timeout 5s --kubelet-use-node-status-port \
	--kubelet-preferred-address-types InternalIP \
	--kubelet-certificate-authority "$SIM_DIR/ca.crt" \
	--requestheader-client-ca-file "$SIM_DIR/front-proxy-ca.crt" \
	--requestheader-allowed-names front-proxy-client
register_apiservice
check "APIService becomes Available" wait_until 40 apiservice_available v1beta1.metrics.k8s.io
check "the admin (system:masters) gets kubectl top pods" \
	wait_until 40 kubectl top pods -n team-a

sar_count() { kubectl get --raw /kubesim/v1/stats | json_eval 'd["subjectAccessReviews"]'; }

kubesim_user jane
kubesim_user bob
kubesim_user carol readers

# ---- before any RBAC: everyone but the admin is forbidden ----------------------------
out=$(as jane top pods -n team-a 2>&1 || true)
check_eq "no binding yet: jane is forbidden" \
	'Error from server (Forbidden): pods.metrics.k8s.io is forbidden: User "jane" cannot list resource "pods" in API group "metrics.k8s.io" in the namespace "team-a"' "$out"

check_out "kubectl apply -f of the RBAC objects" \
	kubectl apply -f "$(dirname "$0")/data/authz-rbac.yaml"
kubectl get roles,rolebindings -n team-a | as_comment
kubectl get clusterrolebinding readers-view -o wide | as_comment

# The denial above is cached for the unauthorized TTL (10s by default).
check "jane gets kubectl top pods -n team-a once the cache expires" \
	wait_until 20 as jane top pods -n team-a
out=$(as jane top pods -n team-a)
echo "$out" | as_comment
check "jane: top pods header" grep -q '^NAME *CPU(cores) *MEMORY(bytes)' <<<"$out"
check "jane: a team-a pod with values" grep -Eq '^pod-[0-9]+-[0-9]+ +[0-9]+m +[0-9]+Mi' <<<"$out"
check "jane: kubectl top pod NAME" as jane top pod -n team-a "$(awk 'NR==2 {print $1}' <<<"$out")"

out=$(as jane top pods -n team-b 2>&1 || true)
check_eq "jane in another namespace: kubectl's Forbidden text" \
	'Error from server (Forbidden): pods.metrics.k8s.io is forbidden: User "jane" cannot list resource "pods" in API group "metrics.k8s.io" in the namespace "team-b"' "$out"
out=$(as jane top nodes 2>&1 || true)
check_eq "jane and nodes: forbidden at the cluster scope" \
	'Error from server (Forbidden): nodes.metrics.k8s.io is forbidden: User "jane" cannot list resource "nodes" in API group "metrics.k8s.io" at the cluster scope' "$out"
out=$(as bob top pods -n team-a 2>&1 || true)
check_eq "bob (no binding): kubectl's Forbidden text" \
	'Error from server (Forbidden): pods.metrics.k8s.io is forbidden: User "bob" cannot list resource "pods" in API group "metrics.k8s.io" in the namespace "team-a"' "$out"

# ---- the aggregated view role through a group --------------------------------------
check "carol (group readers -> view -> aggregated-metrics-reader): top nodes" \
	wait_until 20 as carol top nodes
check "carol: top pods -A" as carol top pods -A

# ---- the cache: repeated requests make no new review -------------------------------
as jane top pods -n team-a >/dev/null
before=$(sar_count)
for _ in 1 2 3 4 5; do as jane top pods -n team-a >/dev/null; done
after=$(sar_count)
# (at most one review from the aggregator's periodic discovery in between)
check_range "5 cached requests: kubesim answered at most 1 review" 0 1 $((after - before))

# ---- RBAC objects are REST objects: kubectl delete, and a review made with kubectl --
sar_jane() {
	kubectl create --validate=false -o jsonpath='{.status.allowed}' -f - <<'YAML'
apiVersion: authorization.k8s.io/v1
kind: SubjectAccessReview
spec:
  user: jane
  resourceAttributes: {namespace: team-a, verb: list, group: metrics.k8s.io, resource: pods}
YAML
}
check_eq "a SubjectAccessReview for jane (kubectl create): allowed" true "$(sar_jane)"
check_out "kubectl delete rolebinding" kubectl delete rolebinding -n team-a jane-reads-pod-metrics
check_eq "no RoleBinding left in team-a" "" "$(kubectl get rolebindings -n team-a -o name)"
check_eq "the same review once the binding is gone: not allowed" false "$(sar_jane)"

# ---- straight to the server --------------------------------------------------------
code=$(curl -ks -o /dev/null -w '%{http_code}' "https://127.0.0.1:$MAS_PORT/version")
check_eq "anonymous /version is allowed (system:public-info-viewer)" 200 "$code"
out=$(curl -ks "https://127.0.0.1:$MAS_PORT/apis/metrics.k8s.io/v1beta1/nodes")
check_eq "anonymous node metrics: 403 Status" \
	'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"nodes.metrics.k8s.io is forbidden: User \"system:anonymous\" cannot list resource \"nodes\" in API group \"metrics.k8s.io\" at the cluster scope","reason":"Forbidden","details":{"group":"metrics.k8s.io","kind":"nodes"},"code":403}' \
	"$out"
code=$(curl -ks -o /dev/null -w '%{http_code}' "https://127.0.0.1:$MAS_PORT/readyz")
check_eq "anonymous /readyz: always allowed" 200 "$code"

# ---- the review endpoint down: --authorization-kubeconfig to a dead apiserver -------
DEAD=$(free_port)
sed "s#server: .*#server: https://127.0.0.1:$DEAD#" "$KUBECONFIG" >"$WORK/dead.kubeconfig"
start_server --metric-resolution 10s --kubelet-request-timeout 5s \
	--kubelet-use-node-status-port --kubelet-preferred-address-types InternalIP \
	--kubelet-certificate-authority "$SIM_DIR/ca.crt" \
	--requestheader-client-ca-file "$SIM_DIR/front-proxy-ca.crt" \
	--requestheader-allowed-names front-proxy-client \
	--authorization-kubeconfig "$WORK/dead.kubeconfig"
out=$(curl -s --cacert "$WORK/certs/apiserver.crt" --cert "$SIM_DIR/front-proxy-client.crt" \
	--key "$SIM_DIR/front-proxy-client.key" -H 'X-Remote-User: jane' \
	"https://127.0.0.1:$MAS_PORT/apis/metrics.k8s.io/v1beta1/namespaces/team-a/pods?limit=500&labelSelector=app%3Dx")
check_eq "review endpoint down: 500 with the InternalError text" \
	"Internal Server Error: \"/apis/metrics.k8s.io/v1beta1/namespaces/team-a/pods?limit=500&amp;labelSelector=app%3Dx\": Post \"https://127.0.0.1:$DEAD/apis/authorization.k8s.io/v1/subjectaccessreviews?timeout=10s\": dial tcp 127.0.0.1:$DEAD: connect: connection refused" \
	"$out"
kubectl annotate apiservice v1beta1.metrics.k8s.io "kubesim.io/endpoint=127.0.0.1:$MAS_PORT" \
	--overwrite >/dev/null
want="Error from server (InternalError): an error on the server (\"Internal Server Error: \\\"/apis/metrics.k8s.io/v1beta1/namespaces/team-a/pods\\\": Post \\\"https://127.0.0.1:$DEAD/apis/authorization.k8s.io/v1/subjectaccessreviews?timeout=10s\\\": dial tcp 127.0.0.1:$DEAD: connect: connection refused\") has prevented the request from succeeding (get pods.metrics.k8s.io)"
jane_sees_500() { [ "$(as jane top pods -n team-a 2>&1)" = "$want" ]; }
eventually 30 "review endpoint down: kubectl prints client-go's InternalError text" jane_sees_500
check "the admin (system:masters) still reads metrics without a review" \
	wait_until 30 kubectl top pods -n team-a

finish
