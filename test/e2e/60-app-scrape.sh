#!/usr/bin/env bash
# 60-app-scrape.sh - application targets (issue 11) end to end: with --config
# the server scrapes kubesim's annotated pods (hello_counter_total on
# 127.2.x.y) and a static exporter from the config's metricsApiserver:
# key every --metric-resolution, and says so on /metrics; a kubesim fault
# on one pod fails that target only (counted by reason, logged with the
# target), the others keep succeeding.  A broken --config stops the start
# with its FILE:LINE:COL lines before anything is connected; without
# --config nothing is scraped.
source "$(dirname "$0")/lib.sh"

RES=10s
APP_PORT=$(free_port) # pods and the exporter share it (one listener per port)
sed "s/@PORT@/$APP_PORT/g" "$(dirname "$0")/data/app-cluster.yaml" >"$WORK/app-cluster.yaml"
start_kubesim --nodes 2 --pods-per-node 1 --config "$WORK/app-cluster.yaml"

# ---- a broken --config: its lines, exit 1, before connecting ----------------------
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RULES=$ROOT/test/data/rules
set +e # from the top folder: the .expected lines name the file by that path
(cd "$ROOT" && "$BUILD/metrics-apiserver" --config test/data/rules/broken-regex.yaml \
	--kubeconfig /nonexistent --secure-port "$(free_port)" --cert-dir "$WORK/certs") \
	>"$WORK/broken.out" 2>"$WORK/broken.err"
rc=$?
set -e
check_eq "broken --config: exit 1" 1 "$rc"
check_out "broken --config: its FILE:LINE:COL line, then the error (no kubeconfig read)" \
	diff <(cat "$RULES/broken-regex.expected"; \
	       echo "Error: unable to load metrics discovery config file test/data/rules/broken-regex.yaml") \
	"$WORK/broken.err"

# ---- the config: rules reading hello_counter_total and queue_depth, our exporter -------
# (the scrape stores only the series some rule reads: one per pod, one for the
# exporter, of the 13 and more each serves)
CONFIG=$WORK/config.yaml
{
	cat <<'YAML'
rules:
- seriesQuery: 'hello_counter_total{namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  name: {matches: "^(.*)_total$", as: "${1}_per_second"}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)'
externalRules:
- seriesQuery: 'queue_depth{queue!=""}'
  resources: {namespaced: false}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)'
YAML
	cat <<YAML
metricsApiserver:
  targets:
  - name: jobs-exporter
    url: http://127.254.0.1:$APP_PORT/metrics
    labels: {namespace: apps}
YAML
} >"$CONFIG"

COMMON_FLAGS=(--metric-resolution "$RES" --kubelet-request-timeout 5s
	--kubelet-use-node-status-port --kubelet-preferred-address-types InternalIP
	--kubelet-certificate-authority "$SIM_DIR/ca.crt"
	--requestheader-client-ca-file "$SIM_DIR/front-proxy-ca.crt"
	--requestheader-allowed-names front-proxy-client)
start_server "${COMMON_FLAGS[@]}" --config "$CONFIG"
check "server with --config answers /livez" curl -ksf "https://127.0.0.1:$MAS_PORT/livez"

failures() { awk '$1 ~ /^metrics_apiserver_app_scrape_failures_total\{/ {n += $2} END {print n + 0}' "$WORK/m.txt"; }
at_least() { local v; metrics_snap || return 1; v=$(metrics_value "$1"); [ -n "$v" ] && [ "${v%.*}" -ge "$2" ]; }
kubelet_rounds() { metrics_snap && grep -q '^metrics_server_manager_tick_duration_seconds_count [1-9]' "$WORK/m.txt"; }

# 3 annotated pods + the exporter; two rounds are 8 scrapes
check "two rounds of application scrapes" wait_until 40 at_least metrics_apiserver_app_scrapes_total 8
metrics_snap
check_eq "targets: the 3 annotated Running pods and the static exporter" 4 \
	"$(metrics_value metrics_apiserver_app_scrape_targets)"
check_eq "no scrape failed" 0 "$(failures)"
check_eq "series stored: only what the rules read (3 hello_counter_total, 1 queue_depth)" 4 \
	"$(metrics_value metrics_apiserver_series)"
check_eq "no series-limit refusal" 0 "$(metrics_value metrics_apiserver_series_limit_refusals_total)"
check "the round duration histogram counts rounds" at_least metrics_apiserver_app_scrape_duration_seconds_count 2
check_eq "every failure reason is listed" 7 \
	"$(grep -c '^metrics_apiserver_app_scrape_failures_total{reason=' "$WORK/m.txt")"
check_out "families in name order, metrics_apiserver_* first" bash -c \
	"grep '^# TYPE' '$WORK/m.txt' | awk '{print \$3}' | LC_ALL=C sort -c"
check "no 'Failed to scrape target' in the log" bash -c "! grep -q 'Failed to scrape target' '$MAS_LOG'"

# ---- a fault on one pod: that target fails, the others keep succeeding ---------------
kubectl annotate pod -n apps hello-1 kubesim.io/fault=500 >/dev/null
check "the faulty pod's scrapes fail as http_status" wait_until 40 \
	at_least 'metrics_apiserver_app_scrape_failures_total{reason="http_status"}' 1
s0=$(metrics_value metrics_apiserver_app_scrapes_total)
f0=$(failures)
check "two more rounds" wait_until 40 at_least metrics_apiserver_app_scrapes_total $((s0 + 8))
metrics_snap
s1=$(metrics_value metrics_apiserver_app_scrapes_total)
f1=$(failures)
check_eq "one failure per round: the 3 other targets kept succeeding" $(((s1 - s0) / 4)) $((f1 - f0))
check "log: the failure names the target and the status" \
	grep -q '"Failed to scrape target" target="apps/hello-1" .*HTTP status 500' "$MAS_LOG"
check "log: no other target failed" bash -c \
	"! grep 'Failed to scrape target' '$MAS_LOG' | grep -v 'target=\"apps/hello-1\"'"

# a malformed body: failed as "parse", logged with its line number
kubectl annotate pod -n apps hello-1 kubesim.io/fault=garbage --overwrite >/dev/null
check "a garbage body fails as parse" wait_until 40 \
	at_least 'metrics_apiserver_app_scrape_failures_total{reason="parse"}' 1
check "log: target, line number and reason" \
	grep -Eq '"Failed to scrape target" target="apps/hello-1" .*err="line [0-9]+: ' "$MAS_LOG"
kubectl annotate pod -n apps hello-1 kubesim.io/fault- >/dev/null
metrics_snap
f2=$(failures)
s2=$(metrics_value metrics_apiserver_app_scrapes_total)
check "after the fault is gone: two more rounds" wait_until 40 \
	at_least metrics_apiserver_app_scrapes_total $((s2 + 8))
metrics_snap
f3=$(failures)
check "after the fault is gone: at most one more failure (a round in flight)" \
	test $((f3 - f2)) -le 1
stop_server

# ---- without --config: no application scraping ----------------------------------------
start_server "${COMMON_FLAGS[@]}"
check "without --config: kubelet rounds run" wait_until 40 kubelet_rounds
check "without --config: no metrics_apiserver_* families" bash -c \
	"! grep -q '^metrics_apiserver_' '$WORK/m.txt'"

finish
