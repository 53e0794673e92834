"""The whole module planned by the real AWS provider (from the local mirror), driven by tftest.

tests/terraform/fixtures/plan is a root configuration calling the module with the gateway on, as a
registry consumer does: no lambda_package (the module's shipped package), no build step. The
provider reaches only STS, on a local moto_server, for the caller identity. The same configuration
is planned again in another region, and with the longest name in the longest region name.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tftest

from .conftest import FailingEndpoint
from .tf_support import FIXTURES, ROOT, copy_root_module, ssm_documents_dir, tool_schema_dir

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

MODULE = "module.eksdiag."
TOOL_GROUPS = ("nodelog", "findings", "capture", "runbooks")
SHIPPED_PACKAGE = ROOT / "packages" / "lambda-arm64.zip"
ADOPTION = {
    "iam_role_path": "/platform/eksdiag/",
    "iam_role_permissions_boundary": "arn:aws:iam::123456789012:policy/platform-boundary",
    "reserved_concurrency": {"tools": 10, "indexer": 4},
}
# The longest region name in botocore's endpoints.json (test_names_fit_for_every_region checks it)
# and the longest name the module accepts.
LONGEST_REGION = "us-isof-south-1"
LONGEST_NAME = "a23456789-b23456789-c234"


@pytest.fixture(scope="module")
def planner(
    tmp_path_factory: pytest.TempPathFactory,
    terraform_env: dict[str, str],
    moto_endpoint: str,
    failing_endpoint: FailingEndpoint,
) -> Callable[..., tftest.TerraformPlanOutput]:
    directory = copy_root_module(FIXTURES / "plan", tmp_path_factory.mktemp("plan"))
    tf = tftest.TerraformTest(str(directory), env=terraform_env)
    tf.setup(backend=False)
    common = {
        "endpoint": moto_endpoint,
        "failing_endpoint": failing_endpoint.url,
        "tool_schema_dir": str(tool_schema_dir()),
        "ssm_documents_dir": str(ssm_documents_dir()),
    }

    def plan(**tf_vars: Any) -> tftest.TerraformPlanOutput:
        return tf.plan(output=True, tf_vars={**common, **tf_vars})

    return plan


@pytest.fixture(scope="module")
def plan(planner: Callable[..., tftest.TerraformPlanOutput]) -> tftest.TerraformPlanOutput:
    return planner(**ADOPTION)


def module_changes(plan: tftest.TerraformPlanOutput) -> dict[str, dict[str, Any]]:
    """Resource changes of the module under test (not of the fixture's helper module)."""
    return {address: change for address, change in plan.resource_changes.items() if address.startswith(MODULE)}


def after(change: dict[str, Any]) -> dict[str, Any]:
    return change["change"]["after"]


def test_everything_is_created_once(plan: tftest.TerraformPlanOutput) -> None:
    changes = module_changes(plan)
    assert {tuple(c["change"]["actions"]) for c in changes.values() if c["mode"] == "managed"} == {("create",)}
    types = Counter(c["type"] for c in changes.values() if c["mode"] == "managed")
    assert types["aws_lambda_function"] == 5
    assert types["aws_iam_role"] == 7  # 4 tool groups, indexer, automation, gateway
    # the gateway, one target per tool group, the policy engine and its read and collect policies
    assert types["aws_cloudcontrolapi_resource"] == 8
    assert types["aws_ssm_document"] == 3
    assert types["aws_s3_bucket"] == types["aws_s3_bucket_notification"] == types["aws_s3_bucket_policy"] == 1
    assert types["aws_kms_key"] == types["aws_dynamodb_table"] == types["aws_sqs_queue"] == 1
    assert types["aws_cognito_user_pool"] == types["aws_cognito_user_pool_client"] == 1
    assert types["aws_cloudwatch_log_group"] == 5


def test_plan_never_asks_cloudformation_for_the_gateway_schemas(
    plan: tftest.TerraformPlanOutput, failing_endpoint: FailingEndpoint
) -> None:
    """A failing DescribeType is retried by the provider for minutes; the module never makes one."""
    types = {
        after(c)["type_name"] for c in module_changes(plan).values() if c["type"] == "aws_cloudcontrolapi_resource"
    }
    assert types == {f"AWS::BedrockAgentCore::{t}" for t in ("Gateway", "GatewayTarget", "PolicyEngine", "Policy")}
    assert failing_endpoint.requests == []


def test_functions_run_the_shipped_package_with_the_contract_handlers(plan: tftest.TerraformPlanOutput) -> None:
    """No lambda_package and no build step: every function gets the zip shipped in the module."""
    expected_hash = base64.b64encode(hashlib.sha256(SHIPPED_PACKAGE.read_bytes()).digest()).decode()
    functions = {
        after(c)["function_name"]: after(c) for c in module_changes(plan).values() if c["type"] == "aws_lambda_function"
    }
    assert sorted(functions) == sorted(f"eksdiag-{g}" for g in (*TOOL_GROUPS, "indexer"))
    for name, function in functions.items():
        group = name.removeprefix("eksdiag-")
        assert function["handler"] == f"eksdiag.lambda_entry.{group}.handler"
        assert function["source_code_hash"] == expected_hash
        assert function["filename"].endswith("/packages/lambda-arm64.zip")
        assert function["reserved_concurrent_executions"] == (4 if group == "indexer" else 10)
        assert function["runtime"] == "python3.12"
        assert function["architectures"] == ["arm64"]
        assert function["layers"] == [
            "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:38"
        ]
    assert functions["eksdiag-indexer"]["ephemeral_storage"] == [{"size": 1024}]


def test_bucket_notification_is_filtered_to_uploaded_bundles(plan: tftest.TerraformPlanOutput) -> None:
    (notification,) = [c for c in module_changes(plan).values() if c["type"] == "aws_s3_bucket_notification"]
    (target,) = after(notification)["lambda_function"]
    assert (target["filter_prefix"], target["filter_suffix"], target["events"]) == (
        "uploads/",
        ".tar.gz",
        ["s3:ObjectCreated:*"],
    )


def test_documents_are_the_project_files(plan: tftest.TerraformPlanOutput) -> None:
    documents = {after(c)["name"]: after(c) for c in module_changes(plan).values() if c["type"] == "aws_ssm_document"}
    directory = ssm_documents_dir()
    assert documents["eksdiag-run-collector"]["content"] == (directory / "run-collector.yaml").read_text()
    assert documents["eksdiag-packet-capture"]["content"] == (directory / "packet-capture.yaml").read_text()
    collect = (directory / "collect.yaml").read_text().replace("@RUN_COLLECTOR_DOCUMENT_NAME@", "eksdiag-run-collector")
    assert documents["eksdiag-collect"]["content"] == collect
    assert {n: d["document_type"] for n, d in documents.items()} == {
        "eksdiag-collect": "Automation",
        "eksdiag-run-collector": "Command",
        "eksdiag-packet-capture": "Command",
    }


def _known_policies(plan: tftest.TerraformPlanOutput) -> dict[str, dict[str, Any]]:
    """Every policy document the provider could render at plan time, by resource address."""
    policies = {}
    for address, change in module_changes(plan).items():
        for attribute in ("policy", "assume_role_policy"):
            value = (after(change) or {}).get(attribute)
            if isinstance(value, str) and value:
                policies[f"{address}.{attribute}"] = json.loads(value)
    return policies


def test_rendered_policies_allow_no_wildcard_action(plan: tftest.TerraformPlanOutput) -> None:
    policies = _known_policies(plan)
    assert any(".aws_kms_key." in a for a in policies), "the key policy is known at plan time"
    assert sum(a.endswith("assume_role_policy") for a in policies) == 7
    for address, policy in policies.items():
        for statement in policy["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if statement["Effect"] == "Allow":
                assert not [a for a in actions if "*" in a], address


def test_service_roles_trust_only_this_account(plan: tftest.TerraformPlanOutput) -> None:
    trusts = {a: p for a, p in _known_policies(plan).items() if a.endswith("assume_role_policy")}
    automation = next(p for a, p in trusts.items() if "module.collection" in a)
    gateway = next(p for a, p in trusts.items() if "module.gateway" in a)
    for policy in (automation, gateway):
        (statement,) = policy["Statement"]
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"


def test_outputs_known_at_plan(plan: tftest.TerraformPlanOutput) -> None:
    assert plan.outputs["document_names"] == {
        "collect": "eksdiag-collect",
        "run_collector": "eksdiag-run-collector",
        "packet_capture": "eksdiag-packet-capture",
    }
    assert plan.outputs["oauth_scopes"] == {"read": "eksdiag/read", "collect": "eksdiag/collect"}
    assert all(len(name) <= 64 for name in plan.outputs["tool_names"])


def _lowercase_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation SchemaDefinition back to the AgentCore API keywords of the schema files."""
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "Properties":
            result["properties"] = {name: _lowercase_schema(p) for name, p in value.items()}
        elif key == "Items":
            result["items"] = _lowercase_schema(value)
        else:
            result[key.lower()] = value
    return result


def test_gateway_tool_definitions_equal_the_schema_files(plan: tftest.TerraformPlanOutput) -> None:
    definitions = plan.outputs["tool_definitions"]
    assert sorted(definitions) == sorted(TOOL_GROUPS)
    for group in TOOL_GROUPS:
        from_file = json.loads((tool_schema_dir() / f"{group}.json").read_text())
        sent = [
            {
                "name": d["Name"],
                "description": d["Description"],
                "inputSchema": _lowercase_schema(d["InputSchema"]),
                **({"outputSchema": _lowercase_schema(d["OutputSchema"])} if "OutputSchema" in d else {}),
            }
            for d in definitions[group]
        ]
        assert sent == from_file, group


def _roles(plan: tftest.TerraformPlanOutput) -> dict[str, dict[str, Any]]:
    return {after(c)["name"]: after(c) for c in module_changes(plan).values() if c["type"] == "aws_iam_role"}


def test_every_role_carries_the_region_path_and_boundary(plan: tftest.TerraformPlanOutput) -> None:
    roles = _roles(plan)
    purposes = (*TOOL_GROUPS, "indexer", "automation", "gateway")
    assert sorted(roles) == sorted(f"eksdiag-us-east-1-{p}" for p in purposes)
    for role in roles.values():
        assert role["path"] == ADOPTION["iam_role_path"]
        assert role["permissions_boundary"] == ADOPTION["iam_role_permissions_boundary"]


def test_one_name_in_two_regions_of_one_account_does_not_collide(
    plan: tftest.TerraformPlanOutput, planner: Callable[..., tftest.TerraformPlanOutput]
) -> None:
    """Everything global to the account (IAM role names) differs; regional names may repeat."""
    other = planner(region="eu-west-1")
    assert not set(_roles(plan)) & set(_roles(other))
    buckets = [
        after(c)["bucket"] for p in (plan, other) for c in module_changes(p).values() if c["type"] == "aws_s3_bucket"
    ]
    assert len(set(buckets)) == 2


def _names(plan: tftest.TerraformPlanOutput) -> dict[str, list[str]]:
    """Every name the module derives, by the service limit it must meet."""
    changes = [after(c) for c in module_changes(plan).values()]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for change, raw in zip(changes, module_changes(plan).values(), strict=True):
        by_type.setdefault(raw["type"], []).append(change)
    return {
        "iam role (64)": [r["name"] for r in by_type["aws_iam_role"]],
        "lambda function (64)": [f["function_name"] for f in by_type["aws_lambda_function"]],
        "s3 bucket (63)": [b["bucket"] for b in by_type["aws_s3_bucket"]],
        "cognito domain (63)": [d["domain"] for d in by_type["aws_cognito_user_pool_domain"]],
        "sqs queue (80)": [q["name"] for q in by_type["aws_sqs_queue"]],
        "ssm document (128)": [d["name"] for d in by_type["aws_ssm_document"]],
        "dynamodb table (255)": [t["name"] for t in by_type["aws_dynamodb_table"]],
        "kms alias (256)": [a["name"] for a in by_type["aws_kms_alias"]],
    }


def test_the_longest_name_in_the_longest_region_fits_every_service(
    planner: Callable[..., tftest.TerraformPlanOutput],
) -> None:
    names = _names(planner(name=LONGEST_NAME, region=LONGEST_REGION))
    limits = {label: int(label.rsplit("(", 1)[1].rstrip(")")) for label in names}
    too_long = {label: [n for n in found if len(n) > limits[label]] for label, found in names.items()}
    assert all(names.values()), names
    assert not any(too_long.values()), too_long
    assert max(len(n) for n in names["iam role (64)"]) == len(f"{LONGEST_NAME}-{LONGEST_REGION}-automation")


def test_names_fit_for_every_region() -> None:
    """LONGEST_REGION is the longest region name botocore knows, and the module takes them all."""
    import re

    import botocore

    endpoints = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    regions = [r for partition in endpoints["partitions"] for r in partition["regions"]]
    assert max(len(r) for r in regions) == len(LONGEST_REGION)
    variables = (ROOT / "variables.tf").read_text()
    pattern = re.search(r'for r in var.allowed_regions : can\(regex\("(.+?)", r\)\)', variables)
    assert pattern is not None
    region_pattern = pattern.group(1).replace("\\\\", "\\")
    assert [r for r in regions if not re.fullmatch(region_pattern, r)] == []
