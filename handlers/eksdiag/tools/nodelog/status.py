"""status: Automation progress plus indexing state of one collection, with a clear end."""

from __future__ import annotations

from typing import Any

from eksdiag.adapters.lifecycle import settle
from eksdiag.engine.redact_log import redaction_status
from eksdiag.tools import validate
from eksdiag.tools.base import ToolContext, ToolError, iso
from eksdiag.tools.nodelog._automation import (
    POLL_COLLECTING,
    automation_execution,
    collection_state,
    finding_counts,
    iso_or_none,
    progress,
)
from eksdiag.tools.nodelog._batch import BATCH_RECORD, child_executions
from eksdiag.tools.nodelog._nodes import require_aws

NAME = "status"
GROUP = "nodelog"


def _get_execution(ctx: ToolContext, region: str, execution_id: str) -> dict[str, Any]:
    execution = automation_execution(ctx, region, execution_id, f"no Automation execution {execution_id} in {region}")
    if execution.get("DocumentName") != ctx.settings.collect_document:
        raise ToolError("Forbidden", f"execution {execution_id} is not a collection started by this deployment")
    return execution


def _batch_child_id(ctx: ToolContext, job: dict[str, Any]) -> str | None:
    record = ctx.jobs.get_record(BATCH_RECORD, str(job["batch_id"]))
    if not record:
        return None
    meta = child_executions(ctx, record).get(str(job["instance_id"]))
    return str(meta["AutomationExecutionId"]) if meta else None


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    require_aws(ctx, NAME)
    bundle_id = validate.bundle_id(args["bundleId"]) if args.get("bundleId") else None
    execution_id = validate.execution_id(args["executionId"]) if args.get("executionId") else None
    if bundle_id is None and execution_id is None:
        raise ToolError("InvalidArgument", "give bundleId (from nodelog___collect) or executionId")
    region = validate.region(args.get("region"), ctx.settings)

    job: dict[str, Any] | None = None
    if bundle_id:
        job = settle(ctx, ctx.jobs.get_job(bundle_id))
        if job is None:
            raise ToolError("NotFound", f"no collection with bundleId {bundle_id}")
        region = str(job.get("region") or region)
        job_execution = job.get("execution_id")
        if not job_execution and job.get("batch_id"):
            job_execution = _batch_child_id(ctx, job)
        if execution_id and job_execution and execution_id != job_execution:
            raise ToolError("InvalidArgument", f"executionId {execution_id} does not belong to bundleId {bundle_id}")
        given_execution = execution_id
        execution_id = str(job_execution) if job_execution else given_execution

    execution = _get_execution(ctx, region, execution_id) if execution_id else None
    unbound = bundle_id and execution is not None and not (job or {}).get("execution_id")
    if unbound and bundle_id not in (((execution or {}).get("Parameters") or {}).get("BundleId") or []):
        raise ToolError("InvalidArgument", f"executionId {execution_id} does not belong to bundleId {bundle_id}")
    if job is None and execution is not None:
        ids = (execution.get("Parameters") or {}).get("BundleId") or []
        if ids:
            try:
                job = ctx.jobs.get_job(validate.bundle_id(ids[0]))
            except ToolError:
                job = None

    now = ctx.now()
    state = collection_state(execution, job, now)
    if job is not None and state["done"] and state["state"] != "indexed" and job.get("state") != "failed":
        ctx.jobs.update_job(
            str(job["bundle_id"]),
            state="failed",
            failure_reason=state.get("failureReason", ""),
            updated_at=iso(now),
        )

    result: dict[str, Any] = {
        "automationStatus": str((execution or {}).get("AutomationExecutionStatus", "Pending")),
        "state": state["state"],
        "done": state["done"],
        "progress": progress(execution) if execution else {"stepsDone": 0, "stepsTotal": 0, "percent": 0},
        "indexed": state["indexed"],
    }
    if execution_id:
        result["executionId"] = execution_id
    if job is not None:
        result["bundleId"] = job["bundle_id"]
        result["instanceId"] = job["instance_id"]
    elif execution is not None:
        iids = (execution.get("Parameters") or {}).get("InstanceId") or []
        if iids:
            result["instanceId"] = str(iids[0])
    if "failureReason" in state:
        result["failureReason"] = state["failureReason"]
    counts = finding_counts(job)
    if counts is not None:
        result["findingCounts"] = counts
    redactions = redaction_status(job)
    if redactions is not None:
        result["redactions"] = redactions
    for key, field in (("startedAt", "ExecutionStartTime"), ("endedAt", "ExecutionEndTime")):
        stamp = iso_or_none((execution or {}).get(field))
        if stamp:
            result[key] = stamp
    if not state["done"]:
        result["pollAfterSeconds"] = state.get("pollAfterSeconds", POLL_COLLECTING)
    result["nextStep"] = _next_step(result)
    return result


def _next_step(result: dict[str, Any]) -> str:
    bid = result.get("bundleId", "")
    if result["state"] == "indexed":
        return f"Bundle {bid} is indexed: call findings___errors with bundleId {bid}."
    if result["done"]:
        return "The collection ended without an index; see failureReason. Start a new nodelog___collect."
    if result["state"] == "indexing":
        return f"The node's bundle is uploaded and being indexed; poll again in {result['pollAfterSeconds']} s."
    return f"Still collecting on the node; poll again in {result['pollAfterSeconds']} s."
