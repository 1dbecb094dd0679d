# lib.sh - shell helpers shared by the benchmark scripts (sourced, not run).
#
# Sourcing it sets `trap cleanup EXIT` (and INT/TERM -> exit 130): every
# pid appended to PIDS is stopped on exit (SIGTERM, up to 10 s grace, then
# SIGKILL), and WORK (when set) is removed unless KEEP=1.  The sourcing
# script sets `set -euo pipefail` itself.
# shellcheck shell=bash

WORK=${WORK:-}
KEEP=${KEEP:-0}
PIDS=()

log() { echo "# $*" >&2; }
die() { log "error: $*"; exit 1; }

# check_range NAME VALUE MIN MAX: dies unless VALUE is an integer in range.
check_range() {
	if ! [[ $2 =~ ^[0-9]{1,9}$ ]] || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
		die "$1 must be an integer in [$3, $4], got '$2'"
	fi
}

# Stops what we started: SIGTERM, up to 10 s grace, then SIGKILL.
cleanup() {
	local p tries alive
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for ((tries = 0; tries < 50; tries++)); do
		alive=0
		for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ "$alive" = 0 ] && break
		sleep 0.2
	done
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ -n "$WORK" ]; then
		if [ "$KEEP" = 1 ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port [addr]: a TCP port free on addr (default 127.0.0.1) right now.
free_port() {
	python3 -c 'import socket, sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1]); s.close()' "${1:-127.0.0.1}"
}

# Dies when one of PIDS is gone (what: for the message).
check_alive() {
	local p
	for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null || die "pid $p exited ($1)"; done
}

# wait_for seconds what command...: polls every 0.1 s, dies on timeout.
wait_for() {
	local deadline=$(($(date +%s) + $1)) what=$2
	shift 2
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || die "timed out waiting for $what"
		check_alive "$what"
		sleep 0.1
	done
}

# start_kubesim budget_s args...: kubesim in $WORK/sim with the cluster CA
# for kubelet certificates, kubelets on a free port; waits for "kubesim
# ready".  Sets KUBELET_PORT and SIM_PID.
start_kubesim() {
	local budget=$1
	shift
	KUBELET_PORT=$(free_port 127.0.0.1)
	"$BUILD/kubesim" --dir "$WORK/sim" --seed 1 "$@" \
		--kubelet-port "$KUBELET_PORT" --kubelet-cert-mode cluster-ca --parent-pid $$ \
		>"$WORK/kubesim.out" 2>"$WORK/kubesim.log" &
	SIM_PID=$!
	PIDS+=("$SIM_PID")
	wait_for "$budget" "kubesim ready" grep -q '^kubesim ready' "$WORK/kubesim.out"
}

now_ns() { date +%s%N; }

# utime + stime of a process (all threads), in clock ticks.
cpu_ticks() {
	local stat rest f
	stat=$(<"/proc/$1/stat")
	rest=${stat##*) } # the command name may hold spaces and parentheses
	read -ra f <<<"$rest"
	echo $((f[11] + f[12]))
}

# status_kb pid VmRSS|VmHWM
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
