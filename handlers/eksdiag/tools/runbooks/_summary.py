"""The front-matter fields list_sops and get_sop both return for a runbook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def runbook_summary(runbook: Mapping[str, Any]) -> dict[str, Any]:
    """``id``, ``title``, ``severity``, ``summary``, ``triggers`` and ``categories`` of a library runbook."""
    return {
        "id": str(runbook["id"]),
        "title": str(runbook.get("title", "")),
        "severity": runbook.get("severity"),
        "summary": str(runbook.get("summary", "")),
        "triggers": [str(t) for t in runbook.get("triggers") or []],
        "categories": [str(c) for c in runbook.get("categories") or []],
    }
