"""Data types shared by the whole engine: severities, rules, hits and findings.

Everything here is plain data: JSON-serialisable through ``to_dict`` and free of I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
    rule's default, e.g. a DROP rule whose packet counter is non-zero.
    """

    rule: str
    file: str
    line: int
    evidence: list[Evidence]
    count: int = 1
    severity: Severity | None = None
    detail: dict[str, Any] = field(default_factory=dict)


ArtifactMap = Mapping[str, Mapping[str, Any]]
"""Parsed artifacts of one bundle, keyed by bundle-relative path (e.g. ``networking/iproute.txt``)."""

Check = Callable[[ArtifactMap], list[Hit]]


@dataclass(frozen=True)
class Rule:
    """One row of the rule catalogue.

    A *line rule* has ``pattern`` (RE2 syntax, matched against raw line bytes of files whose
    bundle-relative path matches one of ``files``); ``guards`` are RE2 patterns that, when one matches
    the same line, keep the rule from firing (known false positives).
    An *artifact rule* has ``check`` instead: a function over the parsed artifacts.
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

    def __post_init__(self) -> None:
        if (self.pattern is None) == (self.check is None):
            raise ValueError(f"rule {self.id}: exactly one of pattern or check is required")


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

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "rule": self.rule,
            "severity": self.severity.value,
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
        )
