"""Every name and setting the module sends to AWS, against the services' own models.

For the default, edge and bring-your-own inputs, each value Terraform would send (as the provider
maps a resource argument to an API member) is checked with the member's shape in botocore's model
for that operation: botocore's ParamValidator, then maximum lengths and sizes, patterns and enums
(support.request_problems). The Cloud Control desired states are also mapped, member by member, onto
the bedrock-agentcore-control CreateGateway and CreateGatewayTarget requests.

S3 bucket names have no pattern in the model; the S3 User Guide's naming rules ("General purpose
bucket naming rules") are checked as data below.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.model import ListShape, MapShape, Shape, StructureShape

from .support import RUNS, Rendered, model_source, request_problems, service_model

pytestmark = pytest.mark.terraform

Values = dict[str, Any]


def tags_as_list(key: str = "Key", value: str = "Value") -> Callable[[Any], Any]:
    return lambda tags: [{key: k, value: v} for k, v in sorted((tags or {}).items())]


def scopes(items: Any) -> Any:
    return [{"ScopeName": s["scope_name"], "ScopeDescription": s["scope_description"]} for s in items or []]


@dataclass(frozen=True)
class Sent:
    """``resource_type.attribute`` reaches ``service.operation`` as ``member`` (converted by ``convert``)."""

    resource_type: str
    attribute: str
    service: str
    operation: str
    member: str
    convert: Callable[[Any], Any] = lambda value: value


SENT = [
    # IAM
    Sent("aws_iam_role", "name", "iam", "CreateRole", "RoleName"),
    Sent("aws_iam_role", "description", "iam", "CreateRole", "Description"),
    Sent("aws_iam_role", "path", "iam", "CreateRole", "Path"),
    Sent("aws_iam_role", "permissions_boundary", "iam", "CreateRole", "PermissionsBoundary"),
    Sent("aws_iam_role", "max_session_duration", "iam", "CreateRole", "MaxSessionDuration"),
    Sent("aws_iam_role", "tags", "iam", "CreateRole", "Tags", tags_as_list()),
    Sent("aws_iam_role_policy", "name", "iam", "PutRolePolicy", "PolicyName"),
    # Cognito
    Sent("aws_cognito_user_pool", "name", "cognito-idp", "CreateUserPool", "PoolName"),
    Sent("aws_cognito_user_pool", "tags", "cognito-idp", "CreateUserPool", "UserPoolTags"),
    Sent("aws_cognito_user_pool_domain", "domain", "cognito-idp", "CreateUserPoolDomain", "Domain"),
    Sent("aws_cognito_resource_server", "identifier", "cognito-idp", "CreateResourceServer", "Identifier"),
    Sent("aws_cognito_resource_server", "name", "cognito-idp", "CreateResourceServer", "Name"),
    Sent("aws_cognito_resource_server", "scope", "cognito-idp", "CreateResourceServer", "Scopes", scopes),
    Sent("aws_cognito_user_pool_client", "name", "cognito-idp", "CreateUserPoolClient", "ClientName"),
    Sent(
        "aws_cognito_user_pool_client",
        "allowed_oauth_scopes",
        "cognito-idp",
        "CreateUserPoolClient",
        "AllowedOAuthScopes",
    ),
    Sent(
        "aws_cognito_user_pool_client",
        "allowed_oauth_flows",
        "cognito-idp",
        "CreateUserPoolClient",
        "AllowedOAuthFlows",
    ),
    Sent(
        "aws_cognito_user_pool_client",
        "explicit_auth_flows",
        "cognito-idp",
        "CreateUserPoolClient",
        "ExplicitAuthFlows",
    ),
    Sent(
        "aws_cognito_user_pool_client",
        "access_token_validity",
        "cognito-idp",
        "CreateUserPoolClient",
        "AccessTokenValidity",
    ),
    # S3 (the model has no bucket-name pattern: see test_bucket_names_follow_the_s3_naming_rules)
    Sent("aws_s3_bucket", "bucket", "s3", "CreateBucket", "Bucket"),
    Sent("aws_s3_bucket", "tags", "s3", "PutBucketTagging", "Tagging", lambda t: {"TagSet": tags_as_list()(t)}),
    # KMS
    Sent("aws_kms_key", "description", "kms", "CreateKey", "Description"),
    Sent("aws_kms_key", "tags", "kms", "CreateKey", "Tags", tags_as_list("TagKey", "TagValue")),
    Sent("aws_kms_alias", "name", "kms", "CreateAlias", "AliasName"),
    # SSM
    Sent("aws_ssm_document", "name", "ssm", "CreateDocument", "Name"),
    Sent("aws_ssm_document", "content", "ssm", "CreateDocument", "Content"),
    Sent("aws_ssm_document", "document_type", "ssm", "CreateDocument", "DocumentType"),
    Sent("aws_ssm_document", "document_format", "ssm", "CreateDocument", "DocumentFormat"),
    Sent("aws_ssm_document", "tags", "ssm", "CreateDocument", "Tags", tags_as_list()),
    # Lambda, CloudWatch Logs, DynamoDB, SQS
    Sent("aws_lambda_function", "function_name", "lambda", "CreateFunction", "FunctionName"),
    Sent("aws_lambda_function", "description", "lambda", "CreateFunction", "Description"),
    Sent("aws_lambda_function", "handler", "lambda", "CreateFunction", "Handler"),
    Sent("aws_lambda_function", "runtime", "lambda", "CreateFunction", "Runtime"),
    Sent("aws_lambda_function", "memory_size", "lambda", "CreateFunction", "MemorySize"),
    Sent("aws_lambda_function", "timeout", "lambda", "CreateFunction", "Timeout"),
    Sent("aws_lambda_function", "architectures", "lambda", "CreateFunction", "Architectures"),
    Sent("aws_lambda_function", "layers", "lambda", "CreateFunction", "Layers"),
    Sent("aws_lambda_function", "tags", "lambda", "CreateFunction", "Tags"),
    Sent(
        "aws_lambda_function",
        "environment",
        "lambda",
        "CreateFunction",
        "Environment",
        lambda e: {"Variables": (e or [{}])[0].get("variables") or {}},
    ),
    Sent("aws_lambda_permission", "statement_id", "lambda", "AddPermission", "StatementId"),
    Sent("aws_cloudwatch_log_group", "name", "logs", "CreateLogGroup", "logGroupName"),
    Sent("aws_cloudwatch_log_group", "tags", "logs", "CreateLogGroup", "tags"),
    Sent("aws_cloudwatch_log_group", "retention_in_days", "logs", "PutRetentionPolicy", "retentionInDays"),
    Sent("aws_dynamodb_table", "name", "dynamodb", "CreateTable", "TableName"),
    Sent("aws_dynamodb_table", "tags", "dynamodb", "CreateTable", "Tags", tags_as_list()),
    Sent("aws_sqs_queue", "name", "sqs", "CreateQueue", "QueueName"),
    Sent("aws_sqs_queue", "tags", "sqs", "CreateQueue", "tags"),
]

AGENTCORE = {
    "AWS::BedrockAgentCore::Gateway": "CreateGateway",
    "AWS::BedrockAgentCore::GatewayTarget": "CreateGatewayTarget",
    "AWS::BedrockAgentCore::PolicyEngine": "CreatePolicyEngine",
    "AWS::BedrockAgentCore::Policy": "CreatePolicy",
}


def _sent_problems(rendered: Rendered) -> list[str]:
    problems = []
    for sent in SENT:
        for resource in rendered.managed(sent.resource_type):
            value = resource["values"].get(sent.attribute)
            if value in (None, "", [], {}):
                continue
            params = {sent.member: sent.convert(value)}
            for problem in request_problems(sent.service, sent.operation, params):
                if "Missing required parameter" not in problem:
                    problems.append(
                        f"{resource['address']}.{sent.attribute}: {problem} [rule: {model_source(sent.service)}]"
                    )
    return problems


def _member(shape: StructureShape, cfn_name: str) -> str | None:
    return next((m for m in shape.members if m.lower() == cfn_name.lower()), None)


def cfn_to_api(value: Any, shape: Shape, path: str, problems: list[str]) -> Any:
    """A CloudFormation-cased desired state as the API request: each property the member of the same
    name (case aside); map keys (tool argument names) unchanged."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        out = {}
        for key, item in value.items():
            member = _member(shape, key)
            if member is None:
                problems.append(f"{path}.{key}: no such member of {shape.name}")
                continue
            out[member] = cfn_to_api(item, shape.members[member], f"{path}.{member}", problems)
        return out
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [cfn_to_api(item, shape.member, f"{path}[{i}]", problems) for i, item in enumerate(value)]
    if isinstance(shape, MapShape) and isinstance(value, list) and all(isinstance(t, dict) for t in value):
        value = {t.get("Key"): t.get("Value") for t in value}  # CloudFormation's tag list is the API's map
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {key: cfn_to_api(item, shape.value, f"{path}[{key!r}]", problems) for key, item in value.items()}
    return value


def _agentcore_problems(rendered: Rendered) -> list[str]:
    problems = []
    for resource in rendered.managed("aws_cloudcontrolapi_resource"):
        operation = AGENTCORE.get(resource["values"]["type_name"])
        if operation is None:
            problems.append(f"{resource['address']}: map {resource['values']['type_name']} to its API operation")
            continue
        shape = service_model("bedrock-agentcore-control").operation_model(operation).input_shape
        found: list[str] = []
        request = cfn_to_api(json.loads(resource["values"]["desired_state"]), shape, operation, found)
        found += request_problems("bedrock-agentcore-control", operation, request)
        source = model_source("bedrock-agentcore-control")
        problems += [f"{resource['address']}: {p} [rule: {source}]" for p in found]
    return problems


@pytest.mark.parametrize("run", RUNS)
def test_names_and_settings_fit_the_service_models(rendered: dict[str, Rendered], run: str) -> None:
    problems = _sent_problems(rendered[run])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("run", RUNS)
def test_gateway_and_targets_fit_the_agentcore_api(rendered: dict[str, Rendered], run: str) -> None:
    problems = _agentcore_problems(rendered[run])
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- S3 bucket names

S3_RULES = "S3 User Guide, General purpose bucket naming rules"
_BUCKET_RULES: list[tuple[str, Callable[[str], bool]]] = [
    ("3 to 63 characters", lambda b: 3 <= len(b) <= 63),
    (
        "lowercase letters, digits, dots and hyphens only",
        lambda b: all(c.isdigit() or c in ".-" or "a" <= c <= "z" for c in b),
    ),
    ("begins and ends with a letter or digit", lambda b: b[:1].isalnum() and b[-1:].isalnum()),
    ("no two adjacent periods", lambda b: ".." not in b),
    ("not an IP address", lambda b: not _is_ip(b)),
    (
        "no reserved prefix (xn--, sthree-, amzn-s3-demo-)",
        lambda b: not b.startswith(("xn--", "sthree-", "amzn-s3-demo-")),
    ),
    (
        "no reserved suffix (-s3alias, --ol-s3, .mrap, --x-s3, --table-s3)",
        lambda b: not b.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")),
    ),
    # Virtual-hosted HTTPS (how the node uploads): a dotted name does not match *.s3.amazonaws.com.
    ("no dots (virtual-hosted-style HTTPS)", lambda b: "." not in b),
]


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("run", RUNS)
def test_bucket_names_follow_the_s3_naming_rules(rendered: dict[str, Rendered], run: str) -> None:
    problems = [
        f"{r['address']}: {r['values']['bucket']!r} breaks {rule} [rule: {S3_RULES}]"
        for r in rendered[run].managed("aws_s3_bucket")
        for rule, holds in _BUCKET_RULES
        if not holds(r["values"]["bucket"])
    ]
    assert not problems, "\n".join(problems)


def test_every_sent_member_exists_in_its_model() -> None:
    for sent in SENT:
        shape = service_model(sent.service).operation_model(sent.operation).input_shape
        assert sent.member in shape.members, f"{sent.service}.{sent.operation} has no member {sent.member}"
