#!/usr/bin/env bash
# 45-hpa-explain-live.sh - `metrics-apiserver hpa explain --live ns/name` on
# kubesim with the embedded HPA loop running, and the loop's ambiguity
# check against an HPA it does not act on (--hpa=annotated).
#
#   --live agrees with the status the loop wrote (desired count,
#   utilization) once the load is steady; --save-scenario then -f replays
#   to byte-identical JSON; -o text says the history is missing; a failed
#   Scale GET and a failing metrics API become the scenario's `failures`;
#   unknown HPA -> exit 1 with the apiserver's message; bad arguments -> 2.
#   An un-annotated HPA over the pods of an annotated one makes the
#   annotated one ScalingActive=False/AmbiguousSelector, and is itself
#   never written (status, resourceVersion, no events).
#
# Cluster: test/e2e/data/hpa-live-cluster.yaml (web steady at 2 replicas x
# 40%; shop and its un-annotated shadow; ghost, whose target is missing).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
BIN=$BUILD/metrics-apiserver
EXPECT_WEB=2 UTIL_WEB=40

explain() { "$BIN" hpa explain "$@"; }
# rc_of command...: the exit status, stdout to $WORK/rc.out, stderr to $WORK/rc.err
rc_of() { local rc=0; "$@" >"$WORK/rc.out" 2>"$WORK/rc.err" || rc=$?; echo "$rc"; }
# jq_py file expression: prints a Python expression over the JSON document `d`
jq_py() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# ---- argument errors (no cluster needed) ---------------------------------------------
for bad in defaultweb /web default/ "" a/b/c 'default/we b'; do
	check_eq "--live '$bad' is a usage error (exit 2)" 2 "$(rc_of explain --live "$bad")"
	check "--live '$bad' prints the usage" grep -q '^Usage: metrics-apiserver hpa explain' "$WORK/rc.err"
done
check_eq "-f with --live: exit 2" 2 "$(rc_of explain -f x.json --live default/web)"
check "-f with --live: says why" grep -q -- '-f and --live cannot be used together' "$WORK/rc.err"
check_eq "--save-scenario without --live: exit 2" 2 "$(rc_of explain -f x.json --save-scenario y.json)"
check_eq "--hpa-tolerance takes a number" 2 "$(rc_of explain --live default/web --hpa-tolerance=abc)"
check_eq "--feature-gates checked as the server does" 2 \
	"$(rc_of explain --live default/web --feature-gates=NoSuchGate=true)"
check "--feature-gates error text" grep -q 'unrecognized feature gate: NoSuchGate' "$WORK/rc.err"
check "--help documents --live" sh -c "'$BIN' hpa explain --help | grep -q -- '--save-scenario FILE'"

# ---- the cluster ------------------------------------------------------------------------
start_kubesim --nodes 2 --pods-per-node 0 --config "$here/data/hpa-live-cluster.yaml"
check "web has its $EXPECT_WEB replicas ready" wait_until 30 sh -c \
	"kubectl get deploy web -o jsonpath='{.status.readyReplicas}' | grep -qx $EXPECT_WEB"
check "shop has its replica ready" wait_until 30 sh -c \
	"kubectl get deploy shop -o jsonpath='{.status.readyReplicas}' | grep -qx 1"
shadow_before=$(kubectl get hpa shop-shadow -o jsonpath='{.metadata.resourceVersion} {.status}')

start_server --metric-resolution 10s --kubelet-request-timeout 5s \
	--kubelet-use-node-status-port --kubelet-preferred-address-types InternalIP \
	--kubelet-certificate-authority "$SIM_DIR/ca.crt" --hpa=annotated -v 2 \
	--requestheader-client-ca-file "$SIM_DIR/front-proxy-ca.crt" \
	--requestheader-allowed-names front-proxy-client
register_apiservice
check "PodMetrics are served through kube-apiserver" wait_until 40 sh -c \
	"kubectl get --raw /apis/metrics.k8s.io/v1beta1/namespaces/default/pods | grep -q '\"name\":\"web-'"

hpa_field() { kubectl get hpa "$1" -o jsonpath="$2"; }
check "web: the loop wrote its metric" wait_until 40 sh -c \
	"kubectl get hpa web -o jsonpath='{.status.currentMetrics[0].resource.current.averageUtilization}' | grep -q ."
# Two more scrape rounds: the load is steady and both readers see the same rates.
sleep 12

# ---- --live agrees with the loop ---------------------------------------------------------
status_desired=$(hpa_field web '{.status.desiredReplicas}')
status_util=$(hpa_field web '{.status.currentMetrics[0].resource.current.averageUtilization}')
check_eq "web: the loop keeps $EXPECT_WEB replicas" "$EXPECT_WEB" "$status_desired"
check_range "web: the loop's utilization near ${UTIL_WEB}%" $((UTIL_WEB - 3)) $((UTIL_WEB + 3)) "$status_util"

rc=$(rc_of explain --live default/web -o json --save-scenario "$WORK/web.scenario.json")
check_eq "--live default/web exits 0" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   /' "$WORK/rc.err" | head -20
cp "$WORK/rc.out" "$WORK/web.live.json"
check_eq "--live: desiredReplicas = the loop's status.desiredReplicas" "$status_desired" \
	"$(jq_py "$WORK/web.live.json" 'd["desiredReplicas"]')"
live_util=$(jq_py "$WORK/web.live.json" 'd["metrics"][0]["utilization"]')
check_range "--live: metrics[0].utilization within 2 of the loop's ($status_util)" \
	$((status_util - 2)) $((status_util + 2)) "$live_util"
check_eq "--live: no scale write, no error" "False None" \
	"$(jq_py "$WORK/web.live.json" 'd["scaleUpdated"], d["error"]' | tr -d '(),')"
check_eq "--live: both pods ready" "['web-" \
	"$(jq_py "$WORK/web.live.json" 'sorted(d["metrics"][0]["pods"]["ready"])' | cut -c1-6)"
check_eq "--live: $EXPECT_WEB pods counted" "$EXPECT_WEB" \
	"$(jq_py "$WORK/web.live.json" 'len(d["metrics"][0]["pods"]["ready"])')"

# the saved scenario: the documented format, no history, and it replays identically
check_eq "saved scenario: its fields" \
	"controller horizontalPodAutoscaler now otherHorizontalPodAutoscalers podMetrics pods scale" \
	"$(jq_py "$WORK/web.scenario.json" '" ".join(sorted(d))')"
check_eq "saved scenario: the other HPAs with a selector (ghost has none)" "shop shop-shadow" \
	"$(jq_py "$WORK/web.scenario.json" '" ".join(sorted(o["horizontalPodAutoscaler"]["metadata"]["name"] for o in d["otherHorizontalPodAutoscalers"]))')"
check_eq "saved scenario: PodMetrics of the $EXPECT_WEB pods" "$EXPECT_WEB" \
	"$(jq_py "$WORK/web.scenario.json" 'len(d["podMetrics"])')"
check "--live names ghost as left out of the ambiguity check" \
	grep -q 'HPA ghost is left out of the ambiguity check: deployments.apps "nope" not found' "$WORK/rc.err"
check_out "-f on the saved scenario gives the identical JSON" \
	bash -c "'$BIN' hpa explain -f '$WORK/web.scenario.json' -o json | cmp - '$WORK/web.live.json'"

# the server's HPA flags set the scenario's controller options
rc=$(rc_of explain --live default/web --hpa-tolerance=0.25 --hpa-downscale-stabilization 1m \
	--feature-gates=HPAScaleToZero=false --save-scenario "$WORK/opts.scenario.json")
check_eq "--live with the HPA flags exits 0" 0 "$rc"
check_eq "saved scenario: the controller options given" "0.25 1m0s 30s False True" \
	"$(jq_py "$WORK/opts.scenario.json" '" ".join(str(x) for x in (d["controller"]["tolerance"], d["controller"]["downscaleStabilizationWindowSeconds"], d["controller"]["initialReadinessDelaySeconds"], d["controller"]["featureGates"]["HPAScaleToZero"], d["controller"]["featureGates"]["HPAConfigurableTolerance"]))')"

explain --live default/web -o text >"$WORK/web.txt" 2>/dev/null || true
sed 's/^/# /' "$WORK/web.txt" | head -12
check_eq "-o text: one line says the history is missing" 1 \
	"$(grep -c '^history: none (the controller.s recommendations and scale events cannot be read from outside it)' "$WORK/web.txt")"
check "-o text: the result line" grep -q "^result: $EXPECT_WEB replicas" "$WORK/web.txt"

# ---- failures become the scenario's failures ---------------------------------------------
rc=$(rc_of explain --live default/ghost --save-scenario "$WORK/ghost.scenario.json")
check_eq "--live default/ghost exits 0 (the failure is the explanation)" 0 "$rc"
check_eq "ghost: failures.scaleGet is the apiserver's message" 'deployments.apps "nope" not found' \
	"$(jq_py "$WORK/ghost.scenario.json" 'd["failures"]["scaleGet"]')"
check_eq "ghost: condition AbleToScale False/FailedGetScale" "False/FailedGetScale" \
	"$(jq_py "$WORK/rc.out" '[c["status"] + "/" + c["reason"] for c in d["status"]["conditions"] if c["type"] == "AbleToScale"][0]')"

rc=$(rc_of explain --live default/nope)
check_eq "unknown HPA: exit 1" 1 "$rc"
check "unknown HPA: the apiserver's message" \
	grep -q 'horizontalpodautoscalers.autoscaling "nope" not found' "$WORK/rc.err"
check_eq "unknown HPA: nothing on stdout" "" "$(cat "$WORK/rc.out")"

# ---- AmbiguousSelector with an HPA the loop does not act on -------------------------------
want_msg='pods by selector app=shop are controlled by multiple HPAs: [default/shop default/shop-shadow]'
check "shop: ScalingActive False/AmbiguousSelector" wait_until 30 sh -c \
	"kubectl get hpa shop -o jsonpath='{.status.conditions[?(@.type==\"ScalingActive\")].reason}' | grep -qx AmbiguousSelector"
kubectl get hpa shop -o json >"$WORK/shop.json"
check_eq "shop: the condition, from kubectl get hpa -o json" "False AmbiguousSelector $want_msg" \
	"$(jq_py "$WORK/shop.json" '[" ".join((c["status"], c["reason"], c["message"])) for c in d["status"]["conditions"] if c["type"] == "ScalingActive"][0]')"
check_eq "shop: an AmbiguousSelector Warning event" "Warning $want_msg" \
	"$(kubectl get events --field-selector involvedObject.name=shop,reason=AmbiguousSelector -o jsonpath='{.items[0].type} {.items[0].message}')"
check_eq "shop: the Deployment is left at 1 replica" 1 "$(kubectl get deploy shop -o jsonpath='{.spec.replicas}')"
rc=$(rc_of explain --live default/shop)
check_eq "--live default/shop shows the same error" "$want_msg" \
	"$(jq_py "$WORK/rc.out" 'd["error"].split(": ", 1)[1]')"
check_eq "shop-shadow: HPA object unchanged (resourceVersion and status)" "$shadow_before" \
	"$(kubectl get hpa shop-shadow -o jsonpath='{.metadata.resourceVersion} {.status}')"
check_eq "shop-shadow: no events" "" \
	"$(kubectl get events --field-selector involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=shop-shadow -o name)"
check "log: shop-shadow never reconciled" bash -c "! grep -q 'HPA=\"default/shop-shadow\"' \"\$1\"" _ "$MAS_LOG"
check "log: shop evaluated" grep -q 'HPA=\"default/shop\"' "$MAS_LOG"

# ---- the metrics API down: a failing metrics.k8s.io in the scenario ------------------------
stop_server
rc=$(rc_of explain --live default/web --save-scenario "$WORK/down.scenario.json")
check_eq "metrics API down: --live still explains (exit 0)" 0 "$rc"
check_eq "metrics API down: failures.metricsAPIs" "['metrics.k8s.io']" \
	"$(jq_py "$WORK/down.scenario.json" 'd["failures"]["metricsAPIs"]')"
check "metrics API down: the loop's error text" \
	grep -q 'unable to fetch metrics from resource metrics API' "$WORK/rc.out"
check "metrics API down: stderr says why" grep -q 'cannot list PodMetrics' "$WORK/rc.err"
finish
