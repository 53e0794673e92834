"""The tool registry: discovers ``eksdiag/tools/<group>/<tool>.py`` modules and pairs them with schemas.

A tool module defines ``NAME``, ``GROUP`` and ``run(args, ctx)``. Modules whose names start with
``_`` are helpers and are skipped. Discovery happens on first use (``TOOLS`` or :func:`tools`), never
at import time, so a Lambda cold start only pays for it when the first call arrives.

Tool names as clients see them are ``<group>___<tool>``: the gateway's ``<target>___<tool>`` with one
gateway target per group, and the local server uses the very same names.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eksdiag.tools.schemas_io import GROUPS, load_tool_schema

if TYPE_CHECKING:
    from eksdiag.tools.base import ToolContext

SEPARATOR = "___"
ToolRun = Callable[[dict[str, Any], "ToolContext"], dict[str, Any]]


@dataclass(frozen=True)
class ToolSpec:
    group: str
    name: str
    run: ToolRun
    schema: dict[str, Any]
    module: str

    @property
    def full_name(self) -> str:
        """``<group>___<tool>``, exactly as the gateway presents it."""
        return f"{self.group}{SEPARATOR}{self.name}"

    @property
    def description(self) -> str:
        return str(self.schema["description"])

    @property
    def input_schema(self) -> dict[str, Any]:
        return dict(self.schema["inputSchema"])

    @property
    def output_schema(self) -> dict[str, Any]:
        return dict(self.schema["outputSchema"])


def _group_modules(group: str) -> list[str]:
    folder = Path(__file__).resolve().parent / group
    if not folder.is_dir():
        return []
    return sorted(m.name for m in pkgutil.iter_modules([str(folder)]) if not m.name.startswith("_"))


@cache
def _discover(group: str) -> dict[str, ToolSpec]:
    found: dict[str, ToolSpec] = {}
    for module_name in _group_modules(group):
        qualified = f"eksdiag.tools.{group}.{module_name}"
        module = importlib.import_module(qualified)
        run = getattr(module, "run", None)
        name = getattr(module, "NAME", None)
        if run is None or name is None:
            continue  # a helper module without a tool in it
        if name != module_name or getattr(module, "GROUP", None) != group:
            raise ValueError(f"{qualified}: NAME/GROUP must be {module_name!r}/{group!r}")
        spec = ToolSpec(group, name, run, load_tool_schema(group, name), qualified)
        found[spec.full_name] = spec
    return found


@cache
def tools() -> dict[str, ToolSpec]:
    """All tools, keyed by full name (``findings___errors``), in group then name order."""
    found: dict[str, ToolSpec] = {}
    for group in GROUPS:
        found.update(_discover(group))
    return found


def group_tools(group: str) -> dict[str, ToolSpec]:
    """The tools of one group keyed by short name (``errors``).

    Only that group's modules are imported, so each Lambda package needs only its own group's
    dependencies (e.g. google-re2 for findings).
    """
    return {spec.name: spec for spec in _discover(group).values()}


def split_name(full_name: str) -> tuple[str, str]:
    """``"findings___errors"`` -> ``("findings", "errors")``; a name without the separator -> ``("", name)``.

    Target names cannot contain underscores, so the first ``___`` is the separator.
    """
    target, sep, tool = full_name.partition(SEPARATOR)
    return (target, tool) if sep else ("", full_name)


def __getattr__(name: str) -> Any:
    if name == "TOOLS":
        return tools()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
