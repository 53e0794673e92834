"""What the contract tests share: the rendered module, and where each specification lives."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import botocore.session
from botocore.model import ServiceModel


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


#: The runs of tests/contracts/terraform/render.tftest.hcl.
RUNS = ("defaults", "edges", "existing_key_and_issuer")
