"""Index one uploaded bundle into a store and record the outcome in the job store.

Shared by the indexer Lambda (S3 stream) and the local server's ``collect`` (a file in the bundles
folder). One owner at a time: the job is claimed first (``lifecycle.claim_indexing``), so a
re-delivered event or a second ``collect`` never indexes the same bundle twice at once, and a worker
that was taken over (it overran its deadline) cannot overwrite the job. Idempotent: indexing the same
bundle id again rewrites the same index with the same finding ids (they are derived from the bundle
id, rule and file) and the latest pointer only moves forward.

The indexing stops by itself before its deadline: the files read so far are kept and the index says
``complete: false`` with the reason. A worker killed outright (out of memory, ``kill -9``) leaves a
job that :func:`eksdiag.adapters.lifecycle.settle` fails at its deadline, removing its partial files.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from eksdiag.adapters import lifecycle
from eksdiag.adapters.identity import content_identity
from eksdiag.tools.base import ToolContext, ToolError, iso

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO")
#: Time kept after the indexing stops to save the index and finish the uploads: a share of the time
#: budget, at least MIN_FINISH, at most half of the budget.
FINISH_SHARE = 0.2
MIN_FINISH = timedelta(seconds=5)


class IndexingFailed(Exception):
    """The archive could not be indexed at all; the job is marked failed with this reason."""


class IndexingBusy(Exception):
    """Another live worker owns this bundle's indexing; ``job`` is where it stands."""

    def __init__(self, job: dict[str, Any]) -> None:
        super().__init__(f"bundle {job.get('bundle_id')} is being indexed by another worker")
        self.job = job


def counts_of(index: dict[str, Any]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for finding in index.get("findings") or []:
        counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
    counts["findings"] = len(index.get("findings") or [])
    return counts


def redaction_counts(index: dict[str, Any]) -> dict[str, Any]:
    """What the job (and so nodelog___status) says about redaction: on or off, and how many secrets."""
    summary = index.get("redactions") or {}
    return {"enabled": bool(summary.get("enabled", False)), "count": int(summary.get("count") or 0)}


def job_fields_from_index(ctx: ToolContext, index: dict[str, Any]) -> dict[str, Any]:
    """What a job records about its index (for status and history)."""
    meta = index.get("bundle") or {}
    return {
        "indexed_at": iso(ctx.now()),
        "counts": counts_of(index),
        "file_count": len(index.get("files") or []),
        "complete": bool(meta.get("complete", False)),
        "collected_at": meta.get("collected_at"),
        "redactions": redaction_counts(index),
    }


def describe_exception(exc: BaseException) -> str:
    """A reason to store and show: the error's kind and message, never a file name or path."""
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc.strerror or 'I/O error'}"
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def _ensure_job(
    ctx: ToolContext, bundle_id: str, instance_id: str | None, source: str, deadline: datetime
) -> dict[str, Any]:
    job = ctx.jobs.get_job(bundle_id)
    if job is not None:
        return job
    now = iso(ctx.now())
    job = {
        "bundle_id": bundle_id,
        "instance_id": instance_id or "",
        "state": "uploaded",
        "created_at": now,
        "updated_at": now,
        "deadline": iso(deadline),
        "source": source,
    }
    try:
        ctx.jobs.create_job(job)
    except ToolError as err:
        if err.code != "Conflict":
            raise
        return ctx.jobs.get_job(bundle_id) or job
    return job


class IndexingTimeLimit(OSError):
    """Raised by the sink at the time limit. An I/O error for the engine: it stops the whole walk
    there (whatever member it is in, a rotated ``.gz`` log too) and keeps what was read."""


class _TimedWriter:
    """A sink file that stops the indexing once the clock passes ``stop_at``."""

    def __init__(self, inner: Any, stop_at: float, budget: float) -> None:
        self._inner = inner
        self._stop_at = stop_at
        self._budget = budget

    def _check(self) -> None:
        if time.monotonic() > self._stop_at:
            raise IndexingTimeLimit(
                f"stopped at the indexing time limit ({int(self._budget)} s); the rest of the bundle was not read"
            )

    def write(self, data: bytes) -> int:
        self._check()
        return int(self._inner.write(data))

    def close(self) -> None:
        self._inner.close()

    @property
    def closed(self) -> bool:
        return bool(getattr(self._inner, "closed", False))


class _TimedSink:
    def __init__(self, inner: Any, stop_at: float, budget: float) -> None:
        self._inner = inner
        self._stop_at = stop_at
        self._budget = budget

    def open(self, path: str) -> Any:
        return _TimedWriter(self._inner.open(path), self._stop_at, self._budget)

    def open_line_index(self, path: str) -> Any:
        """The line index of a large extracted file (engine/lineindex.py), stored beside it."""
        return _TimedWriter(self._inner.open_line_index(path), self._stop_at, self._budget)

    def wait(self) -> None:
        self._inner.wait()


def _read_text(ctx: ToolContext, bundle_id: str) -> Any:
    def read(path: str, limit: int) -> str | None:
        try:
            return ctx.store.read_range(bundle_id, path, 0, limit).decode("utf-8", "replace")
        except ToolError:
            return None

    return read


def ingest(
    ctx: ToolContext,
    source: str | os.PathLike[str] | BinaryIO,
    *,
    bundle_id: str,
    instance_id: str | None,
    name: str | None = None,
    origin: str = "upload",
    redact: bool = True,
    owner: str | None = None,
    deadline: datetime | None = None,
    source_tag: str | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Index ``source`` as ``bundle_id``: claim the job, extract the files into the store, save the
    index, mark the job ``indexed`` (with counts) and move the node's latest pointer forward.

    ``redact=False`` (``eksdiag serve --no-redact``, local only) stores and indexes the bundle
    unredacted; the indexer Lambda never passes it.
    ``instance_id`` None means "the bundle says": its identity comes from its contents (hybrid and
    IMDS-less ``eks__`` bundles). ``deadline`` (default now plus ``lifecycle.INDEX_DEADLINE``) is
    when the claim lapses; the indexing itself stops a little before it.

    Raises :class:`IndexingBusy` when another live worker owns the job, :class:`IndexingFailed`
    when the source is not a readable bundle (the job is failed with the reason); other exceptions
    (storage faults) fail the job too and propagate. Returns the job, with ``index_findings``.
    """
    from eksdiag.engine.indexer import BundleError, index_bundle

    deadline = deadline or ctx.now() + lifecycle.INDEX_DEADLINE
    _ensure_job(ctx, bundle_id, instance_id, origin, deadline)
    claim = lifecycle.claim_indexing(ctx, bundle_id, owner=owner, deadline=deadline, source_tag=source_tag, force=force)
    if claim.outcome == "busy":
        raise IndexingBusy(claim.job)
    if claim.outcome == "done":
        counts = claim.job.get("counts") or {}
        return {**claim.job, "index_findings": int(counts.get("findings", 0)), "duplicate": True}
    if claim.outcome == "exhausted":
        raise IndexingFailed(str(claim.job.get("error") or "indexing failed"))

    budget = max(0.0, (deadline - ctx.now()).total_seconds())
    reserve = min(max(MIN_FINISH.total_seconds(), FINISH_SHARE * budget), budget / 2)
    stop_after = budget - reserve
    sink = _TimedSink(ctx.store.file_sink(bundle_id), time.monotonic() + stop_after, stop_after)

    def failed(reason: str, retryable: bool) -> None:
        lifecycle.finish(ctx, claim, state="failed", error=reason[:500], retryable=retryable)
        lifecycle.remove_partial_files(ctx, bundle_id)

    try:
        try:
            index = index_bundle(source, bundle_id=bundle_id, name=name, sink=sink, redact=redact).to_dict()
        finally:
            sink.wait()  # the S3 sink uploads in the background
    except (BundleError, EOFError, ValueError) as exc:
        reason = f"not a readable bundle: {describe_exception(exc)}"
        failed(reason, retryable=False)
        raise IndexingFailed(reason) from exc
    except Exception as exc:
        failed(f"indexing error: {describe_exception(exc)}", retryable=True)
        raise
    if not index.get("files"):
        problems = (index.get("bundle") or {}).get("problems") or []
        reason = "not a readable bundle: the archive holds no files" + (
            f" ({'; '.join(problems[:3])})" if problems else ""
        )
        failed(reason, retryable=False)
        raise IndexingFailed(reason)

    meta = index.setdefault("bundle", {})
    node = instance_id or content_identity(index, _read_text(ctx, bundle_id))
    if node:
        meta["node_id"] = node
    ctx.store.save_index(bundle_id, index)
    fields: dict[str, Any] = {"state": "indexed", **job_fields_from_index(ctx, index)}
    if node and not instance_id:
        fields["instance_id"] = node
    if instance_id and meta.get("instance_id") and meta["instance_id"] != instance_id:
        fields["warning"] = f"the bundle says it is from {meta['instance_id']}, uploaded for {instance_id}"
    if not lifecycle.finish(ctx, claim, **fields):
        raise IndexingBusy(ctx.jobs.get_job(bundle_id) or claim.job)
    if node:
        ctx.jobs.advance_latest(node, bundle_id)  # type: ignore[attr-defined]
    return {**(ctx.jobs.get_job(bundle_id) or {}), "index_findings": fields["counts"]["findings"]}
