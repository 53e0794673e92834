"""Reading the tool schema files: ``eksdiag/schemas/<group>/<tool>.json``.

Each file is ``{"name", "description", "inputSchema", "outputSchema"}`` with full JSON Schema
(draft 2020-12). They are the single source for handler validation, the gateway's inline payload
(derived by :mod:`eksdiag.tools.gateway_schemas`) and the local MCP server.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_ROOT = Path(__file__).resolve().parent.parent / "schemas"
GATEWAY_DIR = SCHEMA_ROOT / "gateway"
GROUPS: tuple[str, ...] = ("nodelog", "findings", "capture", "runbooks")


def schema_path(group: str, name: str) -> Path:
    return SCHEMA_ROOT / group / f"{name}.json"


@cache
def load_tool_schema(group: str, name: str) -> dict[str, Any]:
    """The parsed schema file of one tool (cached; treat the result as read-only)."""
    path = schema_path(group, name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LookupError(f"no schema file for tool {group}/{name}: expected {path}") from None
    for key in ("name", "description", "inputSchema", "outputSchema"):
        if key not in data:
            raise ValueError(f"{path}: missing {key!r}")
    if data["name"] != name:
        raise ValueError(f"{path}: name is {data['name']!r}, expected {name!r}")
    return data


def schema_files() -> list[tuple[str, str, Path]]:
    """Every tool schema file as ``(group, tool, path)``, sorted; the generated gateway files excluded."""
    out: list[tuple[str, str, Path]] = []
    for group in GROUPS:
        folder = SCHEMA_ROOT / group
        if folder.is_dir():
            out.extend((group, p.stem, p) for p in sorted(folder.glob("*.json")))
    return out
