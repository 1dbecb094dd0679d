#!/usr/bin/env bash
# 85-authn-no-ca-flags.sh - delegated authentication as metrics-server's own
# manifests run it: no --client-ca-file, no --requestheader-* flags.  The
# server reads kube-system/extension-apiserver-authentication from kubesim
# (its front-proxy CA and request-header settings, the cluster CA), so
# kubesim's aggregator is authenticated and `kubectl top nodes` works;
# kubesim's token is reviewed through TokenReview; a change of the ConfigMap
# is followed without a restart (and undone); then the serving
# certificate files are replaced under the running server: new connections
# get the new certificate, a kept-alive connection keeps working, no
# restart; --tls-sni-cert-key pairs are served by server name (openssl
# s_client -servername), and a missing pair stops the start.
source "$(dirname "$0")/lib.sh"

start_kubesim --nodes 2 --pods-per-node 2

# Two serving certificates (A, then B), self-signed for 127.0.0.1.
mkdir -p "$WORK/serving"
for n in a b; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=metrics-apiserver-$n" -addext "subjectAltName=IP:127.0.0.1" \
		-keyout "$WORK/serving/$n.key" -out "$WORK/serving/$n.crt" 2>/dev/null
done
cp "$WORK/serving/a.crt" "$WORK/serving/tls.crt"
cp "$WORK/serving/a.key" "$WORK/serving/tls.key"
# Two --tls-sni-cert-key pairs: "sni" named by its certificate (DNS SANs),
# "x" by the names given after ':' (its own SAN then names nothing).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=metrics-apiserver-sni" \
	-addext "subjectAltName=DNS:metrics.sni.test,DNS:*.wild.sni.test" \
	-keyout "$WORK/serving/sni.key" -out "$WORK/serving/sni.crt" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=metrics-apiserver-x" -addext "subjectAltName=DNS:other.sni.test" \
	-keyout "$WORK/serving/x.key" -out "$WORK/serving/x.crt" 2>/dev/null

check_out "the ConfigMap is served as kube-apiserver writes it" \
	bash -c '[ "$(kubectl get configmap -n kube-system extension-apiserver-authentication \
		-o jsonpath="{.data.requestheader-allowed-names}")" = "[\"front-proxy-client\"]" ]'

start_server --metric-resolution 10s --kubelet-request-timeout 5s --kubelet-use-node-status-port \
	--kubelet-preferred-address-types InternalIP \
	--kubelet-certificate-authority "$SIM_DIR/ca.crt" \
	--tls-cert-file "$WORK/serving/tls.crt" --tls-private-key-file "$WORK/serving/tls.key" \
	--tls-sni-cert-key "$WORK/serving/sni.crt,$WORK/serving/sni.key" \
	--tls-sni-cert-key "$WORK/serving/x.crt,$WORK/serving/x.key:explicit.sni.test,*.x.sni.test"
register_apiservice

check "APIService becomes Available" wait_until 40 apiservice_available v1beta1.metrics.k8s.io
check_out "kubectl top nodes through the aggregator" \
	wait_until 40 kubectl top nodes node-0
out=$(kubectl top nodes --no-headers | awk '{print $1}' | tr '\n' ' ')
check_eq "kubectl top nodes lists both nodes" "node-0 node-1 " "$out"

url="https://127.0.0.1:$MAS_PORT/apis/metrics.k8s.io/v1beta1/nodes"
code() { curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/serving/tls.crt" "$@" "$url"; }
check_eq "the front-proxy certificate (CA from the ConfigMap) makes X-Remote-* trusted" 200 \
	"$(code --cert "$SIM_DIR/front-proxy-client.crt" --key "$SIM_DIR/front-proxy-client.key" \
		-H 'X-Remote-User: e2e' -H 'X-Remote-Group: system:masters')"
check_eq "the same headers without that certificate are ignored (anonymous: 403)" 403 \
	"$(code -H 'X-Remote-User: e2e' -H 'X-Remote-Group: system:masters')"
check_eq "a client certificate of the cluster CA (from the ConfigMap) is a user" 200 \
	"$(code --cert "$SIM_DIR/admin.crt" --key "$SIM_DIR/admin.key")"
check_eq "kubesim's token is reviewed (kubesim-admin in system:masters)" 200 \
	"$(code -H "Authorization: Bearer $(cat "$SIM_DIR/token")")"
check_eq "an unknown token is 401" 401 "$(code -H 'Authorization: Bearer not-a-token')"
body=$(curl -s --cacert "$WORK/serving/tls.crt" -H 'Authorization: Bearer not-a-token' "$url")
check_eq "401 body" '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}' "$body"

# ---- --tls-sni-cert-key: the client's server name picks the certificate -------
# (upstream: exact name, then the name with its first label as "*"; names
# after ':' replace the certificate's; else the default serving certificate)
served() { # served NAME|-: the subject served for server name NAME (-: none sent)
	local sni=(-servername "$1")
	[ "$1" = - ] && sni=(-noservername)
	openssl s_client -connect "127.0.0.1:$MAS_PORT" "${sni[@]}" </dev/null 2>/dev/null |
		openssl x509 -noout -subject -nameopt RFC2253
}
check_eq "SNI metrics.sni.test: the SNI pair (its DNS SAN)" "subject=CN=metrics-apiserver-sni" \
	"$(served metrics.sni.test)"
check_eq "SNI a.wild.sni.test: the SNI pair (its *.wild.sni.test SAN)" \
	"subject=CN=metrics-apiserver-sni" "$(served a.wild.sni.test)"
check_eq "SNI explicit.sni.test: the pair given that name" "subject=CN=metrics-apiserver-x" \
	"$(served explicit.sni.test)"
check_eq "SNI q.x.sni.test: the pair given *.x.sni.test" "subject=CN=metrics-apiserver-x" \
	"$(served q.x.sni.test)"
check_eq "SNI other.sni.test (x's own SAN, overridden by its names): the default" \
	"subject=CN=metrics-apiserver-a" "$(served other.sni.test)"
check_eq "SNI b.a.wild.sni.test (a wildcard is one label): the default" \
	"subject=CN=metrics-apiserver-a" "$(served b.a.wild.sni.test)"
check_eq "no server name: the default certificate" "subject=CN=metrics-apiserver-a" "$(served -)"
check "--tls-sni-cert-key is not logged as without effect" \
	bash -c "! grep -q 'tls-sni-cert-key' '$MAS_LOG'"

# ---- the ConfigMap is followed (re-read every 10 s) ---------------------------
proxy_code() {
	code --cert "$SIM_DIR/front-proxy-client.crt" --key "$SIM_DIR/front-proxy-client.key" \
		-H 'X-Remote-User: e2e' -H 'X-Remote-Group: system:masters'
}
is_code() { [ "$(proxy_code)" = "$1" ]; }
kubectl patch configmap -n kube-system extension-apiserver-authentication --type merge \
	-p '{"data":{"requestheader-allowed-names":"[\"another-proxy\"]"}}' >/dev/null
check "allowed names changed in the ConfigMap: the proxy is refused (401) within 15 s" \
	wait_until 15 is_code 401
out=$(kubectl top nodes 2>&1 || true)
check_eq "kubectl top nodes then fails as on a real cluster" \
	"error: You must be logged in to the server (Unauthorized)" "$out"
kubectl patch configmap -n kube-system extension-apiserver-authentication --type merge \
	-p '{"data":{"requestheader-allowed-names":"[\"front-proxy-client\"]"}}' >/dev/null
check "restored: the proxy is accepted again within 15 s" wait_until 15 is_code 200
check_out "kubectl top nodes works again" wait_until 20 kubectl top nodes node-0

# ---- serving certificate rotation ---------------------------------------------
# A kept-alive connection (front proxy identity) opened on certificate A:
# one request now, one after the rotation, on the same socket.
python3 - "$MAS_PORT" "$SIM_DIR" "$WORK" >"$WORK/keepalive.out" 2>&1 <<'PY' &
import http.client, os, ssl, sys, time
port, sim, work = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.load_verify_locations(work + "/serving/a.crt")
ctx.load_cert_chain(sim + "/front-proxy-client.crt", sim + "/front-proxy-client.key")
conn = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx)
hdrs = {"X-Remote-User": "e2e", "X-Remote-Group": "system:masters"}
def get():
    conn.request("GET", "/apis/metrics.k8s.io/v1beta1/nodes", headers=hdrs)
    r = conn.getresponse()
    r.read()
    return r.status
print("before", get(), flush=True)
sock = conn.sock
for _ in range(300):
    if os.path.exists(work + "/rotated"):
        break
    time.sleep(0.1)
print("after", get(), "same-socket" if conn.sock is sock else "new-socket", flush=True)
PY
ka_pid=$!
E2E_PIDS+=("$ka_pid")
check "kept-alive connection made its first request" wait_until 20 grep -q '^before' "$WORK/keepalive.out"

# As kubelet updates a Secret volume: the new files appear at once (rename).
cp "$WORK/serving/b.key" "$WORK/serving/tls.key.new"
cp "$WORK/serving/b.crt" "$WORK/serving/tls.crt.new"
mv "$WORK/serving/tls.key.new" "$WORK/serving/tls.key"
mv "$WORK/serving/tls.crt.new" "$WORK/serving/tls.crt"
new_cert_served() {
	curl -sf -o /dev/null --cacert "$WORK/serving/b.crt" "https://127.0.0.1:$MAS_PORT/livez"
}
check "new connections get certificate B (no restart)" wait_until 10 new_cert_served
check "certificate A is no longer served to new connections" \
	bash -c "! curl -sf -o /dev/null --cacert '$WORK/serving/a.crt' https://127.0.0.1:$MAS_PORT/livez"
touch "$WORK/rotated"
wait "$ka_pid" || true
as_comment <"$WORK/keepalive.out"
check_eq "the connection opened on A keeps working" "before 200 after 200 same-socket" \
	"$(tr '\n' ' ' <"$WORK/keepalive.out" | sed 's/ $//')"
check "the same server process (not restarted)" kill -0 "$MAS_PID"
check_out "kubectl top nodes after the rotation" kubectl top nodes node-0
check "the server logged the new pair" grep -q 'Loaded a new cert/key pair' "$MAS_LOG"
check_eq "after the rotation, an unknown server name gets certificate B" \
	"subject=CN=metrics-apiserver-b" "$(served unknown.sni.test)"
check_eq "the SNI pair is still served for its name" "subject=CN=metrics-apiserver-sni" \
	"$(served metrics.sni.test)"

# The SNI pair's files replaced too: a new certificate with other names.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=metrics-apiserver-sni2" -addext "subjectAltName=DNS:metrics2.sni.test" \
	-keyout "$WORK/serving/sni2.key" -out "$WORK/serving/sni2.crt" 2>/dev/null
cp "$WORK/serving/sni2.key" "$WORK/serving/sni.key.new"
cp "$WORK/serving/sni2.crt" "$WORK/serving/sni.crt.new"
mv "$WORK/serving/sni.key.new" "$WORK/serving/sni.key"
mv "$WORK/serving/sni.crt.new" "$WORK/serving/sni.crt"
sni2_served() { [ "$(served metrics2.sni.test)" = "subject=CN=metrics-apiserver-sni2" ]; }
check "new connections naming metrics2.sni.test get the new SNI pair (no restart)" \
	wait_until 10 sni2_served
check_eq "its old name is gone with it: the default" "subject=CN=metrics-apiserver-b" \
	"$(served metrics.sni.test)"
check "the same server process (not restarted)" kill -0 "$MAS_PID"

# ---- a pair that cannot be read stops the start, before anything connects ------
stop_server
# (a kubeconfig that does not exist: the pair is checked before it is read)
out=$(timeout 60 "$BUILD/metrics-apiserver" --kubeconfig "$WORK/none.kubeconfig" --secure-port "$(free_port)" \
	--bind-address 127.0.0.1 --cert-dir "$WORK/certs" --kubelet-insecure-tls \
	--tls-sni-cert-key "$WORK/serving/none.crt,$WORK/serving/none.key" 2>&1 >/dev/null |
	grep -v '^[IWE][0-9]'; echo "rc=${PIPESTATUS[0]}")
check_eq "a missing --tls-sni-cert-key file: upstream's error, exit 1" \
	"Error: failed to load SNI cert and key: open $WORK/serving/none.crt: no such file or directory
rc=1" "$out"
finish
