"""The tool-group Lambda entry points: the AgentCore Gateway event and context shapes, routing,
structured errors, logging without secrets, metrics per tool, and idempotent collect."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from eksdiag.lambda_entry._runtime import GroupHandler, redact
from eksdiag.tools.base import ToolContext, ToolError
from eksdiag.tools.registry import _discover, tools

from tests.tools.conftest import Indexed


class LambdaContext:
    """What Lambda passes as ``context`` (the fields our code and Powertools read)."""

    function_name = "eksdiag-findings"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-west-2:123456789012:function:eksdiag-findings"
    memory_limit_in_mb = 512
    aws_request_id = "8d5f6c3e-0000-4000-8000-000000000001"
    log_group_name = "/aws/lambda/eksdiag-findings"
    log_stream_name = "2026/03/06/[$LATEST]abc"

    def __init__(self, client_context: Any) -> None:
        self.client_context = client_context

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def gateway_context(tool_name: str | None, **extra: str) -> LambdaContext:
    custom: dict[str, Any] = {
        "bedrockAgentCoreMessageVersion": "1.0",
        "bedrockAgentCoreAwsRequestId": "req-1",
        "bedrockAgentCoreMcpMessageId": "msg-1",
        "bedrockAgentCoreGatewayId": "gw-1",
        "bedrockAgentCoreTargetId": "tg-1",
        **extra,
    }
    if tool_name is not None:
        custom["bedrockAgentCoreToolName"] = tool_name
    return LambdaContext(SimpleNamespace(custom=custom, client=None, env=None))


@pytest.fixture
def handler(indexed: Indexed) -> Iterator[GroupHandler]:
    yield GroupHandler("findings", context_factory=lambda: indexed.ctx)


def test_a_gateway_call_returns_the_plain_result(handler: GroupHandler, indexed: Indexed) -> None:
    result = handler({"bundleId": indexed.faulty, "pageSize": 2}, gateway_context("findings___errors"))
    assert result["bundleId"] == indexed.faulty and len(result["findings"]) == 2
    assert "statusCode" not in result and "body" not in result


@pytest.mark.parametrize("target", ["findings", "EksDiagFindings", "t-1"])
def test_routing_uses_the_tool_name_after_the_target_prefix(
    handler: GroupHandler, indexed: Indexed, target: str
) -> None:
    result = handler({"bundleId": indexed.faulty}, gateway_context(f"{target}___validate"))
    assert result["complete"] is True


@pytest.mark.parametrize(
    "context",
    [
        LambdaContext(None),
        LambdaContext(SimpleNamespace(custom=None)),
        LambdaContext(SimpleNamespace(custom={"bedrockAgentCoreMessageVersion": "1.0"})),
        gateway_context(""),
        SimpleNamespace(),
    ],
    ids=["client-context-none", "custom-none", "tool-name-missing", "tool-name-empty", "no-client-context-attribute"],
)
def test_a_missing_tool_name_is_a_clear_error_not_a_crash(handler: GroupHandler, context: Any) -> None:
    result = handler({}, context)
    assert result["error"]["code"] == "InvalidArgument" and "bedrockAgentCoreToolName" in result["error"]["message"]


@pytest.mark.parametrize("name", ["findings___nope", "findings___collect", "errors___", "nodelog___collect"])
def test_an_unknown_tool_lists_the_groups_tools(handler: GroupHandler, name: str) -> None:
    result = handler({}, gateway_context(name))
    assert result["error"]["code"] == "NotFound"
    assert "findings___errors" in result["error"]["details"]["availableTools"]


@pytest.mark.parametrize("event", [None, {}, {"bundleId": 3}, [], "x"])
def test_bad_events_are_structured_errors(handler: GroupHandler, event: Any) -> None:
    result = handler(event, gateway_context("findings___errors"))
    assert result["error"]["code"] == "InvalidArgument"


def test_a_real_fault_raises(handler: GroupHandler, indexed: Indexed, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        raise KeyError("bug")

    spec = tools()["findings___validate"]
    monkeypatch.setitem(_discover("findings"), "findings___validate", dataclasses.replace(spec, run=broken))
    with pytest.raises(KeyError):
        handler({"bundleId": indexed.faulty}, gateway_context("findings___validate"))


def test_metrics_per_tool_and_logs_without_presigned_urls(
    handler: GroupHandler, indexed: Indexed, capsys: pytest.CaptureFixture[str]
) -> None:
    result = handler(
        {"bundleId": indexed.faulty, "path": "kubelet/kubelet.log"}, gateway_context("findings___artifact")
    )
    handler({"bundleId": "bad"}, gateway_context("findings___artifact"))
    out = capsys.readouterr().out
    assert result["url"] not in out and "X-Amz-Signature" not in out
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    metrics = [r for r in records if "_aws" in r]
    assert [m["tool"] for m in metrics] == ["artifact", "artifact"]
    assert metrics[0]["ToolInvocations"] == [1.0] and "ToolErrors" not in metrics[0]
    assert metrics[1]["ToolErrors"] == [1.0]
    assert {m["Name"] for m in metrics[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"]} == {
        "ToolInvocations",
        "ToolLatency",
    }
    calls = [r for r in records if r.get("message") == "tool call"]
    assert calls and calls[0]["tool"] == "findings___artifact" and calls[0]["gateway_request_id"] == "req-1"


def test_redact_hides_secrets_and_signed_urls() -> None:
    url = "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F&X-Amz-Signature=abc"
    cleaned = redact({"uploadUrl": url, "note": f"put it at {url} now", "token": "t", "instanceId": "i-0123abcd"})
    assert cleaned == {
        "uploadUrl": "[redacted]",
        "note": "put it at [redacted-url] now",
        "token": "[redacted]",
        "instanceId": "i-0123abcd",
    }


def test_the_module_handlers_build_their_context_from_the_environment(
    aws_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from eksdiag.lambda_entry import findings, runbooks

    for key, value in aws_env["env"].items():
        monkeypatch.setenv(key, value)
    try:
        listed = runbooks.handler({}, gateway_context("runbooks___list_sops"))
        assert listed["count"] > 0
        missing = findings.handler({"bundleId": "b-20260101120000-00000001"}, gateway_context("findings___errors"))
        assert missing["error"]["code"] == "NotFound"
    finally:
        findings.handler.reset()
        runbooks.handler.reset()


# ---------------------------------------------------------------- idempotent collect


@pytest.fixture
def counting_collect(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace nodelog collect's run with one that counts starts (the real one needs SSM)."""
    calls: list[dict[str, Any]] = []

    def run(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        calls.append(args)
        if args["instanceId"] == "i-0badbadbadbadbad0" and len(calls) == 1:
            raise ToolError("NotReady", "SSM agent offline", retryable=True)
        return {
            "bundleId": f"b-20260306183000-{len(calls):08x}",
            "instanceId": args["instanceId"],
            "region": "us-west-2",
            "state": "collecting",
            "idempotent": False,
            "pollAfterSeconds": 15,
            "nextStep": "poll",
        }

    spec = tools()["nodelog___collect"]
    monkeypatch.setitem(_discover("nodelog"), "nodelog___collect", dataclasses.replace(spec, run=run))
    return calls


def test_the_same_collect_request_twice_starts_one_collection(
    aws_ctx: ToolContext, counting_collect: list[dict[str, Any]]
) -> None:
    handler = GroupHandler("nodelog", context_factory=lambda: aws_ctx)
    first = handler({"instanceId": "i-0123456789abcdef0"}, gateway_context("nodelog___collect"))
    second = handler({"instanceId": "i-0123456789abcdef0"}, gateway_context("nodelog___collect"))
    assert first == second and len(counting_collect) == 1
    other = handler(
        {"instanceId": "i-0123456789abcdef0", "idempotencyToken": "t2"}, gateway_context("nodelog___collect")
    )
    assert other["bundleId"] != first["bundleId"] and len(counting_collect) == 2
    items = aws_ctx.aws("dynamodb").scan(TableName=aws_ctx.settings.table)["Items"]
    assert sum(i["pk"]["S"] == "idempotency#eksdiag-nodelog" for i in items) == 2


def test_a_collect_error_is_not_replayed(aws_ctx: ToolContext, counting_collect: list[dict[str, Any]]) -> None:
    handler = GroupHandler("nodelog", context_factory=lambda: aws_ctx)
    failed = handler({"instanceId": "i-0badbadbadbadbad0"}, gateway_context("nodelog___collect"))
    assert failed["error"]["code"] == "NotReady" and failed["error"]["retryable"]
    retried = handler({"instanceId": "i-0badbadbadbadbad0"}, gateway_context("nodelog___collect"))
    assert retried["state"] == "collecting" and len(counting_collect) == 2


def test_collect_arguments_are_validated_before_idempotency(
    aws_ctx: ToolContext, counting_collect: list[dict[str, Any]]
) -> None:
    handler = GroupHandler("nodelog", context_factory=lambda: aws_ctx)
    result = handler({"instanceId": "i-nope"}, gateway_context("nodelog___collect"))
    assert result["error"]["code"] == "InvalidArgument" and counting_collect == []


def test_each_group_entry_serves_its_own_tools(aws_ctx: ToolContext) -> None:
    nodelog = GroupHandler("nodelog", context_factory=lambda: aws_ctx)
    history = nodelog({}, gateway_context("nodelog___history"))
    assert history["jobs"] == [] and history["count"] == 0
    capture = GroupHandler("capture", context_factory=lambda: aws_ctx)
    wrong = capture({}, gateway_context("capture___errors"))
    assert wrong["error"]["code"] == "NotFound"
    assert set(wrong["error"]["details"]["availableTools"]) == {
        "capture___tcpdump_capture",
        "capture___tcpdump_analyze",
    }
