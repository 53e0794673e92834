"""nodelog___status: Automation progress + indexing state, terminal states are terminal.

GetAutomationExecution is served by tests.tools.ssm_fake.SsmFake (moto 5.2.5 does not implement it).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from eksdiag.tools.base import iso, new_bundle_id

from tests.tools.ssm_fake import (
    Clock,
    SsmFake,
    call,
    check_output,
    launch_ssm_node,
    managed_tags,
)

REGION = "us-west-2"


@pytest.fixture
def started(ctx: Any, fake: SsmFake, ec2: Any) -> dict[str, Any]:
    """A collection started with nodelog___collect on a healthy managed node."""
    instance_id = launch_ssm_node(ec2, fake, managed_tags("demo"))
    result = call(ctx, "nodelog", "collect", {"instanceId": instance_id})
    assert "error" not in result, result
    return result


def status(ctx: Any, args: Any) -> dict[str, Any]:
    return call(ctx, "nodelog", "status", args)


def test_a_running_collection_reports_progress_and_when_to_poll(
    ctx: Any, fake: SsmFake, started: dict[str, Any]
) -> None:
    fake.finish(started["executionId"], "InProgress")
    result = status(ctx, {"bundleId": started["bundleId"]})

    check_output("nodelog", "status", result)
    assert result["state"] == "collecting" and result["done"] is False and result["indexed"] is False
    assert result["automationStatus"] == "InProgress" and result["pollAfterSeconds"] > 0
    steps = fake.documents["eksdiag-collect"].steps
    assert result["progress"]["stepsDone"] == 1 and result["progress"]["stepsTotal"] == len(steps)
    assert result["progress"]["currentStep"] == steps[1] and 0 < result["progress"]["percent"] < 100
    assert result["bundleId"] == started["bundleId"] and result["instanceId"] == started["instanceId"]


@pytest.mark.parametrize(
    ("automation_status", "state"),
    [
        ("Failed", "failed"),
        ("TimedOut", "timed_out"),
        ("Cancelled", "cancelled"),
        ("CompletedWithFailure", "failed"),
        ("Rejected", "cancelled"),
        ("Exited", "failed"),
    ],
)
def test_a_terminal_failure_is_done_with_its_reason(
    ctx: Any, fake: SsmFake, started: dict[str, Any], automation_status: str, state: str
) -> None:
    fake.finish(started["executionId"], automation_status, failure=f"RunCollector {automation_status}: exit 2")
    result = status(ctx, {"bundleId": started["bundleId"]})

    check_output("nodelog", "status", result)
    assert result["done"] is True and result["state"] == state and "pollAfterSeconds" not in result
    assert f"RunCollector {automation_status}" in result["failureReason"]
    assert result["progress"]["percent"] == 100 and "endedAt" in result
    job = ctx.jobs.get_job(started["bundleId"])
    assert job["state"] == "failed" and automation_status in job["failure_reason"]


def test_the_failure_reason_falls_back_to_the_failed_step(ctx: Any, fake: SsmFake, started: dict[str, Any]) -> None:
    fake.finish(started["executionId"], "Failed")
    execution = fake.executions[started["executionId"]]
    execution["StepExecutions"][-1]["FailureMessage"] = "Step fails when it is verifying the command has completed."
    result = status(ctx, {"bundleId": started["bundleId"]})
    assert result["failureReason"] == "Step fails when it is verifying the command has completed."


def test_an_unknown_status_with_an_end_time_is_still_terminal(ctx: Any, fake: SsmFake, started: dict[str, Any]) -> None:
    fake.finish(started["executionId"], "SomeFutureStatus")
    result = status(ctx, {"bundleId": started["bundleId"]})
    assert result["done"] is True and result["state"] == "failed"


def test_success_before_the_index_exists_says_indexing(ctx: Any, fake: SsmFake, started: dict[str, Any]) -> None:
    fake.finish(started["executionId"], "Success")
    result = status(ctx, {"bundleId": started["bundleId"]})
    assert result["state"] == "indexing" and result["done"] is False and result["pollAfterSeconds"] > 0
    assert result["automationStatus"] == "Success"


def test_success_without_an_index_stops_after_the_grace_period(
    ctx: Any, fake: SsmFake, clock: Clock, started: dict[str, Any]
) -> None:
    fake.finish(started["executionId"], "Success")
    clock.advance(minutes=16)
    result = status(ctx, {"bundleId": started["bundleId"]})
    assert result["done"] is True and result["state"] == "index_missing" and "upload" in result["failureReason"]


def test_an_indexed_bundle_is_done_with_finding_counts(ctx: Any, fake: SsmFake, started: dict[str, Any]) -> None:
    fake.finish(started["executionId"], "Success")
    ctx.jobs.update_job(
        started["bundleId"], state="indexed", counts={"findings": 4, "CRITICAL": 1, "HIGH": 3}, indexed_at="x"
    )
    result = status(ctx, {"bundleId": started["bundleId"]})

    check_output("nodelog", "status", result)
    assert result["state"] == "indexed" and result["done"] is True and result["indexed"] is True
    assert result["findingCounts"] == {"CRITICAL": 1, "HIGH": 3, "MEDIUM": 0, "LOW": 0, "INFO": 0}
    assert "findings___errors" in result["nextStep"]


def test_an_indexer_failure_is_done_with_its_error(ctx: Any, fake: SsmFake, started: dict[str, Any]) -> None:
    fake.finish(started["executionId"], "Success")
    ctx.jobs.update_job(started["bundleId"], state="failed", error="not a gzip archive")
    result = status(ctx, {"bundleId": started["bundleId"]})
    assert result["done"] is True and result["state"] == "failed" and result["failureReason"] == "not a gzip archive"


def test_status_by_execution_id_finds_the_bundle(ctx: Any, fake: SsmFake, started: dict[str, Any]) -> None:
    fake.finish(started["executionId"], "InProgress")
    result = status(ctx, {"executionId": started["executionId"]})
    assert result["bundleId"] == started["bundleId"] and result["state"] == "collecting"


def test_status_refuses_an_execution_of_another_document(ctx: Any, fake: SsmFake, started: dict[str, Any]) -> None:
    fake.add_document("SomeoneElsesRunbook", "schemaVersion: '0.3'\nparameters: {}\nmainSteps: []\n")
    other = boto3.client("ssm", region_name=REGION)
    fake.attach(other)
    execution_id = other.start_automation_execution(DocumentName="SomeoneElsesRunbook")["AutomationExecutionId"]
    error = status(ctx, {"executionId": execution_id})["error"]
    assert error["code"] == "Forbidden"


def test_a_job_that_never_got_an_execution_ends_as_failed(ctx: Any, clock: Clock) -> None:
    bundle_id = new_bundle_id(clock())
    ctx.jobs.create_job(
        {"bundle_id": bundle_id, "instance_id": "i-0123456789abcdef0", "region": REGION, "state": "collecting",
         "created_at": iso(clock())}
    )  # fmt: skip
    waiting = status(ctx, {"bundleId": bundle_id})
    check_output("nodelog", "status", waiting)
    assert waiting["done"] is False and "executionId" not in waiting
    clock.advance(minutes=11)
    result = status(ctx, {"bundleId": bundle_id})
    assert result["done"] is True and result["state"] == "failed" and "never started" in result["failureReason"]


def test_unknown_ids_are_not_found(ctx: Any) -> None:
    assert status(ctx, {"bundleId": "b-20260101000000-0badc0de"})["error"]["code"] == "NotFound"
    missing = status(ctx, {"executionId": "01234567-89ab-cdef-0123-456789abcdef"})
    assert missing["error"]["code"] == "NotFound"


def test_an_execution_id_of_another_bundle_is_rejected(ctx: Any, fake: SsmFake, started: dict[str, Any]) -> None:
    args = {"bundleId": started["bundleId"], "executionId": "01234567-89ab-cdef-0123-456789abcdef"}
    assert status(ctx, args)["error"]["code"] == "InvalidArgument"


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"region": "us-west-2"},
        {"bundleId": "b-1"},
        {"bundleId": 20260101000000},
        {"bundleId": "../b-20260101000000-0badc0de"},
        {"executionId": "not-a-uuid"},
        {"executionId": "01234567-89AB-CDEF-0123-456789ABCDEF"},
        {"bundleId": "b-20260101000000-0badc0de", "region": "ap-south-1"},
        {"bundleId": "b-20260101000000-0badc0de", "verbose": True},
    ],
    ids=[
        "nothing",
        "region-only",
        "short-bundle",
        "number",
        "path",
        "bad-execution",
        "uppercase-execution",
        "region-not-allowed",
        "unknown-argument",
    ],
)
def test_status_rejects_bad_arguments(ctx: Any, fake: SsmFake, args: Any) -> None:
    assert status(ctx, args)["error"]["code"] == "InvalidArgument"


def test_an_execution_id_that_does_not_match_an_unstarted_bundle_is_rejected(
    ctx: Any, clock: Clock, started: dict[str, Any]
) -> None:
    bundle_id = new_bundle_id(clock())
    ctx.jobs.create_job(
        {"bundle_id": bundle_id, "instance_id": started["instanceId"], "region": REGION, "state": "collecting",
         "created_at": iso(clock())}
    )  # fmt: skip
    error = status(ctx, {"bundleId": bundle_id, "executionId": started["executionId"]})["error"]
    assert error["code"] == "InvalidArgument"
