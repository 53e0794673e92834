"""nodelog___cluster_health on moto EKS + EC2; DescribeInstanceInformation from ssm_fake (moto lacks it)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.tools.ssm_fake import (
    SsmFake,
    call,
    check_output,
    karpenter_tags,
    launch_ssm_node,
    managed_tags,
    self_managed_tags,
)

REGION = "us-west-2"
CLUSTER = "demo"


@pytest.fixture
def fleet(ec2: Any, fake: SsmFake) -> dict[str, str]:
    """A cluster with a managed node group and managed, self-managed, Karpenter and broken nodes."""
    eks = boto3.client("eks", region_name=REGION)
    eks.create_cluster(
        name=CLUSTER, roleArn="arn:aws:iam::123456789012:role/eks", resourcesVpcConfig={"subnetIds": ["subnet-1"]}
    )
    eks.create_nodegroup(
        clusterName=CLUSTER, nodegroupName="ng-a", subnets=["subnet-1"], nodeRole="arn:aws:iam::123456789012:role/n"
    )
    return {
        "managed": launch_ssm_node(ec2, fake, managed_tags(CLUSTER, "ng-a"), az="us-west-2a"),
        "self-managed": launch_ssm_node(ec2, fake, self_managed_tags(CLUSTER), az="us-west-2b"),
        "karpenter": launch_ssm_node(ec2, fake, karpenter_tags(CLUSTER, "spot-pool"), az="us-west-2c"),
        "stopped": launch_ssm_node(ec2, fake, managed_tags(CLUSTER, "ng-a"), state="stopped"),
        "unmanaged": launch_ssm_node(ec2, fake, managed_tags(CLUSTER, "ng-a"), ping=None),
        "offline": launch_ssm_node(ec2, fake, self_managed_tags(CLUSTER), ping="ConnectionLost"),
        "other-cluster": launch_ssm_node(ec2, fake, managed_tags("other")),
        "not-eks": launch_ssm_node(ec2, fake, {"Name": "bastion"}),
    }


def health(ctx: Any, args: Any) -> dict[str, Any]:
    return call(ctx, "nodelog", "cluster_health", args)


def test_cluster_health_finds_nodes_by_either_tag_and_names_the_unhealthy(ctx: Any, fleet: dict[str, str]) -> None:
    result = health(ctx, {"clusterName": CLUSTER})

    check_output("nodelog", "cluster_health", result)
    assert result["cluster"]["name"] == CLUSTER and result["cluster"]["status"] == "ACTIVE"
    assert [g["name"] for g in result["nodegroups"]] == ["ng-a"]
    listed = {n["instanceId"]: n for n in result["nodes"]}
    expected = {fleet[k] for k in ("managed", "self-managed", "karpenter", "stopped", "unmanaged", "offline")}
    assert set(listed) == expected
    assert listed[fleet["managed"]]["provisioner"] == "managed-nodegroup"
    assert listed[fleet["managed"]]["nodegroup"] == "ng-a"
    assert listed[fleet["self-managed"]]["provisioner"] == "self-managed"
    assert listed[fleet["karpenter"]]["provisioner"] == "karpenter"
    assert listed[fleet["karpenter"]]["nodegroup"] == "spot-pool"
    assert listed[fleet["managed"]]["ssmPingStatus"] == "Online"

    issues = {u["instanceId"]: u["issues"] for u in result["unhealthy"]}
    assert issues == {
        fleet["stopped"]: ["instance is stopped"],
        fleet["unmanaged"]: ["not managed by SSM"],
        fleet["offline"]: ["SSM agent is ConnectionLost"],
    }
    summary = result["summary"]
    assert summary["totalNodes"] == 6 and summary["running"] == 5 and summary["unhealthy"] == 3
    assert summary["byNodegroup"]["ng-a"] == 3
    assert result["truncated"] is False


def test_unhealthy_nodes_come_first_when_the_answer_is_truncated(ctx: Any, fleet: dict[str, str]) -> None:
    result = health(ctx, {"clusterName": CLUSTER, "maxNodes": 3})
    assert result["truncated"] is True
    assert {n["instanceId"] for n in result["nodes"]} == {fleet["stopped"], fleet["unmanaged"], fleet["offline"]}


def test_without_ssm_only_ec2_state_counts(ctx: Any, fake: SsmFake, fleet: dict[str, str]) -> None:
    result = health(ctx, {"clusterName": CLUSTER, "includeSsm": False})
    assert all("ssmPingStatus" not in n for n in result["nodes"])
    assert [u["instanceId"] for u in result["unhealthy"]] == [fleet["stopped"]]


def test_an_unknown_cluster_is_not_found(ctx: Any, fleet: dict[str, str]) -> None:
    assert health(ctx, {"clusterName": "nope"})["error"]["code"] == "NotFound"


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"clusterName": ""},
        {"clusterName": "-leading-dash"},
        {"clusterName": "a" * 101},
        {"clusterName": "demo", "region": "sa-east-1"},
        {"clusterName": "demo", "maxNodes": 0},
        {"clusterName": "demo", "maxNodes": 1001},
        {"clusterName": "demo", "includeSsm": "yes"},
    ],
    ids=["missing", "empty", "dash", "too-long", "region", "max-zero", "max-high", "ssm-string"],
)
def test_cluster_health_rejects_bad_arguments(ctx: Any, args: Any) -> None:
    assert health(ctx, args)["error"]["code"] == "InvalidArgument"
