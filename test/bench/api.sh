#!/usr/bin/env bash
# api.sh - bench-api: how many metrics.k8s.io requests a second our server
# answers, and how fast, over TLS keep-alive.
#
#   make bench-api [CONNECTIONS=16] [SECONDS_MEASURED=10]
#   BUILD=/abs/build test/bench/api.sh
#
# kubesim runs one namespace `bench` of PODS (30) pods on 2 nodes; our
# server scrapes them every 10 s.  Once the namespace's pods list has every
# pod, build/test/bench_api_load (N kept-alive connections on one thread,
# each sending its next GET when the last answer is in) times
#   GET /apis/metrics.k8s.io/v1beta1/namespaces/bench/pods
# two ways, one after the other:
#   client-cert   the kubesim admin certificate (group system:masters)
#   front-proxy   kubesim's front-proxy client certificate with
#                 X-Remote-User: bench-reader, X-Remote-Group: bench-readers
#                 (the way kube-apiserver's aggregator calls us; the user is
#                 allowed by kubesim's policy, so authorization may ask
#                 kubesim and cache the answer)
# Prints per path req_per_s, p50/p99/max ms, and the CPU the server and the
# load client used (seconds per second: cores).  Target (issue 12):
# >= 20,000 req/s with p99 < 2 ms on the 2-core machine, both paths.
# Only loopback; every process started here is stopped on exit; KEEP=1
# keeps the work dir.
set -euo pipefail

BUILD=${BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
CONNECTIONS=${CONNECTIONS:-16}
SECONDS_MEASURED=${SECONDS_MEASURED:-10}
PODS=${PODS:-30}
SERVER=${SERVER:-$BUILD/metrics-apiserver}
# shellcheck source=test/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_range CONNECTIONS "$CONNECTIONS" 1 256
check_range SECONDS_MEASURED "$SECONDS_MEASURED" 1 600
check_range PODS "$PODS" 1 1000
WORK=$(mktemp -d /tmp/mas-bench-api.XXXXXX)

{
	echo "namespaces: [bench]"
	echo "pods:"
	for ((i = 0; i < PODS; i++)); do
		cat <<YAML
- metadata:
    name: web-$i
    namespace: bench
    labels: {app: web}
    annotations: {kubesim.io/cpu: "const:100m"}
  spec:
    containers:
    - {name: web, image: registry.k8s.io/pause:3.9}
YAML
	done
	cat <<'YAML'
policy:
  rules:
  - group: bench-readers
    verbs: [get, list]
    apiGroups: [metrics.k8s.io]
    resources: [pods]
    allow: true
YAML
} >"$WORK/cluster.yaml"

log "starting kubesim: $PODS pods in namespace bench"
start_kubesim 60 --nodes 2 --pods-per-node 0 --config "$WORK/cluster.yaml"
SIM=$WORK/sim
PORT=$(free_port)
"$SERVER" --kubeconfig "$SIM/kubeconfig" --secure-port "$PORT" --bind-address 127.0.0.1 \
	--cert-dir "$WORK/certs" --metric-resolution 10s --kubelet-request-timeout 5s \
	--kubelet-certificate-authority "$SIM/ca.crt" --kubelet-use-node-status-port \
	--kubelet-preferred-address-types InternalIP --client-ca-file "$SIM/ca.crt" \
	--requestheader-client-ca-file "$SIM/front-proxy-ca.crt" --hpa=off \
	>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
URL=https://127.0.0.1:$PORT/apis/metrics.k8s.io/v1beta1/namespaces/bench/pods

all_pods() {
	curl -ksf --cert "$SIM/admin.crt" --key "$SIM/admin.key" "$URL" |
		jq -e --argjson n "$PODS" '.items | length == $n'
}
log "waiting until the server has every pod's metrics (two scrapes)"
wait_for 90 "all $PODS pods served" all_pods

hz=$(getconf CLK_TCK)
run() { # run NAME bench_api_load args...
	local name=$1 s0 s1 t0 t1
	shift
	log "$name: $CONNECTIONS connections, ${SECONDS_MEASURED}s (+2s warm-up)"
	"$BUILD/test/bench_api_load" --url "$URL" --connections "$CONNECTIONS" \
		--seconds "$SECONDS_MEASURED" --warmup 2 "$@" >"$WORK/$name.out" &
	local load=$!
	sleep 2.1 # the warm-up: the server's CPU is read over the measured seconds
	s0=$(cpu_ticks "$SERVER_PID") t0=$(now_ns)
	sleep "$(awk -v s="$SECONDS_MEASURED" 'BEGIN { print s - 0.2 }')"
	s1=$(cpu_ticks "$SERVER_PID") t1=$(now_ns)
	wait "$load" || die "$name: the load client failed: $(cat "$WORK/$name.out")"
	sed "s/^/${name}_/" "$WORK/$name.out" | grep -v -e '_seconds:' -e '_connections:'
	awk -v n="$name" -v s=$((s1 - s0)) -v dt=$((t1 - t0)) -v hz="$hz" \
		'BEGIN { printf "%s_server_cores: %.2f\n", n, s / hz / (dt / 1e9) }'
}

echo "command: make bench-api CONNECTIONS=$CONNECTIONS SECONDS_MEASURED=$SECONDS_MEASURED"
echo "url: $URL"
echo "connections: $CONNECTIONS"
echo "seconds: $SECONDS_MEASURED"
run client_cert --cert "$SIM/admin.crt" --key "$SIM/admin.key"
run front_proxy --cert "$SIM/front-proxy-client.crt" --key "$SIM/front-proxy-client.key" \
	--header "X-Remote-User: bench-reader" --header "X-Remote-Group: bench-readers"
