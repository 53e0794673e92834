"""nodelog___batch_collect and nodelog___batch_status.

One rate-controlled StartAutomationExecution (TargetMaps, MaxConcurrency, MaxErrors), not a loop; child
executions and their statuses come from ssm_fake.SsmFake (moto 5.2.5 has no Automation API), which
enforces the SSM model limits (TargetMapValue <= 50 characters, <= 300 maps).
"""

from __future__ import annotations

from typing import Any

import pytest
from eksdiag.tools.nodelog._nodes import Node
from eksdiag.tools.nodelog.batch_collect import plan_sample
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tools.ssm_fake import (
    COLLECT_DOCUMENT,
    SsmFake,
    call,
    check_output,
    karpenter_tags,
    launch_ssm_node,
    managed_tags,
    self_managed_tags,
)

CLUSTER = "demo"


@pytest.fixture
def fleet(ec2: Any, fake: SsmFake) -> dict[str, list[str]]:
    """Buckets: (ng-a, 2a, m5.large) x3, (ng-a, 2b, m5.large) x2, (ng-b, 2a, c5.xlarge) x1 + Karpenter
    (spot, 2c) x1; plus ineligible nodes: one stopped, one SSM-offline, one unmanaged."""
    return {
        "a-2a": sorted(launch_ssm_node(ec2, fake, managed_tags(CLUSTER, "ng-a"), az="us-west-2a") for _ in range(3)),
        "a-2b": sorted(launch_ssm_node(ec2, fake, managed_tags(CLUSTER, "ng-a"), az="us-west-2b") for _ in range(2)),
        "b-2a": [launch_ssm_node(ec2, fake, managed_tags(CLUSTER, "ng-b"), az="us-west-2a", instance_type="c5.xlarge")],
        "karpenter": [launch_ssm_node(ec2, fake, karpenter_tags(CLUSTER, "spot"), az="us-west-2c")],
        "stopped": [launch_ssm_node(ec2, fake, self_managed_tags(CLUSTER), az="us-west-2a", state="stopped")],
        "offline": [launch_ssm_node(ec2, fake, self_managed_tags(CLUSTER), az="us-west-2a", ping="ConnectionLost")],
        "unmanaged": [launch_ssm_node(ec2, fake, self_managed_tags(CLUSTER), az="us-west-2b", ping=None)],
    }


def batch(ctx: Any, args: Any) -> dict[str, Any]:
    return call(ctx, "nodelog", "batch_collect", args)


def batch_status(ctx: Any, batch_id: str) -> dict[str, Any]:
    return call(ctx, "nodelog", "batch_status", {"batchId": batch_id})


def test_dry_run_plans_one_node_per_bucket_and_starts_nothing(
    ctx: Any, fake: SsmFake, fleet: dict[str, list[str]]
) -> None:
    result = batch(ctx, {"clusterName": CLUSTER, "samplesPerBucket": 1, "dryRun": True})

    check_output("nodelog", "batch_collect", result)
    assert result["dryRun"] is True and "batchId" not in result and fake.start_requests == []
    plan = result["plan"]
    assert plan["totalNodes"] == 10 and plan["eligibleNodes"] == 7
    sampled = {(b["nodegroup"], b["availabilityZone"], b["instanceType"]): b["sampled"] for b in plan["buckets"]}
    assert sampled[("ng-a", "us-west-2a", "m5.large")] == fleet["a-2a"][:1]
    assert sampled[("ng-a", "us-west-2b", "m5.large")] == fleet["a-2b"][:1]
    assert sampled[("ng-b", "us-west-2a", "c5.xlarge")] == fleet["b-2a"]
    assert sampled[("spot", "us-west-2c", "m5.large")] == fleet["karpenter"]
    reasons = {s["instanceId"]: s["reason"] for s in plan["skipped"]}
    assert reasons == {
        fleet["stopped"][0]: "instance is stopped",
        fleet["offline"][0]: "SSM agent is ConnectionLost",
        fleet["unmanaged"][0]: "not managed by SSM",
    }
    assert len(result["nodes"]) == 4 and plan["skippedTotal"] == 3


def test_sampling_is_round_robin_across_buckets_up_to_max_nodes(ctx: Any, fleet: dict[str, list[str]]) -> None:
    result = batch(ctx, {"clusterName": CLUSTER, "samplesPerBucket": 3, "maxNodes": 5, "dryRun": True})
    picked = {n["instanceId"] for n in result["nodes"]}
    # round one gives every bucket a node; round two starts with the first bucket and hits maxNodes
    first_round = {fleet[key][0] for key in ("a-2a", "a-2b", "b-2a", "karpenter")}
    assert picked == first_round | {fleet["a-2a"][1]}
    over = {s["instanceId"] for s in result["plan"]["skipped"] if s["reason"] == "over maxNodes"}
    assert over == {fleet["a-2b"][1], fleet["a-2a"][2]}


def test_batch_collect_starts_one_rate_controlled_automation(
    ctx: Any, fake: SsmFake, fleet: dict[str, list[str]]
) -> None:
    result = batch(ctx, {"clusterName": CLUSTER, "samplesPerBucket": 1, "maxConcurrency": 3, "maxErrors": 1})

    check_output("nodelog", "batch_collect", result)
    (request,) = fake.start_requests  # one call for the whole fleet: SSM paces it
    assert request["DocumentName"] == COLLECT_DOCUMENT
    assert request["MaxConcurrency"] == "3" and request["MaxErrors"] == "1"
    assert "Targets" not in request and "InstanceId" not in request["Parameters"]
    maps = {m["InstanceId"][0]: m["BundleId"][0] for m in request["TargetMaps"]}
    assert maps == {n["instanceId"]: n["bundleId"] for n in result["nodes"]}
    for instance_id, bundle_id in maps.items():
        job = ctx.jobs.get_job(bundle_id)
        assert job["instance_id"] == instance_id and job["batch_id"] == result["batchId"]
        assert job["state"] == "collecting" and job["parent_execution_id"] == result["executionId"]
    record = ctx.jobs.get_record("batch", result["batchId"])
    assert record["execution_id"] == result["executionId"] and len(record["nodes"]) == 4


def test_explicit_instance_ids_are_collected_exactly(ctx: Any, fake: SsmFake, fleet: dict[str, list[str]]) -> None:
    wanted = fleet["a-2a"][:2] + fleet["stopped"]
    result = batch(ctx, {"clusterName": CLUSTER, "instanceIds": wanted})
    assert [n["instanceId"] for n in result["nodes"]] == fleet["a-2a"][:2]
    assert result["plan"]["skipped"] == [{"instanceId": fleet["stopped"][0], "reason": "instance is stopped"}]


def test_instance_ids_outside_the_cluster_are_rejected(ctx: Any, fake: SsmFake, ec2: Any, fleet: Any) -> None:
    stranger = launch_ssm_node(ec2, fake, managed_tags("other"), az="us-west-2a")
    error = batch(ctx, {"clusterName": CLUSTER, "instanceIds": [fleet["a-2a"][0], stranger]})["error"]
    assert error["code"] == "InvalidArgument" and error["details"] == {"notInCluster": [stranger]}
    assert fake.start_requests == []


def test_a_cluster_without_nodes_is_not_found(ctx: Any, fake: SsmFake) -> None:
    assert batch(ctx, {"clusterName": "empty"})["error"]["code"] == "NotFound"


def test_a_cluster_without_eligible_nodes_is_not_ready(ctx: Any, fake: SsmFake, ec2: Any) -> None:
    launch_ssm_node(ec2, fake, managed_tags(CLUSTER), az="us-west-2a", ping="ConnectionLost")
    assert batch(ctx, {"clusterName": CLUSTER})["error"]["code"] == "NotReady"
    assert fake.start_requests == []


def test_the_same_batch_token_starts_one_automation(ctx: Any, fake: SsmFake, fleet: Any) -> None:
    first = batch(ctx, {"clusterName": CLUSTER, "idempotencyToken": "fleet-1"})
    second = batch(ctx, {"clusterName": CLUSTER, "idempotencyToken": "fleet-1"})
    assert second["batchId"] == first["batchId"] and second["idempotent"] is True
    assert len(fake.start_requests) == 1
    check_output("nodelog", "batch_collect", second)


def test_batch_status_reports_every_node_and_finishes(ctx: Any, fake: SsmFake, fleet: dict[str, list[str]]) -> None:
    started = batch(ctx, {"clusterName": CLUSTER, "samplesPerBucket": 1})
    parent = started["executionId"]
    bundles = {n["instanceId"]: n["bundleId"] for n in started["nodes"]}

    waiting = batch_status(ctx, started["batchId"])
    check_output("nodelog", "batch_status", waiting)
    assert waiting["allComplete"] is False and {n["state"] for n in waiting["nodes"]} == {"pending"}

    children = fake.spawn_children(parent, count=3)
    by_instance = {fake.executions[c]["Parameters"]["InstanceId"][0]: c for c in children}
    ok, failed, slow = list(by_instance)
    fake.finish(by_instance[ok], "Success")
    ctx.jobs.update_job(bundles[ok], state="indexed", counts={"HIGH": 1})
    fake.finish(by_instance[failed], "Failed", failure="RunCollector failed: no space left on device")
    fake.finish(by_instance[slow], "TimedOut")
    fake.finish(parent, "CompletedWithFailure")

    result = batch_status(ctx, started["batchId"])
    check_output("nodelog", "batch_status", result)
    states = {n["instanceId"]: n for n in result["nodes"]}
    assert states[ok]["state"] == "indexed" and states[ok]["executionId"] == by_instance[ok]
    assert states[failed]["state"] == "failed" and "no space left" in states[failed]["failureReason"]
    assert states[slow]["state"] == "timed_out" and states[slow]["done"] is True
    (never,) = [n for n in result["nodes"] if n["instanceId"] not in by_instance]
    assert never["state"] == "not_started" and never["done"] is True
    assert result["allComplete"] is True and "pollAfterSeconds" not in result
    assert result["summary"] == {
        "total": 4, "indexed": 1, "succeeded": 1, "failed": 2, "running": 0, "notStarted": 1
    }  # fmt: skip
    # the failed child's job is marked failed, and status by bundleId finds the child execution
    assert ctx.jobs.get_job(bundles[failed])["state"] == "failed"
    single = call(ctx, "nodelog", "status", {"bundleId": bundles[slow]})
    assert single["executionId"] == by_instance[slow] and single["state"] == "timed_out"


def test_batch_status_learns_children_once(ctx: Any, fake: SsmFake, fleet: Any) -> None:
    started = batch(ctx, {"clusterName": CLUSTER, "samplesPerBucket": 1})
    fake.spawn_children(started["executionId"])
    batch_status(ctx, started["batchId"])
    record = ctx.jobs.get_record("batch", started["batchId"])
    assert len(record["children"]) == 4
    for bundle in (n["bundleId"] for n in started["nodes"]):
        assert ctx.jobs.get_job(bundle)["execution_id"] in record["children"]


def test_an_unknown_batch_is_not_found(ctx: Any) -> None:
    assert batch_status(ctx, "bt-20260101000000-0badc0de")["error"]["code"] == "NotFound"


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"clusterName": CLUSTER, "samplesPerBucket": 0},
        {"clusterName": CLUSTER, "samplesPerBucket": 11},
        {"clusterName": CLUSTER, "maxNodes": 51},
        {"clusterName": CLUSTER, "maxConcurrency": 0},
        {"clusterName": CLUSTER, "maxConcurrency": "10%"},
        {"clusterName": CLUSTER, "maxErrors": -1},
        {"clusterName": CLUSTER, "instanceIds": []},
        {"clusterName": CLUSTER, "instanceIds": ["i-0123456789abcdef0", "i-0123456789abcdef0"]},
        {"clusterName": CLUSTER, "instanceIds": ["i-nope"]},
        {"clusterName": CLUSTER, "instanceIds": [f"i-{n:017x}" for n in range(51)]},
        {"clusterName": CLUSTER, "dryRun": "true"},
        {"clusterName": CLUSTER, "region": "eu-central-1"},
        {"clusterName": CLUSTER, "strategy": "all"},
    ],
    ids=[
        "missing",
        "samples-zero",
        "samples-high",
        "max-nodes-high",
        "concurrency-zero",
        "concurrency-percent",
        "errors-negative",
        "ids-empty",
        "ids-duplicate",
        "ids-bad",
        "ids-too-many",
        "dry-run-string",
        "region",
        "unknown",
    ],
)
def test_batch_collect_rejects_bad_arguments(ctx: Any, fake: SsmFake, args: Any) -> None:
    assert batch(ctx, args)["error"]["code"] == "InvalidArgument"
    assert fake.start_requests == []


@pytest.mark.parametrize("batch_id", ["bt-1", "b-20260101000000-0badc0de", "BT-20260101000000-0badc0de", 5])
def test_batch_status_rejects_bad_batch_ids(ctx: Any, batch_id: Any) -> None:
    assert call(ctx, "nodelog", "batch_status", {"batchId": batch_id})["error"]["code"] == "InvalidArgument"


# -- the sampling plan, as a property -----------------------------------------------------------------

_node_specs = st.lists(
    st.tuples(
        st.sampled_from(["ng-a", "ng-b", "spot", ""]),
        st.sampled_from(["us-west-2a", "us-west-2b"]),
        st.sampled_from(["m5.large", "c5.xlarge"]),
        st.sampled_from(["running", "running", "running", "stopped"]),
        st.sampled_from(["Online", "Online", "ConnectionLost", None]),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(specs=_node_specs, samples=st.integers(1, 10), max_nodes=st.integers(1, 50), seed=st.randoms())
def test_sampling_plan_is_bounded_fair_and_deterministic(
    specs: list[tuple[str, str, str, str, str | None]], samples: int, max_nodes: int, seed: Any
) -> None:
    nodes = [
        Node(f"i-{i:017x}", state, itype, az, "demo", group, "managed-nodegroup", "", "")
        for i, (group, az, itype, state, _) in enumerate(specs)
    ]
    info = {n.instance_id: {"pingStatus": s[4]} for n, s in zip(nodes, specs, strict=True) if s[4] is not None}
    plan = plan_sample(nodes, info, samples, max_nodes)
    shuffled = list(nodes)
    seed.shuffle(shuffled)
    assert plan_sample(shuffled, info, samples, max_nodes) == plan

    selected = plan["selected"]
    eligible = {
        n.instance_id
        for n in nodes
        if n.state == "running" and info.get(n.instance_id, {}).get("pingStatus") == "Online"
    }
    assert len(selected) == len(set(selected)) <= max_nodes and set(selected) <= eligible
    rows = plan["buckets"]
    assert sum(len(b["sampled"]) for b in rows) == len(selected)
    for row in rows:
        assert len(row["sampled"]) <= min(samples, row["eligibleNodes"])
    if len(selected) < max_nodes:  # nothing was cut: every bucket got all it could
        assert all(len(b["sampled"]) == min(samples, b["eligibleNodes"]) for b in rows)
    for a in rows:  # round-robin: no bucket is two nodes ahead of one that could still give more
        for b in rows:
            if len(b["sampled"]) < min(samples, b["eligibleNodes"]):
                assert len(a["sampled"]) <= len(b["sampled"]) + 1
    skipped = {s["instanceId"] for s in plan["skipped"]}
    assert skipped.isdisjoint(selected) and {n.instance_id for n in nodes} - eligible <= skipped
