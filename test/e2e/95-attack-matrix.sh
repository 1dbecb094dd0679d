#!/usr/bin/env bash
# 95-attack-matrix.sh - issue 12's attack matrix against the running server
# over real TLS, with kubesim answering the TokenReviews and
# SubjectAccessReviews.  Each attack must get kube-apiserver's status code
# and body (aggregation.md §2.3, §2.5, §5.1; Go net/http for 431) and no
# answer may carry a metric.  Certificates are made here with openssl,
# signed by kubesim's CAs (its --dir holds ca.key and front-proxy-ca.key) or
# by a CA of our own.  Bodies are compared with a non-curl User-Agent (as
# client-go and the aggregator send), so no pretty-printing is involved.
source "$(dirname "$0")/lib.sh"

UA='attack-matrix/1.0'
NODES=/apis/metrics.k8s.io/v1beta1/nodes
PODS=/apis/metrics.k8s.io/v1beta1/namespaces/default/pods
ST='{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
UNAUTHORIZED="${ST}\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}"
# forbidden_nodes USER [REASON]: the 403 Status of a node metrics list
forbidden_nodes() {
	local why=${2:+: $2}
	printf '%s"nodes.metrics.k8s.io is forbidden: User \\"%s\\" cannot list resource \\"nodes\\" in API group \\"metrics.k8s.io\\" at the cluster scope%s","reason":"Forbidden","details":{"group":"metrics.k8s.io","kind":"nodes"},"code":403}' \
		"$ST" "$1" "$why"
}

cat >"$WORK/sim.yaml" <<'YAML'
policy:
  tokens:
  - {token: reader-token, user: tok-reader}
  - {token: nobody-token, user: tok-nobody}
  rules:
  - {user: tok-reader, verbs: [list], apiGroups: [metrics.k8s.io], resources: [nodes], allow: true}
  - user: denied-user
    verbs: ["*"]
    apiGroups: ["*"]
    resources: ["*"]
    allow: false
    reason: "denied by the attack-matrix policy"
YAML
start_kubesim --nodes 1 --pods-per-node 2 --config "$WORK/sim.yaml"

# ---- certificates ------------------------------------------------------------------
PKI=$WORK/pki
mkdir -p "$PKI"
: >"$PKI/index.txt"
echo 1000 >"$PKI/serial"
cat >"$PKI/ca.cnf" <<EOF
[ca]
default_ca = d
[d]
database = $PKI/index.txt
new_certs_dir = $PKI
serial = $PKI/serial
default_md = sha256
policy = p
unique_subject = no
[p]
commonName = supplied
organizationName = optional
[client]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
EOF
# cert NAME SUBJECT CA_CRT CA_KEY [openssl-ca date args...]: $PKI/NAME.{crt,key}
# (default validity: one day from now)
cert() {
	local name=$1 subj=$2 cacrt=$3 cakey=$4
	shift 4
	[ $# -gt 0 ] || set -- -days 1
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
	openssl ca -batch -config "$PKI/ca.cnf" -extensions client -notext -preserveDN \
		-cert "$cacrt" -keyfile "$cakey" -in "$PKI/$name.csr" -out "$PKI/$name.crt" "$@" \
		2>"$PKI/$name.err"
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=evil-ca -addext basicConstraints=critical,CA:TRUE \
	-keyout "$PKI/evil-ca.key" -out "$PKI/evil-ca.crt" 2>/dev/null
CA=("$SIM_DIR/ca.crt" "$SIM_DIR/ca.key")
FP=("$SIM_DIR/front-proxy-ca.crt" "$SIM_DIR/front-proxy-ca.key")
cert evil '/O=system:masters/CN=kubesim-admin' "$PKI/evil-ca.crt" "$PKI/evil-ca.key"
cert mallory '/CN=mallory' "${CA[@]}"
cert evil-proxy '/CN=evil-proxy' "${FP[@]}"
cert expired '/O=system:masters/CN=kubesim-admin' "${CA[@]}" \
	-startdate 20200101000000Z -enddate 20200102000000Z
cert future '/O=system:masters/CN=kubesim-admin' "${CA[@]}" \
	-startdate 20990101000000Z -enddate 20990102000000Z
cert fp-expired '/CN=front-proxy-client' "${FP[@]}" \
	-startdate 20200101000000Z -enddate 20200102000000Z
made=0
for n in evil mallory evil-proxy expired future fp-expired; do
	[ -s "$PKI/$n.crt" ] && made=$((made + 1))
done
check_eq "the attack certificates were made" 6 "$made"
check_out "expired: notAfter in 2020" grep -q 'Jan  2 00:00:00 2020' \
	<(openssl x509 -noout -enddate -in "$PKI/expired.crt")

SERVER_ARGS=(--metric-resolution 10s --kubelet-request-timeout 5s --kubelet-use-node-status-port
	--kubelet-preferred-address-types InternalIP --kubelet-certificate-authority "$SIM_DIR/ca.crt"
	--client-ca-file "$SIM_DIR/ca.crt"
	--requestheader-client-ca-file "$SIM_DIR/front-proxy-ca.crt"
	--requestheader-allowed-names front-proxy-client)
start_server "${SERVER_ARGS[@]}"
MAIN_PORT=$MAS_PORT

# req PATH curl-args...: GET https://127.0.0.1:$MAS_PORT/PATH; the body in
# $WORK/body, the headers in $WORK/hdrs, prints the status code.
req() {
	local path=$1
	shift
	curl -s --max-time 20 -A "$UA" --cacert "$WORK/certs/apiserver.crt" -o "$WORK/body" \
		-D "$WORK/hdrs" -w '%{http_code}' "$@" "https://127.0.0.1:$MAS_PORT$path" || true
}
# no_metric: the last body carries no metric (a leak would be a metrics list
# or a usage object)
no_metric() { ! grep -Eq 'MetricsList|"usage"|"containers"' "$WORK/body"; }
# attack "name" CODE BODY PATH curl-args...: code and exact body, no metric
attack() {
	local name=$1 code=$2 body=$3 got
	shift 3
	got=$(req "$@")
	check_eq "$name: status" "$code" "$got"
	check_eq "$name: body" "$body" "$(cat "$WORK/body")"
	check "$name: no metric in the answer" no_metric
}
with() { echo --cert "$PKI/$1.crt" --key "$PKI/$1.key"; }
FPCLIENT=(--cert "$SIM_DIR/front-proxy-client.crt" --key "$SIM_DIR/front-proxy-client.key")
MASTERS_HDRS=(-H 'X-Remote-User: kubesim-admin' -H 'X-Remote-Group: system:masters')

# The control: the legitimate front proxy reads node metrics, so the checks
# below fail if an attack were let through (they would get this 200).
has_nodes() { [ "$(req "$NODES" "${FPCLIENT[@]}" "${MASTERS_HDRS[@]}")" = 200 ] &&
	grep -q '"kind":"NodeMetricsList".*"usage"' "$WORK/body"; }
eventually 40 "control: the front proxy as system:masters gets node metrics" has_nodes

# 1. No client certificate: anonymous, refused by the review (would fail if
#    anonymous were allowed or the user not system:anonymous).
attack "no client certificate (anonymous)" 403 "$(forbidden_nodes system:anonymous)" "$NODES"
# 2. A certificate from another CA, with the admin's subject: 401 (the
#    union records the verification error; would fail if it fell back to
#    anonymous (403) or trusted the subject (200)).
# shellcheck disable=SC2046
attack "certificate from another CA" 401 "$UNAUTHORIZED" "$NODES" $(with evil)
# shellcheck disable=SC2046
attack "another CA's certificate with X-Remote-* headers" 401 "$UNAUTHORIZED" "$NODES" \
	$(with evil) "${MASTERS_HDRS[@]}"
# 3. X-Remote-* headers with a non-front-proxy certificate (the cluster CA's
#    mallory): the headers are ignored, the user is the certificate's
#    (would fail with 200 if the headers were trusted).
# shellcheck disable=SC2046
attack "X-Remote-* with a cluster-CA certificate: the cert's own user" 403 \
	"$(forbidden_nodes mallory)" "$NODES" $(with mallory) "${MASTERS_HDRS[@]}"
attack "X-Remote-* without a certificate: anonymous" 403 \
	"$(forbidden_nodes system:anonymous)" "$NODES" "${MASTERS_HDRS[@]}"
# 4. A front-proxy CA certificate whose CN is not in the allowed names: 401
#    (would be 200 if the CN were not checked).
# shellcheck disable=SC2046
attack "front-proxy certificate, CN not in --requestheader-allowed-names" 401 \
	"$UNAUTHORIZED" "$NODES" $(with evil-proxy) "${MASTERS_HDRS[@]}"
# 5. Expired and not-yet-valid certificates of the right CAs, admin subject
#    (200 if validity were not checked).
# shellcheck disable=SC2046
attack "expired client certificate" 401 "$UNAUTHORIZED" "$NODES" $(with expired)
# shellcheck disable=SC2046
attack "not-yet-valid client certificate" 401 "$UNAUTHORIZED" "$NODES" $(with future)
# shellcheck disable=SC2046
attack "expired front-proxy certificate with X-Remote-*" 401 "$UNAUTHORIZED" "$NODES" \
	$(with fp-expired) "${MASTERS_HDRS[@]}"
# 6. Bearer tokens through kubesim's TokenReview.  kubesim has no token
#    expiry: an expired token reviews as authenticated:false exactly as an
#    unknown one does, which is this case.
attack "unknown bearer token" 401 "$UNAUTHORIZED" "$NODES" -H 'Authorization: Bearer forged-token'
attack "known token, no permission" 403 "$(forbidden_nodes tok-nobody)" "$NODES" \
	-H 'Authorization: Bearer nobody-token'
check_eq "known token with a policy grant: 200" 200 \
	"$(req "$NODES" -H 'Authorization: Bearer reader-token')"
check "known token: the answer is the node metrics list" \
	grep -q '"kind":"NodeMetricsList"' "$WORK/body"
# 7. SubjectAccessReview deny with a reason: appended after ": " (would fail
#    without the reason or with another code).
attack "SubjectAccessReview deny" 403 \
	"$(forbidden_nodes denied-user "denied by the attack-matrix policy")" "$NODES" \
	"${FPCLIENT[@]}" -H 'X-Remote-User: denied-user'

# 8. The review endpoint down (--authorization-kubeconfig to a dead port):
#    500 with the generic apiserver's InternalError text, plain text (would
#    fail as 403, or with another text).
DEAD=$(free_port)
sed "s#server: .*#server: https://127.0.0.1:$DEAD#" "$KUBECONFIG" >"$WORK/dead.kubeconfig"
start_server "${SERVER_ARGS[@]}" --authorization-kubeconfig "$WORK/dead.kubeconfig"
printf 'Internal Server Error: "%s": Post "https://127.0.0.1:%s/apis/authorization.k8s.io/v1/subjectaccessreviews?timeout=10s": dial tcp 127.0.0.1:%s: connect: connection refused\n' \
	"$NODES" "$DEAD" "$DEAD" >"$WORK/want500"
check_eq "SubjectAccessReview endpoint down: status" 500 \
	"$(req "$NODES" "${FPCLIENT[@]}" -H 'X-Remote-User: jane')"
check_out "SubjectAccessReview endpoint down: body (with its newline)" \
	cmp "$WORK/want500" "$WORK/body"
check "SubjectAccessReview endpoint down: text/plain" \
	grep -qi '^content-type: text/plain; charset=utf-8' "$WORK/hdrs"
check "SubjectAccessReview endpoint down: no metric in the answer" no_metric
stop_server
MAS_PORT=$MAIN_PORT

# raw MODE SIZE: a raw TLS exchange with the main server (anonymous), the
# answer's status line and body printed as "status=...", "body=...".
#   header SIZE: one header of SIZE bytes;  line SIZE: a request-target of
#   SIZE bytes.
raw() {
	python3 - "$MAS_PORT" "$1" "$2" <<'PY'
import socket, ssl, sys
port, mode, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
path = "/apis/metrics.k8s.io/v1beta1/nodes"
if mode == "line":
    path += "?x=" + "a" * size
hdr = "X-Big: " + "b" * size + "\r\n" if mode == "header" else ""
msg = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: attack-matrix/1.0\r\n%s\r\n" % (path, hdr)).encode()
try:
    for i in range(0, len(msg), 65536):
        s.sendall(msg[i:i + 65536])
except OSError:
    pass
data = b""
try:
    while len(data) < 1 << 20:
        b = s.recv(65536)
        if not b:
            break
        data += b
        if b"\r\n\r\n" in data:
            head, _, body = data.partition(b"\r\n\r\n")
            cl = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
            if cl and len(body) >= int(cl[0].split(b":")[1]):
                break
except OSError:
    pass
head, _, body = data.partition(b"\r\n\r\n")
print("status=" + head.split(b"\r\n")[0].decode(errors="replace"))
print("body=" + body.decode(errors="replace"))
PY
}
# 9. Oversized headers and request line: Go's net/http (MaxHeaderBytes
#    1 MiB in the generic apiserver) answers both with
#    "HTTP/1.1 431 Request Header Fields Too Large" and that text as the
#    body; 2 MiB is over both its limit and ours (would fail with a 403, a
#    crash or another code).
out=$(raw header $((2 << 20)))
echo "$out" | head -c 600 | as_comment
check_eq "2 MiB header: status line" "status=HTTP/1.1 431 Request Header Fields Too Large" \
	"$(sed -n 1p <<<"$out")"
todo_eq "2 MiB header: body" "libmicrohttpd answers with its own HTML page (issue 14, request parsing)" \
	"body=431 Request Header Fields Too Large" "$(sed -n '2,$p' <<<"$out")"
out=$(raw line $((2 << 20)))
echo "$out" | head -c 600 | as_comment
todo_eq "2 MiB request line: status line" "libmicrohttpd answers 414 (issue 14, request parsing)" \
	"status=HTTP/1.1 431 Request Header Fields Too Large" "$(sed -n 1p <<<"$out")"
todo_eq "2 MiB request line: body" "libmicrohttpd answers with its own HTML page (issue 14, request parsing)" \
	"body=431 Request Header Fields Too Large" "$(sed -n '2,$p' <<<"$out")"
check "no metric in either answer" bash -c "! grep -Eq 'MetricsList|usage' <<<'$out'"
check "the server survived the oversized requests" curl -ksf -o /dev/null "https://127.0.0.1:$MAS_PORT/livez"

# 10. Slowloris: 40 connections trickle their headers (a byte every 0.5 s
#     for 8 s); other clients must still be served, each within 3 s (would
#     fail if the trickling connections held the server's threads).
python3 - "$MAS_PORT" >"$WORK/slow.out" 2>&1 <<'PY' &
import socket, ssl, sys, time
port = int(sys.argv[1])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
conns = []
for _ in range(40):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5))
    s.sendall(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    conns.append(s)
print("open", len(conns), flush=True)
start, closed = time.time(), set()
while time.time() - start < 8:
    for i, s in enumerate(conns):
        if i in closed:
            continue
        try:
            s.sendall(b"a")
        except OSError:
            closed.add(i)
            print("closed-by-server %d after %.1fs" % (i, time.time() - start), flush=True)
    time.sleep(0.5)
print("still open after 8s:", len(conns) - len(closed), flush=True)
PY
slow_pid=$!
E2E_PIDS+=("$slow_pid")
check "slowloris: the 40 trickling connections are open" wait_until 20 grep -q '^open 40' "$WORK/slow.out"
served=0
for _ in 1 2 3 4 5 6 7 8; do
	code=$(curl -sk --max-time 3 -o /dev/null -w '%{http_code}' -A "$UA" \
		"https://127.0.0.1:$MAS_PORT/livez" || true)
	[ "$code" = 200 ] && served=$((served + 1))
	sleep 0.5
done
check_eq "slowloris: 8 other clients each served within 3 s" 8 "$served"
code=$(req "$NODES" "${FPCLIENT[@]}" "${MASTERS_HDRS[@]}")
check_eq "slowloris: the front proxy still gets node metrics" 200 "$code"
wait "$slow_pid" || true
as_comment <"$WORK/slow.out" | tail -3
# (issue 14 owns the header-read deadline; reported, not asserted here)

# 11. 10x --max-requests-inflight: a second server whose reviews are slow
#     (a slow SubjectAccessReview and TokenReview endpoint: 1 s), limit 2, 20
#     concurrent non-masters requests: the 18 over the limit get
#     WithMaxInFlightLimit's 429 (Retry-After: 1, http.Error text), the 2
#     others are served (would fail if the limit were not applied, or applied
#     after the review, or if waiting requests did not hold their slots).
SLOW_PORT=$(free_port)
python3 - "$SLOW_PORT" >"$WORK/slowsar.log" 2>&1 <<'PY' &
import http.server, json, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(1)
        if "/tokenreviews" in self.path:
            tok = json.loads(body)["spec"]["token"]
            out = {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
                   "metadata": {}, "spec": {},
                   "status": {"authenticated": True, "user": {"username": "tok-" + tok}}}
        else:
            out = {"kind": "SubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                   "metadata": {}, "spec": json.loads(body).get("spec", {}),
                   "status": {"allowed": True}}
        out = json.dumps(out).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
E2E_PIDS+=($!)
sed "s#server: .*#server: http://127.0.0.1:$SLOW_PORT#" "$KUBECONFIG" >"$WORK/slow.kubeconfig"
# flood_codes CODE: the numbers of the flood requests answered CODE
flood_codes() {
	local f
	for f in "$WORK"/flood/*.code; do
		[ "$(cat "$f")" = "$1" ] && basename "$f" .code
	done
	return 0
}
# flood N [token]: N concurrent non-masters pod-metrics lists, each bounded
# to 8 s: users flood-1..N through the front proxy, or with "token" the
# bearer tokens slow-token-1..N; answers in $WORK/flood/I.{code,body,hdrs}.
# While they run, a system:masters request (exempt from the limit,
# authorized without a review) must be served at once, as upstream's
# goroutine per connection serves it (would fail if the slow reviews held
# the server's threads).
flood() {
	local i p pids=() who
	rm -rf "$WORK/flood"
	mkdir -p "$WORK/flood"
	for i in $(seq 1 "$1"); do
		who=("${FPCLIENT[@]}" -H "X-Remote-User: flood-$i")
		[ "${2:-}" = token ] && who=(-H "Authorization: Bearer slow-token-$i")
		curl -s --max-time 8 -A "$UA" --cacert "$WORK/certs/apiserver.crt" "${who[@]}" \
			-o "$WORK/flood/$i.body" -D "$WORK/flood/$i.hdrs" \
			-w '%{http_code}' "https://127.0.0.1:$MAS_PORT$PODS" >"$WORK/flood/$i.code" &
		pids+=($!)
	done
	sleep 0.3
	check_eq "flood of $1: system:masters served meanwhile within 2 s" 200 \
		"$(req "$NODES" "${FPCLIENT[@]}" "${MASTERS_HDRS[@]}" --max-time 2)"
	for p in "${pids[@]}"; do wait "$p" || true; done
}
# check_429s: every 429 of the flood is WithMaxInFlightLimit's (http.Error
# text and newline, Retry-After: 1, text/plain) and carries no metric.
check_429s() {
	local i bad=0 n
	n=$(flood_codes 429 | wc -l)
	for i in $(flood_codes 429); do
		cmp -s "$WORK/flood/$i.body" <(echo 'Too many requests, please try again later.') ||
			bad=$((bad + 1))
		grep -qix $'retry-after: 1\r' "$WORK/flood/$i.hdrs" || bad=$((bad + 1))
		grep -qi '^content-type: text/plain; charset=utf-8' "$WORK/flood/$i.hdrs" || bad=$((bad + 1))
		! grep -Eq 'MetricsList|"usage"' "$WORK/flood/$i.body" || bad=$((bad + 1))
	done
	check "the flood got 429s to inspect" [ "$n" -gt 0 ]
	check_eq "each of the $n 429s: http.Error's text, Retry-After: 1, text/plain, no metric" 0 "$bad"
}

start_server "${SERVER_ARGS[@]}" --authorization-kubeconfig "$WORK/slow.kubeconfig" \
	--max-requests-inflight 2
flood 20
check_eq "10x --max-requests-inflight (2): 18 of 20 get 429" 18 "$(flood_codes 429 | wc -l)"
check_eq "10x --max-requests-inflight (2): the 2 others are served (200)" 2 \
	"$(flood_codes 200 | wc -l)"
check_429s
check "the server did not crash" kill -0 "$MAS_PID"
check_eq "afterwards a request is served again" 200 \
	"$(req "$PODS" "${FPCLIENT[@]}" -H 'X-Remote-User: after-flood')"
stop_server
# The same with --max-requests-inflight 1: 9 of 10 get 429.
start_server "${SERVER_ARGS[@]}" --authorization-kubeconfig "$WORK/slow.kubeconfig" \
	--max-requests-inflight 1
flood 10
check_eq "10x --max-requests-inflight (1): 9 of 10 get 429" 9 "$(flood_codes 429 | wc -l)"
check_429s
check "the server did not crash" kill -0 "$MAS_PID"
stop_server

# 12. Slow TokenReviews: 12 bearer tokens no cache knows, each review 1 s
#     (then a 1 s SubjectAccessReview): the server keeps serving others
#     meanwhile (a masters request within 2 s), and each token request gets
#     its answer (200: the slow endpoint allows every user).  Authentication
#     comes before the in-flight limit upstream, so no 429 here.
start_server "${SERVER_ARGS[@]}" --authentication-kubeconfig "$WORK/slow.kubeconfig" \
	--authorization-kubeconfig "$WORK/slow.kubeconfig" --max-requests-inflight 400
flood 12 token
check_eq "12 slow TokenReviews: each token request answered 200" 12 "$(flood_codes 200 | wc -l)"
check "the server did not crash" kill -0 "$MAS_PID"
stop_server

finish
