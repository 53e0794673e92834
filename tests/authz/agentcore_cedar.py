"""The Cedar request and schema AgentCore Policy builds for a gateway tool call, as AWS documents them.

AgentCore does not publish the generated schema as a file; its developer guide describes it
(Policy in AgentCore: "Schema constraints", "Policy scope", "Policy conditions", "Principal-scoped
policies"). What this module builds, with the page that says so:

- principal ``AgentCore::OAuthUser::"<sub>"`` with an ``id`` attribute (the JWT ``sub``); every JWT
  claim is a **string** tag on it whatever its type in the token: numbers and booleans as their
  text, arrays and objects as their JSON text (an array ``scope`` becomes
  ``["a:x","a:y"]``); a null claim makes no tag (Schema constraints; Principal-scoped policies);
- action ``AgentCore::Action::"<target>___<tool>"``, a member of ``CallTool``, itself a member of
  ``Mcp`` (Schema constraints; Policy scope);
- resource ``AgentCore::Gateway::"<gateway ARN>"`` (Policy scope);
- context ``{"input": <tool arguments>}``, the only context, typed from the tool's input schema:
  string -> String, integer -> Long, boolean -> Bool, number -> Decimal (Schema constraints).

Array and object properties are mapped to Cedar sets and records here; the guide names no mapping
for them and the project's policies never read ``context.input``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

NAMESPACE = "AgentCore"
PRINCIPAL = f"{NAMESPACE}::OAuthUser"
GATEWAY = f"{NAMESPACE}::Gateway"

_SCALARS = {
    "string": {"type": "String"},
    "integer": {"type": "Long"},
    "boolean": {"type": "Boolean"},
    "number": {"type": "Extension", "name": "decimal"},
}


def cedar_type(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The Cedar (JSON schema format) type of one gateway inline schema node."""
    kind = schema["type"]
    if kind in _SCALARS:
        return dict(_SCALARS[kind])
    if kind == "array":
        return {"type": "Set", "element": cedar_type(schema["items"])}
    required = set(schema.get("required", []))
    return {
        "type": "Record",
        "attributes": {
            name: {**cedar_type(sub), "required": name in required}
            for name, sub in (schema.get("properties") or {}).items()
        },
    }


def cedar_schema(targets: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The schema for a gateway whose targets (target name -> inline tool definitions) are given."""
    actions: dict[str, Any] = {"Mcp": {}, "CallTool": {"memberOf": [{"id": "Mcp"}]}}
    for target, definitions in targets.items():
        for definition in definitions:
            actions[f"{target}___{definition['name']}"] = {
                "memberOf": [{"id": "CallTool"}],
                "appliesTo": {
                    "principalTypes": ["OAuthUser"],
                    "resourceTypes": ["Gateway"],
                    "context": {
                        "type": "Record",
                        "attributes": {"input": {**cedar_type(definition["inputSchema"]), "required": True}},
                    },
                },
            }
    return {
        NAMESPACE: {
            "entityTypes": {
                "OAuthUser": {
                    "shape": {"type": "Record", "attributes": {"id": {"type": "String"}}},
                    "tags": {"type": "String"},
                },
                "Gateway": {},
            },
            "actions": actions,
        }
    }


def minimal_input(schema: Mapping[str, Any]) -> Any:
    """A value of the tool's input type with only the required fields (Cedar JSON form)."""
    kind = schema["type"]
    if kind == "string":
        return "x"
    if kind == "integer":
        return 1
    if kind == "boolean":
        return True
    if kind == "number":
        return {"__extn": {"fn": "decimal", "arg": "1.0"}}
    if kind == "array":
        return [minimal_input(schema["items"])]
    props = schema.get("properties") or {}
    return {name: minimal_input(props[name]) for name in schema.get("required", [])}


def claim_tag(value: Any) -> str | None:
    """How AgentCore turns one JWT claim into a tag value: always a string, None for null."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def principal_entity(claims: Mapping[str, Any]) -> dict[str, Any]:
    sub = str(claims.get("sub", "anonymous"))
    tags = {name: tag for name, value in claims.items() if (tag := claim_tag(value)) is not None}
    return {"uid": {"type": PRINCIPAL, "id": sub}, "attrs": {"id": sub}, "parents": [], "tags": tags}


def entities(claims: Mapping[str, Any], gateway_arn: str) -> list[dict[str, Any]]:
    return [principal_entity(claims), {"uid": {"type": GATEWAY, "id": gateway_arn}, "attrs": {}, "parents": []}]


def request(claims: Mapping[str, Any], action: str, gateway_arn: str, arguments: Any) -> dict[str, Any]:
    return {
        "principal": {"type": PRINCIPAL, "id": str(claims.get("sub", "anonymous"))},
        "action": {"type": f"{NAMESPACE}::Action", "id": action},
        "resource": {"type": GATEWAY, "id": gateway_arn},
        "context": {"input": arguments},
    }


def tool_inputs(targets: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Action name -> minimal arguments, for every tool of every target."""
    return {f"{t}___{d['name']}": minimal_input(d["inputSchema"]) for t, defs in targets.items() for d in defs}


def action_names(targets: Mapping[str, Iterable[dict[str, Any]]]) -> list[str]:
    return [f"{t}___{d['name']}" for t, defs in targets.items() for d in defs]
