"""What every network check shares: artifact lookup, address helpers, and one Hit per (rule, file).

A check collects *items* (severity, evidence line, detail, reason) and :func:`aggregate` turns them
into one Hit per file: the worst item sets the severity and its reason, the evidence is the worst
lines first.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, NamedTuple

from eksdiag.engine.checks._hits import hit_on_evidence
from eksdiag.engine.model import ArtifactMap, Evidence, Hit, Severity

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_EVIDENCE = 5
MAX_DETAIL_ITEMS = 20


class Item(NamedTuple):
    """One offending thing a check found: how bad, where, what, and why in one sentence."""

    severity: Severity
    evidence: Evidence
    detail: dict[str, Any]
    reason: str


def get(artifacts: ArtifactMap, path: str, kind: str) -> Mapping[str, Any] | None:
    artifact = artifacts.get(path)
    if artifact is None or artifact.get("kind") != kind:
        return None
    return artifact


def to_int(value: Any) -> int | None:
    try:
        return int(str(value).split()[0])
    except (ValueError, IndexError):
        return None


def network(text: str | None) -> tuple[Network | None, bool]:
    """(network, negated) for ``10.0.0.0/8``, ``!10.0.0.0/8``, ``10.0.0.1``; (None, False) if not one."""
    if not text:
        return None, False
    negated = text.startswith("!")
    body = text[1:] if negated else text
    if body == "anywhere":
        body = "0.0.0.0/0"
    try:
        return ipaddress.ip_network(body, strict=False), negated
    except ValueError:
        return None, False


def is_any(text: str | None) -> bool:
    net, negated = network(text)
    return text in (None, "", "anywhere") or (net is not None and not negated and net.prefixlen == 0)


def overlaps(net: Network, negated: bool, other: Network) -> bool:
    if net.version != other.version:
        return False
    if negated:
        return not other.subnet_of(net)  # type: ignore[arg-type]
    return net.overlaps(other)  # type: ignore[arg-type]


def port_in(dport: str | None, port: int) -> bool:
    """Whether an iptables ``--dport``/``--dports`` value (``53``, ``!53``, ``1:1024``, ``53,853``)
    matches ``port``."""
    if not dport:
        return False
    negated = dport.startswith("!")
    body = dport.lstrip("!")
    hit = False
    for part in body.split(","):
        low, is_range, high = part.partition(":")
        try:
            lo = int(low) if low else 0
            hi = int(high) if high else (65535 if is_range else lo)
        except ValueError:
            continue
        if lo <= port <= hi:
            hit = True
    return hit != negated


def aggregate(rule_id: str, path: str, items: list[Item], extra: Mapping[str, Any] | None = None) -> list[Hit]:
    """One Hit per (rule, file): worst severity and its reason, evidence = up to 5 lines, worst first."""
    if not items:
        return []
    ordered = sorted(items, key=lambda item: (-item.severity.rank, item.evidence.line))
    evidence = [item.evidence for item in ordered if item.evidence.text][:MAX_EVIDENCE]
    detail: dict[str, Any] = {"items": [item.detail for item in ordered[:MAX_DETAIL_ITEMS]]}
    if extra:
        detail.update(extra)
    hit = hit_on_evidence(rule_id, path, evidence, count=len(items), severity=ordered[0].severity, detail=detail)
    more = len(items) - 1
    hit.reason = ordered[0].reason + (f" ({more} more in this file.)" if more else "")
    return [hit]


def single(rule_id: str, path: str, item: Item, count: int = 1) -> list[Hit]:
    """A Hit for one finding whose evidence may be empty (a file that is empty)."""
    evidence = [item.evidence] if item.evidence.text else []
    hit = hit_on_evidence(rule_id, path, evidence, count=count, severity=item.severity, detail=item.detail)
    hit.reason = item.reason
    return [hit]
