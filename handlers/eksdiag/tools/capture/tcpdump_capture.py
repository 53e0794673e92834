"""tcpdump_capture: run the packet-capture Command document on a node with validated parameters only."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from eksdiag.capture import parameters
from eksdiag.tools import validate
from eksdiag.tools.base import ToolContext, ToolError, iso
from eksdiag.tools.capture._capture import (
    CAPTURE_RECORD,
    capture_keys,
    check_document_value,
    check_filter,
    new_capture_id,
)
from eksdiag.tools.nodelog._nodes import require_aws, require_collectable

NAME = "tcpdump_capture"
GROUP = "capture"

#: SendCommand delivery timeout: how long SSM may wait for the agent to pick the command up.
DELIVERY_TIMEOUT_SECONDS = parameters.CAPTURE_DELIVERY_TIMEOUT


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    require_aws(ctx, NAME)
    instance_id = validate.instance_id(args.get("instanceId"))
    region = validate.region(args.get("region"), ctx.settings)
    interface = check_document_value("interface", parameters.INTERFACE, str(args.get("interface", "any")))
    if not interface:
        raise ToolError("InvalidArgument", "interface must not be empty (use any)")
    duration = validate.bounded_int(args.get("durationSeconds"), "durationSeconds", 1, 300, default=30)
    max_packets = validate.bounded_int(args.get("maxPackets"), "maxPackets", 1, 100_000, default=10_000)
    bpf = check_filter(str(args.get("filter", "")))
    namespace, pod = args.get("podNamespace"), args.get("podName")
    if bool(namespace) != bool(pod):
        raise ToolError("InvalidArgument", "give podNamespace and podName together, or neither")
    if namespace and pod:
        check_document_value("podNamespace", parameters.KUBERNETES_NAME, namespace)
        check_document_value("podName", parameters.KUBERNETES_NAME, pod)
    if not ctx.settings.capture_document or not ctx.settings.bucket:
        raise RuntimeError("tcpdump_capture is not configured: CAPTURE_DOCUMENT_NAME and BUCKET_NAME are needed")

    require_collectable(ctx, region, instance_id)
    now = ctx.now()
    capture = new_capture_id(now)
    pcap_key, summary_key = capture_keys(instance_id, capture)
    # Valid until the latest moment the node may upload: the delivery wait, then the document's whole
    # execution timeout (signed with this function's role credentials: see parameters.py).
    expires = parameters.upload_url_lifetime(
        ctx.settings.presign_put_seconds, parameters.CAPTURE_UPLOAD_EXPIRES_SECONDS
    )
    document_parameters: dict[str, list[str]] = {
        "Interface": [interface],
        "DurationSeconds": [str(duration)],
        "MaxPackets": [str(max_packets)],
        "Filter": [bpf],
        "PodNamespace": [namespace or ""],
        "PodName": [pod or ""],
        "UploadUrl": [ctx.store.presign_put(pcap_key, expires)],
        "SummaryUploadUrl": [ctx.store.presign_put(summary_key, expires)],
        "SseKmsKeyId": [ctx.settings.kms_key_arn],
    }
    try:
        response = ctx.aws("ssm", region).send_command(
            InstanceIds=[instance_id],
            DocumentName=ctx.settings.capture_document,
            Parameters=document_parameters,
            TimeoutSeconds=DELIVERY_TIMEOUT_SECONDS,
            Comment=f"eksdiag packet capture {capture}",
        )
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code", ""))
        if code == "InvalidParameters":
            # the document's allowedPattern refused a value; never echo the parameters (presigned URLs)
            raise ToolError(
                "InvalidArgument", "the packet-capture document refused the arguments (allowedPattern)"
            ) from None
        if code == "InvalidInstanceId":
            raise ToolError(
                "NotReady",
                f"SSM cannot run commands on {instance_id} right now (agent offline?)",
                retryable=True,
            ) from None
        raise
    command_id = str(response["Command"]["CommandId"])
    record = {
        "capture_id": capture,
        "instance_id": instance_id,
        "region": region,
        "command_id": command_id,
        "pcap_key": pcap_key,
        "summary_key": summary_key,
        "created_at": iso(now),
        "duration_seconds": duration,
        "max_packets": max_packets,
        "interface": interface,
        "filter": bpf,
        "pod_namespace": namespace or "",
        "pod_name": pod or "",
    }
    ctx.jobs.put_record(CAPTURE_RECORD, capture, record)
    wait = duration + 15
    result: dict[str, Any] = {
        "captureId": capture,
        "commandId": command_id,
        "instanceId": instance_id,
        "region": region,
        "interface": interface,
        "durationSeconds": duration,
        "maxPackets": max_packets,
        "filter": bpf,
        "pollAfterSeconds": wait,
        "estimatedSeconds": wait,
        "nextStep": f"Call capture___tcpdump_analyze with captureId {capture} in about {wait} seconds.",
    }
    if namespace and pod:
        result["pod"] = {"namespace": namespace, "name": pod}
    return result
