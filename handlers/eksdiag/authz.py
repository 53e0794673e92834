"""Who may call which tool: the scope table ``schemas/scopes.json`` and the decisions made from it.

Every tool needs one scope (``read`` or ``collect``); a token may call it when it carries
``<identifier>/<scope>`` for that scope or for a scope that includes it (``collect`` includes
``read``). ``<identifier>`` is the OAuth resource server identifier (the Terraform module's
``oauth_resource_server_identifier``, ``eksdiag`` by default). A tool missing from the table is
refused.

The same table is enforced in two places: the AgentCore gateway, by Cedar policies the Terraform
module renders from ``modules/gateway/policy/tool_scopes.json`` (written from this table by
``scripts/scope_table.py``), and ``eksdiag serve`` in JWT mode (:class:`ScopePolicy`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SCOPES_FILE = Path(__file__).resolve().parent / "schemas" / "scopes.json"
#: Claims that carry granted scopes: ``scope`` (RFC 8693/9068, a space-separated string, as Cognito
#: issues it) and ``scp`` (a list or a string, as Okta and Microsoft Entra issue it).
SCOPE_CLAIMS = ("scope", "scp")
DEFAULT_IDENTIFIER = "eksdiag"


class ScopeTableError(ValueError):
    """The scope table is malformed: unknown scopes, cycles, a tool without a scope."""


@dataclass(frozen=True)
class Scope:
    name: str
    description: str
    includes: frozenset[str]


@dataclass(frozen=True)
class ToolScope:
    tool: str
    scope: str
    reason: str


@dataclass(frozen=True)
class ScopeTable:
    scopes: Mapping[str, Scope]
    tools: Mapping[str, ToolScope]

    def closure(self, scope: str) -> frozenset[str]:
        """``scope`` and every scope it includes, directly or not."""
        seen: set[str] = set()
        todo = [scope]
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(self.scopes[name].includes)
        return frozenset(seen)

    def granted_by(self, required: str) -> tuple[str, ...]:
        """The scopes that let a token call a tool needing ``required``, sorted."""
        return tuple(sorted(s for s in self.scopes if required in self.closure(s)))

    def required(self, tool: str) -> str | None:
        entry = self.tools.get(tool)
        return entry.scope if entry else None

    def allows(self, tool: str, scopes: Iterable[str]) -> bool:
        """True when one of ``scopes`` (short names: ``read``, ``collect``) grants ``tool``."""
        required = self.required(tool)
        return required is not None and any(s in self.scopes and required in self.closure(s) for s in scopes)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScopeTableError(f"{where} must be a non-empty string")
    return value


def parse_table(data: Any) -> ScopeTable:
    """The table from its JSON form, checked: known scopes only, no inclusion cycles."""
    if not isinstance(data, dict) or not all(isinstance(data.get(k), dict) for k in ("scopes", "tools")):
        raise ScopeTableError("the scope table needs 'scopes' and 'tools' objects")
    scopes: dict[str, Scope] = {}
    for name, spec in data["scopes"].items():
        includes = spec.get("includes", []) if isinstance(spec, dict) else None
        if not isinstance(includes, list):
            raise ScopeTableError(f"scope {name!r}: 'includes' must be a list")
        scopes[name] = Scope(name, _text(spec.get("description"), f"scope {name!r} description"), frozenset(includes))
    for spec in scopes.values():
        unknown = spec.includes - set(scopes)
        if unknown:
            raise ScopeTableError(f"scope {spec.name!r} includes unknown scopes {sorted(unknown)}")
    table = ScopeTable(scopes, {})
    for name, spec in scopes.items():
        if any(name in table.closure(other) for other in spec.includes):
            raise ScopeTableError(f"scope {name!r} includes itself")
    tools: dict[str, ToolScope] = {}
    for tool, spec in data["tools"].items():
        if not isinstance(spec, dict) or spec.get("scope") not in scopes:
            raise ScopeTableError(f"tool {tool!r} needs a scope, one of {sorted(scopes)}")
        tools[tool] = ToolScope(tool, spec["scope"], _text(spec.get("reason"), f"tool {tool!r} reason"))
    return ScopeTable(scopes, tools)


@cache
def load_table(path: Path = SCOPES_FILE) -> ScopeTable:
    """The project's scope table (cached)."""
    return parse_table(json.loads(path.read_text(encoding="utf-8")))


def token_scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    """Every scope a token's claims grant: ``scope`` and ``scp``, as space-separated strings or lists."""
    found: set[str] = set()
    for claim in SCOPE_CLAIMS:
        value = claims.get(claim)
        if isinstance(value, str):
            found.update(value.split())
        elif isinstance(value, list):
            found.update(v for v in value if isinstance(v, str) and v and not any(c.isspace() for c in v))
    return frozenset(found)


@dataclass(frozen=True)
class ScopePolicy:
    """The scope table applied to tokens of one OAuth resource server."""

    identifier: str = DEFAULT_IDENTIFIER
    table: ScopeTable | None = None

    @property
    def rules(self) -> ScopeTable:
        return self.table or load_table()

    def own_scopes(self, granted: Iterable[str]) -> frozenset[str]:
        """The short names (``read``) of the granted ``<identifier>/<name>`` scopes; others are ignored."""
        prefix = f"{self.identifier}/"
        return frozenset(s[len(prefix) :] for s in granted if s.startswith(prefix))

    def allows(self, tool: str, granted: Iterable[str]) -> bool:
        return self.rules.allows(tool, self.own_scopes(granted))

    def qualified(self, scopes: Iterable[str]) -> list[str]:
        return [f"{self.identifier}/{s}" for s in scopes]

    def refusal(self, tool: str, granted: Iterable[str]) -> dict[str, Any]:
        """The structured tool error for a call the token's scopes do not allow."""
        required = self.rules.required(tool)
        needed = self.qualified(self.rules.granted_by(required)) if required else []
        held = sorted(granted)
        return {
            "error": {
                "code": "Forbidden",
                "message": (
                    f"{tool} needs one of the scopes {', '.join(needed)}; this token carries "
                    f"{', '.join(held) if held else 'no scope'}. Ask for a token with one of them."
                    if needed
                    else f"{tool} is not in the scope table, so no token may call it."
                ),
                "retryable": False,
                "details": {"requiredScopes": needed, "tokenScopes": held},
            }
        }
