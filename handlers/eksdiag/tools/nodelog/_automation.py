"""SSM Automation: the collect document's parameters, execution states, progress and failure reasons.

Why the collect Automation gets ``BundleId`` and signs its own upload URL (not an ``UploadUrl``):
``StartAutomationExecution`` caps every parameter value at 512 characters and every ``TargetMaps``
value at 50 (the SSM API model: ``AutomationParameterValue`` max 512, ``TargetMapValue`` max 50).
A presigned S3 PUT with SSE-KMS signed in is ~450 characters with long-term keys and ~1,500 with
the session token every Lambda role carries, so it cannot travel as an Automation parameter, and
per-node URLs can never be templated into one rate-controlled execution. The document therefore
presigns ``uploads/{{InstanceId}}/{{BundleId}}.tar.gz`` (SSE-KMS) in an ``aws:executeScript`` step
under the Automation role and hands the URL to its ``aws:runCommand`` step (Command parameter
values have no such cap). The node still needs no S3 or KMS permission.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from eksdiag.capture import parameters
from eksdiag.tools.base import Settings, ToolContext, ToolError, iso, parse_iso

#: StartAutomationExecution limits (SSM API model); checked before calling so the error is ours.
MAX_PARAMETER_VALUE = 512
MAX_TARGET_MAP_VALUE = 50
MAX_TARGET_MAPS = 300

#: Statuses that end an execution successfully / unsuccessfully (the rest are still moving).
SUCCESS_STATUSES = frozenset({"Success", "CompletedWithSuccess"})
FAILURE_STATES: dict[str, str] = {
    "Failed": "failed",
    "CompletedWithFailure": "failed",
    "Exited": "failed",
    "TimedOut": "timed_out",
    "Cancelled": "cancelled",
    "Rejected": "cancelled",
    "ChangeCalendarOverrideRejected": "cancelled",
}
#: Step statuses that count as finished for progress.
_STEP_DONE = frozenset({"Success", "Failed", "TimedOut", "Cancelled", "Skipped"})

#: Poll hints (seconds) and the typical duration of a collection (collector run + upload + index).
POLL_COLLECTING = 20
POLL_INDEXING = 10
ESTIMATED_SECONDS = 240
#: After the Automation succeeded, how long the index may take to appear before we stop waiting.
INDEX_GRACE = timedelta(minutes=15)
#: A job with no Automation execution after this long never started (e.g. the start call failed).
START_GRACE = timedelta(minutes=10)
MAX_REASON = 1000


def collect_parameters(settings: Settings, instance_id: str, bundle_id: str) -> dict[str, list[str]]:
    """Parameters of the collect Automation for one node (the per-node ones are InstanceId, BundleId)."""
    params = {
        **common_collect_parameters(settings),
        "InstanceId": [instance_id],
        "BundleId": [bundle_id],
    }
    check_parameter_lengths(params)
    return params


def common_collect_parameters(settings: Settings) -> dict[str, list[str]]:
    """Parameters shared by every node of a collection (a batch passes these once)."""
    return {
        "Bucket": [settings.bucket],
        "KmsKeyId": [settings.kms_key_arn],
        "UploadExpiresSeconds": [
            str(parameters.upload_url_lifetime(settings.presign_put_seconds, parameters.COLLECT_UPLOAD_EXPIRES_SECONDS))
        ],
        "AutomationAssumeRole": [settings.automation_role_arn],
    }


def check_parameter_lengths(params: dict[str, list[str]], limit: int = MAX_PARAMETER_VALUE) -> None:
    """Raise ``ValueError`` for a value SSM would reject; a deployment fault, not the caller's."""
    for name, values in params.items():
        for value in values:
            if not value or len(value) > limit:
                raise ValueError(f"Automation parameter {name} must be 1-{limit} characters, got {len(value)}")


def automation_execution(ctx: ToolContext, region: str, execution_id: str, not_found: str) -> dict[str, Any]:
    """The ``AutomationExecution`` ``execution_id`` in ``region``; NotFound with ``not_found`` when SSM
    no longer has it."""
    try:
        response = ctx.aws("ssm", region).get_automation_execution(AutomationExecutionId=execution_id)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "AutomationExecutionNotFoundException":
            raise ToolError("NotFound", not_found) from None
        raise
    execution: dict[str, Any] = response["AutomationExecution"]
    return execution


def is_terminal(execution: dict[str, Any]) -> bool:
    """True when the execution will not change any more: a final status, or SSM recorded an end time."""
    status = str(execution.get("AutomationExecutionStatus", ""))
    return status in SUCCESS_STATUSES or status in FAILURE_STATES or bool(execution.get("ExecutionEndTime"))


def failure_reason(execution: dict[str, Any]) -> str:
    """The best explanation SSM gives: the execution's FailureMessage, else the first failed step's."""
    reason = str(execution.get("FailureMessage") or "")
    if not reason:
        for step in execution.get("StepExecutions") or []:
            if step.get("StepStatus") in ("Failed", "TimedOut", "Cancelled"):
                details = step.get("FailureDetails") or {}
                detail_text = details.get("Details")
                reason = str(
                    step.get("FailureMessage")
                    or (f"{details.get('FailureType', '')} {detail_text}".strip() if detail_text else "")
                    or f"step {step.get('StepName', '?')} {str(step.get('StepStatus', '')).lower()}"
                )
                break
    if not reason:
        reason = f"the Automation ended with status {execution.get('AutomationExecutionStatus', 'unknown')}"
    return reason[:MAX_REASON]


def progress(execution: dict[str, Any]) -> dict[str, Any]:
    """Steps done / known, the current step and a rough percentage (100 only when terminal)."""
    steps = execution.get("StepExecutions") or []
    done = sum(1 for step in steps if step.get("StepStatus") in _STEP_DONE)
    total = len(steps)
    terminal = is_terminal(execution)
    if terminal:
        percent = 100
    elif total:
        percent = min(95, int(100 * done / total))
    else:
        percent = 0
    out: dict[str, Any] = {"stepsDone": done, "stepsTotal": total, "percent": percent}
    current = execution.get("CurrentStepName")
    if not current and not terminal:
        current = next((s.get("StepName") for s in steps if s.get("StepStatus") == "InProgress"), None)
    if current and not terminal:
        out["currentStep"] = str(current)
    return out


def collection_state(execution: dict[str, Any] | None, job: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
    """One answer from the Automation and the job: ``{"state", "done", "indexed"[, "failureReason",
    "pollAfterSeconds"]}``.

    The job wins when it is final (indexed, or failed while indexing); a terminal Automation is final
    otherwise, except that a successful one waits for the indexer for :data:`INDEX_GRACE`, after which
    the answer is ``index_missing`` (done): an agent never polls forever.
    """
    job = job or {}
    job_state = str(job.get("state", ""))
    if job_state == "indexed":
        return {"state": "indexed", "done": True, "indexed": True}
    if job_state == "failed" and job.get("error"):
        return {
            "state": "failed",
            "done": True,
            "indexed": False,
            "failureReason": str(job["error"])[:MAX_REASON],
        }
    if execution is None:
        if job_state == "failed":
            reason = str(job.get("failure_reason") or "the collection failed")
            return {"state": "failed", "done": True, "indexed": False, "failureReason": reason[:MAX_REASON]}
        created = parse_iso(job.get("created_at"))
        if job_state not in ("uploaded", "indexing") and created and now - created > START_GRACE:
            return {
                "state": "failed",
                "done": True,
                "indexed": False,
                "failureReason": (
                    f"no Automation execution was recorded within {int(START_GRACE.total_seconds() // 60)} "
                    "minutes of the request: the collection never started"
                ),
            }
        if job_state in ("uploaded", "indexing"):
            return {"state": "indexing", "done": False, "indexed": False, "pollAfterSeconds": POLL_INDEXING}
        return {"state": "collecting", "done": False, "indexed": False, "pollAfterSeconds": POLL_COLLECTING}
    status = str(execution.get("AutomationExecutionStatus", ""))
    if status in FAILURE_STATES or (is_terminal(execution) and status not in SUCCESS_STATUSES):
        return {
            "state": FAILURE_STATES.get(status, "failed"),
            "done": True,
            "indexed": False,
            "failureReason": failure_reason(execution),
        }
    if status in SUCCESS_STATUSES:
        ended = execution.get("ExecutionEndTime")
        if isinstance(ended, datetime) and now - ended > INDEX_GRACE:
            return {
                "state": "index_missing",
                "done": True,
                "indexed": False,
                "failureReason": (
                    f"the Automation succeeded at {iso(ended)} but no index appeared within "
                    f"{int(INDEX_GRACE.total_seconds() // 60)} minutes: the upload may not have reached "
                    "the bucket, or the indexer failed (see its logs)"
                ),
            }
        return {"state": "indexing", "done": False, "indexed": False, "pollAfterSeconds": POLL_INDEXING}
    if job_state in ("uploaded", "indexing"):
        return {"state": "indexing", "done": False, "indexed": False, "pollAfterSeconds": POLL_INDEXING}
    return {"state": "collecting", "done": False, "indexed": False, "pollAfterSeconds": POLL_COLLECTING}


def finding_counts(job: dict[str, Any] | None) -> dict[str, int] | None:
    """Findings per severity from the job the indexer updated (``counts``), if any."""
    counts = (job or {}).get("counts")
    if not isinstance(counts, dict):
        return None
    out = {}
    for severity in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"):
        value = counts.get(severity, 0)
        out[severity] = int(value) if isinstance(value, (int, float)) else 0
    return out


def iso_or_none(value: Any) -> str | None:
    return iso(value) if isinstance(value, datetime) else None
