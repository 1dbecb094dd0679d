#!/usr/bin/env bash
# demo.sh - `make demo`: a simulated cluster, metrics-apiserver behind its
# aggregation layer, and the real kubectl top.  Stops on Ctrl-C or after
# DEMO_SECONDS (default 60) of refreshing `kubectl top node`.
source "$(dirname "$0")/../e2e/lib.sh"
KEEP=0

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "starting kubesim: 4 nodes, 8 pods per node (sine-shaped CPU, some sidecars)"
start_kubesim --nodes 4 --pods-per-node 8
kubectl get nodes -o wide

step "starting metrics-apiserver (resolution 10s, kubelet CA verified)"
start_server --metric-resolution 10s --kubelet-request-timeout 5s \
	--kubelet-use-node-status-port --kubelet-preferred-address-types InternalIP \
	--kubelet-certificate-authority "$SIM_DIR/ca.crt" \
	--requestheader-client-ca-file "$SIM_DIR/front-proxy-ca.crt" \
	--requestheader-allowed-names front-proxy-client
register_apiservice
echo "waiting for two scrapes and the APIService to become Available ..."
if ! wait_until 60 kubectl top node; then
	echo "metrics did not become available; server log:"; tail -20 "$MAS_LOG"; exit 1
fi
kubectl get apiservice v1beta1.metrics.k8s.io

step "kubectl top nodes"
kubectl top nodes
step "kubectl top pods -A"
kubectl top pods -A
step "kubectl top pod --containers -n team-a"
kubectl top pod --containers -n team-a

step "cluster stays up for ${DEMO_SECONDS:-60}s (Ctrl-C to stop); in another shell:"
echo "  export KUBECONFIG=$KUBECONFIG"
echo "  kubectl top pods -A --sort-by=cpu"
end=$(( $(date +%s) + ${DEMO_SECONDS:-60} ))
while [ "$(date +%s)" -lt "$end" ]; do
	sleep 15
	step "kubectl top nodes ($(date +%H:%M:%S))"
	kubectl top nodes
done
