"""What every artifact check needs: its artifacts by kind, and a Hit anchored on its evidence."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eksdiag.engine.model import ArtifactMap, Evidence, Hit, Severity


def artifacts_of_kind(artifacts: ArtifactMap, kind: str) -> list[tuple[str, Mapping[str, Any]]]:
    """The ``(path, parsed)`` pairs whose parsed artifact is of ``kind``, by path."""
    return [
        (path, parsed)
        for path, parsed in sorted(artifacts.items(), key=lambda pair: pair[0])
        if isinstance(parsed, Mapping) and parsed.get("kind") == kind
    ]


def hit_on_evidence(
    rule: str,
    path: str,
    evidence: list[Evidence],
    *,
    severity: Severity,
    detail: dict[str, Any],
    count: int = 1,
    reason: str | None = None,
) -> Hit:
    """A Hit of ``rule`` in ``path`` at its first evidence line (line 1 when there is no evidence)."""
    return Hit(
        rule=rule,
        file=path,
        line=evidence[0].line if evidence else 1,
        evidence=evidence,
        count=count,
        severity=severity,
        detail=detail,
        reason=reason,
    )
