"""collect: start the collection Automation on one EKS node and return its bundleId at once."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from botocore.exceptions import ClientError

from eksdiag.adapters.lifecycle import COLLECT_DEADLINE
from eksdiag.tools import validate
from eksdiag.tools.base import ToolContext, ToolError, iso, new_bundle_id
from eksdiag.tools.nodelog._automation import ESTIMATED_SECONDS, POLL_COLLECTING, collect_parameters
from eksdiag.tools.nodelog._nodes import require_aws, require_collectable

NAME = "collect"
GROUP = "nodelog"

#: JobStore record kind mapping an idempotency token to the bundle it started.
DEDUP_RECORD = "collectdedup"
#: Namespace of the SSM ClientToken derived from an idempotency token (SSM wants a UUID).
_CLIENT_TOKEN_NS = uuid.UUID("6f1c3a52-8d0e-4b7a-9a35-2f6f0c1d9e47")


def token_key(region: str, instance_id: str, token: str) -> str:
    """Record id for (region, node, token): a hash, so the raw token never becomes a key."""
    return hashlib.sha256(f"{region}\n{instance_id}\n{token}".encode()).hexdigest()[:40]


def client_token(region: str, instance_id: str, token: str) -> str:
    """The SSM ClientToken for a token: SSM itself refuses to start a second execution with it."""
    return str(uuid.uuid5(_CLIENT_TOKEN_NS, f"collect\n{region}\n{instance_id}\n{token}"))


def _require_settings(ctx: ToolContext) -> None:
    s = ctx.settings
    missing = [
        name
        for name, value in (
            ("COLLECT_DOCUMENT_NAME", s.collect_document),
            ("AUTOMATION_ROLE_ARN", s.automation_role_arn),
            ("BUCKET_NAME", s.bucket),
            ("KMS_KEY_ARN", s.kms_key_arn),
        )
        if not value
    ]
    if missing:
        raise RuntimeError(f"collect is not configured: missing {', '.join(missing)}")


def _existing(job: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "bundleId": job["bundle_id"],
        "instanceId": job["instance_id"],
        "region": job.get("region", ""),
        "state": job.get("state", "collecting"),
        "idempotent": True,
        "pollAfterSeconds": 0 if job.get("state") in ("indexed", "failed") else POLL_COLLECTING,
        "estimatedSeconds": ESTIMATED_SECONDS,
        "nextStep": f"Nothing new was started. Call nodelog___status with bundleId {job['bundle_id']}.",
    }
    if job.get("execution_id"):
        result["executionId"] = job["execution_id"]
    if job.get("cluster"):
        result["clusterName"] = job["cluster"]
    return result


def _reusable(job: dict[str, Any] | None) -> bool:
    """A job to answer a repeated request with: anything except one that failed before SSM started it."""
    return job is not None and not (job.get("state") == "failed" and not job.get("execution_id"))


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    require_aws(ctx, NAME)
    if str(args.get("instanceId", "")).startswith("mi-"):
        raise ToolError(
            "InvalidArgument",
            "hybrid nodes (mi-...) are not collected through this deployment's Automation: run "
            "eks-log-collector.sh --eks_hybrid=true on the node and serve the bundle with eksdiag serve",
        )
    instance_id = validate.instance_id(args.get("instanceId"))
    region = validate.region(args.get("region"), ctx.settings)
    token = args.get("idempotencyToken")
    _require_settings(ctx)

    key = token_key(region, instance_id, token) if token else None
    stale: str | None = None
    if key:
        record = ctx.jobs.get_record(DEDUP_RECORD, key)
        if record:
            job = ctx.jobs.get_job(str(record["bundle_id"]))
            if job is not None and _reusable(job):
                return _existing(job)
            stale = str(record["bundle_id"])

    node, _ssm = require_collectable(ctx, region, instance_id)
    now = ctx.now()
    bundle_id = new_bundle_id(now)

    if key:
        # One owner per token, by a conditional write: of two requests racing here one claims the token
        # and the other answers with its job (and SSM's ClientToken refuses a second execution anyway).
        owner = ctx.jobs.claim_record(
            DEDUP_RECORD, key, {"bundle_id": bundle_id, "instance_id": instance_id}, supersede=stale
        )
        if owner.get("bundle_id") != bundle_id:
            job = ctx.jobs.get_job(str(owner["bundle_id"]))
            if job is None:
                raise ToolError("Conflict", "the same request is being started right now; retry", retryable=True)
            return _existing(job)

    job = {
        "bundle_id": bundle_id,
        "instance_id": instance_id,
        "region": region,
        "cluster": node.cluster,
        "upload_key": ctx.store.upload_key(instance_id, bundle_id),
        "state": "collecting",
        "created_at": iso(now),
        "updated_at": iso(now),
        "deadline": iso(now + COLLECT_DEADLINE),
    }
    if token:
        job["idempotency_token"] = token
    try:
        ctx.jobs.create_job(job)
    except ToolError as err:
        if err.code != "Conflict":
            raise
        existing = ctx.jobs.get_job(bundle_id)
        if existing is None:
            raise
        return _existing(existing)

    request: dict[str, Any] = {
        "DocumentName": ctx.settings.collect_document,
        "Parameters": collect_parameters(ctx.settings, instance_id, bundle_id),
    }
    if token:
        request["ClientToken"] = client_token(region, instance_id, token)
    ssm = ctx.aws("ssm", region)
    try:
        execution_id = str(ssm.start_automation_execution(**request)["AutomationExecutionId"])
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code", ""))
        message = str(err.response.get("Error", {}).get("Message", ""))[:300]
        ctx.jobs.update_job(bundle_id, state="failed", failure_reason=f"{code}: {message}", updated_at=iso(ctx.now()))
        if code == "IdempotentParameterMismatch":
            raise ToolError(
                "Conflict",
                "this idempotencyToken was already used for an earlier collection that is no longer on "
                "record; use a new token",
            ) from None
        if code in ("AutomationExecutionLimitExceededException", "ThrottlingException"):
            raise ToolError(
                "Throttled", f"SSM is running too many Automations right now ({code})", retryable=True
            ) from None
        raise
    ctx.jobs.update_job(bundle_id, execution_id=execution_id, updated_at=iso(ctx.now()))
    return {
        "bundleId": bundle_id,
        "executionId": execution_id,
        "instanceId": instance_id,
        "region": region,
        "clusterName": node.cluster or "",
        "state": "collecting",
        "idempotent": False,
        "pollAfterSeconds": POLL_COLLECTING,
        "estimatedSeconds": ESTIMATED_SECONDS,
        "nextStep": (
            f"Collection started. Call nodelog___status with bundleId {bundle_id} in about "
            f"{POLL_COLLECTING} seconds; when it says indexed, use the findings tools with that bundleId."
        ),
    }
