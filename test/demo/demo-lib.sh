# demo-lib.sh - helpers shared by the narrated demos (sourced, not run):
# headings, errors, integer settings and a drift-free sampling clock.

# Bold on a terminal only, so copies written with tee stay plain.
step() { if [ -t 1 ]; then printf '\n\033[1m== %s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi; }
die() { echo "error: $*" >&2; exit 1; }

# int_in NAME lo hi: the variable NAME holds an integer in [lo, hi].
int_in() {
	local v=${!1}
	if ! [[ $v =~ ^[0-9]{1,6}$ ]] || [ "$v" -lt "$2" ] || [ "$v" -gt "$3" ]; then
		die "$1 must be an integer in [$2, $3], not '$v'"
	fi
}

# elapsed_ds: tenths of a second since T0_US (set T0_US=${EPOCHREALTIME/./}).
elapsed_ds() {
	local now=${EPOCHREALTIME/./}
	echo $(((now - T0_US) / 100000))
}

# sleep_to_tick K PERIOD_S: sleeps until tick K+1 of a PERIOD_S schedule
# started at T0_US (never drifts; returns at once when late).
sleep_to_tick() {
	local wait_ds=$((($1 + 1) * $2 * 10 - $(elapsed_ds)))
	[ "$wait_ds" -le 0 ] || sleep "$((wait_ds / 10)).$((wait_ds % 10))" || true
}
