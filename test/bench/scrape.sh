#!/usr/bin/env bash
# scrape.sh - bench-scrape: metrics-apiserver scraping kubesim's kubelets.
#
#   make bench-scrape NODES=1000 PODS=30 [SECONDS_MEASURED=120] [BASELINE=/path/metrics-apiserver]
#   BUILD=/abs/build NODES=10000 PODS=30 test/bench/scrape.sh
#
# BASELINE (A/B mode): a second metrics-apiserver binary (e.g. one built
# from an older commit) is started at the same time against the same
# kubesim, with the same flags, and measured over the same window; its
# figures are printed with a "baseline_" prefix, followed by the ratios
# baseline / this build.  Both share the machine's noise, so the ratio is
# the figure to quote from one run.
#
# Starts kubesim (NODES simulated kubelets, PODS pods each, certificates
# from its cluster CA) and metrics-apiserver scraping them every
# RESOLUTION_S (15 s) over TLS keep-alive, all on loopback.  Warm-up ends
# with the first round that stored every node (it pays the TLS
# handshakes).  The measured window then runs from the end of that round
# over the next ceil(SECONDS_MEASURED / RESOLUTION_S) whole rounds, and
# at least SECONDS_MEASURED.  Over the window it reads, for
# both processes, CPU from /proc/<pid>/stat (utime + stime, all threads)
# and memory from /proc/<pid>/status (VmRSS at the end, VmHWM = peak).
# Round durations come from the server's own log lines
#   "Scrape finished" duration="1.234s" nodeCount=N podCount=M   (--v=1)
# and, as a cross-check, the mean from the manager_tick_duration_seconds
# histogram on its /metrics (delta of _sum / _count over the window).
#
# Prints one block of `key: value` lines on stdout; progress goes to
# stderr as `# ...`.  Exits 1 when a step times out or a measured round
# missed nodes (the block is still printed then).  Every process started
# here is killed on exit; KEEP=1 keeps the work dir with both logs.
# Time is bounded: start-up and warm-up 120 s + NODES*PODS/1000 s each,
# the window at most 3 x SECONDS_MEASURED + 60 s, teardown 10 s.
# Only loopback is used (kubelets are 127.1.x.y, one port); no limit is
# raised, so NODES stays below the 20,000 open-files limit.
set -euo pipefail

BUILD=${BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
NODES=${NODES:-1000}
PODS=${PODS:-30}
SECONDS_MEASURED=${SECONDS_MEASURED:-120}
RESOLUTION_S=${RESOLUTION_S:-15}
BASELINE=${BASELINE:-}

# kubesim holds one connection per node and so does the server; both stay
# under the open-files limit (20,000 here) with room for everything else.
MAX_NODES=18000

# log, die, check_range, cleanup (trap), free_port, wait_for, start_kubesim,
# now_ns, cpu_ticks, status_kb; KEEP=1 keeps $WORK.
# shellcheck source=test/bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

validate_inputs() {
	check_range NODES "$NODES" 1 "$MAX_NODES"
	check_range PODS "$PODS" 0 1000
	check_range SECONDS_MEASURED "$SECONDS_MEASURED" 1 3600
	check_range RESOLUTION_S "$RESOLUTION_S" 10 600
	local b
	for b in kubesim metrics-apiserver; do
		[ -x "$BUILD/$b" ] || die "$BUILD/$b not built (run make first)"
	done
	[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || die "BASELINE=$BASELINE is not an executable"
	# kubesim then holds two connections per node
	[ -z "$BASELINE" ] || [ "$NODES" -le $((MAX_NODES / 2)) ] ||
		die "with BASELINE, NODES must be at most $((MAX_NODES / 2)) (open-files limit)"
}

# Seconds allowed for start-up and the first round: kubesim builds every
# object in memory (about 100 s for 300,000 pods on 2 busy cores).
startup_budget() { echo $((120 + NODES * PODS / 1000)); }

# start_server binary tag: sets PID_<tag>, PORT_<tag>, LOG_<tag>.
start_server() {
	local port log=$WORK/server-$2.log
	port=$(free_port)
	"$1" --kubeconfig "$WORK/sim/kubeconfig" \
		--secure-port "$port" --bind-address 127.0.0.1 --cert-dir "$WORK/certs-$2" \
		--metric-resolution "${RESOLUTION_S}s" \
		--kubelet-certificate-authority "$WORK/sim/ca.crt" \
		--kubelet-use-node-status-port --kubelet-preferred-address-types InternalIP \
		--authorization-always-allow-paths /healthz,/readyz,/livez,/metrics \
		--v=1 >"$log" 2>&1 &
	PIDS+=("$!")
	printf -v "PID_$2" '%s' "$!"
	printf -v "PORT_$2" '%s' "$port"
	printf -v "LOG_$2" '%s' "$log"
}

# The "Scrape finished" lines of the server log, one per round.
finished_lines() { grep '"Scrape finished"' "$MAS_LOG" || true; }
# Points MAS_* (what the functions below read) at server <tag>.
use_server() {
	local p=PID_$1 o=PORT_$1 l=LOG_$1
	MAS_PID=${!p} MAS_PORT=${!o} MAS_LOG=${!l}
}
finished_count() { finished_lines | wc -l; }

# Succeeds when the server logged round number $1 (1-based).
round_done() { [ "$(finished_count)" -ge "$1" ]; }

# wait_round n deadline_s: 0 once round n is logged, 1 at the deadline.
wait_round() {
	until round_done "$1"; do
		[ "$(date +%s)" -lt "$2" ] || return 1
		check_alive "round $1"
		sleep 0.1
	done
}

# Prints the number of the first round that stored every node.  When
# none did within the start-up budget, warns and prints the last round
# (the figures are then measured anyway and the script fails at the end);
# dies when no round finished at all.
wait_full_round() {
	local deadline=$(($(date +%s) + $(startup_budget))) n=0
	while wait_round $((n + 1)) "$deadline"; do
		n=$((n + 1))
		if finished_lines | sed -n "${n}p" | grep -q "nodeCount=$NODES "; then
			echo "$n"
			return
		fi
		log "round $n did not store every node: $(finished_lines | sed -n "${n}p" | cut -d] -f2)"
	done
	[ "$n" -gt 0 ] || die "timed out waiting for the first scrape round"
	log "warning: no round stored every node in $(startup_budget) s; measuring from round $n anyway"
	echo "$n"
}

# Writes to $1 the server's own figures, summed over nodes, one
# `key value` a line: tick_sum, tick_count (manager_tick_duration_seconds),
# req_sum, req_count and req_le_<bound> (kubelet_request_duration_seconds,
# cumulative).  The file stays empty when /metrics cannot be read.
metrics_snapshot() {
	curl -ksf --noproxy '*' --max-time 60 "https://127.0.0.1:$MAS_PORT/metrics" |
		awk '
		$1 == "metrics_server_manager_tick_duration_seconds_sum" { v["tick_sum"] = $2 }
		$1 == "metrics_server_manager_tick_duration_seconds_count" { v["tick_count"] = $2 }
		$1 ~ /^metrics_server_kubelet_request_duration_seconds_sum[{]/ { v["req_sum"] += $2 }
		$1 ~ /^metrics_server_kubelet_request_duration_seconds_count[{]/ { v["req_count"] += $2 }
		$1 ~ /^metrics_server_kubelet_request_duration_seconds_bucket[{]/ {
			match($1, /le="[^"]*"/)
			v["req_le_" substr($1, RSTART + 4, RLENGTH - 5)] += $2
		}
		END { for (k in v) print k, v[k] }' >"$1" || : >"$1"
}

# Round statistics of log lines $1+1..$2: "count median max min_nodes".
round_stats() {
	finished_lines | sed -n "$(($1 + 1)),$2p" | awk '
	# Go duration text ("1m2.5s", "812.3ms", "40µs", "900ns") in seconds.
	function go_seconds(d,   total, num, unit) {
		total = 0
		while (match(d, /^[0-9.]+/)) {
			num = substr(d, 1, RLENGTH) + 0
			d = substr(d, RLENGTH + 1)
			match(d, /^[^0-9.]+/)
			unit = substr(d, 1, RLENGTH)
			d = substr(d, RLENGTH + 1)
			if (unit == "h") num *= 3600
			else if (unit == "m") num *= 60
			else if (unit == "ms") num /= 1e3
			else if (unit == "µs" || unit == "us") num /= 1e6
			else if (unit == "ns") num /= 1e9
			total += num
		}
		return total
	}
	{
		match($0, /duration="[^"]*"/)
		v[n++] = go_seconds(substr($0, RSTART + 10, RLENGTH - 11))
		match($0, /nodeCount=[0-9]+/)
		k = substr($0, RSTART + 10, RLENGTH - 10) + 0
		if (n == 1 || k < minnodes) minnodes = k
	}
	END {
		if (n == 0) { print 0, "n/a", "n/a", 0; exit }
		for (i = 1; i < n; i++)            # insertion sort: a few dozen rounds
			for (j = i; j > 0 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		med = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
		printf "%d %.3f %.3f %d\n", n, med, v[n - 1], minnodes
	}'
}

# wait_window_end round start_ns: waits for the end of that round (at
# most 3 x SECONDS_MEASURED + 60 s after start_ns, for overloaded runs),
# then until SECONDS_MEASURED after start_ns (the server is idle between
# rounds, so that adds wall time but no work).  Prints the number of the
# last round that finished.
wait_window_end() {
	local end_ns=$(($2 + SECONDS_MEASURED * 1000000000))
	wait_round "$1" $((end_ns / 1000000000 + 2 * SECONDS_MEASURED + 60)) ||
		log "warning: round $1 did not finish in time; the window ends early"
	while [ "$(now_ns)" -lt "$end_ns" ]; do sleep 0.1; done
	finished_count
}

main() {
	validate_inputs
	WORK=$(mktemp -d /tmp/mas-bench-scrape.XXXXXX)
	log "NODES=$NODES PODS=$PODS SECONDS_MEASURED=$SECONDS_MEASURED resolution=${RESOLUTION_S}s work=$WORK"
	local t0 t_ready first b_first=0
	t0=$(date +%s)
	start_kubesim "$(startup_budget)" --nodes "$NODES" --pods-per-node "$PODS"
	t_ready=$(date +%s)
	log "kubesim ready in $((t_ready - t0)) s (pid $SIM_PID, kubelets on port $KUBELET_PORT)"
	start_server "$BUILD/metrics-apiserver" main
	[ -z "$BASELINE" ] || start_server "$BASELINE" base
	if [ -n "$BASELINE" ]; then
		use_server base
		b_first=$(wait_full_round)
		log "baseline warm-up: round $b_first stored every node"
	fi
	use_server main
	first=$(wait_full_round)
	log "warm-up: round $first stored every node, $(($(date +%s) - t_ready)) s after kubesim was ready"

	# /metrics is read outside the CPU window (it is large at 10,000 nodes).
	local s_cpu0 s_cpu1 k_cpu0 k_cpu1 b_cpu0=0 b_cpu1=0 b_n0=0 b_n1=0 w0 w1 last
	local rss hwm k_hwm b_rss=0 b_hwm=0
	metrics_snapshot "$WORK/metrics.0"
	if [ -n "$BASELINE" ]; then
		use_server base
		metrics_snapshot "$WORK/base-metrics.0"
		b_n0=$(finished_count)
		b_cpu0=$(cpu_ticks "$MAS_PID")
		use_server main
	fi
	w0=$(now_ns)
	s_cpu0=$(cpu_ticks "$MAS_PID")
	k_cpu0=$(cpu_ticks "$SIM_PID")
	last=$(wait_window_end $((first + (SECONDS_MEASURED + RESOLUTION_S - 1) / RESOLUTION_S)) "$w0")
	s_cpu1=$(cpu_ticks "$MAS_PID")
	k_cpu1=$(cpu_ticks "$SIM_PID")
	w1=$(now_ns)
	# memory is read at the window's end, before /metrics is rendered again
	rss=$(status_kb "$MAS_PID" VmRSS) hwm=$(status_kb "$MAS_PID" VmHWM)
	k_hwm=$(status_kb "$SIM_PID" VmHWM)
	if [ -n "$BASELINE" ]; then
		use_server base
		b_cpu1=$(cpu_ticks "$MAS_PID")
		b_n1=$(finished_count)
		b_rss=$(status_kb "$MAS_PID" VmRSS) b_hwm=$(status_kb "$MAS_PID" VmHWM)
		use_server main
	fi
	metrics_snapshot "$WORK/metrics.1"

	local stats out b_stats b_out
	stats=$(round_stats "$first" "$last")
	out=$(report "$((w1 - w0))" "$((s_cpu1 - s_cpu0))" "$((k_cpu1 - k_cpu0))" "$stats" \
		"$rss" "$hwm" "$k_hwm")
	echo "$out"
	metrics_report "$WORK/metrics.0" "$WORK/metrics.1"
	if [ -n "$BASELINE" ]; then
		use_server base
		metrics_snapshot "$WORK/base-metrics.1"
		b_stats=$(round_stats "$b_n0" "$b_n1")
		b_out=$(report "$((w1 - w0))" "$((b_cpu1 - b_cpu0))" 0 "$b_stats" "$b_rss" "$b_hwm" 0 |
			grep -E '^(server_|round_)')
		echo "baseline: $BASELINE"
		echo "$b_out" | sed 's/^/baseline_/'
		metrics_report "$WORK/base-metrics.0" "$WORK/base-metrics.1" | sed 's/^/baseline_/'
		ratios "$out" "$b_out"
		use_server main
		[ "${b_stats##* }" = "$NODES" ] || die "a measured baseline round stored only ${b_stats##* } of $NODES nodes"
	fi
	local min_nodes=${stats##* }
	[ "$min_nodes" = "$NODES" ] || die "a measured round stored only $min_nodes of $NODES nodes"
}

# ratios "this build's report" "the baseline's report": baseline / this.
ratios() {
	awk 'FNR == NR { split($0, kv, ": "); a[kv[1]] = kv[2]; next }
	{ split($0, kv, ": "); b[kv[1]] = kv[2] }
	END {
		n = split("server_cpu_mcpu_per_node server_rss_kb_per_node round_past_spread_median_s", k, " ")
		for (i = 1; i <= n; i++)
			if (a[k[i]] + 0 > 0 && (k[i] in b))
				printf "ratio_baseline_over_this_%s: %.2f\n", k[i], b[k[i]] / a[k[i]]
	}' <(echo "$1") <(echo "$2")
}

# report wall_ns server_ticks sim_ticks "round stats" rss_kb hwm_kb sim_hwm_kb
report() {
	awk -v nodes="$NODES" -v pods="$PODS" -v res="$RESOLUTION_S" -v hz="$(getconf CLK_TCK)" \
		-v ns="$1" -v st="$2" -v kt="$3" -v stats="$4" -v rss="$5" -v hwm="$6" \
		-v khwm="$7" 'BEGIN {
		secs = ns / 1e9
		split(stats, r, " ")
		printf "nodes: %d\npods: %d\nresolution: %ds\nmeasured_seconds: %.1f\n", nodes, pods, res, secs
		printf "rounds_measured: %d\nround_min_nodes: %d\n", r[1], r[4]
		printf "server_cpu_mcpu_per_node: %.4f\n", st / hz / secs * 1000 / nodes
		printf "server_cpu_percent: %.2f\n", st / hz / secs * 100
		printf "server_rss_kb_per_node: %.1f\n", rss / nodes
		printf "server_rss_mb: %.1f\nserver_peak_rss_mb: %.1f\n", rss / 1024, hwm / 1024
		printf "round_duration_median_s: %s\nround_duration_max_s: %s\n", r[2], r[3]
		# starts are spread over min(8 ms x nodes, 4 s) as metrics-server does;
		# what a round takes beyond that window is the scraper own time
		spread = nodes * 0.008 > 4 ? 4 : nodes * 0.008
		printf "round_start_spread_s: %.3f\n", spread
		if (r[2] != "n/a")
			printf "round_past_spread_median_s: %.3f\n", r[2] - spread
		printf "kubesim_cpu_percent: %.2f\n", kt / hz / secs * 100
		printf "kubesim_peak_rss_mb: %.1f\n", khwm / 1024
	}'
}

# metrics_report before after: the window's deltas of the server's own
# histograms (rounds: mean; kubelet requests: mean and the upper bounds
# of the buckets holding the 99th percentile and the slowest request).
metrics_report() {
	awk 'FNR == NR { a[$1] = $2; next } { b[$1] = $2 }
	function d(k) { return b[k] - a[k] }
	END {
		na = "n/a"; tick = req = p99 = max = na
		if (d("tick_count") > 0) tick = sprintf("%.3f", d("tick_sum") / d("tick_count"))
		n = d("req_count")
		if (n > 0) {
			req = sprintf("%.4f", d("req_sum") / n)
			for (k in b) {
				if (k !~ /^req_le_/ || k == "req_le_+Inf") continue
				le = substr(k, 8) + 0
				if (d(k) >= 0.99 * n && (p99 == na || le < p99)) p99 = le
				if (d(k) >= n && (max == na || le < max)) max = le
			}
			if (p99 == na) p99 = "+Inf"
			if (max == na) max = "+Inf"
		}
		printf "round_duration_mean_s_from_metrics: %s\n", tick
		printf "kubelet_request_mean_s: %s\n", req
		printf "kubelet_request_p99_le_s: %s\nkubelet_request_max_le_s: %s\n", p99, max
	}' "$1" "$2"
}

main "$@"
