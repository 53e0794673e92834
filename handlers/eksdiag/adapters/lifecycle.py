"""Job ownership and deadlines: every job ends, the same way on both stores.

A job that is being worked on (``collecting``, ``uploaded``, ``indexing``) has a ``deadline``; an
``indexing`` job also has an ``owner`` (a local store instance, whose process can be asked whether it
still runs, or one Lambda invocation, which cannot, so its deadline is the Lambda's own end plus a
grace period). Moves between states are compare-and-set transitions on the values the mover read,
so two workers never both win (:func:`claim_indexing`).

:func:`settle` is what every reader calls: a job past its deadline, or whose owner died, becomes
``failed`` with the reason, and its partial files are removed. A job record that was damaged is
rebuilt from its index when the index survived. :func:`recover` does the same for every job of a
local folder when the server starts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eksdiag.adapters import ACTIVE_STATES, CorruptIndex
from eksdiag.tools.base import ToolContext, iso, parse_iso

LOG = logging.getLogger("eksdiag.jobs")

#: How long an indexing may take when nothing else says (local imports; Lambda uses its own timeout).
INDEX_DEADLINE = timedelta(minutes=30)
#: Added to an owner's deadline before a reader takes the job away (clocks differ a little).
GRACE = timedelta(seconds=60)
#: A collection that never reports back (Automation lost, upload never made) ends after this.
COLLECT_DEADLINE = timedelta(hours=2)
#: Indexing attempts of one bundle (a killed attempt counts); then the job fails for good.
MAX_INDEX_ATTEMPTS = 2


def deadline_of(job: dict[str, Any]) -> datetime | None:
    """When a job that is being worked on must be done (None for finished jobs)."""
    state = job.get("state")
    if state not in ACTIVE_STATES:
        return None
    explicit = parse_iso(job.get("deadline"))
    if explicit is not None:
        return explicit
    # jobs written before deadlines existed: from their last update
    since = parse_iso(job.get("updated_at")) or parse_iso(job.get("created_at"))
    if since is None:
        return None
    return since + (COLLECT_DEADLINE if state == "collecting" else INDEX_DEADLINE)


def overdue_reason(ctx: ToolContext, job: dict[str, Any]) -> str | None:
    """Why an unfinished job can no longer finish, or None while it still can."""
    state = str(job.get("state"))
    if state not in ACTIVE_STATES:
        return None
    now = ctx.now()
    if state == "indexing":
        owner = job.get("owner")
        if owner and not ctx.jobs.owner_alive(str(owner)):
            return "the indexing process stopped before it finished (killed or crashed); collect again to retry"
    deadline = deadline_of(job)
    if deadline is not None and now > deadline + GRACE:
        if state == "indexing":
            return (
                f"indexing did not finish by its deadline {iso(deadline)} (the indexer was stopped: timed out, "
                "out of memory or killed); collect again to retry"
            )
        if state == "uploaded":
            return f"the upload was never indexed (deadline {iso(deadline)}); collect again to retry"
        return f"the collection did not report back by {iso(deadline)}; collect again to retry"
    return None


def _finished_fields(ctx: ToolContext, state: str, **fields: Any) -> dict[str, Any]:
    return {"state": state, "owner": None, "deadline": None, "updated_at": iso(ctx.now()), **fields}


def remove_partial_files(ctx: ToolContext, bundle_id: str) -> None:
    """Delete what a failed indexing left (a role that may not delete leaves them: logged)."""
    try:
        ctx.store.delete_bundle(bundle_id)
    except PermissionError as exc:
        LOG.warning("partial files of %s not removed: %s", bundle_id, exc)


def fail(ctx: ToolContext, job: dict[str, Any], reason: str, *, retryable: bool = True) -> dict[str, Any]:
    """Move ``job`` to ``failed`` with ``reason`` if nobody moved it meanwhile; remove its partial files.

    Returns the job as it stands afterwards (as it would stand, where this role may not write)."""
    bid = str(job["bundle_id"])
    expect = {"state": job.get("state"), "owner": job.get("owner")}
    fields = _finished_fields(ctx, "failed", error=reason[:1000], retryable=retryable)
    try:
        moved = ctx.jobs.transition(bid, expect, fields)
    except PermissionError:
        return {**job, **{k: v for k, v in fields.items() if v is not None}}
    if moved:
        LOG.warning("job %s failed: %s", bid, reason)
        remove_partial_files(ctx, bid)
    return ctx.jobs.get_job(bid) or {**job, **fields}


def _rebuild_damaged(ctx: ToolContext, job: dict[str, Any]) -> dict[str, Any]:
    """A damaged job record: rewritten as ``indexed`` from the bundle's index when that is whole,
    else as ``failed`` (its partial files removed)."""
    from eksdiag.adapters.ingest import job_fields_from_index

    bid = str(job["bundle_id"])
    try:
        index = ctx.store.load_index(bid)
    except CorruptIndex:
        index = None
    meta = (index or {}).get("bundle") or {}
    instance = meta.get("node_id") or meta.get("instance_id")
    if index is not None and instance:
        fields = {
            **_finished_fields(ctx, "indexed", instance_id=instance, error=None, retryable=None),
            **job_fields_from_index(ctx, index),
        }
    else:
        fields = _finished_fields(ctx, "failed", instance_id=instance or "", error=job.get("error"), retryable=True)
    try:
        ctx.jobs.transition(bid, {}, {**fields, "bundle_id": bid, "corrupt": None})
    except PermissionError:
        return job
    if fields["state"] == "failed":
        remove_partial_files(ctx, bid)
    return ctx.jobs.get_job(bid) or job


def settle(ctx: ToolContext, job: dict[str, Any] | None) -> dict[str, Any] | None:
    """The job as it really stands: one that can no longer finish is failed now (see module doc)."""
    if job is None:
        return None
    if job.get("corrupt"):
        return _rebuild_damaged(ctx, job)
    reason = overdue_reason(ctx, job)
    if reason is None:
        return job
    return fail(ctx, job, reason)


@dataclass(frozen=True)
class Claim:
    """The answer of :func:`claim_indexing`.

    ``outcome``: ``claimed`` (the caller owns the indexing now), ``busy`` (a live owner is at it),
    ``done`` (already indexed from this very source), ``exhausted`` (failed for good after
    :data:`MAX_INDEX_ATTEMPTS`)."""

    outcome: str
    job: dict[str, Any]
    owner: str | None = None
    deadline: datetime | None = None


def claim_indexing(
    ctx: ToolContext,
    bundle_id: str,
    *,
    owner: str | None = None,
    deadline: datetime | None = None,
    source_tag: str | None = None,
    force: bool = False,
) -> Claim:
    """Become the one owner of ``bundle_id``'s indexing, until ``deadline`` (default: now plus
    :data:`INDEX_DEADLINE`). ``source_tag`` names what is indexed (an ETag, a file fingerprint): the
    same source already indexed is ``done`` unless ``force`` (an index to rebuild)."""
    owner = owner or ctx.jobs.new_owner()
    deadline = deadline or ctx.now() + INDEX_DEADLINE
    for _ in range(8):
        job = ctx.jobs.get_job(bundle_id)
        if job is None:
            raise LookupError(f"job {bundle_id} does not exist")
        state = job.get("state")
        if job.get("corrupt"):
            job = _rebuild_damaged(ctx, job)
            state = job.get("state")
        if state == "indexing" and overdue_reason(ctx, job) is None:
            return Claim("busy", job)
        same_source = not force and source_tag and job.get("source_tag") == source_tag
        if same_source and (state == "indexed" or (state == "failed" and not job.get("retryable"))):
            return Claim("done", job)
        attempts = int(job.get("attempts") or 0) if state == "indexing" else 0
        if state == "indexing" and attempts >= MAX_INDEX_ATTEMPTS:
            reason = (
                f"indexing was stopped {attempts} times before it finished (timed out, out of memory or killed); "
                "the bundle may be too large for the indexer's timeout or memory"
            )
            return Claim("exhausted", fail(ctx, job, reason, retryable=False))
        expect = {"state": state, "owner": job.get("owner"), "attempts": job.get("attempts")}
        fields = {
            "state": "indexing",
            "owner": owner,
            "deadline": iso(deadline),
            "attempts": attempts + 1,
            "indexing_started_at": iso(ctx.now()),
            "updated_at": iso(ctx.now()),
            "error": None,
            "failure_reason": None,
            "retryable": None,
        }
        if source_tag:
            fields["source_tag"] = source_tag
        if ctx.jobs.transition(bundle_id, expect, fields):
            return Claim("claimed", {**job, **{k: v for k, v in fields.items() if v is not None}}, owner, deadline)
    return Claim("busy", ctx.jobs.get_job(bundle_id) or {"bundle_id": bundle_id})


def finish(ctx: ToolContext, claim: Claim, **fields: Any) -> bool:
    """Record the end of a claimed indexing (``state`` among ``fields``) if the claim still holds."""
    bid = str(claim.job["bundle_id"])
    done = _finished_fields(ctx, str(fields.pop("state")), **fields)
    moved = bool(ctx.jobs.transition(bid, {"state": "indexing", "owner": claim.owner}, done))
    if not moved:
        LOG.warning("job %s was taken over before its indexing ended; this result is dropped", bid)
    return moved


def recover(ctx: ToolContext, limit: int = 100_000) -> list[str]:
    """Settle every unfinished job of a local folder (at server start): returns the ids that failed."""
    ended: list[str] = []
    jobs = ctx.jobs
    getattr(jobs, "dead_owners", list)()  # the local store forgets owners whose process is gone
    damaged: list[dict[str, Any]] = getattr(jobs, "damaged_jobs", list)()
    for job in [*damaged, *jobs.list_jobs(None, limit)]:
        if job.get("corrupt") or job.get("state") in ACTIVE_STATES:
            settled = settle(ctx, job)
            if settled is not None and settled.get("state") == "failed":
                ended.append(str(job["bundle_id"]))
    return ended
