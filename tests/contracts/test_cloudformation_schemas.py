"""Every resource the module creates through Cloud Control matches its CloudFormation schema.

Source: the resource schemas cfn-lint ships (``data/schemas/providers/<region>.json`` names the
schema file of each type per region; ``data/schemas/resources/<file>.json`` is the schema). Cloud
Control validates ``desired_state`` against the same schema. The desired state is the one Terraform
renders for the default inputs, for edge inputs the module accepts and for bring-your-own inputs;
every property it renders is checked, whatever the module adds later.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft7Validator, ValidationError

from .support import RUNS, Rendered, cfn_regions, cfn_schema, cfn_schema_files, cfn_source

pytestmark = pytest.mark.terraform

DEPLOYMENT_REGION = "us-east-1"  # the mock provider's region (tests/terraform/mocks)


def _desired(rendered: dict[str, Rendered], run: str) -> list[tuple[str, str, dict[str, Any]]]:
    resources = rendered[run].managed("aws_cloudcontrolapi_resource")
    assert resources, f"run {run} created nothing through Cloud Control"
    return [(r["address"], r["values"]["type_name"], json.loads(r["values"]["desired_state"])) for r in resources]


def _pointer_in(document: dict[str, Any], pointer: str) -> bool:
    node: Any = document
    for part in pointer.strip("/").split("/")[1:]:  # "/properties/Name" -> ["Name"]
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _deepest(error: ValidationError) -> ValidationError:
    """The innermost reason of a oneOf/anyOf failure: the branch that matched deepest."""
    while error.context:
        error = max(error.context, key=lambda e: len(e.absolute_path))
    return error


def test_the_rendered_runs_are_the_ones_checked(rendered: dict[str, Rendered]) -> None:
    assert set(rendered) == set(RUNS)


@pytest.mark.parametrize("run", RUNS)
def test_desired_state_validates_against_the_cloudformation_schema(rendered: dict[str, Rendered], run: str) -> None:
    problems = []
    for address, type_name, desired in _desired(rendered, run):
        files = cfn_schema_files(type_name)
        if not files:
            problems.append(f"{address}: {type_name} is not in any cfn-lint provider schema")
        for file_id, regions in files.items():
            schema = cfn_schema(file_id)
            rule = f"{type_name} schema ({cfn_source(file_id)}; regions {', '.join(regions[:4])}...)"
            for found in Draft7Validator(schema).iter_errors(desired):
                error = _deepest(found)
                where = "/" + "/".join(str(p) for p in error.absolute_path)
                problems.append(f"{address} {where}: {error.message[:300]} [rule: {rule}]")
            for pointer in schema.get("readOnlyProperties", []):
                if _pointer_in(desired, pointer):
                    problems.append(f"{address}: sets read-only {pointer} [rule: {rule} readOnlyProperties]")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("run", RUNS)
def test_every_cloud_control_type_exists_in_the_deployment_region(rendered: dict[str, Rendered], run: str) -> None:
    missing = {t for _a, t, _d in _desired(rendered, run) if DEPLOYMENT_REGION not in cfn_regions(t)}
    assert not missing, f"not in cfn-lint providers/{DEPLOYMENT_REGION}.json: {sorted(missing)}"
