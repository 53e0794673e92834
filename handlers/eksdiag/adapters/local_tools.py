"""Local versions of the tools that would call SSM in AWS (``eksdiag serve``): ``collect`` imports a
bundle archive from the bundles folder instead of running the collection Automation, and ``status``
reports that import. Same names, same schemas, same result shapes as the AWS tools.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import uuid
from pathlib import Path
from typing import Any

from eksdiag.adapters.ingest import IndexingFailed, ingest
from eksdiag.adapters.local_store import LocalBundleStore
from eksdiag.engine.redact_log import redaction_status
from eksdiag.tools.base import ToolContext, ToolError, iso, new_bundle_id
from eksdiag.tools.registry import ToolRun
from eksdiag.tools.validate import bundle_id as check_bundle_id
from eksdiag.tools.validate import execution_id as check_execution_id
from eksdiag.tools.validate import instance_id as check_instance_id

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
_INSTANCE_IN_NAME = re.compile(r"i-[0-9a-f]{17}|i-[0-9a-f]{8}(?![0-9a-f])")


def _root_store(ctx: ToolContext) -> LocalBundleStore:
    store = ctx.store
    if not isinstance(store, LocalBundleStore):
        raise ToolError("Upstream", "local collect needs the local bundle store")
    return store


def _root(ctx: ToolContext) -> Path:
    return _root_store(ctx).root


def bundle_candidates(root: Path) -> list[Path]:
    """Archives (``*.tar.gz``, ``*.tgz``) and extracted bundle folders directly in ``root``."""
    out = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if (entry.is_file() and entry.name.endswith(ARCHIVE_SUFFIXES)) or (
            entry.is_dir() and (entry / "system").is_dir()
        ):
            out.append(entry)
    return out


def find_bundle_file(root: Path, instance_id: str) -> Path:
    """The newest archive or folder in ``root`` whose name contains ``instance_id``
    (the collector names them ``eks_<instanceId>_<time>_<version>.tar.gz``)."""
    matching = [p for p in bundle_candidates(root) if instance_id in p.name]
    if not matching:
        seen = sorted({m for p in bundle_candidates(root) for m in _INSTANCE_IN_NAME.findall(p.name)})
        raise ToolError(
            "NotFound",
            f"no bundle for {instance_id} in {root}: put eks_{instance_id}_<time>_<version>.tar.gz there",
            details={"instancesWithBundles": seen},
        )
    return max(matching, key=lambda p: (p.stat().st_mtime_ns, p.name))


def _fingerprint(path: Path) -> str:
    stat = path.stat()
    return hashlib.sha256(f"{path.resolve()}\x00{stat.st_size}\x00{stat.st_mtime_ns}".encode()).hexdigest()[:32]


def _collect_result(job: dict[str, Any], idempotent: bool) -> dict[str, Any]:
    state = str(job.get("state", "collecting"))
    bid = job["bundle_id"]
    next_step = (
        f"Bundle indexed. Call findings___errors with bundleId {bid}."
        if state == "indexed"
        else f"Import failed; call nodelog___status with bundleId {bid} for the reason."
    )
    result: dict[str, Any] = {
        "bundleId": bid,
        "instanceId": job["instance_id"],
        "region": str(job.get("region") or "local"),
        "state": state if state in ("collecting", "uploaded", "indexing", "indexed", "failed") else "failed",
        "idempotent": idempotent,
        "pollAfterSeconds": 0,
        "estimatedSeconds": 0,
        "nextStep": next_step,
    }
    if job.get("execution_id"):
        result["executionId"] = job["execution_id"]
    return result


def local_collect(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """Import ``<bundles>/eks_<instanceId>_*.tar.gz`` (newest) as a new bundle, indexed at once."""
    instance = check_instance_id(args["instanceId"])
    source = find_bundle_file(_root(ctx), instance)
    fingerprint = _fingerprint(source)
    token = args.get("idempotencyToken")
    keys = [("imports", fingerprint)] + (
        [("tokens", hashlib.sha256(f"{instance}\x00{token}".encode()).hexdigest()[:32])] if token else []
    )
    for kind, key in keys:
        record = ctx.jobs.get_record(kind, key)
        job = ctx.jobs.get_job(record["bundle_id"]) if record else None
        if job is not None and job.get("state") in ("indexed", "failed"):
            return _collect_result(job, idempotent=True)
    now = ctx.now()
    bundle_id = new_bundle_id(now)
    job = {
        "bundle_id": bundle_id,
        "instance_id": instance,
        "region": args.get("region") or "local",
        "execution_id": str(uuid.uuid4()),
        "upload_key": f"local:{source.name}",
        "state": "collecting",
        "created_at": iso(now),
        "updated_at": iso(now),
        "source": "local-import",
    }
    ctx.jobs.create_job(job)
    for kind, key in keys:
        ctx.jobs.put_record(kind, key, {"bundle_id": bundle_id, "source": source.name})
    # a failed import leaves the job "failed" with the reason, which status reports
    with contextlib.suppress(IndexingFailed):
        ingest(
            ctx,
            source,
            bundle_id=bundle_id,
            instance_id=instance,
            name=source.name,
            origin="local-import",
            redact=_root_store(ctx).redact,
        )
    index = ctx.store.load_index(bundle_id) or {}
    region = (index.get("bundle") or {}).get("region")
    if region and not args.get("region"):
        ctx.jobs.update_job(bundle_id, region=region)
    return _collect_result(ctx.jobs.get_job(bundle_id) or job, idempotent=False)


def _job_by_execution(ctx: ToolContext, execution_id: str) -> dict[str, Any] | None:
    return next((j for j in ctx.jobs.list_jobs(None, 1000) if j.get("execution_id") == execution_id), None)


def local_status(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """The state of a local import (there is no Automation: it finished when collect returned)."""
    if args.get("bundleId"):
        job = ctx.jobs.get_job(check_bundle_id(args["bundleId"]))
    else:
        job = _job_by_execution(ctx, check_execution_id(args["executionId"]))
    if job is None:
        raise ToolError("NotFound", "no such collection; nodelog___collect returns the bundleId to poll")
    state = str(job.get("state", "collecting"))
    state = {"uploaded": "indexing"}.get(state, state)
    indexed = state == "indexed"
    done = state in ("indexed", "failed")
    result: dict[str, Any] = {
        "bundleId": job["bundle_id"],
        "executionId": job.get("execution_id") or str(uuid.UUID(int=0)),
        "instanceId": job["instance_id"],
        "automationStatus": "Success" if indexed else ("Failed" if state == "failed" else "InProgress"),
        "state": state,
        "done": done,
        "progress": {"stepsDone": 1 if done else 0, "stepsTotal": 1, "percent": 100 if done else 50},
        "indexed": indexed,
        "pollAfterSeconds": 0 if done else 2,
        "nextStep": (
            f"Call findings___errors with bundleId {job['bundle_id']}."
            if indexed
            else "The import failed; see failureReason."
            if state == "failed"
            else "Poll nodelog___status again."
        ),
    }
    if job.get("created_at"):
        result["startedAt"] = str(job["created_at"])
    if done and job.get("updated_at"):
        result["endedAt"] = str(job["updated_at"])
    if state == "failed":
        result["failureReason"] = str(job.get("error") or job.get("failure_reason") or "import failed")[:1000]
    counts = job.get("counts")
    if indexed and isinstance(counts, dict):
        result["findingCounts"] = {k: int(counts.get(k, 0)) for k in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO")}
    redactions = redaction_status(job)
    if indexed and redactions is not None:
        result["redactions"] = redactions
    return result


#: Tools whose local run differs from the AWS one (full name -> run).
LOCAL_OVERRIDES: dict[str, ToolRun] = {
    "nodelog___collect": local_collect,
    "nodelog___status": local_status,
}
