#!/usr/bin/env bash
# pods.sh - bench-pods: metrics-apiserver, Prometheus and vmagent scraping
# the same kubesim application targets, in the same run.
#
#   make bench-pods TARGETS=10000 SERIES=50 [SECONDS_MEASURED=60]
#   BUILD=/abs/build TARGETS=10000 SERIES=50 test/bench/pods.sh
#
# kubesim runs TARGETS pods annotated prometheus.io/scrape (hello-<j>, at
# most 1,000 in each of the namespaces bench-0, bench-1, ..., on
# ceil(TARGETS / 100) nodes), each serving SERIES series in all on
# http://127.2.x.y:<free port>/metrics (hello_counter_total at 10/s, its gauge and
# histogram, padded by kubesim.io/metrics-series).  Then, at once:
#   ours        build/metrics-apiserver --config test/bench/pods-rules.yaml
#               (prometheus-adapter rule hello_counter_total ->
#               hello_counter_per_second); it finds the targets through its
#               pod informer, and also scrapes the nodes' kubelets
#   prometheus  /usr/bin/prometheus, file_sd targets (IP:port with labels
#               namespace and pod, from kubesim's GET /api/v1/pods), TSDB
#               in $WORK
#   vmagent     /usr/bin/vmagent, the same file_sd targets, remote-writing
#               to build/test/bench_sink (a loopback sink answering 204)
# all at scrape interval RESOLUTION_S (15 s).  SERVER=/path picks another
# metrics-apiserver binary (default $BUILD/metrics-apiserver).  A tool that is not there is
# reported as skipped with the reason (ours: a build without --config,
# i.e. before application targets were wired into the server).
#
# kubesim holds every scraper's connections; when TOOLS x TARGETS would not
# fit under its open-files limit with connections kept alive, the targets
# answer `Connection: close` (kubesim.io/metrics-keepalive) for ALL tools,
# and the output says so.  KEEPALIVE=1/0 forces it.
#
# Warm-up: until every tool reports every target up (Prometheus: count(up
# == 1); vmagent: vm_promscrape_targets{status="up"}; ours:
# metrics_apiserver_series / SERIES), then
# WARMUP_S more (default 2 intervals).  Measured: SECONDS_MEASURED rounded
# up to whole intervals, sampled once an interval: CPU = utime + stime of
# /proc/PID/stat over the interval (as CPU seconds per minute), RSS =
# VmRSS of /proc/PID/status at the sample; the table gives the medians over
# the samples, and VmHWM (peak) at the end.  Same reading for every tool,
# kubesim and the sink.  After the window (outside it), a p99 of
#   GET /apis/custom.metrics.k8s.io/v1beta2/namespaces/bench-0/pods/*/hello_counter_per_second
# on our server over HTTPS (build/test/bench_custom_get; Prometheus,
# vmagent and the sink stopped first, our server still scraping), or
# "skipped" when the endpoint does not answer 200.
#
# Prints the table and `key: value` lines on stdout; progress as `# ...`
# on stderr.  Only loopback.  Every step is bounded in time; every process
# started here is killed on exit; KEEP=1 keeps the work dir (all logs).
set -euo pipefail

BUILD=${BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
TARGETS=${TARGETS:-10000}
SERIES=${SERIES:-50}
SECONDS_MEASURED=${SECONDS_MEASURED:-60}
RESOLUTION_S=${RESOLUTION_S:-15}
WARMUP_S=${WARMUP_S:-$((2 * RESOLUTION_S))}
TOOLS=${TOOLS:-ours prometheus vmagent}
KEEPALIVE=${KEEPALIVE:-auto}
GETS=${GETS:-1000}
SERVER=${SERVER:-$BUILD/metrics-apiserver}
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
VMAGENT=${VMAGENT:-/usr/bin/vmagent}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RULES=$HERE/pods-rules.yaml
PODS_PER_NS=1000
PODS_PER_NODE=100 # kubesim nodes allow 110
TARGET_PORT=    # free on 0.0.0.0 (kubesim's target listener), picked at start
BASE_SERIES=13    # what a kubesim pod serves unpadded (podmetrics.h)
OURS_KEPT_PER_TARGET=1 # series of a pod pods-rules.yaml reads (hello_counter_total)
MAX_TARGETS=50000

# shellcheck source=test/bench/lib.sh
. "$HERE/lib.sh"

COMMAND="make bench-pods TARGETS=$TARGETS SERIES=$SERIES SECONDS_MEASURED=$SECONDS_MEASURED"
declare -A PID SKIP PORT
RUN=()     # tools started, in TOOLS order
NODES=0

validate_inputs() {
	check_range TARGETS "$TARGETS" 1 "$MAX_TARGETS"
	check_range SERIES "$SERIES" "$BASE_SERIES" 10000
	check_range SECONDS_MEASURED "$SECONDS_MEASURED" 1 3600
	check_range RESOLUTION_S "$RESOLUTION_S" 10 600
	check_range WARMUP_S "$WARMUP_S" 0 3600
	check_range GETS "$GETS" 1 1000000
	case $KEEPALIVE in auto | 0 | 1) ;; *) die "KEEPALIVE must be auto, 0 or 1" ;; esac
	local b t
	for b in kubesim test/bench_sink test/bench_custom_get; do
		[ -x "$BUILD/$b" ] || die "$BUILD/$b not built (run make first)"
	done
	for t in $TOOLS; do
		case $t in ours | prometheus | vmagent) ;; *) die "unknown tool '$t' in TOOLS" ;; esac
	done
	command -v jq >/dev/null || die "jq not installed"
}

# Decides which tools run; SKIP[tool] holds the reason for the others.
pick_tools() {
	local t
	for t in $TOOLS; do
		case $t in
		ours)
			if [ ! -x "$SERVER" ]; then
				SKIP[ours]="$SERVER not built"
			elif ! "$SERVER" --help 2>&1 | grep -q -- '--config '; then
				SKIP[ours]="this build has no --config flag (application targets not wired into the server yet)"
			fi ;;
		prometheus)
			[ -x "$PROMETHEUS" ] || SKIP[prometheus]="$PROMETHEUS not installed (apt-get install prometheus)" ;;
		vmagent)
			[ -x "$VMAGENT" ] || SKIP[vmagent]="$VMAGENT not installed (apt-get install victoria-metrics ships it)" ;;
		esac
		if [ -n "${SKIP[$t]:-}" ]; then log "$t: skipped: ${SKIP[$t]}"; else RUN+=("$t"); fi
	done
	[ "${#RUN[@]}" -gt 0 ] || die "no tool to run"
}

# Keep-alive unless kubesim cannot hold every scraper's connections (its
# limit: the open-files limit minus 1,024, see kubelet.c).
pick_keepalive() {
	local limit need
	limit=$(($(ulimit -Hn) - 1024))
	need=$((${#RUN[@]} * TARGETS + NODES + 256))
	if [ "$KEEPALIVE" = auto ]; then
		if [ "$need" -le "$limit" ]; then KEEPALIVE=1; else KEEPALIVE=0; fi
	fi
	if [ "$KEEPALIVE" = 1 ]; then
		KEEPALIVE_NOTE="on (kubesim holds ${#RUN[@]} x $TARGETS connections, limit $limit)"
	else
		KEEPALIVE_NOTE="off: targets answer Connection: close for every tool (${#RUN[@]} x $TARGETS kept-alive connections + $NODES kubelets > kubesim's $limit open files)"
	fi
	log "keep-alive: $KEEPALIVE_NOTE"
}

# kubesim's extra objects: namespaces bench-<i> with PODS_PER_NS pods
# hello-<j> each (pods, not a Deployment: kubesim's Deployment controller
# re-lists every Deployment's pods each second, 30 % of a core at 10,000
# pods, which would be charged to the targets).
write_cluster() {
	local ka=true
	[ "$KEEPALIVE" = 1 ] || ka=false
	awk -v n="$TARGETS" -v per="$PODS_PER_NS" -v port="$TARGET_PORT" -v series="$SERIES" \
		-v ka="$ka" 'BEGIN {
		printf "namespaces: ["
		for (i = 0; i <= int((n - 1) / per); i++) printf "%sbench-%d", i ? ", " : "", i
		print "]\npods:"
		for (i = 0; i < n; i++) {
			printf "- metadata:\n    name: hello-%d\n    namespace: bench-%d\n", i % per, int(i / per)
			print "    labels: {app: hello}"
			printf "    annotations: {prometheus.io/scrape: \"true\", prometheus.io/port: \"%s\",", port
			printf " kubesim.io/cpu: \"const:100m\", kubesim.io/metrics-series: \"%s\",", series
			printf " kubesim.io/metrics-keepalive: \"%s\"}\n", ka
			print "  spec:\n    containers:\n    - {name: hello, image: registry.k8s.io/pause:3.9}"
		}
	}' >"$WORK/cluster.yaml"
}

# GET on kubesim's API as its admin (the client certificate it writes).
sim_get() {
	local server
	server=$(sed -n 's/^kubesim ready server=\([^ ]*\).*/\1/p' "$WORK/kubesim.out")
	curl -sf --noproxy '*' --max-time 60 --cacert "$WORK/sim/ca.crt" \
		--cert "$WORK/sim/admin.crt" --key "$WORK/sim/admin.key" "$server$1"
}

# Succeeds once TARGETS pods are Running with a 127.2/16+ address; writes
# the file_sd list (one group per pod, labels namespace and pod).
targets_ready() {
	sim_get /api/v1/pods >"$WORK/pods.json" || return 1
	jq -c --arg port "$TARGET_PORT" '[.items[]
		| select(.status.phase == "Running" and ((.status.podIP // "") | startswith("127.")))
		| {targets: [.status.podIP + ":" + $port],
		   labels: {namespace: .metadata.namespace, pod: .metadata.name}}]' \
		"$WORK/pods.json" >"$WORK/targets.json.tmp" || return 1
	[ "$(jq length "$WORK/targets.json.tmp")" -ge "$TARGETS" ] || return 1
	mv "$WORK/targets.json.tmp" "$WORK/targets.json"
}

write_scrape_config() {
	cat >"$WORK/scrape.yml" <<-EOF
	global:
	  scrape_interval: ${RESOLUTION_S}s
	  scrape_timeout: 10s
	scrape_configs:
	- job_name: pods
	  file_sd_configs:
	  - files: [$WORK/targets.json]
	EOF
}

start_tool() {
	local t=$1 port
	port=$(free_port)
	PORT[$t]=$port
	case $t in
	ours)
		"$SERVER" --kubeconfig "$WORK/sim/kubeconfig" --config "$RULES" \
			--secure-port "$port" --bind-address 127.0.0.1 --cert-dir "$WORK/certs-ours" \
			--metric-resolution "${RESOLUTION_S}s" \
			--kubelet-certificate-authority "$WORK/sim/ca.crt" \
			--kubelet-use-node-status-port --kubelet-preferred-address-types InternalIP \
			--client-ca-file "$WORK/sim/ca.crt" \
			--authorization-always-allow-paths /healthz,/readyz,/livez,/metrics \
			--v=1 >"$WORK/ours.log" 2>&1 &
		;;
	prometheus)
		"$PROMETHEUS" --config.file "$WORK/scrape.yml" --storage.tsdb.path "$WORK/prometheus" \
			--web.listen-address "127.0.0.1:$port" --log.level warn >"$WORK/prometheus.log" 2>&1 &
		;;
	vmagent)
		"$VMAGENT" -promscrape.config "$WORK/scrape.yml" \
			-remoteWrite.url "http://127.0.0.1:$SINK_PORT/api/v1/write" \
			-remoteWrite.tmpDataPath "$WORK/vmagent" \
			-httpListenAddr "127.0.0.1:$port" -loggerLevel WARN >"$WORK/vmagent.log" 2>&1 &
		;;
	esac
	PID[$t]=$!
	PIDS+=("$!")
}

start_sink() {
	"$BUILD/test/bench_sink" --max-seconds 7200 >"$WORK/sink.out" 2>"$WORK/sink.log" &
	PID[sink]=$!
	PIDS+=("$!")
	wait_for 10 "the sink" grep -q 'listening' "$WORK/sink.out"
	SINK_PORT=$(sed -n 's/.*listening 127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/sink.out")
}

# prom_query expr [time]: the first value of an instant query, 0 when none.
prom_query() {
	curl -sf --noproxy '*' --max-time 30 "http://127.0.0.1:${PORT[prometheus]}/api/v1/query" \
		--data-urlencode "query=$1" ${2:+--data-urlencode "time=$2"} |
		jq -r '.data.result[0].value[1] // "0"'
}

# Sum of the samples of one metric family (name, then an optional label
# regex) on a /metrics text in $1.
metric_sum() {
	awk -v name="$2" -v re="${3:-}" '
	index($0, name) == 1 {
		rest = substr($0, length(name) + 1)
		if (rest !~ /^[{ ]/) next
		if (re != "" && rest !~ re) next
		s += $NF
	}
	END { printf "%.0f\n", s }' "$1"
}

# A tool's /metrics into $WORK/<tool>.metrics (outside the window).
fetch_metrics() {
	local url
	case $1 in
	ours) url="https://127.0.0.1:${PORT[ours]}/metrics" ;;
	*) url="http://127.0.0.1:${PORT[$1]}/metrics" ;;
	esac
	curl -ksf --noproxy '*' --max-time 60 "$url" >"$WORK/$1.metrics" || : >"$WORK/$1.metrics"
}

# A tool's own scrape counters now: "<scrapes> <failed> <unix ns>"
# (vmagent, ours; Prometheus answers from its TSDB instead).
scrape_counts() {
	fetch_metrics "$1"
	case $1 in
	vmagent)
		echo "$(metric_sum "$WORK/vmagent.metrics" vm_promscrape_scrapes_total)" \
			"$(metric_sum "$WORK/vmagent.metrics" vm_promscrape_scrapes_failed_total)" "$(now_ns)" ;;
	ours)
		echo "$(metric_sum "$WORK/ours.metrics" metrics_apiserver_app_scrapes_total)" \
			"$(metric_sum "$WORK/ours.metrics" metrics_apiserver_app_scrape_failures_total)" "$(now_ns)" ;;
	*) echo "0 0 $(now_ns)" ;;
	esac
}

# Reads every tool's counters at once into $WORK/counts<1>.<tool>.
all_counts() {
	local t pids=()
	for t in "${RUN[@]}"; do
		scrape_counts "$t" >"$WORK/counts$1.$t" &
		pids+=("$!")
	done
	wait "${pids[@]}"
}

# "scrapes in the window: N (in S s), failed: M" of a tool: Prometheus
# from its TSDB (up over [W0_S, W1_S]), the others from their counters
# read just before and just after the window.
window_scrapes() {
	local w=$((W1_S - W0_S)) n f n0 f0 t0 t1
	case $1 in
	prometheus)
		n=$(prom_query "sum(count_over_time(up[${w}s]))" "$W1_S")
		f=$(prom_query "sum(count_over_time(up[${w}s])) - sum(sum_over_time(up[${w}s]))" "$W1_S")
		;;
	*)
		read -r n0 f0 t0 <"$WORK/counts0.$1"
		read -r n f t1 <"$WORK/counts1.$1"
		n=$((n - n0)) f=$((f - f0)) w=$(((t1 - t0) / 1000000000))
		;;
	esac
	echo "scrapes in the window: $n (in $w s), failed: $f"
}

# Targets a tool scrapes successfully now.
targets_up() {
	case $1 in
	prometheus) prom_query 'count(up == 1)' ;;
	vmagent)
		fetch_metrics vmagent
		metric_sum "$WORK/vmagent.metrics" vm_promscrape_targets 'status="up"' ;;
	ours)
		# no per-target "up" on our /metrics: series stored / the series
		# a target keeps (pods-rules.yaml reads hello_counter_total, one
		# series per pod; the server stores nothing no rule reads), at
		# most the targets of the last round
		fetch_metrics ours
		awk -v s="$(metric_sum "$WORK/ours.metrics" metrics_apiserver_series)" \
			-v t="$(metric_sum "$WORK/ours.metrics" metrics_apiserver_app_scrape_targets)" \
			-v per="$OURS_KEPT_PER_TARGET" 'BEGIN { u = int(s / per); print u < t ? u : t }' ;;
	esac
}

# Waits until every started tool has every target up (bounded).
wait_all_up() {
	local budget=$((4 * RESOLUTION_S + 60 + TARGETS / 100)) t up pending
	local deadline=$(($(date +%s) + budget))
	while :; do
		pending=
		for t in "${RUN[@]}"; do
			up=$(targets_up "$t" || echo 0)
			[ "${up:-0}" -ge "$TARGETS" ] || pending="$pending $t=${up:-0}"
		done
		[ -z "$pending" ] && return 0
		if [ "$(date +%s)" -ge "$deadline" ]; then
			log "warning: after $budget s not every target is up:$pending; measuring anyway"
			return 0
		fi
		check_alive "waiting for targets up"
		sleep 2
	done
}

# One sample line per process: name k wall_ns ticks rss_kb.
sample() {
	local k=$1 now name
	now=$(now_ns)
	for name in "${RUN[@]}" kubesim sink; do
		local p=${PID[$name]}
		echo "$name $k $now $(cpu_ticks "$p") $(status_kb "$p" VmRSS)"
	done >>"$WORK/samples.txt"
}

# Medians per process over the samples: name cpu_s_per_min rss_mib.
medians() {
	awk -v hz="$(getconf CLK_TCK)" '
	function median(arr, n,   i, j, t) {
		for (i = 1; i < n; i++)
			for (j = i; j > 0 && arr[j - 1] > arr[j]; j--) { t = arr[j]; arr[j] = arr[j - 1]; arr[j - 1] = t }
		return n % 2 ? arr[(n - 1) / 2] : (arr[n / 2 - 1] + arr[n / 2]) / 2
	}
	{
		name = $1
		if (name in last_t) {
			dt = ($3 - last_t[name]) / 1e9
			c[name, nc[name]++] = ($4 - last_c[name]) / hz / dt * 60
			r[name, nr[name]++] = $5 / 1024
		}
		last_t[name] = $3; last_c[name] = $4
		if (!(name in seen)) { seen[name] = 1; order[n++] = name }
	}
	END {
		for (i = 0; i < n; i++) {
			name = order[i]
			delete a; delete b
			for (k = 0; k < nc[name]; k++) { a[k] = c[name, k]; b[k] = r[name, k] }
			printf "%s %.3f %.1f\n", name, median(a, nc[name]), median(b, nr[name])
		}
	}' "$WORK/samples.txt"
}

# Figures each tool reports about itself, outside the window.
tool_facts() {
	local t=$1
	case $t in
	prometheus)
		echo "prometheus_samples_per_round: $(prom_query 'sum(scrape_samples_scraped)')"
		fetch_metrics prometheus
		echo "prometheus_head_series: $(metric_sum "$WORK/prometheus.metrics" prometheus_tsdb_head_series)"
		;;
	vmagent)
		fetch_metrics vmagent
		awk '$1 == "vm_promscrape_scraped_samples_sum" { s = $2 } $1 == "vm_promscrape_scraped_samples_count" { c = $2 }
			END { if (c > 0) printf "vmagent_samples_per_scrape: %.1f\n", s / c }' "$WORK/vmagent.metrics"
		echo "vmagent_remote_write_requests_to_sink: $(metric_sum "$WORK/vmagent.metrics" vmagent_remotewrite_requests_total)"
		;;
	ours)
		fetch_metrics ours
		echo "ours_series: $(metric_sum "$WORK/ours.metrics" metrics_apiserver_series)"
		echo "ours_app_scrape_targets: $(metric_sum "$WORK/ours.metrics" metrics_apiserver_app_scrape_targets)"
		awk '$1 == "metrics_apiserver_app_scrape_duration_seconds_sum" { s = $2 }
			$1 == "metrics_apiserver_app_scrape_duration_seconds_count" { c = $2 }
			END { if (c > 0) printf "ours_app_round_mean_s: %.3f\n", s / c }' "$WORK/ours.metrics"
		;;
	esac
}

# p50/p99 of the pods/* custom-metric GET on our server (after the window).
custom_get() {
	local url
	if [ -z "${PID[ours]:-}" ]; then
		echo "custom_get: skipped: our server is not running (${SKIP[ours]:-not in TOOLS})"
		return
	fi
	url="https://127.0.0.1:${PORT[ours]}/apis/custom.metrics.k8s.io/v1beta2/namespaces/bench-0/pods/*/hello_counter_per_second"
	timeout 600 "$BUILD/test/bench_custom_get" --url "$url" --count "$GETS" \
		--cert "$WORK/sim/admin.crt" --key "$WORK/sim/admin.key" | sed 's/^/custom_get_/' ||
		echo "custom_get: failed (see above)"
	echo "custom_get_command: build/test/bench_custom_get --url '$url' --count $GETS --cert admin.crt --key admin.key"
}

report() {
	local m ours_cpu ours_rss
	m=$(medians)
	echo
	echo "command: $COMMAND"
	echo "targets: $TARGETS"
	echo "series_per_target: $SERIES"
	echo "scrape_interval: ${RESOLUTION_S}s"
	echo "nodes: $NODES"
	[ -n "${SKIP[ours]:-}" ] || echo "server: $SERVER"
	echo "keepalive: $KEEPALIVE_NOTE"
	echo "measured_seconds: $MEASURED_S ($SAMPLES sample(s), one per interval)"
	echo
	printf '%-11s %14s %9s %14s %s\n' tool cpu_s_per_min rss_mib peak_rss_mib note
	local t row cpu rss hwm
	for t in $TOOLS kubesim sink; do
		if [ -n "${SKIP[$t]:-}" ]; then
			printf '%-11s %14s %9s %14s %s\n' "$t" - - - "skipped: ${SKIP[$t]}"
			continue
		fi
		row=$(echo "$m" | awk -v t="$t" '$1 == t')
		[ -n "$row" ] || continue
		read -r _ cpu rss <<<"$row"
		hwm=$(awk -v k="${HWM[$t]:-0}" 'BEGIN { printf "%.1f", k / 1024 }')
		printf '%-11s %14s %9s %14s %s\n' "$t" "$cpu" "$rss" "$hwm" "${NOTE[$t]:-}"
	done
	echo
	ours_cpu=$(echo "$m" | awk '$1 == "ours" { print $2 }')
	ours_rss=$(echo "$m" | awk '$1 == "ours" { print $3 }')
	for t in prometheus vmagent; do
		local goal=10
		[ "$t" = vmagent ] && goal=3
		if [ -z "$ours_cpu" ] || [ -n "${SKIP[$t]:-}" ] || [[ " ${RUN[*]} " != *" $t "* ]]; then
			echo "ratio_${t}_over_ours: n/a (both must run)"
			continue
		fi
		echo "$m" | awk -v t="$t" -v oc="$ours_cpu" -v orr="$ours_rss" -v goal="$goal" '$1 == t {
			rc = oc > 0 ? $2 / oc : 0; rr = orr > 0 ? $3 / orr : 0
			printf "ratio_%s_over_ours: cpu %.1fx, rss %.1fx (target >= %dx: cpu %s, rss %s)\n", t, rc, rr, goal,
				(rc >= goal ? "met" : "NOT met"), (rr >= goal ? "met" : "NOT met")
		}'
	done
}

main() {
	validate_inputs
	WORK=$(mktemp -d /tmp/mas-bench-pods.XXXXXX)
	NODES=$(((TARGETS + PODS_PER_NODE - 1) / PODS_PER_NODE))
	log "TARGETS=$TARGETS SERIES=$SERIES SECONDS_MEASURED=$SECONDS_MEASURED interval=${RESOLUTION_S}s nodes=$NODES work=$WORK"
	pick_tools
	pick_keepalive
	# another kubesim on this machine may hold 0.0.0.0:8080 for its own pods
	TARGET_PORT=$(free_port 0.0.0.0)
	write_cluster
	local t0 budget
	t0=$(date +%s)
	budget=$((120 + TARGETS / 50))
	start_kubesim "$budget" --nodes "$NODES" --pods-per-node 0 --config "$WORK/cluster.yaml"
	PID[kubesim]=$SIM_PID
	log "kubesim ready in $(($(date +%s) - t0)) s; waiting for $TARGETS Running target pods"
	wait_for "$budget" "$TARGETS target pods Running" targets_ready
	! grep -q 'cannot listen on port' "$WORK/kubesim.log" ||
		die "kubesim cannot serve the targets: $(grep 'cannot listen on port' "$WORK/kubesim.log" | head -1)"
	log "$TARGETS targets Running after $(($(date +%s) - t0)) s; $(jq -r '.[0].targets[0]' "$WORK/targets.json") ... "
	write_scrape_config
	start_sink
	local t
	for t in "${RUN[@]}"; do start_tool "$t"; done
	log "started: ${RUN[*]}; waiting until each has every target up"
	wait_all_up
	log "all up after $(($(date +%s) - t0)) s; warm-up $WARMUP_S s more"
	sleep "$WARMUP_S"
	check_alive "warm-up"

	SAMPLES=$(((SECONDS_MEASURED + RESOLUTION_S - 1) / RESOLUTION_S))
	MEASURED_S=$((SAMPLES * RESOLUTION_S))
	local k start
	declare -gA HWM NOTE
	all_counts 0
	start=$(now_ns)
	W0_S=$((start / 1000000000))
	: >"$WORK/samples.txt"
	sample 0
	for ((k = 1; k <= SAMPLES; k++)); do
		while [ "$(now_ns)" -lt $((start + k * RESOLUTION_S * 1000000000)) ]; do sleep 0.2; done
		check_alive "measuring"
		sample "$k"
		log "sample $k/$SAMPLES"
	done
	all_counts 1
	W1_S=$(($(now_ns) / 1000000000))
	for t in "${RUN[@]}" kubesim sink; do HWM[$t]=$(status_kb "${PID[$t]}" VmHWM); done
	for t in "${RUN[@]}"; do NOTE[$t]=$(window_scrapes "$t"); done
	NOTE[kubesim]="serves the targets (and the kubelets, API)"
	NOTE[sink]="vmagent's remote-write sink"
	report
	echo
	for t in "${RUN[@]}"; do tool_facts "$t"; done
	# the GETs measure our server alone (it keeps scraping): the others stop
	for t in prometheus vmagent sink; do
		[ -z "${PID[$t]:-}" ] || kill "${PID[$t]}" 2>/dev/null || true
	done
	for t in prometheus vmagent sink; do
		[ -z "${PID[$t]:-}" ] || wait "${PID[$t]}" 2>/dev/null || true
	done
	custom_get
}

main "$@"
