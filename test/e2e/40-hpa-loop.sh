#!/usr/bin/env bash
# 40-hpa-loop.sh - the embedded HPA controller end to end on kubesim, with
# the real kubectl: a load step on an annotated HPA's Deployment scales it
# to the replica count the algorithm predicts; an identical HPA without
# the annotation is never touched (--hpa=annotated).
#
# Cluster (test/e2e/data/hpa-cluster.yaml): Deployments web and api, one
# replica each, pods requesting 100m CPU and using 1m per unit of the
# Deployment's kubesim.io/load shared by its ready replicas; HPAs web
# (annotated) and api (not), target 50% CPU, min 1, max 10, scale-up
# stabilization 0 and a Percent 1000/15s policy (no rate limit in play);
# HPA ghost (annotated) targets a missing Deployment.
source "$(dirname "$0")/lib.sh"

LOAD_BEFORE=40 LOAD_AFTER=290 PER_M=1 REQUEST_M=100 TARGET_PCT=50
# The prediction.  The pods share the load, so their total usage is
# LOAD * PER whatever the replica count; at n ready replicas the
# utilization is total / (n * request) and the proposal
# ceil(n * utilization / target) = ceil(total / (request * target)).
TOTAL_M=$((LOAD_AFTER * PER_M))
PER_POD_TARGET_M=$((REQUEST_M * TARGET_PCT / 100))
EXPECT=$(((TOTAL_M + PER_POD_TARGET_M - 1) / PER_POD_TARGET_M))
# = ceil(290 / 50) = 6.  Unready or metric-less new pods count as 0 on the
# way up, so the count may climb in steps, but never above EXPECT (the
# counted usage never exceeds the total), and it cannot stop below it:
# at EXPECT-1 = 5 replicas the utilization is 58%, a ratio of 1.16, outside
# the 0.1 tolerance.  At EXPECT the ratio is 0.97: within tolerance, stable.
# Before the step: 40m on one pod is 40% of its request, a ratio of 0.8 to
# the 50% target, and ceil(0.8 * 1) = 1 = the current count.

start_kubesim --nodes 2 --pods-per-node 0 --config "$(dirname "$0")/data/hpa-cluster.yaml"
check "Deployment web has its replica ready" wait_until 30 sh -c \
	"kubectl get deploy web -o jsonpath='{.status.readyReplicas}' | grep -qx 1"
check "Deployment api has its replica ready" wait_until 30 sh -c \
	"kubectl get deploy api -o jsonpath='{.status.readyReplicas}' | grep -qx 1"
api_before=$(kubectl get hpa api -o jsonpath='{.metadata.resourceVersion} {.status}')

start_server --metric-resolution 10s --kubelet-request-timeout 5s \
	--kubelet-use-node-status-port --kubelet-preferred-address-types InternalIP \
	--kubelet-certificate-authority "$SIM_DIR/ca.crt" --hpa=annotated -v 2
check "the embedded HPA controller starts" grep -q 'Starting the embedded HPA controller' "$MAS_LOG"

hpa_field() { kubectl get hpa "$1" -o jsonpath="$2"; }
condition() {
	hpa_field "$1" "{.status.conditions[?(@.type==\"$2\")].status}/{.status.conditions[?(@.type==\"$2\")].reason}"
}
replicas() { kubectl get deploy "$1" -o jsonpath='{.spec.replicas}'; }

# ---- before the step: the metric is read, nothing to scale -----------------------
check "web: ScalingActive True once pod metrics are stored" wait_until 40 sh -c \
	"kubectl get hpa web -o jsonpath='{.status.conditions[?(@.type==\"ScalingActive\")].status}' | grep -qx True"
check_eq "web: ScalingActive reason" "True/ValidMetricFound" "$(condition web ScalingActive)"
check_eq "web: utilization before the step (${LOAD_BEFORE}m on 1 pod)" \
	$((LOAD_BEFORE * PER_M * 100 / REQUEST_M)) \
	"$(hpa_field web '{.status.currentMetrics[0].resource.current.averageUtilization}')"
check_eq "web: still 1 replica (ratio 0.8 proposes 1)" 1 "$(replicas web)"
check_eq "web: status.desiredReplicas 1" 1 "$(hpa_field web '{.status.desiredReplicas}')"

# ---- the step ----------------------------------------------------------------------
kubectl annotate deployment web kubesim.io/load=$LOAD_AFTER --overwrite >/dev/null
kubectl annotate deployment api kubesim.io/load=$LOAD_AFTER --overwrite >/dev/null
check "web scales to $EXPECT replicas" wait_until 100 sh -c \
	"kubectl get deploy web -o jsonpath='{.spec.replicas}' | grep -qx $EXPECT"
check "web: all $EXPECT replicas ready" wait_until 30 sh -c \
	"kubectl get deploy web -o jsonpath='{.status.readyReplicas}' | grep -qx $EXPECT"
# Two more rounds after every pod is ready: the count holds.
check "web: the HPA sees $EXPECT pods near the target" wait_until 40 sh -c \
	"kubectl get hpa web --no-headers | grep -Eq '^web +Deployment/web +cpu: (4[5-9]|5[0-4])%/50% +1 +10 +$EXPECT '"
check_eq "web: no overshoot, no flapping" "$EXPECT" "$(replicas web)"
check_eq "web: status.desiredReplicas" "$EXPECT" "$(hpa_field web '{.status.desiredReplicas}')"
check_eq "web: status.currentReplicas" "$EXPECT" "$(hpa_field web '{.status.currentReplicas}')"
check "web: lastScaleTime set" test -n "$(hpa_field web '{.status.lastScaleTime}')"

out=$(kubectl get hpa web)
echo "$out" | sed 's/^/# /'
check "kubectl get hpa: header" grep -Eq '^NAME +REFERENCE +TARGETS +MINPODS +MAXPODS +REPLICAS +AGE' <<<"$out"
check "kubectl get hpa: current/target and replicas" \
	grep -Eq "^web +Deployment/web +cpu: [0-9]+%/50% +1 +10 +$EXPECT " <<<"$out"

out=$(kubectl describe hpa web)
echo "$out" | sed 's/^/# /'
check "describe: metric current / target" \
	grep -Eq 'resource cpu on pods +\(as a percentage of request\): +[0-9]+% \([0-9]+m\) / 50%' <<<"$out"
check "describe: AbleToScale True" grep -Eq '^ +AbleToScale +True +(ReadyForNewScale|SucceededRescale)' <<<"$out"
check "describe: ScalingActive True ValidMetricFound" \
	grep -Eq '^ +ScalingActive +True +ValidMetricFound +the HPA was able to successfully calculate a replica count from cpu resource utilization \(percentage of request\)' <<<"$out"
check "describe: ScalingLimited False DesiredWithinRange" \
	grep -Eq '^ +ScalingLimited +False +DesiredWithinRange' <<<"$out"
check "describe: SuccessfulRescale event to $EXPECT" \
	grep -Eq "Normal +SuccessfulRescale +.* +horizontal-pod-autoscaler +New size: $EXPECT; reason: cpu resource utilization \(percentage of request\) above target" <<<"$out"
check "describe: no Warning events" bash -c "! grep -q 'Warning' <<<\"\$1\"" _ "$out"
check "log: Successful rescale" grep -Eq "\"Successful rescale\" HPA=\"default/web\" currentReplicas=[0-9]+ desiredReplicas=$EXPECT" "$MAS_LOG"

# ---- the HPA without the annotation is never touched ------------------------------
check_eq "api: Deployment still at 1 replica" 1 "$(replicas api)"
check_eq "api: HPA object unchanged (resourceVersion and status)" "$api_before" \
	"$(kubectl get hpa api -o jsonpath='{.metadata.resourceVersion} {.status}')"
check_eq "api: no events" "" \
	"$(kubectl get events --field-selector involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=api -o name)"
check "log: api never reconciled" bash -c "! grep -q 'default/api' \"\$1\"" _ "$MAS_LOG"

# ---- an annotated HPA whose target does not exist: FailedGetScale -----------------
ghost_events() {
	kubectl get events --field-selector involvedObject.name=ghost,reason=FailedGetScale "$@"
}
check_eq "ghost: AbleToScale False FailedGetScale" "False/FailedGetScale" "$(condition ghost AbleToScale)"
check_eq "ghost: the Warning names the missing target" 'Warning deployments.apps "nope" not found' \
	"$(ghost_events -o jsonpath='{.items[0].type} {.items[0].message}')"
check "ghost: repeats are counted on one Event" \
	test "$(ghost_events -o jsonpath='{.items[0].count}')" -ge 2
check_eq "ghost: one Event object" 1 "$(ghost_events -o name | wc -l)"

stop_server
check "clean stop of the HPA controller" grep -q 'Stopped the embedded HPA controller' "$MAS_LOG"
finish
