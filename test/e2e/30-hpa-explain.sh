#!/usr/bin/env bash
# 30-hpa-explain.sh - `metrics-apiserver hpa explain -f scenario.json -o json`
# on every test/data/hpa/<NNN-name>/scenario.json must print a document
# JSON-equal to the expected.json beside it (values derived by hand from the
# upstream algorithm, see test/data/hpa/make_scenarios.py).  Also checks the
# text output and that -f and --live do not go together (--live itself:
# 45-hpa-explain-live.sh).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
DATA=$here/../data/hpa
BIN=${HPA_EXPLAIN_BIN:-$BUILD/metrics-apiserver}

json_equal() {
	python3 -c 'import json,sys
a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
sys.exit(0 if a == b else 1)' "$1" "$2"
}

n=0
for dir in "$DATA"/[0-9][0-9][0-9]-*/; do
	name=$(basename "$dir")
	out=$WORK/$name.json
	rc=0
	"$BIN" hpa explain -f "$dir/scenario.json" -o json >"$out" 2>"$WORK/$name.err" || rc=$?
	if [ "$rc" != 0 ]; then
		notok "$name: exit status $rc ($(head -c 300 "$WORK/$name.err"))"
		continue
	fi
	if json_equal "$dir/expected.json" "$out"; then
		ok "$name"
	else
		notok "$name: output differs from expected.json"
		diff <(python3 -m json.tool --sort-keys "$dir/expected.json") \
			<(python3 -m json.tool --sort-keys "$out") | head -40 | sed 's/^/# /' || true
	fi
	n=$((n + 1))
done
check_range "scenario count" 20 1000 "$n"

text=$("$BIN" hpa explain -f "$DATA/004-unready-pod-less-scale-up/scenario.json" -o text 2>&1)
check "text output names the unready pod" grep -q 'unready *web-a' <<<"$text"
check "text output gives the final number" grep -q '^result: 4 replicas, scale written' <<<"$text"

rc=0
"$BIN" hpa explain -f "$DATA/004-unready-pod-less-scale-up/scenario.json" --live default/web \
	>/dev/null 2>"$WORK/live.err" || rc=$?
check_eq "-f with --live is refused with exit status 2" 2 "$rc"
check "-f with --live says why" grep -q -- '-f and --live cannot be used together' "$WORK/live.err"
rc=0
"$BIN" hpa explain -f "$WORK/does-not-exist.json" >/dev/null 2>&1 || rc=$?
check_eq "a missing scenario file exits 1" 1 "$rc"
finish
