#!/usr/bin/env bash
# 27-audit-log.sh - --audit-log-path with --audit-policy-file: requests
# proxied by kubesim's aggregator (which sends its Audit-ID and
# X-Forwarded-For, as kube-apiserver does) are logged as audit.k8s.io/v1
# Event JSON lines at the policy's level.  Each line is checked against
# the Go types' field order (k8s.io/apiserver/pkg/apis/audit/v1/types.go)
# and the filters' behaviour (WithAudit, WithFailedAuthenticationAudit,
# WithAuthorization's annotations, audit.LogRequestMetadata).  Then the
# legacy format (audit.EventString) and a policy that does not load.
source "$(dirname "$0")/lib.sh"

start_kubesim --nodes 2 --pods-per-node 4
AUDIT=$WORK/audit/nested/audit.log
cat >"$WORK/policy.yaml" <<'YAML'
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: None
  nonResourceURLs: ["/healthz*", "/livez*", "/readyz*", "/metrics"]
- level: None
  users: ["system:kube-aggregator"]
- level: RequestResponse
  users: [jane]
  resources:
  - group: metrics.k8s.io
    resources: [pods]
- level: Metadata
  omitStages: [RequestReceived]
YAML
SERVER_ARGS=(--metric-resolution 10s --kubelet-request-timeout 5s --kubelet-use-node-status-port
	--kubelet-preferred-address-types InternalIP
	--kubelet-certificate-authority "$SIM_DIR/ca.crt"
	--client-ca-file "$SIM_DIR/ca.crt"
	--requestheader-client-ca-file "$SIM_DIR/front-proxy-ca.crt"
	--requestheader-allowed-names front-proxy-client)
start_server "${SERVER_ARGS[@]}" --audit-log-path "$AUDIT" --audit-policy-file "$WORK/policy.yaml"
register_apiservice
check "APIService becomes Available" wait_until 40 apiservice_available v1beta1.metrics.k8s.io
check_out "the RBAC objects" kubectl apply -f "$(dirname "$0")/data/authz-rbac.yaml"
kubesim_user jane
kubesim_user bob
check "jane gets kubectl top pods -n team-a" wait_until 40 as jane top pods -n team-a
check_eq "the log file is 0600, its new folders 0700" "600 700" \
	"$(stat -c %a "$AUDIT") $(stat -c %a "$WORK/audit/nested")"

# events EXPR: the events (one JSON object per line, all of them must
# parse) filtered by the Python expression EXPR of e, as a JSON list.
events() {
	python3 - "$AUDIT" "$1" <<'PY'
import json, sys
out = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    if eval(sys.argv[2], {"e": e}):
        out.append(e)
print(json.dumps(out))
PY
}
: >"$AUDIT"
before=$(date -u +%s)
as jane top pods -n team-a >/dev/null
ev=$(events 'e["user"].get("username") == "jane"')
json_eval 'json.dumps(d[1]["user"]) + " " + d[1]["auditID"]' <<<"$ev" | as_comment
check_eq "jane's list: RequestReceived then ResponseComplete" "RequestReceived ResponseComplete" \
	"$(json_eval '" ".join(x["stage"] for x in d)' <<<"$ev")"
# The Go struct's order (Event, then the ObjectReference and Status fields).
check_eq "the fields in the Go type's order" \
	"kind apiVersion level auditID stage requestURI verb user sourceIPs userAgent objectRef responseStatus responseObject requestReceivedTimestamp stageTimestamp annotations" \
	"$(json_eval '" ".join(d[1].keys())' <<<"$ev")"
check_eq "kind, apiVersion, level, verb, URI" \
	"Event audit.k8s.io/v1 RequestResponse list /apis/metrics.k8s.io/v1beta1/namespaces/team-a/pods" \
	"$(json_eval '" ".join([d[1]["kind"], d[1]["apiVersion"], d[1]["level"], d[1]["verb"], d[1]["requestURI"]])' <<<"$ev")"
check_eq "objectRef (resource, namespace, apiGroup, apiVersion)" \
	'{"resource": "pods", "namespace": "team-a", "apiGroup": "metrics.k8s.io", "apiVersion": "v1beta1"}' \
	"$(json_eval 'json.dumps(d[1]["objectRef"])' <<<"$ev")"
check_eq "the user as the front proxy named it" \
	'{"username": "jane", "groups": ["system:authenticated"]}' \
	"$(json_eval 'json.dumps(d[1]["user"])' <<<"$ev")"
check_eq "responseStatus of a success: the code" '{"metadata": {}, "code": 200}' \
	"$(json_eval 'json.dumps(d[1]["responseStatus"])' <<<"$ev")"
npods=$(kubectl get --raw /apis/metrics.k8s.io/v1beta1/namespaces/team-a/pods | json_eval 'len(d["items"])')
check "team-a has pod metrics" [ "$npods" -gt 0 ]
check_eq "RequestResponse: the answer as responseObject" "PodMetricsList $npods" \
	"$(json_eval 'd[1]["responseObject"]["kind"] + " " + str(len(d[1]["responseObject"]["items"]))' <<<"$ev")"
check_eq "RequestReceived has neither responseStatus nor annotations" "False False" \
	"$(json_eval '" ".join(str(k in d[0]) for k in ("responseStatus", "annotations"))' <<<"$ev")"
# kubesim's aggregator appends the client's address (127.0.0.1) to
# X-Forwarded-For; the peer (127.0.0.1 too) is not repeated after it.
check_eq "sourceIPs: X-Forwarded-For, the peer not repeated" '["127.0.0.1"]' \
	"$(json_eval 'json.dumps(d[1]["sourceIPs"])' <<<"$ev")"
check "the same auditID in both stages, kubesim's (a UUID)" python3 -c '
import json, re, sys
d = json.loads(sys.argv[1])
assert d[0]["auditID"] == d[1]["auditID"], d
assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", d[0]["auditID"]), d' "$ev"
check "timestamps: MicroTime (UTC, 6 digits), received <= stage, after the start" python3 -c '
import json, re, sys, datetime
d = json.loads(sys.argv[1]); start = int(sys.argv[2])
f = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
for e in d:
    for k in ("requestReceivedTimestamp", "stageTimestamp"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", e[k]), e[k]
assert d[0]["stageTimestamp"] == d[0]["requestReceivedTimestamp"]
assert f(d[1]["requestReceivedTimestamp"]) <= f(d[1]["stageTimestamp"])
assert f(d[0]["requestReceivedTimestamp"]) >= start - 1' "$ev" "$before"
check_eq "annotations: the decision and kubesim's RBAC reason" \
	'{"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": "RBAC: allowed by RoleBinding \"jane-reads-pod-metrics/team-a\" of Role \"pod-metrics-reader\" to User \"jane\""}' \
	"$(json_eval 'json.dumps(d[1]["annotations"])' <<<"$ev")"
check_eq "userAgent: kubectl's" "kubectl" \
	"$(json_eval 'd[1]["userAgent"].split("/")[0]' <<<"$ev")"

# A forbidden request: Metadata (RequestReceived omitted by the rule), the
# 403 Status's fields, the decision "forbid".
as bob top pods -n team-a >/dev/null 2>&1 || true
ev=$(events 'e["user"].get("username") == "bob"')
check_eq "bob: one event, Metadata ResponseComplete (RequestReceived omitted)" \
	"Metadata ResponseComplete" "$(json_eval '" ".join(x["level"] + " " + x["stage"] for x in d)' <<<"$ev")"
check_eq "bob: responseStatus is the 403 Status's bounded fields" \
	'{"metadata": {}, "status": "Failure", "message": "pods.metrics.k8s.io is forbidden: User \"bob\" cannot list resource \"pods\" in API group \"metrics.k8s.io\" in the namespace \"team-a\"", "reason": "Forbidden", "details": {"group": "metrics.k8s.io", "kind": "pods"}, "code": 403}' \
	"$(json_eval 'json.dumps(d[0]["responseStatus"])' <<<"$ev")"
check_eq "bob: the decision forbid" "forbid" \
	"$(json_eval 'd[0]["annotations"]["authorization.k8s.io/decision"]' <<<"$ev")"
check "bob: no responseObject at Metadata" json_eval 'None if "responseObject" not in d[0] else 1/0' <<<"$ev"

# Not audited: the aggregator's discovery identity and the probes (None).
check_eq "no event for system:kube-aggregator or the probes" "0" \
	"$(events 'e["user"].get("username") == "system:kube-aggregator" or e["requestURI"].startswith(("/healthz", "/livez", "/readyz"))' | json_eval 'len(d)')"

# Directly: a certificate no CA trusts gets 401; its one event is
# ResponseStarted with no user (WithFailedAuthenticationAudit).  The
# answer carries the Audit-Id it was logged under (WithAuditInit); a
# client's own Audit-ID is kept.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj /CN=stranger -keyout "$WORK/stranger.key" -out "$WORK/stranger.crt" 2>/dev/null
: >"$AUDIT"
code=$(curl -s -o /dev/null -D "$WORK/h401" -w '%{http_code}' --cacert "$WORK/certs/apiserver.crt" \
	--cert "$WORK/stranger.crt" --key "$WORK/stranger.key" \
	"https://127.0.0.1:$MAS_PORT/apis/metrics.k8s.io/v1beta1/nodes")
check_eq "the stranger: 401" 401 "$code"
id=$(sed -n 's/^Audit-Id: \([^\r]*\)\r$/\1/ip' "$WORK/h401")
ev=$(events 'True')
check_eq "the 401: ResponseStarted, no user, the methods tried, code 401" \
	'Metadata ResponseStarted {} {"metadata": {}, "message": "Authentication failed, attempted: x509", "code": 401}' \
	"$(json_eval '" ".join([d[0]["level"], d[0]["stage"], json.dumps(d[0]["user"]), json.dumps(d[0]["responseStatus"])])' <<<"$ev")"
check_eq "the 401's Audit-Id header is its auditID" "$id" "$(json_eval 'd[0]["auditID"]' <<<"$ev")"
check "the Audit-Id is a UUID" grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' <<<"$id"
curl -s -o /dev/null -D "$WORK/hm" --cacert "$WORK/certs/apiserver.crt" \
	--cert "$SIM_DIR/front-proxy-client.crt" --key "$SIM_DIR/front-proxy-client.key" \
	-H 'X-Remote-User: e2e' -H 'X-Remote-Group: system:masters' -H 'Audit-ID: my-own-id' \
	"https://127.0.0.1:$MAS_PORT/apis/metrics.k8s.io/v1beta1/nodes"
check_eq "a client's Audit-ID is echoed" "my-own-id" \
	"$(sed -n 's/^Audit-Id: \([^\r]*\)\r$/\1/ip' "$WORK/hm")"
check_eq "and logged under it, allowed as system:masters (reason empty)" \
	'ResponseComplete allow ""' \
	"$(events 'e["auditID"] == "my-own-id"' | json_eval 'd[-1]["stage"] + " " + d[-1]["annotations"]["authorization.k8s.io/decision"] + " " + json.dumps(d[-1]["annotations"]["authorization.k8s.io/reason"])')"
check "not audited: every answer still carries Audit-Id (healthz)" \
	grep -qi '^Audit-Id: ' <(curl -s -D - -o /dev/null --cacert "$WORK/certs/apiserver.crt" "https://127.0.0.1:$MAS_PORT/healthz")
stop_server

# The legacy format, to stdout ("-"): audit.EventString's line.
start_server "${SERVER_ARGS[@]}" --audit-log-path - --audit-log-format legacy \
	--audit-policy-file "$WORK/policy.yaml"
curl -s -o /dev/null --cacert "$WORK/certs/apiserver.crt" \
	--cert "$SIM_DIR/front-proxy-client.crt" --key "$SIM_DIR/front-proxy-client.key" \
	-H 'X-Remote-User: ann' -H 'X-Remote-Group: system:masters' -H 'X-Remote-Group: a"b' \
	-H 'Audit-ID: legacy-1' -A 'tool/1.0' \
	"https://127.0.0.1:$MAS_PORT/apis/metrics.k8s.io/v1beta1/namespaces/ns1/pods?limit=1"
check "legacy: one line as audit.EventString writes it" wait_until 5 grep -Eq \
	'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]*[1-9])?Z AUDIT: id="legacy-1" stage="ResponseComplete" ip="127.0.0.1" method="list" user="ann" groups="\\"system:masters\\",\\"a\\\\\\"b\\",\\"system:authenticated\\"" as="<self>" asgroups="<lookup>" user-agent="tool/1.0" namespace="ns1" uri="/apis/metrics.k8s.io/v1beta1/namespaces/ns1/pods\?limit=1" response="200"$' \
	"$MAS_LOG"
grep 'AUDIT:' "$MAS_LOG" | as_comment
stop_server

# A policy that does not load stops the start, with apiserver's text.
printf 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n' >"$WORK/empty.yaml"
out=$("$BUILD/metrics-apiserver" --kubeconfig "$KUBECONFIG" --secure-port "$(free_port)" \
	--bind-address 127.0.0.1 --cert-dir "$WORK/certs" --audit-log-path "$WORK/x.log" \
	--audit-policy-file "$WORK/empty.yaml" 2>&1 || true)
check "an empty policy: loading audit policy file: loaded illegal policy with 0 rules" \
	grep -q 'loading audit policy file: loaded illegal policy with 0 rules' <<<"$out"
echo "$out" | tail -2 | as_comment

finish
