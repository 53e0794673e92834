"""tcpdump_analyze: command status of a capture, then the analysis of its text summary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from eksdiag.tools import validate
from eksdiag.tools.base import ToolContext, ToolError
from eksdiag.tools.capture._capture import CAPTURE_RECORD, capture_id
from eksdiag.tools.nodelog._nodes import require_aws

NAME = "tcpdump_analyze"
GROUP = "capture"

#: Read at most this much of summary.txt (the document caps it at 20,000 lines of tcpdump -v text).
MAX_SUMMARY_BYTES = 8 << 20
RUNNING = frozenset({"Pending", "InProgress", "Delayed", "Cancelling"})
MAX_DETAIL = 500
#: SSM registers an invocation within seconds of SendCommand; after this long (plus the capture's
#: duration) with none, the capture never reached the node and polling must end.
UNREGISTERED_GRACE_SECONDS = 600


def _age_seconds(record: dict[str, Any], now: datetime) -> int | None:
    try:
        started = datetime.fromisoformat(str(record["created_at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return int((now - started).total_seconds())


def _remaining(record: dict[str, Any], now: datetime) -> int:
    try:
        started = datetime.fromisoformat(str(record["created_at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return 15
    left = int(record.get("duration_seconds", 30)) + 15 - int((now - started).total_seconds())
    return max(5, min(left, 300))


def _failure(invocation: dict[str, Any]) -> str:
    detail = str(invocation.get("StatusDetails") or invocation.get("Status") or "")
    stderr = str(invocation.get("StandardErrorContent") or "").strip()
    errors = [line for line in stderr.splitlines() if "EKSDIAG_ERROR" in line] or stderr.splitlines()[-3:]
    text = f"capture command {detail}" + (f": {' | '.join(errors)}" if errors else "")
    return text[:MAX_DETAIL]


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    require_aws(ctx, NAME)
    cid = capture_id(args.get("captureId"))
    wanted_instance = validate.instance_id(args["instanceId"]) if args.get("instanceId") else None
    record = ctx.jobs.get_record(CAPTURE_RECORD, cid)
    if not record:
        raise ToolError("NotFound", f"no capture {cid}")
    instance_id = str(record["instance_id"])
    if wanted_instance and wanted_instance != instance_id:
        raise ToolError("InvalidArgument", f"capture {cid} ran on {instance_id}, not on {wanted_instance}")
    command_id = str(record["command_id"])
    base: dict[str, Any] = {"captureId": cid, "instanceId": instance_id, "commandId": command_id}

    ssm = ctx.aws("ssm", str(record.get("region") or ctx.settings.default_region))
    try:
        invocation = ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "InvocationDoesNotExist":
            raise
        age = _age_seconds(record, ctx.now())
        limit = int(record.get("duration_seconds", 30)) + UNREGISTERED_GRACE_SECONDS
        if age is None or age <= limit:
            invocation = {"Status": "Pending"}  # SSM has not registered the invocation yet
        else:
            return {
                **base,
                "commandStatus": "InvocationDoesNotExist",
                "done": True,
                "failureReason": (
                    f"SSM has no invocation of command {command_id} on {instance_id} {age} s after the capture "
                    "was requested: it never reached the node (or SSM no longer keeps it)"
                ),
                "nextStep": "Start a new capture with capture___tcpdump_capture if it is still needed.",
            }
    status = str(invocation.get("Status", "Pending"))
    if status in RUNNING:
        wait = _remaining(record, ctx.now())
        return {
            **base,
            "commandStatus": status,
            "done": False,
            "pollAfterSeconds": wait,
            "nextStep": f"The capture is still running; call again in about {wait} seconds.",
        }

    result: dict[str, Any] = {**base, "commandStatus": status, "done": True}
    text: str | None
    try:
        text = ctx.store.get_text(str(record["summary_key"]), MAX_SUMMARY_BYTES + 1)
    except ToolError as err:
        if err.code != "NotFound":
            raise
        text = None
    if status != "Success":
        result["failureReason"] = _failure(invocation)
    if text is None:
        if status == "Success":
            result["failureReason"] = "the capture command succeeded but summary.txt never reached the bucket"
        result["nextStep"] = "No summary to analyse; see failureReason, then start a new capture if needed."
        return result

    from eksdiag.capture.analyze import analyze_summary  # deferred: only needed once a summary exists

    truncated = len(text.encode("utf-8")) > MAX_SUMMARY_BYTES
    if truncated:
        text = text.encode("utf-8")[:MAX_SUMMARY_BYTES].decode("utf-8", errors="ignore")
        text = text[: text.rfind("\n") + 1]  # drop the partial last line
    result["analysis"] = analyze_summary(text)
    result["summaryTruncated"] = truncated
    findings = result["analysis"].get("findings") or []
    result["nextStep"] = (
        f"{len(findings)} observation(s) in analysis.findings; correlate them with the node's bundle "
        "(findings___errors) or capture again with a narrower filter."
        if findings
        else "Nothing abnormal in the capture; for an intermittent problem widen the filter or the duration."
    )
    return result
