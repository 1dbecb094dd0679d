#!/usr/bin/env bash
# 20-metrics-kubectl-top.sh - metrics.k8s.io end to end, through kubesim's
# aggregation proxy, with the real kubectl: the acceptance points of the
# metrics.k8s.io issue and metrics-server's own e2e assertions.
#
# Cluster: 6 nodes.  node-1's kubelet has a certificate without IP SAN,
# node-2 carries metrics-server-skip=true (excluded by --node-selector),
# node-3 returns garbage, node-4 is down, node-5 answers after the
# request timeout.  The e2e pods (test/e2e/data/metrics-cluster.yaml) run
# on node-0 (and badcert-pod on node-1).
source "$(dirname "$0")/lib.sh"

RES=10s
start_kubesim --nodes 6 --pods-per-node 2 --config "$(dirname "$0")/data/metrics-cluster.yaml"
kubectl label node node-2 metrics-server-skip=true >/dev/null
kubectl annotate node node-1 kubesim.io/kubelet-cert=no-ip-san >/dev/null
kubectl annotate node node-3 kubesim.io/fault=garbage >/dev/null
kubectl annotate node node-4 kubesim.io/fault=down >/dev/null
kubectl annotate node node-5 kubesim.io/fault=slow=8s >/dev/null

COMMON_FLAGS=(--metric-resolution "$RES" --kubelet-request-timeout 5s
	--kubelet-use-node-status-port --kubelet-preferred-address-types InternalIP
	--requestheader-client-ca-file "$SIM_DIR/front-proxy-ca.crt"
	--requestheader-allowed-names front-proxy-client)

start_server "${COMMON_FLAGS[@]}" --kubelet-certificate-authority "$SIM_DIR/ca.crt" \
	--node-selector 'metrics-server-skip!=true'
check "server answers /livez" curl -ksf "https://127.0.0.1:$MAS_PORT/livez"
code=$(curl -ks -o /dev/null -w '%{http_code}' "https://127.0.0.1:$MAS_PORT/readyz")
check_eq "/readyz is 500 before two scrapes" 500 "$code"

register_apiservice

check "/readyz turns ready after the first scrapes" \
	wait_until 40 curl -ksf "https://127.0.0.1:$MAS_PORT/readyz"
check "APIService becomes Available" wait_until 40 sh -c \
	"kubectl get apiservice v1beta1.metrics.k8s.io | grep -q ' True '"
check "kubectl top node succeeds" wait_until 30 kubectl top node node-0

# ---- kubectl top node ------------------------------------------------------
out=$(kubectl top node)
echo "$out" | sed 's/^/# /'
check "top node: header" grep -q '^NAME *CPU(cores) *CPU(%) *MEMORY(bytes) *MEMORY(%)' <<<"$out"
check "top node: node-0 has values" grep -Eq '^node-0 +[0-9]+m +[0-9]+% +[0-9]+Mi +[0-9]+%' <<<"$out"
for n in node-1 node-2 node-3 node-4 node-5; do
	check "top node: $n has no metrics (<unknown>)" grep -Eq "^$n +<unknown>" <<<"$out"
done
out=$(kubectl top node --sort-by=memory --no-headers | awk '$2 != "<unknown>" {print $1}')
check_eq "top node --sort-by=memory lists scraped nodes" "node-0" "$out"
out=$(kubectl top node nope 2>&1 || true)
check_eq "top node <unknown name>: metrics-server's error" \
	'Error from server (NotFound): node "nope" not found' "$out"
out=$(kubectl top node node-2 2>&1 || true)
check_eq "top node on a node excluded by --node-selector: 404" \
	'Error from server (NotFound): nodemetrics.metrics.k8s.io "node-2" not found' "$out"

# ---- values: metrics-server's e2e bounds --------------------------------------
pod_json() { kubectl get --raw "/apis/metrics.k8s.io/v1beta1/namespaces/e2e/pods/$1"; }
py_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
ncont() { pod_json "$1" | py_field 'len(d["containers"])'; }
usage() { pod_json "$1" | py_field "d[\"containers\"][0][\"usage\"][\"$2\"]"; }
cpu_m() { quantity_milli "$(usage "$1" cpu)"; }
mem_mi() { echo $(( $(quantity_milli "$(usage "$1" memory)") / 1000 / 1048576 )); }
check "cpu-consumer is served" wait_until 30 pod_json cpu-consumer
check_eq "cpu-consumer: exactly one container" 1 "$(ncont cpu-consumer)"
check_range "cpu-consumer: cpu 50m +-10m" 40 60 "$(cpu_m cpu-consumer)"
check_eq "memory-consumer: exactly one container" 1 "$(ncont memory-consumer)"
check_range "memory-consumer: memory 50Mi +-5Mi" 45 55 "$(mem_mi memory-consumer)"
check_eq "init container pod: only the main container" "cmwithinitcontainer-consumer" \
	"$(pod_json cmwithinitcontainer-consumer | py_field '",".join(c["name"] for c in d["containers"])')"
check_eq "sidecar pod: two non-zero containers" 2 \
	"$(pod_json sidecarpod-consumer | py_field 'sum(1 for c in d["containers"] if c["usage"]["cpu"] != "0" and c["usage"]["memory"] != "0")')"
check_eq "init-sidecar pod (restartPolicy Always): two containers" 2 "$(ncont initsidecarpod-consumer)"

# ---- kubectl top pod ---------------------------------------------------------
out=$(kubectl top pod -A)
check "top pod -A: header" grep -q '^NAMESPACE *NAME *CPU(cores) *MEMORY(bytes)' <<<"$out"
check "top pod -A: cpu-consumer" grep -Eq '^e2e +cpu-consumer +[0-9]+m +[0-9]+Mi' <<<"$out"
check "top pod -A: a generated pod" grep -Eq '^(default|kube-system|team-a|team-b) +pod-0-' <<<"$out"
check "top pod -A: nothing from the bad-certificate node" bash -c "! grep -q badcert-pod <<<\"\$1\"" _ "$out"
out=$(kubectl top pod -n e2e --containers sidecarpod-consumer)
check "top pod --containers: POD and NAME columns" grep -q '^POD *NAME *CPU(cores) *MEMORY(bytes)' <<<"$out"
check "top pod --containers: the sidecar row" grep -Eq '^sidecarpod-consumer +sidecar-container +[0-9]+m' <<<"$out"
out=$(kubectl top pod -n e2e -l role=consumer --no-headers | awk '{print $1}' | sort | tr '\n' ' ')
check_eq "top pod -l role=consumer" "cpu-consumer memory-consumer " "$out"
out=$(kubectl top pod -n e2e -l 'app in (init,sidecar)' --no-headers | awk '{print $1}' | sort | tr '\n' ' ')
check_eq "top pod -l 'app in (init,sidecar)'" "cmwithinitcontainer-consumer sidecarpod-consumer " "$out"
out=$(kubectl top pod -n e2e --sort-by=memory --no-headers | awk 'NR == 1 {print $1}')
check_eq "top pod --sort-by=memory: memory-consumer first" memory-consumer "$out"
out=$(kubectl top pod -n e2e --sort-by=cpu --no-headers | awk 'END {print $1}')
check_eq "top pod --sort-by=cpu: memory-consumer last" memory-consumer "$out"
out=$(kubectl top pod -n e2e badcert-pod 2>&1 || true)
check_eq "top pod on the bad-certificate node: 404" \
	'Error from server (NotFound): podmetrics.metrics.k8s.io "e2e/badcert-pod" not found' "$out"
check "log names the x509 reason for node-1" \
	grep -Eiq 'node="?node-1"?.*(certificate|x509|SSL)|(certificate|x509|SSL).*node="?node-1' "$MAS_LOG"

# ---- every URL form through kubectl get --raw ---------------------------------
G=/apis/metrics.k8s.io/v1beta1
raw_kind() { kubectl get --raw "$1" | py_field 'd["kind"] + ":" + str(len(d.get("items", [0])))'; }
check_eq "raw $G" "APIResourceList:1" "$(raw_kind $G)"
check_eq "raw $G/nodes: only node-0 is servable" "NodeMetricsList:1" "$(raw_kind $G/nodes)"
check_eq "raw $G/nodes/node-0" "NodeMetrics:1" "$(raw_kind $G/nodes/node-0)"
check_eq "raw $G/namespaces/e2e/pods" "PodMetricsList:5" "$(raw_kind $G/namespaces/e2e/pods)"
check_eq "raw $G/namespaces/e2e/pods/cpu-consumer" "PodMetrics:1" "$(raw_kind $G/namespaces/e2e/pods/cpu-consumer)"
check_eq "raw $G/pods?labelSelector=app%3Dsidecar" "PodMetricsList:1" "$(raw_kind "$G/pods?labelSelector=app%3Dsidecar")"
check_eq "raw $G/pods?fieldSelector=metadata.namespace%3De2e" "PodMetricsList:5" \
	"$(raw_kind "$G/pods?fieldSelector=metadata.namespace%3De2e")"
check_eq "raw $G/nodes?fieldSelector=metadata.name%3Dnode-0" "NodeMetricsList:1" \
	"$(raw_kind "$G/nodes?fieldSelector=metadata.name%3Dnode-0")"
out=$(kubectl get --raw "$G/pods?fieldSelector=spec.nodeName%3Dnode-0" 2>&1 || true)
check "raw unsupported field selector: 400 text" grep -q '"spec.nodeName" is not a known field selector' <<<"$out"
out=$(kubectl get nodemetrics 2>&1)
check "kubectl get nodemetrics: Table columns" grep -Eq '^NAME +CPU +MEMORY +WINDOW' <<<"$out"
out=$(kubectl get podmetrics -n e2e cpu-consumer 2>&1)
check "kubectl get podmetrics: Table row" grep -Eq '^cpu-consumer +[0-9]+[nm]? +[0-9]+(Ki|Mi)? +[0-9.]+s' <<<"$out"

# ---- faults: only the faulty node's points are lost -----------------------------
kubectl annotate node node-3 kubesim.io/fault- >/dev/null
check "node-3 is served once its kubelet recovers" wait_until 40 kubectl get --raw "$G/nodes/node-3"
kubectl annotate node node-0 kubesim.io/fault=500 >/dev/null
check "node-0 disappears after its kubelet fails" wait_until 40 \
	bash -c "! kubectl get --raw $G/nodes/node-0"
check "node-3 is still served" kubectl get --raw "$G/nodes/node-3"
check "the server is still ready" curl -ksf "https://127.0.0.1:$MAS_PORT/readyz"
check "log: failed scrape of node-0 names the status" grep -q 'node-0' "$MAS_LOG"
kubectl annotate node node-0 kubesim.io/fault- >/dev/null

# ---- a second server with --kubelet-insecure-tls sees node-1 --------------------
FIRST_PORT=$MAS_PORT
start_server "${COMMON_FLAGS[@]}" --kubelet-insecure-tls
check "with --kubelet-insecure-tls node-1 is served" wait_until 40 server_get "$G/nodes/node-1"
check "with --kubelet-insecure-tls badcert-pod is served" server_get "$G/namespaces/e2e/pods/badcert-pod"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/certs/apiserver.crt" \
	-H 'X-Remote-User: mallory' -H 'X-Remote-Group: system:masters' \
	"https://127.0.0.1:$MAS_PORT$G/nodes")
check_eq "X-Remote-* without the front-proxy certificate is not trusted" 403 "$code"
MAS_PORT=$FIRST_PORT

finish
