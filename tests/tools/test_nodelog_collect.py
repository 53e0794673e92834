"""nodelog___collect on moto EC2/S3/DynamoDB, with SSM Automation calls served by ssm_fake.SsmFake.

moto 5.2.5 lacks StartAutomationExecution and DescribeInstanceInformation; SsmFake answers those two
on the real boto3 client (botocore before-call hook, like Stubber), validating requests against the
SSM API model including the max lengths botocore itself never checks.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError
from eksdiag.tools.nodelog._automation import MAX_PARAMETER_VALUE, collect_parameters
from eksdiag.tools.validate import BUNDLE_ID_PATTERN, EXECUTION_ID_PATTERN

from tests.tools.ssm_fake import (
    COLLECT_DOCUMENT,
    Clock,
    SsmFake,
    call,
    check_limits,
    check_output,
    document_text,
    karpenter_tags,
    launch_ssm_node,
    make_context,
    managed_tags,
    self_managed_tags,
)

REGION = "us-west-2"
CLUSTER = "prod-east"


@pytest.fixture
def node(ec2: Any, fake: SsmFake) -> str:
    return launch_ssm_node(ec2, fake, managed_tags(CLUSTER))


def collect(ctx: Any, args: Any) -> dict[str, Any]:
    return call(ctx, "nodelog", "collect", args)


def test_collect_starts_the_automation_and_records_a_collecting_job(ctx: Any, fake: SsmFake, node: str) -> None:
    result = collect(ctx, {"instanceId": node})

    check_output("nodelog", "collect", result)
    assert re.fullmatch(BUNDLE_ID_PATTERN, result["bundleId"])
    assert re.fullmatch(EXECUTION_ID_PATTERN, result["executionId"])
    assert result["clusterName"] == CLUSTER and result["state"] == "collecting" and not result["idempotent"]
    assert result["pollAfterSeconds"] > 0 and result["bundleId"] in result["nextStep"]

    (request,) = fake.start_requests
    assert request["DocumentName"] == COLLECT_DOCUMENT
    params = request["Parameters"]
    assert params["InstanceId"] == [node] and params["BundleId"] == [result["bundleId"]]
    assert params["Bucket"] == [ctx.settings.bucket] and params["KmsKeyId"] == [ctx.settings.kms_key_arn]
    assert params["AutomationAssumeRole"] == [ctx.settings.automation_role_arn]
    assert "ClientToken" not in request

    job = ctx.jobs.get_job(result["bundleId"])
    assert job["state"] == "collecting" and job["execution_id"] == result["executionId"]
    assert job["instance_id"] == node and job["cluster"] == CLUSTER and job["region"] == REGION
    assert job["upload_key"] == f"uploads/{node}/{result['bundleId']}.tar.gz"


@pytest.mark.parametrize(
    "tags",
    [managed_tags(CLUSTER), self_managed_tags(CLUSTER), karpenter_tags(CLUSTER), {"eks:cluster-name": CLUSTER}],
    ids=["managed-nodegroup", "self-managed", "karpenter", "eks-tag-only"],
)
def test_collect_accepts_every_kind_of_eks_node(ctx: Any, fake: SsmFake, ec2: Any, tags: dict[str, str]) -> None:
    instance_id = launch_ssm_node(ec2, fake, tags)
    result = collect(ctx, {"instanceId": instance_id})
    assert result.get("clusterName") == CLUSTER, result
    assert len(fake.start_requests) == 1


@pytest.mark.parametrize("tags", [{}, {"Name": "bastion"}, {"kubernetes.io/cluster/": "owned"}])
def test_collect_refuses_an_instance_that_is_not_an_eks_node(
    ctx: Any, fake: SsmFake, ec2: Any, tags: dict[str, str]
) -> None:
    instance_id = launch_ssm_node(ec2, fake, tags)
    result = collect(ctx, {"instanceId": instance_id})
    assert result["error"]["code"] == "Forbidden"
    assert fake.start_requests == [] and ctx.jobs.list_jobs(None, 10) == []


@pytest.mark.parametrize("state", ["stopped", "terminated"])
def test_collect_refuses_a_node_that_is_not_running(ctx: Any, fake: SsmFake, ec2: Any, state: str) -> None:
    instance_id = launch_ssm_node(ec2, fake, managed_tags(CLUSTER), state=state)
    error = collect(ctx, {"instanceId": instance_id})["error"]
    assert error["code"] == "NotReady" and state in error["message"] and error["retryable"] is False
    assert fake.start_requests == []


def test_collect_refuses_a_node_ssm_does_not_manage(ctx: Any, fake: SsmFake, ec2: Any) -> None:
    instance_id = launch_ssm_node(ec2, fake, managed_tags(CLUSTER), ping=None)
    error = collect(ctx, {"instanceId": instance_id})["error"]
    assert error["code"] == "NotReady" and error["details"] == {"ssmPingStatus": "NotManaged"}
    assert fake.start_requests == []


@pytest.mark.parametrize("ping", ["ConnectionLost", "Inactive"])
def test_collect_refuses_a_node_whose_ssm_agent_is_offline(ctx: Any, fake: SsmFake, ec2: Any, ping: str) -> None:
    instance_id = launch_ssm_node(ec2, fake, managed_tags(CLUSTER), ping=ping)
    error = collect(ctx, {"instanceId": instance_id})["error"]
    assert error["code"] == "NotReady" and error["retryable"] is True and ping in error["message"]
    assert fake.start_requests == []


def test_collect_reports_an_unknown_instance_as_not_found(ctx: Any, fake: SsmFake, node: str) -> None:
    error = collect(ctx, {"instanceId": "i-0123456789abcdef0"})["error"]
    assert error["code"] == "NotFound" and fake.start_requests == []


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"instanceId": 1234},
        {"instanceId": ["i-0123456789abcdef0"]},
        {"instanceId": "i-123"},
        {"instanceId": "i-0123456789ABCDEF0"},
        {"instanceId": "i-0123456789abcdef0 "},
        {"instanceId": "../../etc/passwd"},
        {"instanceId": "i-0123456789abcdef0", "region": "eu-west-1"},
        {"instanceId": "i-0123456789abcdef0", "region": "not-a-region"},
        {"instanceId": "i-0123456789abcdef0", "region": 5},
        {"instanceId": "i-0123456789abcdef0", "idempotencyToken": "has space"},
        {"instanceId": "i-0123456789abcdef0", "idempotencyToken": "x" * 65},
        {"instanceId": "i-0123456789abcdef0", "idempotencyToken": ""},
        {"instanceId": "i-0123456789abcdef0", "bundleKey": "uploads/x"},
    ],
    ids=[
        "missing",
        "number",
        "list",
        "short-id",
        "uppercase-id",
        "trailing-space",
        "path",
        "region-not-allowed",
        "region-malformed",
        "region-number",
        "token-space",
        "token-too-long",
        "token-empty",
        "unknown-argument",
    ],
)
def test_collect_rejects_bad_arguments_before_any_aws_call(ctx: Any, fake: SsmFake, args: Any) -> None:
    error = collect(ctx, args)["error"]
    assert error["code"] == "InvalidArgument"
    assert fake.start_requests == [] and fake.send_requests == []


def test_collect_works_in_another_allowed_region(ctx: Any, fake: SsmFake, aws_env: dict[str, Any]) -> None:
    ec2_east = boto3.client("ec2", region_name="us-east-1")
    instance_id = launch_ssm_node(ec2_east, fake, managed_tags(CLUSTER))
    result = collect(ctx, {"instanceId": instance_id, "region": "us-east-1"})
    assert result["region"] == "us-east-1" and ctx.jobs.get_job(result["bundleId"])["region"] == "us-east-1"


def test_the_same_token_twice_starts_one_automation(ctx: Any, fake: SsmFake, node: str) -> None:
    first = collect(ctx, {"instanceId": node, "idempotencyToken": "incident-42"})
    second = collect(ctx, {"instanceId": node, "idempotencyToken": "incident-42"})

    assert len(fake.start_requests) == 1
    assert second["bundleId"] == first["bundleId"] and second["executionId"] == first["executionId"]
    assert first["idempotent"] is False and second["idempotent"] is True
    check_output("nodelog", "collect", second)
    assert len(ctx.jobs.list_jobs(node, 10)) == 1
    # SSM gets a UUID ClientToken derived from the token, so SSM itself refuses a duplicate execution
    assert re.fullmatch(r"[0-9a-f-]{36}", fake.start_requests[0]["ClientToken"])


def test_different_tokens_start_separate_collections(ctx: Any, fake: SsmFake, node: str) -> None:
    first = collect(ctx, {"instanceId": node, "idempotencyToken": "a"})
    second = collect(ctx, {"instanceId": node, "idempotencyToken": "b"})
    assert first["bundleId"] != second["bundleId"] and len(fake.start_requests) == 2


def test_a_token_whose_record_is_gone_cannot_start_a_second_automation(ctx: Any, fake: SsmFake, node: str) -> None:
    """Even when our dedup record is lost, SSM's ClientToken refuses a second execution."""
    from eksdiag.tools.nodelog.collect import DEDUP_RECORD, token_key

    collect(ctx, {"instanceId": node, "idempotencyToken": "t1"})
    ctx.jobs.put_record(DEDUP_RECORD, token_key(REGION, node, "t1"), {"bundle_id": "b-20000101000000-00000000"})
    error = collect(ctx, {"instanceId": node, "idempotencyToken": "t1"})["error"]
    assert error["code"] == "Conflict"
    assert len(fake.executions) == 1


def test_a_throttled_start_can_be_retried_with_the_same_token(ctx: Any, fake: SsmFake, node: str) -> None:
    fake.start_errors.append(("AutomationExecutionLimitExceededException", "too many"))
    error = collect(ctx, {"instanceId": node, "idempotencyToken": "retry-me"})["error"]
    assert error["code"] == "Throttled" and error["retryable"] is True
    failed = ctx.jobs.list_jobs(node, 10)
    assert [j["state"] for j in failed] == ["failed"]

    result = collect(ctx, {"instanceId": node, "idempotencyToken": "retry-me"})
    assert result["idempotent"] is False and result["executionId"]
    assert len(fake.executions) == 1


def test_a_missing_collect_document_is_a_fault_and_fails_the_job(ctx: Any, fake: SsmFake, node: str) -> None:
    fake.documents.clear()
    with pytest.raises(ClientError, match="AutomationDefinitionNotFound"):
        collect(ctx, {"instanceId": node})
    (job,) = ctx.jobs.list_jobs(node, 10)
    assert job["state"] == "failed" and "AutomationDefinitionNotFound" in job["failure_reason"]


def test_collect_without_its_settings_is_a_fault(
    aws_env: dict[str, Any], fake: SsmFake, clock: Clock, node: str
) -> None:
    ctx = make_context(aws_env, fake, clock, COLLECT_DOCUMENT_NAME="")
    with pytest.raises(RuntimeError, match="COLLECT_DOCUMENT_NAME"):
        collect(ctx, {"instanceId": node})


# -- why the Automation does not get the presigned URL ---------------------------------------------


def test_a_presigned_put_url_cannot_be_an_automation_parameter() -> None:
    """SSM caps Automation parameter values at 512 characters; a Lambda-signed SSE-KMS PUT URL is longer."""
    session = boto3.Session(
        aws_access_key_id="ASIA" + "X" * 16,
        aws_secret_access_key="s" * 40,
        aws_session_token="IQoJb3JpZ2luX2VjE" + "A" * 900,  # Lambda role session tokens are ~1 KB
        region_name=REGION,
    )
    url = session.client("s3").generate_presigned_url(
        "put_object",
        Params={
            "Bucket": "eksdiag-123456789012-us-west-2",
            "Key": "uploads/i-0123456789abcdef0/b-20260306183000-1a2b3c4d.tar.gz",
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        },
        ExpiresIn=900,
    )
    assert len(url) > MAX_PARAMETER_VALUE
    model = boto3.client("ssm", region_name=REGION).meta.service_model
    shape = model.operation_model("StartAutomationExecution").input_shape
    with pytest.raises(Exception, match="at most 512"):
        check_limits({"DocumentName": COLLECT_DOCUMENT, "Parameters": {"UploadUrl": [url]}}, shape)


def test_collect_parameters_stay_within_ssm_limits(ctx: Any) -> None:
    params = collect_parameters(ctx.settings, "i-0123456789abcdef0", "b-20260306183000-1a2b3c4d")
    assert all(0 < len(v) <= MAX_PARAMETER_VALUE for values in params.values() for v in values)
    assert not any(v.startswith("https://") for values in params.values() for v in values)


def test_collect_parameters_fit_the_ssm_collect_document(ctx: Any, clock: Clock) -> None:
    text = document_text("collect.yaml")
    if text is None:
        pytest.skip("ssm/documents/collect.yaml does not exist yet")
    real = SsmFake(clock)
    real.add_document(COLLECT_DOCUMENT, text)
    params = collect_parameters(ctx.settings, "i-0123456789abcdef0", "b-20260306183000-1a2b3c4d")
    assert real.documents[COLLECT_DOCUMENT].problems(params) == []


def test_presigned_urls_are_never_part_of_the_collect_result(ctx: Any, node: str) -> None:
    result = collect(ctx, {"instanceId": node})
    assert not any(isinstance(v, str) and urlsplit(v).scheme == "https" for v in result.values())
