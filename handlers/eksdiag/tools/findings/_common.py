"""Shared by the findings tools: bundle resolution, time windows, cursors, runbook links."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from eksdiag.tools.base import ToolContext, ToolError, iso
from eksdiag.tools.validate import bundle_id as check_bundle_id
from eksdiag.tools.validate import node_id as check_node_id

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO")
SEVERITY_RANK = {name: rank for rank, name in enumerate(reversed(SEVERITIES))}  # INFO=0 ... CRITICAL=4
INDEX_CACHE_SIZE = 6


@dataclass
class LoadedBundle:
    """A bundle's index as the tools see it."""

    bundle_id: str
    index: dict[str, Any]

    @property
    def meta(self) -> dict[str, Any]:
        return dict(self.index.get("bundle") or {})

    @property
    def instance_id(self) -> str | None:
        """The node: what ``system/instance-id.txt`` says, else the identity found at import (hybrid
        and IMDS-less bundles: the kubelet's provider id)."""
        value = self.meta.get("instance_id") or self.meta.get("node_id")
        return str(value) if value else None

    @cached_property
    def collected_at(self) -> datetime | None:
        raw = self.meta.get("collected_at")
        return parse_time(raw) if isinstance(raw, str) else None

    @property
    def findings(self) -> list[dict[str, Any]]:
        return list(self.index.get("findings") or [])

    @cached_property
    def files(self) -> dict[str, dict[str, Any]]:
        return {f["path"]: f for f in self.index.get("files") or []}

    @property
    def artifacts(self) -> dict[str, Any]:
        return dict(self.index.get("artifacts") or {})

    def finding(self, finding_id: str) -> dict[str, Any] | None:
        return next((f for f in self.findings if f.get("id") == finding_id), None)

    def header(self) -> dict[str, Any]:
        """The fields every findings tool starts its answer with."""
        return {
            "bundleId": self.bundle_id,
            "instanceId": self.instance_id,
            "collectedAt": self.meta.get("collected_at"),
        }


def _index_cache(ctx: ToolContext) -> OrderedDict[str, dict[str, Any]]:
    cache = ctx.cache.get("indexes")
    if cache is None:
        cache = ctx.cache["indexes"] = OrderedDict()
    return cache  # type: ignore[no-any-return]


def _load_index(bundle_id: str, ctx: ToolContext) -> dict[str, Any] | None:
    """The stored index; a damaged one is rebuilt where the context can (local imports), else the
    ``Corrupt`` error stands (``nodelog___collect`` re-imports)."""
    from eksdiag.adapters import CorruptIndex

    try:
        return ctx.store.load_index(bundle_id)
    except CorruptIndex:
        if ctx.repair_index is None or not ctx.repair_index(ctx, bundle_id):
            raise
    return ctx.store.load_index(bundle_id)


def load_bundle(bundle_id: str, ctx: ToolContext) -> LoadedBundle:
    """The index of ``bundle_id``; NotReady while it is being collected or indexed, NotFound otherwise."""
    from eksdiag.adapters.lifecycle import settle

    cache = _index_cache(ctx)
    if bundle_id in cache:
        cache.move_to_end(bundle_id)
        return LoadedBundle(bundle_id, cache[bundle_id])
    index = _load_index(bundle_id, ctx)
    if index is None:
        job = settle(ctx, ctx.jobs.get_job(bundle_id))
        if job is None:
            raise ToolError("NotFound", f"bundle {bundle_id} does not exist; nodelog___collect returns bundle ids")
        state = str(job.get("state", "collecting"))
        if state in ("failed", "indexed"):  # indexed without an index: it was removed
            raise ToolError(
                "NotFound",
                f"bundle {bundle_id} failed: {job.get('error') or 'no reason recorded'}"
                if state == "failed"
                else f"bundle {bundle_id} has no index any more; collect the node again",
                details={"state": state},
            )
        raise ToolError(
            "NotReady",
            f"bundle {bundle_id} is not indexed yet (state: {state}); poll nodelog___status",
            retryable=True,
            details={"state": state},
        )
    cache[bundle_id] = index
    while len(cache) > INDEX_CACHE_SIZE:
        cache.popitem(last=False)
    return LoadedBundle(bundle_id, index)


def resolve_bundle(args: dict[str, Any], ctx: ToolContext) -> LoadedBundle:
    """``bundleId`` if given, else the latest indexed bundle of ``instanceId`` (through the pointer)."""
    if args.get("bundleId"):
        return load_bundle(check_bundle_id(args["bundleId"]), ctx)
    if args.get("instanceId"):
        instance = check_node_id(args["instanceId"])
        latest = ctx.jobs.get_latest(instance)
        if latest is None:
            raise ToolError(
                "NotFound",
                f"no indexed bundle for {instance}; collect one with nodelog___collect and poll nodelog___status",
            )
        return load_bundle(latest, ctx)
    raise ToolError("InvalidArgument", "give bundleId (from nodelog___collect) or instanceId (its latest bundle)")


# ---------------------------------------------------------------- time


EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def parse_time(text: str) -> datetime:
    """An RFC 3339 / ISO 8601 timestamp (``Z`` or an offset; naive means UTC), in UTC.

    A time that UTC cannot hold (``0001-01-01T00:00:00+01:00`` is in year 0) is InvalidArgument."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ToolError("InvalidArgument", f"not an ISO 8601 time: {text[:40]!r} (e.g. 2025-03-06T18:10:00Z)") from None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ToolError(
            "InvalidArgument",
            f"time {text[:40]!r} is outside 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z once in UTC",
        ) from None


def shifted(moment: datetime, delta: timedelta) -> datetime:
    """``moment + delta``, held at the first or last representable time instead of overflowing."""
    try:
        return moment + delta
    except OverflowError:
        return LATEST if delta > timedelta(0) else EARLIEST


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"start": iso(self.start), "end": iso(self.end), "reason": self.reason}

    def overlaps(self, first: str | None, last: str | None) -> bool | None:
        """True/False for timed findings; None when the finding has no time (state at collection)."""
        if not first and not last:
            return None
        lo = parse_time(first or last or "")
        hi = parse_time(last or first or "")
        return lo <= self.end and hi >= self.start


def window_from_args(args: dict[str, Any], bundle: LoadedBundle) -> Window | None:
    """The time window asked for, anchored on the bundle's collection time (never wall-clock now).

    * ``since``/``until``: explicit bounds (a missing one is open-ended up to the collection time);
    * ``incidentTime`` [+ ``windowMinutes``, default 30]: that time plus and minus the minutes;
    * ``windowMinutes`` alone: the minutes before the bundle was collected;
    * nothing: no window (every finding).
    """
    since, until = args.get("since"), args.get("until")
    incident, minutes = args.get("incidentTime"), args.get("windowMinutes")
    anchor = bundle.collected_at
    if since or until:
        start = parse_time(since) if since else EARLIEST
        end = parse_time(until) if until else (anchor or LATEST)
        if start > end:
            raise ToolError("InvalidArgument", "since must be before until")
        return Window(start, end, "since/until as given")
    if incident:
        center = parse_time(incident)
        span = timedelta(minutes=minutes or 30)
        return Window(
            shifted(center, -span), shifted(center, span), f"incidentTime plus and minus {minutes or 30} minutes"
        )
    if minutes:
        if anchor is None:
            raise ToolError("InvalidArgument", "the bundle has no collection time; give incidentTime or since/until")
        return Window(shifted(anchor, -timedelta(minutes=minutes)), anchor, f"{minutes} minutes before collection")
    return None


# ---------------------------------------------------------------- paging


def query_key(*parts: Any) -> str:
    """A short digest binding a cursor to the exact query it continues."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def cursor_secret(ctx: ToolContext, bundle: LoadedBundle) -> bytes:
    """The key that signs cursors of ``bundle``: a digest of its whole stored index.

    No tool ever returns the whole index, so a caller cannot recompute it and forge or edit a cursor;
    re-indexing the bundle changes it, which retires cursors into content that may have moved.
    """
    memo = ctx.cache.setdefault("cursor-secrets", {})
    secret = memo.get(bundle.bundle_id)
    if secret is None:
        body = json.dumps(bundle.index, sort_keys=True, separators=(",", ":"), default=str).encode()
        secret = memo[bundle.bundle_id] = hashlib.sha256(b"eksdiag-cursor\x00" + body).digest()
        while len(memo) > INDEX_CACHE_SIZE:
            memo.pop(next(iter(memo)))
    return bytes(secret)


def _mac(secret: bytes, payload: bytes) -> str:
    digest = hmac.new(secret, payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def encode_cursor(key: str, position: dict[str, Any], secret: bytes) -> str:
    """An opaque, signed cursor: ``<base64 JSON>.<MAC>``; any edit makes :func:`decode_cursor` refuse it."""
    raw = json.dumps({"k": key, **position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") + "." + _mac(secret, raw)


def decode_cursor(cursor: str | None, key: str, secret: bytes) -> dict[str, Any] | None:
    """The position stored in ``cursor``; InvalidArgument if it was edited or belongs to another query."""
    if not cursor:
        return None
    body, _, mac = cursor.partition(".")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (ValueError, binascii.Error):
        raise ToolError("InvalidArgument", "cursor is not one this tool returned") from None
    if not mac or not hmac.compare_digest(mac, _mac(secret, raw)):
        raise ToolError("InvalidArgument", "cursor is not one this tool returned for this bundle; start without cursor")
    try:
        data = json.loads(raw)
    except ValueError:
        raise ToolError("InvalidArgument", "cursor is not one this tool returned") from None
    if not isinstance(data, dict) or data.get("k") != key:
        raise ToolError("InvalidArgument", "cursor belongs to a different query or bundle; start without cursor")
    return data


def cursor_int(position: dict[str, Any], name: str, low: int, high: int | None = None) -> int:
    """An integer field of a decoded cursor, within bounds (defence in depth behind the MAC)."""
    value = position.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        raise ToolError("InvalidArgument", "cursor is not one this tool returned; start without cursor")
    return value


# ---------------------------------------------------------------- findings


def brief(finding: dict[str, Any], evidence: int = 3) -> dict[str, Any]:
    """A finding as the tools return it (evidence trimmed to ``evidence`` lines)."""
    out = {
        "id": finding["id"],
        "rule": finding["rule"],
        "severity": finding["severity"],
        "severityReason": finding.get("severity_reason") or "",
        "remedy": finding.get("remedy") or "node",
        "category": finding["category"],
        "title": finding["title"],
        "file": finding["file"],
        "line": finding["line"],
        "count": finding["count"],
        "firstSeen": finding.get("first_seen"),
        "lastSeen": finding.get("last_seen"),
        "evidence": [
            {"line": int(e["line"]), "text": clip(str(e["text"]), 500)}
            for e in (finding.get("evidence") or [])[:evidence]
        ],
    }
    return out


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def runbooks_for(rule_ids: list[str]) -> dict[str, list[str]]:
    """Runbook ids per rule id, from the runbook library (empty when the library is not installed)."""
    try:
        from eksdiag.runbooks.library import runbooks_for_rules
    except ImportError:
        return {}
    return {rule: list(ids) for rule, ids in runbooks_for_rules(sorted(set(rule_ids))).items()}


def severity_counts(findings: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    return counts


def worst(severities: list[str]) -> str | None:
    return max(severities, key=lambda s: SEVERITY_RANK.get(s, -1)) if severities else None
