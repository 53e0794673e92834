"""Data types shared by the whole engine: severities, rules, hits and findings.

Everything here is plain data: JSON-serialisable through ``to_dict`` and free of I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any


class Severity(enum.StrEnum):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    INFO = "INFO"

    @property
    def rank(self) -> int:
        """Higher is worse: CRITICAL=4 ... INFO=0."""
        return _RANK[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.strip().upper())
        except ValueError:
            raise ValueError(f"unknown severity {text!r}; use one of {', '.join(s.value for s in cls)}") from None


_RANK = {Severity.CRITICAL: 4, Severity.HIGH: 3, Severity.MEDIUM: 2, Severity.LOW: 1, Severity.INFO: 0}
_BY_RANK = {rank: severity for severity, rank in _RANK.items()}


def severity_of_rank(rank: int) -> Severity:
    """The severity of ``rank``, clamped to INFO..CRITICAL."""
    return _BY_RANK[max(0, min(4, rank))]


class Remedy(enum.StrEnum):
    """What fixes the condition a finding shows: the answer to "replace the node, or fix something else?"."""

    NODE = "node"
    """A node condition: rebooting or replacing the node remedies it (node auto-repair acts on these)."""
    WORKLOAD = "workload"
    """A workload's own behaviour (its memory limit, probes, crash loop): a new node would not help."""
    CONFIGURATION = "configuration"
    """Node or cluster configuration (iptables rules, routes, sysctls, CNI settings): fix the setting."""
    EXTERNAL = "external"
    """Something outside the node (API server, registry, AWS API limits, subnet capacity)."""
    NONE = "none"
    """Nothing to fix: known-benign noise, listed so it is not mistaken for a cause."""


CATEGORIES: tuple[str, ...] = (
    "kernel",
    "memory",
    "process",
    "network",
    "conntrack",
    "dns",
    "cni",
    "vpc-cni",
    "kubelet",
    "runtime",
    "workload",
    "storage",
    "accelerator",
    "certificates",
    "node-lifecycle",
    "noise",
)
"""Every finding category, in the order tools list them; the tool schemas' enums are checked against it."""


@dataclass(frozen=True)
class Evidence:
    """One exact line of a bundle file (1-based line number)."""

    line: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "text": self.text}


@dataclass
class Hit:
    """What an artifact check reports: one or more matched places in one file.

    The indexer aggregates hits into findings (one per rule and file). ``severity`` overrides the
    rule's default, e.g. a DROP rule whose packet counter is non-zero; ``reason`` says why in one
    sentence (magnitude, coverage), and should be given whenever ``severity`` is.
    """

    rule: str
    file: str
    line: int
    evidence: list[Evidence]
    count: int = 1
    severity: Severity | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None


ArtifactMap = Mapping[str, Mapping[str, Any]]
"""Parsed artifacts of one bundle, keyed by bundle-relative path (e.g. ``networking/iproute.txt``)."""

Check = Callable[[ArtifactMap], list[Hit]]


@dataclass(frozen=True)
class Scale:
    """How a line rule's severity moves with recency and magnitude (see ``eksdiag.engine.severity``).

    The rule's own severity is what recent, repeated evidence deserves. Evidence last seen more than
    ``stale_after`` before the collection counts one level less, more than ``old_after`` two levels
    less; a single occurrence counts one level less when ``lone_lowers``; a recent burst (last seen
    within ``recent_within`` of the collection, at ``burst_per_hour`` or more per hour over its span)
    rises one level, up to ``ceiling``. The result never leaves ``floor``..``ceiling``. Fewer than
    ``min_count`` matching lines in a file rank at ``floor``.
    """

    ceiling: Severity | None = None
    """Highest severity the rule reaches; None keeps the rule's own severity as the ceiling."""
    floor: Severity = Severity.LOW
    burst_per_hour: int = 0
    """Rate that makes recent evidence rise one level; 0: the rule never rises."""
    lone_lowers: bool = False
    recent_within: timedelta = timedelta(hours=1)
    stale_after: timedelta = timedelta(hours=24)
    old_after: timedelta = timedelta(days=7)
    min_count: int = 1
    """From how many matching lines in a file the rule's severity applies; fewer rank at ``floor``: a
    line that is normal once (a daemon's start banner) is a problem only when it repeats."""


DEFAULT_SCALE = Scale()


@dataclass(frozen=True)
class Rule:
    """One row of the rule catalogue.

    A *line rule* has ``pattern`` (RE2 syntax, matched against raw line bytes of files whose
    bundle-relative path matches one of ``files``); ``guards`` are RE2 patterns that, when one matches
    the same line, keep the rule from firing (known false positives); ``scale`` says how its severity
    follows recency and magnitude.
    An *artifact rule* has ``check`` instead: a function over the parsed artifacts, whose hits carry
    their own severity and reason.
    ``remedy`` says what fixes it (a node condition, a workload, configuration, something external);
    ``nma`` names the EKS Node Monitoring Agent issues (pkg/reasons) this rule detects too.
    """

    id: str
    severity: Severity
    category: str
    title: str
    files: tuple[str, ...] = ("**",)
    pattern: str | None = None
    guards: tuple[str, ...] = ()
    check: Check | None = None
    description: str = ""
    scale: Scale = DEFAULT_SCALE
    remedy: Remedy = field(kw_only=True)
    nma: tuple[str, ...] = field(default=(), kw_only=True)

    def __post_init__(self) -> None:
        if (self.pattern is None) == (self.check is None):
            raise ValueError(f"rule {self.id}: exactly one of pattern or check is required")
        if self.category not in CATEGORIES:
            raise ValueError(f"rule {self.id}: unknown category {self.category!r}")


@dataclass
class Finding:
    """One finding per (rule, file); repeated lines are aggregated."""

    id: str
    rule: str
    severity: Severity
    category: str
    title: str
    file: str
    line: int
    count: int
    evidence: list[Evidence]
    first_seen: str | None = None
    last_seen: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    severity_reason: str = ""
    remedy: Remedy = Remedy.NODE

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "rule": self.rule,
            "severity": self.severity.value,
            "severity_reason": self.severity_reason,
            "remedy": self.remedy.value,
            "category": self.category,
            "title": self.title,
            "file": self.file,
            "line": self.line,
            "count": self.count,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "evidence": [e.to_dict() for e in self.evidence],
        }
        if self.detail:
            out["detail"] = self.detail
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            id=data["id"],
            rule=data["rule"],
            severity=Severity(data["severity"]),
            category=data["category"],
            title=data["title"],
            file=data["file"],
            line=int(data["line"]),
            count=int(data["count"]),
            evidence=[Evidence(int(e["line"]), e["text"]) for e in data.get("evidence", [])],
            first_seen=data.get("first_seen"),
            last_seen=data.get("last_seen"),
            detail=dict(data.get("detail") or {}),
            severity_reason=str(data.get("severity_reason") or ""),
            remedy=Remedy(data.get("remedy") or Remedy.NODE.value),
        )
