"""What the contract tests share: the rendered module, and where each specification lives."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape


@dataclass(frozen=True)
class Rendered:
    """One run of tests/contracts/terraform/render.tftest.hcl: every resource and data source."""

    run: str
    resources: list[dict[str, Any]]

    def managed(self, resource_type: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["mode"] == "managed" and r["type"] == resource_type]

    def data(self, data_type: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["mode"] == "data" and r["type"] == data_type]


# --------------------------------------------------------------------------- CloudFormation (cfn-lint)


def _cfnlint_schemas() -> Path:
    import cfnlint

    return Path(cfnlint.__file__).resolve().parent / "data" / "schemas"


@cache
def cfn_schema_files(type_name: str) -> dict[str, list[str]]:
    """Schema file -> regions listing ``type_name``, from cfn-lint's ``providers/<region>.json``."""
    files: dict[str, list[str]] = {}
    for provider in sorted((_cfnlint_schemas() / "providers").glob("*.json")):
        names = json.loads(provider.read_text())
        if type_name in names:
            files.setdefault(names[type_name], []).append(provider.stem)
    return files


@cache
def cfn_schema(file_id: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((_cfnlint_schemas() / "resources" / f"{file_id}.json").read_text())
    return schema


def cfn_regions(type_name: str) -> set[str]:
    return {region for regions in cfn_schema_files(type_name).values() for region in regions}


def cfn_source(file_id: str) -> str:
    return f"cfn-lint {version('cfn-lint')} data/schemas/resources/{file_id}.json"


# --------------------------------------------------------------------------- botocore service models


@cache
def service_model(service: str) -> ServiceModel:
    session = botocore.session.get_session()
    return ServiceModel(session.get_service_data(service), service_name=service)


def model_source(service: str) -> str:
    model = service_model(service)
    return f"botocore {botocore.__version__} data/{service}/{model.api_version}/service-2.json"


def cache_dir(request: Any, name: str) -> Path:
    """A directory kept between sessions (pytest's cache), or a fresh one when the cache is off."""
    cache = getattr(request.config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir(name))
    return Path(request.getfixturevalue("tmp_path_factory").mktemp(name))


#: The runs of tests/contracts/terraform/render.tftest.hcl.
RUNS = ("defaults", "edges", "existing_key_and_issuer")


def _pattern_matches(pattern: str, value: str) -> bool:
    """AWS services apply a model pattern to the whole value; RE2 reads their Java/ECMA classes (\\p{L})."""
    import re

    import re2

    body = pattern.removeprefix("^").removesuffix("$")
    try:
        return re2.fullmatch(re.sub(r"\\u([0-9A-Fa-f]{4})", r"\\x{\1}", body), value) is not None
    except re2.error:
        return re.fullmatch(body, value) is not None


def model_problems(value: Any, shape: Shape, path: str) -> list[str]:
    """What a service refuses that botocore's client-side ParamValidator lets through: maximum lengths,
    sizes and values, patterns and enums of the model (ParamValidator checks types, required members
    and minimums only)."""
    meta = shape.metadata
    problems: list[str] = []
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                problems += model_problems(value[name], member, f"{path}.{name}")
    elif isinstance(shape, ListShape) and isinstance(value, list):
        if len(value) > meta.get("max", len(value)):
            problems.append(f"{path}: {len(value)} items, at most {meta['max']} ({shape.name})")
        for i, item in enumerate(value):
            problems += model_problems(item, shape.member, f"{path}[{i}]")
    elif isinstance(shape, MapShape) and isinstance(value, dict):
        if len(value) > meta.get("max", len(value)):
            problems.append(f"{path}: {len(value)} entries, at most {meta['max']} ({shape.name})")
        for key, item in value.items():
            problems += model_problems(key, shape.key, f"{path}<key {key!r}>")
            problems += model_problems(item, shape.value, f"{path}[{key!r}]")
    elif shape.type_name == "string" and isinstance(value, str):
        shown = value if len(value) <= 80 else value[:77] + "..."
        if len(value) > meta.get("max", len(value)):
            problems.append(f"{path}: {len(value)} characters, at most {meta['max']} ({shape.name})")
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {shown!r} is not one of {shape.enum} ({shape.name})")
        if "pattern" in meta and not _pattern_matches(meta["pattern"], value):
            problems.append(f"{path}: {shown!r} does not match {meta['pattern']} ({shape.name})")
    elif shape.type_name in ("integer", "long") and isinstance(value, int) and value > meta.get("max", value):
        problems.append(f"{path}: {value} is above {meta['max']} ({shape.name})")
    return problems


def request_problems(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """Every reason the service would refuse ``params`` for ``operation``, by its botocore model:
    botocore's own ParamValidator first, then :func:`model_problems`."""
    from botocore.validate import ParamValidator

    model = service_model(service).operation_model(operation)
    report = ParamValidator().validate(params, model.input_shape)
    problems = [
        f"{service}.{operation}: {line}" for line in report.generate_report().splitlines() if report.has_errors()
    ]
    problems += [f"{service}.{operation}: {p}" for p in model_problems(params, model.input_shape, operation)]
    return problems


def tool_context(
    aws_env: dict[str, Any],
    *,
    fake: Any = None,
    clock: Any = None,
    wrap: Callable[[Any], Any] | None = None,
    env: dict[str, str] | None = None,
) -> Any:
    """A ToolContext on tests/tools' moto environment: every client passed through ``wrap`` (a recorder,
    S3's authorization for one role), SSM clients served by ``fake`` (tests/tools/ssm_fake.py)."""
    from eksdiag.adapters.context import aws_context

    from tests.tools.conftest import FIXED_NOW

    base = aws_env["clients"]

    def factory(service: str, region: str | None) -> Any:
        client = base(service, region)
        if wrap is not None:
            client = wrap(client)
        return fake.attach(client) if fake is not None and service == "ssm" else client

    return aws_context({**aws_env["env"], **(env or {})}, client_factory=factory, clock=clock or (lambda: FIXED_NOW))
