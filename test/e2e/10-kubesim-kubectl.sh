#!/usr/bin/env bash
# 10-kubesim-kubectl.sh - the real kubectl against kubesim: discovery, Table
# output, selectors, deployment scaling, and watch resume / 410 via curl.
#
# Usage: BUILD=build test/e2e/10-kubesim-kubectl.sh (helpers: lib.sh)
source "$(dirname "$0")/lib.sh"

# ---- start kubesim ------------------------------------------------------------

if start_kubesim --port 0 --nodes 3 --pods-per-node 4 --seed 7 --watch-cache-size 40 \
	--pod-start-delay 200ms --pod-ready-delay 200ms; then
	ok "kubesim prints its ready line"
else
	notok "kubesim prints its ready line"
	finish
fi
export HOME=$WORK # kubectl's discovery cache stays in the temp dir
CURL=(curl -sS --cacert "$SIM_DIR/ca.crt" --cert "$SIM_DIR/admin.crt" --key "$SIM_DIR/admin.key")

# ---- discovery and tables ------------------------------------------------------------

nodes_listed() {
	local out
	out=$(kubectl get nodes)
	echo "$out"
	[ "$(grep -c ' Ready ' <<<"$out")" = 3 ] && grep -q '^node-0 .*control-plane' <<<"$out"
}
check_out "kubectl get nodes shows 3 Ready nodes" nodes_listed

pods_wide() {
	local out
	out=$(kubectl get pods -A -o wide)
	echo "$out"
	grep -q '^NAMESPACE.*NAME.*READY.*STATUS.*IP.*NODE' <<<"$out" &&
		[ "$(grep -c ' Running ' <<<"$out")" = 12 ] &&
		grep -q 'pod-1-0 .* 10\.64\.1\.2 .* node-1 ' <<<"$out"
}
check_out "kubectl get pods -A -o wide has IP and NODE columns" pods_wide

apiservices() {
	local out
	out=$(kubectl get apiservices)
	echo "$out"
	grep -q '^v1.apps .*Local .*True' <<<"$out"
}
check_out "kubectl get apiservices lists the local groups" apiservices

raw_apis() {
	local out
	out=$(kubectl get --raw /apis)
	grep -q '"name":"apps"' <<<"$out"
}
check_out "kubectl get --raw /apis is an APIGroupList" raw_apis

aggregated_apis() {
	"${CURL[@]}" -D "$WORK/h" -o "$WORK/b" -H \
		'Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' \
		"$SIM_SERVER/apis"
	grep -qi '^content-type: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' "$WORK/h" &&
		grep -q '"kind":"APIGroupDiscoveryList"' "$WORK/b"
}
check_out "/apis answers aggregated discovery v2 with its content type" aggregated_apis

unauthorized() {
	[ "$(curl -sk -o /dev/null -w '%{http_code}' "$SIM_SERVER/api/v1/nodes")" = 401 ]
}
check_out "a client without credentials gets 401" unauthorized

token_client() {
	local out
	out=$(curl -sS --cacert "$SIM_DIR/ca.crt" -H "Authorization: Bearer $(cat "$SIM_DIR/token")" \
		"$SIM_SERVER/api/v1/namespaces/default/pods")
	grep -q '"kind":"PodList"' <<<"$out"
}
check_out "the bearer token authenticates" token_client

# ---- selectors ---------------------------------------------------------------------

label_selector() {
	local two one
	two=$(kubectl get pods -A -l 'app in (app-0,app-1)' --no-headers)
	one=$(kubectl get pods -A -l 'app=app-0' --no-headers)
	[ "$(grep -c . <<<"$two")" = 6 ] && [ "$(grep -c . <<<"$one")" = 3 ]
}
check_out "kubectl -l filters pods by label" label_selector

field_selector() {
	local out
	out=$(kubectl get pods -A --field-selector spec.nodeName=node-2 --no-headers)
	echo "$out"
	[ "$(grep -c . <<<"$out")" = 4 ] && ! grep -qv 'pod-2-' <<<"$out"
}
check_out "kubectl --field-selector spec.nodeName= filters pods" field_selector

bad_selector() {
	local out
	out=$(kubectl get pods -A -l 'app in (a' 2>&1 || true)
	echo "$out"
	grep -q "(BadRequest).*unable to parse requirement: found '', expected: ',' or ')'" <<<"$out"
}
check_out "a bad label selector is a 400 with apimachinery's message" bad_selector

pagination() {
	local first cont
	first=$("${CURL[@]}" "$SIM_SERVER/api/v1/pods?limit=5")
	cont=$(echo "$first" | sed -n 's/.*"continue":"\([^"]*\)".*/\1/p')
	[ -n "$cont" ] && grep -q '"remainingItemCount":7' <<<"$first" &&
		grep -q '"remainingItemCount":2' <<<"$("${CURL[@]}" "$SIM_SERVER/api/v1/pods?limit=5&continue=$cont")"
}
check_out "limit/continue pages through pods" pagination

# ---- deployment scaling ------------------------------------------------------------------

cat >"$WORK/web.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
      annotations: {kubesim.io/cpu: "const:100m"}
    spec:
      containers:
      - name: web
        image: nginx
        resources: {requests: {cpu: 100m, memory: 64Mi}}
EOF
check_out "kubectl apply creates a deployment" kubectl apply -f "$WORK/web.yaml"

running_web() {
	local want=$1 out
	out=$(kubectl get pods -l app=web --no-headers)
	echo "$out"
	[ "$(grep -c ' 1/1 .*Running' <<<"$out")" = "$want" ] &&
		[ "$(grep -c . <<<"$out")" = "$want" ]
}
eventually 10 "deployment pods become Running and Ready" running_web 2
check_out "kubectl scale deployment --replicas=4" kubectl scale deployment web --replicas=4
eventually 10 "scaled-up pods appear" running_web 4

deploy_ready() {
	local out
	out=$(kubectl get deploy web --no-headers)
	echo "$out"
	grep -q '^web *4/4 *4 *4 ' <<<"$out"
}
eventually 10 "deployment status counts 4/4 ready" deploy_ready

pod_names() {
	local out
	out=$(kubectl get pods -l app=web -o name)
	echo "$out"
	[ "$(grep -c . <<<"$out")" = 4 ] &&
		! grep -Evq '^pod/web-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}$' <<<"$out"
}
check_out "pods are named <deploy>-<hash>-<5 chars>" pod_names
check_out "kubectl scale deployment --replicas=1" kubectl scale deployment web --replicas=1
eventually 10 "scaled-down pods disappear" running_web 1

scale_subresource() {
	local out
	out=$(kubectl get --raw /apis/apps/v1/namespaces/default/deployments/web/scale)
	echo "$out"
	grep -q '"spec":{"replicas":1},"status":{"replicas":1,"selector":"app=web"}' <<<"$out"
}
eventually 5 "the scale subresource reports replicas and selector" scale_subresource

imperative_create() {
	local out
	kubectl create namespace e2e-ns &&
		kubectl create configmap cm1 -n e2e-ns --from-literal=k=v &&
		out=$(kubectl get configmap cm1 -n e2e-ns -o jsonpath='{.data.k}') &&
		[ "$out" = v ]
}
check_out "kubectl create namespace/configmap (protobuf bodies) work" imperative_create

# ---- watch resume and 410 ---------------------------------------------------------------

watch_resume() {
	local rv
	rv=$("${CURL[@]}" "$SIM_SERVER/api/v1/namespaces/team-a/pods" |
		sed -n 's/.*"metadata":{"resourceVersion":"\([0-9]*\)".*/\1/p' | head -1)
	kubectl label pod -n team-a pod-1-1 resumed=yes >/dev/null
	kubectl annotate node node-0 kubesim.io/fault=slow=1s >/dev/null
	timeout 3 "${CURL[@]}" -N "$SIM_SERVER/api/v1/namespaces/team-a/pods?watch=1&resourceVersion=$rv" \
		>"$WORK/watch.out" || true
	cat "$WORK/watch.out"
	[ "$(grep -c . "$WORK/watch.out")" = 1 ] &&
		grep -q '"type":"MODIFIED".*"name":"pod-1-1".*"resumed":"yes"' "$WORK/watch.out"
}
check_out "a watch resumed from a resourceVersion gets only later events" watch_resume

watch_gone() {
	local rv i
	rv=$("${CURL[@]}" "$SIM_SERVER/api/v1/nodes" |
		sed -n 's/.*"metadata":{"resourceVersion":"\([0-9]*\)".*/\1/p' | head -1)
	for i in $(seq 1 45); do
		kubectl label node node-1 churn="$i" --overwrite >/dev/null
	done
	timeout 3 "${CURL[@]}" -N "$SIM_SERVER/api/v1/nodes?watch=1&resourceVersion=$rv" \
		>"$WORK/gone.out" || true
	cat "$WORK/gone.out"
	grep -q '"type":"ERROR","object":{"kind":"Status".*"reason":"Expired","code":410' "$WORK/gone.out"
}
check_out "a watch from an expired resourceVersion gets a 410 Expired event" watch_gone

node_not_ready() {
	"${CURL[@]}" -X POST -H 'Content-Type: application/json' -d '{"ready":false}' \
		"$SIM_SERVER/kubesim/v1/nodes/node-2/ready" >/dev/null &&
		grep -q ' NotReady ' <<<"$(kubectl get node node-2 --no-headers)"
}
check_out "the control endpoint flips a node NotReady" node_not_ready

finish
