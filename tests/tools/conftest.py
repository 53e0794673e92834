"""Shared fixtures for the tool tests: a moto-backed AWS context and a local-folder context."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from eksdiag.adapters.context import aws_context, local_context
from eksdiag.tools.base import ToolContext

REGION = "us-west-2"
BUCKET = "eksdiag-test-bundles"
TABLE = "eksdiag-test-jobs"
FIXED_NOW = datetime(2026, 3, 6, 18, 30, 0, tzinfo=UTC)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """moto's mock_aws with the bucket, table and KMS key the Terraform module would create.

    Yields ``{"env": <Lambda environment>, "clients": <factory>, "kms_key_arn": ...}``.
    """
    from moto import mock_aws

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        import boto3

        kms_key_arn = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        env = {
            "BUCKET_NAME": BUCKET,
            "TABLE_NAME": TABLE,
            "KMS_KEY_ARN": kms_key_arn,
            "COLLECT_DOCUMENT_NAME": "eksdiag-collect",
            "CAPTURE_DOCUMENT_NAME": "eksdiag-packet-capture",
            "AUTOMATION_ROLE_ARN": "arn:aws:iam::123456789012:role/eksdiag-automation",
            "ALLOWED_REGIONS": f"{REGION},us-east-1",
            "AWS_REGION": REGION,
            "PRESIGN_PUT_SECONDS": "900",
            "PRESIGN_GET_SECONDS": "900",
        }

        def clients(service: str, region: str | None) -> Any:
            return boto3.client(service, region_name=region or REGION)

        yield {"env": env, "clients": clients, "kms_key_arn": kms_key_arn}


@pytest.fixture
def aws_ctx(aws_env: dict[str, Any]) -> ToolContext:
    """A ToolContext on moto (S3 store, DynamoDB job store), clock fixed at FIXED_NOW."""
    return aws_context(aws_env["env"], client_factory=aws_env["clients"], clock=lambda: FIXED_NOW)


@pytest.fixture
def local_ctx(tmp_path: Path) -> ToolContext:
    """A ToolContext on a local folder (what ``eksdiag serve --bundles tmp_path`` uses)."""
    return local_context(tmp_path, clock=lambda: FIXED_NOW)
