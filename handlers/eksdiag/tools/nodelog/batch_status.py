"""batch_status: per-node state of a batch from its child executions and jobs; it always finishes."""

from __future__ import annotations

import re
from typing import Any

from eksdiag.tools.base import ToolContext, ToolError, iso
from eksdiag.tools.nodelog._automation import POLL_COLLECTING, automation_execution, collection_state, is_terminal
from eksdiag.tools.nodelog._batch import BATCH_RECORD, child_executions
from eksdiag.tools.nodelog._nodes import require_aws

NAME = "batch_status"
GROUP = "nodelog"

BATCH_ID_PATTERN = r"^bt-[0-9]{14}-[0-9a-f]{8}$"
_BATCH_ID = re.compile(BATCH_ID_PATTERN)

_FAILED = ("failed", "timed_out", "cancelled", "not_started", "index_missing")


def batch_id(value: Any) -> str:
    if not isinstance(value, str) or not _BATCH_ID.fullmatch(value):
        raise ToolError("InvalidArgument", f"batchId must look like bt-20260101120000-1a2b3c4d, got {value!r:.80}")
    return value


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    require_aws(ctx, NAME)
    bid = batch_id(args.get("batchId"))
    record = ctx.jobs.get_record(BATCH_RECORD, bid)
    if not record:
        raise ToolError("NotFound", f"no batch {bid}")
    region = str(record["region"])
    parent_id = str(record["execution_id"])
    parent = automation_execution(
        ctx, region, parent_id, f"the Automation of batch {bid} ({parent_id}) no longer exists"
    )
    parent_done = is_terminal(parent)
    children = child_executions(ctx, record)
    now = ctx.now()

    nodes = []
    for member in record.get("nodes", []):
        iid, bundle = str(member["instance_id"]), str(member["bundle_id"])
        job = ctx.jobs.get_job(bundle)
        meta = children.get(iid)
        item: dict[str, Any] = {"instanceId": iid, "bundleId": bundle}
        if meta is None:
            if (job or {}).get("state") == "indexed":
                item.update(state="indexed", done=True)
            elif parent_done:
                item.update(
                    state="not_started",
                    done=True,
                    failureReason=(
                        "SSM never started a collection on this node: the batch stopped (parent "
                        f"status {parent.get('AutomationExecutionStatus', 'unknown')}, e.g. MaxErrors "
                        "reached or cancelled)"
                    ),
                )
            else:
                item.update(state="pending", done=False)
        else:
            item["executionId"] = str(meta.get("AutomationExecutionId", ""))
            item["automationStatus"] = str(meta.get("AutomationExecutionStatus", ""))
            state = collection_state(meta, job, now)
            item.update(state=state["state"], done=state["done"])
            if "failureReason" in state:
                item["failureReason"] = state["failureReason"]
            if job is not None and state["done"] and state["state"] != "indexed" and job.get("state") != "failed":
                ctx.jobs.update_job(
                    bundle, state="failed", failure_reason=state.get("failureReason", ""), updated_at=iso(now)
                )
        nodes.append(item)

    summary = {
        "total": len(nodes),
        "indexed": sum(1 for n in nodes if n["state"] == "indexed"),
        "succeeded": sum(1 for n in nodes if n["state"] in ("indexed", "indexing")),
        "failed": sum(1 for n in nodes if n["state"] in _FAILED and n["state"] != "not_started"),
        "running": sum(1 for n in nodes if not n["done"]),
        "notStarted": sum(1 for n in nodes if n["state"] == "not_started"),
    }
    all_complete = all(n["done"] for n in nodes)
    result: dict[str, Any] = {
        "batchId": bid,
        "executionId": parent_id,
        "parentStatus": str(parent.get("AutomationExecutionStatus", "")),
        "allComplete": all_complete,
        "summary": summary,
        "nodes": nodes,
    }
    if all_complete:
        result["nextStep"] = (
            f"Batch finished: {summary['indexed']} of {summary['total']} bundles indexed. Compare them with "
            "findings___compare_nodes, or read one with findings___errors."
        )
    else:
        result["pollAfterSeconds"] = POLL_COLLECTING
        result["nextStep"] = f"{summary['running']} node(s) still running; poll again in {POLL_COLLECTING} s."
    return result
