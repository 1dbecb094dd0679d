#!/usr/bin/env bash
# Runs every end-to-end suite test/e2e/NN-*.sh in order with $BUILD set.
# Each suite prints "ok - ..." / "not ok - ..." lines and exits non-zero on
# any failure; this runner reports the suites that failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$here/../.." && pwd)/build}
failed=()
for suite in "$here"/[0-9][0-9]-*.sh; do
	[ -e "$suite" ] || continue
	name=$(basename "$suite")
	echo "== e2e $name"
	start=$(date +%s)
	if timeout 600 bash "$suite"; then
		echo "== e2e $name passed ($(( $(date +%s) - start ))s)"
	else
		echo "== e2e $name FAILED ($(( $(date +%s) - start ))s)"
		failed+=("$name")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "e2e failures: ${failed[*]}"
	exit 1
fi
echo "e2e: all suites passed"
