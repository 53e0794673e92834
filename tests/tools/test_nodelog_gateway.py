"""helper B's tools through the real Lambda entry points, with the AgentCore Gateway event and context.

The event is the bare argument map; the tool name is in context.client_context.custom. collect goes
through the entry's Powertools idempotency (DynamoDB on moto) and the tool's own guards.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from eksdiag.lambda_entry._runtime import GroupHandler

from tests.tools.ssm_fake import (
    SsmFake,
    call,
    check_output,
    karpenter_tags,
    launch_ssm_node,
)


def gateway_context(tool: str) -> Any:
    custom = {
        "bedrockAgentCoreToolName": tool,
        "bedrockAgentCoreMessageVersion": "1.0",
        "bedrockAgentCoreAwsRequestId": "req-1",
        "bedrockAgentCoreMcpMessageId": "7",
        "bedrockAgentCoreGatewayId": "gw-1",
        "bedrockAgentCoreTargetId": "t-1",
    }
    return SimpleNamespace(
        client_context=SimpleNamespace(custom=custom),
        function_name="eksdiag-nodelog",
        memory_limit_in_mb=512,
        invoked_function_arn="arn:aws:lambda:us-west-2:123456789012:function:eksdiag-nodelog",
        aws_request_id="lambda-req-1",
        get_remaining_time_in_millis=lambda: 30_000,
    )


@pytest.fixture(autouse=True)
def metrics_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "eksdiag-test")


@pytest.fixture
def node(ec2: Any, fake: SsmFake) -> str:
    return launch_ssm_node(ec2, fake, karpenter_tags("demo"))


def test_collect_twice_through_the_gateway_starts_one_automation(ctx: Any, fake: SsmFake, node: str) -> None:
    handler = GroupHandler("nodelog", context_factory=lambda: ctx)
    first = handler({"instanceId": node}, gateway_context("nodelog___collect"))
    second = handler({"instanceId": node}, gateway_context("nodelog___collect"))
    assert "error" not in first, first
    assert second["bundleId"] == first["bundleId"] and len(fake.start_requests) == 1

    status = handler({"bundleId": first["bundleId"]}, gateway_context("nodelog___status"))
    assert status["state"] == "collecting" and status["executionId"] == first["executionId"]


def test_a_bad_argument_through_the_gateway_is_a_structured_error(ctx: Any, fake: SsmFake) -> None:
    handler = GroupHandler("nodelog", context_factory=lambda: ctx)
    result = handler({"instanceId": "i-; rm -rf /"}, gateway_context("nodelog___collect"))
    assert result["error"]["code"] == "InvalidArgument" and fake.start_requests == []


def test_capture_through_the_gateway(ctx: Any, fake: SsmFake, node: str) -> None:
    if fake.documents.get("eksdiag-packet-capture") is None:
        pytest.skip("needs ssm/documents/packet-capture.yaml")
    handler = GroupHandler("capture", context_factory=lambda: ctx)
    started = handler({"instanceId": node, "filter": "tcp port 443"}, gateway_context("capture___tcpdump_capture"))
    assert started["commandId"] and len(fake.send_requests) == 1
    polled = handler({"captureId": started["captureId"]}, gateway_context("capture___tcpdump_analyze"))
    assert polled["commandStatus"] == "Success" and polled["done"] is True


# -- local mode (eksdiag serve): no AWS ------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "name", "args"),
    [
        ("nodelog", "cluster_health", {"clusterName": "demo"}),
        ("nodelog", "batch_collect", {"clusterName": "demo", "dryRun": True}),
        ("nodelog", "batch_status", {"batchId": "bt-20260101000000-0badc0de"}),
        ("capture", "tcpdump_capture", {"instanceId": "i-0123456789abcdef0"}),
        ("capture", "tcpdump_analyze", {"captureId": "cap-20260101000000-0badc0de"}),
    ],
)
def test_aws_only_tools_say_so_when_serving_local_bundles(local_ctx: Any, group: str, name: str, args: Any) -> None:
    error = call(local_ctx, group, name, args)["error"]
    assert error["code"] == "Upstream" and "local" in error["message"]


def test_history_works_on_the_local_job_store(local_ctx: Any) -> None:
    local_ctx.jobs.create_job(
        {"bundle_id": "b-20260101000000-0badc0de", "instance_id": "i-0123456789abcdef0", "state": "indexed",
         "created_at": "2026-01-01T00:00:00Z"}
    )  # fmt: skip
    result = call(local_ctx, "nodelog", "history", {})
    check_output("nodelog", "history", result)
    assert [j["bundleId"] for j in result["jobs"]] == ["b-20260101000000-0badc0de"]
