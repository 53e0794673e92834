"""Index one uploaded bundle into a store and record the outcome in the job store.

Shared by the indexer Lambda (S3 stream) and the local server's ``collect`` (a file in the bundles
folder). Idempotent: indexing the same bundle id again rewrites the same index with the same finding
ids (they are derived from the bundle id, rule and file) and leaves the latest pointer consistent.
"""

from __future__ import annotations

import os
from typing import Any, BinaryIO

from eksdiag.tools.base import ToolContext, ToolError, iso

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO")


class IndexingFailed(Exception):
    """The archive could not be indexed at all; the job is marked failed with this reason."""


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


def _ensure_job(ctx: ToolContext, bundle_id: str, instance_id: str, source: str) -> dict[str, Any]:
    job = ctx.jobs.get_job(bundle_id)
    if job is not None:
        return job
    now = iso(ctx.now())
    job = {
        "bundle_id": bundle_id,
        "instance_id": instance_id,
        "state": "uploaded",
        "created_at": now,
        "updated_at": now,
        "source": source,
    }
    try:
        ctx.jobs.create_job(job)
    except ToolError as err:
        if err.code != "Conflict":
            raise
        return ctx.jobs.get_job(bundle_id) or job
    return job


def ingest(
    ctx: ToolContext,
    source: str | os.PathLike[str] | BinaryIO,
    *,
    bundle_id: str,
    instance_id: str,
    name: str | None = None,
    origin: str = "upload",
    redact: bool = True,
) -> dict[str, Any]:
    """Index ``source`` as ``bundle_id`` of ``instance_id``: extract its files into the store, save the
    index, mark the job ``indexed`` (with counts) and move the node's latest pointer forward.

    ``redact=False`` (``eksdiag serve --no-redact``, local only) stores and indexes the bundle unredacted;
    the indexer Lambda never passes it.
    A source that is not a readable bundle marks the job ``failed`` with the reason and raises
    :class:`IndexingFailed`. Other exceptions (storage faults) mark it failed too and propagate.
    """
    from eksdiag.engine.indexer import BundleError, index_bundle

    _ensure_job(ctx, bundle_id, instance_id, origin)
    ctx.jobs.update_job(bundle_id, state="indexing", updated_at=iso(ctx.now()))
    sink = ctx.store.file_sink(bundle_id)
    try:
        try:
            index = index_bundle(source, bundle_id=bundle_id, name=name, sink=sink, redact=redact).to_dict()
        finally:
            sink.wait()  # the S3 sink uploads in the background
    except (BundleError, EOFError, ValueError) as exc:
        reason = f"not a readable bundle: {exc}"[:500]
        ctx.jobs.update_job(bundle_id, state="failed", error=reason, updated_at=iso(ctx.now()))
        raise IndexingFailed(reason) from exc
    except Exception as exc:
        ctx.jobs.update_job(
            bundle_id,
            state="failed",
            error=f"indexing error: {type(exc).__name__}: {exc}"[:500],
            updated_at=iso(ctx.now()),
        )
        raise
    if not index.get("files"):
        reason = "not a readable bundle: the archive holds no files" + (
            f" ({'; '.join(index['bundle']['problems'][:3])})" if index.get("bundle", {}).get("problems") else ""
        )
        ctx.jobs.update_job(bundle_id, state="failed", error=reason[:500], updated_at=iso(ctx.now()))
        raise IndexingFailed(reason)
    ctx.store.save_index(bundle_id, index)
    meta = index.get("bundle") or {}
    fields: dict[str, Any] = {
        "state": "indexed",
        "indexed_at": iso(ctx.now()),
        "updated_at": iso(ctx.now()),
        "counts": counts_of(index),
        "file_count": len(index.get("files") or []),
        "complete": bool(meta.get("complete", False)),
        "collected_at": meta.get("collected_at"),
        "redactions": redaction_counts(index),
    }
    if meta.get("instance_id") and meta["instance_id"] != instance_id:
        fields["warning"] = f"the bundle says it is from {meta['instance_id']}, uploaded for {instance_id}"
    ctx.jobs.update_job(bundle_id, **fields)
    latest = ctx.jobs.get_latest(instance_id)
    if latest is None or latest <= bundle_id:  # bundle ids start with their UTC time: never move backwards
        ctx.jobs.set_latest(instance_id, bundle_id)
    return {**(ctx.jobs.get_job(bundle_id) or {}), "index_findings": fields["counts"]["findings"]}
