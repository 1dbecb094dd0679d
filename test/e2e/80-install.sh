#!/usr/bin/env bash
# 80-install.sh - what the Dockerfile and manifests/ rely on (no container
# engine here, so their steps are checked one by one):
#   - `make install DESTDIR=... PREFIX=/usr` puts a working binary in place;
#   - every library the binary links directly comes from a package of the
#     Makefile's RUNTIME_DEBS (the runtime stage installs only those) or libc6;
#   - `kubectl kustomize` renders the base and every overlay (high-availability
#     with its replicas, anti-affinity, PDB and Lease RBAC); the objects keep
#     metrics-server's names (a drop-in replaces it in place); the container
#     runs hardened (non-root, read-only root, RuntimeDefault seccomp, no
#     capabilities); and the binary accepts exactly the rendered args (paths
#     mapped into the work dir): it gets past flag parsing to the kubeconfig.
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)

# ---- make install ---------------------------------------------------------------------
make -s -C "$ROOT" BUILD="$BUILD" install DESTDIR="$WORK/root" PREFIX=/usr >"$WORK/install.out" 2>&1
BIN=$WORK/root/usr/bin/metrics-apiserver
check "make install: the binary at PREFIX/bin, executable" test -x "$BIN"
check "the installed binary runs (--version)" "$BIN" --version

# ---- the runtime stage's packages -----------------------------------------------------
read -ra RUNTIME <<<"$(make -s -C "$ROOT" print-runtime-debs)"
missing=
while read -r lib; do
	path=$(ldd "$BIN" | awk -v l="$lib" '$1 == l {print $3}')
	pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1 || true)
	if [ -z "$pkg" ]; then # a /lib path dpkg files under /usr/lib (merged /usr)
		pkg=$(dpkg -S "/usr$path" 2>/dev/null | head -1 | cut -d: -f1 || true)
	fi
	case " ${RUNTIME[*]} libc6 " in
	*" $pkg "*) ;;
	*) missing="$missing $lib($pkg)" ;;
	esac
done < <(readelf -d "$BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
	grep -Ev '^lib(asan|ubsan|tsan|lsan)\.so') # make asan's runtimes: no release build links them
check_eq "every linked library's package is in RUNTIME_DEBS (or libc6)" "" "$missing"

# ---- manifests ------------------------------------------------------------------------
for dir in base overlays/insecure-kubelet-tls overlays/custom-external overlays/with-hpa \
	overlays/high-availability; do
	out=$WORK/$(basename "$dir").yaml
	if ! kubectl kustomize "$ROOT/manifests/$dir" >"$out" 2>"$WORK/kustomize.err"; then
		notok "kubectl kustomize manifests/$dir: $(head -3 "$WORK/kustomize.err")"
		continue
	fi
	ok "kubectl kustomize manifests/$dir renders"
	/usr/bin/python3 - "$out" >"$WORK/objects.txt" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if not d:
        continue
    m = d["metadata"]
    print("object", d["kind"], m.get("namespace", "-"), m["name"])
    if d["kind"] == "Deployment":
        c = d["spec"]["template"]["spec"]["containers"][0]
        sc = c["securityContext"]
        print("hardened", sc.get("runAsNonRoot") is True and sc.get("readOnlyRootFilesystem") is True
              and sc.get("allowPrivilegeEscalation") is False
              and sc.get("seccompProfile", {}).get("type") == "RuntimeDefault"
              and sc.get("capabilities", {}).get("drop") == ["ALL"])
        for a in c["args"]:
            print("arg", a)
PY
	cp "$WORK/objects.txt" "$WORK/$(basename "$dir").objects"
	for want in "ServiceAccount kube-system metrics-server" \
		"ClusterRole - system:aggregated-metrics-reader" "ClusterRole - system:metrics-server" \
		"RoleBinding kube-system metrics-server-auth-reader" \
		"ClusterRoleBinding - metrics-server:system:auth-delegator" \
		"Service kube-system metrics-server" "Deployment kube-system metrics-server" \
		"APIService - v1beta1.metrics.k8s.io"; do
		grep -qx "object $want" "$WORK/objects.txt" || notok "$dir: no $want"
	done
	check_eq "$dir: the container runs hardened" "hardened True" "$(grep '^hardened' "$WORK/objects.txt")"
	# the rendered args, paths mapped into the work dir, then a kubeconfig that
	# does not exist: a flag we did not accept would stop us before it
	args=()
	while read -r a; do
		a=${a/#--cert-dir=\/tmp/--cert-dir=$WORK/tmp}
		a=${a/#--config=\/etc\/metrics-apiserver\/config.yaml/--config=$ROOT/manifests/overlays/custom-external/config.yaml}
		args+=("$a")
	done < <(sed -n 's/^arg //p' "$WORK/objects.txt")
	set +e
	timeout 20 "$BUILD/metrics-apiserver" "${args[@]}" --kubeconfig "$WORK/no-such-kubeconfig" \
		>"$WORK/args.out" 2>&1
	set -e
	if grep -q 'no-such-kubeconfig' "$WORK/args.out"; then
		ok "$dir: the binary accepts the Deployment's ${#args[@]} args"
	else
		notok "$dir: the Deployment's args refused: $(head -3 "$WORK/args.out")"
	fi
done
for gv in v1beta1.custom.metrics.k8s.io v1beta2.custom.metrics.k8s.io v1beta1.external.metrics.k8s.io; do
	check "custom-external: the APIService $gv" grep -q "^object APIService - $gv\$" "$WORK/custom-external.objects"
done
# high-availability: metrics-server's HA component (README: 2 replicas,
# maxUnavailable 1, required anti-affinity per node, a policy/v1 PDB of
# minAvailable 1) plus the election: --leader-elect, --hpa=annotated, and a
# Role on leases bound to the ServiceAccount.
/usr/bin/python3 - "$WORK/high-availability.yaml" >"$WORK/ha.txt" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if not d:
        continue
    k, m = d["kind"], d["metadata"]
    if k == "Deployment":
        s = d["spec"]
        print("replicas", s.get("replicas"))
        print("maxUnavailable", s["strategy"]["rollingUpdate"]["maxUnavailable"])
        for t in s["template"]["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]:
            print("antiAffinity", t["topologyKey"], t["labelSelector"]["matchLabels"])
    elif k == "PodDisruptionBudget":
        print("pdb", d["apiVersion"], m["name"], d["spec"]["minAvailable"], d["spec"]["selector"]["matchLabels"])
    elif k == "Role" and "leader" in m["name"]:
        for r in d["rules"]:
            print("lease-rule", m["namespace"], ",".join(r["apiGroups"]), ",".join(r["resources"]),
                  ",".join(r.get("resourceNames", [])), ",".join(r["verbs"]))
    elif k == "RoleBinding" and d["roleRef"]["name"].endswith("leader-election"):
        s = d["subjects"][0]
        print("lease-binding", m["namespace"], s["kind"], s["namespace"], s["name"])
PY
check_eq "high-availability: 2 replicas" "replicas 2" "$(grep '^replicas' "$WORK/ha.txt")"
check_eq "high-availability: rollingUpdate maxUnavailable 1" "maxUnavailable 1" "$(grep '^maxUnavailable' "$WORK/ha.txt")"
check_eq "high-availability: required anti-affinity per node" \
	"antiAffinity kubernetes.io/hostname {'k8s-app': 'metrics-server'}" "$(grep '^antiAffinity' "$WORK/ha.txt")"
check_eq "high-availability: PodDisruptionBudget" "pdb policy/v1 metrics-server 1 {'k8s-app': 'metrics-server'}" \
	"$(grep '^pdb' "$WORK/ha.txt")"
check_eq "high-availability: Lease rules (create; get, update of the one Lease)" \
	"lease-rule kube-system coordination.k8s.io leases  create
lease-rule kube-system coordination.k8s.io leases metrics-apiserver get,update" "$(grep '^lease-rule' "$WORK/ha.txt")"
check_eq "high-availability: the Lease Role bound to the ServiceAccount" \
	"lease-binding kube-system ServiceAccount kube-system metrics-server" "$(grep '^lease-binding' "$WORK/ha.txt")"
check "high-availability: --leader-elect" grep -qx 'arg --leader-elect' "$WORK/high-availability.objects"
check "high-availability: --hpa=annotated" grep -qx 'arg --hpa=annotated' "$WORK/high-availability.objects"
check "high-availability: the HPA RBAC of with-hpa" \
	grep -qx 'object ClusterRole - system:metrics-server:hpa' "$WORK/high-availability.objects"
finish
