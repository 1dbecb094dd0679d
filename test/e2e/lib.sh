# lib.sh - shared helpers for the end-to-end suites (sourced, not run).
#
# Every suite: source this, start what it needs with start_kubesim /
# start_server, assert with check / check_eq, end with finish.  Processes
# are killed and the work dir removed on exit (KEEP=1 keeps it).
set -euo pipefail

BUILD=${BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
WORK=$(mktemp -d /tmp/mas-e2e.XXXXXX)
E2E_PIDS=()
E2E_FAILS=0

e2e_cleanup() {
	local rc=$? p
	if [ "$rc" -ne 0 ] && [ "$E2E_FAILS" -eq 0 ]; then
		echo "not ok - suite stopped early (exit $rc) at line ${BASH_LINENO[0]}"
		E2E_FAILS=1
	fi
	for p in "${E2E_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${E2E_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ "${KEEP:-0}" = 1 ] || [ "$E2E_FAILS" -gt 0 ]; then
		echo "# work dir kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit $(( E2E_FAILS > 0 ? 1 : rc ))
}
trap e2e_cleanup EXIT

ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; E2E_FAILS=$((E2E_FAILS + 1)); }
# as_comment: stdin to stdout as "# " lines (TAP comments)
as_comment() { sed 's/^/# /'; }

# check "description" command...   (passes when the command succeeds;
# its stdout is discarded, stderr kept for the log)
check() {
	local desc=$1
	shift
	if "$@" >/dev/null; then ok "$desc"; else notok "$desc"; fi
}

# check_out "description" command...   (as check, but on failure the
# command's stdout and stderr are shown, indented, first 20 lines)
check_out() {
	local desc=$1
	shift
	if "$@" >"$WORK/last.out" 2>&1; then ok "$desc"; else
		notok "$desc"
		sed 's/^/#   /' "$WORK/last.out" | head -20
	fi
}

# eventually seconds "description" command...   (check_out, retried every
# 0.2 s until the command succeeds or the time is up)
eventually() {
	local limit=$1 desc=$2 i
	shift 2
	for ((i = 0; i < limit * 5; i++)); do
		if "$@" >"$WORK/last.out" 2>&1; then
			ok "$desc"
			return 0
		fi
		sleep 0.2
	done
	notok "$desc"
	sed 's/^/#   /' "$WORK/last.out" | head -20
}

# quantity_milli "250m" -> 250; "1500n" -> 1 (ceil, as Quantity.MilliValue)
quantity_milli() {
	python3 -c '
import sys, math
from decimal import Decimal
s = sys.argv[1]
mult = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": Decimal(1000),
        "M": Decimal(10**6), "G": Decimal(10**9), "Ki": Decimal(1024), "Mi": Decimal(1024**2),
        "Gi": Decimal(1024**3)}
for suf in ("Ki", "Mi", "Gi", "n", "u", "m", "k", "M", "G"):
    if s.endswith(suf):
        print(math.ceil(Decimal(s[:-len(suf)]) * mult[suf] * 1000)); break
else:
    print(math.ceil(Decimal(s) * 1000))
' "$1"
}

# check_eq "description" expected actual
# todo_eq "description" "defect, and the issue that owns it" expected actual:
# a check of a known, open defect (TAP's TODO): reported as
# "not ok - ... # TODO ..." without failing the suite while it fails, and
# as "ok - ... # TODO fixed?" once it passes, so the TODO can be dropped.
todo_eq() {
	if [ "$3" = "$4" ]; then
		echo "ok - $1 # TODO fixed? ($2): make it a check_eq"
	else
		echo "not ok - $1 # TODO $2: expected '$3', got '$4'"
	fi
}

check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else notok "$1: expected [$2] got [$3]"; fi
}

# check_range "description" lo hi value   (integers)
check_range() {
	if [ -n "$4" ] && [ "$4" -ge "$2" ] && [ "$4" -le "$3" ]; then ok "$1 ($4)"
	else notok "$1: [$4] not in [$2, $3]"; fi
}

finish() {
	if [ "$E2E_FAILS" -gt 0 ]; then
		echo "# $E2E_FAILS check(s) failed"
		exit 1
	fi
	echo "# all checks passed"
}

# wait_until seconds command...   (polls every 0.2 s; returns 1 on timeout)
wait_until() {
	local deadline=$(( $(date +%s) + $1 ))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_kubesim [kubesim flags...]: sets SIM_DIR, SIM_SERVER, KUBECONFIG,
# KUBELET_PORT (a free port, so suites never collide on 10250).
start_kubesim() {
	SIM_DIR=$WORK/sim
	mkdir -p "$SIM_DIR"
	KUBELET_PORT=$(free_port)
	"$BUILD/kubesim" --dir "$SIM_DIR" --parent-pid $$ --kubelet-port "$KUBELET_PORT" "$@" \
		>"$WORK/kubesim.out" 2>"$WORK/kubesim.log" &
	E2E_PIDS+=($!)
	if ! wait_until 60 grep -q '^kubesim ready' "$WORK/kubesim.out"; then
		echo "# kubesim did not become ready; log:"; tail -20 "$WORK/kubesim.log"
		return 1
	fi
	SIM_SERVER=$(sed -n 's/^kubesim ready server=\([^ ]*\).*/\1/p' "$WORK/kubesim.out")
	export KUBECONFIG=$SIM_DIR/kubeconfig
}

# start_server [metrics-apiserver flags...]: sets MAS_PORT, MAS_PID, MAS_LOG.
start_server() {
	MAS_PORT=$(free_port)
	MAS_LOG=$WORK/server.$MAS_PORT.log
	"$BUILD/metrics-apiserver" --kubeconfig "$KUBECONFIG" --secure-port "$MAS_PORT" \
		--bind-address 127.0.0.1 --cert-dir "$WORK/certs" "$@" >"$MAS_LOG" 2>&1 &
	MAS_PID=$!
	E2E_PIDS+=("$MAS_PID")
	wait_until 30 curl -ksf "https://127.0.0.1:$MAS_PORT/livez"
}

stop_server() {
	kill "$MAS_PID" 2>/dev/null || true
	wait "$MAS_PID" 2>/dev/null || true
}

# register_apiservice_gv VERSION.GROUP PORT [VERSION_PRIORITY [SERVICE]]:
# registers the APIService VERSION.GROUP in kubesim with its backend at
# 127.0.0.1:PORT (annotation kubesim.io/endpoint), as a real provider is
# registered (service SERVICE in kube-system, default metrics-server).
register_apiservice_gv() {
	local gv=$1 port=$2 prio=${3:-100} svc=${4:-metrics-server}
	kubectl create --validate=false -f - >/dev/null <<YAML
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: $gv
  annotations: {kubesim.io/endpoint: "127.0.0.1:$port"}
spec:
  group: ${gv#*.}
  version: ${gv%%.*}
  service: {name: $svc, namespace: kube-system, port: 443}
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 100
  versionPriority: $prio
YAML
}

# register_apiservice [port]: registers v1beta1.metrics.k8s.io in kubesim,
# pointing its aggregation proxy at the server (default: $MAS_PORT).
register_apiservice() {
	register_apiservice_gv v1beta1.metrics.k8s.io "${1:-$MAS_PORT}"
}

# register_custom_apiservices [port]: the server (default $MAS_PORT) as the
# custom and external metrics provider: v1beta1.custom.metrics.k8s.io,
# v1beta2.custom.metrics.k8s.io (the higher versionPriority, so preferred,
# as custom-metrics-apiserver's own deployment registers them) and
# v1beta1.external.metrics.k8s.io.
register_custom_apiservices() {
	local port=${1:-$MAS_PORT}
	register_apiservice_gv v1beta1.custom.metrics.k8s.io "$port" 100
	register_apiservice_gv v1beta2.custom.metrics.k8s.io "$port" 200
	register_apiservice_gv v1beta1.external.metrics.k8s.io "$port" 100
}

# apiservice_available NAME: its Available condition is True.
apiservice_available() {
	[ "$(kubectl get apiservice "$1" \
		-o jsonpath='{.status.conditions[?(@.type=="Available")].status}')" = True ]
}

# register_metrics_provider: registers kubesim's fake custom and external
# metrics provider (test/kubesim/metrics_provider.c) as a real provider is
# registered: APIServices v1beta1.external.metrics.k8s.io and
# v1beta2.custom.metrics.k8s.io whose backend is kubesim itself.
register_metrics_provider() {
	local gv
	for gv in v1beta1.external.metrics.k8s.io v1beta2.custom.metrics.k8s.io; do
		register_apiservice_gv "$gv" "${SIM_SERVER##*:}" 100 kubesim-metrics-provider
	done
}

# server_get PATH: GET https://127.0.0.1:$MAS_PORT/PATH straight from the
# server (not through kubesim), as the aggregator calls it: kubesim's
# front-proxy client certificate, user e2e in system:masters.
server_get() {
	curl -sf --cacert "$WORK/certs/apiserver.crt" --cert "$SIM_DIR/front-proxy-client.crt" \
		--key "$SIM_DIR/front-proxy-client.key" -H 'X-Remote-User: e2e' \
		-H 'X-Remote-Group: system:masters' "https://127.0.0.1:$MAS_PORT$1"
}

# metrics_snap: the server's /metrics into $WORK/m.txt, so that values read
# together come from one answer (a round updates its counters at once).
metrics_snap() { server_get /metrics >"$WORK/m.txt"; }
# metrics_value NAME[{labels}]: that sample's value in the last snap (empty
# when absent).
metrics_value() { awk -v s="$1" '$1 == s {print $2}' "$WORK/m.txt"; }

# raw_error PATH: what `kubectl get --raw PATH` prints when it fails (its
# "Error from server (Reason): message" line); empty when it succeeds.
raw_error() {
	if kubectl get --raw "$1" >/dev/null 2>"$WORK/raw_error.err"; then return 0; fi
	cat "$WORK/raw_error.err"
}

# json_eval EXPR: reads JSON on stdin and prints the Python expression EXPR
# of it (the document is d).
json_eval() {
	python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

# proc_status_kb PID FIELD: a kB field of /proc/PID/status (VmRSS, VmHWM).
proc_status_kb() {
	awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"
}

# metric_items_milli: reads a MetricValueList or ExternalMetricValueList on
# stdin and prints one line per item: the described object's name (or the
# metricLabels as k=v,...) and the value in milli-units, rounded up as
# Quantity.MilliValue (what the HPA reads).
metric_items_milli() {
	python3 -c '
import json, math, sys
from decimal import Decimal
mult = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": Decimal(1000),
        "M": Decimal(10**6), "G": Decimal(10**9)}
for it in json.load(sys.stdin)["items"]:
    v, m = it["value"], Decimal(1)
    if v[-1] in mult:
        v, m = v[:-1], mult[v[-1]]
    if "describedObject" in it:
        name = it["describedObject"]["name"]
    else:
        name = ",".join("%s=%s" % kv for kv in sorted((it["metricLabels"] or {}).items()))
    print(name, math.ceil(Decimal(v) * m * 1000))
'
}

# check_pct "description" expected pct actual   (integers: actual within
# pct percent of expected)
check_pct() {
	check_range "$1 (expected $2 +-$3%)" $(($2 * (100 - $3) / 100)) $(($2 * (100 + $3) / 100)) "$4"
}

# kubesim_user NAME [GROUP]: a client certificate for user NAME (and GROUP)
# from kubesim's CA, as `kubeadm kubeconfig user` makes one, in
# $WORK/F.kubeconfig where F is NAME with ':' made '_' (a service account
# system:serviceaccount:NS:SA is system_serviceaccount_NS_SA).
kubesim_user() {
	local name=${1//:/_} subj="/CN=$1"
	local kc=$WORK/$name.kubeconfig
	[ -n "${2:-}" ] && subj="$subj/O=$2"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$WORK/$name.key" -subj "$subj" -out "$WORK/$name.csr" 2>/dev/null
	openssl x509 -req -in "$WORK/$name.csr" -CA "$SIM_DIR/ca.crt" -CAkey "$SIM_DIR/ca.key" \
		-CAcreateserial -days 1 -out "$WORK/$name.crt" \
		-extfile <(printf 'extendedKeyUsage=clientAuth\n') 2>/dev/null
	kubectl config --kubeconfig "$kc" set-cluster kubesim --server "$SIM_SERVER" \
		--certificate-authority "$SIM_DIR/ca.crt" >/dev/null
	kubectl config --kubeconfig "$kc" set-credentials "$name" \
		--client-certificate "$WORK/$name.crt" --client-key "$WORK/$name.key" >/dev/null
	kubectl config --kubeconfig "$kc" set-context "$name" --cluster kubesim --user "$name" >/dev/null
	kubectl config --kubeconfig "$kc" use-context "$name" >/dev/null
}

# as NAME kubectl-args...: kubectl as a user made by kubesim_user.
as() { local who=${1//:/_}; shift; kubectl --kubeconfig "$WORK/$who.kubeconfig" "$@"; }

# rendered FILE kinds|args [ROOT]: of a `kubectl kustomize` output FILE,
# the objects' kinds (sorted, one line) or the Deployment's container args,
# one a line.  With ROOT, the args' paths are mapped as the pod sees them:
# an absolute path under a volumeMount becomes ROOT/<path>, emptyDir
# mounts are made and every mounted ConfigMap's keys are written there
# (what the kubelet projects).
rendered() {
	/usr/bin/python3 - "$@" <<'PY'
import os, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
if sys.argv[2] == "kinds":
    print(" ".join(sorted({d["kind"] for d in docs})))
    sys.exit(0)
dep = [d for d in docs if d["kind"] == "Deployment"][0]["spec"]["template"]["spec"]
args = dep["containers"][0]["args"]
if len(sys.argv) > 3:
    root = sys.argv[3]
    vols = {v["name"]: v for v in dep.get("volumes", [])}
    cms = {(d["metadata"]["name"]): d for d in docs if d["kind"] == "ConfigMap"}
    mounts = []
    for m in dep["containers"][0].get("volumeMounts", []):
        where = root + m["mountPath"]
        os.makedirs(where, exist_ok=True)
        v = vols[m["name"]]
        if "configMap" in v:
            for k, text in cms[v["configMap"]["name"]].get("data", {}).items():
                open(os.path.join(where, k), "w").write(text)
        mounts.append(m["mountPath"].rstrip("/"))
    out = []
    for a in args:
        if "=" in a:
            flag, val = a.split("=", 1)
            if any(val == p or val.startswith(p + "/") for p in mounts):
                a = flag + "=" + root + val
        out.append(a)
    args = out
print("\n".join(args))
PY
}

# top_forbidden RESOURCE USER [NAMESPACE]: what `kubectl top` prints when
# USER may not list RESOURCE (pods, nodes) of metrics.k8s.io (kube-
# apiserver's Forbidden text, through kubectl's "Error from server").
top_forbidden() {
	local where="at the cluster scope"
	[ -n "${3:-}" ] && where="in the namespace \"$3\""
	echo "Error from server (Forbidden): $1.metrics.k8s.io is forbidden: User \"$2\" cannot list resource \"$1\" in API group \"metrics.k8s.io\" $where"
}
