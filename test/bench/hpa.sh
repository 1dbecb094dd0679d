#!/usr/bin/env bash
# hpa.sh - bench-hpa: how fast the embedded HPA controller turns a load
# step into a scale write.
#
#   make bench-hpa [NODES=2] [PODS=0] [RESOLUTION_S=10]
#   BUILD=/abs/build test/bench/hpa.sh
#
# Starts kubesim with test/e2e/data/hpa-cluster.yaml (Deployment web, one
# replica at 40% of its CPU request, and its annotated HPA targeting 50%)
# plus NODES x PODS generated pods, and metrics-apiserver with
# --hpa=annotated --metric-resolution RESOLUTION_S --v=2.  Once the HPA
# reads the metric it raises web's load (kubesim.io/load 40 -> 290) and
# waits for the first "Successful rescale" of web.  The round that led to
# that write is the last "Scraping metrics from nodes" / "Scrape finished"
# pair the server logged before it: the first round whose samples showed
# the step beyond the HPA's tolerance.  From the server's own log
# timestamps it prints:
#   round_start_to_write_ms  start of that round (its samples' time) -> write
#   round_end_to_write_ms    that round stored in the store -> write
#   step_to_write_ms         the annotation (wall clock here) -> write;
#                            includes waiting for the next round
#   within_one_resolution    round_start_to_write_ms < RESOLUTION_S
# Measured, not asserted: exits 1 only when a step times out.
set -euo pipefail

BUILD=${BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODES=${NODES:-2}
PODS=${PODS:-0}
RESOLUTION_S=${RESOLUTION_S:-10}
KEEP=${KEEP:-0}

WORK=
PIDS=()

log() { echo "# $*" >&2; }
die() { log "error: $*"; exit 1; }

is_uint() { [[ $1 =~ ^[0-9]+$ ]] && [ "${#1}" -le 6 ]; }

validate_inputs() {
	is_uint "$NODES" && [ "$NODES" -ge 1 ] && [ "$NODES" -le 5000 ] ||
		die "NODES must be an integer in [1, 5000]"
	is_uint "$PODS" && [ "$PODS" -le 100 ] || die "PODS must be an integer in [0, 100]"
	is_uint "$RESOLUTION_S" && [ "$RESOLUTION_S" -ge 10 ] && [ "$RESOLUTION_S" -le 600 ] ||
		die "RESOLUTION_S must be in [10, 600]"
	local b
	for b in kubesim metrics-apiserver; do
		[ -x "$BUILD/$b" ] || die "$BUILD/$b not built (run make first)"
	done
}

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ -n "$WORK" ]; then
		if [ "$KEEP" = 1 ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for seconds what command...: polls every 0.1 s, dies on timeout.
wait_for() {
	local deadline=$(($(date +%s) + $1)) what=$2 p
	shift 2
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || die "timed out waiting for $what"
		for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null || die "pid $p exited ($what)"; done
		sleep 0.1
	done
}

start_cluster() {
	"$BUILD/kubesim" --dir "$WORK/sim" --nodes "$NODES" --pods-per-node "$PODS" --seed 1 \
		--kubelet-port "$(free_port)" --parent-pid $$ \
		--config "$HERE/../e2e/data/hpa-cluster.yaml" \
		>"$WORK/kubesim.out" 2>"$WORK/kubesim.log" &
	PIDS+=($!)
	wait_for 120 "kubesim ready" grep -q '^kubesim ready' "$WORK/kubesim.out"
	export KUBECONFIG=$WORK/sim/kubeconfig
	MAS_LOG=$WORK/server.log
	"$BUILD/metrics-apiserver" --kubeconfig "$KUBECONFIG" --secure-port "$(free_port)" \
		--bind-address 127.0.0.1 --cert-dir "$WORK/certs" \
		--metric-resolution "${RESOLUTION_S}s" --kubelet-request-timeout 5s \
		--kubelet-certificate-authority "$WORK/sim/ca.crt" \
		--kubelet-use-node-status-port --kubelet-preferred-address-types InternalIP \
		--hpa=annotated --v=2 >"$MAS_LOG" 2>&1 &
	PIDS+=($!)
}

metric_read() {
	kubectl get hpa web -o jsonpath='{.status.currentMetrics[0].resource.current.averageUtilization}' |
		grep -qx '[0-9][0-9]*'
}

rescaled() { grep -q '"Successful rescale" HPA="default/web"' "$MAS_LOG"; }

# Prints the figures from the server log; $1 = the step's wall clock (ns).
report() {
	python3 - "$MAS_LOG" "$1" "$RESOLUTION_S" <<'PY'
import re, sys, datetime
log, step_ns, res_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
year = datetime.datetime.fromtimestamp(step_ns / 1e9, datetime.timezone.utc).year
stamp = re.compile(r'^[IWE](\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6})')

def ns_of(line):
    m = stamp.match(line)
    if not m:
        return None
    mo, d, h, mi, s, us = map(int, m.groups())
    t = datetime.datetime(year, mo, d, h, mi, s, us, tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 10**9 + us * 1000

start = end = None
for line in open(log, errors='replace'):
    t = ns_of(line)
    if t is None:
        continue
    if '"Scraping metrics from nodes"' in line:
        start = t
    elif '"Scrape finished"' in line:
        end = t
    elif '"Successful rescale" HPA="default/web"' in line and t >= step_ns - 10**9:
        seen = re.search(r'desiredReplicas=(\d+)', line).group(1)
        print(f"resolution_s: {res_s}")
        print(f"first_write_replicas: {seen}")
        print(f"round_start_to_write_ms: {(t - start) / 1e6:.1f}")
        print(f"round_end_to_write_ms: {(t - end) / 1e6:.1f}")
        print(f"step_to_write_ms: {(t - step_ns) / 1e6:.1f}")
        print(f"within_one_resolution: {'yes' if t - start < res_s * 10**9 else 'no'}")
        break
else:
    sys.exit("no rescale of default/web after the step in the log")
PY
}

main() {
	validate_inputs
	WORK=$(mktemp -d /tmp/mas-bench-hpa.XXXXXX)
	log "kubesim: $NODES nodes x $PODS generated pods, plus Deployment web"
	start_cluster
	log "waiting for the HPA to read web's CPU"
	wait_for 120 "the HPA metric" metric_read
	! rescaled || die "web was rescaled before the step"
	local step
	step=$(date +%s%N)
	kubectl annotate deployment web kubesim.io/load=290 --overwrite >/dev/null
	log "load step 40 -> 290 at $(date -u +%T); waiting for the scale write"
	wait_for $((3 * RESOLUTION_S + 30)) "the scale write" rescaled
	report "$step"
}

main "$@"
