#!/usr/bin/env bash
# 48-hpa-leader-election.sh - two replicas of the server on one kubesim,
# both with --leader-elect and --hpa=annotated: exactly one holds the
# coordination.k8s.io Lease and writes the annotated HPA's scales under a
# load step; kubesim's count of Scale writes per target shows no double
# write (every write is one of the leader's "Successful rescale" and
# changed spec.replicas); both serve the metrics API.  Then the leader
# hangs (SIGSTOP: no release, no renewal): the standby takes over once it
# has seen no renewal for the lease duration, and scaling goes on under a
# second load step; the old leader, woken, stands down without a write
# (its leadership ended at its renew deadline, its HPA history is
# dropped).  Killing the new leader (SIGKILL) hands the Lease back, to a
# new term that starts with no history; SIGTERM releases it.  Same cluster as 40-hpa-loop.sh (web annotated, api not).
source "$(dirname "$0")/lib.sh"

LEASE=4 RENEW=3 RETRY=0.5   # seconds: short, so the take-over fits the suite
LEASE_NAME=metrics-apiserver
# As 40-hpa-loop.sh: the pods share LOAD at 1m per unit, request 100m,
# target 50%: ceil(LOAD / 50) replicas, at most 10.
LOAD_1=290 EXPECT_1=6 LOAD_2=440 EXPECT_2=9
# Then a drop to LOAD_3: 3 replicas would do, but the 5-minute downscale
# stabilization holds the highest recommendation of the window: 9 for B,
# which has seen 9; a replica acting on A's stale history would write 6.
LOAD_3=140

start_kubesim --nodes 2 --pods-per-node 0 --config "$(dirname "$0")/data/hpa-cluster.yaml"
check "Deployment web has its replica ready" wait_until 30 sh -c \
	"kubectl get deploy web -o jsonpath='{.status.readyReplicas}' | grep -qx 1"

replica() { # replica NAME: starts one server, sets <NAME>_PID, <NAME>_LOG, <NAME>_PORT
	start_server --metric-resolution 10s --kubelet-request-timeout 5s \
		--kubelet-use-node-status-port --kubelet-preferred-address-types InternalIP \
		--kubelet-certificate-authority "$SIM_DIR/ca.crt" --hpa=annotated \
		--leader-elect --leader-elect-lease-duration ${LEASE}s \
		--leader-elect-renew-deadline ${RENEW}s --leader-elect-retry-period ${RETRY}s -v 2
	printf -v "${1}_PID" %s "$MAS_PID"
	printf -v "${1}_LOG" %s "$MAS_LOG"
	printf -v "${1}_PORT" %s "$MAS_PORT"
}
acquired() { grep -c "successfully acquired lease kube-system/$LEASE_NAME" "$1"; }
rescales() { grep -c '"Successful rescale" HPA="default/web"' "$1"; }
holder() { kubectl get lease -n kube-system "$LEASE_NAME" -o jsonpath='{.spec.holderIdentity}'; }
identity() { sed -n 's/.*leader election identity \([^ ]*\) on lease.*/\1/p' "$1" | head -1; }
replicas() { kubectl get deploy web -o jsonpath='{.spec.replicas}'; }
stats() { curl -ksf --cert "$SIM_DIR/admin.crt" --key "$SIM_DIR/admin.key" "$SIM_SERVER/kubesim/v1/stats"; }
writes() { stats | jq -r ".scaleWrites[\"default/deployments/$1\"].${2:-writes} // 0"; }

# ---- two replicas: one leader --------------------------------------------------
replica A
check "replica A acquires the Lease" wait_until 15 sh -c \
	"grep -q 'successfully acquired lease kube-system/$LEASE_NAME' '$A_LOG'"
replica B
check "replica B campaigns" grep -q "attempting to acquire leader lease kube-system/$LEASE_NAME..." "$B_LOG"
check_eq "the Lease holder is A's identity (hostname_uuid)" "$(identity "$A_LOG")" "$(holder)"
check "A's identity is <hostname>_<uuid>" grep -Eq "^$(hostname)_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\$" <<<"$(identity "$A_LOG")"
check_eq "the Lease duration is --leader-elect-lease-duration" "$LEASE" \
	"$(kubectl get lease -n kube-system "$LEASE_NAME" -o jsonpath='{.spec.leaseDurationSeconds}')"
check "both replicas serve the metrics API" sh -c \
	"curl -ksf https://127.0.0.1:$A_PORT/livez && curl -ksf https://127.0.0.1:$B_PORT/livez"

# ---- a load step: only the leader writes -----------------------------------------
kubectl annotate deployment web kubesim.io/load=$LOAD_1 --overwrite >/dev/null
check "web scales to $EXPECT_1 replicas" wait_until 60 sh -c "[ \"\$(kubectl get deploy web -o jsonpath='{.spec.replicas}')\" = $EXPECT_1 ]"
sleep 3 # a pass or two more: a second writer would show now
check_eq "B still does not lead" 0 "$(acquired "$B_LOG")"
check_eq "A acquired once (no flapping)" 1 "$(acquired "$A_LOG")"
check_eq "B wrote no scale" 0 "$(rescales "$B_LOG")"
check "A rescaled web" test "$(rescales "$A_LOG")" -ge 1
check_eq "kubesim counted exactly A's scale writes of web" "$(rescales "$A_LOG")" "$(writes web)"
check_eq "no Scale write left spec.replicas unchanged (no double write)" 0 "$(writes web unchanged)"
check_eq "the api HPA (not annotated) was never written" 0 "$(writes api)"
check_eq "A stays the holder" "$(identity "$A_LOG")" "$(holder)"

# ---- the leader hangs (SIGSTOP): B takes over within the lease duration --------------
a_writes=$(writes web)
lease_time() { date -d "$(kubectl get lease -n kube-system "$LEASE_NAME" -o jsonpath="{.spec.$1}")" +%s.%N; }
renewed=$(lease_time renewTime) # A's last renewal is this one or a later one
kill -STOP "$A_PID"
stopped=$(date +%s.%N)
check "B acquires the Lease while A is stopped" wait_until $((LEASE * 3)) sh -c \
	"grep -q 'successfully acquired lease kube-system/$LEASE_NAME' '$B_LOG'"
acquired_at=$(lease_time acquireTime) # B's clock: the same host's
since() { awk -v a="$acquired_at" -v b="$1" 'BEGIN { printf "%.2f", a - b }'; }
echo "# B acquired $(since "$renewed")s after A's renewal seen last, $(since "$stopped")s after SIGSTOP (lease ${LEASE}s, retry ${RETRY}s)"
# B may take over only after LEASE seconds without a change it could see:
# at least LEASE after A's last renewal.  It does so at most LEASE after
# its first read showing that renewal (one jittered retry, 2.2 x RETRY,
# after the stop at worst) plus its next jittered retry; 1 s of slack
# for a loaded machine.
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
check "B did not take over before the lease expired" ge "$(since "$renewed")" "$LEASE"
check "B took over within the lease duration (+ two jittered retries)" \
	ge "$(awk -v l=$LEASE -v r=$RETRY 'BEGIN { print l + 2 * 2.2 * r + 1 }')" "$(since "$stopped")"
check_eq "the Lease holder is B's identity" "$(identity "$B_LOG")" "$(holder)"
check_eq "the Lease counts one transition" 1 \
	"$(kubectl get lease -n kube-system "$LEASE_NAME" -o jsonpath='{.spec.leaseTransitions}')"

# ---- scaling goes on under the new leader -------------------------------------------
kubectl annotate deployment web kubesim.io/load=$LOAD_2 --overwrite >/dev/null
check "web scales to $EXPECT_2 replicas under B" wait_until 60 sh -c "[ \"\$(kubectl get deploy web -o jsonpath='{.spec.replicas}')\" = $EXPECT_2 ]"
check "B rescaled web" test "$(rescales "$B_LOG")" -ge 1

# ---- the old leader wakes up: it stands down and writes nothing ------------------------
# Its leadership ended at its renew deadline while it was stopped; its
# history of web (recommendations of 6 from before) must not drive a write
# now that the load dropped.
kubectl annotate deployment web kubesim.io/load=$LOAD_3 --overwrite >/dev/null
kill -CONT "$A_PID"
check "A notices it lost the Lease" wait_until 10 grep -q \
	"failed to renew lease kube-system/$LEASE_NAME" "$A_LOG"
sleep 12 # a scrape round (10s) of A's with the low load, and its HPA pass
check_eq "web stays at $EXPECT_2 (B's stabilization; A's stale 6 never written)" $EXPECT_2 "$(replicas)"
check_eq "A wrote nothing after waking" "$a_writes" "$(rescales "$A_LOG")"
check_eq "kubesim counted A's writes then B's, nothing else" \
	$((a_writes + $(rescales "$B_LOG"))) "$(writes web)"
check_eq "no Scale write left spec.replicas unchanged (no double write)" 0 "$(writes web unchanged)"
check_eq "B still holds the Lease" "$(identity "$B_LOG")" "$(holder)"

# ---- kill the leader: A leads again, then a clean stop gives the Lease up ------------
a_evals=$(grep -c '"HPA evaluated" HPA="default/web"' "$A_LOG")
kill -9 "$B_PID"
wait "$B_PID" 2>/dev/null || true
check "A acquires the Lease again after B's death" wait_until $((LEASE * 3)) sh -c \
	"[ \"\$(grep -c 'successfully acquired lease kube-system/$LEASE_NAME' '$A_LOG')\" = 2 ]"
check_eq "the Lease holder is A's identity again" "$(identity "$A_LOG")" "$(holder)"
# A new term starts with no history, as a new kube-controller-manager
# leader: its first recommendation is the current count (9), which the
# downscale window then holds; the history A kept from its first term
# (recommendations of 6) would let it write 6 at once.
check "A evaluates web again as the new leader" wait_until 25 sh -c \
	"[ \"\$(grep -c '\"HPA evaluated\" HPA=\"default/web\"' '$A_LOG')\" -gt $a_evals ]"
check_eq "A's first pass keeps web at $EXPECT_2 (fresh history, not the stale 6)" $EXPECT_2 "$(replicas)"
check_eq "A wrote no scale in its new term" "$a_writes" "$(rescales "$A_LOG")"
kill -TERM "$A_PID"
wait "$A_PID" 2>/dev/null || true
check "A released the Lease on SIGTERM" grep -q "released lease kube-system/$LEASE_NAME" "$A_LOG"
check_eq "the released Lease has no holder" "" "$(holder)"
finish
