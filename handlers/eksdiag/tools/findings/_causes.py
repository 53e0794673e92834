"""Root-cause hypotheses: which findings explain which others, as a table of causal links.

Rules are data: a link says "findings of these rules can cause findings of those rules, because ...".
A hypothesis is a cause finding that is present together with effects it explains; it ranks by the
cause's severity, how many effects it explains, and whether it came first in time.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from eksdiag.tools.findings._common import SEVERITY_RANK, clip, parse_time

POD_NETWORK_EFFECTS = (
    "kubelet.apiserver-timeout",
    "kubelet.node-status-update-failed",
    "kubelet.registration-failed",
    "kubelet.crashloop",
    "kubelet.cni-not-ready",
    "cni.plugin-failed",
    "runtime.sandbox-create-failed",
    "runtime.image-pull-failed",
    "vpc-cni.ipamd-*",
    "network.conntrack.insert-failed",
)


@dataclass(frozen=True)
class Link:
    causes: tuple[str, ...]
    effects: tuple[str, ...]
    why: str


LINKS: tuple[Link, ...] = (
    Link(
        ("network.iptables.forward-drop", "network.iptables.forward-policy"),
        POD_NETWORK_EFFECTS,
        "DROP rules (or a DROP policy) in the FORWARD chain discard pod and Service traffic routed through the "
        "node, so connections from pods and the CNI time out",
    ),
    Link(
        ("network.iptables.input-drop", "network.iptables.output-drop"),
        (
            "kubelet.apiserver-timeout",
            "kubelet.node-status-update-failed",
            "kubelet.registration-failed",
            "runtime.image-pull-failed",
            "vpc-cni.ipamd-*",
            "cni.plugin-failed",
        ),
        "DROP rules in INPUT/OUTPUT discard the node's own traffic (API server, registry, EC2 API)",
    ),
    Link(
        ("network.route.blackhole",),
        POD_NETWORK_EFFECTS,
        "a blackhole/unreachable route silently discards every packet to that range",
    ),
    Link(
        ("network.sysctl.ip-forward-disabled",),
        POD_NETWORK_EFFECTS,
        "with net.ipv4.ip_forward=0 the node does not forward pod traffic",
    ),
    Link(
        ("network.kube-proxy.chains-missing",),
        ("kubelet.crashloop", "kubelet.apiserver-timeout", "cni.plugin-failed", "vpc-cni.ipamd-*"),
        "without kube-proxy's chains Service IPs are not translated, so pods cannot reach Services",
    ),
    Link(
        (
            "network.conntrack.table-full",
            "network.conntrack.table-near-full",
            "network.conntrack.insert-failed",
        ),
        (
            "kubelet.apiserver-timeout",
            "kubelet.node-status-update-failed",
            "kubelet.crashloop",
            "cni.plugin-failed",
            "runtime.image-pull-failed",
        ),
        "when conntrack cannot insert an entry the packet is dropped, so new connections fail at random",
    ),
    Link(
        ("network.ena.allowance-exceeded",),
        (
            "kubelet.apiserver-timeout",
            "kubelet.node-status-update-failed",
            "runtime.image-pull-failed",
            "network.conntrack.*",
        ),
        "the instance exceeded an ENA allowance (bandwidth, PPS, conntrack, link-local) and packets were dropped",
    ),
    Link(
        ("dns.resolv.no-nameserver",),
        ("runtime.image-pull-failed", "kubelet.apiserver-timeout", "kubelet.registration-failed"),
        "the node has no resolver, so name lookups (registry, API server) fail",
    ),
    Link(
        ("kernel.oom.global", "kernel.oom.cgroup"),
        (
            "kubelet.crashloop",
            "kubelet.eviction.memory",
            "runtime.sandbox-create-failed",
            "kubelet.pleg-unhealthy",
        ),
        "the OOM killer ended processes, so containers restart and the kubelet evicts pods",
    ),
    Link(("kubelet.eviction.memory",), ("kubelet.crashloop",), "memory pressure evicted pods"),
    Link(
        ("storage.disk.usage-high", "storage.inode.usage-high", "runtime.no-space"),
        (
            "kubelet.eviction.disk",
            "runtime.image-pull-failed",
            "runtime.snapshot-error",
            "runtime.sandbox-create-failed",
            "kubelet.crashloop",
        ),
        "the root or container filesystem is (nearly) full, so images cannot be unpacked and pods are evicted",
    ),
    Link(
        ("vpc-cni.address-exhaustion", "vpc-cni.ip-pool-exhausted", "vpc-cni.eni-attach-failed"),
        ("cni.plugin-failed", "runtime.sandbox-create-failed", "kubelet.crashloop"),
        "the VPC CNI has no free IP address to give new pods, so their sandboxes cannot be created",
    ),
    Link(
        ("cni.config.invalid",),
        ("kubelet.cni-not-ready", "cni.plugin-failed", "runtime.sandbox-create-failed"),
        "the CNI configuration is invalid, so the runtime cannot set up pod networking",
    ),
    Link(
        ("kubelet.certificate-error",),
        ("kubelet.registration-failed", "kubelet.node-status-update-failed", "kubelet.apiserver-timeout"),
        "the kubelet's certificate is rejected, so it cannot talk to the API server",
    ),
    Link(
        ("runtime.image-pull-throttled",),
        ("runtime.image-pull-failed", "kubelet.crashloop"),
        "the registry throttled pulls",
    ),
    Link(
        ("kernel.soft-lockup", "kernel.hung-task"),
        ("kubelet.pleg-unhealthy", "kubelet.node-status-update-failed"),
        "the kernel stalled, so the kubelet's relist and status updates fell behind",
    ),
    Link(
        ("kernel.fs-error",),
        ("runtime.snapshot-error", "runtime.sandbox-create-failed", "kubelet.crashloop"),
        "filesystem errors break container snapshots",
    ),
    Link(
        ("kubelet.pleg-unhealthy",),
        ("kubelet.node-status-update-failed",),
        "PLEG is not healthy, so the node is reported NotReady",
    ),
)


def _matches(rule: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(rule, p) for p in patterns)


def _time(finding: dict[str, Any]) -> Any:
    raw = finding.get("first_seen")
    return parse_time(raw) if raw else None


def hypotheses(findings: list[dict[str, Any]], limit: int = 3) -> list[dict[str, Any]]:
    """Ranked root-cause candidates among ``findings`` (noise excluded)."""
    real = [f for f in findings if f.get("category") != "noise"]
    out: list[tuple[tuple[int, int, int, int], dict[str, Any]]] = []
    for cause in real:
        links = [link for link in LINKS if _matches(cause["rule"], link.causes)]
        if not links:
            continue
        effects = [
            f
            for f in real
            if f is not cause
            and f["rule"] != cause["rule"]
            and any(_matches(f["rule"], link.effects) for link in links)
        ]
        if not effects:
            continue
        start = _time(cause)
        timed = [t for t in (_time(e) for e in effects) if t is not None]
        if start is None:
            order = "state at collection time (no timestamp)"
            consistent = True
        else:
            consistent = not timed or start <= min(timed)
            order = "precedes its effects" if consistent else "appears after some of its effects"
        rank = SEVERITY_RANK.get(cause["severity"], 0)
        confidence = (
            "high"
            if rank >= SEVERITY_RANK["HIGH"] and len(effects) >= 2 and consistent
            else "medium"
            if consistent
            else "low"
        )
        why = next(link.why for link in links)
        score = (rank, len({e["rule"] for e in effects}), int(consistent), -len(out))
        out.append(
            (
                score,
                {
                    "findingId": cause["id"],
                    "rule": cause["rule"],
                    "severity": cause["severity"],
                    "title": cause["title"],
                    "file": cause["file"],
                    "line": cause["line"],
                    "explains": [e["id"] for e in effects],
                    "explainsRules": sorted({e["rule"] for e in effects}),
                    "reason": why,
                    "timing": order,
                    "confidence": confidence,
                    "evidence": [
                        {"file": cause["file"], "line": int(e["line"]), "text": clip(str(e["text"]), 500)}
                        for e in (cause.get("evidence") or [])[:3]
                    ],
                },
            )
        )
    out.sort(key=lambda item: item[0], reverse=True)
    ranked = [h for _, h in out[:limit]]
    for i, h in enumerate(ranked, 1):
        h["rank"] = i
    return ranked
