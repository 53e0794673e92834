"""nodelog___history: newest first, per node or all, filters applied before the limit (ref bug B23)."""

from __future__ import annotations

from typing import Any

import pytest
from eksdiag.tools.base import iso, new_bundle_id

from tests.tools.ssm_fake import Clock, call, check_output

NODE_A = "i-0aaaaaaaaaaaaaaaa"
NODE_B = "i-0bbbbbbbbbbbbbbbb"


def add_job(ctx: Any, clock: Clock, instance_id: str, state: str, **extra: Any) -> str:
    clock.advance(seconds=61)  # bundle ids carry their creation second: keep them ordered
    bundle_id = new_bundle_id(clock())
    ctx.jobs.create_job(
        {"bundle_id": bundle_id, "instance_id": instance_id, "region": "us-west-2", "state": state,
         "created_at": iso(clock()), **extra}
    )  # fmt: skip
    return bundle_id


def history(ctx: Any, args: Any) -> dict[str, Any]:
    return call(ctx, "nodelog", "history", args)


def test_history_lists_newest_first(ctx: Any, clock: Clock) -> None:
    older = add_job(
        ctx, clock, NODE_A, "indexed", counts={"CRITICAL": 2}, execution_id="01234567-89ab-cdef-0123-456789abcdef"
    )
    newer = add_job(ctx, clock, NODE_B, "collecting", cluster="demo")
    result = history(ctx, {})

    check_output("nodelog", "history", result)
    assert [j["bundleId"] for j in result["jobs"]] == [newer, older]
    assert result["jobs"][0]["clusterName"] == "demo"
    assert result["jobs"][1]["findingCounts"]["CRITICAL"] == 2
    assert result["count"] == 2 and result["truncated"] is False


def test_history_of_one_node_only_shows_that_node(ctx: Any, clock: Clock) -> None:
    mine = [add_job(ctx, clock, NODE_A, "indexed") for _ in range(3)]
    for _ in range(5):
        add_job(ctx, clock, NODE_B, "indexed")
    result = history(ctx, {"instanceId": NODE_A, "limit": 3})
    assert [j["bundleId"] for j in result["jobs"]] == mine[::-1]


def test_a_state_filter_applies_before_the_limit(ctx: Any, clock: Clock) -> None:
    """The reference sample cut to MaxResults first and filtered afterwards, so this came back empty."""
    wanted = [add_job(ctx, clock, NODE_A, "failed", failure_reason="Failed: exit 2") for _ in range(3)]
    for _ in range(10):
        add_job(ctx, clock, NODE_A, "indexed")
    result = history(ctx, {"instanceId": NODE_A, "state": "failed", "limit": 2})

    assert [j["bundleId"] for j in result["jobs"]] == wanted[::-1][:2]
    assert all(j["state"] == "failed" and j["failureReason"] == "Failed: exit 2" for j in result["jobs"])
    assert result["truncated"] is True


def test_the_limit_is_respected_and_reports_more(ctx: Any, clock: Clock) -> None:
    for _ in range(4):
        add_job(ctx, clock, NODE_A, "indexed")
    result = history(ctx, {"limit": 3})
    assert result["count"] == 3 and result["truncated"] is True


def test_no_history_says_how_to_start(ctx: Any) -> None:
    result = history(ctx, {"instanceId": NODE_A})
    assert result == {"jobs": [], "count": 0, "truncated": False, "nextStep": result["nextStep"]}
    assert "nodelog___collect" in result["nextStep"]


@pytest.mark.parametrize(
    "args",
    [
        {"limit": 0},
        {"limit": 51},
        {"limit": "5"},
        {"limit": True},
        {"limit": 2.5},
        {"instanceId": "i-xyz"},
        {"state": "done"},
        {"instanceId": NODE_A, "region": "us-west-2"},
    ],
    ids=["limit-zero", "limit-high", "limit-string", "limit-bool", "limit-float", "bad-id", "bad-state", "unknown"],
)
def test_history_rejects_bad_arguments(ctx: Any, args: Any) -> None:
    assert history(ctx, args)["error"]["code"] == "InvalidArgument"
