"""cluster_health: the cluster, its managed node groups, every node (either tag) and what is unhealthy."""

from __future__ import annotations

from collections import Counter
from typing import Any

from botocore.exceptions import ClientError

from eksdiag.tools import validate
from eksdiag.tools.base import ToolContext, ToolError
from eksdiag.tools.nodelog._nodes import Node, cluster_nodes, require_aws, ssm_info

NAME = "cluster_health"
GROUP = "nodelog"

#: Node groups described per call (EKS allows far fewer per cluster by default).
MAX_NODEGROUPS = 100
#: Nodes looked up in SSM per call; beyond it the answer says truncated.
MAX_SSM_NODES = 1000


def _cluster(ctx: ToolContext, region: str, name: str) -> dict[str, Any]:
    try:
        cluster = ctx.aws("eks", region).describe_cluster(name=name)["cluster"]
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise ToolError("NotFound", f"no EKS cluster named {name} in {region}") from None
        raise
    out = {"name": name, "status": str(cluster.get("status", "")), "region": region}
    for key in ("version", "platformVersion"):
        if cluster.get(key):
            out[key] = str(cluster[key])
    return out


def _nodegroups(ctx: ToolContext, region: str, name: str) -> list[dict[str, Any]]:
    eks = ctx.aws("eks", region)
    names: list[str] = []
    for page in eks.get_paginator("list_nodegroups").paginate(clusterName=name):
        names.extend(page.get("nodegroups", []))
    groups = []
    for group_name in sorted(names)[:MAX_NODEGROUPS]:
        group = eks.describe_nodegroup(clusterName=name, nodegroupName=group_name)["nodegroup"]
        scaling = group.get("scalingConfig") or {}
        issues = [
            f"{issue.get('code', 'Issue')}: {issue.get('message', '')}".strip()
            for issue in (group.get("health") or {}).get("issues", [])
        ]
        item: dict[str, Any] = {
            "name": group_name,
            "status": str(group.get("status", "")),
            "instanceTypes": [str(t) for t in group.get("instanceTypes") or []],
            "issues": issues,
        }
        if group.get("capacityType"):
            item["capacityType"] = str(group["capacityType"])
        for key, field in (("desiredSize", "desiredSize"), ("minSize", "minSize"), ("maxSize", "maxSize")):
            if isinstance(scaling.get(field), int):
                item[key] = scaling[field]
        groups.append(item)
    return groups


def node_issues(node: Node, ssm: dict[str, Any] | None, include_ssm: bool) -> list[str]:
    issues = []
    if node.state != "running":
        issues.append(f"instance is {node.state}")
    if include_ssm and node.state == "running":
        if ssm is None:
            issues.append("not managed by SSM")
        elif ssm.get("pingStatus") != "Online":
            issues.append(f"SSM agent is {ssm.get('pingStatus') or 'unknown'}")
    return issues


def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    require_aws(ctx, NAME)
    name = validate.cluster_name(args.get("clusterName"))
    region = validate.region(args.get("region"), ctx.settings)
    include_ssm = bool(args.get("includeSsm", True))
    max_nodes = validate.bounded_int(args.get("maxNodes"), "maxNodes", 1, 1000, default=300)

    cluster = _cluster(ctx, region, name)
    nodegroups = _nodegroups(ctx, region, name)
    nodes = cluster_nodes(ctx, region, name)
    considered = nodes[:MAX_SSM_NODES]
    info = ssm_info(ctx, region, [n.instance_id for n in considered]) if include_ssm else {}

    rows: list[tuple[bool, dict[str, Any]]] = []
    unhealthy: list[dict[str, Any]] = []
    for node in considered:
        ssm = info.get(node.instance_id)
        item = node.to_dict()
        if include_ssm:
            item["ssmPingStatus"] = ssm["pingStatus"] if ssm else "NotManaged"
            if ssm:
                for key in ("agentVersion", "platformName", "lastPingAt"):
                    if ssm.get(key):
                        item["ssmAgentVersion" if key == "agentVersion" else key] = ssm[key]
        issues = node_issues(node, ssm, include_ssm)
        if issues:
            unhealthy.append({"instanceId": node.instance_id, "issues": issues})
        rows.append((not issues, item))
    # unhealthy nodes first, so a truncated answer still shows every problem it can
    listed = [item for _, item in sorted(rows, key=lambda r: r[0])][:max_nodes]

    summary = {
        "totalNodes": len(nodes),
        "running": sum(1 for n in nodes if n.state == "running"),
        "ssmOnline": sum(1 for v in info.values() if v.get("pingStatus") == "Online"),
        "unhealthy": len(unhealthy),
        "byNodegroup": dict(Counter(n.nodegroup or "(none)" for n in nodes)),
        "byAvailabilityZone": dict(Counter(n.availability_zone or "(unknown)" for n in nodes)),
    }
    degraded = [g["name"] for g in nodegroups if g["issues"] or g["status"] not in ("ACTIVE", "UPDATING")]
    if unhealthy:
        next_step = (
            "Collect from an unhealthy node that is running and SSM-online with nodelog___collect, or "
            "sample the fleet with nodelog___batch_collect."
        )
    elif degraded:
        next_step = f"Node groups with issues: {', '.join(degraded)}; see their issues."
    else:
        next_step = "No unhealthy nodes found. To look deeper, collect from a node with nodelog___collect."
    return {
        "cluster": cluster,
        "nodegroups": nodegroups,
        "nodes": listed,
        "unhealthy": unhealthy[:max_nodes],
        "summary": summary,
        "truncated": len(nodes) > len(listed) or len(unhealthy) > max_nodes,
        "nextStep": next_step,
    }
