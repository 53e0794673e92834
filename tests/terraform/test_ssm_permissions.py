"""The reading of SSM documents that the permission checks rely on (no Terraform needed).

test_emulator_twin.py compares what collect.yaml calls with the deployed automation role; these
tests make sure that reading misses nothing: a call in aws:executeScript code, a presigned URL, a
step action it does not know.
"""

from __future__ import annotations

import pytest
import yaml

from .tf_support import document_api_calls, script_api_calls, ssm_documents_dir

SCRIPT = """
import boto3

def handler(events, context):
    ssm = boto3.client("ssm")
    ssm.describe_instance_information(Filters=[])
    try:
        ssm.get_command_invocation(CommandId="c", InstanceId="i")
    except ssm.exceptions.InvocationDoesNotExist:
        pass
    s3 = boto3.client("s3", region_name="us-east-1")
    return s3.generate_presigned_url("put_object", Params={"ServerSideEncryption": "aws:kms"})
"""


def test_script_calls_and_presigned_urls_become_iam_actions() -> None:
    assert script_api_calls(SCRIPT) == {
        "ssm:DescribeInstanceInformation",
        "ssm:GetCommandInvocation",
        "s3:PutObject",
        "kms:GenerateDataKey",
    }


def test_presigned_get_without_sse_needs_no_kms_data_key() -> None:
    script = 'import boto3\ns3 = boto3.client("s3")\ns3.generate_presigned_url("get_object", Params={})\n'
    assert script_api_calls(script) == {"s3:GetObject"}


def test_unknown_step_action_is_refused() -> None:
    with pytest.raises(AssertionError, match="aws:executeAwsApi"):
        document_api_calls({"mainSteps": [{"name": "Call", "action": "aws:executeAwsApi", "inputs": {}}]})


def test_collect_document_calls_what_its_role_is_built_for() -> None:
    document = yaml.safe_load((ssm_documents_dir() / "collect.yaml").read_text())
    assert document_api_calls(document) == {
        "s3:PutObject",
        "kms:GenerateDataKey",
        "ssm:SendCommand",
        "ssm:ListCommands",
        "ssm:ListCommandInvocations",
        "ssm:DescribeInstanceInformation",
        "ssm:DescribeAutomationStepExecutions",
        "ssm:GetCommandInvocation",
    }


@pytest.mark.parametrize("name", ["run-collector.yaml", "packet-capture.yaml"])
def test_command_documents_call_no_aws_api(name: str) -> None:
    """The node uploads through presigned URLs with curl: the Command documents need no role."""
    assert document_api_calls(yaml.safe_load((ssm_documents_dir() / name).read_text())) == set()
