#!/usr/bin/env bash
# test/lint.sh against a planted tree: a clean tree passes, and each planted
# fault (an unprefixed global, a public-looking name missing from the header,
# a private name in the header, a libyaml-namespace name in common/, a
# banned call, strto* without or ignoring its end pointer, a file over 600
# lines) fails the lint with a line naming it.  Run by `make lint` (so by `make test`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cc="${CC:-cc}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

ok() { echo "ok - $1"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $1"; fail=$((fail + 1)); }

# A two-folder tree that is clean.
plant_clean() {
	rm -rf "$tmp/t"
	mkdir -p "$tmp/t/store" "$tmp/t/common" "$tmp/t/build/store" "$tmp/t/build/common"
	echo 'LIB_DIRS := common store' >"$tmp/t/Makefile"
	printf '/* common.h */\nint strbuf_len(const char *s);\n' >"$tmp/t/common/common.h"
	printf '#include <stdlib.h>\nint strbuf_len(const char *s) { char *end; long v = strtol(s, &end, 10);\n  return *end ? -1 : (int)v; }\nint common__helper(void) { return 1; }\n' \
		>"$tmp/t/common/strbuf.c"
	printf '/* store.h */\nint store_count(void);\n' >"$tmp/t/store/store.h"
	printf 'int store_count(void) { return 1; }\nint store__shared(void) { return 2; }\nstatic int local(void) { return 3; }\nint store__use(void) { return local(); }\n' \
		>"$tmp/t/store/count.c"
}

build_and_lint() {
	local d f
	for d in common store; do
		for f in "$tmp/t/$d"/*.c; do
			"$cc" -std=c11 -D_GNU_SOURCE -c "$f" -o "$tmp/t/build/$d/$(basename "${f%.c}").o"
		done
	done
	"$here/lint.sh" --root "$tmp/t" --build "$tmp/t/build" >"$tmp/out" 2>&1
}

# expect_fail NAME PATTERN: the lint fails and prints PATTERN.
expect_fail() {
	if build_and_lint; then
		not_ok "$1: lint passed"
	elif grep -qE "$2" "$tmp/out"; then
		ok "$1"
	else
		not_ok "$1: no line matching /$2/ in:"
		sed 's/^/    /' "$tmp/out"
	fi
}

plant_clean
if build_and_lint; then ok "clean tree passes"; else not_ok "clean tree fails:"; cat "$tmp/out"; fi

plant_clean
echo 'int stray_global = 1;' >"$tmp/t/store/stray.c"
expect_fail "unprefixed global" "store/stray.c: global 'stray_global' does not start with store_"

plant_clean
echo 'int store_hidden(void) { return 0; }' >"$tmp/t/store/hidden.c"
expect_fail "store_ name not in store.h" "global 'store_hidden' is not declared in store/store.h"

plant_clean
echo 'int store__leak(void);' >>"$tmp/t/store/store.h"
echo 'int store__leak(void) { return 0; }' >"$tmp/t/store/leak.c"
expect_fail "private name in the public header" "'store__leak' is private"

plant_clean
echo 'int yaml_to_thing(void);' >>"$tmp/t/common/common.h"
echo 'int yaml_to_thing(void) { return 0; }' >"$tmp/t/common/yaml.c"
expect_fail "libyaml's namespace in common" "'yaml_to_thing' is in a linked library's namespace"

plant_clean
printf '#include <string.h>\nconst char *store__text(int e) { return strerror(e); }\n' >"$tmp/t/store/text.c"
expect_fail "banned strerror" "store/text.c:2:.*strerror"

plant_clean
printf '#include <stdlib.h>\nlong store__num(const char *s) { return strtol(s, NULL, 10); }\n' >"$tmp/t/store/num.c"
expect_fail "strto* without an end pointer" "store/num.c:2: strto\\* without an end pointer"

plant_clean
printf '#include <stdlib.h>\nlong store__num(const char *s)\n{\n\tchar *rest;\n\tlong v = strtol(s, &rest, 10);\n\n\treturn v;\n}\n' >"$tmp/t/store/num.c"
expect_fail "strto* end pointer never read" "store/num.c:5: strto\\* end pointer \"rest\" is never checked"

plant_clean
{ echo 'int store__big(void);'; for i in $(seq 1 600); do echo "/* line $i */"; done; } >"$tmp/t/store/big.c"
expect_fail "file over 600 lines" "store/big.c: 601 lines"

echo "lint selftest: $pass passed, $fail failed"
[ "$fail" = 0 ]
