"""SSM calls moto 5.2.5 does not implement, served in memory on a real boto3 client.

moto 5.2.5 has no ``StartAutomationExecution``, ``GetAutomationExecution``,
``DescribeAutomationExecutions`` or ``DescribeInstanceInformation`` (its ssm backend raises
NotImplementedError), and its ``SendCommand`` accepts any parameters and always reports Success.
:class:`SsmFake` hooks those operations on one boto3 SSM client through botocore's
``before-call`` event (the mechanism ``botocore.stub.Stubber`` uses) and leaves every other call to
moto. Unlike a bare Stubber it keeps state (executions, ClientTokens) and checks what real SSM checks
and botocore does not:

- request and response shapes against the SSM API model (``validate_parameters``);
- the model's *maximum* lengths (``AutomationParameterValue`` <= 512, ``TargetMapValue`` <= 50, ...),
  which botocore never enforces client-side;
- the parameters against the document's declared parameters, required ones and ``allowedPattern``
  (``InvalidAutomationExecutionParametersException`` / ``InvalidParameters`` like SSM);
- ClientToken reuse (same token, same request: same execution; different request:
  ``IdempotentParameterMismatch``).
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from botocore.awsrequest import AWSResponse
from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.validate import validate_parameters

FIXED_NOW = datetime(2026, 3, 6, 18, 30, 0, tzinfo=UTC)


class Clock:
    """A settable UTC clock for ToolContext (``clock=Clock()``)."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now = self.now + timedelta(**delta)


class LimitError(Exception):
    pass


def check_limits(value: Any, shape: Shape, path: str = "") -> None:
    """Raise :class:`LimitError` when ``value`` breaks a max length/size of ``shape`` (the API model)."""
    meta = shape.metadata
    if isinstance(shape, StructureShape):
        for name, member in shape.members.items():
            if isinstance(value, dict) and name in value:
                check_limits(value[name], member, f"{path}.{name}")
        return
    if isinstance(shape, ListShape):
        if "max" in meta and len(value) > meta["max"]:
            raise LimitError(f"{path}: {len(value)} items, at most {meta['max']}")
        for i, item in enumerate(value):
            check_limits(item, shape.member, f"{path}[{i}]")
        return
    if isinstance(shape, MapShape):
        if "max" in meta and len(value) > meta["max"]:
            raise LimitError(f"{path}: {len(value)} entries, at most {meta['max']}")
        for key, item in value.items():
            check_limits(key, shape.key, f"{path}.<key {key}>")
            check_limits(item, shape.value, f"{path}.{key}")
        return
    if shape.type_name == "string" and isinstance(value, str):
        if "max" in meta and len(value) > meta["max"]:
            raise LimitError(f"{path}: {len(value)} characters, at most {meta['max']}")
        if "pattern" in meta and not re.fullmatch(meta["pattern"].lstrip("^").rstrip("$"), value):
            raise LimitError(f"{path}: {value!r} does not match {meta['pattern']}")


class Document:
    """The parameters part of an SSM document (YAML text as in ssm/documents/*.yaml)."""

    def __init__(self, text: str) -> None:
        data = yaml.safe_load(text)
        self.schema_version = str(data.get("schemaVersion"))
        self.parameters: dict[str, dict[str, Any]] = dict(data.get("parameters") or {})
        self.steps = [str(step.get("name")) for step in data.get("mainSteps") or []]

    def problems(self, given: dict[str, list[str]]) -> list[str]:
        out = []
        for name in given:
            if name not in self.parameters:
                out.append(f"parameter {name} is not declared by the document")
        for name, spec in self.parameters.items():
            if name not in given and "default" not in spec:
                out.append(f"required parameter {name} is missing")
        for name, values in given.items():
            pattern = (self.parameters.get(name) or {}).get("allowedPattern")
            if pattern:
                for value in values:
                    if not re.search(pattern, value):
                        out.append(f"parameter {name} value {value[:60]!r} fails allowedPattern")
            allowed = (self.parameters.get(name) or {}).get("allowedValues")
            if allowed:
                out.extend(f"parameter {name} value {v!r} not allowed" for v in values if v not in allowed)
        return out


def _error(code: str, message: str, status: int = 400) -> tuple[AWSResponse, dict[str, Any]]:
    return AWSResponse(None, status, {}, None), {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


class SsmFake:
    """In-memory SSM Automation + instance registry for one region (see the module docstring)."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or Clock()
        self.documents: dict[str, Document] = {}
        self.executions: dict[str, dict[str, Any]] = {}
        self.client_tokens: dict[str, tuple[dict[str, Any], str]] = {}
        self.instances: dict[str, dict[str, Any]] = {}
        self.invocations: dict[tuple[str, str], dict[str, Any]] = {}
        self.start_requests: list[dict[str, Any]] = []
        self.send_requests: list[dict[str, Any]] = []
        #: errors the next StartAutomationExecution calls answer with, as (code, message)
        self.start_errors: list[tuple[str, str]] = []
        self._model: Any = None

    # -- set-up ------------------------------------------------------------------------------
    def add_document(self, name: str, text: str) -> None:
        self.documents[name] = Document(text)

    def register_instance(self, instance_id: str, ping: str = "Online") -> None:
        self.instances[instance_id] = {
            "InstanceId": instance_id,
            "PingStatus": ping,
            "LastPingDateTime": self.clock(),
            "AgentVersion": "3.3.2746.0",
            "PlatformType": "Linux",
            "PlatformName": "Amazon Linux",
            "ResourceType": "EC2Instance",
        }

    def set_invocation(self, command_id: str, instance_id: str, status: str, **fields: Any) -> None:
        self.invocations[(command_id, instance_id)] = {
            "CommandId": command_id,
            "InstanceId": instance_id,
            "Status": status,
            "StatusDetails": fields.pop("StatusDetails", status),
            **fields,
        }

    def finish(self, execution_id: str, status: str, failure: str | None = None, **fields: Any) -> None:
        """Move an execution to ``status`` (and its steps along), with an end time when terminal."""
        execution = self.executions[execution_id]
        execution["AutomationExecutionStatus"] = status
        if status not in ("Pending", "InProgress", "Waiting", "Cancelling"):
            execution["ExecutionEndTime"] = fields.pop("end", self.clock())
        step_status = {"Success": "Success", "InProgress": "InProgress"}.get(status, status)
        for i, step in enumerate(execution["StepExecutions"]):
            if status == "InProgress":
                step["StepStatus"] = "Success" if i == 0 else ("InProgress" if i == 1 else "Pending")
            elif status == "Success":
                step["StepStatus"] = "Success"
            else:
                step["StepStatus"] = "Success" if i < len(execution["StepExecutions"]) - 1 else step_status
        if failure:
            execution["FailureMessage"] = failure
        execution.update(fields)

    def spawn_children(self, parent_id: str, count: int | None = None) -> list[str]:
        """Start (as SSM would) the child executions of a TargetMaps execution; returns their ids."""
        parent = self.executions[parent_id]
        maps = parent.get("TargetMaps") or []
        started = {
            tuple(sorted((k, tuple(v)) for k, v in e["Parameters"].items()))
            for e in self.executions.values()
            if e.get("ParentAutomationExecutionId") == parent_id
        }
        ids = []
        for target_map in maps[: count if count is not None else len(maps)]:
            params = {**copy.deepcopy(parent["Parameters"]), **copy.deepcopy(target_map)}
            key = tuple(sorted((k, tuple(v)) for k, v in params.items()))
            if key in started:
                continue
            child = self._new_execution(parent["DocumentName"], params)
            child["ParentAutomationExecutionId"] = parent_id
            ids.append(child["AutomationExecutionId"])
        return ids

    # -- wiring ------------------------------------------------------------------------------
    def attach(self, client: Any) -> Any:
        self._model = client.meta.service_model
        events = client.meta.events
        handlers = {
            "StartAutomationExecution": self._start,
            "GetAutomationExecution": self._get,
            "DescribeAutomationExecutions": self._describe,
            "DescribeInstanceInformation": self._instance_information,
            "SendCommand": self._send_command,
            "GetCommandInvocation": self._invocation,
        }
        for operation, handler in handlers.items():
            events.register_first(f"before-parameter-build.ssm.{operation}", self._remember_params)
            events.register(f"before-call.ssm.{operation}", self._responder(operation, handler))
        return client

    @staticmethod
    def _remember_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["fake_api_params"] = copy.deepcopy(params)

    def _responder(self, operation: str, handler: Callable[[dict[str, Any]], Any]) -> Callable[..., Any]:
        def respond(model: Any, context: dict[str, Any], **_: Any) -> Any:
            params = context.get("fake_api_params", {})
            op = self._model.operation_model(operation)
            try:
                check_limits(params, op.input_shape)
            except LimitError as err:
                return _error("ValidationException", f"1 validation error detected: {err}")
            answer = handler(params)
            if answer is None:  # let moto answer
                return None
            if isinstance(answer, tuple):
                return answer
            validate_parameters(answer, op.output_shape)
            return AWSResponse(None, 200, {}, None), {**answer, "ResponseMetadata": {"HTTPStatusCode": 200}}

        return respond

    # -- operations ----------------------------------------------------------------------------
    def _new_execution(self, document: str, parameters: dict[str, list[str]]) -> dict[str, Any]:
        execution_id = str(uuid.uuid4())
        doc = self.documents[document]
        execution = {
            "AutomationExecutionId": execution_id,
            "DocumentName": document,
            "DocumentVersion": "1",
            "ExecutionStartTime": self.clock(),
            "AutomationExecutionStatus": "InProgress",
            "StepExecutions": [
                {"StepName": name, "Action": "aws:executeScript", "StepStatus": "Pending"}
                for name in doc.steps or ["Collect"]
            ],
            "Parameters": copy.deepcopy(parameters),
            "Mode": "Auto",
        }
        self.executions[execution_id] = execution
        return execution

    def _start(self, params: dict[str, Any]) -> Any:
        self.start_requests.append(copy.deepcopy(params))
        if self.start_errors:
            return _error(*self.start_errors.pop(0))
        name = params["DocumentName"]
        if name not in self.documents:
            return _error("AutomationDefinitionNotFoundException", f"document {name} not found")
        doc = self.documents[name]
        if doc.schema_version != "0.3":
            return _error("InvalidAutomationExecutionParametersException", f"{name} is not an Automation runbook")
        if params.get("Targets") and params.get("TargetMaps"):
            return _error("ValidationException", "Targets and TargetMaps cannot both be specified")
        common = params.get("Parameters") or {}
        problems: list[str] = []
        if params.get("TargetMaps"):
            for target_map in params["TargetMaps"]:
                problems += doc.problems({**common, **target_map})
        else:
            problems = doc.problems(common)
        if problems:
            return _error("InvalidAutomationExecutionParametersException", "; ".join(sorted(set(problems))))
        token = params.get("ClientToken")
        request = {k: v for k, v in params.items() if k != "ClientToken"}
        if token:
            try:
                uuid.UUID(token)
            except ValueError:
                return _error("ValidationException", "ClientToken must be a UUID")
            seen = self.client_tokens.get(token.lower())
            if seen:
                if seen[0] != request:
                    return _error("IdempotentParameterMismatch", "ClientToken reused with other parameters")
                return {"AutomationExecutionId": seen[1]}
        execution = self._new_execution(name, common)
        for key in ("TargetMaps", "MaxConcurrency", "MaxErrors", "TargetParameterName", "Targets"):
            if key in params:
                execution[key] = copy.deepcopy(params[key])
        if token:
            self.client_tokens[token.lower()] = (request, execution["AutomationExecutionId"])
        return {"AutomationExecutionId": execution["AutomationExecutionId"]}

    def _get(self, params: dict[str, Any]) -> Any:
        execution = self.executions.get(params["AutomationExecutionId"])
        if execution is None:
            return _error("AutomationExecutionNotFoundException", "no such execution")
        return {"AutomationExecution": copy.deepcopy(execution)}

    _METADATA_KEYS = (
        "AutomationExecutionId",
        "DocumentName",
        "DocumentVersion",
        "AutomationExecutionStatus",
        "ExecutionStartTime",
        "ExecutionEndTime",
        "ParentAutomationExecutionId",
        "FailureMessage",
        "Mode",
        "MaxConcurrency",
        "MaxErrors",
        "TargetMaps",
    )

    def _describe(self, params: dict[str, Any]) -> Any:
        rows = list(self.executions.values())
        for flt in params.get("Filters") or []:
            key, values = flt["Key"], flt["Values"]
            if key == "ParentExecutionId":
                rows = [r for r in rows if r.get("ParentAutomationExecutionId") in values]
            elif key == "ExecutionId":
                rows = [r for r in rows if r["AutomationExecutionId"] in values]
            elif key == "ExecutionStatus":
                rows = [r for r in rows if r["AutomationExecutionStatus"] in values]
            elif key == "DocumentNamePrefix":
                rows = [r for r in rows if any(r["DocumentName"].startswith(v) for v in values)]
            else:
                return _error("InvalidFilterKey", f"filter {key} is not supported by this fake")
        size = int(params.get("MaxResults") or 50)
        start = int(params.get("NextToken") or 0)
        page = rows[start : start + size]
        answer: dict[str, Any] = {
            "AutomationExecutionMetadataList": [
                {k: copy.deepcopy(r[k]) for k in self._METADATA_KEYS if k in r} for r in page
            ]
        }
        if start + size < len(rows):
            answer["NextToken"] = str(start + size)
        return answer

    def _instance_information(self, params: dict[str, Any]) -> Any:
        rows = list(self.instances.values())
        for flt in params.get("Filters") or []:
            if flt["Key"] == "InstanceIds":
                rows = [r for r in rows if r["InstanceId"] in flt["Values"]]
            elif flt["Key"] == "PingStatus":
                rows = [r for r in rows if r["PingStatus"] in flt["Values"]]
            else:
                return _error("InvalidInstanceInformationFilterValue", f"filter {flt['Key']} not supported here")
        size = int(params.get("MaxResults") or 50)
        if not 5 <= size <= 50:
            return _error("ValidationException", "MaxResults must be 5-50")
        start = int(params.get("NextToken") or 0)
        answer: dict[str, Any] = {"InstanceInformationList": copy.deepcopy(rows[start : start + size])}
        if start + size < len(rows):
            answer["NextToken"] = str(start + size)
        return answer

    def _send_command(self, params: dict[str, Any]) -> Any:
        """Check the request like SSM does, then let moto record the command."""
        self.send_requests.append(copy.deepcopy(params))
        doc = self.documents.get(params["DocumentName"])
        if doc is None:
            return _error("InvalidDocument", f"document {params['DocumentName']} not found")
        problems = doc.problems(params.get("Parameters") or {})
        if problems:
            return _error("InvalidParameters", "; ".join(problems))
        for iid in params.get("InstanceIds") or []:
            if self.instances.get(iid, {}).get("PingStatus") != "Online":
                return _error("InvalidInstanceId", f"instance {iid} is not online")
        return None

    def _invocation(self, params: dict[str, Any]) -> Any:
        return copy.deepcopy(self.invocations.get((params["CommandId"], params["InstanceId"])))


# -- documents -------------------------------------------------------------------------------------
REPO = __import__("pathlib").Path(__file__).resolve().parents[2]
DOCUMENTS = REPO / "ssm" / "documents"

#: The collect Automation as nodelog___collect calls it (see eksdiag.tools.nodelog._automation and
#: /work/notes/requests-B-to-ssm.md): the document presigns the upload itself, because an Automation
#: parameter value cannot exceed 512 characters.
CONTRACT_COLLECT_YAML = r"""
schemaVersion: '0.3'
assumeRole: '{{ AutomationAssumeRole }}'
parameters:
  InstanceId: {type: String, allowedPattern: '^i-[0-9a-f]{8,17}$'}
  BundleId: {type: String, allowedPattern: '^b-[0-9]{14}-[0-9a-f]{8}$'}
  Bucket: {type: String, allowedPattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$'}
  KmsKeyId:
    type: String
    default: ''
    allowedPattern: '^(arn:aws[a-z-]{0,20}:kms:[a-z0-9-]{1,30}:[0-9]{12}:key/[0-9a-f-]{36})?$'
  UploadExpiresSeconds: {type: String, default: '900', allowedPattern: '^[1-9][0-9]{1,3}$'}
  AutomationAssumeRole:
    type: String
    default: ''
    allowedPattern: '^(arn:aws[a-z-]{0,20}:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512})?$'
mainSteps:
- {name: PresignUpload, action: 'aws:executeScript'}
- {name: RunCollector, action: 'aws:runCommand'}
"""


def document_text(file_name: str) -> str | None:
    """The SSM helper's document ``ssm/documents/<file_name>``, or None before it exists."""
    path = DOCUMENTS / file_name
    return path.read_text(encoding="utf-8") if path.is_file() else None


# -- context and nodes -----------------------------------------------------------------------------
COLLECT_DOCUMENT = "eksdiag-collect"
CAPTURE_DOCUMENT = "eksdiag-packet-capture"
AMI = "ami-12c6146b"


def make_fake(clock: Clock) -> SsmFake:
    """A fake with the SSM helper's real collect and packet-capture documents (ssm/documents/*.yaml);
    the collect contract document stands in only while collect.yaml does not exist."""
    fake = SsmFake(clock)
    fake.add_document(COLLECT_DOCUMENT, document_text("collect.yaml") or CONTRACT_COLLECT_YAML)
    capture = document_text("packet-capture.yaml")
    if capture is not None:
        fake.add_document(CAPTURE_DOCUMENT, capture)
    return fake


def make_context(aws_env: dict[str, Any], fake: SsmFake, clock: Clock, **env: str) -> Any:
    """conftest's moto AWS context with ``fake`` on every SSM client and ``clock`` as the time."""
    from eksdiag.adapters.context import aws_context

    base = aws_env["clients"]

    def factory(service: str, region: str | None) -> Any:
        client = base(service, region)
        return fake.attach(client) if service == "ssm" else client

    return aws_context({**aws_env["env"], **env}, client_factory=factory, clock=clock)


def launch_node(
    ec2: Any,
    tags: dict[str, str],
    *,
    instance_type: str = "m5.large",
    az: str | None = None,
    state: str = "running",
) -> str:
    """One moto EC2 instance with ``tags``, moved to ``state`` (running, stopped, terminated)."""
    kwargs: dict[str, Any] = {
        "ImageId": AMI,
        "MinCount": 1,
        "MaxCount": 1,
        "InstanceType": instance_type,
    }
    if tags:
        kwargs["TagSpecifications"] = [
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
    if az:
        kwargs["Placement"] = {"AvailabilityZone": az}
    instance_id = str(ec2.run_instances(**kwargs)["Instances"][0]["InstanceId"])
    if state == "stopped":
        ec2.stop_instances(InstanceIds=[instance_id])
    elif state == "terminated":
        ec2.terminate_instances(InstanceIds=[instance_id])
    return instance_id


def launch_ssm_node(
    ec2: Any, fake: SsmFake, tags: dict[str, str], *, ping: str | None = "Online", **launch: Any
) -> str:
    """:func:`launch_node` (``launch``: instance_type, az, state) whose SSM agent ``fake`` reports with
    ``ping``; with ``ping=None`` SSM does not manage the instance."""
    instance_id = launch_node(ec2, tags, **launch)
    if ping:
        fake.register_instance(instance_id, ping=ping)
    return instance_id


def managed_tags(cluster: str, nodegroup: str = "ng-default") -> dict[str, str]:
    return {"eks:cluster-name": cluster, "eks:nodegroup-name": nodegroup, f"kubernetes.io/cluster/{cluster}": "owned"}


def self_managed_tags(cluster: str, asg: str = "asg-workers") -> dict[str, str]:
    return {f"kubernetes.io/cluster/{cluster}": "owned", "aws:autoscaling:groupName": asg}


def karpenter_tags(cluster: str, nodepool: str = "default") -> dict[str, str]:
    return {"eks:cluster-name": cluster, "karpenter.sh/nodepool": nodepool, f"kubernetes.io/cluster/{cluster}": "owned"}


def call(ctx: Any, group: str, name: str, args: Any) -> dict[str, Any]:
    """Validate and run one of helper B's tools the way the Lambda entry and local server do."""
    import importlib

    from eksdiag.tools.dispatch import call_tool
    from eksdiag.tools.registry import ToolSpec
    from eksdiag.tools.schemas_io import load_tool_schema

    module = importlib.import_module(f"eksdiag.tools.{group}.{name}")
    spec = ToolSpec(group, name, module.run, load_tool_schema(group, name), module.__name__)
    return call_tool(spec, args, ctx)


def check_output(group: str, name: str, result: dict[str, Any]) -> None:
    """Assert a success result matches the tool's outputSchema."""
    from eksdiag.tools.schemas_io import load_tool_schema
    from jsonschema import Draft202012Validator

    assert "error" not in result, result
    Draft202012Validator(load_tool_schema(group, name)["outputSchema"]).validate(result)
