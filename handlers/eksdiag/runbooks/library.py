"""The runbook (SOP) library: Markdown files with YAML front matter, shipped inside the package.

Each ``SOP-<AREA>-<NNN>.md`` file in this folder is one runbook::

    ---
    id: SOP-NET-001
    title: ...
    severity: HIGH
    summary: one sentence saying when to use it
    triggers: [network.iptables.forward-drop, ...]   # rule ids of the engine's catalogue, primary first
    categories: [network]
    ---
    # <title>
    ## Triage ... ## Enrichment ... ## Report ... ## Remediation ... ## Verify ...

The files are read through ``importlib.resources`` (so the library works from a Lambda zip, an installed
wheel or a source checkout), parsed and validated once, on first use, never at import time.
Runbooks are matched to findings by rule id only: ``runbooks_for_rules`` answers from the ``triggers``
lists; the one runbook marked ``fallback: true`` (the general catch-all) is offered for a rule that no
runbook names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from eksdiag.engine.model import CATEGORIES as FINDING_CATEGORIES

RUNBOOK_ID = re.compile(r"^SOP-[A-Z]{2,5}-[0-9]{3}$")
"""Runbook ids: ``SOP-`` + an area code of 2 to 5 capitals + ``-`` + three digits, e.g. ``SOP-NET-001``."""

RULE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)+$")
"""Rule ids as the engine spells them: dotted lowercase words, e.g. ``network.iptables.forward-drop``."""

SEVERITIES: tuple[str, ...] = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO")

CATEGORIES: tuple[str, ...] = (
    *FINDING_CATEGORIES,
    # finer areas the runbooks also cover
    "pid",
    "image-pull",
    "ena",
    "general",
)

SECTIONS: tuple[str, ...] = ("Triage", "Enrichment", "Report", "Remediation", "Verify")
"""Level-2 headings every runbook has, in this order."""

_REQUIRED_KEYS = frozenset({"id", "title", "severity", "summary", "triggers", "categories"})
_OPTIONAL_KEYS = frozenset({"fallback"})
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


class RunbookError(ValueError):
    """A runbook file is malformed; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Runbook:
    id: str
    title: str
    severity: str
    summary: str
    triggers: tuple[str, ...]
    categories: tuple[str, ...]
    fallback: bool
    body: str
    source: str

    def index_entry(self) -> dict[str, Any]:
        """The short form ``list_sops`` returns."""
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "summary": self.summary,
            "triggers": list(self.triggers),
            "categories": list(self.categories),
        }

    def to_dict(self) -> dict[str, Any]:
        """The whole runbook: its front matter and its Markdown body."""
        out = self.index_entry()
        out["fallback"] = self.fallback
        out["body"] = self.body
        return out


def parse_runbook(text: str, source: str = "<string>") -> Runbook:
    """Parse and validate one runbook file's text; raises ``RunbookError`` naming ``source``."""

    def fail(reason: str) -> RunbookError:
        return RunbookError(f"{source}: {reason}")

    text = text.replace("\r\n", "\n")
    if not text.startswith("---\n"):
        raise fail("must start with a '---' line opening the YAML front matter")
    end = text.find("\n---\n", 3)
    if end < 0:
        raise fail("front matter is not closed by a '---' line")
    try:
        meta = yaml.safe_load(text[4:end])
    except yaml.YAMLError as exc:
        raise fail(f"front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise fail("front matter must be a mapping")
    keys = set(meta)
    if missing := sorted(_REQUIRED_KEYS - keys):
        raise fail(f"front matter lacks {', '.join(missing)}")
    if unknown := sorted(keys - _REQUIRED_KEYS - _OPTIONAL_KEYS):
        raise fail(f"front matter has unknown keys {', '.join(map(str, unknown))}")

    runbook_id = meta["id"]
    if not isinstance(runbook_id, str) or not RUNBOOK_ID.match(runbook_id):
        raise fail(f"id {runbook_id!r} does not look like SOP-NET-001")
    for key in ("title", "summary"):
        if not isinstance(meta[key], str) or not meta[key].strip():
            raise fail(f"{key} must be a non-empty string")
    severity = meta["severity"]
    if severity not in SEVERITIES:
        raise fail(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    triggers = _string_list(meta["triggers"], "triggers", fail)
    for rule in triggers:
        if not RULE_ID.match(rule):
            raise fail(f"trigger {rule!r} is not a rule id (dotted lowercase)")
    categories = _string_list(meta["categories"], "categories", fail)
    if not categories:
        raise fail("categories must name at least one category")
    for category in categories:
        if category not in CATEGORIES:
            raise fail(f"category {category!r} is not one of {', '.join(CATEGORIES)}")
    fallback = meta.get("fallback", False)
    if not isinstance(fallback, bool):
        raise fail("fallback must be true or false")
    if not triggers and not fallback:
        raise fail("a runbook needs at least one trigger unless it is the fallback")

    body = text[end + 5 :].strip("\n") + "\n"
    _check_body(body, meta["title"], fail)
    return Runbook(
        id=runbook_id,
        title=meta["title"].strip(),
        severity=severity,
        summary=" ".join(meta["summary"].split()),
        triggers=tuple(triggers),
        categories=tuple(categories),
        fallback=fallback,
        body=body,
        source=source,
    )


def _string_list(value: Any, key: str, fail: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise fail(f"{key} must be a list of non-empty strings")
    if len(set(value)) != len(value):
        raise fail(f"{key} repeats an entry")
    return list(value)


def headings(body: str) -> list[tuple[int, str]]:
    """(level, text) of the Markdown ATX headings outside fenced code blocks."""
    out: list[tuple[int, str]] = []
    in_fence = False
    for line in body.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence and (m := _HEADING.match(line)):
            out.append((len(m.group(1)), m.group(2)))
    return out


def _check_body(body: str, title: str, fail: Any) -> None:
    found = headings(body)
    if not found or found[0] != (1, title.strip()):
        raise fail(f"body must open with the heading '# {title.strip()}'")
    sections = [text for level, text in found if level == 2]
    if sections != list(SECTIONS):
        raise fail(f"level-2 sections must be exactly {', '.join(SECTIONS)} in order, found {sections}")


@dataclass(frozen=True)
class _Library:
    by_id: dict[str, Runbook]
    fallback: Runbook | None


@functools.cache
def _library() -> _Library:
    by_id: dict[str, Runbook] = {}
    folder = resources.files(__package__ or "eksdiag.runbooks")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".md") or not entry.is_file():
            continue
        runbook = parse_runbook(entry.read_text(encoding="utf-8"), entry.name)
        if entry.name != f"{runbook.id}.md":
            raise RunbookError(f"{entry.name}: file name must be {runbook.id}.md")
        if runbook.id in by_id:
            raise RunbookError(f"{entry.name}: duplicate id {runbook.id}")
        by_id[runbook.id] = runbook
    fallbacks = [r for r in by_id.values() if r.fallback]
    if len(fallbacks) > 1:
        raise RunbookError(f"more than one fallback runbook: {', '.join(r.id for r in fallbacks)}")
    return _Library(by_id=by_id, fallback=fallbacks[0] if fallbacks else None)


def all_runbooks() -> tuple[Runbook, ...]:
    """Every runbook, ordered by id."""
    return tuple(sorted(_library().by_id.values(), key=lambda r: r.id))


def list_runbooks(rule: str | None = None, category: str | None = None) -> list[dict[str, Any]]:
    """Index entries (id, title, severity, summary, triggers, categories), ordered by id.

    ``rule`` keeps runbooks whose triggers name that rule id exactly; ``category`` keeps runbooks
    that cover that category. Both filters combine.
    """
    return [
        r.index_entry()
        for r in all_runbooks()
        if (rule is None or rule in r.triggers) and (category is None or category in r.categories)
    ]


def get_runbook(runbook_id: str) -> dict[str, Any] | None:
    """One runbook whole (front matter plus ``body``), or None if no runbook has that id."""
    runbook = _library().by_id.get(runbook_id.strip().upper()) if isinstance(runbook_id, str) else None
    return runbook.to_dict() if runbook else None


def runbooks_for_rules(rule_ids: Iterable[str]) -> dict[str, list[str]]:
    """Runbook ids for each rule id, the most direct runbook first.

    A runbook lists its triggers primary-first, so runbooks are ordered by the rule's position in their
    ``triggers``, then by how few triggers they have, then by id. A rule that no runbook names gets the
    fallback runbook, so every finding points somewhere.
    """
    lib = _library()
    out: dict[str, list[str]] = {}
    for rule in rule_ids:
        if rule in out:
            continue
        matched = sorted(
            (r for r in lib.by_id.values() if rule in r.triggers),
            key=lambda r: (r.triggers.index(rule), len(r.triggers), r.id),
        )
        if not matched and lib.fallback is not None:
            matched = [lib.fallback]
        out[rule] = [r.id for r in matched]
    return out
