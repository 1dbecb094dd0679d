#!/usr/bin/env bash
# Checks reviewers should not have to make by eye:
#   1. banned calls in every C file (unbounded or thread-unsafe libc);
#   2. every strto* call passes an end pointer and the code looks at it;
#   3. no product C file over 600 lines;
#   4. global names of the library archive show who may call them: a symbol
#      defined in folder F is F_name and declared in F/F.h (public), or
#      F__name (shared by F's files only); common/ may use short module
#      prefixes but must declare them in common/common.h (or use common__),
#      and no name may sit in a linked library's namespace.
#
# usage: test/lint.sh [--root DIR] [--build DIR]
#   --root   source tree (default: this checkout)
#   --build  where the library's objects are, as BUILD/<folder>/<file>.o
#            (default: ROOT/build); without objects, check 3 is skipped
#            with a note.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build=
while [ $# -gt 0 ]; do
	case "$1" in
	--root) root="$(cd "$2" && pwd)"; shift 2 ;;
	--build) build="$2"; shift 2 ;;
	*) echo "usage: $0 [--root DIR] [--build DIR]" >&2; exit 2 ;;
	esac
done
build="${build:-$root/build}"
cd "$root"

# The library's folders (the Makefile's LIB_DIRS) and the C files linted.
lib_dirs=$(sed -n 's/^LIB_DIRS *:= *//p' Makefile 2>/dev/null || true)
lib_dirs=${lib_dirs:-"common kube scraper store apis certs hpa server"}
src_dirs=$(for d in $lib_dirs cmd test/kubesim test/unit test/bench; do if [ -d "$d" ]; then echo "$d"; fi; done)
fail=0

# ---- 1. banned calls ------------------------------------------------------
banned='\b(sprintf|vsprintf|strcpy|strcat|strtok|sscanf|atoi|atol|atoll|gets|localtime|gmtime|strerror)\s*\('
if out=$(grep -nE "$banned" --include='*.c' --include='*.h' -r $src_dirs | grep -vE '^\S+:[0-9]+:\s*(\*|/\*|//)'); then
	echo "$out"
	echo "lint: banned calls (use snprintf, strtoll with an end check, gmtime_r, strerror_r)"
	fail=1
fi

# ---- 2. strto* end pointers -------------------------------------------------
# A call must pass &end (not NULL), and `end` must be read again within the
# next six lines (compared, dereferenced or passed on).
strto_bad=$(find $src_dirs -name '*.c' -print0 | xargs -0 awk '
	function unchecked() {
		print pending_file ":" pending_line ": strto* end pointer \"" pending "\" is never checked"
		pending = ""
	}
	FNR == 1 && pending != "" { unchecked() }
	{
		line = $0
		if (pending != "" && FNR <= pending_until) {
			if (index(line, pending) > 0) pending = ""
		} else if (pending != "") {
			unchecked()
		}
		if (line ~ /^[ \t]*(\*|\/\*|\/\/)/) next
		if (match(line, /strto(d|f|ld|l|ll|ul|ull|imax|umax)[ \t]*\(/)) {
			rest = substr(line, RSTART + RLENGTH)
			if (rest ~ /^[^,]*,[ \t]*NULL/) {
				print FILENAME ":" FNR ": strto* without an end pointer"
			} else if (match(rest, /,[ \t]*&[A-Za-z_][A-Za-z_0-9]*/)) {
				v = substr(rest, RSTART, RLENGTH)
				sub(/^,[ \t]*&/, "", v)
				pending = v; pending_file = FILENAME; pending_line = FNR; pending_until = FNR + 6
			}
		}
	}
	END { if (pending != "") unchecked() }
')
if [ -n "$strto_bad" ]; then
	echo "$strto_bad"
	echo "lint: check the end pointer of every strto* call"
	fail=1
fi

# ---- 3. file size ---------------------------------------------------------------
# Small files with one purpose: no product C file over 600 lines.
max_lines=600
big=$(for d in $lib_dirs cmd; do if [ -d "$d" ]; then find "$d" -name '*.[ch]'; fi; done | xargs -r wc -l |
	awk -v max=$max_lines '$2 != "total" && $1 > max { print $2 ": " $1 " lines (at most " max ")" }')
if [ -n "$big" ]; then
	echo "$big"
	echo "lint: split files over $max_lines lines by purpose"
	fail=1
fi

# ---- 4. global names ----------------------------------------------------------
libns='^(json_|jansson_|yaml_|gnutls_|curl_|Curl_|MHD_|srunner_|suite_|tcase_)'
have_objs=0
for d in $lib_dirs; do
	ls "$build/$d"/*.o >/dev/null 2>&1 && have_objs=1
done
if [ "$have_objs" = 0 ]; then
	echo "lint: no objects under $build: global names not checked (run make first)"
else
	for d in $lib_dirs; do
		hdr="$d/$d.h"
		for o in "$build/$d"/*.o; do
			[ -e "$o" ] || continue
			src="$d/$(basename "${o%.o}").c"
			[ -e "$src" ] || continue # a stale object of a removed file
			[ "$src" = server/main.c ] && continue
			# (names the compiler makes, such as ASan's __odr_asan.x, are skipped)
			for s in $(nm -g --defined-only "$o" | awk 'NF >= 3 && $3 !~ /^__(odr_asan|asan|ubsan|sanitizer)|\./ { print $3 }'); do
				why=
				if [[ $s =~ $libns ]]; then
					why="is in a linked library's namespace"
				elif [ "$d" = common ]; then
					if [[ $s != common__* ]] && ! grep -qw -- "$s" "$hdr"; then
						why="is not declared in $hdr (name it common__... if it is private)"
					fi
				elif [[ $s == ${d}__* ]]; then
					if grep -qw -- "$s" "$hdr"; then
						why="is private (${d}__) but declared in $hdr"
					fi
				elif [[ $s == ${d}_* ]]; then
					if ! grep -qw -- "$s" "$hdr"; then
						why="is not declared in $hdr (name it ${d}__${s#${d}_} if it is private)"
					fi
				else
					why="does not start with ${d}_ (public) or ${d}__ (private to $d/)"
				fi
				if [ -n "$why" ]; then
					echo "$src: global '$s' $why"
					fail=1
				fi
			done
		done
	done
fi

if [ "$fail" != 0 ]; then
	echo "lint: FAILED"
	exit 1
fi
echo "lint: ok"
