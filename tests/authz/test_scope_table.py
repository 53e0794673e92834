"""The scope table: one scope per registered tool, rendered for Terraform and the docs without drift,
and the token-scope parsing and decisions the local server makes from it."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from eksdiag.authz import SCOPES_FILE, ScopePolicy, ScopeTableError, load_table, parse_table, token_scopes
from eksdiag.tools.registry import tools

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eksdiag_scope_table", ROOT / "scripts" / "scope_table.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


scope_table = _script()


def _raw() -> dict[str, Any]:
    return json.loads(SCOPES_FILE.read_text(encoding="utf-8"))


def test_every_registered_tool_has_exactly_one_scope_with_a_reason() -> None:
    table = load_table()
    assert scope_table.check_coverage(table, list(tools())) == []
    assert all(entry.reason.strip() for entry in table.tools.values())


def test_coverage_names_missing_and_unknown_tools() -> None:
    table = load_table()
    problems = scope_table.check_coverage(table, [*[n for n in tools() if n != "nodelog___collect"], "nodelog___new"])
    assert problems == [
        "nodelog___new has no scope in scopes.json",
        "nodelog___collect in scopes.json is not a registered tool",
    ]


def test_collect_includes_read_and_read_includes_nothing() -> None:
    table = load_table()
    assert table.granted_by("read") == ("collect", "read")
    assert table.granted_by("collect") == ("collect",)


def test_generated_files_are_in_sync() -> None:
    assert scope_table.main(["--check"]) == 0, "run: python scripts/scope_table.py"


def test_check_mode_fails_when_the_terraform_table_is_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "tool_scopes.json"
    data = json.loads(scope_table.TERRAFORM_FILE.read_text(encoding="utf-8"))
    data["policies"]["read"]["tools"]["nodelog"].append("collect")
    stale.write_text(json.dumps(data))
    monkeypatch.setattr(scope_table, "TERRAFORM_FILE", stale)
    monkeypatch.setattr(scope_table, "ROOT", tmp_path.parent)
    assert scope_table.main(["--check"]) == 1


def test_the_terraform_table_lists_each_tool_once_under_the_scope_it_needs() -> None:
    data = json.loads(scope_table.TERRAFORM_FILE.read_text(encoding="utf-8"))["policies"]
    seen = [f"{g}___{t}" for policy in data.values() for g, names in policy["tools"].items() for t in names]
    assert sorted(seen) == sorted(tools()) and len(seen) == len(set(seen))
    assert data["collect"]["tools"] == {"capture": ["tcpdump_capture"], "nodelog": ["batch_collect", "collect"]}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["scopes"]["collect"].update(includes=["admin"]), "unknown scopes"),
        (lambda d: d["scopes"]["read"].update(includes=["collect"]), "includes itself"),
        (lambda d: d["tools"]["nodelog___collect"].update(scope="write"), "needs a scope"),
        (lambda d: d["tools"]["nodelog___collect"].update(reason=" "), "reason"),
        (lambda d: d.pop("tools"), "'scopes' and 'tools'"),
    ],
    ids=["unknown-include", "cycle", "unknown-scope", "no-reason", "no-tools"],
)
def test_malformed_tables_are_refused(mutate: Any, message: str) -> None:
    data = copy.deepcopy(_raw())
    mutate(data)
    with pytest.raises(ScopeTableError, match=message):
        parse_table(data)


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"scope": "eksdiag/read  eksdiag/collect\topenid"}, {"eksdiag/read", "eksdiag/collect", "openid"}),
        ({"scope": ["eksdiag/read", 7, None, "two words", ""]}, {"eksdiag/read"}),
        ({"scp": ["eksdiag/collect"], "scope": "openid"}, {"eksdiag/collect", "openid"}),
        ({"scp": "eksdiag/read"}, {"eksdiag/read"}),
        ({"scope": None, "scp": {"read": True}}, set()),
        ({"roles": ["eksdiag/collect"]}, set()),
    ],
    ids=["space-separated", "list-with-junk", "scp-list", "scp-string", "wrong-types", "other-claim"],
)
def test_token_scopes_come_from_scope_and_scp(claims: dict[str, Any], expected: set[str]) -> None:
    assert token_scopes(claims) == expected


def test_only_the_configured_resource_server_counts() -> None:
    policy = ScopePolicy("https://api.example.com/diag")
    assert policy.allows("nodelog___collect", {"https://api.example.com/diag/collect"})
    assert not policy.allows("nodelog___collect", {"eksdiag/collect", "https://api.example.com/diag/read"})
    assert policy.allows("findings___errors", {"https://api.example.com/diag/read"})
    assert not policy.allows("findings___errors", {"https://api.example.com/diag/readonly"})


def test_a_tool_missing_from_the_table_is_refused_to_every_token() -> None:
    policy = ScopePolicy("eksdiag")
    assert not policy.allows("nodelog___reboot", {"eksdiag/read", "eksdiag/collect"})
    assert policy.refusal("nodelog___reboot", {"eksdiag/collect"})["error"]["details"]["requiredScopes"] == []


def test_the_refusal_says_which_scopes_would_do() -> None:
    refusal = ScopePolicy("eksdiag").refusal("nodelog___collect", {"eksdiag/read", "openid"})
    assert refusal == {
        "error": {
            "code": "Forbidden",
            "message": (
                "nodelog___collect needs one of the scopes eksdiag/collect; this token carries "
                "eksdiag/read, openid. Ask for a token with one of them."
            ),
            "retryable": False,
            "details": {"requiredScopes": ["eksdiag/collect"], "tokenScopes": ["eksdiag/read", "openid"]},
        }
    }
