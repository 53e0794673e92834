"""Paths and helpers shared by the Terraform tests (fixtures live in conftest.py)."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
MIRROR = Path(os.environ.get("TF_PROVIDER_MIRROR", "/opt/tf-plugins"))
REGION = "us-east-1"
GATEWAY_GROUPS = ("nodelog", "findings", "capture", "runbooks")
SSM_DOCUMENTS = ("collect.yaml", "run-collector.yaml", "packet-capture.yaml")


def load_script(name: str) -> ModuleType:
    """scripts/<name>.py imported as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"eksdiag_script_{name}", ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def tool_schema_dir() -> Path:
    """The project's generated gateway schemas, or the test fixtures while they do not exist yet."""
    real = ROOT / "handlers" / "eksdiag" / "schemas" / "gateway"
    if all((real / f"{g}.json").is_file() for g in GATEWAY_GROUPS):
        return real
    return FIXTURES / "schemas" / "gateway"


def ssm_documents_dir() -> Path:
    """The project's SSM documents, or the test fixtures while they do not exist yet."""
    real = ROOT / "ssm" / "documents"
    if all((real / name).is_file() for name in SSM_DOCUMENTS):
        return real
    return FIXTURES / "ssm" / "documents"


def copy_root_module(source: Path, destination: Path) -> Path:
    """Copy a root configuration (an example) to destination with its relative module sources made
    absolute, so that terraform state and .terraform stay out of the work tree."""
    destination.mkdir(parents=True, exist_ok=True)
    for tf in source.glob("*.tf"):
        text = re.sub(
            r'source(\s*)= "(\.\.?/[^"]*)"',
            lambda m: f'source{m.group(1)}= "{(source / m.group(2)).resolve()}"',
            tf.read_text(),
        )
        (destination / tf.name).write_text(text)
    return destination


# What each SSM step action calls under the document's role (aws:executeScript code is read below).
# aws:runCommand: SendCommand, then polls the command (AWS documents ListCommands and
# ListCommandInvocations for it). aws:runShellScript runs on the node with the node's own identity.
STEP_ACTION_CALLS: dict[str, frozenset[str]] = {
    "aws:runCommand": frozenset({"ssm:SendCommand", "ssm:ListCommands", "ssm:ListCommandInvocations"}),
    "aws:executeScript": frozenset(),
    "aws:runShellScript": frozenset(),
}


def _camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def script_api_calls(script: str) -> set[str]:
    """IAM actions an aws:executeScript body needs: each ``<client>.<method>(...)`` on a
    ``boto3.client("<service>")``, and for a presigned URL the action it authorizes (plus
    kms:GenerateDataKey when it is signed for SSE-KMS)."""
    import ast

    tree = ast.parse(script)
    clients: dict[str, str] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr == "client"
            and node.value.args
            and isinstance(node.value.args[0], ast.Constant)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    clients[target.id] = str(node.value.args[0].value)
    actions: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        if not (isinstance(owner, ast.Name) and owner.id in clients):
            continue
        service, method = clients[owner.id], node.func.attr
        if method == "generate_presigned_url":
            operation = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
            if not isinstance(operation, str):
                raise AssertionError(f"cannot tell which {service} operation a presigned URL is for")
            actions.add(f"{service}:{_camel(operation)}")
            if "aws:kms" in ast.unparse(node):
                actions.add("kms:GenerateDataKey")
        elif method in {"get_paginator", "get_waiter", "can_paginate"}:
            raise AssertionError(f"{service}.{method}: name the operation explicitly in this check")
        else:
            actions.add(f"{service}:{_camel(method)}")
    return actions


def document_api_calls(document: dict[str, Any]) -> set[str]:
    """Every IAM action the steps of an SSM document call under its role."""
    actions: set[str] = set()
    for step in document.get("mainSteps", []):
        action = step["action"]
        if action not in STEP_ACTION_CALLS:
            raise AssertionError(f"step {step.get('name')}: add what {action} calls to STEP_ACTION_CALLS")
        actions |= STEP_ACTION_CALLS[action]
        if action == "aws:executeScript":
            actions |= script_api_calls(step["inputs"]["Script"])
    return actions


# IAM service prefix of each service name the AWS provider logs (rpc.service).
IAM_PREFIXES = {
    "CloudWatch Logs": "logs",
    "CloudWatch": "logs",
    "Cognito Identity Provider": "cognito-idp",
    "Cognito": "cognito-idp",
    "DynamoDB": "dynamodb",
    "IAM": "iam",
    "KMS": "kms",
    "Lambda": "lambda",
    "S3": "s3",
    "SQS": "sqs",
    "SSM": "ssm",
    "STS": "sts",
    "CloudControl": "cloudformation",
}
# S3 API operations authorized by an action of another name (Service Authorization Reference, S3).
S3_ACTIONS = {
    "HeadBucket": "ListBucket",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "GetBucketCors": "GetBucketCORS",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "GetBucketReplication": "GetReplicationConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "ListObjectVersions": "ListBucketVersions",
    "DeleteObjects": "DeleteObjectVersion",
}
# Calls the provider makes to configure itself, needing no grant for the module: GetCallerIdentity
# needs no permission, and iam:GetUser is a lookup the provider tolerates failing.
PROVIDER_SELF_CALLS = frozenset({"sts:GetCallerIdentity", "iam:GetUser"})


def provider_api_calls(log: str) -> set[tuple[str, str]]:
    """(service, operation) of every AWS request the provider logged at TF_LOG=DEBUG.

    Its request and response lines carry rpc.service and rpc.method, as key=value pairs or, in the
    JSON form some lines take, as "key":"value" (long JSON lines are cut into chunks, each with
    its own timestamp, so a line is read wherever both keys are)."""
    field = r'"?{}"?[=:]"?([A-Za-z][A-Za-z0-9 ]*[A-Za-z0-9])"?(?=[\s,}}]|$)'
    calls: set[tuple[str, str]] = set()
    for entry in re.split(r"\n(?=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z )", log):
        service = re.search(field.format(r"rpc\.service"), entry)
        method = re.search(field.format(r"rpc\.method"), entry)
        if service and method:
            calls.add((service.group(1), method.group(1)))
    return calls


def iam_action(service: str, operation: str) -> str:
    """The IAM action that authorizes one API operation of the provider's log."""
    prefix = IAM_PREFIXES[service]
    if prefix == "s3":
        operation = S3_ACTIONS.get(operation, operation)
    return f"{prefix}:{operation}"
