"""Every boto3 request the handlers and the Automation scripts make, against botocore's models.

The code paths run on moto (S3, DynamoDB, EC2, EKS) and the SSM fake of tests/tools, with the values
the code builds itself. A ``before-parameter-build`` hook on every client the code gets records each
request; each is then checked with botocore's ParamValidator and the model's maximum lengths,
patterns and enums (support.request_problems), which real services enforce and botocore does not.
Which operations the code calls is read from its source (client methods, paginators, presigned
URLs, uploads), so a call added without a scenario here fails the coverage test.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import xform_name
from botocore.stub import Stubber
from eksdiag.lambda_entry.indexer import IndexerHandler

from tests.fixtures.seed import FAULTY_ID, build_seed_bundles
from tests.tools.ssm_fake import (
    Clock,
    SsmFake,
    call,
    launch_ssm_node,
    managed_tags,
    self_managed_tags,
)
from tests.tools.test_indexer_lambda import s3_event

from .support import model_source, request_problems, service_model, tool_context

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("s3", "ssm", "ec2", "eks", "dynamodb")
ENGINE = ROOT / "handlers" / "eksdiag" / "engine"
"""The pure library: no AWS imports (checked below), so its calls (a Hyperscan database's scan) are not AWS's."""
CODE = [
    *sorted(p for p in (ROOT / "handlers" / "eksdiag").rglob("*.py") if ENGINE not in p.parents),
    *sorted((ROOT / "ssm" / "automation").glob("*.py")),
]
REGION = "us-west-2"
CLUSTER = "prod"


def code_operations() -> dict[tuple[str, str], list[str]]:
    """(service, Operation) -> call sites, for every AWS call written in the handlers and scripts."""
    by_method: dict[str, list[tuple[str, str]]] = {}
    for service in SERVICES:
        for operation in service_model(service).operation_names:
            by_method.setdefault(xform_name(operation), []).append((service, operation))
    sites: dict[tuple[str, str], list[str]] = {}
    for path in CODE:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            method = node.func.attr
            if method in ("get_paginator", "generate_presigned_url") and node.args:
                first = node.args[0]
                method = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""
            elif method == "upload_fileobj":
                method = "put_object"  # our files are below s3transfer's multipart threshold
            for found in by_method.get(method, []):
                sites.setdefault(found, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return sites


def _copy(value: Any) -> Any:
    """The request as built (containers copied, bodies and other leaves shared)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


class Recorder:
    """Records every request of the clients it is attached to, as the code built it."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []

    def attach(self, client: Any) -> Any:
        service = client.meta.service_model.service_name
        client.meta.events.register(
            "before-parameter-build",
            lambda params, model, **_: self.requests.append((service, model.name, _copy(params))),
        )
        return client

    def problems(self) -> list[str]:
        found = []
        for service, operation, params in self.requests:
            found += [f"{p} [rule: {model_source(service)}]" for p in request_problems(service, operation, params)]
        return found


@pytest.fixture(scope="module")
def exercised() -> dict[str, set[tuple[str, str]]]:
    """Scenario name -> the operations it made (filled by the scenario tests, read by the coverage test)."""
    return {}


def _finish(name: str, recorder: Recorder, exercised: dict[str, set[tuple[str, str]]]) -> None:
    exercised[name] = {(service, operation) for service, operation, _p in recorder.requests}
    problems = recorder.problems()
    assert not problems, "\n".join(problems)


@pytest.fixture
def eks_cluster(aws_env: dict[str, Any], ec2: Any, fake: SsmFake) -> list[str]:
    eks = boto3.client("eks", region_name=REGION)
    eks.create_cluster(
        name=CLUSTER, roleArn="arn:aws:iam::123456789012:role/eks", resourcesVpcConfig={"subnetIds": ["subnet-1"]}
    )
    eks.create_nodegroup(
        clusterName=CLUSTER, nodegroupName="ng-a", subnets=["subnet-1"], nodeRole="arn:aws:iam::123456789012:role/n"
    )
    return [
        launch_ssm_node(ec2, fake, managed_tags(CLUSTER, "ng-a"), az="us-west-2a"),
        launch_ssm_node(ec2, fake, self_managed_tags(CLUSTER), az="us-west-2b"),
    ]


def test_nodelog_requests_fit_the_models(
    aws_env: dict[str, Any], fake: SsmFake, clock: Clock, eks_cluster: list[str], exercised: Any
) -> None:
    recorder = Recorder()
    ctx = tool_context(aws_env, fake=fake, clock=clock, wrap=recorder.attach)
    call(ctx, "nodelog", "cluster_health", {"clusterName": CLUSTER})
    started = call(ctx, "nodelog", "collect", {"instanceId": eks_cluster[0], "idempotencyToken": "t-1"})
    fake.finish(started["executionId"], "Failed", failure="Step fails when it is polling the command status.")
    call(ctx, "nodelog", "status", {"bundleId": started["bundleId"]})
    call(ctx, "nodelog", "history", {"instanceId": eks_cluster[0]})
    batch = call(ctx, "nodelog", "batch_collect", {"clusterName": CLUSTER, "maxConcurrency": 2})
    fake.spawn_children(batch["executionId"])
    call(ctx, "nodelog", "batch_status", {"batchId": batch["batchId"]})
    _finish("nodelog", recorder, exercised)


def test_capture_requests_fit_the_models(
    aws_env: dict[str, Any], fake: SsmFake, clock: Clock, ec2: Any, exercised: Any
) -> None:
    recorder = Recorder()
    ctx = tool_context(aws_env, fake=fake, clock=clock, wrap=recorder.attach)
    node = launch_ssm_node(ec2, fake, self_managed_tags(CLUSTER))
    started = call(
        ctx,
        "capture",
        "tcpdump_capture",
        {
            "instanceId": node,
            "filter": "udp port 53",
            "podNamespace": "kube-system",
            "podName": "coredns-6b9575c64c-4x2lm",
        },
    )
    key = f"captures/{node}/{started['captureId']}/summary.txt"
    boto3.client("s3", region_name=REGION).put_object(Bucket=ctx.settings.bucket, Key=key, Body=b"# packets: 0\n")
    call(ctx, "capture", "tcpdump_analyze", {"captureId": started["captureId"]})
    _finish("capture", recorder, exercised)


def test_indexer_and_findings_requests_fit_the_models(
    aws_env: dict[str, Any], fake: SsmFake, clock: Clock, tmp_path: Path, exercised: Any
) -> None:
    recorder = Recorder()
    ctx = tool_context(aws_env, fake=fake, clock=clock, wrap=recorder.attach)
    faulty, _healthy = build_seed_bundles(tmp_path)
    upload = f"uploads/{FAULTY_ID}/b-20260306183000-0a1b2c3d.tar.gz"
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=ctx.settings.bucket, Key=upload, Body=Path(faulty).read_bytes()
    )
    IndexerHandler(context_factory=lambda: ctx)(s3_event(upload), None)
    bundle = {"bundleId": "b-20260306183000-0a1b2c3d"}
    errors = call(ctx, "findings", "errors", bundle)
    call(ctx, "findings", "read", {**bundle, "findingId": errors["findings"][0]["id"]})
    call(ctx, "findings", "search", {**bundle, "pattern": "DROP"})
    call(ctx, "findings", "artifact", {**bundle, "path": errors["findings"][0]["file"]})
    call(ctx, "findings", "read", {**bundle, "path": errors["findings"][0]["file"], "startByte": 0})  # HeadObject
    call(ctx, "findings", "read", {**bundle, "path": "no/such/file.txt"})
    # an indexing that died past its deadline: the first reader fails it and removes its files
    from datetime import timedelta

    from eksdiag.adapters import lifecycle

    dead = "b-20260306183000-0d0d0d0d"
    ctx.jobs.create_job({"bundle_id": dead, "instance_id": FAULTY_ID, "state": "uploaded"})
    lifecycle.claim_indexing(ctx, dead, owner="lambda:dead", deadline=clock() - timedelta(hours=1))
    sink = ctx.store.file_sink(dead)
    with sink.open("kubelet/kubelet.log") as handle:
        handle.write(b"partial\n")
    sink.wait()
    assert call(ctx, "findings", "errors", {"bundleId": dead})["error"]["code"] == "NotFound"
    _finish("findings", recorder, exercised)


def _script(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"contract_{name}", ROOT / "ssm" / "automation" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def ssm_for_scripts(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What an aws:executeScript step gets from ``boto3.client("ssm")``: the client put in ``["ssm"]``;
    other services get recorded real clients."""
    real_client = boto3.client
    chosen: dict[str, Any] = {"recorder": Recorder(), "ssm": real_client("ssm", region_name=REGION)}

    def client(service: str, *args: Any, **kwargs: Any) -> Any:
        if service == "ssm":
            return chosen["ssm"]
        return chosen["recorder"].attach(real_client(service, *args, **kwargs))

    monkeypatch.setattr(boto3, "client", client)
    return chosen


def test_automation_script_requests_fit_the_models(
    aws_env: dict[str, Any], ec2: Any, fake: SsmFake, ssm_for_scripts: dict[str, Any], exercised: Any
) -> None:
    recorder: Recorder = ssm_for_scripts["recorder"]
    node = launch_ssm_node(ec2, fake, managed_tags(CLUSTER))
    prepared = _script("prepare_upload").handler(
        {
            "InstanceId": node,
            "BundleId": "b-20260306183000-0a1b2c3d",
            "Bucket": aws_env["env"]["BUCKET_NAME"],
            "KmsKeyId": aws_env["kms_key_arn"],
            "UploadExpiresSeconds": "3600",
        },
        None,
    )
    assert prepared["UploadUrl"].startswith("https://")

    ssm_for_scripts["ssm"] = fake.attach(recorder.attach(boto3.client("ssm", region_name=REGION)))
    _script("check_instance").handler({"InstanceId": node}, None)

    # moto and the fake have no DescribeAutomationStepExecutions: a Stubber answers in the API's shapes
    stubbed = recorder.attach(boto3.client("ssm", region_name=REGION))
    ssm_for_scripts["ssm"] = stubbed
    command = "0b1c2d3e-1111-2222-3333-444455556666"
    with Stubber(stubbed) as stubber:
        stubber.add_response(
            "describe_automation_step_executions",
            {
                "StepExecutions": [
                    {"StepName": "RunCollector", "StepStatus": "Failed", "Outputs": {"CommandId": [command]}}
                ]
            },
        )
        stubber.add_response(
            "get_command_invocation", {"Status": "Failed", "StandardErrorContent": "EKSDIAG_ERROR: upload failed\n"}
        )
        with pytest.raises(RuntimeError, match="upload failed"):
            _script("explain_failure").handler(
                {"InstanceId": node, "ExecutionId": "4105a4fc-f944-11e6-9d32-8fb2db27a909"}, None
            )
    _finish("automation scripts", recorder, exercised)


def test_the_engine_imports_no_aws_sdk() -> None:
    for path in sorted(ENGINE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not [n for n in names if n.split(".")[0] in {"boto3", "botocore"}], path


def test_every_aws_call_in_the_code_was_exercised(exercised: dict[str, set[tuple[str, str]]]) -> None:
    if len(exercised) < 4:
        pytest.skip("run the whole module: the scenarios above fill the record")
    made = set().union(*exercised.values())
    missing = {op: sites for op, sites in code_operations().items() if op not in made}
    assert not missing, "\n".join(
        f"{s}.{o} ({', '.join(sites)}): add it to a scenario" for (s, o), sites in missing.items()
    )


@pytest.mark.parametrize(
    ("service", "operation", "params", "reason"),
    [
        ("ssm", "StartAutomationExecution", {"DocumentName": "d", "Parameters": {"UploadUrl": ["u" * 513]}}, "513"),
        ("ssm", "StartAutomationExecution", {"DocumentName": "d", "TargetMaps": [{"BundleId": ["b" * 51]}]}, "51"),
        ("ssm", "SendCommand", {"DocumentName": "eksdiag packet", "InstanceIds": ["i-0123456789abcdef0"]}, "match"),
        ("ssm", "SendCommand", {"DocumentName": "d-capture", "TimeoutSeconds": 10}, "min value"),
        ("ssm", "DescribeInstanceInformation", {"Filters": [{"Key": "InstanceIds", "Values": []}]}, "length"),
        ("dynamodb", "Query", {"TableName": "t", "Select": "EVERYTHING"}, "not one of"),
    ],
)
def test_the_check_refuses_what_the_service_refuses(
    service: str, operation: str, params: dict[str, Any], reason: str
) -> None:
    recorder = Recorder()
    recorder.requests.append((service, operation, params))
    assert any(reason in problem for problem in recorder.problems()), recorder.problems()
