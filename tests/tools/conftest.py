"""Shared fixtures for the tool tests: a moto-backed AWS context and a local-folder context."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eksdiag.adapters.context import aws_context, local_context
from eksdiag.tools.base import ToolContext

from tests.tools.ssm_fake import Clock, SsmFake, make_context, make_fake

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
            from eksdiag.tools.base import client_config

            return boto3.client(service, region_name=region or REGION, config=client_config(service))

        yield {"env": env, "clients": clients, "kms_key_arn": kms_key_arn}


@pytest.fixture
def aws_ctx(aws_env: dict[str, Any]) -> ToolContext:
    """A ToolContext on moto (S3 store, DynamoDB job store), clock fixed at FIXED_NOW."""
    return aws_context(aws_env["env"], client_factory=aws_env["clients"], clock=lambda: FIXED_NOW)


@pytest.fixture
def local_ctx(tmp_path: Path) -> ToolContext:
    """A ToolContext on a local folder (what ``eksdiag serve --bundles tmp_path`` uses)."""
    return local_context(tmp_path, clock=lambda: FIXED_NOW)


# ---------------------------------------------------------------- EC2 nodes behind the SSM fake


@pytest.fixture
def clock() -> Clock:
    """The settable clock of :func:`ctx`, starting at FIXED_NOW."""
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> SsmFake:
    """The SSM calls moto lacks (Automation, instance information), with the SSM helper's documents."""
    return make_fake(clock)


@pytest.fixture
def ctx(aws_env: dict[str, Any], fake: SsmFake, clock: Clock) -> ToolContext:
    """A ToolContext on moto whose SSM clients are served by ``fake``, on ``clock``."""
    return make_context(aws_env, fake, clock)


@pytest.fixture
def ec2(aws_env: dict[str, Any]) -> Any:
    """A moto EC2 client in REGION, for :func:`tests.tools.ssm_fake.launch_ssm_node`."""
    import boto3

    return boto3.client("ec2", region_name=REGION)


# ---------------------------------------------------------------- seed bundles, indexed


FAULTY_BUNDLE = "b-20250306182200-0000000f"
HEALTHY_BUNDLE = "b-20250306182200-0000000a"


@dataclass(frozen=True)
class Seed:
    folder: Path
    faulty: Path
    healthy: Path
    faulty_instance: str
    healthy_instance: str


@dataclass(frozen=True)
class Indexed:
    """Both seed bundles indexed into ``ctx`` (faulty and healthy), as the findings tools see them."""

    ctx: ToolContext
    kind: str
    faulty: str
    healthy: str
    faulty_instance: str
    healthy_instance: str


@pytest.fixture(scope="session")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    from tests.fixtures.seed import FAULTY_ID, HEALTHY_ID, build_seed_bundles

    folder = tmp_path_factory.mktemp("seed")
    faulty, healthy = build_seed_bundles(folder)
    return Seed(folder, Path(faulty), Path(healthy), FAULTY_ID, HEALTHY_ID)


@pytest.fixture
def bundles(seed: Seed, tmp_path: Path) -> Path:
    """A folder holding copies of both seed bundles, not indexed (what ``eksdiag serve --bundles`` reads)."""
    folder = tmp_path / "bundles"
    folder.mkdir()
    for path in (seed.faulty, seed.healthy):
        shutil.copy(path, folder / path.name)
    return folder


def ingest_seed(ctx: ToolContext, seed: Seed) -> None:
    from eksdiag.adapters.ingest import ingest

    ingest(ctx, seed.faulty, bundle_id=FAULTY_BUNDLE, instance_id=seed.faulty_instance, name=seed.faulty.name)
    ingest(ctx, seed.healthy, bundle_id=HEALTHY_BUNDLE, instance_id=seed.healthy_instance, name=seed.healthy.name)


@pytest.fixture(params=["local", "aws"])
def indexed(request: pytest.FixtureRequest, seed: Seed, tmp_path: Path) -> Indexed:
    """Parametrized over the local folder stores and the S3 + DynamoDB stores (moto)."""
    if request.param == "local":
        ctx = local_context(tmp_path / "bundles", clock=lambda: FIXED_NOW)
    else:
        ctx = request.getfixturevalue("aws_ctx")
    ingest_seed(ctx, seed)
    return Indexed(ctx, request.param, FAULTY_BUNDLE, HEALTHY_BUNDLE, seed.faulty_instance, seed.healthy_instance)


@pytest.fixture
def local_indexed(seed: Seed, tmp_path: Path) -> Indexed:
    """The seed bundles in the local stores only (fast; for argument checks)."""
    ctx = local_context(tmp_path / "bundles", clock=lambda: FIXED_NOW)
    ingest_seed(ctx, seed)
    return Indexed(ctx, "local", FAULTY_BUNDLE, HEALTHY_BUNDLE, seed.faulty_instance, seed.healthy_instance)


def run_tool(ctx: ToolContext, full_name: str, args: Any) -> dict[str, Any]:
    """Call a tool as the Lambda and the server do (the local versions of collect and status on a local
    context); a successful result must match its outputSchema."""
    from eksdiag.adapters.local_tools import LOCAL_OVERRIDES
    from eksdiag.tools.dispatch import call_tool, validator_for
    from eksdiag.tools.registry import tools

    spec = tools()[full_name]
    result = call_tool(spec, args, ctx, run=LOCAL_OVERRIDES.get(full_name) if ctx.local else None)
    if "error" not in result:
        problems = [
            f"{list(e.absolute_path)}: {e.message}" for e in validator_for(spec.output_schema).iter_errors(result)
        ]
        assert not problems, f"{full_name} output does not match its outputSchema: {problems[:5]}"
    else:
        assert set(result) == {"error"} and {"code", "message", "retryable"} <= set(result["error"])
    return result


@pytest.fixture
def run() -> Any:
    """``run(ctx, "findings___errors", {...})``: see :func:`run_tool`."""
    return run_tool
