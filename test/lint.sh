#!/usr/bin/env bash
# Style checks that reviewers should not have to make: banned calls.
set -euo pipefail
cd "$(dirname "$0")/.."
banned='\b(sprintf|vsprintf|strcpy|strcat|strtok|sscanf|atoi|atol|gets|localtime|gmtime|strerror_r)\s*\('
if grep -nE "$banned" --include='*.c' --include='*.h' -r common kube scraper store apis certs hpa server test/kubesim test/unit test/bench \
	| grep -vE '(snprintf|vsnprintf)\s*\(' ; then
	echo "lint: banned calls found (use snprintf, strtoll with checks, gmtime_r)"
	exit 1
fi
echo "lint: ok"
