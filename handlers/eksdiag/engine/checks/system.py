"""Storage and node artifact rules (df, inodes, VPC CNI IP pool).

Each check reads the parsed artifacts (``{bundle path: parsed dict}``, see
``eksdiag.engine.parsers.system``), picks its artifacts by ``kind`` and returns at most one
:class:`Hit` per file. A missing or unreadable artifact gives no hit; healthy values give none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from eksdiag.engine.checks._hits import artifacts_of_kind, hit_on_evidence
from eksdiag.engine.model import ArtifactMap, Evidence, Hit, Remedy, Rule, Severity

MAX_EVIDENCE = 10

USAGE_THRESHOLDS: tuple[tuple[int, Severity], ...] = (
    (95, Severity.CRITICAL),
    (90, Severity.HIGH),
    (85, Severity.MEDIUM),
)
"""Use% (or IUse%) at or above each figure gives that severity; the first that applies wins."""

IGNORED_MOUNTPOINTS = frozenset({"/boot/efi"})


def usage_severity(pct: int | None) -> Severity | None:
    """The severity for a df Use%/IUse% figure, or ``None`` below every threshold."""
    if pct is None:
        return None
    for threshold, severity in USAGE_THRESHOLDS:
        if pct >= threshold:
            return severity
    return None


def is_real_filesystem(filesystem: str, mounted_on: str) -> bool:
    """A block device or network data volume, not tmpfs/devtmpfs/shm/overlay, not ``/boot/efi``.

    Snap squashfs images (``/dev/loopN`` on ``/snap/…``) are always 100% full by design: ignored.
    """
    if mounted_on in IGNORED_MOUNTPOINTS:
        return False
    if filesystem.startswith("/dev/loop") and mounted_on.startswith("/snap/"):
        return False
    return filesystem.startswith("/dev/") or ":/" in filesystem


def _worst(severities: Iterable[Severity]) -> Severity:
    return max(severities, key=lambda s: s.rank)


def _usage_hits(artifacts: ArtifactMap, kind: str, pct_key: str, rule: str) -> list[Hit]:
    hits: list[Hit] = []
    for path, parsed in artifacts_of_kind(artifacts, kind):
        seen: set[str] = set()
        offenders: list[tuple[Severity, Mapping[str, Any]]] = []
        for row in parsed.get("filesystems") or ():
            filesystem = str(row.get("filesystem", ""))
            mounted_on = str(row.get("mounted_on", ""))
            if not is_real_filesystem(filesystem, mounted_on) or filesystem in seen:
                continue
            seen.add(filesystem)
            severity = usage_severity(row.get(pct_key))
            if severity is not None:
                offenders.append((severity, row))
        if not offenders:
            continue
        rows = [row for _, row in offenders]
        detail_keys = (
            "filesystem",
            "mounted_on",
            pct_key,
            "size",
            "used",
            "avail",
            "inodes",
            "iused",
            "ifree",
        )
        hits.append(
            hit_on_evidence(
                rule,
                path,
                [Evidence(int(r["line"]), str(r["text"])) for r in rows[:MAX_EVIDENCE]],
                count=len(rows),
                severity=_worst(s for s, _ in offenders),
                detail={"filesystems": [{k: r[k] for k in detail_keys if k in r} for r in rows]},
            )
        )
    return hits


def check_disk_usage(artifacts: ArtifactMap) -> list[Hit]:
    """df Use% of real filesystems (``storage/mounts.txt``): >= 95 CRITICAL, >= 90 HIGH, >= 85 MEDIUM."""
    return _usage_hits(artifacts, "mounts", "use_pct", "storage.disk.usage-high")


def check_inode_usage(artifacts: ArtifactMap) -> list[Hit]:
    """df IUse% of real filesystems (``storage/inodes.txt``), same thresholds as disk usage."""
    return _usage_hits(artifacts, "inodes", "iuse_pct", "storage.inode.usage-high")


def _eni_limit(artifacts: ArtifactMap) -> tuple[dict[str, Any], list[Evidence]]:
    """``awscni_eni_allocated`` / ``awscni_eni_max`` from any metrics artifact (detail and evidence)."""
    for _, parsed in artifacts_of_kind(artifacts, "ipamd-metrics"):
        metrics = parsed.get("metrics") or {}
        allocated = metrics.get("awscni_eni_allocated")
        maximum = metrics.get("awscni_eni_max")
        if allocated is None or maximum is None:
            continue
        reached = bool(maximum > 0 and allocated >= maximum)
        samples = parsed.get("samples") or {}
        evidence = [
            Evidence(int(samples[name]["line"]), str(samples[name]["text"]))
            for name in ("awscni_eni_allocated", "awscni_eni_max")
            if name in samples
        ]
        return {"eni_allocated": allocated, "eni_max": maximum, "eni_limit_reached": reached}, evidence
    return {}, []


def check_ip_pool(artifacts: ArtifactMap) -> list[Hit]:
    """All of ipamd's IPs assigned: ``enis.json`` AssignedIPs >= TotalIPs > 0 (per network card) or
    ``metrics.json`` ``awscni_assigned_ip_addresses >= awscni_total_ip_addresses > 0``."""
    rule = "vpc-cni.ip-pool-exhausted"
    eni_detail, eni_evidence = _eni_limit(artifacts)
    hits: list[Hit] = []
    for path, parsed in artifacts_of_kind(artifacts, "ipamd-enis"):
        cards = [
            card
            for card in parsed.get("network_cards") or ()
            if (card.get("total_ips") or 0) > 0 and (card.get("assigned_ips") or 0) >= card["total_ips"]
        ]
        if not cards:
            continue
        evidence = [
            Evidence(int(card["line"]), str(card["evidence"]))
            for card in cards
            if card.get("line") is not None and card.get("evidence") is not None
        ]
        detail: dict[str, Any] = {
            "network_cards": [
                {k: card.get(k) for k in ("network_card", "total_ips", "assigned_ips", "eni_count")} for card in cards
            ],
            **eni_detail,
        }
        hits.append(
            hit_on_evidence(
                rule,
                path,
                evidence[:MAX_EVIDENCE],
                count=len(cards),
                severity=Severity.HIGH,
                detail=detail,
            )
        )
    for path, parsed in artifacts_of_kind(artifacts, "ipamd-metrics"):
        metrics = parsed.get("metrics") or {}
        assigned = metrics.get("awscni_assigned_ip_addresses")
        total = metrics.get("awscni_total_ip_addresses")
        if assigned is None or total is None or total <= 0 or assigned < total:
            continue
        samples = parsed.get("samples") or {}
        evidence = [
            Evidence(int(samples[name]["line"]), str(samples[name]["text"]))
            for name in ("awscni_assigned_ip_addresses", "awscni_total_ip_addresses")
            if name in samples
        ]
        if eni_detail.get("eni_limit_reached"):
            evidence.extend(e for e in eni_evidence if e not in evidence)
        evidence.sort(key=lambda e: e.line)
        hits.append(
            hit_on_evidence(
                rule,
                path,
                evidence,
                severity=Severity.HIGH,
                detail={"assigned_ips": assigned, "total_ips": total, **eni_detail},
            )
        )
    return hits


SYSTEM_RULES: tuple[Rule, ...] = (
    Rule(
        id="storage.disk.usage-high",
        severity=Severity.HIGH,
        category="storage",
        title="Filesystem nearly full (df Use%)",
        files=("storage/mounts.txt",),
        check=check_disk_usage,
        description=(
            "A real filesystem (root, /var/lib/containerd, /var/lib/kubelet, data volumes) is at or above "
            "85% used: MEDIUM from 85%, HIGH from 90%, CRITICAL from 95%. Kubelet starts image garbage "
            "collection at 85% and evicts pods on imagefs/nodefs pressure; containerd fails with "
            "'no space left on device'. tmpfs, shm, overlay and /boot/efi are ignored."
        ),
        remedy=Remedy.NODE,
    ),
    Rule(
        id="storage.inode.usage-high",
        severity=Severity.HIGH,
        category="storage",
        title="Filesystem nearly out of inodes (df IUse%)",
        files=("storage/inodes.txt",),
        check=check_inode_usage,
        description=(
            "A real filesystem has used 85% or more of its inodes (same thresholds as disk usage). With no "
            "inodes left, writes fail with 'no space left on device' although df shows free space."
        ),
        remedy=Remedy.NODE,
    ),
    Rule(
        id="vpc-cni.ip-pool-exhausted",
        severity=Severity.HIGH,
        category="vpc-cni",
        title="VPC CNI IP address pool exhausted",
        files=("ipamd/enis.json", "ipamd/metrics.json"),
        check=check_ip_pool,
        description=(
            "ipamd has assigned every IP address it holds (AssignedIPs >= TotalIPs): new pods on this node "
            "wait in ContainerCreating until an address frees or another ENI/prefix attaches. When "
            "awscni_eni_allocated equals awscni_eni_max the node cannot grow its pool at all."
        ),
        remedy=Remedy.CONFIGURATION,
        nma=("IPAMDNoIPs",),
    ),
)
