"""The Cloud Control resource schemas the gateway module ships are AWS's, as cfn-lint carries them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .tf_support import ROOT, load_script

schemas = load_script("gateway_resource_schemas")


def test_shipped_schemas_are_cfn_lints_copies() -> None:
    assert schemas.main(["--check"]) == 0, "run: python scripts/gateway_resource_schemas.py"


def test_check_fails_when_a_shipped_schema_drifts(tmp_path: Path) -> None:
    assert schemas.main(["--out", str(tmp_path)]) == 0
    drifted = json.loads((tmp_path / "target.json").read_text())
    drifted["createOnlyProperties"] = []
    (tmp_path / "target.json").write_text(json.dumps(drifted))
    assert schemas.main(["--check", "--out", str(tmp_path)]) == 1


def test_shipped_schemas_name_their_types_and_what_forces_replacement() -> None:
    gateway = json.loads((ROOT / "modules/gateway/resource-schemas/gateway.json").read_text())
    target = json.loads((ROOT / "modules/gateway/resource-schemas/target.json").read_text())
    assert gateway["typeName"] == "AWS::BedrockAgentCore::Gateway"
    assert target["typeName"] == "AWS::BedrockAgentCore::GatewayTarget"
    assert target["createOnlyProperties"] == ["/properties/GatewayIdentifier"]
    assert "KmsKeyArn" in gateway["properties"]


def test_deploying_permissions_cover_what_the_agentcore_types_need() -> None:
    """docs/terraform.md lists what Cloud Control's handlers need to create, read, update and delete
    the gateway, its policy engine and policies (their `handlers` permissions), and the Lambda
    targets (the GatewayTarget actions; its other permissions serve other target kinds)."""
    doc = (ROOT / "docs" / "terraform.md").read_text()
    section = doc.split("<!-- BEGIN_DEPLOY_PERMISSIONS -->")[1].split("<!-- END_DEPLOY_PERMISSIONS -->")[0]
    documented = set(re.findall(r"`([a-z0-9-]+:[A-Za-z0-9]+)`", section))
    needed: set[str] = set()
    for label in ("gateway", "policy_engine", "policy", "target"):
        schema = json.loads((ROOT / "modules/gateway/resource-schemas" / f"{label}.json").read_text())
        permissions = {p for handler in schema["handlers"].values() for p in handler["permissions"]}
        if label == "target":
            permissions = {p for p in permissions if "GatewayTarget" in p}
        needed |= permissions
    assert sorted(needed - documented) == []
