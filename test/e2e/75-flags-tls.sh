#!/usr/bin/env bash
# 75-flags-tls.sh - every metrics-server flag is accepted (issue 12 item 3),
# with the binary itself: --help lists the 103 flags of metrics-server's
# docs/command-line-flags.txt (test/data/flags/, origin in its header);
# the binary started with metrics-server's release-manifest args plus the
# TLS flags k3s/kubesphere manifests pass serves, refuses a TLS 1.2 client
# under --tls-min-version=VersionTLS13 (curl --tls-max 1.2), honours
# --tls-cipher-suites for TLS 1.2 clients, and names once, in its log, the
# flags it accepts without effect.
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
	--profiling=false --audit-log-maxage=30 --enable-priority-and-fairness=false
	--kubelet-insecure-tls)
check "starts with --tls-min-version=VersionTLS13 and the manifest's args" \
	start_server "${MANIFEST_ARGS[@]}" "${TLS_ARGS[@]}"
check "a TLS 1.3 client is served" curl -ksf "https://127.0.0.1:$MAS_PORT/livez"
check "a TLS 1.2 client (curl --tls-max 1.2) is refused" \
	bash -c "! curl -ks --tls-max 1.2 -o /dev/null https://127.0.0.1:$MAS_PORT/livez"
check_eq "flags without effect named once in the log" 1 \
	"$(grep -c 'Flags accepted but without effect in metrics-apiserver.* flags="--audit-log-maxage, --enable-priority-and-fairness, --profiling"' "$MAS_LOG")"
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
finish
