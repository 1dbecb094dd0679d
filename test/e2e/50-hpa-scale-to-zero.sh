#!/usr/bin/env bash
# 50-hpa-scale-to-zero.sh - the embedded HPA on an External metric, read
# through kube-apiserver from kubesim's fake metrics provider (registered
# as APIServices, as KEDA or prometheus-adapter are), with the real
# kubectl: a queue worker with minReplicas 0 scales to zero on an empty
# queue and back from zero when jobs arrive; `hpa explain --live` shows the
# metric's value; an unavailable provider gives upstream's
# FailedGetExternalMetric.
#
# Cluster: test/e2e/data/hpa-zero-cluster.yaml (Deployment queue/queue-worker
# at 1 replica, ConfigMap jobs-queue holding queue_length{queue=jobs} = 0,
# HPA: External AverageValue 5, minReplicas 0, no scale-down window).
#   queue 0:  ceil(0 / 5) = 0 < 1 -> 0 replicas, ScaledToZero True
#   queue 20: from zero, ceil(20 / 5) = 4 (default scale-up policy allows
#             4 pods per 15 s) -> 4 replicas
source "$(dirname "$0")/lib.sh"
BIN=$BUILD/metrics-apiserver
NS=queue HPA=queue-worker TARGET=5 JOBS=20 EXPECT_UP=4
SEL='&LabelSelector{MatchLabels:map[string]string{queue: jobs,},MatchExpressions:[]LabelSelectorRequirement{},}'

start_kubesim --nodes 1 --pods-per-node 2 --config "$(dirname "$0")/data/hpa-zero-cluster.yaml"
register_metrics_provider
check "the worker has its replica ready" wait_until 30 sh -c \
	"kubectl get -n $NS deploy $HPA -o jsonpath='{.status.readyReplicas}' | grep -qx 1"
check "the provider's APIService is Available" wait_until 20 sh -c \
	"kubectl get apiservice v1beta1.external.metrics.k8s.io | grep -q ' True '"
raw=$(kubectl get --raw "/apis/external.metrics.k8s.io/v1beta1/namespaces/$NS/queue_length?labelSelector=queue%3Djobs")
check "the provider serves queue_length = 0" grep -Eq \
	'^\{"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":\{\},"items":\[\{"metricName":"queue_length","metricLabels":\{"queue":"jobs"\},"timestamp":"[0-9T:-]+Z","value":"0"\}\]\}$' \
	<<<"$raw"

start_server --metric-resolution 10s --kubelet-request-timeout 5s --hpa-sync-period 2s \
	--kubelet-use-node-status-port --kubelet-preferred-address-types InternalIP \
	--kubelet-certificate-authority "$SIM_DIR/ca.crt" --hpa=annotated -v 2 \
	--requestheader-client-ca-file "$SIM_DIR/front-proxy-ca.crt" \
	--requestheader-allowed-names front-proxy-client
register_apiservice # metrics.k8s.io, for explain --live's PodMetrics

hpa_field() { kubectl get -n $NS hpa $HPA -o jsonpath="$1"; }
condition() {
	hpa_field "{.status.conditions[?(@.type==\"$1\")].status}/{.status.conditions[?(@.type==\"$1\")].reason}"
}
replicas() { kubectl get -n $NS deploy $HPA -o jsonpath='{.spec.replicas}'; }
set_queue() { kubectl annotate -n $NS configmap jobs-queue "kubesim.io/value=$1" --overwrite >/dev/null; }
events() { kubectl get events -n $NS --field-selector "involvedObject.name=$HPA,reason=$1" -o jsonpath='{range .items[*]}{.type} {.message}{"\n"}{end}'; }

# ---- queue 0: scale to zero --------------------------------------------------------------
check "queue 0: the worker is scaled to 0" wait_until 40 sh -c \
	"kubectl get -n $NS deploy $HPA -o jsonpath='{.spec.replicas}' | grep -qx 0"
check "queue 0: no worker pod left" wait_until 20 sh -c \
	"test -z \"\$(kubectl get pods -n $NS -l app=$HPA -o name)\""
check_eq "kubectl get deploy: 0/0" "0/0" "$(kubectl get -n $NS deploy $HPA --no-headers | awk '{print $2}')"
check_eq "ScaledToZero True" "True/ScaledToZero" "$(condition ScaledToZero)"
check_eq "ScaledToZero message" "the HPA controller scaled the workload to zero" \
	"$(hpa_field '{.status.conditions[?(@.type=="ScaledToZero")].message}')"
# currentReplicas 0 is left out of the status (omitempty), desiredReplicas is not.
check "status: desiredReplicas 0, currentReplicas 0 (next pass)" wait_until 10 sh -c \
	"kubectl get -n $NS hpa $HPA -o json | grep -q '\"desiredReplicas\": 0' && test -z \"\$(kubectl get -n $NS hpa $HPA -o jsonpath='{.status.currentReplicas}')\""
# At zero the controller keeps evaluating (it scaled to zero itself).
check_eq "at zero: ScalingActive True ValidMetricFound" "True/ValidMetricFound" "$(condition ScalingActive)"
check_eq "at zero: AbleToScale True" "True" "$(hpa_field '{.status.conditions[?(@.type=="AbleToScale")].status}')"
check_eq "at zero: the External metric's value is in the status" "queue_length/0" \
	"$(hpa_field '{.status.currentMetrics[0].external.metric.name}/{.status.currentMetrics[0].external.current.averageValue}')"
check_eq "SuccessfulRescale to 0" "Normal New size: 0; reason: All metrics below target" "$(events SuccessfulRescale)"

# ---- queue 20: scale from zero -----------------------------------------------------------
set_queue $JOBS
check "queue $JOBS: the worker is scaled from 0 to $EXPECT_UP" wait_until 30 sh -c \
	"kubectl get -n $NS deploy $HPA -o jsonpath='{.spec.replicas}' | grep -qx $EXPECT_UP"
check "queue $JOBS: $EXPECT_UP workers ready" wait_until 20 sh -c \
	"kubectl get -n $NS deploy $HPA -o jsonpath='{.status.readyReplicas}' | grep -qx $EXPECT_UP"
check "status: currentReplicas $EXPECT_UP, averageValue $((JOBS / EXPECT_UP))" wait_until 10 sh -c \
	"kubectl get -n $NS hpa $HPA -o jsonpath='{.status.currentReplicas}/{.status.currentMetrics[0].external.current.averageValue}' | grep -qx $EXPECT_UP/$((JOBS / EXPECT_UP))"
check_eq "ScaledToZero False NotScaledToZero" "False/NotScaledToZero" "$(condition ScaledToZero)"
check_eq "no overshoot" "$EXPECT_UP" "$(replicas)"
check "SuccessfulRescale from zero" grep -qxF \
	"Normal New size: $EXPECT_UP; reason: external metric queue_length($SEL) above target" <<<"$(events SuccessfulRescale)"
out=$(kubectl get hpa -n $NS)
echo "$out" | sed 's/^/# /'
check "kubectl get hpa: current/target (avg), 0 to 10, $EXPECT_UP replicas" \
	grep -Eq "^$HPA +Deployment/$HPA +$((JOBS / EXPECT_UP))/5 \(avg\) +0 +10 +$EXPECT_UP " <<<"$out"
out=$(kubectl describe hpa -n $NS $HPA)
echo "$out" | sed 's/^/# /'
check "describe: the External metric, current / target" \
	grep -Eq "\"queue_length\" \(target average value\): +$((JOBS / EXPECT_UP)) / 5" <<<"$out"
check "describe: both rescales" bash -c "grep -c 'SuccessfulRescale' <<<\"\$1\" | grep -qx 2" _ "$out"

# ---- hpa explain --live: the External values it reads ------------------------------------
rc=0
"$BIN" hpa explain --live "$NS/$HPA" --save-scenario "$WORK/zero.json" -o json >"$WORK/live.json" \
	2>"$WORK/live.err" || rc=$?
check_eq "explain --live exits 0" 0 "$rc"
check_eq "explain --live: nothing failed" "" "$(cat "$WORK/live.err")"
py() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
check_eq "explain --live: the usage (sum of the External values)" "$JOBS" "$(py "$WORK/live.json" 'd["metrics"][0]["usage"]')"
check_eq "explain --live: per-pod average" "$((JOBS / EXPECT_UP))" "$(py "$WORK/live.json" 'd["metrics"][0]["rawAverageValue"]')"
check_eq "explain --live: proposal" "$EXPECT_UP" "$(py "$WORK/live.json" 'd["metrics"][0]["proposedReplicas"]')"
check_eq "scenario: the provider's value as read" "queue_length {'queue': 'jobs'} $JOBS" \
	"$(py "$WORK/zero.json" '" ".join([d["externalMetrics"][0]["metricName"], str(d["externalMetrics"][0]["metricLabels"]), d["externalMetrics"][0]["value"]])')"
check "the scenario replays to the same decision" sh -c \
	"'$BIN' hpa explain -f '$WORK/zero.json' -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d[\"metrics\"][0][\"usage\"] != \"$JOBS\")'"

# ---- the provider fails: FailedGetExternalMetric ------------------------------------------
# The APIService's backend goes away (a dead port): Available=False, the
# aggregator answers 503, the HPA reports upstream's error and keeps the
# replica count (a broken metric never scales).
kubectl annotate apiservice v1beta1.external.metrics.k8s.io kubesim.io/endpoint=127.0.0.1:1 --overwrite >/dev/null
check "the APIService turns unavailable" wait_until 15 sh -c \
	"kubectl get apiservice v1beta1.external.metrics.k8s.io | grep -q 'False (FailedDiscoveryCheck)'"
MSG="unable to get external metric $NS/queue_length/$SEL: unable to fetch metrics from external metrics API: the server is currently unable to handle the request (get queue_length.external.metrics.k8s.io)"
check "ScalingActive False FailedGetExternalMetric" wait_until 30 sh -c \
	"kubectl get -n $NS hpa $HPA -o jsonpath='{.status.conditions[?(@.type==\"ScalingActive\")].status}/{.status.conditions[?(@.type==\"ScalingActive\")].reason}' | grep -qx False/FailedGetExternalMetric"
check_eq "ScalingActive message" "the HPA was unable to compute the replica count: $MSG" \
	"$(hpa_field '{.status.conditions[?(@.type=="ScalingActive")].message}')"
check_eq "Warning FailedGetExternalMetric event" "Warning $MSG" "$(events FailedGetExternalMetric | head -1)"
check "Warning FailedComputeMetricsReplicas event" grep -qF \
	"Warning invalid metrics (1 invalid out of 1), first error is: failed to get queue_length external metric value: failed to get queue_length external metric: $MSG" \
	<<<"$(events FailedComputeMetricsReplicas)"
check_eq "the worker count is kept" "$EXPECT_UP" "$(replicas)"
rc=0
"$BIN" hpa explain --live "$NS/$HPA" -o json >"$WORK/fail.json" 2>"$WORK/fail.err" || rc=$?
check_eq "explain --live with the provider down: exit 0" 0 "$rc"
check "explain --live says which GET failed" grep -q \
	"GET /apis/external.metrics.k8s.io/v1beta1/namespaces/$NS/queue_length?labelSelector=queue%3Djobs failed" "$WORK/fail.err"
check_eq "explain --live: the metric's error" "$MSG" "$(py "$WORK/fail.json" 'd["metrics"][0]["error"]')"

# ---- back: the queue drains, zero again ----------------------------------------------------
kubectl annotate apiservice v1beta1.external.metrics.k8s.io "kubesim.io/endpoint=127.0.0.1:${SIM_SERVER##*:}" --overwrite >/dev/null
set_queue 0
check "queue 0 again: back to 0 workers" wait_until 30 sh -c \
	"kubectl get -n $NS deploy $HPA -o jsonpath='{.spec.replicas}' | grep -qx 0"
check_eq "ScaledToZero True again" "True/ScaledToZero" "$(condition ScaledToZero)"
check "log: the rescales" grep -Eq "\"Successful rescale\" HPA=\"$NS/$HPA\" currentReplicas=$EXPECT_UP desiredReplicas=0" "$MAS_LOG"
stop_server
finish
