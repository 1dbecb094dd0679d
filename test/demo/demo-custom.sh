#!/usr/bin/env bash
# demo-custom.sh - `make demo-custom`: the seed walkthrough of custom
# metrics on kubesim with the real kubectl.  An app (hello/hello,
# test/demo/demo-custom.yaml) exports a counter hello_counter_total on its
# pods' /metrics; metrics-apiserver scrapes them with a rules file in
# prometheus-adapter's format (test/demo/demo-custom-rules.yaml) and serves
# hello_counter_per_second through custom.metrics.k8s.io; an HPA (type
# Pods, the embedded loop) scales the Deployment on it while the load steps
# up, holds and steps down.
#
#   make demo-custom [DEMO_SECONDS=250]
#   BUILD=/abs/build test/demo/demo-custom.sh
#
# Environment (integers): DEMO_SECONDS (250) of sampling after the rate
# window has filled; the load is LOAD_LOW (200, millicores: 20 req/s) until
# STEP_UP_AT (20 s), LOAD_HIGH (1200: 120 req/s) until STEP_DOWN_AT (110 s),
# then LOAD_LOW again; the HPA targets TARGET (10) req/s per pod.  Every
# SAMPLE_SECONDS (5) one row goes to the CSV: time, the load, the app's
# true request rate (load / 10), the rate custom.metrics.k8s.io serves
# (sum and mean over the pods), the HPA's current value and target, and the
# replicas.  The HPA (test/demo/demo-custom-hpa.yaml) is created once the
# metric is served.  At the end: `kubectl get hpa`, `kubectl describe hpa`, the
# replica changes and a PNG (gnuplot).  Ctrl-C stops early (the samples so
# far are still plotted).  Output in $BUILD/demo-custom/: samples.csv,
# demo-custom.png, kubectl.txt.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$(cd "$HERE/../.." && pwd)/build}
# shellcheck source-path=SCRIPTDIR source=demo-lib.sh
source "$HERE/demo-lib.sh" # step, die, int_in, elapsed_ds, sleep_to_tick

NS=hello NAME=hello METRIC=hello_counter_per_second MAX_REPLICAS=15 # as in demo-custom.yaml
DEMO_SECONDS=${DEMO_SECONDS:-250}
STEP_UP_AT=${STEP_UP_AT:-20}
STEP_DOWN_AT=${STEP_DOWN_AT:-110}
LOAD_LOW=${LOAD_LOW:-200}
LOAD_HIGH=${LOAD_HIGH:-1200}
TARGET=${TARGET:-10}
SAMPLE_SECONDS=${SAMPLE_SECONDS:-5}
RES_S=10
OUT=$BUILD/demo-custom
CSV=$OUT/samples.csv
PNG=$OUT/demo-custom.png
TXT=$OUT/kubectl.txt
CM2=/apis/custom.metrics.k8s.io/v1beta2
PODS_PATH="$CM2/namespaces/$NS/pods/*/$METRIC?labelSelector=app%3D$NAME"

validate() {
	int_in DEMO_SECONDS 20 3600
	int_in STEP_UP_AT 0 3600
	int_in STEP_DOWN_AT 0 3600
	int_in LOAD_LOW 1 100000
	int_in LOAD_HIGH 1 100000
	int_in TARGET 1 100000
	int_in SAMPLE_SECONDS 1 60
	[ "$STEP_UP_AT" -lt "$STEP_DOWN_AT" ] || die "STEP_UP_AT must come before STEP_DOWN_AT"
	local b
	for b in kubesim metrics-apiserver; do
		[ -x "$BUILD/$b" ] || die "$BUILD/$b not built (run make first)"
	done
}

load_at() { # seconds -> the load of that phase
	if [ "$1" -lt "$STEP_UP_AT" ] || [ "$1" -ge "$STEP_DOWN_AT" ]; then echo "$LOAD_LOW"
	else echo "$LOAD_HIGH"; fi
}

set_load() {
	LOAD=$1
	kubectl annotate -n "$NS" deployment "$NAME" "kubesim.io/load=$LOAD" --overwrite >/dev/null
}

# ceil(load / 10 / TARGET): the replicas the HPA wants once the window has
# caught up (within minReplicas 2 and maxReplicas).
expected_replicas() {
	local n=$((($1 + 10 * TARGET - 1) / (10 * TARGET)))
	[ "$n" -ge 2 ] || n=2
	[ "$n" -le "$MAX_REPLICAS" ] || n=$MAX_REPLICAS
	echo "$n"
}

# The rate custom.metrics.k8s.io serves for the hello pods: "sum,mean" in
# req/s (empty fields when it cannot be read).
api_rates() {
	local body
	if ! body=$(kubectl get --raw "$PODS_PATH" 2>/dev/null); then
		printf ','
		return
	fi
	metric_items_milli <<<"$body" |
		awk '{s += $2; n++} END {if (n) printf "%.3f,%.3f", s / 1000, s / n / 1000; else printf ","}'
}

# One CSV row: seconds,load_m,true_rate,api_rate_sum,api_rate_mean,
# hpa_current,target,desired,replicas,ready (rates in req/s).
sample() {
	local ds=$1 vals api cur desired replicas ready
	api=$(api_rates)
	vals=$(kubectl get -n "$NS" "hpa/$NAME" "deployment/$NAME" -o jsonpath='{.items[0].status.currentMetrics[0].pods.current.averageValue},{.items[0].status.desiredReplicas},{.items[1].spec.replicas},{.items[1].status.readyReplicas}' 2>/dev/null) ||
		vals=",,,"
	IFS=, read -r cur desired replicas ready <<<"$vals"
	if [ -n "$cur" ]; then
		cur=$(quantity_milli "$cur")
		cur=$(awk -v m="$cur" 'BEGIN {printf "%.3f", m / 1000}')
	fi
	[ -z "$replicas" ] || [ -n "$ready" ] || ready=0
	ROW="$((ds / 10)).$((ds % 10)),$LOAD,$(awk -v l="$LOAD" 'BEGIN {printf "%.1f", l / 10}'),$api,$cur,$TARGET,$desired,$replicas,$ready"
	echo "$ROW" >>"$CSV"
}

show_row() {
	local t load truth sum mean cur target desired replicas ready
	IFS=, read -r t load truth sum mean cur target desired replicas ready <<<"$ROW"
	printf 't=%6ss  load %5sm  rate %6s req/s (served %7s)  per pod %6s/%s (HPA %6s)  replicas %2s (ready %2s, desired %2s)\n' \
		"$t" "$load" "$truth" "${sum:--}" "${mean:--}" "$target" "${cur:--}" "${replicas:--}" \
		"${ready:--}" "${desired:--}"
}

# "t=52.1s: 2 -> 6" for every change of spec.replicas (CSV column 9).
replica_changes() {
	awk -F, 'NR > 1 && $9 != "" { if (prev != "" && $9 != prev) printf "  t=%ss: %s -> %s\n", $1, prev, $9; prev = $9 }' "$CSV"
}

plot() {
	if ! command -v gnuplot >/dev/null; then
		echo "gnuplot is not installed (make deps installs gnuplot-nox): no plot."
		return 0
	fi
	gnuplot <<GP || { echo "gnuplot failed; samples: $CSV"; return 0; }
set terminal pngcairo size 1000,1000 font "sans,10" noenhanced
set output "$PNG"
set datafile separator ","
set multiplot layout 3,1 title "make demo-custom: HPA $NS/$NAME on the Pods metric $METRIC (custom.metrics.k8s.io,\nrules in prometheus-adapter's format: sum(rate(hello_counter_total[1m])) by (pod)), target ${TARGET} req/s per pod"
set xrange [0:$DEMO_SECONDS]
set grid
set key top right
set lmargin 10
set arrow 1 from $STEP_UP_AT, graph 0 to $STEP_UP_AT, graph 1 nohead dt 2 lc rgb "gray40"
set arrow 2 from $STEP_DOWN_AT, graph 0 to $STEP_DOWN_AT, graph 1 nohead dt 2 lc rgb "gray40"
set ylabel "requests/s, all pods"
set yrange [0:*]
plot "$CSV" skip 1 using 1:3 with steps lw 2 lc rgb "#1f77b4" title "true rate (load / 10)", \
     "$CSV" skip 1 using 1:4 with linespoints lw 1.5 pt 7 ps 0.5 lc rgb "#ff7f0e" title "served: sum of $METRIC"
set ylabel "requests/s per pod"
plot "$CSV" skip 1 using 1:6 with steps lw 2 lc rgb "#d62728" title "HPA status: current average", \
     "$CSV" skip 1 using 1:5 with lines lw 1 dt 3 lc rgb "#ff7f0e" title "served: mean over pods", \
     $TARGET with lines dt 2 lw 1.5 lc rgb "black" title "target"
set xlabel "time (s)"
set ylabel "replicas"
set yrange [0:$MAX_REPLICAS + 1]
set ytics 2
plot "$CSV" skip 1 using 1:9 with steps lw 2 lc rgb "#2ca02c" title "spec.replicas", \
     "$CSV" skip 1 using 1:10 with steps lw 1.5 dt 3 lc rgb "#9467bd" title "ready"
unset multiplot
GP
	echo "plot:    $PNG"
}

# ---- main ----------------------------------------------------------------------

# Bad settings stop here, before lib.sh makes a work dir and its exit trap.
validate
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
source "$HERE/../e2e/lib.sh"
KEEP=0
export KEEP
INTERRUPTED=0
mkdir -p "$OUT"
rm -f "$CSV" "$PNG" "$TXT"
APP_PORT=$(free_port)
sed -e "s/@PORT@/$APP_PORT/g" -e "s/@LOAD@/$LOAD_LOW/g" -e "s/@TARGET@/$TARGET/g" \
	"$HERE/demo-custom.yaml" >"$WORK/cluster.yaml"
LOAD=$LOAD_LOW

step "the hello app: Deployment $NS/$NAME, 2 pods serving /metrics on port $APP_PORT (kubesim)"
start_kubesim --nodes 3 --pods-per-node 0 --config "$WORK/cluster.yaml"
if ! wait_until 30 sh -c "kubectl get -n $NS deploy $NAME -o jsonpath='{.status.readyReplicas}' | grep -qx 2"; then
	tail -20 "$WORK/kubesim.log"; die "the hello pods did not become ready"
fi
kubectl get -n "$NS" deployment,pods -o wide
pod=$(kubectl get pods -n "$NS" -l "app=$NAME" -o jsonpath='{.items[0].metadata.name}')
ip=$(kubectl get pod -n "$NS" "$pod" -o jsonpath='{.status.podIP}')
echo
echo "its pod template is annotated the common way:"
kubectl get deploy -n "$NS" "$NAME" -o jsonpath='{.spec.template.metadata.annotations}' | python3 -m json.tool
echo
echo "\$ curl http://$ip:$APP_PORT/metrics     # pod $pod"
curl -sf "http://$ip:$APP_PORT/metrics" | head -6
echo "..."
echo "(hello_counter_total counts one request per 10 millicore-seconds of the pod's CPU: the"
echo " Deployment's load of ${LOAD_LOW}m is $((LOAD_LOW / 10)) req/s in all, $((LOAD_LOW / 20)) req/s per pod)"

step "the rules file, in prometheus-adapter's format (test/demo/demo-custom-rules.yaml)"
cat "$HERE/demo-custom-rules.yaml"
echo
echo "\$ metrics-apiserver config check -f demo-custom-rules.yaml"
"$BUILD/metrics-apiserver" config check -f "$HERE/demo-custom-rules.yaml"

step "starting metrics-apiserver --config demo-custom-rules.yaml (--metric-resolution ${RES_S}s, embedded HPA)"
start_server --metric-resolution "${RES_S}s" --kubelet-request-timeout 5s \
	--kubelet-use-node-status-port --kubelet-preferred-address-types InternalIP \
	--kubelet-certificate-authority "$SIM_DIR/ca.crt" \
	--requestheader-client-ca-file "$SIM_DIR/front-proxy-ca.crt" \
	--requestheader-allowed-names front-proxy-client \
	--config "$HERE/demo-custom-rules.yaml" --hpa=annotated --hpa-sync-period 5s ||
	{ tail -20 "$MAS_LOG"; die "metrics-apiserver did not start"; }
SERVER_T0=$(date +%s)
register_apiservice "$MAS_PORT"
register_custom_apiservices "$MAS_PORT"
for a in v1beta1.custom.metrics.k8s.io v1beta2.custom.metrics.k8s.io v1beta1.external.metrics.k8s.io; do
	wait_until 40 apiservice_available "$a" || { tail -20 "$MAS_LOG"; die "APIService $a is not Available"; }
done
kubectl get apiservices | grep -E '^NAME|metrics\.k8s\.io'

step "discovery: kubectl get --raw $CM2"
if ! wait_until 40 sh -c "kubectl get --raw '$PODS_PATH' | grep -q '\"kind\":\"Pod\"'"; then
	tail -20 "$MAS_LOG"; die "$METRIC is not served"
fi
kubectl get --raw "$CM2" | python3 -m json.tool

# rate(x[1m]) counts a full minute once the series is a minute old; before,
# Prometheus' extrapolation gives less.  Wait for it (bounded).
step "waiting for the [1m] rate window to fill (about a minute after the first scrape) ..."
per_pod_m=$((LOAD_LOW * 100 / 2))
filled() {
	local r
	r=$(kubectl get --raw "$PODS_PATH" | metric_items_milli | awk 'NR == 1 {print $2}')
	[ -n "$r" ] && [ $((r * 100)) -ge $((per_pod_m * 97)) ]
}
wait_until $((SERVER_T0 + 110 - $(date +%s))) filled ||
	echo "(not within 3 % of $((per_pod_m / 1000)) req/s yet; going on)"

step "kubectl get --raw '$PODS_PATH'"
kubectl get --raw "$PODS_PATH" | python3 -m json.tool
echo "(the model says $((LOAD_LOW / 20)) req/s per pod: ${LOAD_LOW}m / 2 pods / 10)"

step "the HPA (test/demo/demo-custom-hpa.yaml): type Pods, $METRIC, averageValue $TARGET, the embedded loop"
sed "s/@TARGET@/$TARGET/g" "$HERE/demo-custom-hpa.yaml" >"$WORK/hpa.yaml"
sed -n '/^apiVersion/,$p' "$WORK/hpa.yaml"
echo "\$ kubectl create -f demo-custom-hpa.yaml"
kubectl create -f "$WORK/hpa.yaml"
if ! wait_until 30 sh -c "kubectl get hpa -n $NS $NAME -o jsonpath='{.status.currentMetrics[0].pods.current.averageValue}' | grep -q ."; then
	tail -20 "$MAS_LOG"; die "the HPA did not read $METRIC"
fi
kubectl get hpa -n "$NS"

step "load curve over ${DEMO_SECONDS}s: ${LOAD_LOW}m, ${LOAD_HIGH}m at ${STEP_UP_AT}s, ${LOAD_LOW}m at ${STEP_DOWN_AT}s; Ctrl-C stops"
echo "expected: ceil(load / 10 / $TARGET) pods: $(expected_replicas "$LOAD_HIGH") at the high load, $(expected_replicas "$LOAD_LOW") at the low load;"
echo "          the served rate follows the true rate over its [1m] window, so the HPA follows it too"
echo "  export KUBECONFIG=$KUBECONFIG   # to watch: kubectl get hpa -n $NS -w"
trap 'INTERRUPTED=1' INT TERM
echo "seconds,load_m,true_rate,api_rate_sum,api_rate_mean,hpa_current,target,desired_replicas,replicas,ready_replicas" >"$CSV"
T0_US=${EPOCHREALTIME/./}
phase=$LOAD_LOW
for ((k = 0; INTERRUPTED == 0; k++)); do
	ds=$(elapsed_ds)
	[ "$ds" -lt $((DEMO_SECONDS * 10)) ] || break
	base=$(load_at $((ds / 10)))
	if [ "$base" != "$phase" ]; then
		phase=$base
		step "load step to ${base}m ($((base / 10)) req/s) at t=$((ds / 10))s"
		set_load "$base" || [ "$INTERRUPTED" = 1 ] || die "kubectl annotate failed"
	fi
	sample "$ds"
	show_row
	sleep_to_tick "$k" "$SAMPLE_SECONDS"
done

# Ctrl-C reached kubesim and the server too (one process group): plot what
# was sampled and end normally; lib.sh's exit trap reaps the processes.
if [ "$INTERRUPTED" = 1 ]; then
	step "interrupted: stopped early"
	plot
	echo "samples: $CSV"
	exit 0
fi

step "replica changes"
replica_changes
{
	step "kubectl get hpa -n $NS"
	kubectl get hpa -n "$NS"
	step "kubectl describe hpa -n $NS $NAME"
	kubectl describe hpa -n "$NS" "$NAME"
	step "kubectl get deployment -n $NS"
	kubectl get deployment -n "$NS"
} | tee "$TXT"

step "output"
plot
echo "samples: $CSV"
echo "kubectl: $TXT"
