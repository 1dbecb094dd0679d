#!/usr/bin/env bash
# 75-flags-tls.sh - every metrics-server flag is accepted (issue 12 item 3),
# with the binary itself: --help lists the 103 flags of metrics-server's
# docs/command-line-flags.txt (test/data/flags/, origin in its header);
# the binary started with metrics-server's release-manifest args plus the
# TLS flags k3s/kubesphere manifests pass serves, refuses a TLS 1.2 client
# under --tls-min-version=VersionTLS13 (curl --tls-max 1.2), honours
# --tls-cipher-suites for TLS 1.2 clients, and names once, in its log, the
# flags it accepts without effect; --logging-format=json writes
# component-base's JSON lines and --vmodule raises one file's verbosity.
source "$(dirname "$0")/lib.sh"

ORACLE=$(cd "$(dirname "$0")/../data/flags" && pwd)/metrics-server-command-line-flags.txt
flag_names() { grep -E '^ +(-., )?--[a-z]' | sed -E 's/^ +(-., )?--([^ =]+).*/\2/' | sort; }

# ---- --help ------------------------------------------------------------------
upstream=$(grep -v '^#' "$ORACLE" | flag_names)
check_eq "oracle holds metrics-server's 103 flags" 103 "$(wc -l <<<"$upstream")"
ours=$("$BUILD/metrics-apiserver" --help | flag_names)
missing=$(comm -23 <(echo "$upstream") <(echo "$ours") | tr '\n' ' ')
check_eq "--help lists every metrics-server flag" "" "$missing"
out=$("$BUILD/metrics-apiserver" --tls-min-version=VersionTLS14 2>&1; echo "rc=$?")
check_eq "bad --tls-min-version: upstream's error, exit 1" \
	$'Error: unknown tls version "VersionTLS14"\nrc=1' "$out"
out=$("$BUILD/metrics-apiserver" --tls-cipher-suites=TLS_RSA_WITH_RC4_128_SHA,BOGUS 2>&1; echo "rc=$?")
check_eq "unknown cipher suite: Go's text, exit 1" \
	$'Error: Cipher suite BOGUS not supported or doesn\'t exist\nrc=1' "$out"

# ---- a server with the manifests' flags --------------------------------------
start_kubesim --nodes 1 --pods-per-node 1
MANIFEST_ARGS=(--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname
	--kubelet-use-node-status-port --metric-resolution=15s)
TLS_ARGS=(--tls-min-version=VersionTLS13
	--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
	--profiling=false --audit-log-compress --enable-priority-and-fairness=false
	--kubelet-insecure-tls)
check "starts with --tls-min-version=VersionTLS13 and the manifest's args" \
	start_server "${MANIFEST_ARGS[@]}" "${TLS_ARGS[@]}"
check "a TLS 1.3 client is served" curl -ksf "https://127.0.0.1:$MAS_PORT/livez"
check "a TLS 1.2 client (curl --tls-max 1.2) is refused" \
	bash -c "! curl -ks --tls-max 1.2 -o /dev/null https://127.0.0.1:$MAS_PORT/livez"
check_eq "flags without effect named once in the log" 1 \
	"$(grep -c 'Flags accepted but without effect in metrics-apiserver.* flags="--audit-log-compress, --enable-priority-and-fairness, --profiling"' "$MAS_LOG")"
stop_server

# --tls-cipher-suites restricts TLS 1.2 (Go leaves TLS 1.3 alone).
check "starts with --tls-cipher-suites only" start_server --metric-resolution=15s \
	--kubelet-insecure-tls --tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
check "TLS 1.2 with the listed suite is served" curl -ksf --tls-max 1.2 \
	--ciphers ECDHE-ECDSA-AES128-GCM-SHA256 "https://127.0.0.1:$MAS_PORT/livez"
check "TLS 1.2 offering only other suites fails" bash -c "! curl -ks --tls-max 1.2 \
	--ciphers ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA \
	-o /dev/null https://127.0.0.1:$MAS_PORT/livez"
check "TLS 1.3 is served" curl -ksf --tlsv1.3 "https://127.0.0.1:$MAS_PORT/livez"
stop_server

# ---- --logging-format=json and --vmodule ---------------------------------------
# component-base's JSON lines (logs/json/json.go, shapes of its klog_test.go):
# ts in ms since the epoch, caller "dir/file.c:N", msg, "v" on info lines
# only, then the line's keys; and klog's --vmodule raising one file's level.
check "starts with --logging-format=json -v=2" start_server "${MANIFEST_ARGS[@]}" \
	--kubelet-insecure-tls --logging-format=json -v=2 --audit-log-compress
eventually 10 "a JSON line of the first scrape round" grep -q '"msg":"Scraping node"' "$MAS_LOG"
stop_server
check_out "every line the server wrote is a JSON object: ts, caller, msg, v, keys" \
	python3 - "$MAS_LOG" <<'PY'
import json, re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert lines, "no log lines"
objs = []
for l in lines:
    o = json.loads(l)
    assert isinstance(o, dict), l
    assert list(o)[:3] == ["ts", "caller", "msg"], l
    assert isinstance(o["ts"], float) and o["ts"] > 1.6e12, l  # milliseconds
    assert re.fullmatch(r"[a-z]+/[a-z_0-9]+\.c:[0-9]+", o["caller"]), l
    assert isinstance(o["msg"], str), l
    assert "v" not in o or (isinstance(o["v"], int) and 0 <= o["v"] <= 2), l
    objs.append(o)
flags = [o for o in objs if o["msg"] == "Flags accepted but without effect in metrics-apiserver"]
assert len(flags) == 1 and flags[0]["flags"] == "--audit-log-compress" and flags[0]["v"] == 0, flags
assert flags[0]["caller"].startswith("server/run.c:"), flags
scr = [o for o in objs if o["msg"] == "Scraping node"]
assert scr and scr[0]["v"] == 2 and scr[0]["node"] == "node-0", scr
assert not [o for o in objs if o["msg"] == "HTTP"], "a v4 line at -v=2"
PY
# scraper/loop.c's round line is v1, scraper/transfer.c's per-node line v2.
check "starts with --vmodule=http=4,scraper/loop=1 at -v=0" start_server "${MANIFEST_ARGS[@]}" \
	--kubelet-insecure-tls --vmodule=http=4,scraper/loop=1
eventually 10 "--vmodule=scraper/loop=1: its v1 line of a round at -v=0" \
	grep -q 'loop\.c:[0-9]*\] "Scrape finished"' "$MAS_LOG"
check "--vmodule=http=4: http.c's v4 request line (start_server's /livez) at -v=0" \
	grep -q 'http\.c:[0-9]*\] "HTTP" verb="GET" URI="/livez"' "$MAS_LOG"
check_eq "no v2 line of transfer.c, which no pattern names" 0 \
	"$(grep -c '"Scraping node"' "$MAS_LOG")"
check_eq "--vmodule is not named as a flag without effect" 0 \
	"$(grep -c 'without effect.*--vmodule' "$MAS_LOG")"
stop_server
finish
