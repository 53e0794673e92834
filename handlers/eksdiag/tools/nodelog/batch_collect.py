"""batch_collect: sample a cluster's nodes per bucket and collect from them with SSM rate control.

One ``StartAutomationExecution`` of the collect document with ``TargetMaps`` (one map per node:
``InstanceId`` and ``BundleId``), ``MaxConcurrency`` and ``MaxErrors``: SSM paces the fleet and stops
after too many failures; we never loop over nodes starting executions ourselves.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections import defaultdict
from typing import Any

from botocore.exceptions import ClientError

from eksdiag.tools import validate
from eksdiag.tools.base import ToolContext, ToolError, iso, new_bundle_id
from eksdiag.tools.nodelog._automation import (
    MAX_TARGET_MAP_VALUE,
    MAX_TARGET_MAPS,
    POLL_COLLECTING,
    check_parameter_lengths,
    common_collect_parameters,
)
from eksdiag.tools.nodelog._batch import BATCH_RECORD
from eksdiag.tools.nodelog._nodes import Node, cluster_nodes, require_aws, ssm_info
from eksdiag.tools.nodelog.collect import _require_settings

NAME = "batch_collect"
GROUP = "nodelog"

DEDUP_RECORD = "batchdedup"
#: Skipped nodes listed in a plan (a large cluster may have many stopped or offline nodes).
MAX_SKIPPED_LISTED = 200
_CLIENT_TOKEN_NS = uuid.UUID("0b7e9d44-2c61-4f0e-8d8a-5a3e6c2b71f9")

Bucket = tuple[str, str, str]  # (node group, AZ, instance type)


def new_batch_id(ctx: ToolContext) -> str:
    return f"bt-{ctx.now().strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(4)}"


def _ineligible_reason(node: Node, ssm: dict[str, Any] | None) -> str | None:
    if node.state != "running":
        return f"instance is {node.state}"
    if ssm is None:
        return "not managed by SSM"
    if ssm.get("pingStatus") != "Online":
        return f"SSM agent is {ssm.get('pingStatus') or 'unknown'}"
    return None


def plan_sample(
    nodes: list[Node],
    info: dict[str, dict[str, Any]],
    samples_per_bucket: int,
    max_nodes: int,
    wanted: list[str] | None = None,
) -> dict[str, Any]:
    """Buckets, the selected nodes and the skipped ones (with reasons). Deterministic.

    Selection is round-robin over buckets (each bucket's eligible nodes in instance-id order), so every
    bucket gets one node before any gets a second, until ``samples_per_bucket`` or ``max_nodes``.
    With ``wanted`` (explicit instance ids) exactly those eligible nodes are selected.
    """
    buckets: dict[Bucket, list[Node]] = defaultdict(list)
    for node in sorted(nodes, key=lambda n: n.instance_id):
        buckets[(node.nodegroup, node.availability_zone, node.instance_type)].append(node)
    skipped: list[dict[str, str]] = []
    eligible: dict[Bucket, list[Node]] = {}
    for key in sorted(buckets):
        ok = []
        for node in buckets[key]:
            reason = _ineligible_reason(node, info.get(node.instance_id))
            if reason is None:
                ok.append(node)
            elif wanted is None or node.instance_id in wanted:
                skipped.append({"instanceId": node.instance_id, "reason": reason})
        eligible[key] = ok

    selected: dict[Bucket, list[str]] = {key: [] for key in buckets}
    if wanted is not None:
        chosen = set(wanted)
        for key, ok in eligible.items():
            selected[key] = [n.instance_id for n in ok if n.instance_id in chosen]
    else:
        total = 0
        for round_index in range(samples_per_bucket):
            for key in sorted(eligible):
                ok = eligible[key]
                if round_index >= len(ok):
                    continue
                if total >= max_nodes:
                    skipped.append({"instanceId": ok[round_index].instance_id, "reason": "over maxNodes"})
                    continue
                selected[key].append(ok[round_index].instance_id)
                total += 1

    bucket_rows = [
        {
            "nodegroup": key[0],
            "availabilityZone": key[1],
            "instanceType": key[2],
            "totalNodes": len(buckets[key]),
            "eligibleNodes": len(eligible[key]),
            "sampled": selected[key],
        }
        for key in sorted(buckets)
    ]
    order = [iid for key in sorted(buckets) for iid in selected[key]]
    return {
        "totalNodes": len(nodes),
        "eligibleNodes": sum(len(v) for v in eligible.values()),
        "buckets": bucket_rows,
        "skipped": skipped[:MAX_SKIPPED_LISTED],
        "skippedTotal": len(skipped),
        "selected": order,
    }


def _existing(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "batchId": record["batch_id"],
        "executionId": record["execution_id"],
        "dryRun": False,
        "idempotent": True,
        "clusterName": record["cluster"],
        "region": record["region"],
        "plan": record.get("plan")
        or {"totalNodes": 0, "eligibleNodes": 0, "buckets": [], "skipped": [], "skippedTotal": 0},
        "nodes": [{"instanceId": n["instance_id"], "bundleId": n["bundle_id"]} for n in record["nodes"]],
        "maxConcurrency": record["max_concurrency"],
        "maxErrors": record["max_errors"],
        "pollAfterSeconds": POLL_COLLECTING,
        "nextStep": (f"Nothing new was started. Call nodelog___batch_status with batchId {record['batch_id']}."),
    }


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    require_aws(ctx, NAME)
    cluster = validate.cluster_name(args.get("clusterName"))
    region = validate.region(args.get("region"), ctx.settings)
    wanted = [validate.instance_id(v) for v in args["instanceIds"]] if args.get("instanceIds") else None
    samples = validate.bounded_int(args.get("samplesPerBucket"), "samplesPerBucket", 1, 10, default=2)
    max_nodes = validate.bounded_int(args.get("maxNodes"), "maxNodes", 1, 50, default=20)
    concurrency = validate.bounded_int(args.get("maxConcurrency"), "maxConcurrency", 1, 20, default=5)
    max_errors = validate.bounded_int(args.get("maxErrors"), "maxErrors", 0, 50, default=2)
    dry_run = bool(args.get("dryRun", False))
    token = args.get("idempotencyToken")
    if wanted is not None and len(set(wanted)) != len(wanted):
        raise ToolError("InvalidArgument", "instanceIds must be distinct")

    key = hashlib.sha256(f"{region}\n{cluster}\n{token}".encode()).hexdigest()[:40] if token else None
    if key and not dry_run:
        owner = ctx.jobs.get_record(DEDUP_RECORD, key)
        if owner:
            record = ctx.jobs.get_record(BATCH_RECORD, str(owner["batch_id"]))
            if record:
                return _existing(record)

    nodes = cluster_nodes(ctx, region, cluster)
    if not nodes:
        raise ToolError(
            "NotFound",
            f"no EC2 instances in {region} carry the eks:cluster-name={cluster} tag or the "
            f"kubernetes.io/cluster/{cluster} tag",
        )
    if wanted is not None:
        known = {n.instance_id for n in nodes}
        strangers = [iid for iid in wanted if iid not in known]
        if strangers:
            raise ToolError(
                "InvalidArgument",
                f"not nodes of cluster {cluster}: {', '.join(strangers)}",
                details={"notInCluster": strangers},
            )
    info = ssm_info(ctx, region, [n.instance_id for n in nodes])
    plan = plan_sample(nodes, info, samples, max_nodes, wanted)
    selected: list[str] = plan.pop("selected")
    result: dict[str, Any] = {
        "dryRun": dry_run,
        "clusterName": cluster,
        "region": region,
        "plan": plan,
        "nodes": [{"instanceId": iid} for iid in selected],
        "maxConcurrency": concurrency,
        "maxErrors": max_errors,
    }
    if dry_run:
        result["nextStep"] = (
            "Plan only. Call nodelog___batch_collect again with dryRun=false to start it."
            if selected
            else "No node is eligible (running and SSM-online); see plan.skipped."
        )
        return result
    if not selected:
        raise ToolError(
            "NotReady",
            "no node of the cluster is eligible for collection (running and SSM-online); see details",
            details={"skipped": plan["skipped"][:50]},
        )
    _require_settings(ctx)
    if len(selected) > MAX_TARGET_MAPS:
        raise RuntimeError(f"{len(selected)} nodes exceed SSM's {MAX_TARGET_MAPS} TargetMaps")

    now = ctx.now()
    batch_id = new_batch_id(ctx)
    members = [{"instance_id": iid, "bundle_id": new_bundle_id(now)} for iid in selected]
    target_maps = [{"InstanceId": [m["instance_id"]], "BundleId": [m["bundle_id"]]} for m in members]
    for target_map in target_maps:
        check_parameter_lengths(target_map, MAX_TARGET_MAP_VALUE)
    common = common_collect_parameters(ctx.settings)
    check_parameter_lengths(common)
    node_by_id = {n.instance_id: n for n in nodes}
    for member in members:
        ctx.jobs.create_job(
            {
                "bundle_id": member["bundle_id"],
                "instance_id": member["instance_id"],
                "region": region,
                "cluster": node_by_id[member["instance_id"]].cluster or cluster,
                "upload_key": ctx.store.upload_key(member["instance_id"], member["bundle_id"]),
                "state": "collecting",
                "batch_id": batch_id,
                "created_at": iso(now),
                "updated_at": iso(now),
            }
        )
    if key:
        ctx.jobs.put_record(DEDUP_RECORD, key, {"batch_id": batch_id})

    request: dict[str, Any] = {
        "DocumentName": ctx.settings.collect_document,
        "Parameters": common,
        "TargetMaps": target_maps,
        "MaxConcurrency": str(concurrency),
        "MaxErrors": str(max_errors),
    }
    if token:
        request["ClientToken"] = str(uuid.uuid5(_CLIENT_TOKEN_NS, f"batch\n{region}\n{cluster}\n{token}"))
    try:
        execution_id = str(ctx.aws("ssm", region).start_automation_execution(**request)["AutomationExecutionId"])
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code", ""))
        message = str(err.response.get("Error", {}).get("Message", ""))[:300]
        for member in members:
            ctx.jobs.update_job(member["bundle_id"], state="failed", failure_reason=f"{code}: {message}")
        if code == "IdempotentParameterMismatch":
            raise ToolError("Conflict", "this idempotencyToken was already used; use a new token") from None
        if code in ("AutomationExecutionLimitExceededException", "ThrottlingException"):
            raise ToolError("Throttled", f"SSM refused to start more Automations ({code})", retryable=True) from None
        raise
    record = {
        "batch_id": batch_id,
        "execution_id": execution_id,
        "cluster": cluster,
        "region": region,
        "created_at": iso(now),
        "nodes": members,
        "max_concurrency": concurrency,
        "max_errors": max_errors,
        "plan": plan,
        "children": {},
    }
    ctx.jobs.put_record(BATCH_RECORD, batch_id, record)
    for member in members:
        ctx.jobs.update_job(member["bundle_id"], parent_execution_id=execution_id)
    result.update(
        batchId=batch_id,
        executionId=execution_id,
        idempotent=False,
        nodes=[{"instanceId": m["instance_id"], "bundleId": m["bundle_id"]} for m in members],
        pollAfterSeconds=POLL_COLLECTING,
        nextStep=(
            f"SSM is collecting from {len(members)} node(s), {concurrency} at a time. Call "
            f"nodelog___batch_status with batchId {batch_id} in about {POLL_COLLECTING} seconds."
        ),
    )
    return result
