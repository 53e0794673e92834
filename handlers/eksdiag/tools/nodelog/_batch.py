"""Batches: one rate-controlled Automation (TargetMaps) whose child executions collect one node each.

The batch record (JobStore kind ``batch``) holds the parent execution id and, per node, the bundle id
we chose. SSM names the children; we learn which child serves which node from the child's own
``InstanceId`` parameter (reading ``EKSInstanceId`` here was the reference sample's bug B9) and keep
that mapping in the record and in each job, so later polls cost one DescribeAutomationExecutions.
"""

from __future__ import annotations

from typing import Any

from eksdiag.tools.base import ToolContext, iso

BATCH_RECORD = "batch"
MAX_CHILD_PAGES = 20


def child_executions(ctx: ToolContext, record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{instance_id: child execution metadata}`` for the batch's children SSM has started so far."""
    region = str(record["region"])
    parent = str(record["execution_id"])
    ssm = ctx.aws("ssm", region)
    known: dict[str, str] = dict(record.get("children") or {})  # child execution id -> instance id
    bundles = {str(n["instance_id"]): str(n["bundle_id"]) for n in record.get("nodes", [])}
    children: dict[str, dict[str, Any]] = {}
    learned = False
    kwargs: dict[str, Any] = {"Filters": [{"Key": "ParentExecutionId", "Values": [parent]}], "MaxResults": 50}
    for _ in range(MAX_CHILD_PAGES):
        page = ssm.describe_automation_executions(**kwargs)
        for meta in page.get("AutomationExecutionMetadataList", []):
            child_id = str(meta.get("AutomationExecutionId", ""))
            if not child_id or child_id == parent:
                continue
            instance_id = known.get(child_id)
            if instance_id is None:
                detail = ssm.get_automation_execution(AutomationExecutionId=child_id)["AutomationExecution"]
                values = (detail.get("Parameters") or {}).get("InstanceId") or []
                if not values:
                    continue
                instance_id = str(values[0])
                known[child_id] = instance_id
                learned = True
                if instance_id in bundles:
                    ctx.jobs.update_job(bundles[instance_id], execution_id=child_id, updated_at=iso(ctx.now()))
            if instance_id in bundles:
                children[instance_id] = meta
        token = page.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    if learned:
        ctx.jobs.put_record(BATCH_RECORD, str(record["batch_id"]), {**record, "children": known})
    return children
