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

finish
