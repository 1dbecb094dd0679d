#!/usr/bin/env bash
# 92-drop-in-overlays.sh - issue 12's drop-in test for the overlays that
# 90-drop-in.sh does not run: custom-external, with-hpa and
# high-availability, each rendered with `kubectl kustomize`, applied to
# kubesim with the real kubectl, and the binary started with exactly the
# rendered Deployment's args (paths mapped as the pod sees them: the
# emptyDir and the mounted ConfigMap under the work dir; --secure-port to
# a free port, --bind-address 127.0.0.1, --kubeconfig the ServiceAccount's
# client certificate).  kubesim runs with --rbac-enforce
# system:serviceaccount:, so the server's own requests
# (system:serviceaccount:kube-system:metrics-server) are authorized by the
# RBAC the manifests apply, and nothing else: least privilege is tested.
#   custom-external: the four APIServices Available; through the
#     aggregator the user the overlay binds (the HPA controller's
#     ServiceAccount) reads custom.metrics.k8s.io (the overlay's rule) and
#     gets past authorization on external.metrics.k8s.io; a user without
#     a binding gets kube-apiserver's Forbidden texts for both.
#   with-hpa: the embedded HPA scales a Deployment with only the overlay's
#     RBAC; when `update` on */scale is taken away, the server logs ONE
#     warning naming the permission over several passes, keeps serving
#     the metrics API, and scales again once the permission is back.
#   high-availability: two replicas with the rendered args: both serve
#     `kubectl top`, exactly one holds the Lease (48-hpa-leader-election.sh
#     tests the election itself).
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SA=system:serviceaccount:kube-system:metrics-server
HPA_SA=system:serviceaccount:kube-system:horizontal-pod-autoscaler
LEASE_NAME=metrics-apiserver # --leader-elect-resource-name's default
# web's pods share LOAD at 1m per unit, request 100m, target 50 %:
# ceil(LOAD / 50) replicas.
LOAD_1=290 EXPECT_1=6 LOAD_2=440 EXPECT_2=9
FAILED_PASSES=3 # passes refused a Scale write before the log is counted

APP_PORT=$(free_port)
sed "s/@PORT@/$APP_PORT/g" "$(dirname "$0")/data/overlays-cluster.yaml" >"$WORK/cluster.yaml"
start_kubesim --nodes 2 --pods-per-node 0 --config "$WORK/cluster.yaml" \
	--rbac-enforce system:serviceaccount:

for o in custom-external with-hpa high-availability; do
	kubectl kustomize "$ROOT/manifests/overlays/$o" >"$WORK/$o.yaml"
done
check_out "kubectl apply of the custom-external overlay" kubectl apply -f "$WORK/custom-external.yaml"
check_out "kubectl apply of the with-hpa overlay" kubectl apply -f "$WORK/with-hpa.yaml"

kubesim_user "$SA" system:serviceaccounts
kubesim_user "$HPA_SA" system:serviceaccounts
kubesim_user viewer
kubesim_user nobody
check_out "kubectl apply: viewer bound to view cluster-wide" kubectl apply -f - <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: viewer-view}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: viewer}]
YAML
check_eq "kubesim enforces RBAC on the ServiceAccount: no list of ConfigMaps" \
	"Error from server (Forbidden): configmaps is forbidden: User \"$SA\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"kube-system\"" \
	"$(as "$SA" get configmaps -n kube-system 2>&1 || true)"

# start_rendered LABEL OVERLAY: the binary with exactly the overlay's
# rendered args, mapped (see the header); sets MAS_PID, MAS_PORT, MAS_LOG.
start_rendered() {
	local a args=()
	MAS_PORT=$(free_port)
	MAS_LOG=$WORK/$1.log
	while read -r a; do
		case $a in --secure-port=*) a=--secure-port=$MAS_PORT ;; esac
		args+=("$a")
	done < <(rendered "$WORK/$2.yaml" args "$WORK/$1")
	"$BUILD/metrics-apiserver" "${args[@]}" --bind-address=127.0.0.1 \
		--kubeconfig="$WORK/${SA//:/_}.kubeconfig" >"$MAS_LOG" 2>&1 &
	MAS_PID=$!
	E2E_PIDS+=("$MAS_PID")
	echo "# $1: metrics-apiserver ${args[*]} --bind-address=127.0.0.1 --kubeconfig=SA"
	check "$1: the server is live" wait_until 20 curl -ksf "https://127.0.0.1:$MAS_PORT/livez"
}
endpoint() { # APISERVICE PORT
	kubectl annotate apiservice "$1" "kubesim.io/endpoint=127.0.0.1:$2" --overwrite >/dev/null
}
# as_raw USER PATH: `kubectl get --raw PATH` as USER; stdout, or the error line.
as_raw() { as "$1" get --raw "$2" 2>&1 || true; }
stats() { curl -ksf --cert "$SIM_DIR/admin.crt" --key "$SIM_DIR/admin.key" "$SIM_SERVER/kubesim/v1/stats"; }
scale_writes() { stats | jq -r ".scaleWrites[\"default/deployments/web\"].${1:-writes} // 0"; }
replicas() { kubectl get deploy web -o jsonpath='{.spec.replicas}'; }
not_forbidden() { # FILE: the server's own requests were never refused
	! grep -Eq 'is forbidden|lacks an RBAC permission' "$1"
}

# ---- custom-external (and with-hpa warming up meanwhile) ----------------------------
kubectl annotate deployment web kubesim.io/load=$LOAD_1 --overwrite >/dev/null
start_rendered custom-external custom-external
CE_PID=$MAS_PID CE_PORT=$MAS_PORT CE_LOG=$MAS_LOG
check "custom-external: --config points at the mounted ConfigMap" \
	grep -qx -- "--config=$WORK/custom-external/etc/metrics-apiserver/config.yaml" \
	<(rendered "$WORK/custom-external.yaml" args "$WORK/custom-external")
start_rendered with-hpa with-hpa
HPA_PID=$MAS_PID HPA_PORT=$MAS_PORT HPA_LOG=$MAS_LOG

for a in v1beta1.metrics.k8s.io v1beta1.custom.metrics.k8s.io v1beta2.custom.metrics.k8s.io \
	v1beta1.external.metrics.k8s.io; do
	endpoint "$a" "$CE_PORT"
	check "custom-external: APIService $a registered and Available" \
		wait_until 40 apiservice_available "$a"
done
CM=/apis/custom.metrics.k8s.io/v1beta2/namespaces/apps/pods/hello/hello_counter_per_second
CM1=/apis/custom.metrics.k8s.io/v1beta1/namespaces/apps/pods/hello/hello_counter_per_second
EM=/apis/external.metrics.k8s.io/v1beta1/namespaces/apps/queue_depth
eventually 60 "custom-external: $HPA_SA reads hello_counter_per_second (v1beta2)" \
	as "$HPA_SA" get --raw "$CM"
# hello's CPU is a constant 50m: one request per 10 millicore-seconds = 5/s;
# the rule's rate() over [2m] reads less until its window has filled, so
# only a rate in (0, 5/s] is asked for here.
check_range "custom-external: a rate of hello's counter, at most its 5 req/s (milli)" 1 5250 \
	"$(as_raw "$HPA_SA" "$CM" | metric_items_milli | awk '{print $2}')"
check_eq "custom-external: v1beta1 too" hello \
	"$(as_raw "$HPA_SA" "$CM1" | json_eval 'd["items"][0]["describedObject"]["name"]')"
# no external rule: the default provider's placeholder (kubernetes#98801)
check_eq "custom-external: external.metrics.k8s.io discovery (the overlay has no external rule)" \
	"external.metrics.k8s.io/v1beta1 externalmetrics" \
	"$(as_raw "$HPA_SA" /apis/external.metrics.k8s.io/v1beta1 | json_eval 'd["groupVersion"] + " " + ",".join(r["name"] for r in d["resources"])')"
check_eq "custom-external: $HPA_SA gets past authorization on external (no such metric: 404)" \
	"Error from server (NotFound): the server could not find the metric queue_depth for " \
	"$(as_raw "$HPA_SA" "$EM")"
check_eq "custom-external: nobody: kube-apiserver's Forbidden for custom metrics" \
	"Error from server (Forbidden): pods.custom.metrics.k8s.io \"hello\" is forbidden: User \"nobody\" cannot get resource \"pods/hello_counter_per_second\" in API group \"custom.metrics.k8s.io\" in the namespace \"apps\"" \
	"$(as_raw nobody "$CM")"
check_eq "custom-external: nobody: kube-apiserver's Forbidden for external metrics" \
	"Error from server (Forbidden): queue_depth.external.metrics.k8s.io is forbidden: User \"nobody\" cannot list resource \"queue_depth\" in API group \"external.metrics.k8s.io\" in the namespace \"apps\"" \
	"$(as_raw nobody "$EM")"
eventually 40 "custom-external: viewer gets kubectl top pods" as viewer top pods -n apps hello
check_eq "custom-external: nobody: kubectl top's Forbidden text" \
	"$(top_forbidden pods nobody apps)" "$(as nobody top pods -n apps 2>&1 || true)"
check "custom-external: no request of the server was refused (its RBAC suffices)" not_forbidden "$CE_LOG"
kill "$CE_PID"; wait "$CE_PID" 2>/dev/null || true

# ---- with-hpa: scaling with the overlay's RBAC only -----------------------------------
endpoint v1beta1.metrics.k8s.io "$HPA_PORT"
check "with-hpa: web scales to $EXPECT_1 replicas (load $LOAD_1)" wait_until 60 \
	sh -c "[ \"\$(kubectl get deploy web -o jsonpath='{.spec.replicas}')\" = $EXPECT_1 ]"
check "with-hpa: kubesim counted the Scale writes as $SA" \
	test "$(stats | jq -r ".scaleWrites[\"default/deployments/web\"].byUser[\"$SA\"] // 0")" -ge 1
check "with-hpa: the SuccessfulRescale Event was written" sh -c \
	"kubectl get events -n default -o json | jq -e '[.items[] | select(.reason == \"SuccessfulRescale\")] | length > 0'"
eventually 40 "with-hpa: viewer gets kubectl top pods" as viewer top pods -n default
check "with-hpa: no request of the server was refused (its RBAC suffices)" not_forbidden "$HPA_LOG"

# ---- with-hpa: one permission taken away ------------------------------------------------
kubectl get clusterrole system:metrics-server:hpa -o json >"$WORK/hpa-role.json"
jq 'del(.metadata.resourceVersion) | .rules |= map(if .resources == ["*/scale"] then .verbs = ["get"] else . end)' \
	"$WORK/hpa-role.json" >"$WORK/hpa-role-no-update.json"
check_out "with-hpa: update on */scale taken from the ClusterRole" kubectl replace -f "$WORK/hpa-role-no-update.json"
lines0=$(wc -l <"$HPA_LOG")
writes0=$(scale_writes)
kubectl annotate deployment web kubesim.io/load=$LOAD_2 --overwrite >/dev/null
failed_rescales() {
	kubectl get events -n default -o json |
		jq '[.items[] | select(.reason == "FailedRescale") | .count // 1] | add // 0'
}
at_least_failed() { [ "$(failed_rescales)" -ge "$FAILED_PASSES" ]; }
check "with-hpa: $FAILED_PASSES passes fail to rescale (the FailedRescale Event's count)" \
	wait_until 75 at_least_failed
echo "# FailedRescale count: $(failed_rescales)"
tail -n +"$((lines0 + 1))" "$HPA_LOG" >"$WORK/after.log"
as_comment <"$WORK/after.log" | head -20
# (other warnings, e.g. a slow kubelet on a loaded machine, are not counted)
check_eq "with-hpa: ONE line about the refusal over $FAILED_PASSES+ refused passes" 1 \
	"$(grep -Ec 'forbidden|RBAC|failed to rescale|rejected event|failed to update status' "$WORK/after.log" || true)"
check "with-hpa: a warning" grep -q '^W.*lacks an RBAC permission' "$WORK/after.log"
check "with-hpa: it names the missing permission" grep -q \
	"lacks an RBAC permission: User \"$SA\" cannot update resource \"deployments/scale\" in API group \"apps\"" \
	"$WORK/after.log"
check_eq "with-hpa: no Scale write got through" "$writes0" "$(scale_writes)"
check_eq "with-hpa: web stays at $EXPECT_1" $EXPECT_1 "$(replicas)"
check "with-hpa: the server keeps serving kubectl top" as viewer top pods -n default
check "with-hpa: and is still live" curl -ksf "https://127.0.0.1:$HPA_PORT/livez"
jq 'del(.metadata.resourceVersion)' "$WORK/hpa-role.json" >"$WORK/hpa-role-back.json"
check_out "with-hpa: the permission given back" kubectl replace -f "$WORK/hpa-role-back.json"
check "with-hpa: web scales to $EXPECT_2 without a restart" wait_until 60 \
	sh -c "[ \"\$(kubectl get deploy web -o jsonpath='{.spec.replicas}')\" = $EXPECT_2 ]"
kill "$HPA_PID"; wait "$HPA_PID" 2>/dev/null || true

# ---- high-availability: two replicas with the rendered args ----------------------------
check_out "kubectl apply of the high-availability overlay" kubectl apply -f "$WORK/high-availability.yaml"
check_eq "high-availability: the Deployment asks for 2 replicas" 2 \
	"$(kubectl get deploy -n kube-system metrics-server -o jsonpath='{.spec.replicas}')"
start_rendered ha-1 high-availability
H1_PORT=$MAS_PORT H1_LOG=$MAS_LOG
start_rendered ha-2 high-availability
H2_PORT=$MAS_PORT H2_LOG=$MAS_LOG
acquired() { grep -c "successfully acquired lease kube-system/$LEASE_NAME" "$1" || true; }
check "high-availability: a replica acquires the Lease" wait_until 20 sh -c \
	"grep -q 'successfully acquired lease' '$H1_LOG' '$H2_LOG'"
sleep 3 # a few retry periods: a second holder would show now
check_eq "high-availability: exactly one replica holds the Lease" 1 \
	"$(($(acquired "$H1_LOG") + $(acquired "$H2_LOG")))"
leader_log=$H1_LOG follower_log=$H2_LOG
[ "$(acquired "$H1_LOG")" = 1 ] || { leader_log=$H2_LOG; follower_log=$H1_LOG; }
holder=$(kubectl get lease -n kube-system "$LEASE_NAME" -o jsonpath='{.spec.holderIdentity}')
check "high-availability: the Lease's holder is the leader's identity" \
	grep -q "leader election identity $holder on lease" "$leader_log"
check "high-availability: the other replica campaigns" \
	grep -q "attempting to acquire leader lease kube-system/$LEASE_NAME" "$follower_log"
for p in "$H1_PORT" "$H2_PORT"; do
	endpoint v1beta1.metrics.k8s.io "$p"
	eventually 40 "high-availability: the replica on port $p serves kubectl top nodes" \
		as viewer top nodes node-0
done
check_eq "high-availability: nobody: kubectl top's Forbidden text" \
	"$(top_forbidden nodes nobody)" "$(as nobody top nodes 2>&1 || true)"
check "high-availability: no request of either replica was refused (incl. the Lease)" \
	sh -c "! grep -Eq 'is forbidden|lacks an RBAC permission|leader election needs' '$H1_LOG' '$H2_LOG'"
finish
