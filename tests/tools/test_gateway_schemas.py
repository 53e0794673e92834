"""The AgentCore Gateway inline schemas: derived by code, in sync, and using only what the gateway accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from eksdiag.tools.gateway_schemas import (
    GATEWAY_KEYWORDS,
    GATEWAY_TYPES,
    MAX_QUALIFIED_NAME,
    main,
    rendered_files,
    to_cloudformation,
    to_gateway,
)
from eksdiag.tools.registry import group_tools, tools
from eksdiag.tools.schemas_io import GATEWAY_DIR, GROUPS


def _walk(schema: dict[str, Any], where: str) -> list[str]:
    problems = [f"{where}: {key}" for key in schema if key not in GATEWAY_KEYWORDS]
    if schema.get("type") not in GATEWAY_TYPES:
        problems.append(f"{where}: type {schema.get('type')!r}")
    for name, sub in (schema.get("properties") or {}).items():
        problems += _walk(sub, f"{where}.{name}")
    if "items" in schema:
        problems += _walk(schema["items"], f"{where}[]")
    if "required" in schema:
        missing = set(schema["required"]) - set(schema.get("properties") or {})
        problems += [f"{where}: required {m} is not a property" for m in missing]
    return problems


@pytest.mark.parametrize("group", GROUPS)
def test_committed_gateway_files_are_in_sync(group: str) -> None:
    for filename, text in rendered_files(group).items():
        path = GATEWAY_DIR / filename
        assert path.read_text(encoding="utf-8") == text, "run: make schemas"


@pytest.mark.parametrize("stale", ["findings.json", "findings.cfn.json"])
def test_check_mode_passes_now_and_fails_when_stale(tmp_path: Any, stale: str) -> None:
    assert main(["--check"]) == 0
    assert main(["--out", str(tmp_path)]) == 0
    assert main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / stale).write_text("[]\n")
    assert main(["--check", "--out", str(tmp_path)]) == 1


@pytest.mark.parametrize("group", GROUPS)
def test_cloudformation_file_is_the_api_file_with_cloudformation_keywords(group: str) -> None:
    api = json.loads((GATEWAY_DIR / f"{group}.json").read_text())
    cfn = json.loads((GATEWAY_DIR / f"{group}.cfn.json").read_text())

    def lowercase(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "Properties":
                value = {name: lowercase(sub) for name, sub in value.items()}
            elif key in ("InputSchema", "OutputSchema", "Items"):
                value = lowercase(value)
            out[key[0].lower() + key[1:]] = value
        return out

    assert [lowercase(d) for d in cfn] == api


def test_any_depth_converts_and_property_names_stay_as_they_are() -> None:
    leaf: dict[str, Any] = {"type": "string", "description": "deepest"}
    schema = leaf
    for level in range(12):
        schema = (
            {"type": "array", "items": schema}
            if level % 2
            else {"type": "object", "properties": {"type": schema, "items": {"type": "integer"}}, "required": ["type"]}
        )
    converted = to_cloudformation({"name": "deep", "description": "d", "inputSchema": schema})
    node = converted["InputSchema"]
    for level in reversed(range(12)):
        if level % 2:
            assert set(node) == {"Type", "Items"}
            node = node["Items"]
        else:
            assert set(node["Properties"]) == {"type", "items"}, "property names are data"
            assert node["Required"] == ["type"]
            node = node["Properties"]["type"]
    assert node == {"Type": "string", "Description": "deepest"}


def test_a_keyword_without_a_cloudformation_name_is_refused() -> None:
    with pytest.raises(ValueError, match="enum"):
        to_cloudformation({"name": "x", "description": "d", "inputSchema": {"type": "string", "enum": ["a"]}})


@pytest.mark.parametrize("group", GROUPS)
def test_gateway_schemas_use_only_the_five_keywords(group: str) -> None:
    definitions = json.loads((GATEWAY_DIR / f"{group}.json").read_text())
    assert {d["name"] for d in definitions} == set(group_tools(group))
    for definition in definitions:
        assert set(definition) <= {"name", "description", "inputSchema", "outputSchema"}
        assert definition["inputSchema"]["type"] == "object" and definition["description"]
        for key in ("inputSchema", "outputSchema"):
            assert _walk(definition[key], f"{group}___{definition['name']}.{key}") == []


@pytest.mark.parametrize("full_name", sorted(tools()))
def test_qualified_names_fit_every_client(full_name: str) -> None:
    assert len(full_name) <= MAX_QUALIFIED_NAME < 64
    assert re.fullmatch(r"[a-z]+___[a-z0-9_]+", full_name)


def test_constraints_move_into_the_description() -> None:
    definitions = {d["name"]: d for d in json.loads((GATEWAY_DIR / "findings.json").read_text())}
    props = definitions["errors"]["inputSchema"]["properties"]
    assert 'One of: "CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO".' in props["minSeverity"]["description"]
    assert 'Default: "LOW".' in props["minSeverity"]["description"]
    assert "Between 1 and 200." in props["pageSize"]["description"]
    assert "^b-[0-9]{14}-[0-9a-f]{8}$" in props["bundleId"]["description"]
    assert "Give at least one of: bundleId; instanceId." in definitions["errors"]["inputSchema"]["description"]
    nullable = definitions["errors"]["outputSchema"]["properties"]["nextCursor"]
    assert nullable["type"] == "string" and "May be null." in nullable["description"]


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"x": {"type": ["string", "integer"]}}},
        {"type": "object", "properties": {"x": {"description": "no type"}}},
        {"type": "object", "anyOf": [{"type": "string"}]},
    ],
    ids=["type-union", "no-type", "anyOf-of-schemas"],
)
def test_schemas_the_gateway_cannot_express_are_refused(schema: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        to_gateway(schema)


def test_full_and_gateway_forms_describe_the_same_properties() -> None:
    for spec in tools().values():
        gateway = to_gateway(spec.input_schema)
        assert set(gateway.get("properties", {})) == set(spec.input_schema.get("properties", {}))
        assert gateway.get("required", []) == spec.input_schema.get("required", [])


def test_gateway_output_schemas_admit_both_results_and_errors() -> None:
    from jsonschema import Draft202012Validator

    definitions = {d["name"]: d for d in json.loads((GATEWAY_DIR / "runbooks.json").read_text())}
    output = Draft202012Validator(definitions["get_sop"]["outputSchema"])
    assert output.is_valid({"error": {"code": "NotFound", "message": "no runbook", "retryable": False}})
    runbook = {
        "id": "SOP-NET-001",
        "title": "t",
        "severity": "HIGH",
        "summary": "s",
        "triggers": [],
        "categories": [],
        "fallback": False,
        "markdown": "# t",
    }
    assert output.is_valid({"runbook": runbook})
    assert "On success always has: runbook." in definitions["get_sop"]["outputSchema"]["description"]


TERRAFORM_FIXTURES = Path(__file__).resolve().parents[1] / "terraform" / "fixtures" / "schemas"


@pytest.mark.parametrize(
    "source",
    sorted(p for p in TERRAFORM_FIXTURES.glob("*/*.json") if not p.name.endswith(".cfn.json")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_terraform_fixture_schemas_have_their_cloudformation_twin(source: Path) -> None:
    twin = source.with_name(source.stem + ".cfn.json")
    expected = [to_cloudformation(d) for d in json.loads(source.read_text())]
    assert json.loads(twin.read_text()) == expected, f"rewrite {twin.name} from {source.name} with to_cloudformation"
