"""The Python steps of the collect Automation, run as Automation runs them (handler(events, context)).

The AWS calls go to a real botocore SSM client with botocore's Stubber: request parameters are
validated against the service model, responses are the shapes the API returns.
"""

from __future__ import annotations

import importlib.util
import urllib.parse
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from eksdiag.capture import parameters

from tests.ssm.test_parameter_patterns import KMS_ARN

AUTOMATION = Path(__file__).resolve().parents[2] / "ssm" / "automation"
INSTANCE = "i-0123456789abcdef0"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"automation_{name}", AUTOMATION / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


prepare = _load("prepare_upload")
BUNDLE_ID = "b-20260101120000-1a2b3c4d"
BUCKET = "eksdiag-111122223333-us-west-2"


def _request(**overrides: str) -> dict[str, str]:
    return {
        "InstanceId": INSTANCE,
        "BundleId": BUNDLE_ID,
        "Bucket": BUCKET,
        "KmsKeyId": KMS_ARN,
        "UploadExpiresSeconds": "900",
    } | overrides


@pytest.fixture
def role_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """What executeScript gets from the Automation role: temporary credentials with a session token."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIAEXAMPLEEXAMPLE12")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x" * 40)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD" + "A" * 1200)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")  # the execution region; the bucket's comes from the key


def test_prepare_upload_presigns_the_bundle_key_with_sse_kms(role_credentials: None) -> None:
    out = prepare.handler(_request(), None)
    key = f"uploads/{INSTANCE}/{BUNDLE_ID}.tar.gz"
    assert out["BundleKey"] == key
    url = urllib.parse.urlsplit(out["UploadUrl"])
    assert url.scheme == "https" and url.hostname == f"{BUCKET}.s3.us-west-2.amazonaws.com"
    assert url.path == "/" + key
    query = dict(urllib.parse.parse_qsl(url.query))
    assert query["X-Amz-Expires"] == "900"
    assert set(query["X-Amz-SignedHeaders"].split(";")) == {
        "host",
        "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id",
    }
    assert "/us-west-2/s3/aws4_request" in query["X-Amz-Credential"]


def test_prepared_url_is_accepted_by_the_run_collector_document(role_credentials: None) -> None:
    """The URL PrepareUpload makes must pass run-collector's UploadUrl allowedPattern (over 512 chars)."""
    url = prepare.handler(_request(), None)["UploadUrl"]
    assert len(url) > 512
    assert parameters.matches(parameters.S3_PRESIGNED_PUT_URL, url)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"InstanceId": "i-0123"}, "not an EC2 instance id"),
        ({"BundleId": "../../etc/passwd"}, "BundleId"),
        ({"Bucket": "Not_A_Bucket"}, "not an S3 bucket name"),
        ({"KmsKeyId": "alias/aws/s3"}, "KMS key ARN"),
        ({"UploadExpiresSeconds": "86400"}, "60 to 3600"),
    ],
)
def test_prepare_upload_refuses_bad_parameters(role_credentials: None, overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        prepare.handler(_request(**overrides), None)


@pytest.fixture
def ssm_stub(monkeypatch: pytest.MonkeyPatch) -> Stubber:
    client = boto3.client("ssm", region_name="us-west-2", aws_access_key_id="testing", aws_secret_access_key="testing")
    stubber = Stubber(client)
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: client)
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


def _info(**fields: Any) -> dict[str, Any]:
    return {"InstanceInformationList": [{"InstanceId": INSTANCE, **fields}]}


DESCRIBE = {"Filters": [{"Key": "InstanceIds", "Values": [INSTANCE]}]}


def test_check_instance_passes_an_online_linux_node(ssm_stub: Stubber) -> None:
    ssm_stub.add_response(
        "describe_instance_information",
        _info(PingStatus="Online", PlatformType="Linux", AgentVersion="3.3.2746.0", PlatformName="Amazon Linux"),
        DESCRIBE,
    )
    out = _load("check_instance").handler({"InstanceId": INSTANCE}, None)
    assert out == {"PingStatus": "Online", "AgentVersion": "3.3.2746.0", "PlatformName": "Amazon Linux"}


@pytest.mark.parametrize(
    ("response", "message"),
    [
        ({"InstanceInformationList": []}, "is not a managed node"),
        (_info(PingStatus="ConnectionLost", PlatformType="Linux"), "ConnectionLost, not Online"),
        (_info(PingStatus="Online", PlatformType="Windows"), "runs Windows"),
    ],
)
def test_check_instance_explains_why_a_node_cannot_run_the_collector(
    ssm_stub: Stubber, response: dict[str, Any], message: str
) -> None:
    ssm_stub.add_response("describe_instance_information", response, DESCRIBE)
    with pytest.raises(RuntimeError, match=message):
        _load("check_instance").handler({"InstanceId": INSTANCE}, None)


def test_explain_failure_reports_the_collector_error_line(ssm_stub: Stubber) -> None:
    ssm_stub.add_response(
        "describe_automation_step_executions",
        {
            "StepExecutions": [
                {
                    "StepName": "RunCollector",
                    "StepStatus": "Failed",
                    "FailureMessage": "Step fails when it is polling the command status.",
                    "Outputs": {"CommandId": ["0b1c2d3e-1111-2222-3333-444455556666"]},
                }
            ]
        },
        {
            "AutomationExecutionId": "4105a4fc-f944-11e6-9d32-8fb2db27a909",
            "Filters": [{"Key": "StepName", "Values": ["RunCollector"]}],
        },
    )
    ssm_stub.add_response(
        "get_command_invocation",
        {
            "Status": "Failed",
            "StatusDetails": "Failed",
            "StandardErrorContent": "curl: (22) The requested URL returned error: 403\nEKSDIAG_ERROR: upload failed\n",
        },
        {"CommandId": "0b1c2d3e-1111-2222-3333-444455556666", "InstanceId": INSTANCE},
    )
    with pytest.raises(RuntimeError) as raised:
        _load("explain_failure").handler(
            {"InstanceId": INSTANCE, "ExecutionId": "4105a4fc-f944-11e6-9d32-8fb2db27a909"}, None
        )
    text = str(raised.value)
    assert text.startswith(f"collection on {INSTANCE} failed: Step fails when it is polling")
    assert text.endswith("Failed: EKSDIAG_ERROR: upload failed")


def test_explain_failure_without_a_command(ssm_stub: Stubber) -> None:
    ssm_stub.add_response(
        "describe_automation_step_executions",
        {"StepExecutions": [{"StepName": "RunCollector", "StepStatus": "TimedOut"}]},
        {
            "AutomationExecutionId": "4105a4fc-f944-11e6-9d32-8fb2db27a90a",
            "Filters": [{"Key": "StepName", "Values": ["RunCollector"]}],
        },
    )
    with pytest.raises(RuntimeError, match=r"failed: TimedOut$"):
        _load("explain_failure").handler(
            {"InstanceId": INSTANCE, "ExecutionId": "4105a4fc-f944-11e6-9d32-8fb2db27a90a"}, None
        )
