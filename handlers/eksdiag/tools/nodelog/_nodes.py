"""EKS worker nodes as EC2 and SSM see them: cluster tags, provisioner, SSM ping status.

A node belongs to cluster ``C`` when it carries ``eks:cluster-name=C`` (managed node groups, and
Karpenter nodes) **or** the ``kubernetes.io/cluster/C`` tag key (self-managed and Karpenter nodes).
Both are accepted everywhere, so managed, self-managed and Karpenter nodes are handled alike (the
reference sample accepted one tag for validation and the other for enumeration: bug B28).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from eksdiag.tools.base import ToolContext, ToolError, iso

EKS_CLUSTER_TAG = "eks:cluster-name"
K8S_CLUSTER_TAG_PREFIX = "kubernetes.io/cluster/"
NODEGROUP_TAG = "eks:nodegroup-name"
KARPENTER_NODEPOOL_TAGS = ("karpenter.sh/nodepool", "karpenter.sh/provisioner-name")
ASG_TAG = "aws:autoscaling:groupName"

#: EC2 states a cluster listing reports (terminated instances are gone for good).
LISTED_STATES = ("pending", "running", "stopping", "stopped", "shutting-down")
#: DescribeInstanceInformation takes at most 50 instance ids per filter value list here.
SSM_CHUNK = 50


@dataclass(frozen=True)
class Node:
    """One EC2 instance with the facts the nodelog tools need."""

    instance_id: str
    state: str
    instance_type: str
    availability_zone: str
    cluster: str | None
    nodegroup: str
    provisioner: str
    launch_time: str
    private_ip: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "instanceId": self.instance_id,
            "state": self.state,
            "instanceType": self.instance_type,
            "availabilityZone": self.availability_zone,
            "nodegroup": self.nodegroup,
            "provisioner": self.provisioner,
            "launchTime": self.launch_time,
            "privateIp": self.private_ip,
        }


def require_aws(ctx: ToolContext, tool: str) -> None:
    """Refuse clearly, before argument checks that need AWS settings, when serving local bundles."""
    if ctx.local and ctx.client_factory is None:
        raise ToolError(
            "Upstream",
            f"{tool} works on live EKS nodes through AWS (EC2, SSM); it is not available when serving local "
            "bundles (use the findings tools on the bundles in the folder)",
        )


def cluster_of(tags: dict[str, str]) -> str | None:
    """The EKS cluster an instance belongs to, from either tag; ``None`` when it is not an EKS node."""
    name = tags.get(EKS_CLUSTER_TAG)
    if name:
        return name
    for key in sorted(tags):
        if key.startswith(K8S_CLUSTER_TAG_PREFIX) and len(key) > len(K8S_CLUSTER_TAG_PREFIX):
            return key[len(K8S_CLUSTER_TAG_PREFIX) :]
    return None


def provisioner_of(tags: dict[str, str]) -> tuple[str, str]:
    """``(provisioner, group)``: managed-nodegroup/karpenter/self-managed and the group's name."""
    if tags.get(NODEGROUP_TAG):
        return "managed-nodegroup", tags[NODEGROUP_TAG]
    for key in KARPENTER_NODEPOOL_TAGS:
        if tags.get(key):
            return "karpenter", tags[key]
    return "self-managed", tags.get(ASG_TAG, "")


def _iso(value: Any) -> str:
    return iso(value) if isinstance(value, datetime) else str(value or "")


def node_from_ec2(instance: dict[str, Any]) -> Node:
    tags = {t["Key"]: t.get("Value", "") for t in instance.get("Tags", []) if "Key" in t}
    provisioner, group = provisioner_of(tags)
    return Node(
        instance_id=instance["InstanceId"],
        state=str(instance.get("State", {}).get("Name", "unknown")),
        instance_type=str(instance.get("InstanceType", "")),
        availability_zone=str(instance.get("Placement", {}).get("AvailabilityZone", "")),
        cluster=cluster_of(tags),
        nodegroup=group,
        provisioner=provisioner,
        launch_time=_iso(instance.get("LaunchTime")),
        private_ip=str(instance.get("PrivateIpAddress", "")),
    )


def describe_node(ctx: ToolContext, region: str, instance_id: str) -> Node:
    """The instance ``instance_id`` (already validated); ``NotFound`` when EC2 does not know it."""
    ec2 = ctx.aws("ec2", region)
    try:
        reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code", ""))
        if code.startswith("InvalidInstanceID"):
            raise ToolError("NotFound", f"instance {instance_id} does not exist in {region}") from None
        raise
    for reservation in reservations:
        for instance in reservation.get("Instances", []):
            if instance.get("InstanceId") == instance_id:
                return node_from_ec2(instance)
    raise ToolError("NotFound", f"instance {instance_id} does not exist in {region}")


def cluster_nodes(ctx: ToolContext, region: str, cluster: str) -> list[Node]:
    """Every listed-state instance carrying either cluster tag, sorted by instance id."""
    ec2 = ctx.aws("ec2", region)
    paginator = ec2.get_paginator("describe_instances")
    state_filter = {"Name": "instance-state-name", "Values": list(LISTED_STATES)}
    queries = (
        [{"Name": f"tag:{EKS_CLUSTER_TAG}", "Values": [cluster]}, state_filter],
        [{"Name": "tag-key", "Values": [f"{K8S_CLUSTER_TAG_PREFIX}{cluster}"]}, state_filter],
    )
    found: dict[str, Node] = {}
    for filters in queries:
        for page in paginator.paginate(Filters=filters):
            for reservation in page.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    node = node_from_ec2(instance)
                    found.setdefault(node.instance_id, node)
    return [found[k] for k in sorted(found)]


def ssm_info(ctx: ToolContext, region: str, instance_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """SSM's view of each instance that SSM manages: ``{iid: {"pingStatus", "agentVersion", ...}}``.

    Instances absent from the answer are not SSM-managed (no agent, no instance profile, or never
    registered).
    """
    ids = sorted(set(instance_ids))
    ssm = ctx.aws("ssm", region)
    info: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), SSM_CHUNK):
        chunk = ids[start : start + SSM_CHUNK]
        kwargs: dict[str, Any] = {"Filters": [{"Key": "InstanceIds", "Values": chunk}], "MaxResults": 50}
        while True:
            page = ssm.describe_instance_information(**kwargs)
            for item in page.get("InstanceInformationList", []):
                iid = item.get("InstanceId")
                if iid in chunk:
                    info[iid] = {
                        "pingStatus": str(item.get("PingStatus", "")),
                        "agentVersion": str(item.get("AgentVersion", "")),
                        "platformName": str(item.get("PlatformName", "")),
                        "lastPingAt": _iso(item.get("LastPingDateTime")),
                    }
            token = page.get("NextToken")
            if not token:
                break
            kwargs["NextToken"] = token
    return info


def require_collectable(ctx: ToolContext, region: str, instance_id: str) -> tuple[Node, dict[str, Any]]:
    """The node and its SSM info, or the ``ToolError`` that says why nothing can run on it.

    Checks, in order: the instance exists (NotFound), it is an EKS node by either tag (Forbidden: we
    never touch instances outside EKS), it is running (NotReady; retryable while pending), and SSM
    manages it with PingStatus Online (NotReady).
    """
    node = describe_node(ctx, region, instance_id)
    if node.cluster is None:
        raise ToolError(
            "Forbidden",
            f"instance {instance_id} is not an EKS node: it has neither the {EKS_CLUSTER_TAG} tag nor a "
            f"{K8S_CLUSTER_TAG_PREFIX}<cluster> tag",
        )
    if node.state != "running":
        raise ToolError(
            "NotReady",
            f"instance {instance_id} is {node.state}, not running",
            retryable=node.state == "pending",
            details={"instanceState": node.state},
        )
    info = ssm_info(ctx, region, [instance_id]).get(instance_id)
    if info is None:
        raise ToolError(
            "NotReady",
            f"instance {instance_id} is not managed by SSM (no SSM agent registration; check the node's "
            "instance profile has AmazonSSMManagedInstanceCore or Default Host Management is on)",
            details={"ssmPingStatus": "NotManaged"},
        )
    if info["pingStatus"] != "Online":
        raise ToolError(
            "NotReady",
            f"the SSM agent on {instance_id} is {info['pingStatus']}, not Online",
            retryable=True,
            details={"ssmPingStatus": info["pingStatus"]},
        )
    return node, info
