"""Emulator twin: examples/local applied with the real AWS provider against moto_server.

The module (everything but the AgentCore gateway, which no emulator has) is applied as a registry
consumer would, with no lambda_package (the package shipped in the module), planned again (no
changes), inspected with boto3, and destroyed, leaving nothing behind. Tests run in file order on
one deployment; the last one destroys it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from .tf_support import (
    PROVIDER_SELF_CALLS,
    REGION,
    ROOT,
    copy_root_module,
    document_api_calls,
    iam_action,
    provider_api_calls,
    ssm_documents_dir,
    tool_schema_dir,
)

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

NAME = "eksdiag"
TOOL_GROUPS = ("nodelog", "findings", "capture", "runbooks")
# moto has no DeleteResourceServer (the provider would retry for its whole timeout). Deleting the
# user pool deletes its resource servers, in AWS as in moto, so the twin lets the pool do it.
NOT_DELETABLE_IN_MOTO = ("module.eksdiag.module.auth.aws_cognito_resource_server.this[0]",)


@dataclass
class Twin:
    directory: Path
    env: dict[str, str]
    variables: list[str]
    endpoint: str
    outputs: dict[str, Any]
    destroyed: bool = False

    @property
    def provider_log(self) -> Path:
        """Every request the AWS provider made (TF_LOG=DEBUG), for the deploy-permissions check."""
        return self.directory / "provider-requests.log"

    def terraform(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["terraform", *args],
            cwd=self.directory,
            env={**self.env, "TF_LOG": "DEBUG", "TF_LOG_PATH": str(self.provider_log)},
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        if check and result.returncode != 0:
            pytest.fail(f"terraform {args[0]} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        return result

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def destroy(self) -> None:
        if self.destroyed:
            return
        for address in NOT_DELETABLE_IN_MOTO:
            self.terraform("state", "rm", address, check=False)
        self.terraform("destroy", "-auto-approve", "-no-color", *self.variables)
        self.destroyed = True


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory, terraform_env: dict[str, str], moto_endpoint: str) -> Iterator[Twin]:
    directory = copy_root_module(ROOT / "examples" / "local", tmp_path_factory.mktemp("twin"))
    env = {**os.environ, **terraform_env}
    variables = [
        f"-var=endpoint={moto_endpoint}",
        f"-var=ssm_documents_dir={ssm_documents_dir()}",
        f"-var=tool_schema_dir={tool_schema_dir()}",
    ]
    deployment = Twin(directory, env, variables, moto_endpoint, {})
    deployment.terraform("init", "-backend=false", "-no-color")
    deployment.terraform("apply", "-auto-approve", "-no-color", *variables)
    raw = json.loads(deployment.terraform("output", "-json").stdout)
    deployment.outputs = {k: v["value"] for k, v in raw.items()}
    try:
        yield deployment
    finally:
        deployment.destroy()


def test_second_plan_shows_no_changes(twin: Twin) -> None:
    result = twin.terraform("plan", "-detailed-exitcode", "-no-color", *twin.variables, check=False)
    assert result.returncode == 0, f"the second plan is not empty:\n{result.stdout[-6000:]}"


def test_bucket_is_encrypted_with_the_module_key_and_bucket_key(twin: Twin) -> None:
    s3 = twin.client("s3")
    rule = s3.get_bucket_encryption(Bucket=twin.outputs["bucket_name"])["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": twin.outputs["kms_key_arn"],
    }
    assert rule["BucketKeyEnabled"] is True


def test_bucket_blocks_public_access_and_keeps_versions(twin: Twin) -> None:
    s3 = twin.client("s3")
    bucket = twin.outputs["bucket_name"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert rules["noncurrent-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert {rid: rules[rid]["Filter"]["Prefix"] for rid in ("uploads", "bundles", "captures")} == {
        "uploads": "uploads/",
        "bundles": "bundles/",
        "captures": "captures/",
    }


def test_bucket_policy_denies_plain_http_and_other_encryption(twin: Twin) -> None:
    s3 = twin.client("s3")
    policy = json.loads(s3.get_bucket_policy(Bucket=twin.outputs["bucket_name"])["Policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert all(s["Effect"] == "Deny" for s in statements.values())
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statements["DenyPutsWithOtherEncryption"]["Condition"]["StringNotEquals"] == {
        "s3:x-amz-server-side-encryption": "aws:kms"
    }
    assert statements["DenyPutsWithAnotherKmsKey"]["Condition"]["StringNotEquals"] == {
        "s3:x-amz-server-side-encryption-aws-kms-key-id": twin.outputs["kms_key_arn"]
    }


def test_uploaded_bundles_notify_the_indexer(twin: Twin) -> None:
    s3 = twin.client("s3")
    config = s3.get_bucket_notification_configuration(Bucket=twin.outputs["bucket_name"])
    (notification,) = config["LambdaFunctionConfigurations"]
    assert notification["LambdaFunctionArn"].endswith(f":function:{NAME}-indexer")
    assert notification["Events"] == ["s3:ObjectCreated:*"]
    rules = {r["Name"].lower(): r["Value"] for r in notification["Filter"]["Key"]["FilterRules"]}
    assert rules == {"prefix": "uploads/", "suffix": ".tar.gz"}

    policy = json.loads(twin.client("lambda").get_policy(FunctionName=f"{NAME}-indexer")["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == f"arn:aws:s3:::{twin.outputs['bucket_name']}"
    assert "AWS:SourceAccount" in statement["Condition"]["StringEquals"]


def test_key_rotates(twin: Twin) -> None:
    kms = twin.client("kms")
    assert kms.get_key_rotation_status(KeyId=twin.outputs["kms_key_arn"])["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=twin.outputs["kms_key_arn"], PolicyName="default")["Policy"])
    actions = [a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert not [a for a in actions if "*" in a]


def test_ssm_documents_are_deployed_from_the_project_files(twin: Twin) -> None:
    ssm = twin.client("ssm")
    names = twin.outputs["document_names"]
    expected = {
        "collect": ("Automation", "collect.yaml"),
        "run_collector": ("Command", "run-collector.yaml"),
        "packet_capture": ("Command", "packet-capture.yaml"),
    }
    for key, (document_type, filename) in expected.items():
        document = ssm.get_document(Name=names[key], DocumentFormat="YAML")
        assert document["DocumentType"] == document_type
        source = (ssm_documents_dir() / filename).read_text()
        if key == "collect":
            source = source.replace("@RUN_COLLECTOR_DOCUMENT_NAME@", names["run_collector"])
        assert document["Content"] == source


def _allow_actions(policy: dict[str, Any]) -> list[str]:
    actions: list[str] = []
    for statement in policy["Statement"]:
        if statement["Effect"] == "Allow":
            value = statement["Action"]
            actions.extend([value] if isinstance(value, str) else value)
    return actions


def test_roles_hold_no_wildcard_actions_and_only_nodelog_starts_collection(twin: Twin) -> None:
    iam = twin.client("iam")
    holders: dict[str, set[str]] = {}
    roles = {g: f"{NAME}-{REGION}-{g}" for g in (*TOOL_GROUPS, "indexer", "automation")}
    for label, role in roles.items():
        actions: set[str] = set()
        for policy_name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
            if isinstance(document, str):
                document = json.loads(document)
            actions.update(_allow_actions(document))
        assert actions, f"{role} has no permissions"
        assert not [a for a in actions if "*" in a], f"{role} holds wildcard actions"
        holders[label] = actions
    assert [g for g, a in holders.items() if "ssm:StartAutomationExecution" in a] == ["nodelog"]
    assert sorted(g for g, a in holders.items() if "ssm:SendCommand" in a) == ["automation", "capture"]


def _allow_statements(iam: Any, role: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy_name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
        if isinstance(document, str):
            document = json.loads(document)
        for statement in document["Statement"]:
            if statement["Effect"] == "Allow":
                as_list = {
                    k: [v] if isinstance(v, str) else v for k, v in statement.items() if k in ("Action", "Resource")
                }
                statements.append({**statement, **as_list})
    return statements


def test_automation_role_allows_every_call_the_collect_document_makes(twin: Twin) -> None:
    """The calls are read from collect.yaml itself (aws:executeScript code included), so a step
    added to the document without its permission fails here."""
    document = yaml.safe_load((ssm_documents_dir() / "collect.yaml").read_text())
    needed = document_api_calls(document)
    assert {"s3:PutObject", "kms:GenerateDataKey", "ssm:SendCommand", "ssm:GetCommandInvocation"} <= needed
    statements = _allow_statements(twin.client("iam"), f"{NAME}-{REGION}-automation")
    granted = {a for s in statements for a in s["Action"]}
    assert sorted(needed - granted) == [], "collect.yaml calls APIs its role may not"
    assert sorted(granted - needed) == [], "the automation role holds actions collect.yaml never calls"

    def resources(action: str) -> set[str]:
        return {r for s in statements if action in s["Action"] for r in s["Resource"]}

    account = twin.client("sts").get_caller_identity()["Account"]
    assert resources("s3:PutObject") == {f"arn:aws:s3:::{twin.outputs['bucket_name']}/uploads/*"}
    assert resources("kms:GenerateDataKey") == {twin.outputs["kms_key_arn"]}
    run_collector = twin.outputs["document_names"]["run_collector"]
    assert {r for r in resources("ssm:SendCommand") if ":document/" in r} == {
        f"arn:aws:ssm:{REGION}:{account}:document/{run_collector}"
    }


def test_automation_role_trusts_ssm_for_this_account_only(twin: Twin) -> None:
    iam = twin.client("iam")
    role = iam.get_role(RoleName=f"{NAME}-{REGION}-automation")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(trust)
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "ssm.amazonaws.com"}
    account = twin.client("sts").get_caller_identity()["Account"]
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == account


def test_functions_run_the_shipped_package_with_the_contract_handlers(twin: Twin) -> None:
    lam = twin.client("lambda")
    shipped = (ROOT / "packages" / "lambda-arm64.zip").read_bytes()
    for group in (*TOOL_GROUPS, "indexer"):
        config = lam.get_function_configuration(FunctionName=f"{NAME}-{group}")
        assert config["CodeSha256"] == base64.b64encode(hashlib.sha256(shipped).digest()).decode()
        assert config["Handler"] == f"eksdiag.lambda_entry.{group}.handler"
        assert config["Runtime"] == "python3.12"
        assert config["Architectures"] == ["arm64"]
        variables = config["Environment"]["Variables"]
        assert variables["BUCKET_NAME"] == twin.outputs["bucket_name"]
        assert variables["TABLE_NAME"] == twin.outputs["table_name"]
    nodelog = lam.get_function_configuration(FunctionName=f"{NAME}-nodelog")["Environment"]["Variables"]
    assert nodelog["COLLECT_DOCUMENT_NAME"] == twin.outputs["document_names"]["collect"]
    assert nodelog["AUTOMATION_ROLE_ARN"] == twin.outputs["automation_role_arn"]
    assert nodelog["ALLOWED_REGIONS"] == REGION


def test_indexer_failures_go_to_an_encrypted_queue(twin: Twin) -> None:
    config = twin.client("lambda").get_function_event_invoke_config(FunctionName=f"{NAME}-indexer")
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == twin.outputs["indexer_failure_queue_arn"]
    sqs = twin.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{NAME}-indexer-failures")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["KmsMasterKeyId"])["Attributes"]
    assert attributes["KmsMasterKeyId"] == twin.outputs["kms_key_arn"]


def test_job_table_has_ttl_recovery_and_kms(twin: Twin) -> None:
    ddb = twin.client("dynamodb")
    table = ddb.describe_table(TableName=twin.outputs["table_name"])["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
    assert table["SSEDescription"]["SSEType"] == "KMS"
    ttl = ddb.describe_time_to_live(TableName=twin.outputs["table_name"])["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    backups = ddb.describe_continuous_backups(TableName=twin.outputs["table_name"])["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_app_client_uses_client_credentials_only(twin: Twin) -> None:
    cognito = twin.client("cognito-idp")
    (pool,) = [p for p in cognito.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == NAME]
    client = cognito.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=twin.outputs["client_id"])[
        "UserPoolClient"
    ]
    assert client["AllowedOAuthFlows"] == ["client_credentials"]
    assert sorted(client["AllowedOAuthScopes"]) == ["eksdiag/collect", "eksdiag/read"]
    servers = cognito.list_resource_servers(UserPoolId=pool["Id"], MaxResults=10)["ResourceServers"]
    assert sorted(s["ScopeName"] for s in servers[0]["Scopes"]) == ["collect", "read"]


def test_destroy_leaves_nothing_behind(twin: Twin) -> None:
    twin.destroy()

    s3 = twin.client("s3")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(NAME)] == []
    lam = twin.client("lambda")
    assert [f["FunctionName"] for f in lam.list_functions()["Functions"] if f["FunctionName"].startswith(NAME)] == []
    iam = twin.client("iam")
    assert [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(NAME)] == []
    ssm = twin.client("ssm")
    owned = ssm.list_documents(Filters=[{"Key": "Owner", "Values": ["Self"]}])["DocumentIdentifiers"]
    assert [d["Name"] for d in owned if d["Name"].startswith(NAME)] == []
    assert [t for t in twin.client("dynamodb").list_tables()["TableNames"] if t.startswith(NAME)] == []
    assert twin.client("sqs").list_queues(QueueNamePrefix=NAME).get("QueueUrls", []) == []
    groups = twin.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{NAME}")["logGroups"]
    assert groups == []
    pools = twin.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]
    assert [p["Name"] for p in pools if p["Name"] == NAME] == []
    kms = twin.client("kms")
    # KMS keys are never deleted at once: destroy schedules the deletion.
    key = kms.describe_key(KeyId=twin.outputs["kms_key_arn"])["KeyMetadata"]
    assert key["KeyState"] == "PendingDeletion"
    assert [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == f"alias/{NAME}"] == []
    state = json.loads(twin.terraform("show", "-json").stdout)
    assert state.get("values", {}).get("root_module", {}).get("child_modules", []) == []


def test_documented_deploy_permissions_cover_every_call_terraform_made(twin: Twin) -> None:
    """docs/terraform.md lists what the deploying principal needs: every action behind a request
    the provider made to apply, re-plan and destroy the module must be in it."""
    assert twin.destroyed, "runs after the deployment's whole life: apply, plan, destroy"
    calls = provider_api_calls(twin.provider_log.read_text(errors="replace"))
    needed = {iam_action(service, operation) for service, operation in calls} - PROVIDER_SELF_CALLS
    assert {"kms:CreateKey", "lambda:CreateFunction", "s3:PutBucketPolicy", "iam:DeleteRole"} <= needed
    doc = (ROOT / "docs" / "terraform.md").read_text()
    section = doc.split("<!-- BEGIN_DEPLOY_PERMISSIONS -->")[1].split("<!-- END_DEPLOY_PERMISSIONS -->")[0]
    documented = set(re.findall(r"`([a-z0-9-]+:[A-Za-z0-9]+)`", section))
    assert sorted(needed - documented) == [], "add these to the deploying permissions in docs/terraform.md"
