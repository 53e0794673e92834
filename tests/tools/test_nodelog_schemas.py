"""The schema files of helper B's tools (nodelog and capture): strict, consistent with the code."""

from __future__ import annotations

import importlib
import json
import re
from typing import Any

import pytest
from eksdiag.tools import validate
from eksdiag.tools.capture._capture import CAPTURE_ID_PATTERN
from eksdiag.tools.nodelog.batch_status import BATCH_ID_PATTERN
from eksdiag.tools.schemas_io import load_tool_schema, schema_path
from jsonschema import Draft202012Validator

TOOLS = [
    ("nodelog", "collect"),
    ("nodelog", "status"),
    ("nodelog", "history"),
    ("nodelog", "cluster_health"),
    ("nodelog", "batch_collect"),
    ("nodelog", "batch_status"),
    ("capture", "tcpdump_capture"),
    ("capture", "tcpdump_analyze"),
]
ID_PATTERNS = {
    "instanceId": validate.INSTANCE_ID_PATTERN,
    "bundleId": validate.BUNDLE_ID_PATTERN,
    "executionId": validate.EXECUTION_ID_PATTERN,
    "region": validate.REGION_PATTERN,
    "clusterName": validate.CLUSTER_NAME_PATTERN,
    "batchId": BATCH_ID_PATTERN,
    "captureId": CAPTURE_ID_PATTERN,
}


def walk(schema: Any, path: str = "") -> Any:
    """Yield (path, sub-schema) for every object/array node of a schema."""
    if isinstance(schema, dict):
        yield path, schema
        for name, sub in (schema.get("properties") or {}).items():
            yield from walk(sub, f"{path}.{name}")
        if isinstance(schema.get("items"), dict):
            yield from walk(schema["items"], f"{path}[]")


@pytest.mark.parametrize(("group", "name"), TOOLS, ids=[f"{g}/{n}" for g, n in TOOLS])
def test_schema_file_is_strict_and_matches_its_module(group: str, name: str) -> None:
    schema = load_tool_schema(group, name)
    assert json.loads(schema_path(group, name).read_text()) == schema
    assert set(schema) == {"name", "description", "inputSchema", "outputSchema"}
    module = importlib.import_module(f"eksdiag.tools.{group}.{name}")
    assert (name, group) == (module.NAME, module.GROUP)
    assert len(f"{group}___{name}") <= 48 and re.fullmatch(r"[a-z_]+", name)
    assert 40 <= len(schema["description"]) <= 1000
    for part in ("inputSchema", "outputSchema"):
        Draft202012Validator.check_schema(schema[part])
        for where, node in walk(schema[part], part):
            if node.get("type") == "object" and "properties" in node:
                assert node.get("additionalProperties") is False, f"{where} must be closed"
            if where != part:
                assert node.get("description"), f"{where} needs a description"
    for prop, spec in schema["inputSchema"]["properties"].items():
        if prop in ID_PATTERNS and spec.get("type") == "string":
            # collect and history take the node of a bundle, hybrid nodes (mi-) included
            hybrid = prop == "instanceId" and name in ("collect", "history")
            assert spec["pattern"] == (validate.NODE_ID_PATTERN if hybrid else ID_PATTERNS[prop]), prop
        if spec.get("type") == "integer":
            assert "minimum" in spec and "maximum" in spec, f"{prop} must be bounded"
        if "default" in spec:
            Draft202012Validator(spec).validate(spec["default"])
        if spec.get("type") == "array":
            assert "maxItems" in spec, f"{prop} must be bounded"


def test_output_id_fields_use_the_same_patterns() -> None:
    for group, name in TOOLS:
        for where, node in walk(load_tool_schema(group, name)["outputSchema"]):
            key = where.rsplit(".", 1)[-1]
            if key in ("bundleId", "batchId", "captureId") and "pattern" in node:
                assert node["pattern"] == ID_PATTERNS[key], f"{group}/{name}{where}"
