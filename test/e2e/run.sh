#!/usr/bin/env bash
# Runs every end-to-end suite test/e2e/NN-*.sh with $BUILD set, E2E_JOBS of
# them at a time (default 2: the suites mostly wait on scrape rounds, so
# two lanes halve the wall time on this 2-core machine without starving
# either).  Each suite's output is printed whole when it ends; a suite
# prints "ok - ..." / "not ok - ..." lines and exits non-zero on any
# failure; this runner reports the suites that failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$here/../.." && pwd)/build}
jobs=${E2E_JOBS:-2}
out=$(mktemp -d /tmp/mas-e2e-run.XXXXXX)
failed=()
declare -A pid_of=() name_of=()

# finish_one PID RC: prints that suite's output and records its result.
finish_one() {
	local pid=$1 name=${name_of[$1]} rc=$2
	cat "$out/$name.log"
	[ "$rc" -eq 0 ] || failed+=("$name")
	unset "name_of[$pid]"
}

for suite in "$here"/[0-9][0-9]-*.sh; do
	[ -e "$suite" ] || continue
	while [ "${#name_of[@]}" -ge "$jobs" ]; do
		rc=0
		wait -n -p done_pid "${!name_of[@]}" || rc=$?
		finish_one "$done_pid" "$rc"
	done
	name=$(basename "$suite")
	(
		start=$(date +%s)
		echo "== e2e $name"
		if timeout 600 bash "$suite"; then
			echo "== e2e $name passed ($(( $(date +%s) - start ))s)"
		else
			echo "== e2e $name FAILED ($(( $(date +%s) - start ))s)"
			exit 1
		fi
	) >"$out/$name.log" 2>&1 &
	name_of[$!]=$name
done
while [ "${#name_of[@]}" -gt 0 ]; do
	rc=0
	wait -n -p done_pid "${!name_of[@]}" || rc=$?
	finish_one "$done_pid" "$rc"
done
rm -rf "$out"
if [ ${#failed[@]} -gt 0 ]; then
	echo "e2e failures: ${failed[*]}"
	exit 1
fi
echo "e2e: all suites passed"
