#!/usr/bin/env bash
# demo-hpa.sh - `make demo-hpa`: the embedded HPA controller scaling a
# Spark-executor-like Deployment (test/demo/demo-hpa.yaml) whose CPU load
# steps up, holds and steps down, and in parallel a queue worker scaled to
# and from zero on an External metric (queue length, from kubesim's fake
# metrics provider through kube-apiserver), on kubesim with the real kubectl.
#
#   make demo-hpa [DEMO_SECONDS=240]
#   BUILD=/abs/build test/demo/demo-hpa.sh
#
# Environment (integers): DEMO_SECONDS (240) of sampling; the load is
# LOAD_LOW (400) until STEP_UP_AT (30 s), LOAD_HIGH (2400) until
# STEP_DOWN_AT (120 s), then LOAD_LOW again; kubesim.io/load units are 1m
# of CPU each, shared by the ready executors.  Every SAMPLE_SECONDS (5)
# the load gets fresh noise of up to NOISE_PCT (5) percent and one sample
# (time, load, the HPA's current utilization, replicas, queue length,
# queue workers) goes to the CSV.  The queue length is 0 until QUEUE_UP_AT
# (45 s), QUEUE_HIGH (30) until QUEUE_DOWN_AT (150 s), then 0 again.
# At the end: `kubectl get hpa`, `kubectl describe hpa` of both, the replica
# changes, and a PNG (gnuplot) of the run.  Ctrl-C stops early (the
# samples so far are still plotted).  Output in $BUILD/demo-hpa/:
# samples.csv, demo-hpa.png, kubectl.txt.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$(cd "$HERE/../.." && pwd)/build}

NS=spark NAME=spark-exec TARGET_PCT=50 REQUEST_M=500 # as in demo-hpa.yaml
QNS=queue QNAME=queue-worker QTARGET=5 QMAX=10        # as in demo-hpa.yaml
DEMO_SECONDS=${DEMO_SECONDS:-240}
STEP_UP_AT=${STEP_UP_AT:-30}
STEP_DOWN_AT=${STEP_DOWN_AT:-120}
LOAD_LOW=${LOAD_LOW:-400}
LOAD_HIGH=${LOAD_HIGH:-2400}
NOISE_PCT=${NOISE_PCT:-5}
SAMPLE_SECONDS=${SAMPLE_SECONDS:-5}
QUEUE_UP_AT=${QUEUE_UP_AT:-45}
QUEUE_DOWN_AT=${QUEUE_DOWN_AT:-150}
QUEUE_HIGH=${QUEUE_HIGH:-30}
OUT=$BUILD/demo-hpa
CSV=$OUT/samples.csv
PNG=$OUT/demo-hpa.png
TXT=$OUT/kubectl.txt

# shellcheck source-path=SCRIPTDIR source=demo-lib.sh
source "$HERE/demo-lib.sh" # step, die, int_in, elapsed_ds, sleep_to_tick

validate() {
	int_in DEMO_SECONDS 20 3600
	int_in STEP_UP_AT 0 3600
	int_in STEP_DOWN_AT 0 3600
	int_in LOAD_LOW 1 100000
	int_in LOAD_HIGH 1 100000
	int_in NOISE_PCT 0 50
	int_in SAMPLE_SECONDS 1 60
	int_in QUEUE_UP_AT 0 3600
	int_in QUEUE_DOWN_AT 0 3600
	int_in QUEUE_HIGH 1 100000
	[ "$STEP_UP_AT" -lt "$STEP_DOWN_AT" ] || die "STEP_UP_AT must come before STEP_DOWN_AT"
	[ "$QUEUE_UP_AT" -lt "$QUEUE_DOWN_AT" ] || die "QUEUE_UP_AT must come before QUEUE_DOWN_AT"
	local b
	for b in kubesim metrics-apiserver; do
		[ -x "$BUILD/$b" ] || die "$BUILD/$b not built (run make first)"
	done
}

# ---- the load ------------------------------------------------------------------

load_at() { # seconds -> the base load of that phase
	if [ "$1" -lt "$STEP_UP_AT" ] || [ "$1" -ge "$STEP_DOWN_AT" ]; then echo "$LOAD_LOW"
	else echo "$LOAD_HIGH"; fi
}

# Sets kubesim.io/load to base +- up to NOISE_PCT% (bash's RANDOM, seeded:
# the same noise on every run); LOAD is the value set.
set_load() {
	local noise=$((RANDOM % (2 * NOISE_PCT + 1) - NOISE_PCT))
	LOAD=$(($1 + $1 * noise / 100))
	kubectl annotate -n "$NS" deployment "$NAME" "kubesim.io/load=$LOAD" --overwrite >/dev/null
}

queue_at() { # seconds -> the queue length then
	if [ "$1" -ge "$QUEUE_UP_AT" ] && [ "$1" -lt "$QUEUE_DOWN_AT" ]; then echo "$QUEUE_HIGH"
	else echo 0; fi
}

# Sets the queue length kubesim's provider serves as queue_length{queue=jobs}.
set_queue() {
	QUEUE=$1
	kubectl annotate -n "$QNS" configmap jobs-queue "kubesim.io/value=$QUEUE" --overwrite >/dev/null
}

# ---- sampling ------------------------------------------------------------------

# One CSV row: seconds,load_m,utilization_pct,desired,replicas,ready, then
# queue_length,queue_desired,queue_replicas,queue_ready.  A failed read
# (e.g. interrupted) leaves the fields empty; status.desiredReplicas 0 is
# written, spec.replicas 0 too, readyReplicas 0 is omitted (-> 0).
sample() {
	local ds=$1 vals qvals
	vals=$(kubectl get -n "$NS" "hpa/$NAME" "deployment/$NAME" -o jsonpath='{.items[0].status.currentMetrics[0].resource.current.averageUtilization},{.items[0].status.desiredReplicas},{.items[1].spec.replicas},{.items[1].status.readyReplicas}' 2>/dev/null) ||
		vals=",,,"
	qvals=$(kubectl get -n "$QNS" "hpa/$QNAME" "deployment/$QNAME" -o jsonpath='{.items[0].status.desiredReplicas},{.items[1].spec.replicas},{.items[1].status.readyReplicas}' 2>/dev/null) ||
		qvals=",,"
	[[ $qvals != *, ]] || [[ $qvals == ,, ]] || qvals+=0
	ROW="$((ds / 10)).$((ds % 10)),$LOAD,$vals,$QUEUE,$qvals"
	echo "$ROW" >>"$CSV"
}

show_row() {
	local t load util desired replicas ready queue qdesired qreplicas qready
	IFS=, read -r t load util desired replicas ready queue qdesired qreplicas qready <<<"$ROW"
	printf 't=%6ss  load %5sm  cpu %4s%%/%s%%  replicas %2s (ready %2s, desired %2s)  queue %3s  workers %2s (ready %2s)\n' \
		"$t" "$load" "${util:--}" "$TARGET_PCT" "${replicas:--}" "${ready:--}" "${desired:--}" \
		"$queue" "${qreplicas:--}" "${qready:--}"
}

# "t=52.1s: 2 -> 6" for every change of the CSV's column $1 (spec.replicas).
replica_changes() {
	awk -F, -v c="$1" 'NR > 1 && $c != "" { if (prev != "" && $c != prev) printf "  t=%ss: %s -> %s\n", $1, prev, $c; prev = $c }' "$CSV"
}

# ---- the plot ------------------------------------------------------------------

plot() {
	if ! command -v gnuplot >/dev/null; then
		echo "gnuplot is not installed (make deps installs gnuplot-nox): no plot."
		echo "samples: $CSV"
		return 0
	fi
	gnuplot <<GP || { echo "gnuplot failed; samples: $CSV"; return 0; }
MAX_REPLICAS = $(kubectl get -n "$NS" hpa "$NAME" -o jsonpath='{.spec.maxReplicas}' 2>/dev/null || echo 12)
set terminal pngcairo size 1000,1200 font "sans,10" noenhanced
set output "$PNG"
set datafile separator ","
set multiplot layout 4,1 title "make demo-hpa: HPA $NS/$NAME, CPU target ${TARGET_PCT}% of ${REQUEST_M}m per executor, load noise ±${NOISE_PCT}%;\nHPA $QNS/$QNAME, External queue_length target ${QTARGET} per worker, minReplicas 0"
set xrange [0:$DEMO_SECONDS]
set grid
set key top right
set lmargin 10
set arrow 1 from $STEP_UP_AT, graph 0 to $STEP_UP_AT, graph 1 nohead dt 2 lc rgb "gray40"
set arrow 2 from $STEP_DOWN_AT, graph 0 to $STEP_DOWN_AT, graph 1 nohead dt 2 lc rgb "gray40"
set ylabel "CPU demand (cores)"
set yrange [0:*]
plot "$CSV" skip 1 using 1:(\$2/1000.0) with steps lw 2 lc rgb "#1f77b4" title "load (kubesim.io/load x 1m)"
set ylabel "CPU utilization (% of request)"
plot "$CSV" skip 1 using 1:3 with steps lw 2 lc rgb "#d62728" title "HPA status: current", \
     $TARGET_PCT with lines dt 2 lw 1.5 lc rgb "black" title "target"
set ylabel "replicas"
set yrange [0:MAX_REPLICAS + 1]
set ytics 2
plot "$CSV" skip 1 using 1:5 with steps lw 2 lc rgb "#2ca02c" title "spark-exec spec.replicas", \
     "$CSV" skip 1 using 1:6 with steps lw 1.5 dt 3 lc rgb "#9467bd" title "ready"
unset arrow 1
unset arrow 2
set arrow 3 from $QUEUE_UP_AT, graph 0 to $QUEUE_UP_AT, graph 1 nohead dt 2 lc rgb "gray40"
set arrow 4 from $QUEUE_DOWN_AT, graph 0 to $QUEUE_DOWN_AT, graph 1 nohead dt 2 lc rgb "gray40"
set xlabel "time (s)"
set ylabel "queue length (jobs)"
set yrange [0:$QUEUE_HIGH * 1.2]
set ytics autofreq
set y2label "queue workers"
set y2range [0:$QMAX]
set y2tics 2
plot "$CSV" skip 1 using 1:7 with steps lw 2 lc rgb "#ff7f0e" title "queue_length (External)", \
     "$CSV" skip 1 using 1:9 axes x1y2 with steps lw 2 lc rgb "#2ca02c" title "queue-worker spec.replicas", \
     "$CSV" skip 1 using 1:10 axes x1y2 with steps lw 1.5 dt 3 lc rgb "#9467bd" title "ready"
unset multiplot
GP
	echo "plot:    $PNG"
}

# ---- main ----------------------------------------------------------------------

# Bad settings stop here, before lib.sh makes a work dir and its exit trap.
validate
source "$HERE/../e2e/lib.sh"
KEEP=0
INTERRUPTED=0
mkdir -p "$OUT"
rm -f "$CSV" "$PNG" "$TXT"

step "starting kubesim: 3 nodes, Deployment $NS/$NAME (2 executors, 500m CPU request each), Deployment $QNS/$QNAME"
start_kubesim --nodes 3 --pods-per-node 0 --config "$HERE/demo-hpa.yaml"
if ! wait_until 30 sh -c "kubectl get -n $NS deploy $NAME -o jsonpath='{.status.readyReplicas}' | grep -qx 2"; then
	tail -20 "$WORK/kubesim.log"; die "the executors did not become ready"
fi
kubectl get -n "$NS" deployment,pods -o wide

step "starting metrics-apiserver (--hpa=annotated, --metric-resolution 10s)"
start_server --metric-resolution 10s --kubelet-request-timeout 5s \
	--kubelet-use-node-status-port --kubelet-preferred-address-types InternalIP \
	--kubelet-certificate-authority "$SIM_DIR/ca.crt" \
	--requestheader-client-ca-file "$SIM_DIR/front-proxy-ca.crt" \
	--requestheader-allowed-names front-proxy-client --hpa=annotated
register_apiservice
# kubesim's fake custom/external metrics provider, registered as KEDA or
# prometheus-adapter would be: the HPA reads queue_length through kube-apiserver.
register_metrics_provider
set_queue 0
echo "waiting for the HPA to read the executors' CPU ..."
if ! wait_until 90 sh -c "kubectl get -n $NS hpa $NAME -o jsonpath='{.status.currentMetrics[0].resource.current.averageUtilization}' | grep -qx '[0-9][0-9]*'"; then
	tail -20 "$MAS_LOG"; die "the HPA did not read a metric"
fi
echo "waiting for the queue worker to be scaled to zero (empty queue) ..."
if ! wait_until 60 sh -c "kubectl get -n $QNS deploy $QNAME -o jsonpath='{.spec.replicas}' | grep -qx 0"; then
	tail -20 "$MAS_LOG"; die "the queue worker was not scaled to zero"
fi
kubectl get hpa -A

step "load curve over ${DEMO_SECONDS}s: ${LOAD_LOW}m, ${LOAD_HIGH}m at ${STEP_UP_AT}s, ${LOAD_LOW}m at ${STEP_DOWN_AT}s (±${NOISE_PCT}% noise); Ctrl-C stops"
echo "expected: ceil(load / ${REQUEST_M}m / ${TARGET_PCT}%) executors: $(((LOAD_HIGH * 100 + REQUEST_M * TARGET_PCT - 1) / (REQUEST_M * TARGET_PCT))) at the high load, min 2 at the low load"
echo "          queue ${QUEUE_HIGH} at ${QUEUE_UP_AT}s, 0 at ${QUEUE_DOWN_AT}s: ceil(queue / ${QTARGET}) = $(((QUEUE_HIGH + QTARGET - 1) / QTARGET)) workers, 0 on an empty queue"
echo "  export KUBECONFIG=$KUBECONFIG   # to watch: kubectl get hpa -n $NS -w"
trap 'INTERRUPTED=1' INT TERM
echo "seconds,load_m,utilization_pct,desired_replicas,replicas,ready_replicas,queue_length,queue_desired,queue_replicas,queue_ready" >"$CSV"
RANDOM=42
T0_US=${EPOCHREALTIME/./}
phase=$LOAD_LOW
for ((k = 0; INTERRUPTED == 0; k++)); do
	ds=$(elapsed_ds)
	[ "$ds" -lt $((DEMO_SECONDS * 10)) ] || break
	base=$(load_at $((ds / 10)))
	if [ "$base" != "$phase" ]; then
		phase=$base
		step "load step to ${base}m at t=$((ds / 10))s"
	fi
	queue=$(queue_at $((ds / 10)))
	if [ "$queue" != "$QUEUE" ]; then
		step "queue length ${queue} at t=$((ds / 10))s"
		set_queue "$queue" || [ "$INTERRUPTED" = 1 ] || die "kubectl annotate failed"
	fi
	set_load "$base" || [ "$INTERRUPTED" = 1 ] || die "kubectl annotate failed"
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
echo "$NS/$NAME:"
replica_changes 5
echo "$QNS/$QNAME:"
replica_changes 9
{
	step "kubectl get hpa -n $NS"
	kubectl get hpa -n "$NS"
	step "kubectl describe hpa -n $NS $NAME"
	kubectl describe hpa -n "$NS" "$NAME"
	step "kubectl get deployment -n $NS"
	kubectl get deployment -n "$NS"
	step "kubectl get hpa -n $QNS"
	kubectl get hpa -n "$QNS"
	step "kubectl describe hpa -n $QNS $QNAME"
	kubectl describe hpa -n "$QNS" "$QNAME"
	step "kubectl get deployment -n $QNS"
	kubectl get deployment -n "$QNS"
} | tee "$TXT"

step "output"
plot
echo "samples: $CSV"
echo "kubectl: $TXT"
