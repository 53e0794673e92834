"""history: recent collections, newest first, for one node or all; filters apply before the limit."""

from __future__ import annotations

from typing import Any

from eksdiag.tools import validate
from eksdiag.tools.base import ToolContext
from eksdiag.tools.nodelog._automation import finding_counts

NAME = "history"
GROUP = "nodelog"

#: With a state filter, look at up to this many recent jobs to fill the page (the reference sample
#: cut to MaxResults first and filtered afterwards: bug B23).
SCAN_LIMIT = 200


def job_summary(job: dict[str, Any]) -> dict[str, Any]:
    """A job record as the tools present it (camelCase, only what is known)."""
    item: dict[str, Any] = {
        "bundleId": job["bundle_id"],
        "instanceId": job.get("instance_id", ""),
        "state": job.get("state", "collecting"),
        "createdAt": job.get("created_at", ""),
    }
    for key, field in (
        ("executionId", "execution_id"),
        ("region", "region"),
        ("clusterName", "cluster"),
        ("batchId", "batch_id"),
    ):
        if job.get(field):
            item[key] = str(job[field])
    reason = job.get("error") or job.get("failure_reason")
    if item["state"] == "failed" and reason:
        item["failureReason"] = str(reason)[:1000]
    counts = finding_counts(job)
    if counts is not None:
        item["findingCounts"] = counts
    return item


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    instance_id = validate.node_id(args["instanceId"]) if args.get("instanceId") else None
    limit = validate.bounded_int(args.get("limit"), "limit", 1, 50, default=20)
    state = args.get("state")

    if state:
        scanned = ctx.jobs.list_jobs(instance_id, SCAN_LIMIT)
        matching = [job for job in scanned if job.get("state") == state]
        truncated = len(matching) > limit or len(scanned) >= SCAN_LIMIT
    else:
        scanned = ctx.jobs.list_jobs(instance_id, limit + 1)
        matching = scanned
        truncated = len(matching) > limit
    jobs = [job_summary(job) for job in matching[:limit]]
    if jobs:
        next_step = "Use a bundleId with nodelog___status, or with the findings tools once indexed."
    else:
        next_step = "No collections match. Start one with nodelog___collect."
    return {"jobs": jobs, "count": len(jobs), "truncated": truncated, "nextStep": next_step}
