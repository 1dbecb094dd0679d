#!/usr/bin/env bash
# 70-custom-metrics.sh - custom.metrics.k8s.io (v1beta1, v1beta2) and
# external.metrics.k8s.io/v1beta1 end to end (issue 11), through kubesim's
# aggregation proxy with the real kubectl: the server scrapes annotated pods
# and static exporters (--config, prometheus-adapter's rules file
# test/e2e/data/custom-rules.yaml) and serves the rules' metrics.
#
#   discovery of both groups; every URL form (a pod by name, `*` and `%2A`
#   with labelSelector, a Namespace, namespaces/* and nodes/*, both item
#   shapes, metricLabelSelector echoed); upstream's 404 and 400 texts; the
#   external list with and without labelSelector;
#   values against kubesim's model (test/kubesim/podmetrics.h: one request
#   per 10 millicore-seconds), within 5 %; a restarting pod's rate never
#   negative and never above its true rate;
#   the embedded HPA (type Pods, hello_counter_per_second) scaling on a load
#   step within one resolution plus one HPA sync;
#   a static target exposing 1,000,000 series failing with the series limit
#   while the other targets, kubectl top and the custom metrics keep being
#   served, and the server's RSS stays bounded.
#
# Cluster: test/e2e/data/custom-cluster.yaml, then custom-hpa.yaml.  Every
# wait is bounded; the suite takes about two minutes (the [1m] rate window
# must fill first).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

RES_S=10 HPA_SYNC_S=5 # 10 s: --metric-resolution's minimum (metrics-server's validation)
RES=${RES_S}s
TARGET=10                      # HPA target: hello_counter_per_second per pod (req/s)
LOAD_BEFORE=150 LOAD_AFTER=1500 # apps/hello's kubesim.io/load (millicores, shared)
REPLICAS=2                     # the Deployment's replicas (= minReplicas)
MAX_REPLICAS=20
RESTART_CPU_M=100              # restart/hello-restart: const:100m
# The model: rate = millicores / 10 req/s, so in milli-req/s = millicores * 100.
POD_RATE_M=$((LOAD_BEFORE * 100 / REPLICAS))     # 7500m: each hello pod
NS_RATE_M=$((LOAD_BEFORE * 100))                 # 15000m: namespace apps
RESTART_RATE_M=$((RESTART_CPU_M * 100))          # 10000m: hello-restart
INFLIGHT_M=$((POD_RATE_M / 20))                  # 375m: hello_inflight_requests = rate x 0.05 s
# After the step the pods share LOAD_AFTER: 150 req/s in all, whatever the
# replica count, so the HPA wants ceil(150 / 10) = 15 pods.  The first scale
# after the step sees the [1m] window only partly filled with the new rate,
# so it proposes more than 2 and at most 15.
EXPECT=$(((LOAD_AFTER / 10 + TARGET - 1) / TARGET))

APP_PORT=$(free_port) # the pods' and exporters' /metrics listener
subst() { sed -e "s/@PORT@/$APP_PORT/g" -e "s/@LOAD@/$LOAD_BEFORE/g" -e "s/@TARGET@/$TARGET/g" "$1"; }
subst "$(dirname "$0")/data/custom-cluster.yaml" >"$WORK/cluster.yaml"
subst "$(dirname "$0")/data/custom-rules.yaml" >"$WORK/rules.yaml"

start_kubesim --nodes 2 --pods-per-node 0 --config "$WORK/cluster.yaml"
check "Deployment apps/hello has its $REPLICAS replicas ready" wait_until 30 sh -c \
	"kubectl get -n apps deploy hello -o jsonpath='{.status.readyReplicas}' | grep -qx $REPLICAS"
read -r -a HELLO_PODS <<<"$(kubectl get pods -n apps -l app=hello -o jsonpath='{.items[*].metadata.name}' |
	tr ' ' '\n' | LC_ALL=C sort | tr '\n' ' ')"
check_eq "two hello pods" 2 "${#HELLO_PODS[@]}"
P0=${HELLO_PODS[0]} P1=${HELLO_PODS[1]}
P0_IP=$(kubectl get pod -n apps "$P0" -o jsonpath='{.status.podIP}')
check "a hello pod serves hello_counter_total on its own address" \
	sh -c "curl -sf http://$P0_IP:$APP_PORT/metrics | grep -q '^hello_counter_total [0-9]'"
check "the jobs exporter serves queue_depth" \
	sh -c "curl -sf http://127.254.0.1:$APP_PORT/metrics | grep -qx 'queue_depth{queue=\"jobs\"} 7'"
check_out "the rules file passes config check" "$BUILD/metrics-apiserver" config check -f "$WORK/rules.yaml"

start_server --metric-resolution "$RES" --kubelet-request-timeout 5s \
	--kubelet-use-node-status-port --kubelet-preferred-address-types InternalIP \
	--kubelet-certificate-authority "$SIM_DIR/ca.crt" \
	--requestheader-client-ca-file "$SIM_DIR/front-proxy-ca.crt" \
	--requestheader-allowed-names front-proxy-client \
	--config "$WORK/rules.yaml" --hpa=annotated --hpa-sync-period "${HPA_SYNC_S}s" -v 1
START_S=$(date +%s)
register_apiservice "$MAS_PORT"
register_custom_apiservices "$MAS_PORT"
for a in v1beta1.metrics.k8s.io v1beta1.custom.metrics.k8s.io v1beta2.custom.metrics.k8s.io \
	v1beta1.external.metrics.k8s.io; do
	check "APIService $a becomes Available" wait_until 40 apiservice_available "$a"
done

CM1=/apis/custom.metrics.k8s.io/v1beta1
CM2=/apis/custom.metrics.k8s.io/v1beta2
EM=/apis/external.metrics.k8s.io/v1beta1
M=hello_counter_per_second
SEL='labelSelector=app%3Dhello'
raw() { kubectl get --raw "$1"; }
count_items() { raw "$1" | json_eval 'len(d["items"])'; }
has_items() { [ "$(count_items "$1")" = "$2" ]; }
check "both hello pods have $M (two scrapes)" wait_until 40 has_items "$CM2/namespaces/apps/pods/*/$M?$SEL" 2

# shape: a body with its timestamps (RFC 3339, seconds, UTC) and Quantity
# values replaced, so that the rest compares byte for byte.
shape() {
	sed -E -e 's/"timestamp":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"/"timestamp":"TS"/g' \
		-e 's/"value":"-?[0-9]+(\.[0-9]+)?(m|k|M|G)?"/"value":"V"/g'
}
pod_ref() { printf '{"describedObject":{"kind":"Pod","namespace":"%s","name":"%s","apiVersion":"v1"}' "$1" "$2"; }
root_ref() { printf '{"describedObject":{"kind":"%s","name":"%s","apiVersion":"v1"}' "$1" "$2"; }
# v1beta1 / v1beta2 item tails after describedObject: metric, selector
v1_item() { printf ',"metricName":"%s","timestamp":"TS","value":"V","selector":%s}' "$1" "$2"; }
v2_item() { printf ',"metric":{"name":"%s","selector":%s},"timestamp":"TS","value":"V"}' "$1" "$2"; }
cm_list() { printf '{"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/%s","metadata":{},"items":[%s]}' "$1" "$2"; }

# ---- discovery ------------------------------------------------------------------
entry() { printf '{"name":"%s","singularName":"","namespaced":%s,"kind":"%s","verbs":["get"]}' "$@"; }
for v in v1beta1 v1beta2; do
	d=$(raw "/apis/custom.metrics.k8s.io/$v")
	check "discovery $v: APIResourceList of custom.metrics.k8s.io/$v" grep -qF \
		"{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"custom.metrics.k8s.io/$v\"," <<<"$d"
	for e in "pods/$M true" "namespaces/$M false" "pods/hello_inflight_requests true" \
		"namespaces/hello_inflight_requests false" "nodes/queue_depth false"; do
		read -r name namespaced <<<"$e"
		check "discovery $v lists $name (namespaced $namespaced)" grep -qF \
			"$(entry "$name" "$namespaced" MetricValueList)" <<<"$d"
	done
	check_eq "discovery $v: only the rules' metrics" 5 \
		"$(json_eval 'len(d["resources"])' <<<"$d")"
done
d=$(raw "$EM")
check "discovery external: queue_depth" grep -qF "$(entry queue_depth true ExternalMetricValueList)" <<<"$d"
check_eq "discovery external: one metric" 1 "$(json_eval 'len(d["resources"])' <<<"$d")"
check_eq "/apis: custom.metrics.k8s.io prefers v1beta2 (the higher versionPriority)" \
	"v1beta2 v1beta2,v1beta1" \
	"$(raw /apis | json_eval '[g["preferredVersion"]["version"] + " " + ",".join(v["version"] for v in g["versions"]) for g in d["groups"] if g["name"] == "custom.metrics.k8s.io"][0]')"
check "kubectl api-versions: the three group versions" sh -c \
	"kubectl api-versions | grep -cxE 'custom.metrics.k8s.io/v1beta[12]|external.metrics.k8s.io/v1beta1' | grep -qx 3"

# ---- every URL form ---------------------------------------------------------------
both_v2=$(pod_ref apps "$P0")$(v2_item $M null),$(pod_ref apps "$P1")$(v2_item $M null)
both_v1=$(pod_ref apps "$P0")$(v1_item $M null),$(pod_ref apps "$P1")$(v1_item $M null)
check_eq "v1beta2 pods/* with labelSelector: both pods, v1beta2 items" \
	"$(cm_list v1beta2 "$both_v2")" "$(raw "$CM2/namespaces/apps/pods/*/$M?$SEL" | shape)"
check_eq "v1beta2 pods/%2A: the same" \
	"$(cm_list v1beta2 "$both_v2")" "$(raw "$CM2/namespaces/apps/pods/%2A/$M?$SEL" | shape)"
check_eq "v1beta1 pods/%2A: v1beta1 items (metricName, top-level selector)" \
	"$(cm_list v1beta1 "$both_v1")" "$(raw "$CM1/namespaces/apps/pods/%2A/$M?$SEL" | shape)"
check_eq "pods/* without labelSelector: every pod of the namespace with a value" \
	"$(cm_list v1beta2 "$both_v2")" "$(raw "$CM2/namespaces/apps/pods/*/$M" | shape)"
check_eq "labelSelector picks the objects: app=nope has none (404, as the adapter)" \
	"Error from server (NotFound): the server could not find the metric $M for pods" \
	"$(raw_error "$CM2/namespaces/apps/pods/*/$M?labelSelector=app%3Dnope")"
check_eq "v1beta2 a pod by name" "$(cm_list v1beta2 "$(pod_ref apps "$P1")$(v2_item $M null)")" \
	"$(raw "$CM2/namespaces/apps/pods/$P1/$M" | shape)"
check_eq "v1beta1 a pod by name" "$(cm_list v1beta1 "$(pod_ref apps "$P0")$(v1_item $M null)")" \
	"$(raw "$CM1/namespaces/apps/pods/$P0/$M" | shape)"
check_eq "v1beta2 the gauge by name" \
	"$(cm_list v1beta2 "$(pod_ref apps "$P0")$(v2_item hello_inflight_requests null)")" \
	"$(raw "$CM2/namespaces/apps/pods/$P0/hello_inflight_requests" | shape)"
JOB_SEL='{"matchLabels":{"job":"kubernetes-pods"}}'
check_eq "v1beta2 metricLabelSelector echoed in metric.selector" \
	"$(cm_list v1beta2 "$(pod_ref apps "$P0")$(v2_item $M "$JOB_SEL"),$(pod_ref apps "$P1")$(v2_item $M "$JOB_SEL")")" \
	"$(raw "$CM2/namespaces/apps/pods/*/$M?$SEL&metricLabelSelector=job%3Dkubernetes-pods" | shape)"
check_eq "v1beta1 metricLabelSelector echoed in the top-level selector" \
	"$(cm_list v1beta1 "$(pod_ref apps "$P0")$(v1_item $M "$JOB_SEL")")" \
	"$(raw "$CM1/namespaces/apps/pods/$P0/$M?metricLabelSelector=job%3Dkubernetes-pods" | shape)"
check_eq "the Namespace apps: namespaces/apps/metrics/$M (v1beta2)" \
	"$(cm_list v1beta2 "$(root_ref Namespace apps)$(v2_item $M null)")" \
	"$(raw "$CM2/namespaces/apps/metrics/$M" | shape)"
check_eq "the Namespace apps (v1beta1)" \
	"$(cm_list v1beta1 "$(root_ref Namespace apps)$(v1_item $M null)")" \
	"$(raw "$CM1/namespaces/apps/metrics/$M" | shape)"
check_eq "root-scoped wildcard namespaces/*/metrics/$M: apps and restart" \
	"$(cm_list v1beta2 "$(root_ref Namespace apps)$(v2_item $M null),$(root_ref Namespace restart)$(v2_item $M null)")" \
	"$(raw "$CM2/namespaces/*/metrics/$M" | shape)"
check_eq "root-scoped wildcard nodes/*/queue_depth: the exporters' nodes" \
	"$(cm_list v1beta2 "$(root_ref Node node-0)$(v2_item queue_depth null),$(root_ref Node node-1)$(v2_item queue_depth null)")" \
	"$(raw "$CM2/nodes/*/queue_depth" | shape)"
check_eq "nodes/*/queue_depth values: 7 on node-0, 3 on node-1" "node-0 7000,node-1 3000" \
	"$(raw "$CM1/nodes/*/queue_depth" | metric_items_milli | paste -sd,)"
check_eq "nodes/%2A with labelSelector: node-1 only" "node-1 3000" \
	"$(raw "$CM2/nodes/%2A/queue_depth?labelSelector=kubernetes.io%2Fhostname%3Dnode-1" | metric_items_milli)"
check_eq "root-scoped by name nodes/node-0/queue_depth (v1beta1)" \
	"$(cm_list v1beta1 "$(root_ref Node node-0)$(v1_item queue_depth null)")" \
	"$(raw "$CM1/nodes/node-0/queue_depth" | shape)"

# ---- 404 and 400 texts -----------------------------------------------------------------
check_eq "unknown metric: 404 for pods" \
	"Error from server (NotFound): the server could not find the metric nope for pods" \
	"$(raw_error "$CM2/namespaces/apps/pods/*/nope?$SEL")"
check_eq "a pod without the metric: 404 for pods NAME" \
	"Error from server (NotFound): the server could not find the metric $M for pods ghost" \
	"$(raw_error "$CM2/namespaces/apps/pods/ghost/$M")"
check_eq "a named pod whose series the metricLabelSelector excludes: 404 with selector" \
	"Error from server (NotFound): the server could not find the metric $M for pods $P0 with selector job=nope" \
	"$(raw_error "$CM1/namespaces/apps/pods/$P0/$M?metricLabelSelector=job%3Dnope")"
check_eq "a metric no rule maps to the resource: 404 (nodes)" \
	"Error from server (NotFound): the server could not find the metric $M for nodes" \
	"$(raw_error "$CM2/nodes/*/$M")"
check_eq "bad labelSelector: 400 with apimachinery's text" \
	"Error from server (BadRequest): unable to parse requirement: found 'a' expected: '('" \
	"$(raw_error "$CM2/namespaces/apps/pods/*/$M?labelSelector=app+in+a")"
check_eq "bad labelSelector (set): 400 with apimachinery's text" \
	"Error from server (BadRequest): unable to parse requirement: found 'b', expected: ',' or ')'" \
	"$(raw_error "$CM1/namespaces/apps/pods/*/$M?labelSelector=app+in+%28a+b%29")"
check_eq "bad metricLabelSelector: 400 too" \
	"Error from server (BadRequest): found ',', expected: !, identifier, or 'end of string'" \
	"$(raw_error "$CM2/namespaces/apps/pods/$P0/$M?metricLabelSelector=%2Cx")"
check_eq "namespaces/NS/METRIC: 400 invalid request path" \
	"Error from server (BadRequest): invalid request path" \
	"$(raw_error "$CM2/namespaces/apps/$M")"

# ---- external.metrics.k8s.io ---------------------------------------------------------
em_item() { printf '{"metricName":"queue_depth","metricLabels":{"queue":"%s"},"timestamp":"TS","value":"V"}' "$1"; }
em_list() { printf '{"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[%s]}' "$1"; }
check_eq "external list: every queue" "$(em_list "$(em_item jobs),$(em_item mail)")" \
	"$(raw "$EM/namespaces/apps/queue_depth" | shape)"
check_eq "external values: jobs 7, mail 3" "queue=jobs 7000,queue=mail 3000" \
	"$(raw "$EM/namespaces/apps/queue_depth" | metric_items_milli | paste -sd,)"
check_eq "external with labelSelector queue=mail" "$(em_list "$(em_item mail)")" \
	"$(raw "$EM/namespaces/apps/queue_depth?labelSelector=queue%3Dmail" | shape)"
check_eq "external in another namespace (namespaced: false): the same series" "queue=jobs 7000" \
	"$(raw "$EM/namespaces/restart/queue_depth?labelSelector=queue+in+%28jobs%29" | metric_items_milli)"
check_eq "external known metric, no series match: 200 items []" "$(em_list "")" \
	"$(raw "$EM/namespaces/apps/queue_depth?labelSelector=queue%3Dnone")"
check_eq "external unknown metric: 404 (empty group-resource outside default)" \
	"Error from server (NotFound): the server could not find the metric nope for " \
	"$(raw_error "$EM/namespaces/apps/nope")"
check_eq "external unknown metric in default: 404 for namespaces" \
	"Error from server (NotFound): the server could not find the metric nope for namespaces" \
	"$(raw_error "$EM/namespaces/default/nope")"
check_eq "external bad labelSelector: 400" \
	"Error from server (BadRequest): unable to parse requirement: found 'a' expected: '('" \
	"$(raw_error "$EM/namespaces/apps/queue_depth?labelSelector=queue+in+a")"
kubectl annotate configmap -n apps jobs kubesim.io/queue-depth=12 --overwrite >/dev/null
check "external follows the exporter: jobs 12 within two resolutions" wait_until $((2 * RES_S + 5)) sh -c \
	"kubectl get --raw '$EM/namespaces/apps/queue_depth?labelSelector=queue%3Djobs' | grep -q '\"value\":\"12\"'"

# ---- a restarting pod: never negative, no spike ----------------------------------------
# hello-restart restarts every 20 s (its counter back to 0).  Polled for
# three resolutions, now (the [1m] window still filling) and again later
# with a full window: every read of its rate succeeds, none is negative,
# none is above its true rate (+5 %), and its counter is seen to go back.
RIP=$(kubectl get pod -n restart hello-restart -o jsonpath='{.status.podIP}')
direct_counter() { curl -sf "http://$RIP:$APP_PORT/metrics" | awk '$1 == "hello_counter_total" {print $2}'; }
restart_rate() {
	kubectl get --raw "$CM2/namespaces/restart/pods/hello-restart/$M" | metric_items_milli | awk '{print $2}'
}
# poll_restart SECONDS LABEL: reads the rate and the pod's counter every
# second for SECONDS, then checks them.
poll_restart() {
	local reads=0 failed=0 lo='' hi='' resets=0 prev='' c r end=$(($(date +%s) + $1))
	while [ "$(date +%s)" -lt "$end" ]; do
		c=$(direct_counter) || c=''
		if [ -n "$c" ] && [ -n "$prev" ] && [ "$c" -lt "$prev" ]; then resets=$((resets + 1)); fi
		prev=$c
		reads=$((reads + 1))
		if r=$(restart_rate 2>/dev/null) && [ -n "$r" ]; then
			if [ -z "$lo" ] || [ "$r" -lt "$lo" ]; then lo=$r; fi
			if [ -z "$hi" ] || [ "$r" -gt "$hi" ]; then hi=$r; fi
		else
			failed=$((failed + 1))
		fi
		sleep 1
	done
	echo "# hello-restart ($2): $reads reads, rate from ${lo}m to ${hi}m, $resets counter reset(s) seen"
	check "hello-restart ($2): its counter went back to 0 while polled" test "$resets" -ge 1
	check_eq "hello-restart ($2): the rate was served at every read" 0 "$failed"
	check_range "hello-restart ($2): never negative" 0 $((RESTART_RATE_M * 105 / 100)) "$lo"
	check_range "hello-restart ($2): no spike (at most its rate + 5 %)" 0 $((RESTART_RATE_M * 105 / 100)) "$hi"
}
poll_restart $((3 * RES_S + 5)) "window filling"

# ---- values against the model ------------------------------------------------------------
# rate(x[1m]) covers its window once the series is a minute old (before,
# Prometheus' extrapolation gives less); then each pod's value is the model's.
pod_rates() { raw "$1/namespaces/apps/pods/*/$M?$SEL" | metric_items_milli | awk '{print $2}'; }
all_within() { # version: every hello pod within 5 % of POD_RATE_M
	local r n=0
	for r in $(pod_rates "$1"); do
		[ $((r * 100)) -ge $((POD_RATE_M * 95)) ] && [ $((r * 100)) -le $((POD_RATE_M * 105)) ] || return 1
		n=$((n + 1))
	done
	[ "$n" = 2 ]
}
left=$((START_S + 100 - $(date +%s)))
check "the rate window fills (within 100 s of the start)" wait_until $((left > 5 ? left : 5)) all_within "$CM2"
for v in "$CM1" "$CM2"; do
	i=0
	for r in $(pod_rates "$v"); do
		check_pct "${v##*/} ${HELLO_PODS[$i]}: $M = ${LOAD_BEFORE}m / $REPLICAS / 10 req/s" "$POD_RATE_M" 5 "$r"
		i=$((i + 1))
	done
done
check_pct "Namespace apps: $M = ${LOAD_BEFORE}m / 10 req/s" "$NS_RATE_M" 5 \
	"$(raw "$CM2/namespaces/apps/metrics/$M" | metric_items_milli | awk '{print $2}')"
check_eq "gauge hello_inflight_requests = rate x 0.05 s" "$P1 $INFLIGHT_M" \
	"$(raw "$CM1/namespaces/apps/pods/$P1/hello_inflight_requests" | metric_items_milli)"

# ---- the embedded HPA on the custom metric ------------------------------------------------
hpa_field() { kubectl get hpa -n apps hello -o jsonpath="$1"; }
replicas() { kubectl get deploy -n apps hello -o jsonpath='{.spec.replicas}'; }
avg_milli() { quantity_milli "$(hpa_field '{.status.currentMetrics[0].pods.current.averageValue}')"; }
# Created now that the metric is served, so its first pass finds it.
subst "$(dirname "$0")/data/custom-hpa.yaml" | kubectl create -f - >/dev/null
check "HPA: ScalingActive True from the custom metric" wait_until $((2 * HPA_SYNC_S + 5)) sh -c \
	"kubectl get hpa -n apps hello -o jsonpath='{.status.conditions[?(@.type==\"ScalingActive\")].reason}' | grep -qx ValidMetricFound"
check_pct "HPA: status current averageValue of $M" "$POD_RATE_M" 5 "$(avg_milli)"
check_eq "HPA: $REPLICAS replicas before the step (ratio 0.75)" "$REPLICAS" "$(replicas)"

kubectl annotate deployment -n apps hello "kubesim.io/load=$LOAD_AFTER" --overwrite >/dev/null
t0=${EPOCHREALTIME/./}
BOUND_S=$((RES_S + HPA_SYNC_S + 5))
if wait_until "$BOUND_S" sh -c "[ \"\$(kubectl get deploy -n apps hello -o jsonpath='{.spec.replicas}')\" -gt $REPLICAS ]"; then
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	ok "HPA: scaled up ${ms} ms after the load step (bound: one resolution + one HPA sync + 5 s = ${BOUND_S} s)"
else
	notok "HPA: no scale-up within ${BOUND_S} s of the load step"
fi
first=$(replicas)
check_range "HPA: the first scale is above $REPLICAS and at most ceil(150 / $TARGET) = $EXPECT" \
	$((REPLICAS + 1)) "$EXPECT" "$first"
out=$(kubectl get hpa -n apps hello)
as_comment <<<"$out"
check "kubectl get hpa: Pods metric current/target, replicas" \
	grep -Eq "^hello +Deployment/hello +[0-9]+m?/$TARGET +$REPLICAS +$MAX_REPLICAS +[0-9]+ " <<<"$out"
out=$(kubectl describe hpa -n apps hello)
as_comment <<<"$out"
check "describe: the Pods metric" grep -Eq "\"$M\" on pods: +[0-9]+m? / $TARGET\$" <<<"$out"
check "describe: ScalingActive True ValidMetricFound from the pods metric" grep -Eq \
	"^ +ScalingActive +True +ValidMetricFound +the HPA was able to successfully calculate a replica count from pods metric $M" <<<"$out"
check "describe: SuccessfulRescale, pods metric above target" grep -Eq \
	"Normal +SuccessfulRescale +.* +horizontal-pod-autoscaler +New size: $first; reason: pods metric $M above target" <<<"$out"
check "describe: no Warning events" bash -c "! grep -q Warning <<<\"\$1\"" _ "$out"

# ---- 1,000,000 series on one static target --------------------------------------------------
# bulk-exporter (127.254.0.3) gets kubesim's series=1M fault: 36 MB of
# series per scrape, far over the per-target series limit.  It fails, with
# the limit named, and nothing else does.
other_failures() {
	awk '$1 ~ /^metrics_apiserver_app_scrape_failures_total\{/ && $1 !~ /series_limit/ {n += $2} END {print n + 0}' "$WORK/m.txt"
}
metrics_snap
fail0=$(other_failures)
scrapes0=$(metrics_value metrics_apiserver_app_scrapes_total)
kubectl annotate configmap -n apps bulk kubesim.io/fault=series=1M >/dev/null
# the store's text, with the default per-target limit (no sample_limit)
LIMIT_ERR='err="series limit exceeded: target bulk-exporter would have 200001 series, limit 200000"'
check "bulk: its scrape fails with the series limit, in the log" wait_until $((2 * RES_S + 10)) \
	grep -Eq "\"Failed to scrape target\" target=\"bulk-exporter\" .*$LIMIT_ERR" "$MAS_LOG"
grep -m1 '"Failed to scrape target" target="bulk-exporter"' "$MAS_LOG" | cut -c1-300 | as_comment
# three more rounds with the target failing, meanwhile the restarting pod
# again, now with a full window
poll_restart $((3 * RES_S + 5)) "full window, bulk failing"
check "bulk failed every round" sh -c \
	"[ \"\$(grep -c '\"Failed to scrape target\" target=\"bulk-exporter\"' '$MAS_LOG')\" -ge 3 ]"
metrics_snap
check "self-metrics: series_limit failures counted" \
	test "$(metrics_value 'metrics_apiserver_app_scrape_failures_total{reason="series_limit"}' | cut -d. -f1)" -ge 2
check_eq "self-metrics: no other target failed" "$fail0" "$(other_failures)"
check_range "self-metrics: none of bulk's series stored (series in the store)" 1 1000 \
	"$(metrics_value metrics_apiserver_series | cut -d. -f1)"
check_eq "external kubesim_fault_series (a rule reads it): nothing stored, so unknown" \
	"Error from server (NotFound): the server could not find the metric kubesim_fault_series for " \
	"$(raw_error "$EM/namespaces/apps/kubesim_fault_series")"
check "self-metrics: the other targets kept being scraped" \
	test "$(metrics_value metrics_apiserver_app_scrapes_total | cut -d. -f1)" -gt "${scrapes0%.*}"
check "log: no other target failed" bash -c \
	"! grep '\"Failed to scrape target\"' '$MAS_LOG' | grep -v bulk-exporter | grep -q ."
check "custom metrics still served: every hello pod has $M" sh -c \
	"kubectl get --raw '$CM2/namespaces/apps/pods/*/$M?$SEL' | grep -q '\"kind\":\"Pod\"'"
check_eq "external still served: mail 3" "queue=mail 3000" \
	"$(raw "$EM/namespaces/apps/queue_depth?labelSelector=queue%3Dmail" | metric_items_milli)"
out=$(kubectl top pods -n apps 2>&1 || true)
check "kubectl top pods still served" grep -Eq "^$P0 +[0-9]+m +[0-9]+Mi" <<<"$out"
rss=$(proc_status_kb "$MAS_PID" VmRSS) hwm=$(proc_status_kb "$MAS_PID" VmHWM)
echo "# server VmRSS ${rss} kB, VmHWM ${hwm} kB"
# 300 MiB for a release build; ASan's shadow memory and quarantine (make asan)
# take far more, so the bound there only says "bounded"
RSS_MIB=300
if ldd "$BUILD/metrics-apiserver" 2>/dev/null | grep -q libasan; then RSS_MIB=1024; fi
check_range "server RSS bounded (VmRSS < $RSS_MIB MiB, kB)" 1 $((RSS_MIB * 1024)) "$rss"
check_range "server peak RSS bounded (VmHWM < $RSS_MIB MiB, kB)" 1 $((RSS_MIB * 1024)) "$hwm"

# ---- the HPA kept working throughout ------------------------------------------------------------
last=$(replicas)
check_range "HPA: no scale-down after the step, never above maxReplicas" "$first" "$MAX_REPLICAS" "$last"
check "log: the HPA rescaled hello" grep -Eq '"Successful rescale" HPA="apps/hello"' "$MAS_LOG"

# ---- the embedded HPA reads the custom metric in process ------------------------------------
# With the custom.metrics.k8s.io APIServices gone, kube-apiserver no longer
# serves the group: a REST read would fail (FailedGetPodsMetric,
# ScalingActive False).  The embedded loop keeps reading it in process.
kubectl delete apiservice v1beta1.custom.metrics.k8s.io v1beta2.custom.metrics.k8s.io >/dev/null
check "the cluster no longer serves custom.metrics.k8s.io" wait_until 10 sh -c \
	"! kubectl get --raw '$CM2/namespaces/apps/pods/*/$M' >/dev/null 2>&1"
sleep $((2 * HPA_SYNC_S + RES_S)) # two HPA passes and a scrape round meanwhile
check_eq "HPA: ScalingActive still ValidMetricFound (read in process)" ValidMetricFound \
	"$(kubectl get hpa -n apps hello -o jsonpath='{.status.conditions[?(@.type=="ScalingActive")].reason}')"
out=$(kubectl describe hpa -n apps hello)
check "describe: still no Warning events (no FailedGetPodsMetric)" bash -c "! grep -q Warning <<<\"\$1\"" _ "$out"
stop_server
finish
