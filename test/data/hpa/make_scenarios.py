#!/usr/bin/env python3
"""Writes test/data/hpa/<NNN-name>/{scenario.json,expected.json}.

Every expected value below was derived by hand from the upstream algorithm
(../shared/reference/hpa.md, pkg/controller/podautoscaler); the derivation
is in the comment above each case.  Nothing here runs the C implementation.
Run from anywhere: python3 test/data/hpa/make_scenarios.py
"""
import json, os

HERE = os.path.dirname(os.path.abspath(__file__))
NOW = "2025-01-01T12:00:00Z"
T0 = "2025-01-01T11:00:00Z"          # pods started, earlier conditions

def ago(sec):
    h, m, s = 12, 0, 0
    t = h * 3600 + m * 60 + s - sec
    return "2025-01-01T%02d:%02d:%02dZ" % (t // 3600, t // 60 % 60, t % 60)

def pod(name, cpu_req="1", phase="Running", ready="True", ltt=ago(3570), start=T0,
        containers=None, extra=None):
    c = containers or [{"name": "app", "resources": {"requests": {"cpu": cpu_req, "memory": "512Mi"}}}]
    p = {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
         "spec": {"containers": c},
         "status": {"phase": phase, "startTime": start,
                    "conditions": [{"type": "Ready", "status": ready, "lastTransitionTime": ltt}]}}
    if extra:
        p.update(extra)
    return p

def pm(name, usage, res="cpu", ts=ago(10), window="30s", containers=None):
    cs = containers or [{"name": "app", "usage": {res: usage}}]
    return {"apiVersion": "metrics.k8s.io/v1beta1", "kind": "PodMetrics",
            "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
            "timestamp": ts, "window": window, "containers": cs}

def hpa(metrics, cur=3, desired=None, min_r=1, max_r=10, behavior=None, conditions=None, status=None):
    h = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
         "metadata": {"name": "web", "namespace": "default"},
         "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                  "minReplicas": min_r, "maxReplicas": max_r, "metrics": metrics},
         "status": {"currentReplicas": cur, "desiredReplicas": cur if desired is None else desired}}
    if behavior is not None:
        h["spec"]["behavior"] = behavior
    if conditions:
        h["status"]["conditions"] = conditions
    if status:
        h["status"].update(status)
    return h

def scale(spec, status=None, selector="app=web"):
    return {"apiVersion": "autoscaling/v1", "kind": "Scale",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": spec},
            "status": {"replicas": spec if status is None else status, "selector": selector}}

def cpu_util(target):
    return {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}}}

def cond(t, s, r, m, ltt=NOW):
    return {"type": t, "status": s, "lastTransitionTime": ltt, "reason": r, "message": m}

VALID = "the HPA was able to successfully calculate a replica count from %s"
CPU = "cpu resource utilization (percentage of request)"
WITHIN = ("ScalingLimited", "False", "DesiredWithinRange", "the desired count is within the acceptable range")
UPLIMIT = ("ScalingLimited", "True", "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate")
DOWNLIMIT = ("ScalingLimited", "True", "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate")
NOT_ZERO = ("ScaledToZero", "False", "NotScaledToZero", "the HPA controller did not scale the workload to zero")
READY = ("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size")
DOWNSTAB = ("AbleToScale", "True", "ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation")
GOTSCALE = ("AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale")

def rescaled(n):
    return ("AbleToScale", "True", "SucceededRescale", "the HPA controller was able to update the target scale to %d" % n)

def active(name):
    return ("ScalingActive", "True", "ValidMetricFound", VALID % name)

def conds(*cs):
    return [cond(*c) for c in cs]

def mdetail(proposed=None, util=None, raw=None, usage=None, error=None, ready=(), unready=(), missing=(), ignored=()):
    return {"proposedReplicas": proposed, "utilization": util, "rawAverageValue": raw, "usage": usage,
            "error": error, "pods": {"ready": list(ready), "unready": list(unready),
                                     "missing": list(missing), "ignored": list(ignored)}}

def ev(t, r, m):
    return {"type": t, "reason": r, "message": m}

def rescale_ev(n, reason):
    return ev("Normal", "SuccessfulRescale", "New size: %d; reason: %s" % (n, reason))

def hist(recs, up=(), down=()):
    h = {"scaleUpEvents": [{"replicaChange": c, "timestamp": t, "outdated": o} for c, t, o in up],
         "scaleDownEvents": [{"replicaChange": c, "timestamp": t, "outdated": o} for c, t, o in down]}
    if recs is not None:
        h["recommendations"] = [{"replicas": r, "timestamp": t} for r, t in recs]
    return h

def res_status(util, avg, name="cpu"):
    cur = {"averageValue": avg}
    if util is not None:
        cur["averageUtilization"] = util
    return {"type": "Resource", "resource": {"name": name, "current": cur}}

def status(cur, desired, metrics=None, conditions=None, last=None):
    s = {}
    if last:
        s["lastScaleTime"] = last
    if cur:
        s["currentReplicas"] = cur
    s["desiredReplicas"] = desired
    if metrics:
        s["currentMetrics"] = metrics
    if conditions:
        s["conditions"] = conditions
    return s

CASES = []

def case(name, scenario, expected):
    CASES.append((name, scenario, expected))

def base(h, sc, pods=(), pms=(), **kw):
    s = {"now": NOW, "horizontalPodAutoscaler": h, "scale": sc, "pods": list(pods), "podMetrics": list(pms)}
    s.update(kw)
    return s

def out(desired, updated, st, metrics, events, history, error=None):
    return {"desiredReplicas": desired, "scaleUpdated": updated, "error": error, "status": st,
            "metrics": metrics, "events": events, "history": history}

ABC = ["web-a", "web-b", "web-c"]

# 001 (hpa.md rc-res-001, TestReplicaCalcScaleUp): requests 2000m, usage 600/1000/1400m, target 30%.
# utilization = 3000*100/6000 = 50 -> ratio 50/30 = 1.667 -> ceil(1.667*3) = 5.
# Legacy: history seeded (3,now); max(5,3) = 5 -> ReadyForNewScale; cap max(2*3,4)=6 -> 5 within.
case("001-cpu-utilization-scale-up",
     base(hpa([cpu_util(30)]), scale(3),
          [pod(n, cpu_req="2") for n in ABC],
          [pm("web-a", "600m"), pm("web-b", "1"), pm("web-c", "1400m")]),
     out(5, True, status(3, 5, [res_status(50, "1")],
                         conds(rescaled(5), active(CPU), WITHIN, NOT_ZERO), last=NOW),
         [mdetail(5, 50, "1", ready=ABC)],
         [rescale_ev(5, CPU + " above target")],
         hist([(3, NOW), (5, NOW)])))

# 002: 4 pods at 10% of request, target 50% -> ratio 0.2 -> ceil(0.8) = 1.
# First pass: history seeded with current 4 -> legacy max(1,4) = 4 -> ScaleDownStabilized, no rescale.
FOUR = ["web-a", "web-b", "web-c", "web-d"]
case("002-cpu-scale-down-stabilized-first-pass",
     base(hpa([cpu_util(50)], cur=4), scale(4),
          [pod(n) for n in FOUR], [pm(n, "100m") for n in FOUR]),
     out(4, False, status(4, 4, [res_status(10, "100m")], conds(DOWNSTAB, active(CPU), WITHIN)),
         [mdetail(1, 10, "100m", ready=FOUR)], [],
         hist([(4, NOW), (1, NOW)])))

# 003: same load, the only recommendation is 10 minutes old (outside the 5m window):
# it is replaced by (1,now); stabilized 1 -> scale 4 -> 1 (minReplicas 1).
case("003-cpu-scale-down-after-window",
     base(hpa([cpu_util(50)], cur=4), scale(4),
          [pod(n) for n in FOUR], [pm(n, "100m") for n in FOUR],
          history=hist([(4, ago(600))])),
     out(1, True, status(4, 1, [res_status(10, "100m")],
                         conds(rescaled(1), active(CPU), WITHIN, NOT_ZERO), last=NOW),
         [mdetail(1, 10, "100m", ready=FOUR)],
         [rescale_ev(1, "All metrics below target")],
         hist([(1, NOW)])))

# 004 (TestReplicaCalcScaleUpUnreadyLessScale): web-a never became ready
# (Ready False, transition 10s after start < 30s delay) -> unready.
# ready: (500+700)/2000 = 60% -> ratio 2; scale-up with unready: web-a counted at 0:
# 1200/3000 = 40% -> 1.333 -> ceil(1.333*3) = 4.
case("004-unready-pod-less-scale-up",
     base(hpa([cpu_util(30)]), scale(3),
          [pod("web-a", ready="False", ltt=ago(3590)), pod("web-b"), pod("web-c")],
          [pm("web-a", "300m"), pm("web-b", "500m"), pm("web-c", "700m")]),
     out(4, True, status(3, 4, [res_status(60, "600m")],
                         conds(rescaled(4), active(CPU), WITHIN, NOT_ZERO), last=NOW),
         [mdetail(4, 60, "600m", ready=["web-b", "web-c"], unready=["web-a"])],
         [rescale_ev(4, CPU + " above target")],
         hist([(3, NOW), (4, NOW)])))

# 005 (TestReplicaCalcMissingMetricsUnreadyScaleDown-like): web-d has no metrics.
# ready 300/3000 = 10% -> 0.2 < 1 -> missing counted at request*max(100,50)/100 = 1000m:
# 1300/4000 = 32% -> 0.64 -> ceil(0.64*4) = ceil(2.56) = 3.  Old recommendation replaced.
case("005-missing-pod-scale-down",
     base(hpa([cpu_util(50)], cur=4), scale(4),
          [pod(n) for n in FOUR], [pm(n, "100m") for n in ["web-a", "web-b", "web-c"]],
          history=hist([(4, ago(360))])),
     out(3, True, status(4, 3, [res_status(10, "100m")],
                         conds(rescaled(3), active(CPU), WITHIN, NOT_ZERO), last=NOW),
         [mdetail(3, 10, "100m", ready=["web-a", "web-b", "web-c"], missing=["web-d"])],
         [rescale_ev(3, "All metrics below target")],
         hist([(3, NOW)])))

# 006 (TestReplicaCalcScaleDownIgnoreHotCpuPods): web-a started 60s ago (inside the 5m CPU
# initialization period), ready 20s ago; its sample (10s old, 30s window) predates
# ready+window -> unready.  ready: 200/2000 = 10% -> 0.2; unready ignored on scale-down:
# ceil(0.2*2) = 1.
case("006-hot-cpu-pod-ignored",
     base(hpa([cpu_util(50)]), scale(3),
          [pod("web-a", start=ago(60), ltt=ago(20)), pod("web-b"), pod("web-c")],
          [pm("web-a", "900m"), pm("web-b", "100m"), pm("web-c", "100m")],
          history=hist([(3, ago(400))])),
     out(1, True, status(3, 1, [res_status(10, "100m")],
                         conds(rescaled(1), active(CPU), WITHIN, NOT_ZERO), last=NOW),
         [mdetail(1, 10, "100m", ready=["web-b", "web-c"], unready=["web-a"])],
         [rescale_ev(1, "All metrics below target")],
         hist([(1, NOW)])))

# 007: memory AverageValue 500Mi; usage 600Mi, 700Mi -> average 650Mi = 681574400 bytes,
# ratio 1.3 -> ceil(2.6) = 3 (no readiness rules for memory).
MEM = {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "500Mi"}}}
case("007-memory-average-value",
     base(hpa([MEM], cur=2), scale(2),
          [pod("web-a"), pod("web-b")],
          [pm("web-a", "600Mi", res="memory"), pm("web-b", "700Mi", res="memory")]),
     out(3, True, status(2, 3, [res_status(None, "681574400", name="memory")],
                         conds(rescaled(3), active("memory resource"), WITHIN, NOT_ZERO), last=NOW),
         [mdetail(3, None, "681574400", "681574400", ready=["web-a", "web-b"])],
         [rescale_ev(3, "memory resource above target")],
         hist([(2, NOW), (3, NOW)])))

# 008: ContainerResource cpu of container "app" (request 500m; the sidecar is not counted);
# usage 450m + 420m over 1000m = 87% vs 60% -> 1.45 -> ceil(2.9) = 3; average 435m.
TWO_C = [{"name": "app", "resources": {"requests": {"cpu": "500m"}}},
         {"name": "proxy", "resources": {"requests": {"cpu": "100m"}}}]
CR = {"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
      "target": {"type": "Utilization", "averageUtilization": 60}}}
CRN = "cpu container resource utilization (percentage of request)"
case("008-container-resource",
     base(hpa([CR], cur=2), scale(2),
          [pod("web-a", containers=TWO_C), pod("web-b", containers=TWO_C)],
          [pm("web-a", None, containers=[{"name": "app", "usage": {"cpu": "450m"}}, {"name": "proxy", "usage": {"cpu": "90m"}}]),
           pm("web-b", None, containers=[{"name": "app", "usage": {"cpu": "420m"}}, {"name": "proxy", "usage": {"cpu": "80m"}}])]),
     out(3, True, status(2, 3, [{"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
                                 "current": {"averageValue": "435m", "averageUtilization": 87}}}],
                         conds(rescaled(3), active(CRN), WITHIN, NOT_ZERO), last=NOW),
         [mdetail(3, 87, "435m", ready=["web-a", "web-b"])],
         [rescale_ev(3, CRN + " above target")],
         hist([(2, NOW), (3, NOW)])))

def custom_pod(name, metric, value):
    return {"describedObject": {"kind": "Pod", "namespace": "default", "name": name, "apiVersion": "v1"},
            "metric": {"name": metric, "selector": None}, "timestamp": ago(5), "windowSeconds": 60, "value": value}

# 009 (TestReplicaCalcScaleUpCM-like): Pods metric, target 10; values 12, 15, 18 -> 15 -> 1.5 -> ceil(4.5) = 5.
PODS = {"type": "Pods", "pods": {"metric": {"name": "http_requests"}, "target": {"type": "AverageValue", "averageValue": "10"}}}
case("009-pods-metric",
     base(hpa([PODS]), scale(3), [pod(n) for n in ABC], [],
          customMetrics=[custom_pod("web-a", "http_requests", "12"), custom_pod("web-b", "http_requests", "15"),
                         custom_pod("web-c", "http_requests", "18")]),
     out(5, True, status(3, 5, [{"type": "Pods", "pods": {"metric": {"name": "http_requests"}, "current": {"averageValue": "15"}}}],
                         conds(rescaled(5), active("pods metric http_requests"), WITHIN, NOT_ZERO), last=NOW),
         [mdetail(5, None, "15", "15", ready=ABC)],
         [rescale_ev(5, "pods metric http_requests above target")],
         hist([(3, NOW), (5, NOW)])))

DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
def obj_value(metric, value):
    return {"describedObject": {"kind": "Deployment", "namespace": "default", "name": "web", "apiVersion": "apps/v1"},
            "metric": {"name": metric, "selector": None}, "timestamp": ago(5), "value": value}

# 010: Object Value: 50 vs 20 -> 2.5; 2 running+ready pods -> ceil(5) = 5;
# legacy cap max(2*2, 4) = 4 < max 10 -> ScaleUpLimit, 4.
OBJ = {"type": "Object", "object": {"describedObject": DEPLOY, "metric": {"name": "queue_depth"},
       "target": {"type": "Value", "value": "20"}}}
case("010-object-value-scale-up-limit",
     base(hpa([OBJ], cur=2), scale(2), [pod("web-a"), pod("web-b")], [],
          customMetrics=[obj_value("queue_depth", "50")]),
     out(4, True, status(2, 4, [{"type": "Object", "object": {"metric": {"name": "queue_depth"}, "current": {"value": "50"},
                                                             "describedObject": DEPLOY}}],
                         conds(rescaled(4), active("Deployment metric queue_depth"), UPLIMIT, NOT_ZERO), last=NOW),
         [mdetail(5, None, None, "50", ready=["web-a", "web-b"])],
         [rescale_ev(4, "Deployment metric queue_depth above target")],
         hist([(2, NOW), (5, NOW)])))

# 011: Object AverageValue 10 per pod, value 45, status.replicas 3: ratio 45/30 = 1.5
# -> ceil(45/10) = 5; status averageValue ceil(45/3) = 15; name uses the external-metric quirk.
OBJAV = {"type": "Object", "object": {"describedObject": DEPLOY, "metric": {"name": "requests"},
         "target": {"type": "AverageValue", "averageValue": "10"}}}
case("011-object-average-value",
     base(hpa([OBJAV]), scale(3), [pod(n) for n in ABC], [],
          customMetrics=[obj_value("requests", "45")]),
     out(5, True, status(3, 5, [{"type": "Object", "object": {"metric": {"name": "requests"}, "current": {"averageValue": "15"},
                                                             "describedObject": DEPLOY}}],
                         conds(rescaled(5), active("external metric requests(nil)"), WITHIN, NOT_ZERO), last=NOW),
         [mdetail(5, None, "15", "45")],
         [rescale_ev(5, "external metric requests(nil) above target")],
         hist([(3, NOW), (5, NOW)])))

def ext(metric, value, labels):
    return {"metricName": metric, "metricLabels": labels, "timestamp": ago(5), "value": value}

ORDERS = {"matchLabels": {"queue": "orders"}}
ORDERS_GO = "&LabelSelector{MatchLabels:map[string]string{queue: orders,},MatchExpressions:[]LabelSelectorRequirement{},}"
# 012: External Value, selector queue=orders: 30 + 20 (the "billing" series is filtered out) = 50
# vs 10 -> 5; 2 ready pods -> 10; legacy cap max(4,4) = 4 < max 8 -> ScaleUpLimit, 4.
EXTV = {"type": "External", "external": {"metric": {"name": "queue_messages", "selector": ORDERS},
        "target": {"type": "Value", "value": "10"}}}
EXTN = "external metric queue_messages(%s)" % ORDERS_GO
case("012-external-value",
     base(hpa([EXTV], cur=2, max_r=8), scale(2), [pod("web-a"), pod("web-b")], [],
          externalMetrics=[ext("queue_messages", "30", {"queue": "orders", "shard": "1"}),
                           ext("queue_messages", "20", {"queue": "orders", "shard": "2"}),
                           ext("queue_messages", "100", {"queue": "billing"})]),
     out(4, True, status(2, 4, [{"type": "External", "external": {"metric": {"name": "queue_messages", "selector": ORDERS},
                                                                 "current": {"value": "50"}}}],
                         conds(rescaled(4), active(EXTN), UPLIMIT, NOT_ZERO), last=NOW),
         [mdetail(10, None, None, "50", ready=["web-a", "web-b"])],
         [rescale_ev(4, EXTN + " above target")],
         hist([(2, NOW), (10, NOW)])))

# 013: External AverageValue 5/pod, sum 42, status.replicas 4: 42/20 = 2.1 -> ceil(8.4) = 9.
# behavior scaleUp Pods 2/60s; one scale-up of 1 30s ago -> period start 3 -> limit 5 -> ScaleUpLimit.
# Stabilization: up window 0 -> 9; down window 300s: max(9, 4) = 9 -> ReadyForNewScale.
# The event is recorded: [{1,-30s},{1,now}]; per-pod status in milli units:
# ceil(42000m / 4) = 10500m.
EXTAV = {"type": "External", "external": {"metric": {"name": "jobs"}, "target": {"type": "AverageValue", "averageValue": "5"}}}
BEH13 = {"scaleUp": {"policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}]}}
case("013-external-average-value-pods-policy",
     base(hpa([EXTAV], cur=4, behavior=BEH13), scale(4), [pod(n) for n in FOUR], [],
          externalMetrics=[ext("jobs", "40", {}), ext("jobs", "2", {})],
          history=hist([(4, ago(30))], up=[(1, ago(30), False)])),
     out(5, True, status(4, 5, [{"type": "External", "external": {"metric": {"name": "jobs"}, "current": {"averageValue": "10500m"}}}],
                         conds(rescaled(5), active("external metric jobs(nil)"), UPLIMIT, NOT_ZERO), last=NOW),
         [mdetail(9, None, "10500m", "42")],
         [rescale_ev(5, "external metric jobs(nil) above target")],
         hist([(4, ago(30)), (9, NOW)], up=[(1, ago(30), False), (1, NOW, False)])))

# 014: 10 pods at 10% vs 50% -> ceil(0.2*10) = 2.  behavior scaleDown window 0,
# policies Percent 50/60s and Pods 3/60s, selectPolicy Max (largest change):
# Percent -> int32(10*0.5) = 5, Pods -> 7; Max picks 5 -> ScaleDownLimit, 5.
TEN = ["web-%02d" % i for i in range(10)]
BEH14 = {"scaleDown": {"stabilizationWindowSeconds": 0,
                       "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60},
                                    {"type": "Pods", "value": 3, "periodSeconds": 60}]}}
case("014-behavior-scale-down-percent-policy",
     base(hpa([cpu_util(50)], cur=10, behavior=BEH14), scale(10),
          [pod(n) for n in TEN], [pm(n, "100m") for n in TEN], history=hist([])),
     out(5, True, status(10, 5, [res_status(10, "100m")],
                         conds(rescaled(5), active(CPU), DOWNLIMIT, NOT_ZERO), last=NOW),
         [mdetail(2, 10, "100m", ready=TEN)],
         [rescale_ev(5, "All metrics below target")],
         hist([(2, NOW)], down=[(5, NOW, False)])))

# 015: 2 pods at 100% vs 25% -> ratio 4 -> 8.  scaleUp selectPolicy Min over
# Pods 4/15s (2+4 = 6) and Percent 100/15s (ceil(2*2) = 4) -> 4, ScaleUpLimit.
BEH15 = {"scaleUp": {"selectPolicy": "Min", "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15},
                                                        {"type": "Percent", "value": 100, "periodSeconds": 15}]}}
case("015-behavior-scale-up-select-min",
     base(hpa([cpu_util(25)], cur=2, max_r=20, behavior=BEH15), scale(2),
          [pod("web-a"), pod("web-b")], [pm("web-a", "1"), pm("web-b", "1")]),
     out(4, True, status(2, 4, [res_status(100, "1")],
                         conds(rescaled(4), active(CPU), UPLIMIT, NOT_ZERO), last=NOW),
         [mdetail(8, 100, "1", ready=["web-a", "web-b"])],
         [rescale_ev(4, CPU + " above target")],
         hist([(2, NOW), (8, NOW)], up=[(2, NOW, False)])))

# 016: Pods metric 5 vs 10 on 6 pods -> ceil(0.5*6) = 3.  scaleDown window 120s:
# recommendations 5 (90s ago) and 4 (30s ago) count, 6 (200s ago) does not -> highest 5
# -> ScaleDownStabilized, scale 6 -> 5; the 200s-old slot is replaced by (3, now).
SIX = ["web-%d" % i for i in range(6)]
PODS16 = {"type": "Pods", "pods": {"metric": {"name": "inflight"}, "target": {"type": "AverageValue", "averageValue": "10"}}}
case("016-behavior-stabilization-window",
     base(hpa([PODS16], cur=6, behavior={"scaleDown": {"stabilizationWindowSeconds": 120}}), scale(6),
          [pod(n) for n in SIX], [], customMetrics=[custom_pod(n, "inflight", "5") for n in SIX],
          history=hist([(6, ago(200)), (5, ago(90)), (4, ago(30))])),
     out(5, True, status(6, 5, [{"type": "Pods", "pods": {"metric": {"name": "inflight"}, "current": {"averageValue": "5"}}}],
                         conds(rescaled(5), active("pods metric inflight"), WITHIN, NOT_ZERO), last=NOW),
         [mdetail(3, None, "5", "5", ready=SIX)],
         [rescale_ev(5, "All metrics below target")],
         hist([(3, NOW), (5, ago(90)), (4, ago(30))], down=[(1, NOW, False)])))

# 017 (TestReplicaCalcTolerance): 105% vs 100% -> ratio 1.05 within 0.1 -> keep 3.
case("017-within-tolerance",
     base(hpa([cpu_util(100)]), scale(3), [pod(n) for n in ABC], [pm(n, "1050m") for n in ABC]),
     out(3, False, status(3, 3, [res_status(105, "1050m")], conds(READY, active(CPU), WITHIN)),
         [mdetail(3, 105, "1050m", ready=ABC)], [],
         hist([(3, NOW), (3, NOW)])))

# 018 (TestConfigurableTolerance "scaling up because of a 1% configurable tolerance"):
# same load, behavior.scaleUp.tolerance 0.01 -> 1.05 > 1.01 -> ceil(3.15) = 4.
# Default scale-up policies allow max(3+4, ceil(3*2)) = 7 -> 4 within.
case("018-configurable-tolerance",
     base(hpa([cpu_util(100)], behavior={"scaleUp": {"tolerance": "0.01"}}), scale(3),
          [pod(n) for n in ABC], [pm(n, "1050m") for n in ABC]),
     out(4, True, status(3, 4, [res_status(105, "1050m")],
                         conds(rescaled(4), active(CPU), WITHIN, NOT_ZERO), last=NOW),
         [mdetail(4, 105, "1050m", ready=ABC)],
         [rescale_ev(4, CPU + " above target")],
         hist([(3, NOW), (4, NOW)], up=[(1, NOW, False)])))

# 019: scale to zero: External Value sum 0 vs 10 -> ceil(0*2) = 0; minReplicas 0,
# scaleDown window 0, default Percent 100 policy -> 0.  ScaledToZero True.
EXTQ = {"type": "External", "external": {"metric": {"name": "queue_length"}, "target": {"type": "Value", "value": "10"}}}
case("019-scale-to-zero-external",
     base(hpa([EXTQ], cur=2, min_r=0, behavior={"scaleDown": {"stabilizationWindowSeconds": 0}}), scale(2),
          [pod("web-a"), pod("web-b")], [], externalMetrics=[ext("queue_length", "0", {})], history=hist([])),
     out(0, True, status(2, 0, [{"type": "External", "external": {"metric": {"name": "queue_length"}, "current": {"value": "0"}}}],
                         conds(rescaled(0), active("external metric queue_length(nil)"), WITHIN,
                               ("ScaledToZero", "True", "ScaledToZero", "the HPA controller scaled the workload to zero")), last=NOW),
         [mdetail(0, None, None, "0", ready=["web-a", "web-b"])],
         [rescale_ev(0, "All metrics below target")],
         hist([(0, NOW)], down=[(2, NOW, False)])))

# 020: scale from zero: the HPA put the target at 0 (ScaledToZero True); queue 35 vs 10
# -> ceil(3.5) = 4 (no tolerance, no pods).  Legacy cap int32(max(2*0, 4)) = 4 -> 4 within.
# ScaledToZero flips to False (its lastTransitionTime moves); the others keep theirs.
OLD = conds(("AbleToScale", "True", "SucceededRescale", "the HPA controller was able to update the target scale to 0"),
            ("ScalingActive", "True", "ValidMetricFound", VALID % "external metric queue_length(nil)"),
            WITHIN, ("ScaledToZero", "True", "ScaledToZero", "the HPA controller scaled the workload to zero"))
for c in OLD:
    c["lastTransitionTime"] = T0
def with_ltt(cs, ltts):
    for c, t in zip(cs, ltts):
        c["lastTransitionTime"] = t
    return cs
case("020-scale-from-zero-external",
     base(hpa([EXTQ], cur=0, min_r=0, conditions=OLD, status={"lastScaleTime": T0}), scale(0), [], [],
          externalMetrics=[ext("queue_length", "35", {})]),
     out(4, True, status(0, 4, [{"type": "External", "external": {"metric": {"name": "queue_length"}, "current": {"value": "35"}}}],
                         with_ltt(conds(rescaled(4), active("external metric queue_length(nil)"), WITHIN, NOT_ZERO),
                                  [T0, T0, T0, NOW]), last=NOW),
         [mdetail(4, None, None, "35")],
         [rescale_ev(4, "external metric queue_length(nil) above target")],
         hist([(0, NOW), (4, NOW)])))

# 021 (TestZeroReplicas): target scaled to 0 by hand, minReplicas 1 -> ScalingDisabled.
case("021-manual-zero-disables",
     base(hpa([cpu_util(50)], cur=0), scale(0), [], []),
     out(0, False, status(0, 0, None, conds(GOTSCALE, ("ScalingActive", "False", "ScalingDisabled",
                                                       "scaling is disabled since the replica count of the target is zero"))),
         [mdetail()], [], hist([(0, NOW)])))

# 022 (TestTooManyReplicas): 12 > max 10 -> 10 without metrics; only AbleToScale (+ScaledToZero) touched.
case("022-above-max-replicas",
     base(hpa([cpu_util(50)], cur=12), scale(12), [], []),
     out(10, True, status(12, 10, None, conds(rescaled(10), NOT_ZERO), last=NOW),
         [mdetail()], [rescale_ev(10, "Current number of replicas above Spec.MaxReplicas")],
         hist([(12, NOW)])))

# 023 (TestConditionInvalidSelectorMissing): empty scale selector.
case("023-missing-selector",
     base(hpa([cpu_util(50)]), scale(3, selector=""), [pod(n) for n in ABC], [pm(n, "100m") for n in ABC]),
     out(3, False, status(3, 3, None, conds(GOTSCALE, ("ScalingActive", "False", "InvalidSelector",
                                                       "the HPA target's scale is missing a selector"))),
         [mdetail()],
         [ev("Warning", "SelectorRequired", "selector is required"),
          ev("Warning", "FailedComputeMetricsReplicas", "selector is required")],
         hist([(3, NOW)]),
         error="failed to compute desired number of replicas based on listed metrics for Deployment/default/web: selector is required"))

# 024 (TestConditionAmbiguousSelectorWhenFullSelectorOverlapBetweenHPAs).
AMB = "pods by selector app=web are controlled by multiple HPAs: [default/web default/web-canary]"
OTHER = hpa([cpu_util(50)])
OTHER["metadata"]["name"] = "web-canary"
case("024-ambiguous-selector",
     base(hpa([cpu_util(50)]), scale(3), [pod(n) for n in ABC], [pm(n, "100m") for n in ABC],
          otherHorizontalPodAutoscalers=[{"horizontalPodAutoscaler": OTHER, "scale": scale(3)}]),
     out(3, False, status(3, 3, None, conds(GOTSCALE, ("ScalingActive", "False", "AmbiguousSelector", AMB))),
         [mdetail()],
         [ev("Warning", "AmbiguousSelector", AMB), ev("Warning", "FailedComputeMetricsReplicas", AMB)],
         hist([(3, NOW)]),
         error="failed to compute desired number of replicas based on listed metrics for Deployment/default/web: " + AMB))

# 025 (TestConditionFailedGetScale): status untouched apart from the condition; no history seeded.
NF = 'deployments.apps "web" not found'
case("025-failed-get-scale",
     base(hpa([cpu_util(50)]), None, [], [], failures={"scaleGet": True}),
     out(3, False, status(3, 3, None, conds(("AbleToScale", "False", "FailedGetScale",
                                             "the HPA controller was unable to get the target's current scale: " + NF))),
         [mdetail()], [ev("Warning", "FailedGetScale", NF)], hist(None),
         error="failed to query scale subresource for Deployment/default/web: " + NF))

# 026 (TestConditionFailedUpdateScale): the 001 decision, but the PUT fails.
UPD = "the server is currently unable to handle the request (put deployments.apps web)"
case("026-failed-update-scale",
     base(hpa([cpu_util(30)]), scale(3), [pod(n, cpu_req="2") for n in ABC],
          [pm("web-a", "600m"), pm("web-b", "1"), pm("web-c", "1400m")], failures={"scaleUpdate": True}),
     out(5, False, status(3, 3, [res_status(50, "1")],
                          conds(("AbleToScale", "False", "FailedUpdateScale",
                                 "the HPA controller was unable to update the target scale: " + UPD),
                                active(CPU), WITHIN)),
         [mdetail(5, 50, "1", ready=ABC)],
         [ev("Warning", "FailedRescale", "New size: 5; reason: %s above target; error: %s" % (CPU, UPD))],
         hist([(3, NOW), (5, NOW)]),
         error="failed to rescale Deployment/default/web: " + UPD))

# 027 (TestConditionFailedGetMetrics "failed get resource metric"): metrics.k8s.io down.
DOWN = ("failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from "
        "resource metrics API: the server is currently unable to handle the request (get pods.metrics.k8s.io)")
INV = "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: " + DOWN
case("027-resource-metrics-api-down",
     base(hpa([cpu_util(50)]), scale(3), [pod(n) for n in ABC], [pm(n, "100m") for n in ABC],
          failures={"metricsAPIs": ["metrics.k8s.io"]}),
     out(3, False, status(3, 3, [{"type": ""}],
                          conds(GOTSCALE, ("ScalingActive", "False", "FailedGetResourceMetric",
                                           "the HPA was unable to compute the replica count: " + DOWN))),
         [mdetail(error=DOWN)],
         [ev("Warning", "FailedGetResourceMetric", DOWN), ev("Warning", "FailedComputeMetricsReplicas", INV)],
         hist([(3, NOW)]),
         error="failed to compute desired number of replicas based on listed metrics for Deployment/default/web: " + INV))

# 028 (TestScaleUpOneMetricEmpty): cpu wants 5 (as 001), the external metric returns nothing:
# a broken metric does not block a scale-up; the error is still reported.
EXTE = {"type": "External", "external": {"metric": {"name": "queue_messages"}, "target": {"type": "Value", "value": "10"}}}
EMPTY = "unable to get external metric default/queue_messages/nil: no metrics returned from external metrics API"
INV2 = ("invalid metrics (1 invalid out of 2), first error is: failed to get queue_messages external metric value: "
        "failed to get external metric queue_messages: " + EMPTY)
case("028-broken-metric-does-not-block-scale-up",
     base(hpa([cpu_util(30), EXTE]), scale(3), [pod(n, cpu_req="2") for n in ABC],
          [pm("web-a", "600m"), pm("web-b", "1"), pm("web-c", "1400m")]),
     out(5, True, status(3, 5, [res_status(50, "1"), {"type": ""}],
                         conds(rescaled(5), active(CPU), WITHIN, NOT_ZERO), last=NOW),
         [mdetail(5, 50, "1", ready=ABC), mdetail(error=EMPTY)],
         [ev("Warning", "FailedGetExternalMetric", EMPTY), rescale_ev(5, CPU + " above target")],
         hist([(3, NOW), (5, NOW)]), error=INV2))

def main():
    for name, sc, exp in CASES:
        d = os.path.join(HERE, name)
        os.makedirs(d, exist_ok=True)
        if sc.get("scale") is None:
            del sc["scale"]
        for fn, doc in (("scenario.json", sc), ("expected.json", exp)):
            with open(os.path.join(d, fn), "w") as f:
                json.dump(doc, f, indent=2)
                f.write("\n")
    print("wrote %d scenarios" % len(CASES))

if __name__ == "__main__":
    main()
