#!/usr/bin/env bash
# kubesim.sh - bench-kubesim: how kubesim's simulated kubelets hold up.
#
#   make bench-kubesim [BENCH_NODES=10000] [PODS=30]
#   BUILD=/abs/build NODES=10000 PODS=30 [ROUNDS=3] test/bench/kubesim.sh
#
# Starts kubesim with NODES nodes of PODS pods, then build/test/bench_kubelets
# GETs every node's /metrics/resource once per round (ROUNDS rounds, one
# every 15 s, start times spread like metrics-server, connections kept
# alive).  A warm-up round 0 first pays the TLS handshakes and the lazily
# made node certificates.  VERIFY=1 also verifies the kubelets' serving
# certificates against the cluster CA (costs the client CPU on this box).
# Prints, as `key: value` lines: nodes, pods, latency per round, kubesim
# CPU seconds over the rounds (utime + stime from /proc/<pid>/stat) and its
# peak RSS (VmHWM).  Stops by itself; kills what it started.
set -euo pipefail

BUILD=${BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
NODES=${NODES:-10000}
PODS=${PODS:-30}
ROUNDS=${ROUNDS:-3}
INTERVAL=${INTERVAL:-15s}
VERIFY=${VERIFY:-}

WORK=$(mktemp -d /tmp/bench-kubesim.XXXXXX)
SIM_PID=

cleanup() {
	if [ -n "$SIM_PID" ]; then
		kill "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("0.0.0.0",0)); print(s.getsockname()[1]); s.close()'
}

cpu_seconds() {
	# fields 14 and 15 of /proc/<pid>/stat, after the "(comm)" field
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}

ulimit -n 20000 2>/dev/null || true
PORT=$(free_port)
echo "# starting kubesim: $NODES nodes x $PODS pods, kubelets on port $PORT" >&2
"$BUILD/kubesim" --dir "$WORK/sim" --nodes "$NODES" --pods-per-node "$PODS" --seed 1 \
	--kubelet-port "$PORT" --parent-pid $$ >"$WORK/kubesim.out" 2>"$WORK/kubesim.log" &
SIM_PID=$!

for _ in $(seq 1 600); do
	grep -q '^kubesim ready' "$WORK/kubesim.out" 2>/dev/null && break
	kill -0 "$SIM_PID" 2>/dev/null || { tail -5 "$WORK/kubesim.log" >&2; exit 1; }
	sleep 0.5
done
grep -q '^kubesim ready' "$WORK/kubesim.out" || { echo "kubesim did not start" >&2; exit 1; }

cpu0=$(cpu_seconds "$SIM_PID")
status=0
"$BUILD/test/bench_kubelets" --first 127.1.0.1 --count "$NODES" --port "$PORT" \
	--rounds "$ROUNDS" --interval "$INTERVAL" --wait 60s \
	${VERIFY:+--cacert "$WORK/sim/ca.crt"} >"$WORK/bench.out" || status=$?
cpu1=$(cpu_seconds "$SIM_PID")

echo "nodes: $NODES"
echo "pods: $((NODES * PODS))"
sed 's/^/latency /' "$WORK/bench.out"
echo "kubesim_cpu_seconds: $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.2f", b - a }')"
echo "kubesim_peak_rss_kib: $(awk '/^VmHWM/ { print $2 }' "/proc/$SIM_PID/status")"
exit "$status"
