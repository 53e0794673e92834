"""Derive the AgentCore Gateway inline tool schemas from the full schema files.

The gateway accepts only ``type``, ``description``, ``properties``, ``required`` and ``items`` in a
schema. Everything else the full schemas say (enums, patterns, bounds, defaults, formats, nullability)
is moved into the ``description`` text so the model still sees it; the handlers enforce it.

Each group is written twice: ``schemas/gateway/<group>.json`` in the AgentCore API's casing
(``name``, ``inputSchema``, ``type``, ...) and ``schemas/gateway/<group>.cfn.json`` in the casing of
the CloudFormation resource ``AWS::BedrockAgentCore::GatewayTarget`` (``Name``, ``InputSchema``,
``Type``, ...), which the Terraform gateway module reads as it is, at any nesting depth.

Run ``python -m eksdiag.tools.gateway_schemas`` to (re)write them and
``python -m eksdiag.tools.gateway_schemas --check`` to fail when they are out of date.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eksdiag.tools.schemas_io import GATEWAY_DIR, GROUPS, load_tool_schema, schema_files

GATEWAY_KEYWORDS = frozenset({"type", "description", "properties", "required", "items"})
GATEWAY_TYPES = frozenset({"string", "number", "object", "array", "boolean", "integer"})
#: Budget for ``<target>___<tool>``: Bedrock Converse caps names at 64 characters, and some clients
#: prefix the server name; 48 leaves 16 for that prefix.
MAX_QUALIFIED_NAME = 48
#: AgentCore API keyword -> CloudFormation property name (ToolDefinition and SchemaDefinition of
#: AWS::BedrockAgentCore::GatewayTarget). Property names inside ``properties`` are data, never renamed.
CLOUDFORMATION_KEYS = {
    "name": "Name",
    "description": "Description",
    "inputSchema": "InputSchema",
    "outputSchema": "OutputSchema",
    "type": "Type",
    "properties": "Properties",
    "required": "Required",
    "items": "Items",
}


def _js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _bounds_note(low: Any, high: Any, unit: str = "") -> list[str]:
    """The note for an inclusive lower and/or upper bound: ``Between 1 and 5.`` or, counting ``unit``,
    ``1 to 5 items.``; ``At least 1.``, ``At most 5 characters.``; none when both are None."""
    counted = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return [f"{low} to {high}{counted}." if unit else f"Between {low} and {high}."]
    if low is not None:
        return [f"At least {low}{counted}."]
    if high is not None:
        return [f"At most {high}{counted}."]
    return []


def _constraints(schema: dict[str, Any]) -> list[str]:
    notes: list[str] = []
    if "enum" in schema:
        notes.append("One of: " + ", ".join(_js(v) for v in schema["enum"]) + ".")
    if "const" in schema:
        notes.append(f"Always {_js(schema['const'])}.")
    if "pattern" in schema:
        notes.append(f"Must match the regular expression {schema['pattern']}.")
    if "format" in schema:
        notes.append(f"Format: {schema['format']}.")
    notes.extend(_bounds_note(schema.get("minimum"), schema.get("maximum")))
    for key, text in (("exclusiveMinimum", "Greater than"), ("exclusiveMaximum", "Less than")):
        if key in schema:
            notes.append(f"{text} {schema[key]}.")
    for low_key, high_key, unit in (("minLength", "maxLength", "characters"), ("minItems", "maxItems", "items")):
        notes.extend(_bounds_note(schema.get(low_key), schema.get(high_key), unit))
    if schema.get("uniqueItems"):
        notes.append("Items must be distinct.")
    for key, text in (("anyOf", "Give at least one of"), ("oneOf", "Give exactly one of")):
        if key in schema:
            branches = schema[key]
            if not all(set(b) == {"required"} for b in branches):
                raise ValueError(f"{key} is only supported with branches of the form {{'required': [...]}}")
            notes.append(f"{text}: " + "; ".join(" and ".join(b["required"]) for b in branches) + ".")
    if "default" in schema:
        notes.append(f"Default: {_js(schema['default'])}.")
    return notes


def _gateway_type(schema: dict[str, Any], where: str) -> tuple[str, bool]:
    kind = schema.get("type")
    nullable = False
    if isinstance(kind, list):
        nullable = "null" in kind
        rest = [k for k in kind if k != "null"]
        if len(rest) != 1:
            raise ValueError(f"{where}: type {kind} cannot be expressed for the gateway (one type and null only)")
        kind = rest[0]
    if kind not in GATEWAY_TYPES:
        raise ValueError(f"{where}: every schema needs a plain type for the gateway, got {kind!r}")
    return str(kind), nullable


def to_gateway(schema: dict[str, Any], where: str = "schema") -> dict[str, Any]:
    """The gateway form of one (sub)schema: only the five allowed keywords, constraints in prose."""
    kind, nullable = _gateway_type(schema, where)
    out: dict[str, Any] = {"type": kind}
    notes = [schema["description"].strip()] if schema.get("description") else []
    notes.extend(_constraints(schema))
    if nullable:
        notes.append("May be null.")
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict) and not schema.get("properties"):
        notes.append("A map from names to values.")
    if notes:
        out["description"] = " ".join(notes)
    if kind == "object" and schema.get("properties"):
        out["properties"] = {key: to_gateway(sub, f"{where}.{key}") for key, sub in schema["properties"].items()}
        required = [r for r in schema.get("required", []) if r in schema["properties"]]
        if required:
            out["required"] = required
    if kind == "array" and isinstance(schema.get("items"), dict):
        out["items"] = to_gateway(schema["items"], f"{where}[]")
    return out


ERROR_PROPERTY: dict[str, Any] = {
    "type": "object",
    "description": "Present instead of the other fields when the call failed in a way the caller can act on.",
    "properties": {
        "code": {
            "type": "string",
            "description": "One of: InvalidArgument, NotFound, NotReady, Conflict, Forbidden, Throttled, Upstream.",
        },
        "message": {"type": "string", "description": "What went wrong and how to fix the call."},
        "retryable": {"type": "boolean", "description": "True when the same call may succeed later."},
        "details": {"type": "object", "description": "Extra facts (e.g. unknown ids, allowed values)."},
    },
    "required": ["code", "message", "retryable"],
}


def gateway_output(schema: dict[str, Any], where: str) -> dict[str, Any]:
    """The gateway form of an outputSchema, which must also admit the error shape.

    The Lambda returns either the result or ``{"error": {...}}`` as a normal (non-error) result, so a
    client validating structured content must accept both: the top-level ``required`` list is dropped
    (it is kept in the description) and an ``error`` property is added.
    """
    out = to_gateway(schema, where)
    required = out.pop("required", [])
    note = "On success always has: " + ", ".join(required) + "." if required else ""
    out["description"] = " ".join(p for p in (out.get("description", ""), note, "On failure only: error.") if p)
    out.setdefault("properties", {})["error"] = ERROR_PROPERTY
    return out


def group_definitions(group: str) -> list[dict[str, Any]]:
    """The gateway tool definitions of one group (one target), sorted by tool name."""
    defs: list[dict[str, Any]] = []
    for file_group, name, _path in schema_files():
        if file_group != group:
            continue
        data = load_tool_schema(group, name)
        qualified = f"{group}___{name}"
        if len(qualified) > MAX_QUALIFIED_NAME:
            raise ValueError(f"{qualified} is {len(qualified)} characters, over {MAX_QUALIFIED_NAME}")
        definition: dict[str, Any] = {
            "name": name,
            "description": " ".join(data["description"].split()),
            "inputSchema": to_gateway(data["inputSchema"], f"{qualified}.inputSchema"),
            "outputSchema": gateway_output(data["outputSchema"], f"{qualified}.outputSchema"),
        }
        defs.append(definition)
    return defs


def to_cloudformation(node: Any) -> Any:
    """A tool definition or schema in CloudFormation casing: keywords renamed, property names kept."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in CLOUDFORMATION_KEYS:
            raise ValueError(f"{key!r} has no CloudFormation name in a gateway tool definition")
        if key == "properties":
            value = {name: to_cloudformation(sub) for name, sub in value.items()}
        elif key in ("inputSchema", "outputSchema", "items"):
            value = to_cloudformation(value)
        out[CLOUDFORMATION_KEYS[key]] = value
    return out


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def render(group: str) -> str:
    """``<group>.json``: the group's tool definitions in the AgentCore API casing."""
    return _dump(group_definitions(group))


def render_cloudformation(group: str) -> str:
    """``<group>.cfn.json``: the same definitions in CloudFormation casing, for the Terraform module."""
    return _dump([to_cloudformation(d) for d in group_definitions(group)])


def rendered_files(group: str) -> dict[str, str]:
    """File name -> text of every file written for one group."""
    return {f"{group}.json": render(group), f"{group}.cfn.json": render_cloudformation(group)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eksdiag.tools.gateway_schemas", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed files are out of date")
    parser.add_argument("--out", type=Path, default=GATEWAY_DIR, help="output folder (default: %(default)s)")
    opts = parser.parse_args(argv)
    stale: list[str] = []
    for group in GROUPS:
        for filename, text in rendered_files(group).items():
            path = opts.out / filename
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == text:
                continue
            if opts.check:
                stale.append(str(path))
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                print(f"wrote {path}")
    if stale:
        print("out of date (run: make schemas): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
