"""The gateway's Cedar policies, rendered by the Terraform module, evaluated by the Cedar engine
(cedarpy) on the requests AgentCore builds: every tool against every kind of token.

The expected split is written out here, independently of the scope table: collection and capture
need ``<identifier>/collect``; analysis, runbooks, and the read-only nodelog and capture tools take
``<identifier>/read`` or ``<identifier>/collect``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import cedarpy
import pytest
from eksdiag.authz import ScopePolicy, token_scopes
from eksdiag.tools.schemas_io import GATEWAY_DIR, GROUPS

from tests.authz import agentcore_cedar as ac
from tests.authz.conftest import Render

pytestmark = pytest.mark.terraform

COLLECT_TOOLS = frozenset({"nodelog___collect", "nodelog___batch_collect", "capture___tcpdump_capture"})
READ_TOOLS = frozenset(
    {
        "nodelog___status",
        "nodelog___history",
        "nodelog___batch_status",
        "nodelog___cluster_health",
        "capture___tcpdump_analyze",
        "runbooks___get_sop",
        "runbooks___list_sops",
        *(
            f"findings___{t}"
            for t in (
                "artifact",
                "compare_nodes",
                "correlate",
                "errors",
                "network_diagnostics",
                "read",
                "search",
                "storage_diagnostics",
                "summarize",
                "validate",
            )
        ),
    }
)
ALL_TOOLS = COLLECT_TOOLS | READ_TOOLS
GATEWAY_ARN = "arn:aws:bedrock-agentcore:us-east-1:111122223333:gateway/eksdiag-a1b2c3d4e5"
OTHER_GATEWAY_ARN = "arn:aws:bedrock-agentcore:us-east-1:111122223333:gateway/other-a1b2c3d4e5"
DEFAULT_TARGETS = {g: g for g in GROUPS}

# Token claims (besides iss, sub, client_id) -> which tools it may call.
TOKENS: dict[str, tuple[dict[str, Any], frozenset[str]]] = {
    "read": ({"scope": "eksdiag/read"}, READ_TOOLS),
    "collect": ({"scope": "eksdiag/collect"}, ALL_TOOLS),
    "read-and-collect": ({"scope": "eksdiag/read eksdiag/collect"}, ALL_TOOLS),
    "read-among-others": ({"scope": "openid eksdiag/read profile"}, READ_TOOLS),
    "collect-first-of-three": ({"scope": "eksdiag/collect openid profile"}, ALL_TOOLS),
    "no-scope-claim": ({}, frozenset()),
    "empty-scope": ({"scope": ""}, frozenset()),
    "null-scope": ({"scope": None}, frozenset()),
    "unrelated-scopes": ({"scope": "openid profile email"}, frozenset()),
    "other-resource-server": ({"scope": "other/read other/collect"}, frozenset()),
    "lookalike-scopes": (
        {"scope": "eksdiag/readonly eksdiag/collector xeksdiag/collect eksdiag/collect-all eksdiag/Collect eksdiag/"},
        frozenset(),
    ),
    "scope-nested-in-another": ({"scope": "eksdiag/read/collect other/eksdiag/collect"}, frozenset()),
    "scope-as-json-array": ({"scope": ["eksdiag/read"]}, READ_TOOLS),
    "scp-list": ({"scp": ["openid", "eksdiag/collect"]}, ALL_TOOLS),
    "scp-string": ({"scp": "eksdiag/read"}, READ_TOOLS),
    "scope-in-another-claim": ({"role": "eksdiag/collect", "cognito:groups": ["eksdiag/collect"]}, frozenset()),
    "read-scope-collect-elsewhere": ({"scope": "eksdiag/read", "groups": ["eksdiag/collect"]}, READ_TOOLS),
}


def gateway_definitions() -> dict[str, list[dict[str, Any]]]:
    return {g: json.loads((GATEWAY_DIR / f"{g}.json").read_text(encoding="utf-8")) for g in GROUPS}


def targets_for(target_names: Mapping[str, str]) -> dict[str, list[dict[str, Any]]]:
    definitions = gateway_definitions()
    return {target_names[g]: definitions[g] for g in target_names}


def claims_of(extra: Mapping[str, Any]) -> dict[str, Any]:
    # A Cognito client-credentials access token: sub is the client id; exp and iat are numbers,
    # which AgentCore passes as string tags like every claim.
    return {
        "sub": "4example0client0id0abcdefg",
        "client_id": "4example0client0id0abcdefg",
        "token_use": "access",
        "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123",
        "exp": 1767225600,
        "iat": 1767222000,
        "version": 2,
        **extra,
    }


def decide(
    policies: str, schema: dict[str, Any], claims: Mapping[str, Any], action: str, arguments: Any, gateway: str
) -> cedarpy.AuthzResult:
    result = cedarpy.is_authorized(
        ac.request(claims, action, gateway, arguments), policies, ac.entities(claims, gateway), schema=schema
    )
    assert not result.diagnostics.errors, result.diagnostics.errors
    return result


@pytest.fixture(scope="module")
def default_policies(render_policies: Render) -> dict[str, str]:
    return render_policies("eksdiag", DEFAULT_TARGETS, GATEWAY_ARN)


def test_the_registry_splits_into_the_expected_read_and_collect_tools() -> None:
    assert set(ac.action_names(targets_for(DEFAULT_TARGETS))) == ALL_TOOLS


def test_one_permit_per_scope_and_each_names_the_gateway_by_arn(default_policies: dict[str, str]) -> None:
    assert set(default_policies) == {"read", "collect"}
    for statement in default_policies.values():
        assert statement.startswith("permit (") and statement.count("permit") == 1 and "forbid" not in statement
        assert f'resource == AgentCore::Gateway::"{GATEWAY_ARN}"' in statement
        assert 35 <= len(statement) <= 10_000  # AWS::BedrockAgentCore::Policy Statement length


def test_policies_validate_against_the_gateway_schema(default_policies: dict[str, str]) -> None:
    schema = ac.cedar_schema(targets_for(DEFAULT_TARGETS))
    result = cedarpy.validate_policies("\n".join(default_policies.values()), schema)
    assert result.validation_passed, result.errors


def test_a_policy_naming_a_tool_the_gateway_lacks_fails_validation(default_policies: dict[str, str]) -> None:
    # The check AgentCore runs on create: the schema holds only the deployed targets' tools.
    schema = ac.cedar_schema(targets_for({"findings": "findings", "runbooks": "runbooks"}))
    assert not cedarpy.validate_policies(default_policies["collect"], schema).validation_passed


@pytest.mark.parametrize("token", sorted(TOKENS))
def test_every_tool_against_every_token(default_policies: dict[str, str], token: str) -> None:
    extra, allowed = TOKENS[token]
    claims = claims_of(extra)
    targets = targets_for(DEFAULT_TARGETS)
    schema = ac.cedar_schema(targets)
    inputs = ac.tool_inputs(targets)
    policies = "\n".join(default_policies.values())
    decisions = {
        tool: decide(policies, schema, claims, tool, inputs[tool], GATEWAY_ARN).decision == cedarpy.Decision.Allow
        for tool in sorted(ALL_TOOLS)
    }
    assert {t for t, ok in decisions.items() if ok} == allowed
    # The local server (eksdiag serve in JWT mode) decides the same from the same claims.
    local = ScopePolicy("eksdiag")
    assert {t for t in ALL_TOOLS if local.allows(t, token_scopes(claims))} == allowed


def test_the_deciding_policy_is_the_scope_the_tool_needs(default_policies: dict[str, str]) -> None:
    targets = targets_for(DEFAULT_TARGETS)
    schema, inputs = ac.cedar_schema(targets), ac.tool_inputs(targets)
    claims = claims_of({"scope": "eksdiag/collect"})
    # policy0 is read, policy1 collect: cedarpy names policies by position in the set.
    policies = default_policies["read"] + "\n" + default_policies["collect"]
    for tool in sorted(ALL_TOOLS):
        reasons = decide(policies, schema, claims, tool, inputs[tool], GATEWAY_ARN).diagnostics.reasons
        assert reasons == (["policy1"] if tool in COLLECT_TOOLS else ["policy0"]), tool


def test_a_collect_token_is_refused_on_another_gateway(default_policies: dict[str, str]) -> None:
    targets = targets_for(DEFAULT_TARGETS)
    schema, inputs = ac.cedar_schema(targets), ac.tool_inputs(targets)
    claims = claims_of({"scope": "eksdiag/read eksdiag/collect"})
    policies = "\n".join(default_policies.values())
    for tool in sorted(ALL_TOOLS):
        result = decide(policies, schema, claims, tool, inputs[tool], OTHER_GATEWAY_ARN)
        assert result.decision == cedarpy.Decision.Deny, tool


@pytest.mark.parametrize(
    ("identifier", "tokens"),
    [
        (
            "https://api.example.com/diag",
            {"https://api.example.com/diag/collect": "all", "https://api.example.com/diag/read": "read"},
        ),
        ("eks*diag", {"eks*diag/collect": "all", "eks*diag/read": "read", "eksXdiag/collect eks/diag/collect": "none"}),
    ],
    ids=["url-identifier", "wildcard-in-identifier"],
)
def test_identifier_and_target_names_come_from_the_module_inputs(
    render_policies: Render, identifier: str, tokens: dict[str, str]
) -> None:
    target_names = {"nodelog": "node-logs", "findings": "findings", "capture": "pcap", "runbooks": "sop"}
    statements = render_policies(identifier, target_names, GATEWAY_ARN)
    targets = targets_for(target_names)
    schema, inputs = ac.cedar_schema(targets), ac.tool_inputs(targets)
    policies = "\n".join(statements.values())
    assert cedarpy.validate_policies(policies, schema).validation_passed
    collect = {"node-logs___collect", "node-logs___batch_collect", "pcap___tcpdump_capture"}
    expected = {"all": set(inputs), "read": set(inputs) - collect, "none": set()}
    for scope, kind in tokens.items():
        claims = claims_of({"scope": scope})
        allowed = {
            action
            for action in inputs
            if decide(policies, schema, claims, action, inputs[action], GATEWAY_ARN).decision == cedarpy.Decision.Allow
        }
        assert allowed == expected[kind], scope


def test_only_deployed_targets_get_permits(render_policies: Render) -> None:
    statements = render_policies("eksdiag", {"findings": "findings"}, GATEWAY_ARN)
    assert set(statements) == {"read"}
    assert "nodelog___" not in statements["read"] and "findings___errors" in statements["read"]
