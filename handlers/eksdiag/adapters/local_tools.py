"""Local versions of the tools that would call SSM in AWS (``eksdiag serve``): ``collect`` imports a
bundle archive from the bundles folder instead of running the collection Automation, and ``status``
reports that import. Same names, same schemas, same result shapes as the AWS tools.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
import uuid
from pathlib import Path
from typing import Any, BinaryIO

from eksdiag.adapters import CorruptIndex, lifecycle
from eksdiag.adapters.identity import KUBELET_CONFIGS, PS_FILE, content_identity, is_node_id, name_identity
from eksdiag.adapters.ingest import IndexingBusy, IndexingFailed, ingest
from eksdiag.adapters.local_store import LocalBundleStore
from eksdiag.engine.redact_log import redaction_status
from eksdiag.tools.base import ToolContext, ToolError, iso, new_bundle_id
from eksdiag.tools.registry import ToolRun
from eksdiag.tools.validate import bundle_id as check_bundle_id
from eksdiag.tools.validate import execution_id as check_execution_id
from eksdiag.tools.validate import node_id as check_node_id

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
#: Record kinds: file fingerprint -> bundle imported from it; (node, token) -> bundle; fingerprint ->
#: node id read from an archive whose name carries none.
IMPORTS, TOKENS, IDENTITIES = "imports", "tokens", "identities"
#: How long a collect waits for the same import running in another request before answering "indexing".
WAIT_FOR_IMPORT_SECONDS = 60.0
_POLL_SECONDS = 0.1
#: Between claiming an archive and creating its job a request takes microseconds; after this long
#: without a job, the claim is taken to be abandoned (its process died) and is superseded.
_CREATE_GRACE_SECONDS = 5.0
_IDENTITY_FILES = frozenset({"system/instance-id.txt", *KUBELET_CONFIGS, PS_FILE})


def _root_store(ctx: ToolContext) -> LocalBundleStore:
    store = ctx.store
    if not isinstance(store, LocalBundleStore):
        raise ToolError("Upstream", "local collect needs the local bundle store")
    return store


def _root(ctx: ToolContext) -> Path:
    return _root_store(ctx).root


def bundle_candidates(root: Path) -> list[Path]:
    """Archives (``*.tar.gz``, ``*.tgz``) and extracted bundle folders directly in ``root``.

    Links are never followed: a link placed in the folder is not a bundle of this folder."""
    out = []
    with os.scandir(root) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.startswith(".") or entry.is_symlink():
                continue
            archive = entry.is_file(follow_symlinks=False) and entry.name.endswith(ARCHIVE_SUFFIXES)
            if archive or (entry.is_dir(follow_symlinks=False) and _is_real_dir(Path(entry.path) / "system")):
                out.append(Path(entry.path))
    return out


def _is_real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except OSError:
        return False


def _fingerprint(path: Path) -> str:
    info = path.lstat()
    return hashlib.sha256(f"{path.resolve()}\x00{info.st_size}\x00{info.st_mtime_ns}".encode()).hexdigest()[:32]


def _open_source(path: Path) -> str | BinaryIO:
    """An archive opened without following a link (the name may have been swapped since it was
    listed); a folder by its path (the walker follows no link inside it)."""
    if _is_real_dir(path):
        return str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise ToolError("NotFound", f"bundle {path.name} can no longer be read ({exc.strerror})") from None
    return os.fdopen(fd, "rb")


def peek_identity(path: Path) -> str | None:
    """The node id written inside a bundle (instance-id file, kubelet provider id, kubelet flags),
    read without indexing: only the few small files that can name the node are kept."""
    from eksdiag.engine.reader import BundleError, Limits, WalkReport, walk_bundle

    texts: dict[str, str] = {}
    source = _open_source(path)
    try:
        for member in walk_bundle(source, Limits(), WalkReport()):
            if member.path in _IDENTITY_FILES or member.path.startswith("kubelet/config.json.d/"):
                texts[member.path] = member.stream.read(1 << 20).decode("utf-8", "replace")
    except BundleError:
        return None
    finally:
        if not isinstance(source, str):
            source.close()
    raw_id = texts.get("system/instance-id.txt", "").strip()
    meta = {"instance_id": raw_id if is_node_id(raw_id) else None}
    files = [{"path": p} for p in texts]
    return content_identity({"bundle": meta, "files": files}, lambda p, n: texts.get(p, "")[:n])


def _identity(ctx: ToolContext, path: Path) -> str | None:
    """The node a bundle belongs to: the id in its name, else (``eks__…``) what its contents say."""
    from_name = name_identity(path.name)[1]
    if from_name:
        return from_name
    key = _fingerprint(path)
    record = ctx.jobs.get_record(IDENTITIES, key)
    if record is not None:
        return str(record.get("node_id") or "") or None
    found = peek_identity(path)
    ctx.jobs.put_record(IDENTITIES, key, {"node_id": found or "", "source": path.name})
    return found


def find_bundle_file(ctx: ToolContext, root: Path, instance_id: str) -> Path:
    """The newest archive or folder in ``root`` of ``instance_id`` (exact match): named
    ``eks_<instanceId>_<time>_<version>.tar.gz``, or unnamed (``eks__…``) and naming it inside."""
    owners = {path: _identity(ctx, path) for path in bundle_candidates(root)}
    matching = [path for path, node in owners.items() if node == instance_id]
    if not matching:
        raise ToolError(
            "NotFound",
            f"no bundle of {instance_id} in the bundles folder: put eks_{instance_id}_<time>_<version>.tar.gz there",
            details={"instancesWithBundles": sorted({node for node in owners.values() if node})[:50]},
        )
    return max(matching, key=lambda p: (p.lstat().st_mtime_ns, p.name))


def _collect_result(job: dict[str, Any], idempotent: bool) -> dict[str, Any]:
    state = str(job.get("state", "collecting"))
    bid = job["bundle_id"]
    if state == "indexed":
        next_step = f"Bundle indexed. Call findings___errors with bundleId {bid}."
    elif state == "failed":
        next_step = f"Import failed; call nodelog___status with bundleId {bid} for the reason."
    else:
        next_step = f"Another request is importing this bundle; poll nodelog___status with bundleId {bid}."
    done = state in ("indexed", "failed")
    result: dict[str, Any] = {
        "bundleId": bid,
        "instanceId": job["instance_id"],
        "region": str(job.get("region") or "local"),
        "state": state if state in ("collecting", "uploaded", "indexing", "indexed", "failed") else "failed",
        "idempotent": idempotent,
        "pollAfterSeconds": 0 if done else 2,
        "estimatedSeconds": 0,
        "nextStep": next_step,
    }
    if job.get("execution_id"):
        result["executionId"] = job["execution_id"]
    return result


def _wait_until_done(ctx: ToolContext, bundle_id: str) -> dict[str, Any] | None:
    """The job once it is finished, or as it stands after :data:`WAIT_FOR_IMPORT_SECONDS` (None when
    the request that claimed the import never created its job)."""
    started = time.monotonic()
    while True:
        job = lifecycle.settle(ctx, ctx.jobs.get_job(bundle_id))
        waited = time.monotonic() - started
        if job is None and waited > _CREATE_GRACE_SECONDS:
            return None
        if job is not None and (job.get("state") in ("indexed", "failed") or waited > WAIT_FOR_IMPORT_SECONDS):
            return job
        time.sleep(_POLL_SECONDS)


def _retry_wanted(job: dict[str, Any] | None) -> bool:
    """A job to import again instead of answering with: gone, or failed for a reason that may pass."""
    return job is None or (job.get("state") == "failed" and bool(job.get("retryable", True)))


def _import(ctx: ToolContext, source: Path, job: dict[str, Any], fingerprint: str, *, force: bool = False) -> None:
    opened = _open_source(source)
    named = name_identity(source.name)[1]
    try:
        ingest(
            ctx,
            opened,
            bundle_id=job["bundle_id"],
            instance_id=named,
            name=source.name,
            origin="local-import",
            redact=_root_store(ctx).redact,
            source_tag=fingerprint,
            force=force,
        )
    except IndexingFailed:
        pass  # the job is failed with the reason, which status reports
    finally:
        if not isinstance(opened, str):
            opened.close()


def _whole_or_repaired(ctx: ToolContext, job: dict[str, Any]) -> dict[str, Any]:
    """An indexed job whose index is damaged is re-imported into the same bundle (same finding ids)."""
    if job.get("state") != "indexed":
        return job
    try:
        ctx.store.load_index(job["bundle_id"])
    except CorruptIndex:
        repair_index(ctx, job["bundle_id"])
    return ctx.jobs.get_job(job["bundle_id"]) or job


def repair_index(ctx: ToolContext, bundle_id: str) -> bool:
    """Rebuild a damaged index from the archive it was imported from, if that archive is unchanged."""
    job = ctx.jobs.get_job(bundle_id)
    fingerprint = str((job or {}).get("source_tag") or "")
    if job is None or not fingerprint:
        return False
    source = next((p for p in bundle_candidates(_root(ctx)) if _fingerprint(p) == fingerprint), None)
    if source is None:
        return False
    try:
        _import(ctx, source, job, fingerprint, force=True)
    except IndexingBusy:
        raise ToolError("NotReady", f"bundle {bundle_id} is being rebuilt; retry shortly", retryable=True) from None
    ctx.cache.get("indexes", {}).pop(bundle_id, None)
    return (ctx.jobs.get_job(bundle_id) or {}).get("state") == "indexed"


def local_collect(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """Import ``<bundles>/eks_<instanceId>_*.tar.gz`` (newest) as a new bundle, indexed at once.

    One import per archive (and per idempotency token) however many requests race: the first claims
    the archive's record, the others wait for its end and answer with the same bundle."""
    instance = check_node_id(args["instanceId"])
    token = args.get("idempotencyToken")
    token_key = hashlib.sha256(f"{instance}\x00{token}".encode()).hexdigest()[:32] if token else None
    if token_key:
        record = ctx.jobs.get_record(TOKENS, token_key)
        job = _wait_until_done(ctx, str(record["bundle_id"])) if record else None
        if record and not _retry_wanted(job):
            return _collect_result(_whole_or_repaired(ctx, job or {}), idempotent=True)
    source = find_bundle_file(ctx, _root(ctx), instance)
    fingerprint = _fingerprint(source)
    now = ctx.now()
    bundle_id = new_bundle_id(now)
    superseded: str | None = None
    for _ in range(5):
        owner = ctx.jobs.claim_record(
            IMPORTS, fingerprint, {"bundle_id": bundle_id, "source": source.name}, supersede=superseded
        )
        if owner.get("bundle_id") == bundle_id:
            break
        job = _wait_until_done(ctx, str(owner.get("bundle_id")))
        if not _retry_wanted(job):
            if token_key:
                ctx.jobs.claim_record(TOKENS, token_key, {"bundle_id": str(owner["bundle_id"])})
            return _collect_result(_whole_or_repaired(ctx, job or {}), idempotent=True)
        superseded = str(owner.get("bundle_id"))
    else:
        raise ToolError("Conflict", "the archive is being imported by other requests; retry", retryable=True)
    if token_key:
        ctx.jobs.put_record(TOKENS, token_key, {"bundle_id": bundle_id})
    job = {
        "bundle_id": bundle_id,
        "instance_id": instance,
        "region": args.get("region") or "local",
        "execution_id": str(uuid.uuid4()),
        "upload_key": f"local:{source.name}",
        "state": "uploaded",
        "created_at": iso(now),
        "updated_at": iso(now),
        "deadline": iso(now + lifecycle.INDEX_DEADLINE),
        "source": "local-import",
        "source_tag": fingerprint,
    }
    ctx.jobs.create_job(job)
    _import(ctx, source, job, fingerprint)
    index_region = None
    try:
        index_region = ((ctx.store.load_index(bundle_id) or {}).get("bundle") or {}).get("region")
    except CorruptIndex:
        index_region = None
    if index_region and not args.get("region"):
        ctx.jobs.update_job(bundle_id, region=index_region)
    return _collect_result(ctx.jobs.get_job(bundle_id) or job, idempotent=False)


def _job_by_execution(ctx: ToolContext, execution_id: str) -> dict[str, Any] | None:
    return next((j for j in ctx.jobs.list_jobs(None, 1000) if j.get("execution_id") == execution_id), None)


def local_status(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """The state of a local import (there is no Automation: it finished when collect returned)."""
    if args.get("bundleId"):
        job = ctx.jobs.get_job(check_bundle_id(args["bundleId"]))
    else:
        job = _job_by_execution(ctx, check_execution_id(args["executionId"]))
    job = lifecycle.settle(ctx, job)
    if job is not None and job.get("state") == "indexed" and not ctx.store.index_looks_whole(job["bundle_id"]):  # type: ignore[attr-defined]
        job = {
            **job,
            "state": "failed",
            "error": "the stored index is damaged; nodelog___collect re-imports it (the findings tools rebuild it)",
        }
    if job is None:
        raise ToolError("NotFound", "no such collection; nodelog___collect returns the bundleId to poll")
    state = str(job.get("state", "collecting"))
    state = {"uploaded": "indexing"}.get(state, state)
    indexed = state == "indexed"
    done = state in ("indexed", "failed")
    result: dict[str, Any] = {
        "bundleId": job["bundle_id"],
        "executionId": job.get("execution_id") or str(uuid.UUID(int=0)),
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
    if is_node_id(job.get("instance_id")):
        result["instanceId"] = job["instance_id"]
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
