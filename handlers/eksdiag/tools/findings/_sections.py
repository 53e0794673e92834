"""Building diagnostic sections from a bundle's parsed artifacts and findings.

A section names the files it reads and the finding rules that belong to it. Its status is
``not-collected`` when none of its files is in the bundle (never an issue by itself), ``issues``
when findings of its rules exist, else ``ok``. Facts are computed by a small function per section.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eksdiag.tools.findings._common import SEVERITY_RANK, LoadedBundle, worst

Facts = Callable[[LoadedBundle, list[str]], dict[str, Any]]


@dataclass(frozen=True)
class Section:
    name: str
    files: tuple[str, ...]  # globs over bundle-relative paths
    rules: tuple[str, ...]  # globs over rule ids
    facts: Facts
    note_when_missing: str = ""
    #: also report every finding located in one of this section's files, whatever its rule
    issues_from_files: bool = False


def matches(value: str, globs: tuple[str, ...]) -> bool:
    """Whether ``value`` (a path or a rule id) matches one of ``globs``."""
    return any(fnmatch.fnmatchcase(value, g) for g in globs)


def issue(finding: dict[str, Any], severity: str | None = None, note: str | None = None) -> dict[str, Any]:
    out = {
        "severity": severity or finding["severity"],
        "findingId": finding["id"],
        "rule": finding["rule"],
        "title": finding["title"],
        "file": finding["file"],
        "line": finding["line"],
        "count": finding["count"],
        "evidence": [str(e["text"])[:300] for e in (finding.get("evidence") or [])[:2]],
    }
    if note:
        out["note"] = note
    return out


def build(
    bundle: LoadedBundle,
    sections: tuple[Section, ...],
    wanted: list[str],
    adjust: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
) -> dict[str, Any]:
    """The sections asked for (``wanted`` empty means all), with an overall severity.

    ``adjust(issue)`` may rewrite an issue (e.g. downgrade it with a note) or return None to drop it.
    """
    findings = [f for f in bundle.findings if f.get("category") != "noise"]
    out: dict[str, Any] = {}
    for section in sections:
        if wanted and section.name not in wanted:
            continue
        present = sorted(p for p in bundle.files if matches(p, section.files))
        issues = []
        for f in findings:
            if matches(f["rule"], section.rules) or (section.issues_from_files and f["file"] in present):
                item: dict[str, Any] | None = issue(f)
                if adjust is not None and item is not None:
                    item = adjust(item)
                if item is not None:
                    issues.append(item)
        issues.sort(key=lambda i: (-SEVERITY_RANK.get(i["severity"], 0), i["rule"], i["file"]))
        status = "issues" if issues else ("ok" if present else "not-collected")
        entry: dict[str, Any] = {
            "status": status,
            "severity": worst([i["severity"] for i in issues]),
            "files": present,
            "facts": section.facts(bundle, present) if present else {},
            "issues": issues,
        }
        if not present:
            entry["note"] = section.note_when_missing or "none of this section's files is in the bundle"
        out[section.name] = entry
    severities = [s["severity"] for s in out.values() if s["severity"]]
    return {
        "overall": {
            "severity": worst(severities),
            "issueCount": sum(len(s["issues"]) for s in out.values()),
            "sectionsWithIssues": sorted(name for name, s in out.items() if s["issues"]),
            "sectionsNotCollected": sorted(name for name, s in out.items() if s["status"] == "not-collected"),
        },
        "sections": out,
    }


def artifact(bundle: LoadedBundle, path: str, kind: str | None = None) -> dict[str, Any]:
    data = bundle.artifacts.get(path) or {}
    return data if (kind is None or data.get("kind") == kind) else {}


def first_artifact(bundle: LoadedBundle, paths: list[str], kind: str) -> tuple[str | None, dict[str, Any]]:
    for path in paths:
        data = bundle.artifacts.get(path) or {}
        if data.get("kind") == kind:
            return path, data
    return None, {}


def to_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
