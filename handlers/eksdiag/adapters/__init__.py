"""Storage and job-state adapters at the edges: S3 + DynamoDB for Lambda, a local folder for ``eksdiag``.

Layouts (the CONTEXT contract):

* uploads/<instanceId>/<bundleId>.tar.gz            what the node uploads (presigned PUT)
* bundles/<bundleId>/index.json                     the engine's index (``BundleIndex.to_dict()``)
* bundles/<bundleId>/files/<bundle-relative path>   member files extracted by the indexer
* bundles/<bundleId>/lines/<bundle-relative path>   the line index of a large extracted text file
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from eksdiag.tools.base import ToolError

#: States of a collection job, in order. ``failed`` is terminal like ``indexed``.
JOB_STATES = ("collecting", "uploaded", "indexing", "indexed", "failed")
#: States a job moves on from; each has an owner or a deadline that ends it (see ``lifecycle``).
ACTIVE_STATES = ("collecting", "uploaded", "indexing")
TERMINAL_STATES = ("indexed", "failed")
#: The schema tag of an index (``engine.indexer.INDEX_SCHEMA``), checked when an index is loaded.
INDEX_SCHEMA = "eksdiag.index/1"
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_member_path(path: str) -> str:
    """A bundle-relative path that cannot escape its bundle: no absolute paths, ``..``, or odd bytes.

    Raises ``ToolError("InvalidArgument")``; returns the normalised path.
    """
    if not isinstance(path, str) or not path or len(path) > 1024:
        raise ToolError("InvalidArgument", "path must be a bundle-relative file path (1-1024 characters)")
    if path.startswith("/") or "\\" in path or "\x00" in path:
        raise ToolError("InvalidArgument", f"path must be relative to the bundle, got {path[:80]!r}")
    norm = posixpath.normpath(path)
    parts = norm.split("/")
    if norm in (".", "") or any(p in ("..", ".", "") for p in parts):
        raise ToolError("InvalidArgument", f"path must stay inside the bundle, got {path[:80]!r}")
    if _CONTROL.search(norm):
        raise ToolError("InvalidArgument", f"path has control characters: {path[:80]!r}")
    return norm


def upload_key(instance_id: str, bundle_id: str) -> str:
    return f"uploads/{instance_id}/{bundle_id}.tar.gz"


def index_key(bundle_id: str) -> str:
    return f"bundles/{bundle_id}/index.json"


def file_key(bundle_id: str, path: str) -> str:
    return f"bundles/{bundle_id}/files/{safe_member_path(path)}"


def line_index_key(bundle_id: str, path: str) -> str:
    return f"bundles/{bundle_id}/lines/{safe_member_path(path)}"


class DiscardWriter:
    """Where a sink sends a member whose name cannot become a storage key (its content is not kept)."""

    closed = False

    def write(self, data: bytes) -> int:
        return len(data)

    def close(self) -> None:
        self.closed = True


# ---------------------------------------------------------------- damaged state


class CorruptIndex(ToolError):
    """A stored index that is not a whole index of its bundle (truncated, emptied, overwritten)."""

    def __init__(self, bundle_id: str, why: str) -> None:
        super().__init__(
            "Corrupt",
            f"the index of bundle {bundle_id} is damaged ({why}); nodelog___collect re-imports it",
            details={"bundleId": bundle_id},
        )
        self.bundle_id = bundle_id
        self.why = why


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_FINDING_TEXT = ("id", "rule", "category", "title", "file")


def _finding_problem(finding: Any) -> str | None:
    if not isinstance(finding, dict):
        return "a finding is not an object"
    if any(not isinstance(finding.get(k), str) for k in _FINDING_TEXT):
        return "a finding lacks its id, rule, category, title or file"
    if finding.get("severity") not in SEVERITIES or not _is_int(finding.get("line")):
        return "a finding has no valid severity or line"
    if not _is_int(finding.get("count")) or not isinstance(finding.get("evidence", []), list):
        return "a finding has no valid count or evidence"
    if any(not isinstance(finding.get(k), (str, type(None))) for k in ("first_seen", "last_seen")):
        return "a finding has an invalid time"
    return None


def _event_problem(event: Any) -> str | None:
    if not isinstance(event, dict) or any(
        not isinstance(event.get(k), str) for k in ("time", "rule", "severity", "category", "file", "text")
    ):
        return "an event lacks its time, rule, severity, category, file or text"
    return None if _is_int(event.get("line")) else "an event has no line"


def check_index(data: Any, bundle_id: str) -> dict[str, Any]:
    """``data`` if it is a whole index of ``bundle_id`` (the fields the tools rely on, with their
    types), else :class:`CorruptIndex`. Unknown extra fields are kept: other stages add their own."""
    if not isinstance(data, dict):
        raise CorruptIndex(bundle_id, f"a JSON {type(data).__name__}, not an object")
    if data.get("schema") != INDEX_SCHEMA:
        raise CorruptIndex(bundle_id, "not an eksdiag index")
    meta = data.get("bundle")
    if not isinstance(meta, dict) or meta.get("id") != bundle_id:
        raise CorruptIndex(bundle_id, "it belongs to no bundle or to another one")
    for key in ("findings", "files", "events", "skipped"):
        if not isinstance(data.get(key, []), list):
            raise CorruptIndex(bundle_id, f"its {key} are not a list")
    if not isinstance(data.get("artifacts", {}), dict):
        raise CorruptIndex(bundle_id, "its artifacts are not an object")
    for finding in data.get("findings", []):
        problem = _finding_problem(finding)
        if problem:
            raise CorruptIndex(bundle_id, problem)
    for entry in data.get("files", []):
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise CorruptIndex(bundle_id, "a file entry has no path")
    for event in data.get("events", []):
        problem = _event_problem(event)
        if problem:
            raise CorruptIndex(bundle_id, problem)
    return data


def damaged_job(bundle_id: str, why: str) -> dict[str, Any]:
    """What a job record that cannot be read stands for: a failed job, marked so that it can be
    rebuilt from its index when one survived (see ``lifecycle.settle``)."""
    return {
        "bundle_id": bundle_id,
        "state": "failed",
        "error": f"the job record was damaged ({why}); call nodelog___collect to import the bundle again",
        "retryable": True,
        "corrupt": True,
    }


def check_job(data: Any, bundle_id: str) -> dict[str, Any]:
    """A job record as stored, or :func:`damaged_job` when it is not one (wrong type, wrong id, no
    known state)."""
    if not isinstance(data, dict):
        return damaged_job(bundle_id, f"a JSON {type(data).__name__}, not an object")
    if data.get("bundle_id") != bundle_id or data.get("state") not in JOB_STATES:
        return damaged_job(bundle_id, "no bundle id or state")
    if not isinstance(data.get("instance_id", ""), str):
        return damaged_job(bundle_id, "no instance id")
    return data
